//! A small smoke of the load generator: a few clients, a few messages, every delivery checked.
//! Never a timing assertion: speed is measured by `bench/compare.sh` and recorded in
//! BENCHMARKS.md. Every run here is bounded by the generator's own connect and stall
//! timeouts.

mod launch;
mod tools;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::Duration;

use bytes::BytesMut;
use confab::bench::{self, Options, Pattern};
use confab::protocol::{Command as Cmd, Framing, Name, Reply, ServerCodec, Text};
use launch::Launched;
use tokio_util::codec::{Decoder, Encoder};

fn small(pattern: Pattern) -> Options {
    Options {
        clients: 6,
        messages: 40,
        inflight: 4,
        pattern,
        connect_timeout: Duration::from_secs(10),
        stall_timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

#[test]
fn every_pattern_delivers_everything_once_and_in_order_through_the_embedded_server() {
    for pattern in Pattern::ALL {
        let report = bench::run(&small(pattern)).expect("run");
        assert!(report.ok, "{pattern}: {report}");
        assert_eq!(report.sent, 240, "{pattern}");
        assert_eq!(report.delivered, 240, "{pattern}");
        assert!(report.integrity.is_clean(), "{pattern}: {report}");
        assert!(report.embedded);
    }
}

#[test]
fn a_rate_limited_run_with_one_in_flight_delivers_everything() {
    let opts = Options {
        inflight: 1,
        rate: Some(2000.0),
        ..small(Pattern::Ring)
    };
    let report = bench::run(&opts).expect("run");
    assert!(report.ok, "{report}");
    assert_eq!(report.delivered, 240);
}

#[test]
fn a_non_canonical_framing_is_spoken_to_a_server_started_in_it() {
    let opts = Options {
        framing: "bin2".parse::<Framing>().unwrap(),
        ..small(Pattern::Pairs)
    };
    let report = bench::run(&opts).expect("run");
    assert!(report.ok, "{report}");
    assert_eq!(report.framing, "bin2");
}

#[test]
fn options_that_cannot_run_are_refused_before_connecting() {
    let odd_pairs = Options {
        clients: 3,
        ..small(Pattern::Pairs)
    };
    assert!(bench::run(&odd_pairs).is_err());
    let raw = Options {
        framing: Framing::Raw,
        ..small(Pattern::Random)
    };
    assert!(bench::run(&raw).is_err());
    let too_big = Options {
        framing: "dec2".parse::<Framing>().unwrap(),
        size: 200,
        ..small(Pattern::Random)
    };
    assert!(bench::run(&too_big).is_err());
    let no_batch = Options {
        max_batch: Some(0),
        ..small(Pattern::Random)
    };
    assert!(bench::run(&no_batch).is_err());
}

#[test]
fn at_max_batch_one_every_message_is_its_own_write_and_unbounded_batches_share_writes() {
    // With 4 in flight a client's first turn has four messages to send: unbounded, they go
    // in one write; at --max-batch 1 each is written alone, as a person typing sends them.
    let typed = Options {
        max_batch: Some(1),
        ..small(Pattern::Random)
    };
    let report = bench::run(&typed).expect("run");
    assert!(report.ok, "{report}");
    assert_eq!(report.max_batch, Some(1));
    assert!(
        report.bench_io.writes >= report.sent,
        "{} writes for {} messages",
        report.bench_io.writes,
        report.sent
    );
    let batched = bench::run(&small(Pattern::Random)).expect("run");
    assert!(batched.ok, "{batched}");
    assert!(
        batched.bench_io.writes < batched.sent,
        "{} writes for {} messages",
        batched.bench_io.writes,
        batched.sent
    );
}

#[test]
fn only_the_talkers_send_and_the_idle_clients_still_receive() {
    // Ring: talker 0 sends to 1 and talker 1 to client 2, which is idle: if idle clients
    // were not read, client 1's messages would not arrive and the run would stall.
    let opts = Options {
        talkers: Some(2),
        ..small(Pattern::Ring)
    };
    let report = bench::run(&opts).expect("run");
    assert!(report.ok, "{report}");
    assert_eq!((report.clients, report.talkers), (6, 2));
    assert_eq!(report.sent, 2 * 40, "only the two talkers send");
    assert_eq!(report.delivered, 2 * 40);
    assert!(
        report.to_string().contains("(2 talking, 4 idle)"),
        "{report}"
    );
    let everyone = bench::run(&small(Pattern::Ring)).expect("run");
    assert_eq!(everyone.talkers, 6);
    assert_eq!(everyone.sent, 6 * 40);
}

#[test]
fn no_talkers_or_more_talkers_than_clients_are_refused() {
    for talkers in [0, 7] {
        let opts = Options {
            talkers: Some(talkers),
            ..small(Pattern::Random)
        };
        let err = bench::run(&opts).expect_err("refused");
        assert!(err.to_string().contains("--talkers"), "{talkers}: {err}");
    }
    let all = Options {
        talkers: Some(6),
        ..small(Pattern::Random)
    };
    assert!(all.validate().is_ok());
}

// ---- the binary ------------------------------------------------------------------------

fn bench_bin(args: &[&str]) -> (Output, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_confab-bench"))
        .args(args)
        .args(["--json", "--connect-timeout", "10", "--stall-timeout", "5"])
        .output()
        .expect("run confab-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "not one JSON line ({e}): {stdout:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

/// The Python baseline on a port of its own, stopped when dropped.
async fn python_baseline() -> Launched {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/python_server.py");
    let mut command = tokio::process::Command::new("python3");
    command.arg(script).args(["--port", "0"]);
    launch::start(command, launch::Output::Stdout, launch::listening_on).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_baseline_passes_a_sanity_run_and_its_cpu_and_memory_are_read() {
    if !tools::available(
        "the_python_baseline_passes_a_sanity_run_and_its_cpu_and_memory_are_read",
        "python3",
        "python3",
    ) {
        return;
    }
    let server = python_baseline().await;
    let (addr, pid) = (server.addr.to_string(), server.pid().to_string());
    // The generator's own connect and stall timeouts bound the run.
    let (out, json) = tokio::task::spawn_blocking(move || {
        bench_bin(&[
            "--addr",
            &addr,
            "--clients",
            "5",
            "--messages",
            "30",
            "--server-pid",
            &pid,
        ])
    })
    .await
    .expect("the run");
    assert!(out.status.success(), "{json}");
    assert_eq!(json["ok"], true);
    assert_eq!(json["delivered"], 150);
    assert_eq!(json["integrity"]["lost"], 0);
    assert!(json["server"]["rss_kib_connected"].as_u64().unwrap() > 0);
}

#[test]
fn talkers_out_of_range_are_a_usage_error_on_the_command_line() {
    for talkers in ["0", "7"] {
        let (out, json) = bench_bin(&["--clients", "6", "--talkers", talkers]);
        assert_eq!(out.status.code(), Some(2), "--talkers {talkers}: {json}");
        assert_eq!(json["ok"], false);
        assert!(
            json["error"].as_str().unwrap().contains("--talkers"),
            "{json}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_server_pid_the_report_has_the_baseline_rss_and_the_rss_per_client() {
    let server = launch::server(&[]).await;
    let (addr, pid) = (server.addr.to_string(), server.pid().to_string());
    let (out, json) = tokio::task::spawn_blocking(move || {
        bench_bin(&[
            "--addr",
            &addr,
            "--clients",
            "40",
            "--talkers",
            "4",
            "--messages",
            "25",
            "--server-pid",
            &pid,
        ])
    })
    .await
    .expect("the run");
    assert!(out.status.success(), "{json}");
    assert_eq!(json["talkers"], 4);
    assert_eq!(json["sent"], 100, "{json}");
    assert_eq!(json["delivered"], 100, "{json}");
    let s = &json["server"];
    let baseline = s["rss_kib_baseline"].as_u64().expect("baseline RSS");
    let named = s["rss_kib_connected"].as_u64().expect("RSS with all named");
    assert!(baseline > 0, "{json}");
    let per_client = s["rss_bytes_per_client"].as_f64().expect("RSS per client");
    let expected = (named as f64 - baseline as f64) * 1024.0 / 40.0;
    assert!(
        (per_client - expected).abs() < 1e-6,
        "{per_client} vs {expected}"
    );
    server.kill().await;
}

#[test]
fn nothing_listening_is_exit_status_3_with_an_error_line() {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: nothing listens there now.
    let (out, json) = bench_bin(&["--addr", &format!("127.0.0.1:{port}"), "--clients", "2"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json["ok"], false);
    assert!(
        json["error"].as_str().unwrap().contains("connect"),
        "{json}"
    );
}

/// A server of one connection at a time that answers NAME and delivers every MSG twice: a
/// duplicating server, which the generator must catch (MSG-8). The generator's probe
/// connection comes first and leaves with EXIT.
fn duplicating_server() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        while let Ok((sock, _)) = listener.accept() {
            serve_twice(sock);
        }
    });
    addr
}

fn serve_twice(mut sock: std::net::TcpStream) {
    let mut codec = ServerCodec::default();
    let mut input = BytesMut::new();
    let mut buf = [0u8; 4096];
    let mut me: Option<Name> = None;
    loop {
        let n = match sock.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        input.extend_from_slice(&buf[..n]);
        let mut out = BytesMut::new();
        while let Ok(Some(Ok(cmd))) = codec.decode(&mut input) {
            let replies = match (cmd, &me) {
                (Cmd::Name(name), None) => {
                    me = Some(name.clone());
                    vec![Reply::Hello(name)]
                }
                (Cmd::Msg { text, .. }, Some(from)) => {
                    let d = Reply::Delivery {
                        from: from.clone(),
                        text: Text::new(text.as_str()).unwrap(),
                    };
                    vec![d.clone(), d]
                }
                _ => return,
            };
            for r in &replies {
                codec.encode(r, &mut out).unwrap();
            }
        }
        if sock.write_all(&out).is_err() {
            return;
        }
    }
}

#[test]
fn a_server_that_duplicates_deliveries_fails_the_run_with_exit_status_1() {
    let addr = duplicating_server();
    // One client: the random pattern sends to itself, all through one connection.
    let (out, json) = bench_bin(&[
        "--addr",
        &addr.to_string(),
        "--clients",
        "1",
        "--messages",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(json["ok"], false);
    assert_eq!(json["delivered"], 10);
    assert_eq!(json["integrity"]["duplicated"], 10);
}

// ---- bench/summarize.py ------------------------------------------------------------------

/// One JSON line as confab-bench writes it, with the figures the bar reads.
fn run_line(throughput: f64, cpu_us: f64, p99_us: f64, per_client: f64) -> String {
    serde_json::json!({
        "ok": true,
        "throughput": throughput,
        "latency_us": { "p50": 1.0, "p99": p99_us },
        "connect_secs": 0.1,
        "bench_cpu_secs": 1.0,
        "duration_secs": 2.0,
        "writes_per_message": 1.0,
        "server": {
            "cpu_us_per_msg": cpu_us,
            "hwm_kib": 1000,
            "rss_kib_connected": 900,
            "rss_bytes_per_client": per_client,
        },
    })
    .to_string()
}

/// The verdict column of the bar's row that starts with `target`.
fn verdict<'a>(summary: &'a str, target: &str) -> &'a str {
    let row = summary
        .lines()
        .find(|l| l.starts_with(&format!("| {target} |")))
        .unwrap_or_else(|| panic!("no row {target:?} in:\n{summary}"));
    row.split('|').nth(2).map_or("", str::trim)
}

#[test]
fn the_summary_judges_the_bar_at_its_exact_ratios_and_never_without_figures() {
    if !tools::available(
        "the_summary_judges_the_bar_at_its_exact_ratios_and_never_without_figures",
        "python3",
        "python3",
    ) {
        return;
    }
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("summary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let files = [
        // Throughput exactly 1.5x (met); CPU 0.68x, just over 0.67x (missed).
        ("w1-b1-confab", run_line(1500.0, 0.68, 1.0, 0.0)),
        ("w1-b1-redis", run_line(1000.0, 1.0, 1.0, 0.0)),
        // Unbounded: throughput 1.49x (missed); CPU exactly 0.67x (met).
        ("w1-bunbounded-confab", run_line(1490.0, 0.67, 1.0, 0.0)),
        ("w1-bunbounded-redis", run_line(1000.0, 1.0, 1.0, 0.0)),
        // p99 exactly 0.8x (met), and 0.801x (missed).
        ("w3-b1-confab", run_line(1.0, 1.0, 800.0, 0.0)),
        ("w3-b1-redis", run_line(1.0, 1.0, 1000.0, 0.0)),
        ("w3-bunbounded-confab", run_line(1.0, 1.0, 801.0, 0.0)),
        ("w3-bunbounded-redis", run_line(1.0, 1.0, 1000.0, 0.0)),
        // 2 KiB per idle connection (met), one byte more (missed).
        ("w6-b1-confab", run_line(1.0, 1.0, 1.0, 2048.0)),
        ("w6-bunbounded-confab", run_line(1.0, 1.0, 1.0, 2049.0)),
        // No Redis runs for w5 at all.
        ("w5-b1-confab", run_line(1.0, 1.0, 1.0, 0.0)),
    ];
    for (name, line) in &files {
        std::fs::write(dir.join(format!("{name}.jsonl")), format!("{line}\n")).expect("write");
    }
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/summarize.py"))
        .arg("--dir")
        .arg(&dir)
        .args(["--workloads", "w1,w3,w5,w6", "--batch", "1,unbounded"])
        .output()
        .expect("run summarize.py");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{summary}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (target, expected) in [
        ("w1 [--max-batch 1]: throughput >= 1.5x Redis", "met"),
        (
            "w1 [--max-batch 1]: server CPU/msg <= 0.67x Redis",
            "MISSED",
        ),
        ("w1 [unbounded batch]: throughput >= 1.5x Redis", "MISSED"),
        ("w1 [unbounded batch]: server CPU/msg <= 0.67x Redis", "met"),
        ("w3 [--max-batch 1]: p99 <= 0.8x Redis", "met"),
        ("w3 [unbounded batch]: p99 <= 0.8x Redis", "MISSED"),
        ("w5 [--max-batch 1]: p99 <= 0.8x Redis", "MISSED"),
        ("w5 [unbounded batch]: p99 <= 0.8x Redis", "MISSED"),
        (
            "w6 [--max-batch 1]: RSS per idle connection <= 2 KiB",
            "met",
        ),
        (
            "w6 [unbounded batch]: RSS per idle connection <= 2 KiB",
            "MISSED",
        ),
    ] {
        assert_eq!(verdict(&summary, target), expected, "{target}:\n{summary}");
    }
    assert!(summary.contains("not measured: no redis runs"), "{summary}");
    assert!(summary.contains("not judged: w2, w4"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}
