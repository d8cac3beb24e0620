//! What a run measured, for people (`Display`) and for scripts (`serde`, one JSON line).

use std::fmt;

use super::Target;
use super::ledger::Integrity;
use super::pattern::Pattern;

/// The result of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// True when every message was delivered exactly once and in order, with no error.
    pub ok: bool,
    /// What was measured.
    pub target: Target,
    /// Where it listened.
    pub addr: String,
    /// True when the server was the embedded reference server.
    pub embedded: bool,
    /// The confab framing (for Redis, `resp`).
    pub framing: String,
    pub clients: usize,
    /// Clients that send in phase 2 (the first ones); the others are idle and only receive.
    pub talkers: usize,
    /// Messages each talking client sends.
    pub messages: u32,
    /// Text size asked for.
    pub size: usize,
    /// The longest text actually sent.
    pub text_bytes: usize,
    pub pattern: Pattern,
    pub inflight: u32,
    /// The most messages per `write` (`None`: as many as the window allows).
    pub max_batch: Option<u32>,
    /// Writes per message sent in phase 2, as the generator made them.
    pub writes_per_message: f64,
    pub rate: Option<f64>,
    pub seed: u64,
    /// Phase 1: seconds to connect and name every client.
    pub connect_secs: f64,
    /// Phase 2: seconds from the first send to the last delivery.
    pub duration_secs: f64,
    /// Messages sent.
    pub sent: u64,
    /// Messages received by their recipient (first copies).
    pub delivered: u64,
    /// Delivered messages per second of phase 2.
    pub throughput: f64,
    /// Error replies in phase 2 (confab `ERROR`, Redis errors or a PUBLISH reaching nobody).
    pub rejected: u64,
    /// The first error reply, as received.
    pub first_rejection: Option<String>,
    /// Payloads that were not valid replies of the target's protocol.
    pub bad_replies: u64,
    /// Connections that failed or were closed by the server in phase 2.
    pub disconnected: u64,
    /// True when phase 2 ended because nothing arrived for the stall timeout.
    pub stalled: bool,
    /// Loss, duplication, reordering and misrouting.
    pub integrity: Integrity,
    /// Delivery latency in microseconds.
    pub latency_us: Latency,
    /// The server's CPU time and memory, when it could be read.
    pub server: Option<ServerUsage>,
    /// The load generator's own CPU time in phase 2, in seconds.
    pub bench_cpu_secs: f64,
    /// The load generator's system calls in phase 2.
    pub bench_io: IoCounts,
}

/// System calls made by the load generator, to see how well it batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IoCounts {
    /// `read` calls.
    pub reads: u64,
    /// `write` calls.
    pub writes: u64,
    /// `epoll_wait` calls.
    pub polls: u64,
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

/// The measured server's resources.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct ServerUsage {
    /// The process read, or `None` for the embedded server's threads.
    pub pid: Option<u32>,
    /// CPU time in phase 1, in seconds.
    pub connect_cpu_secs: f64,
    /// CPU time in phase 2, in seconds.
    pub cpu_secs: f64,
    /// Phase-2 CPU time per delivered message, in microseconds.
    pub cpu_us_per_msg: f64,
    /// Resident memory before phase 1 (the baseline), in KiB.
    pub rss_kib_baseline: Option<u64>,
    /// Resident memory with every client named, in KiB.
    pub rss_kib_connected: Option<u64>,
    /// Resident memory per connected client, in bytes: (RSS with every client named minus
    /// the baseline) over the clients.
    pub rss_bytes_per_client: Option<f64>,
    /// Resident memory at the end of phase 2, in KiB.
    pub rss_kib_end: Option<u64>,
    /// The resident high-water mark at the end of phase 2, in KiB.
    pub hwm_kib: Option<u64>,
}

impl Report {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"ok\":false,\"error\":\"{e}\"}}"))
    }

    /// Why the run failed, one reason per line; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let i = &self.integrity;
        for (n, what) in [
            (i.lost, "lost"),
            (i.duplicated, "duplicated"),
            (i.reordered, "reordered"),
            (i.misrouted, "misrouted"),
            (self.rejected, "rejected by the server"),
            (self.bad_replies, "unreadable replies"),
            (self.disconnected, "connections lost"),
        ] {
            if n > 0 {
                out.push(format!("{n} {what}"));
            }
        }
        if let Some(r) = &self.first_rejection {
            out.push(format!("first rejection: {r}"));
        }
        if self.stalled {
            out.push("phase 2 stalled: nothing arrived for the stall timeout".into());
        }
        out
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let server = if self.embedded {
            format!("embedded confab server at {}", self.addr)
        } else {
            format!("{} at {}", self.target, self.addr)
        };
        writeln!(f, "target      {server} ({} framing)", self.framing)?;
        let rate = self
            .rate
            .map_or_else(|| "no rate limit".into(), |r| format!("{r} msg/s in all"));
        let batch = self.max_batch.map_or_else(
            || "unbounded batch".into(),
            |b| format!("at most {b} per write"),
        );
        let talking = if self.talkers == self.clients {
            String::new()
        } else {
            format!(
                " ({} talking, {} idle)",
                self.talkers,
                self.clients - self.talkers
            )
        };
        writeln!(
            f,
            "workload    {} clients{talking} x {} messages, {}-byte texts, pattern {}, {} in \
             flight, {batch} ({:.2} writes per message), {rate}",
            self.clients,
            self.messages,
            self.text_bytes,
            self.pattern,
            self.inflight,
            self.writes_per_message
        )?;
        writeln!(
            f,
            "connect     {} clients named in {:.3} s",
            self.clients, self.connect_secs
        )?;
        writeln!(
            f,
            "delivered   {} of {} sent in {:.3} s: {:.0} msg/s",
            self.delivered, self.sent, self.duration_secs, self.throughput
        )?;
        let l = &self.latency_us;
        writeln!(
            f,
            "latency     p50 {:.0} us  p90 {:.0} us  p99 {:.0} us  p99.9 {:.0} us  max {:.0} us  (mean {:.1} us)",
            l.p50, l.p90, l.p99, l.p999, l.max, l.mean
        )?;
        match &self.server {
            Some(s) => {
                let who = s
                    .pid
                    .map_or_else(|| "embedded threads".into(), |p| format!("pid {p}"));
                writeln!(
                    f,
                    "server      {who}: {:.3} s CPU in phase 2 = {:.3} us/msg; {:.3} s CPU to connect",
                    s.cpu_secs, s.cpu_us_per_msg, s.connect_cpu_secs
                )?;
                if s.rss_kib_connected.is_some() {
                    writeln!(
                        f,
                        "memory      RSS {} before connecting, {} with all named, {} at the end, \
                         peak {}",
                        mib(s.rss_kib_baseline),
                        mib(s.rss_kib_connected),
                        mib(s.rss_kib_end),
                        mib(s.hwm_kib)
                    )?;
                }
                if let Some(b) = s.rss_bytes_per_client {
                    writeln!(
                        f,
                        "per client  {b:.0} bytes of RSS per connection ({:.2} KiB): (named - \
                         before) / {} clients",
                        b / 1024.0,
                        self.clients
                    )?;
                }
            }
            None => writeln!(
                f,
                "server      CPU and memory not measured (no --server-pid)"
            )?,
        }
        let share = if self.duration_secs > 0.0 {
            100.0 * self.bench_cpu_secs / self.duration_secs
        } else {
            0.0
        };
        let per_msg = |n: u64| n as f64 / self.delivered.max(1) as f64;
        writeln!(
            f,
            "generator   {:.3} s CPU in phase 2 ({share:.0}% of one core); per message {:.2} reads, {:.2} writes, {:.2} polls",
            self.bench_cpu_secs,
            per_msg(self.bench_io.reads),
            per_msg(self.bench_io.writes),
            per_msg(self.bench_io.polls)
        )?;
        let failures = self.failures();
        if failures.is_empty() {
            write!(
                f,
                "result      OK: nothing lost, duplicated, reordered or misrouted"
            )
        } else {
            write!(f, "result      FAILED: {}", failures.join("; "))
        }
    }
}
