//! A student's own files, in `DIR/<id>/`: `report.md` (the Markdown report a single-server
//! run writes), `results.json` (Gradescope's autograder format) and `junit.xml` (the JUnit
//! report, with each case's points as properties).
//!
//! A student whose server was not graded gets the same three files: the reason, and every
//! selected case reported as not run, so that an autograder shows each row failed and why.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::case::Verdict;
use crate::class::grade::{Outcome, options};
use crate::report::text::cut;
use crate::report::{CaseReport, Report, causes, junit, markdown};

/// The report of a student: the real one, or a stand-in whose every case did not run.
pub fn report_of(outcome: &Outcome) -> Report {
    match &outcome.result {
        Ok(r) => r.clone(),
        Err(e) => {
            let options = options(&outcome.student);
            let reason = e.note();
            Report {
                profile: (*options.profile).clone(),
                target: format!("`{}`", outcome.student.command),
                suites: options.suites.clone(),
                cases: options
                    .selected()
                    .iter()
                    .map(|c| CaseReport::not_run(c, &reason))
                    .collect(),
                duration: Duration::ZERO,
                restarts: 0,
                dialect: None,
            }
        }
    }
}

/// Gradescope's `results.json`.
#[derive(Debug, Serialize)]
struct Results {
    score: u32,
    execution_time: u64,
    output: String,
    tests: Vec<Test>,
}

#[derive(Debug, Serialize)]
struct Test {
    name: String,
    score: u32,
    max_score: u32,
    status: &'static str,
    output: String,
}

/// Characters of each failure line shown to the student.
const SHOWN: usize = 400;

fn test_output(c: &CaseReport) -> String {
    let mut out = format!("{}: {}\n", c.verdict.label(), c.title);
    if let Some(f) = &c.failure {
        let _ = writeln!(out, "step: {}", cut(&f.step, SHOWN));
        let _ = writeln!(out, "expected: {}", cut(&f.expected, SHOWN));
        let _ = writeln!(out, "actual: {}", cut(&f.actual, SHOWN));
    }
    if let Some(l) = &c.liveness {
        let _ = writeln!(out, "server: {}", cut(l, SHOWN * 2));
    }
    for d in &c.deviations {
        let _ = writeln!(out, "deviation: {}", cut(d, SHOWN));
    }
    if let Some(cause) = causes::cause_of(c).filter(|_| c.verdict != Verdict::NotRun) {
        let _ = writeln!(out, "cause: {}\nfix: {}", cause.title, cause.fix);
    }
    out
}

/// The Gradescope results of `outcome`: one test per case, the rubric's points as scores.
pub fn gradescope(outcome: &Outcome) -> String {
    let report = report_of(outcome);
    let tests: Vec<Test> = report
        .cases
        .iter()
        .map(|c| {
            let earned = if c.verdict.is_pass() { c.points } else { 0 };
            let passed = if c.points > 0 {
                earned == c.points
            } else {
                !c.verdict.is_failure() && c.verdict != Verdict::HarnessError
            };
            Test {
                name: format!("{}: {}", c.id, c.title),
                score: earned,
                max_score: c.points,
                status: if passed { "passed" } else { "failed" },
                output: test_output(c),
            }
        })
        .collect();
    let score = tests.iter().map(|t| t.score).sum();
    let possible: u32 = tests.iter().map(|t| t.max_score).sum();
    let output = match &outcome.result {
        Ok(r) => format!(
            "Graded in {}{}: rubric score {score}/{possible}. Each failed test says what was \
             expected, what your server did, and what to change.",
            outcome.dialect(),
            r.dialect
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
        ),
        Err(e) => format!(
            "Your server could not be graded: {}\nEvery test is marked as not run.",
            e.reason()
        ),
    };
    let results = Results {
        score,
        execution_time: outcome.elapsed.as_secs(),
        output,
        tests,
    };
    serde_json::to_string_pretty(&results).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The Markdown report: a single run's, or the reason there is none.
pub fn markdown_report(outcome: &Outcome) -> String {
    match &outcome.result {
        Ok(r) => markdown::render(r),
        Err(e) => {
            let mut out = String::from("# confab conformance report\n\n");
            let _ = writeln!(out, "- student: `{}`", outcome.student.id);
            let _ = writeln!(out, "- command: `{}`", outcome.student.command);
            let _ = writeln!(out, "- verdict: **{}**, score 0\n", e.verdict());
            let _ = writeln!(out, "The server could not be graded:\n");
            let _ = writeln!(out, "```text\n{}\n```\n", e.reason().trim_end());
            out.push_str(
                "Check that the server starts with the command above from its folder, listens \
                 on the port given as `{port}` on 127.0.0.1, and answers a first `NAME`.\n",
            );
            out
        }
    }
}

/// Writes `report.md`, `results.json` and `junit.xml` into `dir` (created if missing).
pub fn write(outcome: &Outcome, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.md"), markdown_report(outcome))?;
    std::fs::write(dir.join("results.json"), gradescope(outcome))?;
    std::fs::write(dir.join("junit.xml"), junit::render(&report_of(outcome)))?;
    Ok(())
}
