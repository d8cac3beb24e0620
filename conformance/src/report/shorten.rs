//! Keeping a report readable: texts cut with a count of what was left out, `fix:` lines
//! wrapped, and the diff that shows where a wrong reply differs from the expected one.

/// Characters of a `step:`, `expected:` or `actual:` text shown on the terminal; the rest is
/// in `--transcripts`.
pub(crate) const TEXT_CHARS: usize = 240;

/// Bytes of a transcript line shown on the terminal.
pub(crate) const LINE_CHARS: usize = 160;

/// Width the `fix:` text is wrapped to.
pub(crate) const WRAP: usize = 96;

/// `text` cut to `max` characters, with a count of what was left out.
pub fn cut(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!(
        "{kept}… ({} more characters; all of it in --transcripts DIR)",
        total - max
    )
}

/// `text` wrapped at spaces to `width` columns, each line after the first behind `indent`.
pub(crate) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            out.push_str(indent);
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out
}

/// The lines that say where a wrong reply differs from the one expected, for an `actual:`
/// of the form ``expected `X`, got `Y` ``; `None` for any other failure, or when the two
/// have nothing in common at either end (the `actual:` line already says all).
pub fn diff(actual: &str) -> Option<String> {
    let rest = actual.strip_prefix("expected `")?;
    let (expected, rest) = rest.split_once("`, got `")?;
    let got = &rest[..rest.rfind('`')?];
    let e: Vec<char> = expected.chars().collect();
    let g: Vec<char> = got.chars().collect();
    let prefix = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let suffix = e[prefix..]
        .iter()
        .rev()
        .zip(g[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    if e == g || (prefix == 0 && suffix == 0) {
        return None;
    }
    let part = |chars: &[char]| -> String {
        let s: String = chars.iter().collect();
        if s.is_empty() {
            "nothing".to_owned()
        } else {
            format!("`{s}`")
        }
    };
    let e_mid = part(&e[prefix..e.len() - suffix]);
    let g_mid = part(&g[prefix..g.len() - suffix]);
    let shown = |chars: &[char]| cut(&chars.iter().collect::<String>(), TEXT_CHARS);
    let mut out = format!("  diff:     expected `{}`\n", shown(&e));
    out.push_str(&format!("            got      `{}`\n", shown(&g)));
    if prefix < TEXT_CHARS {
        out.push_str(&format!(
            "            {}^ from character {}: expected {e_mid}, got {g_mid}\n",
            " ".repeat(10 + prefix),
            prefix + 1
        ));
    } else {
        out.push_str(&format!(
            "            from character {}: expected {e_mid}, got {g_mid}\n",
            prefix + 1
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_reply_shows_where_it_differs() {
        let d = diff("expected `A SENT carry on`, got `A SENT carry`").expect("a diff");
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(lines[0], "  diff:     expected `A SENT carry on`");
        assert_eq!(lines[1], "            got      `A SENT carry`");
        // The caret stands under the 13th character of both quoted texts.
        let column = lines[1].find('`').map(|i| i + 1 + 12);
        assert_eq!(lines[2].find('^'), column, "{d}");
        assert!(
            lines[2].ends_with("^ from character 13: expected ` on`, got nothing"),
            "{d}"
        );
        let d = diff("expected `HELLO Bob`, got `Hello Bob`").expect("a diff");
        assert!(
            d.contains("from character 2: expected `ELLO`, got `ello`"),
            "{d}"
        );
    }

    #[test]
    fn no_diff_for_replies_with_nothing_in_common_or_other_failures() {
        assert_eq!(diff("expected `BYE`, got `ERROR: not supported`"), None);
        assert_eq!(diff("nothing arrived on A within 2000 ms"), None);
        assert_eq!(diff("expected `BYE`, got `BYE`"), None);
    }

    #[test]
    fn long_texts_are_cut_with_a_count_of_what_was_left_out() {
        assert_eq!(cut("short", 10), "short");
        let long = "é".repeat(250);
        let shown = cut(&long, 240);
        assert!(
            shown.starts_with(&"é".repeat(240))
                && shown.ends_with("… (10 more characters; all of it in --transcripts DIR)"),
            "{shown}"
        );
    }

    #[test]
    fn fix_lines_wrap_at_spaces() {
        let w = wrap("aaa bbb ccc ddd", 7, "  ");
        assert_eq!(w, "aaa bbb\n  ccc ddd");
    }
}
