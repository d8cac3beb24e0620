//! 10,000 concurrent named clients against the `confab-server` binary, run as a separate
//! process because one process cannot hold both ends of 10,000 connections under the open-file
//! limit. Ignored by default (it takes a while); run it with
//!
//! ```sh
//! cargo test --release --test server_scale -- --ignored --nocapture
//! ```
//!
//! It prints the server's resident memory with everyone connected; the target (under 100 MB)
//! is recorded in BENCHMARKS.md, not asserted here.

mod launch;
mod server_support;

use std::time::Instant;

use server_support::{Wire, frame};

const CLIENTS: usize = 10_000;

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: 10,000 connections; run explicitly"]
async fn ten_thousand_named_clients_are_served() {
    let server = launch::server(&[]).await;
    let (pid, addr) = (server.pid(), server.addr);
    let idle_rss = rss_kib(pid);

    let start = Instant::now();
    let mut wires = Vec::with_capacity(CLIENTS);
    // Connect and name in waves of 1,000 concurrent clients.
    for wave in 0..CLIENTS / 1000 {
        let mut set = tokio::task::JoinSet::new();
        for i in wave * 1000..(wave + 1) * 1000 {
            set.spawn(async move { (i, Wire::named(addr, &format!("c{i}")).await) });
        }
        while let Some(joined) = set.join_next().await {
            wires.push(joined.unwrap());
        }
    }
    let elapsed = start.elapsed();
    wires.sort_by_key(|(i, _)| *i);
    let rss = rss_kib(pid);

    // Everyone is registered, in order: the list is cut with a count (NAMES-5).
    let list = wires[0].1.names().await;
    let omitted = list
        .rsplit_once(' ')
        .and_then(|(shown, more)| Some((shown, more.strip_prefix('+')?.parse::<usize>().ok()?)));
    let (shown, omitted) = omitted.unwrap_or_else(|| panic!("no `+N` ending: {list:?}"));
    let shown: std::collections::HashSet<&str> = shown.split(' ').collect();
    assert_eq!(shown.len() + omitted, CLIENTS);
    assert!(shown.iter().all(|n| n.starts_with('c')));

    // The last can reach the first.
    let (_, last) = wires.last_mut().unwrap();
    last.cmd(format!("MSG c0 hello from c{}", CLIENTS - 1))
        .await;
    wires[0]
        .1
        .expect_frame(format!("c{} SENT hello from c{}", CLIENTS - 1, CLIENTS - 1))
        .await;

    eprintln!(
        "{CLIENTS} clients connected and named in {elapsed:?}; server RSS idle {} KiB, with \
         everyone named {} KiB",
        idle_rss.unwrap_or(0),
        rss.unwrap_or(0)
    );

    // Everyone leaves; the server is still fine afterwards.
    let bye = frame("EXIT");
    for (_, w) in &mut wires {
        w.send(&bye).await;
    }
    for (_, w) in &mut wires {
        w.expect_frame("BYE").await;
    }
    drop(wires);
    let mut fresh = Wire::named(addr, "c0").await;
    assert_eq!(fresh.names().await, "c0");
    server.kill().await;
}
