//! Owning the terminal: raw mode on the way in, the terminal as it was on every way out.
//!
//! [`RawMode`] is a guard: dropping it (a normal return, an error, an unwinding panic)
//! restores the terminal, and a panic hook restores it before the panic message is printed,
//! so the message is readable and a `panic = "abort"` build restores it too.

use std::io::{self, Write};
use std::sync::Once;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::{execute, terminal};

/// Raw mode while this lives.
#[derive(Debug)]
pub struct RawMode {
    _private: (),
}

impl RawMode {
    /// Puts the terminal in raw mode with bracketed paste. Fails without a terminal.
    pub fn enable() -> io::Result<RawMode> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        let guard = RawMode { _private: () };
        // Bracketed paste keeps a pasted line break from sending the line; a terminal that
        // does not know it ignores the request.
        let _ = execute!(io::stdout(), EnableBracketedPaste);
        Ok(guard)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode. Harmless when the terminal is not in raw mode.
fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, DisableBracketedPaste);
    let _ = out.flush();
    let _ = terminal::disable_raw_mode();
}

fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = io::stdout().write_all(b"\r\n");
            restore();
            previous(info);
        }));
    });
}

/// Whether to draw colours: not when `NO_COLOR` is set to anything non-empty
/// (<https://no-color.org>), nor when `TERM` is unset or `dumb`.
pub fn colour_wanted() -> bool {
    colour_wanted_from(|key| std::env::var_os(key))
}

fn colour_wanted_from(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    var("TERM").is_some_and(|t| !t.is_empty() && t != "dumb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn with(vars: &[(&str, &str)]) -> bool {
        colour_wanted_from(|key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn colour_follows_no_color_and_term() {
        assert!(with(&[("TERM", "xterm-256color")]));
        assert!(!with(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")]));
        assert!(with(&[("TERM", "xterm"), ("NO_COLOR", "")]));
        assert!(!with(&[("TERM", "dumb")]));
        assert!(!with(&[]));
    }
}
