//! Running a helper program (git, cargo, rustc) without ever hanging the build.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished helper printed.
pub(crate) struct Output {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

/// Why a helper gave no output.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The program could not be started (`NotFound` when it is missing).
    Spawn(std::io::Error),
    /// It ran longer than allowed and was killed.
    TimedOut(Duration),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Spawn(e) if e.kind() == std::io::ErrorKind::NotFound => {
                f.write_str("not found")
            }
            RunError::Spawn(e) => write!(f, "could not start: {e}"),
            RunError::TimedOut(d) => write!(f, "killed after {} s", d.as_secs()),
        }
    }
}

/// Runs `cmd` with no stdin, reading stdout and stderr fully, and kills it after `limit`.
/// Output is read on threads so that a chatty child never blocks on a full pipe.
pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Result<Output, RunError> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = child.stdout.take().map(|p| reader(Box::new(p)));
    let err = child.stderr.take().map(|p| reader(Box::new(p)));
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::TimedOut(limit));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(RunError::Spawn(e)),
        }
    };
    let join = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        stdout: join(out),
        stderr: join(err),
        success: status.success(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_a_child_that_runs_too_long() {
        let started = Instant::now();
        let r = run(Command::new("sleep").arg("5"), Duration::from_millis(100));
        assert!(matches!(r, Err(RunError::TimedOut(_))));
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn reports_a_missing_program_as_not_found() {
        let r = run(
            &mut Command::new("build-info-no-such-program"),
            Duration::from_secs(1),
        );
        assert_eq!(r.err().map(|e| e.to_string()).as_deref(), Some("not found"));
    }

    #[test]
    fn captures_large_output_without_blocking() {
        let out = run(
            Command::new("sh").args(["-c", "head -c 300000 /dev/zero | tr '\\0' x; echo err >&2"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(out.success);
        assert_eq!(out.stdout.len(), 300_000);
        assert_eq!(out.stderr, "err\n");
    }
}
