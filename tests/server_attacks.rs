//! The resident memory of `confab-server`, with its default limits, under clients that do not
//! read (POLICY-3): the figures of BENCHMARKS.md ("Memory under attack"). Ignored by default
//! (it takes about three minutes and wants a release build); run it with
//!
//! ```sh
//! cargo test --release --test server_attacks -- --ignored --nocapture --test-threads 1
//! ```
//!
//! Each attack runs three times against a fresh server; the peak resident set (`VmHWM`) of
//! each run and their median are printed. The target (under 128 MiB whatever the attackers
//! do) is recorded in BENCHMARKS.md, not asserted here; what is asserted is that a reader is
//! served throughout.

mod launch;
mod server_support;

use std::time::Duration;

use launch::Launched;
use server_support::{Wire, frame};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

/// Names of 32 bytes registered so that every names list is about 10 KB (NAMES-5).
const LONG_NAMES: usize = 320;
/// How long the attackers write before the measurement ends.
const ATTACK: Duration = Duration::from_secs(15);
const REPS: usize = 3;

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A fresh `confab-server` with its default limits.
async fn server() -> Launched {
    let _ = confab::server::fit_open_files(0);
    launch::server(&[]).await
}

/// Writes `batch` again and again for [`ATTACK`], never reading.
async fn flood(mut w: Wire, batch: Vec<u8>) {
    let _ = tokio::time::timeout(ATTACK, async {
        while w.stream.write_all(&batch).await.is_ok() {}
    })
    .await;
}

#[derive(Clone, Copy, Debug)]
enum Attack {
    /// Named clients sending themselves 9,000-byte messages.
    SelfSenders(usize),
    /// Unnamed clients asking for the names list.
    NamesSpam(usize),
}

/// One run: answers (idle RSS, peak RSS) in KiB.
async fn run(attack: Attack) -> (u64, u64) {
    let server = server().await;
    let (pid, addr) = (server.pid(), server.addr);
    let mut holders = Vec::with_capacity(LONG_NAMES);
    for i in 0..LONG_NAMES {
        holders.push(Wire::named(addr, &format!("N{i:03}{}", "x".repeat(28))).await);
    }
    let idle = status_kib(pid, "VmRSS:").unwrap_or(0);
    let mut a = Wire::named(addr, "A").await;
    let mut b = Wire::named(addr, "B").await;
    let mut attackers = JoinSet::new();
    match attack {
        Attack::SelfSenders(n) => {
            for i in 0..n {
                let name = format!("Self{i}");
                let w = Wire::named(addr, &name).await;
                let batch: Vec<u8> = (0..10)
                    .flat_map(|_| frame(format!("MSG {name} {}", "y".repeat(9000))))
                    .collect();
                attackers.spawn(flood(w, batch));
            }
        }
        Attack::NamesSpam(n) => {
            for _ in 0..n {
                let w = Wire::connect(addr).await;
                let batch: Vec<u8> = (0..100).flat_map(|_| frame("GET_NAMES")).collect();
                attackers.spawn(flood(w, batch));
            }
        }
    }
    // A reader is served all along.
    let mut round = 0u64;
    while !attackers.is_empty() {
        round += 1;
        a.cmd(format!("MSG B {round}")).await;
        b.expect_frame(format!("A SENT {round}")).await;
        while attackers.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let peak = status_kib(pid, "VmHWM:").unwrap_or(0);
    drop(holders);
    server.kill().await;
    (idle, peak)
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: a minute of attacks on the release binary; run explicitly"]
async fn resident_memory_under_non_reading_attacks() {
    for attack in [
        Attack::SelfSenders(25),
        Attack::NamesSpam(40),
        Attack::SelfSenders(400),
        Attack::NamesSpam(400),
    ] {
        let mut peaks = Vec::new();
        let mut idles = Vec::new();
        for _ in 0..REPS {
            let (idle, peak) = run(attack).await;
            idles.push(idle);
            peaks.push(peak);
        }
        eprintln!(
            "{attack:?}: idle RSS {} KiB (median), peak RSS {} KiB (median of {REPS}: {peaks:?})",
            median(idles),
            median(peaks.clone())
        );
    }
}
