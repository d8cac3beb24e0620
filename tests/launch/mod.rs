//! Starting a program that listens on a port of its own choosing, and learning its address
//! from what it prints: the one place where tests and benches run the `confab-server` binary
//! or a Python fixture server.
//!
//! `confab-server --listen 127.0.0.1:0` logs `confab server listening` on stderr with
//! `addr=HOST:PORT` ([`logged_addr`]); the client's course fixture prints `listening PORT`
//! ([`listening_port`]) and the benchmark's Python baseline `listening on HOST:PORT`
//! ([`listening_on`]), each on stdout. Everything the program prints on that stream is kept
//! ([`Launched::log`]) and read to its end, so that printing never blocks the program.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// How long a program has to say where it listens, and to exit once it was asked to.
pub const START: Duration = Duration::from_secs(10);

/// The `confab-server` binary of this build.
pub const SERVER: &str = env!("CARGO_BIN_EXE_confab-server");

/// The stream on which a program says where it listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// A started program and the address it listens on. Dropping it kills the program.
pub struct Launched {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
    reader: JoinHandle<()>,
}

/// `confab-server` on a port of its own on loopback, with `args` after `--listen`, logging at
/// `info` on stderr, with stdin and stdout closed: change the command before [`start`] for
/// anything else.
pub fn server_command(args: &[&str]) -> Command {
    let mut command = Command::new(SERVER);
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// [`server_command`] started, with the address from its log.
pub async fn server(args: &[&str]) -> Launched {
    start(server_command(args), Output::Stderr, logged_addr).await
}

/// Starts `command` and reads `output` until a line gives the address (`address` answers it),
/// within [`START`]. Panics, with what the program printed, when it exits, goes silent or
/// cannot be started first.
pub async fn start(
    mut command: Command,
    output: Output,
    address: fn(&str) -> Option<SocketAddr>,
) -> Launched {
    match output {
        Output::Stdout => command.stdout(Stdio::piped()),
        Output::Stderr => command.stderr(Stdio::piped()),
    };
    let program = format!("{:?}", command.as_std().get_program());
    let mut child = command
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let stream: Box<dyn AsyncRead + Send + Unpin> = match output {
        Output::Stdout => Box::new(child.stdout.take().expect("stdout is piped")),
        Output::Stderr => Box::new(child.stderr.take().expect("stderr is piped")),
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let (found, addr) = oneshot::channel();
    let reader = tokio::spawn(read_lines(stream, Arc::clone(&log), address, found));
    let addr = match timeout(START, addr).await {
        Ok(Ok(addr)) => addr,
        Ok(Err(_)) => {
            let status = match timeout(START, child.wait()).await {
                Ok(Ok(status)) => status.to_string(),
                Ok(Err(e)) => format!("cannot wait for it: {e}"),
                Err(_) => "still running".to_owned(),
            };
            panic!(
                "{program} closed its {output:?} without an address ({status}): {:?}",
                lines(&log)
            )
        }
        Err(_) => panic!(
            "{program} gave no address within {START:?}: {:?}",
            lines(&log)
        ),
    };
    Launched {
        child,
        addr,
        log,
        reader,
    }
}

async fn read_lines(
    stream: Box<dyn AsyncRead + Send + Unpin>,
    log: Arc<Mutex<Vec<String>>>,
    address: fn(&str) -> Option<SocketAddr>,
    found: oneshot::Sender<SocketAddr>,
) {
    let mut found = Some(found);
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // Into the log first: what was printed up to the address is there once it is known.
        let addr = found.as_ref().and_then(|_| address(&line));
        log.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        if let Some(addr) = addr
            && let Some(found) = found.take()
        {
            let _ = found.send(addr);
        }
    }
}

fn lines(log: &Mutex<Vec<String>>) -> Vec<String> {
    log.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

impl Launched {
    /// The program's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("the program is running")
    }

    /// The lines printed so far on the stream that gave the address.
    pub fn log(&self) -> Vec<String> {
        lines(&self.log)
    }

    /// Kills the program and waits, within [`START`], until it is gone.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        if timeout(START, self.child.wait()).await.is_err() {
            panic!("the program outlived SIGKILL by {START:?}");
        }
    }

    /// Waits, within [`START`], for the program to exit and for the end of its output; answers
    /// the exit status and every line printed.
    pub async fn exit(self) -> (ExitStatus, Vec<String>) {
        let Launched {
            mut child,
            log,
            reader,
            ..
        } = self;
        let status = match timeout(START, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => panic!("cannot wait for the program: {e}"),
            Err(_) => panic!(
                "the program did not exit within {START:?}: {:?}",
                lines(&log)
            ),
        };
        if timeout(START, reader).await.is_err() {
            panic!("its output did not end within {START:?}: {:?}", lines(&log));
        }
        (status, lines(&log))
    }
}

/// The `addr=HOST:PORT` field of `confab-server`'s `listening` log line.
pub fn logged_addr(line: &str) -> Option<SocketAddr> {
    if !line.contains("listening") {
        return None;
    }
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))
        .and_then(|a| a.parse().ok())
}

/// The port of a line `listening PORT`, on loopback.
pub fn listening_port(line: &str) -> Option<SocketAddr> {
    let port = line.strip_prefix("listening ")?.trim().parse().ok()?;
    Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// The address of a line `listening on HOST:PORT`.
pub fn listening_on(line: &str) -> Option<SocketAddr> {
    line.strip_prefix("listening on ")?.trim().parse().ok()
}

#[test]
fn each_form_of_the_listening_line_gives_its_address() {
    let addr: SocketAddr = "127.0.0.1:4321".parse().expect("an address");
    let log = "2026-01-01T00:00:00Z  INFO confab::server: listening addr=127.0.0.1:4321 max";
    assert_eq!(logged_addr(log), Some(addr));
    assert_eq!(listening_port("listening 4321\n"), Some(addr));
    assert_eq!(listening_on("listening on 127.0.0.1:4321"), Some(addr));
    for other in [
        "listening",
        "addr=nowhere",
        "listening on",
        "listening x",
        "INFO confab::server: accepted addr=127.0.0.1:4321",
        "",
    ] {
        assert_eq!(logged_addr(other), None, "{other:?}");
        assert_eq!(listening_port(other), None, "{other:?}");
        assert_eq!(listening_on(other), None, "{other:?}");
    }
}
