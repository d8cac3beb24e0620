//! The server's policies (PROTOCOL.md §9) on real sockets: a slow reader, a stalled frame, the
//! connection limit and shutdown. No timing assertions: each test waits for the event itself,
//! bounded by a guard timeout.

mod server_support;

use std::time::Duration;

use confab::server::{Config, OutputLimits};
use server_support::{GUARD, Wire, frame, start};
use tokio::io::AsyncReadExt;

/// Limits small enough that a test reaches them quickly.
fn small_output(soft_for: Duration) -> OutputLimits {
    OutputLimits {
        hard: 64 << 10,
        soft: 16 << 10,
        soft_for,
        total: 1 << 20,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_5_slow_reader_gets_slow_consumer_after_whole_frames_while_others_are_served() {
    let server = start(Config {
        output: small_output(Duration::from_secs(3600)),
        ..Config::default()
    })
    .await;
    let addr = server.addr();
    // R does not read until it has been cut.
    let mut r = Wire::named(addr, "R").await;
    let mut o = Wire::named(addr, "O").await;
    let mut s = Wire::named(addr, "S").await;
    let big = "x".repeat(9000);
    let mut batch = Vec::new();
    for _ in 0..20 {
        batch.extend_from_slice(&frame(format!("MSG R {big}")));
    }
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds <= 250, "R was never disconnected");
        s.send(&batch).await;
        // O keeps being served while R's queue fills.
        s.cmd(format!("MSG O round {rounds}")).await;
        o.expect_frame(format!("S SENT round {rounds}")).await;
        // Once R is gone, its name is released (NAME-7), and messages to it are refused.
        s.cmd("GET_NAMES").await;
        let list = loop {
            let reply = String::from_utf8(s.frame().await).expect("UTF-8");
            if !reply.starts_with("ERROR NO_SUCH_USER") {
                break reply;
            }
        };
        if !list.split(' ').any(|n| n == "R") {
            break;
        }
    }
    s.cmd("MSG R anyone there").await;
    s.expect_error("NO_SUCH_USER").await;
    assert_eq!(o.names().await, "O S");
    assert_eq!(server.metrics().slow_consumers(), 1);
    // R gets whole deliveries, then the reason (POLICY-5), then the end: no frame is cut.
    let frames = r.frames_to_end().await;
    let (last, deliveries) = frames.split_last().expect("R got frames");
    assert!(
        last.starts_with(b"ERROR SLOW_CONSUMER"),
        "{:?}",
        String::from_utf8_lossy(last)
    );
    let expected = format!("S SENT {big}");
    assert!(deliveries.iter().all(|d| d == expected.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_3_a_client_that_pipelines_without_reading_is_paused_then_cut() {
    let server = start(Config {
        output: small_output(Duration::from_millis(200)),
        ..Config::default()
    })
    .await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut o = Wire::named(server.addr(), "O").await;
    // Thousands of replies that A does not read: more than its socket buffers and the soft
    // limit, held past the soft time.
    let list = frame("GET_NAMES");
    let mut batch = Vec::new();
    for _ in 0..1000 {
        batch.extend_from_slice(&list);
    }
    let flood = tokio::spawn(async move {
        for _ in 0..1000 {
            if tokio::io::AsyncWriteExt::write_all(&mut a.stream, &batch)
                .await
                .is_err()
            {
                break;
            }
        }
    });
    server_support::wait_until_unlisted(&mut o, "A").await;
    assert_eq!(o.names().await, "O");
    assert!(server.metrics().peak_queued_bytes() <= (64 << 10) + 9999);
    tokio::time::timeout(GUARD, flood).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_2_stalled_frame_gets_timeout_and_an_idle_connection_stays() {
    let server = start(Config {
        frame_timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    })
    .await;
    let mut idle = Wire::named(server.addr(), "Idle").await;
    let mut stalled = Wire::named(server.addr(), "Stalled").await;
    // Idle's last frame was before Stalled even began its partial frame.
    stalled.send(b"0009GET").await;
    let text = stalled.expect_error("TIMEOUT").await;
    assert!(text.contains("200ms"), "{text}");
    stalled.expect_eof().await;
    // Idle has been idle longer than the timeout and is still served; Stalled's name is free.
    assert_eq!(idle.names().await, "Idle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_2_a_trickled_frame_is_cut_from_its_first_byte() {
    let server = start(Config {
        frame_timeout: Some(Duration::from_millis(200)),
        ..Config::default()
    })
    .await;
    let mut slow = Wire::connect(server.addr()).await;
    slow.send(b"9999").await;
    // One byte every 20 ms (pacing, not a timing assertion) would take over three minutes;
    // the frame's deadline counts from its first byte, so the server cuts it well before.
    let mut sent = 0;
    let mut header = [0u8; 4];
    let cut = loop {
        assert!(sent < 9999, "the trickled frame was never cut");
        tokio::select! {
            r = slow.stream.read_exact(&mut header) => break r.is_ok(),
            () = tokio::time::sleep(Duration::from_millis(20)) => {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut slow.stream, b"x").await;
                sent += 1;
            }
        }
    };
    assert!(cut);
    let len: usize = std::str::from_utf8(&header).unwrap().parse().unwrap();
    let payload = slow.read_exact(len).await;
    assert!(payload.starts_with(b"ERROR TIMEOUT"), "{payload:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_2_zero_disables_the_timeout() {
    let server = start(Config {
        frame_timeout: None,
        ..Config::default()
    })
    .await;
    let mut partial = Wire::connect(server.addr()).await;
    partial.send(b"0009GET").await;
    // Something else happens on the server in the meantime; the partial frame still completes.
    let mut a = Wire::named(server.addr(), "A").await;
    assert_eq!(a.names().await, "A");
    partial.send(b"_NAMES").await;
    partial.expect_frame("A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_1_connection_over_the_limit_gets_server_full_and_a_freed_slot_is_reused() {
    let server = start(Config {
        max_clients: 2,
        ..Config::default()
    })
    .await;
    let mut a = Wire::named(server.addr(), "A").await;
    let mut b = Wire::named(server.addr(), "B").await;
    let mut c = Wire::connect(server.addr()).await;
    // What C sends is never read as a command.
    c.cmd("NAME C").await;
    c.expect_error("SERVER_FULL").await;
    c.expect_eof().await;
    assert_eq!(b.names().await, "A B");
    a.cmd("EXIT").await;
    a.expect_frame("BYE").await;
    a.expect_eof().await;
    // A's slot is free once the server has closed A's side.
    let mut d = Wire::named(server.addr(), "D").await;
    assert_eq!(d.names().await, "B D");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_4_shutdown_sends_shutting_down_to_everyone_and_closes() {
    let server = start(Config::default()).await;
    let addr = server.addr();
    let mut a = Wire::named(addr, "A").await;
    let mut u = Wire::connect(addr).await;
    let mut partial = Wire::connect(addr).await;
    partial.send(b"0004EX").await;
    // u is known to the server once it has answered.
    assert_eq!(u.names().await, "A");
    let stopped = tokio::spawn(server.shutdown());
    for w in [&mut a, &mut u, &mut partial] {
        w.expect_error("SHUTTING_DOWN").await;
        w.expect_eof().await;
    }
    tokio::time::timeout(GUARD, stopped)
        .await
        .expect("shutdown finished")
        .unwrap()
        .expect("a graceful shutdown is Ok");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_4_shutdown_does_not_wait_for_a_client_that_does_not_read() {
    let server = start(Config::default()).await;
    let addr = server.addr();
    let r = Wire::named(addr, "R").await;
    let mut s = Wire::named(addr, "S").await;
    // Fill R's socket buffers and queue some more, under the hard limit: R never reads.
    let big = frame(format!("MSG R {}", "x".repeat(9000)));
    for _ in 0..100 {
        s.send(&big).await;
    }
    assert_eq!(s.names().await, "R S");
    tokio::time::timeout(GUARD, server.shutdown())
        .await
        .expect("shutdown finished")
        .unwrap();
    s.expect_error("SHUTTING_DOWN").await;
    drop(r.stream.set_zero_linger());
}
