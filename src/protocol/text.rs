//! The text of a message (MSG-6, MSG-7).
//!
//! ```text
//! text = 1*UTF8-char   ; 1 to 9961 bytes, relayed byte for byte
//! ```
//!
//! 9961 is the frame limit less the longest sender name less `" SENT "`: any [`Text`] fits in
//! a delivery frame, whoever sends it.

use std::fmt;

use super::MAX_TEXT_LEN;

/// A message text: valid UTF-8, 1 to [`MAX_TEXT_LEN`] bytes, any characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Text(Box<str>);

/// Why a string cannot be a message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("a message text cannot be empty")]
    Empty,
    #[error("a message text is at most {MAX_TEXT_LEN} bytes; this one has {len}")]
    TooLong { len: usize },
}

impl Text {
    /// Validates `s` as a message text.
    pub fn new(s: &str) -> Result<Text, TextError> {
        check(s)?;
        Ok(Text(s.into()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a text is never empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn check(s: &str) -> Result<(), TextError> {
    if s.is_empty() {
        Err(TextError::Empty)
    } else if s.len() > MAX_TEXT_LEN {
        Err(TextError::TooLong { len: s.len() })
    } else {
        Ok(())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Text({:?})", &*self.0)
    }
}

/// The raw text, not escaped: use [`super::escape`] before showing it to a person.
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for Text {
    type Error = TextError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Text::new(s)
    }
}

impl TryFrom<String> for Text {
    type Error = TextError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        check(&s)?;
        Ok(Text(s.into_boxed_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bounds() {
        assert_eq!(Text::new(""), Err(TextError::Empty));
        assert!(Text::new(" ").is_ok());
        assert!(Text::new(&"a".repeat(MAX_TEXT_LEN)).is_ok());
        assert_eq!(
            Text::new(&"a".repeat(MAX_TEXT_LEN + 1)),
            Err(TextError::TooLong {
                len: MAX_TEXT_LEN + 1
            })
        );
        // The limit counts bytes, not characters (FRAME-2).
        let e = "é".repeat(MAX_TEXT_LEN / 2 + 1);
        assert_eq!(Text::new(&e), Err(TextError::TooLong { len: e.len() }));
    }

    #[test]
    fn control_characters_are_kept() {
        let t = Text::new("\x1b[2J\tbell\x07").unwrap();
        assert_eq!(t.as_str(), "\x1b[2J\tbell\x07");
    }
}
