//! The server's memory under clients that do not read (POLICY-3, POLICY-5): the attacks that
//! once took it from 31 MiB to nearly 1 GiB, run in-process against a server whose total is
//! small enough for them to reach. The server's own count of queued bytes must never pass the
//! total, the attackers must be cut, and clients that read must not notice. The resident
//! memory of the real binary under the same attacks is measured by the ignored test in
//! `server_attacks.rs` and recorded in BENCHMARKS.md.

mod server_support;

use std::time::Duration;

use confab::server::{Config, DEFAULT_OUTPUT_LIMITS, OutputLimits};
use server_support::{GUARD, Wire, frame, start};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// Names registered to make every names list about 10 KB long (NAMES-5 cuts it to a frame).
const LONG_NAMES: usize = 320;
/// Attackers of each kind.
const ATTACKERS: usize = 12;
/// The total, far below what the attackers ask for.
const TOTAL: usize = 2 << 20;

/// A 32-byte name, the longest NAME-3 allows.
fn long_name(i: usize) -> String {
    format!("N{i:03}{}", "x".repeat(28))
}

/// Writes `batch` to `w` `times` times, never reading; stops when the server closes.
async fn flood(mut w: Wire, batch: Vec<u8>, times: usize) -> Wire {
    for _ in 0..times {
        if w.stream.write_all(&batch).await.is_err() {
            break;
        }
    }
    w
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_bytes_stay_under_the_total_while_non_readers_attack_and_readers_are_served() {
    // Some 700 descriptors in this process: the soft limit may be 1,024.
    let _ = confab::server::fit_open_files(0);
    let server = start(Config {
        output: OutputLimits {
            total: TOTAL,
            ..DEFAULT_OUTPUT_LIMITS
        },
        ..Config::default()
    })
    .await;
    let addr = server.addr();
    let metrics = std::sync::Arc::clone(server.metrics());

    let mut holders = Vec::with_capacity(LONG_NAMES);
    for i in 0..LONG_NAMES {
        holders.push(Wire::named(addr, &long_name(i)).await);
    }
    let mut a = Wire::named(addr, "A").await;
    let mut b = Wire::named(addr, "B").await;
    let list = b.names().await;
    assert!(
        list.len() > 9000,
        "a names list is about 10 KB: {}",
        list.len()
    );

    let mut attacks = JoinSet::new();
    // Attack 1: named clients that send themselves long messages and never read.
    for i in 0..ATTACKERS {
        let name = format!("Self{i}");
        let w = Wire::named(addr, &name).await;
        let batch: Vec<u8> = (0..10)
            .flat_map(|_| frame(format!("MSG {name} {}", "y".repeat(9000))))
            .collect();
        attacks.spawn(flood(w, batch, 100));
    }
    // Attack 2: clients that ask for the names list thousands of times and never read.
    for _ in 0..ATTACKERS {
        let w = Wire::connect(addr).await;
        let batch: Vec<u8> = (0..100).flat_map(|_| frame("GET_NAMES")).collect();
        attacks.spawn(flood(w, batch, 40));
    }

    // Readers meanwhile: A and B talk, B pipelines names lists and reads every one.
    let mut rounds = 0;
    while metrics.slow_consumers() == 0 || rounds < 50 {
        rounds += 1;
        assert!(
            rounds < 5000,
            "no attacker was cut; {} bytes queued",
            metrics.queued_bytes()
        );
        a.cmd(format!("MSG B round {rounds}")).await;
        b.expect_frame(format!("A SENT round {rounds}")).await;
        for _ in 0..4 {
            b.cmd("GET_NAMES").await;
        }
        for _ in 0..4 {
            let list = b.frame().await;
            assert!(list.starts_with(long_name(0).as_bytes()));
        }
        assert!(metrics.queued_bytes() <= TOTAL);
        if rounds % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    let peak = metrics.peak_queued_bytes();
    eprintln!(
        "peak queued {peak} bytes of {TOTAL}; {} attackers cut; {rounds} rounds",
        metrics.slow_consumers()
    );
    assert!(peak <= TOTAL, "queued bytes reached {peak}, over {TOTAL}");
    assert!(
        peak > TOTAL / 2,
        "the attack did not press on the total: {peak}"
    );
    // The readers are still there, named, and served.
    b.cmd("MSG A still here").await;
    a.expect_frame("B SENT still here").await;
    a.cmd("MSG B and me").await;
    b.expect_frame("A SENT and me").await;
    drop(holders);
    attacks.abort_all();
    let guard = tokio::time::timeout(GUARD, async {
        while attacks.join_next().await.is_some() {}
    });
    guard.await.expect("the attackers stop");
}
