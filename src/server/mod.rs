//! The reference server (issue 3): PROTOCOL.md implemented the way a production service
//! would be. The API below is fixed so that the harness and the benchmark can embed the
//! server; the implementation is filled in by the server work.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::protocol::Dialect;

/// Where the server listens when not told otherwise: loopback, port 4774.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4774";

/// The listen backlog: large enough for thousands of simultaneous connects.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Default connection limit (POLICY-1).
pub const DEFAULT_MAX_CLIENTS: usize = 16_384;

/// Default bound on frames queued to one connection (POLICY-3).
pub const DEFAULT_QUEUE_LIMIT: usize = 4096;

/// Default time a started frame may stall before the connection is closed (POLICY-2).
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Framing and spelling, both directions (DIALECT-1).
    pub dialect: Dialect,
    /// POLICY-1.
    pub max_clients: usize,
    /// POLICY-3, in frames.
    pub queue_limit: usize,
    /// POLICY-2; `None` disables the timeout.
    pub frame_timeout: Option<Duration>,
    /// A deliberate fault, for proving the harness (feature `faults` only).
    #[cfg(feature = "faults")]
    pub fault: Option<Fault>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dialect: Dialect::CANONICAL,
            max_clients: DEFAULT_MAX_CLIENTS,
            queue_limit: DEFAULT_QUEUE_LIMIT,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            #[cfg(feature = "faults")]
            fault: None,
        }
    }
}

/// Deliberate faults, each breaking one requirement the way real student servers break it.
#[cfg(feature = "faults")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {}

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

/// Serves `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let _ = (listener, config);
    shutdown.await;
    Err(io::Error::other("the server is not implemented yet"))
}
