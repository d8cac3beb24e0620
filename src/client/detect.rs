//! `--framing auto`: telling a server's framing from what it sends (§11).
//!
//! Course servers frame in many ways and none says which. The detector, in order:
//!
//! 1. Connects and waits briefly ([`GREETING_WAIT`]) for a greeting. A server that greets
//!    tells its framing with it: the bytes are read until they stop coming
//!    ([`detect::read_burst`]) and the best framing they are whole text frames in is taken
//!    ([`lenient::framings_of`]).
//! 2. Otherwise it sends a first command (`NAME`, or `GET_NAMES` without a name) in each of
//!    the likely framings in turn ([`lenient::likely_framings`], at most [`MAX_TRIES`]) and
//!    reads the reply. A reply that is whole frames of the framing tried keeps the connection
//!    and the framing; a reply in another framing (a `dec4` server's `ERROR BAD_FRAME` to a
//!    `dec2` `NAME`) names the framing, and a new connection is opened in it (a server
//!    without a length field keeps the connection: it read one bad command). A server that
//!    drops the connection or stays silent ([`PROBE_WAIT`]) is tried in the next framing on a
//!    new connection.
//!
//! Every wait is bounded, so detection ends, with a framing or with
//! [`ClientError::Undetected`], within `MAX_TRIES * (PROBE_WAIT + settling)`. The attempt and
//! how its reply reads are the library's ([`crate::detect`]), shared with the harness.

use std::time::Duration;

use bytes::Bytes;

use super::{ClientError, connect};
use crate::detect::{self, Reading};
use crate::protocol::Framing;
use crate::protocol::{Command, Dialect, Name, lenient};

/// How long a new connection is watched for a greeting.
pub const GREETING_WAIT: Duration = Duration::from_millis(400);

/// How long a reply to the first command is waited for.
pub const PROBE_WAIT: Duration = Duration::from_millis(1500);

/// The most framings tried: those met among course servers first.
pub const MAX_TRIES: usize = 7;

/// A connection whose framing is known.
#[derive(Debug)]
pub struct Detected {
    /// The connection, in `framing`.
    pub stream: tokio::net::TcpStream,
    /// The framing the server speaks.
    pub framing: Framing,
    /// Bytes already received on `stream`: whole frames in `framing`, to be read first.
    pub received: Bytes,
    /// Whether `NAME` has been sent on `stream` (its reply may be in `received`).
    pub name_sent: bool,
}

/// Connects to `addr` and finds the framing of the server there (see the module docs).
/// `name` is the first command's name; commands are spelled as `dialect` says.
pub async fn detect(
    addr: &str,
    name: Option<&Name>,
    dialect: Dialect,
) -> Result<Detected, ClientError> {
    let mut stream = connect(addr).await?;
    let (greeting, _) = detect::read_burst(&mut stream, GREETING_WAIT).await;
    if !greeting.is_empty()
        && let Some(framing) = lenient::framings_of(&greeting).first().copied()
    {
        return Ok(Detected {
            stream,
            framing,
            received: greeting,
            name_sent: false,
        });
    }
    let first = match name {
        Some(name) => Command::Name(name.clone()),
        None => Command::GetNames,
    };
    let mut tried = Vec::new();
    let mut fresh = Some(stream);
    // A server that refuses connections after a probe may have crashed on it.
    let reconnect = |tried: &[Framing]| {
        let probe = tried.last().copied();
        let command = String::from_utf8_lossy(&first.to_payload()).into_owned();
        async move {
            connect(addr).await.map_err(|e| match (e, probe) {
                (ClientError::Connect { addr, source }, Some(framing))
                    if source.kind() == std::io::ErrorKind::ConnectionRefused =>
                {
                    ClientError::DiedOnProbe {
                        addr,
                        command,
                        framing,
                        source,
                    }
                }
                (e, _) => e,
            })
        }
    };
    for framing in lenient::likely_framings().into_iter().take(MAX_TRIES) {
        let stream = match fresh.take() {
            Some(stream) => stream,
            None => reconnect(&tried).await?,
        };
        tried.push(framing);
        let Ok(attempt) = detect::attempt(
            stream,
            framing,
            dialect.spelling,
            &first,
            Duration::ZERO,
            PROBE_WAIT,
        )
        .await
        else {
            continue;
        };
        match attempt.reading(name) {
            // In the framing tried: a refusal is the server's business, the framing is found.
            Reading::Answered | Reading::Unnamed(_) | Reading::Refused(_) => {
                if let Some(stream) = attempt.stream {
                    let name_sent = matches!(first, Command::Name(_));
                    // The reply to a NAME is the session's; the reply to the probe's own
                    // GET_NAMES is nobody's, and is not shown.
                    let received = if name_sent {
                        attempt.reply
                    } else {
                        Bytes::new()
                    };
                    return Ok(Detected {
                        stream,
                        framing,
                        received,
                        name_sent,
                    });
                }
            }
            Reading::OtherFraming(fits) => {
                let Some(told) = fits.first().copied() else {
                    continue;
                };
                // A server without a length field read what was sent as one bad command and
                // goes on: the connection is kept (a server that never forgets a closed
                // connection is not wedged by a new one). A server with a length field has
                // lost its footing: start again on a new connection.
                let stream = match (told, attempt.stream) {
                    (Framing::Raw | Framing::Line, Some(stream)) => stream,
                    (_, old) => {
                        drop(old);
                        reconnect(&tried).await?
                    }
                };
                return Ok(Detected {
                    stream,
                    framing: told,
                    received: Bytes::new(),
                    name_sent: false,
                });
            }
            Reading::Silent | Reading::Dropped => {}
        }
    }
    Err(ClientError::Undetected {
        tried: tried
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}
