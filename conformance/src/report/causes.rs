//! Root causes: what a student's server does wrong, recognised from the failures it produced,
//! and what to change.
//!
//! One mistake in a server fails many cases (a crash on invalid UTF-8 fails every case that
//! sends such bytes), so the report shows one block per cause, naming every case it failed,
//! with a `fix:` line. Every cause lives in [`CAUSES`]: how it is recognised from a
//! [`CaseReport`] (verdict, failure, the traceback the liveness probe read, citations) and
//! the hint for a student of the course, whose server is Python with one `select()` loop.
//! The first cause of the table that claims a case takes it; a case no cause claims is shown
//! on its own.

use crate::case::{FailureKind, Suite, Verdict};
use crate::report::CaseReport;

/// A root cause: a mistake in a server, how its failures look, and its fix.
#[derive(Debug)]
pub struct Cause {
    /// Stable ID, e.g. `crash-invalid-utf8`.
    pub id: &'static str,
    /// What the server does, as the failures show it.
    pub title: &'static str,
    /// What to change in the server.
    pub fix: &'static str,
    /// Whether a failed case comes from this cause.
    claims: fn(&CaseReport) -> bool,
}

impl Cause {
    /// Whether `case` failed because of this cause.
    pub fn claims(&self, case: &CaseReport) -> bool {
        (self.claims)(case)
    }
}

/// Every known cause, the most specific first: the first that claims a case takes it.
pub static CAUSES: &[Cause] = &[
    Cause {
        id: "crash-invalid-utf8",
        title: "the server dies on bytes that are not UTF-8",
        fix: "your server calls `.decode()` on whatever arrives, and the `UnicodeDecodeError` \
              ends the whole program: decode inside `try`/`except UnicodeDecodeError` and \
              answer that one client with an error (`ERROR BAD_ENCODING ...`)",
        claims: |c| crashed_with(c, &["UnicodeDecodeError"]),
    },
    Cause {
        id: "crash-non-digit-length",
        title: "the server dies on a length field that is not digits",
        fix: "your server runs `int()` on the length field as it arrives, and the `ValueError` \
              ends the whole program: check `header.isdigit()` first (or catch `ValueError`), \
              then send that client an error and close only its socket",
        claims: |c| crashed_with(c, &["invalid literal for int()"]),
    },
    Cause {
        id: "crash-closed-socket",
        title: "the server dies using a socket it has closed",
        fix: "your server closes a socket but leaves it in the lists it hands to `select()`, or \
              sends to it afterwards; the next `select()` or `send()` fails and the server \
              dies: when you close a socket, remove it at once from every list and dict \
              (inputs, outputs, queues, names) and never use it again",
        claims: |c| {
            crashed_with(
                c,
                &[
                    "file descriptor cannot be a negative integer",
                    "Bad file descriptor",
                ],
            )
        },
    },
    Cause {
        id: "crash-missing-entry",
        title: "the server dies on a client it has no entry for",
        fix: "your server looks a socket up in a dict (e.g. `names[sock]`) that has no entry \
              for it: a client that has not sent NAME yet, or one that has left; the \
              `KeyError` ends the program: use `names.get(sock)` (and `names.pop(sock, None)` \
              when a client leaves), and answer a client without a name with an error",
        claims: |c| crashed_with(c, &["KeyError"]),
    },
    Cause {
        id: "crash-peer-reset",
        title: "the server dies when a client disconnects abruptly",
        fix: "a client that disconnects abruptly makes `recv()` or `send()` raise \
              (`ConnectionResetError`, `BrokenPipeError`), and your server does not catch it: \
              put `try`/`except OSError` around every `recv` and `send`, and on an error drop \
              just that client (close it, remove it from your lists and names)",
        claims: |c| {
            crashed_with(
                c,
                &[
                    "ConnectionResetError",
                    "BrokenPipeError",
                    "ConnectionAbortedError",
                ],
            )
        },
    },
    Cause {
        id: "blocking-partial-frame",
        title: "one client's half-sent frame stops the server for everyone",
        fix: "your server reads a frame with a loop of `recv`; one client's half-sent frame \
              stops everyone: keep a buffer per socket and handle a frame only when it is \
              complete",
        claims: |c| {
            c.verdict == Verdict::ServerHung && cites_any(c, &["FRAME-6", "CONN-2", "row 13"])
        },
    },
    Cause {
        id: "length-counts-characters",
        title: "the length field counts characters, not bytes",
        fix: "your server writes the length of the text (`len(text)`, in characters) instead \
              of the length of the bytes it sends; with any non-ASCII character the header is \
              short and the client reads garbage: encode first, then frame with `len(data)` of \
              the encoded bytes",
        claims: |c| {
            failed(c)
                && actual_has(c, &["bytes that are not a"])
                && !actual_has(c, &[PADDED])
                && (cites_any(c, &["FRAME-2", "FRAME-7", "MSG-6", "ENC-3"])
                    || actual_has(c, &["length header is 0x"]))
        },
    },
    Cause {
        id: "reply-too-long",
        title: "replies too long for a frame are sent anyway",
        fix: "check the length of every reply before you send it: one that does not fit the \
              length field (over 99 bytes with 2 digits, over the protocol's limit) breaks the \
              stream for that client; cut a long names list, and refuse a message whose \
              delivery would not fit (`ERROR TEXT_TOO_LONG ...`)",
        claims: |c| {
            failed(c)
                && cites_any(c, &["DIALECT-4", "NAMES-5", "MSG-7"])
                && actual_has(c, &["bytes that are not a", "over the limit"])
        },
    },
    Cause {
        id: "bad-length-ignored",
        title: "a length field that is not digits is not refused",
        fix: "when the length field is not digits, the rest of that client's stream cannot be \
              read any more: send it an error (`ERROR BAD_FRAME ...`) and close its socket, \
              and only its socket",
        claims: |c| failed(c) && expected_has(c, &["BAD_FRAME"]),
    },
    Cause {
        id: "closes-instead-of-error",
        title: "the server hangs up on a client instead of answering with an error",
        fix: "your server closes the connection of a client that sent something it cannot \
              handle (bytes that are not UTF-8, missing arguments): answer with an error reply \
              (`ERROR ...`) and go on serving that client",
        claims: |c| {
            c.verdict == Verdict::Fail
                && kind(c) == Some(FailureKind::Closed)
                && expected_has(c, &["`ERROR", "valid UTF-8"])
        },
    },
    Cause {
        id: "no-length-field",
        title: "frames have no length field",
        fix: "your server takes what one `recv()` returns as one command and sends replies as \
              they are: put the length field of the assignment in front of every frame, both \
              ways, and read a command only once its length field says it is complete",
        claims: |c| failed(c) && actual_has(c, &["without a length field"]),
    },
    Cause {
        id: "exit-not-finished",
        title: "EXIT does not end the session",
        fix: "answer EXIT with `BYE`, then remove the client's name and close its socket, and \
              handle nothing more it sent",
        claims: |c| {
            c.verdict == Verdict::Fail
                && kind(c) == Some(FailureKind::Wrong)
                && expected_has(c, &["`BYE`", "closes the connection after BYE"])
        },
    },
    Cause {
        id: "one-frame-per-recv",
        title: "frames that arrive together or in pieces are lost",
        fix: "your server treats what one `recv()` returns as exactly one frame, so two frames \
              in one read lose the second and a frame split over two reads is misread: append \
              what `recv()` returns to a buffer per socket, and handle every complete frame in \
              the buffer, keeping the rest for the next read",
        claims: |c| failed(c) && cites_any(c, &["row 14", "FRAME-4", "CMD-7"]),
    },
    Cause {
        id: "end-of-stream-ignored",
        title: "a client that has left is never let go",
        fix: "when `recv()` returns `b''` the client has closed its side: close that socket, \
              remove it from your `select()` lists and forget its name; a socket left in the \
              lists is ready forever, holds its name, and can starve every other client",
        claims: |c| failed(c) && expected_has(c, &["after end of stream"]),
    },
    Cause {
        id: "name-kept-after-leave",
        title: "a client that leaves keeps its name",
        fix: "when a client leaves (EXIT, a close, or a reset), remove its name from your table \
              at once, so that GET_NAMES stops listing it and the name is free again",
        claims: |c| failed(c) && actual_has(c, &["should not be listed"]),
    },
    Cause {
        id: "duplicate-name-accepted",
        title: "a name already in use is given out again",
        fix: "before registering a name, look it up among the connected clients; if another \
              client has it, refuse (`ERROR NAME_TAKEN ...`) and register nothing",
        claims: |c| {
            c.verdict == Verdict::Fail
                && cites_any(c, &["row 7", "NAME-2"])
                && actual_has(c, &["not as a refusal", "accepted"])
        },
    },
    Cause {
        id: "names-not-checked",
        title: "any text is accepted as a name",
        fix: "your server registers whatever follows NAME: accept only 1 to 32 letters and \
              digits starting with a letter, refuse the reply words (`HELLO`, `SENT`, `ERROR`, \
              `BYE`), and refuse a second NAME on a connection that already has one",
        claims: |c| {
            c.verdict == Verdict::Fail
                && cites_any(c, &["NAME-4", "NAME-5", "REPLY-1"])
                && actual_has(c, &["not as a refusal"])
        },
    },
    Cause {
        id: "unknown-command-not-refused",
        title: "an unknown command is not answered with an error",
        fix: "answer a command your server does not know with an error reply (`ERROR \
              UNKNOWN_COMMAND ...`), not with chat or silence",
        claims: |c| failed(c) && cites_any(c, &["row 10", "CMD-3"]),
    },
    Cause {
        id: "first-word-only",
        title: "only the first word of a message is delivered",
        fix: "your server splits the command at every space and relays one word: split at most \
              twice (`verb, name, text = line.split(' ', 2)`) and relay the whole text as it \
              came",
        claims: |c| failed(c) && first_word_only(c),
    },
    Cause {
        id: "msg-before-name-delivered",
        title: "a client without a name can send messages",
        fix: "your server relays a MSG from a client that has not sent NAME (as `None` or an \
              empty name): until a client has a name, answer its MSG with an error (`ERROR \
              NAME_REQUIRED ...`) and deliver nothing",
        claims: |c| {
            c.verdict == Verdict::Fail
                && kind(c) == Some(FailureKind::Wrong)
                && cites_any(c, &["MSG-5"])
        },
    },
    Cause {
        id: "silent-on-error",
        title: "some commands get no answer at all",
        fix: "your server says nothing to some commands (a message to yourself or to a \
              missing recipient, MSG before NAME, missing arguments, a text too long): answer \
              every command, with the delivery or with an error reply (`ERROR ...`), so that \
              the client knows what happened",
        claims: |c| {
            c.verdict == Verdict::Fail
                && kind(c) == Some(FailureKind::NoReply)
                && expected_has(c, &["`ERROR", "refusal", "an error", "a reply"])
        },
    },
    Cause {
        id: "getnames-spelling",
        title: "`GETNAMES` is not taken for `GET_NAMES`",
        fix: "the protocol lets a client spell the command `GETNAMES` as well as `GET_NAMES`: \
              accept both spellings for the names list",
        claims: |c| failed(c) && cites_any(c, &["CMD-2"]),
    },
    Cause {
        id: "control-characters-echoed",
        title: "control characters a client sent are echoed as they are",
        fix: "your server quotes what a client sent in its replies as it came, control \
              characters included (an escape sequence can clear the reader's screen): in \
              error messages, keep to one line and escape every character below a space in what \
              you quote",
        claims: |c| failed(c) && cites_any(c, &["ERR-2"]),
    },
    Cause {
        id: "message-acknowledged",
        title: "a successful MSG is answered",
        fix: "the delivery to the recipient is the only effect of a MSG: send the sender \
              nothing back when it worked (no `Message sent.`)",
        claims: |c| {
            c.verdict == Verdict::Fail && expected_has(c, &["a successful MSG gets no reply"])
        },
    },
];

/// Whether a delivery of several words was due and only its first word arrived: the
/// expected delivery is quoted in `expected:` or `actual:` as `` `NAME SENT TEXT` ``, and
/// a frame ending in the first word of TEXT arrived instead.
fn first_word_only(c: &CaseReport) -> bool {
    let Some(f) = &c.failure else {
        return false;
    };
    let quoted = |s: &str| -> Vec<String> {
        s.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    quoted(&f.expected)
        .into_iter()
        .chain(quoted(&f.actual))
        .filter_map(|d| d.split_once(" SENT ").map(|(_, text)| text.to_owned()))
        .any(|text| match text.split_once(' ') {
            Some((first, _)) => {
                // What arrived: after "got " when the text quotes the expectation too.
                let arrived = f.actual.rsplit_once("got ").map_or(&*f.actual, |(_, r)| r);
                !arrived.contains(&format!("{text}`")) && arrived.contains(&format!(" {first}`"))
            }
            None => false,
        })
}

fn failed(c: &CaseReport) -> bool {
    c.verdict.is_failure() && c.verdict != Verdict::NotRun
}

fn crashed_with(c: &CaseReport, needles: &[&str]) -> bool {
    c.verdict == Verdict::ServerCrashed
        && c.liveness
            .as_deref()
            .is_some_and(|l| needles.iter().any(|n| l.contains(n)))
}

fn cites_any(c: &CaseReport, cites: &[&str]) -> bool {
    c.cites.iter().any(|have| cites.contains(&have.as_str()))
}

fn kind(c: &CaseReport) -> Option<FailureKind> {
    c.failure.as_ref().map(|f| f.kind)
}

/// What a failure says of a length field padded with spaces (see [`crate::case::Ctx::recv`]).
const PADDED: &str = "padded with spaces";

fn actual_has(c: &CaseReport, needles: &[&str]) -> bool {
    c.failure
        .as_ref()
        .is_some_and(|f| needles.iter().any(|n| f.actual.contains(n)))
}

fn expected_has(c: &CaseReport, needles: &[&str]) -> bool {
    c.failure
        .as_ref()
        .is_some_and(|f| needles.iter().any(|n| f.expected.contains(n)))
}

/// The cause of a failed case, if the table knows it.
pub fn cause_of(case: &CaseReport) -> Option<&'static Cause> {
    if !case.verdict.is_failure() {
        return None;
    }
    CAUSES.iter().find(|cause| cause.claims(case))
}

/// One cause and the cases it failed, in run order.
#[derive(Debug)]
pub struct Group<'a> {
    pub cause: &'static Cause,
    pub cases: Vec<&'a CaseReport>,
}

impl Group<'_> {
    /// The rubric rows this cause failed, and the points they are worth.
    pub fn rubric_cost(&self) -> (Vec<&str>, u32) {
        let rows: Vec<&CaseReport> = self
            .cases
            .iter()
            .copied()
            .filter(|c| c.suite == Suite::Rubric)
            .collect();
        let points = rows.iter().map(|c| c.points).sum();
        (rows.iter().map(|c| c.id.as_str()).collect(), points)
    }
}

/// The failed cases of `cases` (not those that did not run), grouped by cause in the order
/// each cause first failed a case, and those no cause claims.
pub fn group<'a>(
    cases: impl IntoIterator<Item = &'a CaseReport>,
) -> (Vec<Group<'a>>, Vec<&'a CaseReport>) {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut unclaimed = Vec::new();
    for case in cases {
        if !case.verdict.is_failure() || case.verdict == Verdict::NotRun {
            continue;
        }
        match cause_of(case) {
            Some(cause) => match groups.iter_mut().find(|g| g.cause.id == cause.id) {
                Some(g) => g.cases.push(case),
                None => groups.push(Group {
                    cause,
                    cases: vec![case],
                }),
            },
            None => unclaimed.push(case),
        }
    }
    (groups, unclaimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_ids_are_unique_and_every_cause_has_a_fix() {
        let mut ids: Vec<&str> = CAUSES.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CAUSES.len());
        for c in CAUSES {
            assert!(!c.fix.is_empty() && !c.title.is_empty(), "{}", c.id);
        }
    }
}
