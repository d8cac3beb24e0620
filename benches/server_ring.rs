//! A quick closed-loop routing benchmark of the `confab-server` binary, for profiling the
//! server while it is developed (`confab-bench` is the real load generator).
//!
//! `CLIENTS` clients in a ring (`c{i}` sends to `c{i+1}`), each starting with `INFLIGHT`
//! messages and sending one more for every one it receives, until `MESSAGES` per client have
//! been sent. Prints deliveries per second and the server's CPU time per delivery, read from
//! `/proc/<pid>/stat`.
//!
//! ```sh
//! cargo bench --bench server_ring -- 100 16 2000
//! ```

#[path = "../tests/launch/mod.rs"]
mod launch;

use std::time::Instant;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn frame(out: &mut Vec<u8>, payload: &str) {
    out.extend_from_slice(format!("{:04}", payload.len()).as_bytes());
    out.extend_from_slice(payload.as_bytes());
}

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of stat, counted after the command name (which ends field 2).
    get(11) + get(12)
}

async fn client(
    addr: std::net::SocketAddr,
    me: usize,
    next: usize,
    inflight: usize,
    total: usize,
    named: std::sync::Arc<tokio::sync::Barrier>,
) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut out = Vec::new();
    frame(&mut out, &format!("NAME c{me}"));
    s.write_all(&out).await.unwrap();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    // HELLO
    while buf.len() < 4 || buf.len() < 4 + parse_len(&buf) {
        s.read_buf(&mut buf).await.unwrap();
    }
    let n = 4 + parse_len(&buf);
    buf.advance(n);
    // Nobody sends before everyone is named.
    named.wait().await;
    (me, next, inflight, total, s, buf).into_run().await;
}

fn parse_len(buf: &[u8]) -> usize {
    std::str::from_utf8(&buf[..4]).unwrap().parse().unwrap()
}

trait Run {
    async fn into_run(self);
}

impl Run for (usize, usize, usize, usize, TcpStream, BytesMut) {
    async fn into_run(self) {
        let (_me, next, inflight, total, mut s, mut buf) = self;
        let msg = {
            let mut m = Vec::new();
            frame(&mut m, &format!("MSG c{next} {}", "x".repeat(32)));
            m
        };
        let mut sent = 0;
        let mut received = 0;
        let mut out = Vec::new();
        for _ in 0..inflight.min(total) {
            out.extend_from_slice(&msg);
            sent += 1;
        }
        s.write_all(&out).await.unwrap();
        while received < total {
            s.read_buf(&mut buf).await.unwrap();
            out.clear();
            while buf.len() >= 4 && buf.len() >= 4 + parse_len(&buf) {
                let n = 4 + parse_len(&buf);
                assert!(
                    buf[4..n].starts_with(b"c"),
                    "not a delivery: {:?}",
                    &buf[4..n]
                );
                buf.advance(n);
                received += 1;
                if sent < total {
                    out.extend_from_slice(&msg);
                    sent += 1;
                }
            }
            if !out.is_empty() {
                s.write_all(&out).await.unwrap();
            }
        }
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let clients = args.first().copied().unwrap_or(100);
    let inflight = args.get(1).copied().unwrap_or(16);
    let total = args.get(2).copied().unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let server = launch::server(&[]).await;
        let (pid, addr) = (server.pid(), server.addr);
        let cpu0 = cpu_ticks(pid);
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let named = std::sync::Arc::new(tokio::sync::Barrier::new(clients));
        for i in 0..clients {
            set.spawn(client(
                addr,
                i,
                (i + 1) % clients,
                inflight,
                total,
                named.clone(),
            ));
        }
        while set.join_next().await.is_some() {}
        let elapsed = start.elapsed();
        let cpu = cpu_ticks(pid) - cpu0;
        let deliveries = (clients * total) as f64;
        let ticks = 100.0; // USER_HZ on Linux
        println!(
            "{clients} clients x {total} messages, {inflight} in flight: {:.0} deliveries/s, \
             server CPU {:.2} us/delivery ({:.2} s CPU in {:.2} s)",
            deliveries / elapsed.as_secs_f64(),
            cpu as f64 / ticks / deliveries * 1e6,
            cpu as f64 / ticks,
            elapsed.as_secs_f64()
        );
        server.kill().await;
    });
}
