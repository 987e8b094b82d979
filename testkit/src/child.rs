//! Child processes with a time limit: a test that waits on a hung child forever says nothing
//! about what hung, so every wait here has a deadline and every child is killed when its
//! guard drops (also when an assertion fails first).

use std::io::{Read, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The limit [`run_ok`] gives a command: long enough for a cold `cargo build` of a fixture.
const RUN_OK_LIMIT: Duration = Duration::from_secs(900);

/// How often a wait looks at the child.
const POLL: Duration = Duration::from_millis(20);

/// Reads `pipe` (a child's stdout or stderr) until a line starts with `prefix` and returns the
/// rest of that line: how a server started on port 0 tells its address. Panics, naming
/// `what`, if the pipe ends first. The pipe is then drained in the background, since a closed
/// pipe would kill the child at its next line of output.
pub fn announced(pipe: impl Read + Send + 'static, prefix: &str, what: &str) -> String {
    use std::io::BufRead as _;

    let mut lines = std::io::BufReader::new(pipe);
    let mut line = String::new();
    let rest = loop {
        line.clear();
        assert!(
            lines.read_line(&mut line).unwrap() > 0,
            "{what} exited before saying {prefix:?}"
        );
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            break rest.to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
    rest
}

/// A running child, killed and reaped when dropped.
pub struct Running {
    child: Child,
    what: String,
}

impl Running {
    /// Starts `cmd` with the stdio it was given (inherited unless set).
    pub fn spawn(cmd: &mut Command) -> Running {
        let what = format!("{cmd:?}");
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Running { child, what }
    }

    /// The child, for its pipes and its id.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Its exit status if it has exited, without waiting.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("wait on a child")
    }

    /// Waits for the exit; panics (the child is killed on drop) if it runs past `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_status() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "{} ran longer than {limit:?}; killed",
                self.what
            );
            std::thread::sleep(POLL);
        }
    }

    /// Kills the child now and reaps it.
    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How long [`wait_exec`] and [`wait_exec_inode`] wait for a child to exec.
const EXEC_LIMIT: Duration = Duration::from_secs(10);

/// Waits until /proc shows `child` running `exe` (it has exec'd): the text of its
/// `/proc/PID/exe` link, so `… (deleted)` once the file is gone and `/memfd:…` for a memfd.
/// Panics naming `exe` after 10 s.
pub fn wait_exec(child: &mut Running, exe: impl AsRef<Path>) {
    let exe = exe.as_ref();
    let link = format!("/proc/{}/exe", child.child().id());
    wait_exec_until(exe, || {
        std::fs::read_link(&link).ok().as_deref() == Some(exe)
    });
}

/// Waits until /proc shows `child` running the file at `path` (the same inode), for paths
/// whose link text the kernel cannot give. Panics naming `path` after 10 s.
pub fn wait_exec_inode(child: &mut Running, path: &Path) {
    use std::os::unix::fs::MetadataExt as _;

    let want = std::fs::metadata(path).unwrap().ino();
    let link = format!("/proc/{}/exe", child.child().id());
    wait_exec_until(path, || {
        std::fs::metadata(&link).map(|m| m.ino()).ok() == Some(want)
    });
}

/// Polls `started` every [`POLL`] until it holds; panics saying `exe` did not start after
/// [`EXEC_LIMIT`].
fn wait_exec_until(exe: &Path, mut started: impl FnMut() -> bool) {
    let begun = Instant::now();
    while !started() {
        assert!(
            begun.elapsed() < EXEC_LIMIT,
            "{} did not start",
            exe.display()
        );
        std::thread::sleep(POLL);
    }
}

/// Runs `cmd` with stdin from `/dev/null`, capturing stdout and stderr; panics (after killing
/// it) if it runs past `limit`.
pub fn run(cmd: &mut Command, limit: Duration) -> Output {
    run_feeding(cmd, None, limit)
}

/// Like [`run`], writing `input` to the child's stdin (then closing it).
pub fn run_with_input(cmd: &mut Command, input: &[u8], limit: Duration) -> Output {
    run_feeding(cmd, Some(input.to_vec()), limit)
}

/// Runs `cmd` within 900 s; panics with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = run(cmd, RUN_OK_LIMIT);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    out
}

/// The proxy variables that `ureq`, curl and Go read, in both cases.
pub(crate) const PROXY_VARIABLES: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs `program args` like [`run`], with none of the test's own proxy variables but those in
/// `env` (which are set): its exit code (-1 when killed by a signal), stdout and stderr.
pub fn run_with_proxy_env(
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> (i32, String, String) {
    let mut cmd = Command::new(program);
    for var in PROXY_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    let out = run(&mut cmd, limit);
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// Stdout as text (invalid UTF-8 replaced).
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stderr as text (invalid UTF-8 replaced).
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn run_feeding(cmd: &mut Command, input: Option<Vec<u8>>, limit: Duration) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut running = Running::spawn(cmd);
    // Pipes are drained and fed on threads: a child blocked on a full pipe would otherwise
    // look like a hang.
    let feeder = input.map(|bytes| {
        let stdin = running.child.stdin.take().expect("piped stdin");
        std::thread::spawn(move || feed(stdin, &bytes))
    });
    let out = drain(running.child.stdout.take());
    let err = drain(running.child.stderr.take());
    let status = running.wait(limit);
    if let Some(feeder) = feeder {
        let _ = feeder.join();
    }
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

fn feed(mut stdin: ChildStdin, bytes: &[u8]) {
    // A child that exits without reading all of its input is not an error here.
    let _ = stdin.write_all(bytes);
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The lines of the child's stderr, asserting there are exactly `count` of them (the whole
/// stderr is printed when there are not).
#[track_caller]
pub fn stderr_lines(out: &Output, count: usize) -> Vec<String> {
    let err = stderr(out);
    let lines: Vec<String> = err.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), count, "{err}");
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_input_are_carried() {
        let out = run_with_input(&mut Command::new("cat"), b"hello", Duration::from_secs(10));
        assert!(out.status.success());
        assert_eq!(stdout(&out), "hello");
        let out = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        );
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(
            (stdout(&out).as_str(), stderr(&out).as_str()),
            ("out\n", "err\n")
        );
    }

    #[test]
    fn a_child_past_its_limit_is_killed_and_the_test_fails() {
        let started = Instant::now();
        let failed = std::panic::catch_unwind(|| {
            run(Command::new("sleep").arg("30"), Duration::from_millis(200))
        });
        assert!(failed.is_err());
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_dropped_guard_kills_its_child() {
        let mut running = Running::spawn(Command::new("sleep").arg("30"));
        let pid = running.child().id();
        drop(running);
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!alive.success(), "process {pid} still runs");
    }

    #[test]
    #[should_panic(expected = "failed")]
    fn run_ok_fails_on_a_failing_command() {
        run_ok(&mut Command::new("false"));
    }
}
