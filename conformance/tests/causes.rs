//! The root causes of the student report (`report::causes`), each recognised on a zoo server
//! (`tests/zoo/*.py`, see its README) that has that mistake: the harness runs the cases that
//! show it, and the terminal report must have the cause's block, with its fix line, naming
//! those cases. A server with several mistakes gets one block per cause. A server slowed as a
//! loaded machine runs it (`tests/fixtures/slow_sends.py`) must get the verdicts and causes it
//! gets quick.
//!
//! The servers need `python3`. Without it the tests say so and pass, unless
//! `CONFAB_REQUIRE_TOOLS=1`, which makes a missing program a failure (`tests/tools`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_conformance::report::{causes, text};
use confab_conformance::{Profile, Report, RunOptions, Silent, TargetSpec};
use futures::StreamExt;

#[path = "../../tests/tools/mod.rs"]
mod tools;

fn zoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zoo")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs the cases starting with `only` (all, when empty) of the course profile on a zoo
/// server.
async fn grade(server: &str, only: &[&str]) -> Report {
    let command = format!("exec python3 -S {} {{port}}", zoo().join(server).display());
    grade_command(server, command, only).await
}

/// Runs the cases starting with `only` of the course profile on the server that `command`
/// starts (`server` names it in messages).
async fn grade_command(server: &str, command: String, only: &[&str]) -> Report {
    let mut options = RunOptions::new(Profile::course());
    options.only = only.iter().map(|s| (*s).to_owned()).collect();
    options.timeout = Duration::from_millis(700);
    options.restart_deadline = Duration::from_secs(5);
    // The free port the harness picks can be taken by another test's server before this one
    // binds it (the zoo servers do not set SO_REUSEADDR); that start is tried again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = confab_conformance::run(
            TargetSpec::Exec {
                command: command.clone(),
                addr: None,
            },
            &options,
            Duration::from_secs(10),
            &mut Silent,
        )
        .await;
        match result {
            Ok(report) => return report,
            Err(e) if attempts < 3 && e.to_string().contains("Address already in use") => {
                eprintln!("{server}: its port was taken, starting it again: {e}");
            }
            Err(e) => panic!("{server} could not be graded: {e}"),
        }
    }
}

fn render(report: &Report) -> String {
    text::render_tail(report, text::Style { color: false })
}

/// The block of the cause titled `title` in a rendered report: from its `cause:` line to the
/// next blank line.
fn block<'a>(rendered: &'a str, title: &str) -> Option<&'a str> {
    let start = rendered.find(&format!("cause: {title} ("))?;
    let rest = &rendered[start..];
    Some(rest.find("\n\n").map_or(rest, |end| &rest[..end]))
}

/// Each cause, a zoo server that has it, and a case it fails there.
const SHOWN_BY: &[(&str, &str, &str)] = &[
    (
        "crash-invalid-utf8",
        "06_blocking_dec4.py",
        "robustness.invalid-utf8",
    ),
    (
        "crash-non-digit-length",
        "02_friendly_dec2.py",
        "robustness.non-digit-length",
    ),
    (
        "crash-closed-socket",
        "07_bin8_exitcrash.py",
        "rubric.04-exit-is-safe",
    ),
    (
        "crash-missing-entry",
        "05_numeric_dec2.py",
        "robustness.msg-before-name",
    ),
    (
        "crash-peer-reset",
        "03_greeter_crash_dec2.py",
        "spec.CONN-3.close-releases",
    ),
    (
        "blocking-partial-frame",
        "06_blocking_dec4.py",
        "rubric.13-nothing-blocks",
    ),
    (
        "length-counts-characters",
        "02_friendly_dec2.py",
        "spec.FRAME-2.lengths-count-bytes",
    ),
    (
        "reply-too-long",
        "02_friendly_dec2.py",
        "spec.DIALECT-4.small-frames",
    ),
    (
        "bad-length-ignored",
        "14_greeter_dec2.py",
        "robustness.non-digit-length",
    ),
    (
        "closes-instead-of-error",
        "04_echo_chat_dec4.py",
        "spec.ENC-2.invalid-utf8",
    ),
    (
        "no-length-field",
        "09_line_broadcast.py",
        "rubric.14-length-field",
    ),
    (
        "exit-not-finished",
        "06_blocking_dec4.py",
        "spec.EXIT-2.bye-then-close",
    ),
    (
        "one-frame-per-recv",
        "08_onerecv_dec3.py",
        "rubric.14-length-field",
    ),
    (
        "end-of-stream-ignored",
        "10_raw_wedge.py",
        "spec.CONN-3.close-releases",
    ),
    (
        "name-kept-after-leave",
        "14_greeter_dec2.py",
        "spec.NAMES-4.release-and-return",
    ),
    (
        "duplicate-name-accepted",
        "19_lazy_raw.py",
        "rubric.07-duplicate-name-refused",
    ),
    (
        "names-not-checked",
        "02_friendly_dec2.py",
        "spec.NAME-4.invalid-names",
    ),
    (
        "unknown-command-not-refused",
        "04_echo_chat_dec4.py",
        "rubric.10-unknown-command-error",
    ),
    (
        "first-word-only",
        "14_greeter_dec2.py",
        "spec.MSG-1.delivery",
    ),
    (
        "msg-before-name-delivered",
        "02_friendly_dec2.py",
        "spec.MSG-5.name-required",
    ),
    (
        "silent-on-error",
        "19_lazy_raw.py",
        "rubric.09-missing-recipient-error",
    ),
    (
        "getnames-spelling",
        "02_friendly_dec2.py",
        "spec.CMD-2.getnames-spelling",
    ),
    (
        "control-characters-echoed",
        "02_friendly_dec2.py",
        "spec.ERR-2.messages",
    ),
    (
        "message-acknowledged",
        "02_friendly_dec2.py",
        "spec.MSG-2.no-ack",
    ),
];

#[test]
fn every_cause_is_shown_by_a_zoo_server() {
    for cause in causes::CAUSES {
        assert!(
            SHOWN_BY.iter().any(|(id, _, _)| *id == cause.id),
            "no zoo server shows the cause {}",
            cause.id
        );
    }
    for (id, server, _) in SHOWN_BY {
        assert!(
            causes::CAUSES.iter().any(|c| c.id == *id),
            "{id} is not a cause"
        );
        assert!(zoo().join(server).exists(), "no zoo server {server}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cause_gets_its_block_and_fix_on_the_server_that_shows_it() {
    if !tools::available(
        "each_cause_gets_its_block_and_fix_on_the_server_that_shows_it",
        "python3",
        "python3",
    ) {
        return;
    }
    let results: Vec<(&str, &str, &str, Report)> = futures::stream::iter(SHOWN_BY.iter())
        .map(|&(id, server, case)| async move { (id, server, case, grade(server, &[case]).await) })
        .buffer_unordered(3)
        .collect()
        .await;
    let mut problems = Vec::new();
    for (id, server, case, report) in &results {
        let Some(cause) = causes::CAUSES.iter().find(|c| c.id == *id) else {
            problems.push(format!("{id} is not a cause"));
            continue;
        };
        let rendered = render(report);
        let Some(found) = block(&rendered, cause.title) else {
            problems.push(format!(
                "{server}: no block for {id} ({}) in\n{rendered}",
                cause.title
            ));
            continue;
        };
        let fix_start = first_words(cause.fix);
        if !found.contains(&format!("  fix:      {fix_start}")) {
            problems.push(format!(
                "{server}: the block of {id} has no fix line:\n{found}"
            ));
        }
        if !found
            .lines()
            .any(|l| l.trim_end().ends_with(&format!(" {case}")))
        {
            problems.push(format!(
                "{server}: the block of {id} does not name {case}:\n{found}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// 06 loops `recv` for a frame, does not implement EXIT, dies on invalid UTF-8, frames with
/// `len(text)`, says nothing to some commands and takes any name: each of those is one block
/// with its fix line, however many cases each one fails, the JSON report has the same
/// causes, and every failed case is in exactly one block or shown on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_several_causes_gets_one_block_per_cause() {
    if !tools::available(
        "a_server_with_several_causes_gets_one_block_per_cause",
        "python3",
        "python3",
    ) {
        return;
    }
    let report = grade("06_blocking_dec4.py", &[]).await;
    let rendered = render(&report);
    let (groups, unclaimed) = causes::group(report.cases.iter());
    for id in [
        "blocking-partial-frame",
        "exit-not-finished",
        "crash-invalid-utf8",
        "length-counts-characters",
    ] {
        let Some(g) = groups.iter().find(|g| g.cause.id == id) else {
            panic!("no {id} among the causes found:\n{rendered}");
        };
        assert!(g.cases.len() >= 2, "{id} failed {} case(s)", g.cases.len());
    }
    assert_eq!(
        rendered.matches("\ncause: ").count(),
        groups.len(),
        "{rendered}"
    );
    for g in &groups {
        assert_eq!(
            rendered
                .matches(&format!("cause: {} (", g.cause.title))
                .count(),
            1,
            "{}:\n{rendered}",
            g.cause.id
        );
        assert_eq!(
            rendered
                .matches(&format!("  fix:      {}", first_words(g.cause.fix)))
                .count(),
            1,
            "{}:\n{rendered}",
            g.cause.id
        );
    }
    assert!(
        groups.len() >= 6,
        "six causes or more expected:\n{rendered}"
    );
    // The JSON report has the same causes, with the same cases.
    let doc: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
    let in_json: Vec<(String, usize)> = doc["causes"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap_or_default().to_owned(),
                        c["cases"].as_array().map_or(0, Vec::len),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let in_groups: Vec<(String, usize)> = groups
        .iter()
        .map(|g| (g.cause.id.to_owned(), g.cases.len()))
        .collect();
    assert_eq!(in_json, in_groups);
    let in_blocks: usize = groups.iter().map(|g| g.cases.len()).sum();
    let failed = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure() && c.verdict != confab_conformance::Verdict::NotRun)
        .count();
    assert_eq!(in_blocks + unclaimed.len(), failed);
    for c in unclaimed {
        assert!(
            rendered.contains(&format!(" {} — ", c.id)),
            "{} has no block of its own:\n{rendered}",
            c.id
        );
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(6).collect::<Vec<_>>().join(" ")
}

/// 17 handles one frame per `recv`. Row 14 writes a frame's header and its payload apart
/// (JUDGE-10): the header alone is an empty command, the payload is then read as a header and
/// `int('NA')` kills the server. Written back to back the two parts often met in one `recv`,
/// and the row failed for another cause in some runs: graded five times, it must fail the
/// same way, for the same cause, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_frame_fails_a_one_recv_server_the_same_way_every_run() {
    if !tools::available(
        "a_split_frame_fails_a_one_recv_server_the_same_way_every_run",
        "python3",
        "python3",
    ) {
        return;
    }
    for run in 1..=5 {
        let report = grade("17_unnamed_crash_dec2.py", &["rubric.14"]).await;
        assert_row_14_crashed_on_the_payload(&report, &format!("run {run}"));
    }
}

/// Row 14's verdict is a crash, and the report's only cause the non-digit length field.
fn assert_row_14_crashed_on_the_payload(report: &Report, which: &str) {
    let row = report
        .cases
        .iter()
        .find(|c| c.id == "rubric.14-length-field")
        .expect("row 14 ran");
    assert_eq!(
        row.verdict,
        confab_conformance::Verdict::ServerCrashed,
        "{which}:\n{}",
        render(report)
    );
    let (groups, _) = causes::group(report.cases.iter());
    let ids: Vec<&str> = groups.iter().map(|g| g.cause.id).collect();
    assert_eq!(
        ids,
        ["crash-non-digit-length"],
        "{which}:\n{}",
        render(report)
    );
}

/// The same server as a loaded machine runs it: it stops 0.3 s after every send. The header
/// arrives while it pauses after greeting the sentinel, so the payload must wait until the
/// header has been read (JUDGE-10), not 30 ms alone. The sentinel's question then arrives
/// while it pauses after answering the header, and its next turn answers the sentinel before
/// it reads the payload and dies: the crash is the verdict only because the sentinel asks
/// again after that answer (JUDGE-11).
#[tokio::test]
async fn a_split_frame_fails_a_slowed_one_recv_server_as_it_fails_a_quick_one() {
    if !tools::available(
        "a_split_frame_fails_a_slowed_one_recv_server_as_it_fails_a_quick_one",
        "python3",
        "python3",
    ) || !tools::on_linux(
        "a_split_frame_fails_a_slowed_one_recv_server_as_it_fails_a_quick_one",
        "where the harness sees that the server has read a split frame's header",
    ) {
        return;
    }
    let command = format!(
        "exec python3 -S {} 0.3 {} {{port}}",
        fixtures().join("slow_sends.py").display(),
        zoo().join("17_unnamed_crash_dec2.py").display()
    );
    let report = grade_command("zoo 17, slowed", command, &["rubric.14"]).await;
    assert_row_14_crashed_on_the_payload(&report, "slowed by 0.3 s after every send");
}

/// An unframed server as a loaded machine runs it: zoo 19 stops 0.1 s after every send, so a
/// message the harness writes while it pauses waits in its socket. The harness writes the next
/// message on that connection only once the server has read the last (JUDGE-12): written
/// 30 ms apart, `MSG` and the `GET_NAMES` after it would reach the paused server together and
/// be read as one message, and the case, which it passes when quick, would fail.
#[tokio::test]
async fn an_unframed_server_slowed_reads_each_message_alone_as_it_does_quick() {
    let test = "an_unframed_server_slowed_reads_each_message_alone_as_it_does_quick";
    if !tools::available(test, "python3", "python3")
        || !tools::on_linux(
            test,
            "where the harness sees that the server has read a message",
        )
    {
        return;
    }
    let case = "spec.MSG-2.no-ack";
    let verdict = |report: &Report| {
        report
            .cases
            .iter()
            .find(|c| c.id == case)
            .map(|c| c.verdict)
            .expect("the case ran")
    };
    let quick = grade("19_lazy_raw.py", &[case]).await;
    assert!(!verdict(&quick).is_failure(), "{}", render(&quick));
    let command = format!(
        "exec python3 -S {} 0.1 {} {{port}}",
        fixtures().join("slow_sends.py").display(),
        zoo().join("19_lazy_raw.py").display()
    );
    let slowed = grade_command("zoo 19, slowed", command, &[case]).await;
    assert_eq!(verdict(&slowed), verdict(&quick), "{}", render(&slowed));
}
