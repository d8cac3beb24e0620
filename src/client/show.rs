//! How replies are shown: styled lines for a person, plain tagged lines for a script.
//!
//! Everything received is shown inert (CLIENT-2): names are valid [`Name`](crate::protocol::Name)s (ASCII letters and
//! digits), and texts, messages and unparsed payloads go through [`escape`], so a text holding
//! `ESC [2J` shows as `\e[2J` and clears nothing.
//!
//! # Line mode output
//!
//! In line mode each frame received is one line on stdout, starting with a lowercase tag. The
//! format is stable; scripts may parse it:
//!
//! | reply | line |
//! |---|---|
//! | `HELLO A` | `hello A` |
//! | a names list | `names A B C`; `names A B +9712` when names were left out (NAMES-5); `names` alone when empty |
//! | `A SENT hi there` | `msg A hi there`: the text is everything after the second space |
//! | `ERROR CODE message` | `error CODE message`, or `error CODE` |
//! | `BYE` | `bye` |
//! | anything else | `unparsed PAYLOAD` |
//!
//! In the course profile, replies in a server's own words are read leniently
//! ([`crate::protocol::recognise`]) into the same lines: `Hello A` is `hello A`,
//! `Connected clients: A, B` is `names A B`, `A: hi` is `msg A hi`, `Bye!` is `bye`. Three
//! tags exist only there: `greeting TEXT` (text sent before anything was asked),
//! `ack TEXT` (an acknowledgement of a MSG, `Message sent.`), and `refused TEXT` (an error
//! reply without a canonical code).
//!
//! Texts, messages and unparsed payloads are escaped with [`escape::escape_bytes`]: a
//! backslash is `\\`, control characters are `\n`, `\r`, `\t`, `\e` or `\u{..}`, and bytes
//! that are not UTF-8 are `\xNN`. A line therefore never holds a control character, and the
//! original bytes can be recovered.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use super::wire::Incoming;
use crate::protocol::recognise::Recognised;
use crate::protocol::{NameList, Reply, escape};

/// The role of a piece of text on screen, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// Ordinary text.
    Plain,
    /// The sender of a delivery.
    Sender,
    /// An error from the server.
    Error,
    /// News from the server: a name taken, the names list, BYE.
    Notice,
    /// Something the client itself says: a refused line, a lost connection, help.
    Local,
    /// A frame that is not a reply of §6.
    Unparsed,
}

/// One line for a person: pieces of text, each with its tone. The text holds no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    /// The pieces, in order.
    pub spans: Vec<(Tone, String)>,
    /// Where a wrapped line's continuation rows start, in cells: under the text of a message,
    /// after `<sender> `.
    pub indent: usize,
}

impl Line {
    /// A line of one piece. `text` is escaped.
    pub fn new(tone: Tone, text: &str) -> Line {
        Line::default().push(tone, text)
    }

    /// This line with `text` appended in `tone`; `text` is escaped.
    pub fn push(mut self, tone: Tone, text: &str) -> Line {
        self.spans
            .push((tone, escape::escape_text(text).into_owned()));
        self
    }

    /// This line with `prefix` (a timestamp) before it in `tone`; the indent moves with it.
    pub fn prefixed(mut self, tone: Tone, prefix: &str) -> Line {
        let prefix = escape::escape_text(prefix).into_owned();
        self.indent += prefix.width();
        self.spans.insert(0, (tone, prefix));
        self
    }

    /// The text without styling.
    pub fn plain(&self) -> String {
        self.spans.iter().map(|(_, s)| s.as_str()).collect()
    }
}

/// How a frame reads for a person, read strictly (§6).
pub fn for_person(incoming: &Incoming) -> Line {
    match &incoming.reply {
        Ok(reply) => person(incoming, &Recognised::from_reply(reply)),
        Err(e) => Line::default()
            .push(Tone::Unparsed, &format!("? unparsed ({e}): "))
            .push(Tone::Plain, &escape::escape_bytes(&incoming.payload)),
    }
}

/// How a frame reads for a person, as `reading` says. A canonical reply shows as
/// [`for_person`] shows it.
pub fn person(incoming: &Incoming, reading: &Recognised) -> Line {
    let canonical = incoming.reply.as_ref().ok();
    match reading {
        Recognised::Greeting(text) => Line::new(Tone::Notice, &format!("* {text}")).indented(2),
        Recognised::Named(name) => Line::new(Tone::Notice, &format!("* you are {name}")),
        Recognised::Names(list) => Line::new(Tone::Notice, &names_for_person(list)).indented(2),
        Recognised::Delivery { from, text } => {
            let head = format!("<{from}>");
            let indent = head.width() + 1;
            Line::default()
                .push(Tone::Sender, &head)
                .push(Tone::Plain, " ")
                .push(Tone::Plain, text)
                .indented(indent)
        }
        Recognised::Refusal {
            code: Some(code), ..
        } => match canonical {
            Some(reply @ Reply::Error { .. }) => canonical_line(reply),
            _ => Line::new(Tone::Error, &format!("! {code}")),
        },
        Recognised::Refusal { code: None, text } => {
            Line::new(Tone::Error, &format!("! {text}")).indented(2)
        }
        Recognised::Bye if canonical == Some(&Reply::Bye) => canonical_line(&Reply::Bye),
        Recognised::Bye => Line::new(
            Tone::Notice,
            &format!(
                "* {} (the server ended the session)",
                String::from_utf8_lossy(&incoming.payload).trim()
            ),
        ),
        Recognised::Ack(text) => Line::new(Tone::Notice, &format!("* {text}")).indented(2),
        Recognised::Unknown => match &incoming.reply {
            Err(e) => Line::default()
                .push(Tone::Unparsed, &format!("? unparsed ({e}): "))
                .push(Tone::Plain, &escape::escape_bytes(&incoming.payload)),
            Ok(_) => Line::default()
                .push(Tone::Unparsed, "? unparsed: ")
                .push(Tone::Plain, &escape::escape_bytes(&incoming.payload)),
        },
    }
}

fn canonical_line(reply: &Reply) -> Line {
    match reply {
        Reply::Hello(name) => Line::new(Tone::Notice, &format!("* you are {name}")),
        Reply::Names(list) => Line::new(Tone::Notice, &names_for_person(list)),
        Reply::Delivery { from, text } => Line::default()
            .push(Tone::Sender, &format!("<{from}>"))
            .push(Tone::Plain, " ")
            .push(Tone::Plain, text.as_str()),
        Reply::Error { code, message } => {
            let mut line = format!("! {code}");
            if let Some(message) = message {
                let _ = write!(line, ": {message}");
            }
            if code.closes_connection() {
                line.push_str(" (the server closes the connection)");
            }
            Line::new(Tone::Error, &line)
        }
        Reply::Bye => Line::new(Tone::Notice, "* BYE: the server ended the session"),
    }
}

impl Line {
    /// This line with continuation rows starting at `indent` cells.
    pub fn indented(mut self, indent: usize) -> Line {
        self.indent = indent;
        self
    }
}

fn names_for_person(list: &NameList) -> String {
    if list.is_empty() {
        return "* nobody has a name yet".to_owned();
    }
    let total = list.names().len() as u64 + list.omitted();
    let names: Vec<&str> = list.names().iter().map(|n| n.as_str()).collect();
    let mut line = format!(
        "* {total} {}: {}",
        if total == 1 { "name" } else { "names" },
        names.join(", ")
    );
    if list.omitted() > 0 {
        if !names.is_empty() {
            line.push_str(", ");
        }
        let _ = write!(line, "and {} more", list.omitted());
    }
    line
}

/// How a frame reads for a script, as `reading` says (see the module docs). A canonical reply
/// shows as [`for_script`] shows it.
pub fn script(incoming: &Incoming, reading: &Recognised) -> String {
    if incoming.reply.is_ok() && matches!(reading, Recognised::Unknown) {
        return format!("unparsed {}", escape::escape_bytes(&incoming.payload));
    }
    if let Ok(reply) = &incoming.reply
        && Recognised::from_reply(reply) == *reading
    {
        return for_script(incoming);
    }
    let escaped = |text: &str| escape::escape_bytes(text.as_bytes());
    match reading {
        Recognised::Greeting(text) => format!("greeting {}", escaped(text)),
        Recognised::Named(name) => format!("hello {name}"),
        Recognised::Names(list) => names_for_script(list),
        Recognised::Delivery { from, text } => format!("msg {from} {}", escaped(text)),
        Recognised::Refusal {
            code: Some(code),
            text,
        } if text.is_empty() => {
            format!("error {code}")
        }
        Recognised::Refusal {
            code: Some(code),
            text,
        } => format!("error {code} {}", escaped(text)),
        Recognised::Refusal { code: None, text } => format!("refused {}", escaped(text)),
        Recognised::Bye => "bye".to_owned(),
        Recognised::Ack(text) => format!("ack {}", escaped(text)),
        Recognised::Unknown => format!("unparsed {}", escape::escape_bytes(&incoming.payload)),
    }
}

fn names_for_script(list: &NameList) -> String {
    let mut line = "names".to_owned();
    for name in list.names() {
        let _ = write!(line, " {name}");
    }
    if list.omitted() > 0 {
        let _ = write!(line, " +{}", list.omitted());
    }
    line
}

/// How a frame reads for a script: one line, without its line ending (see the module docs).
pub fn for_script(incoming: &Incoming) -> String {
    match &incoming.reply {
        Ok(Reply::Hello(name)) => format!("hello {name}"),
        Ok(Reply::Names(list)) => names_for_script(list),
        Ok(Reply::Delivery { from, text }) => {
            format!(
                "msg {from} {}",
                escape::escape_bytes(text.as_str().as_bytes())
            )
        }
        Ok(Reply::Error {
            code,
            message: None,
        }) => format!("error {code}"),
        Ok(Reply::Error {
            code,
            message: Some(message),
        }) => format!(
            "error {code} {}",
            escape::escape_bytes(message.as_str().as_bytes())
        ),
        Ok(Reply::Bye) => "bye".to_owned(),
        Err(_) => format!("unparsed {}", escape::escape_bytes(&incoming.payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn incoming(payload: &[u8]) -> Incoming {
        Incoming::new(Bytes::copy_from_slice(payload))
    }

    #[test]
    fn replies_read_for_a_script() {
        let cases: &[(&[u8], &str)] = &[
            (b"HELLO A", "hello A"),
            (b"A B C", "names A B C"),
            (b"A B +9712", "names A B +9712"),
            (b"+3", "names +3"),
            (b"", "names"),
            (b"A SENT hi there", "msg A hi there"),
            (b"A SENT  two  spaces ", "msg A  two  spaces "),
            (b"A SENT \x1b[2J\n\\", "msg A \\e[2J\\n\\\\"),
            (
                b"ERROR NO_SUCH_USER no one called Z",
                "error NO_SUCH_USER no one called Z",
            ),
            (b"ERROR BAD_ARGS", "error BAD_ARGS"),
            (b"BYE", "bye"),
            (b"Hello A!", "unparsed Hello A!"),
            (b"A sent \x1b[2J", "unparsed A sent \\e[2J"),
            (b"\xff\xfe", "unparsed \\xff\\xfe"),
        ];
        for (payload, line) in cases {
            assert_eq!(for_script(&incoming(payload)), *line, "{payload:?}");
        }
    }

    #[test]
    fn replies_read_for_a_person() {
        let cases: &[(&[u8], &str)] = &[
            (b"HELLO A", "* you are A"),
            (b"A B C", "* 3 names: A, B, C"),
            (b"A", "* 1 name: A"),
            (b"A B +9712", "* 9714 names: A, B, and 9712 more"),
            (b"", "* nobody has a name yet"),
            (b"A SENT hi there", "<A> hi there"),
            (b"ERROR NAME_TAKEN B is taken", "! NAME_TAKEN: B is taken"),
            (
                b"ERROR SERVER_FULL",
                "! SERVER_FULL (the server closes the connection)",
            ),
            (b"BYE", "* BYE: the server ended the session"),
        ];
        for (payload, line) in cases {
            assert_eq!(for_person(&incoming(payload)).plain(), *line, "{payload:?}");
        }
    }

    #[test]
    fn delivery_shows_the_sender_apart_from_the_text() {
        let line = for_person(&incoming(b"Bob SENT <Eve> hi"));
        assert_eq!(line.spans[0], (Tone::Sender, "<Bob>".to_owned()));
        assert!(line.spans[1..].iter().all(|(tone, _)| *tone == Tone::Plain));
        assert_eq!(line.plain(), "<Bob> <Eve> hi");
    }

    #[test]
    fn received_escape_sequences_are_shown_inert_client_2() {
        let line = for_person(&incoming(
            "A SENT \x1b[2J\x1b]0;owned\x07\r\n\u{9b}1m".as_bytes(),
        ));
        let plain = line.plain();
        assert!(!plain.chars().any(char::is_control), "{plain:?}");
        assert_eq!(plain, "<A> \\e[2J\\e]0;owned\\u{7}\\r\\n\\u{9b}1m");
        let unparsed = for_person(&incoming(b"Welcome \x1b[31m\xff"));
        let plain = unparsed.plain();
        assert!(!plain.chars().any(char::is_control), "{plain:?}");
        assert!(plain.starts_with("? unparsed"), "{plain}");
        assert!(plain.ends_with("Welcome \\e[31m\\xff"), "{plain}");
        assert_eq!(unparsed.spans[0].0, Tone::Unparsed);
    }

    #[test]
    fn error_stands_apart_in_its_own_tone() {
        let line = for_person(&incoming(b"ERROR NO_SUCH_USER Z"));
        assert!(line.spans.iter().all(|(tone, _)| *tone == Tone::Error));
    }
}
