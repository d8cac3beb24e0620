//! PROTOCOL.md is the source of truth; these tests keep it consistent with itself and with the
//! protocol layer: requirement IDs are unique and well formed, the example frames have the
//! lengths their headers claim and parse, and the error table lists exactly the codes the codec
//! knows.

use std::collections::BTreeSet;

use confab::protocol::{Command, ErrorCode, Reply};

const SPEC: &str = include_str!("../PROTOCOL.md");

/// `**ID** (LEVEL)` at the start of a list item.
fn requirements() -> Vec<(String, String)> {
    SPEC.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("- **")?;
            let (id, rest) = rest.split_once("** (")?;
            let (level, _) = rest.split_once(')')?;
            Some((id.to_owned(), level.to_owned()))
        })
        .collect()
}

#[test]
fn requirement_ids_are_unique_and_well_formed() {
    let reqs = requirements();
    assert!(reqs.len() > 50, "only {} requirements found", reqs.len());
    let mut seen = BTreeSet::new();
    for (id, level) in &reqs {
        let (area, number) = id.split_once('-').unwrap_or(("", ""));
        assert!(
            !area.is_empty() && area.bytes().all(|b| b.is_ascii_uppercase()),
            "{id}: area must be upper-case letters"
        );
        assert!(number.parse::<u32>().is_ok(), "{id}: number");
        assert!(
            ["MUST", "SHOULD", "MAY", "MUST NOT", "SHOULD NOT"].contains(&level.as_str()),
            "{id}: level {level}"
        );
        assert!(seen.insert(id.clone()), "{id} appears twice");
    }
}

#[test]
fn every_requirement_cited_in_the_spec_exists() {
    let ids: BTreeSet<String> = requirements().into_iter().map(|(id, _)| id).collect();
    let areas: BTreeSet<&str> = ids.iter().filter_map(|id| id.split('-').next()).collect();
    for word in SPEC.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some((area, number)) = word.split_once('-')
            && areas.contains(area)
            && number.parse::<u32>().is_ok()
        {
            assert!(ids.contains(word), "{word} is cited but not defined");
        }
    }
}

/// Backticked canonical frames in the spec: `0006NAME A` and the like.
fn example_frames() -> Vec<&'static str> {
    SPEC.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.len() >= 4 && s.as_bytes()[..4].iter().all(u8::is_ascii_digit))
        .filter(|s| !s.contains(' ') || s.len() > 4)
        .collect()
}

#[test]
fn example_frames_have_the_lengths_their_headers_claim() {
    let frames = example_frames();
    assert!(frames.len() >= 20, "found {frames:?}");
    for frame in frames {
        let (header, payload) = frame.split_at(4);
        // `0002` followed by bytes shown in prose, and the bad-header example, are not frames.
        if payload.is_empty() || header.parse::<usize>().is_err() {
            continue;
        }
        let declared: usize = header.parse().unwrap_or_default();
        assert_eq!(declared, payload.len(), "{frame:?}");
    }
}

#[test]
fn example_run_frames_parse_as_what_they_are() {
    let section = SPEC
        .split("## 12. The course's example run")
        .nth(1)
        .expect("section 12 exists");
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(direction), Some(bytes)) = (cells.get(2), cells.get(3)) else {
            continue;
        };
        let Some(frame) = bytes.strip_prefix('`').and_then(|b| b.strip_suffix('`')) else {
            continue;
        };
        let Some(payload) = frame.get(4..) else {
            continue;
        };
        if direction.ends_with('→') {
            assert!(
                Command::parse(payload.as_bytes()).is_ok(),
                "{payload:?} should be a command"
            );
        } else if direction.ends_with('←') {
            assert!(
                Reply::parse(payload.as_bytes()).is_ok(),
                "{payload:?} should be a reply"
            );
        }
    }
}

#[test]
fn the_error_table_lists_exactly_the_codes_of_the_codec() {
    let section = SPEC
        .split("## 7. Errors")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("section 7 exists");
    let listed: BTreeSet<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect();
    let known: BTreeSet<String> = ErrorCode::ALL.iter().map(|c| c.to_string()).collect();
    assert_eq!(listed, known);
    for code in ErrorCode::ALL {
        let closes = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{code}`")))
            .is_some_and(|l| l.contains("closed by the server"));
        assert_eq!(closes, code.closes_connection(), "{code}");
    }
}
