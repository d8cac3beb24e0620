//! `confab-conform class`: a whole class graded from a manifest.
//!
//! Each student's server is graded as `--exec 'CMD {port}'` grades one (see [`crate::run`]),
//! confined ([`limits`]): in its own folder, in a process group of its own, on a port of its
//! own, within memory and open-file limits and a wall-clock budget, and stopped with its whole
//! group however its grading ends. `-j N` students are graded at once. The results:
//!
//! - `DIR/gradebook.csv`: one row per student, sorted by id ([`summary`]);
//! - `DIR/class.md`: scores, rows, common causes of failure, servers that did not start;
//! - `DIR/<id>/report.md`, `results.json` (Gradescope), `junit.xml` ([`student`]).
//!
//! Modules: [`manifest`] (the CLASS.toml), [`init`] (`--init`: a manifest from a folder of
//! submissions), [`grade`] (one student), [`progress`] (stderr), [`limits`] (confinement).

pub mod grade;
pub mod init;
pub mod limits;
pub mod manifest;
pub mod progress;
pub mod student;
pub mod summary;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;

pub use grade::{NotGraded, Outcome};
pub use manifest::{Manifest, ManifestError, Student};

/// Grade a whole class of servers from a manifest (CLASS.toml), or write a starting manifest
/// from a folder of submissions with --init.
///
/// Writes DIR/gradebook.csv (one row per student: score, points per rubric row, verdict,
/// dialect, note), DIR/class.md (the class at a glance), and per student DIR/<id>/report.md,
/// results.json (Gradescope) and junit.xml. A student whose server does not start, answers
/// nothing, or runs over its time budget gets a row with 0 and the reason.
///
/// Exit codes: 0 every student has a row; 2 usage error or a manifest that is not valid
/// (every problem is listed); 130 or 143 interrupted, every server stopped.
// The `///` comments above are `--help` text: `<id>` is a placeholder.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, clap::Parser)]
#[command(name = "confab-conform class", bin_name = "confab-conform class", after_help = AFTER_HELP)]
pub struct ClassArgs {
    /// The class manifest. With --init: the manifest to write (default CLASS.toml).
    #[arg(value_name = "CLASS.toml")]
    pub manifest: Option<PathBuf>,

    /// Where the gradebook, the class summary and each student's reports go.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Students graded at once (default: the number of CPUs).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,

    /// Write a starting manifest from SUBMISSIONS_DIR, one sub-folder per student, with the
    /// command of each guessed (each guess is said in a comment).
    #[arg(long, value_name = "SUBMISSIONS_DIR")]
    pub init: Option<PathBuf>,

    /// With --init: overwrite an existing manifest.
    #[arg(long)]
    pub force: bool,
}

const AFTER_HELP: &str = "\
Examples:
  confab-conform class --init submissions CLASS.toml   # one sub-folder per student
  confab-conform class CLASS.toml --out grades         # grade them all
  confab-conform class CLASS.toml --out grades -j 4    # four at once

The manifest's keys are described at the top of the file --init writes.";

/// Why a class run could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ClassError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

fn write_file(path: &Path, text: &str) -> Result<(), ClassError> {
    std::fs::write(path, text).map_err(|source| ClassError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// `class --init`: writes the manifest; answers the exit code.
fn init(submissions: &Path, args: &ClassArgs) -> Result<i32, ClassError> {
    if args.out.is_some() || args.jobs.is_some() {
        return Err(ClassError::Usage(
            "--init writes a manifest and grades nothing: --out and --jobs belong to the run \
             that reads it"
                .into(),
        ));
    }
    let manifest = args
        .manifest
        .clone()
        .unwrap_or_else(|| PathBuf::from("CLASS.toml"));
    if manifest.exists() && !args.force {
        return Err(ClassError::Usage(format!(
            "{} exists: give another file, or --force to overwrite it",
            manifest.display()
        )));
    }
    let text = init::manifest_for(submissions, &manifest)
        .map_err(|e| ClassError::Usage(format!("cannot read {}: {e}", submissions.display())))?;
    write_file(&manifest, &text)?;
    let students = text.matches("[[student]]").count();
    let missing = text.matches("command = \"\"").count();
    eprintln!(
        "wrote {}: {students} students, {} commands found, {missing} to write by hand",
        manifest.display(),
        students - missing
    );
    Ok(crate::report::exit::PASS)
}

/// Runs `confab-conform class` with `args`; answers the exit code.
pub async fn run(args: ClassArgs) -> Result<i32, ClassError> {
    if let Some(submissions) = &args.init {
        return init(submissions, &args);
    }
    let (Some(path), Some(out)) = (&args.manifest, &args.out) else {
        return Err(ClassError::Usage(
            "give the manifest and where the results go: confab-conform class CLASS.toml --out \
             DIR (or class --init SUBMISSIONS_DIR to write a manifest)"
                .into(),
        ));
    };
    let manifest = Manifest::load(path)?;
    let jobs = match args.jobs {
        Some(0) => return Err(ClassError::Usage("-j must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    std::fs::create_dir_all(out).map_err(|source| ClassError::Write {
        path: out.display().to_string(),
        source,
    })?;
    let stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    let total = manifest.students.len();
    let mut progress = progress::Progress::new(stderr, terminal, total, jobs);
    let started = std::time::Instant::now();
    let mut outcomes = Vec::with_capacity(total);
    let mut grading = futures::stream::iter(manifest.students.iter())
        .map(grade::grade)
        .buffer_unordered(jobs);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            next = grading.next() => {
                let Some(outcome) = next else { break };
                progress.finished(&outcome);
                let dir = out.join(&outcome.student.id);
                student::write(&outcome, &dir).map_err(|source| ClassError::Write {
                    path: dir.display().to_string(),
                    source,
                })?;
                outcomes.push(outcome);
            }
            _ = tick.tick() => progress.draw(),
        }
    }
    progress.end();
    outcomes.sort_by(|a, b| a.student.id.cmp(&b.student.id));
    let gradebook = out.join("gradebook.csv");
    write_file(&gradebook, &summary::gradebook(&outcomes))?;
    let class = out.join("class.md");
    write_file(
        &class,
        &summary::class_markdown(manifest.name.as_deref(), &outcomes),
    )?;
    let graded = outcomes.iter().filter(|o| o.result.is_ok()).count();
    println!(
        "graded {total} students in {:.1} s ({graded} graded, {} not graded)\n\
         gradebook: {}\nclass summary: {}\nreports: {}/<id>/",
        started.elapsed().as_secs_f64(),
        total - graded,
        gradebook.display(),
        class.display(),
        out.display()
    );
    Ok(crate::report::exit::PASS)
}
