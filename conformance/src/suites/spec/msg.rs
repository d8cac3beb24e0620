//! PROTOCOL.md §5.3, MSG (MSG-*): delivery without acknowledgement, to oneself, refusals,
//! texts relayed byte for byte, their limits, order, and causality.

use confab::protocol::{Command, ErrorCode, MAX_TEXT_LEN, Reply};

use crate::case::{Case, FailureKind};
use crate::judge;
use crate::suites::{
    client, msg, msg_without_reply, needs_delimiters, needs_full_frames, payload, refused,
};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.MSG-1.delivery",
                title: "MSG delivers `sender SENT text` to the recipient",
                cites: ["MSG-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → MSG B hello there");
                let m = msg(ctx, &bn, "hello there")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, "hello there").await?;
                ctx.step("B → MSG A back at you");
                let m = msg(ctx, &an, "back at you")?;
                ctx.send(&mut b, &m).await?;
                ctx.expect_delivery(&mut a, &bn, "back at you").await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-2.no-ack",
                title: "a successful MSG gets no reply",
                cites: ["MSG-2"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → MSG B quiet please");
                msg_without_reply((ctx, &mut a, &an), (&mut b, &bn), "quiet please").await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-3.to-self",
                title: "a message to yourself is delivered to you",
                cites: ["MSG-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("A → MSG A note to self");
                let m = msg(ctx, &an, "note to self")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut a, &an, "note to self").await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-4.no-such-user",
                title: "a message to a missing name gets NO_SUCH_USER",
                cites: ["MSG-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let nobody = ctx.name("Nobody");
                refused(
                    ctx,
                    &mut a,
                    format!("MSG {nobody} anyone there").as_bytes(),
                    ErrorCode::NoSuchUser,
                    &[&an],
                )
                .await?;
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-5.name-required",
                title: "MSG before NAME gets NAME_REQUIRED and delivers nothing",
                cites: ["MSG-5"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("U connects, unnamed");
                let mut u = ctx.connect("U").await?;
                refused(
                    ctx,
                    &mut u,
                    format!("MSG {an} from nobody").as_bytes(),
                    ErrorCode::NameRequired,
                    &[&an],
                )
                .await?;
                ctx.step("A receives nothing");
                ctx.expect_nothing_before_names(&mut a, &[&an], "MSG before NAME delivers nothing")
                    .await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-6.verbatim-text",
                title: "texts are relayed byte for byte: spaces, Unicode, controls",
                cites: ["MSG-6"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let texts = [
                    "two words",
                    "  leading spaces",
                    "trailing spaces  ",
                    " ",
                    "tab\there",
                    "\x1b[2J\x07",
                    "ünïcödé ✓ 日本",
                    "SENT ERROR HELLO BYE",
                    "a  b   c",
                ];
                for text in texts {
                    ctx.step(format!(
                        "A → MSG B {}",
                        confab::protocol::escape::escape_bytes(text.as_bytes())
                    ));
                    let m = msg(ctx, &bn, text)?;
                    ctx.send(&mut a, &m).await?;
                    ctx.expect_delivery(&mut b, &an, text).await?;
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-7.text-limits",
                title: "9961 bytes are delivered, 9962 refused, empty text is BAD_ARGS",
                cites: ["MSG-7"],
                level: Must,
            },
            |ctx| {
                needs_full_frames(ctx)?;
                needs_delimiters(ctx, "a message longer than one read")?;
                let mut a = ctx.connect("A").await?;
                let an = ctx.long_name("A");
                ctx.register(&mut a, &an).await?;
                let mut b = ctx.connect("B").await?;
                let bn = ctx.long_name("B");
                ctx.register(&mut b, &bn).await?;
                let longest = "t".repeat(MAX_TEXT_LEN);
                ctx.step(format!(
                    "A → MSG B <{MAX_TEXT_LEN} bytes>: delivered in a 9999-byte frame"
                ));
                let m = msg(ctx, &bn, &longest)?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, &longest).await?;
                let over = format!("MSG {bn} {}", "t".repeat(MAX_TEXT_LEN + 1));
                ctx.step(format!("A → MSG B <{} bytes>", MAX_TEXT_LEN + 1));
                refused(
                    ctx,
                    &mut a,
                    over.as_bytes(),
                    ErrorCode::TextTooLong,
                    &[&an, &bn],
                )
                .await?;
                refused(
                    ctx,
                    &mut a,
                    format!("MSG {bn} ").as_bytes(),
                    ErrorCode::BadArgs,
                    &[&an, &bn],
                )
                .await?;
                ctx.step("B received only the first message");
                ctx.expect_nothing_before_names(
                    &mut b,
                    &[&an, &bn],
                    "refused messages deliver nothing",
                )
                .await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-8.order-and-loss",
                title: "two hundred messages arrive once each, in order",
                cites: ["MSG-8"],
                level: Must,
                concurrent: true,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut c, cn) = client(ctx, "C").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let count = 200;
                ctx.step(format!(
                    "A and C each send {count} numbered messages to B, pipelined"
                ));
                let mut from_a = Vec::new();
                let mut from_c = Vec::new();
                for i in 0..count {
                    for (buf, who) in [(&mut from_a, "a"), (&mut from_c, "c")] {
                        let m = Command::Msg {
                            to: bn.clone(),
                            text: ctx.text(&format!("{who}{i:04}"))?,
                        };
                        confab::protocol::frame::encode_frame(
                            ctx.profile.dialect.framing,
                            &payload(ctx, &m),
                            buf,
                        )
                        .map_err(|e| ctx.unsupported(e.to_string()))?;
                    }
                }
                if !ctx.profile.dialect.framing.delimits() {
                    return Err(ctx.unsupported("raw framing cannot pipeline messages"));
                }
                let (ra, rc) = tokio::join!(a.send_raw(&from_a), c.send_raw(&from_c));
                ra.map_err(|e| ctx.fail(FailureKind::Closed, "A can send", e.to_string()))?;
                rc.map_err(|e| ctx.fail(FailureKind::Closed, "C can send", e.to_string()))?;
                ctx.step("B reads every message: once each, in order per sender");
                let (mut next_a, mut next_c) = (0, 0);
                while next_a < count || next_c < count {
                    let p = ctx.recv(&mut b, "the next message").await?;
                    let parsed = Reply::parse(&p);
                    let (from, text) = match &parsed {
                        Ok(Reply::Delivery { from, text }) => (from.to_string(), text.to_string()),
                        _ => {
                            let words = judge::words(&p);
                            let from = [&an, &cn]
                                .iter()
                                .find(|n| words.contains(&n.as_str()))
                                .map(|n| n.to_string())
                                .unwrap_or_default();
                            let text = words.last().map(|w| w.to_string()).unwrap_or_default();
                            if !ctx.profile.strict() && !from.is_empty() {
                                ctx.deviation("deliveries are not in the form `sender SENT text`");
                            }
                            (from, text)
                        }
                    };
                    let (next, who) = if from == an.as_str() {
                        (&mut next_a, "a")
                    } else if from == cn.as_str() {
                        (&mut next_c, "c")
                    } else {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            "a delivery from A or C",
                            format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
                        ));
                    };
                    let expected = format!("{who}{:04}", *next);
                    if text != expected {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            format!("`{expected}` from {from} (messages in order, none lost)"),
                            format!("got `{text}`"),
                        ));
                    }
                    *next += 1;
                }
                ctx.step("nothing more for B");
                ctx.expect_nothing_before_names(&mut b, &[&an, &bn, &cn], "no message twice")
                    .await
            }
        ),
        case!(
            Spec {
                id: "spec.MSG-9.causality",
                title: "a delivery is queued before the sender's next reply",
                cites: ["MSG-9"],
                level: Should,
            },
            |ctx| {
                needs_delimiters(ctx, "a delivery and a reply that arrive together")?;
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → MSG B first, then a GET_NAMES round trip on A");
                let m = msg(ctx, &bn, "first")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
                ctx.step("B → GET_NAMES: the delivery comes before the list");
                ctx.send(&mut b, &Command::GetNames).await?;
                let p = ctx
                    .recv(&mut b, "the delivery, then the names list")
                    .await?;
                match judge::delivery(&ctx.profile, &p, an.as_str(), "first") {
                    judge::Judgement::Mismatch(m) => {
                        Err(ctx.fail(FailureKind::Wrong, "the delivery before the names list", m))
                    }
                    judge::Judgement::Deviation(d) => {
                        ctx.deviation(d);
                        Ok(())
                    }
                    judge::Judgement::Exact => Ok(()),
                }
            }
        ),
    ]
}
