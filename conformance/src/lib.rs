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
//! - [`report`]: verdicts, summary, exit code, failures grouped by root cause with their fixes,
//!   and the text, JSON, JUnit and Markdown forms.
//! - [`class`]: a whole class graded from a manifest, each server confined, into a gradebook
//!   and per-student reports.

pub mod case;
pub mod class;
pub mod judge;
pub mod profile;
pub mod report;
pub mod runner;
pub mod sentinel;
pub mod suites;
pub mod target;
pub mod wire;

pub use case::{Case, Level, Suite, Verdict};
pub use profile::{Matching, Profile};
pub use report::{CaseReport, Report};
pub use runner::{Observer, RunOptions, Silent};
pub use target::{Target, TargetError, TargetSpec};

/// Starts `spec`, finds or confirms the dialect the server speaks, runs the cases of
/// `options` against it, and stops it.
pub async fn run(
    spec: TargetSpec,
    options: &RunOptions,
    startup: std::time::Duration,
    observer: &mut dyn Observer,
) -> Result<Report, TargetError> {
    run_confined(spec, options, startup, Default::default(), observer).await
}

/// As [`run`], with a started server's command run in `confinement`'s folder and limits.
pub async fn run_confined(
    spec: TargetSpec,
    options: &RunOptions,
    startup: std::time::Duration,
    confinement: class::limits::Confinement,
    observer: &mut dyn Observer,
) -> Result<Report, TargetError> {
    let mut options = options.clone();
    let tag = options.tag.clone().unwrap_or_else(runner::random_tag);
    options.tag = Some(tag.clone());
    let sentinel = confab::protocol::Name::new(&format!("Watch{tag}"))
        .unwrap_or_else(|_| confab::protocol::Name::new("Watch").expect("a valid name"));
    let profile = options.profile.clone();
    let embedded = matches!(spec, TargetSpec::Embedded(_));
    let spec = match spec {
        // The embedded server speaks the profile's dialect (its first guess, if detected).
        TargetSpec::Embedded(mut config) => {
            config.dialect = profile.dialect;
            TargetSpec::Embedded(config)
        }
        other => other,
    };
    let mut target = Target::new(spec, startup, sentinel);
    target.confine(confinement);
    let result = async {
        target.start().await?;
        let choice = target::DialectChoice {
            framing: (!profile.detect_framing).then_some(profile.dialect.framing),
            spelling: (!profile.detect_spelling).then_some(profile.dialect.spelling),
        };
        let detected = if embedded && choice.framing.is_some() && choice.spelling.is_some() {
            target
                .assume(
                    sentinel::ServerTraits {
                        dialect: profile.dialect,
                        greets: false,
                        unnamed_hello: false,
                        name_case: Default::default(),
                    },
                    options.timeout,
                )
                .await?
        } else {
            if choice.framing.is_none() {
                observer.notice("finding the server's framing from its replies to a first NAME");
            }
            target.detect(choice, options.timeout).await?
        };
        let found = format!(
            "{} {}",
            if detected.detected {
                "detected"
            } else {
                "confirmed"
            },
            detected.evidence
        );
        observer.notice(&found);
        let mut resolved = (*profile).clone();
        resolved.dialect.framing = detected.traits.dialect.framing;
        resolved.dialect.spelling = detected.traits.dialect.spelling;
        options.profile = std::sync::Arc::new(resolved);
        // The sentinel asks for the names before the first case, alone on the server, so that
        // what its lists show (JUDGE-17) is known before any case is judged, whichever cases
        // run first or beside each other (JUDGE-23).
        if target.has_sentinel() {
            let _ = target.liveness(options.timeout).await;
        }
        let lanes = if options.fail_fast || !target.restartable() || target.cheap_to_restart() {
            1
        } else {
            options.lanes
        };
        let mut report = runner::run_in_lanes(&mut target, lanes, &options, observer).await;
        report.profile.detect_framing = profile.detect_framing;
        report.profile.detect_spelling = profile.detect_spelling;
        report.dialect = Some(if target.lists_others_only() {
            format!("{found}; its names lists leave out the asker (JUDGE-17)")
        } else {
            found
        });
        Ok(report)
    }
    .await;
    target.stop().await;
    result
}
