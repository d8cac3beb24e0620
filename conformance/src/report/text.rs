//! The terminal report: one line per case as it finishes (the progress), then each failure
//! with its evidence, the deviations, and the summary with the score last.

use std::io::Write;

use crate::case::{Suite, Verdict};
use crate::report::{CaseReport, Report, causes};
use crate::runner::Observer;

use super::shorten::{LINE_CHARS, TEXT_CHARS, WRAP, wrap};
pub use super::shorten::{cut, diff};

/// ANSI colour, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let label = format!("{:<16}", v.label());
        let code = match v {
            Verdict::Pass => "32",
            Verdict::PassWithDeviation => "33",
            Verdict::Informational | Verdict::Unsupported => "2",
            Verdict::Fail | Verdict::ServerCrashed | Verdict::ServerHung | Verdict::NotRun => {
                "1;31"
            }
            Verdict::HarnessError => "1;35",
        };
        self.paint(code, &label)
    }

    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }

    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Transcript lines shown per failure on the terminal; the rest is in `--transcripts`.
const TRANSCRIPT_LINES: usize = 40;

/// Streams one line per case to `out` as the run goes, numbered in the order the cases
/// finish (cases run on several copies of a server finish out of run order).
pub struct Progress<W: Write> {
    out: W,
    style: Style,
    width: usize,
    done: usize,
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, style: Style) -> Progress<W> {
        Progress {
            out,
            style,
            width: 2,
            done: 0,
        }
    }
}

impl<W: Write> Observer for Progress<W> {
    fn started(&mut self, total: usize, target: &str) {
        self.width = total.to_string().len();
        self.done = 0;
        let _ = writeln!(self.out, "testing {target}: {total} cases");
    }

    fn finished(&mut self, _index: usize, total: usize, c: &CaseReport) {
        self.done += 1;
        let _ = writeln!(
            self.out,
            "[{:>w$}/{total}] {} {:<44} {}",
            self.done,
            self.style.verdict(c.verdict),
            c.id,
            self.style
                .dim(&format!("{} {}", c.cites.join(","), c.level)),
            w = self.width,
        );
        let _ = self.out.flush();
    }

    fn notice(&mut self, message: &str) {
        let _ = writeln!(self.out, "{}", self.style.bold(&format!("note: {message}")));
    }
}

/// What the tail of the terminal report shows.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    /// Only the summary and the failure causes: no transcripts, no deviations, one line per
    /// failure no cause claims.
    pub quiet: bool,
    /// The command that ran, for the last line's advice on what to run next (e.g.
    /// `confab-conform --exec 'python3 server.py {port}' --profile course`); no such line
    /// when `None`.
    pub command: Option<String>,
}

/// The part of the report that follows the per-case lines.
pub fn render_tail(report: &Report, style: Style) -> String {
    render_tail_with(report, style, &Tail::default())
}

/// As [`render_tail`], as `tail` says.
pub fn render_tail_with(report: &Report, style: Style, tail: &Tail) -> String {
    let mut out = String::new();
    let (mut groups, unclaimed) = causes::group(report.cases.iter());
    // The causes that cost rubric points first (most points first), then by how many cases
    // each failed; the sort is stable, so ties keep run order.
    groups.sort_by(|a, b| {
        let (pa, pb) = (a.rubric_cost().1, b.rubric_cost().1);
        pb.cmp(&pa).then(b.cases.len().cmp(&a.cases.len()))
    });
    if !groups.is_empty() {
        out.push_str(&format!("\n{}\n", style.bold("failures by cause")));
        for g in &groups {
            out.push_str(&cause_block(report, g, style, tail.quiet));
        }
    }
    let others: Vec<&CaseReport> = unclaimed
        .into_iter()
        .chain(
            report
                .cases
                .iter()
                .filter(|c| c.verdict == Verdict::HarnessError),
        )
        .collect();
    if !others.is_empty() {
        let head = if groups.is_empty() {
            "failures"
        } else {
            "other failures"
        };
        out.push_str(&format!("\n{}\n", style.bold(head)));
        for c in others {
            if tail.quiet {
                out.push_str(&format!(
                    "  {} {} — {}\n",
                    style.verdict(c.verdict),
                    c.id,
                    c.title
                ));
            } else {
                out.push_str(&failure(c, style));
            }
        }
    }
    let not_run: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::NotRun)
        .collect();
    if let Some(first) = not_run.first() {
        out.push_str(&format!(
            "\n{} {} case{}: {}\n",
            style.paint("1;31", Verdict::NotRun.label()),
            not_run.len(),
            if not_run.len() == 1 { "" } else { "s" },
            first.liveness.as_deref().unwrap_or("the run stopped")
        ));
        let ids: Vec<&str> = not_run.iter().map(|c| c.id.as_str()).collect();
        out.push_str(&format!("  {}\n", cut(&ids.join(", "), TEXT_CHARS)));
    }
    let deviations = report.deviations();
    if !deviations.is_empty() && !tail.quiet {
        out.push_str(&format!(
            "\n{}\n",
            style.bold("deviations accepted by lenient matching")
        ));
        for (d, cases) in deviations {
            let first = cases.first().map(String::as_str).unwrap_or_default();
            let more = if cases.len() > 1 {
                format!(" and {} more", cases.len() - 1)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {}\n    {}\n",
                cut(&d, TEXT_CHARS),
                style.dim(&format!("in {first}{more}"))
            ));
        }
    }
    out.push_str(&summary(report, style));
    if let Some(command) = &tail.command {
        out.push_str(&format!("{}\n", next_step(report, command)));
    }
    out
}

/// The evidence of one failed case: step, expected, actual (with the diff of a wrong
/// reply), and what the liveness probe found.
fn evidence(c: &CaseReport) -> String {
    let mut out = String::new();
    if let Some(f) = &c.failure {
        out.push_str(&format!("  step:     {}\n", cut(&f.step, TEXT_CHARS)));
        out.push_str(&format!("  expected: {}\n", cut(&f.expected, TEXT_CHARS)));
        out.push_str(&format!("  actual:   {}\n", cut(&f.actual, TEXT_CHARS)));
        if let Some(d) = diff(&f.actual) {
            out.push_str(&d);
        }
    }
    if let Some(l) = &c.liveness {
        for (i, line) in l.lines().enumerate() {
            let head = if i == 0 {
                "  server:   "
            } else {
                "            "
            };
            out.push_str(&format!("{head}{}\n", cut(line, TEXT_CHARS)));
        }
    }
    out
}

/// Which lines of a long transcript are shown.
#[derive(Debug, Clone, Copy)]
enum Keep {
    /// The first lines: how the case went.
    First(usize),
    /// The last lines: where it went wrong.
    Last(usize),
}

fn transcript(c: &CaseReport, style: Style, keep: Keep) -> String {
    let mut out = String::new();
    let transcript = crate::wire::render_cut(&c.events, true, LINE_CHARS);
    if transcript.is_empty() {
        return out;
    }
    out.push_str("  transcript:\n");
    let all: Vec<&str> = transcript.lines().collect();
    let left_out = |n: usize, which: &str| {
        format!(
            "    {}\n",
            style.dim(&format!(
                "... {n} {which} line{} (all of them in --transcripts DIR)",
                if n == 1 { "" } else { "s" }
            ))
        )
    };
    match keep {
        Keep::First(n) => {
            for line in all.iter().take(n) {
                out.push_str(&format!("    {line}\n"));
            }
            if all.len() > n {
                out.push_str(&left_out(all.len() - n, "more"));
            }
        }
        Keep::Last(n) => {
            let skip = all.len().saturating_sub(n);
            if skip > 0 {
                out.push_str(&left_out(skip, "earlier"));
            }
            for line in &all[skip..] {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

/// One block per cause: what the server does, the fix, every case it failed, and the
/// evidence of the first.
fn cause_block(report: &Report, g: &causes::Group<'_>, style: Style, quiet: bool) -> String {
    let n = g.cases.len();
    let (rows, points) = g.rubric_cost();
    let cost = if !rows.is_empty() {
        format!(
            "costs {points} rubric point{}",
            if points == 1 { "" } else { "s" }
        )
    } else if report.graded_by_rubric() {
        "beyond the assignment".to_owned()
    } else {
        String::new()
    };
    let mut out = format!(
        "\n{} {} ({n} case{}{}{})\n",
        style.paint("1;31", "cause:"),
        style.bold(g.cause.title),
        if n == 1 { "" } else { "s" },
        if cost.is_empty() { "" } else { ", " },
        cost
    );
    out.push_str(&format!(
        "  fix:      {}\n",
        wrap(g.cause.fix, WRAP, "            ")
    ));
    for (i, c) in g.cases.iter().enumerate() {
        out.push_str(&format!(
            "{}{} {}\n",
            if i == 0 {
                "  failed:   "
            } else {
                "            "
            },
            style.verdict(c.verdict),
            c.id
        ));
    }
    if quiet {
        return out;
    }
    if let Some(first) = g.cases.first() {
        out.push_str(&format!("  in {}:\n", first.id));
        out.push_str(&evidence(first));
        out.push_str(&transcript(
            first,
            style,
            Keep::Last(CAUSE_TRANSCRIPT_LINES),
        ));
    }
    out
}

/// Transcript lines shown for the first case of a cause: the last ones, where it went wrong.
const CAUSE_TRANSCRIPT_LINES: usize = 12;

fn failure(c: &CaseReport, style: Style) -> String {
    let mut out = format!(
        "\n{} {} — {} ({} {})\n",
        style.verdict(c.verdict),
        style.bold(&c.id),
        c.title,
        c.cites.join(", "),
        c.level
    );
    out.push_str(&evidence(c));
    out.push_str(&transcript(c, style, Keep::First(TRANSCRIPT_LINES)));
    out
}

/// The last line: what to run next.
pub fn next_step(report: &Report, command: &str) -> String {
    let first_failing = report
        .cases
        .iter()
        .find(|c| c.verdict.is_failure() && c.verdict != Verdict::NotRun)
        .or_else(|| report.cases.iter().find(|c| c.verdict.is_failure()));
    let beyond_assignment = report
        .suites
        .iter()
        .any(|s| !matches!(s, Suite::Example | Suite::Rubric));
    match first_failing {
        None if report.cases.is_empty() => {
            format!("next: {command} --list   (the cases there are)")
        }
        None => format!(
            "next: nothing failed; {command} --format markdown --output report.md writes a report to keep"
        ),
        Some(_) if report.graded_by_rubric() && beyond_assignment => {
            let assignment_fails = report.cases.iter().any(|c| {
                matches!(c.suite, Suite::Example | Suite::Rubric) && c.verdict.is_failure()
            });
            if assignment_fails {
                format!(
                    "next: fix the causes above, then run the assignment alone: {command} --suite example,rubric"
                )
            } else {
                format!(
                    "next: the assignment passes; the failures above are beyond it. One at a time: {command} --case {}",
                    first_failing.map(|c| c.id.as_str()).unwrap_or_default()
                )
            }
        }
        Some(c) => format!(
            "next: {command} --case {} --transcripts transcripts   (the first failure, every byte)",
            c.id
        ),
    }
}

fn summary(report: &Report, style: Style) -> String {
    let s = report.summary();
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .filter_map(|v| s.verdicts.get(v).map(|n| format!("{n} {}", v.label())))
        .collect();
    let mut out = format!("\n{}\n", style.bold("summary"));
    out.push_str(&format!(
        "  profile {} ({} matching, {} framing, {} spelling)\n",
        report.profile.name,
        report.profile.matching,
        report.profile.dialect.framing,
        report.profile.dialect.spelling
    ));
    if let Some(d) = &report.dialect {
        out.push_str(&format!(
            "  dialect {d}
"
        ));
    }
    out.push_str(&format!(
        "  {} cases in {:.2} s: {}\n",
        report.cases.len(),
        report.duration.as_secs_f64(),
        counts.join(", ")
    ));
    out.push_str(&format!(
        "  MUST {}/{} passed, SHOULD {}/{} passed\n",
        s.must.0, s.must.1, s.should.0, s.should.1
    ));
    if report.restarts > 0 {
        out.push_str(&format!(
            "  the server was restarted {} times\n",
            report.restarts
        ));
    }
    if s.rubric.1 > 0 {
        out.push_str(&format!("  rubric score {}/{}\n", s.rubric.0, s.rubric.1));
    }
    if report.graded_by_rubric() {
        let beyond = report
            .cases
            .iter()
            .filter(|c| c.suite != crate::case::Suite::Rubric && c.fails_run())
            .count();
        out.push_str(
            "  verdict by the rubric (the course profile): the grading sheet's rows decide it\n",
        );
        if beyond > 0 {
            out.push_str(&format!(
                "  beyond the assignment: {beyond} other cases failed (spec, robustness, example); \
                 they do not change the verdict\n"
            ));
        }
    }
    let code = report.exit_code();
    let result = match code {
        0 => style.paint("1;32", "PASS"),
        1 => style.paint("1;31", "FAIL"),
        3 => style.bold("NOTHING RAN"),
        _ => style.paint("1;35", "HARNESS ERROR"),
    };
    out.push_str(&format!("  result: {result} (exit {code})\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_actual_line_is_cut_in_the_evidence() {
        let failure = crate::case::Failure {
            kind: crate::case::FailureKind::Wrong,
            step: "A ← the delivery".into(),
            expected: "`A SENT x`".into(),
            actual: format!("expected `A SENT x`, got `{}`", "y".repeat(50_000)),
        };
        let mut c = CaseReport::not_run(
            &crate::suites::all()
                .into_iter()
                .next()
                .expect("at least one case"),
            "",
        );
        c.verdict = Verdict::Fail;
        c.liveness = None;
        c.failure = Some(failure);
        let shown = evidence(&c);
        assert!(shown.lines().all(|l| l.chars().count() < 400), "{shown}");
        assert!(shown.contains("more characters; all of it in --transcripts DIR"));
    }

    /// A server that floods 9999-byte frames gets a terminal report of short lines: the
    /// outcome, the transcript and the deviations are cut, with counts.
    #[test]
    fn a_flooding_server_gets_a_report_of_short_lines() {
        let mut report = crate::report::markdown::tests::flooded();
        report.cases[0].verdict = Verdict::PassWithDeviation;
        report.cases[0]
            .deviations
            .push(format!("accepted `{}`", "#".repeat(5000)));
        let mut failed = report.cases[0].clone();
        failed.verdict = Verdict::Fail;
        report.cases.push(failed);
        let shown = render_tail(&report, Style { color: false });
        assert!(shown.len() < 20_000, "{} bytes", shown.len());
        assert!(
            shown.lines().all(|l| l.chars().count() < 400),
            "a long line in\n{shown}"
        );
        assert!(shown.contains("... 460 more lines (all of them in --transcripts DIR)"));
        assert!(shown.contains("more characters; all of it in --transcripts DIR"));
    }
}
