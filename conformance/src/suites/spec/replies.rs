//! PROTOCOL.md §6, Replies (REPLY-*): reserved words and the reply grammar.

use confab::protocol::{Command, Reply};

use crate::case::{Case, FailureKind};
use crate::suites::{client, msg, payload};

use super::clients::client_requirement;
use super::name::refuse_names;

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.REPLY-1.reserved-words",
                title: "HELLO, SENT, ERROR and BYE are not names",
                cites: ["REPLY-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let mut u = ctx.connect("U").await?;
                refuse_names(ctx, &mut u, &confab::protocol::RESERVED_WORDS, &[&an]).await?;
                ctx.expect_names(&mut a, &[&an], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.REPLY-2.grammar",
                title: "every server frame is a reply of the grammar",
                cites: ["REPLY-2"],
                level: Must,
            },
            |ctx| {
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                let script: Vec<Vec<u8>> = vec![
                    payload(ctx, &Command::Name(an.clone())),
                    payload(ctx, &Command::GetNames),
                    payload(ctx, &msg(ctx, &an, "to myself")?),
                    b"FOO".to_vec(),
                    payload(ctx, &Command::Exit),
                ];
                let mut bad = Vec::new();
                for p in &script {
                    ctx.step(format!("A → {}", confab::protocol::escape::escape_bytes(p)));
                    ctx.send_payload(&mut a, p).await?;
                    let r = ctx.recv(&mut a, "a reply of the grammar of §6").await?;
                    if let Err(e) = Reply::parse(&r) {
                        bad.push(format!(
                            "`{}` ({e})",
                            confab::protocol::escape::escape_bytes(&r)
                        ));
                    }
                }
                if bad.is_empty() {
                    return Ok(());
                }
                if ctx.profile.strict() {
                    Err(ctx.fail(
                        FailureKind::Wrong,
                        "only replies of the grammar of §6",
                        bad.join("; "),
                    ))
                } else {
                    ctx.deviation(format!("replies outside the grammar: {}", bad.join("; ")));
                    Ok(())
                }
            }
        ),
        case!(
            Spec {
                id: "spec.REPLY-3.client-skips-deliveries",
                title: "clients accept deliveries anywhere (a client requirement)",
                cites: ["REPLY-3"],
                level: Must,
            },
            |ctx| { client_requirement(ctx) }
        ),
    ]
}
