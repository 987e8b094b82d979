//! Running a helper program (git, cargo, rustc) without ever hanging the build.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished helper printed, as text (invalid UTF-8 replaced).
pub(crate) struct Output {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

/// Why a child process gave no output.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The program could not be started (`NotFound` when it is missing), or waiting for it
    /// failed.
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

impl std::error::Error for RunError {}

/// [`run_within`], with the output as text.
/// `ETXTBSY` on Linux and the BSDs.
const ETXTBSY: i32 = 26;

pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Result<Output, RunError> {
    let out = run_within(cmd, limit)?;
    Ok(Output {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
    })
}

/// Runs `cmd` with no stdin, reading stdout and stderr fully, and kills it after `limit`:
/// no child can hang its caller. Output is read on threads so that a chatty child never blocks
/// on a full pipe. The build side runs git, cargo and rustc through it; tools reuse it.
pub fn run_within(cmd: &mut Command, limit: Duration) -> Result<std::process::Output, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // "Text file busy": the program was just written, and a process another thread forked
    // meanwhile still holds it open until its own exec. It passes in moments.
    let mut attempts = 0;
    let mut child = loop {
        match cmd.spawn() {
            Err(e) if cfg!(unix) && e.raw_os_error() == Some(ETXTBSY) && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => break other.map_err(RunError::Spawn)?,
        }
    };
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
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
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Spawn(e));
            }
        }
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(std::process::Output {
        status,
        stdout: join(out),
        stderr: join(err),
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
    fn captures_large_binary_output_and_the_exit_status_without_blocking() {
        let script = "head -c 300000 /dev/zero | tr '\\0' x; printf '\\377'; echo err >&2; exit 3";
        let out = run_within(
            Command::new("sh").args(["-c", script]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout.len(), 300_001);
        assert_eq!(out.stdout.last(), Some(&0xff));
        assert_eq!(out.stderr, b"err\n");
        let text = run(
            Command::new("sh").args(["-c", script]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(!text.success);
        assert!(text.stdout.ends_with('\u{fffd}'));
    }
}
