//! Before a run on a server given by address: does it speak the target's protocol?
//!
//! Phase 1 gives a server [`super::DEFAULT_CONNECT_TIMEOUT`] to name every client, which is
//! right for a slow server and wrong for one that speaks something else: it would sit silent
//! for a minute. So one connection first sends what the target understands (`NAME` in the
//! framing, or Redis's `PING`) and reads the reply, for at most [`PROBE_WAIT`]. Nothing, a
//! closed connection, bytes that are not a frame (with the framing they read as, from
//! [`lenient::framings_of`]) or a reply of the wrong kind end the run there, with a message.
//! A connection that cannot be opened is left for phase 1 to report.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::{BenchError, Target};
use crate::protocol::Framing;
use crate::protocol::frame;
use crate::protocol::{Command, Name, Reply, escape, lenient};

/// How long the probe waits for a reply.
pub const PROBE_WAIT: Duration = Duration::from_secs(3);

/// The most bytes of a reply read.
const MAX_REPLY: usize = 16 * 1024;

/// Checks that the server at `addr` answers like `target` (see the module docs).
pub fn probe(target: Target, framing: Framing, addr: SocketAddr) -> Result<(), BenchError> {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_WAIT) else {
        return Ok(());
    };
    let not = |why: String| {
        Err(BenchError::NotTarget(format!(
            "the server at {addr} does not speak {target}{}: {why}",
            match target {
                Target::Confab => format!(" in {framing} framing"),
                Target::Redis => String::new(),
            }
        )))
    };
    let (request, what) = match target {
        Target::Confab => {
            let name = Name::new(&format!("probe{}", std::process::id()))
                .map_err(|e| BenchError::Options(format!("probe name: {e}")))?;
            let mut payload = Vec::new();
            Command::Name(name).encode(Default::default(), &mut payload);
            let bytes = frame::frame(framing, &payload)
                .map_err(|e| BenchError::Options(format!("probe: {e}")))?;
            (bytes, "NAME")
        }
        Target::Redis => (b"*1\r\n$4\r\nPING\r\n".to_vec(), "PING"),
    };
    if let Err(e) = stream.write_all(&request) {
        return not(format!("it did not take {what} ({e})"));
    }
    let deadline = Instant::now() + PROBE_WAIT;
    let mut received = Vec::new();
    let closed = loop {
        if complete(target, framing, &received) {
            break false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break false;
        }
        let mut buf = [0u8; 1024];
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) if received.len() + n > MAX_REPLY => break false,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break false;
            }
            Err(_) => break true,
        }
    };
    let shown = escape::quote(&String::from_utf8_lossy(&received), 60);
    if received.is_empty() {
        return match closed {
            true => not(format!(
                "it closed the connection without a reply to {what}"
            )),
            false => not(format!(
                "it sent nothing within {}s in reply to {what}",
                PROBE_WAIT.as_secs()
            )),
        };
    }
    match target {
        Target::Redis if received.starts_with(b"+PONG") => Ok(()),
        Target::Redis => not(format!("it answered PING with '{shown}'")),
        Target::Confab => match frame::decode_frame(framing, &received) {
            Ok(Some(span)) => match Reply::parse(&received[span.payload()]) {
                Ok(Reply::Hello(_) | Reply::Error { .. }) => {
                    let mut payload = Vec::new();
                    Command::Exit.encode(Default::default(), &mut payload);
                    if let Ok(exit) = frame::frame(framing, &payload) {
                        let _ = stream.write_all(&exit);
                    }
                    Ok(())
                }
                _ => not(format!("it answered NAME with '{shown}', not HELLO")),
            },
            _ => {
                let likely = lenient::framings_of(&received)
                    .into_iter()
                    .find(|f| *f != framing)
                    .map(|f| format!("; they read as {f} (try --framing {f})"))
                    .unwrap_or_default();
                not(format!(
                    "its reply to NAME, '{shown}', is not a {framing} frame{likely}"
                ))
            }
        },
    }
}

/// Whether `received` holds a whole reply.
fn complete(target: Target, framing: Framing, received: &[u8]) -> bool {
    match target {
        Target::Redis => received.ends_with(b"\r\n"),
        Target::Confab => {
            !received.is_empty() && !matches!(frame::decode_frame(framing, received), Ok(None))
        }
    }
}
