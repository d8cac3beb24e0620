//! PROTOCOL.md §4, Commands (CMD-*): verbs and their spellings, unknown commands, bad
//! arguments, which error comes first, and one reply per command in order.

use confab::protocol::{Command, ErrorCode};

use crate::case::Case;
use crate::suites::decl::refuse_rows;
use crate::suites::{client, expect_list, frames, msg_without_reply, payload, refused};

pub(super) fn cases() -> Vec<Case> {
    vec![
        case!(
            Spec {
                id: "spec.CMD-1.verbs-are-case-sensitive",
                title: "lower-case verbs are unknown commands",
                cites: ["CMD-1"],
                level: Must,
            },
            |ctx| {
                if ctx.profile.dialect.spelling == confab::protocol::Spelling::Numeric {
                    return Err(ctx.unsupported("numeric spelling has no letters to change"));
                }
                let (mut a, an) = client(ctx, "A").await?;
                let x = ctx.name("X");
                let rows = refusals![
                    (A, b"name {x}", UnknownCommand),
                    (A, b"Name {x}", UnknownCommand),
                    (A, b"nAME {x}", UnknownCommand),
                    (A, b"get_names", UnknownCommand),
                    (A, b"Get_Names", UnknownCommand),
                    (A, b"exit", UnknownCommand),
                    (A, b"Exit", UnknownCommand),
                    (A, b"msg {an} hi", UnknownCommand),
                ];
                let names = [("an", &an), ("x", &x)];
                refuse_rows(ctx, &mut [&mut a], &names, &[&an], &rows).await?;
                ctx.step(format!("A → GET_NAMES: {x} was not registered"));
                ctx.expect_names(&mut a, &[&an], &[&x]).await
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-2.getnames-spelling",
                title: "GETNAMES is GET_NAMES",
                cites: ["CMD-2"],
                level: Must,
            },
            |ctx| {
                if ctx.profile.dialect.spelling == confab::protocol::Spelling::Numeric {
                    return Err(ctx.unsupported("numeric spelling has no GETNAMES"));
                }
                let (mut a, an) = client(ctx, "A").await?;
                let (_b, bn) = client(ctx, "B").await?;
                ctx.step("A → GETNAMES");
                ctx.send_payload(&mut a, b"GETNAMES").await?;
                let p = ctx.recv_names(&mut a, &[&an, &bn]).await?;
                expect_list(ctx, &p, &[&an, &bn])?;
                ctx.step("A → GET_NAMES");
                ctx.send_payload(&mut a, b"GET_NAMES").await?;
                let q = ctx.recv_names(&mut a, &[&an, &bn]).await?;
                expect_list(ctx, &q, &[&an, &bn])
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-3.unknown-commands",
                title: "unknown verbs and the empty payload get UNKNOWN_COMMAND",
                cites: ["CMD-3"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let rows = refusals![
                    (A, b"FOO", UnknownCommand),
                    (A, b"HELLO", UnknownCommand),
                    (A, b"GET NAMES", UnknownCommand),
                    (A, b" NAME A", UnknownCommand),
                    (A, b"NAMEX", UnknownCommand),
                    (A, b"MSGS A hi", UnknownCommand),
                ];
                refuse_rows(ctx, &mut [&mut a], &[], &[&an], &rows).await?;
                if ctx.profile.dialect.framing.has_length_field() {
                    refused(ctx, &mut a, b"", ErrorCode::UnknownCommand, &[&an]).await?;
                }
                Ok(())
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-4.bad-arguments",
                title: "missing, extra and empty arguments get BAD_ARGS",
                cites: ["CMD-4"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let x = ctx.name("X");
                let rows = refusals![
                    (A, b"NAME", BadArgs),
                    (A, b"NAME ", BadArgs),
                    (A, b"NAME  {x}", BadArgs),
                    (A, b"NAME {x} {x}", BadArgs),
                    (A, b"GET_NAMES now", BadArgs),
                    (A, b"EXIT please", BadArgs),
                    (A, b"MSG", BadArgs),
                    (A, b"MSG {an}", BadArgs),
                    (A, b"MSG {an} ", BadArgs),
                    (A, b"MSG b@d hi", BadArgs),
                ];
                let names = [("an", &an), ("x", &x)];
                refuse_rows(ctx, &mut [&mut a], &names, &[&an], &rows).await
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-5.errors-have-no-effect",
                title: "a refused command registers, delivers and releases nothing",
                cites: ["CMD-5"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                let x = ctx.name("X");
                ctx.step("U connects and stays unnamed");
                let mut u = ctx.connect("U").await?;
                let rows = refusals![
                    (U, b"NAME {x} {x}", BadArgs),
                    (A, b"MSG {bn} ", BadArgs),
                    (U, b"MSG {bn} sneaky", NameRequired),
                    (A, b"EXIT {an}", BadArgs),
                ];
                let names = [("an", &an), ("bn", &bn), ("x", &x)];
                refuse_rows(ctx, &mut [&mut a, &mut u], &names, &[&an, &bn], &rows).await?;
                ctx.step(format!(
                    "B receives nothing, {x} is not listed, A is still listed"
                ));
                ctx.expect_nothing_before_names(
                    &mut b,
                    &[&an, &bn],
                    "no refused command delivered anything",
                )
                .await?;
                ctx.expect_names(&mut b, &[&an, &bn], &[&x]).await?;
                ctx.step(format!("U → NAME {x} now works"));
                ctx.register(&mut u, &x).await
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-6.error-precedence",
                title: "the first applicable error is reported",
                cites: ["CMD-6"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (_b, bn) = client(ctx, "B").await?;
                ctx.step("U connects and stays unnamed");
                let mut u = ctx.connect("U").await?;
                let nobody = ctx.name("Nobody");
                // Each payload breaks two rules; the code is that of the rule checked first.
                let rows = refusals![
                    (U, b"MSG b@d hi", BadArgs),
                    (U, b"MSG {nobody} hi", NameRequired),
                    (A, b"NAME 1abc", InvalidName),
                    (A, b"NAME {bn}", AlreadyNamed),
                    (A, b"NAME \xff", BadEncoding),
                    (A, b"FOO \xff", BadEncoding),
                    (A, b"FOO bar baz", UnknownCommand),
                ];
                let names = [("bn", &bn), ("nobody", &nobody)];
                refuse_rows(ctx, &mut [&mut a, &mut u], &names, &[&an, &bn], &rows).await
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-7.replies-in-order",
                title: "pipelined commands are answered in order",
                cites: ["CMD-7"],
                level: Must,
            },
            |ctx| {
                if !ctx.profile.dialect.framing.delimits() {
                    return Err(ctx.unsupported("raw framing cannot pipeline commands"));
                }
                ctx.step("A connects");
                let mut a = ctx.connect("A").await?;
                let an = ctx.name("A");
                let (_b, bn) = client(ctx, "B").await?;
                let name = payload(ctx, &Command::Name(an.clone()));
                let gn = payload(ctx, &Command::GetNames);
                let dup = payload(ctx, &Command::Name(bn.clone()));
                ctx.step("A → NAME, GET_NAMES, FOO, NAME (again), GET_NAMES in one write");
                let joined = frames(ctx, &[&name, &gn, b"FOO", &dup, &gn])?;
                ctx.send_raw(&mut a, &joined).await?;
                ctx.step("A ← 1: HELLO");
                ctx.expect_hello(&mut a, &an).await?;
                ctx.step("A ← 2: the names list");
                let p = ctx.recv_names(&mut a, &[&bn, &an]).await?;
                expect_list(ctx, &p, &[&bn, &an])?;
                ctx.step("A ← 3: UNKNOWN_COMMAND");
                ctx.expect_error(&mut a, ErrorCode::UnknownCommand).await?;
                ctx.step("A ← 4: ALREADY_NAMED");
                ctx.expect_error(&mut a, ErrorCode::AlreadyNamed).await?;
                ctx.step("A ← 5: the names list");
                let p = ctx.recv_names(&mut a, &[&bn, &an]).await?;
                expect_list(ctx, &p, &[&bn, &an])
            }
        ),
        case!(
            Spec {
                id: "spec.CMD-8.one-reply-per-command",
                title: "one reply per command, none for a successful MSG",
                cites: ["CMD-8"],
                level: Must,
            },
            |ctx| {
                let (mut a, an) = client(ctx, "A").await?;
                let (mut b, bn) = client(ctx, "B").await?;
                ctx.step("A → MSG B: no reply to A");
                msg_without_reply((ctx, &mut a, &an), (&mut b, &bn), "one").await?;
                refused(
                    ctx,
                    &mut a,
                    format!("NAME {bn}").as_bytes(),
                    ErrorCode::AlreadyNamed,
                    &[&an, &bn],
                )
                .await?;
                ctx.step("A → GET_NAMES: one list, nothing after it");
                ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
                ctx.expect_nothing_before_names(&mut a, &[&an, &bn], "a GET_NAMES gets one reply")
                    .await
            }
        ),
    ]
}
