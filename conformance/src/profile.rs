//! Profiles: the dialect a server speaks, and how strictly to judge it.
//!
//! A profile is a small TOML file:
//!
//! ```toml
//! name = "my-server"
//! description = "Alice's server: 2-digit lengths, friendly replies"
//! framing = "dec2"          # dec1..dec9, bin1, bin2, bin4, bin8, raw, line
//! spelling = "canonical"    # canonical, getnames, numeric
//! matching = "lenient"      # strict: the exact bytes of PROTOCOL.md; lenient: the grading sheet
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

/// A dialect and a way of judging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A short name, shown in reports.
    pub name: String,
    /// One line on what this profile is for.
    #[serde(default)]
    pub description: String,
    /// How messages are delimited.
    #[serde(with = "from_str")]
    pub framing: Framing,
    /// How commands are spelled.
    #[serde(with = "from_str", default)]
    pub spelling: Spelling,
    /// How strictly replies are judged.
    pub matching: Matching,
    /// Optional exact reply forms.
    #[serde(default)]
    pub replies: ReplyPatterns,
}

/// Why a profile could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no built-in profile {0:?} and no such file (built in: confab, course)")]
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
            framing: Framing::CANONICAL,
            spelling: Spelling::Canonical,
            matching: Matching::Strict,
            replies: ReplyPatterns::default(),
        }
    }

    /// The course assignment as its grading sheet judges it: 2-digit lengths, `GET_NAMES`,
    /// lenient matching.
    pub fn course() -> Profile {
        Profile {
            name: "course".into(),
            description: "the course assignment as its grading sheet judges it: \
                          2-digit lengths, GET_NAMES, lenient matching"
                .into(),
            framing: Framing::Decimal(
                confab::protocol::DecimalWidth::new(2)
                    .unwrap_or(confab::protocol::DecimalWidth::CANONICAL),
            ),
            spelling: Spelling::Canonical,
            matching: Matching::Lenient,
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
        Profile::from_toml(&text).map_err(|message| ProfileError::Invalid {
            path: name_or_path.to_owned(),
            message,
        })
    }

    /// Parses a profile from TOML text.
    pub fn from_toml(text: &str) -> Result<Profile, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The profile as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The dialect to speak.
    pub fn dialect(&self) -> Dialect {
        Dialect {
            framing: self.framing,
            spelling: self.spelling,
        }
    }

    /// Whether replies are judged strictly.
    pub fn strict(&self) -> bool {
        self.matching == Matching::Strict
    }

    /// The largest payload the profile's framing carries.
    pub fn max_payload(&self) -> usize {
        self.framing.max_payload()
    }

    /// Whether the framing has a length field.
    pub fn has_length_field(&self) -> bool {
        matches!(self.framing, Framing::Decimal(_) | Framing::Binary(_))
    }
}

/// Serialises `FromStr + Display` types as strings.
mod from_str {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
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
            assert_eq!(Profile::from_toml(&p.to_toml()), Ok(p));
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
        assert_eq!(p.framing.to_string(), "dec3");
        assert_eq!(p.spelling, Spelling::GetNames);
        assert_eq!(p.replies.hello.as_deref(), Some("Hello {name}"));
    }

    #[test]
    fn bad_profiles_name_the_problem() {
        let e = Profile::from_toml("name = \"x\"\nframing = \"dec12\"\nmatching = \"strict\"")
            .expect_err("dec12 is not a framing");
        assert!(e.contains("dec12"), "{e}");
        let e = Profile::from_toml(
            "name = \"x\"\nframing = \"dec2\"\nmatching = \"strict\"\nextra = 1",
        )
        .expect_err("unknown field");
        assert!(e.contains("extra"), "{e}");
        assert!(matches!(
            Profile::load("no-such-profile"),
            Err(ProfileError::NotFound(_))
        ));
    }
}
