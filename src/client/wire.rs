//! The client's codec: [`ClientCodec`] for commands, and replies kept with their payload.
//!
//! A reply that does not parse (a foreign server's `Hello A`, say) is shown to the person
//! escaped and marked as unparsed, so the payload travels with the parse result. Frames are
//! cut by the protocol's [`FrameCodec`] and replies parsed by [`Reply::parse`]: the same
//! layers [`ClientCodec`] stacks.

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::input::Outgoing;
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

/// Reads [`Incoming`] frames and writes [`Outgoing`] commands in one dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientWire {
    frames: FrameCodec,
    commands: ClientCodec,
}

impl ClientWire {
    /// A codec for `dialect`.
    pub const fn new(dialect: Dialect) -> ClientWire {
        ClientWire {
            frames: FrameCodec::new(dialect.framing),
            commands: ClientCodec::new(dialect),
        }
    }
}

impl Decoder for ClientWire {
    type Item = Incoming;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, CodecError> {
        Ok(self
            .frames
            .decode(src)?
            .map(|payload| Incoming::new(payload.freeze())))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Incoming>, CodecError> {
        Ok(self
            .frames
            .decode_eof(src)?
            .map(|payload| Incoming::new(payload.freeze())))
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
            Err(CodecError::Truncated { buffered: 3 })
        ));
    }
}
