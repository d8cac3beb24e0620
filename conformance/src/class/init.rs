//! `class --init`: a starting manifest from a folder of submissions, one sub-folder per
//! student, with the command that starts each server guessed from the files in it.
//!
//! Each guess is said in a comment above the student's entry, and so is a folder whose
//! command could not be guessed (its `command` is left empty, which `class` refuses until it
//! is written).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::class::manifest::valid_id;

/// The command for one submission, and what the comment above it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// Empty when no guess could be made.
    pub command: String,
    /// Why this command, or why none.
    pub why: String,
}

/// The files of a folder (not its sub-folders), sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The sub-folders of a folder, sorted, hidden ones left out.
fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A file name as one shell word.
fn word(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// Guesses the command from the names of the files in a submission's folder.
pub fn guess(files: &[String]) -> Guess {
    let with = |ext: &str| -> Vec<&String> {
        files
            .iter()
            .filter(|f| f.to_ascii_lowercase().ends_with(ext))
            .collect()
    };
    let server_named = |list: &[&String]| -> Vec<String> {
        list.iter()
            .filter(|f| f.to_ascii_lowercase().contains("server"))
            .map(|f| (*f).clone())
            .collect()
    };
    let python = with(".py");
    let named = server_named(&python);
    if let [one] = named.as_slice() {
        let why = if python.len() == 1 {
            format!("the only Python file, {one}")
        } else {
            format!(
                "the one Python file with `server` in its name, of {}",
                python.len()
            )
        };
        return Guess {
            command: format!("python3 {} {{port}}", word(one)),
            why,
        };
    }
    if let [one] = python.as_slice() {
        return Guess {
            command: format!("python3 {} {{port}}", word(one)),
            why: format!("the only Python file, {one} (guessed: its name does not say server)"),
        };
    }
    if !python.is_empty() {
        if let Some(main) = python
            .iter()
            .find(|f| ["main.py", "__main__.py"].contains(&f.as_str()))
        {
            return Guess {
                command: format!("python3 {} {{port}}", word(main)),
                why: format!(
                    "guessed {main} among {} Python files ({}); check it",
                    python.len(),
                    list(&python)
                ),
            };
        }
        let which = if named.is_empty() {
            "none has `server` in its name".to_owned()
        } else {
            format!("{} have `server` in their names", named.len())
        };
        return Guess {
            command: String::new(),
            why: format!(
                "could not guess: {} Python files ({}), {which}; write the command",
                python.len(),
                list(&python)
            ),
        };
    }
    if files.iter().any(|f| f == "Cargo.toml") {
        return Guess {
            command: "cargo run --release --quiet -- {port}".into(),
            why: "guessed from Cargo.toml: a Rust server that takes the port as its argument"
                .into(),
        };
    }
    if files.iter().any(|f| f == "go.mod") {
        return Guess {
            command: "go run . {port}".into(),
            why: "guessed from go.mod: a Go server that takes the port as its argument".into(),
        };
    }
    let js = with(".js");
    let js_named = server_named(&js);
    let node = match (js_named.as_slice(), js.as_slice()) {
        ([one], _) => Some((
            one.clone(),
            "the one JavaScript file with `server` in its name",
        )),
        (_, [one]) => Some(((*one).clone(), "the only JavaScript file")),
        _ => None,
    };
    if let Some((file, why)) = node {
        return Guess {
            command: format!("node {} {{port}}", word(&file)),
            why: format!("{why}, {file}"),
        };
    }
    Guess {
        command: String::new(),
        why: if files.is_empty() {
            "could not guess: the folder has no files; write the command".into()
        } else {
            format!(
                "could not guess: no Python, Rust, Go or JavaScript server among {}; write the \
                 command",
                list(&files.iter().collect::<Vec<_>>())
            )
        },
    }
}

/// At most six names, comma-separated.
fn list(names: &[&String]) -> String {
    let shown: Vec<&str> = names.iter().take(6).map(|s| s.as_str()).collect();
    let more = names.len().saturating_sub(6);
    if more > 0 {
        format!("{}, and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// An id for a folder name: what a manifest id may hold, the rest replaced by `_`.
fn id_of(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    while id.starts_with('.') {
        id.replace_range(..1, "_");
    }
    id
}

/// `path` as written in the manifest at `manifest_dir`: relative when it lies below it.
fn relative(path: &Path, manifest_dir: &Path) -> String {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (path, base) = (abs(path), abs(manifest_dir));
    path.strip_prefix(&base)
        .map(Path::to_path_buf)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The manifest text for the submissions in `submissions`, to be written at `manifest`.
pub fn manifest_for(submissions: &Path, manifest: &Path) -> std::io::Result<String> {
    let base = manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let students = folders(submissions);
    if students.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{} has no sub-folders: give a folder with one sub-folder per submission",
                submissions.display()
            ),
        ));
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The class manifest for `confab-conform class`, written by `class --init` from\n\
         # {}. Check the commands below (each says how it was found), then run:\n\
         #   confab-conform class {} --out grades\n",
        submissions.display(),
        manifest.display()
    );
    out.push_str(
        "[defaults]\n\
         profile = \"course\"          # or a profile file\n\
         framing = \"auto\"            # dec1..dec9, bin1..bin8, bin2le..bin8le, hex1..hex9, raw, line, or auto\n\
         spelling = \"auto\"           # canonical, getnames, numeric, or auto\n\
         suites = [\"example\", \"rubric\"] # what the grade needs; add \"spec\", \"robustness\"\n\
         timeout_ms = 1000           # how long a reply that is due is awaited (loopback: ms)\n\
         startup_s = 10              # how long a server may take to listen\n\
         budget_s = 120              # wall-clock time for one student, all in\n\
         memory_mb = 1024            # the server's data limit (RLIMIT_DATA)\n\
         open_files = 256            # the server's open files (RLIMIT_NOFILE)\n",
    );
    let mut ids = std::collections::BTreeSet::new();
    for folder in students {
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut id = id_of(&name);
        let mut n = 2;
        while !valid_id(&id) || ids.contains(&id) {
            id = format!("{}-{n}", id_of(&name));
            n += 1;
        }
        ids.insert(id.clone());
        // A submission unpacked into one folder of its own: its files are one level down.
        let mut dir = folder.clone();
        let mut found = files(&dir);
        let inner = folders(&dir);
        if found.is_empty()
            && let [only] = inner.as_slice()
        {
            dir = only.clone();
            found = files(&dir);
        }
        let g = guess(&found);
        out.push('\n');
        let _ = writeln!(out, "# {}", g.why);
        if id != name {
            let _ = writeln!(out, "# (the id is the folder name {name:?} made safe)");
        }
        let _ = writeln!(out, "[[student]]");
        let _ = writeln!(out, "id = {}", quoted(&id));
        let _ = writeln!(out, "dir = {}", quoted(&relative(&dir, base)));
        let _ = writeln!(out, "command = {}", quoted(&g.command));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn commands_are_guessed_from_the_files_and_the_guess_is_said() {
        let g = guess(&names(&["chat_server.py", "helpers.py", "README.md"]));
        assert_eq!(g.command, "python3 chat_server.py {port}");
        assert!(g.why.contains("`server` in its name"), "{}", g.why);
        let g = guess(&names(&["hw2.py"]));
        assert_eq!(g.command, "python3 hw2.py {port}");
        assert!(g.why.contains("guessed"), "{}", g.why);
        let g = guess(&names(&["my server.py"]));
        assert_eq!(g.command, "python3 'my server.py' {port}");
        let g = guess(&names(&["a.py", "b.py"]));
        assert_eq!(g.command, "");
        assert!(
            g.why
                .contains("could not guess: 2 Python files (a.py, b.py)")
        );
        let g = guess(&names(&["client.py", "main.py"]));
        assert_eq!(g.command, "python3 main.py {port}");
        let g = guess(&names(&["server.js", "util.js"]));
        assert_eq!(g.command, "node server.js {port}");
        let g = guess(&names(&["Cargo.toml"]));
        assert!(g.command.contains("{port}"));
        assert_eq!(guess(&[]).command, "");
    }

    #[test]
    fn folder_names_become_safe_ids() {
        assert_eq!(id_of("alice"), "alice");
        assert_eq!(id_of("Anne Marie (late)"), "Anne_Marie__late_");
        assert_eq!(id_of(".x"), "_x");
        assert!(valid_id(&id_of("ünïcödé")));
    }
}
