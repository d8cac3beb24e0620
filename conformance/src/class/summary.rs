//! The class's files: `gradebook.csv`, one row per student, and `class.md`, the class at a
//! glance (the distribution of scores, how many passed each rubric row, the most common
//! causes of failure, and the students whose server could not be graded).
//!
//! Both are the same bytes whenever the same servers grade the same: students sorted by id,
//! integer points, one decimal for averages, and no times or ports.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::case::{Case, Suite};
use crate::class::grade::Outcome;
use crate::report::{CaseReport, causes};

/// The rubric's rows, in order.
pub fn rubric_rows() -> Vec<Case> {
    crate::suites::all()
        .into_iter()
        .filter(|c| c.suite == Suite::Rubric)
        .collect()
}

/// A row's column name: the case ID without `rubric.`.
fn column(case: &Case) -> &str {
    case.id.strip_prefix("rubric.").unwrap_or(case.id)
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break.
/// Line breaks never reach it: notes are one line.
fn field(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.contains([',', '"']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// How a failed case is named in a note: `row 04` for a rubric row, else its ID.
fn label(c: &CaseReport) -> String {
    match c.id.strip_prefix("rubric.").and_then(|r| r.get(..2)) {
        Some(row) => format!("row {row}"),
        None => c.id.clone(),
    }
}

/// The causes of the failures that decide a graded student's verdict, as
/// `(cause id, labels of its cases)`; the cases no cause claims under `None`.
fn failure_causes(o: &Outcome) -> Vec<(Option<&'static str>, Vec<String>)> {
    let Ok(report) = &o.result else {
        return Vec::new();
    };
    let (groups, unclaimed) = causes::group(report.deciding());
    let mut out: Vec<(Option<&'static str>, Vec<String>)> = groups
        .iter()
        .map(|g| (Some(g.cause.id), g.cases.iter().map(|c| label(c)).collect()))
        .collect();
    if !unclaimed.is_empty() {
        out.push((None, unclaimed.iter().map(|c| label(c)).collect()));
    }
    out
}

/// The gradebook's note: why there is no grade, or the causes of the points lost.
fn note(o: &Outcome) -> String {
    match &o.result {
        Err(e) => e.note(),
        Ok(_) => failure_causes(o)
            .into_iter()
            .map(|(cause, cases)| {
                format!(
                    "{}: {}",
                    cause.unwrap_or("no known cause"),
                    cases.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// `gradebook.csv`: student, score, the points of each rubric row, verdict, dialect, note.
/// A row the student's suites left out is empty.
pub fn gradebook(outcomes: &[Outcome]) -> String {
    let rows = rubric_rows();
    let mut out = String::from("student,score");
    for r in &rows {
        out.push(',');
        out.push_str(&field(column(r)));
    }
    out.push_str(",verdict,dialect,note\n");
    for o in outcomes {
        let _ = write!(out, "{},{}", field(&o.student.id), o.score());
        for r in &rows {
            let cell = match &o.result {
                Ok(report) => report
                    .cases
                    .iter()
                    .find(|c| c.id == r.id)
                    .map(|c| if c.verdict.is_pass() { c.points } else { 0 }.to_string())
                    .unwrap_or_default(),
                Err(_) if o.student.settings.suites.contains(&Suite::Rubric) => "0".into(),
                Err(_) => String::new(),
            };
            out.push(',');
            out.push_str(&cell);
        }
        let _ = writeln!(
            out,
            ",{},{},{}",
            field(o.verdict()),
            field(&o.dialect()),
            field(&note(o))
        );
    }
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The median, with one decimal.
fn median(sorted: &[u32]) -> String {
    match sorted.len() {
        0 => "-".into(),
        n if n % 2 == 1 => format!("{:.1}", f64::from(sorted[n / 2])),
        n => format!(
            "{:.1}",
            (f64::from(sorted[n / 2 - 1]) + f64::from(sorted[n / 2])) / 2.0
        ),
    }
}

/// `class.md`.
pub fn class_markdown(name: Option<&str>, outcomes: &[Outcome]) -> String {
    let mut out = match name {
        Some(n) => format!("# Class report: {}\n\n", cell(n)),
        None => String::from("# Class report\n\n"),
    };
    let graded = outcomes.iter().filter(|o| o.result.is_ok()).count();
    let _ = writeln!(
        out,
        "{} students: {graded} graded, {} not graded. Each student's report is in \
         `<id>/report.md`; the points per row are in `gradebook.csv`.\n",
        outcomes.len(),
        outcomes.len() - graded
    );

    let mut scores: Vec<u32> = outcomes.iter().map(Outcome::score).collect();
    scores.sort_unstable();
    out.push_str("## Scores\n\n");
    if !scores.is_empty() {
        let mean = f64::from(scores.iter().sum::<u32>()) / scores.len() as f64;
        let _ = writeln!(
            out,
            "mean {mean:.1}, median {}, lowest {}, highest {} (students not graded count as 0)\n",
            median(&scores),
            scores[0],
            scores[scores.len() - 1]
        );
    }
    let possible: u32 = rubric_rows().iter().map(|c| c.points).sum();
    out.push_str("| score | students | |\n|---|---|---|\n");
    // Buckets of ten, the full mark on its own.
    let mut buckets: Vec<(String, usize)> = vec![(
        possible.to_string(),
        scores.iter().filter(|&&s| s >= possible).count(),
    )];
    for low in (0..possible).step_by(10).rev() {
        let high = (low + 9).min(possible.saturating_sub(1));
        let n = scores.iter().filter(|&&s| s >= low && s <= high).count();
        buckets.push((format!("{low}–{high}"), n));
    }
    for (range, n) in buckets {
        let _ = writeln!(out, "| {range} | {n} | {} |", "#".repeat(n));
    }

    out.push_str("\n## Rubric rows\n\nHow many of the graded students passed each row.\n\n");
    out.push_str("| row | points | passed |\n|---|---|---|\n");
    for row in rubric_rows() {
        let ran: Vec<&CaseReport> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .filter_map(|r| r.cases.iter().find(|c| c.id == row.id))
            .collect();
        let passed = ran.iter().filter(|c| c.verdict.is_pass()).count();
        let _ = writeln!(
            out,
            "| `{}` | {} | {passed}/{} |",
            column(&row),
            row.points,
            ran.len()
        );
    }

    // Cause → the students it cost, with the rows, and the points lost.
    let mut by_cause: BTreeMap<Option<&'static str>, Vec<(String, Vec<String>)>> = BTreeMap::new();
    let mut lost: BTreeMap<Option<&'static str>, u32> = BTreeMap::new();
    for o in outcomes {
        let Ok(report) = &o.result else {
            continue;
        };
        for (cause, cases) in failure_causes(o) {
            let points: u32 = report
                .deciding()
                .filter(|c| c.verdict.is_failure() && cases.contains(&label(c)))
                .map(|c| c.points)
                .sum();
            *lost.entry(cause).or_default() += points;
            by_cause
                .entry(cause)
                .or_default()
                .push((o.student.id.clone(), cases));
        }
    }
    let mut ranked: Vec<_> = by_cause.into_iter().collect();
    ranked.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then(lost[&b.0].cmp(&lost[&a.0]))
            .then(a.0.cmp(&b.0))
    });
    out.push_str("\n## Most common failure causes\n");
    if ranked.is_empty() {
        out.push_str("\nNo graded student failed a row.\n");
    }
    for (cause, students) in &ranked {
        let known = cause.and_then(|id| causes::CAUSES.iter().find(|c| c.id == id));
        let title = known.map_or("failures no known cause explains", |c| c.title);
        let _ = writeln!(
            out,
            "\n### {} student{}: {title}{}\n",
            students.len(),
            if students.len() == 1 { "" } else { "s" },
            cause.map(|id| format!(" (`{id}`)")).unwrap_or_default()
        );
        let _ = writeln!(out, "{} rubric points lost in all.", lost[cause]);
        if let Some(c) = known {
            let _ = writeln!(out, "fix: {}\n", c.fix);
        } else {
            out.push('\n');
        }
        for (id, cases) in students {
            let _ = writeln!(out, "- `{id}`: {}", cases.join(", "));
        }
    }

    out.push_str("\n## Students not graded\n\n");
    let missing: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    if missing.is_empty() {
        out.push_str("Every student's server started and answered.\n");
    } else {
        out.push_str("| student | verdict | why |\n|---|---|---|\n");
        for o in missing {
            if let Err(e) = &o.result {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    o.student.id,
                    e.verdict(),
                    cell(&e.note())
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("alice"), "alice");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "two lines");
    }

    #[test]
    fn medians_have_one_decimal() {
        assert_eq!(median(&[1, 2, 3]), "2.0");
        assert_eq!(median(&[92, 93]), "92.5");
        assert_eq!(median(&[]), "-");
    }
}
