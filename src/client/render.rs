//! Drawing the session on a terminal, through any [`Write`], so that it is tested on a byte
//! buffer.
//!
//! The screen is a scrolling list of lines with the input line at the bottom. The input line
//! always takes one row: when the text is wider than the terminal it scrolls sideways to keep
//! the cursor in view, so redrawing it is "go to column 0, clear the row, draw". A line that
//! arrives while the person types (CLIENT-3) is printed by clearing the input row, printing the
//! line and a line break, and drawing the prompt and the buffer again with the cursor where it
//! was.
//!
//! Columns are counted in terminal cells with `unicode-width`: `日` takes two.
//!
//! A printed line longer than the terminal is wrapped at spaces (a word longer than a row is
//! cut), and its continuation rows start at the line's indent: under the text of a message,
//! after `<sender> `.

use std::io::{self, Write};

use crossterm::cursor::MoveToColumn;
use crossterm::queue;
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{Clear, ClearType};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::editor::Editor;
use super::show::{Line, Tone};
use crate::protocol::Name;

/// The prompt before a name is taken.
pub const PROMPT: &str = "> ";

/// What is on the screen besides the lines already printed: the prompt and the width.
#[derive(Debug, Clone)]
pub struct Screen {
    prompt: String,
    name: Option<Name>,
    query: Option<Name>,
    width: u16,
    colour: bool,
}

impl Screen {
    /// A screen `width` cells wide, drawing colours when `colour` is set.
    pub fn new(width: u16, colour: bool) -> Screen {
        Screen {
            prompt: PROMPT.to_owned(),
            name: None,
            query: None,
            width,
            colour,
        }
    }

    /// The terminal was resized.
    pub fn set_width(&mut self, width: u16) {
        self.width = width;
    }

    /// The prompt shows the name once the server has accepted it: `A> `.
    pub fn set_name(&mut self, name: Option<&Name>) {
        self.name = name.cloned();
        self.make_prompt();
    }

    /// The prompt shows where plain lines go during a `/query`: `A [Bob]> `.
    pub fn set_query(&mut self, query: Option<&Name>) {
        self.query = query.cloned();
        self.make_prompt();
    }

    fn make_prompt(&mut self) {
        let mut prompt = self.name.as_ref().map(Name::to_string).unwrap_or_default();
        if let Some(query) = &self.query {
            if !prompt.is_empty() {
                prompt.push(' ');
            }
            prompt.push_str(&format!("[{query}]"));
        }
        prompt.push_str("> ");
        self.prompt = prompt;
    }

    /// The prompt.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Draws the input line: the prompt and as much of the buffer as fits, with the cursor.
    pub fn draw_input(&self, out: &mut impl Write, editor: &Editor) -> io::Result<()> {
        let prompt_width = self.prompt.width();
        let room = usize::from(self.width)
            .saturating_sub(prompt_width + 1)
            .max(1);
        let view = View::of(editor.text(), editor.cursor(), room);
        let visible = &editor.text()[view.start..view.end];
        let column = prompt_width + view.column;
        queue!(
            out,
            MoveToColumn(0),
            Clear(ClearType::CurrentLine),
            Print(&self.prompt),
            Print(visible),
            MoveToColumn(u16::try_from(column).unwrap_or(u16::MAX)),
        )?;
        out.flush()
    }

    /// Prints `line` above the input line, then draws the input line again.
    pub fn print_above(
        &self,
        out: &mut impl Write,
        line: &Line,
        editor: &Editor,
    ) -> io::Result<()> {
        queue!(out, MoveToColumn(0), Clear(ClearType::CurrentLine))?;
        self.print_line(out, line)?;
        queue!(out, Print("\r\n"))?;
        self.draw_input(out, editor)
    }

    /// Prints a submitted line as it was typed, after the prompt, then the (now empty) input
    /// line: what was sent stays on the screen.
    pub fn print_submitted(
        &self,
        out: &mut impl Write,
        text: &str,
        editor: &Editor,
    ) -> io::Result<()> {
        let line = Line::new(Tone::Plain, &self.prompt).push(Tone::Plain, text);
        self.print_above(out, &line, editor)
    }

    /// Clears the input line, leaving the cursor at the start of an empty row: the state to
    /// hand the terminal back in.
    pub fn clear_input(&self, out: &mut impl Write) -> io::Result<()> {
        queue!(out, MoveToColumn(0), Clear(ClearType::CurrentLine))?;
        out.flush()
    }

    fn print_line(&self, out: &mut impl Write, line: &Line) -> io::Result<()> {
        for (tone, text) in wrap(line, usize::from(self.width)) {
            let style = if self.colour { style(tone) } else { None };
            match style {
                Some((colour, bold)) => {
                    queue!(out, SetForegroundColor(colour))?;
                    if bold {
                        queue!(out, SetAttribute(Attribute::Bold))?;
                    }
                    queue!(out, Print(text), SetAttribute(Attribute::Reset), ResetColor)?;
                }
                None => queue!(out, Print(text))?,
            }
        }
        Ok(())
    }
}

fn style(tone: Tone) -> Option<(Color, bool)> {
    match tone {
        Tone::Plain => None,
        Tone::Sender => Some((Color::Cyan, true)),
        Tone::Error => Some((Color::Red, true)),
        Tone::Notice => Some((Color::Green, false)),
        Tone::Local => Some((Color::Yellow, false)),
        Tone::Unparsed => Some((Color::Magenta, false)),
    }
}

/// The pieces of `line` cut into rows of `width` cells: a row break is `"\r\n"` and the
/// indent, in the plain tone. Breaks fall at spaces, which they replace; a word wider than a
/// row is cut between graphemes.
fn wrap(line: &Line, width: usize) -> Vec<(Tone, String)> {
    let indent = if line.indent * 2 < width {
        line.indent
    } else {
        0
    };
    let mut pieces: Vec<(Tone, String)> = Vec::new();
    let mut column = 0;
    let push = |pieces: &mut Vec<(Tone, String)>, tone: Tone, text: &str| match pieces.last_mut() {
        Some((last, s)) if *last == tone => s.push_str(text),
        _ => pieces.push((tone, text.to_owned())),
    };
    for (tone, text) in &line.spans {
        for word in text.split_word_bounds() {
            let w = word.width();
            if word == " " {
                if column + 1 > width {
                    push(
                        &mut pieces,
                        Tone::Plain,
                        &format!("\r\n{}", " ".repeat(indent)),
                    );
                    column = indent;
                } else {
                    push(&mut pieces, *tone, word);
                    column += 1;
                }
                continue;
            }
            if column + w > width && column > indent {
                // Break before the word, dropping the space it followed.
                if let Some((_, s)) = pieces.last_mut()
                    && s.ends_with(' ')
                {
                    s.pop();
                }
                push(
                    &mut pieces,
                    Tone::Plain,
                    &format!("\r\n{}", " ".repeat(indent)),
                );
                column = indent;
            }
            if column + w <= width {
                push(&mut pieces, *tone, word);
                column += w;
                continue;
            }
            for g in word.graphemes(true) {
                let gw = g.width();
                if column + gw > width && column > indent {
                    push(
                        &mut pieces,
                        Tone::Plain,
                        &format!("\r\n{}", " ".repeat(indent)),
                    );
                    column = indent;
                }
                push(&mut pieces, *tone, g);
                column += gw;
            }
        }
    }
    pieces
}

/// The part of the buffer shown in `room` cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct View {
    /// Byte offset of the first grapheme shown.
    start: usize,
    /// Byte offset after the last grapheme shown.
    end: usize,
    /// The cursor's cell within the view.
    column: usize,
}

impl View {
    /// The view that shows as much as fits before the cursor, then as much as fits after it.
    fn of(text: &str, cursor: usize, room: usize) -> View {
        let mut start = cursor;
        let mut column = 0;
        for (i, g) in text[..cursor].grapheme_indices(true).rev() {
            let w = g.width();
            if column + w > room {
                break;
            }
            column += w;
            start = i;
        }
        let mut end = cursor;
        let mut used = column;
        for g in text[cursor..].graphemes(true) {
            let w = g.width();
            if used + w > room {
                break;
            }
            used += w;
            end += g.len();
        }
        View { start, end, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::show::for_person;
    use crate::client::wire::Incoming;
    use bytes::Bytes;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn editor(text: &str, left: usize) -> Editor {
        let mut e = Editor::new();
        e.insert_str(text);
        for _ in 0..left {
            e.handle(KeyEvent::new(KeyCode::Left, KeyModifiers::NONE));
        }
        e
    }

    /// Plays `bytes` on a virtual terminal of 10 rows and `width` columns.
    fn play(width: u16, bytes: &[u8]) -> vt100::Parser {
        let rows = std::num::NonZeroU16::new(10).unwrap();
        let cols = std::num::NonZeroU16::new(width).unwrap();
        let mut vt = vt100::Parser::new(rows, cols, 0);
        vt.process(bytes);
        vt
    }

    fn rows(vt: &vt100::Parser) -> Vec<String> {
        let width = vt.screen().size().1;
        let mut rows: Vec<String> = vt.screen().rows(0, width.get()).collect();
        while rows.last().is_some_and(|r| r.is_empty()) {
            rows.pop();
        }
        rows
    }

    #[test]
    fn input_line_shows_prompt_buffer_and_cursor() {
        let screen = Screen::new(40, false);
        let mut out = Vec::new();
        screen.draw_input(&mut out, &editor("MSG B hi", 2)).unwrap();
        let vt = play(40, &out);
        assert_eq!(rows(&vt), ["> MSG B hi"]);
        assert_eq!(vt.screen().cursor_position(), (0, 8));
    }

    #[test]
    fn wide_characters_move_the_cursor_two_cells() {
        let screen = Screen::new(40, false);
        let mut out = Vec::new();
        screen
            .draw_input(&mut out, &editor("MSG B 日本語", 1))
            .unwrap();
        let vt = play(40, &out);
        assert_eq!(rows(&vt), ["> MSG B 日本語"]);
        assert_eq!(vt.screen().cursor_position(), (0, 2 + 6 + 4));
    }

    #[test]
    fn message_arriving_mid_typing_is_printed_above_the_intact_line_client_3() {
        let mut screen = Screen::new(40, false);
        screen.set_name(Some(&Name::new("A").unwrap()));
        let e = editor("MSG B hé wörld", 3);
        let mut out = Vec::new();
        screen.draw_input(&mut out, &e).unwrap();
        let line = for_person(&Incoming::new(Bytes::from_static(b"B SENT how are you?")));
        screen.print_above(&mut out, &line, &e).unwrap();
        let vt = play(40, &out);
        assert_eq!(rows(&vt), ["<B> how are you?", "A> MSG B hé wörld"]);
        // The cursor is back where it was: before "rld".
        assert_eq!(vt.screen().cursor_position(), (1, 3 + 11));
    }

    #[test]
    fn repaint_sequence_is_clear_print_newline_redraw() {
        let screen = Screen::new(20, false);
        let e = editor("ab", 1);
        let mut out = Vec::new();
        screen
            .print_above(&mut out, &Line::new(Tone::Plain, "hi"), &e)
            .unwrap();
        // Column 0, clear the row, the line, CR LF, then the input line with the cursor at
        // column 3 (CSI G counts from 1).
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[1G\x1b[2Khi\r\n\x1b[1G\x1b[2K> ab\x1b[4G"
        );
    }

    #[test]
    fn received_clear_screen_is_shown_not_obeyed_client_2() {
        let screen = Screen::new(40, true);
        let e = editor("typing", 0);
        let mut out = Vec::new();
        screen
            .print_above(&mut out, &Line::new(Tone::Plain, "before"), &e)
            .unwrap();
        let line = for_person(&Incoming::new(Bytes::from_static(
            b"Eve SENT \x1b[2J\x1b[Hgotcha",
        )));
        screen.print_above(&mut out, &line, &e).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains("\x1b[2J"), "{text:?}");
        assert!(!text.contains("\x1b[H"), "{text:?}");
        let vt = play(40, &out);
        assert_eq!(rows(&vt), ["before", "<Eve> \\e[2J\\e[Hgotcha", "> typing"]);
    }

    #[test]
    fn long_line_scrolls_sideways_to_keep_the_cursor_in_view() {
        let screen = Screen::new(12, false);
        // Room for 12 - 2 (prompt) - 1 = 9 cells.
        let e = editor("MSG B abcdefghij", 0);
        let mut out = Vec::new();
        screen.draw_input(&mut out, &e).unwrap();
        let vt = play(12, &out);
        assert_eq!(rows(&vt), ["> bcdefghij"]);
        assert_eq!(vt.screen().cursor_position(), (0, 11));

        let e = editor("MSG B abcdefghij", 16);
        let mut out = Vec::new();
        screen.draw_input(&mut out, &e).unwrap();
        let vt = play(12, &out);
        assert_eq!(rows(&vt), ["> MSG B abc"]);
        assert_eq!(vt.screen().cursor_position(), (0, 2));
    }

    #[test]
    fn wide_character_that_does_not_fit_is_not_cut_in_half() {
        let view = View::of("日本語", "日本語".len(), 5);
        assert_eq!(
            view,
            View {
                start: 3,
                end: 9,
                column: 4
            }
        );
    }

    #[test]
    fn colours_only_when_asked() {
        let line = Line::new(Tone::Error, "! NAME_TAKEN");
        let e = Editor::new();
        let mut plain = Vec::new();
        Screen::new(40, false)
            .print_above(&mut plain, &line, &e)
            .unwrap();
        assert!(!String::from_utf8(plain).unwrap().contains("\x1b[38"));
        let mut coloured = Vec::new();
        Screen::new(40, true)
            .print_above(&mut coloured, &line, &e)
            .unwrap();
        let vt = play(40, &coloured);
        assert_eq!(
            vt.screen().cell(0, 0).unwrap().fgcolor(),
            vt100::Color::Idx(9)
        );
        assert!(vt.screen().cell(0, 0).unwrap().bold());
        assert_eq!(rows(&vt), ["! NAME_TAKEN", "> "]);
    }

    #[test]
    fn long_message_wraps_at_spaces_under_its_text() {
        let screen = Screen::new(20, false);
        let line = for_person(&Incoming::new(Bytes::from_static(
            b"Bob SENT the quick brown fox jumps over the lazy dog",
        )));
        let mut out = Vec::new();
        screen.print_above(&mut out, &line, &Editor::new()).unwrap();
        let vt = play(20, &out);
        assert_eq!(
            rows(&vt),
            [
                "<Bob> the quick",
                "      brown fox",
                "      jumps over the",
                "      lazy dog",
                "> "
            ]
        );
    }

    #[test]
    fn word_wider_than_a_row_is_cut() {
        let screen = Screen::new(12, false);
        let line = for_person(&Incoming::new(Bytes::from_static(
            b"B SENT abcdefghijklmnop",
        )));
        let mut out = Vec::new();
        screen.print_above(&mut out, &line, &Editor::new()).unwrap();
        let vt = play(12, &out);
        assert_eq!(rows(&vt), ["<B> abcdefgh", "    ijklmnop", "> "]);
    }

    #[test]
    fn the_prompt_shows_the_name_and_the_query() {
        let mut screen = Screen::new(40, false);
        screen.set_query(Some(&Name::new("Bob").unwrap()));
        assert_eq!(screen.prompt(), "[Bob]> ");
        screen.set_name(Some(&Name::new("A").unwrap()));
        assert_eq!(screen.prompt(), "A [Bob]> ");
        screen.set_query(None);
        assert_eq!(screen.prompt(), "A> ");
    }

    #[test]
    fn submitted_line_stays_on_screen_after_the_prompt() {
        let screen = Screen::new(40, false);
        let mut out = Vec::new();
        screen
            .print_submitted(&mut out, "GET_NAMES", &Editor::new())
            .unwrap();
        let vt = play(40, &out);
        assert_eq!(rows(&vt), ["> GET_NAMES", "> "]);
        assert_eq!(vt.screen().cursor_position(), (1, 2));
    }
}
