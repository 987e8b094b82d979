//! The build script's side of the conversation with cargo: every variable read and file
//! consulted becomes an exact `cargo:rerun-if-*` line, every problem a `cargo:warning`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What one build-script run read, what went wrong, and what to watch.
pub(super) struct Script {
    pub out_dir: PathBuf,
    pub strict: bool,
    env_read: BTreeSet<String>,
    watch: BTreeSet<PathBuf>,
    problems: Vec<String>,
    trace: String,
    started: Instant,
}

/// Variables cargo sets for build scripts: reading them needs no `rerun-if-env-changed`.
fn set_by_cargo(name: &str) -> bool {
    name.starts_with("CARGO_") && name != "CARGO_AUDITABLE_ORIG_ARGS"
        || matches!(
            name,
            "OUT_DIR" | "TARGET" | "HOST" | "PROFILE" | "OPT_LEVEL" | "DEBUG" | "RUSTC" | "CARGO"
        )
}

impl Script {
    pub fn new(out_dir: PathBuf, strict: bool) -> Script {
        Script {
            out_dir,
            strict,
            env_read: BTreeSet::new(),
            watch: BTreeSet::new(),
            problems: Vec::new(),
            trace: String::new(),
            started: Instant::now(),
        }
    }

    /// Reads a variable (empty counts as unset) and remembers to watch it.
    pub fn var(&mut self, name: &str) -> Option<String> {
        self.env_read.insert(name.to_owned());
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    /// Declares a file or directory whose change must re-run the script.
    pub fn watch(&mut self, path: impl Into<PathBuf>) {
        self.watch.insert(path.into());
    }

    /// Something that could not be captured: a warning, or the failure in strict mode.
    pub fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    /// A timed line for `build-info-trace.txt` in `OUT_DIR`.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(
            self.trace,
            "{line} ({} us)",
            self.started.elapsed().as_micros()
        );
    }

    /// Writes `bytes` to `OUT_DIR/name` unless it already holds them (an unchanged file keeps
    /// its mtime, so nothing downstream rebuilds).
    pub fn write_if_changed(&self, name: &str, bytes: &[u8]) {
        let path = self.out_dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return;
        }
        if let Err(e) = std::fs::write(&path, bytes) {
            // Without the generated file the crate cannot compile: this one is fatal.
            panic!("build-info: cannot write {}: {e}", path.display());
        }
    }

    /// The trace file, then the `cargo:` lines; panics in strict mode after a problem.
    pub fn finish(mut self) {
        let _ = std::fs::write(self.out_dir.join("build-info-trace.txt"), &self.trace);
        print!("{}", self.cargo_lines());
        let problems = std::mem::take(&mut self.problems);
        assert!(
            !self.strict || problems.is_empty(),
            "build-info strict mode: {}",
            problems.join("; ")
        );
    }

    fn cargo_lines(&self) -> String {
        let mut lines = String::new();
        for path in &self.watch {
            let _ = writeln!(lines, "cargo:rerun-if-changed={}", path.display());
        }
        for name in &self.env_read {
            if !set_by_cargo(name) {
                let _ = writeln!(lines, "cargo:rerun-if-env-changed={name}");
            }
        }
        for p in &self.problems {
            let _ = writeln!(lines, "cargo:warning=build-info: {}", p.replace('\n', " "));
        }
        lines
    }

    /// Cargo's home: `CARGO_HOME`, else `$HOME/.cargo`.
    pub fn cargo_home(&mut self) -> Option<PathBuf> {
        self.var("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
    }

    /// Whether `dir` lies in cargo's registry or git checkouts.
    pub fn under_cargo_home(&mut self, dir: &Path) -> bool {
        self.cargo_home().is_some_and(|h| {
            ["registry", "git"]
                .iter()
                .any(|d| dir.starts_with(h.join(d)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_user_controlled_variables_are_declared() {
        assert!(
            set_by_cargo("CARGO_PKG_NAME") && set_by_cargo("OUT_DIR") && set_by_cargo("TARGET")
        );
        assert!(!set_by_cargo("CARGO_AUDITABLE_ORIG_ARGS") && !set_by_cargo("SOURCE_DATE_EPOCH"));
    }

    #[test]
    fn cargo_lines_watch_files_and_user_variables_and_warn_on_one_line() {
        let mut s = Script::new(PathBuf::from("/nonexistent"), false);
        s.watch("/a/Cargo.toml");
        let _ = s.var("CARGO_PKG_NAME");
        let _ = s.var("BUILD_INFO_TEST_UNSET_VARIABLE");
        s.problem("two\nlines".into());
        assert_eq!(
            s.cargo_lines(),
            "cargo:rerun-if-changed=/a/Cargo.toml\n\
             cargo:rerun-if-env-changed=BUILD_INFO_TEST_UNSET_VARIABLE\n\
             cargo:warning=build-info: two lines\n"
        );
    }
}
