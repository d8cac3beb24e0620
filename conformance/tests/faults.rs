//! Proof that the harness can fail: the reference server is run with each deliberate fault in
//! turn, and the run must fail on a case citing the requirement the fault breaks. Then every
//! case that the clean server passes must be failed by at least one fault: a case no fault
//! trips would be a case that cannot catch a broken server.
//!
//! A fault is either a hook of the server (`confab::server::Fault`, feature `faults`), run as
//! the embedded server, or a wire fault of the proxy in `support/proxy.rs`, run as the embedded
//! server behind that proxy. Either way the harness knows the server only through the wire,
//! and starts it afresh for every case.

#[path = "support/proxy.rs"]
mod proxy;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use confab::protocol::{Framing, Name};
use confab::server::{Config, Fault};
use confab_conformance::report::text;
use confab_conformance::sentinel::ServerTraits;
use confab_conformance::target::Launch;
use confab_conformance::{Profile, Report, RunOptions, Silent, Target, TargetSpec, Verdict};
use futures::StreamExt;
use proxy::{AnyFault, WireFault};

/// Every selected case of `options` against the embedded server with `fault`.
async fn run_with(options: &RunOptions, fault: Option<AnyFault>) -> Report {
    let mut options = options.clone();
    options.tag = Some("f".into());
    // Short: a silent or hung server costs this much per case; replies on loopback take far
    // less. The clean runs prove it is enough.
    options.timeout = Duration::from_millis(600);
    let (fault, wire) = match fault {
        None => (None, None),
        Some(AnyFault::Hook(f)) => (Some(f), None),
        Some(AnyFault::Wire(f)) => (None, Some(f)),
    };
    let config = Config {
        fault,
        ..Config::default()
    };
    match wire {
        None => confab_conformance::run(
            TargetSpec::Embedded(config),
            &options,
            Duration::from_secs(5),
            &mut Silent,
        )
        .await
        .expect("the embedded server starts"),
        Some(wire) => behind_proxy(wire, config, &options).await,
    }
}

/// As `confab_conformance::run` does for the embedded server, with the embedded server behind
/// a proxy with `fault`: started afresh for every case, in the profile's dialect.
async fn behind_proxy(fault: WireFault, config: Config, options: &RunOptions) -> Report {
    let dialect = options.profile.dialect;
    let config = Config { dialect, ..config };
    let launch = Launch(Arc::new(move |listener, stopped| {
        let stop = async move {
            let _ = stopped.await;
        };
        tokio::spawn(proxy::serve(listener, fault, config.clone(), stop))
    }));
    let tag = options.tag.clone().unwrap_or_default();
    let sentinel = Name::new(&format!("Watch{tag}")).expect("a valid name");
    let mut target = Target::new(
        TargetSpec::Launched(launch),
        Duration::from_secs(5),
        sentinel,
    );
    target.start().await.expect("the proxy starts");
    let traits = ServerTraits {
        dialect,
        greets: false,
        unnamed_hello: false,
        name_case: Default::default(),
    };
    target
        .assume(traits, options.timeout)
        .await
        .expect("the dialect is the profile's");
    let report = confab_conformance::runner::run(&mut target, options, &mut Silent).await;
    target.stop().await;
    report
}

async fn run(profile: Profile, fault: Option<AnyFault>) -> Report {
    run_with(&RunOptions::new(profile), fault).await
}

fn explain(report: &Report) -> String {
    text::render_tail(report, text::Style { color: false })
}

/// The faults whose runs take longest: a pause per NAME, or many cases that wait out their
/// timeouts.
const SLOW: &[&str] = &[
    "name-race",
    "one-frame-per-read",
    "reorder-deliveries",
    "hang-on-short-payload",
    "exit-keeps-open",
];

/// Runs every fault in `profile`, three at a time; answers the clean report and, per fault,
/// its report.
async fn matrix(profile: Profile) -> (Report, Vec<(AnyFault, Report)>) {
    let clean = run(profile.clone(), None).await;
    assert_eq!(
        clean.exit_code(),
        0,
        "the clean server fails:\n{}",
        explain(&clean)
    );
    // The longest runs first, so that the three lanes end together.
    let mut faults = AnyFault::all();
    faults.sort_by_key(|f| !SLOW.contains(&f.name()));
    let runs: Vec<(AnyFault, Report)> = futures::stream::iter(faults)
        .map(|f| {
            let profile = profile.clone();
            async move { (f, run(profile, Some(f)).await) }
        })
        .buffer_unordered(3)
        .collect()
        .await;
    (clean, runs)
}

fn failing(report: &Report) -> Vec<&confab_conformance::CaseReport> {
    report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_fails_the_run_and_every_case_is_failed_by_some_fault() {
    let (clean, runs) = matrix(Profile::confab()).await;

    // Each fault fails the run, on a case that cites the requirement it breaks.
    let mut problems = Vec::new();
    for (fault, report) in &runs {
        let cites = failing(report)
            .iter()
            .any(|c| c.cites.iter().any(|r| r == fault.requirement()));
        if report.exit_code() != 1 || !cites {
            problems.push(format!(
                "fault {fault} ({}) was not caught by a case citing it; failing: {:?}\n{}",
                fault.requirement(),
                failing(report).iter().map(|c| &c.id).collect::<Vec<_>>(),
                explain(report)
            ));
        }
    }

    // Every case the clean server passes is failed by at least one fault.
    let judged: BTreeSet<&str> = clean
        .cases
        .iter()
        .filter(|c| c.verdict.is_pass())
        .map(|c| c.id.as_str())
        .collect();
    let mut tripped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (fault, report) in &runs {
        for c in failing(report) {
            tripped
                .entry(c.id.as_str())
                .or_default()
                .push(fault.to_string());
        }
    }
    println!("case → faults that fail it");
    for id in &judged {
        let faults = tripped
            .get(id)
            .map(|f| f.join(", "))
            .unwrap_or_else(|| "NONE".into());
        println!("  {id:<46} {faults}");
    }
    let untripped: Vec<&&str> = judged
        .iter()
        .filter(|id| !tripped.contains_key(**id))
        .collect();
    if !untripped.is_empty() {
        problems.push(format!("cases no fault fails: {untripped:?}"));
    }
    // Crashes and hangs are told apart from wrong replies.
    for (fault, expected) in [
        (AnyFault::Hook(Fault::CrashOnExit), Verdict::ServerCrashed),
        (
            AnyFault::Hook(Fault::CrashOnBadUtf8),
            Verdict::ServerCrashed,
        ),
        (
            AnyFault::Wire(WireFault::HangOnShortPayload),
            Verdict::ServerHung,
        ),
    ] {
        let seen = runs
            .iter()
            .find(|(f, _)| *f == fault)
            .is_some_and(|(_, r)| r.cases.iter().any(|c| c.verdict == expected));
        if !seen {
            problems.push(format!("fault {fault} produced no {expected} verdict"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// The dialect cases apply only where the frame limit differs from the canonical one: they
/// get their own matrix, on a 2-digit server (DIALECT-4) and a 2-byte binary one (DIALECT-3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dialect_cases_are_failed_by_faults_in_their_dialects() {
    for (framing, case) in [
        ("dec2", "spec.DIALECT-4.small-frames"),
        ("bin2", "spec.DIALECT-3.over-the-limit"),
    ] {
        let mut profile = Profile::confab();
        profile.dialect.framing = framing.parse::<Framing>().expect("a framing");
        let mut options = RunOptions::new(profile.clone());
        options.only = vec![case.to_owned()];
        let clean = run_with(&options, None).await;
        assert!(
            clean.cases.iter().all(|c| c.verdict == Verdict::Pass),
            "{framing}: {}",
            explain(&clean)
        );
        let mut caught_by = Vec::new();
        for fault in AnyFault::all() {
            let report = run_with(&options, Some(fault)).await;
            if report.cases.iter().any(|c| c.verdict.is_failure()) {
                caught_by.push(fault.to_string());
            }
        }
        println!("{case} in {framing} is failed by: {caught_by:?}");
        assert!(!caught_by.is_empty(), "no fault fails {case} in {framing}");
    }
}

/// The faults are the same whichever side makes them: every name once, every requirement one
/// of PROTOCOL.md.
#[test]
fn every_fault_has_one_name_and_breaks_a_requirement_of_the_spec() {
    let spec = include_str!("../../PROTOCOL.md");
    let mut names = BTreeSet::new();
    for fault in AnyFault::all() {
        assert!(names.insert(fault.name()), "{fault} is named twice");
        let id = format!("**{}**", fault.requirement());
        assert!(spec.contains(&id), "{fault}: {id} is not in PROTOCOL.md");
    }
    assert_eq!(names.len(), 41);
    for fault in WireFault::ALL {
        assert!(!fault.description().is_empty());
    }
}
