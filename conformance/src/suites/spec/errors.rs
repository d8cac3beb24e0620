//! PROTOCOL.md §7, Errors (ERR-*): the code for each situation, and messages safe to show.

use confab::protocol::Reply;

use crate::case::{Case, FailureKind};
use crate::suites::client;
use crate::suites::decl::refuse_rows;

use super::clients::client_requirement;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.ERR-1.codes",
                title: "errors carry the code of the table",
                cites: ["ERR-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (_b, bn) = client(ctx, "B").await?;
                let mut u = ctx.connect("U").await?;
                let nobody = ctx.name("Nobody");
                // One situation per code a command can get.
                let rows = refusals![
                    (A, b"\xff", BadEncoding),
                    (A, b"FOO", UnknownCommand),
                    (A, b"GET_NAMES x", BadArgs),
                    (U, b"NAME 9lives", InvalidName),
                    (U, b"MSG {an} hi", NameRequired),
                    (A, b"NAME {nobody}", AlreadyNamed),
                    (U, b"NAME {bn}", NameTaken),
                    (A, b"MSG {nobody} hi", NoSuchUser),
                ];
                let names = [("an", &an), ("bn", &bn), ("nobody", &nobody)];
                refuse_rows(ctx, &mut [&mut a, &mut u], &names, &[&an, &bn], &rows).await
            }
        ),
        case!(
            Spec {
                id: "spec.ERR-2.messages",
                title: "error messages are one line, with input escaped",
                cites: ["ERR-2"],
                level: Should,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let inputs: [&[u8]; 3] = [b"\x1b[2J\x07", b"NAME \x1b[31mred", b"MSG \x08\x08 hi"];
                for input in inputs {
                    ctx.step(format!(
                        "A → {}",
                        confab::protocol::escape::escape_bytes(input)
                    ));
                    ctx.send_payload(&mut a, input).await?;
                    let p = ctx.recv(&mut a, "an error reply").await?;
                    let text = String::from_utf8_lossy(&p);
                    if text.chars().any(char::is_control) {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            "an error message without control characters (input escaped)",
                            format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
                        ));
                    }
                    if let Ok(Reply::Error { message: None, .. }) = Reply::parse(&p) {
                        if ctx.profile.strict() {
                            return Err(ctx.fail(
                                FailureKind::Wrong,
                                "an error message naming the offending input (ERR-2)",
                                format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
                            ));
                        }
                        ctx.deviation("an error reply without a message");
                    }
                }
                ctx.expect_names(&mut a, &[&an], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.ERR-3.clients-ignore-messages",
                title: "clients act on codes only (a client requirement)",
                cites: ["ERR-3"],
                level: Must,
            },
            |ctx| { client_requirement(ctx) }
        ),
    ]
}
