//! `confab-conform class` as a grader uses it: a manifest of student servers (the zoo's, with
//! their truth files, and broken ones), graded into a gradebook whose scores are the zoo's
//! truth, the same bytes twice, Gradescope and JUnit files in their formats, no process of a
//! student left behind, and interrupts that stop everything.
//!
//! The servers need `python3` (see `tests/tools/mod.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

#[path = "support/binary.rs"]
mod binary;
#[path = "../../tests/tools/mod.rs"]
mod tools;

use binary::{conform, run};

/// Class runs take both cores; one at a time keeps every server's timing as on a quiet
/// machine (the test binary runs its tests on several threads).
static GRADING: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    GRADING.lock().unwrap_or_else(|e| e.into_inner())
}

fn zoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/zoo")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("confab-class-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

#[derive(Debug, Deserialize)]
struct Truth {
    server: String,
    answers: bool,
    rubric: BTreeMap<String, Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    pass: bool,
}

/// The zoo's truth files, by server file name.
fn truths() -> Vec<Truth> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(zoo())
        .expect("tests/zoo exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("a readable truth file");
            toml::from_str(&text).expect("a truth file")
        })
        .collect()
}

/// The points of each rubric row, by row number (`01`..`14`).
fn row_points() -> BTreeMap<String, u32> {
    confab_conformance::suites::all()
        .into_iter()
        .filter(|c| c.suite == confab_conformance::Suite::Rubric)
        .map(|c| (c.id["rubric.".len()..][..2].to_owned(), c.points))
        .collect()
}

/// A student of a test class: its id, the zoo server copied into its folder (if any), its
/// command, and manifest lines of its own.
struct Entry {
    id: String,
    server: Option<String>,
    command: String,
    extra: String,
}

fn zoo_student(file: &str) -> Entry {
    Entry {
        id: file.trim_end_matches(".py").to_owned(),
        server: Some(file.to_owned()),
        command: format!("exec {} -S server.py {{port}}", tools::python3_executable()),
        extra: String::new(),
    }
}

/// Lays out `dir/subs/<id>/` for each entry and writes `dir/CLASS.toml`; answers its path.
fn class(dir: &Path, defaults: &str, entries: &[Entry]) -> PathBuf {
    let mut manifest = format!("name = \"test class\"\n[defaults]\n{defaults}\n");
    for e in entries {
        let folder = dir.join("subs").join(&e.id);
        std::fs::create_dir_all(&folder).expect("a student folder");
        if let Some(server) = &e.server {
            std::fs::copy(zoo().join(server), folder.join("server.py")).expect("a zoo server");
        }
        manifest.push_str(&format!(
            "\n[[student]]\nid = \"{}\"\ndir = \"subs/{}\"\ncommand = {}\n{}\n",
            e.id,
            e.id,
            toml::Value::String(e.command.clone()),
            e.extra
        ));
    }
    let path = dir.join("CLASS.toml");
    std::fs::write(&path, manifest).expect("the manifest");
    path
}

/// A student whose command exits at once: its server file is missing.
fn no_start() -> Entry {
    Entry {
        id: "nostart".into(),
        server: None,
        command: format!(
            "exec {} -S missing.py {{port}}",
            tools::python3_executable()
        ),
        extra: String::new(),
    }
}

/// Grades the class at `manifest` into `out`; answers stdout and stderr.
fn grade(manifest: &Path, out: &Path, jobs: &str) -> (String, String) {
    let (code, stdout, stderr) = run(conform()
        .arg("class")
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(["-j", jobs]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// A CSV file as rows of fields (RFC 4180 quoting).
fn csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}

/// The gradebook as `id → column → value`, after checking its shape.
fn gradebook(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out.join("gradebook.csv")).expect("gradebook.csv");
    let rows = csv(&text);
    let header = &rows[0];
    assert_eq!(header[..2], ["student", "score"], "{text}");
    assert_eq!(header[header.len() - 3..], ["verdict", "dialect", "note"]);
    assert_eq!(header.len(), 2 + 14 + 3, "{header:?}");
    let ids: Vec<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "students sorted by id");
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            (
                r[0].clone(),
                header.iter().cloned().zip(r.iter().cloned()).collect(),
            )
        })
        .collect()
}

/// Processes whose working folder or command line lies in `dir`.
fn processes_in(dir: &Path) -> Vec<String> {
    let dir = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let cwd = std::fs::read_link(entry.path().join("cwd"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if cwd.starts_with(&dir) || cmdline.contains(&dir) {
            found.push(format!("{pid}: {cmdline} (in {cwd})"));
        }
    }
    found
}

/// Waits (bounded) until no process is left in `dir`; the ones left, if any.
fn left_running(dir: &Path) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_in(dir);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_class_of_the_zoo_is_graded_as_the_truth_says_and_nothing_is_left_running() {
    if !tools::available("class: the zoo", "python3", "python3") {
        return;
    }
    let _one = one_at_a_time();
    let dir = scratch("zoo");
    let truths = truths();
    assert!(truths.len() >= 16, "the zoo has {} servers", truths.len());
    let mut entries: Vec<Entry> = truths.iter().map(|t| zoo_student(&t.server)).collect();
    entries.push(no_start());
    let manifest = class(&dir, "", &entries);
    let out = dir.join("grades");
    let (stdout, stderr) = grade(&manifest, &out, "4");
    let book = gradebook(&out);
    assert_eq!(book.len(), truths.len() + 1, "{stdout}\n{stderr}");
    let points = row_points();
    let mut problems = Vec::new();
    for t in &truths {
        let id = t.server.trim_end_matches(".py");
        let row = &book[id];
        let expected: u32 = t
            .rubric
            .iter()
            .filter(|(_, r)| r.pass)
            .map(|(n, _)| points[n])
            .sum();
        if row["score"] != expected.to_string() {
            problems.push(format!("{id}: score {} (truth {expected})", row["score"]));
        }
        for (n, r) in &t.rubric {
            let column = row.keys().find(|k| k.starts_with(&format!("{n}-")));
            let got = column.map(|c| row[c].as_str()).unwrap_or("?");
            let want = if r.pass { points[n] } else { 0 }.to_string();
            if got != want {
                problems.push(format!("{id} row {n}: {got} points (truth {want})"));
            }
        }
        let verdict = &row["verdict"];
        match (t.answers, expected) {
            (false, _) if verdict != "no answer" => {
                problems.push(format!("{id}: answers nothing, verdict {verdict}"))
            }
            (true, 100) if verdict != "pass" => problems.push(format!("{id}: verdict {verdict}")),
            (true, e) if e < 100 && verdict != "fail" => {
                problems.push(format!("{id}: verdict {verdict}"))
            }
            _ => {}
        }
    }
    let broken = &book["nostart"];
    assert_eq!(broken["score"], "0");
    assert_eq!(broken["verdict"], "did not start");
    assert!(
        broken["note"].contains("exited before accepting connections")
            && broken["note"].contains("missing.py"),
        "{}",
        broken["note"]
    );
    assert!(
        problems.is_empty(),
        "{}\n{stdout}\n{stderr}",
        problems.join("\n")
    );
    let class_md = std::fs::read_to_string(out.join("class.md")).expect("class.md");
    assert!(
        class_md.contains("| `nostart` | did not start |"),
        "{class_md}"
    );
    assert!(
        class_md.contains("| `18_mute_dec2` | no answer |"),
        "{class_md}"
    );
    assert!(class_md.contains("(`crash-closed-socket`)"), "{class_md}");
    for t in &truths {
        let id = t.server.trim_end_matches(".py");
        for file in ["report.md", "results.json", "junit.xml"] {
            assert!(out.join(id).join(file).is_file(), "{id}/{file}");
        }
    }
    let left = left_running(&dir);
    assert!(left.is_empty(), "still running: {left:#?}");
}

/// The small class graded twice: the zoo's full-marks and crashing servers, the mute one,
/// one that does not start, one over its memory limit, one that reports its limits, and one
/// over its time budget.
fn small_class(dir: &Path) -> PathBuf {
    let py = tools::python3_executable();
    let report_limits = format!(
        "{py} -S -c \"import resource as r; print(r.getrlimit(r.RLIMIT_NOFILE)[0], \
         r.getrlimit(r.RLIMIT_DATA)[0], file=open('limits.txt', 'w'))\"; \
         exec {py} -S server.py {{port}}"
    );
    let entries = vec![
        zoo_student("01_hello_dec2.py"),
        zoo_student("07_bin8_exitcrash.py"),
        zoo_student("18_mute_dec2.py"),
        no_start(),
        Entry {
            id: "limited".into(),
            server: Some("01_hello_dec2.py".into()),
            command: report_limits,
            extra: "open_files = 64\nmemory_mb = 512".into(),
        },
        Entry {
            id: "hog".into(),
            server: Some("01_hello_dec2.py".into()),
            command: format!(
                "{py} -S -c \"x = bytearray(400 * 1024 * 1024)\" && exec {py} -S server.py {{port}}"
            ),
            extra: "memory_mb = 128".into(),
        },
        Entry {
            id: "slow".into(),
            server: Some("19_lazy_raw.py".into()),
            command: format!("exec {py} -S server.py {{port}}"),
            extra: "budget_s = 3".into(),
        },
    ];
    class(dir, "timeout_ms = 2000", &entries)
}

#[test]
fn grading_twice_gives_the_same_gradebook_and_limits_and_budgets_hold() {
    if !tools::available("class: twice", "python3", "python3") {
        return;
    }
    let _one = one_at_a_time();
    let dir = scratch("twice");
    let manifest = small_class(&dir);
    let (first, second) = (dir.join("first"), dir.join("second"));
    let (stdout, stderr) = grade(&manifest, &first, "4");
    grade(&manifest, &second, "4");
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).expect("a class file");
    assert_eq!(
        String::from_utf8_lossy(&read(&first, "gradebook.csv")),
        String::from_utf8_lossy(&read(&second, "gradebook.csv")),
        "the gradebook differs between two runs"
    );
    assert_eq!(read(&first, "class.md"), read(&second, "class.md"));
    // Off a terminal, one line per student.
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with('[')).count(),
        7,
        "{stderr}"
    );
    assert!(stdout.contains("graded 7 students"), "{stdout}");

    let book = gradebook(&first);
    assert_eq!(book["01_hello_dec2"]["score"], "100");
    assert_eq!(book["07_bin8_exitcrash"]["score"], "92");
    assert_eq!(book["18_mute_dec2"]["verdict"], "no answer");
    assert_eq!(book["nostart"]["verdict"], "did not start");
    // The limits reach the server, and one over its memory does not start.
    assert_eq!(book["limited"]["score"], "100");
    let limits = std::fs::read_to_string(dir.join("subs/limited/limits.txt")).expect("limits");
    assert_eq!(limits.trim(), format!("64 {}", 512 * 1024 * 1024));
    assert_eq!(book["hog"]["verdict"], "did not start");
    assert!(
        book["hog"]["note"].contains("MemoryError"),
        "{:?}",
        book["hog"]
    );
    // Over budget: a row with 0 and the reason; the server stopped with the rest.
    assert_eq!(book["slow"]["verdict"], "over budget");
    assert_eq!(book["slow"]["score"], "0");
    assert!(
        book["slow"]["note"].contains("budget of 3 s"),
        "{:?}",
        book["slow"]
    );
    let left = left_running(&dir);
    assert!(left.is_empty(), "still running: {left:#?}");

    for (id, row) in &book {
        let score: u32 = row["score"].parse().expect("an integer score");
        check_gradescope(&first.join(id).join("results.json"), score);
        check_junit(&first.join(id).join("junit.xml"), score);
    }
}

/// `results.json` as Gradescope reads it: a numeric `score`, `tests[]` with a string `name`
/// and `output`, numeric `score` and `max_score`, a `status` of passed or failed; the score
/// the sum of the tests'.
fn check_gradescope(path: &Path, score: u32) {
    let text = std::fs::read_to_string(path).expect("results.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("results.json is JSON");
    let at = path.display();
    let top = doc.as_object().expect("an object");
    let total = top["score"].as_f64().expect("a numeric score");
    assert_eq!(total, f64::from(score), "{at}: the gradebook's score");
    if let Some(t) = top.get("execution_time") {
        assert!(t.is_number(), "{at}: execution_time");
    }
    if let Some(o) = top.get("output") {
        assert!(o.is_string(), "{at}: output");
    }
    let tests = top["tests"].as_array().expect("tests[]");
    assert!(!tests.is_empty(), "{at}: no tests");
    let mut sum = 0.0;
    for t in tests {
        let t = t.as_object().expect("a test object");
        assert!(
            t["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{at}: {t:?}"
        );
        assert!(t["output"].is_string(), "{at}: {t:?}");
        let (s, max) = (
            t["score"].as_f64().expect("score"),
            t["max_score"].as_f64().expect("max_score"),
        );
        assert!((0.0..=max).contains(&s), "{at}: {t:?}");
        let status = t["status"].as_str().expect("status");
        assert!(status == "passed" || status == "failed", "{at}: {status}");
        if max > 0.0 {
            assert_eq!(status == "passed", s == max, "{at}: {t:?}");
        }
        sum += s;
    }
    assert_eq!(sum, total, "{at}: the score is the sum of the tests'");
    assert_eq!(
        tests
            .iter()
            .filter(|t| t["max_score"].as_f64() > Some(0.0))
            .count(),
        14,
        "{at}: a test per rubric row"
    );
}

/// `junit.xml`: well-formed, the counts of `testsuites` and of each `testsuite` those of its
/// test cases and failures, and every case with its points, which sum to the score.
fn check_junit(path: &Path, score: u32) {
    let text = std::fs::read_to_string(path).expect("junit.xml");
    let at = path.display();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{at} is not well-formed XML: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites", "{at}");
    let count = |n: roxmltree::Node, attr: &str| -> usize {
        n.attribute(attr)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{at}: {attr} of {}", n.tag_name().name()))
    };
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert!(!suites.is_empty(), "{at}: no testsuite");
    let (mut cases, mut failures, mut points) = (0, 0, 0u32);
    for suite in &suites {
        let tests: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let failed = tests
            .iter()
            .filter(|t| t.children().any(|c| c.has_tag_name("failure")))
            .count();
        assert_eq!(count(*suite, "tests"), tests.len(), "{at}");
        assert_eq!(count(*suite, "failures"), failed, "{at}");
        for t in &tests {
            let property = |name: &str| -> u32 {
                t.descendants()
                    .find(|p| p.has_tag_name("property") && p.attribute("name") == Some(name))
                    .and_then(|p| p.attribute("value"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{at}: {name} of {:?}", t.attribute("name")))
            };
            let (earned, max) = (property("points"), property("max_points"));
            assert!(earned <= max, "{at}");
            points += earned;
        }
        cases += tests.len();
        failures += failed;
    }
    assert_eq!(count(root, "tests"), cases, "{at}");
    assert_eq!(count(root, "failures"), failures, "{at}");
    assert_eq!(points, score, "{at}: the points sum to the score");
}

#[test]
fn init_writes_a_manifest_that_class_accepts() {
    if !tools::available("class: init", "python3", "python3") {
        return;
    }
    let _one = one_at_a_time();
    let dir = scratch("init");
    let subs = dir.join("submissions");
    for (student, files) in [
        ("alice", &["chat_server.py", "util.py"][..]),
        ("bob", &["hw2.py"][..]),
        ("carol", &["a.py", "b.py"][..]),
    ] {
        std::fs::create_dir_all(subs.join(student)).expect("a folder");
        for f in files {
            let source = if f.contains("server") || *f == "hw2.py" {
                std::fs::read_to_string(zoo().join("12_must_name_dec2.py")).expect("a server")
            } else {
                String::new()
            };
            std::fs::write(subs.join(student).join(f), source).expect("a file");
        }
    }
    let init = |force: bool| {
        let mut cmd = conform();
        cmd.current_dir(&dir)
            .args(["class", "--init", "submissions", "CLASS.toml"]);
        if force {
            cmd.arg("--force");
        }
        run(&mut cmd)
    };
    let (code, _, err) = init(false);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join("CLASS.toml")).expect("the manifest");
    assert!(
        text.contains("command = \"python3 chat_server.py {port}\""),
        "{text}"
    );
    assert!(
        text.contains("command = \"python3 hw2.py {port}\""),
        "{text}"
    );
    assert!(
        text.contains("# could not guess: 2 Python files (a.py, b.py)"),
        "{text}"
    );
    assert!(
        err.contains("3 students, 2 commands found, 1 to write by hand"),
        "{err}"
    );
    // An existing manifest is kept, and the unguessed command is refused by name.
    assert_eq!(init(false).0, 2);
    let (code, _, err) =
        run(conform()
            .current_dir(&dir)
            .args(["class", "CLASS.toml", "--out", "grades"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("(carol): the command is empty"), "{err}");

    std::fs::remove_dir_all(subs.join("carol")).expect("carol's folder");
    assert_eq!(init(true).0, 0);
    let (code, out, err) = run(conform().current_dir(&dir).args([
        "class",
        "CLASS.toml",
        "--out",
        "grades",
        "-j",
        "2",
    ]));
    assert_eq!(code, 0, "{out}\n{err}");
    let book = gradebook(&dir.join("grades"));
    assert_eq!(book.keys().collect::<Vec<_>>(), ["alice", "bob"]);
    for (id, row) in &book {
        assert_eq!(row["score"], "100", "{id}: {row:?}");
    }
    let left = left_running(&dir);
    assert!(left.is_empty(), "still running: {left:#?}");
}

#[test]
fn a_bad_manifest_is_an_error_naming_the_problem() {
    let dir = scratch("bad");
    std::fs::create_dir_all(dir.join("alice")).expect("a folder");
    let cases = [
        (
            "[defaults]\nframng = \"dec2\"\n[[student]]\nid = \"alice\"\ncommand = \"x {port}\"\n",
            "unknown key `framng` in [defaults]; did you mean `framing`?",
        ),
        (
            "[[student]]\nid = \"alice\"\ncomand = \"x {port}\"\n",
            "did you mean `command`?",
        ),
        (
            "[[student]]\nid = \"alice\"\ncommand = \"python3 server.py\"\n",
            "(alice): the command `python3 server.py` has no {port}",
        ),
        ("[[student]\n", "not valid TOML"),
    ];
    for (text, says) in cases {
        std::fs::write(dir.join("CLASS.toml"), text).expect("a manifest");
        let (code, _, err) = run(conform()
            .arg("class")
            .arg(dir.join("CLASS.toml"))
            .arg("--out")
            .arg(dir.join("grades")));
        assert_eq!(code, 2, "{text}: {err}");
        assert!(err.contains(says), "{text}: {err}");
    }
    assert!(!dir.join("grades").exists(), "nothing is graded");
    let (code, _, err) = run(conform().args(["class", "--colour"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(conform().args(["class", "CLASS.toml"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--out DIR"), "{err}");
}

/// Starts `cmd` (a harness), waits until `pids` (written by the servers it starts) names a
/// process, sends `signal`, and answers the exit code and stderr.
fn interrupt(mut cmd: Command, pids: &Path, signal: nix::sys::signal::Signal) -> (i32, String) {
    let harness = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the harness starts");
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(pids).is_ok_and(|t| t.lines().count() > 0) {
        assert!(Instant::now() < until, "no server was started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(harness.id()).expect("a pid"));
    nix::sys::signal::kill(pid, signal).expect("the harness can be signalled");
    let output = harness.wait_with_output().expect("the harness exits");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A command that writes its pid, leaves a child in its process group (as a server that
/// forks would), and becomes the server.
fn forking(py: &str, server: &Path) -> String {
    format!(
        "echo $$ >> pids; sleep 300 & exec {py} -S {} {{port}}",
        server.display()
    )
}

#[test]
fn an_interrupted_class_or_single_run_leaves_no_student_process() {
    if !tools::available("class: interrupted", "python3", "python3") {
        return;
    }
    use nix::sys::signal::Signal;
    let _one = one_at_a_time();
    let py = tools::python3_executable();
    for (signal, code) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        // A class: two students at once, each with a server and a child of it.
        let dir = scratch(&format!("interrupted-class-{code}"));
        let entries: Vec<Entry> = ["a", "b"]
            .iter()
            .map(|id| Entry {
                id: (*id).into(),
                server: Some("01_hello_dec2.py".into()),
                command: forking(&py, Path::new("server.py")),
                extra: String::new(),
            })
            .collect();
        let manifest = class(
            &dir,
            "suites = [\"example\", \"rubric\", \"spec\"]",
            &entries,
        );
        let mut cmd = conform();
        cmd.arg("class")
            .arg(&manifest)
            .arg("--out")
            .arg(dir.join("grades"))
            .args(["-j", "2"]);
        let (exit, stderr) = interrupt(cmd, &dir.join("subs/a/pids"), signal);
        assert_eq!(exit, code, "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        let left = left_running(&dir);
        assert!(left.is_empty(), "{signal:?}: still running: {left:#?}");

        // A single server.
        let dir = scratch(&format!("interrupted-single-{code}"));
        let mut cmd = conform();
        cmd.current_dir(&dir)
            .args(["--profile", "course", "--color", "never", "--exec"])
            .arg(forking(&py, &zoo().join("01_hello_dec2.py")));
        let (exit, stderr) = interrupt(cmd, &dir.join("pids"), signal);
        assert_eq!(exit, code, "{stderr}");
        let left = left_running(&dir);
        assert!(left.is_empty(), "{signal:?}: still running: {left:#?}");
    }
}

/// A harness killed outright can stop nothing; the server it started gets SIGKILL from the
/// kernel when it dies (`PR_SET_PDEATHSIG`, Linux).
#[cfg(target_os = "linux")]
#[test]
fn a_killed_harness_takes_its_server_with_it() {
    if !tools::available("class: killed", "python3", "python3") {
        return;
    }
    let _one = one_at_a_time();
    let dir = scratch("killed");
    let entries = vec![Entry {
        id: "a".into(),
        server: Some("01_hello_dec2.py".into()),
        command: format!(
            "echo $$ >> pids; exec {} -S server.py {{port}}",
            tools::python3_executable()
        ),
        extra: String::new(),
    }];
    let manifest = class(&dir, "", &entries);
    let mut cmd = conform();
    cmd.arg("class")
        .arg(&manifest)
        .arg("--out")
        .arg(dir.join("grades"));
    let (exit, _) = interrupt(
        cmd,
        &dir.join("subs/a/pids"),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert_eq!(exit, -1, "killed by a signal");
    let left = left_running(&dir);
    assert!(left.is_empty(), "still running: {left:#?}");
}
