//! Programs outside Rust that some tests need (tmux, redis-server, python3): a test runs when
//! its program is installed and otherwise says so on the terminal and returns, so that the
//! README's `cargo test` passes on a fresh machine. With `CONFAB_REQUIRE_TOOLS=1` (set by
//! `.ci/run`, which installs them) a missing program fails the test instead.
#![allow(dead_code)]

use std::io::Write;

/// The variable that turns a skip into a failure.
pub const REQUIRE: &str = "CONFAB_REQUIRE_TOOLS";

/// Whether `program` is on `PATH`. When it is not, prints
/// `SKIP <test>: <program> not found (apt-get install <package>)` past the test harness's
/// output capture, so that the skip shows, and answers `false`; or fails when
/// [`REQUIRE`]` = 1`.
pub fn available(test: &str, program: &str, package: &str) -> bool {
    if on_path(program) {
        return true;
    }
    skip(&format!(
        "SKIP {test}: {program} not found (apt-get install {package})"
    ))
}

/// Whether the tests run on Linux, for a test that needs something only Linux has (such as
/// the sock_diag netlink family). Elsewhere prints `SKIP <test>: not Linux (<why>)` as
/// [`available`] does, and answers `false`; or fails when [`REQUIRE`]` = 1`.
pub fn on_linux(test: &str, why: &str) -> bool {
    if cfg!(target_os = "linux") {
        return true;
    }
    skip(&format!("SKIP {test}: not Linux ({why})"))
}

/// Prints `line` past the test harness's output capture and answers `false`; fails instead
/// when [`REQUIRE`]` = 1`.
fn skip(line: &str) -> bool {
    assert!(
        std::env::var_os(REQUIRE).is_none_or(|v| v != "1"),
        "{line}, and {REQUIRE}=1 requires it"
    );
    // Straight to the process's stderr: `eprintln!` would be captured and hidden.
    let _ = writeln!(std::io::stderr(), "{line}");
    false
}

fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The Python interpreter itself (`sys.executable`), not a launcher in front of it: a
/// version manager's shim costs more than a small server's own start, and some tests start a
/// server per row. Plain `python3` when that cannot be told.
pub fn python3_executable() -> String {
    std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "python3".into())
}
