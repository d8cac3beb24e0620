//! The input line: a buffer, a cursor, and a history, edited by keys.
//!
//! The cursor moves and deletes by grapheme cluster (what a person sees as one character: `é`
//! typed as `e` plus a combining accent, or a flag, is one step), so a multi-byte character is
//! never split. Control characters never enter the buffer, so drawing it cannot send a
//! terminal anything but text.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use unicode_segmentation::UnicodeSegmentation;

/// What a key asks of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing visible changed.
    Nothing,
    /// The line or the cursor changed: redraw the input line.
    Redraw,
    /// Enter: this line was submitted; the editor is empty again.
    Submit(String),
    /// Ctrl-C, or Ctrl-D on an empty line: leave.
    Leave,
    /// Tab: complete the word before the cursor ([`Editor::complete`]).
    Complete,
}

/// The line being typed, and what was typed before.
#[derive(Debug, Clone, Default)]
pub struct Editor {
    buffer: String,
    /// Byte offset into `buffer`, always on a grapheme boundary.
    cursor: usize,
    history: Vec<String>,
    /// Which history entry is shown, while browsing with Up and Down.
    browsing: Option<usize>,
    /// The line being typed before browsing began.
    draft: String,
}

/// The most lines the history keeps.
pub const HISTORY_LIMIT: usize = 1000;

impl Editor {
    /// An empty editor.
    pub fn new() -> Editor {
        Editor::default()
    }

    /// The line as typed so far.
    pub fn text(&self) -> &str {
        &self.buffer
    }

    /// The cursor, as a byte offset into [`Editor::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Puts `text` in the line with the cursor near `at` (a byte offset, moved back to a
    /// grapheme boundary): for handing a refused line back to be fixed.
    pub fn set(&mut self, text: &str, at: usize) {
        self.buffer.clear();
        self.cursor = 0;
        self.insert_str(text);
        self.cursor = self.boundary_at_or_before(at.min(self.buffer.len()));
        self.browsing = None;
    }

    /// Handles one key.
    pub fn handle(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::Nothing;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let changed = match key.code {
            KeyCode::Enter => return Action::Submit(self.submit()),
            KeyCode::Tab => return Action::Complete,
            KeyCode::Char('c') if ctrl => return Action::Leave,
            KeyCode::Char('d') if ctrl && self.buffer.is_empty() => return Action::Leave,
            KeyCode::Char('d') if ctrl => self.delete_forward(),
            KeyCode::Char('a') if ctrl => self.move_to(0),
            KeyCode::Char('e') if ctrl => self.move_to(self.buffer.len()),
            KeyCode::Char('b') if ctrl => self.left(),
            KeyCode::Char('f') if ctrl => self.right(),
            KeyCode::Char('h') if ctrl => self.delete_backward(),
            KeyCode::Char('u') if ctrl => self.delete_range(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.delete_range(self.cursor, self.buffer.len()),
            KeyCode::Char('w') if ctrl => self.delete_word_backward(),
            KeyCode::Char('p') if ctrl => self.history_back(),
            KeyCode::Char('n') if ctrl => self.history_forward(),
            KeyCode::Char('l') if ctrl => true,
            KeyCode::Char(_) if ctrl || alt => false,
            KeyCode::Char(c) => self.insert_char(c),
            KeyCode::Backspace => self.delete_backward(),
            KeyCode::Delete => self.delete_forward(),
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(self.buffer.len()),
            KeyCode::Up => self.history_back(),
            KeyCode::Down => self.history_forward(),
            _ => false,
        };
        if changed {
            Action::Redraw
        } else {
            Action::Nothing
        }
    }

    /// Inserts pasted text at the cursor. A line break or tab becomes a space and other
    /// control characters are dropped: one paste never sends anything by itself.
    pub fn insert_str(&mut self, text: &str) -> bool {
        let clean: String = text
            .chars()
            .map(|c| {
                if matches!(c, '\r' | '\n' | '\t') {
                    ' '
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control())
            .collect();
        if clean.is_empty() {
            return false;
        }
        // The cluster the cursor ends may grow (a combining mark typed after a letter):
        // boundaries are looked for again from its start.
        let start = self.previous_boundary().unwrap_or(0);
        self.buffer.insert_str(self.cursor, &clean);
        let end = self.cursor + clean.len();
        self.cursor = self.buffer[start..]
            .grapheme_indices(true)
            .map(|(i, _)| start + i)
            .find(|&i| i >= end)
            .unwrap_or(self.buffer.len());
        self.browsing = None;
        true
    }

    /// Completes the word before the cursor with the `candidates` it starts (compared without
    /// case, the first of equals kept). One match replaces the word, followed by a space; several
    /// replace it with what they have in common. Answers the matches, each once.
    pub fn complete(&mut self, candidates: &[&str]) -> Vec<String> {
        let start = self.buffer[..self.cursor].rfind(' ').map_or(0, |i| i + 1);
        let word = &self.buffer[start..self.cursor];
        if word.is_empty() {
            return Vec::new();
        }
        let lower = word.to_lowercase();
        let mut matches: Vec<String> = Vec::new();
        for c in candidates {
            if c.to_lowercase().starts_with(&lower) && !matches.iter().any(|m| m == c) {
                matches.push((*c).to_owned());
            }
        }
        let replacement = match matches.as_slice() {
            [] => return matches,
            [only] => {
                let at_end = self.buffer[self.cursor..].is_empty();
                if at_end {
                    format!("{only} ")
                } else {
                    only.clone()
                }
            }
            [first, rest @ ..] => {
                let mut common = first.len();
                for other in rest {
                    common = first
                        .char_indices()
                        .zip(other.chars())
                        .take_while(|((_, a), b)| a.eq_ignore_ascii_case(b))
                        .count()
                        .min(common);
                }
                // Names are ASCII: a count of characters is a byte offset.
                let common = first.get(..common).unwrap_or(word);
                if common.len() < word.len() {
                    return matches;
                }
                common.to_owned()
            }
        };
        self.buffer.replace_range(start..self.cursor, &replacement);
        self.cursor = start + replacement.len();
        self.browsing = None;
        matches
    }

    fn insert_char(&mut self, c: char) -> bool {
        self.insert_str(c.encode_utf8(&mut [0; 4]))
    }

    fn submit(&mut self) -> String {
        let line = std::mem::take(&mut self.buffer);
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        if !line.is_empty() && self.history.last() != Some(&line) {
            if self.history.len() == HISTORY_LIMIT {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        line
    }

    fn previous_boundary(&self) -> Option<usize> {
        self.buffer[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map(|(i, _)| i)
    }

    fn next_boundary(&self) -> Option<usize> {
        self.buffer[self.cursor..]
            .graphemes(true)
            .next()
            .map(|g| self.cursor + g.len())
    }

    fn boundary_at_or_before(&self, at: usize) -> usize {
        let mut last = 0;
        for (i, _) in self.buffer.grapheme_indices(true) {
            if i > at {
                break;
            }
            last = i;
        }
        if at >= self.buffer.len() {
            self.buffer.len()
        } else {
            last
        }
    }

    fn left(&mut self) -> bool {
        match self.previous_boundary() {
            Some(i) => self.move_to(i),
            None => false,
        }
    }

    fn right(&mut self) -> bool {
        match self.next_boundary() {
            Some(i) => self.move_to(i),
            None => false,
        }
    }

    fn move_to(&mut self, at: usize) -> bool {
        let moved = self.cursor != at;
        self.cursor = at;
        moved
    }

    fn delete_backward(&mut self) -> bool {
        match self.previous_boundary() {
            Some(i) => self.delete_range(i, self.cursor),
            None => false,
        }
    }

    fn delete_forward(&mut self) -> bool {
        match self.next_boundary() {
            Some(i) => self.delete_range(self.cursor, i),
            None => false,
        }
    }

    /// Deletes back to the start of the word before the cursor, and the spaces after it.
    fn delete_word_backward(&mut self) -> bool {
        let before = &self.buffer[..self.cursor];
        let trimmed = before.trim_end_matches(' ');
        let start = trimmed.rfind(' ').map_or(0, |i| i + 1);
        self.delete_range(start, self.cursor)
    }

    fn delete_range(&mut self, start: usize, end: usize) -> bool {
        if start >= end {
            return false;
        }
        self.buffer.replace_range(start..end, "");
        self.cursor = start;
        self.browsing = None;
        true
    }

    fn history_back(&mut self) -> bool {
        let index = match self.browsing {
            None if self.history.is_empty() => return false,
            None => {
                self.draft = self.buffer.clone();
                self.history.len() - 1
            }
            Some(0) => return false,
            Some(i) => i - 1,
        };
        self.show_history(Some(index));
        true
    }

    fn history_forward(&mut self) -> bool {
        match self.browsing {
            None => false,
            Some(i) if i + 1 < self.history.len() => {
                self.show_history(Some(i + 1));
                true
            }
            Some(_) => {
                self.show_history(None);
                true
            }
        }
    }

    fn show_history(&mut self, index: Option<usize>) {
        self.buffer = match index {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.cursor = self.buffer.len();
        self.browsing = index;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(editor: &mut Editor, text: &str) {
        for c in text.chars() {
            editor.handle(key(KeyCode::Char(c)));
        }
    }

    fn state(editor: &Editor) -> (String, usize) {
        (editor.text().to_owned(), editor.cursor())
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut e = Editor::new();
        typed(&mut e, "MSG B hi");
        assert_eq!(state(&e), ("MSG B hi".into(), 8));
        e.handle(key(KeyCode::Home));
        typed(&mut e, ">");
        assert_eq!(state(&e), (">MSG B hi".into(), 1));
        e.handle(key(KeyCode::End));
        e.handle(key(KeyCode::Left));
        typed(&mut e, "!");
        assert_eq!(state(&e), (">MSG B h!i".into(), 9));
    }

    #[test]
    fn shifted_letters_are_typed() {
        let mut e = Editor::new();
        e.handle(KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT));
        assert_eq!(e.text(), "A");
    }

    #[test]
    fn backspace_and_delete_remove_one_character_each_side() {
        let mut e = Editor::new();
        typed(&mut e, "abcd");
        e.handle(key(KeyCode::Left));
        e.handle(key(KeyCode::Left));
        assert_eq!(e.handle(key(KeyCode::Backspace)), Action::Redraw);
        assert_eq!(state(&e), ("acd".into(), 1));
        e.handle(key(KeyCode::Delete));
        assert_eq!(state(&e), ("ad".into(), 1));
        e.handle(key(KeyCode::Home));
        assert_eq!(e.handle(key(KeyCode::Backspace)), Action::Nothing);
        e.handle(key(KeyCode::End));
        assert_eq!(e.handle(key(KeyCode::Delete)), Action::Nothing);
        assert_eq!(state(&e), ("ad".into(), 2));
    }

    #[test]
    fn multi_byte_characters_edit_as_one() {
        let mut e = Editor::new();
        typed(&mut e, "aé日🎉b");
        assert_eq!(e.cursor(), "aé日🎉b".len());
        e.handle(key(KeyCode::Left));
        e.handle(key(KeyCode::Left));
        assert_eq!(e.cursor(), "aé日".len());
        e.handle(key(KeyCode::Backspace));
        assert_eq!(state(&e), ("aé🎉b".into(), "aé".len()));
        e.handle(key(KeyCode::Backspace));
        assert_eq!(state(&e), ("a🎉b".into(), 1));
        e.handle(key(KeyCode::Delete));
        assert_eq!(state(&e), ("ab".into(), 1));
    }

    #[test]
    fn combining_accent_joins_its_letter() {
        let mut e = Editor::new();
        typed(&mut e, "xe\u{301}");
        assert_eq!(e.cursor(), e.text().len());
        e.handle(key(KeyCode::Left));
        assert_eq!(e.cursor(), 1, "one step back over e + accent");
        e.handle(key(KeyCode::Right));
        e.handle(key(KeyCode::Backspace));
        assert_eq!(state(&e), ("x".into(), 1));
    }

    #[test]
    fn ctrl_u_deletes_to_the_start_and_ctrl_k_to_the_end() {
        let mut e = Editor::new();
        typed(&mut e, "NAME Alice");
        for _ in 0..5 {
            e.handle(key(KeyCode::Left));
        }
        e.handle(ctrl('k'));
        assert_eq!(state(&e), ("NAME ".into(), 5));
        e.handle(key(KeyCode::Left));
        e.handle(ctrl('u'));
        assert_eq!(state(&e), (" ".into(), 0));
    }

    #[test]
    fn ctrl_w_deletes_the_word_before_the_cursor() {
        let mut e = Editor::new();
        typed(&mut e, "MSG B héllo wörld  ");
        e.handle(ctrl('w'));
        assert_eq!(state(&e), ("MSG B héllo ".into(), "MSG B héllo ".len()));
        e.handle(ctrl('w'));
        e.handle(ctrl('w'));
        assert_eq!(e.text(), "MSG ");
        e.handle(ctrl('w'));
        assert_eq!(e.text(), "");
        assert_eq!(e.handle(ctrl('w')), Action::Nothing);
    }

    #[test]
    fn enter_submits_and_empties_the_line() {
        let mut e = Editor::new();
        typed(&mut e, "GET_NAMES");
        e.handle(key(KeyCode::Left));
        assert_eq!(
            e.handle(key(KeyCode::Enter)),
            Action::Submit("GET_NAMES".into())
        );
        assert_eq!(state(&e), (String::new(), 0));
        assert_eq!(e.handle(key(KeyCode::Enter)), Action::Submit(String::new()));
    }

    #[test]
    fn up_and_down_walk_the_history_and_keep_the_draft() {
        let mut e = Editor::new();
        for line in ["NAME A", "GET_NAMES", "GET_NAMES", "MSG A hi"] {
            typed(&mut e, line);
            e.handle(key(KeyCode::Enter));
        }
        typed(&mut e, "dra");
        e.handle(key(KeyCode::Up));
        assert_eq!(state(&e), ("MSG A hi".into(), 8));
        e.handle(key(KeyCode::Up));
        assert_eq!(e.text(), "GET_NAMES", "repeated lines are kept once");
        e.handle(key(KeyCode::Up));
        assert_eq!(e.text(), "NAME A");
        assert_eq!(e.handle(key(KeyCode::Up)), Action::Nothing);
        e.handle(key(KeyCode::Down));
        e.handle(key(KeyCode::Down));
        assert_eq!(e.text(), "MSG A hi");
        e.handle(key(KeyCode::Down));
        assert_eq!(state(&e), ("dra".into(), 3));
        assert_eq!(e.handle(key(KeyCode::Down)), Action::Nothing);
    }

    #[test]
    fn ctrl_c_leaves_and_ctrl_d_leaves_only_on_an_empty_line() {
        let mut e = Editor::new();
        assert_eq!(e.handle(ctrl('d')), Action::Leave);
        typed(&mut e, "ab");
        e.handle(key(KeyCode::Home));
        assert_eq!(e.handle(ctrl('d')), Action::Redraw);
        assert_eq!(e.text(), "b");
        assert_eq!(e.handle(ctrl('c')), Action::Leave);
    }

    #[test]
    fn control_characters_never_enter_the_line() {
        let mut e = Editor::new();
        e.insert_str("a\x1b[2J\tb\nc\u{9b}");
        assert_eq!(e.text(), "a[2J b c");
        e.handle(key(KeyCode::Char('\x07')));
        assert_eq!(e.text(), "a[2J b c");
        assert_eq!(
            e.handle(KeyEvent::new(KeyCode::Char('x'), KeyModifiers::ALT)),
            Action::Nothing
        );
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut e = Editor::new();
        let mut release = key(KeyCode::Char('a'));
        release.kind = KeyEventKind::Release;
        assert_eq!(e.handle(release), Action::Nothing);
        assert_eq!(e.text(), "");
    }

    #[test]
    fn tab_completes_a_name_and_lists_several() {
        let names = ["Alice", "Albert", "Bob"];
        let mut e = Editor::new();
        typed(&mut e, "MSG b");
        assert_eq!(e.handle(key(KeyCode::Tab)), Action::Complete);
        assert_eq!(e.complete(&names), ["Bob"]);
        assert_eq!(state(&e), ("MSG Bob ".into(), 8));
        typed(&mut e, "hi al");
        assert_eq!(e.complete(&names), ["Alice", "Albert"]);
        assert_eq!(e.text(), "MSG Bob hi Al");
        typed(&mut e, "i");
        assert_eq!(e.complete(&names), ["Alice"]);
        assert_eq!(e.text(), "MSG Bob hi Alice ");
        // Nothing to complete: nothing changes.
        assert!(e.complete(&names).is_empty());
        typed(&mut e, "zz");
        assert!(e.complete(&names).is_empty());
        assert_eq!(e.text(), "MSG Bob hi Alice zz");
        // Mid-line, no space is added.
        let mut e = Editor::new();
        typed(&mut e, "Bo hi");
        for _ in 0..3 {
            e.handle(key(KeyCode::Left));
        }
        e.complete(&names);
        assert_eq!(state(&e), ("Bob hi".into(), 3));
    }

    #[test]
    fn refused_line_comes_back_with_the_cursor_at_the_fault() {
        let mut e = Editor::new();
        e.set("MSG  é hi", 4);
        assert_eq!(state(&e), ("MSG  é hi".into(), 4));
        e.set("é", 1);
        assert_eq!(e.cursor(), 0, "never inside a character");
        e.set("ab", 99);
        assert_eq!(e.cursor(), 2);
    }
}
