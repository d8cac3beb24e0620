//! A Markdown report, for pasting into an issue or a grade sheet: the summary, a table per
//! suite, and the evidence for each failure.

use std::fmt::Write;

use crate::case::Suite;
use crate::report::Report;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn render(report: &Report) -> String {
    let s = report.summary();
    let mut out = String::from("# confab conformance report\n\n");
    let _ = writeln!(out, "- target: {}", report.target);
    let _ = writeln!(
        out,
        "- profile: `{}` ({} matching, {} framing, {} spelling)",
        report.profile.name,
        report.profile.matching,
        report.profile.framing,
        report.profile.spelling
    );
    let _ = writeln!(
        out,
        "- {} cases in {:.2} s; MUST {}/{} passed, SHOULD {}/{} passed",
        report.cases.len(),
        report.duration.as_secs_f64(),
        s.must.0,
        s.must.1,
        s.should.0,
        s.should.1
    );
    if s.rubric.1 > 0 {
        let _ = writeln!(out, "- rubric score: **{}/{}**", s.rubric.0, s.rubric.1);
    }
    let _ = writeln!(out, "- exit code: {}", report.exit_code());
    for suite in Suite::ALL {
        let cases: Vec<_> = report.cases.iter().filter(|c| c.suite == suite).collect();
        if cases.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {suite}\n");
        if suite == Suite::Rubric {
            out.push_str("| case | what | points | verdict |\n|---|---|---|---|\n");
        } else {
            out.push_str("| case | what | cites | level | verdict |\n|---|---|---|---|---|\n");
        }
        for c in cases {
            if suite == Suite::Rubric {
                let earned = if c.verdict.is_pass() { c.points } else { 0 };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {earned}/{} | {} |",
                    c.id,
                    cell(&c.title),
                    c.points,
                    c.verdict.label()
                );
            } else {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} |",
                    c.id,
                    cell(&c.title),
                    c.cites.join(", "),
                    c.level,
                    c.verdict.label()
                );
            }
        }
    }
    let failures: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure())
        .collect();
    if !failures.is_empty() {
        out.push_str("\n## Failures\n");
        for c in failures {
            let _ = writeln!(out, "\n### `{}`: {}\n", c.id, c.verdict.label());
            let _ = writeln!(out, "{} ({}, {})\n", c.title, c.cites.join(", "), c.level);
            if let Some(f) = &c.failure {
                let _ = writeln!(out, "- step: {}", cell(&f.step));
                let _ = writeln!(out, "- expected: {}", cell(&f.expected));
                let _ = writeln!(out, "- actual: {}", cell(&f.actual));
            }
            if let Some(l) = &c.liveness {
                let _ = writeln!(out, "- server: {}", cell(l));
            }
            let _ = writeln!(out, "\n```text\n{}```", c.transcript());
        }
    }
    let deviations = report.deviations();
    if !deviations.is_empty() {
        out.push_str("\n## Deviations accepted by lenient matching\n\n");
        out.push_str("| deviation | cases |\n|---|---|\n");
        for (d, cases) in deviations {
            let _ = writeln!(out, "| {} | {} |", cell(&d), cases.join(", "));
        }
    }
    out
}
