//! The sentinel: one named client that stays connected while a server runs.
//!
//! Real course servers trip over connections that open and close without a word (an unnamed
//! client's disconnect crashes some, a greeting sent to a client that has gone crashes
//! others). So the harness never probes with throwaway connections: after each case it asks
//! the sentinel, which joined like any client and stays, for the names, twice. Answers mean the
//! server is alive; silence means it hangs; a closed sentinel means it died or dropped us, which
//! the process (or the port) then tells apart. The sentinel never sends EXIT and never relies
//! on an empty names list, which some servers do not answer.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use confab::detect;
use confab::protocol::escape::escape_bytes;
use confab::protocol::lenient::{NameCase, has_word, reads_as_refusal};
use confab::protocol::{Command, Dialect, Name};

use crate::wire::{Conn, Received, Transcript};

/// How many unrelated frames (broadcasts, acknowledgements) the sentinel skips while it waits
/// for its own reply.
const SKIP: usize = 16;

/// How many answers to the sentinel's `GET_NAMES` must leave its name out, with none showing
/// it, before the server is taken to list only the other users (JUDGE-17).
const UNLISTED_ANSWERS: u32 = 2;

/// What a server that the harness has to talk to is like, as detected or configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerTraits {
    /// The framing and spelling it speaks.
    pub dialect: Dialect,
    /// Whether it sends a frame on connect, before any command.
    pub greets: bool,
    /// Whether it accepts a `NAME` in few words that do not repeat the name (`OK`).
    pub unnamed_hello: bool,
    /// The letter case it shows names in (JUDGE-21): the harness names its clients so.
    pub name_case: NameCase,
}

/// What asking the sentinel found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The server answered.
    Answered,
    /// Nothing came within the wait.
    Silent,
    /// The sentinel's connection closed or failed.
    Closed(String),
}

/// Why the sentinel could not join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The connection failed.
    Connect(String),
    /// The server refused the sentinel's name, with this reply.
    Refused(Bytes),
    /// No reply to NAME (or the connection closed).
    NoReply(String),
}

impl std::fmt::Display for JoinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JoinError::Connect(e) => write!(f, "cannot connect: {e}"),
            JoinError::Refused(p) => write!(f, "NAME was refused with `{}`", escape_bytes(p)),
            JoinError::NoReply(why) => write!(f, "no reply to NAME: {why}"),
        }
    }
}

/// A named client that stays connected for the life of one server process.
#[derive(Debug)]
pub struct Sentinel {
    conn: Conn,
    name: Name,
    /// Whether a names list has shown the sentinel's own name: some servers list only the
    /// other users (JUDGE-16).
    listed_self: bool,
    /// Answers to `GET_NAMES` that were no refusal and left the sentinel's name out.
    unlisted: u32,
    /// Whether an earlier sentinel of the same server found that its lists leave the asker
    /// out (JUDGE-17).
    told_others_only: bool,
}

impl Sentinel {
    /// Connects, skips a greeting if the server sends one, and names itself `name`.
    pub async fn join(
        addr: SocketAddr,
        traits: &ServerTraits,
        name: &Name,
        timeout: Duration,
    ) -> Result<Sentinel, JoinError> {
        let transcript = Transcript::new();
        let mut conn = Conn::connect(addr, "sentinel", traits.dialect, &transcript, timeout)
            .await
            .map_err(|e| JoinError::Connect(e.to_string()))?;
        // Liveness only: whatever the matching, a server is alive if it answers.
        conn.read_padded_lengths();
        if traits.greets {
            let _ = conn.recv(timeout).await;
        }
        conn.send(&Command::Name(name.clone()))
            .await
            .map_err(|e| JoinError::Connect(e.to_string()))?;
        let mut sentinel = Sentinel {
            conn,
            name: name.clone(),
            listed_self: false,
            unlisted: 0,
            told_others_only: false,
        };
        for _ in 0..SKIP {
            match sentinel.conn.recv(timeout).await {
                Received::Frame(p) if reads_as_refusal(&p) => return Err(JoinError::Refused(p)),
                Received::Frame(p)
                    if has_word(&p, name.as_str()) || traits.unnamed_hello && !p.is_empty() =>
                {
                    sentinel.conn.set_named(name);
                    return Ok(sentinel);
                }
                Received::Frame(_) => continue,
                Received::Timeout => {
                    return Err(JoinError::NoReply(format!(
                        "nothing within {} ms",
                        timeout.as_millis()
                    )));
                }
                other => return Err(JoinError::NoReply(describe(&other))),
            }
        }
        Err(JoinError::NoReply("only unrelated frames arrived".into()))
    }

    /// The sentinel's name.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// Whether the server's names lists leave the asker out, as this sentinel's lists have
    /// shown or an earlier sentinel's (JUDGE-17): none has shown its name, and two (or an
    /// earlier sentinel's) have answered without it.
    pub fn lists_others_only(&self) -> bool {
        !self.listed_self && (self.told_others_only || self.unlisted >= UNLISTED_ANSWERS)
    }

    /// Takes the server's names lists to leave the asker out, as an earlier sentinel of the
    /// same server found.
    pub fn tell_others_only(&mut self) {
        self.told_others_only = true;
    }

    /// Reads and drops what arrived unasked (broadcasts), without waiting for more.
    async fn drain(&mut self) -> Option<Check> {
        for _ in 0..SKIP * 4 {
            match self.conn.recv(Duration::ZERO).await {
                Received::Frame(_) => continue,
                Received::Timeout => return None,
                Received::BadFrame(_) => return None,
                other => return Some(Check::Closed(describe(&other))),
            }
        }
        None
    }

    /// Asks for the names twice, the second time after the first answer (JUDGE-11): the
    /// server is alive if both come back. A server that serves its sockets in turn may answer
    /// the first in the turn that reads a case's last bytes, before it handles them.
    pub async fn check(&mut self, timeout: Duration) -> Check {
        if let Some(closed) = self.drain().await {
            return closed;
        }
        for _ in 0..2 {
            if let Err(check) = self.ask_names(timeout).await {
                return check;
            }
        }
        Check::Answered
    }

    /// Sends GET_NAMES and answers the names list (the first frame that shows the sentinel's
    /// own name), or else the last frame that came; `Err` if none did. Until a list has shown
    /// its own name, a frame without it is followed for [`detect::SETTLE`] only: the server
    /// may list only the other users; once it is known to (JUDGE-17), only by the frames that
    /// have arrived with it.
    async fn ask_names(&mut self, timeout: Duration) -> Result<Bytes, Check> {
        if let Err(e) = self.conn.send(&Command::GetNames).await {
            return Err(Check::Closed(format!("the write failed: {e}")));
        }
        let mut last = None;
        let mut wait = timeout;
        for _ in 0..SKIP {
            match self.conn.recv(wait).await {
                Received::Frame(p) if has_word(&p, self.name.as_str()) => {
                    self.listed_self = true;
                    return Ok(p);
                }
                Received::Frame(p) => {
                    last = Some(p);
                    if self.lists_others_only() {
                        wait = Duration::ZERO;
                    } else if !self.listed_self {
                        wait = wait.min(detect::SETTLE);
                    }
                }
                Received::BadFrame(_) => return Ok(Bytes::new()),
                Received::Timeout => break,
                other => return Err(Check::Closed(describe(&other))),
            }
        }
        let last = last.ok_or(Check::Silent)?;
        if !reads_as_refusal(&last) {
            self.unlisted = self.unlisted.saturating_add(1);
        }
        Ok(last)
    }

    /// Asks for the names until none of `gone` is listed, for at most `wait`: the server
    /// notices closed connections on its own schedule. Answers whether they went.
    /// It asks at least once, so that a server that no longer answers is not taken as clean.
    pub async fn await_gone(&mut self, gone: &[String], wait: Duration) -> bool {
        if self.drain().await.is_some() {
            return false;
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Ok(list) = self.ask_names(left).await else {
                return false;
            };
            if !gone.iter().any(|n| has_word(&list, n)) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            // Polling the server's list, bounded by `deadline`.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn describe(r: &Received) -> String {
    crate::case::describe(r, "the sentinel", Duration::ZERO)
}
