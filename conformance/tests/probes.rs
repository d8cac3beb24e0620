//! The harness's own question after a row does not fail the row (JUDGE-28): a server that
//! dies on the sentinel's names list while the row's refused client is still unnamed passes
//! row 7, with a note; one that dies on the row itself is crashed.
//!
//! The fixture needs `python3`. Without it the test says so and passes, unless
//! `CONFAB_REQUIRE_TOOLS=1` (set by `.ci/run`).

use std::path::Path;

use confab_conformance::{CaseReport, Profile, Silent, Verdict};

#[path = "support/course.rs"]
mod course;
#[path = "../../tests/tools/mod.rs"]
mod tools;

/// Row 7 of the grading sheet on `tests/fixtures/unnamed_lists.py --fault fault`.
async fn row_7(fault: &str) -> CaseReport {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unnamed_lists.py");
    let command = format!(
        "exec {} -S {} --fault {fault} {{port}}",
        tools::python3_executable(),
        fixture.display()
    );
    let options = course::options(Profile::course(), &["rubric.07"]);
    let report = course::grade(&command, &options, &mut Silent)
        .await
        .unwrap_or_else(|e| panic!("--fault {fault}: the harness could not grade it: {e}"));
    report
        .cases
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("--fault {fault}: row 7 did not run"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_is_not_failed_by_the_harness_s_own_question() {
    if !tools::available(
        "a_row_is_not_failed_by_the_harness_s_own_question",
        "python3",
        "python3",
    ) {
        return;
    }
    let asked = row_7("none").await;
    assert!(
        asked.verdict.is_pass(),
        "the server died on the sentinel's question, not on the row: {:?} {:?} {:?}",
        asked.verdict,
        asked.liveness,
        asked.failure
    );
    assert!(
        asked.notes.iter().any(|n| n.contains("JUDGE-28")),
        "the report says why: {:?}",
        asked.notes
    );
    let unasked = row_7("taken-dies").await;
    assert_eq!(
        unasked.verdict,
        Verdict::ServerCrashed,
        "the server died on the row itself: {:?}",
        unasked.notes
    );
    assert!(
        !unasked.notes.iter().any(|n| n.contains("JUDGE-28")),
        "{:?}",
        unasked.notes
    );
}
