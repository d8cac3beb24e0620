//! `confab-server`: the reference server of PROTOCOL.md. This binary only parses flags, sets up
//! logging and signals, and calls `confab::server::run`.

// The `///` comments below are `--help` text: `<name>` and `[NAME]` are placeholders.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use confab::cli::HostPort;
use confab::protocol::{Dialect, Framing, Spelling};
use confab::server::{self, Config};
use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The confab reference server.
///
/// Serves the confab chat protocol (PROTOCOL.md): NAME, GET_NAMES, MSG and EXIT over
/// length-prefixed frames, canonical by default (4 decimal digits, canonical spelling).
///
/// Policies against broken or hostile clients (PROTOCOL.md §9):
///
/// - POLICY-1 connection limit (--max-clients, default 16384): a connection over the limit
///   gets `ERROR SERVER_FULL` and is closed.
///
/// - POLICY-2 stalled frame (--frame-timeout, default 10s): a frame not complete that long
///   after its first byte gets `ERROR TIMEOUT` and the connection is closed. A connection idle
///   between frames is never closed.
///
/// - POLICY-3 outbound bytes (--output-hard 1MiB, --output-soft 256KiB for --output-soft-time
///   10s, --output-total 32MiB): a client that does not read and has more than this waiting
///   gets `ERROR SLOW_CONSUMER` after the frame in progress and is disconnected (logged); all
///   clients' queues together stay under the total, the largest cut first. Others are not
///   affected.
///
/// - POLICY-4 shutdown (Ctrl-C or SIGTERM): stop accepting and reading, finish the frame in
///   progress, send `ERROR SHUTTING_DOWN` to every connection, close them all, exit 0 within
///   about a second.
///
/// - POLICY-8 round pacing (--pace, default 8ms): under load from clients that pipeline
///   their commands, deliveries may wait up to that long to share a write.
///
/// At start the soft open-file limit is raised to the hard limit; when --max-clients does not
/// fit in it, the server serves fewer and says so.
///
/// Logs go to stderr, one logfmt line per event (`ts=... level=info msg="..." key=value`,
/// values with spaces quoted); the first line names the version, the process id, the address
/// and the dialect. Set RUST_LOG (default `info`; `confab=debug` shows every connection).
///
/// Exit codes: 0 after a graceful shutdown, 1 when the server cannot start or stops on an
/// error, 2 for bad flags.
#[derive(Debug, Parser)]
#[command(name = "confab-server", version, verbatim_doc_comment)]
struct Args {
    /// Address to listen on: HOST:PORT, PORT (on 127.0.0.1) or HOST (port 4774); HOST may be
    /// a name (localhost) or an address (0.0.0.0, [::1]).
    #[arg(long, value_name = "ADDR", default_value = server::DEFAULT_ADDR, value_parser = listen_address)]
    listen: HostPort,

    /// Port to listen on, replacing the port of --listen.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// Framing of both directions: dec1..dec9 (N decimal digits), bin1, bin2, bin4, bin8
    /// (N-byte big-endian length), bin2le, bin4le, bin8le (little-endian), hex1..hex9 (N
    /// hexadecimal digits), raw (one read is one message) or line (newline-terminated).
    #[arg(long, value_name = "FRAMING", default_value = "dec4")]
    framing: Framing,

    /// Command spelling: canonical (GET_NAMES, GETNAMES accepted), getnames, or numeric
    /// (1 <name>, 2, 3 <name> <text>, 4).
    #[arg(long, value_name = "SPELLING", default_value = "canonical")]
    spelling: Spelling,

    /// POLICY-1: connections served at once; one more gets ERROR SERVER_FULL and is closed.
    #[arg(long, value_name = "N", default_value_t = server::DEFAULT_MAX_CLIENTS, value_parser = positive)]
    max_clients: usize,

    /// POLICY-3: bytes that may wait to be sent to one connection (a client that does not
    /// read); a frame past it cuts the connection. A number with an optional unit: B, KiB,
    /// MiB, GiB.
    #[arg(long, value_name = "BYTES", default_value = "1MiB", value_parser = bytes)]
    output_hard: usize,

    /// POLICY-3: a connection with more than this waiting for longer than --output-soft-time
    /// is cut.
    #[arg(long, value_name = "BYTES", default_value = "256KiB", value_parser = bytes)]
    output_soft: usize,

    /// See --output-soft; a duration with a unit (ms, s, m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    output_soft_time: Duration,

    /// POLICY-3: bytes that may wait to be sent to all connections together; past it, the
    /// connections holding the most are cut.
    #[arg(long, value_name = "BYTES", default_value = "32MiB", value_parser = bytes)]
    output_total: usize,

    /// POLICY-2: how long a started frame may take to complete before ERROR TIMEOUT and
    /// close, as a number with a unit (ms, s, m), e.g. 10s or 500ms; 0 disables it.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = optional_duration)]
    frame_timeout: OptionalDuration,

    /// POLICY-8: the longest a round of the event loop is stretched, with a unit (ms, s), or 0
    /// to never stretch one. Only under load from clients that send several commands without
    /// waiting (pipelining) and only while that does not slow them down, the server lets
    /// input gather between rounds so that deliveries leave in fewer writes: a delivery then
    /// waits up to this long. With one worker thread only (--threads).
    #[arg(long, value_name = "DURATION", default_value = "8ms", value_parser = optional_duration)]
    pace: OptionalDuration,

    /// Worker threads of the async runtime (0: half the CPUs, at least one). The server's
    /// own work per message is small next to the kernel's TCP work, which needs CPUs too:
    /// more workers than half the CPUs wake each other more and spend more CPU per message.
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,

    /// Run with a deliberate fault that breaks one requirement, for proving the conformance
    /// harness; `--fault list` lists them. These are the faults that need the server's own
    /// state (names, connections, crashes); the faults that only change bytes on the wire
    /// (unframed replies, a sorted names list, ...) are a fault-injecting proxy in the
    /// conformance tests and cannot be given here.
    #[cfg(feature = "faults")]
    #[arg(long, value_name = "NAME", value_parser = fault)]
    fault: Option<FaultArg>,
}

/// `--fault`: a fault, or `list`.
#[cfg(feature = "faults")]
#[derive(Debug, Clone, Copy)]
enum FaultArg {
    List,
    Run(server::Fault),
}

#[cfg(feature = "faults")]
fn fault(s: &str) -> Result<FaultArg, String> {
    if s == "list" {
        return Ok(FaultArg::List);
    }
    s.parse().map(FaultArg::Run).map_err(|e| e.to_string())
}

/// `--frame-timeout` and `--pace`: a duration, or none (0).
#[derive(Debug, Clone, Copy)]
struct OptionalDuration(Option<Duration>);

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{s:?} is not a count: {e}")),
    }
}

/// `--output-*`: a byte count with an optional binary unit.
fn bytes(s: &str) -> Result<usize, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 1MiB, 256KiB or 4096"))?;
    let scale: usize = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(format!("{s:?}: the unit is one of B, KiB, MiB, GiB")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A duration with a unit, more than zero.
fn duration(s: &str) -> Result<Duration, String> {
    match optional_duration(s)? {
        OptionalDuration(Some(d)) => Ok(d),
        OptionalDuration(None) => Err("must be more than zero".to_owned()),
    }
}

/// `--listen`: an address whose host resolves.
fn listen_address(s: &str) -> Result<HostPort, String> {
    let addr: HostPort = s.parse().map_err(|e| format!("{e}"))?;
    addr.resolve()
        .map_err(|e| format!("cannot resolve {s:?}: {e}"))?;
    Ok(addr)
}

fn optional_duration(s: &str) -> Result<OptionalDuration, String> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 10s, 500ms or 0"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "" if n == 0 => Duration::ZERO,
        _ => return Err(format!("{s:?} needs a unit: ms, s or m (e.g. 10s)")),
    };
    Ok(OptionalDuration((!duration.is_zero()).then_some(duration)))
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .event_format(Logfmt)
        .init();
    match start(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("confab-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config {
        dialect: Dialect {
            framing: args.framing,
            spelling: args.spelling,
        },
        max_clients: fit_max_clients(args.max_clients),
        output: server::OutputLimits {
            hard: args.output_hard,
            soft: args.output_soft,
            soft_for: args.output_soft_time,
            total: args.output_total,
        },
        frame_timeout: args.frame_timeout.0,
        pace: args.pace.0,
        #[cfg(feature = "faults")]
        fault: match args.fault {
            None => None,
            Some(FaultArg::List) => {
                for fault in server::Fault::ALL {
                    println!(
                        "{:<28} breaks {:<8} {}",
                        fault.name(),
                        fault.requirement(),
                        fault.description()
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
            Some(FaultArg::Run(fault)) => Some(fault),
        },
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all().event_interval(server::EVENT_INTERVAL);
    let workers = if args.threads > 0 {
        args.threads
    } else {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        server::default_workers(cpus)
    };
    builder.worker_threads(workers);
    let runtime = builder.build().context("cannot start the tokio runtime")?;
    let listen = args.listen.with_port(args.port);
    let result = runtime.block_on(async {
        let addr = listen
            .resolve()
            .with_context(|| format!("cannot resolve {listen}"))?;
        let listener =
            server::listen(addr).with_context(|| format!("cannot listen on {listen} ({addr})"))?;
        server::run(listener, config, stop_signal())
            .await
            .context("the server stopped on an error")
    });
    // Nothing should be left; do not wait for stragglers.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result.map(|()| ExitCode::SUCCESS)
}

/// Raises the open-file limit and answers the connection limit that fits in it, with a warning
/// when that is less than asked for (as Redis does with `maxclients`).
fn fit_max_clients(asked: usize) -> usize {
    match server::fit_open_files(asked) {
        Ok(limit) => {
            if limit.soft != limit.soft_before {
                tracing::info!(
                    from = limit.soft_before,
                    to = limit.soft,
                    "raised the open-file limit"
                );
            }
            if limit.max_clients < asked {
                tracing::warn!(
                    max_clients = asked,
                    open_files = limit.soft,
                    serving = limit.max_clients,
                    "--max-clients {asked} does not fit the open-file limit of {} (with {} \
                     descriptors kept for the server); serving at most {} connections",
                    limit.soft,
                    server::RESERVED_FILES,
                    limit.max_clients
                );
            }
            limit.max_clients
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; --max-clients as given");
            asked
        }
    }
}

/// Log lines in logfmt: `ts=... level=info target=... msg="..." key=value ...`, a value
/// quoted (with `"` and `\` escaped, control characters as `\n` or `\u{..}`) when it is
/// empty or holds a space, `=`, `"`, `\` or a control character.
struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("ts=")?;
        SystemTime.format_time(&mut writer)?;
        let level = meta.level().as_str().to_ascii_lowercase();
        write!(
            writer,
            " level={level} target={}",
            logfmt_value(meta.target())
        )?;
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        writeln!(writer, "{}", fields.0)
    }
}

/// The fields of an event as ` key=value` pairs; the message is `msg`.
struct Fields(String);

impl Fields {
    fn push(&mut self, field: &Field, value: &str) {
        let key = match field.name() {
            "message" => "msg",
            name => name,
        };
        self.0.push(' ');
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(&logfmt_value(value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%value` fields come here too, and their Debug is their Display.
        self.push(field, &format!("{value:?}"));
    }
}

fn logfmt_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value
            .chars()
            .any(|c| c == ' ' || c == '=' || c == '"' || c == '\\' || c.is_control());
    if plain {
        return value.to_owned();
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c if c.is_control() => quoted.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
