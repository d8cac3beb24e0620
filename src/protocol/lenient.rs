//! Reading servers that speak the course's dialects in their own words (PROTOCOL.md §11).
//!
//! Real course servers frame their replies in many ways and word them freely (`Hello A`,
//! `Connected clients: A, B`, `A: hi`). What is shared here is how those replies are read
//! without knowing the server in advance: the words of a payload, whether it reads as a
//! refusal, and which framings a run of received bytes could have been sent in. The harness
//! judges with these, and the client shows with them, so both read a server the same way.

use std::time::Duration;

use bytes::Bytes;

use super::dialect::{BinaryWidth, DecimalWidth, Framing};
use super::frame;

/// The words of a payload: maximal runs of ASCII letters and digits in its [`visible`] text.
/// A payload that is not UTF-8 has no words.
pub fn words(payload: &[u8]) -> Vec<&str> {
    let text = std::str::from_utf8(payload).unwrap_or_default();
    visible(text)
        .flat_map(|piece| piece.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .collect()
}

/// What a terminal shows of `text`: the pieces between its ANSI escape sequences (colours and
/// styles such as `\x1b[32m` and `\x1b[0m`), which are no part of any word (JUDGE-24).
pub fn visible(text: &str) -> impl Iterator<Item = &str> {
    text.split('\u{1b}')
        .enumerate()
        .map(|(i, piece)| if i == 0 { piece } else { after_escape(piece) })
}

/// `piece` (what follows an ESC) without the rest of its escape sequence: a control sequence
/// (`[`, parameter bytes, intermediate bytes, a final byte), or else one character.
fn after_escape(piece: &str) -> &str {
    let bytes = piece.as_bytes();
    if bytes.first() != Some(&b'[') {
        return piece.char_indices().nth(1).map_or("", |(i, _)| &piece[i..]);
    }
    let mut end = 1;
    for range in [0x30..=0x3f, 0x20..=0x2f] {
        while bytes.get(end).is_some_and(|b| range.contains(b)) {
            end += 1;
        }
    }
    if bytes.get(end).is_some_and(|b| (0x40..=0x7e).contains(b)) {
        end += 1;
    }
    // Every byte passed over is ASCII, so `end` is a character boundary.
    &piece[end..]
}

/// `text` as a terminal shows it, its [`visible`] pieces, with a space where an escape
/// sequence stood between two words (`\x1b[1mAlice\x1b[0m wrote: hi` is `Alice wrote: hi`).
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    for piece in visible(text) {
        let apart = |c: Option<char>| c.is_none_or(char::is_whitespace);
        if !apart(out.chars().last()) && !apart(piece.chars().next()) {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out.into()
}

/// Whether `word` is one of the words of `payload`.
pub fn has_word(payload: &[u8], word: &str) -> bool {
    words(payload).contains(&word)
}

/// How a server shows a name it was sent: as sent, or folded to one letter case, as a server
/// that keeps names in lower case does (JUDGE-21).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NameCase {
    /// As sent.
    #[default]
    AsSent,
    /// In lower case.
    Lower,
    /// In upper case.
    Upper,
}

impl NameCase {
    /// How `payload` shows `name`, if it shows it at all: as sent where a word is the name,
    /// else in the one letter case a word has it in.
    pub fn shown(payload: &[u8], name: &str) -> Option<NameCase> {
        let words = words(payload);
        [
            (NameCase::AsSent, name.to_owned()),
            (NameCase::Lower, name.to_ascii_lowercase()),
            (NameCase::Upper, name.to_ascii_uppercase()),
        ]
        .into_iter()
        .find(|(_, n)| words.contains(&n.as_str()))
        .map(|(case, _)| case)
    }

    /// `name` in this case.
    pub fn apply(self, name: &str) -> String {
        match self {
            NameCase::AsSent => name.to_owned(),
            NameCase::Lower => name.to_ascii_lowercase(),
            NameCase::Upper => name.to_ascii_uppercase(),
        }
    }
}

/// Words that make a reply read as a refusal, compared without case.
pub const REFUSAL_WORDS: [&str; 38] = [
    "error",
    "err",
    "taken",
    "invalid",
    "exists",
    "exist",
    "already",
    "fail",
    "failed",
    "sorry",
    "not",
    "unknown",
    "no",
    "cannot",
    "illegal",
    "bad",
    "unrecognized",
    "unrecognised",
    "must",
    "unable",
    "denied",
    "refused",
    "rejected",
    "forbidden",
    "duplicate",
    "unavailable",
    "unsupported",
    "wrong",
    "huh",
    // Negations written without their apostrophe, as many course servers do.
    "cant",
    "dont",
    "doesnt",
    "didnt",
    "isnt",
    "wasnt",
    "arent",
    "couldnt",
    "wont",
];

/// Whether a payload reads as an error or a refusal (JUDGE-14): one of its words, in any
/// case, is in [`REFUSAL_WORDS`], or is a negation such as `can't`, `doesn't` or `won't` (the apostrophe
/// ASCII or typographic, or left out: `cant`, `doesnt`); or it starts with a question mark
/// (`?? DANCE`: the server did not understand).
pub fn reads_as_refusal(payload: &[u8]) -> bool {
    let text = shown(&String::from_utf8_lossy(payload)).to_lowercase();
    if text.trim_start().starts_with('?') {
        return true;
    }
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .any(|w| {
            let w = w.trim_matches(|c| c == '\'' || c == '\u{2019}');
            REFUSAL_WORDS.contains(&w) || w.ends_with("n't") || w.ends_with("n\u{2019}t")
        })
}

/// Whether a payload may open a names list that a course server sends in several frames
/// (`Connected users:`, then `Alice`, then `Bob`): text that ends in `:` and is not a
/// refusal.
pub fn opens_list(payload: &[u8]) -> bool {
    std::str::from_utf8(payload).is_ok_and(|t| {
        shown(t)
            .trim_end_matches(|c: char| c.is_whitespace() || c == '\0')
            .ends_with(':')
            && !reads_as_refusal(payload)
    })
}

/// The items of a names list in a course server's words: what stands between commas,
/// spaces, line breaks and NUL bytes (a C string's end, JUDGE-29) in its [`visible`] text,
/// bullets left out (` - Alice`, `* Bob`).
pub fn list_items(text: &str) -> impl Iterator<Item = &str> {
    visible(text)
        .flat_map(|piece| piece.split(|c: char| c == ',' || c.is_whitespace() || c == '\0'))
        .filter(|w| !w.is_empty() && !BULLETS.contains(w))
}

/// Marks that a server may put before each name of a list, one per line.
const BULLETS: [&str; 5] = ["-", "*", "\u{2022}", "\u{2013}", "\u{b7}"];

/// Whether a payload is names alone: one or more valid names (NAME-3), separated by spaces,
/// commas or line breaks, and nothing else. A part of a names list sent in several frames.
pub fn names_alone(payload: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(payload) else {
        return false;
    };
    let mut tokens = list_items(text).peekable();
    tokens.peek().is_some()
        && tokens.all(|w| super::Name::new(w).is_ok())
        && !reads_as_refusal(payload)
}

/// How long a names list sent in several frames waits for its next part at least
/// (JUDGE-13, CLIENT-7).
pub const LIST_PART_GAP: Duration = Duration::from_millis(200);

/// A names list that a course server sends in several frames (JUDGE-13, CLIENT-7): a frame
/// that may open one (a heading such as `Connected users:`, or names alone), then the frames
/// of names alone that follow it. The reader decides how long to wait for each part
/// ([`LIST_PART_GAP`] at least); this keeps what was read and says whether a frame goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParts {
    parts: Vec<Bytes>,
    /// The words read so far: a list names no one twice.
    seen: Vec<String>,
}

impl ListParts {
    /// Whether `payload` may be the first frame of a names list sent in several frames: text
    /// that ends in `:` ([`opens_list`]) or names alone ([`names_alone`]).
    pub fn opened_by(payload: &[u8]) -> bool {
        opens_list(payload) || names_alone(payload)
    }

    /// A list opened by `first`.
    pub fn new(first: Bytes) -> ListParts {
        let seen = words(&first).into_iter().map(str::to_owned).collect();
        ListParts {
            parts: vec![first],
            seen,
        }
    }

    /// Takes `payload` as the list's next part when it is names alone and repeats no word
    /// already read; answers whether it did. A frame that repeats one is the next reply (as
    /// when a server answers two `GET_NAMES` at once), and any other frame ends the list.
    pub fn take(&mut self, payload: &Bytes) -> bool {
        if !names_alone(payload) {
            return false;
        }
        let new = words(payload);
        if new.iter().any(|w| self.seen.iter().any(|s| s == w)) {
            return false;
        }
        self.seen.extend(new.into_iter().map(str::to_owned));
        self.parts.push(payload.clone());
        true
    }

    /// The frames read, the first one first.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// The list as one payload: its frames one per line (the first frame alone when no part
    /// followed it).
    pub fn joined(&self) -> Bytes {
        match self.parts.as_slice() {
            [only] => only.clone(),
            parts => Bytes::from(parts.join(&b"\n"[..])),
        }
    }
}

/// Framings in the order they are met among course servers: the first candidates a detector
/// tries when it has nothing to go on.
pub const LIKELY_FRAMINGS: [&str; 27] = [
    "dec2", "dec4", "raw", "dec3", "line", "bin8", "hex4", "dec1", "dec5", "dec6", "dec7", "dec8",
    "dec9", "bin4", "bin2", "bin1", "bin2le", "bin4le", "bin8le", "hex2", "hex3", "hex1", "hex5",
    "hex6", "hex7", "hex8", "hex9",
];

/// The framings of [`LIKELY_FRAMINGS`], parsed.
pub fn likely_framings() -> Vec<Framing> {
    LIKELY_FRAMINGS
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The framings in which `bytes`, all of them, are a run of complete frames whose payloads
/// are text (UTF-8 without NUL), best first: framings with a length field before `line`, and
/// `raw` (which fits anything that is text) last. Empty when the bytes are empty.
///
/// This is how a server's dialect is told from what it sent: `11HELLO Smoke` fits `dec2`
/// (and `raw`), `0011Hello Smoke` fits `dec4`, `HELLO Smoke!` only `raw`.
pub fn framings_of(bytes: &[u8]) -> Vec<Framing> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let mut fits = Vec::new();
    let decimal = (1..=9).filter_map(DecimalWidth::new).map(Framing::Decimal);
    let binary = [8, 4, 2, 1]
        .into_iter()
        .filter_map(BinaryWidth::new)
        .map(Framing::Binary);
    let binary_le = [8, 4, 2]
        .into_iter()
        .filter_map(BinaryWidth::new)
        .map(Framing::BinaryLe);
    let hex = (1..=9).filter_map(DecimalWidth::new).map(Framing::Hex);
    for framing in decimal
        .chain(binary)
        .chain(binary_le)
        .chain(hex)
        .chain([Framing::Line])
    {
        if whole_text_frames(framing, bytes) {
            fits.push(framing);
        }
    }
    // Fewer frames is the likelier reading: a greeting and a reply are two, not five.
    fits.sort_by_key(|f| (matches!(f, Framing::Line), frame_count(*f, bytes)));
    if std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')) {
        fits.push(Framing::Raw);
    }
    fits
}

fn whole_text_frames(framing: Framing, bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while !rest.is_empty() {
        match frame::decode_frame_padded(framing, rest) {
            Ok(Some(span)) => {
                // A C string's terminator ends the text, not a part of it (JUDGE-29).
                let payload = &rest[span.payload()];
                let payload = payload.strip_suffix(b"\0").unwrap_or(payload);
                if payload.is_empty() && framing != Framing::Line {
                    return false;
                }
                if std::str::from_utf8(payload).map_or(true, |t| t.contains('\0')) {
                    return false;
                }
                rest = &rest[span.consumed..];
            }
            _ => return false,
        }
    }
    true
}

fn frame_count(framing: Framing, bytes: &[u8]) -> usize {
    let mut rest = bytes;
    let mut n = 0;
    while let Ok(Some(span)) = frame::decode_frame_padded(framing, rest) {
        n += 1;
        rest = &rest[span.consumed..];
        if rest.is_empty() {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Framing {
        s.parse().expect("a framing")
    }

    #[test]
    fn a_c_strings_terminator_is_no_part_of_the_text_judge_29() {
        let fits = framings_of(b"18You are Alice now\x0020Present: Alice, Bob\x00");
        assert_eq!(fits.first(), Some(&f("dec2")), "{fits:?}");
        assert!(
            framings_of(b"05Al\x00ce").is_empty(),
            "a NUL inside the text"
        );
        assert_eq!(
            list_items("Present: Alice, Bob\0").collect::<Vec<_>>(),
            ["Present:", "Alice", "Bob"]
        );
        assert!(names_alone(b"Bob\0"));
        assert!(opens_list(b"Users:\0"));
        assert!(has_word(b"Msg from Alice - HELLO\0", "HELLO"));
    }

    #[test]
    fn a_little_endian_length_is_told_from_the_reply() {
        let fits = framings_of(b"\x17\x00Nice to meet you, Alice");
        assert_eq!(fits.first(), Some(&f("bin2le")), "{fits:?}");
        assert!(!fits.contains(&f("bin2")), "{fits:?}");
        assert!(likely_framings().contains(&f("bin2le")));
    }

    #[test]
    fn colour_codes_are_read_as_spaces_between_words_judge_24() {
        let hello = b"\x1b[32mJoined as Alice\x1b[0m";
        assert_eq!(words(hello), ["Joined", "as", "Alice"]);
        assert!(has_word(b"\x1b[1mAlice\x1b[0m wrote: HELLO", "Alice"));
        assert!(!reads_as_refusal(hello));
        assert!(reads_as_refusal(b"\x1b[31mNo such command: DANCE\x1b[0m"));
        assert!(reads_as_refusal(b"\x1b[1;31mUnknown\x1b[0m"));
        assert_eq!(
            list_items("\x1b[32mHere now: Alice, \x1b[1mBob\x1b[0m\x1b[0m").collect::<Vec<_>>(),
            ["Here", "now:", "Alice", "Bob"]
        );
        assert!(opens_list(b"\x1b[33mUsers:\x1b[0m"));
        assert!(names_alone(b"\x1b[1mAlice\x1b[0m"));
        assert_eq!(shown("\x1b[1mAlice\x1b[0m wrote: hi"), "Alice wrote: hi");
        assert_eq!(shown("A\x1b[0mB \x1b[31m"), "A B ");
        assert_eq!(shown("plain  text"), "plain  text");
        // A two-character escape, and one cut short at the end of the text.
        assert_eq!(words(b"\x1bcAlice \x1b[3"), ["Alice"]);
        // Without escapes, text is read as it stands: `[32m` alone is not a colour.
        assert_eq!(words(b"[32mAlice"), ["32mAlice"]);
    }

    #[test]
    fn a_name_is_found_as_sent_or_in_one_letter_case() {
        assert_eq!(
            NameCase::shown(b"Welcome Watchabc!", "Watchabc"),
            Some(NameCase::AsSent)
        );
        assert_eq!(
            NameCase::shown(b"Welcome watchabc!", "Watchabc"),
            Some(NameCase::Lower)
        );
        assert_eq!(
            NameCase::shown(b"WELCOME WATCHABC", "Watchabc"),
            Some(NameCase::Upper)
        );
        // Another mix of cases is another name; so is a longer word.
        assert_eq!(NameCase::shown(b"Welcome wAtchabc", "Watchabc"), None);
        assert_eq!(NameCase::shown(b"Welcome watchabcd", "Watchabc"), None);
        assert_eq!(NameCase::Lower.apply("Aizwaab"), "aizwaab");
        assert_eq!(NameCase::Upper.apply("Aizwaab"), "AIZWAAB");
        assert_eq!(NameCase::AsSent.apply("Aizwaab"), "Aizwaab");
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(
            words(b"Connected clients: Ann, Bob"),
            ["Connected", "clients", "Ann", "Bob"]
        );
        assert!(words(b"\xff\xfe").is_empty());
        assert!(has_word(b"Hello Ann!", "Ann"));
        assert!(!has_word(b"Hello Annie", "Ann"));
    }

    #[test]
    fn refusals_read_as_refusals_in_any_wording() {
        for r in [
            &b"ERROR NAME_TAKEN taken"[..],
            b"Name already in use",
            b"The name must consist of only letters",
            b"Unknown command",
            b"Command not recognized",
            b"NAME ERROR Invalid name",
            b"I don't understand 'DANCE'",
            b"User Nobody doesn\xe2\x80\x99t exist",
            b"Can't find Nobody",
            b"cant find Nobody",
            b"Nobody doesnt exist",
            b"Nobody isn't online",
            b"You won't reach yourself",
            b"Duplicate name",
            b"Username unavailable",
            b"Command not supported",
            b"Unsupported command",
            b"Access denied",
            b"?? DANCE",
            b"Huh? Try NAME, GET_NAMES, MSG or EXIT",
        ] {
            assert!(reads_as_refusal(r), "{}", String::from_utf8_lossy(r));
        }
        for ok in [
            &b"HELLO Ann"[..],
            b"Welcome, Ann!",
            b"Ann: hi",
            b"Bye!",
            b"You are now known as Ann",
            b"['Ann', 'Bob']",
            b"Online (2): Ann, Bob",
        ] {
            assert!(!reads_as_refusal(ok), "{}", String::from_utf8_lossy(ok));
        }
    }

    #[test]
    fn parts_of_a_names_list_are_told_from_other_replies() {
        for head in [&b"Connected users:"[..], b"Users online:\n", b"Online: "] {
            assert!(opens_list(head), "{}", String::from_utf8_lossy(head));
        }
        for other in [&b"Alice: hi"[..], b"Error:", b"Welcome Alice", b"\xff:"] {
            assert!(!opens_list(other), "{}", String::from_utf8_lossy(other));
        }
        for alone in [
            &b"Alice"[..],
            b" - Alice\r\n",
            "\u{2022} Alice".as_bytes(),
            b"Alice\n",
            b"Alice, Bob",
            b"Alice Bob\nCarol ",
        ] {
            assert!(names_alone(alone), "{}", String::from_utf8_lossy(alone));
        }
        for other in [
            &b""[..],
            b"\n",
            b" - ",
            b"[Alice] hi",
            b"Alice: hi",
            b"*** Bob left the chat",
            b"Delivered.",
            b"No Alice",
            b"\xff",
        ] {
            assert!(!names_alone(other), "{}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn a_list_goes_on_with_names_alone_that_repeat_no_word() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        assert!(ListParts::opened_by(b"Connected users:"));
        assert!(ListParts::opened_by(b"Alice"));
        assert!(!ListParts::opened_by(b"Connected users: Alice"));
        let mut list = ListParts::new(b("Connected users:"));
        assert_eq!(list.joined(), b("Connected users:"));
        assert!(list.take(&b("Alice")));
        assert!(list.take(&b("Bob, Carol")));
        // A name read already, a heading, a refusal, a delivery: not parts.
        for other in ["Bob", "Users:", "Not found", "Dave: hi", "users"] {
            assert!(!list.take(&b(other)), "{other}");
        }
        assert_eq!(list.parts().len(), 3);
        assert_eq!(list.joined(), b("Connected users:\nAlice\nBob, Carol"));
    }

    #[test]
    fn the_reply_to_a_first_name_tells_the_framing() {
        assert_eq!(framings_of(b"11HELLO Smoke")[0], f("dec2"));
        assert_eq!(framings_of(b"011HELLO Smoke")[0], f("dec3"));
        assert_eq!(framings_of(b"0011Hello Smoke")[0], f("dec4"));
        assert_eq!(
            framings_of(b"\x00\x00\x00\x00\x00\x00\x00\x0bHELLO Smoke")[0],
            f("bin8")
        );
        assert_eq!(framings_of(b"HELLO Smoke!"), [f("raw")]);
        assert_eq!(framings_of(b"CONNECTED_NAMES Smoke\n")[0], f("line"));
        // A greeting and a reply in one read.
        assert_eq!(
            framings_of(b"27Welcome to the chat server!11HELLO Smoke")[0],
            f("dec2")
        );
        assert!(framings_of(b"").is_empty());
        // A length padded with spaces, as `"%4d"` writes it (DIALECT-6).
        assert_eq!(framings_of(b"  11Hello Smoke")[0], f("dec4"));
        assert_eq!(framings_of(b" 11Hello Smoke")[0], f("dec3"));
    }

    #[test]
    fn likely_framings_all_parse() {
        assert_eq!(likely_framings().len(), LIKELY_FRAMINGS.len());
    }
}
