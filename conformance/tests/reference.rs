//! Every suite against the reference server, in every built-in profile and in course-style
//! dialects, with each case's transcript snapshotted (names fixed by a tag, times left out).
//!
//! `CONFAB_SERVER=host:port` points the same runs at another server (with `CONFAB_PROFILE` for
//! its profile); then transcripts are printed instead of compared, since another server's bytes
//! differ by design, and the test fails with the report when a MUST case fails.

use std::time::Duration;

use confab::protocol::{Dialect, Framing};
use confab_conformance::report::text;
use confab_conformance::{Profile, Report, RunOptions, Silent, TargetSpec, Verdict, wire};

fn options(profile: Profile) -> RunOptions {
    let mut o = RunOptions::new(profile);
    o.tag = Some("t".into());
    o.timeout = Duration::from_secs(5);
    o
}

/// The embedded reference server speaking `dialect`, or `CONFAB_SERVER` when set.
fn target(dialect: Dialect) -> TargetSpec {
    match std::env::var("CONFAB_SERVER") {
        Ok(addr) => TargetSpec::Addr(addr),
        Err(_) => TargetSpec::Embedded(confab::server::Config {
            dialect,
            ..confab::server::Config::default()
        }),
    }
}

fn foreign() -> bool {
    std::env::var_os("CONFAB_SERVER").is_some()
}

async fn run(profile: Profile) -> Report {
    let o = options(profile);
    let dialect = o.profile.dialect;
    confab_conformance::run(target(dialect), &o, Duration::from_secs(5), &mut Silent)
        .await
        .expect("the server is reachable")
}

fn explain(report: &Report) -> String {
    text::render_tail(report, text::Style { color: false })
}

/// Every case passed or is legitimately not judged; nothing failed, crashed or hung.
fn assert_clean(report: &Report) {
    let bad: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure() || c.verdict == Verdict::HarnessError)
        .map(|c| c.id.as_str())
        .collect();
    assert!(bad.is_empty(), "failing cases {bad:?}\n{}", explain(report));
    assert_eq!(report.exit_code(), 0, "{}", explain(report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_passes_the_confab_profile_with_these_transcripts() {
    let profile = match std::env::var("CONFAB_PROFILE") {
        Ok(p) => Profile::load(&p).expect("CONFAB_PROFILE names a profile"),
        Err(_) => Profile::confab(),
    };
    let report = run(profile).await;
    if foreign() {
        println!("{}", explain(&report));
        assert!(report.exit_code() == 0, "{}", explain(&report));
        return;
    }
    assert_clean(&report);
    // Only the canonical dialect's unjudged cases: the client-side and policy ones, and the
    // dialect cases that do not apply to dec4.
    for c in &report.cases {
        if matches!(c.verdict, Verdict::Unsupported) {
            assert!(c.id.starts_with("spec.DIALECT-"), "{} is unsupported", c.id);
        }
        if !c.deviations.is_empty() {
            assert!(
                c.id.starts_with("rubric."),
                "{} has deviations {:?}",
                c.id,
                c.deviations
            );
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots/confab");
    settings.bind(|| {
        for c in &report.cases {
            let body = if c.concurrent {
                // Several connections at once: the interleaving varies from run to run.
                let conns: std::collections::BTreeSet<&str> =
                    c.events.iter().map(|e| &*e.conn).collect();
                format!(
                    "concurrent case over {} connections\nverdict: {}\n",
                    conns.len(),
                    c.verdict
                )
            } else {
                let events = collapse_polls(&c.events, b"0009GET_NAMES");
                format!("verdict: {}\n\n{}", c.verdict, wire::render(&events, false))
            };
            insta::assert_snapshot!(c.id.clone(), body);
        }
    });
}

/// Keeps only the last of consecutive GET_NAMES round trips on one connection. A case that
/// waits for a name to go asks until it is gone, and how many times it asks depends on how
/// soon the server noticed; the last answer is what the case judged.
fn collapse_polls(events: &[wire::Event], get_names: &[u8]) -> Vec<wire::Event> {
    use wire::EventKind::{Received, Sent};
    let is_poll = |i: usize| -> bool {
        matches!((events.get(i), events.get(i + 1)),
            (Some(a), Some(b)) if matches!(&a.kind, Sent(bytes) if bytes == get_names)
                && matches!(b.kind, Received(_))
                && a.conn == b.conn)
    };
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        if is_poll(i) && is_poll(i + 2) && events[i].conn == events[i + 2].conn {
            i += 2;
            continue;
        }
        out.push(events[i].clone());
        i += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_in_course_framing_passes_the_course_profile() {
    if foreign() {
        return;
    }
    let report = run(Profile::course()).await;
    assert_clean(&report);
    let summary = report.summary();
    assert_eq!(summary.rubric, (100, 100), "{}", explain(&report));
}

/// The reference server configured as course-style dialects (PROTOCOL.md §11):
/// 2, 3 and 4 digits, an 8-byte binary length, no length at all, numeric commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_as_course_style_dialects_passes() {
    if foreign() {
        return;
    }
    for (framing, spelling, matching) in [
        ("dec2", "canonical", "strict"),
        ("dec3", "getnames", "strict"),
        ("bin8", "canonical", "strict"),
        ("bin2", "canonical", "lenient"),
        ("dec4", "numeric", "strict"),
    ] {
        let profile = Profile::from_toml(&format!(
            "name = \"{framing}-{spelling}\"\nframing = \"{framing}\"\nspelling = \"{spelling}\"\nmatching = \"{matching}\"\n"
        ))
        .expect("a valid profile");
        let report = run(profile).await;
        assert_clean(&report);
        let judged = report.cases.iter().filter(|c| c.verdict.is_pass()).count();
        assert!(
            judged > 50,
            "{framing}/{spelling}: only {judged} cases judged\n{}",
            explain(&report)
        );
    }
}

/// Without a length field (`raw` and `line`, as four of the fourteen course servers), the
/// grading sheet's row 14 fails and nothing else does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_without_length_fields_fails_only_the_length_field_row() {
    if foreign() {
        return;
    }
    for framing in [Framing::Line, Framing::Raw] {
        let mut profile = Profile::course();
        profile.dialect.framing = framing;
        without_length_field(profile).await;
    }
}

async fn without_length_field(profile: Profile) {
    let report = run(profile).await;
    let failed: Vec<&str> = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure() || c.verdict == Verdict::HarnessError)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(failed, ["rubric.14-length-field"], "{}", explain(&report));
    assert_eq!(report.summary().rubric, (95, 100));
}
