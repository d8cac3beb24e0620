//! Running the `confab-conform` binary from a test: the command, and its exit code, stdout and
//! stderr as text.

use std::process::{Command, Output};

/// The harness binary of this build.
pub fn conform() -> Command {
    Command::new(env!("CARGO_BIN_EXE_confab-conform"))
}

/// Runs `cmd` to its end: exit code (-1 when killed by a signal), stdout, stderr.
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
