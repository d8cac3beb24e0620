//! The `confab-server` binary: flags, help, exit codes, and a graceful shutdown on SIGTERM.

mod launch;
mod server_support;

use server_support::{GUARD, Wire};
use tokio::process::Command;

const BIN: &str = launch::SERVER;

async fn run_to_end(args: &[&str]) -> std::process::Output {
    tokio::time::timeout(GUARD, Command::new(BIN).args(args).output())
        .await
        .expect("the binary finished")
        .expect("run the binary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully_and_exits_zero() {
    let server = launch::server(&[]).await;
    let mut a = Wire::named(server.addr, "A").await;
    let mut b = Wire::connect(server.addr).await;
    assert_eq!(b.names().await, "A");
    let killed = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .await
        .expect("run kill");
    assert!(killed.success());
    for w in [&mut a, &mut b] {
        w.expect_error("SHUTTING_DOWN").await;
        w.expect_eof().await;
    }
    let (status, log) = server.exit().await;
    assert!(status.success(), "exit status {status}: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_a_dialect_from_its_flags() {
    let server = launch::server(&["--framing", "dec2", "--spelling", "numeric"]).await;
    let mut a = Wire::connect(server.addr).await;
    a.send(b"031 A").await;
    a.expect(b"07HELLO A").await;
    a.send(b"012").await;
    a.expect(b"01A").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_documents_every_flag_and_policy_with_its_default() {
    let out = run_to_end(&["--help"]).await;
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--listen",
        "127.0.0.1:4774",
        "--framing",
        "dec4",
        "--spelling",
        "--max-clients",
        "16384",
        "SERVER_FULL",
        "--output-hard",
        "1MiB",
        "--output-soft",
        "256KiB",
        "--output-soft-time",
        "--output-total",
        "32MiB",
        "SLOW_CONSUMER",
        "--frame-timeout",
        "10s",
        "TIMEOUT",
        "SIGTERM",
        "SHUTTING_DOWN",
        "RUST_LOG",
        "Exit codes",
    ] {
        assert!(
            help.contains(needle),
            "--help does not mention {needle}:\n{help}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_are_named_and_exit_two() {
    for (args, needle) in [
        (&["--framing", "dec0"][..], "dec0"),
        (&["--frame-timeout", "10"], "unit"),
        (&["--max-clients", "0"], "at least 1"),
        (&["--output-hard", "1MB"], "unit"),
        (&["--output-soft-time", "0"], "more than zero"),
        (&["--listen", "nowhere"], "nowhere"),
    ] {
        let out = run_to_end(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_an_error_that_names_it_and_exits_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_to_end(&["--listen", &addr]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&addr), "{err}");
}

#[cfg(feature = "faults")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_list_names_every_fault_and_an_unknown_one_is_refused() {
    let out = run_to_end(&["--fault", "list"]).await;
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).unwrap();
    for fault in confab::server::Fault::ALL {
        assert!(list.contains(fault.name()), "{fault} missing:\n{list}");
    }
    let out = run_to_end(&["--fault", "nope"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("nope"));
}

#[cfg(feature = "faults")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fault_exits_non_zero_with_a_message() {
    let server = launch::server(&["--fault", "crash-on-exit"]).await;
    let mut a = Wire::connect(server.addr).await;
    a.cmd("EXIT").await;
    a.expect_eof().await;
    let (status, log) = server.exit().await;
    assert_eq!(status.code(), Some(1), "{log:?}");
    // What the server says after it listened: the start line names the fault too.
    let after_start = log.iter().skip_while(|l| launch::logged_addr(l).is_none());
    assert!(
        after_start
            .skip(1)
            .any(|l| l.contains("EXIT crashed the server")),
        "{log:?}"
    );
}
