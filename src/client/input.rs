//! What a typed line means: a command to send, a local request, or a refusal.
//!
//! A person types the commands of PROTOCOL.md §4 as they are spelled there (`NAME A`,
//! `GET_NAMES`, `MSG B hi there`, `EXIT`); the client parses the line with the protocol's own
//! grammar and frames it in the chosen dialect. A line that would make a bad frame, or that is
//! not a command, is refused here with an explanation and nothing is sent (CLIENT-1).
//!
//! Lines that start with `/` are for the client itself; no verb of the protocol starts with
//! `/`, so nothing a server understands is shadowed:
//!
//! - `/help` lists the commands.
//! - `/msg NAME TEXT` is `MSG NAME TEXT`; `/names` is `GET_NAMES`; `/quit` is `EXIT`.
//! - `/query NAME` starts a conversation with NAME: from then on a line that does not start
//!   with a command verb in capitals (or `/`) is sent to NAME as the text of a `MSG`.
//!   `/query` alone ends it.
//! - `/raw PAYLOAD` sends `PAYLOAD` as one frame without parsing it as a command, for a foreign
//!   server that knows other commands (`BLOCK A`, say). It is the only way to send a payload
//!   that is not a command; the frame is still checked against §2 and §3, so CLIENT-1 holds.
//!   Without `/raw`, an unparseable line is always refused.
//!
//! A verb typed in lower case (`msg B hi`, `name A`) is read as the verb: the wire always
//! carries the canonical spelling.

use std::fmt;

use crate::protocol::frame;
use crate::protocol::{
    Command, CommandError, CommandErrorKind, Dialect, EncodeError, Name, NameError, Spelling, Verb,
};

/// Something to send to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A command, framed and spelled in the session's dialect.
    Command(Command),
    /// A payload sent as it is (`/raw`), already checked to fit one frame.
    Raw(String),
}

impl Outgoing {
    /// Whether this is `EXIT`, after which nothing more is sent (EXIT-3).
    pub fn is_exit(&self) -> bool {
        matches!(self, Outgoing::Command(Command::Exit))
    }

    /// The payload as it goes on the wire in `spelling`.
    pub fn payload(&self, spelling: Spelling) -> Vec<u8> {
        match self {
            Outgoing::Command(command) => {
                let mut payload = Vec::with_capacity(command.encoded_len(spelling));
                command.encode(spelling, &mut payload);
                payload
            }
            Outgoing::Raw(payload) => payload.as_bytes().to_vec(),
        }
    }
}

/// What a typed line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// Nothing: the line was empty.
    Nothing,
    /// Send this.
    Send(Outgoing),
    /// Show the local help.
    Help,
    /// Send plain lines to this name from now on (`/query NAME`), or stop (`/query`).
    Query(Option<Name>),
}

/// Why a typed line is not sent (CLIENT-1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a command of §4.
    #[error("{}", describe_command_error(.0))]
    NotACommand(CommandError),
    /// A command or raw payload that does not fit one frame of the dialect (§2, DIALECT-3).
    #[error("{0}")]
    Unframeable(EncodeError),
    /// A `/` line that the client does not know.
    #[error("unknown client command '{}'; type /help for the commands", crate::protocol::escape::quote(.0, 40))]
    UnknownLocal(String),
    /// `/raw` with nothing after it.
    #[error("/raw needs a payload: /raw PAYLOAD")]
    EmptyRaw,
    /// `/query` with a word that is not a name.
    #[error("/query needs a name: {0}")]
    BadQuery(NameError),
}

impl Refusal {
    /// The byte offset in the typed line where the problem is, when known.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Refusal::NotACommand(e) => Some(e.offset),
            _ => None,
        }
    }
}

fn describe_command_error(e: &CommandError) -> String {
    match &e.kind {
        CommandErrorKind::UnknownCommand { verb } if verb.is_empty() => {
            "a line starts with a command; type /help for the commands".to_owned()
        }
        CommandErrorKind::UnknownCommand { .. } => {
            format!("{}; the commands are NAME, GET_NAMES, MSG and EXIT", e.kind)
        }
        kind => kind.to_string(),
    }
}

/// The lines `/help` shows.
pub const HELP: &[&str] = &[
    "commands (sent to the server):",
    "  NAME <name>        take a name: 1 to 32 letters and digits, starting with a letter",
    "  GET_NAMES          list who is here",
    "  MSG <name> <text>  send a text to someone (to yourself, too)",
    "  EXIT               leave",
    "  (verbs may be typed in lower case: msg B hi)",
    "client commands:",
    "  /msg <name> <text> send a text to someone",
    "  /query <name>      send the lines that follow to <name>; /query alone stops",
    "  /names             list who is here",
    "  /quit              leave",
    "  /help              this list",
    "  /raw <payload>     send a payload as it is, for servers with other commands",
    "keys: Enter sends; Tab completes a name; Up/Down history; Left/Right, Home/End move;",
    "  Backspace, Delete,",
    "  Ctrl-U (to the start), Ctrl-W (a word), Ctrl-K (to the end) delete; Ctrl-C or",
    "  Ctrl-D on an empty line leaves",
];

/// Reads one typed line (without its line ending) for a session in `dialect`.
///
/// The line is parsed as a command in the canonical spelling (CMD-2 accepts `GETNAMES` too);
/// in the numeric spelling, `1 A`-style lines are accepted as well. Whatever is accepted is
/// checked to fit one frame of the dialect, so sending it cannot fail for its form.
pub fn read_line(line: &str, dialect: Dialect) -> Result<Typed, Refusal> {
    read_typed(line, dialect, None)
}

/// Whether `word` is a verb of §4 as typed (canonical spelling, `GETNAMES` included).
fn is_verb(word: &str) -> bool {
    Spelling::Canonical.verb(word).is_some()
}

/// Reads one typed line, as [`read_line`] does, in a conversation with `query` when there is
/// one (`/query NAME`): a line that does not start with a verb in capitals or `/` is a text
/// for `query`.
pub fn read_typed(line: &str, dialect: Dialect, query: Option<&Name>) -> Result<Typed, Refusal> {
    if line.is_empty() {
        return Ok(Typed::Nothing);
    }
    if let Some(local) = line.strip_prefix('/') {
        let (word, rest) = local.split_once(' ').unwrap_or((local, ""));
        return match word {
            "help" => Ok(Typed::Help),
            "msg" => command(&format!("{} {rest}", Verb::Msg), dialect),
            "names" if rest.trim().is_empty() => command(Verb::GetNames.as_str(), dialect),
            "quit" | "exit" => command(Verb::Exit.as_str(), dialect),
            "query" if rest.trim().is_empty() => Ok(Typed::Query(None)),
            "query" => Name::new(rest.trim())
                .map(|name| Typed::Query(Some(name)))
                .map_err(Refusal::BadQuery),
            "raw" if rest.is_empty() => Err(Refusal::EmptyRaw),
            "raw" => {
                let raw = Outgoing::Raw(rest.to_owned());
                check_frame(&raw, dialect)?;
                Ok(Typed::Send(raw))
            }
            _ => Err(Refusal::UnknownLocal(line.to_owned())),
        };
    }
    let verb = line.split(' ').next().unwrap_or_default();
    let upper = verb.to_ascii_uppercase();
    let lower_verb = verb == verb.to_ascii_lowercase() && is_verb(&upper);
    if let Some(to) = query
        && !is_verb(verb)
    {
        return command(&format!("{} {to} {line}", Verb::Msg), dialect);
    }
    if lower_verb {
        return command(&format!("{upper}{}", &line[verb.len()..]), dialect);
    }
    command(line, dialect)
}

/// Reads `line` as a command of §4 and checks that it fits one frame.
fn command(line: &str, dialect: Dialect) -> Result<Typed, Refusal> {
    let command = match line.parse::<Command>() {
        Ok(command) => command,
        Err(e) => match (&e.kind, dialect.spelling) {
            (CommandErrorKind::UnknownCommand { .. }, Spelling::Numeric) => {
                Command::parse_with(line.as_bytes(), Spelling::Numeric)
                    .map_err(|_| Refusal::NotACommand(e))?
            }
            _ => return Err(Refusal::NotACommand(e)),
        },
    };
    let command = Outgoing::Command(command);
    check_frame(&command, dialect)?;
    Ok(Typed::Send(command))
}

/// Checks that `outgoing` makes one valid frame in `dialect` (FRAME-7, DIALECT-3, DIALECT-5),
/// with the same check the protocol's encoder makes before it writes a header.
pub fn check_frame(outgoing: &Outgoing, dialect: Dialect) -> Result<(), Refusal> {
    let payload = outgoing.payload(dialect.spelling);
    frame::check_payload(dialect.framing, &payload).map_err(Refusal::Unframeable)
}

impl fmt::Display for Outgoing {
    /// The line as a person would type it (canonical spelling).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outgoing::Command(_) => {
                f.write_str(&String::from_utf8_lossy(&self.payload(Spelling::Canonical)))
            }
            Outgoing::Raw(payload) => write!(f, "/raw {payload}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{DecimalWidth, ErrorCode, Framing, Name, Text};

    fn dec(width: u8) -> Dialect {
        Dialect::with_framing(Framing::Decimal(DecimalWidth::new(width).unwrap()))
    }

    fn sent(line: &str, dialect: Dialect) -> Outgoing {
        match read_line(line, dialect) {
            Ok(Typed::Send(outgoing)) => outgoing,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn typed_commands_of_section_4_are_sent() {
        let d = Dialect::CANONICAL;
        assert_eq!(
            sent("NAME A", d),
            Outgoing::Command(Command::Name(Name::new("A").unwrap()))
        );
        assert_eq!(sent("GET_NAMES", d), Outgoing::Command(Command::GetNames));
        assert_eq!(sent("GETNAMES", d), Outgoing::Command(Command::GetNames));
        assert_eq!(
            sent("MSG B hi there é", d),
            Outgoing::Command(Command::Msg {
                to: Name::new("B").unwrap(),
                text: Text::new("hi there é").unwrap(),
            })
        );
        assert_eq!(sent("EXIT", d), Outgoing::Command(Command::Exit));
        assert!(sent("EXIT", d).is_exit());
    }

    #[test]
    fn empty_line_sends_nothing() {
        assert_eq!(read_line("", Dialect::CANONICAL), Ok(Typed::Nothing));
    }

    #[test]
    fn line_that_is_not_a_command_is_refused_with_its_offset_client_1() {
        let cases = [
            ("hello", ErrorCode::UnknownCommand, 0),
            ("Name A", ErrorCode::UnknownCommand, 0),
            (" ", ErrorCode::UnknownCommand, 0),
            ("NAME", ErrorCode::BadArgs, 4),
            ("MSG  B hi", ErrorCode::BadArgs, 3),
            ("MSG B ", ErrorCode::BadArgs, 5),
            ("GET_NAMES now", ErrorCode::BadArgs, 9),
            ("NAME 1abc", ErrorCode::InvalidName, 5),
        ];
        for (line, code, offset) in cases {
            match read_line(line, Dialect::CANONICAL) {
                Err(Refusal::NotACommand(e)) => {
                    assert_eq!((e.code(), e.offset), (code, offset), "{line:?}")
                }
                other => panic!("{line:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn refusal_explains_in_words() {
        let text = read_line("MSG B", Dialect::CANONICAL)
            .unwrap_err()
            .to_string();
        assert!(text.contains("usage: MSG <name> <text>"), "{text}");
        let text = read_line("hello", Dialect::CANONICAL)
            .unwrap_err()
            .to_string();
        assert!(text.contains("NAME, GET_NAMES, MSG and EXIT"), "{text}");
        let text = read_line("\x1b[2J", Dialect::CANONICAL)
            .unwrap_err()
            .to_string();
        assert!(!text.contains('\x1b'), "{text:?}");
    }

    #[test]
    fn text_over_9961_bytes_is_refused_client_1_msg_7() {
        let line = format!("MSG B {}", "a".repeat(9962));
        let e = read_line(&line, Dialect::CANONICAL).unwrap_err();
        assert!(
            matches!(&e, Refusal::NotACommand(c) if c.code() == ErrorCode::TextTooLong),
            "{e:?}"
        );
        let line = format!("MSG B {}", "a".repeat(9961));
        assert!(read_line(&line, Dialect::CANONICAL).is_ok());
    }

    #[test]
    fn command_too_long_for_a_short_frame_is_refused_dialect_3() {
        // dec2 carries at most 99 bytes: `MSG B ` + 93 bytes fits, one more does not.
        let fits = format!("MSG B {}", "a".repeat(93));
        assert!(matches!(read_line(&fits, dec(2)), Ok(Typed::Send(_))));
        let long = format!("MSG B {}", "a".repeat(94));
        let e = read_line(&long, dec(2)).unwrap_err();
        assert!(
            matches!(
                e,
                Refusal::Unframeable(EncodeError::TooLarge {
                    len: 100,
                    max: 99,
                    ..
                })
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("dec2"), "{e}");
        // Multi-byte characters count in bytes (FRAME-2): 47 × 'é' is 94 bytes.
        let wide = format!("MSG B {}", "é".repeat(47));
        assert!(read_line(&wide, dec(2)).is_err());
    }

    #[test]
    fn local_commands() {
        let d = Dialect::CANONICAL;
        assert_eq!(read_line("/help", d), Ok(Typed::Help));
        assert_eq!(sent("/raw BLOCK A", d), Outgoing::Raw("BLOCK A".to_owned()));
        assert_eq!(read_line("/raw", d), Err(Refusal::EmptyRaw));
        assert_eq!(read_line("/raw ", d), Err(Refusal::EmptyRaw));
        assert!(matches!(
            read_line("/nope", d),
            Err(Refusal::UnknownLocal(_))
        ));
        let long = format!("/raw {}", "x".repeat(100));
        assert!(matches!(
            read_line(&long, dec(2)),
            Err(Refusal::Unframeable(_))
        ));
    }

    #[test]
    fn chat_commands_are_the_protocol_commands() {
        let d = Dialect::CANONICAL;
        assert_eq!(sent("/msg B hi there", d), sent("MSG B hi there", d));
        assert_eq!(sent("/names", d), Outgoing::Command(Command::GetNames));
        assert_eq!(sent("/quit", d), Outgoing::Command(Command::Exit));
        assert!(read_line("/msg B", d).is_err());
        assert!(read_line("/names now", d).is_err());
    }

    #[test]
    fn verbs_typed_in_lower_case_are_verbs() {
        let d = Dialect::CANONICAL;
        assert_eq!(sent("msg B hi", d), sent("MSG B hi", d));
        assert_eq!(sent("name A", d), sent("NAME A", d));
        assert_eq!(sent("get_names", d), Outgoing::Command(Command::GetNames));
        assert_eq!(sent("exit", d), Outgoing::Command(Command::Exit));
        // Mixed case is not a verb (CMD-1 is the server's; the client reads typed verbs
        // in capitals or all lower case).
        assert!(read_line("Msg B hi", d).is_err());
    }

    #[test]
    fn a_query_sends_plain_lines_to_its_name() {
        let d = Dialect::CANONICAL;
        let bob = Name::new("Bob").unwrap();
        assert_eq!(
            read_line("/query Bob", d),
            Ok(Typed::Query(Some(bob.clone())))
        );
        assert_eq!(read_line("/query", d), Ok(Typed::Query(None)));
        assert!(matches!(
            read_line("/query 9lives", d),
            Err(Refusal::BadQuery(_))
        ));
        let to_bob = |line| read_typed(line, d, Some(&bob));
        assert_eq!(
            to_bob("hi there"),
            Ok(Typed::Send(sent("MSG Bob hi there", d)))
        );
        assert_eq!(
            to_bob("name your price"),
            Ok(Typed::Send(sent("MSG Bob name your price", d)))
        );
        assert_eq!(to_bob("GET_NAMES"), Ok(Typed::Send(sent("GET_NAMES", d))));
        assert_eq!(to_bob("MSG Ann hi"), Ok(Typed::Send(sent("MSG Ann hi", d))));
        assert_eq!(to_bob("/names"), Ok(Typed::Send(sent("GET_NAMES", d))));
        assert!(to_bob("GET_NAMES now").is_err());
    }

    #[test]
    fn numeric_spelling_accepts_canonical_and_numeric_lines() {
        let d = Dialect {
            framing: Framing::CANONICAL,
            spelling: Spelling::Numeric,
        };
        assert_eq!(
            sent("NAME A", d),
            Outgoing::Command(Command::Name(Name::new("A").unwrap()))
        );
        assert_eq!(sent("2", d), Outgoing::Command(Command::GetNames));
        assert!(read_line("9", d).is_err());
        // Numbers are not commands in the canonical spelling.
        assert!(read_line("2", Dialect::CANONICAL).is_err());
    }

    #[test]
    fn outgoing_shows_as_typed() {
        assert_eq!(
            sent("GETNAMES", Dialect::CANONICAL).to_string(),
            "GET_NAMES"
        );
        assert_eq!(sent("MSG B  x", Dialect::CANONICAL).to_string(), "MSG B  x");
        assert_eq!(sent("/raw X", Dialect::CANONICAL).to_string(), "/raw X");
    }
}
