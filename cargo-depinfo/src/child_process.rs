//! Runs a child process with a deadline. Every program cargo-depinfo starts (`cargo
//! metadata`, `cargo -vV`) goes through here, so none can hang a run: past the
//! deadline the child is killed and the error names the command.

use std::process::{Command, Output};
use std::time::Duration;

use buildinfo::capture::RunError;

/// Why a child process gave no output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// The program could not be started (missing, not executable), or waiting for it failed.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The child was still running at the deadline and was killed.
    #[error("`{command}` did not finish within {}s and was killed", timeout.as_secs_f64())]
    Timeout {
        /// The command line.
        command: String,
        /// The time it was given.
        timeout: Duration,
    },
}

/// The command line as a person would type it (for messages).
fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) and waits at most `timeout`; a child
/// still running then is killed and reaped. The same bounded runner as buildinfo's build side.
pub(crate) fn output_within(cmd: &mut Command, timeout: Duration) -> Result<Output, ChildError> {
    buildinfo::capture::run_within(cmd, timeout).map_err(|e| {
        let command = command_line(cmd);
        match e {
            RunError::TimedOut(_) => ChildError::Timeout { command, timeout },
            RunError::Spawn(source) => ChildError::Spawn { command, source },
            _ => ChildError::Spawn {
                command,
                source: std::io::Error::other(e.to_string()),
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_child_past_its_deadline_is_killed_and_named() {
        let start = Instant::now();
        let err =
            output_within(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            err.to_string(),
            "`sleep 30` did not finish within 0.2s and was killed"
        );
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = output_within(
            &mut Command::new("/nonexistent/cargo"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot run `/nonexistent/cargo`: "),
            "{err}"
        );
    }
}
