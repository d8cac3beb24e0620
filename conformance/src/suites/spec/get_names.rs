//! PROTOCOL.md §5.2, GET_NAMES (NAMES-*): the list in registration order, empty, asked for
//! unnamed, and cut to fit a frame.

use confab::protocol::{Command, Name, Reply};

use crate::case::{Case, Check, Ctx, FailureKind};
use crate::suites::{client, needs_delimiters};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.NAMES-1.order-and-format",
                title: "names in registration order, single spaces, no prefix",
                cites: ["NAMES-1"],
                level: Must,
                alone: true,
            },
            |ctx| {
                // Registration order differs from alphabetical order and from reverse order.
                let (mut m, mn) = client(ctx, "M").await?;
                let (_z, zn) = client(ctx, "Z").await?;
                let (_a, an) = client(ctx, "A").await?;
                let (_q, qn) = client(ctx, "Q").await?;
                ctx.step("M → GET_NAMES: M Z A Q in that order");
                ctx.expect_names(&mut m, &[&mn, &zn, &an, &qn], &[]).await?;
                if ctx.owned && ctx.profile.strict() {
                    ctx.step("the list is exactly our four names, single spaces, no prefix");
                    let expected = format!("{mn} {zn} {an} {qn}");
                    expect_exact_list(ctx, &mut m, &expected).await?;
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.NAMES-2.empty-list",
                title: "with nobody named the list is the empty payload",
                cites: ["NAMES-2"],
                level: Must,
                alone: true,
            },
            |ctx| {
                if !ctx.owned {
                    ctx.informational(
                        "other clients may be named on a shared server; not judged with --addr",
                    );
                    return Ok(());
                }
                if !ctx.profile.dialect.framing.carries_empty() {
                    return Err(
                        ctx.unsupported("raw framing cannot carry an empty payload (DIALECT-5)")
                    );
                }
                ctx.step("U connects, unnamed, and asks for the names");
                let mut u = ctx.connect("U").await?;
                if ctx.profile.strict() {
                    return expect_exact_list(ctx, &mut u, "").await;
                }
                ctx.send(&mut u, &Command::GetNames).await?;
                let p = ctx.recv(&mut u, "the empty names list").await?;
                if !p.is_empty() {
                    ctx.deviation(format!(
                        "the empty names list was `{}`",
                        confab::protocol::escape::escape_bytes(&p)
                    ));
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.NAMES-3.unnamed-asker",
                title: "GET_NAMES works before NAME; the unnamed are not listed",
                cites: ["NAMES-3"],
                level: Must,
                alone: true,
            },
            |ctx| {
                ctx.step("U connects, unnamed");
                let mut u = ctx.connect("U").await?;
                let (_a, an) = client(ctx, "A").await?;
                ctx.step("U → GET_NAMES before NAME");
                ctx.expect_names(&mut u, &[&an], &[]).await?;
                if ctx.owned && ctx.profile.strict() {
                    ctx.step("the list shows only the named client, not U");
                    expect_exact_list(ctx, &mut u, an.as_str()).await?;
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.NAMES-4.release-and-return",
                title: "a released name leaves the list and returns at its end",
                cites: ["NAMES-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let (_c, cn) = client(ctx, "C").await?;
                ctx.step("B → EXIT");
                ctx.send(&mut b, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut b).await?;
                ctx.step("A → GET_NAMES: A C");
                ctx.expect_names(&mut a, &[&an, &cn], &[&bn]).await?;
                ctx.step("B' takes the name B again");
                let mut b2 = ctx.connect("B'").await?;
                ctx.register(&mut b2, &bn).await?;
                ctx.step("A → GET_NAMES: A C B (B at the end)");
                ctx.expect_names(&mut a, &[&an, &cn, &bn], &[]).await
            }
        ),
        case!(
            Spec {
                id: "spec.NAMES-5.long-list",
                title: "a list that does not fit a frame is cut with a +N marker",
                cites: ["NAMES-5", "DIALECT-4"],
                level: Must,
                concurrent: true,
                alone: true,
            },
            |ctx| {
                needs_delimiters(ctx, "a message longer than one read")?;
                let max = ctx.profile.max_payload();
                let needed = max / (confab::protocol::MAX_NAME_LEN + 1) + 3;
                let mut conns = Vec::with_capacity(needed);
                let mut names = Vec::with_capacity(needed);
                ctx.step(format!(
                    "{needed} clients take 32-character names (more than {max} bytes of names)"
                ));
                // One at a time: the registration order must be known.
                for i in 0..needed {
                    let mut c = ctx.connect(&format!("L{i:03}")).await?;
                    let n = ctx.long_name("L");
                    ctx.register(&mut c, &n).await?;
                    conns.push(c);
                    names.push(n);
                }
                ctx.step("L000 → GET_NAMES");
                let first = conns
                    .first_mut()
                    .ok_or_else(|| ctx.fail(FailureKind::Harness, "connections", "none"))?;
                ctx.send(first, &Command::GetNames).await?;
                let p = ctx
                    .recv(first, "a names list cut to fit, ending in +N")
                    .await?;
                match Reply::parse(&p) {
                    Ok(Reply::Names(list)) if list.omitted() > 0 => {
                        let ours: Vec<&Name> =
                            list.names().iter().filter(|n| names.contains(n)).collect();
                        let expected_prefix: Vec<&Name> = names.iter().take(ours.len()).collect();
                        if ours != expected_prefix {
                            return Err(ctx.fail(
                                FailureKind::Wrong,
                                "the first names, in registration order",
                                "the shown names are not a prefix of the registration order",
                            ));
                        }
                        if list.names().len() as u64 + list.omitted() < needed as u64 {
                            return Err(ctx.fail(
                                FailureKind::Wrong,
                                format!("shown plus omitted to count at least our {needed} names"),
                                format!(
                                    "{} shown + {} omitted",
                                    list.names().len(),
                                    list.omitted()
                                ),
                            ));
                        }
                        Ok(())
                    }
                    Ok(Reply::Names(_)) | Err(_) if !ctx.profile.strict() => {
                        ctx.deviation(
                            "a names list too long for one frame was sent without the +N marker",
                        );
                        Ok(())
                    }
                    _ => Err(ctx.fail(
                        FailureKind::Wrong,
                        "a names list cut to fit, ending in ` +N`",
                        format!(
                            "got {} bytes: `{}`",
                            p.len(),
                            confab::protocol::escape::escape_bytes(&p[..p.len().min(120)])
                        ),
                    )),
                }
            }
        ),
    ]
}

/// Asks for the list until it is exactly `expected` (names of earlier cases may take a moment
/// to go), within the timeout.
async fn expect_exact_list(ctx: &mut Ctx, conn: &mut crate::wire::Conn, expected: &str) -> Check {
    let p = ctx
        .poll_names(conn, &[], |list| list == expected.as_bytes())
        .await?;
    if p == expected.as_bytes() {
        return Ok(());
    }
    Err(ctx.fail(
        FailureKind::Wrong,
        format!(
            "`{}`",
            confab::protocol::escape::escape_bytes(expected.as_bytes())
        ),
        format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
    ))
}
