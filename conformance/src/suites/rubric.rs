//! The course's grading sheet, one case per row, judged as the sheet judges: leniently,
//! whatever the profile, and each row only on what it asks (PROTOCOL.md §13, JUDGE-8). The sheet
//! gives no points, so confab weighs the rows itself (100 in all): the core exchange counts
//! most. A row is played the way a person grading with the course's own client plays it: the
//! killed client of row 12 is killed while idle, as one closes a program; killing a client in
//! the middle of a command is a robustness case.

use confab::protocol::{Command, ErrorCode, Name};

use super::{
    client, client_answered, frames, greets_as, msg, payload, refused, refused_or, send_apart,
};
use crate::case::{Case, Check, Ctx, FailureKind};
use crate::judge;
use crate::judge::Judgement;
use crate::wire::{Conn, Received};

pub fn cases() -> Vec<Case> {
    vec![
        case!(
            Rubric {
                id: "rubric.01-two-clients-connect",
                title: "two clients connect and are answered",
                cites: ["row 1", "CONN-1"],
                level: Must,
                points: 5,
            },
            |ctx| {
                let (mut a, an) = greeted_client(ctx, "A").await?;
                let (mut b, bn) = greeted_client(ctx, "B").await?;
                ctx.step("both get answers");
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.02-names-listed",
                title: "NAME then GET_NAMES shows both names",
                cites: ["row 2", "NAMES-1"],
                level: Must,
                points: 10,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → GET_NAMES");
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
                ctx.step("B → GET_NAMES");
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.03-message-arrives",
                title: "a one-word message arrives with the right sender",
                cites: ["row 3", "MSG-1"],
                level: Must,
                points: 10,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → MSG B HELLO");
                let m = msg(ctx, &bn, "HELLO")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery_words(&mut b, &an, "HELLO").await
            }
        ),
        case!(
            Rubric {
                id: "rubric.04-exit-is-safe",
                title: "EXIT does not crash or hang the server",
                cites: ["row 4", "EXIT-2"],
                level: Must,
                points: 8,
            },
            |ctx| {
                let (mut a, _an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → EXIT (any reply, or none, will do)");
                ctx.send(&mut a, &Command::Exit).await?;
                // The row asks only that the server survives: a reply, a close, an error for an
                // EXIT it does not know, or silence are all fine. Waiting for one of them orders
                // B's request after the server has handled the EXIT.
                match a.recv(ctx.timeout).await {
                    Received::Frame(p) if !judge::bye(&ctx.profile, &p).accepted() => {
                        ctx.deviation(format!(
                            "EXIT got `{}`",
                            confab::protocol::escape::escape_bytes(&p)
                        ));
                    }
                    _ => {}
                }
                ctx.step("B is still served");
                ctx.expect_names(&mut b, &[&bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.05-unknown-command-is-safe",
                title: "an undefined command does not crash the server",
                cites: ["row 5", "CMD-3"],
                level: Must,
                points: 7,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("A → DANCE");
                ctx.send_payload(&mut a, b"DANCE").await?;
                let _ = a.recv(ctx.timeout).await;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("the server still serves");
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.06-message-to-self",
                title: "a message to yourself is delivered or politely refused",
                cites: ["row 6", "MSG-3"],
                level: Must,
                points: 5,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("A → MSG A me");
                let m = msg(ctx, &an, "me")?;
                ctx.send(&mut a, &m).await?;
                match a.recv(ctx.timeout).await {
                    Received::Frame(p) => {
                        if !judge::delivery(&ctx.profile, &p, an.as_str(), "me").accepted()
                            && !judge::reads_as_refusal(&p)
                        {
                            ctx.deviation(format!(
                                "`{}` is neither the delivery nor a refusal",
                                confab::protocol::escape::escape_bytes(&p)
                            ));
                        }
                        Ok(())
                    }
                    other => Err(ctx.fail(
                        FailureKind::NoReply,
                        "the message, or a polite refusal",
                        ctx.describe(&other, "A"),
                    )),
                }
            }
        ),
        case!(
            Rubric {
                id: "rubric.07-duplicate-name-refused",
                title: "a duplicate name is refused",
                cites: ["row 7", "NAME-2"],
                level: Must,
                points: 8,
            },
            |ctx| {
                let (_a, an, greeting) = client_answered(ctx, "A").await?;
                let mut b = ctx.connect("B").await?;
                let success = greets_as(ctx, &an, &greeting);
                refused_or(
                    ctx,
                    &mut b,
                    &payload(ctx, &Command::Name(an.clone())),
                    ErrorCode::NameTaken,
                    &[&an],
                    &success,
                )
                .await?;
                // A server may send its error and then accept the name anyway (JUDGE-20).
                ctx.step("B: nothing greets the name after the refusal");
                match b.recv(confab::detect::SETTLE).await {
                    Received::Frame(p) if success(&p) => Err(ctx.fail(
                        FailureKind::Wrong,
                        "the refusal alone",
                        format!(
                            "`{}` right after it: the name was accepted anyway",
                            confab::protocol::escape::escape_bytes(&p)
                        ),
                    )),
                    _ => Ok(()),
                }
            }
        ),
        case!(
            Rubric {
                id: "rubric.08-disconnect-removes-name",
                title: "a disconnect removes the name",
                cites: ["row 8", "CONN-3"],
                level: Must,
                points: 8,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (b, bn) = client(ctx, "B").await?;
                ctx.step("B closes");
                b.close();
                ctx.step("A → GET_NAMES until B is gone (the row asks no more of the list)");
                let shown = ctx.shown_to(&an);
                let shown: Vec<&Name> = shown.iter().collect();
                ctx.expect_names_eventually(&mut a, &shown, &[&bn]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.09-missing-recipient-error",
                title: "a message to a missing client gets an error",
                cites: ["row 9", "MSG-4"],
                level: Must,
                points: 7,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let nobody = ctx.name("Nobody");
                let m = msg(ctx, &nobody, "hello")?;
                refused(
                    ctx,
                    &mut a,
                    &payload(ctx, &m),
                    ErrorCode::NoSuchUser,
                    &[&an],
                )
                .await?;
                Ok(())
            }
        ),
        case!(
            Rubric {
                id: "rubric.10-unknown-command-error",
                title: "an undefined command gets an error",
                cites: ["row 10", "CMD-3"],
                level: Must,
                points: 7,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                // An error, in any words; `DANCE` handed back as chat is not one.
                let echoed = |p: &[u8]| judge::has_word(p, "DANCE") && !judge::reads_as_refusal(p);
                refused_or(
                    ctx,
                    &mut a,
                    b"DANCE",
                    ErrorCode::UnknownCommand,
                    &[&an],
                    &echoed,
                )
                .await?;
                Ok(())
            }
        ),
        case!(
            Rubric {
                id: "rubric.11-extra-parameters",
                title: "extra parameters are ignored or refused, without a crash",
                cites: ["row 11", "CMD-4"],
                level: Must,
                points: 5,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let mut extra = payload(ctx, &Command::GetNames);
                extra.extend_from_slice(b" extra words");
                ctx.step("A → GET_NAMES extra words (a list, a refusal or silence will do)");
                ctx.send_payload(&mut a, &extra).await?;
                // A person sees the answer, if any, before starting the next client.
                let _ = a.recv(confab::detect::SETTLE).await;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("the server still serves");
                ctx.expect_names(&mut b, &[&an, &bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.12-killed-client",
                title: "killing a client without EXIT does not affect the others",
                cites: ["row 12", "CONN-2", "CONN-3"],
                level: Must,
                points: 8,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let (k, _kn) = client(ctx, "K").await?;
                ctx.step("K's program is killed while idle (its connection closes, without EXIT)");
                k.close();
                ctx.step("A → MSG B carry on; B gets it (at least its first word)");
                let m = msg(ctx, &bn, "carry on")?;
                ctx.send(&mut a, &m).await?;
                let profile = ctx.profile.clone();
                let from = an.clone();
                let carries = move |p: &[u8]| {
                    judge::delivery_words(&profile, p, from.as_str(), "carry").accepted()
                };
                let got = ctx
                    .recv_awaited(&mut b, &format!("a delivery from {an}"), &carries)
                    .await?;
                match judge::delivery_words(&ctx.profile, &got, an.as_str(), "carry on") {
                    Judgement::Mismatch(m) if !carries(&got) => {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            format!("`{an} SENT carry on`"),
                            m,
                        ));
                    }
                    Judgement::Mismatch(_) => ctx.deviation(format!(
                        "only part of a two-word text arrived: `{}`",
                        confab::protocol::escape::escape_bytes(&got)
                    )),
                    Judgement::Deviation(d) => ctx.deviation(d),
                    Judgement::Exact => {}
                }
                ctx.step(
                    "A's GET_NAMES is still answered, showing B (whether K is still listed is \
                     row 8's business)",
                );
                ctx.expect_names(&mut a, &[&bn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.13-nothing-blocks",
                title: "nothing blocks: a stalled client holds no one up",
                cites: ["row 13", "FRAME-6", "CONN-2"],
                level: Must,
                points: 7,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let (mut s, _sn) = client(ctx, "S").await?;
                ctx.step("S sends the first half of a command and stalls");
                let m = msg(ctx, &an, "stalled")?;
                let mut part = confab::protocol::frame::frame(s.framing(), &payload(ctx, &m))
                    .map_err(|e| ctx.unsupported(e.to_string()))?;
                part.truncate(part.len() / 2);
                ctx.send_raw(&mut s, &part).await?;
                ctx.step("a new client names, A and B exchange messages");
                let (mut c, cn) = client(ctx, "C").await?;
                let m = msg(ctx, &bn, "ping")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery_words(&mut b, &an, "ping").await?;
                let m = msg(ctx, &an, "pong")?;
                ctx.send(&mut b, &m).await?;
                ctx.expect_delivery_words(&mut a, &bn, "pong").await?;
                ctx.expect_names(&mut c, &[&an, &bn, &cn], &[]).await
            }
        ),
        case!(
            Rubric {
                id: "rubric.14-length-field",
                title: "a length field is used, both ways",
                cites: ["row 14", "FRAME-1", "FRAME-4"],
                level: Must,
                points: 5,
            },
            |ctx| {
                if !ctx.profile.dialect.framing.has_length_field() {
                    return Err(ctx.fail(
                        FailureKind::Wrong,
                        "a length field in every frame",
                        format!(
                            "the profile says this server speaks {} framing, \
                             without a length field",
                            ctx.profile.dialect.framing
                        ),
                    ));
                }
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                ctx.step("A → NAME as the header alone, then the payload");
                let whole = confab::protocol::frame::frame(
                    a.framing(),
                    &payload(ctx, &Command::Name(an.clone())),
                )
                .map_err(|e| ctx.unsupported(e.to_string()))?;
                let (head, rest) = whole.split_at(a.framing().header_len());
                send_apart(ctx, &mut a, &[head, rest]).await?;
                ctx.expect_hello(&mut a, &an).await?;
                if a.framing().delimits() {
                    ctx.step("A → two GET_NAMES in one write");
                    let gn = payload(ctx, &Command::GetNames);
                    let joined = frames(ctx, &[&gn, &gn])?;
                    ctx.send_raw(&mut a, &joined).await?;
                    let shown = ctx.shown_to(&an);
                    let shown: Vec<&Name> = shown.iter().collect();
                    for _ in 0..2 {
                        ctx.expect_names_reply(&mut a, &shown, &[]).await?;
                    }
                }
                Ok(())
            }
        ),
    ]
}

/// A client that connects and names itself, whose reply to NAME must mention the name, as
/// row 1 asks (other rows take a server's `OK` for the acceptance).
async fn greeted_client(ctx: &mut Ctx, label: &str) -> Check<(Conn, Name)> {
    let (conn, name, reply) = client_answered(ctx, label).await?;
    if !judge::has_word(&reply, name.as_str()) {
        return Err(ctx.fail(
            FailureKind::Wrong,
            format!("a reply to NAME that mentions {name}"),
            format!(
                "got `{}`, which does not",
                confab::protocol::escape::escape_bytes(&reply)
            ),
        ));
    }
    Ok((conn, name))
}
