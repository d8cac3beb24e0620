//! The terminal report: one line per case as it finishes (the progress), then each failure
//! with its evidence, the deviations, and the summary with the score last.

use std::io::Write;

use crate::case::Verdict;
use crate::report::{CaseReport, Report};
use crate::runner::Observer;

/// ANSI colour, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
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

/// Streams one line per case to `out` as the run goes.
pub struct Progress<W: Write> {
    out: W,
    style: Style,
    width: usize,
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, style: Style) -> Progress<W> {
        Progress {
            out,
            style,
            width: 2,
        }
    }
}

impl<W: Write> Observer for Progress<W> {
    fn started(&mut self, total: usize, target: &str) {
        self.width = total.to_string().len();
        let _ = writeln!(self.out, "testing {target}: {total} cases");
    }

    fn finished(&mut self, index: usize, total: usize, c: &CaseReport) {
        let _ = writeln!(
            self.out,
            "[{:>w$}/{total}] {} {:<44} {}",
            index + 1,
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

/// The part of the report that follows the per-case lines.
pub fn render_tail(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let failures: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure() || c.verdict == Verdict::HarnessError)
        .collect();
    if !failures.is_empty() {
        out.push_str(&format!("\n{}\n", style.bold("failures")));
        for c in failures {
            out.push_str(&failure(c, style));
        }
    }
    let deviations = report.deviations();
    if !deviations.is_empty() {
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
                "  {d}\n    {}\n",
                style.dim(&format!("in {first}{more}"))
            ));
        }
    }
    out.push_str(&summary(report, style));
    out
}

fn failure(c: &CaseReport, style: Style) -> String {
    let mut out = format!(
        "\n{} {} — {} ({} {})\n",
        style.verdict(c.verdict),
        style.bold(&c.id),
        c.title,
        c.cites.join(", "),
        c.level
    );
    if let Some(f) = &c.failure {
        out.push_str(&format!("  step:     {}\n", f.step));
        out.push_str(&format!("  expected: {}\n", f.expected));
        out.push_str(&format!("  actual:   {}\n", f.actual));
    }
    if let Some(l) = &c.liveness {
        for (i, line) in l.lines().enumerate() {
            let head = if i == 0 {
                "  server:   "
            } else {
                "            "
            };
            out.push_str(&format!("{head}{line}\n"));
        }
    }
    let transcript = crate::wire::render_cut(&c.events, true, 160);
    if !transcript.is_empty() {
        out.push_str("  transcript:\n");
        let lines: Vec<&str> = transcript.lines().collect();
        for line in lines.iter().take(TRANSCRIPT_LINES) {
            out.push_str(&format!("    {line}\n"));
        }
        if lines.len() > TRANSCRIPT_LINES {
            out.push_str(&format!(
                "    {}\n",
                style.dim(&format!(
                    "... {} more lines (use --transcripts DIR)",
                    lines.len() - TRANSCRIPT_LINES
                ))
            ));
        }
    }
    out
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
        report.profile.framing,
        report.profile.spelling
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
