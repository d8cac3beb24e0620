//! The results of a run, and the exit code scripts can trust.
//!
//! Renderers: [`text`] for the terminal (streaming, colour on a TTY), and [`json`],
//! [`junit`] and [`markdown`] for files. [`causes`] groups failures by the mistake in the
//! server behind them, with what to change. Transcripts are written per case, whole, by
//! [`write_transcripts`].

pub mod causes;
pub mod junit;
pub mod markdown;
pub mod shorten;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::case::{Case, Ctx, Failure, Level, Suite, Verdict};
use crate::profile::Profile;
use crate::wire::{self, Event};

/// Exit codes of `confab-conform`.
pub mod exit {
    /// Every MUST case passed, and the server neither crashed nor hung.
    pub const PASS: i32 = 0;
    /// A MUST case failed, or the server crashed or hung.
    pub const FAIL: i32 = 1;
    /// Usage error, harness error, or a server that never became reachable.
    pub const ERROR: i32 = 2;
    /// No case ran (the selection matched nothing).
    pub const NOTHING_RAN: i32 = 3;
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub id: String,
    pub suite: Suite,
    pub title: String,
    pub cites: Vec<String>,
    pub level: Level,
    /// Points on the grading sheet (rubric cases).
    pub points: u32,
    pub verdict: Verdict,
    /// What went wrong, for verdicts other than pass.
    pub failure: Option<Failure>,
    /// What the liveness probe found, when the server crashed or hung.
    pub liveness: Option<String>,
    pub deviations: Vec<String>,
    pub notes: Vec<String>,
    pub duration_ms: f64,
    /// Whether connections acted at once (the interleaving of the transcript varies).
    pub concurrent: bool,
    /// Everything that crossed the wire.
    #[serde(skip)]
    pub events: Vec<Event>,
}

impl CaseReport {
    /// The report of `case` with nothing filled in but what the case itself says.
    fn blank(case: &Case, verdict: Verdict) -> CaseReport {
        CaseReport {
            id: case.id.to_owned(),
            suite: case.suite,
            title: case.title.to_owned(),
            cites: case.cites.iter().map(|c| (*c).to_owned()).collect(),
            level: case.level,
            points: case.points,
            verdict,
            failure: None,
            liveness: None,
            deviations: Vec::new(),
            notes: Vec::new(),
            duration_ms: 0.0,
            concurrent: case.concurrent,
            events: Vec::new(),
        }
    }

    /// The report of a case that ran.
    pub fn new(
        case: &Case,
        verdict: Verdict,
        failure: Option<Failure>,
        liveness: Option<String>,
        ctx: &Ctx,
        events: Vec<Event>,
        duration: Duration,
    ) -> CaseReport {
        CaseReport {
            failure,
            liveness,
            deviations: ctx.deviations().to_vec(),
            notes: ctx.notes().to_vec(),
            duration_ms: duration.as_secs_f64() * 1000.0,
            events,
            ..CaseReport::blank(case, verdict)
        }
    }

    /// The report of a case that could not run because the server was down.
    pub fn not_run(case: &Case, why: &str) -> CaseReport {
        CaseReport {
            liveness: Some(why.to_owned()),
            ..CaseReport::blank(case, Verdict::NotRun)
        }
    }

    /// The transcript as text, with times.
    pub fn transcript(&self) -> String {
        wire::render(&self.events, true)
    }

    /// Whether this case makes the run fail: a MUST case that failed, or any crash or hang.
    pub fn fails_run(&self) -> bool {
        match self.verdict {
            Verdict::ServerCrashed | Verdict::ServerHung | Verdict::NotRun => true,
            Verdict::Fail => self.level == Level::Must,
            _ => false,
        }
    }
}

/// The results of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub profile: Profile,
    /// What was tested.
    pub target: String,
    pub suites: Vec<Suite>,
    pub cases: Vec<CaseReport>,
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// How many times the harness restarted the server after a crash.
    pub restarts: u32,
    /// The dialect, and whether it was detected or confirmed, with the evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases per verdict.
    pub verdicts: BTreeMap<Verdict, usize>,
    /// MUST cases: (passed, judged).
    pub must: (usize, usize),
    /// SHOULD cases: (passed, judged).
    pub should: (usize, usize),
    /// Rubric points: (earned, possible).
    pub rubric: (u32, u32),
    /// Cases that make the run fail.
    pub failing: Vec<String>,
}

impl Report {
    /// Counts by verdict and level, and the rubric score.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.cases {
            *s.verdicts.entry(c.verdict).or_default() += 1;
            let judged = !matches!(
                c.verdict,
                Verdict::Informational | Verdict::Unsupported | Verdict::HarnessError
            );
            let slot = match c.level {
                Level::Must => Some(&mut s.must),
                Level::Should => Some(&mut s.should),
                Level::May => None,
            };
            if let Some(slot) = slot
                && judged
            {
                slot.1 += 1;
                if c.verdict.is_pass() {
                    slot.0 += 1;
                }
            }
            if c.suite == Suite::Rubric {
                s.rubric.1 += c.points;
                if c.verdict.is_pass() {
                    s.rubric.0 += c.points;
                }
            }
            if c.fails_run() {
                s.failing.push(c.id.clone());
            }
        }
        s
    }

    /// The cases that decide the verdict: the rubric's rows when the profile's verdict is the
    /// rubric's and the rubric ran, else every case.
    pub fn deciding(&self) -> impl Iterator<Item = &CaseReport> {
        let by_rubric = self.graded_by_rubric();
        self.cases
            .iter()
            .filter(move |c| !by_rubric || c.suite == Suite::Rubric)
    }

    /// Whether the verdict is the rubric's: the profile says so and the rubric ran.
    pub fn graded_by_rubric(&self) -> bool {
        self.profile.verdict == crate::profile::VerdictBasis::Rubric
            && self.cases.iter().any(|c| c.suite == Suite::Rubric)
    }

    /// The exit code: see [`exit`].
    pub fn exit_code(&self) -> i32 {
        if self.graded_by_rubric() {
            return if self.deciding().any(|c| c.verdict == Verdict::HarnessError) {
                exit::ERROR
            } else if self.deciding().any(CaseReport::fails_run) {
                exit::FAIL
            } else {
                exit::PASS
            };
        }
        if self.cases.is_empty() {
            exit::NOTHING_RAN
        } else if self
            .cases
            .iter()
            .any(|c| c.verdict == Verdict::HarnessError)
        {
            exit::ERROR
        } else if self.cases.iter().any(CaseReport::fails_run) {
            exit::FAIL
        } else {
            exit::PASS
        }
    }

    /// The report as JSON (the failures by cause, and the transcripts as text, included).
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct WithTranscripts<'a> {
            #[serde(flatten)]
            report: &'a Report,
            summary: Summary,
            exit_code: i32,
            /// The failures grouped by root cause, as the terminal report shows them.
            causes: Vec<CauseJson<'a>>,
            transcripts: BTreeMap<&'a str, String>,
        }
        #[derive(Serialize)]
        struct CauseJson<'a> {
            id: &'static str,
            title: &'static str,
            fix: &'static str,
            cases: Vec<&'a str>,
        }
        let doc = WithTranscripts {
            report: self,
            summary: self.summary(),
            exit_code: self.exit_code(),
            causes: causes::group(self.cases.iter())
                .0
                .into_iter()
                .map(|g| CauseJson {
                    id: g.cause.id,
                    title: g.cause.title,
                    fix: g.cause.fix,
                    cases: g.cases.iter().map(|c| c.id.as_str()).collect(),
                })
                .collect(),
            transcripts: self
                .cases
                .iter()
                .map(|c| (c.id.as_str(), c.transcript()))
                .collect(),
        };
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// JSON output.
pub mod json {
    use super::Report;

    /// The report as pretty-printed JSON.
    pub fn render(report: &Report) -> String {
        report.to_json()
    }
}

impl Report {
    /// Each distinct deviation, with the cases it appeared in, most frequent first.
    pub fn deviations(&self) -> Vec<(String, Vec<String>)> {
        let mut by: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for c in &self.cases {
            for d in &c.deviations {
                by.entry(d.as_str()).or_default().push(c.id.clone());
            }
        }
        let mut out: Vec<(String, Vec<String>)> = by
            .into_iter()
            .map(|(d, cases)| (d.to_owned(), cases))
            .collect();
        out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        out
    }
}

/// Writes one transcript file per case into `dir` (created if missing).
pub fn write_transcripts(report: &Report, dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    for c in &report.cases {
        let mut text = format!(
            "{} [{}] {}\ncites: {}\nverdict: {}\n",
            c.id,
            c.level,
            c.title,
            c.cites.join(", "),
            c.verdict
        );
        if let Some(f) = &c.failure {
            text.push_str(&format!(
                "step: {}\nexpected: {}\nactual: {}\n",
                f.step, f.expected, f.actual
            ));
        }
        if let Some(l) = &c.liveness {
            text.push_str(&format!("server: {l}\n"));
        }
        for d in &c.deviations {
            text.push_str(&format!("deviation: {d}\n"));
        }
        for n in &c.notes {
            text.push_str(&format!("note: {n}\n"));
        }
        text.push('\n');
        text.push_str(&c.transcript());
        std::fs::write(dir.join(format!("{}.txt", c.id)), text)?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the terminal and Markdown reports cut, the transcript files keep whole.
    #[test]
    fn transcript_files_keep_every_byte() {
        let report = markdown::tests::flooded();
        let dir = std::env::temp_dir().join(format!("confab-transcripts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(write_transcripts(&report, &dir).ok(), Some(1));
        let text = std::fs::read_to_string(dir.join("spec.MSG-1.delivery.txt")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(text.contains(&format!("got `{}`", "x".repeat(9999))));
        assert_eq!(text.matches(&"x".repeat(9999)).count(), 501);
    }
}
