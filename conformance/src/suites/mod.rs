//! The four suites, and the steps their cases share.
//!
//! Case IDs are stable: `<suite>.<what>`, and spec cases `spec.<REQ-ID>.<what>`. A case cites
//! what it checks (PROTOCOL.md requirement IDs, or the grading sheet's row). Each case is
//! declared once, its metadata beside its body, with `case!` (module `decl`).

#[macro_use]
mod decl;

pub mod example;
pub mod robustness;
pub mod rubric;
pub mod spec;

use bytes::Bytes;
use confab::protocol::escape::escape_bytes;
use confab::protocol::{Command, ErrorCode, Framing, Name};

use crate::case::{Case, Check, Ctx, FailureKind};
use crate::judge::{self, Judgement};
use crate::wire::Conn;

/// Every case, in run order: example, rubric, spec, robustness.
pub fn all() -> Vec<Case> {
    let mut cases = example::cases();
    cases.extend(rubric::cases());
    cases.extend(spec::cases());
    cases.extend(robustness::cases());
    cases
}

/// Judges `payload` as a names list showing `present` in order.
pub(crate) fn expect_list(ctx: &mut Ctx, payload: &[u8], present: &[&Name]) -> Check {
    let want = judge::NamesExpectation {
        present,
        absent: &[],
        allow_omitted: false,
    };
    match judge::names(&ctx.profile, payload, want) {
        Judgement::Exact => Ok(()),
        Judgement::Deviation(d) => {
            ctx.deviation(d);
            Ok(())
        }
        Judgement::Mismatch(m) => Err(ctx.fail(FailureKind::Wrong, "the names list", m)),
    }
}

/// Connects `label` and registers a fresh name for it.
pub(crate) async fn client(ctx: &mut Ctx, label: &str) -> Check<(Conn, Name)> {
    client_answered(ctx, label)
        .await
        .map(|(conn, name, _)| (conn, name))
}

/// As [`client`], with the server's reply to its NAME.
pub(crate) async fn client_answered(ctx: &mut Ctx, label: &str) -> Check<(Conn, Name, Bytes)> {
    ctx.step(format!("{label} connects"));
    let mut conn = ctx.connect(label).await?;
    let name = ctx.name(label);
    let reply = ctx.register_answered(&mut conn, &name).await?;
    Ok((conn, name, reply))
}

/// `name` differing in letter case only: in lower case, or in upper case where it is all lower
/// case already (the harness's names are, for a server that keeps names so, JUDGE-21).
pub(crate) fn case_twin(ctx: &Ctx, name: &Name) -> Check<Name> {
    let lower = name.as_str().to_ascii_lowercase();
    let twin = if lower == name.as_str() {
        name.as_str().to_ascii_uppercase()
    } else {
        lower
    };
    Name::new(&twin).map_err(|e| ctx.fail(FailureKind::Harness, "a valid name", e.to_string()))
}

/// The payload of `cmd` in the profile's spelling.
pub(crate) fn payload(ctx: &Ctx, cmd: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    cmd.encode(ctx.profile.dialect.spelling, &mut out);
    out
}

/// `MSG to text`, checked.
pub(crate) fn msg(ctx: &Ctx, to: &Name, text: &str) -> Check<Command> {
    Ok(Command::Msg {
        to: to.clone(),
        text: ctx.text(text)?,
    })
}

/// `payload` with its verb, if it is one of the canonical verbs, in the profile's spelling: the
/// cases write their bad commands canonically.
pub(crate) fn spelled(ctx: &Ctx, payload: &[u8]) -> Vec<u8> {
    use confab::protocol::{Spelling, Verb};
    if ctx.profile.dialect.spelling == Spelling::Canonical {
        return payload.to_vec();
    }
    let end = payload
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(payload.len());
    let verb = match &payload[..end] {
        b"NAME" => Verb::Name,
        b"GET_NAMES" | b"GETNAMES" => Verb::GetNames,
        b"MSG" => Verb::Msg,
        b"EXIT" => Verb::Exit,
        _ => return payload.to_vec(),
    };
    let mut out = ctx.profile.dialect.spelling.word(verb).as_bytes().to_vec();
    out.extend_from_slice(&payload[end..]);
    out
}

/// Recognises the reply that would mean `NAME name` succeeded, which a refusal must not be.
pub(crate) fn greets(ctx: &Ctx, name: &Name) -> impl Fn(&[u8]) -> bool + Sync + use<> {
    let profile = ctx.profile.clone();
    let name = name.clone();
    move |payload: &[u8]| judge::hello(&profile, payload, &name).accepted()
}

/// As [`greets`], and in lenient matching worded as `greeting`, the server's greeting of the
/// client that took `name`: the same words, with the name and numbers set aside. A reply that
/// names the name in other words (`Alice is used by someone else` against `Joined as Alice`)
/// is no greeting (JUDGE-25).
pub(crate) fn greets_as(
    ctx: &Ctx,
    name: &Name,
    greeting: &[u8],
) -> impl Fn(&[u8]) -> bool + Sync + use<> {
    let greets = greets(ctx, name);
    let lenient = !ctx.profile.strict();
    let name = name.clone();
    let shape = wording(greeting, &name);
    move |payload: &[u8]| {
        greets(payload) && (!lenient || shape.is_empty() || wording(payload, &name) == shape)
    }
}

/// The words of `payload` with `name` and every number set aside.
fn wording(payload: &[u8], name: &Name) -> Vec<String> {
    judge::words(payload)
        .into_iter()
        .map(|w| {
            if w == name.as_str() {
                "<name>".to_owned()
            } else if w.bytes().all(|b| b.is_ascii_digit()) {
                "#".to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// Recognises a greeting for `word` when `word` is not a valid name (so [`greets`] cannot be
/// used): the word in a reply that does not read as a refusal.
pub(crate) fn greets_word(word: &str) -> impl Fn(&[u8]) -> bool + Sync + '_ {
    move |payload: &[u8]| judge::words(payload).contains(&word) && !judge::reads_as_refusal(payload)
}

/// Sends `payload` and expects exactly one error reply with `code`, then nothing else: a
/// GET_NAMES sent right after is the barrier, so a silent server fails at once instead of
/// after a timeout. `present` are names the list shows (to tell it apart from an error in
/// lenient matching); `success` recognises a reply meaning the command worked.
pub(crate) async fn refused_or(
    ctx: &mut Ctx,
    conn: &mut Conn,
    payload: &[u8],
    code: ErrorCode,
    present: &[&Name],
    success: &(dyn Fn(&[u8]) -> bool + Sync),
) -> Check<Bytes> {
    let payload = &spelled(ctx, payload)[..];
    let shown = escape_bytes(payload);
    ctx.step(format!("{} → {shown}", conn.label()));
    ctx.send_payload(conn, payload).await?;
    if !conn.framing().delimits() || !ctx.profile.strict() {
        // Without framing, a pipelined barrier would arrive in the same read. Lenient
        // matching plays a person at a keyboard, who never sends two commands in one read:
        // many course servers handle one command per `recv` and drop the rest, and some
        // refuse GET_NAMES before NAME. So it waits for the reply instead.
        return ctx.expect_error_or(conn, code, success).await;
    }
    ctx.send(conn, &Command::GetNames).await?;
    let expected = format!("`ERROR {code} ...` in reply to `{shown}`");
    let first = ctx.recv(conn, &expected).await?;
    if ctx.is_names_list(&first, present) {
        return Err(ctx.fail(
            FailureKind::NoReply,
            expected,
            format!(
                "no reply: the next frame was the names list `{}` (asked for right after)",
                escape_bytes(&first)
            ),
        ));
    }
    let j = judge::error(&ctx.profile, &first, code, success);
    match j {
        Judgement::Exact => {}
        Judgement::Deviation(d) => ctx.deviation(d),
        Judgement::Mismatch(m) => return Err(ctx.fail(FailureKind::Wrong, expected, m)),
    }
    let second = ctx.recv(conn, "the names list after the error").await?;
    if !ctx.is_names_list(&second, present) {
        return Err(ctx.fail(
            FailureKind::Wrong,
            format!("one reply to `{shown}`, then the names list"),
            format!("a second reply `{}`", escape_bytes(&second)),
        ));
    }
    Ok(first)
}

/// [`refused_or`] for a command with no success reply to confuse with an error.
pub(crate) async fn refused(
    ctx: &mut Ctx,
    conn: &mut Conn,
    payload: &[u8],
    code: ErrorCode,
    present: &[&Name],
) -> Check<Bytes> {
    refused_or(ctx, conn, payload, code, present, &|_| false).await
}

/// The case applies only to framings with a length field.
pub(crate) fn needs_length_field(ctx: &Ctx) -> Check {
    if ctx.profile.dialect.framing.has_length_field() {
        Ok(())
    } else {
        Err(ctx.unsupported(format!(
            "{} framing has no length field",
            ctx.profile.dialect.framing
        )))
    }
}

/// The case applies only to decimal length headers.
pub(crate) fn needs_decimal(ctx: &Ctx) -> Check {
    if matches!(ctx.profile.dialect.framing, Framing::Decimal(_)) {
        Ok(())
    } else {
        Err(ctx.unsupported(format!(
            "{} framing has no decimal header",
            ctx.profile.dialect.framing
        )))
    }
}

/// The case needs frames as large as the canonical ones.
pub(crate) fn needs_full_frames(ctx: &Ctx) -> Check {
    if ctx.profile.max_payload() >= confab::protocol::MAX_PAYLOAD {
        Ok(())
    } else {
        Err(ctx.unsupported(format!(
            "{} frames carry at most {} bytes",
            ctx.profile.dialect.framing,
            ctx.profile.max_payload()
        )))
    }
}

/// The case needs message boundaries that survive large messages and back-to-back replies,
/// which `raw` framing cannot give (DIALECT-5).
pub(crate) fn needs_delimiters(ctx: &Ctx, why: &str) -> Check {
    if !ctx.profile.dialect.framing.delimits() {
        Err(ctx.unsupported(format!("raw framing cannot delimit {why}")))
    } else {
        Ok(())
    }
}

/// A sends `text` to B: A gets no reply before its next names list (MSG-2, CMD-8), and B gets
/// the delivery.
pub(crate) async fn msg_without_reply(
    (ctx, a, an): (&mut Ctx, &mut Conn, &Name),
    (b, bn): (&mut Conn, &Name),
    text: &str,
) -> Check {
    let m = msg(ctx, bn, text)?;
    ctx.send(a, &m).await?;
    ctx.expect_nothing_before_names(a, &[an, bn], "a successful MSG gets no reply")
        .await?;
    ctx.expect_delivery(b, an, text).await
}

/// How long the harness waits at least between writes it means the server to read apart
/// (JUDGE-10): far longer than loopback takes to deliver a write and a quick `select()` loop
/// takes to read it.
pub(crate) const APART: std::time::Duration = std::time::Duration::from_millis(30);

/// Writes `parts` one after another so that the server reads each in a read of its own in
/// every run (JUDGE-10): written back to back they often arrive together, and a server that
/// mishandles a split frame would pass or fail by the timing of one run. Before each part
/// after the first it waits [`APART`], then until the server has read everything before it,
/// where that can be seen, for at most the case's timeout.
pub(crate) async fn send_apart(ctx: &mut Ctx, conn: &mut Conn, parts: &[&[u8]]) -> Check {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            conn.await_read(tokio::time::Instant::now(), APART, APART)
                .await;
        }
        ctx.send_raw(conn, part).await?;
    }
    Ok(())
}

/// Writes a frame one byte per write, back to back: a frame of 10 to 20 bytes written
/// [`APART`] would cost every run of these cases a second, so they are not covered by
/// JUDGE-10 and the server may read several bytes at once.
pub(crate) async fn send_bytewise(ctx: &mut Ctx, conn: &mut Conn, cmd: &Command) -> Check {
    let bytes = confab::protocol::frame::frame(conn.framing(), &payload(ctx, cmd))
        .map_err(|e| ctx.unsupported(e.to_string()))?;
    for b in bytes {
        ctx.send_raw(conn, &[b]).await?;
    }
    Ok(())
}

/// Frames several payloads into one buffer, to be written at once.
pub(crate) fn frames(ctx: &Ctx, payloads: &[&[u8]]) -> Check<Vec<u8>> {
    let mut out = Vec::new();
    for p in payloads {
        confab::protocol::frame::encode_frame(ctx.profile.dialect.framing, p, &mut out)
            .map_err(|e| ctx.unsupported(e.to_string()))?;
    }
    Ok(out)
}

/// Half-closes `conn` and waits for the server to close it: by CONN-3 the name is released
/// once the end of stream arrives, so no polling is needed after this.
pub(crate) async fn leave_by_half_close(ctx: &mut Ctx, mut conn: Conn) -> Check {
    ctx.step(format!(
        "{} shuts down its sending side and waits for the close",
        conn.label()
    ));
    conn.half_close().await;
    loop {
        match conn.recv(ctx.timeout).await {
            crate::wire::Received::Frame(_) => continue,
            crate::wire::Received::Closed | crate::wire::Received::Failed(_) => return Ok(()),
            other => {
                return Err(ctx.fail(
                    FailureKind::Wrong,
                    "the server closes the connection after end of stream (CONN-3)",
                    ctx.describe(&other, conn.label()),
                ));
            }
        }
    }
}
