//! The processes the harness starts: spawning a server command in its own process group,
//! keeping its output, knowing when it listens and when it exited, and killing every group it
//! started when the harness is interrupted.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command as Process};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Target, TargetError};

pub(super) struct Embedded {
    pub(super) task: JoinHandle<io::Result<()>>,
    pub(super) stop: Option<oneshot::Sender<()>>,
}

pub(super) struct Spawned {
    pub(super) child: Child,
    pub(super) command: String,
    pub(super) output: Arc<Mutex<Vec<u8>>>,
    /// The tasks copying its stdout and stderr into `output`.
    pub(super) collectors: Vec<JoinHandle<()>>,
    /// Its process group (the harness starts it in a group of its own).
    pub(super) group: Option<i32>,
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
pub(super) fn started_groups() -> std::sync::MutexGuard<'static, Vec<i32>> {
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
pub(super) const OUTPUT_KEPT: usize = 64 * 1024;

pub(super) fn stderr_tail(output: &str) -> String {
    if output.trim().is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = output.lines().collect();
        let tail = &lines[lines.len().saturating_sub(12)..];
        format!("; its output ends:\n{}", tail.join("\n"))
    }
}

pub(super) async fn collect(
    mut from: impl tokio::io::AsyncRead + Unpin,
    into: Arc<Mutex<Vec<u8>>>,
) {
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

pub(super) async fn resolve(addr: &str) -> Result<SocketAddr, TargetError> {
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
/// the LISTEN state on that port, asked of the kernel over sock_diag, or where that cannot be
/// asked found in `/proc/net/tcp` or `tcp6`. Elsewhere a connection is the only way to know,
/// and it is made (and closed) only when the tables are not there.
pub(super) async fn listening(addr: SocketAddr) -> bool {
    if let Some(listens) = crate::wire::listening_on(addr.port()) {
        return listens;
    }
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

/// How many of the ports handed out last [`free_port`] never hands out again.
const RECENT_PORTS: usize = 256;

/// A loopback port that a server without `SO_REUSEADDR` can bind: chosen by the kernel for a
/// socket bound without that option, so not one held by connections in TIME_WAIT (which a
/// server started for every case leaves many of). The kernel may choose a port again as soon
/// as the socket that found it closes, before the server given it has bound it; so a port
/// handed out lately is never handed out again, and two servers started at once (a zoo or a
/// class graded in parallel) never share one, where the second would fail to bind while the
/// first's listener made it look ready.
pub(super) fn free_port() -> io::Result<u16> {
    static RECENT: Mutex<VecDeque<u16>> = Mutex::new(VecDeque::new());
    for _ in 0..64 {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(false)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let port = socket.local_addr()?.port();
        let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
        if !recent.contains(&port) {
            if recent.len() == RECENT_PORTS {
                recent.pop_front();
            }
            recent.push_back(port);
            return Ok(port);
        }
    }
    Err(io::Error::other(
        "the kernel kept choosing ports just given to other servers",
    ))
}

impl Target {
    pub(super) async fn spawn(
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
    pub(super) async fn exited_with_output(&mut self) -> Option<(String, String)> {
        let (status, _) = self.exited()?;
        if let Some(s) = self.spawned.as_mut() {
            for c in std::mem::take(&mut s.collectors) {
                // Bounded: a grandchild may hold the pipe open.
                let _ = tokio::time::timeout(Duration::from_secs(1), c).await;
            }
        }
        Some((status, self.output()))
    }

    /// Waits up to `wait` for a started server to exit; its status and output if it did.
    pub(super) async fn await_exit(&mut self, wait: Duration) -> Option<String> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel alone repeats a port within 256 choices about once in 55 (its ports are
    /// chosen at random among some 14,000); 5,000 choices would hold about 90 such repeats.
    #[test]
    fn a_port_handed_out_lately_is_not_handed_out_again() {
        let ports: Vec<u16> = (0..5000).map(|_| free_port().unwrap()).collect();
        for (i, window) in ports.windows(RECENT_PORTS).enumerate() {
            let mut seen = window.to_vec();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(
                seen.len(),
                RECENT_PORTS,
                "a repeat among choices {i} to {}",
                i + 255
            );
        }
    }
}
