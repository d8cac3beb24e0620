//! The load generator behind `confab-bench`: many named clients sending one another
//! small messages as fast as a server routes them, checking every delivery.
//!
//! A run has two phases. Phase 1 connects and names every client (for Redis: subscribes each
//! client to its own channel) and is timed. Phase 2 has every client (or the first `talkers`
//! of them, the others idle but still receiving) send `messages` texts to peers chosen by a
//! [`Pattern`], keeping at most `inflight` of its own messages sent and not
//! yet received by their recipient. Each text carries a [`stamp::Stamp`]: sender, recipient,
//! per-pair sequence number and send time. Recipients check what they get in a
//! [`ledger::Ledger`], so loss, duplication, reordering and misrouting are counted per
//! sender-recipient pair (MSG-8), and latency goes into an HDR histogram.
//!
//! The same workload runs against confab servers (through [`crate::protocol::ClientCodec`]) and
//! against Redis pub/sub (each client SUBSCRIBEs to its own name on one connection and
//! PUBLISHes to its recipient's channel on another), so one tool and one method measure both.
//!
//! # Staying out of the way
//!
//! On a 2-core machine the generator shares the CPU with the server it measures, so it is one
//! thread with one `epoll` loop over every socket ([`mio`]): no task per client, no wakeups
//! between tasks, no locks. A client's in-flight count is a plain integer that its recipients
//! decrement as they read; a client with room writes every message it may send into one buffer
//! and then makes one `write` call. Reads take whatever the socket holds and decode every
//! complete frame in it, and the clock is read once per read or write, not once per message.
//! The server's CPU time per delivered message is measured from `/proc`, so a generator that
//! saturates its core still yields a fair comparison of servers.

pub mod ledger;
pub mod pattern;
pub mod probe;
pub mod procstat;
pub mod report;
pub mod resp;
pub mod stamp;

mod driver;
mod embedded;

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::protocol::{Framing, MAX_TEXT_LEN};

pub use ledger::Integrity;
pub use pattern::{ClientsError, Pattern, UnknownPattern};
pub use report::Report;

/// Default number of clients.
pub const DEFAULT_CLIENTS: usize = 100;
/// Default number of messages each client sends.
pub const DEFAULT_MESSAGES: u32 = 10_000;
/// Default text size in bytes.
pub const DEFAULT_SIZE: usize = 32;
/// Default number of each client's messages in flight.
pub const DEFAULT_INFLIGHT: u32 = 16;
/// Default number of connections being opened and named at once in phase 1.
pub const DEFAULT_CONNECT_CONCURRENCY: usize = 256;
/// Default time without any delivery after which phase 2 gives up.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit on phase 1.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default seed of the recipients' random draws.
pub const DEFAULT_SEED: u64 = 0x00c0_ffee;
/// The prefix of the names of the embedded server's threads, whose CPU time is the server's.
pub const EMBEDDED_THREAD_NAME: &str = "confab-server";

/// What kind of server is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A server speaking the confab protocol (PROTOCOL.md), in `framing`.
    #[default]
    Confab,
    /// A Redis server, through pub/sub.
    Redis,
}

impl Target {
    /// The target's name on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Target::Confab => "confab",
            Target::Redis => "redis",
        }
    }

    /// Connections per client: Redis needs one to subscribe and one to publish.
    pub const fn connections_per_client(self) -> usize {
        match self {
            Target::Confab => 1,
            Target::Redis => 2,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confab" => Ok(Target::Confab),
            "redis" => Ok(Target::Redis),
            _ => Err(UnknownTarget(s.to_owned())),
        }
    }
}

/// A `--target` that is not one of [`Target`]'s names; it holds the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("target {0:?} is not one of: confab, redis")]
pub struct UnknownTarget(pub String);

/// Everything that defines a run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server; `None` starts the embedded reference server (confab target only).
    pub addr: Option<SocketAddr>,
    /// What speaks at `addr`.
    pub target: Target,
    /// Framing of the confab target (DIALECT-1); the canonical spelling is used.
    pub framing: Framing,
    /// Number of clients.
    pub clients: usize,
    /// How many of the clients send in phase 2 (clients `0..talkers`); the others stay
    /// connected, named and idle, and receive what the talkers send them. `None`: all.
    pub talkers: Option<usize>,
    /// Messages each client sends in phase 2.
    pub messages: u32,
    /// Text size in bytes; never below what the stamp needs.
    pub size: usize,
    /// Who sends to whom.
    pub pattern: Pattern,
    /// Each client's messages sent and not yet received, at most.
    pub inflight: u32,
    /// The most messages a client puts in one `write`; `None` for no bound (everything the
    /// window allows goes in one write). 1 is a person typing: one write per message.
    pub max_batch: Option<u32>,
    /// Messages per second over all clients; `None` sends as fast as `inflight` allows.
    pub rate: Option<f64>,
    /// Seed of the random recipients.
    pub seed: u64,
    /// The server's process, to read its CPU time and memory; `None` for none (the embedded
    /// server's threads are measured without it).
    pub server_pid: Option<u32>,
    /// Connections being opened and named at once in phase 1.
    pub connect_concurrency: usize,
    /// Phase 1 fails after this long.
    pub connect_timeout: Duration,
    /// Phase 2 ends after this long without a delivery, counting what did not arrive as lost.
    pub stall_timeout: Duration,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: None,
            target: Target::Confab,
            framing: Framing::CANONICAL,
            clients: DEFAULT_CLIENTS,
            talkers: None,
            messages: DEFAULT_MESSAGES,
            size: DEFAULT_SIZE,
            pattern: Pattern::Random,
            inflight: DEFAULT_INFLIGHT,
            max_batch: None,
            rate: None,
            seed: DEFAULT_SEED,
            server_pid: None,
            connect_concurrency: DEFAULT_CONNECT_CONCURRENCY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            progress: false,
        }
    }
}

/// The longest client name: `c` and up to ten digits.
const MAX_CLIENT_NAME: usize = 11;

impl Options {
    /// Checks that the options describe a run that can be made.
    pub fn validate(&self) -> Result<(), BenchError> {
        let bad = |m: String| Err(BenchError::Options(m));
        if let Err(e) = self.pattern.check(self.clients) {
            return bad(e.to_string());
        }
        if self.clients > u32::MAX as usize / 2 {
            return bad(format!("--clients {} is too many", self.clients));
        }
        match self.talkers {
            Some(0) => return bad("--talkers must be at least 1".into()),
            Some(t) if t > self.clients => {
                return bad(format!(
                    "--talkers {t} is more than the {} clients",
                    self.clients
                ));
            }
            _ => {}
        }
        if self.messages == 0 {
            return bad("--messages must be at least 1".into());
        }
        if self.inflight == 0 {
            return bad("--inflight must be at least 1".into());
        }
        if self.max_batch == Some(0) {
            return bad("--max-batch must be at least 1".into());
        }
        if self.connect_concurrency == 0 {
            return bad("--connect-concurrency must be at least 1".into());
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return bad(format!("--rate {rate} must be a positive number"));
        }
        if self.target == Target::Redis && self.addr.is_none() {
            return bad("--target redis needs --addr (the Redis server to measure)".into());
        }
        if self.target == Target::Confab {
            if !self.framing.delimits() {
                return bad(
                    "raw framing cannot be benchmarked: pipelined messages arriving in one read \
                     cannot be told apart (DIALECT-5)"
                        .into(),
                );
            }
            // MSG c<digits> <text> and <name> SENT <text> must fit the framing (DIALECT-4).
            let limit = self
                .framing
                .max_payload()
                .saturating_sub(MAX_CLIENT_NAME + " SENT ".len())
                .min(MAX_TEXT_LEN);
            if self.text_len() > limit {
                return bad(format!(
                    "--size {} (a {}-byte text) does not fit {} framing, whose texts here hold \
                     at most {limit} bytes",
                    self.size,
                    self.text_len(),
                    self.framing
                ));
            }
        }
        Ok(())
    }

    /// The number of clients that send in phase 2.
    pub fn talkers(&self) -> usize {
        self.talkers.unwrap_or(self.clients)
    }

    /// The longest text the run sends: `size`, or more when the stamp needs it.
    pub fn text_len(&self) -> usize {
        let stamp = stamp::Stamp {
            sender: (self.clients.max(1) - 1) as u32,
            recipient: (self.clients.max(1) - 1) as u32,
            seq: self.messages.max(1) - 1,
            // A day in nanoseconds: no run lasts longer.
            sent_ns: 86_400_000_000_000,
        };
        self.size.max(stamp.encoded_len())
    }

    /// File descriptors the run needs in this process.
    pub fn descriptors_needed(&self) -> usize {
        self.clients * self.target.connections_per_client() + 64
    }
}

/// Why a run could not be made. A run that was made and found faults is not an error: its
/// [`Report`] says what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options contradict each other or the target.
    #[error("{0}")]
    Options(String),
    /// The embedded server did not start.
    #[error("the embedded server did not start: {0}")]
    Embedded(std::io::Error),
    /// Phase 1 did not complete: not every client could connect and be named.
    #[error("connect phase failed after {ready} of {clients} clients were ready: {reason}")]
    Connect {
        ready: usize,
        clients: usize,
        reason: String,
    },
    /// The event loop itself failed.
    #[error("i/o error in the load generator: {0}")]
    Io(#[from] std::io::Error),
    /// The server does not answer like the target ([`probe`]).
    #[error("{0}")]
    NotTarget(String),
}

/// Runs the benchmark described by `options`.
pub fn run(options: &Options) -> Result<Report, BenchError> {
    options.validate()?;
    match options.addr {
        Some(addr) => {
            probe::probe(options.target, options.framing, addr)?;
            driver::run(options, addr, None)
        }
        None => {
            let server =
                embedded::Embedded::start(options.framing).map_err(BenchError::Embedded)?;
            let result = driver::run(options, server.addr(), Some(EMBEDDED_THREAD_NAME));
            server.stop();
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_names_round_trip_and_an_unknown_one_is_named() {
        for target in [Target::Confab, Target::Redis] {
            assert_eq!(target.as_str().parse::<Target>(), Ok(target));
        }
        let err = "Redis".parse::<Target>().unwrap_err();
        assert_eq!(err, UnknownTarget("Redis".to_owned()));
        assert!(err.to_string().contains("\"Redis\""), "{err}");
    }
}
