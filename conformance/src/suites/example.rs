//! The course's example run (PROTOCOL.md §12), step by step. Step numbers in failure reports
//! are those of the table in §12.

use confab::protocol::Command;

use super::msg;
use crate::case::Case;

pub fn cases() -> Vec<Case> {
    vec![case!(
        Example {
            id: "example.course-run",
            title: "the course's example run: two clients name, list, leave, return, message, exit",
            cites: [
                "§12", "NAME-1", "NAMES-1", "CONN-3", "NAME-7", "MSG-1", "EXIT-2"
            ],
            level: Must,
        },
        |ctx| {
            ctx.step("1. A connects");
            let mut a = ctx.connect("A").await?;
            let an = ctx.name("A");
            ctx.step(format!("2-3. A → NAME {an}, A ← HELLO {an}"));
            ctx.send(&mut a, &Command::Name(an.clone())).await?;
            ctx.expect_hello(&mut a, &an).await?;

            ctx.step("4. B connects");
            let mut b = ctx.connect("B").await?;
            let bn = ctx.name("B");
            ctx.step(format!("4-5. B → NAME {bn}, B ← HELLO {bn}"));
            ctx.send(&mut b, &Command::Name(bn.clone())).await?;
            ctx.expect_hello(&mut b, &bn).await?;

            ctx.step(format!("6-7. A → GET_NAMES, A ← {an} {bn}"));
            ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;

            ctx.step("8. B closes its connection");
            b.close();
            ctx.step(format!("9-10. A → GET_NAMES, A ← {an} (B is gone)"));
            ctx.expect_names_eventually(&mut a, &[&an], &[&bn]).await?;

            ctx.step("11. B' connects");
            let mut b2 = ctx.connect("B'").await?;
            ctx.step(format!(
                "11-12. B' → NAME {bn} (the released name), B' ← HELLO {bn}"
            ));
            ctx.send(&mut b2, &Command::Name(bn.clone())).await?;
            ctx.expect_hello(&mut b2, &bn).await?;

            ctx.step(format!("13-14. A → GET_NAMES, A ← {an} {bn}"));
            ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;

            ctx.step(format!("15-16. A → MSG {bn} HELLO, B' ← {an} SENT HELLO"));
            let m = msg(ctx, &bn, "HELLO")?;
            ctx.send(&mut a, &m).await?;
            ctx.expect_delivery(&mut b2, &an, "HELLO").await?;

            ctx.step(format!("17-18. B' → MSG {an} HELLO, A ← {bn} SENT HELLO"));
            let m = msg(ctx, &an, "HELLO")?;
            ctx.send(&mut b2, &m).await?;
            ctx.expect_delivery(&mut a, &bn, "HELLO").await?;

            ctx.step("19-20. B' → EXIT, B' ← BYE, closed");
            ctx.send(&mut b2, &Command::Exit).await?;
            ctx.expect_bye_and_close(&mut b2).await?;

            ctx.step("21-22. A → EXIT, A ← BYE, closed");
            ctx.send(&mut a, &Command::Exit).await?;
            ctx.expect_bye_and_close(&mut a).await
        }
    )]
}
