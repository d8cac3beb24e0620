//! A Markdown report, for pasting into an issue or a grade sheet: the summary, a table per
//! suite, and the evidence for each failure (long texts and transcripts cut, with a count of
//! what was left out; `--transcripts` has every byte).

use std::fmt::Write;

use crate::case::Suite;
use crate::report::text::cut;
use crate::report::{CaseReport, Report, causes};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Characters of a step, expectation or outcome shown; the rest is in `--transcripts`.
const TEXT_CHARS: usize = 240;

/// Bytes shown per transcript line, and transcript lines shown per failure; the rest is in
/// `--transcripts`.
const LINE_CHARS: usize = 160;
const TRANSCRIPT_LINES: usize = 200;

/// The transcript of `c`, its lines cut to [`LINE_CHARS`] and at most [`TRANSCRIPT_LINES`]
/// of them, with a count of the lines left out.
fn transcript(c: &CaseReport) -> String {
    let full = crate::wire::render_cut(&c.events, true, LINE_CHARS);
    let lines: Vec<&str> = full.lines().collect();
    if lines.len() <= TRANSCRIPT_LINES {
        return full;
    }
    let mut out = lines[..TRANSCRIPT_LINES].join("\n");
    let _ = writeln!(
        out,
        "\n... {} more lines (all of them in --transcripts DIR)",
        lines.len() - TRANSCRIPT_LINES
    );
    out
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
        report.profile.dialect.framing,
        report.profile.dialect.spelling
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
    let (groups, _) = causes::group(report.cases.iter());
    if !groups.is_empty() {
        out.push_str("\n## Failures by cause\n");
        for g in &groups {
            let _ = writeln!(out, "\n### {}\n", g.cause.title);
            let _ = writeln!(out, "fix: {}\n", g.cause.fix);
            for c in &g.cases {
                let _ = writeln!(out, "- `{}`: {}", c.id, c.verdict.label());
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
                let _ = writeln!(out, "- step: {}", cell(&cut(&f.step, TEXT_CHARS)));
                let _ = writeln!(out, "- expected: {}", cell(&cut(&f.expected, TEXT_CHARS)));
                let _ = writeln!(out, "- actual: {}", cell(&cut(&f.actual, TEXT_CHARS)));
            }
            if let Some(l) = &c.liveness {
                let _ = writeln!(out, "- server: {}", cell(l));
            }
            let _ = writeln!(out, "\n```text\n{}```", transcript(c));
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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::case::{Failure, FailureKind, Verdict};
    use crate::wire::{Event, EventKind};

    /// A report of one failed case whose `actual:` and transcript are huge, as from a server
    /// that floods 9999-byte frames.
    pub(crate) fn flooded() -> Report {
        let case = crate::suites::all()
            .into_iter()
            .find(|c| c.id == "spec.MSG-1.delivery")
            .expect("the case exists");
        let mut c = CaseReport::not_run(&case, "");
        c.verdict = Verdict::Fail;
        c.liveness = None;
        c.failure = Some(Failure {
            kind: FailureKind::Wrong,
            step: "B ← the delivery".into(),
            expected: "`A SENT hi`".into(),
            actual: format!("expected `A SENT hi`, got `{}`", "x".repeat(9999)),
        });
        c.events = (0..500)
            .map(|i| Event {
                conn: Arc::from("B"),
                at: Duration::from_millis(i),
                kind: EventKind::Received(vec![b'x'; 9999]),
            })
            .collect();
        Report {
            profile: crate::profile::Profile::course(),
            target: "a flooding server".into(),
            suites: vec![crate::case::Suite::Spec],
            cases: vec![c],
            duration: Duration::from_secs(1),
            restarts: 0,
            dialect: None,
        }
    }

    #[test]
    fn long_outcomes_and_transcripts_are_cut_with_counts() {
        let md = render(&flooded());
        assert!(md.len() < 60_000, "{} bytes", md.len());
        assert!(md.lines().all(|l| l.chars().count() < 400));
        assert!(md.contains("more characters; all of it in --transcripts DIR"));
        assert!(md.contains("... 300 more lines (all of them in --transcripts DIR)"));
        assert!(md.contains("(9999 bytes in all)"));
    }
}
