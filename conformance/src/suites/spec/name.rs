//! PROTOCOL.md §5.1, NAME (NAME-*): registering, taken and invalid names, no renaming, races,
//! and names released.

use confab::protocol::{Command, ErrorCode, Name};

use crate::case::{Case, Check, Ctx, FailureKind};
use crate::judge;
use crate::suites::{
    case_twin, client, greets, greets_word, leave_by_half_close, payload, refused_or,
};
use crate::wire::{Conn, Received};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.NAME-1.hello",
                title: "NAME gets HELLO with the name",
                cites: ["NAME-1"],
                level: Must,
            },
            |ctx| {
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                ctx.register(&mut a, &an).await
            }
        ),
        case!(
            Spec {
                id: "spec.NAME-2.taken",
                title: "a taken name gets NAME_TAKEN; names are case-sensitive",
                cites: ["NAME-2"],
                level: Must,
            },
            |ctx| {
                let (_a, an) = client(ctx, "A").await?;
                let mut b = ctx.connect("B").await?;
                let hello_an = greets(ctx, &an);
                refused_or(
                    ctx,
                    &mut b,
                    format!("NAME {an}").as_bytes(),
                    ErrorCode::NameTaken,
                    &[&an],
                    &hello_an,
                )
                .await?;
                ctx.step("B is still unnamed: it can take another name, differing in case only");
                let twin = case_twin(ctx, &an)?;
                ctx.register(&mut b, &twin).await?;
                ctx.step("both are listed");
                ctx.expect_names(&mut b, &[&an, &twin], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.NAME-3.valid-names",
                title: "names of 1 to 32 letters and digits are accepted",
                cites: ["NAME-3"],
                level: Must,
                alone: true,
            },
            |ctx| {
                let mut names = vec![ctx.long_name("L"), ctx.name("lower"), ctx.name("D")];
                if ctx.owned {
                    // One-letter names can only be unique on a server the harness has to itself.
                    names.push(
                        Name::new("q")
                            .map_err(|e| ctx.fail(FailureKind::Harness, "q", e.to_string()))?,
                    );
                }
                let mut conns = Vec::new();
                for (i, n) in names.iter().enumerate() {
                    let label = format!("C{i}");
                    ctx.step(format!("{label} connects"));
                    let mut c = ctx.connect(&label).await?;
                    ctx.register(&mut c, n).await?;
                    conns.push(c);
                }
                let present: Vec<&Name> = names.iter().collect();
                ctx.step("all are listed");
                let first = conns
                    .first_mut()
                    .ok_or_else(|| ctx.fail(FailureKind::Harness, "connections", "none"))?;
                ctx.expect_names(first, &present, &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.NAME-4.invalid-names",
                title: "invalid names get INVALID_NAME",
                cites: ["NAME-4", "NAME-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let mut u = ctx.connect("U").await?;
                let long = "N".repeat(33);
                let inputs = [
                    "1abc",
                    "_x",
                    "ab-c",
                    "a.b",
                    "é",
                    long.as_str(),
                    "HELLO",
                    "SENT",
                    "ERROR",
                    "BYE",
                ];
                refuse_names(ctx, &mut u, &inputs, &[&an]).await?;
                ctx.step("none of them is listed");
                ctx.expect_names(&mut a, &[&an], &[]).await?;
                let listed = {
                    ctx.send(&mut a, &Command::GetNames).await?;
                    ctx.recv_names(&mut a, &[&an]).await?
                };
                let words = judge::words(&listed);
                if let Some(bad) = ["1abc", "HELLO", "SENT", "ERROR", "BYE"]
                    .iter()
                    .find(|b| words.contains(b))
                {
                    return Err(ctx.fail(
                        FailureKind::Wrong,
                        "no invalid name in the list",
                        format!("{bad} is listed"),
                    ));
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.NAME-5.no-renaming",
                title: "a second NAME gets ALREADY_NAMED and changes nothing",
                cites: ["NAME-5"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let x = ctx.name("X");
                let hello_x = greets(ctx, &x);
                refused_or(
                    ctx,
                    &mut a,
                    format!("NAME {x}").as_bytes(),
                    ErrorCode::AlreadyNamed,
                    &[&an],
                    &hello_x,
                )
                .await?;
                refused_or(
                    ctx,
                    &mut a,
                    format!("NAME {an}").as_bytes(),
                    ErrorCode::AlreadyNamed,
                    &[&an],
                    &|_| false,
                )
                .await?;
                ctx.step(format!("A is still {an}; {x} is not listed"));
                ctx.expect_names(&mut a, &[&an], &[&x]).await
            }
        ),
        case!(
            Spec {
                id: "spec.NAME-6.race",
                title: "of fifty connections racing for one name, exactly one wins",
                cites: ["NAME-6"],
                level: Must,
                concurrent: true,
            },
            |ctx| { race(ctx, 50).await }
        ),
        case!(
            Spec {
                id: "spec.NAME-7.released-names",
                title: "a name is free again after EXIT and after a close",
                cites: ["NAME-7"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                ctx.step("A → EXIT");
                ctx.send(&mut a, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut a).await?;
                ctx.step(format!("A' → NAME {an} (released by EXIT)"));
                let mut a2 = ctx.connect("A'").await?;
                ctx.register(&mut a2, &an).await?;
                leave_by_half_close(ctx, a2).await?;
                ctx.step(format!("A'' → NAME {an} (released by a close)"));
                let mut a3 = ctx.connect("A''").await?;
                ctx.register(&mut a3, &an).await
            }
        ),
    ]
}

/// `racers` connections send NAME for one name at the same moment: exactly one may win.
pub(crate) async fn race(ctx: &mut Ctx, racers: usize) -> Check {
    let target = ctx.name("Race");
    let mut conns = Vec::with_capacity(racers);
    for i in 0..racers {
        ctx.step(format!("racer {i} connects"));
        conns.push(ctx.connect(&format!("R{i:02}")).await?);
    }
    ctx.step(format!("all {racers} send NAME {target} at once"));
    let frame = confab::protocol::frame::frame(
        ctx.profile.dialect.framing,
        &payload(ctx, &Command::Name(target.clone())),
    )
    .map_err(|e| ctx.unsupported(e.to_string()))?;
    let sends = conns.iter_mut().map(|c| {
        let frame = frame.clone();
        async move { c.send_raw(&frame).await }
    });
    for r in futures::future::join_all(sends).await {
        r.map_err(|e| ctx.fail(FailureKind::Closed, "every racer can send", e.to_string()))?;
    }
    ctx.step("each racer reads its reply");
    let timeout = ctx.timeout;
    let reads = conns
        .iter_mut()
        .map(|c| async move { c.recv(timeout).await });
    let replies = futures::future::join_all(reads).await;
    let mut winners = 0;
    for (i, r) in replies.iter().enumerate() {
        match r {
            Received::Frame(p)
                if judge::hello(&ctx.profile, p, &target).accepted()
                    && !judge::reads_as_refusal(p) =>
            {
                winners += 1
            }
            Received::Frame(_) => {}
            other => {
                return Err(ctx.fail(
                    FailureKind::NoReply,
                    format!("a reply for racer {i}"),
                    crate::case::describe(other, &format!("R{i:02}"), timeout),
                ));
            }
        }
    }
    if winners != 1 {
        return Err(ctx.fail(
            FailureKind::Wrong,
            format!("exactly one HELLO {target} among {racers} racers"),
            format!("{winners} racers got the name"),
        ));
    }
    Ok(())
}

/// `conn` sends `NAME word` for each of `words`, none a valid name, and each must get
/// `ERROR INVALID_NAME`; `listed` are names the list shows (see [`refused_or`]).
pub(super) async fn refuse_names(
    ctx: &mut Ctx,
    conn: &mut Conn,
    words: &[&str],
    listed: &[&Name],
) -> Check {
    for word in words {
        // What acceptance would look like: a greeting naming the bad word.
        let success = greets_word(word);
        refused_or(
            ctx,
            conn,
            format!("NAME {word}").as_bytes(),
            ErrorCode::InvalidName,
            listed,
            &success,
        )
        .await?;
    }
    Ok(())
}
