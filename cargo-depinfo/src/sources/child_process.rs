//! Runs a child process with a deadline. Every program cargo-depinfo starts (`cargo
//! metadata`, `cargo -vV`, `curl`) goes through here, so none can hang a run: past the
//! deadline the child is killed and the error names the command.

use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How often a running child is polled. Short, because most children finish in milliseconds.
const POLL: Duration = Duration::from_millis(5);

/// Why a child process gave no output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// The program could not be started (missing, not executable).
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
    /// Waiting for the child failed.
    #[error("waiting for `{command}`: {source}")]
    Wait {
        /// The command line.
        command: String,
        /// The I/O error.
        source: std::io::Error,
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
/// still running then is killed and reaped. Output is read on threads while the child runs,
/// so a child that fills a pipe cannot block.
pub(crate) fn output_within(cmd: &mut Command, timeout: Duration) -> Result<Output, ChildError> {
    let command = command_line(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ChildError::Spawn {
            command: command.clone(),
            source,
        })?;
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ChildError::Timeout { command, timeout });
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(source) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ChildError::Wait { command, source });
            }
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
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
    fn a_child_within_its_deadline_gives_its_output() {
        let out = output_within(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
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
