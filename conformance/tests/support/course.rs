//! Grading a course server from a test as the zoo is graded: a command the harness starts on a
//! port of its choosing, a 700 ms reply timeout (replies on loopback take milliseconds; this
//! bounds what a silent server costs) and a 5 s restart deadline.
#![allow(dead_code)]

use std::time::Duration;

use confab_conformance::{Observer, Profile, Report, RunOptions, TargetError, TargetSpec};

/// The options the zoo is graded with, in `profile`, for the cases whose IDs start with one
/// of `only` (every case when empty).
pub fn options(profile: Profile, only: &[&str]) -> RunOptions {
    let mut options = RunOptions::new(profile);
    options.only = only.iter().map(|s| (*s).to_owned()).collect();
    options.timeout = Duration::from_millis(700);
    options.restart_deadline = Duration::from_secs(5);
    options
}

/// Grades the server `command` starts (with `{port}` in it) with `options`.
pub async fn grade(
    command: &str,
    options: &RunOptions,
    observer: &mut dyn Observer,
) -> Result<Report, TargetError> {
    confab_conformance::run(
        TargetSpec::Exec {
            command: command.to_owned(),
            addr: None,
        },
        options,
        Duration::from_secs(10),
        observer,
    )
    .await
}
