//! Telling a server's dialect from its bytes (PROTOCOL.md §11, DIALECT-7).
//!
//! One attempt connects, waits briefly for a greeting, sends `NAME <sentinel>` in a candidate
//! framing and spelling, and reads whatever comes back as raw bytes. Which framings those
//! bytes are whole frames in ([`confab::protocol::lenient::framings_of`]) says what the server
//! speaks: `11HELLO Smoke` is dec2 whatever was sent. The loop over candidates, with restarts
//! of a server that a wrong guess crashed, is [`crate::target::Target::detect`].

use std::net::SocketAddr;
use std::time::Duration;

use confab::protocol::escape::escape_bytes;
use confab::protocol::frame::{self, Framing};
use confab::protocol::lenient::{framings_of, has_word, reads_as_refusal};
use confab::protocol::{Command, Name, Spelling};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What one attempt saw.
#[derive(Debug)]
pub struct Attempt {
    pub framing: Framing,
    pub spelling: Spelling,
    /// Bytes that came before the harness sent anything.
    pub greeting: Vec<u8>,
    /// Bytes that came after NAME was sent.
    pub reply: Vec<u8>,
    /// Whether the server closed the connection.
    pub closed: bool,
    /// The connection, while it is open.
    pub stream: Option<TcpStream>,
}

/// How an attempt reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The server answered NAME in the framing it was sent, and accepted the name.
    Named,
    /// The server answered in the framing it was sent, but refused: the spelling may be wrong
    /// (or the name).
    Refused(Vec<u8>),
    /// The server answered in another framing: the likeliest first.
    OtherFraming(Vec<Framing>),
    /// No reply; the connection stays open.
    Silent,
    /// The server closed the connection without a reply.
    Dropped,
}

/// Reads what arrives within `first` (nothing if nothing does), then what follows closely.
async fn read_some(stream: &mut TcpStream, first: Duration, out: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    let mut wait = first;
    // Bounded: a server that floods is read for at most a few rounds.
    for _ in 0..16 {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
        // What belongs to the same reply comes in the next few milliseconds, if at all.
        wait = Duration::from_millis(60);
    }
    false
}

/// Connects to `addr` and tries `NAME name` in `framing` and `spelling`. `greet_wait` bounds
/// the wait for a greeting before sending; `wait` bounds the wait for the reply.
pub async fn attempt(
    addr: SocketAddr,
    framing: Framing,
    spelling: Spelling,
    name: &Name,
    greet_wait: Duration,
    wait: Duration,
) -> std::io::Result<Attempt> {
    let mut stream = tokio::time::timeout(wait, TcpStream::connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no connection"))??;
    let _ = stream.set_nodelay(true);
    let mut greeting = Vec::new();
    let mut closed = false;
    if !greet_wait.is_zero() {
        closed = read_some(&mut stream, greet_wait, &mut greeting).await;
    }
    let mut reply = Vec::new();
    if !closed {
        let mut payload = Vec::new();
        Command::Name(name.clone()).encode(spelling, &mut payload);
        let bytes = frame::frame(framing, &payload)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        if stream.write_all(&bytes).await.is_err() {
            closed = true;
        } else {
            closed = read_some(&mut stream, wait, &mut reply).await;
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
    /// How the attempt reads for `name`.
    pub fn reading(&self, name: &Name) -> Reading {
        if self.reply.is_empty() {
            return if self.closed {
                Reading::Dropped
            } else {
                Reading::Silent
            };
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
        if payloads
            .iter()
            .any(|p| has_word(p, name.as_str()) && !reads_as_refusal(p))
        {
            Reading::Named
        } else {
            Reading::Refused(payloads.into_iter().next().unwrap_or_default())
        }
    }

    /// The evidence, as shown to the user: the bytes of the reply (and greeting).
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
fn payloads(framing: Framing, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Ok(Some(span)) = frame::decode_frame(framing, rest) {
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

    fn a(framing: &str, reply: &[u8], closed: bool) -> Attempt {
        Attempt {
            framing: framing.parse().expect("framing"),
            spelling: Spelling::Canonical,
            greeting: Vec::new(),
            reply: reply.to_vec(),
            closed,
            stream: None,
        }
    }

    #[test]
    fn readings_of_first_replies() {
        let n = Name::new("Obs").expect("name");
        assert_eq!(a("dec2", b"09HELLO Obs", false).reading(&n), Reading::Named);
        assert_eq!(a("dec2", b"09Hello Obs", false).reading(&n), Reading::Named);
        assert_eq!(
            a("dec2", b"15Unknown command", false).reading(&n),
            Reading::Refused(b"Unknown command".to_vec())
        );
        assert_eq!(
            a("dec2", b"0009HELLO Obs", false).reading(&n),
            Reading::OtherFraming(vec!["dec4".parse().expect("f"), Framing::Raw])
        );
        assert_eq!(a("raw", b"HELLO Obs!", false).reading(&n), Reading::Named);
        assert!(matches!(
            a("raw", b"09HELLO Obs", false).reading(&n),
            Reading::OtherFraming(_)
        ));
        assert_eq!(a("dec4", b"", true).reading(&n), Reading::Dropped);
        assert_eq!(a("dec4", b"", false).reading(&n), Reading::Silent);
    }
}
