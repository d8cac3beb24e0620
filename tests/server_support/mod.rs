//! Helpers for the server's wire tests: a server on port 0, and a raw client that writes exact
//! bytes and reads exact bytes, every read bounded by a guard timeout so that no test hangs.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use confab::protocol::Reply;
use confab::protocol::escape::escape_bytes;
use confab::server::{self, Config, Running};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The longest any single expected event may take before the test fails instead of hanging.
pub const GUARD: Duration = Duration::from_secs(10);

/// A server with `config` on 127.0.0.1:0.
pub async fn start(config: Config) -> Running {
    // RUST_LOG=confab=debug shows the server's log in a failing test's output.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    server::spawn(config).await.expect("start the server")
}

/// A server with the default configuration.
pub async fn start_default() -> Running {
    start(Config::default()).await
}

/// `payload` in a canonical frame: four decimal digits, then the bytes (FRAME-1).
pub fn frame(payload: impl AsRef<[u8]>) -> Vec<u8> {
    let payload = payload.as_ref();
    assert!(payload.len() <= 9999, "test bug: payload too long");
    let mut out = format!("{:04}", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A raw client.
pub struct Wire {
    pub stream: TcpStream,
}

impl Wire {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Wire {
        let stream = timeout(GUARD, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Wire { stream }
    }

    /// Connects and takes `name` (NAME-1).
    pub async fn named(addr: SocketAddr, name: &str) -> Wire {
        let mut w = Wire::connect(addr).await;
        w.cmd(&format!("NAME {name}")).await;
        w.expect_frame(&format!("HELLO {name}")).await;
        w
    }

    /// Writes exactly `bytes`.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        timeout(GUARD, self.stream.write_all(bytes.as_ref()))
            .await
            .expect("write timed out")
            .expect("write");
    }

    /// Sends `payload` in one canonical frame.
    pub async fn cmd(&mut self, payload: impl AsRef<[u8]>) {
        self.send(frame(payload)).await;
    }

    /// Reads exactly `expected.len()` bytes and checks them.
    pub async fn expect(&mut self, expected: impl AsRef<[u8]>) {
        let expected = expected.as_ref();
        let got = self.read_exact(expected.len()).await;
        assert_eq!(
            escape_bytes(&got),
            escape_bytes(expected),
            "the server sent other bytes than expected"
        );
    }

    /// Reads exactly `n` bytes.
    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        timeout(GUARD, self.stream.read_exact(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {n} bytes from the server within {GUARD:?}"))
            .expect("read");
        buf
    }

    /// Reads one canonical frame and answers its payload, after checking that the payload is a
    /// reply of the grammar (REPLY-2) in UTF-8 (ENC-1).
    pub async fn frame(&mut self) -> Vec<u8> {
        let header = self.read_exact(4).await;
        assert!(
            header.iter().all(u8::is_ascii_digit),
            "FRAME-1: header {:?} is not four digits",
            escape_bytes(&header)
        );
        let len: usize = std::str::from_utf8(&header).unwrap().parse().unwrap();
        let payload = self.read_exact(len).await;
        if let Err(e) = Reply::parse(&payload) {
            panic!(
                "REPLY-2: the server sent {:?}, which is not a reply: {e}",
                escape_bytes(&payload)
            );
        }
        payload
    }

    /// Reads one frame and checks that its payload is exactly `payload`.
    pub async fn expect_frame(&mut self, payload: impl AsRef<[u8]>) {
        let got = self.frame().await;
        assert_eq!(escape_bytes(&got), escape_bytes(payload.as_ref()));
    }

    /// Reads one frame and checks that it is `ERROR <code>`, with or without a message;
    /// answers the whole payload.
    pub async fn expect_error(&mut self, code: &str) -> String {
        let got = self.frame().await;
        let text = String::from_utf8(got).expect("ENC-1: a reply in UTF-8");
        let head = format!("ERROR {code}");
        assert!(
            text == head || text.starts_with(&format!("{head} ")),
            "expected {head}, got {text:?}"
        );
        text
    }

    /// Checks that the server closes the connection: end-of-stream (or a reset) next, with no
    /// bytes before it.
    pub async fn expect_eof(&mut self) {
        let mut buf = [0u8; 64];
        match timeout(GUARD, self.stream.read(&mut buf)).await {
            Err(_) => panic!("the server did not close the connection within {GUARD:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => {}
            Ok(Ok(n)) => panic!("expected end-of-stream, got {:?}", escape_bytes(&buf[..n])),
        }
    }

    /// A round trip: `GET_NAMES` and its list. Every reply and delivery sent before it has been
    /// read once this returns, since replies keep command order (CMD-7).
    pub async fn names(&mut self) -> String {
        self.cmd("GET_NAMES").await;
        let payload = self.frame().await;
        let text = String::from_utf8(payload).expect("UTF-8");
        assert!(
            !text.starts_with("ERROR") && !text.contains(" SENT "),
            "expected a names list, got {text:?}"
        );
        text
    }

    /// Reads frames until end-of-stream and answers their payloads; fails on a frame cut by
    /// the end (POLICY-6) and on a reset. Every read is bounded by [`GUARD`].
    pub async fn frames_to_end(&mut self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        let mut header = [0u8; 4];
        loop {
            let first = timeout(GUARD, self.stream.read(&mut header[..1]))
                .await
                .expect("no end-of-stream within the guard")
                .expect("end-of-stream, not a reset");
            if first == 0 {
                return frames;
            }
            timeout(GUARD, self.stream.read_exact(&mut header[1..]))
                .await
                .expect("the rest of a header within the guard")
                .expect("POLICY-6: a whole header, not one cut by the close");
            let len: usize = std::str::from_utf8(&header)
                .ok()
                .and_then(|h| h.parse().ok())
                .unwrap_or_else(|| panic!("FRAME-1: bad header {:?}", escape_bytes(&header)));
            let mut payload = vec![0u8; len];
            timeout(GUARD, self.stream.read_exact(&mut payload))
                .await
                .expect("the rest of a frame within the guard")
                .expect("POLICY-6: a whole frame, not one cut by the close");
            frames.push(payload);
        }
    }

    /// Half-closes: no more bytes from this side.
    pub async fn shutdown_write(&mut self) {
        self.stream.shutdown().await.expect("shutdown");
    }
}

/// Polls `GET_NAMES` on `w` until `name` is not listed (the event a test waits for), within
/// [`GUARD`].
pub async fn wait_until_unlisted(w: &mut Wire, name: &str) {
    let start = tokio::time::Instant::now();
    loop {
        let list = w.names().await;
        if !list.split(' ').any(|n| n == name) {
            return;
        }
        assert!(
            start.elapsed() < GUARD,
            "{name} still listed after {GUARD:?}: {list}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
