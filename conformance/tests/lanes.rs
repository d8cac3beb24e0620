//! Cases run on several copies of a started server at once (JUDGE-23): the verdicts are those
//! of one copy running every case in turn, whatever the server, and a copy that cannot start
//! leaves its cases to the first.
//!
//! The servers are zoo servers and test fixtures, which need `python3`. Without it the tests
//! say so and pass, unless `CONFAB_REQUIRE_TOOLS=1` (set by `.ci/run`).

use std::path::{Path, PathBuf};

use confab_conformance::{Observer, Profile, Report, Verdict};

#[path = "support/course.rs"]
mod course;
#[path = "../../tests/tools/mod.rs"]
mod tools;

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Notices the run gives, kept.
#[derive(Default)]
struct Notices(Vec<String>);

impl Observer for Notices {
    fn notice(&mut self, message: &str) {
        self.0.push(message.to_owned());
    }
}

/// Grades what `command` starts as the zoo is graded, on `lanes` copies: the cases whose IDs
/// start with one of `only` (every case when empty).
async fn grade(command: &str, only: &[&str], lanes: usize, notices: &mut Notices) -> Report {
    let mut options = course::options(Profile::course(), only);
    options.lanes = lanes;
    course::grade(command, &options, notices)
        .await
        .unwrap_or_else(|e| panic!("{command}: the harness could not grade it: {e}"))
}

/// Each case's ID and verdict, in report order. The verdicts of robustness cases and of
/// cases whose connections act at once are left out: on these Python servers they vary from
/// one run on one copy to the next (a reset racing the server's send, a burst of connects
/// against a short listen backlog).
fn verdicts(report: &Report) -> Vec<(String, String)> {
    report
        .cases
        .iter()
        .map(|c| {
            let verdict = if c.concurrent || c.id.starts_with("robustness.") {
                "(varies with load)".to_owned()
            } else {
                format!("{:?}", c.verdict)
            };
            (c.id.clone(), verdict)
        })
        .collect()
}

/// The cases whose verdict differs, as `id: one lane / lanes`.
fn differences(one: &Report, many: &Report) -> Vec<String> {
    let (a, b) = (verdicts(one), verdicts(many));
    assert_eq!(
        a.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        b.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "the same cases, in run order"
    );
    a.iter()
        .zip(&b)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| format!("{}: {} / {}", x.0, x.1, y.1))
        .collect()
}

/// Servers whose spec cases are decided by what the server does, not by timing: the
/// handout's server, and two whose lists leave out the asker (JUDGE-17), which the spec cases
/// of every lane rely on once the sentinel has learned it: zoo 28 says `You are alone` to a
/// lone sentinel, the fixture `Nobody else is here`, which reads as a refusal, so that only the
/// rubric's rows, run before the lanes, teach it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_in_lanes_are_those_of_one_copy() {
    if !tools::available(
        "verdicts_in_lanes_are_those_of_one_copy",
        "python3",
        "python3",
    ) {
        return;
    }
    let python = tools::python3_executable();
    let fixture = tests_dir().join("fixtures/others_lists.py");
    for server in ["01_hello_dec2", "28_others_dec4", "others_lists"] {
        // The fixture's MSG cases come first in their lane, before any list of the spec's.
        let only: &[&str] = match server {
            "others_lists" => &["rubric", "spec.MSG"],
            _ => &[],
        };
        let command = match server {
            "others_lists" => format!(
                "exec {python} -S {} --fault none {{port}}",
                fixture.display()
            ),
            zoo => {
                let path = tests_dir().join("zoo").join(format!("{zoo}.py"));
                format!("exec {python} -S {} {{port}}", path.display())
            }
        };
        let one = grade(&command, only, 1, &mut Notices::default()).await;
        let mut notices = Notices::default();
        let many = grade(&command, only, 3, &mut notices).await;
        let differ = differences(&one, &many);
        assert!(
            differ.is_empty(),
            "{server}: verdicts on one copy / on three:\n{}",
            differ.join("\n")
        );
        let others_only = |r: &Report| {
            r.dialect
                .as_deref()
                .is_some_and(|d| d.contains("names lists leave out the asker"))
        };
        assert_eq!(others_only(&one), others_only(&many), "{server}");
        assert_eq!(others_only(&one), server != "01_hello_dec2", "{server}");
        assert!(
            !notices.0.iter().any(|n| n.contains("could not be started")),
            "{server}: {:?}",
            notices.0
        );
    }
}

/// A server that will not run twice at once (it holds a lock on a file while it runs, as a
/// server that keeps a pid file does): the copies beyond the first do not start, the notice
/// says so, and every case runs on the first copy with the verdict it gets there alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_cannot_start_leaves_its_cases_to_the_first() {
    if !tools::available(
        "a_copy_that_cannot_start_leaves_its_cases_to_the_first",
        "python3",
        "python3",
    ) {
        return;
    }
    let python = tools::python3_executable();
    let lock = std::env::temp_dir().join(format!("confab-lanes-{}.lock", std::process::id()));
    let server = tests_dir().join("zoo/01_hello_dec2.py");
    // The lock is taken before the server starts and held until its process ends.
    let command = format!(
        "exec {python} -S -c 'import fcntl, runpy, sys; l = open(sys.argv[1], \"w\"); \
         fcntl.flock(l, fcntl.LOCK_EX | fcntl.LOCK_NB); sys.argv = sys.argv[2:]; \
         runpy.run_path(sys.argv[0], run_name=\"__main__\")' {} {} {{port}}",
        lock.display(),
        server.display()
    );
    let one = grade(&command, &[], 1, &mut Notices::default()).await;
    let mut notices = Notices::default();
    let many = grade(&command, &[], 3, &mut notices).await;
    let _ = std::fs::remove_file(&lock);
    assert!(
        notices
            .0
            .iter()
            .any(|n| n.contains("another copy of the server could not be started")),
        "no notice of the copy that did not start: {:?}",
        notices.0
    );
    assert!(
        !many.cases.iter().any(|c| c.verdict == Verdict::NotRun),
        "every case runs on the first copy:\n{:?}",
        verdicts(&many)
    );
    let differ = differences(&one, &many);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
