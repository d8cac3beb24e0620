//! `confab-bench --target redis` against a real Redis server: the comparison of BENCHMARKS.md
//! goes through this path, so it is run here on a small workload (nothing timed). Needs
//! `redis-server` (Debian's package; `.ci/run` installs it); without it the test says SKIP and
//! passes, unless `CONFAB_REQUIRE_TOOLS=1` (see `tools`).

mod tools;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Redis server on a free loopback port, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis() -> Redis {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt-get install redis-server; .ci/run does it)");
    let server = Redis { child, port };
    // Wait, bounded, until it accepts connections.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "redis-server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

#[test]
fn a_redis_pubsub_run_delivers_everything_once_in_order_and_reads_the_servers_cpu() {
    if !tools::available(
        "a_redis_pubsub_run_delivers_everything_once_in_order_and_reads_the_servers_cpu",
        "redis-server",
        "redis-server",
    ) {
        return;
    }
    let server = redis();
    let out = Command::new(env!("CARGO_BIN_EXE_confab-bench"))
        .args([
            "--target",
            "redis",
            "--addr",
            &format!("127.0.0.1:{}", server.port),
        ])
        .args(["--server-pid", &server.child.id().to_string()])
        .args([
            "--clients",
            "8",
            "--messages",
            "200",
            "--inflight",
            "4",
            "--json",
        ])
        .output()
        .expect("run confab-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("one JSON line");
    assert_eq!(doc["ok"], true, "{doc}");
    assert_eq!(doc["target"], "redis");
    assert_eq!(doc["delivered"], 8 * 200, "{doc}");
    for k in ["lost", "duplicated", "reordered", "misrouted"] {
        assert_eq!(doc["integrity"][k], 0, "{k}: {doc}");
    }
    assert!(
        doc["server"]["rss_kib_end"].as_u64().unwrap_or_default() > 0,
        "{doc}"
    );
}
