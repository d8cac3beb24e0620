//! Grading one student: the run of the single-server harness, in the student's folder, on a
//! port of its own, within the memory and open-file limits and the wall-clock budget. Every
//! way it can end is an [`Outcome`] with a row in the gradebook: graded, a server that did not
//! start, one that answered nothing, or a run over budget.

use std::time::{Duration, Instant};

use crate::class::limits::Confinement;
use crate::class::manifest::Student;
use crate::report::{Report, exit};
use crate::runner::{RunOptions, Silent};
use crate::target::{TargetError, TargetSpec};

/// The tag of every name the harness uses in a class run: fixed, so that the same server
/// gets the same bytes, and its report the same words, every time it is graded.
const TAG: &str = "cls";

/// Why a student has no report of cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotGraded {
    /// The command failed, exited, or never listened.
    DidNotStart(String),
    /// The server listened but never answered the harness's first NAME in any dialect.
    NoAnswer(String),
    /// The grading took longer than the budget.
    OverBudget(u64),
}

impl NotGraded {
    /// The gradebook's verdict column.
    pub fn verdict(&self) -> &'static str {
        match self {
            NotGraded::DidNotStart(_) => "did not start",
            NotGraded::NoAnswer(_) => "no answer",
            NotGraded::OverBudget(_) => "over budget",
        }
    }

    /// The whole reason, over several lines if the server wrote some.
    pub fn reason(&self) -> String {
        match self {
            NotGraded::DidNotStart(r) | NotGraded::NoAnswer(r) => r.clone(),
            NotGraded::OverBudget(s) => format!(
                "grading did not finish within the budget of {s} s (budget_s); the server was \
                 stopped"
            ),
        }
    }

    /// The reason on one line: the first line, and the last line of the server's output.
    pub fn note(&self) -> String {
        let reason = self.reason();
        let mut lines = reason.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or_default();
        let first = first.strip_suffix("; its output ends:").unwrap_or(first);
        match lines.next_back() {
            Some(last) => format!("{first}; its output ends: {last}"),
            None => first.to_owned(),
        }
    }
}

/// What grading one student came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub student: Student,
    pub result: Result<Report, NotGraded>,
    /// Wall-clock time, for progress and Gradescope's `execution_time`; never in the
    /// gradebook.
    pub elapsed: Duration,
}

impl Outcome {
    /// Rubric points earned (0 when not graded).
    pub fn score(&self) -> u32 {
        self.result.as_ref().map_or(0, |r| r.summary().rubric.0)
    }

    /// The gradebook's verdict column: the rubric's verdict (by the exit code a single run
    /// would give), or why there is none.
    pub fn verdict(&self) -> &'static str {
        match &self.result {
            Ok(r) => match r.exit_code() {
                exit::PASS => "pass",
                exit::FAIL => "fail",
                exit::NOTHING_RAN => "nothing ran",
                _ => "harness error",
            },
            Err(e) => e.verdict(),
        }
    }

    /// The dialect the server was graded in, e.g. `dec2 canonical`.
    pub fn dialect(&self) -> String {
        match &self.result {
            Ok(r) => format!(
                "{} {}",
                r.profile.dialect.framing, r.profile.dialect.spelling
            ),
            Err(_) => String::new(),
        }
    }
}

/// Takes the port the harness chose out of `text`, where the command line `line` (the
/// template `command` with `{port}` filled in) or an address may have put it: a report read
/// twice should not differ by a port number.
pub fn without_port(text: &str, command: &str, line: &str) -> String {
    let Some((head, _)) = command.split_once("{port}") else {
        return text.to_owned();
    };
    let Some(port) = line
        .strip_prefix(head)
        .map(|rest| {
            &rest[..rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len())]
        })
        .filter(|p| !p.is_empty())
    else {
        return text.to_owned();
    };
    // Whole numbers only: the port's digits inside a longer number stay.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(port) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + port.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit()) {
            out.push_str(port);
        } else {
            out.push_str("{port}");
        }
        rest = &rest[i + port.len()..];
    }
    out.push_str(rest);
    out
}

/// The command line an error names, to find the port in it.
fn line_of(e: &TargetError) -> Option<String> {
    match e {
        TargetError::Spawn { command, .. }
        | TargetError::ExitedEarly { command, .. }
        | TargetError::NeverReady { command, .. } => Some(command.clone()),
        TargetError::Unreachable { addr, .. } => Some(addr.port().to_string()),
        _ => None,
    }
}

fn not_graded(e: &TargetError, command: &str) -> NotGraded {
    let text = e.to_string();
    let text = match line_of(e) {
        // An address's port alone: the "command" is just `{port}`.
        Some(line) if matches!(e, TargetError::Unreachable { .. }) => {
            without_port(&text, "{port}", &line)
        }
        Some(line) => without_port(&text, command, &line),
        None => text,
    };
    match e {
        TargetError::Spawn { .. }
        | TargetError::ExitedEarly { .. }
        | TargetError::NeverReady { .. }
        | TargetError::NoPort
        | TargetError::PortInUse { .. }
        | TargetError::Resolve { .. } => NotGraded::DidNotStart(text),
        _ => NotGraded::NoAnswer(text),
    }
}

/// The run options of a student's settings.
pub fn options(student: &Student) -> RunOptions {
    let s = &student.settings;
    let mut options = RunOptions::new(s.profile.clone());
    options.suites = s.suites.clone();
    options.timeout = Duration::from_millis(s.timeout_ms);
    options.tag = Some(TAG.into());
    // Every server gets a fresh port, so a restart never waits for a port to be freed.
    options.restart_deadline = Duration::from_secs(s.budget_s.min(10));
    options
}

/// Grades one student; the server is stopped, with its whole process group, however it ends.
pub async fn grade(student: &Student) -> Outcome {
    let s = &student.settings;
    let confinement = Confinement {
        dir: Some(student.dir.clone()),
        data_bytes: Some(s.memory_mb.saturating_mul(1024 * 1024)),
        open_files: Some(s.open_files),
    };
    let spec = TargetSpec::Exec {
        command: student.command.clone(),
        addr: None,
    };
    let options = options(student);
    let started = Instant::now();
    let mut silent = Silent;
    let run = crate::run_confined(
        spec,
        &options,
        Duration::from_secs(s.startup_s),
        confinement,
        &mut silent,
    );
    // Over budget, the run is dropped, and with it the server's process group.
    let result = match tokio::time::timeout(Duration::from_secs(s.budget_s), run).await {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(not_graded(&e, &student.command)),
        Err(_) => Err(NotGraded::OverBudget(s.budget_s)),
    };
    Outcome {
        student: student.clone(),
        result,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_is_taken_out_of_messages() {
        let cmd = "python3 server.py {port} --quiet";
        let line = "python3 server.py 40123 --quiet";
        assert_eq!(
            without_port(
                "`python3 server.py 40123 --quiet` exited; port 40123 in use; pid 140123",
                cmd,
                line
            ),
            "`python3 server.py {port} --quiet` exited; port {port} in use; pid 140123"
        );
        assert_eq!(
            without_port("127.0.0.1:5555 refused", "{port}", "5555"),
            "127.0.0.1:{port} refused"
        );
        assert_eq!(without_port("nothing", "no placeholder", "x"), "nothing");
        assert_eq!(
            without_port(
                "`python3 s.py 50121` exited",
                "python3 s.py {port}",
                "python3 s.py 50121"
            ),
            "`python3 s.py {port}` exited"
        );
    }

    #[test]
    fn a_note_is_one_line_with_the_last_line_of_output() {
        let e = NotGraded::DidNotStart(
            "`x` exited before accepting connections (exit status: 1); its output ends:\n\
             Traceback (most recent call last):\n  File \"s.py\"\nNameError: name 'x'\n"
                .into(),
        );
        assert_eq!(
            e.note(),
            "`x` exited before accepting connections (exit status: 1); its output ends: \
             NameError: name 'x'"
        );
        assert_eq!(
            NotGraded::OverBudget(5).note(),
            NotGraded::OverBudget(5).reason()
        );
    }
}
