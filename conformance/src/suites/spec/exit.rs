//! PROTOCOL.md §5.4, EXIT (EXIT-*): the name released before BYE, then the close.

use confab::protocol::Command;

use crate::case::Case;
use crate::suites::{client, frames, payload};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.EXIT-1.release-before-bye",
                title: "the name is free by the time BYE can be read",
                cites: ["EXIT-1"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → EXIT, A ← BYE");
                ctx.send(&mut a, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut a).await?;
                ctx.step("B → GET_NAMES right away: A is gone (no waiting)");
                ctx.expect_names(&mut b, &[&bn], &[&an]).await?;
                ctx.step(format!("C → NAME {an} right away"));
                let mut c = ctx.connect("C").await?;
                ctx.register(&mut c, &an).await
            }
        ),
        case!(
            Spec {
                id: "spec.EXIT-2.bye-then-close",
                title: "EXIT gets BYE, then the server closes",
                cites: ["EXIT-2"],
                level: Must,
            },
            |ctx| {
                let (mut a, _an) = client(ctx, "A").await?;
                ctx.step("A → EXIT");
                ctx.send(&mut a, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut a).await
            }
        ),
        case!(
            Spec {
                id: "spec.EXIT-3.after-exit",
                title: "commands after EXIT are ignored",
                cites: ["EXIT-3"],
                level: Must,
            },
            |ctx| {
                if !ctx.profile.dialect.framing.delimits() {
                    return Err(ctx.unsupported("raw framing cannot put two commands in one write"));
                }
                let (mut a, _an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let x = ctx.name("X");
                ctx.step(format!("A → EXIT and NAME {x} in one write"));
                let exit = payload(ctx, &Command::Exit);
                let name = payload(ctx, &Command::Name(x.clone()));
                let joined = frames(ctx, &[&exit, &name])?;
                ctx.send_raw(&mut a, &joined).await?;
                ctx.expect_bye_and_close(&mut a).await?;
                ctx.step(format!("{x} was never registered"));
                ctx.expect_names(&mut b, &[&bn], &[&x]).await
            }
        ),
        case!(
            Spec {
                id: "spec.EXIT-4.unnamed-exit",
                title: "EXIT works before NAME",
                cites: ["EXIT-4"],
                level: Must,
            },
            |ctx| {
                ctx.step("U connects, unnamed");
                let mut u = ctx.connect("U").await?;
                ctx.step("U → EXIT");
                ctx.send(&mut u, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut u).await
            }
        ),
    ]
}
