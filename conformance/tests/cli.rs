//! The `confab-conform` binary as scripts see it: its exit codes, its errors, its report
//! formats, and `--exec` against a course-style server that crashes and must be restarted.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/binary.rs"]
mod binary;
#[path = "../../tests/tools/mod.rs"]
mod tools;

use binary::{conform, run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs the harness with `args` and expects a usage error (exit 2) whose message names
/// `names`.
fn usage_error(args: &[&str], names: &str) {
    let (code, _, err) = run(conform().args(args));
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(err.contains(names), "{args:?}: {err}");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("confab-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn list_shows_every_case_with_its_citations() {
    let (code, out, _) = run(conform().arg("--list"));
    assert_eq!(code, 0);
    for id in [
        "example.course-run",
        "rubric.07-duplicate-name-refused",
        "spec.NAME-2.taken",
        "robustness.name-race",
    ] {
        assert!(out.contains(id), "{id} missing from\n{out}");
    }
    assert!(out.contains("NAME-2"), "{out}");
}

#[test]
fn a_bad_flag_is_a_usage_error_naming_it() {
    usage_error(&["--suite", "everything"], "everything");
    usage_error(&["--timeout", "soon"], "soon");
    usage_error(&["--framing", "dec12"], "dec12");
}

#[test]
fn a_missing_profile_is_an_error_naming_it() {
    usage_error(
        &["--profile", "/no/such/profile.toml"],
        "/no/such/profile.toml",
    );
}

#[test]
fn a_bad_profile_file_is_an_error_saying_what_is_wrong() {
    let dir = scratch("bad-profile");
    let path = dir.join("p.toml");
    std::fs::write(
        &path,
        "name = \"x\"\nframing = \"dec0\"\nmatching = \"strict\"\n",
    )
    .expect("write");
    let (code, _, err) = run(conform().arg("--profile").arg(&path));
    assert_eq!(code, 2);
    assert!(err.contains("dec0"), "{err}");
}

#[test]
fn print_profile_writes_a_profile_that_loads_back() {
    let (code, out, _) = run(conform().args([
        "--profile",
        "course",
        "--framing",
        "dec3",
        "--print-profile",
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("framing = \"dec3\""), "{out}");
    let dir = scratch("print-profile");
    let path = dir.join("p.toml");
    std::fs::write(&path, out).expect("write");
    let (code, out, err) = run(conform().arg("--profile").arg(&path).arg("--list"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("spec.FRAME-1"));
}

#[test]
fn a_selection_that_matches_nothing_exits_3() {
    let (code, _, err) = run(conform().args(["--case", "no.such.case"]));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("nothing ran") && err.contains("no.such.case"),
        "{err}"
    );
}

#[test]
fn an_unreachable_server_exits_2_and_says_so() {
    let addr = format!("127.0.0.1:{}", closed_port());
    let (code, _, err) = run(conform().args(["--addr", &addr, "--startup-timeout", "1s"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("not reachable") && err.contains(&addr),
        "{err}"
    );
}

#[test]
fn a_command_that_exits_at_once_exits_2_with_its_status() {
    let (code, _, err) = run(conform().args(["--exec", "echo broken >&2; exit 7 # {port}"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("exited before accepting") && err.contains("7") && err.contains("broken"),
        "{err}"
    );
}

#[test]
fn a_command_that_never_listens_exits_2_after_the_startup_timeout() {
    usage_error(
        &["--exec", "sleep 30 # {port}", "--startup-timeout", "500ms"],
        "did not accept connections",
    );
}

#[test]
fn exec_without_a_port_needs_an_address() {
    usage_error(&["--exec", "sleep 1"], "{port}");
}

/// The course-style fixture speaks 2-digit frames with its own wording, and dies on a payload
/// that is not UTF-8 or a length that is not digits. The harness detects its framing, grades
/// it leniently, names the cases that killed it with the traceback, and restarts it; the
/// course profile's verdict is the rubric's, so the crashes are reported beyond the
/// assignment and the run passes.
#[test]
fn a_crashing_course_server_is_graded_restarted_and_failed() {
    if !tools::available(
        "a_crashing_course_server_is_graded_restarted_and_failed",
        "python3",
        "python3",
    ) {
        return;
    }
    let dir = scratch("course");
    let json = dir.join("report.json");
    let script = fixture("course_server.py");
    let (code, out, err) = run(conform()
        .args([
            "--profile",
            "course",
            "--color",
            "never",
            "--timeout",
            "500ms",
        ])
        .arg("--exec")
        .arg(format!("python3 {} {{port}}", script.display()))
        .args(["--format", "json", "--output"])
        .arg(&json)
        .arg("--transcripts")
        .arg(dir.join("transcripts")));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("detected dec2 framing, canonical spelling: reply `"),
        "{out}"
    );
    assert!(out.contains("beyond the assignment"), "{out}");
    assert!(
        out.contains("CRASHED          spec.ENC-2.invalid-utf8"),
        "{out}"
    );
    assert!(
        out.contains("UnicodeDecodeError"),
        "the traceback is shown:\n{out}"
    );
    assert!(out.contains("note: restarting the server after"), "{out}");
    assert!(out.contains("rubric score 100/100"), "{out}");
    assert!(
        out.contains("greetings read `Hello <name>` instead of `HELLO <name>`"),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("valid JSON");
    assert_eq!(doc["exit_code"], 0);
    assert!(doc["restarts"].as_u64().unwrap_or_default() >= 1, "{doc}");
    let verdict_of = |id: &str| {
        doc["cases"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id))
            .map(|c| c["verdict"].clone())
    };
    assert_eq!(
        verdict_of("spec.ENC-2.invalid-utf8"),
        Some("server-crashed".into())
    );
    assert_eq!(
        verdict_of("spec.CMD-2.getnames-spelling"),
        Some("fail".into())
    );
    assert_eq!(
        verdict_of("rubric.02-names-listed"),
        Some("pass-with-deviation".into())
    );
    let transcript = std::fs::read_to_string(dir.join("transcripts/spec.ENC-2.invalid-utf8.txt"))
        .expect("a transcript per case");
    assert!(transcript.contains("\\xff\\xfe"), "{transcript}");
}

/// A server that binds a fixed port without SO_REUSEADDR cannot listen again right after a
/// crash (while the port is in TIME_WAIT); the harness keeps trying until --restart-timeout,
/// then says why and runs no more. Whether the kernel keeps the port depends on who closed
/// first, so the command plays that part itself: every start after the first fails as Python
/// does on a taken port.
#[test]
fn a_crashed_server_whose_port_stays_taken_is_reported_and_the_rest_not_run() {
    if !tools::available(
        "a_crashed_server_whose_port_stays_taken_is_reported_and_the_rest_not_run",
        "python3",
        "python3",
    ) {
        return;
    }
    let port = closed_port();
    let script = fixture("course_server.py");
    let mark = scratch("port-taken").join("started");
    let command = format!(
        "if [ -e {mark} ]; then echo 'OSError: [Errno 98] Address already in use' >&2; exit 1; fi; \
         touch {mark}; exec python3 {script} {port}",
        mark = mark.display(),
        script = script.display(),
    );
    let (code, out, err) = run(conform()
        .args([
            "--profile",
            "course",
            "--color",
            "never",
            "--restart-timeout",
            "1s",
        ])
        .args(["--case", "spec.ENC-2", "--case", "spec.ENC-3"])
        .arg("--exec")
        .arg(command)
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}")));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("still in use") && out.contains("{port} placeholder"),
        "{out}"
    );
    assert!(out.contains("not run          spec.ENC-3"), "{out}");
}

/// The default run (the README's first command) against the embedded server, in every report
/// format.
#[test]
fn the_embedded_server_passes_and_every_format_is_written() {
    let dir = scratch("formats");
    let (code, out, err) = run(conform().args(["--color", "never"]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("result: PASS (exit 0)"), "{out}");
    assert!(out.contains("rubric score 100/100"), "{out}");
    for (format, file, marker) in [
        ("junit", "r.xml", "<testsuite name=\"spec\""),
        ("markdown", "r.md", "## Failures"),
        ("json", "r.json", "\"exit_code\": 0"),
    ] {
        let path = dir.join(file);
        let (code, _, err) = run(conform()
            .args(["--format", format, "--output"])
            .arg(&path)
            .args(["--case", "spec.NAME"]));
        assert_eq!(code, 0, "{format}: {err}");
        let text = std::fs::read_to_string(&path).expect("the report file");
        if format == "markdown" {
            assert!(!text.contains(marker), "no failures expected in\n{text}");
            assert!(text.contains("`spec.NAME-2.taken`"), "{text}");
        } else {
            assert!(text.contains(marker), "{format}:\n{text}");
        }
    }
    // Without --output, JSON goes to stdout and the progress to stderr.
    let (code, out, err) = run(conform().args(["--format", "json", "--case", "spec.NAME-1"]));
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("stdout is JSON only");
    assert_eq!(doc["cases"][0]["verdict"], "pass");
    assert!(err.contains("spec.NAME-1.hello"), "{err}");
}

/// A course server already running, given by address: the harness cannot restart it, so it
/// detects the dialect on it, keeps its sentinel connected for the whole run, waits for each
/// case's names to go, and grades the rubric as on a server it starts itself.
#[test]
fn a_running_course_server_at_an_address_is_detected_and_graded() {
    if !tools::available(
        "a_running_course_server_at_an_address_is_detected_and_graded",
        "python3",
        "python3",
    ) {
        return;
    }
    // Zoo 30 answers NAME with a bare `OK` (JUDGE-15): detected from that reply, graded as
    // its truth says (row 1 asks for the name), the harness's own first connection closed.
    for (zoo, code, detected, score) in [
        (
            "01_hello_dec2.py",
            0,
            "canonical spelling: reply `",
            "100/100",
        ),
        (
            "30_terse_dec2.py",
            1,
            "canonical spelling: reply `02OK`, which does not repeat the name",
            "95/100",
        ),
    ] {
        let (got, out, err) = grade_zoo_at_an_address(zoo, "listening");
        assert_eq!(got, code, "{zoo}: {out}\n{err}");
        assert!(
            out.contains(&format!("detected dec2 framing, {detected}")),
            "{zoo}: {out}"
        );
        assert!(
            out.contains(&format!("rubric score {score}")),
            "{zoo}: {out}"
        );
    }
}

/// A server at an address that dies on a NAME in the wrong framing (zoo 33 reads `13NA` as a
/// number) cannot be started again by the harness: the error says what happened and how to
/// go on (JUDGE-7), with exit code 2.
#[test]
fn a_server_at_an_address_that_dies_on_a_framing_probe_is_told_to_give_its_framing() {
    if !tools::available(
        "a_server_at_an_address_that_dies_on_a_framing_probe_is_told_to_give_its_framing",
        "python3",
        "python3",
    ) {
        return;
    }
    let (got, out, err) = grade_zoo_at_an_address("33_padded_dec4.py", "started");
    assert_eq!(got, 2, "{out}\n{err}");
    assert!(
        err.contains("it took a NAME in dec2 before") && err.contains("--framing"),
        "{err}"
    );
}

/// Starts the zoo server `zoo` on a free port, waits for its first line (which holds
/// `ready`), grades its rubric at that address, stops it, and answers the exit code, stdout
/// and stderr.
fn grade_zoo_at_an_address(zoo: &str, ready: &str) -> (i32, String, String) {
    let port = closed_port();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/zoo")
        .join(zoo);
    let mut server = Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 starts");
    let mut line = String::new();
    let stdout = server.stdout.take().expect("piped stdout");
    let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
    assert!(line.contains(ready), "{zoo}: {line}");
    let graded = run(conform()
        .args([
            "--profile",
            "course",
            "--color",
            "never",
            "--suite",
            "rubric",
        ])
        .arg("--addr")
        .arg(format!("127.0.0.1:{port}")));
    let _ = server.kill();
    let _ = server.wait();
    graded
}

/// Interrupting the harness (Ctrl-C's SIGINT, or SIGTERM) stops the server it started, with
/// everything in its process group: nothing of it outlives the run.
#[test]
fn an_interrupted_harness_leaves_no_server_running() {
    if !tools::available(
        "an_interrupted_harness_leaves_no_server_running",
        "python3",
        "python3",
    ) {
        return;
    }
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for (signal, code) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 143)] {
        let dir = scratch(&format!("interrupted-{}", code));
        let pidfile = dir.join("server.pid");
        // The server writes its pid, then serves; the harness runs every suite, which takes
        // far longer than the test waits for the pid.
        let command = format!(
            "echo $$ > {}; exec python3 {} {{port}}",
            pidfile.display(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/zoo/01_hello_dec2.py")
                .display()
        );
        let harness = conform()
            .args(["--profile", "course", "--color", "never", "--exec"])
            .arg(command)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the harness starts");
        // Bounded wait for the server's pid (the harness starts it within its startup time).
        let mut pid = None;
        for _ in 0..500 {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok())
            {
                pid = Some(p);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let pid = pid.expect("the harness started the server");
        let harness_pid = Pid::from_raw(i32::try_from(harness.id()).expect("a pid"));
        kill(harness_pid, signal).expect("the harness can be signalled");
        let output = harness.wait_with_output().expect("the harness exits");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        // The server's process is gone: signal 0 reaches no process (a zombie would be reaped
        // by its parent's exit; the check allows it a moment).
        let mut gone = false;
        for _ in 0..100 {
            if kill(Pid::from_raw(pid), None).is_err() {
                gone = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(gone, "the server {pid} outlived the harness ({signal:?})");
    }
}

/// `--format` given several times: one run writes every report, and the terminal still gets
/// the text report.
#[test]
fn one_run_writes_every_format_given() {
    let dir = scratch("many-formats");
    let (json, xml, md) = (dir.join("r.json"), dir.join("r.xml"), dir.join("r.md"));
    let (code, out, err) = run(conform()
        .args(["--color", "never", "--case", "spec.NAME-1"])
        .arg("--format")
        .arg(format!("json={}", json.display()))
        .arg("--format")
        .arg(format!("junit={}", xml.display()))
        .arg("--format")
        .arg(format!("markdown={}", md.display())));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("result: PASS (exit 0)"), "{out}");
    let read = |p: &Path| std::fs::read_to_string(p).expect("a report file");
    let doc: serde_json::Value = serde_json::from_str(&read(&json)).expect("valid JSON");
    assert_eq!(doc["cases"][0]["id"], "spec.NAME-1.hello");
    assert!(read(&xml).contains("<testsuite name=\"spec\""));
    assert!(read(&md).contains("`spec.NAME-1.hello`"));
    for path in [&json, &xml, &md] {
        assert!(
            err.contains(&format!("report written to {}", path.display())),
            "{err}"
        );
    }
}

#[test]
fn formats_that_would_share_stdout_or_a_file_are_usage_errors() {
    usage_error(
        &["--format", "json", "--format", "junit"],
        "--format FORMAT=FILE",
    );
    usage_error(
        &["--format", "json", "--format", "junit", "--output", "r.out"],
        "--output r.out would get 2 formats",
    );
    usage_error(&["--format", "json="], "needs a file name");
    usage_error(&["--format", "yaml=r.yaml"], "unknown format \"yaml\"");
}

/// `-q`: no line per case and no transcripts; the causes with their fixes, the summary, and
/// the command to run next.
#[test]
fn quiet_shows_the_causes_the_summary_and_what_to_run_next() {
    if !tools::available(
        "quiet_shows_the_causes_the_summary_and_what_to_run_next",
        "python3",
        "python3",
    ) {
        return;
    }
    let script = fixture("course_server.py");
    let exec = format!("python3 {} {{port}}", script.display());
    let (code, out, err) = run(conform()
        .args(["--profile", "course", "--color", "never", "-q"])
        .args([
            "--timeout",
            "500ms",
            "--case",
            "spec.ENC-2",
            "--case",
            "robustness.invalid-utf8",
        ])
        .arg("--exec")
        .arg(&exec));
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(!out.contains("[1/2]"), "no line per case with -q:\n{out}");
    assert!(
        !out.contains("transcript:"),
        "no transcripts with -q:\n{out}"
    );
    assert!(
        out.contains("cause: the server dies on bytes that are not UTF-8 (2 cases"),
        "{out}"
    );
    assert!(
        out.contains("  fix:      your server calls `.decode()`"),
        "{out}"
    );
    assert!(out.contains("\nsummary\n"), "{out}");
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!(
            "next: confab-conform --exec '{exec}' --profile course --case spec.ENC-2.invalid-utf8 \
             --transcripts transcripts   (the first failure, every byte)"
        ),
        "{out}"
    );
}

/// `--fail-fast`: the run stops after the first failing case, and the rest are not run.
#[test]
fn fail_fast_stops_after_the_first_failing_case() {
    if !tools::available(
        "fail_fast_stops_after_the_first_failing_case",
        "python3",
        "python3",
    ) {
        return;
    }
    let dir = scratch("fail-fast");
    let json = dir.join("r.json");
    let script = fixture("course_server.py");
    let (code, out, err) = run(conform()
        .args(["--profile", "course", "--color", "never", "--fail-fast"])
        .args(["--timeout", "500ms"])
        .args([
            "--case",
            "spec.NAME-1",
            "--case",
            "spec.ENC-2",
            "--case",
            "spec.CMD-2",
        ])
        .arg("--exec")
        .arg(format!("python3 {} {{port}}", script.display()))
        .arg("--format")
        .arg(format!("json={}", json.display())));
    assert_eq!(code, 1, "{out}\n{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report"))
            .expect("valid JSON");
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    assert_eq!(cases.len(), 3, "{out}");
    let first_failing = cases
        .iter()
        .position(|c| {
            !c["verdict"]
                .as_str()
                .unwrap_or_default()
                .starts_with("pass")
        })
        .expect("a failing case");
    assert_eq!(
        cases[first_failing]["id"], "spec.ENC-2.invalid-utf8",
        "{out}"
    );
    assert_eq!(cases[first_failing]["verdict"], "server-crashed", "{out}");
    assert!(first_failing < 2, "a case after it: {out}");
    for c in &cases[first_failing + 1..] {
        assert_eq!(c["verdict"], "not-run", "{out}");
    }
    assert!(
        out.contains("--fail-fast: stopped after the first failing case, spec.ENC-2.invalid-utf8"),
        "{out}"
    );
    // The cases not run are one line in the tail, not one failure block each.
    assert!(
        out.contains("\nnot run 2 cases: --fail-fast: stopped after the first failing case"),
        "{out}"
    );
}
