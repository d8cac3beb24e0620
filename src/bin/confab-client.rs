//! `confab-client`: the reference terminal client. The logic is in `confab::client`; this
//! file reads the command line, runs a session and turns its end into an exit code.

// The `///` comments below are `--help` text: `<name>` and `[NAME]` are placeholders.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use confab::client::{self, Options, exit};
use confab::protocol::{Dialect, Framing, Name, Spelling};

/// Chat on a confab server: type while messages arrive.
///
/// On a terminal, type the protocol's commands and press Enter: NAME <name>, GET_NAMES,
/// MSG <name> <text>, EXIT. /help lists them and the editing keys. Messages arrive above the
/// line being typed. Ctrl-C, or Ctrl-D on an empty line, leaves.
///
/// With stdin or stdout not a terminal (a pipe, a file), it runs in line mode for scripts:
/// each input line is sent as a command and each reply is printed as one line,
///   hello NAME | names [NAME...] [+N] | msg FROM TEXT | error CODE [MESSAGE] | bye |
///   unparsed PAYLOAD
/// with control characters and backslashes in TEXT, MESSAGE and PAYLOAD escaped (\n, \e,
/// \\, \u{..}, \xNN). At the end of input EXIT is sent, and replies are printed until BYE.
///
///   printf 'NAME A\nGET_NAMES\nEXIT\n' | confab-client
///
/// A line that is not a valid command, or does not fit one frame, is not sent: it is
/// explained (on stderr in line mode) instead. `/raw PAYLOAD` sends a payload as it is, for
/// servers that know other commands.
#[derive(Debug, Parser)]
#[command(version, after_help = EXIT_CODES)]
struct Args {
    /// The server to connect to, as HOST:PORT.
    #[arg(long, default_value = confab::server::DEFAULT_ADDR, value_name = "HOST:PORT")]
    addr: String,

    /// Send NAME with this name right after connecting (1 to 32 ASCII letters and digits,
    /// starting with a letter).
    #[arg(long, value_parser = parse_name)]
    name: Option<Name>,

    /// How the server frames messages: dec1..dec9 (N decimal digits of length), bin1, bin2,
    /// bin4, bin8 (big-endian binary length), raw (none: one read is one message) or line
    /// (each message ends with a newline).
    #[arg(long, default_value = "dec4", value_name = "FRAMING")]
    framing: Framing,

    /// How the server spells commands: canonical (GET_NAMES), getnames (GETNAMES) or
    /// numeric (1 NAME, 2 GET_NAMES, 3 MSG, 4 EXIT). Type the canonical commands either way.
    #[arg(long, default_value = "canonical", value_name = "SPELLING")]
    spelling: Spelling,

    /// Seconds to wait for BYE after sending EXIT before leaving anyway.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS", value_parser = parse_seconds)]
    wait: f64,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  the session ended with EXIT answered (BYE, or the server closed the connection)
  1  could not connect; the connection failed or the server closed it unasked; no BYE in time
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

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        addr: args.addr,
        name: args.name,
        dialect: Dialect {
            framing: args.framing,
            spelling: args.spelling,
        },
        wait: Duration::from_secs_f64(args.wait),
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
