//! The server under test: the embedded reference server, a server already running at an
//! address, or a command the harness starts (and restarts after a crash).
//!
//! After every case the runner asks [`Target::liveness`], which opens a fresh connection and
//! makes one round trip: that tells a crashed server (refused, or its process gone) and a hung
//! one (accepts, never answers) apart from one that merely answered wrongly.

use std::io;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab::protocol::{Command, Dialect, Name};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command as Process};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::wire::{Conn, Received, Transcript};

/// Which server to test.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The reference server, in this process, on an ephemeral loopback port.
    Embedded(confab::server::Config),
    /// A server already running at this address.
    Addr(String),
    /// A command that starts the server. `{port}` in it is replaced with a free port; without
    /// it, `addr` must say where the server will listen.
    Exec {
        command: String,
        addr: Option<String>,
    },
}

/// Why the target could not be reached or started.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot resolve {addr}: {why}")]
    Resolve { addr: String, why: String },
    #[error("the server at {addr} is not reachable: {why}")]
    Unreachable { addr: SocketAddr, why: String },
    #[error("cannot start `{command}`: {why}")]
    Spawn { command: String, why: String },
    #[error("`{command}` exited before accepting connections ({status}){}", stderr_tail(.output))]
    ExitedEarly {
        command: String,
        status: String,
        output: String,
    },
    #[error("`{command}` did not accept connections on {addr} within {} ms{}", .waited.as_millis(), stderr_tail(.output))]
    NeverReady {
        command: String,
        addr: SocketAddr,
        waited: Duration,
        output: String,
    },
    #[error(
        "--exec needs a {{port}} placeholder in the command, or --addr to say where it listens"
    )]
    NoPort,
    #[error("cannot start the embedded server: {0}")]
    Embedded(io::Error),
    #[error("the server at an address given with --addr cannot be restarted by the harness")]
    CannotRestart,
    #[error(
        "{addr} was still in use {} s after the crash, so the server could not listen again \
         (a server without SO_REUSEADDR cannot rebind its port for about a minute after a \
         crash); give the command a {{port}} placeholder to restart on a fresh port",
        .waited.as_secs()
    )]
    PortInUse { addr: SocketAddr, waited: Duration },
}

fn stderr_tail(output: &str) -> String {
    if output.trim().is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = output.lines().collect();
        let tail = &lines[lines.len().saturating_sub(12)..];
        format!("; its output ends:\n{}", tail.join("\n"))
    }
}

/// What a liveness probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// A fresh connection got a reply.
    Alive,
    /// The server no longer accepts connections, or its process has exited.
    Crashed(String),
    /// The server accepts connections but does not answer.
    Hung(String),
}

struct Embedded {
    task: JoinHandle<io::Result<()>>,
    stop: Option<oneshot::Sender<()>>,
}

struct Spawned {
    child: Child,
    command: String,
    output: Arc<Mutex<Vec<u8>>>,
    /// The tasks copying its stdout and stderr into `output`.
    collectors: Vec<JoinHandle<()>>,
}

/// Keep this much of a started server's output.
const OUTPUT_KEPT: usize = 64 * 1024;

/// A server under test.
pub struct Target {
    spec: TargetSpec,
    dialect: Dialect,
    addr: Option<SocketAddr>,
    embedded: Option<Embedded>,
    spawned: Option<Spawned>,
    startup: Duration,
    probes: u32,
    /// Restarts so far.
    pub restarts: u32,
}

impl Target {
    /// A target speaking `dialect`; `startup` bounds the wait for a started server.
    pub fn new(spec: TargetSpec, dialect: Dialect, startup: Duration) -> Target {
        Target {
            spec,
            dialect,
            addr: None,
            embedded: None,
            spawned: None,
            startup,
            probes: 0,
            restarts: 0,
        }
    }

    /// Whether the harness started the server, so that no other client is connected.
    pub fn owned(&self) -> bool {
        !matches!(self.spec, TargetSpec::Addr(_))
    }

    /// The address, once started.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// One line saying what is being tested.
    pub fn describe(&self) -> String {
        let at = self
            .addr
            .map(|a| a.to_string())
            .unwrap_or_else(|| "(not started)".into());
        match &self.spec {
            TargetSpec::Embedded(_) => format!("the embedded reference server on {at}"),
            TargetSpec::Addr(a) => format!("the server at {a} ({at})"),
            TargetSpec::Exec { command, .. } => match &self.spawned {
                Some(s) => {
                    let pid = s
                        .child
                        .id()
                        .map(|p| format!(", pid {p}"))
                        .unwrap_or_default();
                    format!("`{}` on {at}{pid}", s.command)
                }
                None => format!("`{command}` on {at}"),
            },
        }
    }

    /// Starts (or reaches) the server.
    pub async fn start(&mut self) -> Result<SocketAddr, TargetError> {
        let addr = match self.spec.clone() {
            TargetSpec::Embedded(mut config) => {
                config.dialect = self.dialect;
                let listener = confab::server::listen(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .map_err(TargetError::Embedded)?;
                let addr = listener.local_addr().map_err(TargetError::Embedded)?;
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(confab::server::run(listener, config, async move {
                    let _ = stopped.await;
                }));
                self.embedded = Some(Embedded {
                    task,
                    stop: Some(stop),
                });
                addr
            }
            TargetSpec::Addr(a) => {
                let addr = resolve(&a).await?;
                tokio::time::timeout(self.startup, tokio::net::TcpStream::connect(addr))
                    .await
                    .map_err(|_| TargetError::Unreachable {
                        addr,
                        why: format!("no connection within {} ms", self.startup.as_millis()),
                    })?
                    .map_err(|e| TargetError::Unreachable {
                        addr,
                        why: e.to_string(),
                    })?;
                addr
            }
            TargetSpec::Exec { command, addr } => self.spawn(&command, addr.as_deref()).await?,
        };
        self.addr = Some(addr);
        Ok(addr)
    }

    async fn spawn(
        &mut self,
        command: &str,
        addr: Option<&str>,
    ) -> Result<SocketAddr, TargetError> {
        let (line, addr) = if command.contains("{port}") {
            let port = free_port().map_err(|e| TargetError::Spawn {
                command: command.to_owned(),
                why: format!("no free port: {e}"),
            })?;
            let host = match addr {
                Some(a) => resolve(a).await?.ip(),
                None => [127, 0, 0, 1].into(),
            };
            (
                command.replace("{port}", &port.to_string()),
                SocketAddr::new(host, port),
            )
        } else {
            let Some(a) = addr else {
                return Err(TargetError::NoPort);
            };
            (command.to_owned(), resolve(a).await?)
        };
        let mut child = Process::new("sh")
            .arg("-c")
            .arg(&line)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TargetError::Spawn {
                command: line.clone(),
                why: e.to_string(),
            })?;
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut collectors = Vec::new();
        if let Some(out) = child.stdout.take() {
            collectors.push(tokio::spawn(collect(out, output.clone())));
        }
        if let Some(err) = child.stderr.take() {
            collectors.push(tokio::spawn(collect(err, output.clone())));
        }
        self.spawned = Some(Spawned {
            child,
            command: line.clone(),
            output,
            collectors,
        });
        // Wait, bounded, until it accepts connections or exits.
        let deadline = tokio::time::Instant::now() + self.startup;
        loop {
            if let Some((status, output)) = self.exited_with_output().await {
                return Err(TargetError::ExitedEarly {
                    command: line,
                    status,
                    output,
                });
            }
            if let Ok(Ok(_)) = tokio::time::timeout(
                Duration::from_millis(200),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            {
                return Ok(addr);
            }
            if tokio::time::Instant::now() >= deadline {
                let output = self.output();
                self.stop().await;
                return Err(TargetError::NeverReady {
                    command: line,
                    addr,
                    waited: self.startup,
                    output,
                });
            }
            // Polling for readiness: the deadline bounds it, nothing is ordered by it.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The output a started server has written so far (last 64 KiB).
    pub fn output(&self) -> String {
        self.spawned
            .as_ref()
            .map(|s| {
                String::from_utf8_lossy(&s.output.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_owned()
            })
            .unwrap_or_default()
    }

    /// If the server has stopped by itself: its exit status (or error) and output.
    pub fn exited(&mut self) -> Option<(String, String)> {
        if let Some(e) = &self.embedded
            && e.task.is_finished()
        {
            return Some(("the embedded server stopped".into(), String::new()));
        }
        let status = self.spawned.as_mut()?.child.try_wait().ok()??;
        Some((status.to_string(), self.output()))
    }

    /// As [`Target::exited`], after the process's last output has been collected (its pipes
    /// close when it exits; the copying tasks may not have caught up yet).
    async fn exited_with_output(&mut self) -> Option<(String, String)> {
        let (status, _) = self.exited()?;
        if let Some(s) = self.spawned.as_mut() {
            for c in std::mem::take(&mut s.collectors) {
                // Bounded: a grandchild may hold the pipe open.
                let _ = tokio::time::timeout(Duration::from_secs(1), c).await;
            }
        }
        Some((status, self.output()))
    }

    /// Probes the server with a fresh connection and one round trip.
    pub async fn liveness(&mut self, timeout: Duration) -> Liveness {
        if let Some((status, output)) = self.exited_with_output().await {
            let tail = stderr_tail(&output);
            return Liveness::Crashed(format!("the server process exited ({status}){tail}"));
        }
        let Some(addr) = self.addr else {
            return Liveness::Crashed("the server was never started".into());
        };
        self.probes += 1;
        let transcript = Transcript::new();
        let mut conn =
            match Conn::connect(addr, "probe", self.dialect.framing, &transcript, timeout).await {
                Ok(c) => c,
                Err(e) => {
                    // A dying process may refuse connections a moment before it can be
                    // reaped: give it that moment, to report its exit status and last words.
                    if let Some(reason) = self.await_exit(Duration::from_secs(1)).await {
                        return Liveness::Crashed(reason);
                    }
                    return Liveness::Crashed(format!("a new connection to {addr} failed: {e}"));
                }
            };
        // GET_NAMES changes nothing on the server, and every framing but raw can carry even
        // an empty list. In raw framing an empty list is not sent (DIALECT-5), so the probe
        // takes a name there (short enough for the smallest frames) and gives it back.
        let raw = self.dialect.framing == confab::protocol::Framing::Raw;
        let mut payload = Vec::new();
        if raw {
            let name = Name::new(&format!("p{}", self.probes % 100))
                .unwrap_or_else(|_| Name::new("p").expect("a valid name"));
            Command::Name(name).encode(self.dialect.spelling, &mut payload);
        } else {
            Command::GetNames.encode(self.dialect.spelling, &mut payload);
        }
        if let Err(e) = conn.send_payload(&payload).await {
            return Liveness::Crashed(format!("writing to a new connection failed: {e}"));
        }
        let verdict = match conn.recv(timeout).await {
            Received::Frame(_) | Received::BadFrame(_) => Liveness::Alive,
            Received::Timeout => Liveness::Hung(format!(
                "a new connection got no reply within {} ms",
                timeout.as_millis()
            )),
            Received::Closed | Received::Failed(_) => {
                match self.await_exit(Duration::from_secs(1)).await {
                    Some(reason) => Liveness::Crashed(reason),
                    None => Liveness::Crashed("a new connection was closed without a reply".into()),
                }
            }
        };
        if verdict == Liveness::Alive && raw {
            // Give the name back, and wait (briefly) for the server to take note, so that the
            // next case does not see it.
            let mut exit = Vec::new();
            Command::Exit.encode(self.dialect.spelling, &mut exit);
            let _ = conn.send_payload(&exit).await;
            let _ = conn.recv(timeout.min(Duration::from_millis(500))).await;
        }
        verdict
    }

    /// Waits up to `wait` for a started server to exit; its status and output if it did.
    async fn await_exit(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some((status, output)) = self.exited_with_output().await {
                return Some(format!(
                    "the server process exited ({status}){}",
                    stderr_tail(&output)
                ));
            }
            if self.spawned.is_none() || tokio::time::Instant::now() >= deadline {
                return None;
            }
            // Polling the child's status, bounded by `deadline`.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the server if the harness started it.
    pub async fn stop(&mut self) {
        if let Some(mut e) = self.embedded.take() {
            if let Some(stop) = e.stop.take() {
                let _ = stop.send(());
            }
            if tokio::time::timeout(Duration::from_secs(2), &mut e.task)
                .await
                .is_err()
            {
                e.task.abort();
            }
        }
        if let Some(mut s) = self.spawned.take()
            && let Some(pid) = s.child.id()
        {
            let group = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
            if tokio::time::timeout(Duration::from_secs(2), s.child.wait())
                .await
                .is_err()
            {
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                let _ = s.child.wait().await;
            }
        }
    }

    /// Stops the server and starts it again, for the next case. A fixed port may still be in
    /// use for a while after a crash (servers without SO_REUSEADDR): then it retries until the
    /// restart deadline and says so.
    pub async fn restart(&mut self, deadline: Duration) -> Result<SocketAddr, TargetError> {
        if matches!(self.spec, TargetSpec::Addr(_)) {
            return Err(TargetError::CannotRestart);
        }
        self.stop().await;
        self.restarts += 1;
        let until = tokio::time::Instant::now() + deadline;
        loop {
            match self.start().await {
                Ok(addr) => return Ok(addr),
                Err(TargetError::ExitedEarly { output, .. })
                    if output.to_ascii_lowercase().contains("in use") =>
                {
                    if tokio::time::Instant::now() >= until {
                        return Err(TargetError::PortInUse {
                            addr: self
                                .addr
                                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                            waited: deadline,
                        });
                    }
                    // The port is in TIME_WAIT; try again shortly. Bounded by `until`.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

async fn collect(mut from: impl tokio::io::AsyncRead + Unpin, into: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut out = into.lock().unwrap_or_else(|e| e.into_inner());
        out.extend_from_slice(&buf[..n]);
        if out.len() > OUTPUT_KEPT {
            let cut = out.len() - OUTPUT_KEPT;
            out.drain(..cut);
        }
    }
}

async fn resolve(addr: &str) -> Result<SocketAddr, TargetError> {
    let mut found = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| TargetError::Resolve {
            addr: addr.to_owned(),
            why: e.to_string(),
        })?;
    found.next().ok_or_else(|| TargetError::Resolve {
        addr: addr.to_owned(),
        why: "no addresses".into(),
    })
}

fn free_port() -> io::Result<u16> {
    let l = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(l.local_addr()?.port())
}
