//! Telling a server's dialect from its bytes (PROTOCOL.md §11 and §13, JUDGE-6), for the
//! harness and the client alike.
//!
//! One attempt waits briefly for a greeting on a connection, sends a first command (`NAME`,
//! or `GET_NAMES`) in a candidate framing and spelling, and reads whatever comes back as raw
//! bytes. Which framings those bytes are whole text frames in
//! ([`lenient::framings_of`](crate::protocol::lenient::framings_of)) says what the server
//! speaks: `11HELLO Smoke` is dec2 whatever was sent. What to do with a wrong guess differs:
//! the harness starts a server it owns afresh, the client connects again, so the loop over
//! candidates is theirs; the attempt and its reading are shared.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::protocol::Framing;
use crate::protocol::escape::escape_bytes;
use crate::protocol::frame;
use crate::protocol::lenient::{NameCase, framings_of, reads_as_refusal};
use crate::protocol::{Command, Name, Spelling};

/// Once bytes come, how long without more before they are taken as all there is: what belongs
/// to one reply comes in the next few milliseconds, if at all.
pub const SETTLE: Duration = Duration::from_millis(100);

/// The most bytes read in one burst.
const MAX_READ: usize = 64 * 1024;

/// What arrives on `stream` within `first`, then until it pauses for [`SETTLE`] (or closes,
/// or passes 64 KiB); and whether the server closed the connection.
pub async fn read_burst(stream: &mut TcpStream, first: Duration) -> (Bytes, bool) {
    let mut buffer = BytesMut::with_capacity(1024);
    let mut until = Instant::now() + first;
    loop {
        match timeout_at(until, stream.read_buf(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (buffer.freeze(), true),
            Ok(Ok(_)) if buffer.len() < MAX_READ => until = Instant::now() + SETTLE,
            _ => return (buffer.freeze(), false),
        }
    }
}

/// What one attempt saw.
#[derive(Debug)]
pub struct Attempt {
    pub framing: Framing,
    pub spelling: Spelling,
    /// Bytes that came before anything was sent.
    pub greeting: Bytes,
    /// Bytes that came after the first command.
    pub reply: Bytes,
    /// Whether the server closed the connection.
    pub closed: bool,
    /// The connection, while it is open.
    pub stream: Option<TcpStream>,
}

/// How an attempt reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The server answered in the framing it was sent, and (for `NAME`) accepted the name.
    Answered,
    /// The server answered `NAME` in the framing it was sent, not with a refusal but without
    /// the name (`OK`): an acceptance in few words, or a reply to something else (another
    /// spelling may tell), with this payload.
    Unnamed(Vec<u8>),
    /// The server answered in the framing it was sent, but refused: the spelling may be
    /// wrong (or the name), with this payload.
    Refused(Vec<u8>),
    /// The server answered in another framing: the likeliest first.
    OtherFraming(Vec<Framing>),
    /// No reply; the connection stays open.
    Silent,
    /// The server closed the connection without a reply.
    Dropped,
}

/// On `stream`, waits up to `greet_wait` for a greeting (not at all when zero), sends `first`
/// in `framing` and `spelling`, and reads the reply for up to `wait`.
pub async fn attempt(
    mut stream: TcpStream,
    framing: Framing,
    spelling: Spelling,
    first: &Command,
    greet_wait: Duration,
    wait: Duration,
) -> Result<Attempt, frame::EncodeError> {
    let mut payload = Vec::new();
    first.encode(spelling, &mut payload);
    let bytes = frame::frame(framing, &payload)?;
    let mut greeting = Bytes::new();
    let mut closed = false;
    if !greet_wait.is_zero() {
        (greeting, closed) = read_burst(&mut stream, greet_wait).await;
    }
    let mut reply = Bytes::new();
    if !closed {
        if stream.write_all(&bytes).await.is_err() {
            closed = true;
        } else {
            (reply, closed) = read_burst(&mut stream, wait).await;
        }
    }
    Ok(Attempt {
        framing,
        spelling,
        greeting,
        reply,
        closed,
        stream: if closed { None } else { Some(stream) },
    })
}

impl Attempt {
    /// How the attempt reads; `name` is the name a first `NAME` asked for, which a reply that
    /// accepts it mentions.
    pub fn reading(&self, name: Option<&Name>) -> Reading {
        if self.reply.is_empty() {
            return if self.closed {
                Reading::Dropped
            } else {
                Reading::Silent
            };
        }
        // An empty names list, the answer to a first GET_NAMES where no one is named yet, is a
        // length field of zeros alone: a frame of the framing sent, though it holds no text
        // for [`framings_of`] to read (CLIENT-6).
        let zeros = match self.framing {
            Framing::Decimal(_) | Framing::Hex(_) => Some(b'0'),
            Framing::Binary(_) | Framing::BinaryLe(_) => Some(0),
            Framing::Raw | Framing::Line => None,
        };
        if name.is_none()
            && self.reply.len() == self.framing.header_len()
            && zeros.is_some_and(|z| self.reply.iter().all(|b| *b == z))
        {
            return Reading::Answered;
        }
        let fits = framings_of(&self.reply);
        let fits_sent = match self.framing {
            // Raw fits any text: it is the server's framing only when nothing framed fits.
            Framing::Raw => fits.first() == Some(&Framing::Raw),
            f => fits.contains(&f),
        };
        if !fits_sent {
            return Reading::OtherFraming(fits);
        }
        let payloads = payloads(self.framing, &self.reply);
        let answered = |p: &[u8]| {
            !reads_as_refusal(p) && name.is_none_or(|n| NameCase::shown(p, n.as_str()).is_some())
        };
        if payloads.iter().any(|p| answered(p)) {
            return Reading::Answered;
        }
        match payloads
            .iter()
            .find(|p| !p.is_empty() && !reads_as_refusal(p))
        {
            Some(p) if name.is_some() => Reading::Unnamed(p.clone()),
            _ => Reading::Refused(payloads.into_iter().next().unwrap_or_default()),
        }
    }

    /// The evidence, as shown to a person: the reply (and greeting), escaped and cut.
    pub fn evidence(&self) -> String {
        let mut out = String::new();
        if !self.greeting.is_empty() {
            out.push_str(&format!("greeting `{}`, ", cut(&self.greeting)));
        }
        out.push_str(&format!("reply `{}`", cut(&self.reply)));
        out
    }
}

/// The payloads of `bytes` read as frames of `framing` (whole frames only).
pub fn payloads(framing: Framing, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Ok(Some(span)) = frame::decode_frame_padded(framing, rest) {
        out.push(rest[span.payload()].to_vec());
        rest = &rest[span.consumed..];
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// Escaped bytes, cut to 80 characters.
pub fn cut(bytes: &[u8]) -> String {
    let s = escape_bytes(bytes);
    if s.chars().count() <= 80 {
        s
    } else {
        format!("{}…", s.chars().take(80).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(framing: &str, reply: &'static [u8], closed: bool) -> Attempt {
        Attempt {
            framing: framing.parse().expect("framing"),
            spelling: Spelling::Canonical,
            greeting: Bytes::new(),
            reply: Bytes::from_static(reply),
            closed,
            stream: None,
        }
    }

    #[test]
    fn readings_of_first_replies() {
        let n = Name::new("Obs").expect("name");
        let n = Some(&n);
        assert_eq!(
            a("dec2", b"09HELLO Obs", false).reading(n),
            Reading::Answered
        );
        assert_eq!(
            a("dec2", b"09Hello Obs", false).reading(n),
            Reading::Answered
        );
        assert_eq!(
            a("dec2", b"15Unknown command", false).reading(n),
            Reading::Refused(b"Unknown command".to_vec())
        );
        assert_eq!(
            a("dec2", b"02OK", false).reading(n),
            Reading::Unnamed(b"OK".to_vec())
        );
        assert_eq!(
            a("dec2", b"02OK09HELLO Obs", false).reading(n),
            Reading::Answered
        );
        // A length under ten reads the same in hexadecimal: decimal comes first.
        assert_eq!(
            a("dec2", b"0009HELLO Obs", false).reading(n),
            Reading::OtherFraming(vec![
                "dec4".parse().expect("f"),
                "hex4".parse().expect("f"),
                Framing::Raw
            ])
        );
        assert_eq!(a("raw", b"HELLO Obs!", false).reading(n), Reading::Answered);
        assert!(matches!(
            a("raw", b"09HELLO Obs", false).reading(n),
            Reading::OtherFraming(_)
        ));
        assert_eq!(a("dec4", b"", true).reading(n), Reading::Dropped);
        assert_eq!(a("dec4", b"", false).reading(n), Reading::Silent);
        // GET_NAMES: any reply that is not a refusal answers it.
        assert_eq!(a("dec2", b"03A B", false).reading(None), Reading::Answered);
        // An empty names list is the length field alone (CLIENT-6), in the framing sent only.
        assert_eq!(a("dec2", b"00", false).reading(None), Reading::Answered);
        assert_eq!(a("dec4", b"0000", false).reading(None), Reading::Answered);
        assert_eq!(
            a("bin2", b"\x00\x00", false).reading(None),
            Reading::Answered
        );
        assert!(matches!(
            a("dec4", b"00", false).reading(None),
            Reading::OtherFraming(_)
        ));
        // A NAME is not answered by an empty frame.
        assert_ne!(a("dec2", b"00", false).reading(n), Reading::Answered);
        // A welcome that shows the name in lower case accepts it (JUDGE-21).
        assert_eq!(
            a("dec2", b"12Welcome obs!", false).reading(n),
            Reading::Answered
        );
    }

    #[test]
    fn evidence_is_escaped_and_cut() {
        let mut at = a("dec2", b"09HELLO Obs", false);
        at.greeting = Bytes::from_static(b"03Hi!");
        assert_eq!(at.evidence(), "greeting `03Hi!`, reply `09HELLO Obs`");
        let long = a("raw", &[b'x'; 200], false);
        assert!(long.evidence().ends_with("…`"));
    }
}
