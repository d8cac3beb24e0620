//! Helpers for the client's integration tests: the reference server, a small server double,
//! a test peer, and bounded polling.
//!
//! Conversations run against the reference server ([`real_server`]). The double speaks just
//! enough of PROTOCOL.md to stand in for a *foreign* server: it misbehaves the way student
//! servers do (a greeting, a silent EXIT, a bad frame, closing unasked), which the reference
//! server never does. It is not judged against the spec.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::launch::{self, Launched, Output};
use bytes::Bytes;
use confab::client::input::Outgoing;
use confab::client::wire::{ClientWire, Incoming};
use confab::protocol::{
    Command, Dialect, ErrorCode, FrameCodec, Name, NameList, Reply, ServerCodec,
};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::{Framed, FramedRead, FramedWrite};

/// The bound on any wait in these tests: reaching it means a test hangs, not that it is slow.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The reference server in the canonical dialect, on 127.0.0.1 and a free port; it stops
/// when the handle is dropped or shut down.
pub async fn real_server() -> confab::server::Running {
    real_server_in(Dialect::CANONICAL).await
}

/// The reference server in `dialect`.
pub async fn real_server_in(dialect: Dialect) -> confab::server::Running {
    let config = confab::server::Config {
        dialect,
        ..confab::server::Config::default()
    };
    confab::server::spawn(config)
        .await
        .expect("start the reference server")
}

/// How the double behaves.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Framing and spelling, both directions.
    pub dialect: Dialect,
    /// A payload sent on every new connection before any command (a foreign greeting).
    pub greeting: Option<Vec<u8>>,
    /// Bytes written raw (not framed) on every new connection, e.g. a bad frame header.
    pub raw_greeting: Option<Vec<u8>>,
    /// EXIT gets no reply and the connection stays open (a foreign server).
    pub silent_exit: bool,
    /// The connection is closed after this many commands, without a reply to the last.
    pub close_after: Option<usize>,
}

#[derive(Default)]
struct Registry {
    /// Named connections in registration order (NAMES-1).
    names: Vec<(Name, u64)>,
    queues: Vec<(u64, mpsc::UnboundedSender<Vec<u8>>)>,
    next_id: u64,
}

/// A running double; stops (with every connection) when dropped.
pub struct Double {
    pub addr: SocketAddr,
    registry: Arc<Mutex<Registry>>,
    task: JoinHandle<()>,
}

impl Double {
    /// A canonical double.
    pub async fn start() -> Double {
        Double::with(Behaviour::default()).await
    }

    /// A double that behaves as told.
    pub async fn with(behaviour: Behaviour) -> Double {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let registry = Arc::new(Mutex::new(Registry::default()));
        let shared = registry.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, behaviour.clone(), shared.clone()));
            }
        });
        Double {
            addr,
            registry,
            task,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `--addr` argument for this double.
    pub fn addr_arg(&self) -> String {
        self.addr.to_string()
    }

    /// Sends `payload` as one frame to the connection named `name`.
    pub fn inject(&self, name: &str, payload: &[u8]) -> bool {
        let registry = self.registry.lock().expect("registry");
        let Some(id) = registry
            .names
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, id)| *id)
        else {
            return false;
        };
        registry
            .queues
            .iter()
            .find(|(i, _)| *i == id)
            .is_some_and(|(_, q)| q.send(payload.to_vec()).is_ok())
    }

    /// Whether `name` is registered.
    pub fn has_name(&self, name: &str) -> bool {
        let registry = self.registry.lock().expect("registry");
        registry.names.iter().any(|(n, _)| n.as_str() == name)
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(stream: TcpStream, behaviour: Behaviour, registry: Arc<Mutex<Registry>>) {
    let (reader, writer) = stream.into_split();
    let mut commands = FramedRead::new(reader, ServerCodec::new(behaviour.dialect));
    let mut frames = FramedWrite::new(writer, FrameCodec::new(behaviour.dialect.framing));
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let id = {
        let mut r = registry.lock().expect("registry");
        r.next_id += 1;
        let id = r.next_id;
        r.queues.push((id, tx.clone()));
        id
    };
    if let Some(raw) = &behaviour.raw_greeting {
        use tokio::io::AsyncWriteExt;
        let _ = frames.get_mut().write_all(raw).await;
    }
    if let Some(greeting) = &behaviour.greeting {
        let _ = frames.send(&greeting[..]).await;
    }
    let mut handled = 0;
    loop {
        tokio::select! {
            command = commands.next() => {
                let Some(Ok(command)) = command else { break };
                handled += 1;
                if behaviour.close_after.is_some_and(|n| handled >= n) {
                    break;
                }
                let (reply, close) = match command {
                    Ok(command) => handle(command, id, &registry, &behaviour),
                    Err(e) => (Some(e.to_reply()), false),
                };
                if let Some(reply) = reply
                    && frames.send(&reply.to_payload()[..]).await.is_err()
                {
                    break;
                }
                if close {
                    break;
                }
            }
            Some(payload) = rx.recv() => {
                if frames.send(&payload[..]).await.is_err() {
                    break;
                }
            }
        }
    }
    let mut r = registry.lock().expect("registry");
    r.names.retain(|(_, i)| *i != id);
    r.queues.retain(|(i, _)| *i != id);
}

fn handle(
    command: Command,
    id: u64,
    registry: &Mutex<Registry>,
    behaviour: &Behaviour,
) -> (Option<Reply>, bool) {
    let mut r = registry.lock().expect("registry");
    let own = r
        .names
        .iter()
        .find(|(_, i)| *i == id)
        .map(|(n, _)| n.clone());
    let error = |code| Some(Reply::error(code, "from the test double"));
    match command {
        Command::Name(_) if own.is_some() => (error(ErrorCode::AlreadyNamed), false),
        Command::Name(name) if r.names.iter().any(|(n, _)| *n == name) => {
            (error(ErrorCode::NameTaken), false)
        }
        Command::Name(name) => {
            r.names.push((name.clone(), id));
            (Some(Reply::Hello(name)), false)
        }
        Command::GetNames => {
            let names = r.names.iter().map(|(n, _)| n.clone()).collect();
            (Some(Reply::Names(NameList::new(names))), false)
        }
        Command::Msg { to, text } => {
            let Some(from) = own else {
                return (error(ErrorCode::NameRequired), false);
            };
            let Some(to_id) = r.names.iter().find(|(n, _)| *n == to).map(|(_, i)| *i) else {
                return (error(ErrorCode::NoSuchUser), false);
            };
            let delivery = Reply::Delivery { from, text };
            if let Some((_, q)) = r.queues.iter().find(|(i, _)| *i == to_id) {
                let _ = q.send(delivery.to_payload());
            }
            (None, false)
        }
        Command::Exit if behaviour.silent_exit => (None, false),
        Command::Exit => {
            r.names.retain(|(_, i)| *i != id);
            (Some(Reply::Bye), true)
        }
    }
}

/// A peer that talks to a server directly, for the other side of a conversation.
pub struct Peer {
    framed: Framed<TcpStream, ClientWire>,
}

impl Peer {
    /// Connects in the canonical dialect.
    pub async fn connect(addr: SocketAddr) -> Peer {
        let stream = within(TcpStream::connect(addr)).await.expect("connect");
        Peer {
            framed: Framed::new(stream, ClientWire::new(Dialect::CANONICAL)),
        }
    }

    /// Connects and takes `name`.
    pub async fn named(addr: SocketAddr, name: &str) -> Peer {
        let mut peer = Peer::connect(addr).await;
        peer.send(&format!("NAME {name}")).await;
        assert_eq!(
            peer.recv().await.reply,
            Ok(Reply::Hello(Name::new(name).expect("name")))
        );
        peer
    }

    /// Sends a command typed as a line.
    pub async fn send(&mut self, line: &str) {
        let command: Command = line.parse().expect("a valid command");
        within(self.framed.send(&Outgoing::Command(command)))
            .await
            .expect("send");
    }

    /// The next frame, within [`PATIENCE`].
    pub async fn recv(&mut self) -> Incoming {
        within(self.framed.next())
            .await
            .expect("the connection ended")
            .expect("a frame")
    }

    /// The next delivery's sender and text, skipping other replies.
    pub async fn recv_delivery(&mut self) -> (String, String) {
        loop {
            if let Ok(Reply::Delivery { from, text }) = self.recv().await.reply {
                return (from.to_string(), text.as_str().to_owned());
            }
        }
    }

    /// A names list, as a round trip: every command sent before it has been handled.
    pub async fn names(&mut self) -> Vec<String> {
        self.send("GET_NAMES").await;
        loop {
            if let Ok(Reply::Names(list)) = self.recv().await.reply {
                return list.names().iter().map(|n| n.to_string()).collect();
            }
        }
    }
}

/// `future`, or a panic when it takes longer than [`PATIENCE`].
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .expect("waited too long: the test is stuck")
}

/// Calls `probe` until it answers `Some`, for at most [`PATIENCE`]; panics with the last
/// thing seen (as `describe` tells it) otherwise. Polling, not sleeping, orders the test.
pub async fn eventually<T>(
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if Instant::now() > deadline {
            panic!("gave up waiting for {what}; last seen:\n{}", describe());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A payload as bytes, for injecting.
pub fn payload(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

/// The course-style server of `tests/fixtures/course_server.py` (Python, one `select()`
/// loop): replies in its own words and no reply to EXIT. Killed on drop; it also stops when
/// its stdin, held here, closes.
pub struct CourseServer {
    server: Launched,
}

impl CourseServer {
    /// Starts the fixture with `args` (`--framing dec4`, `--greeting TEXT`).
    pub async fn start(args: &[&str]) -> CourseServer {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/course_server.py"
        );
        let mut command = tokio::process::Command::new("python3");
        command
            .arg(fixture)
            .args(args)
            .stdin(std::process::Stdio::piped());
        let server = launch::start(command, Output::Stdout, launch::listening_port).await;
        CourseServer { server }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        self.server.addr.to_string()
    }

    /// The port it listens on, on loopback.
    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }
}

/// A server of the conformance harness's zoo (`conformance/tests/zoo/FILE`), a course
/// server written apart from this project, started with a free loopback port; it is killed
/// when dropped.
pub struct ZooServer {
    _child: tokio::process::Child,
    port: u16,
}

impl ZooServer {
    /// Starts `file` and waits until it accepts connections.
    pub async fn start(file: &str) -> ZooServer {
        let path = format!(
            "{}/conformance/tests/zoo/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = tokio::process::Command::new("python3")
            .arg(&path)
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
        eventually(
            &format!("{file} listening on {port}"),
            || {
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(|_| ())
            },
            String::new,
        )
        .await;
        ZooServer {
            _child: child,
            port,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port it listens on, on loopback.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// A participant on a course server, speaking decimal framing of `width` digits byte by byte,
/// or lines ending in `\n` when `width` is 0.
pub struct CoursePeer {
    stream: TcpStream,
    width: usize,
    seen: Vec<u8>,
}

impl CoursePeer {
    /// Connects and takes `name`, waiting for the server's hello.
    pub async fn named(port: u16, width: usize, name: &str) -> CoursePeer {
        CoursePeer::named_with(port, width, name, &format!("Hello {name}")).await
    }

    /// Connects and takes `name`, waiting for `hello` to arrive.
    pub async fn named_with(port: u16, width: usize, name: &str, hello: &str) -> CoursePeer {
        let stream = within(TcpStream::connect(("127.0.0.1", port)))
            .await
            .expect("connect");
        let mut peer = CoursePeer {
            stream,
            width,
            seen: Vec::new(),
        };
        peer.send(&format!("NAME {name}")).await;
        peer.expect(hello).await;
        peer
    }

    /// Sends one framed command.
    pub async fn send(&mut self, command: &str) {
        use tokio::io::AsyncWriteExt;
        let framed = match self.width {
            0 => format!("{command}\n"),
            width => format!("{:0width$}{command}", command.len()),
        };
        within(self.stream.write_all(framed.as_bytes()))
            .await
            .expect("send");
    }

    /// Reads until what was received holds `needle`; panics after [`PATIENCE`].
    pub async fn expect(&mut self, needle: &str) {
        use tokio::io::AsyncReadExt;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !String::from_utf8_lossy(&self.seen).contains(needle) {
            let mut buf = [0u8; 1024];
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            match read {
                Ok(Ok(n)) if n > 0 => self.seen.extend_from_slice(&buf[..n]),
                _ => panic!(
                    "{needle:?} never came; received {:?}",
                    String::from_utf8_lossy(&self.seen)
                ),
            }
        }
    }
}
