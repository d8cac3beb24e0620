//! The server under test: the embedded reference server, a server already running at an
//! address, or a command the harness starts (and restarts after a crash).
//!
//! The harness never opens a connection without a purpose. Readiness after a start is read
//! from the operating system (the port is listening), not from a connection. Liveness after
//! each case is asked of the [`Sentinel`], a named client that stays connected: it tells a
//! crashed server (its process gone, or for `--addr` its port no longer accepting) and a hung
//! one (no answer) apart from one that merely answered a case wrongly, or dropped one of the
//! case's connections. A server the harness starts itself is started afresh before each case,
//! so no case sees what an earlier one left behind.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use confab::protocol::{Framing, Name, Spelling};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::sentinel::{Check, JoinError, Sentinel, ServerTraits};

mod discover;
mod process;

use confab::detect;
pub use process::kill_started_servers;
use process::{Embedded, Spawned, resolve, started_groups, stderr_tail};

/// Which server to test.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The reference server, in this process, on an ephemeral loopback port.
    Embedded(confab::server::Config),
    /// A server in this process that [`Launch`] starts, as afresh as the embedded one: for
    /// testing the harness against the reference server behind a test double.
    Launched(Launch),
    /// A server already running at this address.
    Addr(String),
    /// A command that starts the server. `{port}` in it is replaced with a free port; without
    /// it, `addr` must say where the server will listen.
    Exec {
        command: String,
        addr: Option<String>,
    },
}

/// Serves the loopback listener it is given until the receiver completes, on a task of its own.
pub type LaunchFn = dyn Fn(tokio::net::TcpListener, oneshot::Receiver<()>) -> JoinHandle<io::Result<()>>
    + Send
    + Sync;

/// What starts a [`TargetSpec::Launched`] server.
#[derive(Clone)]
pub struct Launch(pub Arc<LaunchFn>);

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Launch")
    }
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
    #[error(
        "the server does not speak {given} framing: its reply to NAME was {evidence}, which \
         reads as {likely} framing; run with --framing {likely} or --framing auto"
    )]
    WrongFraming {
        given: Framing,
        likely: Framing,
        evidence: String,
    },
    #[error("the server answered nothing: {0}")]
    AnsweredNothing(String),
    #[error("the server refused the harness's first NAME: {0}")]
    Refused(String),
    #[error("the server stopped while the harness was finding its dialect: {0}")]
    Died(String),
}

/// What the user fixed of the dialect; `None` fields are detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DialectChoice {
    pub framing: Option<Framing>,
    pub spelling: Option<Spelling>,
}

/// The dialect a server was found to speak, and why the harness thinks so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub traits: ServerTraits,
    /// One line, e.g. `dec3 framing: reply `011HELLO Alice``.
    pub evidence: String,
    /// Whether the framing was detected (rather than given and confirmed).
    pub detected: bool,
}

/// What the liveness check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// The sentinel got a reply.
    Alive,
    /// The server no longer accepts connections, or its process has exited.
    Crashed(String),
    /// The server accepts connections but does not answer.
    Hung(String),
}

/// A server under test.
pub struct Target {
    spec: TargetSpec,
    addr: Option<SocketAddr>,
    embedded: Option<Embedded>,
    spawned: Option<Spawned>,
    startup: Duration,
    /// The dialect, once known.
    traits: Option<ServerTraits>,
    sentinel: Option<Sentinel>,
    sentinel_name: Name,
    /// Whether the server's names lists leave the asker out, as its sentinels found
    /// (JUDGE-17); shared with this server's twins, so that what one copy shows holds for all.
    others_only: Arc<AtomicBool>,
    /// Named connections of the harness's own that stay open until the run ends.
    kept: Vec<tokio::net::TcpStream>,
    /// Restarts after a crash so far.
    pub restarts: u32,
    /// The working folder and limits of a started server.
    confinement: crate::class::limits::Confinement,
}

impl Target {
    /// A target; `startup` bounds the wait for a started server. `sentinel` is the name its
    /// sentinel takes.
    pub fn new(spec: TargetSpec, startup: Duration, sentinel: Name) -> Target {
        Target {
            spec,
            addr: None,
            embedded: None,
            spawned: None,
            startup,
            traits: None,
            sentinel: None,
            sentinel_name: sentinel,
            others_only: Arc::new(AtomicBool::new(false)),
            kept: Vec::new(),
            restarts: 0,
            confinement: Default::default(),
        }
    }

    /// Starts the server's command in `confinement`'s folder, within its limits.
    pub fn confine(&mut self, confinement: crate::class::limits::Confinement) {
        self.confinement = confinement;
    }

    /// Whether the harness starts this server itself on a port of its choosing, so that it
    /// can start it afresh before each case.
    pub fn restartable(&self) -> bool {
        match &self.spec {
            TargetSpec::Embedded(_) | TargetSpec::Launched(_) => true,
            TargetSpec::Addr(_) => false,
            TargetSpec::Exec { command, .. } => command.contains("{port}"),
        }
    }

    /// Whether starting afresh costs next to nothing (the embedded server), so that it is done
    /// before every case.
    pub fn cheap_to_restart(&self) -> bool {
        matches!(self.spec, TargetSpec::Embedded(_) | TargetSpec::Launched(_))
    }

    /// Whether the sentinel is connected.
    pub fn has_sentinel(&self) -> bool {
        self.sentinel.is_some()
    }

    /// The connected sentinel's name.
    pub fn sentinel(&self) -> Option<&Name> {
        self.sentinel.as_ref().map(Sentinel::name)
    }

    /// Whether the server's names lists leave the asker out, as the sentinels' lists have
    /// shown so far (JUDGE-17).
    pub fn lists_others_only(&self) -> bool {
        self.others_only.load(Ordering::Relaxed)
    }

    /// Keeps what the sentinel's lists have shown of the server's.
    fn learn_from_sentinel(&mut self) {
        if let Some(s) = &self.sentinel
            && s.lists_others_only()
        {
            self.others_only.store(true, Ordering::Relaxed);
        }
    }

    /// The dialect, once detected or confirmed.
    pub fn traits(&self) -> Option<&ServerTraits> {
        self.traits.as_ref()
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
            TargetSpec::Launched(_) => format!("a server in this process on {at}"),
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

    /// Starts (or reaches) the server. A command with a `{port}` placeholder that finds its
    /// port taken (another program took it after the harness chose it) is started again on
    /// another port, a few times.
    pub async fn start(&mut self) -> Result<SocketAddr, TargetError> {
        let mut tries = 0;
        loop {
            match self.start_once().await {
                Err(TargetError::ExitedEarly { output, .. })
                    if tries < 4
                        && self.restartable()
                        && !self.cheap_to_restart()
                        && output.to_ascii_lowercase().contains("in use") =>
                {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once(&mut self) -> Result<SocketAddr, TargetError> {
        let addr = match self.spec.clone() {
            TargetSpec::Embedded(config) => {
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
            TargetSpec::Launched(launch) => {
                let listener = confab::server::listen(SocketAddr::from(([127, 0, 0, 1], 0)))
                    .map_err(TargetError::Embedded)?;
                let addr = listener.local_addr().map_err(TargetError::Embedded)?;
                let (stop, stopped) = oneshot::channel::<()>();
                let task = (launch.0)(listener, stopped);
                self.embedded = Some(Embedded {
                    task,
                    stop: Some(stop),
                });
                addr
            }
            // Reachability is found by the sentinel's connection, which has a purpose.
            TargetSpec::Addr(a) => resolve(&a).await?,
            TargetSpec::Exec { command, addr } => self.spawn(&command, addr.as_deref()).await?,
        };
        self.addr = Some(addr);
        Ok(addr)
    }

    /// Takes the dialect as known (the embedded server's), and joins the sentinel in it.
    pub async fn assume(
        &mut self,
        traits: ServerTraits,
        timeout: Duration,
    ) -> Result<Detected, TargetError> {
        let evidence = format!("{} (the embedded reference server)", traits.dialect);
        self.traits = Some(traits.clone());
        if !self.restartable() {
            self.join_sentinel(timeout).await?;
        }
        Ok(Detected {
            traits,
            evidence,
            detected: false,
        })
    }

    /// Another copy of this server, started on a port of its own and taken to speak the
    /// dialect found for this one, with its sentinel joined: a lane of cases run beside this
    /// one's. For a server the harness starts on a port of its choosing.
    pub async fn twin(&self, timeout: Duration) -> Result<Target, TargetError> {
        let mut twin = Target::new(self.spec.clone(), self.startup, self.sentinel_name.clone());
        twin.confinement = self.confinement.clone();
        twin.traits = self.traits.clone();
        twin.others_only = self.others_only.clone();
        let joined = match twin.start().await {
            Ok(_) => twin.join_sentinel(timeout).await,
            Err(e) => Err(e),
        };
        if let Err(e) = joined {
            twin.stop().await;
            return Err(e);
        }
        Ok(twin)
    }

    /// Joins the sentinel to the running server, in the known dialect.
    pub async fn join_sentinel(&mut self, timeout: Duration) -> Result<(), TargetError> {
        let (Some(addr), Some(traits)) = (self.addr, self.traits.clone()) else {
            return Err(TargetError::AnsweredNothing(
                "the server is not started".into(),
            ));
        };
        self.sentinel = None;
        match Sentinel::join(addr, &traits, &self.sentinel_name, timeout).await {
            Ok(mut s) => {
                if self.lists_others_only() {
                    s.tell_others_only();
                }
                self.sentinel = Some(s);
                Ok(())
            }
            Err(e) => {
                if let Some(reason) = self.await_exit(Duration::from_secs(1)).await {
                    return Err(TargetError::Died(reason));
                }
                Err(match e {
                    JoinError::Connect(why) => TargetError::Unreachable { addr, why },
                    JoinError::Refused(p) => TargetError::Refused(format!(
                        "NAME {} got `{}`",
                        self.sentinel_name,
                        detect::cut(&p)
                    )),
                    JoinError::NoReply(why) => TargetError::AnsweredNothing(format!(
                        "NAME {} in {}: {why}",
                        self.sentinel_name, traits.dialect
                    )),
                })
            }
        }
    }

    /// Stops the server and starts it afresh: before each case, so that no case sees names or
    /// damage an earlier one left. The sentinel joins only after the case, to ask whether the
    /// server lives, so that the case has the server to itself.
    pub async fn fresh(&mut self) -> Result<SocketAddr, TargetError> {
        self.sentinel = None;
        self.stop().await;
        self.start().await
    }

    /// Whether the server is still up after a case: its process (if the harness started
    /// it), then the sentinel.
    pub async fn liveness(&mut self, timeout: Duration) -> Liveness {
        let liveness = self.ask_liveness(timeout).await;
        self.learn_from_sentinel();
        liveness
    }

    async fn ask_liveness(&mut self, timeout: Duration) -> Liveness {
        if let Some((status, output)) = self.exited_with_output().await {
            let tail = stderr_tail(&output);
            return Liveness::Crashed(format!("the server process exited ({status}){tail}"));
        }
        let Some(addr) = self.addr else {
            return Liveness::Crashed("the server was never started".into());
        };
        let Some(sentinel) = self.sentinel.as_mut() else {
            // A server started for this case: the sentinel joins now, as a new client would.
            return match self.join_sentinel(timeout).await {
                Ok(()) | Err(TargetError::Refused(_)) => Liveness::Alive,
                Err(TargetError::Died(reason)) => Liveness::Crashed(reason),
                Err(TargetError::Unreachable { why, .. }) => {
                    Liveness::Crashed(format!("{addr} no longer accepts connections: {why}"))
                }
                Err(e) => {
                    Liveness::Hung(format!("a new client named itself and got no reply ({e})"))
                }
            };
        };
        match sentinel.check(timeout).await {
            Check::Answered => Liveness::Alive,
            Check::Silent => {
                if let Some(reason) = self.await_exit(Duration::from_millis(200)).await {
                    return Liveness::Crashed(reason);
                }
                Liveness::Hung(format!(
                    "the harness's sentinel client asked for the names and got no reply within \
                     {} ms",
                    timeout.as_millis()
                ))
            }
            Check::Closed(why) => {
                // A dying process may close connections a moment before it can be reaped.
                if let Some(reason) = self.await_exit(Duration::from_secs(1)).await {
                    return Liveness::Crashed(reason);
                }
                // The process lives (or is not ours): it dropped the sentinel. For a server at
                // an address, whether its port still accepts tells a crash.
                match self.join_sentinel(timeout).await {
                    Ok(()) => Liveness::Alive,
                    Err(TargetError::Unreachable { why: e, .. }) => Liveness::Crashed(format!(
                        "the sentinel's connection ended ({why}) and {addr} no longer accepts \
                         connections: {e}"
                    )),
                    Err(e) => Liveness::Hung(format!(
                        "the sentinel's connection ended ({why}) and it could not join again: {e}"
                    )),
                }
            }
        }
    }

    /// Waits up to `wait` for a server the harness started to exit, asking it nothing; why it
    /// ended if it did.
    pub async fn exits_within(&mut self, wait: Duration) -> Option<String> {
        self.await_exit(wait).await
    }

    /// Asks the sentinel, for at most `wait`, until none of `names` is listed.
    pub async fn await_gone(&mut self, names: &[String], wait: Duration) -> bool {
        let gone = match self.sentinel.as_mut() {
            Some(s) => s.await_gone(names, wait).await,
            None => false,
        };
        self.learn_from_sentinel();
        gone
    }

    /// Stops the server if the harness started it.
    pub async fn stop(&mut self) {
        self.sentinel = None;
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
        if let Some(s) = &self.spawned
            && let Some(g) = s.group
        {
            started_groups().retain(|&x| x != g);
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
    pub async fn restart(
        &mut self,
        deadline: Duration,
        timeout: Duration,
    ) -> Result<SocketAddr, TargetError> {
        if matches!(self.spec, TargetSpec::Addr(_)) {
            return Err(TargetError::CannotRestart);
        }
        self.stop().await;
        self.restarts += 1;
        let until = tokio::time::Instant::now() + deadline;
        loop {
            match self.start().await {
                Ok(addr) => {
                    if !self.restartable() {
                        self.join_sentinel(timeout).await?;
                    }
                    return Ok(addr);
                }
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
