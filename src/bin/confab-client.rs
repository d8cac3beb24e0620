//! `confab-client`: the reference terminal client. The logic is in `confab::client`; this
//! file reads the command line, runs a session and turns its end into an exit code.

// The `///` comments below are `--help` text: `<name>` and `[NAME]` are placeholders.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use confab::cli::HostPort;
use confab::client::{self, Options, Profile, exit};
use confab::protocol::{Dialect, Framing, Name, Spelling};

/// Chat on a confab server, or on any classmate's server of the course: type while messages
/// arrive.
///
/// On a terminal, type the protocol's commands and press Enter: NAME <name>, GET_NAMES,
/// MSG <name> <text>, EXIT (in capitals or lower case). Or chat as in irssi:
///   /msg <name> <text>   send a text
///   /query <name>        plain lines go to <name> from now on (/query alone stops)
///   /names               who is here          /quit   leave
/// Tab completes names seen. /help lists the commands and the editing keys. Messages arrive
/// above the line being typed. Ctrl-C, or Ctrl-D on an empty line, leaves.
///
/// --profile course talks to the course's servers: dec2 framing unless --framing says
/// otherwise, replies in their own words (Hello Dave, Connected clients: Dave, Dave: hi,
/// Bye!) read and shown like canonical ones, and an EXIT without a reply left cleanly.
/// --framing auto finds the framing from the server's greeting or its reply to NAME.
///
/// With stdin or stdout not a terminal (a pipe, a file), it runs in line mode for scripts:
/// each input line is sent as a command and each reply is printed as one line,
///   hello NAME | names [NAME...] [+N] | msg FROM TEXT | error CODE [MESSAGE] | bye |
///   unparsed PAYLOAD
/// and, in the course profile, greeting TEXT | ack TEXT | refused TEXT
/// with control characters and backslashes in TEXT, MESSAGE and PAYLOAD escaped (\n, \e,
/// \\, \u{..}, \xNN). At the end of input EXIT is sent, and replies are printed until BYE.
///
///   printf 'NAME A\nGET_NAMES\nEXIT\n' | confab-client
///
/// A line that is not a valid command, or does not fit one frame, is not sent: it is
/// explained (on stderr in line mode) instead. `/raw PAYLOAD` sends a payload as it is, for
/// servers that know other commands.
#[derive(Debug, Parser)]
#[command(name = "confab-client", version, after_help = EXIT_CODES)]
struct Args {
    /// The server to connect to: HOST:PORT, PORT (on 127.0.0.1) or HOST (port 4774).
    #[arg(long, default_value = confab::cli::DEFAULT_ADDR, value_name = "HOST:PORT")]
    addr: HostPort,

    /// The server's port, replacing the port of --addr.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// Which servers to expect: confab (the canonical protocol, read to the letter) or course
    /// (classmates' servers: dec2 by default, replies in their own words, EXIT perhaps
    /// unanswered).
    #[arg(long, default_value = "confab", value_name = "PROFILE")]
    profile: Profile,

    /// Send NAME with this name right after connecting (1 to 32 ASCII letters and digits,
    /// starting with a letter).
    #[arg(long, value_parser = parse_name)]
    name: Option<Name>,

    /// How the server frames messages: dec1..dec9 (N decimal digits of length), bin1, bin2,
    /// bin4, bin8 (big-endian binary length), bin2le, bin4le, bin8le (little-endian, as
    /// Python's `struct.pack('H', n)` writes it), hex1..hex9 (N hexadecimal digits), raw
    /// (none: one read is one message), line
    /// (each message ends with a newline), or auto (found from the server's first bytes).
    /// Default: dec4, or dec2 with --profile course. A wrong framing is reported on the
    /// first frame that shows it, with the framing the bytes fit.
    #[arg(long, value_name = "FRAMING", value_parser = parse_framing)]
    framing: Option<FramingArg>,

    /// How the server spells commands: canonical (GET_NAMES), getnames (GETNAMES) or
    /// numeric (1 NAME, 2 GET_NAMES, 3 MSG, 4 EXIT). Type the canonical commands either way.
    #[arg(long, default_value = "canonical", value_name = "SPELLING")]
    spelling: Spelling,

    /// Seconds to wait for BYE after sending EXIT before leaving anyway (default 5, or 2
    /// with --profile course).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    wait: Option<f64>,

    /// Show the time (HH:MM) before each line received.
    #[arg(long)]
    timestamps: bool,

    /// Ask for the names list every SECONDS and show who joined and who left.
    #[arg(long, value_name = "SECONDS", value_parser = parse_interval)]
    watch: Option<f64>,
}

/// `--framing`: a framing, or auto.
#[derive(Debug, Clone, Copy)]
enum FramingArg {
    Auto,
    Given(Framing),
}

fn parse_framing(s: &str) -> Result<FramingArg, String> {
    if s == "auto" {
        return Ok(FramingArg::Auto);
    }
    s.parse()
        .map(FramingArg::Given)
        .map_err(|e: confab::protocol::ParseDialectError| format!("{e}, auto"))
}

const EXIT_CODES: &str = "\
Exit codes:
  0  the session ended with EXIT answered (BYE, or the server closed the connection; with
     --profile course, also no reply within --wait)
  1  could not connect; the connection failed or the server closed it unasked; no BYE in
     time; the server's bytes are not frames of --framing (the likely framing is named)
  2  bad command line
  3  line mode: the session ended well, but some input lines were not sent (see stderr)";

fn parse_name(s: &str) -> Result<Name, String> {
    Name::new(s).map_err(|e| e.to_string())
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a number of seconds from 0 to 86400")),
    }
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match parse_seconds(s) {
        Ok(v) if v >= 0.1 => Ok(v),
        Ok(_) => Err(format!("{s:?} is too short: at least 0.1 seconds")),
        Err(e) => Err(e),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (framing, auto_framing) = match args.framing {
        Some(FramingArg::Given(framing)) => (framing, false),
        Some(FramingArg::Auto) => (args.profile.default_framing(), true),
        None => (args.profile.default_framing(), false),
    };
    let options = Options {
        addr: args.addr.with_port(args.port).to_string(),
        name: args.name,
        dialect: Dialect {
            framing,
            spelling: args.spelling,
        },
        wait: args
            .wait
            .map_or(args.profile.default_wait(), Duration::from_secs_f64),
        profile: args.profile,
        auto_framing,
        name_sent: false,
        timestamps: args.timestamps,
        watch: args.watch.map(Duration::from_secs_f64),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("confab-client: cannot start: {e}");
            return ExitCode::from(exit::CONNECTION);
        }
    };
    let result = runtime.block_on(client::run(&options));
    // Reading stdin blocks a thread that cannot be cancelled: do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("confab-client: {e}");
            ExitCode::from(exit::CONNECTION)
        }
    }
}
