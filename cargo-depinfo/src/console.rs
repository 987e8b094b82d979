//! What `cargo depinfo` says on stderr besides its answer: errors, warnings, notes and the
//! progress line, all from here. `-q` silences everything but the errors (an exit code 2 is
//! always explained); colour on stdout is chosen in `cli.rs`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use cargo_depinfo::progress_line::ProgressLine;
use cargo_depinfo::{Paint, When};

/// `-q`: set once, before any command runs.
static QUIET: AtomicBool = AtomicBool::new(false);

/// `--color`: set once, before any command runs.
static COLOR: OnceLock<Option<When>> = OnceLock::new();

/// Silences warnings, notes and the progress line from now on (`-q`), and draws the progress
/// line with escapes only as `color` allows.
pub(crate) fn set(quiet: bool, color: Option<When>) {
    QUIET.store(quiet, Ordering::Relaxed);
    let _ = COLOR.set(color);
}

/// Whether `-q` was given.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// `error: MESSAGE` on one line, every control character escaped; printed even with `-q`.
pub(crate) fn error(message: &str) {
    cargo_depinfo::eprint_error(message);
}

/// `warning: MESSAGE` on one line, every control character escaped; not with `-q`.
pub(crate) fn warning(message: &str) {
    if !quiet() {
        eprintln!("warning: {}", cargo_depinfo::printable_line(message));
    }
}

/// `note: MESSAGE` on one line, every control character escaped; not with `-q`.
pub(crate) fn note(message: &str) {
    if !quiet() {
        eprintln!("note: {}", cargo_depinfo::printable_line(message));
    }
}

/// A line that says what the answer was made from (the database `audit --format prometheus`
/// used), as it is: the caller escaped its values. Not with `-q`.
pub(crate) fn info(line: &str) {
    if !quiet() {
        eprintln!("{line}");
    }
}

/// The progress line on stderr: drawn on a terminal, never with `-q`; erased with an escape
/// sequence only when colour would be written there (not with `--color never`, `NO_COLOR` or
/// `TERM=dumb`).
pub(crate) fn progress() -> ProgressLine<std::io::Stderr> {
    if quiet() {
        return ProgressLine::hidden();
    }
    let color = COLOR.get().copied().flatten();
    // The line is drawn on a terminal only; a bad CARGO_TERM_COLOR was refused at the start.
    let escapes =
        Paint::choose(color, |name| std::env::var_os(name), true).is_ok_and(Paint::is_ansi);
    ProgressLine::stderr_escaping(escapes)
}
