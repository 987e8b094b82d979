//! Progress of long scans on stderr: one line, rewritten in place, only when stderr is a
//! terminal (nothing at all in pipes, files and CI logs). Without `NO_COLOR` and on a terminal
//! that is not `dumb`, the line is cleared with the ANSI erase-line sequence; otherwise it is
//! padded with spaces, so no escape sequence is ever written where it is not wanted.

use std::io::{IsTerminal as _, Write};
use std::time::{Duration, Instant};

use crate::progress::Progress;

/// The longest line written (terminals are at least this wide).
const WIDTH: usize = 79;
/// The time between two redraws.
const INTERVAL: Duration = Duration::from_millis(100);

/// A progress line on a terminal (stderr, or any writer in tests).
pub struct ProgressLine<W: Write> {
    out: W,
    enabled: bool,
    escapes: bool,
    last: Option<Instant>,
    drawn: usize,
}

impl ProgressLine<std::io::Stderr> {
    /// A progress line on stderr, shown only when stderr is a terminal.
    pub fn stderr() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        let out = std::io::stderr();
        let enabled = out.is_terminal();
        ProgressLine::new(out, enabled, !no_color && !dumb)
    }

    /// A progress line on stderr, shown only when stderr is a terminal, cleared with the
    /// erase-line sequence only when `escapes` (the binary's `--color` choice for stderr:
    /// `never` pads with spaces instead).
    pub fn stderr_escaping(escapes: bool) -> Self {
        let out = std::io::stderr();
        let enabled = out.is_terminal();
        ProgressLine::new(out, enabled, escapes)
    }

    /// A progress line that is never drawn (`-q`).
    pub fn hidden() -> Self {
        ProgressLine::new(std::io::stderr(), false, false)
    }
}

impl<W: Write> ProgressLine<W> {
    fn new(out: W, enabled: bool, escapes: bool) -> Self {
        ProgressLine {
            out,
            enabled,
            escapes,
            last: None,
            drawn: 0,
        }
    }

    /// Shows an event from the library, at most ten times a second.
    pub fn show(&mut self, event: Progress<'_>) {
        if !self.enabled || self.last.is_some_and(|t| t.elapsed() < INTERVAL) {
            return;
        }
        self.last = Some(Instant::now());
        let text = match event {
            // A file name may hold control characters: escaped like every value shown.
            Progress::Scanning { files, path } => line(
                "scanning",
                files,
                None,
                &depinfo_read::text_safety::printable(&path.display().to_string()),
            ),
            Progress::Checking { done, total } => line(
                "checking",
                done as u64,
                Some(total as u64),
                "crates in the index",
            ),
            // A URL as shown may hold anything a user typed: escaped too.
            Progress::Waiting {
                source,
                what,
                elapsed,
                limit,
            } => waiting_line(
                &depinfo_read::text_safety::printable(source),
                what,
                elapsed,
                limit,
            ),
        };
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
        let width = text.chars().count();
        let _ = if self.escapes {
            write!(self.out, "\r{text}\x1b[K")
        } else {
            let pad = self.drawn.saturating_sub(width);
            write!(self.out, "\r{text}{:pad$}\r{text}", "")
        };
        let _ = self.out.flush();
        self.drawn = width;
    }
}

impl<W: Write> Drop for ProgressLine<W> {
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

/// `waiting for SOURCE (WHAT), 12 s of 120 s`, cut to [`WIDTH`] columns in the source's
/// middle (its start and its end both tell sources apart less than the rest of the line).
fn waiting_line(source: &str, what: &str, elapsed: Duration, limit: Duration) -> String {
    let tail = format!(" ({what}), {} s of {} s", elapsed.as_secs(), seconds(limit));
    let head = "waiting for ";
    let room = WIDTH.saturating_sub(head.chars().count() + tail.chars().count());
    let count = source.chars().count();
    let source = if count <= room {
        source.to_owned()
    } else {
        let keep = room.saturating_sub(1);
        let front: String = source.chars().take(keep - keep / 2).collect();
        let back: String = source.chars().skip(count - keep / 2).collect();
        format!("{front}…{back}")
    };
    let line = format!("{head}{source}{tail}");
    line.chars().take(WIDTH).collect()
}

/// A timeout in seconds: whole when it is (`120`), else with its fraction (`0.5`).
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        format!("{}", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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

    fn shown(enabled: bool, escapes: bool, events: &[Progress<'_>]) -> String {
        let mut out = Vec::new();
        {
            let mut p = ProgressLine::new(&mut out, enabled, escapes);
            for &e in events {
                p.show(e);
                // Every event is drawn: the redraw interval is not what is tested.
                p.last = None;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn events_are_drawn_and_the_line_removed() {
        let a = Progress::Scanning {
            files: 1,
            path: Path::new("bin/app"),
        };
        let b = Progress::Checking { done: 2, total: 9 };
        assert_eq!(
            shown(true, true, &[a, b]),
            "\rscanning 1 bin/app\x1b[K\rchecking 2/9 crates in the index\x1b[K\r\x1b[K"
        );
        // Without escapes, a shorter line is padded over the longer one.
        let c = Progress::Scanning {
            files: 3,
            path: Path::new("b"),
        };
        assert_eq!(
            shown(true, false, &[a, c]),
            "\rscanning 1 bin/app\rscanning 1 bin/app\rscanning 3 b      \rscanning 3 b\r            \r"
        );
    }

    #[test]
    fn a_file_name_with_control_characters_is_escaped() {
        let a = Progress::Scanning {
            files: 1,
            path: Path::new("bin/\x1b]0;pwned\x07\r"),
        };
        let shown = shown(true, false, &[a]);
        assert!(
            shown.starts_with("\rscanning 1 \"bin/\\x1b]0;pwned\\x07\\r\"\r"),
            "{shown:?}"
        );
        assert!(!shown.replace('\r', "").chars().any(char::is_control));
    }

    /// Issue 19: the line says what is waited for, and how long of how long.
    #[test]
    fn the_line_says_what_it_waits_for() {
        let w = Progress::Waiting {
            source: "http://127.0.0.1:9090",
            what: "count by over rust_mod_info",
            elapsed: Duration::from_millis(12_900),
            limit: Duration::from_secs(120),
        };
        assert_eq!(
            shown(true, true, &[w]),
            "\rwaiting for http://127.0.0.1:9090 (count by over rust_mod_info), 12 s of 120 s\x1b[K\r\x1b[K"
        );
        let long = format!("http://{}.example:9090/prefix", "x".repeat(200));
        let l = waiting_line(
            &long,
            "its /metrics page",
            Duration::ZERO,
            Duration::from_millis(500),
        );
        assert_eq!(l.chars().count(), WIDTH, "{l}");
        assert!(l.starts_with("waiting for http://xx"), "{l}");
        assert!(
            l.ends_with(":9090/prefix (its /metrics page), 0 s of 0.5 s"),
            "{l}"
        );
    }

    #[test]
    fn a_disabled_line_writes_nothing() {
        let a = Progress::Scanning {
            files: 1,
            path: Path::new("bin/app"),
        };
        assert_eq!(shown(false, true, &[a]), "");
    }
}
