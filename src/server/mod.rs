//! The reference server: PROTOCOL.md implemented the way a production service would
//! be. The harness and the benchmark embed it through [`spawn`]; the `confab-server` binary
//! only parses flags and calls [`listen`] and [`run`].
//!
//! # Layout
//!
//! - this module: configuration, the accept loop, the connection limit and shutdown;
//! - `connection`: one task per connection, a reader that carries out commands and a writer
//!   that drains the connection's outbound queue;
//! - `outbox`: the bounded outbound queue, shared by everyone who sends to a connection;
//! - `registry`: names, unique under races, in registration order;
//! - `pacing`: round pacing under pipelined load (POLICY-8);
//! - `hooks`: the three points where the deliberate faults of `crate::faults` (feature
//!   `faults`) reach in; without the feature they are no-ops.
//!
//! # Policies (PROTOCOL.md §9)
//!
//! Each has a default and a flag of `confab-server`; the wire form is the spec's.
//!
//! | policy | default | flag | what happens |
//! |---|---|---|---|
//! | connection limit (POLICY-1) | [`DEFAULT_MAX_CLIENTS`] | `--max-clients` | a connection over the limit gets `ERROR SERVER_FULL` and is closed before any command is read |
//! | stalled frame (POLICY-2) | [`DEFAULT_FRAME_TIMEOUT`] | `--frame-timeout` | a frame not complete this long after its first byte arrived gets `ERROR TIMEOUT` and the connection is closed; a connection idle between frames is never closed |
//! | outbound bytes (POLICY-3, POLICY-5) | [`DEFAULT_OUTPUT_LIMITS`] | `--output-hard`, `--output-soft`, `--output-soft-time`, `--output-total` | bytes waiting to be sent to one connection (a client that does not read) are bounded like Redis's `client-output-buffer-limit`: over the hard limit, or over the soft limit for the soft time, the connection gets `ERROR SLOW_CONSUMER` after the frame in progress and is closed; all queues together stay under the total, which cuts the largest first. A connection's own replies pause its reader while its queue is over the soft limit. Others are not affected |
//! | shutdown (POLICY-4, POLICY-6) | | Ctrl-C, SIGTERM | stop accepting and reading, drop the frames not yet begun, finish the frame in progress, send `ERROR SHUTTING_DOWN`, half-close, read what the client still sends for a moment, close; return within a few seconds |
//! | round pacing (POLICY-8) | [`DEFAULT_PACE`] | `--pace` | under load from clients that pipeline their commands, and only with one worker thread, the event loop's rounds are stretched to at most this, while that lets deliveries leave in fewer writes without slowing the clients down (`pacing`) |
//!
//! Beyond the spec: the listen backlog is [`LISTEN_BACKLOG`]; every socket has `TCP_NODELAY`;
//! after closing its side of a connection the server reads and discards what the client still
//! sends for a second, and on (up to three) while the client has not taken all the server sent
//! (POLICY-7), so that a client's unread bytes do not turn the close into a reset that could
//! destroy the last reply. The binary fits its connection limit to the
//! open-file limit ([`fit_open_files`]); the server keeps [`REFUSALS`] descriptors for
//! connections it refuses, and one spare to refuse even when out of descriptors.
//!
//! # Dialects
//!
//! [`Config::dialect`] sets the framing and spelling of both directions (DIALECT-1). Replies
//! that do not fit a small frame are shortened as DIALECT-4 says. A `NAME` whose `HELLO` could
//! not be framed (a long name in `dec1`) gets `ERROR INVALID_NAME`, and a reply that cannot be
//! framed at all (any error in `dec1`, an empty names list in `raw` or `line` framing,
//! DIALECT-5) is not sent.
//!
//! # Logs
//!
//! `tracing`: the start and policy actions at `info`; connections, names and ordinary
//! disconnects, with their reason, at `debug`, so that `info` stays quiet under load.
//!
//! # Performance
//!
//! No task or allocation per message beyond parsing: a delivery is encoded once, straight into
//! the recipient's queue, under the registry's shared lock; a reader decodes every complete
//! frame in its buffer before reading again; a writer sends everything queued with one write.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::task::AbortOnDropHandle;
use tracing::{info, warn};

use crate::protocol::{Dialect, ErrorCode, FrameCodec, Reply};

mod connection;
mod files;
pub(crate) mod hooks;
mod outbox;
mod pacing;
mod registry;

pub use files::{FileLimit, RESERVED_FILES, fit_open_files};
pub use outbox::Metrics;

#[cfg(feature = "faults")]
pub use crate::faults::{Fault, UnknownFault};

use hooks::Hooks;
use outbox::Budget;
use registry::Registry;

/// Where the server listens when not told otherwise: loopback, port 4774.
pub use crate::cli::DEFAULT_ADDR;

/// The listen backlog: large enough for thousands of simultaneous connects.
pub const LISTEN_BACKLOG: u32 = 4096;

/// The runtime's worker threads when none are asked for: half the CPUs, at least one.
///
/// A message costs the server little of its own: most of its CPU is the kernel's TCP work for
/// the reads and writes, and the other half of the machine goes to that work on the clients'
/// side (on loopback, to the clients themselves). A second worker on two CPUs takes turns with
/// the clients instead of adding capacity, and tokio's work stealing then splits the rounds of
/// reads that the writers wait for into more, smaller writes (BENCHMARKS.md, "The worker
/// count"): one worker per CPU costs more CPU per message than half as many.
pub fn default_workers(cpus: usize) -> usize {
    (cpus / 2).max(1)
}

/// Scheduler ticks between two polls of the I/O driver, for runtimes that host the server
/// (tokio's default is 61). Polling less often under load lets more connections' frames be
/// handled, and more deliveries queued, between two rounds of writes.
pub const EVENT_INTERVAL: u32 = 4096;

/// Default connection limit (POLICY-1).
pub const DEFAULT_MAX_CLIENTS: usize = 16_384;

/// Default bounds on queued output (POLICY-3): 1 MiB per connection, 256 KiB for 10 s, and
/// 32 MiB for all connections together. With 10,000 clients at a few KiB each, the server stays
/// well inside a 1 GiB container whatever its clients do not read.
pub const DEFAULT_OUTPUT_LIMITS: OutputLimits = OutputLimits {
    hard: 1 << 20,
    soft: 256 << 10,
    soft_for: Duration::from_secs(10),
    total: 32 << 20,
};

/// Connections being refused (`ERROR SERVER_FULL`) at once; more wait in the listen backlog.
/// Their descriptors are kept apart from [`Config::max_clients`] ([`fit_open_files`]).
pub const REFUSALS: usize = 64;

/// Default bound on how long a round of the event loop is stretched under pipelined load
/// (POLICY-8): the longest a reply or delivery is held for more of them to share a write.
pub const DEFAULT_PACE: Duration = Duration::from_millis(8);

/// Default time a started frame may stall before the connection is closed (POLICY-2).
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a graceful shutdown waits for connections to flush and linger before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// How long a connection refused with `SERVER_FULL` is read from before it is dropped.
const REFUSE_LINGER: Duration = Duration::from_millis(500);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Framing and spelling, both directions (DIALECT-1).
    pub dialect: Dialect,
    /// POLICY-1.
    pub max_clients: usize,
    /// POLICY-3, in bytes.
    pub output: OutputLimits,
    /// POLICY-2; `None` disables the timeout.
    pub frame_timeout: Option<Duration>,
    /// POLICY-8: the longest a round of the event loop is stretched under load from clients
    /// that pipeline, for their deliveries to leave in fewer writes; `None` disables it. Only a
    /// runtime with one worker is paced (see `pacing`).
    pub pace: Option<Duration>,
    /// A deliberate fault, for proving the harness (feature `faults` only): one of the faults
    /// that need the server's state ([`crate::faults`]).
    #[cfg(feature = "faults")]
    pub fault: Option<Fault>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dialect: Dialect::CANONICAL,
            max_clients: DEFAULT_MAX_CLIENTS,
            output: DEFAULT_OUTPUT_LIMITS,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            pace: Some(DEFAULT_PACE),
            #[cfg(feature = "faults")]
            fault: None,
        }
    }
}

/// Bounds on the bytes queued to clients that do not read what is sent to them (POLICY-3), as
/// Redis's `client-output-buffer-limit` and `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// A connection whose queue would pass this is cut at once (POLICY-5). At least two of the
    /// dialect's longest frames.
    pub hard: usize,
    /// A connection whose queue stays over this for [`OutputLimits::soft_for`] is cut.
    pub soft: usize,
    /// See [`OutputLimits::soft`].
    pub soft_for: Duration,
    /// All connections' queues together; at least one hard limit.
    pub total: usize,
}

/// Binds a listener on `addr` with [`LISTEN_BACKLOG`] and `SO_REUSEADDR`.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// What every connection of one server shares.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) frames: FrameCodec,
    /// The dialect's payload limit (DIALECT-3).
    pub(crate) max_payload: usize,
    pub(crate) registry: Registry,
    pub(crate) budget: Arc<Budget>,
    /// Set once the server is shutting down (POLICY-4).
    stopping: AtomicBool,
    /// Connections being served (POLICY-1).
    active: AtomicUsize,
    pub(crate) hooks: Hooks,
    /// What the connections count for round pacing (POLICY-8), when the server paces.
    pub(crate) activity: Option<pacing::Activity>,
}

impl Shared {
    fn new(config: Config, metrics: Arc<Metrics>, paced: bool) -> Shared {
        let frames = FrameCodec::new(config.dialect.framing);
        let max_payload = config.dialect.max_payload();
        let mut notice = BytesMut::new();
        let why = "the client does not read what is sent to it";
        if let Some(reply) = Reply::error(ErrorCode::SlowConsumer, why).fit(max_payload) {
            let _ = frames.encode_with(&mut notice, reply.encoded_len(), |d| reply.encode(d));
        }
        let budget = Budget::new(
            config.output,
            config.dialect.framing,
            notice.freeze(),
            metrics,
        );
        Shared {
            hooks: Hooks::new(&config),
            frames,
            max_payload,
            config,
            registry: Registry::default(),
            budget: Arc::new(budget),
            stopping: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            activity: paced.then(pacing::Activity::default),
        }
    }

    /// Appends one frame whose payload `fill` writes (`size_hint` bytes long) to `dst`, in the
    /// server's dialect. Answers `false`, leaving `dst` as it was, when the dialect cannot
    /// frame it.
    pub(crate) fn frame(
        &self,
        dst: &mut BytesMut,
        size_hint: usize,
        fill: impl FnOnce(&mut BytesMut),
    ) -> bool {
        self.frames.encode_with(dst, size_hint, fill).is_ok()
    }

    /// Whether the server is shutting down (POLICY-4).
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Starts the shutdown: every connection's reader is woken to find it, and a connection
    /// that has not read yet finds it before its first read.
    fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.budget.wake_all();
    }

    /// Connections being served.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }
}

/// A place among the [`Config::max_clients`] connections served at once, given back on drop.
pub(crate) struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `listener` until `shutdown` completes, then shuts down gracefully (POLICY-4): stops
/// accepting and reading, sends `ERROR SHUTTING_DOWN` to every connection after the frame in
/// progress, closes them all and returns `Ok(())` within a few seconds.
///
/// Returns an error only if a deliberate fault crashed the server (feature `faults`); then
/// every connection and the listener are dropped before it returns, as if the process died.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    run_with_metrics(listener, config, shutdown, Arc::default()).await
}

/// [`run`], counting its queued output in `metrics`.
pub async fn run_with_metrics(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
    metrics: Arc<Metrics>,
) -> io::Result<()> {
    // A paced round blocks its worker: with more than one, the others would only take over
    // its tasks.
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let pace = config.pace.filter(|p| !p.is_zero() && workers == 1);
    let ctx = Arc::new(Shared::new(config, metrics, pace.is_some()));
    let _pacer = pace.map(|max| {
        let ctx = Arc::clone(&ctx);
        AbortOnDropHandle::new(tokio::spawn(async move {
            if let Some(activity) = &ctx.activity {
                pacing::pace(activity, max).await;
            }
        }))
    });
    let next_id = AtomicU64::new(1);
    let mut tasks = JoinSet::new();
    let local = listener.local_addr()?;
    let limits = ctx.budget.limits();
    info!(
        version = env!("CARGO_PKG_VERSION"),
        pid = std::process::id(),
        addr = %local,
        dialect = %ctx.config.dialect,
        max_clients = ctx.config.max_clients,
        output_hard = limits.hard,
        output_soft = limits.soft,
        output_soft_for = %format!("{:?}", limits.soft_for),
        output_total = limits.total,
        frame_timeout = %ctx.config.frame_timeout.map_or("off".to_owned(), |t| format!("{t:?}")),
        pace = %pace.map_or("off".to_owned(), |t| format!("{t:?}")),
        "confab server listening"
    );
    let refusals = Arc::new(Semaphore::new(REFUSALS));
    let mut spare = files::Spare::open();
    let mut accept_errors = files::ErrorLog::default();
    tokio::pin!(shutdown);
    let crashed = ctx.hooks.crashed();
    tokio::pin!(crashed);
    let outcome = loop {
        tokio::select! {
            biased;
            reason = &mut crashed => break Err(io::Error::other(reason)),
            () = &mut shutdown => break Ok(()),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                spare.refill();
                match accepted {
                    Ok((stream, addr)) => {
                        // Small replies go out at once.
                        let _ = stream.set_nodelay(true);
                        let taken = ctx.active.fetch_add(1, Ordering::AcqRel);
                        let slot = Slot(Arc::clone(&ctx));
                        if taken >= ctx.config.max_clients {
                            drop(slot);
                            info!(%addr, max_clients = ctx.config.max_clients, "refused: server full");
                            // Refusals hold descriptors too: a bounded number at once.
                            let Ok(permit) = Arc::clone(&refusals).acquire_owned().await else {
                                continue;
                            };
                            tasks.spawn(refuse_full(stream, Arc::clone(&ctx), Some(permit)));
                        } else {
                            let id = next_id.fetch_add(1, Ordering::Relaxed);
                            tasks.spawn(connection::serve(stream, addr, id, Arc::clone(&ctx), slot));
                        }
                    }
                    Err(e) if files::out_of_files(&e) && spare.take() => {
                        // The spare descriptor is free now: refuse one waiting connection with
                        // it rather than leave everyone in the backlog without a word.
                        accept_errors.note(&e);
                        if let Ok((stream, addr)) = listener.accept().await {
                            info!(%addr, "refused: out of file descriptors");
                            tasks.spawn(refuse_full(stream, Arc::clone(&ctx), None));
                        }
                    }
                    Err(e) => {
                        // Out of descriptors and the like: wait a little instead of spinning.
                        accept_errors.note(&e);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    };
    drop(listener);
    match outcome {
        Ok(()) => {
            info!(connections = ctx.active(), "shutting down");
            ctx.stop();
            let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
                while tasks.join_next().await.is_some() {}
            })
            .await;
            if drained.is_err() {
                warn!(
                    left = tasks.len(),
                    "connections did not close in time; dropping them"
                );
            }
            tasks.shutdown().await;
            info!("stopped");
            Ok(())
        }
        Err(e) => {
            // As if the process died: every connection is dropped, nothing more is sent.
            tasks.shutdown().await;
            Err(e)
        }
    }
}

/// POLICY-1: `ERROR SERVER_FULL`, then close (POLICY-7: after reading what the client sent).
async fn refuse_full(
    mut stream: TcpStream,
    ctx: Arc<Shared>,
    permit: Option<OwnedSemaphorePermit>,
) {
    let code = ErrorCode::ServerFull;
    let message = format!(
        "the server is at its limit of {} connections",
        ctx.config.max_clients
    );
    let mut out = BytesMut::new();
    if let Some(reply) = Reply::error(code, &message).fit(ctx.max_payload) {
        ctx.frame(&mut out, reply.encoded_len(), |d| reply.encode(d));
    }
    let linger = if ctx.stopping() {
        REFUSE_LINGER / 4
    } else {
        REFUSE_LINGER
    };
    let sent = tokio::time::timeout(linger, async {
        stream.write_all(&out).await?;
        stream.shutdown().await?;
        // Read until the client closes, so that what it sent does not make the close a reset.
        let mut sink = vec![0u8; 1024];
        while tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
    drop(sent);
    drop(stream);
    drop(permit);
}

/// A server running on the current tokio runtime, from [`spawn`].
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the server counts of its queued output.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Whether the server has stopped by itself (only a fault's crash does that).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the server gracefully (POLICY-4) and waits for it. Answers what [`run`] answered:
    /// an error if a fault had crashed it.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join().await
    }

    /// Waits for the server to stop by itself, without asking it to (a crash under a fault).
    pub async fn wait(mut self) -> io::Result<()> {
        self.join().await
    }

    async fn join(&mut self) -> io::Result<()> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(io::Error::other(e)),
        }
    }
}

impl Drop for Running {
    /// Dropping the handle stops the server too (without waiting for it).
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server on `127.0.0.1:0` on the current tokio runtime: the embedding used by the
/// harness, the benchmark and the tests. Answers once it is listening.
pub async fn spawn(config: Config) -> io::Result<Running> {
    let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let metrics = Arc::<Metrics>::default();
    let shutdown = async move {
        // A dropped handle stops the server as well.
        let _ = stopped.await;
    };
    let task = tokio::spawn(run_with_metrics(
        listener,
        config,
        shutdown,
        Arc::clone(&metrics),
    ));
    Ok(Running {
        addr,
        metrics,
        stop: Some(stop),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::default_workers;

    #[test]
    fn the_default_worker_count_is_half_the_cpus_and_never_zero() {
        assert_eq!(default_workers(0), 1);
        assert_eq!(default_workers(1), 1);
        assert_eq!(default_workers(2), 1);
        assert_eq!(default_workers(3), 1);
        assert_eq!(default_workers(8), 4);
    }
}
