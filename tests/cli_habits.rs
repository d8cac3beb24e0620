//! What the three binaries share on their command lines: each names itself in `-V`,
//! addresses are `HOST:PORT`, a bare `PORT` or a host name, `--port` replaces the port, the
//! server's log lines are logfmt with its first line naming version, pid, address and dialect,
//! `confab-bench` says within seconds that a server does not speak the target's protocol, and
//! exit codes are the ones `--help` lists.

mod client_support;
mod launch;

use std::process::{Output, Stdio};
use std::time::Instant;

use client_support::{CourseServer, PATIENCE, Peer, real_server, within};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const SERVER: &str = env!("CARGO_BIN_EXE_confab-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_confab-client");
const BENCH: &str = env!("CARGO_BIN_EXE_confab-bench");
const VERSION: &str = env!("CARGO_PKG_VERSION");

async fn run(bin: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let _ = stdin.write_all(input).await;
    drop(stdin);
    within(child.wait_with_output()).await.expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One logfmt line as its pairs; panics on anything that is not `key=value` or
/// `key="quoted value"` separated by single spaces.
fn logfmt(line: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .unwrap_or_else(|| panic!("no key=value at {rest:?} in {line:?}"));
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad key {key:?} in {line:?}"
        );
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let end = end.unwrap_or_else(|| panic!("unclosed quote in {line:?}"));
            (value, &quoted[end..])
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            let value = &after[..end];
            assert!(
                !value.is_empty() && !value.contains('"'),
                "bad value {value:?} in {line:?}"
            );
            (value.to_owned(), &after[end..])
        };
        pairs.push((key.to_owned(), value));
        rest = after.strip_prefix(' ').unwrap_or(after);
        assert!(!rest.starts_with(' '), "double space in {line:?}");
    }
    pairs
}

fn field<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {pairs:?}"))
}

/// `confab-server` with `args`, and its first log line as pairs.
async fn server(
    args: &[&str],
) -> (
    Child,
    Vec<(String, String)>,
    tokio::task::JoinHandle<Vec<String>>,
) {
    let mut child = Command::new(SERVER)
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start confab-server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = within(lines.next_line())
        .await
        .expect("read stderr")
        .expect("a first log line");
    let pairs = logfmt(&first);
    let rest = tokio::spawn(async move {
        let mut rest = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push(line);
        }
        rest
    });
    (child, pairs, rest)
}

#[tokio::test]
async fn every_binary_names_itself_in_version() {
    for (bin, name) in [
        (SERVER, "confab-server"),
        (CLIENT, "confab-client"),
        (BENCH, "confab-bench"),
    ] {
        for flag in ["-V", "--version"] {
            let out = run(bin, &[flag], b"").await;
            assert_eq!(out.status.code(), Some(0), "{name} {flag}");
            assert_eq!(
                text(&out.stdout),
                format!("{name} {VERSION}\n"),
                "{name} {flag}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_listens_on_a_bare_port_a_host_name_or_port_and_logs_logfmt() {
    for args in [
        &["--listen", "0"][..],
        &["--listen", "localhost:0"],
        &["--port", "0"],
        &["--listen", "localhost:4774", "--port", "0"],
    ] {
        let (mut child, first, rest) = server(args).await;
        // The first line: version, pid, address and dialect, values quoted where needed.
        assert_eq!(field(&first, "level"), "info", "{args:?}");
        assert_eq!(field(&first, "version"), VERSION, "{args:?}");
        let pid = child.id().expect("pid").to_string();
        assert_eq!(field(&first, "pid"), pid, "{args:?}");
        assert_eq!(field(&first, "dialect"), "dec4 framing, canonical spelling");
        assert_eq!(field(&first, "frame_timeout"), "10s");
        let addr: std::net::SocketAddr = field(&first, "addr").parse().expect("an address");
        assert!(
            addr.ip().is_loopback() && addr.port() != 0,
            "{args:?}: {addr}"
        );
        // It serves there.
        let mut peer = Peer::named(addr, "A").await;
        assert_eq!(peer.names().await, ["A"]);
        drop(peer);
        // SIGTERM: the shutdown lines are logfmt too.
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill");
        assert!(killed.success());
        let status = within(child.wait()).await.expect("exit");
        assert_eq!(status.code(), Some(0), "{args:?}");
        let rest = within(rest).await.expect("the log");
        assert!(rest.iter().any(|l| l.contains("msg=stopped")), "{rest:?}");
        for line in &rest {
            let pairs = logfmt(line);
            assert!(pairs.iter().all(|(_, v)| !v.starts_with("Some(")), "{line}");
        }
    }
}

#[tokio::test]
async fn server_bad_addresses_exit_2_as_its_help_says() {
    let help = text(&run(SERVER, &["--help"], b"").await.stdout);
    assert!(help.contains("2 for bad flags"), "{help}");
    for args in [
        &["--listen", "localhost:http"][..],
        &["--port", "70000"],
        &["--listen", "no such host"],
    ] {
        let out = run(SERVER, args, b"").await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test]
async fn client_connects_to_a_bare_port_a_host_name_or_port() {
    let server = real_server().await;
    let port = server.addr().port().to_string();
    for args in [
        vec!["--addr".to_owned(), port.clone()],
        vec!["--addr".to_owned(), format!("localhost:{port}")],
        vec!["--port".to_owned(), port.clone()],
        vec![
            "--addr".to_owned(),
            "localhost:1".to_owned(),
            "--port".to_owned(),
            port.clone(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(CLIENT, &args, b"NAME A\nEXIT\n").await;
        assert_eq!(
            text(&out.stdout),
            "hello A\nbye\n",
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

#[tokio::test]
async fn client_exit_codes_are_the_ones_its_help_lists() {
    let help = text(&run(CLIENT, &["--help"], b"").await.stdout);
    for code in ["0  ", "1  ", "2  ", "3  "] {
        assert!(
            help.contains(code),
            "--help lists exit code {code:?}:\n{help}"
        );
    }
    // 2: a bad command line.
    for args in [
        &["--framing", "dec0"][..],
        &["--profile", "nope"],
        &["--addr", "localhost:http"],
        &["--watch", "0"],
    ] {
        let out = run(CLIENT, args, b"").await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // 1: nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
        .to_string();
    let out = run(CLIENT, &["--port", &port], b"").await;
    assert_eq!(out.status.code(), Some(1));
    // 3: a line not sent.
    let server = real_server().await;
    let out = run(CLIENT, &["--addr", &server.addr().to_string()], b"hello\n").await;
    assert_eq!(out.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_takes_a_bare_port_and_port() {
    let server = real_server().await;
    let port = server.addr().port().to_string();
    for args in [["--addr", port.as_str()], ["--port", port.as_str()]] {
        let out = run(
            BENCH,
            &[&args[..], &["--clients", "2", "--messages", "5", "--json"]].concat(),
            b"",
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_says_within_seconds_that_a_server_does_not_speak_confab() {
    // Silent: accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    // A course server in dec2 framing, measured as dec4.
    let course = CourseServer::start(&["--framing", "dec2"]).await;
    for (addr, needle) in [
        (silent_addr.as_str(), "sent nothing within"),
        (course.addr().as_str(), "--framing"),
    ] {
        let started = Instant::now();
        let out = run(BENCH, &["--addr", addr, "--clients", "2"], b"").await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{addr}: {err}");
        assert!(err.contains("does not speak confab"), "{err}");
        assert!(err.contains(needle), "{err}");
        // Well before phase 1's minute: the probe's few seconds, with room for a slow box.
        assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    }
}

#[tokio::test]
async fn bench_contradicting_options_exit_2_as_its_help_says() {
    let help = text(&run(BENCH, &["--help"], b"").await.stdout);
    assert!(help.contains("2 bad command"), "{help}");
    for args in [
        &["--pattern", "pairs", "--clients", "3"][..],
        &["--target", "redis"],
        &["--framing", "raw"],
        &["--messages", "0"],
        &["--addr", "localhost:http"],
    ] {
        let out = run(BENCH, args, b"").await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}
