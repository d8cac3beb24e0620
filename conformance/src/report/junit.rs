//! JUnit XML, for CI systems: one `testsuite` per suite, one `testcase` per case; failures
//! carry the step, expectation and outcome, and `system-out` the transcript.

use std::fmt::Write;

use crate::case::{Suite, Verdict};
use crate::report::Report;

/// Escapes text for XML content and attributes; drops characters XML 1.0 cannot carry.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total = report.cases.len();
    let failures = report
        .cases
        .iter()
        .filter(|c| c.verdict.is_failure())
        .count();
    let errors = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::HarnessError)
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"confab-conform\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">",
        report.duration.as_secs_f64()
    );
    for suite in Suite::ALL {
        let cases: Vec<_> = report.cases.iter().filter(|c| c.suite == suite).collect();
        if cases.is_empty() {
            continue;
        }
        let f = cases.iter().filter(|c| c.verdict.is_failure()).count();
        let e = cases
            .iter()
            .filter(|c| c.verdict == Verdict::HarnessError)
            .count();
        let skipped = cases
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Unsupported | Verdict::Informational))
            .count();
        let time: f64 = cases.iter().map(|c| c.duration_ms).sum::<f64>() / 1000.0;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{skipped}\" time=\"{time:.3}\">",
            cases.len()
        );
        for c in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"confab.{suite}\" name=\"{}\" time=\"{:.3}\"",
                xml(&c.id),
                c.duration_ms / 1000.0
            );
            out.push_str(">\n");
            // Points: the grading sheet's, earned and possible (0 and 0 off the sheet).
            let earned = if c.verdict.is_pass() { c.points } else { 0 };
            let _ = writeln!(
                out,
                "      <properties><property name=\"cites\" value=\"{}\"/><property name=\"level\" value=\"{}\"/><property name=\"verdict\" value=\"{}\"/><property name=\"points\" value=\"{earned}\"/><property name=\"max_points\" value=\"{}\"/></properties>",
                xml(&c.cites.join(", ")),
                c.level,
                xml(c.verdict.label()),
                c.points
            );
            let detail = || {
                let mut d = String::new();
                if let Some(f) = &c.failure {
                    let _ = write!(
                        d,
                        "step: {}\nexpected: {}\nactual: {}\n",
                        f.step, f.expected, f.actual
                    );
                }
                if let Some(l) = &c.liveness {
                    let _ = writeln!(d, "server: {l}");
                }
                d
            };
            match c.verdict {
                Verdict::Fail | Verdict::ServerCrashed | Verdict::ServerHung | Verdict::NotRun => {
                    let message = c
                        .failure
                        .as_ref()
                        .map(|f| f.actual.clone())
                        .or_else(|| c.liveness.clone())
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        xml(c.verdict.label()),
                        xml(&message),
                        xml(&detail())
                    );
                }
                Verdict::HarnessError => {
                    let _ = writeln!(
                        out,
                        "      <error message=\"harness error\">{}</error>",
                        xml(&detail())
                    );
                }
                Verdict::Unsupported | Verdict::Informational => {
                    let why = c
                        .failure
                        .as_ref()
                        .map(|f| f.actual.clone())
                        .or_else(|| c.notes.first().cloned())
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "      <skipped message=\"{}\"/>",
                        xml(&format!("{}: {why}", c.verdict.label()))
                    );
                }
                Verdict::Pass | Verdict::PassWithDeviation => {}
            }
            let mut system_out = String::new();
            for d in &c.deviations {
                let _ = writeln!(system_out, "deviation: {d}");
            }
            system_out.push_str(&c.transcript());
            if !system_out.is_empty() {
                let _ = writeln!(out, "      <system-out>{}</system-out>", xml(&system_out));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
        assert_eq!(xml("\x1b[2J"), "\\u{1b}[2J");
    }
}
