//! PROTOCOL.md §2, Framing (FRAME-*): replies framed like commands, lengths in bytes, frames
//! split and joined, bad headers and partial frames.

use confab::protocol::{Command, ErrorCode};

use crate::case::{Case, Check, Ctx, FailureKind};
use crate::judge;
use crate::suites::{
    client, expect_list, frames, msg, needs_decimal, needs_delimiters, needs_length_field, payload,
    refused, send_bytewise,
};
use crate::wire::Received;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.FRAME-1.replies-are-framed",
                title: "every reply is framed like the commands",
                cites: ["FRAME-1", "DIALECT-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("A → GET_NAMES");
                ctx.expect_names(&mut a, &[&an], &[]).await?;
                refused(ctx, &mut a, b"FOO", ErrorCode::UnknownCommand, &[&an]).await?;
                ctx.step("A → EXIT");
                ctx.send(&mut a, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut a).await
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-2.lengths-count-bytes",
                title: "lengths count UTF-8 bytes, both ways",
                cites: ["FRAME-2", "DIALECT-2"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, _bn) = client(ctx, "B").await?;
                let text = "héllo wörld → ✓ 😀";
                ctx.step(format!(
                    "A → MSG B {text} ({} bytes of text, {} characters)",
                    text.len(),
                    text.chars().count()
                ));
                let bn = _bn.clone();
                let m = msg(ctx, &bn, text)?;
                ctx.send(&mut a, &m).await?;
                ctx.step("B ← the delivery, its header counting bytes");
                ctx.expect_delivery(&mut b, &an, text).await?;
                ctx.step("B → GET_NAMES after the multi-byte frame");
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-3.empty-and-largest-frames",
                title: "a zero-length frame and a frame at the limit are valid framing",
                cites: ["FRAME-3"],
                level: Must,
            },
            |ctx| {
                needs_length_field(ctx)?;
                let (mut a, an) = client(ctx, "A").await?;
                refused(ctx, &mut a, b"", ErrorCode::UnknownCommand, &[&an]).await?;
                let max = ctx.profile.max_payload();
                let big = vec![b'X'; max];
                ctx.step(format!("A → a {max}-byte payload (the limit)"));
                refused(ctx, &mut a, &big, ErrorCode::UnknownCommand, &[&an]).await?;
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-4.split-and-joined-frames",
                title: "a frame split into single bytes, and frames joined in one write",
                cites: ["FRAME-4"],
                level: Must,
            },
            |ctx| {
                needs_delimiters(ctx, "a message written one byte at a time")?;
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                ctx.step(format!("A → NAME {an}, one byte per write"));
                send_bytewise(ctx, &mut a, &Command::Name(an.clone())).await?;
                ctx.expect_hello(&mut a, &an).await?;
                ctx.step("A → GET_NAMES, FOO, GET_NAMES in one write");
                let gn = payload(ctx, &Command::GetNames);
                let joined = frames(ctx, &[&gn, b"FOO", &gn])?;
                ctx.send_raw(&mut a, &joined).await?;
                ctx.step("A ← the names list (1 of 3)");
                let p = ctx.recv_names(&mut a, &[&an]).await?;
                expect_list(ctx, &p, &[&an])?;
                ctx.step("A ← an error for FOO (2 of 3)");
                ctx.expect_error(&mut a, ErrorCode::UnknownCommand).await?;
                ctx.step("A ← the names list (3 of 3)");
                let p = ctx.recv_names(&mut a, &[&an]).await?;
                expect_list(ctx, &p, &[&an])
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-5.bad-header",
                title: "a non-digit length header gets BAD_FRAME, then the server closes",
                cites: ["FRAME-5"],
                level: Must,
            },
            |ctx| {
                needs_decimal(ctx)?;
                let (mut a, an) = client(ctx, "A").await?;
                let width = ctx.profile.dialect.framing.header_len();
                let mut header = vec![b'0'; width];
                if let Some(last) = header.last_mut() {
                    *last = b'x';
                }
                header.extend_from_slice(b"EXIT");
                bad_header(ctx, &mut a, &header).await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("B → GET_NAMES: the closed connection's name is gone");
                ctx.expect_names_eventually(&mut b, &[&bn], &[&an]).await
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-6.partial-frame",
                title: "a partial frame delays no one and is dropped at close",
                cites: ["FRAME-6"],
                level: Must,
            },
            |ctx| {
                needs_length_field(ctx)?;
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("P connects and sends a header promising 50 bytes, and 4 of them");
                let mut p = ctx.connect("P").await?;
                let mut partial =
                    confab::protocol::frame::frame(ctx.profile.dialect.framing, &[b'N'; 50])
                        .map_err(|e| ctx.unsupported(e.to_string()))?;
                partial.truncate(ctx.profile.dialect.framing.header_len() + 4);
                ctx.send_raw(&mut p, &partial).await?;
                ctx.step("while P's frame is pending, B names and A lists");
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
                ctx.step("P closes in the middle of its frame");
                p.close();
                ctx.step("A and B still exchange a message");
                let m = msg(ctx, &bn, "still here")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, "still here").await
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-7.headers-match-payloads",
                title: "every reply's header matches its payload",
                cites: ["FRAME-7"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("B ← a delivery whose text is mostly multi-byte");
                let text = "ééééé ✓✓✓ 日本語";
                let m = msg(ctx, &bn, text)?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, text).await?;
                ctx.step("A ← an error that quotes multi-byte input");
                refused(
                    ctx,
                    &mut a,
                    "ÜNKNOWN ünïcödé".as_bytes(),
                    ErrorCode::UnknownCommand,
                    &[&an],
                )
                .await?;
                ctx.step("A ← the names list");
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.FRAME-8.limit-before-allocation",
                title: "the limit is checked before allocating (not observable)",
                cites: ["FRAME-8"],
                level: Should,
            },
            |ctx| {
                ctx.informational(
                    "whether the limit is checked before allocating cannot be seen on the wire; \
                     spec.DIALECT-3 and robustness.length-over-max check what can be",
                );
                Ok(())
            }
        ),
    ]
}

/// Sends a bad header and expects BAD_FRAME then the close (FRAME-5, CONN-5).
pub(super) async fn bad_header(ctx: &mut Ctx, conn: &mut crate::wire::Conn, bytes: &[u8]) -> Check {
    ctx.step(format!(
        "{} → {} (a bad header)",
        conn.label(),
        confab::protocol::escape::escape_bytes(bytes)
    ));
    ctx.send_raw(conn, bytes).await?;
    let strict = ctx.profile.strict();
    match conn.recv(ctx.timeout).await {
        Received::Frame(p) => {
            let j = judge::error(&ctx.profile, &p, ErrorCode::BadFrame, &|_| false);
            match j {
                judge::Judgement::Exact => {}
                judge::Judgement::Deviation(d) => ctx.deviation(d),
                judge::Judgement::Mismatch(m) => {
                    return Err(ctx.fail(
                        FailureKind::Wrong,
                        "`ERROR BAD_FRAME ...`, then the close",
                        m,
                    ));
                }
            }
            ctx.expect_closed(conn, "the server closes the connection after BAD_FRAME")
                .await
        }
        Received::Closed | Received::Failed(_) if !strict => {
            ctx.deviation("the server closed the connection without an error reply");
            Ok(())
        }
        other => Err(ctx.fail(
            FailureKind::Wrong,
            "`ERROR BAD_FRAME ...`, then the close",
            ctx.describe(&other, conn.label()),
        )),
    }
}
