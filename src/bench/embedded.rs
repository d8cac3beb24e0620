//! The reference server, run inside the benchmark's process when no `--addr` is given.
//!
//! It gets its own tokio runtime on its own threads, all named [`EMBEDDED_THREAD_NAME`], so
//! that their CPU time can be told apart from the load generator's.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tokio::sync::oneshot;

use super::EMBEDDED_THREAD_NAME;
use crate::protocol::{Dialect, Framing};
use crate::server;

/// How long stopping waits for the server to finish.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running embedded server.
pub(crate) struct Embedded {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    done: mpsc::Receiver<()>,
}

impl Embedded {
    /// Starts the reference server on 127.0.0.1, port chosen by the system.
    pub(crate) fn start(framing: Framing) -> io::Result<Embedded> {
        let (addr_tx, addr_rx) = mpsc::channel::<io::Result<SocketAddr>>();
        let (shutdown, shutdown_rx) = oneshot::channel::<()>();
        let (done_tx, done) = mpsc::channel();
        let config = server::Config {
            dialect: Dialect::with_framing(framing),
            ..server::Config::default()
        };
        thread::Builder::new()
            .name(EMBEDDED_THREAD_NAME.into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .thread_name(EMBEDDED_THREAD_NAME)
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
                        .and_then(|l| Ok((l.local_addr()?, l)));
                    let listener = match listener {
                        Ok((addr, l)) => {
                            let _ = addr_tx.send(Ok(addr));
                            l
                        }
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                            return;
                        }
                    };
                    let stop = async {
                        let _ = shutdown_rx.await;
                    };
                    if let Err(e) = server::run(listener, config, stop).await {
                        tracing::warn!("embedded server: {e}");
                    }
                });
                let _ = done_tx.send(());
            })?;
        let addr = addr_rx
            .recv()
            .map_err(|_| io::Error::other("the server thread ended before listening"))??;
        Ok(Embedded {
            addr,
            shutdown,
            done,
        })
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the server to stop and waits a bounded time for it.
    pub(crate) fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.done.recv_timeout(STOP_TIMEOUT);
    }
}
