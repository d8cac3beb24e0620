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
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab::protocol::{Dialect, Framing, Name, Spelling};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command as Process};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::sentinel::{Check, JoinError, Sentinel, ServerTraits};
use confab::detect::{self, Reading};

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

/// How many of the likely framings detection tries when nothing points elsewhere: those met
/// among course servers (dec2, dec4, raw, dec3, line, bin8).
const UNPROMPTED: usize = 6;

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

fn stderr_tail(output: &str) -> String {
    if output.trim().is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = output.lines().collect();
        let tail = &lines[lines.len().saturating_sub(12)..];
        format!("; its output ends:\n{}", tail.join("\n"))
    }
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
    /// Its process group (the harness starts it in a group of its own).
    group: Option<i32>,
}

/// A server whose stop was never awaited (its run abandoned at a deadline, or dropped on an
/// interrupt) takes its whole process group with it.
impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(g) = self.group.take() {
            started_groups().retain(|&x| x != g);
            let pid = nix::unistd::Pid::from_raw(g);
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// The process groups of the servers started and not yet stopped, for
/// [`kill_started_servers`].
fn started_groups() -> std::sync::MutexGuard<'static, Vec<i32>> {
    static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
    GROUPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills every server the harness started and has not stopped, with everything in their
/// process groups: for a harness that is interrupted, so that no server outlives it.
pub fn kill_started_servers() {
    for group in started_groups().drain(..) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(group),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Keep this much of a started server's output.
const OUTPUT_KEPT: usize = 64 * 1024;

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
        let mut process = Process::new("sh");
        process
            .arg("-c")
            .arg(&line)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        self.confinement.apply(&mut process);
        let mut child = process.spawn().map_err(|e| TargetError::Spawn {
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
        let group = child.id().and_then(|p| i32::try_from(p).ok());
        if let Some(g) = group {
            started_groups().push(g);
        }
        self.spawned = Some(Spawned {
            child,
            command: line.clone(),
            output,
            collectors,
            group,
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
            if listening(addr).await {
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
            tokio::time::sleep(Duration::from_millis(5)).await;
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

    /// Joins the sentinel to the running server, in the known dialect.
    pub async fn join_sentinel(&mut self, timeout: Duration) -> Result<(), TargetError> {
        let (Some(addr), Some(traits)) = (self.addr, self.traits.clone()) else {
            return Err(TargetError::AnsweredNothing(
                "the server is not started".into(),
            ));
        };
        self.sentinel = None;
        match Sentinel::join(addr, &traits, &self.sentinel_name, timeout).await {
            Ok(s) => {
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

    /// Finds the dialect the server speaks (what `choice` leaves open), and joins the
    /// sentinel in it. Each wrong guess may crash a server or leave it reading a broken frame,
    /// so a server the harness starts is started afresh after every attempt that failed.
    pub async fn detect(
        &mut self,
        choice: DialectChoice,
        timeout: Duration,
    ) -> Result<Detected, TargetError> {
        // The first attempt waits as long as a reply may take; later ones, on a server that
        // has already shown it is up, less: a server that answers nothing costs seconds.
        let first_wait = timeout.min(Duration::from_millis(1500));
        let later_wait = timeout.min(Duration::from_millis(800));
        let greet_wait = Duration::from_millis(300);
        // Unprompted, the framings met among course servers; any other is found from a reply
        // or a greeting that shows it, or given with --framing.
        let mut queue: Vec<Framing> = match choice.framing {
            Some(f) => vec![f],
            None => confab::protocol::lenient::likely_framings()
                .into_iter()
                .take(UNPROMPTED)
                .collect(),
        };
        let spellings: Vec<Spelling> = match choice.spelling {
            Some(s) => vec![s],
            None => vec![Spelling::Canonical, Spelling::Numeric],
        };
        let mut tried: Vec<(Framing, Spelling)> = Vec::new();
        let mut greets = None;
        let mut heard_anything = false;
        let mut last_refusal = None;
        let mut first = true;
        while let Some(framing) = queue.first().copied() {
            queue.remove(0);
            for &spelling in &spellings {
                if tried.contains(&(framing, spelling)) {
                    continue;
                }
                tried.push((framing, spelling));
                if !first {
                    self.recover().await?;
                }
                first = false;
                let Some(addr) = self.addr else {
                    return Err(TargetError::AnsweredNothing(
                        "the server is not started".into(),
                    ));
                };
                let gw = if greets.is_none() {
                    greet_wait
                } else {
                    Duration::ZERO
                };
                let connected =
                    match tokio::time::timeout(first_wait, tokio::net::TcpStream::connect(addr))
                        .await
                    {
                        Ok(Ok(stream)) => Ok(stream),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!(
                            "no connection within {} ms",
                            first_wait.as_millis()
                        )),
                    };
                let stream = match connected {
                    Ok(stream) => stream,
                    Err(why) => {
                        if let Some(reason) = self.await_exit(Duration::from_secs(1)).await {
                            return Err(TargetError::Died(reason));
                        }
                        return Err(TargetError::Unreachable { addr, why });
                    }
                };
                let _ = stream.set_nodelay(true);
                let wait = if tried.len() == 1 {
                    first_wait
                } else {
                    later_wait
                };
                let first = confab::protocol::Command::Name(self.sentinel_name.clone());
                let Ok(mut attempt) =
                    detect::attempt(stream, framing, spelling, &first, gw, wait).await
                else {
                    // A name this framing cannot carry: the next framing.
                    continue;
                };
                if greets.is_none() {
                    greets = Some(!attempt.greeting.is_empty());
                    if !attempt.greeting.is_empty() && choice.framing.is_none() {
                        // The greeting's framing goes first.
                        let hinted = confab::protocol::lenient::framings_of(&attempt.greeting);
                        for f in hinted.into_iter().rev() {
                            if f != framing && !tried.iter().any(|t| t.0 == f) {
                                queue.retain(|q| *q != f);
                                queue.insert(0, f);
                            }
                        }
                    }
                }
                heard_anything |= !attempt.reply.is_empty() || !attempt.greeting.is_empty();
                let traits = ServerTraits {
                    dialect: Dialect { framing, spelling },
                    greets: greets.unwrap_or(false),
                };
                match attempt.reading(Some(&self.sentinel_name)) {
                    Reading::Answered => {
                        let evidence = format!("{}: {}", traits.dialect, attempt.evidence());
                        self.traits = Some(traits);
                        if self.restartable() {
                            drop(attempt.stream.take());
                            self.fresh().await?;
                        } else {
                            // The attempt's connection is named: it stays open (closing it
                            // would be a disconnect of the harness's making), and the
                            // sentinel joins beside it.
                            if let Some(stream) = attempt.stream.take() {
                                self.kept.push(stream);
                            }
                            self.sentinel_name = Name::new(&format!("{}s", self.sentinel_name))
                                .unwrap_or_else(|_| self.sentinel_name.clone());
                            self.join_sentinel(timeout).await?;
                        }
                        return Ok(Detected {
                            traits: self.traits.clone().unwrap_or(ServerTraits {
                                dialect: Dialect { framing, spelling },
                                greets: false,
                            }),
                            evidence,
                            detected: choice.framing.is_none(),
                        });
                    }
                    Reading::Refused(p) => {
                        last_refusal = Some(format!(
                            "NAME {} in {}: `{}`",
                            self.sentinel_name,
                            traits.dialect,
                            detect::cut(&p)
                        ));
                        // The framing is right; the next spelling may be, and no other
                        // framing needs trying.
                        queue.clear();
                        continue;
                    }
                    Reading::OtherFraming(fits) => {
                        let likely = fits.first().copied().unwrap_or(Framing::Raw);
                        if let Some(given) = choice.framing {
                            return Err(TargetError::WrongFraming {
                                given,
                                likely,
                                evidence: format!("`{}`", detect::cut(&attempt.reply)),
                            });
                        }
                        for f in fits.into_iter().rev() {
                            if !tried.iter().any(|t| t.0 == f) {
                                queue.retain(|q| *q != f);
                                queue.insert(0, f);
                            }
                        }
                        break;
                    }
                    Reading::Silent | Reading::Dropped => break,
                }
            }
        }
        if let Some(r) = last_refusal {
            return Err(TargetError::Refused(r));
        }
        let tried: Vec<String> = tried.iter().map(|(f, _)| f.to_string()).collect();
        let mut tried_once = tried.clone();
        tried_once.dedup();
        Err(match choice.framing {
            Some(f) if heard_anything => TargetError::AnsweredNothing(format!(
                "no reply to NAME {} in {f} framing that reads as a reply; try --framing auto",
                self.sentinel_name
            )),
            Some(f) => TargetError::AnsweredNothing(format!(
                "no reply within {} ms to NAME {} in {f} framing; if it speaks another \
                 framing, try --framing auto",
                first_wait.as_millis(),
                self.sentinel_name
            )),
            None => TargetError::AnsweredNothing(format!(
                "no reply to NAME {} in any framing tried ({})",
                self.sentinel_name,
                tried_once.join(", ")
            )),
        })
    }

    /// After a failed detection attempt: a fresh server if the harness starts it, else a
    /// check that the one at the address still accepts.
    async fn recover(&mut self) -> Result<(), TargetError> {
        if self.restartable() {
            self.stop().await;
            self.start().await?;
            return Ok(());
        }
        if let Some(reason) = self.await_exit(Duration::ZERO).await {
            return Err(TargetError::Died(reason));
        }
        Ok(())
    }

    /// Whether the server is still up after a case: its process (if the harness started
    /// it), then the sentinel.
    pub async fn liveness(&mut self, timeout: Duration) -> Liveness {
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

    /// Asks the sentinel, for at most `wait`, until none of `names` is listed.
    pub async fn await_gone(&mut self, names: &[String], wait: Duration) -> bool {
        match self.sentinel.as_mut() {
            Some(s) => s.await_gone(names, wait).await,
            None => false,
        }
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

/// Whether something listens on `addr`, as the operating system says: on Linux, a socket in
/// the LISTEN state on that port in `/proc/net/tcp` or `tcp6`. Elsewhere a connection is
/// the only way to know, and it is made (and closed) only when the tables are not there.
async fn listening(addr: SocketAddr) -> bool {
    let port = format!(":{:04X}", addr.port());
    let mut found_tables = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = tokio::fs::read_to_string(table).await else {
            continue;
        };
        found_tables = true;
        let listens = text.lines().skip(1).any(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1).unwrap_or_default();
            let state = fields.nth(1).unwrap_or_default();
            local.ends_with(&port) && state == "0A"
        });
        if listens {
            return true;
        }
    }
    if found_tables {
        return false;
    }
    matches!(
        tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr)
        )
        .await,
        Ok(Ok(_))
    )
}

/// A loopback port that a server without `SO_REUSEADDR` can bind: chosen by the kernel for a
/// socket bound without that option, so not one held by connections in TIME_WAIT (which a
/// server started for every case leaves many of).
fn free_port() -> io::Result<u16> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(false)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(socket.local_addr()?.port())
}
