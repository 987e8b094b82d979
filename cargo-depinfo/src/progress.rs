//! Progress of long scans on stderr: one line, rewritten in place, only when stderr is a
//! terminal (nothing at all in pipes, files and CI logs). Without `NO_COLOR` and on a terminal
//! that is not `dumb`, the line is cleared with the ANSI erase-line sequence; otherwise it is
//! padded with spaces, so no escape sequence is ever written where it is not wanted.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

/// The longest line written (terminals are at least this wide).
const WIDTH: usize = 79;
/// The time between two redraws.
const INTERVAL: Duration = Duration::from_millis(100);

/// A progress line on stderr.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    escapes: bool,
    last: Option<Instant>,
    drawn: usize,
}

impl Progress {
    /// A progress line, shown only when stderr is a terminal.
    pub fn stderr() -> Progress {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Progress {
            enabled: std::io::stderr().is_terminal(),
            escapes: !no_color && !dumb,
            last: None,
            drawn: 0,
        }
    }

    /// A progress line that never shows (for library callers and tests).
    pub fn hidden() -> Progress {
        Progress {
            enabled: false,
            escapes: false,
            last: None,
            drawn: 0,
        }
    }

    /// Shows `VERB DONE[/TOTAL] ITEM`, at most ten times a second.
    pub fn update(&mut self, verb: &str, done: u64, total: Option<u64>, item: &str) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < INTERVAL) {
            return;
        }
        self.last = Some(Instant::now());
        let text = line(verb, done, total, item);
        self.draw(&text);
    }

    /// Removes the line.
    pub fn finish(&mut self) {
        if self.enabled && self.drawn > 0 {
            self.draw("");
            self.drawn = 0;
        }
    }

    fn draw(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        let width = text.chars().count();
        let _ = if self.escapes {
            write!(err, "\r{text}\x1b[K")
        } else {
            let pad = self.drawn.saturating_sub(width);
            write!(err, "\r{text}{:pad$}\r{text}", "")
        };
        let _ = err.flush();
        self.drawn = width;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The text of the line, cut to [`WIDTH`] columns from the item's start (its end is what
/// tells files apart).
fn line(verb: &str, done: u64, total: Option<u64>, item: &str) -> String {
    let head = match total {
        Some(t) => format!("{verb} {done}/{t} "),
        None => format!("{verb} {done} "),
    };
    let room = WIDTH.saturating_sub(head.chars().count());
    let count = item.chars().count();
    if count <= room {
        format!("{head}{item}")
    } else {
        let keep: String = item.chars().skip(count - room.saturating_sub(1)).collect();
        format!("{head}…{keep}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_fits_and_keeps_the_end_of_the_item() {
        assert_eq!(line("scanning", 3, None, "bin/a"), "scanning 3 bin/a");
        assert_eq!(line("checking", 2, Some(9), "serde"), "checking 2/9 serde");
        let long = format!("/{}/file-42", "x".repeat(200));
        let l = line("scanning", 1000, None, &long);
        assert_eq!(l.chars().count(), WIDTH);
        assert!(l.ends_with("/file-42") && l.starts_with("scanning 1000 …"));
    }

    #[test]
    fn hidden_writes_nothing() {
        let mut p = Progress::hidden();
        p.update("scanning", 1, None, "x");
        assert_eq!(p.drawn, 0);
    }
}
