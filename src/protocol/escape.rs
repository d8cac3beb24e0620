//! Showing untrusted bytes inertly.
//!
//! A name, a text or an echoed command may hold control characters and terminal escape
//! sequences. Nothing received is ever written to a terminal or a log as it is (CLIENT-2), and
//! error messages quote input escaped (ERR-2).

use std::borrow::Cow;
use std::fmt::Write;

/// Escapes the control characters of `s` (C0, DEL and C1) as `\n`, `\r`, `\t`, `\e` or
/// `\u{..}`; everything else, backslashes included, is left as it is. For showing chat text
/// to a person.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_char(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x1b' => out.push_str("\\e"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Escapes arbitrary bytes unambiguously, for transcripts and logs: printable characters of
/// valid UTF-8 as they are, a backslash as `\\`, control characters as in [`escape_text`], and
/// bytes that are not UTF-8 as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                push_char(&mut out, c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// At most `max_chars` characters of `s`, escaped as in [`escape_text`], with `...` when cut:
/// for quoting input in an error message (ERR-2).
pub fn quote(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max_chars {
            out.push_str("...");
            break;
        }
        push_char(&mut out, c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_controls_only() {
        assert_eq!(escape_text("plain é \\ text"), "plain é \\ text");
        assert_eq!(escape_text("\x1b[2J"), "\\e[2J");
        assert_eq!(
            escape_text("a\nb\rc\td\x07\x7f\u{9b}"),
            "a\\nb\\rc\\td\\u{7}\\u{7f}\\u{9b}"
        );
    }

    #[test]
    fn bytes_escape_unambiguously() {
        assert_eq!(escape_bytes(b"0006NAME A"), "0006NAME A");
        assert_eq!(escape_bytes(b"\xff\xfe\\x"), "\\xff\\xfe\\\\x");
        assert_eq!(escape_bytes("é\n".as_bytes()), "é\\n");
    }

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote("abcdef", 3), "abc...");
        assert_eq!(quote("ab", 3), "ab");
        assert_eq!(quote("\x1bc", 3), "\\ec");
    }
}
