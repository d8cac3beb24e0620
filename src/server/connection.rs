//! One connection: a reader that turns frames into commands and carries them out, and a writer
//! that drains the connection's outbound queue. Both run in one task (`join!`) and wait on
//! one waker kept in the queue, so a connection costs one task and one queue, and a read
//! buffer while it has input to read.
//!
//! The reader decodes every complete frame in its buffer before it reads again, and a command
//! is carried out completely before the next is looked at: its reply is queued in order
//! (CMD-7), and a delivery is queued to the recipient before the sender's next command
//! (MSG-9). The writer sends everything queued with one write where the socket allows.
//!
//! However a connection ends, its name is released first (NAME-7, CONN-3, EXIT-1, CONN-5),
//! then the last reply is queued, then the writer flushes and closes the server's side.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::time::{Instant, Sleep, sleep_until};
use tokio_util::codec::Decoder;
use tokio_util::io::poll_read_buf;
use tracing::{debug, info};

use crate::protocol::{Command, CommandError, ErrorCode, FrameError, Framing, Name, Reply, Verb};

use super::Shared;
use super::hooks::Hooks;
use super::outbox::{Death, Peer, Pushed, Room, State, Take};

/// First read buffer size: room for the commands of a client that types (a `NAME`, a short
/// `MSG`). Until a read fills it, the buffer is let go whenever it is empty, so that an idle
/// connection holds none while it waits. A read that fills it makes the connection
/// busy: its buffer jumps to [`BUSY_READ_CHUNK`], then doubles (up to [`MAX_READ_CHUNK`])
/// while reads fill it, so busy connections read many frames per call.
const FIRST_READ_CHUNK: usize = 128;
const BUSY_READ_CHUNK: usize = 1024;
const MAX_READ_CHUNK: usize = 64 * 1024;

/// A reader yields to other tasks after handling this many frames in a row, so that the
/// writers it queued deliveries to get to run (a woken task may wait behind the running one
/// on the same worker) before their queues grow towards the limits of POLICY-3.
const YIELD_EVERY: u32 = 128;
/// The same after this many bytes of payloads, so that a burst of long messages to one
/// recipient reaches its writer long before the hard limit of POLICY-3.
const YIELD_BYTES: usize = 64 * 1024;

/// A writer buffer larger than this is given back after use.
const KEEP_WRITE_BUFFER: usize = 64 * 1024;

/// How long the last replies of an ending connection may take to flush.
const CLOSE_FLUSH: Duration = Duration::from_secs(5);
/// The same while the server shuts down: what is left is the frame in progress and the notice
/// (POLICY-6), behind whatever the kernel still holds for a busy client to read first.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(2);

/// After closing its side, the server reads and discards what the client still sends for this
/// long, so that unread input does not turn the close into a reset that could destroy the last
/// reply before the client reads it (POLICY-7).
const LINGER: Duration = Duration::from_secs(1);
/// The same while the server shuts down: long enough for a busy client to read the notice and
/// close, short enough for the shutdown to end within a few seconds.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(500);
/// The longest a linger goes on while the client still has bytes to take.
const LINGER_MAX: Duration = Duration::from_secs(3);
/// How often a linger looks at the bytes the client has not taken.
const LINGER_POLL: Duration = Duration::from_millis(20);
const LINGER_BYTES: usize = 256 * 1024;

/// Why a connection ended.
#[derive(Debug)]
pub(crate) enum End {
    /// EXIT (EXIT-2).
    Exit,
    /// The client closed between frames (CONN-3).
    Closed,
    /// The client closed in the middle of a frame (FRAME-6).
    Truncated(usize),
    /// Reading failed (a reset, CONN-3).
    ReadFailed(io::Error),
    /// A bad frame header (FRAME-5).
    BadFrame(FrameError),
    /// A frame was started and not finished in time (POLICY-2).
    Timeout(Duration),
    /// The server is stopping (POLICY-4).
    Shutdown,
    /// The client did not read what was queued to it (POLICY-3, POLICY-5).
    SlowConsumer,
    /// Writing failed, or the last flush took too long.
    WriteFailed,
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Exit => f.write_str(Verb::Exit.as_str()),
            End::Closed => f.write_str("closed by the client"),
            End::Truncated(n) => write!(
                f,
                "closed by the client in the middle of a frame ({n} bytes of it received)"
            ),
            End::ReadFailed(e) => write!(f, "read failed: {e}"),
            End::BadFrame(e) => write!(f, "bad frame: {e}"),
            End::Timeout(t) => write!(f, "a frame stalled for {t:?}"),
            End::Shutdown => f.write_str("server shutting down"),
            End::SlowConsumer => {
                f.write_str("outbound queue over its limit (a client that does not read)")
            }
            End::WriteFailed => f.write_str("write failed or timed out"),
        }
    }
}

impl End {
    /// Whether the client may still be sending: then the server lingers after closing.
    fn client_may_send(&self) -> bool {
        !matches!(
            self,
            End::Closed | End::Truncated(_) | End::ReadFailed(_) | End::WriteFailed
        )
    }

    /// Whether this end is a policy of the server's (logged at info).
    fn is_policy(&self) -> bool {
        matches!(self, End::Timeout(_) | End::SlowConsumer)
    }
}

/// Serves one accepted connection until it ends. `slot` is given back (POLICY-1) just before
/// the server closes its side.
///
/// An `async` block rather than an `async fn`: an `async fn` keeps a second copy of its
/// arguments in its future, and every connection holds this future for its whole life.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps a second copy of its arguments in its future"
)]
pub(super) fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    id: u64,
    ctx: Arc<Shared>,
    slot: super::Slot,
) -> impl Future<Output = ()> + Send {
    async move {
        debug!(conn = id, %addr, "connected");
        let peer = ctx.budget.join(id);
        let mut conn = Conn {
            id,
            ctx: Arc::clone(&ctx),
            peer: Arc::clone(&peer),
            frames: ctx.frames,
            me: None,
            paused: false,
            cut: false,
            handled: 0,
            counted: 0,
            handled_bytes: 0,
        };
        let (mut rd, mut wr) = stream.split();
        let (end, drained) =
            tokio::join!(conn.read_loop(&mut rd), write_loop(&peer, &mut wr, &ctx));
        ctx.budget.leave(id);
        drop(slot);
        if drained {
            let _ = wr.shutdown().await;
            if end.client_may_send() {
                linger(&mut rd, &ctx).await;
            }
        }
        let name = conn.me.as_deref().unwrap_or("-");
        if end.is_policy() {
            info!(conn = id, %addr, name, reason = %end, "disconnected by policy");
        } else {
            debug!(conn = id, %addr, name, reason = %end, "disconnected");
        }
    }
}

/// A timer for the deadlines a connection seldom has (a stalled frame, a full queue, a last
/// flush): allocated on first use and reused after, so that a connection that never needs
/// one does not carry one.
#[derive(Default)]
struct Timer(Option<Pin<Box<Sleep>>>);

impl Timer {
    /// Completes at `at`; never when `at` is `None`, and then allocates nothing.
    fn at(&mut self, at: Option<Instant>) -> impl Future<Output = ()> + '_ {
        let mut sleep = match at {
            None => None,
            Some(at) => {
                match &mut self.0 {
                    Some(sleep) => sleep.as_mut().reset(at),
                    None => self.0 = Some(Box::pin(sleep_until(at))),
                }
                self.0.as_mut()
            }
        };
        std::future::poll_fn(move |cx| match &mut sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        })
    }
}

/// Reads and discards until the client closes, for at least [`LINGER`] (or [`LINGER_BYTES`]),
/// and longer, up to [`LINGER_MAX`], while the kernel still holds bytes the client has not
/// taken: closing with unread input resets the connection, and a reset throws away what is
/// still unsent. While the server shuts down, [`SHUTDOWN_LINGER`] whatever the bytes: a busy
/// client keeps sending until it has read the notice.
async fn linger(rd: &mut ReadHalf<'_>, ctx: &Shared) {
    let (wait, most) = if ctx.stopping() {
        (SHUTDOWN_LINGER, usize::MAX)
    } else {
        (LINGER, LINGER_BYTES)
    };
    let start = Instant::now();
    let fd = rd.as_ref().as_raw_fd();
    // On the heap: an array here would sit in every connection's future for its whole life.
    let mut sink = vec![0u8; 4096];
    let mut total = 0;
    loop {
        let now = Instant::now();
        let done = if now >= start + LINGER_MAX {
            true
        } else if now >= start + wait || total >= most {
            unsent(fd) == 0
        } else {
            false
        };
        if done {
            return;
        }
        tokio::select! {
            r = rd.read(&mut sink) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n,
            },
            () = sleep_until(if now < start + wait { start + wait } else { now + LINGER_POLL }) => {}
        }
    }
}

/// Bytes written to `fd` that the peer has not acknowledged (Linux `SIOCOUTQ`); 0 when that
/// cannot be told.
fn unsent(fd: std::os::fd::RawFd) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: `fd` is an open socket owned by the caller's stream, and `n` is a valid
    // `c_int` for the ioctl to write.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    if rc == 0 {
        usize::try_from(n).unwrap_or(0)
    } else {
        0
    }
}

/// Drains `peer`'s queue into the socket until the queue is closed and empty (answers `true`)
/// or dead (`false`). Frames leave whole (POLICY-6): when the queue is cut, the writer finishes
/// the frame in progress and drops the rest of what it had taken.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps a second copy of its arguments in its future"
)]
fn write_loop(peer: &Peer, wr: &mut WriteHalf<'_>, ctx: &Shared) -> impl Future<Output = bool> {
    // An `async` block, as in `serve`.
    async move {
        let mut out = BytesMut::new();
        let mut deadline: Option<Instant> = None;
        let mut timer = Timer::default();
        loop {
            match peer.take(&mut out) {
                Take::Dead => return false,
                Take::Drained => return true,
                Take::Empty => {
                    std::future::poll_fn(|cx| peer.poll_work(cx)).await;
                    // Woken by the first frame queued since the last write. Let every task that
                    // is ready to run go first (the readers of this round of the event loop), so
                    // that what they queue here leaves in the same write: fewer, fuller writes,
                    // as an event loop that flushes before it sleeps. The cost is one trip
                    // through the run queue.
                    tokio::task::yield_now().await;
                    continue;
                }
                Take::Frames => {}
            }
            let mut sent = 0;
            let mut end = out.len();
            while sent < end {
                if deadline.is_none() && peer.state() != State::Open {
                    let flush = if ctx.stopping() {
                        SHUTDOWN_FLUSH
                    } else {
                        CLOSE_FLUSH
                    };
                    deadline = Some(Instant::now() + flush);
                }
                tokio::select! {
                    biased;
                    r = wr.write(&out[sent..end]) => match r {
                        Ok(n) if n > 0 => {
                            if let Some(activity) = &ctx.activity {
                                activity.write();
                            }
                            sent += n;
                            end = peer.progress(&out[..end], sent);
                        }
                        _ => {
                            peer.die(Death::WriteFailed);
                            return false;
                        }
                    },
                    () = std::future::poll_fn(|cx| peer.poll_trimmed(cx)) => {
                        if let State::Dead(_) = peer.state() {
                            return false;
                        }
                        end = peer.progress(&out[..end], sent);
                    }
                    () = timer.at(deadline) => {
                        peer.die(Death::WriteFailed);
                        return false;
                    }
                }
            }
            out.clear();
            if out.capacity() > KEEP_WRITE_BUFFER {
                out = BytesMut::new();
            }
        }
    }
}

/// The reader's state.
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) ctx: Arc<Shared>,
    pub(crate) peer: Arc<Peer>,
    frames: crate::protocol::FrameCodec,
    /// The name this connection holds (or, under a fault, believes it holds).
    pub(crate) me: Option<Arc<str>>,
    /// This connection's own queue is over the soft limit: handle no more of its commands
    /// until it has read some (POLICY-3).
    paused: bool,
    /// This connection's own queue went over its limit: it is cut (POLICY-5).
    cut: bool,
    /// Frames handled since the reader last yielded.
    handled: u32,
    /// Of those, the frames already counted for round pacing (POLICY-8).
    counted: u32,
    /// Payload bytes handled since the reader last yielded.
    handled_bytes: usize,
}

/// Whether the reader goes on after a command: `Some` ends the connection.
pub(crate) type Flow = Option<End>;

/// Why the reader stops when its queue is no longer open.
fn end_of(state: State) -> End {
    match state {
        State::Cut => End::SlowConsumer,
        _ => End::WriteFailed,
    }
}

/// Completes when the reader must stop: the server is shutting down, or the connection's
/// queue was cut or died.
fn stop<'a>(ctx: &'a Shared, peer: &'a Peer) -> impl Future<Output = End> + 'a {
    std::future::poll_fn(move |cx| {
        // The queue first: a shutdown that begins after this wakes the task it registered.
        let closed = peer.poll_closed(cx);
        if ctx.stopping() {
            return Poll::Ready(End::Shutdown);
        }
        closed.map(end_of)
    })
}

/// Reads what the socket holds into `buf`, first making room for about `chunk` more bytes;
/// answers the count and whether the read filled that room. With no buffer it first waits
/// for input, so that an idle connection holds none.
fn read_some<'a>(
    rd: &'a mut ReadHalf<'_>,
    buf: &'a mut BytesMut,
    chunk: usize,
) -> impl Future<Output = io::Result<(usize, bool)>> + 'a {
    // Polled by hand: the futures of `readable()` and `read_buf` would sit in every
    // connection's future, and are larger than this closure.
    std::future::poll_fn(move |cx| {
        if buf.capacity() == 0 {
            ready!(rd.as_ref().poll_read_ready(cx))?;
        }
        if buf.capacity() - buf.len() < chunk / 2 {
            buf.reserve(chunk);
        }
        let room = buf.capacity() - buf.len();
        let n = ready!(poll_read_buf(Pin::new(&mut *rd), cx, buf))?;
        Poll::Ready(Ok((n, n >= room)))
    })
}

impl Conn {
    /// Reads and carries out commands until the connection ends, then releases the name and
    /// queues the last reply ([`Conn::finish`]).
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn keeps a second copy of its arguments in its future"
    )]
    fn read_loop(&mut self, rd: &mut ReadHalf<'_>) -> impl Future<Output = End> {
        // An `async` block, as in `serve`; one for the whole reader, since each nested future
        // adds its own bookkeeping to every connection's task.
        async move {
            let end = 'read: {
                let ctx = Arc::clone(&self.ctx);
                let peer = Arc::clone(&self.peer);
                let mut buf = BytesMut::new();
                let mut chunk = FIRST_READ_CHUNK;
                // When the frame now partly in `buf` began (POLICY-2).
                let mut started: Option<Instant> = None;
                let mut timer = Timer::default();
                loop {
                    let before = buf.len();
                    let flow = self.handle_frames(&mut buf).await;
                    if let Some(activity) = &ctx.activity {
                        activity.frames(self.handled - self.counted);
                        self.counted = self.handled;
                    }
                    if let Some(end) = flow {
                        break 'read end;
                    }
                    if std::mem::take(&mut self.paused) {
                        // The client's own replies wait to be read: its next commands wait
                        // too, until the queue is back under the soft limit, or it is cut for
                        // staying over it.
                        loop {
                            let until = match peer.room() {
                                Room::Yes => break,
                                Room::Gone => break 'read end_of(peer.state()),
                                Room::WaitUntil(until) => until,
                            };
                            tokio::select! {
                                biased;
                                end = stop(&ctx, &peer) => break 'read end,
                                () = std::future::poll_fn(|cx| peer.poll_room(cx)) => {}
                                () = timer.at(Some(until)) => {
                                    peer.cut();
                                    break 'read End::SlowConsumer;
                                }
                            }
                        }
                        // Handle what is already read before reading more.
                        continue;
                    }
                    if self.handled >= YIELD_EVERY || self.handled_bytes >= YIELD_BYTES {
                        self.handled = 0;
                        self.counted = 0;
                        self.handled_bytes = 0;
                        tokio::task::yield_now().await;
                    }
                    // A frame that began in an earlier read and is still incomplete keeps its
                    // start.
                    if buf.is_empty() {
                        started = None;
                        if chunk == FIRST_READ_CHUNK {
                            // A connection that has not been busy waits for its next command
                            // without a read buffer: most connections of a chat server are idle.
                            buf = BytesMut::new();
                        }
                    } else if started.is_none() || buf.len() != before {
                        started = Some(Instant::now());
                    }
                    let deadline = started.and_then(|s| ctx.config.frame_timeout.map(|t| s + t));
                    let read = tokio::select! {
                        biased;
                        end = stop(&ctx, &peer) => break 'read end,
                        () = timer.at(deadline) => {
                            break 'read End::Timeout(ctx.config.frame_timeout.unwrap_or_default());
                        }
                        read = read_some(rd, &mut buf, chunk) => read,
                    };
                    match read {
                        Ok((0, _)) if buf.is_empty() => break 'read End::Closed,
                        Ok((0, _)) => break 'read End::Truncated(buf.len()),
                        Ok((_, filled)) => {
                            if let Some(activity) = &ctx.activity {
                                activity.read();
                            }
                            if filled {
                                chunk = (chunk * 2).clamp(BUSY_READ_CHUNK, MAX_READ_CHUNK);
                            }
                        }
                        Err(e) => break 'read End::ReadFailed(e),
                    }
                }
            };
            if let Some(hooked) = Hooks::ending(self, &end) {
                hooked.await;
            }
            self.finish(end)
        }
    }

    /// Handles every complete frame in `buf`.
    async fn handle_frames(&mut self, buf: &mut BytesMut) -> Flow {
        loop {
            let payload = match self.frames.decode(buf) {
                Ok(Some(payload)) => payload,
                Ok(None) => return None,
                Err(crate::protocol::CodecError::Frame(e)) => return Some(End::BadFrame(e)),
                Err(e) => return Some(End::ReadFailed(io::Error::other(e.to_string()))),
            };
            self.handled += 1;
            self.handled_bytes += payload.len();
            let flow = if self.ctx.hooks.armed() {
                // Boxed: what a hook keeps across its await stays out of every reader's future.
                Box::pin(self.handle_hooked(payload)).await
            } else {
                self.handle_payload(&payload)
            };
            if let Some(end) = flow {
                return Some(end);
            }
            if self.cut {
                return Some(End::SlowConsumer);
            }
            if self.paused {
                return None;
            }
        }
    }

    /// Parses one payload and carries it out.
    fn handle_payload(&mut self, payload: &[u8]) -> Flow {
        let parsed = Command::parse_with(payload, self.ctx.config.dialect.spelling);
        self.carry_out(parsed)
    }

    /// [`Conn::handle_payload`] when a fault may take the payload over.
    async fn handle_hooked(&mut self, payload: BytesMut) -> Flow {
        let parsed = Command::parse_with(&payload, self.ctx.config.dialect.spelling);
        if let Some(hooked) = Hooks::command(self, &parsed) {
            return hooked.await;
        }
        self.carry_out(parsed)
    }

    /// Carries out a parsed payload: the command, or the error reply for one that did not parse.
    fn carry_out(&mut self, parsed: Result<Command, CommandError>) -> Flow {
        let command = match parsed {
            Ok(command) => command,
            Err(e) => return self.refuse(e),
        };
        // A payload's form is judged before the connection's state (CMD-6): every branch
        // below has a well-formed command.
        match command {
            Command::Name(name) => self.name(name),
            Command::GetNames => self.names(),
            Command::Msg { to, text } => self.msg(&to, text.as_str()),
            Command::Exit => self.exit(),
        }
    }

    /// A payload that is not a command gets its error and changes nothing (CMD-5).
    fn refuse(&mut self, e: CommandError) -> Flow {
        // ERR-2: the message quotes the input, escaped by `error`.
        self.error(e.code(), &e.kind.to_string());
        None
    }

    /// `NAME n` (NAME-1 to NAME-6).
    fn name(&mut self, name: Name) -> Flow {
        // DIALECT-4: a name whose HELLO cannot be framed in this dialect cannot be taken.
        if 6 + name.len() > self.ctx.max_payload {
            let why = format!(
                "'{name}' is too long for {} framing, whose replies hold {} bytes",
                self.ctx.frames.framing(),
                self.ctx.max_payload
            );
            self.error(ErrorCode::InvalidName, &why);
            return None;
        }
        if let Some(me) = &self.me {
            // NAME-5: no renaming in version 1.
            let why = format!("this connection is already named '{me}'");
            self.error(ErrorCode::AlreadyNamed, &why);
            return None;
        }
        // NAME-6: check and insert are one step under the registry's lock.
        match self.ctx.registry.register(&name, self.id, &self.peer) {
            Ok(()) => self.named(name),
            Err(_) => {
                // NAME-2.
                self.error(ErrorCode::NameTaken, &format!("the name '{name}' is taken"));
                None
            }
        }
    }

    /// This connection now goes by `name`: `HELLO`.
    pub(crate) fn named(&mut self, name: Name) -> Flow {
        debug!(conn = self.id, %name, "name set");
        self.me = Some(name.as_str().into());
        self.reply(Reply::Hello(name));
        None
    }

    /// `GET_NAMES` (NAMES-1 to NAMES-5).
    fn names(&mut self) -> Flow {
        let list = self.ctx.registry.list(self.ctx.max_payload);
        // DIALECT-5: raw framing cannot carry an empty list, so nothing is sent; in line
        // framing it is an empty line.
        if list.is_empty() && !self.ctx.frames.framing().carries_empty() {
            return None;
        }
        self.reply(Reply::Names(list));
        None
    }

    /// `MSG to text` (MSG-1 to MSG-9).
    fn msg(&mut self, to: &Name, text: &str) -> Flow {
        let max = self.ctx.max_payload;
        // DIALECT-4: a text that no sender's delivery could fit is refused before the state is
        // looked at (CMD-6 puts TEXT_TOO_LONG before NAME_REQUIRED).
        if 1 + 6 + text.len() > max {
            self.text_too_long(text.len(), max);
            return None;
        }
        // A reference count, not a copy: the name is borrowed from this local below.
        let Some(me) = self.me.clone() else {
            // MSG-5.
            self.error(
                ErrorCode::NameRequired,
                "send NAME <name> before sending messages",
            );
            return None;
        };
        self.relay(&me, to, text)
    }

    /// Delivers `from SENT text` to `to`, or answers why not.
    pub(crate) fn relay(&mut self, from: &str, to: &Name, text: &str) -> Flow {
        let max = self.ctx.max_payload;
        let len = from.len() + 6 + text.len();
        if len > max {
            // DIALECT-4: this sender's delivery would not fit the dialect's frame.
            self.text_too_long(text.len(), max.saturating_sub(from.len() + 6));
            return None;
        }
        if self.ctx.frames.framing() == Framing::Line && text.ends_with('\r') {
            // DIALECT-5: a line cannot end in CR; the delivery could not be framed.
            self.error(
                ErrorCode::BadArgs,
                "in line framing a message text cannot end with a carriage return",
            );
            return None;
        }
        let ctx = &self.ctx;
        let delivered = ctx.registry.with_holder(to.as_str(), |peer| {
            // MSG-1, MSG-6: the delivery is encoded once, into the recipient's queue, with the
            // text byte for byte. MSG-9: it is queued before the next command is read.
            peer.push(|buf| {
                ctx.frame(buf, len, |d| {
                    d.put_slice(from.as_bytes());
                    d.put_slice(b" SENT ");
                    d.put_slice(text.as_bytes());
                })
            })
        });
        if self.me.as_deref() == Some(to.as_str())
            && let Some(pushed) = delivered
        {
            // MSG-3: a delivery to oneself is one's own reply as far as the queue goes.
            self.note_own(pushed);
        }
        match delivered {
            // MSG-2: no reply to the sender. A recipient that is closing or went over its
            // queue limit just now is as if it had left a moment earlier.
            Some(Pushed::Queued { .. } | Pushed::Gone | Pushed::Overflow) => {}
            Some(Pushed::Unframeable) => self.text_too_long(text.len(), max),
            None => {
                // MSG-4.
                let why = format!("nobody is named '{to}'");
                self.error(ErrorCode::NoSuchUser, &why);
            }
        }
        None
    }

    fn text_too_long(&mut self, len: usize, room: usize) {
        let why = format!("a text of {len} bytes does not fit; at most {room} bytes here");
        self.error(ErrorCode::TextTooLong, &why);
    }

    /// `EXIT` (EXIT-1 to EXIT-4): the rest is done by [`Conn::finish`].
    fn exit(&mut self) -> Flow {
        Some(End::Exit)
    }

    /// Releases the name, if this connection holds one (NAME-7).
    pub(crate) fn release(&mut self) {
        if let Some(me) = self.me.take() {
            self.ctx.registry.release(&me, self.id);
            // Kept for the log line.
            self.me = Some(me);
        }
    }

    /// The end of the reader: release the name first, then queue the last reply, then let the
    /// writer flush and close (CONN-3, CONN-5, EXIT-1).
    fn finish(&mut self, end: End) -> End {
        self.release();
        match &end {
            End::Exit => self.reply(Reply::Bye),
            End::BadFrame(e) => self.error(ErrorCode::BadFrame, &format!("bad frame: {e}")),
            End::Timeout(t) => {
                let why = format!("a frame was started and not finished within {t:?}");
                self.error(ErrorCode::Timeout, &why);
            }
            End::Shutdown => {
                // POLICY-4, POLICY-6: the notice goes right after the frame in progress; what
                // is queued and not yet begun is dropped.
                if let Some(reply) = Reply::error(ErrorCode::ShuttingDown, "the server is stopping")
                    .fit(self.ctx.max_payload)
                {
                    let ctx = &self.ctx;
                    self.peer
                        .close_with(|buf| ctx.frame(buf, reply.encoded_len(), |d| reply.encode(d)));
                }
            }
            _ => {}
        }
        self.peer.close();
        end
    }

    /// Queues a reply to this connection, shortened to fit the dialect where the protocol
    /// allows it (DIALECT-4); a reply that cannot be framed at all is dropped.
    pub(crate) fn reply(&mut self, reply: Reply) {
        let Some(reply) = reply.fit(self.ctx.max_payload) else {
            debug!(
                conn = self.id,
                "a reply does not fit this dialect's frame; not sent"
            );
            return;
        };
        let ctx = &self.ctx;
        let pushed = self
            .peer
            .push(|buf| ctx.frame(buf, reply.encoded_len(), |d| reply.encode(d)));
        self.note_own(pushed);
    }

    /// Queues `ERROR code message`; the message is escaped (ERR-2) and shortened to fit.
    pub(crate) fn error(&mut self, code: ErrorCode, message: &str) {
        self.reply(Reply::error(code, message));
    }

    /// Notes what queuing to this connection's own queue did.
    pub(crate) fn note_own(&mut self, pushed: Pushed) {
        match pushed {
            Pushed::Queued { over_soft } => self.paused |= over_soft,
            Pushed::Overflow => self.cut = true,
            Pushed::Gone | Pushed::Unframeable => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::super::{Shared, Slot, listen};

    /// Every connection holds one of these for its life, so nothing large (a buffer on the
    /// stack, a timer, a wait-list entry) may live in it. It is the largest part of an idle
    /// connection's memory (BENCHMARKS.md, w6: at most 2 KiB per idle connection): tokio aligns
    /// a task to 128 bytes, and the 648 bytes of a release build (656 in a test build) and the
    /// task's header fit in 768. Regressions: a 4 KiB array in `linger` once made it 4.5 KiB;
    /// two `Notify` waits, three timers, the hooks' state and nested futures made it 1,240
    /// bytes.
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, addr) = listener.accept().await.unwrap();
        let ctx = Arc::new(Shared::new(Default::default(), Arc::default(), true));
        ctx.active.fetch_add(1, Ordering::AcqRel);
        let task = super::serve(stream, addr, 1, Arc::clone(&ctx), Slot(Arc::clone(&ctx)));
        let size = std::mem::size_of_val(&task);
        assert!(size <= 656, "a connection's future takes {size} bytes");
        drop(client);
    }

    /// Round pacing (POLICY-8) judges the load by what the connections count.
    #[tokio::test]
    async fn a_connection_counts_its_frames_reads_and_writes_for_the_pacer() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, addr) = listener.accept().await.unwrap();
        let ctx = Arc::new(Shared::new(Default::default(), Arc::default(), true));
        ctx.active.fetch_add(1, Ordering::AcqRel);
        let server = tokio::spawn(super::serve(
            stream,
            addr,
            1,
            Arc::clone(&ctx),
            Slot(Arc::clone(&ctx)),
        ));
        // Two frames in one write, a name and a message to itself; then, once they are
        // answered, a third frame.
        let mut got = Vec::new();
        for (send, until) in [
            (&b"0006NAME A0008MSG A hi"[..], &b"A SENT hi"[..]),
            (b"0008MSG A yo", b"A SENT yo"),
        ] {
            client.write_all(send).await.unwrap();
            while !got.ends_with(until) {
                let mut chunk = [0u8; 64];
                let n = client.read(&mut chunk).await.unwrap();
                assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&chunk[..n]);
            }
        }
        let activity = ctx.activity.as_ref().unwrap();
        let load = activity.take();
        assert_eq!(load.frames, 3, "{load:?}");
        assert!((2..=3).contains(&load.reads), "{load:?}");
        assert!((2..=4).contains(&load.writes), "{load:?}");
        drop(client);
        server.await.unwrap();
    }
}
