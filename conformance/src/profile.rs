//! Profiles: the dialect a server speaks, and how strictly to judge it.
//!
//! A profile is a small TOML file:
//!
//! ```toml
//! name = "my-server"
//! description = "Alice's server: 2-digit lengths, friendly replies"
//! framing = "dec2"          # dec1..dec9, bin1..bin8, bin2le..bin8le, hex1..hex9, raw, line, or auto
//! spelling = "canonical"    # canonical, getnames, numeric, or auto
//! matching = "lenient"      # strict: the exact bytes of PROTOCOL.md; lenient: the grading sheet
//! verdict = "rubric"        # rubric: the run passes or fails on the grading sheet's rows;
//!                           # spec (the default): on every MUST of PROTOCOL.md
//!
//! [replies]                 # optional: the exact forms this server uses
//! hello = "Hello {name}"
//! delivery = "{from}: {text}"
//! names_prefix = "Connected clients: "
//! names_separator = ", "
//! ```
//!
//! Two profiles are built in: `confab` (the canonical protocol, judged to the letter) and
//! `course` (the assignment as its grading sheet judges it).

use std::path::Path;
use std::str::FromStr;

use confab::protocol::{Dialect, Framing, Spelling};
use serde::{Deserialize, Serialize};

/// How replies are compared with what PROTOCOL.md prescribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Matching {
    /// The exact bytes of PROTOCOL.md (or of the profile's reply patterns).
    Strict,
    /// As the course's grading sheet: a names list passes when the names appear as words, a
    /// delivery when it carries the sender and the text, an error when it is a reply that is
    /// not the success reply. Each such acceptance is reported as a deviation.
    Lenient,
}

impl std::fmt::Display for Matching {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Matching::Strict => "strict",
            Matching::Lenient => "lenient",
        })
    }
}

/// The exact reply forms of a server that words its replies its own way. `{name}`, `{from}`
/// and `{text}` are placeholders. A reply matching its pattern passes without deviation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyPatterns {
    /// The reply to a successful NAME, e.g. `"Hello {name}"`.
    pub hello: Option<String>,
    /// The delivery of a message, e.g. `"{from}: {text}"`.
    pub delivery: Option<String>,
    /// What comes before the names in a names list, e.g. `"Connected clients: "`.
    pub names_prefix: Option<String>,
    /// What separates names in a names list, e.g. `", "`.
    pub names_separator: Option<String>,
}

/// What decides a run's verdict and exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum VerdictBasis {
    /// Every MUST case of every suite that ran.
    #[default]
    Spec,
    /// The grading sheet's rows, when the rubric ran; other findings are reported as beyond
    /// the assignment.
    Rubric,
}

/// A dialect and a way of judging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProfileFile", into = "ProfileFile")]
pub struct Profile {
    /// A short name, shown in reports.
    pub name: String,
    /// One line on what this profile is for.
    pub description: String,
    /// How the server frames messages and spells commands. When detected, the first guess
    /// (and what an embedded server speaks) until detection replaces it.
    pub dialect: Dialect,
    /// Whether the framing is found from the server's replies (`framing = "auto"`).
    pub detect_framing: bool,
    /// Whether the spelling is found from the server's replies (`spelling = "auto"`).
    pub detect_spelling: bool,
    /// How strictly replies are judged.
    pub matching: Matching,
    /// What decides the run's verdict.
    pub verdict: VerdictBasis,
    /// Optional exact reply forms.
    pub replies: ReplyPatterns,
}

/// A profile as written in TOML.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default)]
    description: String,
    framing: String,
    #[serde(default = "canonical")]
    spelling: String,
    matching: Matching,
    #[serde(default)]
    verdict: VerdictBasis,
    #[serde(default)]
    replies: ReplyPatterns,
}

fn canonical() -> String {
    Spelling::Canonical.to_string()
}

/// The word for a detected framing or spelling.
pub const AUTO: &str = "auto";

impl TryFrom<ProfileFile> for Profile {
    type Error = String;

    fn try_from(f: ProfileFile) -> Result<Profile, String> {
        let (framing, detect_framing) = if f.framing == AUTO {
            (Profile::course().dialect.framing, true)
        } else {
            (f.framing.parse().map_err(|e| format!("{e}"))?, false)
        };
        let (spelling, detect_spelling) = if f.spelling == AUTO {
            (Spelling::Canonical, true)
        } else {
            (f.spelling.parse().map_err(|e| format!("{e}"))?, false)
        };
        Ok(Profile {
            name: f.name,
            description: f.description,
            dialect: Dialect { framing, spelling },
            detect_framing,
            detect_spelling,
            matching: f.matching,
            verdict: f.verdict,
            replies: f.replies,
        })
    }
}

impl From<Profile> for ProfileFile {
    fn from(p: Profile) -> ProfileFile {
        ProfileFile {
            name: p.name,
            description: p.description,
            framing: if p.detect_framing {
                AUTO.into()
            } else {
                p.dialect.framing.to_string()
            },
            spelling: if p.detect_spelling {
                AUTO.into()
            } else {
                p.dialect.spelling.to_string()
            },
            matching: p.matching,
            verdict: p.verdict,
            replies: p.replies,
        }
    }
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "no built-in profile {:?} and no such file (built in: confab, course){}",
        .0,
        did_you_mean(.0)
    )]
    NotFound(String),
    #[error("cannot read profile {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("profile {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

impl Profile {
    /// The canonical protocol, judged to the letter of PROTOCOL.md.
    pub fn confab() -> Profile {
        Profile {
            name: "confab".into(),
            description: "the canonical protocol of PROTOCOL.md, judged strictly".into(),
            dialect: Dialect::CANONICAL,
            detect_framing: false,
            detect_spelling: false,
            matching: Matching::Strict,
            verdict: VerdictBasis::Spec,
            replies: ReplyPatterns::default(),
        }
    }

    /// The course assignment as its grading sheet judges it: framing and spelling detected
    /// (2-digit lengths and `GET_NAMES` first), lenient matching, the verdict of the rubric.
    pub fn course() -> Profile {
        Profile {
            name: "course".into(),
            description: "the course assignment as its grading sheet judges it: \
                          framing detected, lenient matching, verdict by the rubric"
                .into(),
            dialect: Dialect::with_framing(Framing::Decimal(
                confab::protocol::DecimalWidth::new(2)
                    .unwrap_or(confab::protocol::DecimalWidth::CANONICAL),
            )),
            detect_framing: true,
            detect_spelling: true,
            matching: Matching::Lenient,
            verdict: VerdictBasis::Rubric,
            replies: ReplyPatterns::default(),
        }
    }

    /// The built-in profiles.
    pub fn built_in() -> Vec<Profile> {
        vec![Profile::confab(), Profile::course()]
    }

    /// A built-in profile by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some(p) = Profile::built_in()
            .into_iter()
            .find(|p| p.name == name_or_path)
        {
            return Ok(p);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            return Err(ProfileError::NotFound(name_or_path.to_owned()));
        }
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: name_or_path.to_owned(),
            source,
        })?;
        Profile::from_toml(&text).map_err(|e| match e {
            ProfileError::Invalid { message, .. } => ProfileError::Invalid {
                path: name_or_path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses a profile from TOML text.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        toml::from_str(text).map_err(|e| ProfileError::Invalid {
            path: "(text)".into(),
            message: e.to_string(),
        })
    }

    /// The profile as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Whether replies are judged strictly.
    pub fn strict(&self) -> bool {
        self.matching == Matching::Strict
    }

    /// The largest payload the profile's framing carries.
    pub fn max_payload(&self) -> usize {
        self.dialect.framing.max_payload()
    }
}

/// `; did you mean "course"?` when `wrong` is a small slip from a built-in profile's name.
fn did_you_mean(wrong: &str) -> String {
    Profile::built_in()
        .into_iter()
        .map(|p| p.name)
        .find(|name| edit_distance(name, wrong) <= 2)
        .map(|name| format!("; did you mean {name:?}?"))
        .unwrap_or_default()
}

/// The Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

impl FromStr for Profile {
    type Err = ProfileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::load(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_survive_toml() {
        for p in Profile::built_in() {
            assert_eq!(Profile::from_toml(&p.to_toml()).ok(), Some(p));
        }
    }

    #[test]
    fn a_profile_file_is_read_with_patterns() {
        let p = Profile::from_toml(
            r#"
            name = "alice"
            framing = "dec3"
            spelling = "getnames"
            matching = "lenient"
            [replies]
            hello = "Hello {name}"
            names_separator = ", "
            "#,
        )
        .expect("valid profile");
        assert_eq!(p.dialect.framing.to_string(), "dec3");
        assert_eq!(p.dialect.spelling, Spelling::GetNames);
        assert_eq!(p.replies.hello.as_deref(), Some("Hello {name}"));
    }

    #[test]
    fn bad_profiles_name_the_problem() {
        let e = Profile::from_toml("name = \"x\"\nframing = \"dec12\"\nmatching = \"strict\"")
            .expect_err("dec12 is not a framing")
            .to_string();
        assert!(e.contains("dec12"), "{e}");
        let e = Profile::from_toml(
            "name = \"x\"\nframing = \"dec2\"\nmatching = \"strict\"\nextra = 1",
        )
        .expect_err("unknown field")
        .to_string();
        assert!(e.contains("extra"), "{e}");
        assert!(matches!(
            Profile::load("no-such-profile"),
            Err(ProfileError::NotFound(_))
        ));
    }

    #[test]
    fn a_misspelt_profile_gets_a_suggestion() {
        let e = Profile::load("coruse")
            .expect_err("no such profile")
            .to_string();
        assert!(e.contains("did you mean \"course\"?"), "{e}");
        let e = Profile::load("zzzzzz")
            .expect_err("no such profile")
            .to_string();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn auto_framing_and_spelling_survive_toml() {
        let p = Profile::from_toml(
            "name = \"x\"\nframing = \"auto\"\nspelling = \"auto\"\nmatching = \"lenient\"\nverdict = \"rubric\"",
        )
        .expect("valid");
        assert!(p.detect_framing && p.detect_spelling);
        assert_eq!(p.verdict, VerdictBasis::Rubric);
        assert_eq!(Profile::from_toml(&p.to_toml()).ok(), Some(p));
    }
}
