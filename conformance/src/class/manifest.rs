//! The class manifest: defaults for every student, and one entry per student.
//!
//! ```toml
//! name = "Networks 2026, homework 2"   # optional, shown in class.md
//!
//! [defaults]                  # every key optional; these are the defaults
//! profile = "course"          # a built-in profile or a profile file (relative to this file)
//! framing = "auto"            # dec1..dec9, bin1..bin8, bin2le..bin8le, hex1..hex9, raw, line, or auto
//! spelling = "auto"           # canonical, getnames, numeric, or auto
//! suites = ["example", "rubric"]
//! timeout_ms = 1000           # how long a reply that is due is awaited (loopback: ms)
//! startup_s = 10              # how long a server may take to listen
//! budget_s = 120              # wall-clock time for grading one student, all in
//! memory_mb = 1024            # RLIMIT_DATA of the server
//! open_files = 256            # RLIMIT_NOFILE of the server
//!
//! [[student]]
//! id = "alice"                        # letters, digits, `.`, `-`, `_`; unique
//! dir = "submissions/alice"           # its working folder, relative to this file
//! command = "python3 server.py {port}"
//! framing = "dec3"                    # any key of [defaults] overrides it for this student
//! ```
//!
//! Every problem is reported at once, each naming where it is: an unknown key (with the key
//! it probably meant), a command without `{port}`, a folder that does not exist, an id used
//! twice.

use std::path::{Path, PathBuf};

use confab::protocol::{Framing, Spelling};
use serde::Deserialize;

use crate::case::Suite;
use crate::profile::{AUTO, Profile};

/// The keys a `[defaults]` table (and a student, to override them) may have.
const SETTING_KEYS: &[&str] = &[
    "profile",
    "framing",
    "spelling",
    "suites",
    "timeout_ms",
    "startup_s",
    "budget_s",
    "memory_mb",
    "open_files",
];

/// The keys of a student besides the settings.
const STUDENT_KEYS: &[&str] = &["id", "dir", "command"];

/// The keys at the top of the manifest.
const TOP_KEYS: &[&str] = &["name", "defaults", "student"];

/// The suites a class is graded on unless the manifest says otherwise: what the grade needs.
pub const DEFAULT_SUITES: [Suite; 2] = [Suite::Example, Suite::Rubric];

/// How long a reply that is due is awaited, unless the manifest says otherwise: replies on
/// loopback take milliseconds, and a server that stays silent where a row wants a reply costs
/// this much per wait, for every student graded (a single run's default is 2 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;

/// How one student is graded.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The profile, with the manifest's framing and spelling applied.
    pub profile: Profile,
    pub suites: Vec<Suite>,
    pub timeout_ms: u64,
    pub startup_s: u64,
    pub budget_s: u64,
    pub memory_mb: u64,
    pub open_files: u64,
}

/// One student.
#[derive(Debug, Clone, PartialEq)]
pub struct Student {
    pub id: String,
    /// The working folder of the command.
    pub dir: PathBuf,
    /// The command, with `{port}`.
    pub command: String,
    pub settings: Settings,
}

/// A manifest, checked and resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub name: Option<String>,
    /// The settings of `[defaults]`.
    pub defaults: Settings,
    /// Sorted by id.
    pub students: Vec<Student>,
}

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read the manifest {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the manifest {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("the manifest {path} has {} problem{}:\n{}", .problems.len(),
        if .problems.len() == 1 { "" } else { "s" },
        .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { path: String, problems: Vec<String> },
}

/// A settings table as written; every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
struct SettingsFile {
    profile: Option<String>,
    framing: Option<String>,
    spelling: Option<String>,
    suites: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    startup_s: Option<u64>,
    budget_s: Option<u64>,
    memory_mb: Option<u64>,
    open_files: Option<u64>,
}

impl SettingsFile {
    /// `self`, with what `over` sets replacing it.
    fn overridden_by(&self, over: &SettingsFile) -> SettingsFile {
        SettingsFile {
            profile: over.profile.clone().or_else(|| self.profile.clone()),
            framing: over.framing.clone().or_else(|| self.framing.clone()),
            spelling: over.spelling.clone().or_else(|| self.spelling.clone()),
            suites: over.suites.clone().or_else(|| self.suites.clone()),
            timeout_ms: over.timeout_ms.or(self.timeout_ms),
            startup_s: over.startup_s.or(self.startup_s),
            budget_s: over.budget_s.or(self.budget_s),
            memory_mb: over.memory_mb.or(self.memory_mb),
            open_files: over.open_files.or(self.open_files),
        }
    }

    /// The settings, or what is wrong with them (`at` says where, for the messages).
    fn resolve(&self, base: &Path, at: &str, problems: &mut Vec<String>) -> Option<Settings> {
        let before = problems.len();
        let name = self.profile.as_deref().unwrap_or("course");
        let mut profile = match Profile::load(name) {
            Ok(p) => Some(p),
            // A profile file is found beside the manifest.
            Err(_) if base.join(name).is_file() => {
                match Profile::load(&base.join(name).to_string_lossy()) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        problems.push(format!("{at}: {e}"));
                        None
                    }
                }
            }
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                None
            }
        };
        if let (Some(p), Some(f)) = (profile.as_mut(), &self.framing) {
            if f == AUTO {
                p.detect_framing = true;
            } else {
                match f.parse::<Framing>() {
                    Ok(framing) => {
                        p.dialect.framing = framing;
                        p.detect_framing = false;
                    }
                    Err(e) => problems.push(format!("{at}: framing {f:?}: {e}")),
                }
            }
        }
        if let (Some(p), Some(s)) = (profile.as_mut(), &self.spelling) {
            if s == AUTO {
                p.detect_spelling = true;
            } else {
                match s.parse::<Spelling>() {
                    Ok(spelling) => {
                        p.dialect.spelling = spelling;
                        p.detect_spelling = false;
                    }
                    Err(e) => problems.push(format!("{at}: spelling {s:?}: {e}")),
                }
            }
        }
        let mut suites = Vec::new();
        match &self.suites {
            None => suites.extend(DEFAULT_SUITES),
            Some(names) if names.is_empty() => {
                problems.push(format!("{at}: suites is empty: name at least one suite"));
            }
            Some(names) => {
                for name in names {
                    match <Suite as clap::ValueEnum>::from_str(name, true) {
                        Ok(s) if !suites.contains(&s) => suites.push(s),
                        Ok(_) => {}
                        Err(_) => problems.push(format!(
                            "{at}: unknown suite {name:?} (example, rubric, spec or robustness)"
                        )),
                    }
                }
            }
        }
        let positive = |key: &str, value: Option<u64>, default: u64, problems: &mut Vec<_>| {
            let v = value.unwrap_or(default);
            if v == 0 {
                problems.push(format!("{at}: {key} must be more than 0"));
            }
            v
        };
        let settings = Settings {
            timeout_ms: positive("timeout_ms", self.timeout_ms, DEFAULT_TIMEOUT_MS, problems),
            startup_s: positive("startup_s", self.startup_s, 10, problems),
            budget_s: positive("budget_s", self.budget_s, 120, problems),
            memory_mb: positive("memory_mb", self.memory_mb, 1024, problems),
            open_files: positive("open_files", self.open_files, 256, problems),
            profile: profile?,
            suites,
        };
        (problems.len() == before).then_some(settings)
    }
}

#[derive(Debug, Deserialize)]
struct StudentFile {
    id: String,
    dir: Option<String>,
    command: String,
    #[serde(flatten)]
    settings: SettingsFile,
}

#[derive(Debug, Deserialize)]
struct ManifestFile {
    name: Option<String>,
    #[serde(default)]
    defaults: SettingsFile,
    #[serde(default)]
    student: Vec<StudentFile>,
}

/// Whether `id` can name a folder and a CSV row as it is.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// `` unknown key `framng` in [defaults]; did you mean `framing`? ``
fn unknown_key(key: &str, at: &str, known: &[&str]) -> String {
    let near = known
        .iter()
        .map(|k| (strsim::levenshtein(k, key), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min();
    match near {
        Some((_, k)) => format!("unknown key `{key}` in {at}; did you mean `{k}`?"),
        None => format!(
            "unknown key `{key}` in {at} (known keys: {})",
            known.join(", ")
        ),
    }
}

/// Every key of `table` that is not in `known`, as messages.
fn unknown_keys(table: &toml::Table, at: &str, known: &[&str], problems: &mut Vec<String>) {
    for key in table.keys() {
        if !known.contains(&key.as_str()) {
            problems.push(unknown_key(key, at, known));
        }
    }
}

impl Manifest {
    /// Reads and checks the manifest at `path`; folders and profile files are relative to it.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        Manifest::parse(&text, base).map_err(|e| match e {
            ManifestError::Syntax { message, .. } => ManifestError::Syntax {
                path: path.display().to_string(),
                message,
            },
            ManifestError::Invalid { problems, .. } => ManifestError::Invalid {
                path: path.display().to_string(),
                problems,
            },
            other => other,
        })
    }

    /// Parses and checks manifest text; folders and profile files are relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Manifest, ManifestError> {
        let syntax = |message: String| ManifestError::Syntax {
            path: "(text)".into(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
        let mut problems = Vec::new();
        unknown_keys(&table, "the manifest's top level", TOP_KEYS, &mut problems);
        if let Some(toml::Value::Table(d)) = table.get("defaults") {
            unknown_keys(d, "[defaults]", SETTING_KEYS, &mut problems);
        }
        if let Some(toml::Value::Array(students)) = table.get("student") {
            let known: Vec<&str> = STUDENT_KEYS.iter().chain(SETTING_KEYS).copied().collect();
            for (i, s) in students.iter().enumerate() {
                if let toml::Value::Table(s) = s {
                    let at = match s.get("id").and_then(|v| v.as_str()) {
                        Some(id) => format!("[[student]] {} ({id})", i + 1),
                        None => format!("[[student]] {}", i + 1),
                    };
                    unknown_keys(s, &at, &known, &mut problems);
                }
            }
        }
        if !problems.is_empty() {
            return Err(ManifestError::Invalid {
                path: "(text)".into(),
                problems,
            });
        }
        let file: ManifestFile = table
            .try_into()
            .map_err(|e: toml::de::Error| syntax(e.to_string()))?;
        let defaults = file
            .defaults
            .resolve(base, "[defaults]", &mut problems)
            .or_else(|| SettingsFile::default().resolve(base, "", &mut Vec::new()));
        let mut students = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        if file.student.is_empty() {
            problems.push("no [[student]] entries".into());
        }
        for (i, s) in file.student.iter().enumerate() {
            let at = format!("[[student]] {} ({})", i + 1, s.id);
            if !valid_id(&s.id) {
                problems.push(format!(
                    "{at}: the id must be 1 to 64 letters, digits, `.`, `-` or `_`, not \
                     starting with `.`, since it names the student's folder of reports"
                ));
            } else if !seen.insert(s.id.clone()) {
                problems.push(format!("{at}: the id {:?} is used twice", s.id));
            }
            if s.command.trim().is_empty() {
                problems.push(format!(
                    "{at}: the command is empty: write the command that starts the server, with \
                     {{port}} where the port goes"
                ));
            } else if !s.command.contains("{port}") {
                problems.push(format!(
                    "{at}: the command `{}` has no {{port}}: the harness starts each server on a \
                     free port of its own, so the command must take it, e.g. `python3 server.py \
                     {{port}}`",
                    s.command
                ));
            }
            let dir = base.join(s.dir.as_deref().unwrap_or(&s.id));
            if !dir.is_dir() {
                problems.push(format!("{at}: the folder {} does not exist", dir.display()));
            }
            let settings =
                file.defaults
                    .overridden_by(&s.settings)
                    .resolve(base, &at, &mut problems);
            if let Some(settings) = settings {
                students.push(Student {
                    id: s.id.clone(),
                    dir,
                    command: s.command.clone(),
                    settings,
                });
            }
        }
        match defaults {
            Some(defaults) if problems.is_empty() => {
                students.sort_by(|a, b| a.id.cmp(&b.id));
                Ok(Manifest {
                    name: file.name,
                    defaults,
                    students,
                })
            }
            _ => Err(ManifestError::Invalid {
                path: "(text)".into(),
                problems,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("confab-manifest-{}", std::process::id()));
        for id in ["alice", "bob"] {
            let _ = std::fs::create_dir_all(dir.join(id));
        }
        dir
    }

    fn problems(text: &str) -> String {
        match Manifest::parse(text, &base()) {
            Err(e) => e.to_string(),
            Ok(m) => panic!("accepted: {m:?}"),
        }
    }

    #[test]
    fn a_manifest_resolves_defaults_and_overrides_and_sorts_students() {
        let m = Manifest::parse(
            r#"
            [defaults]
            framing = "dec2"
            timeout_ms = 900
            [[student]]
            id = "bob"
            command = "python3 s.py {port}"
            framing = "auto"
            suites = ["rubric"]
            [[student]]
            id = "alice"
            command = "python3 server.py {port}"
            "#,
            &base(),
        )
        .expect("a valid manifest");
        let ids: Vec<&str> = m.students.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["alice", "bob"]);
        let (alice, bob) = (&m.students[0].settings, &m.students[1].settings);
        assert!(!alice.profile.detect_framing);
        assert_eq!(alice.profile.dialect.framing.to_string(), "dec2");
        assert_eq!(alice.suites, DEFAULT_SUITES);
        assert_eq!(alice.timeout_ms, 900);
        assert!(bob.profile.detect_framing);
        assert_eq!(bob.suites, [Suite::Rubric]);
        assert_eq!(bob.budget_s, 120);
    }

    #[test]
    fn an_unknown_key_is_named_with_the_key_it_probably_meant() {
        let e = problems(
            "[defaults]\nframng = \"dec2\"\n[[student]]\nid = \"alice\"\ncommand = \"x {port}\"\n",
        );
        assert!(
            e.contains("unknown key `framng` in [defaults]; did you mean `framing`?"),
            "{e}"
        );
        let e = problems("[[student]]\nid = \"alice\"\ncomand = \"x {port}\"\n");
        assert!(e.contains("`comand` in [[student]] 1 (alice)"), "{e}");
        assert!(e.contains("did you mean `command`?"), "{e}");
        let e = problems("colour = 1\n[[student]]\nid = \"alice\"\ncommand = \"x {port}\"\n");
        assert!(
            e.contains("unknown key `colour`") && e.contains("known keys"),
            "{e}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let e = problems(
            r#"
            [[student]]
            id = "alice"
            command = "python3 server.py"
            [[student]]
            id = "alice"
            command = "python3 server.py {port}"
            framing = "dec12"
            [[student]]
            id = "../x"
            dir = "nowhere"
            command = "x {port}"
            "#,
        );
        assert!(e.contains("has no {port}"), "{e}");
        assert!(e.contains("used twice"), "{e}");
        assert!(e.contains("dec12"), "{e}");
        assert!(e.contains("the id must be"), "{e}");
        assert!(e.contains("nowhere does not exist"), "{e}");
        assert!(e.contains("5 problems"), "{e}");
    }

    #[test]
    fn ids_that_could_escape_the_reports_folder_are_refused() {
        for bad in ["", ".", "..", "a/b", "a b", ".hidden"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
        for good in ["alice", "s1234567", "anne-marie_2", "j.doe"] {
            assert!(valid_id(good), "{good:?}");
        }
    }
}
