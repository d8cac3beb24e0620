//! The reference terminal client (PROTOCOL.md §10): type while messages arrive.
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

pub mod clock;
pub mod detect;
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

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::protocol::recognise::Reading;
use crate::protocol::{CodecError, Dialect, Name};
use wire::WireError;

/// How long to wait for `BYE` after sending `EXIT`, when not told otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// How long to wait for a reply to `EXIT` from a course server, which may send none.
pub const COURSE_WAIT: Duration = Duration::from_secs(2);

/// In `raw` framing one read is one message, so messages are sent at least this far apart
/// (DIALECT-5).
pub const RAW_GAP: Duration = Duration::from_millis(100);

/// Waits, in `raw` framing, until [`RAW_GAP`] has passed since `last`; then sets `last` to
/// now. Other framings do not wait.
pub async fn pace(framing: crate::protocol::Framing, last: &mut Option<tokio::time::Instant>) {
    if framing.needs_write_gap()
        && let Some(at) = *last
    {
        tokio::time::sleep_until(at + RAW_GAP).await;
    }
    *last = Some(tokio::time::Instant::now());
}

/// Which servers the client expects, and how it reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The canonical protocol: `dec4`, replies read to the letter of §6, and `EXIT` answered
    /// by `BYE` (EXIT-2).
    #[default]
    Confab,
    /// The course assignment as classmates' servers speak it: `dec2` unless told otherwise,
    /// replies in their own words read leniently ([`crate::protocol::recognise`]), and an
    /// `EXIT` that gets no reply is still a clean end.
    Course,
}

impl Profile {
    /// How replies are read.
    pub fn reading(self) -> Reading {
        match self {
            Profile::Confab => Reading::Strict,
            Profile::Course => Reading::Lenient,
        }
    }

    /// The framing used when none is given.
    pub fn default_framing(self) -> crate::protocol::Framing {
        match self {
            Profile::Confab => crate::protocol::Framing::CANONICAL,
            Profile::Course => "dec2".parse().unwrap_or_default(),
        }
    }

    /// How long to wait for a reply to `EXIT` when not told.
    pub fn default_wait(self) -> Duration {
        match self {
            Profile::Confab => DEFAULT_WAIT,
            Profile::Course => COURSE_WAIT,
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Profile, UnknownProfile> {
        match s {
            "confab" => Ok(Profile::Confab),
            "course" => Ok(Profile::Course),
            _ => Err(UnknownProfile(s.to_owned())),
        }
    }
}

/// A `--profile` that is neither `confab` nor `course`; it holds the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a profile: confab or course")]
pub struct UnknownProfile(pub String);

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
    /// Which servers to expect and how to read them.
    pub profile: Profile,
    /// Find the framing from what the server sends ([`detect`]) instead of `dialect.framing`.
    pub auto_framing: bool,
    /// `NAME` was already sent on the connection (while detecting its framing): the session
    /// counts it as sent and does not send it again.
    pub name_sent: bool,
    /// Show the time before each line received (interactive).
    pub timestamps: bool,
    /// Ask for the names list this often and show who joined and left (interactive).
    pub watch: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            addr: crate::cli::DEFAULT_ADDR.to_owned(),
            name: None,
            dialect: Dialect::CANONICAL,
            wait: DEFAULT_WAIT,
            profile: Profile::Confab,
            auto_framing: false,
            name_sent: false,
            timestamps: false,
            watch: None,
        }
    }
}

impl Options {
    /// The codec that reads the server's frames: in lenient reading, `decN` lengths padded
    /// with spaces are read too (DIALECT-6).
    pub fn reading_wire(&self) -> wire::ClientWire {
        wire::ClientWire::new(self.dialect)
            .reading_padded_lengths(matches!(self.profile.reading(), Reading::Lenient))
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
    /// The client sent `EXIT` to a course server, which did not answer in time; a clean end
    /// in the course profile.
    Unanswered,
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
            Ending::Left | Ending::Unanswered if self.refused == 0 => exit::OK,
            Ending::Left | Ending::Unanswered => exit::REFUSED,
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
    /// The server sent a frame that cannot be read, or a first frame that shows the framing
    /// is wrong; the stream cannot go on (FRAME-5).
    #[error("{0}")]
    BadFrame(WireError),
    /// The server closed the connection before sending anything, after the client sent
    /// something: the likeliest cause is a framing the server does not read.
    #[error(
        "the server closed the connection without a reply to what was sent in {framing}; is --framing right for this server? (--framing auto finds it)"
    )]
    NoReply { framing: crate::protocol::Framing },
    /// `--framing auto` sent a first command in a framing the server does not read, and the
    /// server then refused new connections: it may have crashed on that command.
    #[error(
        "{addr} stopped accepting connections after `{command}` was sent in {framing} framing to find its framing: the server may have crashed on it ({source}); start it again and give its framing with --framing"
    )]
    DiedOnProbe {
        addr: String,
        command: String,
        framing: crate::protocol::Framing,
        source: io::Error,
    },
    /// `--framing auto` found no framing the server answers in.
    #[error(
        "cannot tell the server's framing: no greeting, and no reply to a first command in {tried}; give --framing"
    )]
    Undetected { tried: String },
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
    /// The error for a failure sending, `received` telling whether anything has come from
    /// the server yet: a connection closed before any reply is reported as [`NoReply`].
    ///
    /// [`NoReply`]: ClientError::NoReply
    pub fn from_send(
        e: CodecError,
        received: bool,
        framing: crate::protocol::Framing,
    ) -> ClientError {
        match e {
            CodecError::Io(io)
                if !received
                    && matches!(
                        io.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
            {
                ClientError::NoReply { framing }
            }
            other => ClientError::from_codec(other),
        }
    }

    /// The error for a failure reading the connection.
    pub fn from_wire(e: WireError) -> ClientError {
        match e {
            WireError::Codec(e) => ClientError::from_codec(e),
            bad => ClientError::BadFrame(bad),
        }
    }

    /// The error for a codec failure on the connection.
    pub fn from_codec(e: CodecError) -> ClientError {
        match e {
            // Frames are read by the client's wire (from_wire), which names the framing; a
            // frame error from elsewhere is told as it is.
            CodecError::Frame(e) => ClientError::Connection(io::Error::other(e)),
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
    let mut options = options.clone();
    let (stream, received) = if options.auto_framing {
        let found = detect::detect(&options.addr, options.name.as_ref(), options.dialect).await?;
        options.dialect.framing = found.framing;
        options.name_sent = found.name_sent;
        (found.stream, found.received)
    } else {
        (connect(&options.addr).await?, bytes::Bytes::new())
    };
    // Bytes read while detecting are read again first.
    let (reader, writer) = stream.into_split();
    let stream = tokio::io::join(
        AsyncReadExt::chain(io::Cursor::new(received), reader),
        writer,
    );
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        interactive::run_terminal(stream, &options, stop_signal()).await
    } else {
        script::run_stdio(stream, &options, stop_signal()).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_by_name_and_an_unknown_one_is_named() {
        assert_eq!("confab".parse::<Profile>(), Ok(Profile::Confab));
        assert_eq!("course".parse::<Profile>(), Ok(Profile::Course));
        let err = "Course".parse::<Profile>().unwrap_err();
        assert_eq!(err, UnknownProfile("Course".to_owned()));
        assert!(err.to_string().contains("\"Course\""), "{err}");
    }
}
