//! The reference terminal client (issue 5): type while messages arrive.
//!
//! Two modes, chosen by what stdin and stdout are:
//!
//! - **Interactive** (both are terminals, [`interactive`]): raw mode, one event loop over
//!   the terminal's key events and the connection, a line editor ([`editor`]) and a renderer
//!   ([`render`]) that prints each arriving reply above the line being typed without
//!   disturbing it (CLIENT-3).
//! - **Line mode** (either is a pipe or a file, [`script`]): each input line is a command, each
//!   reply one line on stdout in a stable format ([`show`]); at the end of input it sends
//!   `EXIT` and waits, bounded, for `BYE`.
//!
//! In both, a line is parsed as a command before anything is sent, and one that would not be
//! a valid frame or command is refused locally with an explanation ([`input`], CLIENT-1).
//! Everything received is shown escaped (CLIENT-2).
//!
//! The modules below this one are free of terminals and sockets where they can be: the editor
//! takes key events, the renderer writes to any `impl Write`, and the two session loops take
//! any byte stream as the connection, so all of it is tested without a terminal.

pub mod editor;
pub mod input;
pub mod interactive;
pub mod render;
pub mod script;
pub mod show;
pub mod terminal;
pub mod wire;

use std::io::{self, IsTerminal};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::protocol::{CodecError, Dialect, FrameError, Name};

/// How long to wait for `BYE` after sending `EXIT`, when not told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// What the client is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server, as `HOST:PORT`.
    pub addr: String,
    /// A name to send `NAME` for right after connecting.
    pub name: Option<Name>,
    /// Framing and spelling of the server (§11).
    pub dialect: Dialect,
    /// How long to wait for `BYE` (or the server closing) after `EXIT`.
    pub wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: crate::server::DEFAULT_ADDR.to_owned(),
            name: None,
            dialect: Dialect::CANONICAL,
            wait: DEFAULT_WAIT,
        }
    }
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client sent `EXIT` and the server answered `BYE` or closed the connection.
    Left,
    /// The server closed the connection without being asked to.
    ClosedByServer,
    /// The client sent `EXIT` and neither `BYE` nor a close came in time.
    NoBye,
}

/// The result of a session that ran to an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// Lines of input that were refused locally (line mode; CLIENT-1).
    pub refused: usize,
}

/// Exit codes, for scripts.
pub mod exit {
    /// The session ended with `EXIT` answered, and every line was sent.
    pub const OK: u8 = 0;
    /// The connection failed, was lost, was closed by the server unasked, or `EXIT` went
    /// unanswered.
    pub const CONNECTION: u8 = 1;
    /// The command line was wrong (clap's code).
    pub const USAGE: u8 = 2;
    /// Line mode: the session ended well but some input lines were refused locally.
    pub const REFUSED: u8 = 3;
}

impl Outcome {
    /// The process exit code for this outcome (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self.ending {
            Ending::Left if self.refused == 0 => exit::OK,
            Ending::Left => exit::REFUSED,
            Ending::ClosedByServer | Ending::NoBye => exit::CONNECTION,
        }
    }
}

/// Why a session stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection could not be opened.
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    /// The server sent a frame header that cannot be read; the stream cannot go on (FRAME-5).
    #[error("the server sent a bad frame ({0}); is --framing right for this server?")]
    BadFrame(FrameError),
    /// The server closed the connection in the middle of a frame (FRAME-6).
    #[error(
        "the server closed the connection in the middle of a frame ({buffered} bytes of it received)"
    )]
    Truncated { buffered: usize },
    /// The connection failed.
    #[error("connection error: {0}")]
    Connection(io::Error),
    /// The terminal failed.
    #[error("terminal error: {0}")]
    Terminal(io::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(io::Error),
}

impl ClientError {
    /// The error for a codec failure on the connection.
    pub fn from_codec(e: CodecError) -> ClientError {
        match e {
            CodecError::Frame(e) => ClientError::BadFrame(e),
            CodecError::Truncated { buffered } => ClientError::Truncated { buffered },
            CodecError::Io(e) => ClientError::Connection(e),
            // Lines are checked before they are sent (input::check_frame), so the encoder
            // does not refuse one; say what happened if it ever does.
            CodecError::Encode(e) => ClientError::Connection(io::Error::other(e)),
        }
    }
}

/// Opens the connection, with `TCP_NODELAY`: each command is one small frame, sent as typed.
pub async fn connect(addr: &str) -> Result<TcpStream, ClientError> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| ClientError::Connect {
            addr: addr.to_owned(),
            source,
        })?;
    stream.set_nodelay(true).map_err(ClientError::Connection)?;
    Ok(stream)
}

/// Connects and runs a session: interactive when stdin is a terminal, line mode otherwise.
/// SIGINT, SIGTERM and SIGHUP end the session as `EXIT` does.
pub async fn run(options: &Options) -> Result<Outcome, ClientError> {
    let stream = connect(&options.addr).await?;
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        interactive::run_terminal(stream, options, stop_signal()).await
    } else {
        script::run_stdio(stream, options, stop_signal()).await
    }
}

/// Completes on SIGINT, SIGTERM or SIGHUP (never, where they cannot be listened for).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let kinds = [
            SignalKind::interrupt(),
            SignalKind::terminate(),
            SignalKind::hangup(),
        ];
        let mut streams = Vec::new();
        for kind in kinds {
            if let Ok(s) = signal(kind) {
                streams.push(s);
            }
        }
        if streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = streams.iter_mut().map(|s| Box::pin(s.recv()));
        let _ = futures::future::select_all(waits).await;
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
