//! confab-conform: judges any server that claims to speak confab, and explains every verdict.
//!
//! The harness knows a server only through the wire. Modules, bottom up:
//!
//! - [`wire`]: connections with bounded reads, and the transcript of every byte.
//! - [`profile`]: the dialect a server speaks (framing, spelling) and how strictly to judge it.
//! - [`judge`]: one reply against what was expected, strictly or leniently.
//! - [`case`]: cases, verdicts, and the context a case runs in.
//! - [`suites`]: the example run, the grading sheet, the spec, and robustness.
//! - [`target`]: the server under test (embedded, an address, or a command), liveness probes,
//!   restarts.
//! - [`runner`]: runs cases one by one with a probe after each.
//! - [`report`]: verdicts, summary, exit code, and the text, JSON, JUnit and Markdown forms.

pub mod case;
pub mod judge;
pub mod profile;
pub mod report;
pub mod runner;
pub mod suites;
pub mod target;
pub mod wire;

pub use case::{Case, Level, Suite, Verdict};
pub use profile::{Matching, Profile};
pub use report::{CaseReport, Report};
pub use runner::{Observer, RunOptions, Silent};
pub use target::{Target, TargetError, TargetSpec};

/// Starts `spec`, runs the cases of `options` against it, and stops it.
pub async fn run(
    spec: TargetSpec,
    options: &RunOptions,
    startup: std::time::Duration,
    observer: &mut dyn Observer,
) -> Result<Report, TargetError> {
    let mut target = Target::new(spec, options.profile.dialect(), startup);
    target.start().await?;
    let report = runner::run(&mut target, options, observer).await;
    target.stop().await;
    Ok(report)
}
