//! `confab-conform`: point it at a chat server and get an explained verdict.

// The `///` comments below are `--help` text: `<name>` and `[NAME]` are placeholders.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use confab::protocol::{Framing, Spelling};
use confab_conformance::report::{self, exit, text};
use confab_conformance::{Matching, Profile, RunOptions, Suite, TargetSpec};

/// Judge a chat server against the confab protocol (PROTOCOL.md), the course's example run
/// and grading sheet, and a set of bad inputs that break real servers.
///
/// With no target, tests the embedded reference server. Every case cites what it checks; for
/// each failure the report shows what would have been accepted, what happened, and the bytes
/// that crossed the wire.
///
/// Exit codes: 0 every MUST case passed (with `--profile course`: every rubric row); 1 a MUST
/// case (rubric row) failed, or the server crashed or hung in one; 2 usage or harness error,
/// a server that never became reachable, answered nothing, or does not speak the framing
/// given; 3 no case ran; 130 or 143 interrupted (Ctrl-C or SIGTERM), with every server it
/// started stopped.
#[derive(Debug, Parser)]
#[command(name = "confab-conform", version, after_help = AFTER_HELP)]
struct Args {
    /// Test a server already running at HOST:PORT (with --exec: where the command listens).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<String>,

    /// Start the server with this shell command, test it, stop it. `{port}` in the command is
    /// replaced with a free port. A server that crashes is restarted for the next case.
    #[arg(long, value_name = "CMD")]
    exec: Option<String>,

    /// Built-in profile (`confab`: canonical, strict; `course`: the assignment, framing and
    /// spelling detected, lenient, the verdict and exit code the rubric's) or a TOML profile
    /// file.
    #[arg(long, default_value = "confab", value_name = "NAME|FILE")]
    profile: String,

    /// Override the profile's framing: dec1..dec9, bin1, bin2, bin4, bin8, bin2le, bin4le,
    /// bin8le, hex1..hex9, raw, line, or
    /// auto (found from the server's greeting or its reply to a first NAME, and shown with
    /// the evidence). A framing given that the server does not speak stops the run at once,
    /// naming the framing its reply reads as.
    #[arg(long, value_name = "FRAMING", value_parser = parse_choice::<Framing>)]
    framing: Option<Choice<Framing>>,

    /// Override the profile's command spelling: canonical, getnames, numeric, or auto.
    #[arg(long, value_name = "SPELLING", value_parser = parse_choice::<Spelling>)]
    spelling: Option<Choice<Spelling>>,

    /// Override the profile's matching.
    #[arg(long, value_enum)]
    matching: Option<Matching>,

    /// Suites to run, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "example,rubric,spec,robustness"
    )]
    suite: Vec<Suite>,

    /// Run only cases whose ID starts with this (repeatable), e.g. `spec.NAME`.
    #[arg(long = "case", value_name = "PREFIX")]
    cases: Vec<String>,

    /// How long to wait for a reply that is due, e.g. `2s`, `500ms`.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    timeout: Duration,

    /// How long a started server may take to accept connections.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    startup_timeout: Duration,

    /// How long to keep trying to restart a crashed server (--exec) whose port is still in
    /// use.
    #[arg(long, default_value = "70s", value_parser = parse_duration)]
    restart_timeout: Duration,

    /// Copies of a server started with --exec and `{port}` that run cases at once, each on a
    /// port of its own: the example run and the rubric first on one, then the spec cases
    /// shared among all but the last and robustness on the last. A server that waits out
    /// timeouts is graded in about 60 % of the time; 1 runs every case on one copy, one after
    /// another. Not used with --addr or --fail-fast.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=16))]
    lanes: u16,

    /// Report format (text, json, junit, markdown), written to --output or else to stdout;
    /// `FORMAT=FILE` writes that format to FILE. Repeatable, so that one run writes every
    /// report: `--format json=out.json --format junit=out.xml`.
    #[arg(long, default_value = "text", value_name = "FORMAT[=FILE]", value_parser = parse_format)]
    format: Vec<FormatSpec>,

    /// Write the report of the --format given without a file to this file (the terminal
    /// still gets the text report).
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Quiet: no line per case, no transcripts; the failure causes and the summary only.
    #[arg(long, short)]
    quiet: bool,

    /// Stop after the first case that fails (or crashes or hangs the server); the rest are
    /// reported as not run.
    #[arg(long, short = 'x')]
    fail_fast: bool,

    /// Write each case's transcript to DIR/<case-id>.txt.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,

    /// Colour in the terminal report.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,

    /// List the selected cases and exit.
    #[arg(long)]
    list: bool,

    /// Print the effective profile as TOML and exit (a start for a profile file).
    #[arg(long)]
    print_profile: bool,

    /// Fixed tag for the names the cases use, for reproducible transcripts.
    #[arg(long, hide = true)]
    tag: Option<String>,
}

const AFTER_HELP: &str = "\
Examples:
  confab-conform                                  # the embedded reference server
  confab-conform --addr 127.0.0.1:5555 --profile course
  confab-conform --exec 'python3 server.py {port}' --profile course   # framing detected
  confab-conform --exec 'python3 server.py {port}' --profile course --framing dec3
  confab-conform --exec 'python3 server.py {port}' --profile course -q   # causes and fixes only
  confab-conform --suite rubric --format markdown --output grade.md
  confab-conform --format json=report.json --format junit=report.xml    # one run, two reports
  confab-conform class CLASS.toml --out grades    # a whole class (see `class --help`)

Verdicts: pass, pass (deviation) (lenient matching accepted a difference), info (not
observable on the wire), unsupported (not applicable to the dialect), FAIL, CRASHED, HUNG
(from the liveness probe after each case), harness error, not run (server down).";

/// A framing or spelling given on the command line, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice<T> {
    Auto,
    Fixed(T),
}

fn parse_choice<T>(s: &str) -> Result<Choice<T>, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    if s == confab_conformance::profile::AUTO {
        Ok(Choice::Auto)
    } else {
        s.parse::<T>().map(Choice::Fixed).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Junit,
    Markdown,
}

/// A `--format`: the format, and the file it goes to if given as `FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FormatSpec {
    format: Format,
    file: Option<PathBuf>,
}

fn parse_format(s: &str) -> Result<FormatSpec, String> {
    let (name, file) = match s.split_once('=') {
        Some((name, "")) => {
            return Err(format!("{name}= needs a file name after the ="));
        }
        Some((name, file)) => (name, Some(PathBuf::from(file))),
        None => (s, None),
    };
    let format = Format::from_str(name, true)
        .map_err(|_| format!("unknown format {name:?} (text, json, junit or markdown)"))?;
    Ok(FormatSpec { format, file })
}

/// Where each report goes: `(format, file)`, a file of `None` meaning stdout. The text
/// report without a file is the terminal's and is left out.
fn destinations(
    formats: &[FormatSpec],
    output: Option<&PathBuf>,
) -> anyhow::Result<Vec<(Format, Option<PathBuf>)>> {
    let unnamed: Vec<&FormatSpec> = formats.iter().filter(|f| f.file.is_none()).collect();
    if let Some(path) = output {
        match unnamed.as_slice() {
            [_] => {}
            [] => anyhow::bail!(
                "--output {} names no format: give a --format without a file",
                path.display()
            ),
            _ => anyhow::bail!(
                "--output {} would get {} formats: write each to its own file with \
                 --format FORMAT=FILE",
                path.display(),
                unnamed.len()
            ),
        }
    } else if unnamed.iter().filter(|f| f.format != Format::Text).count() > 1 {
        anyhow::bail!(
            "only one report can go to stdout: write the others to files with \
             --format FORMAT=FILE"
        );
    }
    Ok(formats
        .iter()
        .filter_map(|f| match (&f.file, output) {
            (Some(file), _) => Some((f.format, Some(file.clone()))),
            (None, Some(path)) => Some((f.format, Some(path.clone()))),
            (None, None) if f.format == Format::Text => None,
            (None, None) => Some((f.format, None)),
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Parses `250ms`, `2s`, `1.5s`, `1m`; a bare number is seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 500ms, 2s or 1m"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {s:?} (use ms, s or m)")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("{s:?} must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == "class") {
        return class_main();
    }
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::ERROR as u8 } else { 0 });
        }
    };
    match run(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("confab-conform: error: {e:#}");
            ExitCode::from(exit::ERROR as u8)
        }
    }
}

fn run(args: Args) -> anyhow::Result<i32> {
    let mut profile = Profile::load(&args.profile)?;
    match args.framing {
        Some(Choice::Auto) => profile.detect_framing = true,
        Some(Choice::Fixed(f)) => {
            profile.dialect.framing = f;
            profile.detect_framing = false;
        }
        None => {}
    }
    match args.spelling {
        Some(Choice::Auto) => profile.detect_spelling = true,
        Some(Choice::Fixed(s)) => {
            profile.dialect.spelling = s;
            profile.detect_spelling = false;
        }
        None => {}
    }
    if let Some(m) = args.matching {
        profile.matching = m;
    }
    if args.print_profile {
        print!("{}", profile.to_toml());
        return Ok(exit::PASS);
    }
    let mut options = RunOptions::new(profile);
    options.suites = args.suite.clone();
    options.only = args.cases.clone();
    options.timeout = args.timeout;
    options.restart_deadline = args.restart_timeout;
    options.tag = args.tag.clone();
    options.fail_fast = args.fail_fast;
    options.lanes = usize::from(args.lanes);
    let destinations = destinations(&args.format, args.output.as_ref())?;
    if let Some(tag) = &options.tag
        && !tag.chars().all(|c| c.is_ascii_alphabetic())
    {
        anyhow::bail!("--tag must be letters only, not {tag:?}");
    }

    if args.list {
        for c in options.selected() {
            println!(
                "{:<48} {:<6} {:<24} {}",
                c.id,
                c.level.to_string(),
                c.cites.join(","),
                c.title
            );
        }
        return Ok(exit::PASS);
    }

    if options.selected().is_empty() {
        eprintln!(
            "confab-conform: nothing ran: no case of the suites {:?} matches --case {:?}",
            options
                .suites
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>(),
            options.only
        );
        return Ok(exit::NOTHING_RAN);
    }

    let spec = match (&args.exec, &args.addr) {
        (Some(cmd), addr) => TargetSpec::Exec {
            command: cmd.clone(),
            addr: addr.clone(),
        },
        (None, Some(addr)) => TargetSpec::Addr(addr.clone()),
        (None, None) => TargetSpec::Embedded(confab::server::Config::default()),
    };

    let stdout_tty = std::io::stdout().is_terminal();
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            stdout_tty
                && std::env::var_os("NO_COLOR").is_none()
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    };
    let style = text::Style { color };
    // The text report goes to stdout, unless stdout carries another format.
    let progress_to_stderr = destinations.iter().any(|(_, file)| file.is_none());
    let terminal_style = if progress_to_stderr {
        text::Style { color: false }
    } else {
        style
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let run = async {
            let mut silent = confab_conformance::Silent;
            let mut to_stderr = text::Progress::new(std::io::stderr(), terminal_style);
            let mut to_stdout = text::Progress::new(std::io::stdout(), terminal_style);
            let observer: &mut dyn confab_conformance::Observer = if args.quiet {
                &mut silent
            } else if progress_to_stderr {
                &mut to_stderr
            } else {
                &mut to_stdout
            };
            confab_conformance::run(spec, &options, args.startup_timeout, observer).await
        };
        // The signal handlers are installed (on the first poll) before any server starts.
        tokio::select! {
            biased;
            code = interrupted() => Err(code),
            report = run => Ok(report),
        }
    });
    let report = match report {
        Ok(report) => report,
        Err(code) => {
            // No server the harness started outlives it.
            confab_conformance::target::kill_started_servers();
            eprintln!("confab-conform: interrupted; every server it started is stopped");
            return Ok(code);
        }
    };
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("confab-conform: {e}");
            return Ok(exit::ERROR);
        }
    };

    let tail = text::Tail {
        quiet: args.quiet,
        command: Some(rerun_command(&args)),
    };
    let rendered_tail = text::render_tail_with(&report, terminal_style, &tail);
    if progress_to_stderr {
        eprint!("{rendered_tail}");
    } else {
        print!("{rendered_tail}");
    }
    for (format, file) in &destinations {
        let rendered = match format {
            Format::Text => text::render_tail_with(&report, text::Style { color: false }, &tail),
            Format::Json => report::json::render(&report),
            Format::Junit => report::junit::render(&report),
            Format::Markdown => report::markdown::render(&report),
        };
        match file {
            Some(path) => {
                std::fs::write(path, rendered)
                    .with_context(|| format!("cannot write the report to {}", path.display()))?;
                eprintln!("report written to {}", path.display());
            }
            None => print!("{rendered}"),
        }
    }
    if let Some(dir) = &args.transcripts {
        let n = report::write_transcripts(&report, dir)
            .with_context(|| format!("cannot write transcripts to {}", dir.display()))?;
        eprintln!("{n} transcripts written to {}", dir.display());
    }
    Ok(report.exit_code())
}

/// `confab-conform class ...`: a whole class, from a manifest.
fn class_main() -> ExitCode {
    use clap::Parser as _;
    use confab_conformance::class;
    let args = match class::ClassArgs::try_parse_from(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::ERROR as u8 } else { 0 });
        }
    };
    let code = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|runtime| {
            runtime.block_on(async {
                // The signal handlers are installed (on the first poll) before any server
                // starts.
                tokio::select! {
                    biased;
                    code = interrupted() => {
                        // No student's server outlives the harness.
                        confab_conformance::target::kill_started_servers();
                        eprintln!("\nconfab-conform: interrupted; every server it started is stopped");
                        Ok(code)
                    }
                    result = class::run(args) => result.map_err(|e| e.to_string()),
                }
            })
        });
    match code {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("confab-conform class: error: {e}");
            ExitCode::from(exit::ERROR as u8)
        }
    }
}

/// The command that ran, without what selects cases or writes reports: the start of the
/// commands the report advises to run next.
fn rerun_command(args: &Args) -> String {
    let mut cmd = String::from("confab-conform");
    if let Some(addr) = &args.addr {
        cmd.push_str(&format!(" --addr {}", shell_quote(addr)));
    }
    if let Some(exec) = &args.exec {
        cmd.push_str(&format!(" --exec {}", shell_quote(exec)));
    }
    if args.profile != "confab" {
        cmd.push_str(&format!(" --profile {}", shell_quote(&args.profile)));
    }
    if let Some(Choice::Fixed(f)) = args.framing {
        cmd.push_str(&format!(" --framing {f}"));
    }
    if let Some(Choice::Fixed(s)) = args.spelling {
        cmd.push_str(&format!(" --spelling {s}"));
    }
    if let Some(m) = args.matching {
        cmd.push_str(&format!(" --matching {m}"));
    }
    cmd
}

/// `s` as one word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM; answers the exit code a shell gives for it (130,
/// 143). Without signal handling it waits for ever.
async fn interrupted() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => 130,
        _ = term.recv() => 143,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
