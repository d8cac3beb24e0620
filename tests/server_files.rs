//! The open-file limit (POLICY-1): `confab-server` started with soft and hard limits of 1,024
//! descriptors and the default `--max-clients` (16,384) lowers its connection limit to fit,
//! says so with both numbers, and answers every one of 1,500 simultaneous connections with
//! `HELLO` or `ERROR SERVER_FULL`: never silence.

mod launch;
mod server_support;

use std::os::unix::process::CommandExt;

use server_support::{GUARD, frame};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const SERVER_FILES: libc::rlim_t = 1024;
const CLIENTS: usize = 1500;

/// What one client got for `NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Hello,
    Full,
    Other(String),
}

async fn ask(addr: std::net::SocketAddr, i: usize) -> (Answer, Option<TcpStream>) {
    let attempt = async {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(&frame(format!("NAME c{i}"))).await?;
        let mut header = [0u8; 4];
        s.read_exact(&mut header).await?;
        let len: usize = std::str::from_utf8(&header)
            .ok()
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad header {header:?}")))?;
        let mut payload = vec![0u8; len];
        s.read_exact(&mut payload).await?;
        std::io::Result::Ok((String::from_utf8_lossy(&payload).into_owned(), s))
    };
    match timeout(GUARD, attempt).await {
        Err(_) => (Answer::Other("nothing within the guard".into()), None),
        Ok(Err(e)) => (Answer::Other(e.to_string()), None),
        Ok(Ok((reply, s))) if reply == format!("HELLO c{i}") => (Answer::Hello, Some(s)),
        Ok(Ok((reply, _))) if reply.starts_with("ERROR SERVER_FULL") => (Answer::Full, None),
        Ok(Ok((reply, _))) => (Answer::Other(reply), None),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_1024_files_answers_every_connection_with_hello_or_server_full() {
    // This side holds 1,500 sockets at once.
    let own = confab::server::fit_open_files(0).expect("getrlimit");
    assert!(
        own.soft >= CLIENTS as u64 + 100,
        "this test needs {} descriptors; the hard limit is {}",
        CLIENTS + 100,
        own.hard
    );
    let mut command = launch::server_command(&[]);
    command.env("RUST_LOG", "warn,confab=info");
    let limit = libc::rlimit {
        rlim_cur: SERVER_FILES,
        rlim_max: SERVER_FILES,
    };
    // SAFETY: only `setrlimit`, which is async-signal-safe, runs between fork and exec.
    unsafe {
        command.as_std_mut().pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let server = launch::start(command, launch::Output::Stderr, launch::logged_addr).await;
    let addr = server.addr;
    // The warning comes before the server listens.
    let log = server.log();
    let warned = log
        .iter()
        .any(|l| l.contains("--max-clients 16384") && l.contains("open-file limit of 1024"));
    assert!(warned, "no warning with both numbers: {log:?}");

    let mut set = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        set.spawn(ask(addr, i));
    }
    let mut answers = Vec::with_capacity(CLIENTS);
    // The served ones stay connected until everyone has an answer.
    let mut held = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (answer, stream) = joined.expect("a client task");
        answers.push(answer);
        held.extend(stream);
    }
    let hello = answers.iter().filter(|a| **a == Answer::Hello).count();
    let full = answers.iter().filter(|a| **a == Answer::Full).count();
    let other: Vec<&Answer> = answers
        .iter()
        .filter(|a| matches!(a, Answer::Other(_)))
        .collect();
    eprintln!("{hello} HELLO, {full} SERVER_FULL, {} other", other.len());
    assert!(
        other.is_empty(),
        "answers other than HELLO or SERVER_FULL: {other:?}"
    );
    assert!(hello > 0 && full > 0, "{hello} HELLO, {full} SERVER_FULL");
    assert!(
        hello as u64 <= SERVER_FILES,
        "{hello} served with 1,024 descriptors"
    );
    let accept_failures = server
        .log()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert!(
        accept_failures <= 1,
        "accept failures logged: {accept_failures}"
    );
    drop(held);
    server.kill().await;
}
