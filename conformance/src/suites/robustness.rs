//! Bad input and load of the kinds that break real course servers (the zoo in
//! `conformance/tests/zoo/` has examples): split and joined frames, bad headers, short
//! payloads, invalid UTF-8, commands out of order, abrupt disconnects, clients killed in the
//! middle of a command, and many clients at once. The sentinel's check after each case tells
//! whether the server survived.

use confab::protocol::{Command, ErrorCode, Framing, Name, Reply};

use super::decl::refuse_rows;
use super::{
    client, expect_list, frames, msg, needs_length_field, payload, refused, send_bytewise,
};
use crate::case::{Case, Check, Ctx, FailureKind};
use crate::judge;
use crate::wire::{Conn, Received};

pub fn cases() -> Vec<Case> {
    vec![
        case!(
            Robustness {
                id: "robustness.byte-at-a-time",
                title: "commands written one byte per write",
                cites: ["FRAME-4"],
                level: Must,
            },
            |ctx| {
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                if a.framing().needs_write_gap() {
                    return Err(ctx.unsupported("in raw framing every write is a message"));
                }
                ctx.step(format!("A → NAME {an}, one byte per write"));
                send_bytewise(ctx, &mut a, &Command::Name(an.clone())).await?;
                ctx.expect_hello(&mut a, &an).await?;
                ctx.step("A → GET_NAMES, one byte per write");
                send_bytewise(ctx, &mut a, &Command::GetNames).await?;
                let p = ctx.recv_names(&mut a, &[&an]).await?;
                expect_list(ctx, &p, &[&an])
            }
        ),
        case!(
            Robustness {
                id: "robustness.frames-in-one-write",
                title: "four commands in one write",
                cites: ["FRAME-4", "CMD-7"],
                level: Must,
            },
            |ctx| {
                if !ctx.profile.dialect.framing.delimits() {
                    return Err(ctx.unsupported("raw framing cannot join frames in one write"));
                }
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                let name = payload(ctx, &Command::Name(an.clone()));
                let gn = payload(ctx, &Command::GetNames);
                let to_self = payload(ctx, &msg(ctx, &an, "echo")?);
                let exit = payload(ctx, &Command::Exit);
                ctx.step("A → NAME, GET_NAMES, MSG to self, EXIT in one write");
                let joined = frames(ctx, &[&name, &gn, &to_self, &exit])?;
                ctx.send_raw(&mut a, &joined).await?;
                ctx.expect_hello(&mut a, &an).await?;
                ctx.step("A ← the names list");
                let p = ctx.recv_names(&mut a, &[&an]).await?;
                expect_list(ctx, &p, &[&an])?;
                ctx.step("A ← its own message");
                ctx.expect_delivery(&mut a, &an, "echo").await?;
                ctx.step("A ← BYE");
                ctx.expect_bye_and_close(&mut a).await?;
                still_serving(ctx, &[]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.non-digit-length",
                title: "a length field that is not digits",
                cites: ["FRAME-5", "CONN-2"],
                level: Must,
            },
            |ctx| {
                if !matches!(ctx.profile.dialect.framing, Framing::Decimal(_)) {
                    return Err(ctx.unsupported(format!(
                        "{} framing has no digits to get wrong",
                        ctx.profile.dialect.framing
                    )));
                }
                let (_a, an) = client(ctx, "A").await?;
                let width = ctx.profile.dialect.framing.header_len();
                for (label, header) in [
                    ("B", "x".repeat(width)),
                    ("C", format!("{}-", "0".repeat(width - 1))),
                    ("D", " ".repeat(width)),
                ] {
                    ctx.step(format!("{label} connects"));
                    let mut c = ctx.connect(label).await?;
                    let mut bytes = header.into_bytes();
                    bytes.extend_from_slice(b"EXIT");
                    survives_bad_frame(ctx, &mut c, &bytes, ErrorCode::BadFrame).await?;
                }
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.length-over-max",
                title: "a length at or over the limit",
                cites: ["DIALECT-3", "FRAME-3"],
                level: Must,
            },
            |ctx| {
                needs_length_field(ctx)?;
                let framing = ctx.profile.dialect.framing;
                let max = framing.max_payload();
                let (_a, an) = client(ctx, "A").await?;
                let mut b = ctx.connect("B").await?;
                if framing.capacity() > max as u64 {
                    ctx.step(format!(
                        "B → a header declaring {} bytes, one over the limit",
                        max + 1
                    ));
                    let header = confab::protocol::frame::declaring(framing, max as u64 + 1)
                        .ok_or_else(|| {
                            ctx.unsupported(format!("{framing} cannot declare {}", max + 1))
                        })?;
                    survives_bad_frame(ctx, &mut b, &header, ErrorCode::BadFrame).await?;
                } else {
                    ctx.step(format!(
                        "B → a frame of exactly {max} bytes of junk \
                         (the most the header can declare)"
                    ));
                    let junk = vec![b'#'; max];
                    refused(ctx, &mut b, &junk, ErrorCode::UnknownCommand, &[&an]).await?;
                }
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.short-payload-then-close",
                title: "a declared length longer than what is sent, then a close",
                cites: ["FRAME-6", "CONN-2"],
                level: Must,
            },
            |ctx| {
                needs_length_field(ctx)?;
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("S connects, declares 20 bytes, sends 6, and closes");
                let mut s = ctx.connect("S").await?;
                let mut bytes = confab::protocol::frame::frame(
                    ctx.profile.dialect.framing,
                    b"MSG nobody whatever",
                )
                .map_err(|e| ctx.unsupported(e.to_string()))?;
                bytes.truncate(ctx.profile.dialect.framing.header_len() + 6);
                ctx.send_raw(&mut s, &bytes).await?;
                s.close();
                ctx.step("A and B still talk");
                let m = msg(ctx, &bn, "unaffected")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, "unaffected").await?;
                still_serving(ctx, &[&an, &bn]).await
            }
        ),
        // A killed client program resets its connection, here with half a command sent: many
        // course servers then send a reply to a socket that has gone, and die. The grading
        // sheet's row 12 kills an idle client instead (JUDGE-8); this is the harder case.
        case!(
            Robustness {
                id: "robustness.killed-mid-command",
                title: "a client killed in the middle of a command (reset, half a frame sent)",
                cites: ["CONN-2", "CONN-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let (mut k, kn) = client(ctx, "K").await?;
                ctx.step("K starts a command and is killed (reset) without EXIT");
                let m = msg(ctx, &an, "half")?;
                let mut part = confab::protocol::frame::frame(k.framing(), &payload(ctx, &m))
                    .map_err(|e| ctx.unsupported(e.to_string()))?;
                part.truncate(part.len() / 2);
                ctx.send_raw(&mut k, &part).await?;
                k.abort();
                ctx.step("A and B talk, K is gone from the list");
                let m = msg(ctx, &bn, "carry on")?;
                ctx.send(&mut a, &m).await?;
                ctx.expect_delivery(&mut b, &an, "carry on").await?;
                ctx.expect_names_eventually(&mut a, &[&an, &bn], &[&kn])
                    .await
            }
        ),
        case!(
            Robustness {
                id: "robustness.invalid-utf8",
                title: "payloads that are not UTF-8",
                cites: ["ENC-2"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let rows = refusals![
                    (A, b"\xff\xfe\xfd", BadEncoding),
                    (A, b"NAME \xe9t\xe9", BadEncoding),
                    (A, b"\xc3\x28", BadEncoding),
                ];
                refuse_rows(ctx, &mut [&mut a], &[], &[&an], &rows).await?;
                ctx.step("an unnamed client sends invalid UTF-8 too");
                let mut u = ctx.connect("U").await?;
                refused(ctx, &mut u, b"\x80\x80", ErrorCode::BadEncoding, &[&an]).await?;
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.msg-before-name",
                title: "MSG before NAME",
                cites: ["MSG-5"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let mut u = ctx.connect("U").await?;
                refused(
                    ctx,
                    &mut u,
                    format!("MSG {an} who am i").as_bytes(),
                    ErrorCode::NameRequired,
                    &[&an],
                )
                .await?;
                let nobody = ctx.name("Nobody");
                refused(
                    ctx,
                    &mut u,
                    format!("MSG {nobody} hi").as_bytes(),
                    ErrorCode::NameRequired,
                    &[&an],
                )
                .await?;
                ctx.step("A got nothing");
                ctx.expect_nothing_before_names(&mut a, &[&an], "MSG before NAME delivers nothing")
                    .await?;
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.unnamed-disconnect",
                title: "clients that leave without ever naming",
                cites: ["CONN-4"],
                level: Must,
            },
            |ctx| {
                let (_a, an) = client(ctx, "A").await?;
                for i in 0..3 {
                    let label = format!("U{i}");
                    ctx.step(format!("{label} connects and leaves without a word"));
                    let u = ctx.connect(&label).await?;
                    if i == 1 {
                        u.abort();
                    } else {
                        u.close();
                    }
                }
                ctx.step("V asks for the names, then leaves");
                let mut v = ctx.connect("V").await?;
                ctx.expect_names(&mut v, &[&an], &[]).await?;
                v.close();
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.exit",
                title: "EXIT, named and unnamed, leaves the server serving",
                cites: ["EXIT-2", "EXIT-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, _an) = client(ctx, "A").await?;
                ctx.step("A → EXIT");
                ctx.send(&mut a, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut a).await?;
                ctx.step("U (unnamed) → EXIT");
                let mut u = ctx.connect("U").await?;
                ctx.send(&mut u, &Command::Exit).await?;
                ctx.expect_bye_and_close(&mut u).await?;
                still_serving(ctx, &[]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.extra-arguments",
                title: "extra arguments after commands",
                cites: ["CMD-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let x = ctx.name("X");
                let rows = refusals![
                    (A, b"GET_NAMES now", BadArgs),
                    (A, b"GET_NAMES A B C", BadArgs),
                    (A, b"EXIT now", BadArgs),
                    (A, b"NAME {x} {x}", BadArgs),
                ];
                refuse_rows(ctx, &mut [&mut a], &[("x", &x)], &[&an], &rows).await?;
                still_serving(ctx, &[&an]).await
            }
        ),
        case!(
            Robustness {
                id: "robustness.two-hundred-clients",
                title: "two hundred clients naming and messaging at once",
                cites: ["NAME-6", "MSG-1", "MSG-8"],
                level: Must,
                concurrent: true,
            },
            |ctx| {
                let n = 200;
                ctx.step(format!("{n} clients connect"));
                let mut conns = Vec::with_capacity(n);
                let mut names = Vec::with_capacity(n);
                for i in 0..n {
                    conns.push(ctx.connect(&format!("C{i:03}")).await?);
                    names.push(ctx.name("C"));
                }
                ctx.step(format!("all {n} send NAME at once"));
                let framing = ctx.profile.dialect.framing;
                let spelling = ctx.profile.dialect.spelling;
                let encode = |cmd: &Command| -> Result<Vec<u8>, String> {
                    let mut p = Vec::new();
                    cmd.encode(spelling, &mut p);
                    confab::protocol::frame::frame(framing, &p).map_err(|e| e.to_string())
                };
                let mut writes = Vec::with_capacity(n);
                for name in &names {
                    writes.push(
                        encode(&Command::Name(name.clone())).map_err(|e| ctx.unsupported(e))?,
                    );
                }
                send_all(ctx, &mut conns, &writes).await?;
                let replies = recv_all(ctx, &mut conns).await?;
                for (i, p) in replies.iter().enumerate() {
                    if !judge::hello(&ctx.profile, p, &names[i]).accepted() {
                        return Err(ctx.fail(
                            FailureKind::Wrong,
                            format!("HELLO {} for client {i}", names[i]),
                            format!("got `{}`", confab::protocol::escape::escape_bytes(p)),
                        ));
                    }
                }
                ctx.step("each client sends a message to the next one, all at once");
                let mut writes = Vec::with_capacity(n);
                for i in 0..n {
                    let to = &names[(i + 1) % n];
                    let text = ctx.text(&format!("ring {i}"))?;
                    writes.push(
                        encode(&Command::Msg {
                            to: to.clone(),
                            text,
                        })
                        .map_err(|e| ctx.unsupported(e))?,
                    );
                }
                send_all(ctx, &mut conns, &writes).await?;
                let deliveries = recv_all(ctx, &mut conns).await?;
                for (j, p) in deliveries.iter().enumerate() {
                    let from = (j + n - 1) % n;
                    let text = format!("ring {from}");
                    match judge::delivery(&ctx.profile, p, names[from].as_str(), &text) {
                        judge::Judgement::Exact => {}
                        judge::Judgement::Deviation(d) => ctx.deviation(d),
                        judge::Judgement::Mismatch(m) => {
                            return Err(ctx.fail(
                                FailureKind::Wrong,
                                format!("client {j} receives `ring {from}` from {}", names[from]),
                                m,
                            ));
                        }
                    }
                }
                if let (Some(first), true, false) =
                    (conns.first_mut(), ctx.profile.strict(), !framing.delimits())
                {
                    ctx.step("C000 → GET_NAMES: all two hundred are listed");
                    ctx.send(first, &Command::GetNames).await?;
                    let p = ctx.recv(first, "the names list").await?;
                    match Reply::parse(&p) {
                        Ok(Reply::Names(list)) => {
                            // A small frame may leave names out, counted in the `+N`
                            // marker (NAMES-5).
                            let missing =
                                names.iter().filter(|n| !list.names().contains(n)).count();
                            if missing as u64 > list.omitted() {
                                return Err(ctx.fail(
                                    FailureKind::Wrong,
                                    "all names listed",
                                    format!("{missing} missing"),
                                ));
                            }
                        }
                        _ => {
                            return Err(ctx.fail(
                                FailureKind::Wrong,
                                "the names list",
                                format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
                            ));
                        }
                    }
                }
                Ok(())
            }
        ),
        case!(
            Robustness {
                id: "robustness.name-race",
                title: "a hundred clients racing for one name",
                cites: ["NAME-6"],
                level: Must,
                concurrent: true,
            },
            |ctx| { super::spec::race(ctx, 100).await }
        ),
    ]
}

/// The server still serves: a fresh client names and lists.
async fn still_serving(ctx: &mut Ctx, also: &[&Name]) -> Check {
    let (mut z, zn) = client(ctx, "Z").await?;
    let mut present: Vec<&Name> = also.to_vec();
    present.push(&zn);
    ctx.step("Z → GET_NAMES: the server still serves");
    ctx.expect_names(&mut z, &present, &[]).await
}

/// Sends `bytes` and accepts what a robust server may do: an error and a close (strict:
/// `ERROR code`, then the close), or, leniently, a close or an error alone.
async fn survives_bad_frame(
    ctx: &mut Ctx,
    conn: &mut Conn,
    bytes: &[u8],
    code: ErrorCode,
) -> Check {
    ctx.step(format!(
        "{} → {}",
        conn.label(),
        confab::protocol::escape::escape_bytes(bytes)
    ));
    ctx.send_raw(conn, bytes).await?;
    match conn.recv(ctx.timeout).await {
        Received::Frame(p) => {
            match judge::error(&ctx.profile, &p, code, &|_| false) {
                judge::Judgement::Exact => {}
                judge::Judgement::Deviation(d) => ctx.deviation(d),
                judge::Judgement::Mismatch(m) => {
                    return Err(ctx.fail(
                        FailureKind::Wrong,
                        format!("`ERROR {code} ...`, then the close"),
                        m,
                    ));
                }
            }
            ctx.expect_closed(conn, "the server closes the connection")
                .await
        }
        Received::Closed | Received::Failed(_) if !ctx.profile.strict() => {
            ctx.deviation("the server dropped the connection without an error reply");
            Ok(())
        }
        other => Err(ctx.fail(
            FailureKind::Wrong,
            format!("`ERROR {code} ...`, then the close"),
            ctx.describe(&other, conn.label()),
        )),
    }
}

/// Writes `writes[i]` to `conns[i]`, all at once.
async fn send_all(ctx: &mut Ctx, conns: &mut [Conn], writes: &[Vec<u8>]) -> Check {
    let sends = conns
        .iter_mut()
        .zip(writes)
        .map(|(c, w)| async move { c.send_raw(w).await });
    for (i, r) in futures::future::join_all(sends)
        .await
        .into_iter()
        .enumerate()
    {
        r.map_err(|e| {
            ctx.fail(
                FailureKind::Closed,
                format!("client {i} can send"),
                e.to_string(),
            )
        })?;
    }
    Ok(())
}

/// Reads one frame from every connection, all at once.
async fn recv_all(ctx: &mut Ctx, conns: &mut [Conn]) -> Check<Vec<bytes::Bytes>> {
    let timeout = ctx.timeout;
    let mut out = Vec::with_capacity(conns.len());
    let reads = conns
        .iter_mut()
        .map(|c| async move { c.recv(timeout).await });
    for (i, r) in futures::future::join_all(reads)
        .await
        .into_iter()
        .enumerate()
    {
        match r {
            Received::Frame(p) => out.push(p),
            other => {
                return Err(ctx.fail(
                    FailureKind::NoReply,
                    format!("a reply for client {i}"),
                    crate::case::describe(&other, &format!("C{i:03}"), timeout),
                ));
            }
        }
    }
    Ok(out)
}
