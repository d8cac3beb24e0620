//! Progress of a class run on stderr: on a terminal, one bar for the class, redrawn in place;
//! elsewhere (a log, a CI job), one line per student as each finishes.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::class::grade::Outcome;

/// Width of the bar, in characters.
const BAR: usize = 30;

/// The class's progress, written to `out`.
pub struct Progress<W: Write> {
    out: W,
    /// Whether `out` is a terminal: a bar redrawn in place.
    terminal: bool,
    total: usize,
    done: usize,
    jobs: usize,
    not_graded: usize,
    started: Instant,
    /// Whether a bar is on the screen (and must be cleared before other output).
    drawn: bool,
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

impl<W: Write> Progress<W> {
    pub fn new(out: W, terminal: bool, total: usize, jobs: usize) -> Progress<W> {
        let mut p = Progress {
            out,
            terminal,
            total,
            done: 0,
            jobs,
            not_graded: 0,
            started: Instant::now(),
            drawn: false,
        };
        p.draw();
        p
    }

    /// One line: `[######------] 12/40 graded, 2 running, 1 not graded, 0:42`.
    pub fn bar(&self) -> String {
        let filled = (self.done * BAR).checked_div(self.total).unwrap_or(BAR);
        let running = self.jobs.min(self.total - self.done);
        let mut line = format!(
            "[{}{}] {}/{} graded, {running} running",
            "#".repeat(filled),
            "-".repeat(BAR - filled),
            self.done,
            self.total
        );
        if self.not_graded > 0 {
            line.push_str(&format!(", {} not graded", self.not_graded));
        }
        line.push_str(&format!(", {}", clock(self.started.elapsed())));
        line
    }

    /// Redraws the bar (on a terminal; elsewhere nothing).
    pub fn draw(&mut self) {
        if self.terminal {
            let _ = write!(self.out, "\r\x1b[2K{}", self.bar());
            let _ = self.out.flush();
            self.drawn = true;
        }
    }

    /// A student is done.
    pub fn finished(&mut self, o: &Outcome) {
        self.done += 1;
        if o.result.is_err() {
            self.not_graded += 1;
        }
        if self.terminal {
            self.draw();
        } else {
            let _ = writeln!(
                self.out,
                "[{}/{}] {}: {} ({}) in {:.1} s",
                self.done,
                self.total,
                o.student.id,
                o.score(),
                o.verdict(),
                o.elapsed.as_secs_f64()
            );
        }
    }

    /// The run is over: the bar is ended with a line break.
    pub fn end(&mut self) {
        if self.drawn {
            self.draw();
            let _ = writeln!(self.out);
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_fills_with_the_students_done() {
        let mut p = Progress::new(Vec::new(), true, 4, 2);
        assert!(
            p.bar()
                .starts_with(&format!("[{}] 0/4 graded, 2 running", "-".repeat(30)))
        );
        p.done = 3;
        let bar = p.bar();
        assert!(
            bar.starts_with(&format!(
                "[{}{}] 3/4 graded, 1 running",
                "#".repeat(22),
                "-".repeat(8)
            )),
            "{bar}"
        );
        p.end();
        let drawn = String::from_utf8_lossy(&p.out).into_owned();
        assert!(
            drawn.starts_with("\r\x1b[2K[") && drawn.ends_with('\n'),
            "{drawn:?}"
        );
    }

    #[test]
    fn off_a_terminal_nothing_is_drawn_but_lines() {
        let mut p = Progress::new(Vec::new(), false, 1, 2);
        p.draw();
        p.end();
        assert!(p.out.is_empty());
    }
}
