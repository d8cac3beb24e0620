//! `tokio_util` codecs: the frame layer and the two grammars stacked for each side.
//!
//! - [`FrameCodec`] cuts a byte stream into payloads and frames payloads, for any [`Framing`].
//! - [`ServerCodec`] reads commands and writes replies: the server's side.
//! - [`ClientCodec`] reads replies and writes commands: the client's, harness's and bench's.
//!
//! A payload that does not parse is an `Ok(Err(_))` item: the stream goes on (ENC-2, CMD-3).
//! A bad frame header is an `Err(_)`: the stream cannot go on (FRAME-5).

use std::io;

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::command::{Command, CommandError};
use super::dialect::{Dialect, Framing, Spelling};
use super::frame::{
    EncodeError, FrameError, check_payload, decode_frame, frame_len_hint, write_header,
};
use super::reply::{Reply, ReplyError};

/// Why a codec stopped.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The peer sent a bad frame header; the stream cannot be read on.
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// A payload could not be framed in this dialect; nothing was written.
    #[error("cannot frame payload: {0}")]
    Encode(#[from] EncodeError),
    /// The stream ended in the middle of a frame (FRAME-6).
    #[error("the connection closed in the middle of a frame ({buffered} bytes of it received)")]
    Truncated { buffered: usize },
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
}

/// Cuts a stream into payloads, and frames payloads, in one [`Framing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameCodec {
    framing: Framing,
}

impl FrameCodec {
    /// A codec for `framing`.
    pub const fn new(framing: Framing) -> FrameCodec {
        FrameCodec { framing }
    }

    /// The framing.
    pub const fn framing(&self) -> Framing {
        self.framing
    }

    /// Appends a frame to `dst` whose payload `fill` writes, checking it before the header is
    /// written. On error `dst` is left as it was.
    pub fn encode_with<F>(
        &self,
        dst: &mut BytesMut,
        size_hint: usize,
        fill: F,
    ) -> Result<(), EncodeError>
    where
        F: FnOnce(&mut BytesMut),
    {
        let framing = self.framing;
        let start = dst.len();
        let header = framing.header_len();
        dst.reserve(header + size_hint + framing.trailer_len());
        dst.put_bytes(0, header);
        fill(dst);
        let len = dst.len() - start - header;
        if let Err(e) = check_payload(framing, &dst[start + header..]) {
            dst.truncate(start);
            return Err(e);
        }
        write_header(framing, len, &mut dst[start..start + header]);
        if framing == Framing::Line {
            dst.put_u8(b'\n');
        }
        Ok(())
    }
}

impl Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        match decode_frame(self.framing, src)? {
            Some(span) => {
                let mut frame = src.split_to(span.consumed);
                frame.advance(span.start);
                frame.truncate(span.len);
                Ok(Some(frame))
            }
            None => {
                // The length has been checked against the limit: room for the rest is bounded.
                if let Some(total) = frame_len_hint(self.framing, src) {
                    src.reserve(total.saturating_sub(src.len()));
                }
                Ok(None)
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() => Ok(None),
            None => {
                let buffered = src.len();
                src.clear();
                Err(CodecError::Truncated { buffered })
            }
        }
    }
}

impl Encoder<&[u8]> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode_with(dst, payload.len(), |d| d.put_slice(payload))?;
        Ok(())
    }
}

/// The server's side: reads commands, writes replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerCodec {
    frames: FrameCodec,
    spelling: Spelling,
}

impl ServerCodec {
    /// A codec for `dialect`.
    pub const fn new(dialect: Dialect) -> ServerCodec {
        ServerCodec {
            frames: FrameCodec::new(dialect.framing),
            spelling: dialect.spelling,
        }
    }
}

impl Decoder for ServerCodec {
    type Item = Result<Command, CommandError>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(self
            .frames
            .decode(src)?
            .map(|payload| Command::parse_with(&payload, self.spelling)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(self
            .frames
            .decode_eof(src)?
            .map(|payload| Command::parse_with(&payload, self.spelling)))
    }
}

impl Encoder<&Reply> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, reply: &Reply, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.frames
            .encode_with(dst, reply.encoded_len(), |d| reply.encode(d))?;
        Ok(())
    }
}

/// The client's side: reads replies, writes commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientCodec {
    frames: FrameCodec,
    spelling: Spelling,
}

impl ClientCodec {
    /// A codec for `dialect`.
    pub const fn new(dialect: Dialect) -> ClientCodec {
        ClientCodec {
            frames: FrameCodec::new(dialect.framing),
            spelling: dialect.spelling,
        }
    }
}

impl Decoder for ClientCodec {
    type Item = Result<Reply, ReplyError>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(self
            .frames
            .decode(src)?
            .map(|payload| Reply::parse(&payload)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(self
            .frames
            .decode_eof(src)?
            .map(|payload| Reply::parse(&payload)))
    }
}

impl Encoder<&Command> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, command: &Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        let spelling = self.spelling;
        self.frames
            .encode_with(dst, command.encoded_len(spelling), |d| {
                command.encode(spelling, d)
            })?;
        Ok(())
    }
}
