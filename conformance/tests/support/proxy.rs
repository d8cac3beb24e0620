//! A fault-injecting TCP proxy: a test double that sits between a client (the harness, a probe)
//! and a correct reference server, and breaks one requirement of PROTOCOL.md by rewriting what
//! passes through, the way servers written for the course break it.
//!
//! ```text
//!   client ──▶ proxy ──▶ reference server      commands: passed on, or rewritten
//!   client ◀── proxy ◀── reference server      replies:  passed on, rewritten, dropped, added
//! ```
//!
//! These are the faults that only change bytes on the wire ([`WireFault`]). The faults that
//! need the server's own state (names kept, duplicates, crashes) are hooks of the server
//! (`confab::server::Fault`, feature `faults`). A wire fault cannot be given to
//! `confab-server --fault`: it exists only here.
//!
//! Each connection to the proxy gets a connection of its own to the server. A direction the
//! fault does not touch is copied byte for byte; one it touches is cut into frames with the
//! library's codec, each payload parsed as a [`Command`] or a [`Reply`], and what is sent on is
//! framed again. The proxy serves until it is told to stop, then drops every connection and
//! shuts the server down.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Buf, BufMut, BytesMut};
use confab::protocol::command::ArgsProblem;
use confab::protocol::frame::{FrameError, declaring, decode_frame, encode_frame, frame_len_hint};
use confab::protocol::{
    Command, CommandError, CommandErrorKind, Dialect, ErrorCode, Framing, Name, NameList, Reply,
    Spelling, Text, Verb,
};
use confab::server::{Config, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{RwLock, RwLockWriteGuard, oneshot};
use tokio::task::{JoinHandle, JoinSet};

/// Declares [`WireFault`] and its tables from one list, so that a name, its requirement and
/// its description cannot drift apart.
macro_rules! wire_faults {
    ($( $variant:ident = $name:literal, $req:literal, $desc:literal; )*) => {
        /// A deliberate fault made on the wire. Names are kebab-case, as the server's.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum WireFault {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl WireFault {
            /// Every wire fault.
            pub const ALL: &'static [WireFault] = &[$(WireFault::$variant),*];

            /// The kebab-case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(WireFault::$variant => $name,)*
                }
            }

            /// The PROTOCOL.md requirement ID this fault breaks.
            pub const fn requirement(self) -> &'static str {
                match self {
                    $(WireFault::$variant => $req,)*
                }
            }

            /// What the server seems to do wrong.
            pub const fn description(self) -> &'static str {
                match self {
                    $(WireFault::$variant => $desc,)*
                }
            }
        }
    };
}

wire_faults! {
    SilentUnknownCommand = "silent-unknown-command", "CMD-3",
        "unknown commands get no reply";
    CaseInsensitiveVerbs = "case-insensitive-verbs", "CMD-1",
        "`name A` works like `NAME A`";
    RejectGetnames = "reject-getnames", "CMD-2",
        "`GETNAMES` is an unknown command";
    IgnoreExtraArgs = "ignore-extra-args", "CMD-4",
        "`GET_NAMES now` and `EXIT now` are accepted";
    WrongErrorCode = "wrong-error-code", "ERR-1",
        "every error reply uses code UNKNOWN_COMMAND";
    RawInputInError = "raw-input-in-error", "ERR-2",
        "error messages for a payload that does not parse echo it raw, control characters included";
    SilentNoSuchUser = "silent-no-such-user", "MSG-4",
        "MSG to a missing user gets no reply";
    WrongSender = "wrong-sender", "MSG-1",
        "deliveries name the recipient as the sender";
    FirstWordOnly = "first-word-only", "MSG-6",
        "only the first word of the text is delivered";
    TrimText = "trim-text", "MSG-6",
        "leading and trailing spaces of the text are trimmed";
    AckMsg = "ack-msg", "MSG-2",
        "the sender gets an extra reply `Message sent.` after each MSG";
    NoSelfDelivery = "no-self-delivery", "MSG-3",
        "MSG to yourself gets no delivery (silently dropped)";
    NoTextLimit = "no-text-limit", "MSG-7",
        "texts over 9961 bytes are accepted (the delivery is cut to fit)";
    DropEveryTenth = "drop-every-tenth", "MSG-8",
        "every tenth delivery to a connection is lost";
    ReorderDeliveries = "reorder-deliveries", "MSG-8",
        "deliveries to a connection are sent in swapped pairs";
    SortedNames = "sorted-names", "NAMES-1",
        "the names list is sorted alphabetically";
    TrailingSpaceNames = "trailing-space-names", "NAMES-1",
        "the names list ends with a space";
    NamesPrefix = "names-prefix", "REPLY-2",
        "the names list is prefixed with `Connected clients: `";
    NamesNoMarker = "names-no-marker", "NAMES-5",
        "a list that doesn't fit is cut without the ` +N` marker";
    GreetOnConnect = "greet-on-connect", "CONN-1",
        "a greeting frame `HELLO` is sent on connect";
    NoBye = "no-bye", "EXIT-2",
        "EXIT closes without sending BYE";
    ExitKeepsOpen = "exit-keeps-open", "EXIT-2",
        "EXIT sends BYE but keeps the connection open";
    NoErrorOnBadFrame = "no-error-on-bad-frame", "FRAME-5",
        "a bad header closes the connection without ERROR BAD_FRAME";
    IgnoreBadFrame = "ignore-bad-frame", "FRAME-5",
        "a bad header gets BAD_FRAME but the connection stays open";
    UnframedReplies = "unframed-replies", "FRAME-1",
        "replies are sent without a length header";
    CharCountLength = "char-count-length", "FRAME-2",
        "reply headers count characters, not bytes";
    OneFramePerRead = "one-frame-per-read", "FRAME-4",
        "only the first frame of each read is handled; the rest of the read is dropped";
    CloseOnBadUtf8 = "close-on-bad-utf8", "ENC-2",
        "invalid UTF-8 drops that client without a reply";
    HangOnShortPayload = "hang-on-short-payload", "FRAME-6",
        "a frame whose payload has not fully arrived blocks the whole server until it does, \
         and for good if its client leaves first";
}

impl std::fmt::Display for WireFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl WireFault {
    /// Whether the fault needs the client's commands one by one.
    fn reads_commands(self) -> bool {
        use WireFault::*;
        matches!(
            self,
            CaseInsensitiveVerbs
                | RejectGetnames
                | IgnoreExtraArgs
                | RawInputInError
                | AckMsg
                | NoTextLimit
                | IgnoreBadFrame
                | OneFramePerRead
                | CloseOnBadUtf8
                | HangOnShortPayload
        )
    }

    /// Whether the fault needs the server's replies one by one.
    fn reads_replies(self) -> bool {
        use WireFault::*;
        !matches!(
            self,
            CaseInsensitiveVerbs
                | RejectGetnames
                | IgnoreExtraArgs
                | IgnoreBadFrame
                | OneFramePerRead
                | CloseOnBadUtf8
                | HangOnShortPayload
                | GreetOnConnect
        )
    }
}

/// A deliberate fault of either kind: a hook of the server, or made on the wire by the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyFault {
    Hook(Fault),
    Wire(WireFault),
}

impl AnyFault {
    /// Every fault: the server's, then the proxy's.
    pub fn all() -> Vec<AnyFault> {
        let hooks = Fault::ALL.iter().copied().map(AnyFault::Hook);
        hooks
            .chain(WireFault::ALL.iter().copied().map(AnyFault::Wire))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            AnyFault::Hook(f) => f.name(),
            AnyFault::Wire(f) => f.name(),
        }
    }

    pub fn requirement(self) -> &'static str {
        match self {
            AnyFault::Hook(f) => f.requirement(),
            AnyFault::Wire(f) => f.requirement(),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            AnyFault::Hook(f) => f.description(),
            AnyFault::Wire(f) => f.description(),
        }
    }
}

impl std::fmt::Display for AnyFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Fault> for AnyFault {
    fn from(fault: Fault) -> AnyFault {
        AnyFault::Hook(fault)
    }
}

impl From<WireFault> for AnyFault {
    fn from(fault: WireFault) -> AnyFault {
        AnyFault::Wire(fault)
    }
}

/// The command `ack-msg` sends after each MSG: a verb no spelling has, so that the server's
/// answer (`ERROR UNKNOWN_COMMAND`) marks the place of the acknowledgement in the replies.
const ACK_MARK: &[u8] = b"ACK_MARK";

/// What `ack-msg` sends in place of the mark's answer.
const ACK: &[u8] = b"Message sent.";

/// What `names-prefix` puts before the names.
const NAMES_PREFIX: &[u8] = b"Connected clients: ";

/// What every connection of one proxy shares.
struct World {
    fault: WireFault,
    dialect: Dialect,
    max_payload: usize,
    /// `hang-on-short-payload`: every connection takes this shared to pass a command on; one
    /// waiting for the rest of a payload holds it exclusively.
    stall: RwLock<()>,
}

/// A proxy with `fault` in front of a correct server with `config`, from [`spawn`].
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// Where the proxy listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the proxy and the server behind it.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(io::Error::other)?
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a proxy with `fault` on 127.0.0.1:0, in front of a correct server with `config`.
pub async fn spawn(fault: WireFault, config: Config) -> io::Result<Running> {
    let listener = confab::server::listen(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, fault, config, async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        stop: Some(stop),
        task,
    })
}

/// Serves `listener` as a server with `config` and `fault` until `stop` completes: starts a
/// correct server with `config` and relays every connection to it through the fault.
pub async fn serve(
    listener: TcpListener,
    fault: WireFault,
    config: Config,
    stop: impl Future<Output = ()>,
) -> io::Result<()> {
    let world = Arc::new(World {
        fault,
        dialect: config.dialect,
        max_payload: config.dialect.max_payload(),
        stall: RwLock::new(()),
    });
    let server = confab::server::spawn(config).await?;
    let upstream = server.addr();
    let mut relays = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = relays.join_next(), if !relays.is_empty() => {}
            accepted = listener.accept() => {
                let (client, _) = accepted?;
                relays.spawn(relay(client, upstream, Arc::clone(&world)));
            }
        }
    }
    drop(listener);
    relays.shutdown().await;
    server.shutdown().await
}

/// What one connection's two directions share.
struct Link {
    world: Arc<World>,
    to_client: tokio::sync::Mutex<OwnedWriteHalf>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The name the server said HELLO to.
    name: Option<Name>,
    /// `raw-input-in-error`: the error code due for each payload that did not parse, and the
    /// payload, oldest first.
    unparsed: VecDeque<(ErrorCode, BytesMut)>,
    /// `ack-msg`: what the commands sent and not yet answered will be answered with, oldest
    /// first.
    due: VecDeque<Due>,
    /// Deliveries seen (`drop-every-tenth`).
    deliveries: u64,
    /// `reorder-deliveries`: a delivery waiting for the next.
    held: Option<Vec<u8>>,
    /// The server said BYE (`exit-keeps-open`).
    bye: bool,
}

/// `ack-msg`: the answer due to a command sent to the server (CMD-8).
enum Due {
    /// One reply.
    One,
    /// The reply to a MSG, if it fails (`answered` once it did), and then the answer to the
    /// mark sent after it.
    Msg { answered: bool },
}

/// How the client side of a connection ended.
enum UpEnd {
    /// The client closed (or the read failed): the server is told by a half-close.
    Closed,
    /// The fault drops the connection at once.
    Drop,
}

async fn relay(client: TcpStream, upstream: SocketAddr, world: Arc<World>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut from_client, to_client) = client.into_split();
    let (from_server, mut to_server) = server.into_split();
    let link = Link {
        world,
        to_client: tokio::sync::Mutex::new(to_client),
        state: Mutex::new(State::default()),
    };
    if link.world.fault == WireFault::GreetOnConnect {
        let mut hello = Vec::new();
        link.put(&mut hello, b"HELLO");
        if link.send(&hello).await.is_err() {
            return;
        }
    }
    {
        let up = link.up(&mut from_client, &mut to_server);
        let down = link.down(from_server);
        tokio::pin!(up, down);
        let mut client_closed = false;
        loop {
            tokio::select! {
                end = &mut up, if !client_closed => match end {
                    UpEnd::Closed => client_closed = true,
                    UpEnd::Drop => return,
                },
                () = &mut down => break,
            }
        }
    }
    if link.world.fault == WireFault::ExitKeepsOpen && link.state().bye {
        // The server has closed after BYE; the client is left connected until it leaves.
        let _ = tokio::io::copy(&mut from_client, &mut tokio::io::sink()).await;
        return;
    }
    let _ = link.to_client.lock().await.shutdown().await;
}

impl Link {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `payload` to what goes to the client, framed as the fault frames replies.
    fn put(&self, out: &mut Vec<u8>, payload: &[u8]) {
        let World { fault, dialect, .. } = *self.world;
        let framing = dialect.framing;
        match fault {
            WireFault::UnframedReplies => out.extend_from_slice(payload),
            WireFault::CharCountLength => {
                let chars = String::from_utf8_lossy(payload).chars().count();
                if let Some(header) = declaring(framing, chars as u64) {
                    out.extend_from_slice(&header);
                    out.extend_from_slice(payload);
                }
            }
            // A rewritten reply too long for the dialect is lost.
            _ => {
                let _ = encode_frame(framing, payload, out);
            }
        }
    }

    /// Writes `bytes` to the client.
    async fn send(&self, bytes: &[u8]) -> io::Result<()> {
        self.to_client.lock().await.write_all(bytes).await
    }

    /// Client to server.
    async fn up(&self, from: &mut OwnedReadHalf, to: &mut OwnedWriteHalf) -> UpEnd {
        let world = &*self.world;
        if !world.fault.reads_commands() {
            let _ = tokio::io::copy(from, to).await;
            let _ = to.shutdown().await;
            return UpEnd::Closed;
        }
        let framing = world.dialect.framing;
        let mut buf = BytesMut::new();
        let mut hold: Option<RwLockWriteGuard<'_, ()>> = None;
        loop {
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => {
                    if hold.is_some() {
                        // As a `while len(data) < n: data += recv()` loop does when the peer
                        // leaves: the rest never comes, and everyone waits for it forever.
                        std::future::pending::<()>().await;
                    }
                    let _ = to.shutdown().await;
                    return UpEnd::Closed;
                }
                Ok(_) => {}
            }
            // Everything this read completes goes on in one write.
            let mut out = Vec::new();
            let mut bad_frame = None;
            loop {
                match next_frame(framing, &mut buf) {
                    Ok(Some(payload)) => {
                        let Some(payloads) = self.command(&payload) else {
                            return UpEnd::Drop;
                        };
                        for payload in payloads {
                            // A payload the dialect cannot frame is not sent.
                            let _ = encode_frame(framing, &payload, &mut out);
                        }
                        if world.fault == WireFault::OneFramePerRead {
                            buf.clear();
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        bad_frame = Some(e);
                        break;
                    }
                }
            }
            if !out.is_empty() {
                let shared = match hold {
                    None if world.fault == WireFault::HangOnShortPayload => {
                        Some(world.stall.read().await)
                    }
                    _ => None,
                };
                if to.write_all(&out).await.is_err() {
                    return UpEnd::Drop;
                }
                drop(shared);
            }
            if let Some(e) = bad_frame {
                if world.fault == WireFault::IgnoreBadFrame {
                    let mut error = Vec::new();
                    let reply = Reply::error(ErrorCode::BadFrame, &format!("{e}"));
                    self.put(&mut error, &reply.to_payload());
                    if self.send(&error).await.is_err() {
                        return UpEnd::Drop;
                    }
                    buf.clear();
                    continue;
                }
                // The server judges a bad header itself (FRAME-5): from here on the bytes pass
                // as they are.
                if to.write_all(&buf).await.is_err() {
                    return UpEnd::Drop;
                }
                let _ = tokio::io::copy(from, to).await;
                let _ = to.shutdown().await;
                return UpEnd::Closed;
            }
            if world.fault == WireFault::HangOnShortPayload {
                let short = frame_len_hint(framing, &buf).is_some_and(|total| total > buf.len());
                if !short {
                    hold = None;
                } else if hold.is_none() {
                    hold = Some(world.stall.write().await);
                }
            }
        }
    }

    /// What to send the server for one payload from the client; `None` drops the connection.
    fn command(&self, payload: &[u8]) -> Option<Vec<Vec<u8>>> {
        let world = &*self.world;
        let spelling = world.dialect.spelling;
        let parsed = Command::parse_with(payload, spelling);
        let same = Some(vec![payload.to_vec()]);
        match (world.fault, parsed) {
            (WireFault::CaseInsensitiveVerbs, Err(e))
                if matches!(e.kind, CommandErrorKind::UnknownCommand { .. }) =>
            {
                let (verb, args) = split_verb(payload);
                let mut upper = verb.to_ascii_uppercase();
                upper.extend_from_slice(args);
                match Command::parse_with(&upper, spelling) {
                    Err(CommandError {
                        kind: CommandErrorKind::UnknownCommand { .. },
                        ..
                    }) => same,
                    _ => Some(vec![upper]),
                }
            }
            (WireFault::RejectGetnames, Ok(Command::GetNames))
                if split_verb(payload).0 == Spelling::GetNames.word(Verb::GetNames).as_bytes() =>
            {
                // Spelled in lower case, the verb is unknown (CMD-1).
                Some(vec![payload.to_ascii_lowercase()])
            }
            (WireFault::IgnoreExtraArgs, Err(e))
                if matches!(
                    e.kind,
                    CommandErrorKind::BadArgs {
                        verb: Verb::GetNames | Verb::Exit,
                        problem: ArgsProblem::Extra,
                    }
                ) =>
            {
                Some(vec![split_verb(payload).0.to_vec()])
            }
            (WireFault::RawInputInError, Err(e)) => {
                self.state()
                    .unparsed
                    .push_back((e.code(), BytesMut::from(payload)));
                same
            }
            (WireFault::AckMsg, Ok(Command::Msg { .. })) => {
                self.state().due.push_back(Due::Msg { answered: false });
                Some(vec![payload.to_vec(), ACK_MARK.to_vec()])
            }
            (WireFault::AckMsg, _) => {
                self.state().due.push_back(Due::One);
                same
            }
            (WireFault::NoTextLimit, Err(e))
                if matches!(e.kind, CommandErrorKind::TextTooLong(_)) =>
            {
                Some(vec![
                    self.cut_text(payload).unwrap_or_else(|| payload.to_vec()),
                ])
            }
            (WireFault::CloseOnBadUtf8, Err(e))
                if matches!(e.kind, CommandErrorKind::BadEncoding) =>
            {
                None
            }
            _ => same,
        }
    }

    /// `no-text-limit`: `MSG to text` from a named client, with the text cut to what the
    /// server takes and its delivery holds.
    fn cut_text(&self, payload: &[u8]) -> Option<Vec<u8>> {
        let me = self.state().name.clone()?;
        let text = std::str::from_utf8(payload).ok()?;
        let mut parts = text.splitn(3, ' ');
        let (_, to, text) = (parts.next()?, parts.next()?, parts.next()?);
        let to = Name::new(to).ok()?;
        let room = self.world.max_payload.saturating_sub(me.len() + 6);
        let mut cut = room.min(confab::protocol::MAX_TEXT_LEN).min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let text = Text::new(&text[..cut]).ok()?;
        let mut out = Vec::new();
        Command::Msg { to, text }.encode(self.world.dialect.spelling, &mut out);
        Some(out)
    }

    /// Server to client.
    async fn down(&self, mut from: OwnedReadHalf) {
        let world = &*self.world;
        if !world.fault.reads_replies() {
            let mut chunk = vec![0u8; 16 * 1024];
            loop {
                match from.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        let mut to = self.to_client.lock().await;
                        if to.write_all(&chunk[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let mut buf = BytesMut::new();
        loop {
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            // Everything this read completes goes on in one write.
            let mut out = Vec::new();
            while let Ok(Some(payload)) = next_frame(world.dialect.framing, &mut buf) {
                for reply in self.reply(&payload) {
                    self.put(&mut out, &reply);
                }
            }
            if !out.is_empty() && self.send(&out).await.is_err() {
                return;
            }
        }
    }

    /// What the client gets for one reply of the server.
    fn reply(&self, payload: &[u8]) -> Vec<Vec<u8>> {
        let world = &*self.world;
        let same = vec![payload.to_vec()];
        let Ok(reply) = Reply::parse(payload) else {
            return same;
        };
        let mut state = self.state();
        let encode = |reply: Reply| vec![reply.to_payload()];
        if let Reply::Hello(name) = &reply {
            state.name = Some(name.clone());
        }
        match (world.fault, reply) {
            (
                WireFault::SilentUnknownCommand,
                Reply::Error {
                    code: ErrorCode::UnknownCommand,
                    ..
                },
            ) => Vec::new(),
            (
                WireFault::SilentNoSuchUser,
                Reply::Error {
                    code: ErrorCode::NoSuchUser,
                    ..
                },
            ) => Vec::new(),
            (
                WireFault::NoErrorOnBadFrame,
                Reply::Error {
                    code: ErrorCode::BadFrame,
                    ..
                },
            ) => Vec::new(),
            (WireFault::WrongErrorCode, Reply::Error { message, .. }) => encode(Reply::Error {
                code: ErrorCode::UnknownCommand,
                message,
            }),
            (WireFault::RawInputInError, Reply::Error { code, .. })
                if state.unparsed.front().is_some_and(|(due, _)| *due == code) =>
            {
                let raw = state.unparsed.pop_front().map(|(_, raw)| raw);
                match raw {
                    // An empty payload has nothing to echo.
                    Some(raw) if !raw.is_empty() => {
                        let mut out = format!("ERROR {code} ").into_bytes();
                        out.extend_from_slice(&raw);
                        out.truncate(world.max_payload);
                        vec![out]
                    }
                    _ => same,
                }
            }
            (WireFault::AckMsg, reply) if !matches!(reply, Reply::Delivery { .. }) => {
                let mark = Command::parse_with(ACK_MARK, world.dialect.spelling)
                    .err()
                    .is_some_and(|e| e.to_reply() == reply);
                match state.due.front_mut() {
                    // The MSG was delivered (no reply): the mark's answer becomes the ack.
                    Some(Due::Msg { answered: false }) if mark => {
                        state.due.pop_front();
                        vec![ACK.to_vec()]
                    }
                    // The MSG failed: its error passes, and the mark's answer is dropped.
                    Some(Due::Msg { answered }) if !mark => {
                        *answered = true;
                        same
                    }
                    Some(Due::Msg { answered: true }) => {
                        state.due.pop_front();
                        Vec::new()
                    }
                    Some(Due::One) => {
                        state.due.pop_front();
                        same
                    }
                    _ => same,
                }
            }
            (WireFault::WrongSender, Reply::Delivery { text, .. }) => match state.name.clone() {
                Some(me) => encode(Reply::Delivery { from: me, text }),
                None => same,
            },
            (WireFault::FirstWordOnly, Reply::Delivery { from, text }) => {
                let first = text
                    .as_str()
                    .split_whitespace()
                    .next()
                    .unwrap_or(text.as_str());
                vec![delivery(&from, first)]
            }
            (WireFault::TrimText, Reply::Delivery { from, text }) => {
                vec![delivery(&from, text.as_str().trim_matches(' '))]
            }
            (WireFault::NoSelfDelivery, Reply::Delivery { from, .. })
                if state.name.as_ref() == Some(&from) =>
            {
                Vec::new()
            }
            (WireFault::DropEveryTenth, Reply::Delivery { .. }) => {
                state.deliveries += 1;
                if state.deliveries.is_multiple_of(10) {
                    Vec::new()
                } else {
                    same
                }
            }
            (WireFault::ReorderDeliveries, Reply::Delivery { .. }) => match state.held.take() {
                Some(first) => vec![payload.to_vec(), first],
                None => {
                    state.held = Some(payload.to_vec());
                    Vec::new()
                }
            },
            (WireFault::SortedNames, Reply::Names(list)) => {
                let mut names = list.names().to_vec();
                names.sort();
                encode(Reply::Names(NameList::with_omitted(names, list.omitted())))
            }
            (WireFault::NamesNoMarker, Reply::Names(list)) => {
                encode(Reply::Names(NameList::new(list.names().to_vec())))
            }
            (WireFault::TrailingSpaceNames, Reply::Names(_)) => {
                let mut out = payload.to_vec();
                out.push(b' ');
                vec![out]
            }
            (WireFault::NamesPrefix, Reply::Names(_)) => {
                let mut out = NAMES_PREFIX.to_vec();
                out.extend_from_slice(payload);
                out.truncate(world.max_payload);
                vec![out]
            }
            (WireFault::NoBye, Reply::Bye) => Vec::new(),
            (WireFault::ExitKeepsOpen, Reply::Bye) => {
                state.bye = true;
                same
            }
            _ => same,
        }
    }
}

/// Takes the first complete frame off `buf` and answers its payload.
fn next_frame(framing: Framing, buf: &mut BytesMut) -> Result<Option<Vec<u8>>, FrameError> {
    let Some(span) = decode_frame(framing, buf)? else {
        return Ok(None);
    };
    let payload = buf[span.payload()].to_vec();
    buf.advance(span.consumed);
    Ok(Some(payload))
}

/// `from SENT text`, as a reply where the text is one, else as bytes.
fn delivery(from: &Name, text: &str) -> Vec<u8> {
    match Text::new(text) {
        Ok(text) => Reply::Delivery {
            from: from.clone(),
            text,
        }
        .to_payload(),
        Err(_) => {
            let mut out = BytesMut::new();
            out.put_slice(from.as_str().as_bytes());
            out.put_slice(b" SENT ");
            out.put_slice(text.as_bytes());
            out.to_vec()
        }
    }
}

/// The first word of a payload and the rest (from the space on).
fn split_verb(payload: &[u8]) -> (&[u8], &[u8]) {
    match payload.iter().position(|&b| b == b' ') {
        Some(sp) => payload.split_at(sp),
        None => (payload, &[]),
    }
}
