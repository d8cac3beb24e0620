//! `confab-bench`: the load generator, whose bar and figures are in BENCHMARKS.md. All the work
//! is in `confab::bench`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use confab::bench::{self, BenchError, Options, Pattern, Target};
use confab::cli::HostPort;
use confab::protocol::Framing;

/// Exit status when the run was made and something was lost, duplicated, reordered, refused
/// or stalled.
const EXIT_FAILED_RUN: u8 = 1;
/// Exit status for a bad command line, options that contradict each other included.
const EXIT_USAGE: u8 = 2;
/// Exit status when the run could not be made (nothing listening, a server that does not
/// speak the target's protocol, phase 1 failed).
const EXIT_CANNOT_RUN: u8 = 3;

/// Load generator for confab servers and, for comparison, Redis pub/sub.
///
/// Phase 1 connects and names every client and reports how long that took. Phase 2 has every
/// client send --messages texts of --size bytes to peers chosen by --pattern, keeping at most
/// --inflight of its messages sent and not yet received. Every text carries its sender, its
/// recipient, a per-pair sequence number and its send time: receivers count lost, duplicated,
/// reordered and misrouted messages, and any of them fails the run. Reports throughput
/// (delivered messages per second), latency percentiles, and with --server-pid the server's
/// CPU time per delivered message and its resident memory (before connecting, with every
/// client named, and per client).
///
/// Before a run on --addr, one connection checks within 3 seconds that the server answers
/// like the target (HELLO to NAME in --framing, PONG to PING), and the run stops there with
/// a message when it does not.
///
/// Exit status: 0 the run passed; 1 the run was made and failed its checks; 2 bad command
/// line (options that contradict each other included); 3 the run could not be made (nothing
/// listening, the server does not speak the target's protocol, a client could not be named,
/// ...).
#[derive(Debug, Parser)]
#[command(name = "confab-bench", version, max_term_width = 100)]
struct Args {
    /// The server to measure: HOST:PORT, PORT (on 127.0.0.1) or HOST (port 4774). Without it
    /// (and without --port), the embedded reference server is started on a free loopback port
    /// (confab target only) and its threads' CPU time is measured.
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<HostPort>,

    /// The server's port, replacing the port of --addr (on 127.0.0.1 without --addr).
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// What speaks at --addr: `confab` (PROTOCOL.md, in --framing) or `redis` (each client
    /// SUBSCRIBEs to its own channel and PUBLISHes to its recipient's, over two connections).
    #[arg(long, default_value = "confab", value_parser = parse_target)]
    target: Target,

    /// Number of clients, each with its own connection (two for Redis).
    #[arg(long, short = 'c', default_value_t = bench::DEFAULT_CLIENTS)]
    clients: usize,

    /// Messages each client sends in phase 2 (each talking client, with --talkers).
    #[arg(long, short = 'n', default_value_t = bench::DEFAULT_MESSAGES)]
    messages: u32,

    /// How many clients send in phase 2: clients 0 to N-1 do, the others stay connected,
    /// named and idle (they receive what is sent to them, --pattern choosing recipients among
    /// all clients). 1 to --clients; default: every client. With --server-pid, the report's
    /// RSS per client, (RSS with every client named - RSS before connecting) / --clients, is
    /// then the memory an idle connection costs the server.
    #[arg(long, value_name = "N")]
    talkers: Option<usize>,

    /// Text size in bytes. Texts are padded to this size; the stamp they carry (about 20 to
    /// 30 bytes) is never cut, so a smaller size gives the stamp's length.
    #[arg(long, short = 's', default_value_t = bench::DEFAULT_SIZE)]
    size: usize,

    /// Who sends to whom: `random` (a random peer for every message), `ring` (i to i+1), or
    /// `pairs` (2k and 2k+1 to each other; an even number of clients).
    #[arg(long, default_value = "random", value_parser = parse_pattern)]
    pattern: Pattern,

    /// Each client's messages sent and not yet received by their recipient, at most.
    /// 1 makes every client wait for each delivery: a latency-bound run.
    #[arg(long, short = 'k', default_value_t = bench::DEFAULT_INFLIGHT)]
    inflight: u32,

    /// The most messages a client puts in one write. 1 is a person typing: every message its
    /// own write, as a chat client sends it. Default: no bound (a client writes everything
    /// its --inflight window allows at once, which spares the server reads).
    #[arg(long, value_name = "N")]
    max_batch: Option<u32>,

    /// Messages per second over all clients, spread evenly. Latency is then measured from
    /// when each message was due, so a server that falls behind is not hidden. Default: as
    /// fast as --inflight allows.
    #[arg(long, value_name = "MSG_PER_SEC")]
    rate: Option<f64>,

    /// Framing of the confab target: dec1..dec9, bin1, bin2, bin4, bin8, bin2le, bin4le,
    /// bin8le, hex1..hex9 or line (raw cannot
    /// carry pipelined messages). The embedded server is started in the same framing.
    #[arg(long, default_value = "dec4", value_parser = parse_framing)]
    framing: Framing,

    /// The server's process id: its CPU time (utime+stime in /proc/PID/stat) is read before
    /// and after each phase, and its resident memory (VmRSS, VmHWM in /proc/PID/status)
    /// before connecting, with every client named and at the end. (The embedded server shares
    /// this process, so its memory is not reported.)
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,

    /// Print the report as one line of JSON on stdout, and no progress bar.
    #[arg(long)]
    json: bool,

    /// Seed of the random recipients.
    #[arg(long, default_value_t = bench::DEFAULT_SEED)]
    seed: u64,

    /// Connections being opened and named at once in phase 1.
    #[arg(long, default_value_t = bench::DEFAULT_CONNECT_CONCURRENCY)]
    connect_concurrency: usize,

    /// Seconds phase 1 may take before the run is abandoned.
    #[arg(long, value_name = "SECS", default_value_t = bench::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    connect_timeout: f64,

    /// Seconds without any delivery after which phase 2 ends and whatever has not arrived
    /// counts as lost.
    #[arg(long, value_name = "SECS", default_value_t = bench::DEFAULT_STALL_TIMEOUT.as_secs_f64())]
    stall_timeout: f64,
}

fn parse_target(s: &str) -> Result<Target, bench::UnknownTarget> {
    s.parse()
}

fn parse_pattern(s: &str) -> Result<Pattern, bench::UnknownPattern> {
    s.parse()
}

fn parse_framing(s: &str) -> Result<Framing, String> {
    s.parse()
        .map_err(|e: confab::protocol::ParseDialectError| e.to_string())
}

fn seconds(flag: &str, secs: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} {secs} is not a positive number of seconds"))
}

/// The server's address from --addr and --port, if either is given.
fn address(args: &Args) -> Option<HostPort> {
    match (&args.addr, args.port) {
        (Some(addr), port) => Some(addr.clone().with_port(port)),
        (None, Some(port)) => Some(HostPort::default().with_port(Some(port))),
        (None, None) => None,
    }
}

/// Raises the soft limit on open files to what the run needs, within the hard limit.
fn raise_fd_limit(needed: usize) -> anyhow::Result<()> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Ok(());
    }
    let needed = needed as libc::rlim_t;
    if needed <= lim.rlim_cur {
        return Ok(());
    }
    if needed > lim.rlim_max {
        bail!(
            "this run needs about {needed} open files and the limit is {} (ulimit -n); use fewer \
             clients or raise the limit",
            lim.rlim_max
        );
    }
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: `lim` is a valid rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        bail!("cannot raise the open-file limit to {}", lim.rlim_max);
    }
    Ok(())
}

fn options(args: &Args) -> anyhow::Result<Options> {
    Ok(Options {
        addr: address(args)
            .map(|addr| {
                addr.resolve()
                    .with_context(|| format!("--addr {addr} does not resolve"))
            })
            .transpose()?,
        target: args.target,
        framing: args.framing,
        clients: args.clients,
        talkers: args.talkers,
        messages: args.messages,
        size: args.size,
        pattern: args.pattern,
        inflight: args.inflight,
        max_batch: args.max_batch,
        rate: args.rate,
        seed: args.seed,
        server_pid: args.server_pid,
        connect_concurrency: args.connect_concurrency,
        connect_timeout: seconds("--connect-timeout", args.connect_timeout)?,
        stall_timeout: seconds("--stall-timeout", args.stall_timeout)?,
        progress: !args.json && std::io::stderr().is_terminal(),
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = match options(&args).and_then(|opts| {
        opts.validate()?;
        Ok(opts)
    }) {
        Ok(opts) => opts,
        Err(e) => return fail(&args, &e, EXIT_USAGE),
    };
    let result = raise_fd_limit(opts.descriptors_needed()).and_then(|()| Ok(bench::run(&opts)?));
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", report.to_json());
            } else {
                println!("{report}");
            }
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED_RUN)
            }
        }
        Err(e) => fail(&args, &e, EXIT_CANNOT_RUN),
    }
}

/// Reports `e` (as a JSON line too with --json) and exits with `code`.
fn fail(args: &Args, e: &anyhow::Error, code: u8) -> ExitCode {
    let message = match e.downcast_ref::<BenchError>() {
        Some(b) => b.to_string(),
        None => format!("{e:#}"),
    };
    if args.json {
        let line = serde_json::json!({ "ok": false, "error": message });
        println!("{line}");
    }
    eprintln!("confab-bench: {message}");
    ExitCode::from(code)
}
