//! The client's codec: [`ClientCodec`] for commands, and replies kept with their payload.
//!
//! A reply that does not parse (a foreign server's `Hello A`, say) is shown to the person
//! escaped and marked as unparsed, so the payload travels with the parse result. Frames are
//! cut by the protocol's [`FrameCodec`] and replies parsed by [`Reply::parse`]: the same
//! layers [`ClientCodec`] stacks.
//!
//! The first frame is also a check that the framing is right: when the server's first bytes
//! cannot be a frame of the session's framing, or make an empty or non-text first payload
//! while they read as whole text frames of another framing (`0040ERROR BAD_FRAME ...` read as
//! `dec2` is an empty frame and then a cut one), the session stops there with
//! [`WireError::BadFrame`], naming the framing the bytes fit ([`lenient::framings_of`]),
//! instead of showing phantom replies (CLIENT-4).

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::input::Outgoing;
use crate::protocol::Framing;
use crate::protocol::frame::{self, FrameError};
use crate::protocol::lenient;
use crate::protocol::{ClientCodec, CodecError, Dialect, FrameCodec, Reply, ReplyError};

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The payload as received.
    pub payload: Bytes,
    /// The payload read as a reply of §6.
    pub reply: Result<Reply, ReplyError>,
}

impl Incoming {
    /// A frame holding `payload`.
    pub fn new(payload: Bytes) -> Incoming {
        let reply = Reply::parse(&payload);
        Incoming { payload, reply }
    }
}

/// Why frames from the server cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// A frame that cannot be read in the session's framing (FRAME-5), or a first frame that
    /// shows the framing is wrong.
    #[error("{}", describe_bad_frame(*.framing, .error.as_ref(), *.likely))]
    BadFrame {
        /// The session's framing.
        framing: Framing,
        /// The framing error, when the header itself is bad.
        error: Option<FrameError>,
        /// The framing the received bytes are whole text frames in, when one other than
        /// `raw` fits, or `raw` when only that does.
        likely: Option<Framing>,
    },
    /// A `decN` length field padded with spaces (DIALECT-6), which only lenient reading
    /// takes.
    #[error(
        "the server pads its length fields with spaces (`{}`), which the canonical protocol \
         does not allow; --profile course reads them",
        crate::protocol::escape::escape_bytes(.header)
    )]
    PaddedLength {
        /// The header as it arrived.
        header: Vec<u8>,
    },
    /// Any other failure of the codec.
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> WireError {
        WireError::Codec(CodecError::Io(e))
    }
}

fn describe_bad_frame(
    framing: Framing,
    error: Option<&FrameError>,
    likely: Option<Framing>,
) -> String {
    let mut text = match error {
        Some(e) => format!("the server sent a bad frame ({e}) for {framing}"),
        None => format!("the server's first bytes are not {framing} frames"),
    };
    match likely {
        Some(likely) => text.push_str(&format!(
            "; they read as {likely}: try --framing {likely} (or --framing auto)"
        )),
        None => text.push_str("; is --framing right for this server? (--framing auto detects it)"),
    }
    text
}

/// The framing other than `given` that `bytes` fit best, if any.
fn likely_framing(given: Framing, bytes: &[u8]) -> Option<Framing> {
    lenient::framings_of(bytes)
        .into_iter()
        .find(|f| *f != given)
}

/// Reads [`Incoming`] frames and writes [`Outgoing`] commands in one dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientWire {
    framing: Framing,
    frames: FrameCodec,
    commands: ClientCodec,
    /// The first frame has been checked against the framing.
    checked: bool,
    /// Whether `decN` lengths padded with spaces are read (DIALECT-6).
    padded_lengths: bool,
}

impl ClientWire {
    /// A codec for `dialect`.
    pub const fn new(dialect: Dialect) -> ClientWire {
        ClientWire {
            framing: dialect.framing,
            frames: FrameCodec::new(dialect.framing),
            commands: ClientCodec::new(dialect),
            checked: false,
            padded_lengths: false,
        }
    }

    /// The same, reading `decN` lengths padded with spaces too (DIALECT-6), as lenient reading
    /// does.
    pub const fn reading_padded_lengths(mut self, yes: bool) -> ClientWire {
        self.padded_lengths = yes;
        self
    }

    /// The next frame of a `decN` framing read with [`frame::decode_frame_padded`].
    fn decode_padded(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, WireError> {
        match frame::decode_frame_padded(self.framing, src) {
            Ok(Some(span)) => {
                let frame = src.split_to(span.consumed).freeze();
                Ok(Some(Incoming::new(frame.slice(span.payload()))))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(self.bad_frame(CodecError::Frame(e), src)),
        }
    }

    /// Whether the first frame in `src` shows the framing is wrong: an empty or non-text
    /// payload, where the bytes are whole text frames of a framing with a length field.
    fn check_first(&mut self, src: &[u8]) -> Result<(), WireError> {
        let decoded = if self.padded_lengths {
            frame::decode_frame_padded(self.framing, src)
        } else {
            frame::decode_frame(self.framing, src)
        };
        let Ok(Some(span)) = decoded else {
            return Ok(());
        };
        self.checked = true;
        let payload = &src[span.payload()];
        let odd = (payload.is_empty() && self.framing.has_length_field())
            || std::str::from_utf8(payload).map_or(true, |t| t.contains('\0'));
        match likely_framing(self.framing, src) {
            Some(likely) if odd && !matches!(likely, Framing::Raw) => Err(WireError::BadFrame {
                framing: self.framing,
                error: None,
                likely: Some(likely),
            }),
            _ => Ok(()),
        }
    }

    fn bad_frame(&self, e: CodecError, src: &[u8]) -> WireError {
        match e {
            CodecError::Frame(FrameError::NotADigit { byte: b' ', .. })
                if !self.padded_lengths
                    && matches!(frame::decode_frame_padded(self.framing, src), Ok(Some(_))) =>
            {
                WireError::PaddedLength {
                    header: src[..self.framing.header_len()].to_vec(),
                }
            }
            CodecError::Frame(error) => WireError::BadFrame {
                framing: self.framing,
                error: Some(error),
                likely: likely_framing(self.framing, src),
            },
            other => WireError::Codec(other),
        }
    }
}

impl Decoder for ClientWire {
    type Item = Incoming;
    type Error = WireError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, WireError> {
        if !self.checked && !src.is_empty() {
            self.check_first(src)?;
        }
        if self.padded_lengths && matches!(self.framing, Framing::Decimal(_)) {
            return self.decode_padded(src);
        }
        match self.frames.decode(src) {
            Ok(payload) => Ok(payload.map(|payload| Incoming::new(payload.freeze()))),
            Err(e) => Err(self.bad_frame(e, src)),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, WireError> {
        if !self.checked && !src.is_empty() {
            self.check_first(src)?;
        }
        match self.frames.decode_eof(src) {
            Ok(payload) => Ok(payload.map(|payload| Incoming::new(payload.freeze()))),
            Err(e) => Err(self.bad_frame(e, src)),
        }
    }
}

impl Encoder<&Outgoing> for ClientWire {
    type Error = CodecError;

    fn encode(&mut self, item: &Outgoing, dst: &mut BytesMut) -> Result<(), CodecError> {
        match item {
            Outgoing::Command(command) => self.commands.encode(command, dst),
            Outgoing::Raw(payload) => self.frames.encode(payload.as_bytes(), dst),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Command, Framing, Name, Spelling};

    #[test]
    fn commands_are_framed_and_spelled_in_the_dialect() {
        let mut wire = ClientWire::new(Dialect {
            framing: Framing::CANONICAL,
            spelling: Spelling::GetNames,
        });
        let mut out = BytesMut::new();
        wire.encode(&Outgoing::Command(Command::GetNames), &mut out)
            .unwrap();
        wire.encode(
            &Outgoing::Command(Command::Name(Name::new("A").unwrap())),
            &mut out,
        )
        .unwrap();
        wire.encode(&Outgoing::Raw("BLOCK A".into()), &mut out)
            .unwrap();
        assert_eq!(&out[..], b"0008GETNAMES0006NAME A0007BLOCK A");
    }

    #[test]
    fn replies_keep_their_payload_parsed_or_not() {
        let mut wire = ClientWire::new(Dialect::CANONICAL);
        let mut src = BytesMut::from(&b"0007HELLO A0008Hello A!000"[..]);
        let first = wire.decode(&mut src).unwrap().unwrap();
        assert_eq!(first.reply, Ok(Reply::Hello(Name::new("A").unwrap())));
        let second = wire.decode(&mut src).unwrap().unwrap();
        assert_eq!(&second.payload[..], b"Hello A!");
        assert!(second.reply.is_err());
        assert_eq!(wire.decode(&mut src).unwrap(), None);
        assert!(matches!(
            wire.decode_eof(&mut src),
            Err(WireError::Codec(CodecError::Truncated { buffered: 3 }))
        ));
    }

    fn dialect(framing: &str) -> Dialect {
        Dialect::with_framing(framing.parse().unwrap())
    }

    #[test]
    fn a_dec4_reply_read_as_dec2_is_diagnosed_not_shown_client_4() {
        // A dec4 server's BAD_FRAME to a dec2 client: `00` would be an empty frame.
        let mut wire = ClientWire::new(dialect("dec2"));
        let mut src = BytesMut::from(&b"0020ERROR BAD_FRAME 06NA"[..]);
        let e = wire.decode(&mut src).unwrap_err();
        assert!(
            matches!(e, WireError::BadFrame { likely: Some(f), .. } if f.to_string() == "dec4"),
            "{e:?}"
        );
        assert!(e.to_string().contains("--framing dec4"), "{e}");
    }

    #[test]
    fn lengths_padded_with_spaces_are_read_leniently_and_named_otherwise() {
        let bytes = &b"  11HELLO Alice  14Alice SENT hi!"[..];
        let mut lenient = ClientWire::new(dialect("dec4")).reading_padded_lengths(true);
        let mut src = BytesMut::from(bytes);
        let first = lenient.decode(&mut src).unwrap().unwrap();
        assert_eq!(first.reply, Ok(Reply::Hello(Name::new("Alice").unwrap())));
        let second = lenient.decode(&mut src).unwrap().unwrap();
        assert_eq!(&second.payload[..], b"Alice SENT hi!");
        assert_eq!(lenient.decode(&mut src).unwrap(), None);
        // Zero-padded lengths read as ever.
        let mut src = BytesMut::from(&b"0011HELLO Alice"[..]);
        assert!(lenient.decode(&mut src).unwrap().is_some());
        // Without lenient reading the padding is named, with the way to read it.
        let mut strict = ClientWire::new(dialect("dec4"));
        let e = strict.decode(&mut BytesMut::from(bytes)).unwrap_err();
        assert!(matches!(e, WireError::PaddedLength { .. }), "{e:?}");
        assert!(e.to_string().contains("--profile course"), "{e}");
    }

    #[test]
    fn a_bad_header_names_the_framing_the_bytes_fit() {
        let mut wire = ClientWire::new(dialect("dec4"));
        let mut src = BytesMut::from(&b"07Hello A"[..]);
        let e = wire.decode(&mut src).unwrap_err();
        assert!(
            matches!(&e, WireError::BadFrame { error: Some(_), likely: Some(f), .. } if f.to_string() == "dec2"),
            "{e:?}"
        );
        let mut raw = ClientWire::new(dialect("dec2"));
        let mut src = BytesMut::from(&b"Hello A"[..]);
        let e = raw.decode(&mut src).unwrap_err();
        assert!(e.to_string().contains("--framing raw"), "{e}");
    }

    #[test]
    fn an_empty_first_names_list_in_the_right_framing_is_not_suspect() {
        let mut wire = ClientWire::new(Dialect::CANONICAL);
        let mut src = BytesMut::from(&b"0000"[..]);
        let first = wire.decode(&mut src).unwrap().unwrap();
        assert_eq!(first.reply, Ok(Reply::Names(Default::default())));
        // A split first frame waits for the rest.
        let mut wire = ClientWire::new(dialect("dec2"));
        let mut src = BytesMut::from(&b"07Hel"[..]);
        assert!(wire.decode(&mut src).unwrap().is_none());
        src.extend_from_slice(b"lo A");
        assert_eq!(
            &wire.decode(&mut src).unwrap().unwrap().payload[..],
            b"Hello A"
        );
    }
}
