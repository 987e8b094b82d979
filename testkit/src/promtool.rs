//! The real `promtool` (Debian package `prometheus`): a missing checker fails the test with
//! how to install it, instead of skipping the check.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::child::{run, run_with_input, stderr, stdout};

/// How long one promtool check may take.
const LIMIT: Duration = Duration::from_secs(60);

/// The path of `tool` on `PATH`; panics naming the package that provides it
/// (`victoria-metrics`, `curl` and `jq` for themselves, `prometheus` for everything else
/// asked here).
pub fn installed(tool: &str) -> PathBuf {
    let package = match tool {
        "victoria-metrics" | "curl" | "jq" => tool,
        _ => "prometheus",
    };
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{tool} is missing: install the Debian package {package} (scripts/test-all.sh does)"
            )
        })
}

/// `promtool check metrics` on `exposition`; panics with promtool's words and the text unless
/// it passes. Returns what promtool printed (empty when it has no remark at all).
pub fn check_metrics(exposition: &str) -> String {
    let out = run_with_input(
        Command::new(installed("promtool")).args(["check", "metrics"]),
        exposition.as_bytes(),
        LIMIT,
    );
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        out.status.success(),
        "promtool check metrics:\n{said}\n--- input\n{exposition}"
    );
    said
}

/// `promtool check rules FILE`; panics unless it passes. Returns promtool's stdout.
pub fn check_rules(file: &Path) -> String {
    let out = run(
        Command::new(installed("promtool"))
            .args(["check", "rules"])
            .arg(file),
        LIMIT,
    );
    assert!(
        out.status.success(),
        "promtool check rules {}:\n{}{}",
        file.display(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// `promtool test rules FILE` run in `dir` (rule files named in the test file are relative to
/// it); panics unless every test passes.
pub fn test_rules(dir: &Path, file: &str) {
    let out = run(
        Command::new(installed("promtool"))
            .current_dir(dir)
            .args(["test", "rules", file]),
        LIMIT,
    );
    assert!(
        out.status.success(),
        "promtool test rules {file}:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_passes_and_broken_text_fails() {
        assert_eq!(
            check_metrics("# HELP up Whether it is up.\n# TYPE up gauge\nup 1\n"),
            ""
        );
        let broken = std::panic::catch_unwind(|| check_metrics("up{ 1\n"));
        assert!(broken.is_err());
    }

    #[test]
    #[should_panic(expected = "is missing")]
    fn a_missing_tool_is_named() {
        installed("no-such-tool-anywhere");
    }
}
