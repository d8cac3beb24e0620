//! The event loop: every client's sockets in one `mio` poll on one thread.
//!
//! Tokens: client `i` owns token `2i` (its confab connection, or its Redis subscriber) and,
//! for Redis, token `2i + 1` (its publisher). Each connection has a read buffer, decoded to the
//! last complete frame after every read, and a write buffer, filled with every message the
//! client may send and then written with one call, or with one call per `--max-batch`
//! messages (one per message at 1, as a person typing writes).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tokio_util::codec::{Decoder, Encoder};

use super::ledger::Ledger;
use super::pattern::Rng;
use super::procstat::{self, Sample};
use super::report::{IoCounts, Latency, Report, ServerUsage};
use super::resp::{self, Value};
use super::stamp::Stamp;
use super::{BenchError, Options, Target};
use crate::protocol::{ClientCodec, Command, Dialect, Name, Reply, Text};

/// Bytes read per `read` call.
const READ_CHUNK: usize = 64 * 1024;
/// How often the progress bar and the stall check look at the clock, at most.
const TICK: Duration = Duration::from_millis(100);
/// Latencies above this are recorded as this (an hour, in nanoseconds).
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connect,
    Run,
}

struct Conn {
    sock: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    connected: bool,
    open: bool,
}

#[derive(Default)]
struct Client {
    /// Phase 1: the confab HELLO or the Redis subscription arrived.
    named: bool,
    /// Phase 1, Redis: the publisher answered PING.
    publisher_ready: bool,
    /// Counted in `ready`.
    ready: bool,
    /// Messages sent in phase 2.
    sent: u32,
    /// Messages sent and not yet received (or refused).
    inflight: u32,
    /// Queued in `dirty`.
    dirty: bool,
    /// Waiting in `due` for its rate-limited send time.
    waiting: bool,
    /// A connection failed: it sends no more.
    dead: bool,
    /// Counted in `senders_done`: sent everything, or dead.
    done: bool,
    rng: Option<Rng>,
}

struct Driver<'o> {
    opts: &'o Options,
    addr: SocketAddr,
    poll: Poll,
    conns: Vec<Option<Conn>>,
    clients: Vec<Client>,
    codec: ClientCodec,
    names: Vec<Name>,
    channels: Vec<Vec<u8>>,
    ledger: Ledger,
    hist: Histogram<u64>,
    epoch: Instant,
    start: Instant,
    scratch: Vec<u8>,
    text: Vec<u8>,
    text_bytes: usize,
    dirty: Vec<u32>,
    due: BinaryHeap<Reverse<(Instant, u32)>>,
    rate_interval: Option<Duration>,
    phase: Phase,
    ready: usize,
    pending: usize,
    fatal: Option<String>,
    sent: u64,
    delivered: u64,
    rejected: u64,
    first_rejection: Option<String>,
    bad_replies: u64,
    disconnected: u64,
    senders_done: usize,
    /// The clock as last read (once per read batch and per loop turn), in ns since `epoch`.
    clock_ns: u64,
    /// When the last message was delivered, in ns since `epoch`.
    last_delivery_ns: u64,
    /// When a message was last sent, delivered or refused, in ns since `epoch`.
    last_progress_ns: u64,
    stalled: bool,
    io: IoCounts,
}

/// Connects to `addr` and runs both phases. `embedded_threads` names the threads of an
/// embedded server whose CPU time is to be measured.
pub(crate) fn run(
    opts: &Options,
    addr: SocketAddr,
    embedded_threads: Option<&str>,
) -> Result<Report, BenchError> {
    let n = opts.clients;
    let names = (0..n)
        .map(|i| Name::new(&format!("c{i}")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BenchError::Options(format!("client names: {e}")))?;
    let channels = names
        .iter()
        .map(|n| n.as_str().as_bytes().to_vec())
        .collect();
    let hist = Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3)
        .map_err(|e| BenchError::Options(format!("latency histogram: {e}")))?;
    let now = Instant::now();
    let mut d = Driver {
        opts,
        addr,
        poll: Poll::new()?,
        conns: (0..2 * n).map(|_| None).collect(),
        clients: (0..n).map(|_| Client::default()).collect(),
        codec: ClientCodec::new(Dialect::with_framing(opts.framing)),
        names,
        channels,
        ledger: Ledger::new(n, opts.messages),
        hist,
        epoch: now,
        start: now,
        scratch: vec![0; READ_CHUNK],
        text: Vec::with_capacity(opts.text_len() + 1),
        text_bytes: 0,
        dirty: Vec::with_capacity(n),
        due: BinaryHeap::new(),
        rate_interval: opts
            .rate
            .map(|r| Duration::from_secs_f64(opts.talkers() as f64 / r)),
        phase: Phase::Connect,
        ready: 0,
        pending: 0,
        fatal: None,
        sent: 0,
        delivered: 0,
        rejected: 0,
        first_rejection: None,
        bad_replies: 0,
        disconnected: 0,
        senders_done: 0,
        clock_ns: 0,
        last_delivery_ns: 0,
        last_progress_ns: 0,
        stalled: false,
        io: IoCounts::default(),
    };
    for (i, c) in d.clients.iter_mut().enumerate() {
        c.rng = Some(Rng::new(opts.seed, i as u64));
    }

    let measure = |when: &str| -> Result<Option<Sample>, BenchError> {
        if let Some(pid) = opts.server_pid {
            let s = procstat::sample(pid)
                .map_err(|e| BenchError::Options(format!("--server-pid {pid}: {when}: {e}")))?;
            Ok(Some(s))
        } else if let Some(prefix) = embedded_threads {
            Ok(Some(Sample {
                cpu: procstat::threads_cpu(prefix)?,
                ..Sample::default()
            }))
        } else {
            Ok(None)
        }
    };

    let mut events = Events::with_capacity(1024);
    let before_connect = measure("before connecting")?;
    let connect_secs = d.connect_phase(&mut events)?;
    let before_run = measure("after connecting")?;
    let bench_before = procstat::this_thread_cpu();
    d.io = IoCounts::default();
    let duration = d.run_phase(&mut events)?;
    let bench_cpu = procstat::this_thread_cpu().saturating_sub(bench_before);
    let after_run = measure("after the run")?;

    let server = match (before_connect, before_run, after_run) {
        (Some(a), Some(b), Some(c)) => {
            let cpu = c.cpu.saturating_sub(b.cpu);
            Some(ServerUsage {
                pid: opts.server_pid,
                connect_cpu_secs: b.cpu.saturating_sub(a.cpu).as_secs_f64(),
                cpu_secs: cpu.as_secs_f64(),
                cpu_us_per_msg: if d.delivered > 0 {
                    cpu.as_secs_f64() * 1e6 / d.delivered as f64
                } else {
                    0.0
                },
                rss_kib_baseline: a.rss_kib,
                rss_kib_connected: b.rss_kib,
                rss_bytes_per_client: per_client(a.rss_kib, b.rss_kib, n),
                rss_kib_end: c.rss_kib,
                hwm_kib: c.hwm_kib,
            })
        }
        _ => None,
    };
    Ok(d.report(connect_secs, duration, server, bench_cpu))
}

impl Driver<'_> {
    fn progress_bar(&self, len: u64, what: &str) -> Option<ProgressBar> {
        if !self.opts.progress {
            return None;
        }
        let bar = ProgressBar::new(len);
        let style = ProgressStyle::with_template(&format!(
            "{what} [{{bar:40}}] {{pos}}/{{len}} {{msg}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Some(bar)
    }

    // ---- phase 1 -----------------------------------------------------------------------

    fn connect_phase(&mut self, events: &mut Events) -> Result<f64, BenchError> {
        let n = self.opts.clients;
        let started = Instant::now();
        let deadline = started + self.opts.connect_timeout;
        let bar = self.progress_bar(n as u64, "connect");
        let mut next = 0usize;
        let mut last_tick = started;
        while self.ready < n {
            while self.pending < self.opts.connect_concurrency && next < n {
                self.open(next)
                    .map_err(|e| self.connect_error(format!("client {next}: {e}")))?;
                self.pending += 1;
                next += 1;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.connect_error(format!(
                    "timed out after {:?} (--connect-timeout)",
                    self.opts.connect_timeout
                )));
            }
            self.poll
                .poll(events, Some(TICK.min(deadline - now)))
                .or_else(interrupted_is_ok)?;
            self.dispatch(events);
            if let Some(reason) = self.fatal.take() {
                return Err(self.connect_error(reason));
            }
            if let Some(bar) = &bar
                && last_tick.elapsed() >= TICK
            {
                last_tick = Instant::now();
                bar.set_position(self.ready as u64);
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok(started.elapsed().as_secs_f64())
    }

    fn connect_error(&self, reason: String) -> BenchError {
        BenchError::Connect {
            ready: self.ready,
            clients: self.opts.clients,
            reason,
        }
    }

    fn open(&mut self, i: usize) -> io::Result<()> {
        let tokens: &[usize] = match self.opts.target {
            Target::Confab => &[2 * i],
            Target::Redis => &[2 * i, 2 * i + 1],
        };
        for &t in tokens {
            let mut sock = TcpStream::connect(self.addr)?;
            sock.set_nodelay(true)?;
            self.poll.registry().register(
                &mut sock,
                Token(t),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let mut conn = Conn {
                sock,
                rbuf: BytesMut::with_capacity(4096),
                wbuf: BytesMut::with_capacity(4096),
                connected: false,
                open: true,
            };
            match (self.opts.target, t % 2) {
                (Target::Confab, _) => {
                    let hello = Command::Name(self.names[i].clone());
                    self.codec
                        .encode(&hello, &mut conn.wbuf)
                        .map_err(|e| io::Error::other(e.to_string()))?;
                }
                (Target::Redis, 0) => {
                    resp::encode_command(&[b"SUBSCRIBE", &self.channels[i]], &mut conn.wbuf)
                }
                (Target::Redis, _) => resp::encode_command(&[b"PING"], &mut conn.wbuf),
            }
            self.conns[t] = Some(conn);
        }
        Ok(())
    }

    fn client_ready_step(&mut self, i: usize) {
        let c = &mut self.clients[i];
        let ready = match self.opts.target {
            Target::Confab => c.named,
            Target::Redis => c.named && c.publisher_ready,
        };
        if ready && !c.ready {
            c.ready = true;
            self.ready += 1;
            self.pending -= 1;
        }
    }

    // ---- phase 2 -----------------------------------------------------------------------

    fn run_phase(&mut self, events: &mut Events) -> Result<Duration, BenchError> {
        let n = self.opts.clients;
        let total = self.opts.talkers() as u64 * u64::from(self.opts.messages);
        let bar = self.progress_bar(total, "messages");
        self.phase = Phase::Run;
        self.start = Instant::now();
        let start_ns = self.ns_since_epoch(self.start);
        self.last_delivery_ns = start_ns;
        self.last_progress_ns = start_ns;
        // Idle clients have nothing to send: they are done from the start, and only read.
        for i in self.opts.talkers()..n {
            self.retire(i);
        }
        for i in 0..n {
            self.mark_dirty(i as u32);
        }
        let mut last_tick = self.start;
        let mut stalled = false;
        loop {
            let now = Instant::now();
            self.clock_ns = self.ns_since_epoch(now);
            while let Some(&Reverse((at, i))) = self.due.peek() {
                if at > now {
                    break;
                }
                self.due.pop();
                self.clients[i as usize].waiting = false;
                self.mark_dirty(i);
            }
            let dirty = std::mem::take(&mut self.dirty);
            for &i in &dirty {
                self.clients[i as usize].dirty = false;
                self.fill(i as usize, now);
            }
            let mut dirty = dirty;
            dirty.clear();
            if self.dirty.is_empty() {
                self.dirty = dirty;
            }
            if let Some(e) = self.fatal.take() {
                return Err(BenchError::Io(io::Error::other(e)));
            }
            if self.senders_done == n && self.outstanding() == 0 {
                break;
            }
            // Stalled: messages are out and nothing has moved for the stall timeout. (Clients
            // waiting for their rate-limited turn with nothing out are not stalled.)
            let quiet = Duration::from_nanos(self.clock_ns.saturating_sub(self.last_progress_ns));
            if self.outstanding() > 0 && quiet >= self.opts.stall_timeout {
                stalled = true;
                break;
            }
            let mut timeout = TICK;
            if let Some(&Reverse((at, _))) = self.due.peek() {
                timeout = timeout.min(at.saturating_duration_since(now));
            }
            self.io.polls += 1;
            self.poll
                .poll(events, Some(timeout))
                .or_else(interrupted_is_ok)?;
            self.dispatch(events);
            if let Some(bar) = &bar
                && last_tick.elapsed() >= TICK
            {
                last_tick = Instant::now();
                bar.set_position(self.delivered);
                let secs = last_tick.duration_since(self.start).as_secs_f64();
                if secs > 0.0 {
                    bar.set_message(format!("{:.0} msg/s", self.delivered as f64 / secs));
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if stalled {
            self.stalled = true;
        }
        Ok(Duration::from_nanos(
            self.last_delivery_ns.saturating_sub(start_ns),
        ))
    }

    fn outstanding(&self) -> u64 {
        self.sent.saturating_sub(self.delivered + self.rejected)
    }

    fn mark_dirty(&mut self, i: u32) {
        let c = &mut self.clients[i as usize];
        if !c.dirty && !c.waiting && !c.dead && !c.done && c.sent < self.opts.messages {
            c.dirty = true;
            self.dirty.push(i);
        }
    }

    /// Writes every message client `i` may send now, then flushes.
    fn fill(&mut self, i: usize, now: Instant) {
        let opts = self.opts;
        let n = opts.clients as u32;
        let talkers = opts.talkers() as u32;
        let out = match opts.target {
            Target::Confab => 2 * i,
            Target::Redis => 2 * i + 1,
        };
        let now_ns = self.ns_since_epoch(now);
        let epoch = self.epoch;
        let start = self.start;
        let client = &mut self.clients[i];
        let Some(conn) = self.conns[out].as_mut() else {
            return;
        };
        let Some(rng) = client.rng.as_mut() else {
            return;
        };
        let mut broken = false;
        let mut batch = 0;
        let mut failed = None;
        while !client.dead && client.sent < opts.messages && client.inflight < opts.inflight {
            let sent_ns = match self.rate_interval {
                Some(interval) => {
                    // Talker i's k-th message is due at start + (k + i/talkers) intervals;
                    // its latency counts from then, so a late send is not hidden.
                    let slot = f64::from(client.sent) + f64::from(i as u32) / f64::from(talkers);
                    let due = start + interval.mul_f64(slot);
                    if due > now {
                        client.waiting = true;
                        self.due.push(Reverse((due, i as u32)));
                        break;
                    }
                    due.saturating_duration_since(epoch).as_nanos() as u64
                }
                None => now_ns,
            };
            let to = opts.pattern.recipient(i as u32, n, rng);
            let seq = self.ledger.send(i as u32, to);
            let stamp = Stamp {
                sender: i as u32,
                recipient: to,
                seq,
                sent_ns,
            };
            self.text.clear();
            stamp.write(opts.size, &mut self.text);
            self.text_bytes = self.text_bytes.max(self.text.len());
            match opts.target {
                Target::Confab => {
                    // Options::validate keeps texts within every limit: failures here are
                    // the generator's own bugs, reported rather than panicked on.
                    let text = std::str::from_utf8(&self.text)
                        .map_err(|e| e.to_string())
                        .and_then(|t| Text::new(t).map_err(|e| e.to_string()));
                    let framed = text.and_then(|text| {
                        let msg = Command::Msg {
                            to: self.names[to as usize].clone(),
                            text,
                        };
                        self.codec
                            .encode(&msg, &mut conn.wbuf)
                            .map_err(|e| e.to_string())
                    });
                    if let Err(e) = framed {
                        self.fatal
                            .get_or_insert(format!("cannot send a message: {e}"));
                        client.dead = true;
                        broken = true;
                        break;
                    }
                }
                Target::Redis => resp::encode_command(
                    &[b"PUBLISH", &self.channels[to as usize], &self.text],
                    &mut conn.wbuf,
                ),
            }
            client.sent += 1;
            client.inflight += 1;
            self.sent += 1;
            self.last_progress_ns = now_ns;
            batch += 1;
            if opts.max_batch == Some(batch) {
                batch = 0;
                if conn.connected && conn.open {
                    if let Err(why) = write_out(conn, &mut self.io) {
                        failed = Some(why);
                        break;
                    }
                    if !conn.wbuf.is_empty() {
                        // The socket takes no more: a blocking client would wait here too.
                        break;
                    }
                }
            }
        }
        if client.sent == opts.messages || broken {
            self.retire(i);
        }
        if let Some(why) = failed {
            return self.conn_failed(out, why);
        }
        self.flush(out);
    }

    /// Client `i` will send no more: it has sent everything, or cannot.
    fn retire(&mut self, i: usize) {
        let c = &mut self.clients[i];
        if !c.done {
            c.done = true;
            self.senders_done += 1;
        }
    }

    fn ns_since_epoch(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    // ---- events ------------------------------------------------------------------------

    fn dispatch(&mut self, events: &Events) {
        for ev in events.iter() {
            let t = ev.token().0;
            if ev.is_writable() || ev.is_error() {
                self.on_writable(t);
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                self.on_readable(t);
            }
        }
    }

    fn on_writable(&mut self, t: usize) {
        let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return;
        };
        if !conn.open {
            return;
        }
        if !conn.connected {
            match conn.sock.take_error() {
                Ok(Some(e)) | Err(e) => return self.conn_failed(t, format!("connect: {e}")),
                Ok(None) => {}
            }
            match conn.sock.peer_addr() {
                Ok(_) => conn.connected = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => return self.conn_failed(t, format!("connect: {e}")),
            }
        }
        self.flush(t);
    }

    fn flush(&mut self, t: usize) {
        let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return;
        };
        if !conn.connected || !conn.open {
            return;
        }
        if let Err(why) = write_out(conn, &mut self.io) {
            self.conn_failed(t, why);
        }
    }

    fn on_readable(&mut self, t: usize) {
        let mut eof = false;
        let mut failure = None;
        {
            let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) else {
                return;
            };
            if !conn.open {
                return;
            }
            loop {
                match conn.sock.read(&mut self.scratch) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(k) => {
                        self.io.reads += 1;
                        conn.rbuf.extend_from_slice(&self.scratch[..k]);
                        // A short read emptied the socket: with edge-triggered readiness, more
                        // data brings a new event, so the read that would say WouldBlock is
                        // saved (one syscall per readable event instead of two).
                        if k < self.scratch.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.io.reads += 1;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        failure = Some(format!("read: {e}"));
                        break;
                    }
                }
            }
        }
        let now_ns = self.ns_since_epoch(Instant::now());
        self.clock_ns = now_ns;
        match self.opts.target {
            Target::Confab => self.decode_confab(t, eof, now_ns),
            Target::Redis => self.decode_redis(t, now_ns),
        }
        if let Some(reason) = failure {
            self.conn_failed(t, reason);
        } else if eof {
            self.conn_failed(t, "the server closed the connection".into());
        }
    }

    fn decode_confab(&mut self, t: usize, eof: bool, now_ns: u64) {
        let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return;
        };
        let mut rbuf = std::mem::take(&mut conn.rbuf);
        let i = t / 2;
        loop {
            let item = if eof {
                self.codec.decode_eof(&mut rbuf)
            } else {
                self.codec.decode(&mut rbuf)
            };
            match item {
                Ok(Some(Ok(reply))) => self.on_reply(i, reply, now_ns),
                Ok(Some(Err(e))) => self.bad_reply(i, format!("unreadable reply: {e}")),
                Ok(None) => break,
                Err(e) => {
                    self.bad_reply(i, format!("{e}"));
                    rbuf.clear();
                    break;
                }
            }
        }
        if let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) {
            conn.rbuf = rbuf;
        }
    }

    fn on_reply(&mut self, i: usize, reply: Reply, now_ns: u64) {
        match (self.phase, reply) {
            (Phase::Connect, Reply::Hello(name)) if name == self.names[i] => {
                self.clients[i].named = true;
                self.client_ready_step(i);
            }
            (Phase::Run, Reply::Delivery { from, text }) => {
                let from_ok = |s: u32| self.names.get(s as usize) == Some(&from);
                match Stamp::parse(text.as_str().as_bytes()) {
                    Ok(stamp) if from_ok(stamp.sender) => self.deliver(i, stamp, now_ns),
                    _ => self.ledger.note_misrouted(),
                }
            }
            (_, Reply::Error { code, message }) => {
                let m = message.map(|m| format!(" {m}")).unwrap_or_default();
                self.reject(i, format!("client {i}: ERROR {code}{m}"));
            }
            (_, reply) => {
                let payload = String::from_utf8_lossy(&reply.to_payload()).into_owned();
                self.bad_reply(i, format!("unexpected reply {payload:?}"));
            }
        }
    }

    fn decode_redis(&mut self, t: usize, now_ns: u64) {
        let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) else {
            return;
        };
        let rbuf = std::mem::take(&mut conn.rbuf);
        let i = t / 2;
        let subscriber = t.is_multiple_of(2);
        let mut used = 0;
        loop {
            match resp::parse(&rbuf[used..]) {
                Ok(Some((value, k))) => {
                    used += k;
                    if subscriber {
                        self.on_push(i, value, now_ns);
                    } else {
                        self.on_publish_reply(i, value);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.bad_reply(i, format!("RESP: {e}"));
                    used = rbuf.len();
                    break;
                }
            }
        }
        let mut rbuf = rbuf;
        rbuf.advance(used);
        if let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) {
            conn.rbuf = rbuf;
        }
    }

    fn on_push(&mut self, i: usize, value: Value<'_>, now_ns: u64) {
        let channel = self.channels[i].as_slice();
        if let Value::Array(Some(items)) = &value {
            match (self.phase, items.as_slice()) {
                (Phase::Connect, [Value::Bulk(Some(b"subscribe")), Value::Bulk(Some(ch)), _])
                    if *ch == channel =>
                {
                    self.clients[i].named = true;
                    self.client_ready_step(i);
                    return;
                }
                (
                    Phase::Run,
                    [
                        Value::Bulk(Some(b"message")),
                        Value::Bulk(Some(ch)),
                        Value::Bulk(Some(payload)),
                    ],
                ) => {
                    match Stamp::parse(payload) {
                        Ok(stamp) if *ch == channel => self.deliver(i, stamp, now_ns),
                        _ => self.ledger.note_misrouted(),
                    }
                    return;
                }
                _ => {}
            }
        }
        self.bad_reply(i, format!("unexpected push on the subscriber: {value:?}"));
    }

    fn on_publish_reply(&mut self, i: usize, value: Value<'_>) {
        match (self.phase, value) {
            (Phase::Connect, Value::Simple(b"PONG")) => {
                self.clients[i].publisher_ready = true;
                self.client_ready_step(i);
            }
            (Phase::Run, Value::Integer(n)) if n >= 1 => {}
            (Phase::Run, Value::Integer(_)) => {
                self.reject(i, format!("client {i}: PUBLISH reached no subscriber"));
            }
            (_, Value::Error(e)) => {
                let e = String::from_utf8_lossy(e).into_owned();
                self.reject(i, format!("client {i}: -{e}"));
            }
            (_, value) => self.bad_reply(i, format!("unexpected reply {value:?}")),
        }
    }

    // ---- accounting --------------------------------------------------------------------

    fn deliver(&mut self, at: usize, stamp: Stamp, now_ns: u64) {
        let receipt = self
            .ledger
            .receive(at as u32, stamp.sender, stamp.recipient, stamp.seq);
        if !receipt.is_first_copy() {
            return;
        }
        self.delivered += 1;
        self.last_delivery_ns = now_ns;
        self.last_progress_ns = now_ns;
        let latency = now_ns
            .saturating_sub(stamp.sent_ns)
            .clamp(1, MAX_LATENCY_NS);
        self.hist.saturating_record(latency);
        let sender = stamp.sender as usize;
        self.clients[sender].inflight = self.clients[sender].inflight.saturating_sub(1);
        self.mark_dirty(stamp.sender);
    }

    /// An error reply in phase 2: one of the client's messages will not arrive.
    fn reject(&mut self, i: usize, what: String) {
        if self.phase == Phase::Connect {
            self.fatal.get_or_insert(what);
            return;
        }
        self.rejected += 1;
        self.first_rejection.get_or_insert(what);
        self.clients[i].inflight = self.clients[i].inflight.saturating_sub(1);
        self.last_progress_ns = self.clock_ns;
        self.mark_dirty(i as u32);
    }

    fn bad_reply(&mut self, i: usize, what: String) {
        match self.phase {
            Phase::Connect => {
                self.fatal.get_or_insert(format!("client {i}: {what}"));
            }
            Phase::Run => {
                self.bad_replies += 1;
                self.first_rejection
                    .get_or_insert(format!("client {i}: {what}"));
            }
        }
    }

    fn conn_failed(&mut self, t: usize, why: String) {
        let i = t / 2;
        if let Some(conn) = self.conns.get_mut(t).and_then(Option::as_mut) {
            if !conn.open {
                return;
            }
            conn.open = false;
            let _ = self.poll.registry().deregister(&mut conn.sock);
        }
        match self.phase {
            Phase::Connect => {
                self.fatal.get_or_insert(format!("client {i}: {why}"));
            }
            Phase::Run => {
                self.disconnected += 1;
                self.first_rejection
                    .get_or_insert(format!("client {i}: {why}"));
                self.clients[i].dead = true;
                self.retire(i);
            }
        }
    }

    fn report(
        &self,
        connect_secs: f64,
        duration: Duration,
        server: Option<ServerUsage>,
        bench_cpu: Duration,
    ) -> Report {
        let opts = self.opts;
        let integrity = self.ledger.integrity();
        let secs = duration.as_secs_f64();
        let h = &self.hist;
        let us = |ns: u64| ns as f64 / 1000.0;
        let latency = if h.is_empty() {
            Latency::default()
        } else {
            Latency {
                p50: us(h.value_at_quantile(0.50)),
                p90: us(h.value_at_quantile(0.90)),
                p99: us(h.value_at_quantile(0.99)),
                p999: us(h.value_at_quantile(0.999)),
                max: us(h.max()),
                mean: h.mean() / 1000.0,
            }
        };
        let stalled = self.stalled;
        let expected = opts.talkers() as u64 * u64::from(opts.messages);
        let ok = integrity.is_clean()
            && self.rejected == 0
            && self.bad_replies == 0
            && self.disconnected == 0
            && !stalled
            && self.delivered == expected;
        Report {
            ok,
            target: opts.target,
            addr: self.addr.to_string(),
            embedded: opts.addr.is_none(),
            framing: match opts.target {
                Target::Confab => opts.framing.to_string(),
                Target::Redis => "resp".into(),
            },
            clients: opts.clients,
            talkers: opts.talkers(),
            messages: opts.messages,
            size: opts.size,
            text_bytes: self.text_bytes,
            pattern: opts.pattern,
            inflight: opts.inflight,
            max_batch: opts.max_batch,
            writes_per_message: if self.sent > 0 {
                self.io.writes as f64 / self.sent as f64
            } else {
                0.0
            },
            rate: opts.rate,
            seed: opts.seed,
            connect_secs,
            duration_secs: secs,
            sent: self.sent,
            delivered: self.delivered,
            throughput: if secs > 0.0 {
                self.delivered as f64 / secs
            } else {
                0.0
            },
            rejected: self.rejected,
            first_rejection: self.first_rejection.clone(),
            bad_replies: self.bad_replies,
            disconnected: self.disconnected,
            stalled,
            integrity,
            latency_us: latency,
            server,
            bench_cpu_secs: bench_cpu.as_secs_f64(),
            bench_io: self.io,
        }
    }
}

/// Writes `conn`'s buffer until it is empty or the socket would block; the error says why the
/// connection cannot go on.
fn write_out(conn: &mut Conn, io: &mut IoCounts) -> Result<(), String> {
    while !conn.wbuf.is_empty() {
        io.writes += 1;
        match conn.sock.write(&conn.wbuf) {
            Ok(0) => return Err("the connection accepts no more bytes".into()),
            Ok(k) => conn.wbuf.advance(k),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("write: {e}")),
        }
    }
    Ok(())
}

/// The server's resident memory per client, in bytes: what naming every client added to the
/// baseline, over the clients. Negative when the server gave memory back meanwhile.
fn per_client(baseline_kib: Option<u64>, named_kib: Option<u64>, clients: usize) -> Option<f64> {
    let (b, c) = (baseline_kib?, named_kib?);
    if clients == 0 {
        return None;
    }
    Some((c as f64 - b as f64) * 1024.0 / clients as f64)
}

fn interrupted_is_ok(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::Interrupted {
        Ok(())
    } else {
        Err(e)
    }
}
