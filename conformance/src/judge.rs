//! Judging one reply against what was expected, strictly or leniently.
//!
//! Strict matching wants the exact bytes of PROTOCOL.md (or of the profile's reply patterns).
//! Lenient matching is the grading sheet's: a names list passes when the expected names appear
//! as words whatever the prefix and separator; a delivery passes when it carries the sender's
//! name and the text; an error is a reply that is not the success reply; each such acceptance
//! is a deviation, reported with the case. These functions are pure: they see one payload.

use confab::protocol::escape::escape_bytes;
use confab::protocol::{ErrorCode, Name, Reply};

use crate::profile::{Matching, Profile};

/// How a reply compares with what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Exactly as expected.
    Exact,
    /// Accepted by lenient matching; the text says how it differs.
    Deviation(String),
    /// Not acceptable; the text says why.
    Mismatch(String),
}

impl Judgement {
    /// Whether the reply is acceptable (exact or a deviation).
    pub fn accepted(&self) -> bool {
        !matches!(self, Judgement::Mismatch(_))
    }
}

pub use confab::protocol::lenient::{has_word, reads_as_refusal, words};

fn show(payload: &[u8]) -> String {
    format!("`{}`", escape_bytes(payload))
}

fn lenient(profile: &Profile) -> bool {
    profile.matching == Matching::Lenient
}

/// The reply to `NAME name` (NAME-1): `HELLO name`.
pub fn hello(profile: &Profile, payload: &[u8], name: &Name) -> Judgement {
    let exact = match &profile.replies.hello {
        Some(p) => p.replace("{name}", name.as_str()).into_bytes(),
        None => format!("HELLO {name}").into_bytes(),
    };
    if payload == exact {
        return Judgement::Exact;
    }
    if lenient(profile) && has_word(payload, name.as_str()) && !reads_as_refusal(payload) {
        let shape = String::from_utf8_lossy(payload).replace(name.as_str(), "<name>");
        return Judgement::Deviation(format!(
            "greetings read `{}` instead of `HELLO <name>`",
            escape_bytes(shape.as_bytes())
        ));
    }
    Judgement::Mismatch(format!("expected {}, got {}", show(&exact), show(payload)))
}

/// What a names list should show.
#[derive(Debug, Clone, Copy)]
pub struct NamesExpectation<'a> {
    /// Names that must appear, in this order (NAMES-1).
    pub present: &'a [&'a Name],
    /// Names that must not appear.
    pub absent: &'a [&'a Name],
    /// Whether names may be left out with a ` +N` marker (NAMES-5).
    pub allow_omitted: bool,
}

/// A names list (NAMES-1). Names the harness did not register (other clients of a shared
/// server) are ignored.
pub fn names(profile: &Profile, payload: &[u8], want: NamesExpectation<'_>) -> Judgement {
    let listed: Option<Vec<String>> = match (
        &profile.replies.names_prefix,
        &profile.replies.names_separator,
    ) {
        (None, None) => match Reply::parse(payload) {
            Ok(Reply::Names(list)) => {
                if list.omitted() > 0 && !want.allow_omitted {
                    return Judgement::Mismatch(format!(
                        "the list {} leaves {} names out, though it would fit",
                        show(payload),
                        list.omitted()
                    ));
                }
                Some(list.names().iter().map(|n| n.to_string()).collect())
            }
            _ => None,
        },
        (prefix, sep) => {
            let text = String::from_utf8_lossy(payload);
            let prefix = prefix.as_deref().unwrap_or("");
            text.strip_prefix(prefix).map(|rest| {
                if rest.is_empty() {
                    Vec::new()
                } else {
                    rest.split(sep.as_deref().unwrap_or(" "))
                        .map(str::to_owned)
                        .collect()
                }
            })
        }
    };
    let expected_form = || {
        let shown: Vec<&str> = want.present.iter().map(|n| n.as_str()).collect();
        format!(
            "a names list showing {}",
            if shown.is_empty() {
                "no names of ours".to_owned()
            } else {
                shown.join(" ")
            }
        )
    };
    match listed {
        Some(listed) => {
            if let Some(n) = want
                .absent
                .iter()
                .find(|n| listed.iter().any(|l| l == n.as_str()))
            {
                return Judgement::Mismatch(format!(
                    "{n} should not be listed, got {}",
                    show(payload)
                ));
            }
            let mut at = 0;
            for n in want.present {
                match listed.iter().position(|l| l == n.as_str()) {
                    None => {
                        return Judgement::Mismatch(format!(
                            "expected {}, got {} ({n} is missing)",
                            expected_form(),
                            show(payload)
                        ));
                    }
                    Some(i) if i < at => {
                        let order: Vec<&str> = want.present.iter().map(|n| n.as_str()).collect();
                        let message = format!(
                            "names are not in registration order ({}): got {}",
                            order.join(" "),
                            show(payload)
                        );
                        return if lenient(profile) {
                            Judgement::Deviation(message)
                        } else {
                            Judgement::Mismatch(message)
                        };
                    }
                    Some(i) => at = i,
                }
            }
            Judgement::Exact
        }
        None => {
            if !lenient(profile) {
                return Judgement::Mismatch(format!(
                    "expected {} in the form `A B C`, got {}",
                    expected_form(),
                    show(payload)
                ));
            }
            let ws = words(payload);
            if let Some(n) = want.absent.iter().find(|n| ws.contains(&n.as_str())) {
                return Judgement::Mismatch(format!(
                    "{n} should not be listed, got {}",
                    show(payload)
                ));
            }
            if let Some(n) = want.present.iter().find(|n| !ws.contains(&n.as_str())) {
                return Judgement::Mismatch(format!(
                    "expected {}, got {} ({n} is missing)",
                    expected_form(),
                    show(payload)
                ));
            }
            Judgement::Deviation(format!(
                "names lists read `{}` instead of names separated by single spaces",
                escape_bytes(list_shape(payload, want.present).as_bytes())
            ))
        }
    }
}

/// The form of a names list: what comes before the first expected name, between the first
/// two, and after the last, with the names shown as `<name>`.
fn list_shape(payload: &[u8], present: &[&Name]) -> String {
    let text = String::from_utf8_lossy(payload).into_owned();
    let mut spans: Vec<(usize, usize)> = present
        .iter()
        .filter_map(|n| text.find(n.as_str()).map(|i| (i, i + n.len())))
        .collect();
    spans.sort_unstable();
    match (spans.first(), spans.get(1), spans.last()) {
        (Some(&(s0, e0)), Some(&(s1, _)), Some(&(_, el))) if e0 <= s1 => format!(
            "{}<name>{}<name>{}",
            &text[..s0],
            &text[e0..s1],
            &text[el..]
        ),
        (Some(&(s0, e0)), _, _) => format!("{}<name>{}", &text[..s0], &text[e0..]),
        _ => text,
    }
}

/// A delivery of `text` from `from` (MSG-1).
pub fn delivery(profile: &Profile, payload: &[u8], from: &str, text: &str) -> Judgement {
    delivered(profile, payload, from, text, false)
}

/// A delivery of `text` from `from` as the grading sheet's rows ask for it (JUDGE-22): as
/// [`delivery`] judges it, except that lenient matching also finds the text in another letter
/// case (`ALICE: CARRY ON` carries `carry on`), a deviation.
pub fn delivery_words(profile: &Profile, payload: &[u8], from: &str, text: &str) -> Judgement {
    delivered(profile, payload, from, text, true)
}

fn delivered(
    profile: &Profile,
    payload: &[u8],
    from: &str,
    text: &str,
    any_case: bool,
) -> Judgement {
    let exact = match &profile.replies.delivery {
        Some(p) => p
            .replace("{from}", from)
            .replace("{text}", text)
            .into_bytes(),
        None => format!("{from} SENT {text}").into_bytes(),
    };
    if payload == exact {
        return Judgement::Exact;
    }
    if lenient(profile) && has_word(payload, from) {
        let carries_text = payload
            .windows(text.len().max(1))
            .any(|w| w == text.as_bytes());
        let shown = String::from_utf8_lossy(payload);
        if carries_text {
            let shape = shown.replacen(text, "<text>", 1).replace(from, "<name>");
            return Judgement::Deviation(format!(
                "deliveries read `{}` instead of `<name> SENT <text>`",
                escape_bytes(shape.as_bytes())
            ));
        }
        if shown.to_lowercase().contains(&text.to_lowercase()) {
            if any_case {
                return Judgement::Deviation(format!(
                    "deliveries read `{}` instead of `<name> SENT {}`: the text in another \
                     letter case (JUDGE-22)",
                    escape_bytes(shown.replace(from, "<name>").as_bytes()),
                    escape_bytes(text.as_bytes())
                ));
            }
            return Judgement::Mismatch(format!(
                "expected {}, got {}: the text in another letter case (MSG-6 asks for it as \
                 sent)",
                show(&exact),
                show(payload)
            ));
        }
    }
    Judgement::Mismatch(format!("expected {}, got {}", show(&exact), show(payload)))
}

/// An error reply with `code` (§7). `success` tells a reply that would mean the command
/// succeeded, which lenient matching must not accept as an error.
pub fn error(
    profile: &Profile,
    payload: &[u8],
    code: ErrorCode,
    success: &(dyn Fn(&[u8]) -> bool + Sync),
) -> Judgement {
    match Reply::parse(payload) {
        // A message is optional in the grammar; that one is present (ERR-2, a SHOULD) is
        // judged by its own case, spec.ERR-2.
        Ok(Reply::Error { code: got, .. }) if got == code => Judgement::Exact,
        Ok(Reply::Error { code: got, .. }) if !lenient(profile) => Judgement::Mismatch(format!(
            "expected `ERROR {code} ...`, got the code {got}: {}",
            show(payload)
        )),
        _ if !lenient(profile) => Judgement::Mismatch(format!(
            "expected `ERROR {code} ...`, got {}",
            show(payload)
        )),
        _ => {
            if success(payload) {
                return Judgement::Mismatch(format!(
                    "expected a refusal ({code}), got {}, which reads as the command working, \
                     not as a refusal",
                    show(payload)
                ));
            }
            Judgement::Deviation(format!("accepted {} as the {code} error", show(payload)))
        }
    }
}

/// The reply to EXIT (EXIT-2): `BYE`.
pub fn bye(profile: &Profile, payload: &[u8]) -> Judgement {
    if payload == b"BYE" {
        Judgement::Exact
    } else if lenient(profile) && !reads_as_refusal(payload) {
        Judgement::Deviation(format!("accepted {} as the reply to EXIT", show(payload)))
    } else {
        Judgement::Mismatch(format!("expected `BYE`, got {}", show(payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::new(s).expect("valid")
    }

    #[test]
    fn strict_hello_wants_exact_bytes() {
        let p = Profile::confab();
        assert_eq!(hello(&p, b"HELLO Ann", &n("Ann")), Judgement::Exact);
        assert!(!hello(&p, b"Hello Ann", &n("Ann")).accepted());
        assert!(!hello(&p, b"HELLO Ann ", &n("Ann")).accepted());
    }

    #[test]
    fn lenient_hello_takes_friendly_wordings_but_not_refusals() {
        let p = Profile::course();
        assert!(matches!(
            hello(&p, b"Welcome, Ann!", &n("Ann")),
            Judgement::Deviation(_)
        ));
        assert!(matches!(
            hello(&p, b"Server Sent: Hello Ann", &n("Ann")),
            Judgement::Deviation(_)
        ));
        assert!(!hello(&p, b"ERROR name Ann is taken", &n("Ann")).accepted());
        assert!(!hello(&p, b"Welcome, Bob!", &n("Ann")).accepted());
        assert!(!hello(&p, b"Welcome, Annie!", &n("Ann")).accepted());
    }

    #[test]
    fn names_lists() {
        let (a, b, c) = (n("Ann"), n("Bob"), n("Cy"));
        let want = NamesExpectation {
            present: &[&a, &b],
            absent: &[&c],
            allow_omitted: false,
        };
        let strict = Profile::confab();
        assert_eq!(names(&strict, b"Ann Bob", want), Judgement::Exact);
        assert_eq!(names(&strict, b"Zed Ann Other Bob", want), Judgement::Exact);
        assert!(!names(&strict, b"Bob Ann", want).accepted());
        assert!(!names(&strict, b"Ann Bob Cy", want).accepted());
        assert!(!names(&strict, b"Ann Bob ", want).accepted());
        assert!(!names(&strict, b"Ann, Bob", want).accepted());
        assert!(!names(&strict, b"Ann +1", want).accepted());
        let course = Profile::course();
        assert!(matches!(
            names(&course, b"Connected clients: Ann, Bob", want),
            Judgement::Deviation(_)
        ));
        assert!(matches!(
            names(&course, b"Bob Ann", want),
            Judgement::Deviation(_)
        ));
        assert!(!names(&course, b"Connected clients: Ann", want).accepted());
        assert!(!names(&course, b"Ann, Bob, Cy", want).accepted());
    }

    #[test]
    fn names_with_patterns_are_exact() {
        let mut p = Profile::course();
        p.replies.names_prefix = Some("Connected clients: ".into());
        p.replies.names_separator = Some(", ".into());
        let (a, b) = (n("Ann"), n("Bob"));
        let want = NamesExpectation {
            present: &[&a, &b],
            absent: &[],
            allow_omitted: false,
        };
        assert_eq!(
            names(&p, b"Connected clients: Ann, Bob", want),
            Judgement::Exact
        );
    }

    #[test]
    fn deliveries() {
        let strict = Profile::confab();
        assert_eq!(
            delivery(&strict, b"Ann SENT hi there", "Ann", "hi there"),
            Judgement::Exact
        );
        assert!(!delivery(&strict, b"Ann sent hi there", "Ann", "hi there").accepted());
        let course = Profile::course();
        assert!(matches!(
            delivery(&course, b"Ann: hi there", "Ann", "hi there"),
            Judgement::Deviation(_)
        ));
        assert!(!delivery(&course, b"Bob: hi there", "Ann", "hi there").accepted());
        assert!(!delivery(&course, b"Ann: hi", "Ann", "hi there").accepted());
        // The grading sheet's rows read a message's words in any letter case (JUDGE-22); the
        // spec's cases and strict matching keep its letters.
        assert!(matches!(
            delivery_words(&course, b"ANN: CARRY ON", "ANN", "carry on"),
            Judgement::Deviation(d) if d.contains("another letter case")
        ));
        assert!(matches!(
            delivery(&course, b"ANN: CARRY ON", "ANN", "carry on"),
            Judgement::Mismatch(m) if m.contains("another letter case (MSG-6")
        ));
        assert!(!delivery_words(&strict, b"ANN SENT CARRY ON", "ANN", "carry on").accepted());
        assert!(!delivery_words(&course, b"ANN: CARRY", "ANN", "carry on").accepted());
    }

    #[test]
    fn errors() {
        let strict = Profile::confab();
        let never = |_: &[u8]| false;
        let hello_a = |p: &[u8]| hello(&Profile::course(), p, &n("A")).accepted();
        assert_eq!(
            error(
                &strict,
                b"ERROR NAME_TAKEN taken",
                ErrorCode::NameTaken,
                &never
            ),
            Judgement::Exact
        );
        assert!(
            !error(
                &strict,
                b"ERROR BAD_ARGS taken",
                ErrorCode::NameTaken,
                &never
            )
            .accepted()
        );
        assert!(!error(&strict, b"Name taken", ErrorCode::NameTaken, &never).accepted());
        let course = Profile::course();
        assert!(matches!(
            error(&course, b"Name taken", ErrorCode::NameTaken, &hello_a),
            Judgement::Deviation(_)
        ));
        assert!(!error(&course, b"Hello A", ErrorCode::NameTaken, &hello_a).accepted());
    }
}
