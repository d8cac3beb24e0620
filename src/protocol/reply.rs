//! Server replies (PROTOCOL.md §6 and §7), parsed from one complete payload without knowing
//! what was asked.
//!
//! ```text
//! reply       = hello / names-list / delivery / error / bye
//! hello       = %s"HELLO" SP name
//! names-list  = [ name *(SP name) [SP more] / more ]   ; may be empty
//! more        = "+" %x31-39 *DIGIT
//! delivery    = name SP %s"SENT" SP text
//! error       = %s"ERROR" SP code [SP message]
//! bye         = %s"BYE"
//! ```
//!
//! The reserved words `HELLO`, `SENT`, `ERROR` and `BYE` cannot be names, so the first word
//! and then the second decide which rule a payload follows (REPLY-1).

use std::fmt;
use std::str::FromStr;

use bytes::BufMut;
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_till};
use nom::combinator::rest;
use nom::sequence::preceded;

use super::escape;
use super::name::{Name, NameError};
use super::text::{Text, TextError};

/// A reply from a server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `HELLO <name>`: the name is yours (NAME-1).
    Hello(Name),
    /// The names list (NAMES-1).
    Names(NameList),
    /// `<sender> SENT <text>`: a message for you (MSG-1).
    Delivery { from: Name, text: Text },
    /// `ERROR <code> [<message>]` (§7).
    Error {
        code: ErrorCode,
        message: Option<Message>,
    },
    /// `BYE`: the answer to EXIT (EXIT-2).
    Bye,
}

/// The error codes of §7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    BadFrame,
    BadEncoding,
    UnknownCommand,
    BadArgs,
    InvalidName,
    TextTooLong,
    NameRequired,
    AlreadyNamed,
    NameTaken,
    NoSuchUser,
    ServerFull,
    Timeout,
    SlowConsumer,
    ShuttingDown,
}

impl ErrorCode {
    /// Every code, in the order of the table in §7.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::BadFrame,
        ErrorCode::BadEncoding,
        ErrorCode::UnknownCommand,
        ErrorCode::BadArgs,
        ErrorCode::InvalidName,
        ErrorCode::TextTooLong,
        ErrorCode::NameRequired,
        ErrorCode::AlreadyNamed,
        ErrorCode::NameTaken,
        ErrorCode::NoSuchUser,
        ErrorCode::ServerFull,
        ErrorCode::Timeout,
        ErrorCode::SlowConsumer,
        ErrorCode::ShuttingDown,
    ];

    /// The code as it appears on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "BAD_FRAME",
            ErrorCode::BadEncoding => "BAD_ENCODING",
            ErrorCode::UnknownCommand => "UNKNOWN_COMMAND",
            ErrorCode::BadArgs => "BAD_ARGS",
            ErrorCode::InvalidName => "INVALID_NAME",
            ErrorCode::TextTooLong => "TEXT_TOO_LONG",
            ErrorCode::NameRequired => "NAME_REQUIRED",
            ErrorCode::AlreadyNamed => "ALREADY_NAMED",
            ErrorCode::NameTaken => "NAME_TAKEN",
            ErrorCode::NoSuchUser => "NO_SUCH_USER",
            ErrorCode::ServerFull => "SERVER_FULL",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::SlowConsumer => "SLOW_CONSUMER",
            ErrorCode::ShuttingDown => "SHUTTING_DOWN",
        }
    }

    /// Whether the server closes the connection after sending this error (§7).
    pub const fn closes_connection(self) -> bool {
        matches!(
            self,
            ErrorCode::BadFrame
                | ErrorCode::ServerFull
                | ErrorCode::Timeout
                | ErrorCode::SlowConsumer
                | ErrorCode::ShuttingDown
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    /// The code spelled exactly `s`, as the table of §7 spells it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

/// A word that is not one of the error codes of §7 ([`ErrorCode::ALL`]); it holds the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code '{}'", escape::quote(.0, 40))]
pub struct UnknownErrorCode(pub String);

/// The human-readable part of an error reply: one line, not empty, no control characters
/// (ERR-2).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message(Box<str>);

impl Message {
    /// `s` as a message, if it is not empty and holds no control character.
    pub fn new(s: &str) -> Option<Message> {
        if s.is_empty() || s.chars().any(char::is_control) {
            None
        } else {
            Some(Message(s.into()))
        }
    }

    /// `s` as a message, with control characters escaped; `None` for an empty `s`.
    pub fn escaped(s: &str) -> Option<Message> {
        Message::new(&escape::escape_text(s))
    }

    /// The message.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The longest prefix of this message of at most `max` bytes that ends on a character
    /// boundary, without trailing spaces; `None` when that is empty.
    pub fn truncated(&self, max: usize) -> Option<Message> {
        if self.0.len() <= max {
            return Some(self.clone());
        }
        let mut end = max;
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        Message::new(self.0[..end].trim_end())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Message({:?})", &*self.0)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A names list: names in registration order, and how many were left out to fit the frame
/// (NAMES-5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NameList {
    names: Vec<Name>,
    omitted: u64,
}

impl NameList {
    /// The complete list of `names`.
    pub fn new(names: Vec<Name>) -> NameList {
        NameList { names, omitted: 0 }
    }

    /// `names` with `omitted` more left out.
    pub fn with_omitted(names: Vec<Name>, omitted: u64) -> NameList {
        NameList { names, omitted }
    }

    /// The longest prefix of `names` whose list, with its ` +N` marker when names are left out,
    /// takes at most `max` bytes (NAMES-5).
    pub fn fit<'a, I>(names: I, max: usize) -> NameList
    where
        I: IntoIterator<Item = &'a Name>,
        I::IntoIter: ExactSizeIterator,
    {
        let names = names.into_iter();
        let total = names.len();
        let mut chosen: Vec<&Name> = Vec::new();
        let mut len = 0usize;
        for name in names {
            let add = name.len() + usize::from(!chosen.is_empty());
            if len + add > max {
                break;
            }
            len += add;
            chosen.push(name);
        }
        // Drop names from the end until the marker for the rest fits too.
        while chosen.len() < total {
            let omitted = total - chosen.len();
            let marker = 1 + digits(omitted as u64) + usize::from(!chosen.is_empty());
            if len + marker <= max || chosen.is_empty() {
                break;
            }
            if let Some(last) = chosen.pop() {
                len -= last.len() + usize::from(!chosen.is_empty());
            }
        }
        NameList {
            omitted: (total - chosen.len()) as u64,
            names: chosen.into_iter().cloned().collect(),
        }
    }

    /// The names shown.
    pub fn names(&self) -> &[Name] {
        &self.names
    }

    /// How many names were left out.
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// Whether the list shows no names and leaves none out.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.omitted == 0
    }
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// A payload that is not a reply, and where parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct ReplyError {
    /// Byte offset in the payload where parsing failed.
    pub offset: usize,
    /// What is wrong.
    pub kind: ReplyErrorKind,
}

/// What is wrong with a reply payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyErrorKind {
    #[error("the payload is not valid UTF-8")]
    BadEncoding,
    #[error("'{}' is not a valid name: {reason}", escape::quote(.word, 40))]
    BadName { word: String, reason: NameError },
    #[error("an empty word (two spaces in a row, or a space at an end)")]
    EmptyWord,
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("unexpected bytes after the end of the reply")]
    Extra,
    #[error("unknown error code '{}'", escape::quote(.0, 40))]
    UnknownCode(String),
    #[error("an error message cannot be empty or hold control characters")]
    BadMessage,
    #[error("bad delivery text: {0}")]
    Text(TextError),
    #[error("'{}' is not a count of omitted names", escape::quote(.0, 40))]
    BadMore(String),
}

impl Reply {
    /// An error reply whose message is `message` with control characters escaped.
    pub fn error(code: ErrorCode, message: &str) -> Reply {
        Reply::Error {
            code,
            message: Message::escaped(message),
        }
    }

    /// Parses one reply payload.
    pub fn parse(payload: &[u8]) -> Result<Reply, ReplyError> {
        let input = std::str::from_utf8(payload).map_err(|e| ReplyError {
            offset: e.valid_up_to(),
            kind: ReplyErrorKind::BadEncoding,
        })?;
        let at = |rest: &str| input.len() - rest.len();
        let fail = |rest: &str, kind| ReplyError {
            offset: at(rest),
            kind,
        };
        if input.is_empty() {
            return Ok(Reply::Names(NameList::default()));
        }
        let (after, first) = word(input).map_err(|_| fail(input, ReplyErrorKind::EmptyWord))?;
        match first {
            "HELLO" => {
                let (end, w) = argument(after)
                    .map_err(|_| fail(after, ReplyErrorKind::Missing("the name")))?;
                if !end.is_empty() {
                    return Err(fail(end, ReplyErrorKind::Extra));
                }
                Ok(Reply::Hello(name_at(w, at(after) + 1)?))
            }
            "BYE" => {
                if !after.is_empty() {
                    return Err(fail(after, ReplyErrorKind::Extra));
                }
                Ok(Reply::Bye)
            }
            "ERROR" => {
                let (end, c) = argument(after)
                    .map_err(|_| fail(after, ReplyErrorKind::Missing("the error code")))?;
                let code = c
                    .parse::<ErrorCode>()
                    .map_err(|UnknownErrorCode(c)| ReplyError {
                        offset: at(after) + 1,
                        kind: ReplyErrorKind::UnknownCode(c),
                    })?;
                if end.is_empty() {
                    return Ok(Reply::Error {
                        code,
                        message: None,
                    });
                }
                let (_, m) = message(end).map_err(|_| fail(end, ReplyErrorKind::Extra))?;
                let message =
                    Message::new(m).ok_or_else(|| fail(end, ReplyErrorKind::BadMessage))?;
                Ok(Reply::Error {
                    code,
                    message: Some(message),
                })
            }
            _ if first.starts_with('+') => {
                if !after.is_empty() {
                    return Err(fail(after, ReplyErrorKind::Extra));
                }
                Ok(Reply::Names(NameList::with_omitted(
                    Vec::new(),
                    more_at(first, 0)?,
                )))
            }
            _ => {
                let from = name_at(first, 0)?;
                if let Ok((_, t)) = delivery_text(after) {
                    let text = Text::new(t).map_err(|e| ReplyError {
                        offset: input.len() - t.len(),
                        kind: ReplyErrorKind::Text(e),
                    })?;
                    return Ok(Reply::Delivery { from, text });
                }
                if after == " SENT" {
                    return Err(ReplyError {
                        offset: input.len(),
                        kind: ReplyErrorKind::Text(TextError::Empty),
                    });
                }
                names_list(input, from, after)
            }
        }
    }

    /// Appends the payload of this reply to `out`.
    pub fn encode<B: BufMut>(&self, out: &mut B) {
        match self {
            Reply::Hello(name) => {
                out.put_slice(b"HELLO ");
                out.put_slice(name.as_str().as_bytes());
            }
            Reply::Names(list) => {
                for (i, name) in list.names.iter().enumerate() {
                    if i > 0 {
                        out.put_u8(b' ');
                    }
                    out.put_slice(name.as_str().as_bytes());
                }
                if list.omitted > 0 {
                    if !list.names.is_empty() {
                        out.put_u8(b' ');
                    }
                    out.put_u8(b'+');
                    out.put_slice(list.omitted.to_string().as_bytes());
                }
            }
            Reply::Delivery { from, text } => {
                out.put_slice(from.as_str().as_bytes());
                out.put_slice(b" SENT ");
                out.put_slice(text.as_str().as_bytes());
            }
            Reply::Error { code, message } => {
                out.put_slice(b"ERROR ");
                out.put_slice(code.as_str().as_bytes());
                if let Some(m) = message {
                    out.put_u8(b' ');
                    out.put_slice(m.as_str().as_bytes());
                }
            }
            Reply::Bye => out.put_slice(b"BYE"),
        }
    }

    /// The payload of this reply.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// The payload length, without encoding.
    pub fn encoded_len(&self) -> usize {
        match self {
            Reply::Hello(name) => 6 + name.len(),
            Reply::Names(list) => {
                let names: usize = list.names.iter().map(Name::len).sum::<usize>()
                    + list.names.len().saturating_sub(1);
                let more = if list.omitted > 0 {
                    1 + digits(list.omitted) + usize::from(!list.names.is_empty())
                } else {
                    0
                };
                names + more
            }
            Reply::Delivery { from, text } => from.len() + 6 + text.len(),
            Reply::Error { code, message } => {
                6 + code.as_str().len() + message.as_ref().map_or(0, |m| 1 + m.as_str().len())
            }
            Reply::Bye => 3,
        }
    }

    /// This reply made to fit in `max` bytes where the protocol allows it (DIALECT-4): an error
    /// loses the end of its message, down to `ERROR CODE`. `None` when it cannot fit.
    pub fn fit(self, max: usize) -> Option<Reply> {
        if self.encoded_len() <= max {
            return Some(self);
        }
        match self {
            Reply::Error { code, message } => {
                let bare = 6 + code.as_str().len();
                if bare > max {
                    return None;
                }
                let message = message.and_then(|m| m.truncated(max.saturating_sub(bare + 1)));
                Some(Reply::Error { code, message })
            }
            _ => None,
        }
    }
}

fn name_at(word: &str, offset: usize) -> Result<Name, ReplyError> {
    Name::new(word).map_err(|reason| ReplyError {
        offset,
        kind: if word.is_empty() {
            ReplyErrorKind::EmptyWord
        } else {
            ReplyErrorKind::BadName {
                word: word.to_owned(),
                reason,
            }
        },
    })
}

/// `more = "+" %x31-39 *DIGIT`
fn more_at(word: &str, offset: usize) -> Result<u64, ReplyError> {
    let bad = || ReplyError {
        offset,
        kind: ReplyErrorKind::BadMore(word.to_owned()),
    };
    let digits = word.strip_prefix('+').ok_or_else(bad)?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits.parse().map_err(|_| bad())
}

/// `names-list = name *(SP name) [SP more]`, after its first name.
fn names_list(input: &str, first: Name, mut after: &str) -> Result<Reply, ReplyError> {
    let at = |rest: &str| input.len() - rest.len();
    let mut names = vec![first];
    while !after.is_empty() {
        let offset = at(after) + 1;
        let (next, w) = argument(after).map_err(|_| ReplyError {
            offset,
            kind: ReplyErrorKind::EmptyWord,
        })?;
        if w.starts_with('+') {
            if !next.is_empty() {
                return Err(ReplyError {
                    offset: at(next),
                    kind: ReplyErrorKind::Extra,
                });
            }
            return Ok(Reply::Names(NameList::with_omitted(
                names,
                more_at(w, offset)?,
            )));
        }
        names.push(name_at(w, offset)?);
        after = next;
    }
    Ok(Reply::Names(NameList::new(names)))
}

/// `word = 1*(%x00-1F / %x21-FF)`: up to the first SP.
fn word(input: &str) -> IResult<&str, &str> {
    take_till(|c| c == ' ').parse(input)
}

/// `SP word`
fn argument(input: &str) -> IResult<&str, &str> {
    preceded(tag(" "), take_till(|c| c == ' ')).parse(input)
}

/// `SP %s"SENT" SP text`, after the sender's name.
fn delivery_text(input: &str) -> IResult<&str, &str> {
    preceded(tag(" SENT "), rest).parse(input)
}

/// `SP message`: the rest after one SP.
fn message(input: &str) -> IResult<&str, &str> {
    preceded(tag(" "), rest).parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn names(list: &[&str]) -> Reply {
        Reply::Names(NameList::new(list.iter().map(|s| name(s)).collect()))
    }

    fn err(code: ErrorCode, m: &str) -> Reply {
        Reply::Error {
            code,
            message: Message::new(m),
        }
    }

    #[test]
    fn known_replies_round_trip() {
        let cases: Vec<(&str, Reply)> = vec![
            ("HELLO A", Reply::Hello(name("A"))),
            ("", names(&[])),
            ("A", names(&["A"])),
            ("A B", names(&["A", "B"])),
            ("Alice Bob Carol9", names(&["Alice", "Bob", "Carol9"])),
            (
                "A B +3",
                Reply::Names(NameList::with_omitted(vec![name("A"), name("B")], 3)),
            ),
            ("+12", Reply::Names(NameList::with_omitted(vec![], 12))),
            (
                "A SENT HELLO",
                Reply::Delivery {
                    from: name("A"),
                    text: Text::new("HELLO").unwrap(),
                },
            ),
            (
                "A SENT  two  spaces ",
                Reply::Delivery {
                    from: name("A"),
                    text: Text::new(" two  spaces ").unwrap(),
                },
            ),
            (
                "A SENT SENT",
                Reply::Delivery {
                    from: name("A"),
                    text: Text::new("SENT").unwrap(),
                },
            ),
            (
                "ERROR NAME_TAKEN name 'A' is taken",
                err(ErrorCode::NameTaken, "name 'A' is taken"),
            ),
            (
                "ERROR NO_SUCH_USER",
                Reply::Error {
                    code: ErrorCode::NoSuchUser,
                    message: None,
                },
            ),
            ("BYE", Reply::Bye),
            // A name that begins with a reserved word is just a name.
            ("A SENTINEL", names(&["A", "SENTINEL"])),
            // Context-free: a names list is what a reply that is nothing else looks like.
            ("Hello A", names(&["Hello", "A"])),
        ];
        for (payload, reply) in cases {
            assert_eq!(
                Reply::parse(payload.as_bytes()).as_ref(),
                Ok(&reply),
                "{payload:?}"
            );
            assert_eq!(reply.to_payload(), payload.as_bytes(), "{reply:?}");
            assert_eq!(reply.encoded_len(), payload.len(), "{reply:?}");
        }
    }

    #[test]
    fn every_error_code_round_trips() {
        for code in ErrorCode::ALL {
            let reply = err(code, "why");
            let payload = reply.to_payload();
            assert_eq!(payload, format!("ERROR {code} why").as_bytes());
            assert_eq!(Reply::parse(&payload), Ok(reply));
        }
    }

    #[test]
    fn every_error_code_parses_from_its_spelling_and_nothing_else_does() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        for word in ["", "NOPE", "bad_frame", "BAD_FRAME ", " TIMEOUT"] {
            assert_eq!(
                word.parse::<ErrorCode>(),
                Err(UnknownErrorCode(word.to_owned())),
                "{word:?}"
            );
        }
        // The message names the word, with control characters escaped.
        let shown = "nope\n".parse::<ErrorCode>().unwrap_err().to_string();
        assert!(shown.contains("nope") && !shown.contains('\n'), "{shown:?}");
    }

    #[test]
    fn malformed_replies_say_where() {
        let cases: Vec<(&[u8], usize)> = vec![
            (b"\xff", 0),
            (b"HELLO", 5),
            (b"HELLO A B", 7),
            (b"HELLO 1", 6),
            (b"BYE now", 3),
            (b"ERROR", 5),
            (b"ERROR NOPE x", 6),
            (b"ERROR BAD_ARGS ", 14),
            (b"ERROR BAD_ARGS a\nb", 14),
            (b"A SENT", 6),
            (b"A SENT ", 7),
            (b"A SENTINEL +0", 11),
            (b"A  B", 2),
            (b"A B ", 4),
            (b" A", 0),
            (b"A HELLO", 2),
            (b"A +0", 2),
            (b"A +01", 2),
            (b"A +3 B", 4),
            (b"1A", 0),
            (b"SENT x", 0),
            (b"Hello, A", 0),
        ];
        for (payload, offset) in cases {
            let e = Reply::parse(payload).unwrap_err();
            assert_eq!(e.offset, offset, "{payload:?}: {e}");
        }
    }

    #[test]
    fn names_list_fits_the_frame() {
        let all: Vec<Name> = ["Alice", "Bob", "Carol", "Dave"]
            .iter()
            .map(|s| name(s))
            .collect();
        // Everything fits.
        assert_eq!(NameList::fit(&all, 100), NameList::new(all.clone()));
        assert_eq!(NameList::fit(&all, 20).names().len(), 4); // "Alice Bob Carol Dave" = 20
        // "Alice Bob Carol +1" = 18 bytes.
        let list = NameList::fit(&all, 19);
        assert_eq!((list.names().len(), list.omitted()), (3, 1));
        assert!(Reply::Names(list).encoded_len() <= 19);
        // "Alice Bob +2" = 12.
        let list = NameList::fit(&all, 17);
        assert_eq!((list.names().len(), list.omitted()), (2, 2));
        // Nothing fits but the marker.
        let list = NameList::fit(&all, 4);
        assert_eq!((list.names().len(), list.omitted()), (0, 4));
        assert_eq!(NameList::fit(&[], 0), NameList::default());
    }

    #[test]
    fn long_errors_shrink_to_fit() {
        let reply = err(ErrorCode::UnknownCommand, "unknown command 'abcdefghij'");
        let fitted = reply.clone().fit(30).unwrap();
        assert_eq!(fitted.to_payload(), b"ERROR UNKNOWN_COMMAND unknown");
        assert_eq!(
            reply.clone().fit(21).unwrap().to_payload(),
            b"ERROR UNKNOWN_COMMAND"
        );
        assert_eq!(reply.fit(20), None);
        assert_eq!(Reply::Bye.fit(2), None);
    }
}
