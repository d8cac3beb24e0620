//! One or more cases per requirement of PROTOCOL.md, each citing its ID and level.
//!
//! Requirements that a server cannot be observed to meet on the wire (CLIENT-*, the MAY
//! policies, FRAME-8) have informational cases that say so, so that every ID has a case.

use confab::protocol::{Command, ErrorCode, Framing, MAX_TEXT_LEN, Name, Reply};
use futures::future::BoxFuture;

use super::{
    case, client, expect_list, frames, greets, greets_word, leave_by_half_close, msg,
    needs_decimal, needs_delimiters, needs_full_frames, needs_length_field, payload, refused,
    refused_or, send_bytewise,
};
use crate::case::{Case, Check, Ctx, FailureKind, Level, Suite};
use crate::judge;
use crate::wire::Received;

const fn spec(
    id: &'static str,
    level: Level,
    cites: &'static [&'static str],
    title: &'static str,
    run: crate::case::CaseFn,
) -> Case {
    case(id, Suite::Spec, level, cites, title, run)
}

pub fn cases() -> Vec<Case> {
    use Level::*;
    let mut v = vec![
        // §2 Framing
        spec(
            "spec.FRAME-1.replies-are-framed",
            Must,
            &["FRAME-1", "DIALECT-1"],
            "every reply is framed like the commands",
            frame_1,
        ),
        spec(
            "spec.FRAME-2.lengths-count-bytes",
            Must,
            &["FRAME-2", "DIALECT-2"],
            "lengths count UTF-8 bytes, both ways",
            frame_2,
        ),
        spec(
            "spec.FRAME-3.empty-and-largest-frames",
            Must,
            &["FRAME-3"],
            "a zero-length frame and a frame at the limit are valid framing",
            frame_3,
        ),
        spec(
            "spec.FRAME-4.split-and-joined-frames",
            Must,
            &["FRAME-4"],
            "a frame split into single bytes, and frames joined in one write",
            frame_4,
        ),
        spec(
            "spec.FRAME-5.bad-header",
            Must,
            &["FRAME-5"],
            "a non-digit length header gets BAD_FRAME, then the server closes",
            frame_5,
        ),
        spec(
            "spec.FRAME-6.partial-frame",
            Must,
            &["FRAME-6"],
            "a partial frame delays no one and is dropped at close",
            frame_6,
        ),
        spec(
            "spec.FRAME-7.headers-match-payloads",
            Must,
            &["FRAME-7"],
            "every reply's header matches its payload",
            frame_7,
        ),
        spec(
            "spec.FRAME-8.limit-before-allocation",
            Should,
            &["FRAME-8"],
            "the limit is checked before allocating (not observable)",
            frame_8,
        ),
        // §3 Encoding
        spec(
            "spec.ENC-1.replies-are-utf8",
            Must,
            &["ENC-1"],
            "every reply payload is valid UTF-8, whatever was sent",
            enc_1,
        ),
        spec(
            "spec.ENC-2.invalid-utf8",
            Must,
            &["ENC-2"],
            "invalid UTF-8 gets BAD_ENCODING and the connection stays open",
            enc_2,
        ),
        spec(
            "spec.ENC-3.bytes-not-characters",
            Must,
            &["ENC-3"],
            "no normalisation, case folding or trimming",
            enc_3,
        ),
        // §4 Commands
        spec(
            "spec.CMD-1.verbs-are-case-sensitive",
            Must,
            &["CMD-1"],
            "lower-case verbs are unknown commands",
            cmd_1,
        ),
        spec(
            "spec.CMD-2.getnames-spelling",
            Must,
            &["CMD-2"],
            "GETNAMES is GET_NAMES",
            cmd_2,
        ),
        spec(
            "spec.CMD-3.unknown-commands",
            Must,
            &["CMD-3"],
            "unknown verbs and the empty payload get UNKNOWN_COMMAND",
            cmd_3,
        ),
        spec(
            "spec.CMD-4.bad-arguments",
            Must,
            &["CMD-4"],
            "missing, extra and empty arguments get BAD_ARGS",
            cmd_4,
        ),
        spec(
            "spec.CMD-5.errors-have-no-effect",
            Must,
            &["CMD-5"],
            "a refused command registers, delivers and releases nothing",
            cmd_5,
        ),
        spec(
            "spec.CMD-6.error-precedence",
            Must,
            &["CMD-6"],
            "the first applicable error is reported",
            cmd_6,
        ),
        spec(
            "spec.CMD-7.replies-in-order",
            Must,
            &["CMD-7"],
            "pipelined commands are answered in order",
            cmd_7,
        ),
        spec(
            "spec.CMD-8.one-reply-per-command",
            Must,
            &["CMD-8"],
            "one reply per command, none for a successful MSG",
            cmd_8,
        ),
        // §5.1 NAME
        spec(
            "spec.NAME-1.hello",
            Must,
            &["NAME-1"],
            "NAME gets HELLO with the name",
            name_1,
        ),
        spec(
            "spec.NAME-2.taken",
            Must,
            &["NAME-2"],
            "a taken name gets NAME_TAKEN; names are case-sensitive",
            name_2,
        ),
        spec(
            "spec.NAME-3.valid-names",
            Must,
            &["NAME-3"],
            "names of 1 to 32 letters and digits are accepted",
            name_3,
        ),
        spec(
            "spec.NAME-4.invalid-names",
            Must,
            &["NAME-4", "NAME-3"],
            "invalid names get INVALID_NAME",
            name_4,
        ),
        spec(
            "spec.NAME-5.no-renaming",
            Must,
            &["NAME-5"],
            "a second NAME gets ALREADY_NAMED and changes nothing",
            name_5,
        ),
        spec(
            "spec.NAME-6.race",
            Must,
            &["NAME-6"],
            "of fifty connections racing for one name, exactly one wins",
            name_6,
        ),
        spec(
            "spec.NAME-7.released-names",
            Must,
            &["NAME-7"],
            "a name is free again after EXIT and after a close",
            name_7,
        ),
        // §5.2 GET_NAMES
        spec(
            "spec.NAMES-1.order-and-format",
            Must,
            &["NAMES-1"],
            "names in registration order, single spaces, no prefix",
            names_1,
        ),
        spec(
            "spec.NAMES-2.empty-list",
            Must,
            &["NAMES-2"],
            "with nobody named the list is the empty payload",
            names_2,
        ),
        spec(
            "spec.NAMES-3.unnamed-asker",
            Must,
            &["NAMES-3"],
            "GET_NAMES works before NAME; the unnamed are not listed",
            names_3,
        ),
        spec(
            "spec.NAMES-4.release-and-return",
            Must,
            &["NAMES-4"],
            "a released name leaves the list and returns at its end",
            names_4,
        ),
        spec(
            "spec.NAMES-5.long-list",
            Must,
            &["NAMES-5", "DIALECT-4"],
            "a list that does not fit a frame is cut with a +N marker",
            names_5,
        ),
        // §5.3 MSG
        spec(
            "spec.MSG-1.delivery",
            Must,
            &["MSG-1"],
            "MSG delivers `sender SENT text` to the recipient",
            msg_1,
        ),
        spec(
            "spec.MSG-2.no-ack",
            Must,
            &["MSG-2"],
            "a successful MSG gets no reply",
            msg_2,
        ),
        spec(
            "spec.MSG-3.to-self",
            Must,
            &["MSG-3"],
            "a message to yourself is delivered to you",
            msg_3,
        ),
        spec(
            "spec.MSG-4.no-such-user",
            Must,
            &["MSG-4"],
            "a message to a missing name gets NO_SUCH_USER",
            msg_4,
        ),
        spec(
            "spec.MSG-5.name-required",
            Must,
            &["MSG-5"],
            "MSG before NAME gets NAME_REQUIRED and delivers nothing",
            msg_5,
        ),
        spec(
            "spec.MSG-6.verbatim-text",
            Must,
            &["MSG-6"],
            "texts are relayed byte for byte: spaces, Unicode, controls",
            msg_6,
        ),
        spec(
            "spec.MSG-7.text-limits",
            Must,
            &["MSG-7"],
            "9961 bytes are delivered, 9962 refused, empty text is BAD_ARGS",
            msg_7,
        ),
        spec(
            "spec.MSG-8.order-and-loss",
            Must,
            &["MSG-8"],
            "two hundred messages arrive once each, in order",
            msg_8,
        ),
        spec(
            "spec.MSG-9.causality",
            Should,
            &["MSG-9"],
            "a delivery is queued before the sender's next reply",
            msg_9,
        ),
        // §5.4 EXIT
        spec(
            "spec.EXIT-1.release-before-bye",
            Must,
            &["EXIT-1"],
            "the name is free by the time BYE can be read",
            exit_1,
        ),
        spec(
            "spec.EXIT-2.bye-then-close",
            Must,
            &["EXIT-2"],
            "EXIT gets BYE, then the server closes",
            exit_2,
        ),
        spec(
            "spec.EXIT-3.after-exit",
            Must,
            &["EXIT-3"],
            "commands after EXIT are ignored",
            exit_3,
        ),
        spec(
            "spec.EXIT-4.unnamed-exit",
            Must,
            &["EXIT-4"],
            "EXIT works before NAME",
            exit_4,
        ),
        // §6 Replies
        spec(
            "spec.REPLY-1.reserved-words",
            Must,
            &["REPLY-1"],
            "HELLO, SENT, ERROR and BYE are not names",
            reply_1,
        ),
        spec(
            "spec.REPLY-2.grammar",
            Must,
            &["REPLY-2"],
            "every server frame is a reply of the grammar",
            reply_2,
        ),
        spec(
            "spec.REPLY-3.client-skips-deliveries",
            Must,
            &["REPLY-3"],
            "clients accept deliveries anywhere (a client requirement)",
            client_side,
        ),
        // §7 Errors
        spec(
            "spec.ERR-1.codes",
            Must,
            &["ERR-1"],
            "errors carry the code of the table",
            err_1,
        ),
        spec(
            "spec.ERR-2.messages",
            Should,
            &["ERR-2"],
            "error messages are one line, with input escaped",
            err_2,
        ),
        spec(
            "spec.ERR-3.clients-ignore-messages",
            Must,
            &["ERR-3"],
            "clients act on codes only (a client requirement)",
            client_side,
        ),
        // §8 Lifecycle
        spec(
            "spec.CONN-1.no-greeting",
            Must,
            &["CONN-1"],
            "nothing is sent before the first command",
            conn_1,
        ),
        spec(
            "spec.CONN-2.independence",
            Must,
            &["CONN-2"],
            "bad and stalled clients do not affect others",
            conn_2,
        ),
        spec(
            "spec.CONN-3.close-releases",
            Must,
            &["CONN-3"],
            "a close or reset without EXIT releases the name",
            conn_3,
        ),
        spec(
            "spec.CONN-4.unnamed-close",
            Must,
            &["CONN-4"],
            "an unnamed client closing is harmless",
            conn_4,
        ),
        spec(
            "spec.CONN-5.error-before-close",
            Must,
            &["CONN-5"],
            "a server-side close sends the error first and releases the name",
            conn_5,
        ),
        // §9 Policies
        spec(
            "spec.POLICY-1.connection-limit",
            May,
            &["POLICY-1"],
            "a connection limit, if any, answers SERVER_FULL",
            policy,
        ),
        spec(
            "spec.POLICY-2.stalled-frames",
            May,
            &["POLICY-2"],
            "stalled frames may time out; idle connections stay",
            policy,
        ),
        spec(
            "spec.POLICY-3.slow-readers",
            May,
            &["POLICY-3"],
            "a bound on queued replies, if any, closes the slow reader",
            policy,
        ),
        spec(
            "spec.POLICY-4.shutdown",
            Should,
            &["POLICY-4"],
            "shutdown sends SHUTTING_DOWN (not probed: needs a server stop)",
            policy,
        ),
        // §10 Clients
        spec(
            "spec.CLIENT-1.valid-frames",
            Must,
            &["CLIENT-1"],
            "clients send only valid frames (a client requirement)",
            client_side,
        ),
        spec(
            "spec.CLIENT-2.inert-display",
            Must,
            &["CLIENT-2"],
            "clients show received text inertly (a client requirement)",
            client_side,
        ),
        spec(
            "spec.CLIENT-3.type-while-receiving",
            Should,
            &["CLIENT-3"],
            "clients let users type while messages arrive (a client requirement)",
            client_side,
        ),
        // §11 Dialects
        spec(
            "spec.DIALECT-3.over-the-limit",
            Must,
            &["DIALECT-3", "FRAME-5"],
            "a declared length over the limit is a framing error",
            dialect_3,
        ),
        spec(
            "spec.DIALECT-4.small-frames",
            Must,
            &["DIALECT-4"],
            "with small frames: short errors, refused long deliveries",
            dialect_4,
        ),
        spec(
            "spec.DIALECT-5.unframed",
            Must,
            &["DIALECT-5"],
            "raw and line framing limits (not probed)",
            dialect_5,
        ),
    ];
    for c in &mut v {
        if matches!(
            c.id,
            "spec.NAME-6.race"
                | "spec.MSG-8.order-and-loss"
                | "spec.NAMES-5.long-list"
                | "spec.CONN-2.independence"
        ) {
            c.concurrent = true;
        }
        // Exact names lists: only a server with no one else connected can show them.
        if matches!(
            c.id,
            "spec.NAME-3.valid-names"
                | "spec.NAMES-1.order-and-format"
                | "spec.NAMES-2.empty-list"
                | "spec.NAMES-3.unnamed-asker"
                | "spec.NAMES-5.long-list"
        ) {
            c.alone = true;
        }
    }
    v
}

body!(frame_1, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("A → GET_NAMES");
    ctx.expect_names(&mut a, &[&an], &[]).await?;
    refused(ctx, &mut a, b"FOO", ErrorCode::UnknownCommand, &[&an]).await?;
    ctx.step("A → EXIT");
    ctx.send(&mut a, &Command::Exit).await?;
    ctx.expect_bye_and_close(&mut a).await
});

body!(frame_2, |ctx| {
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
});

body!(frame_3, |ctx| {
    needs_length_field(ctx)?;
    let (mut a, an) = client(ctx, "A").await?;
    refused(ctx, &mut a, b"", ErrorCode::UnknownCommand, &[&an]).await?;
    let max = ctx.profile.max_payload();
    let big = vec![b'X'; max];
    ctx.step(format!("A → a {max}-byte payload (the limit)"));
    refused(ctx, &mut a, &big, ErrorCode::UnknownCommand, &[&an]).await?;
    Ok(())
});

body!(frame_4, |ctx| {
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
    let p = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &p, &[&an])?;
    ctx.step("A ← an error for FOO (2 of 3)");
    ctx.expect_error(&mut a, ErrorCode::UnknownCommand).await?;
    ctx.step("A ← the names list (3 of 3)");
    let p = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &p, &[&an])
});

/// Sends a bad header and expects BAD_FRAME then the close (FRAME-5, CONN-5).
async fn bad_header(ctx: &mut Ctx, conn: &mut crate::wire::Conn, bytes: &[u8]) -> Check {
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

body!(frame_5, |ctx| {
    needs_decimal(ctx)?;
    let (mut a, an) = client(ctx, "A").await?;
    let width = ctx.profile.framing.header_len();
    let mut header = vec![b'0'; width];
    if let Some(last) = header.last_mut() {
        *last = b'x';
    }
    header.extend_from_slice(b"EXIT");
    bad_header(ctx, &mut a, &header).await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("B → GET_NAMES: the closed connection's name is gone");
    ctx.expect_names_eventually(&mut b, &[&bn], &[&an]).await
});

body!(frame_6, |ctx| {
    needs_length_field(ctx)?;
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("P connects and sends a header promising 50 bytes, and 4 of them");
    let mut p = ctx.connect("P").await?;
    let mut partial = confab::protocol::frame::frame(ctx.profile.framing, &[b'N'; 50])
        .map_err(|e| ctx.unsupported(e.to_string()))?;
    partial.truncate(ctx.profile.framing.header_len() + 4);
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
});

body!(frame_7, |ctx| {
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
});

body!(frame_8, |ctx| {
    ctx.informational(
        "whether the limit is checked before allocating cannot be seen on the wire; \
         spec.DIALECT-3 and robustness.length-over-max check what can be",
    );
    Ok(())
});

body!(enc_1, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let inputs: [&[u8]; 4] = [
        b"\xff\xfe",
        b"NAME \xc3",
        b"FOO\x80bar",
        b"MSG x \xed\xa0\x80",
    ];
    for input in inputs {
        ctx.step(format!(
            "A → {} (not UTF-8)",
            confab::protocol::escape::escape_bytes(input)
        ));
        ctx.send_payload(&mut a, input).await?;
        let p = ctx.recv(&mut a, "a reply in valid UTF-8").await?;
        if let Err(e) = std::str::from_utf8(&p) {
            return Err(ctx.fail(
                FailureKind::Wrong,
                "a reply in valid UTF-8",
                format!("a reply with invalid UTF-8 at byte {}", e.valid_up_to()),
            ));
        }
    }
    ctx.step("A → GET_NAMES");
    ctx.expect_names(&mut a, &[&an], &[]).await
});

body!(enc_2, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let inputs: [&[u8]; 4] = [b"\xff\xfe", b"\xc0\xaf", b"MSG x \xe2\x82", b"NAME \x80"];
    for input in inputs {
        refused(ctx, &mut a, input, ErrorCode::BadEncoding, &[&an]).await?;
    }
    Ok(())
});

body!(enc_3, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    for text in [
        "e\u{301}t\u{e9} \u{fb01}",
        " padded ",
        "MiXeD CaSe",
        "\u{feff}bom",
    ] {
        ctx.step(format!("A → MSG B {:?}", text));
        let m = msg(ctx, &bn, text)?;
        ctx.send(&mut a, &m).await?;
        ctx.expect_delivery(&mut b, &an, text).await?;
    }
    ctx.step("names differing only in case are different names");
    let mut c = ctx.connect("C").await?;
    let lower = Name::new(&an.as_str().to_lowercase())
        .map_err(|e| ctx.fail(FailureKind::Harness, "a valid name", e.to_string()))?;
    if lower == an {
        return Err(ctx.fail(
            FailureKind::Harness,
            "a name with an upper-case letter",
            an.to_string(),
        ));
    }
    ctx.register(&mut c, &lower).await
});

body!(cmd_1, |ctx| {
    if ctx.profile.spelling == confab::protocol::Spelling::Numeric {
        return Err(ctx.unsupported("numeric spelling has no letters to change"));
    }
    let (mut a, an) = client(ctx, "A").await?;
    let x = ctx.name("X");
    for verb in ["name", "Name", "nAME"] {
        refused(
            ctx,
            &mut a,
            format!("{verb} {x}").as_bytes(),
            ErrorCode::UnknownCommand,
            &[&an],
        )
        .await?;
    }
    for other in ["get_names", "Get_Names", "exit", "Exit"] {
        refused(
            ctx,
            &mut a,
            other.as_bytes(),
            ErrorCode::UnknownCommand,
            &[&an],
        )
        .await?;
    }
    refused(
        ctx,
        &mut a,
        format!("msg {an} hi").as_bytes(),
        ErrorCode::UnknownCommand,
        &[&an],
    )
    .await?;
    ctx.step(format!("A → GET_NAMES: {x} was not registered"));
    ctx.expect_names(&mut a, &[&an], &[&x]).await
});

body!(cmd_2, |ctx| {
    if ctx.profile.spelling == confab::protocol::Spelling::Numeric {
        return Err(ctx.unsupported("numeric spelling has no GETNAMES"));
    }
    let (mut a, an) = client(ctx, "A").await?;
    let (_b, bn) = client(ctx, "B").await?;
    ctx.step("A → GETNAMES");
    ctx.send_payload(&mut a, b"GETNAMES").await?;
    let p = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &p, &[&an, &bn])?;
    ctx.step("A → GET_NAMES");
    ctx.send_payload(&mut a, b"GET_NAMES").await?;
    let q = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &q, &[&an, &bn])
});

body!(cmd_3, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let inputs: [&[u8]; 6] = [
        b"FOO",
        b"HELLO",
        b"GET NAMES",
        b" NAME A",
        b"NAMEX",
        b"MSGS A hi",
    ];
    for input in inputs {
        refused(ctx, &mut a, input, ErrorCode::UnknownCommand, &[&an]).await?;
    }
    if ctx.profile.has_length_field() {
        refused(ctx, &mut a, b"", ErrorCode::UnknownCommand, &[&an]).await?;
    }
    Ok(())
});

body!(cmd_4, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let x = ctx.name("X");
    let inputs = [
        "NAME".to_owned(),
        "NAME ".to_owned(),
        format!("NAME  {x}"),
        format!("NAME {x} {x}"),
        "GET_NAMES now".to_owned(),
        "EXIT please".to_owned(),
        "MSG".to_owned(),
        format!("MSG {an}"),
        format!("MSG {an} "),
        "MSG b@d hi".to_owned(),
    ];
    for input in &inputs {
        refused(ctx, &mut a, input.as_bytes(), ErrorCode::BadArgs, &[&an]).await?;
    }
    Ok(())
});

body!(cmd_5, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    let x = ctx.name("X");
    ctx.step("U connects and stays unnamed");
    let mut u = ctx.connect("U").await?;
    refused(
        ctx,
        &mut u,
        format!("NAME {x} {x}").as_bytes(),
        ErrorCode::BadArgs,
        &[&an, &bn],
    )
    .await?;
    refused(
        ctx,
        &mut a,
        format!("MSG {bn} ").as_bytes(),
        ErrorCode::BadArgs,
        &[&an, &bn],
    )
    .await?;
    refused(
        ctx,
        &mut u,
        format!("MSG {bn} sneaky").as_bytes(),
        ErrorCode::NameRequired,
        &[&an, &bn],
    )
    .await?;
    refused(
        ctx,
        &mut a,
        format!("EXIT {an}").as_bytes(),
        ErrorCode::BadArgs,
        &[&an, &bn],
    )
    .await?;
    ctx.step(format!(
        "B receives nothing, {x} is not listed, A is still listed"
    ));
    ctx.expect_nothing_before_names(&mut b, &[&an, &bn], "no refused command delivered anything")
        .await?;
    ctx.expect_names(&mut b, &[&an, &bn], &[&x]).await?;
    ctx.step(format!("U → NAME {x} now works"));
    ctx.register(&mut u, &x).await
});

body!(cmd_6, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (_b, bn) = client(ctx, "B").await?;
    ctx.step("U connects and stays unnamed");
    let mut u = ctx.connect("U").await?;
    let nobody = ctx.name("Nobody");
    // (from the unnamed U?, payload, the error that comes first)
    let cases: [(bool, Vec<u8>, ErrorCode); 7] = [
        (true, b"MSG b@d hi".to_vec(), ErrorCode::BadArgs),
        (
            true,
            format!("MSG {nobody} hi").into_bytes(),
            ErrorCode::NameRequired,
        ),
        (false, b"NAME 1abc".to_vec(), ErrorCode::InvalidName),
        (
            false,
            format!("NAME {bn}").into_bytes(),
            ErrorCode::AlreadyNamed,
        ),
        (false, b"NAME \xff".to_vec(), ErrorCode::BadEncoding),
        (false, b"FOO \xff".to_vec(), ErrorCode::BadEncoding),
        (false, b"FOO bar baz".to_vec(), ErrorCode::UnknownCommand),
    ];
    for (unnamed, payload, code) in &cases {
        let conn = if *unnamed { &mut u } else { &mut a };
        refused(ctx, conn, payload, *code, &[&an, &bn]).await?;
    }
    Ok(())
});

body!(cmd_7, |ctx| {
    if ctx.profile.framing == Framing::Raw {
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
    let p = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &p, &[&bn, &an])?;
    ctx.step("A ← 3: UNKNOWN_COMMAND");
    ctx.expect_error(&mut a, ErrorCode::UnknownCommand).await?;
    ctx.step("A ← 4: ALREADY_NAMED");
    ctx.expect_error(&mut a, ErrorCode::AlreadyNamed).await?;
    ctx.step("A ← 5: the names list");
    let p = ctx.recv(&mut a, "the names list").await?;
    expect_list(ctx, &p, &[&bn, &an])
});

body!(cmd_8, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("A → MSG B: no reply to A");
    let m = msg(ctx, &bn, "one")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_nothing_before_names(&mut a, &[&an, &bn], "a successful MSG gets no reply")
        .await?;
    ctx.expect_delivery(&mut b, &an, "one").await?;
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
});

body!(name_1, |ctx| {
    ctx.step("A connects");
    let mut a = ctx.connect("A").await?;
    let an = ctx.name("A");
    ctx.register(&mut a, &an).await
});

body!(name_2, |ctx| {
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
    let lower = Name::new(&an.as_str().to_lowercase())
        .map_err(|e| ctx.fail(FailureKind::Harness, "a valid name", e.to_string()))?;
    ctx.register(&mut b, &lower).await?;
    ctx.step("both are listed");
    ctx.expect_names(&mut b, &[&an, &lower], &[]).await
});

body!(name_3, |ctx| {
    let mut names = vec![ctx.long_name("L"), ctx.name("lower"), ctx.name("D")];
    if ctx.owned {
        // One-letter names can only be unique on a server the harness has to itself.
        names.push(Name::new("q").map_err(|e| ctx.fail(FailureKind::Harness, "q", e.to_string()))?);
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
});

body!(name_4, |ctx| {
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
    for bad in inputs {
        // What acceptance would look like: a greeting naming the bad word.
        let success = greets_word(bad);
        refused_or(
            ctx,
            &mut u,
            format!("NAME {bad}").as_bytes(),
            ErrorCode::InvalidName,
            &[&an],
            &success,
        )
        .await?;
    }
    ctx.step("none of them is listed");
    ctx.expect_names(&mut a, &[&an], &[]).await?;
    let listed = {
        ctx.send(&mut a, &Command::GetNames).await?;
        ctx.recv(&mut a, "the names list").await?
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
});

body!(name_5, |ctx| {
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
});

body!(name_6, |ctx| { race(ctx, 50).await });

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
        ctx.profile.framing,
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

body!(name_7, |ctx| {
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
});

body!(names_1, |ctx| {
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
});

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

body!(names_2, |ctx| {
    if !ctx.owned {
        ctx.informational("other clients may be named on a shared server; not judged with --addr");
        return Ok(());
    }
    if ctx.profile.framing == Framing::Raw {
        return Err(ctx.unsupported("raw framing cannot carry an empty payload (DIALECT-5)"));
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
});

body!(names_3, |ctx| {
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
});

body!(names_4, |ctx| {
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
});

body!(names_5, |ctx| {
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
            let ours: Vec<&Name> = list.names().iter().filter(|n| names.contains(n)).collect();
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
                    format!("{} shown + {} omitted", list.names().len(), list.omitted()),
                ));
            }
            Ok(())
        }
        Ok(Reply::Names(_)) | Err(_) if !ctx.profile.strict() => {
            ctx.deviation("a names list too long for one frame was sent without the +N marker");
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
});

body!(msg_1, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("A → MSG B hello there");
    let m = msg(ctx, &bn, "hello there")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_delivery(&mut b, &an, "hello there").await?;
    ctx.step("B → MSG A back at you");
    let m = msg(ctx, &an, "back at you")?;
    ctx.send(&mut b, &m).await?;
    ctx.expect_delivery(&mut a, &bn, "back at you").await
});

body!(msg_2, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("A → MSG B quiet please");
    let m = msg(ctx, &bn, "quiet please")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_nothing_before_names(&mut a, &[&an, &bn], "a successful MSG gets no reply")
        .await?;
    ctx.expect_delivery(&mut b, &an, "quiet please").await
});

body!(msg_3, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("A → MSG A note to self");
    let m = msg(ctx, &an, "note to self")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_delivery(&mut a, &an, "note to self").await
});

body!(msg_4, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let nobody = ctx.name("Nobody");
    refused(
        ctx,
        &mut a,
        format!("MSG {nobody} anyone there").as_bytes(),
        ErrorCode::NoSuchUser,
        &[&an],
    )
    .await?;
    Ok(())
});

body!(msg_5, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("U connects, unnamed");
    let mut u = ctx.connect("U").await?;
    refused(
        ctx,
        &mut u,
        format!("MSG {an} from nobody").as_bytes(),
        ErrorCode::NameRequired,
        &[&an],
    )
    .await?;
    ctx.step("A receives nothing");
    ctx.expect_nothing_before_names(&mut a, &[&an], "MSG before NAME delivers nothing")
        .await
});

body!(msg_6, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    let texts = [
        "two words",
        "  leading spaces",
        "trailing spaces  ",
        " ",
        "tab\there",
        "\x1b[2J\x07",
        "ünïcödé ✓ 日本",
        "SENT ERROR HELLO BYE",
        "a  b   c",
    ];
    for text in texts {
        ctx.step(format!(
            "A → MSG B {}",
            confab::protocol::escape::escape_bytes(text.as_bytes())
        ));
        let m = msg(ctx, &bn, text)?;
        ctx.send(&mut a, &m).await?;
        ctx.expect_delivery(&mut b, &an, text).await?;
    }
    Ok(())
});

body!(msg_7, |ctx| {
    needs_full_frames(ctx)?;
    needs_delimiters(ctx, "a message longer than one read")?;
    let mut a = ctx.connect("A").await?;
    let an = ctx.long_name("A");
    ctx.register(&mut a, &an).await?;
    let mut b = ctx.connect("B").await?;
    let bn = ctx.long_name("B");
    ctx.register(&mut b, &bn).await?;
    let longest = "t".repeat(MAX_TEXT_LEN);
    ctx.step(format!(
        "A → MSG B <{MAX_TEXT_LEN} bytes>: delivered in a 9999-byte frame"
    ));
    let m = msg(ctx, &bn, &longest)?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_delivery(&mut b, &an, &longest).await?;
    let over = format!("MSG {bn} {}", "t".repeat(MAX_TEXT_LEN + 1));
    ctx.step(format!("A → MSG B <{} bytes>", MAX_TEXT_LEN + 1));
    refused(
        ctx,
        &mut a,
        over.as_bytes(),
        ErrorCode::TextTooLong,
        &[&an, &bn],
    )
    .await?;
    refused(
        ctx,
        &mut a,
        format!("MSG {bn} ").as_bytes(),
        ErrorCode::BadArgs,
        &[&an, &bn],
    )
    .await?;
    ctx.step("B received only the first message");
    ctx.expect_nothing_before_names(&mut b, &[&an, &bn], "refused messages deliver nothing")
        .await
});

body!(msg_8, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (mut c, cn) = client(ctx, "C").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    let count = 200;
    ctx.step(format!(
        "A and C each send {count} numbered messages to B, pipelined"
    ));
    let mut from_a = Vec::new();
    let mut from_c = Vec::new();
    for i in 0..count {
        for (buf, who) in [(&mut from_a, "a"), (&mut from_c, "c")] {
            let m = Command::Msg {
                to: bn.clone(),
                text: ctx.text(&format!("{who}{i:04}"))?,
            };
            confab::protocol::frame::encode_frame(ctx.profile.framing, &payload(ctx, &m), buf)
                .map_err(|e| ctx.unsupported(e.to_string()))?;
        }
    }
    if ctx.profile.framing == Framing::Raw {
        return Err(ctx.unsupported("raw framing cannot pipeline messages"));
    }
    let (ra, rc) = tokio::join!(a.send_raw(&from_a), c.send_raw(&from_c));
    ra.map_err(|e| ctx.fail(FailureKind::Closed, "A can send", e.to_string()))?;
    rc.map_err(|e| ctx.fail(FailureKind::Closed, "C can send", e.to_string()))?;
    ctx.step("B reads every message: once each, in order per sender");
    let (mut next_a, mut next_c) = (0, 0);
    while next_a < count || next_c < count {
        let p = ctx.recv(&mut b, "the next message").await?;
        let parsed = Reply::parse(&p);
        let (from, text) = match &parsed {
            Ok(Reply::Delivery { from, text }) => (from.to_string(), text.to_string()),
            _ => {
                let words = judge::words(&p);
                let from = [&an, &cn]
                    .iter()
                    .find(|n| words.contains(&n.as_str()))
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                let text = words.last().map(|w| w.to_string()).unwrap_or_default();
                if !ctx.profile.strict() && !from.is_empty() {
                    ctx.deviation("deliveries are not in the form `sender SENT text`");
                }
                (from, text)
            }
        };
        let (next, who) = if from == an.as_str() {
            (&mut next_a, "a")
        } else if from == cn.as_str() {
            (&mut next_c, "c")
        } else {
            return Err(ctx.fail(
                FailureKind::Wrong,
                "a delivery from A or C",
                format!("got `{}`", confab::protocol::escape::escape_bytes(&p)),
            ));
        };
        let expected = format!("{who}{:04}", *next);
        if text != expected {
            return Err(ctx.fail(
                FailureKind::Wrong,
                format!("`{expected}` from {from} (messages in order, none lost)"),
                format!("got `{text}`"),
            ));
        }
        *next += 1;
    }
    ctx.step("nothing more for B");
    ctx.expect_nothing_before_names(&mut b, &[&an, &bn, &cn], "no message twice")
        .await
});

body!(msg_9, |ctx| {
    needs_delimiters(ctx, "a delivery and a reply that arrive together")?;
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("A → MSG B first, then a GET_NAMES round trip on A");
    let m = msg(ctx, &bn, "first")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_names(&mut a, &[&an, &bn], &[]).await?;
    ctx.step("B → GET_NAMES: the delivery comes before the list");
    ctx.send(&mut b, &Command::GetNames).await?;
    let p = ctx
        .recv(&mut b, "the delivery, then the names list")
        .await?;
    match judge::delivery(&ctx.profile, &p, an.as_str(), "first") {
        judge::Judgement::Mismatch(m) => {
            Err(ctx.fail(FailureKind::Wrong, "the delivery before the names list", m))
        }
        judge::Judgement::Deviation(d) => {
            ctx.deviation(d);
            Ok(())
        }
        judge::Judgement::Exact => Ok(()),
    }
});

body!(exit_1, |ctx| {
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
});

body!(exit_2, |ctx| {
    let (mut a, _an) = client(ctx, "A").await?;
    ctx.step("A → EXIT");
    ctx.send(&mut a, &Command::Exit).await?;
    ctx.expect_bye_and_close(&mut a).await
});

body!(exit_3, |ctx| {
    if ctx.profile.framing == Framing::Raw {
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
});

body!(exit_4, |ctx| {
    ctx.step("U connects, unnamed");
    let mut u = ctx.connect("U").await?;
    ctx.step("U → EXIT");
    ctx.send(&mut u, &Command::Exit).await?;
    ctx.expect_bye_and_close(&mut u).await
});

body!(reply_1, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let mut u = ctx.connect("U").await?;
    for word in confab::protocol::RESERVED_WORDS {
        let success = greets_word(word);
        refused_or(
            ctx,
            &mut u,
            format!("NAME {word}").as_bytes(),
            ErrorCode::InvalidName,
            &[&an],
            &success,
        )
        .await?;
    }
    ctx.expect_names(&mut a, &[&an], &[]).await
});

body!(reply_2, |ctx| {
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
});

body!(client_side, |ctx| {
    ctx.informational("a requirement on clients: a server cannot be tested for it");
    Ok(())
});

body!(err_1, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (_b, bn) = client(ctx, "B").await?;
    let mut u = ctx.connect("U").await?;
    let nobody = ctx.name("Nobody");
    // One situation per code a command can get: (from the unnamed U?, payload, code).
    let cases: [(bool, Vec<u8>, ErrorCode); 8] = [
        (false, b"\xff".to_vec(), ErrorCode::BadEncoding),
        (false, b"FOO".to_vec(), ErrorCode::UnknownCommand),
        (false, b"GET_NAMES x".to_vec(), ErrorCode::BadArgs),
        (true, b"NAME 9lives".to_vec(), ErrorCode::InvalidName),
        (
            true,
            format!("MSG {an} hi").into_bytes(),
            ErrorCode::NameRequired,
        ),
        (
            false,
            format!("NAME {nobody}").into_bytes(),
            ErrorCode::AlreadyNamed,
        ),
        (
            true,
            format!("NAME {bn}").into_bytes(),
            ErrorCode::NameTaken,
        ),
        (
            false,
            format!("MSG {nobody} hi").into_bytes(),
            ErrorCode::NoSuchUser,
        ),
    ];
    for (unnamed, payload, code) in &cases {
        let conn = if *unnamed { &mut u } else { &mut a };
        refused(ctx, conn, payload, *code, &[&an, &bn]).await?;
    }
    Ok(())
});

body!(err_2, |ctx| {
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
});

body!(conn_1, |ctx| {
    ctx.step("A connects and sends GET_NAMES at once");
    let mut a = ctx.connect("A").await?;
    let (_b, bn) = client(ctx, "B").await?;
    ctx.send(&mut a, &Command::GetNames).await?;
    let p = ctx
        .recv(&mut a, "the names list as the first frame")
        .await?;
    let want = judge::NamesExpectation {
        present: &[&bn],
        absent: &[],
        allow_omitted: true,
    };
    match judge::names(&ctx.profile, &p, want) {
        judge::Judgement::Mismatch(_) => Err(ctx.fail(
            FailureKind::Wrong,
            "no greeting: the first frame is the reply to the first command",
            format!(
                "the first frame was `{}`",
                confab::protocol::escape::escape_bytes(&p)
            ),
        )),
        judge::Judgement::Deviation(d) => {
            ctx.deviation(d);
            Ok(())
        }
        judge::Judgement::Exact => Ok(()),
    }
});

body!(conn_2, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("P starts a frame and stalls");
    let mut p = ctx.connect("P").await?;
    if ctx.profile.has_length_field() {
        let mut partial = confab::protocol::frame::frame(ctx.profile.framing, &[b'M'; 40])
            .map_err(|e| ctx.unsupported(e.to_string()))?;
        partial.truncate(ctx.profile.framing.header_len() + 3);
        ctx.send_raw(&mut p, &partial).await?;
    }
    ctx.step("Q sends invalid UTF-8");
    let mut q = ctx.connect("Q").await?;
    ctx.send_payload(&mut q, b"NAME \xff\xfe").await?;
    let _ = q.recv(ctx.timeout).await;
    ctx.step("K connects and is killed without EXIT");
    let k = ctx.connect("K").await?;
    k.abort();
    ctx.step("meanwhile B names, and A and B talk");
    let (mut b, bn) = client(ctx, "B").await?;
    let m = msg(ctx, &bn, "all fine")?;
    ctx.send(&mut a, &m).await?;
    ctx.expect_delivery(&mut b, &an, "all fine").await?;
    ctx.expect_names(&mut b, &[&an, &bn], &[]).await?;
    drop(p);
    Ok(())
});

body!(conn_3, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    let (h, hn) = client(ctx, "H").await?;
    leave_by_half_close(ctx, h).await?;
    ctx.step(format!(
        "A → GET_NAMES right after H's close was acknowledged: {hn} is gone"
    ));
    ctx.expect_names(&mut a, &[&an], &[&hn]).await?;
    let (k, kn) = client(ctx, "K").await?;
    ctx.step("K is reset, as a killed client");
    k.abort();
    ctx.step(format!(
        "A → GET_NAMES until {kn} is gone (bounded by the timeout)"
    ));
    ctx.expect_names_eventually(&mut a, &[&an], &[&kn]).await?;
    ctx.step("both names can be taken again");
    let mut h2 = ctx.connect("H'").await?;
    ctx.register(&mut h2, &hn).await?;
    let mut k2 = ctx.connect("K'").await?;
    ctx.register(&mut k2, &kn).await
});

body!(conn_4, |ctx| {
    let (mut a, an) = client(ctx, "A").await?;
    ctx.step("U1 connects and closes");
    let u1 = ctx.connect("U1").await?;
    u1.close();
    ctx.step("U2 connects and is reset");
    let u2 = ctx.connect("U2").await?;
    u2.abort();
    if ctx.profile.has_length_field() {
        ctx.step("U3 connects, sends half a header, and closes");
        let mut u3 = ctx.connect("U3").await?;
        let header = vec![b'0'; ctx.profile.framing.header_len().saturating_sub(1).max(1)];
        ctx.send_raw(&mut u3, &header[..1]).await?;
        u3.close();
    }
    ctx.step("A → GET_NAMES");
    ctx.expect_names(&mut a, &[&an], &[]).await?;
    let (_b, bn) = client(ctx, "B").await?;
    ctx.expect_names(&mut a, &[&an, &bn], &[]).await
});

body!(conn_5, |ctx| {
    needs_decimal(ctx)?;
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    let mut header = vec![b'0'; ctx.profile.framing.header_len()];
    header[0] = b'?';
    bad_header(ctx, &mut b, &header).await?;
    ctx.step(format!("A → GET_NAMES: {bn} was released"));
    ctx.expect_names_eventually(&mut a, &[&an], &[&bn]).await
});

body!(policy, |ctx| {
    ctx.informational(
        "a server policy whose limits are the server's own; not probed by the harness \
         (the reference server's tests cover its policies)",
    );
    Ok(())
});

body!(dialect_3, |ctx| {
    let framing = ctx.profile.framing;
    let max = framing.max_payload() as u64;
    match framing {
        Framing::Decimal(_) | Framing::Binary(_) if framing.capacity() > max => {}
        Framing::Line => {}
        _ => {
            return Err(ctx.unsupported(format!(
                "{framing} cannot declare more than its limit of {max} bytes"
            )));
        }
    }
    let (mut a, an) = client(ctx, "A").await?;
    let bytes = match framing {
        Framing::Line => vec![b'x'; framing.max_payload() + 2],
        _ => confab::protocol::frame::declaring(framing, max + 1)
            .ok_or_else(|| ctx.unsupported(format!("{framing} cannot declare {}", max + 1)))?,
    };
    let (mut b, bn) = client(ctx, "B").await?;
    bad_header(ctx, &mut a, &bytes).await?;
    ctx.step("B → GET_NAMES: A was released");
    ctx.expect_names_eventually(&mut b, &[&bn], &[&an]).await
});

body!(dialect_4, |ctx| {
    let max = ctx.profile.max_payload();
    if max >= confab::protocol::MAX_PAYLOAD {
        return Err(ctx.unsupported(format!(
            "{} frames carry the full 9999 bytes",
            ctx.profile.framing
        )));
    }
    let (mut a, an) = client(ctx, "A").await?;
    let (mut b, bn) = client(ctx, "B").await?;
    ctx.step("A → an unknown command that fills the frame: the error fits");
    let filler = vec![b'Z'; max];
    refused(ctx, &mut a, &filler, ErrorCode::UnknownCommand, &[&an, &bn]).await?;
    let room = max.saturating_sub(4 + bn.len() + 1);
    if room > 0 {
        ctx.step("A → MSG B with the longest text the frame holds: its delivery would not fit");
        let text = "y".repeat(room);
        let m = format!("MSG {bn} {text}");
        if an.len() + 6 + room > max {
            refused(
                ctx,
                &mut a,
                m.as_bytes(),
                ErrorCode::TextTooLong,
                &[&an, &bn],
            )
            .await?;
            ctx.expect_nothing_before_names(&mut b, &[&an, &bn], "a refused MSG delivers nothing")
                .await?;
        }
    }
    Ok(())
});

body!(dialect_5, |ctx| {
    match ctx.profile.framing {
        Framing::Raw | Framing::Line => {
            ctx.informational("what raw and line framing cannot carry is not probed");
            Ok(())
        }
        f => Err(ctx.unsupported(format!("{f} is neither raw nor line framing"))),
    }
});
