//! Names: who is who on a server (NAME-3).
//!
//! ```text
//! name = ALPHA *31(ALPHA / DIGIT)   ; not a reserved word: HELLO, SENT, ERROR, BYE
//! ```
//!
//! A [`Name`] can only be built by validation, so anything holding one holds a valid name.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use super::{MAX_NAME_LEN, RESERVED_WORDS};

/// A valid name: 1 to 32 ASCII letters and digits, starting with a letter, not reserved.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Box<str>);

/// Why a word is not a valid name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name cannot be empty")]
    Empty,
    #[error("a name is at most 32 characters; this one has {len} bytes")]
    TooLong { len: usize },
    #[error("a name starts with an ASCII letter, not {found:?}")]
    BadStart { found: char },
    #[error("a name holds only ASCII letters and digits; byte {offset} is {found:?}")]
    BadChar { offset: usize, found: char },
    #[error("{word:?} is a reserved word")]
    Reserved { word: &'static str },
}

impl Name {
    /// Validates `word` as a name.
    pub fn new(word: &str) -> Result<Name, NameError> {
        validate(word)?;
        Ok(Name(word.into()))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The length in bytes (equal to characters: names are ASCII).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false; here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Checks `word` against the name rule without allocating.
pub fn validate(word: &str) -> Result<(), NameError> {
    let mut chars = word.char_indices();
    let Some((_, first)) = chars.next() else {
        return Err(NameError::Empty);
    };
    if !first.is_ascii_alphabetic() {
        return Err(NameError::BadStart { found: first });
    }
    if let Some((offset, found)) = chars.find(|(_, c)| !c.is_ascii_alphanumeric()) {
        return Err(NameError::BadChar { offset, found });
    }
    if word.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: word.len() });
    }
    if let Some(word) = RESERVED_WORDS.iter().find(|r| **r == word) {
        return Err(NameError::Reserved { word });
    }
    Ok(())
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({:?})", &*self.0)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets maps keyed by `Name` be searched with a `&str`.
impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::new(s)
    }
}

impl TryFrom<&str> for Name {
    type Error = NameError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Name::new(s)
    }
}

impl TryFrom<String> for Name {
    type Error = NameError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        validate(&s)?;
        Ok(Name(s.into_boxed_str()))
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for ok in [
            "A",
            "b",
            "Alice",
            "x1",
            "Z9z9",
            "hello",
            "Hello",
            "ERRORS",
            "abcdefghijklmnopqrstuvwxyzABCDEF",
        ] {
            assert_eq!(Name::new(ok).map(|n| n.to_string()), Ok(ok.to_owned()));
        }
    }

    #[test]
    fn invalid_names_say_why() {
        let cases: &[(&str, NameError)] = &[
            ("", NameError::Empty),
            ("1abc", NameError::BadStart { found: '1' }),
            ("_a", NameError::BadStart { found: '_' }),
            ("é", NameError::BadStart { found: 'é' }),
            (
                "ab c",
                NameError::BadChar {
                    offset: 2,
                    found: ' ',
                },
            ),
            (
                "abé",
                NameError::BadChar {
                    offset: 2,
                    found: 'é',
                },
            ),
            (
                "a_b",
                NameError::BadChar {
                    offset: 1,
                    found: '_',
                },
            ),
            (
                "abcdefghijklmnopqrstuvwxyzABCDEFG",
                NameError::TooLong { len: 33 },
            ),
            ("HELLO", NameError::Reserved { word: "HELLO" }),
            ("SENT", NameError::Reserved { word: "SENT" }),
            ("ERROR", NameError::Reserved { word: "ERROR" }),
            ("BYE", NameError::Reserved { word: "BYE" }),
        ];
        for (input, err) in cases {
            assert_eq!(Name::new(input).as_ref(), Err(err), "{input:?}");
        }
    }
}
