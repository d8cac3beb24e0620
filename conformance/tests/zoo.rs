//! The zoo: course-style servers written the way students write them (`tests/zoo/*.py`), each
//! with a truth file written before the harness ever ran on it: the dialect it speaks and the
//! verdict a careful human grader gives each row of the grading sheet, with the reason.
//!
//! The harness is run on every zoo server as a grader runs it (`--profile course`: framing
//! and spelling detected, every suite), and must agree with the truth on every rubric row and
//! on the dialect. Every failure it reports must describe the bytes that really arrived.
//!
//! The servers need `python3`. Without it the test says so and passes, unless
//! `CONFAB_REQUIRE_TOOLS=1` (set by `.ci/run`), which makes a missing program a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use confab_conformance::case::FailureKind;
use confab_conformance::report::{causes, text};
use confab_conformance::wire::EventKind;
use confab_conformance::{CaseReport, Profile, Report, Silent, Suite, TargetError};
use futures::StreamExt;
use serde::Deserialize;

#[path = "support/course.rs"]
mod course;
#[path = "../../tests/tools/mod.rs"]
mod tools;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Truth {
    server: String,
    summary: String,
    framing: String,
    spelling: String,
    greets: bool,
    answers: bool,
    rubric: BTreeMap<String, Row>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    pass: bool,
    why: String,
}

fn zoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zoo")
}

fn truths() -> Vec<(PathBuf, Truth)> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(zoo())
        .expect("tests/zoo exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("a readable truth file");
        let truth: Truth = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not a truth file: {e}", path.display()));
        assert_eq!(truth.rubric.len(), 14, "{}: 14 rows", path.display());
        assert!(
            zoo().join(&truth.server).exists(),
            "{}: no server {}",
            path.display(),
            truth.server
        );
        out.push((path, truth));
    }
    out
}

async fn grade(python: &str, truth: &Truth) -> Result<Report, TargetError> {
    let command = format!(
        "exec {python} -S {} {{port}}",
        zoo().join(&truth.server).display()
    );
    grade_command(command, &[]).await
}

/// Runs the cases starting with `only` (all, when empty) on the server `command` starts, as
/// the zoo is graded.
async fn grade_command(command: String, only: &[&str]) -> Result<Report, TargetError> {
    grade_in(Profile::course(), command, only).await
}

/// As [`grade_command`], in `profile`. `-S` (in the commands): the servers use the standard
/// library only, and a Python that skips site-packages starts faster.
async fn grade_in(profile: Profile, command: String, only: &[&str]) -> Result<Report, TargetError> {
    course::grade(&command, &course::options(profile, only), &mut Silent).await
}

/// Compares the dialect and each rubric row of `report` (of the server `label`) with `truth`,
/// adding a problem for each disagreement; answers the rubric score.
fn compare_rubric(label: &str, truth: &Truth, report: &Report, problems: &mut Vec<String>) -> u32 {
    let dialect = report.dialect.as_deref().unwrap_or_default();
    let want = format!("{} framing, {} spelling", truth.framing, truth.spelling);
    if !dialect.contains(&want) {
        problems.push(format!("{label}: expected {want}, the harness {dialect}"));
    }
    let mut score = 0;
    for case in report.cases.iter().filter(|c| c.suite == Suite::Rubric) {
        let row = row_of(case);
        let Some(truth_row) = truth.rubric.get(row) else {
            problems.push(format!("{label}: no truth for {}", case.id));
            continue;
        };
        if case.verdict.is_pass() {
            score += case.points;
        }
        if case.verdict.is_pass() != truth_row.pass {
            // The failure and what liveness found both: a crash's cause is in the latter.
            let said = match (&case.failure, &case.liveness) {
                (Some(failure), Some(liveness)) => format!("{failure}; liveness: {liveness}"),
                (Some(failure), None) => failure.to_string(),
                (None, Some(liveness)) => liveness.clone(),
                (None, None) => case.deviations.join("; "),
            };
            problems.push(format!(
                "{label} row {row}: truth {} ({}), harness {}: {said}",
                if truth_row.pass { "pass" } else { "FAIL" },
                truth_row.why,
                case.verdict
            ));
        }
    }
    score
}

/// The row number of a rubric case: `rubric.07-duplicate-name-refused` is `07`.
fn row_of(case: &CaseReport) -> &str {
    case.id
        .strip_prefix("rubric.")
        .and_then(|r| r.get(..2))
        .unwrap_or("")
}

/// The cases of `report` that did not pass: rubric rows by their number, others by ID.
fn failed(report: &Report) -> Vec<&str> {
    report
        .cases
        .iter()
        .filter(|c| !c.verdict.is_pass())
        .map(|c| match row_of(c) {
            "" => &c.id,
            row => row,
        })
        .collect()
}

/// The command that starts the test fixture `tests/fixtures/<fixture>` with `--fault fault`.
fn fixture_command(fixture: &str, fault: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    format!(
        "exec {} -S {} --fault {fault} {{port}}",
        tools::python3_executable(),
        path.display()
    )
}

/// Problems with what the failures of `report` say happened: a quoted frame that is not in
/// the transcript, or "nothing arrived" on a connection that had just received a frame.
fn untruthful(report: &Report) -> Vec<String> {
    let mut problems = Vec::new();
    for case in &report.cases {
        let Some(failure) = &case.failure else {
            continue;
        };
        let received: Vec<String> = case
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Received(b) => Some(confab::protocol::escape::escape_bytes(b)),
                EventKind::Undecodable { bytes, .. } => {
                    Some(confab::protocol::escape::escape_bytes(bytes))
                }
                _ => None,
            })
            .collect();
        // Every frame quoted as having come must be in the transcript.
        for quoted in quoted_arrivals(&failure.actual) {
            if !received.iter().any(|r| r.contains(quoted)) {
                problems.push(format!(
                    "{}: `actual:` quotes `{quoted}`, which never arrived: {}",
                    case.id, failure.actual
                ));
            }
        }
        // "nothing arrived on L" must mean that L got no frame since the last thing the case
        // did (which is what it was waiting on).
        if let Some(label) = failure
            .actual
            .strip_prefix("nothing arrived on ")
            .and_then(|rest| rest.split(' ').next())
        {
            let last_sent = case
                .events
                .iter()
                .rposition(|e| confab_conformance::wire::is_action(&e.kind));
            let after = last_sent.map_or(&case.events[..], |i| &case.events[i + 1..]);
            if after
                .iter()
                .any(|e| &*e.conn == label && matches!(e.kind, EventKind::Received(_)))
            {
                problems.push(format!(
                    "{}: `actual:` says nothing arrived on {label}, but a frame did: {}",
                    case.id, failure.actual
                ));
            }
        }
    }
    problems
}

/// The frames an `actual:` text says arrived: quoted right after "got " or right before
/// " arrived", and in the comma-separated lists of skipped frames.
fn quoted_arrivals(actual: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let parts: Vec<&str> = actual.split('`').collect();
    // Odd parts are quoted; the text before each says what it is.
    for i in (1..parts.len()).step_by(2) {
        let before = parts[i - 1];
        let after = parts.get(i + 1).copied().unwrap_or("");
        let is_arrival = before.ends_with("got ")
            || after.starts_with(" arrived")
            || before == ", "
            || after == ", ";
        if is_arrival {
            out.push(parts[i]);
        }
    }
    out
}

#[test]
fn quoted_arrivals_are_found() {
    assert_eq!(
        quoted_arrivals("expected `HELLO A`, got `Hello A`"),
        ["Hello A"]
    );
    assert_eq!(
        quoted_arrivals("`x`, `y` arrived on B (not `A SENT hi`), then nothing arrived"),
        ["x", "y"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_zoo_server_is_graded_as_its_truth_says() {
    if !tools::available(
        "every_zoo_server_is_graded_as_its_truth_says",
        "python3",
        "python3",
    ) {
        return;
    }
    let truths = truths();
    let python = tools::python3_executable();
    let python = python.as_str();
    let started = Instant::now();
    let graded: Vec<(&PathBuf, &Truth, Result<Report, TargetError>)> =
        futures::stream::iter(truths.iter())
            .map(|(path, truth)| async move { (path, truth, grade(python, truth).await) })
            .buffer_unordered(8)
            .collect()
            .await;
    let elapsed = started.elapsed();
    let mut problems = Vec::new();
    let mut table = String::new();
    for (path, truth, result) in &graded {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("?");
        let report = match result {
            Err(e) if !truth.answers => {
                if !matches!(e, TargetError::AnsweredNothing(_)) {
                    problems.push(format!(
                        "{file}: a server that answers nothing should be reported so, got: {e}"
                    ));
                }
                table.push_str(&format!("{file}: {e}\n"));
                continue;
            }
            Err(e) => {
                problems.push(format!("{file}: the harness could not grade it: {e}"));
                continue;
            }
            Ok(r) if !truth.answers => {
                problems.push(format!(
                    "{file}: answers nothing, but the harness graded it:\n{}",
                    text::render_tail(r, text::Style { color: false })
                ));
                continue;
            }
            Ok(r) => r,
        };
        let greeted = report.cases.iter().any(|c| {
            c.events
                .iter()
                .any(|e| e.kind == EventKind::Note("a greeting on connect: skipped".into()))
        });
        if greeted != truth.greets {
            problems.push(format!(
                "{file}: greets = {}, but the harness {} a greeting",
                truth.greets,
                if greeted { "skipped" } else { "saw no" }
            ));
        }
        let score = compare_rubric(file, truth, report, &mut problems);
        problems.extend(
            untruthful(report)
                .into_iter()
                .map(|p| format!("{file}: {p}")),
        );
        let dialect = report.dialect.as_deref().unwrap_or_default();
        table.push_str(&format!(
            "{file}: {score}/100 in {:.1} s, {dialect} ({})\n",
            report.duration.as_secs_f64(),
            truth.summary
        ));
    }
    println!(
        "{table}graded {} servers in {:.1} s",
        graded.len(),
        elapsed.as_secs_f64()
    );
    assert!(truths.len() >= 16, "the zoo has {} servers", truths.len());
    assert!(
        problems.is_empty(),
        "{} disagreements with the zoo's truth:\n{}\n\n{table}",
        problems.len(),
        problems.join("\n")
    );
}

/// A names list sent in several frames (a heading, then a frame per name, as zoo server 25
/// sends it) is read whole, and still judged (JUDGE-13): `tests/fixtures/split_lists.py`
/// passes rows 1, 2 and 8 and MSG-2's "no reply" (whose GET_NAMES round trip gets such a
/// list) when its lists are right, fails row 8 when a departed name comes in a later frame of
/// the list, fails rows 1 and 2 when the last name of every list is left out, and fails MSG-2
/// when a MSG is acknowledged. (Row 8 is not run with the last name left out: whether the
/// list it sends then lacks `A` or the departing `B` depends on when the server sees `B` go.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_lists_in_several_frames_are_read_whole_and_judged() {
    let test = "names_lists_in_several_frames_are_read_whole_and_judged";
    if !tools::available(test, "python3", "python3") {
        return;
    }
    let all = ["rubric.01", "rubric.02", "rubric.08", "spec.MSG-2"];
    for (fault, rows, failing) in [
        ("none", &all[..], &[][..]),
        ("keep-departed", &all[..], &["08"][..]),
        ("drop-last", &all[..2], &["01", "02"][..]),
        ("ack-msg", &all[..], &["spec.MSG-2.no-ack"][..]),
    ] {
        let report = grade_command(fixture_command("split_lists.py", fault), rows)
            .await
            .unwrap_or_else(|e| panic!("--fault {fault}: the harness could not grade it: {e}"));
        assert_eq!(
            report.cases.len(),
            rows.len(),
            "--fault {fault}: {}",
            shown(&report)
        );
        assert_eq!(
            failed(&report),
            failing,
            "--fault {fault}: {}",
            shown(&report)
        );
    }
}

/// A server whose names lists leave out the asker (`tests/fixtures/others_lists.py`, as zoo
/// server 28) is learned from the sentinel's lists, said so in the report, and from then on
/// its lists are judged at once (JUDGE-17): row 2, which asks for both names in a list, fails
/// on the list it got, not on silence; row 8 and the GET_NAMES round trip behind MSG-2's "no
/// reply" pass; and each is still failed by the server that is wrong in what it asks (a
/// departed name kept, a MSG acknowledged).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_without_the_asker_are_learned_and_judged_at_once() {
    let test = "lists_without_the_asker_are_learned_and_judged_at_once";
    if !tools::available(test, "python3", "python3") {
        return;
    }
    let cases = ["rubric.01", "rubric.02", "rubric.08", "spec.MSG-2"];
    for (fault, failing) in [
        ("none", &["01", "02"][..]),
        ("keep-departed", &["01", "02", "08"][..]),
        ("ack-msg", &["01", "02", "spec.MSG-2.no-ack"][..]),
    ] {
        let report = grade_command(fixture_command("others_lists.py", fault), &cases)
            .await
            .unwrap_or_else(|e| panic!("--fault {fault}: the harness could not grade it: {e}"));
        let dialect = report.dialect.clone().unwrap_or_default();
        assert!(
            dialect.contains("names lists leave out the asker"),
            "--fault {fault}: the report does not say so: {dialect}"
        );
        assert_eq!(
            failed(&report),
            failing,
            "--fault {fault}: {}",
            shown(&report)
        );
        let row2 = report
            .cases
            .iter()
            .find(|c| c.id.starts_with("rubric.02"))
            .unwrap_or_else(|| panic!("--fault {fault}: row 2 did not run"));
        let failure = row2.failure.as_ref().map(|f| (f.kind, f.actual.clone()));
        assert!(
            matches!(&failure, Some((FailureKind::Wrong, actual)) if actual.contains("Others online")),
            "--fault {fault}: row 2 should fail on the list it got: {failure:?}"
        );
        assert!(
            row2.notes.iter().any(|n| n.contains("JUDGE-17")),
            "--fault {fault}: row 2 does not say why its list was taken: {:?}",
            row2.notes
        );
    }
}

/// A server that pads its lengths with spaces (zoo 33, `  13Welcome Alice`) is read in
/// lenient matching, each case saying so as a deviation (DIALECT-6), and refused in strict
/// matching, the failure naming the padding rather than blaming lengths that count characters
/// (JUDGE-19).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lengths_padded_with_spaces_are_read_leniently_and_named_strictly() {
    let test = "lengths_padded_with_spaces_are_read_leniently_and_named_strictly";
    if !tools::available(test, "python3", "python3") {
        return;
    }
    let python = tools::python3_executable();
    let command = format!(
        "exec {python} -S {} {{port}}",
        zoo().join("33_padded_dec4.py").display()
    );
    let lenient = grade_command(command.clone(), &["rubric.02"])
        .await
        .unwrap_or_else(|e| panic!("the harness could not grade zoo 33 leniently: {e}"));
    let row2 = &lenient.cases[..];
    assert!(
        matches!(row2, [c] if c.verdict.is_pass()
            && c.deviations.iter().any(|d| d.contains("padded with spaces (`  "))),
        "{}",
        shown(&lenient)
    );

    let strict = grade_in(Profile::confab(), command, &["spec.NAME-1"])
        .await
        .unwrap_or_else(|e| panic!("the harness could not grade zoo 33 strictly: {e}"));
    let [case] = &strict.cases[..] else {
        panic!("one case expected: {}", shown(&strict));
    };
    let actual = case
        .failure
        .as_ref()
        .map(|f| f.actual.as_str())
        .unwrap_or("");
    assert!(
        !case.verdict.is_pass() && actual.contains("padded with spaces"),
        "{}",
        shown(&strict)
    );
    assert!(
        causes::cause_of(case).is_none_or(|c| c.id != "length-counts-characters"),
        "blamed on lengths that count characters: {}",
        shown(&strict)
    );
}

/// Zoo 36 shows every name upper-cased and keeps it as sent: it greets `NAME q` with
/// `WELCOME Q`, and a name's twin in the other letter case as the same letters. Names the
/// harness chose itself are then looked for as the server shows them (JUDGE-21), as the names
/// it makes up are.
#[tokio::test]
async fn names_the_harness_chose_itself_are_found_in_the_servers_letter_case() {
    let test = "names_the_harness_chose_itself_are_found_in_the_servers_letter_case";
    if !tools::available(test, "python3", "python3") {
        return;
    }
    let python = tools::python3_executable();
    let command = format!(
        "exec {python} -S {} {{port}}",
        zoo().join("36_shouting_dec3.py").display()
    );
    let report = grade_command(command, &["spec.NAME-2.taken", "spec.NAME-3.valid-names"])
        .await
        .unwrap_or_else(|e| panic!("the harness could not grade zoo 36: {e}"));
    assert_eq!(report.cases.len(), 2, "{}", shown(&report));
    assert!(
        report.cases.iter().all(|c| c.verdict.is_pass()),
        "{}",
        shown(&report)
    );
}

fn shown(report: &Report) -> String {
    text::render_tail(report, text::Style { color: false })
}

/// The zoo servers whose rows depend on what the harness waits for (a one-`recv` server's
/// split frame, JUDGE-10 and JUDGE-11; an unframed server's messages, JUDGE-12; a names list
/// sent in several frames, JUDGE-13), run as a
/// loaded machine runs them: `tests/fixtures/slow_sends.py` stops each 0.1 s after every
/// send. Graded on the grading sheet, each must still get exactly its truth, row by row, and
/// its dialect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowed_zoo_servers_are_graded_as_their_truth_says() {
    let test = "slowed_zoo_servers_are_graded_as_their_truth_says";
    if !tools::available(test, "python3", "python3")
        || !tools::on_linux(test, "where the harness sees what the server has read")
    {
        return;
    }
    let python = tools::python3_executable();
    let slow = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slow_sends.py");
    let mut problems = Vec::new();
    let mut table = String::new();
    let slowed: Vec<(PathBuf, Truth)> = truths()
        .into_iter()
        .filter(|(_, t)| {
            [
                "17_unnamed_crash_dec2.py",
                "19_lazy_raw.py",
                "25_listframes_dec2.py",
            ]
            .contains(&t.server.as_str())
        })
        .collect();
    assert_eq!(slowed.len(), 3, "zoo 17, 19 and 25 have truths");
    for (path, truth) in &slowed {
        let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("?");
        let command = format!(
            "exec {python} -S {} 0.1 {} {{port}}",
            slow.display(),
            zoo().join(&truth.server).display()
        );
        let report = match grade_command(command, &["rubric."]).await {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!(
                    "{file}, slowed: the harness could not grade it: {e}"
                ));
                continue;
            }
        };
        let rows = report
            .cases
            .iter()
            .filter(|c| c.suite == Suite::Rubric)
            .count();
        if rows != 14 {
            problems.push(format!("{file}, slowed: {rows} rubric rows ran, not 14"));
        }
        let score = compare_rubric(&format!("{file}, slowed"), truth, &report, &mut problems);
        let dialect = report.dialect.as_deref().unwrap_or_default();
        table.push_str(&format!("{file}, slowed: {score}/100, {dialect}\n"));
    }
    println!("{table}");
    assert!(
        problems.is_empty(),
        "{} disagreements with the zoo's truth:\n{}\n\n{table}",
        problems.len(),
        problems.join("\n")
    );
}
