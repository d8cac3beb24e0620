//! Client commands (PROTOCOL.md §4), parsed from one complete payload.
//!
//! ```text
//! command    = name-cmd / names-cmd / msg-cmd / exit-cmd
//! name-cmd   = %s"NAME" SP name
//! names-cmd  = %s"GET_NAMES" / %s"GETNAMES"
//! msg-cmd    = %s"MSG" SP name SP text
//! exit-cmd   = %s"EXIT"
//! ```
//!
//! Parsing answers a [`Command`] or a [`CommandError`]: an unknown verb or bad arguments are
//! values that the server answers with an error reply, never a reason to drop the connection.
//! The error knows its [`ErrorCode`] and where in the payload parsing failed.

use std::str::FromStr;

use bytes::BufMut;
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_till};
use nom::combinator::rest;
use nom::sequence::preceded;

use super::dialect::{Spelling, Verb};
use super::escape;
use super::name::{Name, NameError};
use super::reply::{ErrorCode, Message, Reply};
use super::text::{Text, TextError};

/// A command from a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Command {
    /// `NAME <name>`: take a name (NAME-1).
    Name(Name),
    /// `GET_NAMES` (or `GETNAMES`): list the names (NAMES-1).
    GetNames,
    /// `MSG <name> <text>`: send a text (MSG-1).
    Msg { to: Name, text: Text },
    /// `EXIT`: leave (EXIT-1).
    Exit,
}

/// A payload that is not a command, and where parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset})")]
pub struct CommandError {
    /// Byte offset in the payload where parsing failed.
    pub offset: usize,
    /// What is wrong.
    pub kind: CommandErrorKind,
}

/// What is wrong with a payload, in the order of precedence of CMD-6.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandErrorKind {
    /// ENC-2: the payload is not UTF-8.
    #[error("the payload is not valid UTF-8")]
    BadEncoding,
    /// CMD-3: not a known verb (the verb, lossily decoded).
    #[error("unknown command '{}'", escape::quote(.verb, 40))]
    UnknownCommand { verb: String },
    /// CMD-4: a known verb with arguments of the wrong form.
    #[error("{problem}; usage: {}", .verb.usage())]
    BadArgs { verb: Verb, problem: ArgsProblem },
    /// NAME-4: `NAME` with a word that is not a valid name.
    #[error("'{}' is not a valid name: {reason}", escape::quote(.word, 40))]
    InvalidName { word: String, reason: NameError },
    /// MSG-7: the text is over the limit.
    #[error("{0}")]
    TextTooLong(TextError),
}

/// How the arguments of a known verb are wrong (CMD-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsProblem {
    #[error("missing argument")]
    Missing,
    #[error("unexpected argument")]
    Extra,
    #[error("empty argument (two spaces in a row?)")]
    EmptyArgument,
    #[error("the recipient '{}' is not a valid name", escape::quote(.0, 40))]
    BadRecipient(String),
    #[error("the message text is empty")]
    EmptyText,
}

impl CommandError {
    fn new(offset: usize, kind: CommandErrorKind) -> CommandError {
        CommandError { offset, kind }
    }

    /// The error code a server replies with (§7).
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            CommandErrorKind::BadEncoding => ErrorCode::BadEncoding,
            CommandErrorKind::UnknownCommand { .. } => ErrorCode::UnknownCommand,
            CommandErrorKind::BadArgs { .. } => ErrorCode::BadArgs,
            CommandErrorKind::InvalidName { .. } => ErrorCode::InvalidName,
            CommandErrorKind::TextTooLong(_) => ErrorCode::TextTooLong,
        }
    }

    /// The error reply a server sends for this payload, with a message that quotes the
    /// offending input escaped and shortened (ERR-2).
    pub fn to_reply(&self) -> Reply {
        Reply::Error {
            code: self.code(),
            message: Message::escaped(&self.kind.to_string()),
        }
    }
}

impl Command {
    /// Parses a payload in the canonical spelling.
    pub fn parse(payload: &[u8]) -> Result<Command, CommandError> {
        Command::parse_with(payload, Spelling::Canonical)
    }

    /// Parses a payload in `spelling`.
    pub fn parse_with(payload: &[u8], spelling: Spelling) -> Result<Command, CommandError> {
        // ENC-2 comes first (CMD-6).
        let input = std::str::from_utf8(payload)
            .map_err(|e| CommandError::new(e.valid_up_to(), CommandErrorKind::BadEncoding))?;
        let at = |rest: &str| input.len() - rest.len();

        let (args, word) = verb(input).map_err(|_| internal(input))?;
        let Some(verb) = spelling.verb(word) else {
            return Err(CommandError::new(
                0,
                CommandErrorKind::UnknownCommand {
                    verb: word.to_owned(),
                },
            ));
        };
        let bad = |rest: &str, problem| {
            CommandError::new(at(rest), CommandErrorKind::BadArgs { verb, problem })
        };
        match verb {
            Verb::GetNames | Verb::Exit => {
                if !args.is_empty() {
                    return Err(bad(args, ArgsProblem::Extra));
                }
                Ok(if verb == Verb::Exit {
                    Command::Exit
                } else {
                    Command::GetNames
                })
            }
            Verb::Name => {
                let (after, word) = argument(args).map_err(|_| bad(args, ArgsProblem::Missing))?;
                if word.is_empty() {
                    return Err(bad(args, ArgsProblem::EmptyArgument));
                }
                if !after.is_empty() {
                    return Err(bad(after, ArgsProblem::Extra));
                }
                Name::new(word).map(Command::Name).map_err(|reason| {
                    CommandError::new(
                        at(args) + 1,
                        CommandErrorKind::InvalidName {
                            word: word.to_owned(),
                            reason,
                        },
                    )
                })
            }
            Verb::Msg => {
                let (after, word) = argument(args).map_err(|_| bad(args, ArgsProblem::Missing))?;
                if word.is_empty() {
                    return Err(bad(args, ArgsProblem::EmptyArgument));
                }
                let to = Name::new(word)
                    .map_err(|_| bad(&args[1..], ArgsProblem::BadRecipient(word.to_owned())))?;
                let (_, text) = text(after).map_err(|_| bad(after, ArgsProblem::Missing))?;
                let text = Text::new(text).map_err(|e| match e {
                    TextError::Empty => bad(after, ArgsProblem::EmptyText),
                    TextError::TooLong { .. } => {
                        CommandError::new(at(after) + 1, CommandErrorKind::TextTooLong(e))
                    }
                })?;
                Ok(Command::Msg { to, text })
            }
        }
    }

    /// The verb of this command.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Name(_) => Verb::Name,
            Command::GetNames => Verb::GetNames,
            Command::Msg { .. } => Verb::Msg,
            Command::Exit => Verb::Exit,
        }
    }

    /// Appends the payload of this command in `spelling` to `out`.
    pub fn encode<B: BufMut>(&self, spelling: Spelling, out: &mut B) {
        out.put_slice(spelling.word(self.verb()).as_bytes());
        match self {
            Command::Name(name) => {
                out.put_u8(b' ');
                out.put_slice(name.as_str().as_bytes());
            }
            Command::Msg { to, text } => {
                out.put_u8(b' ');
                out.put_slice(to.as_str().as_bytes());
                out.put_u8(b' ');
                out.put_slice(text.as_str().as_bytes());
            }
            Command::GetNames | Command::Exit => {}
        }
    }

    /// The payload of this command in the canonical spelling.
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len(Spelling::Canonical));
        self.encode(Spelling::Canonical, &mut out);
        out
    }

    /// The payload length in `spelling`, without encoding.
    pub fn encoded_len(&self, spelling: Spelling) -> usize {
        let verb = spelling.word(self.verb()).len();
        match self {
            Command::Name(name) => verb + 1 + name.len(),
            Command::Msg { to, text } => verb + 1 + to.len() + 1 + text.len(),
            Command::GetNames | Command::Exit => verb,
        }
    }
}

/// Reads a line typed by a person as a command: the same grammar as a payload.
impl FromStr for Command {
    type Err = CommandError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::parse(s.as_bytes())
    }
}

fn internal(input: &str) -> CommandError {
    // The combinators below cannot fail on these inputs; answer something sensible anyway.
    CommandError::new(
        0,
        CommandErrorKind::UnknownCommand {
            verb: input.to_owned(),
        },
    )
}

/// `verb = *(%x00-1F / %x21-FF)`: everything up to the first SP.
fn verb(input: &str) -> IResult<&str, &str> {
    take_till(|c| c == ' ').parse(input)
}

/// `SP word`, where `word = *(%x00-1F / %x21-FF)`: one argument, possibly empty.
fn argument(input: &str) -> IResult<&str, &str> {
    preceded(tag(" "), take_till(|c| c == ' ')).parse(input)
}

/// `SP text`: the rest of the payload after one SP.
fn text(input: &str) -> IResult<&str, &str> {
    preceded(tag(" "), rest).parse(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::new(s).unwrap()
    }

    fn msg(to: &str, text: &str) -> Command {
        Command::Msg {
            to: name(to),
            text: Text::new(text).unwrap(),
        }
    }

    #[test]
    fn known_commands() {
        let cases: Vec<(&[u8], Command)> = vec![
            (b"NAME A", Command::Name(name("A"))),
            (b"NAME Alice99", Command::Name(name("Alice99"))),
            (b"GET_NAMES", Command::GetNames),
            (b"GETNAMES", Command::GetNames),
            (b"MSG B HELLO", msg("B", "HELLO")),
            (b"MSG B hello there", msg("B", "hello there")),
            (b"MSG B  hi ", msg("B", " hi ")),
            (b"MSG B \x1b[2J", msg("B", "\x1b[2J")),
            ("MSG B é".as_bytes(), msg("B", "é")),
            (b"EXIT", Command::Exit),
        ];
        for (payload, command) in cases {
            assert_eq!(Command::parse(payload), Ok(command), "{payload:?}");
        }
    }

    #[test]
    fn errors_have_codes_and_offsets() {
        let cases: Vec<(&[u8], ErrorCode, usize)> = vec![
            (b"NAME \xff", ErrorCode::BadEncoding, 5),
            (b"\xc3", ErrorCode::BadEncoding, 0),
            (b"", ErrorCode::UnknownCommand, 0),
            (b"name A", ErrorCode::UnknownCommand, 0),
            (b"HELLO", ErrorCode::UnknownCommand, 0),
            (b"GET NAMES", ErrorCode::UnknownCommand, 0),
            (b" NAME A", ErrorCode::UnknownCommand, 0),
            (b"NAME", ErrorCode::BadArgs, 4),
            (b"NAME ", ErrorCode::BadArgs, 4),
            (b"NAME  A", ErrorCode::BadArgs, 4),
            (b"NAME A B", ErrorCode::BadArgs, 6),
            (b"NAME A ", ErrorCode::BadArgs, 6),
            (b"GET_NAMES now", ErrorCode::BadArgs, 9),
            (b"GET_NAMES ", ErrorCode::BadArgs, 9),
            (b"EXIT please", ErrorCode::BadArgs, 4),
            (b"MSG", ErrorCode::BadArgs, 3),
            (b"MSG B", ErrorCode::BadArgs, 5),
            (b"MSG B ", ErrorCode::BadArgs, 5),
            (b"MSG  B hi", ErrorCode::BadArgs, 3),
            (b"MSG b@d hi", ErrorCode::BadArgs, 4),
            (b"NAME 1abc", ErrorCode::InvalidName, 5),
            (b"NAME HELLO", ErrorCode::InvalidName, 5),
            (
                b"NAME abcdefghijklmnopqrstuvwxyzABCDEFG",
                ErrorCode::InvalidName,
                5,
            ),
            ("NAME é".as_bytes(), ErrorCode::InvalidName, 5),
        ];
        for (payload, code, offset) in cases {
            let err = Command::parse(payload).unwrap_err();
            assert_eq!(
                (err.code(), err.offset),
                (code, offset),
                "{payload:?}: {err}"
            );
        }
    }

    #[test]
    fn text_limit_is_9961_bytes() {
        let ok = format!("MSG B {}", "a".repeat(9961));
        assert!(Command::parse(ok.as_bytes()).is_ok());
        let long = format!("MSG B {}", "a".repeat(9962));
        let err = Command::parse(long.as_bytes()).unwrap_err();
        assert_eq!((err.code(), err.offset), (ErrorCode::TextTooLong, 6));
    }

    #[test]
    fn numeric_spelling() {
        let s = Spelling::Numeric;
        assert_eq!(Command::parse_with(b"1 A", s), Ok(Command::Name(name("A"))));
        assert_eq!(Command::parse_with(b"2", s), Ok(Command::GetNames));
        assert_eq!(Command::parse_with(b"3 B hi", s), Ok(msg("B", "hi")));
        assert_eq!(Command::parse_with(b"4", s), Ok(Command::Exit));
        assert_eq!(
            Command::parse_with(b"NAME A", s).unwrap_err().code(),
            ErrorCode::UnknownCommand
        );
        let mut out = Vec::new();
        msg("B", "hi").encode(s, &mut out);
        assert_eq!(out, b"3 B hi");
    }

    #[test]
    fn encoding_matches_known_bytes() {
        let cases: Vec<(Command, Spelling, &str)> = vec![
            (Command::Name(name("A")), Spelling::Canonical, "NAME A"),
            (Command::GetNames, Spelling::Canonical, "GET_NAMES"),
            (Command::GetNames, Spelling::GetNames, "GETNAMES"),
            (msg("B", " x y "), Spelling::Canonical, "MSG B  x y "),
            (Command::Exit, Spelling::Canonical, "EXIT"),
        ];
        for (command, spelling, bytes) in cases {
            let mut out = Vec::new();
            command.encode(spelling, &mut out);
            assert_eq!(out, bytes.as_bytes());
            assert_eq!(command.encoded_len(spelling), bytes.len());
        }
    }

    #[test]
    fn error_reply_quotes_input_escaped() {
        let err = Command::parse(b"\x1b[2J").unwrap_err();
        let reply = err.to_reply();
        let payload = String::from_utf8(reply.to_payload()).unwrap();
        assert!(payload.starts_with("ERROR UNKNOWN_COMMAND "), "{payload}");
        assert!(!payload.contains('\x1b'), "{payload}");
        assert!(payload.contains("\\e[2J"), "{payload}");
    }
}
