//! The confab wire protocol, without sockets.
//!
//! Bottom up:
//!
//! - [`dialect`]: the ways peers differ: [`Framing`], [`Spelling`], the verb table.
//! - [`frame`]: where one message ends and the next begins, for every [`Framing`].
//!   The only streaming layer: it answers a payload, "need more bytes", or a [`FrameError`].
//! - [`name`] and [`text`]: the values that travel inside payloads, as types that only
//!   validation can build.
//! - [`command`] and [`reply`]: the two grammars, each parsed from one complete payload and
//!   encoded by the same module, so the encoder cannot produce what the parser rejects.
//! - [`codec`]: `tokio_util` codecs that stack the above, shared by the server, the client, the
//!   harness and the benchmark.
//! - [`escape`]: showing untrusted bytes inertly (CLIENT-2, ERR-2).
//! - [`lenient`]: reading course servers' own wordings and telling their framing from their
//!   bytes, for the harness and the client alike.
//! - [`recognise`]: what a reply in a course server's own words means, read in the context of
//!   what was asked (the client's lenient reading).
//!
//! A bad payload costs one error value (and one error reply); only a bad frame header ends a
//! connection, because after it the stream cannot be resynchronised (FRAME-5).
//!
//! ```
//! use confab::protocol::{frame, Command, Framing, Name, Reply};
//!
//! // The course's first exchange, byte for byte (PROTOCOL.md §12).
//! let cmd = Command::parse(b"NAME A")?;
//! assert_eq!(cmd, Command::Name(Name::new("A")?));
//! let hello = Reply::Hello(Name::new("A")?);
//! assert_eq!(frame::frame(Framing::CANONICAL, &hello.to_payload())?, b"0007HELLO A");
//!
//! // A bad payload is a value with an error code, not a dropped connection.
//! let err = Command::parse(b"name A").unwrap_err();
//! assert_eq!(err.to_reply().to_payload(), b"ERROR UNKNOWN_COMMAND unknown command 'name'");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod command;
pub mod dialect;
pub mod escape;
pub mod frame;
pub mod lenient;
pub mod name;
pub mod recognise;
pub mod reply;
pub mod text;

pub use codec::{ClientCodec, CodecError, FrameCodec, ServerCodec};
pub use command::{Command, CommandError, CommandErrorKind};
pub use dialect::{BinaryWidth, DecimalWidth, Dialect, Framing, ParseDialectError, Spelling, Verb};
pub use frame::{EncodeError, FrameError, FrameSpan};
pub use name::{Name, NameError};
pub use reply::{
    ErrorCode, Message, NameList, Reply, ReplyError, ReplyErrorKind, UnknownErrorCode,
};
pub use text::{Text, TextError};

/// The largest payload of a canonical frame, in bytes (FRAME-3).
pub const MAX_PAYLOAD: usize = 9999;

/// The longest name, in bytes (NAME-3).
pub const MAX_NAME_LEN: usize = 32;

/// The longest text of a `MSG`, in bytes (MSG-7): the frame limit less the longest sender
/// name less `" SENT "`, so that every delivery fits in one frame.
pub const MAX_TEXT_LEN: usize = MAX_PAYLOAD - MAX_NAME_LEN - " SENT ".len();

/// Words that are not names, so that a reply can be classified without context (REPLY-1).
pub const RESERVED_WORDS: [&str; 4] = ["HELLO", "SENT", "ERROR", "BYE"];
