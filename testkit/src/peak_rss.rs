//! The peak RSS of a whole command, for the memory benches: `wait4`'s `ru_maxrss` of a child
//! whose output goes to `/dev/null`.
//!
//! Linux carries a process's peak RSS across `exec`, and a child started by `vfork` (as
//! `std::process::Command` does) shares its parent's memory until then: a bench holding a
//! large page would see its own size in the child's figure. So the child is started from a
//! fresh, small copy of the bench ([`measured`] runs `current_exe --measure-child CMD...`),
//! and the bench's `main` answers that first ([`answer_measure_request`]).
//!
//! ```ignore
//! fn main() {
//!     testkit::answer_measure_request();
//!     let m = testkit::measured(&["/bin/true"]);
//!     println!("{} KiB", m.peak_rss_kib);
//! }
//! ```

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The flag a bench's copy of itself is started with to measure a command.
const FLAG: &str = "--measure-child";

/// What one measured command did.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Wall time from start to exit.
    pub wall: Duration,
    /// Peak resident set size of the command alone, in KiB (`ru_maxrss`).
    pub peak_rss_kib: u64,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Measured {
    /// The peak RSS in bytes.
    pub fn peak_rss_bytes(&self) -> u64 {
        self.peak_rss_kib << 10
    }
}

/// Runs `cmd` (program and arguments, stdin and stdout on `/dev/null`) from a fresh copy of
/// the current executable and returns its wall time, peak RSS, exit code and stderr.
///
/// # Panics
///
/// When the copy cannot be started or does not answer (the bench's `main` must call
/// [`answer_measure_request`] first).
pub fn measured<S: AsRef<str>>(cmd: &[S]) -> Measured {
    let out = Command::new(std::env::current_exe().expect("the bench's own path"))
        .arg(FLAG)
        .args(cmd.iter().map(AsRef::as_ref))
        .stdin(Stdio::null())
        .output()
        .expect("start a copy of the bench");
    let report = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<i64> = report
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [nanos, rss, code] = fields[..] else {
        panic!("the measuring copy answered {report:?}: does main call answer_measure_request?")
    };
    Measured {
        wall: Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)),
        peak_rss_kib: u64::try_from(rss).unwrap_or(0),
        code: i32::try_from(code).unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// When this process was started by [`measured`] (`--measure-child PROGRAM ARGS...`): runs
/// the command, prints `NANOS MAXRSS_KIB CODE` and exits. Otherwise returns at once. Call it
/// first in a bench's `main`, before anything large is allocated.
pub fn answer_measure_request() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(FLAG) {
        return;
    }
    let Some(program) = args.get(2) else {
        eprintln!("{FLAG}: no command");
        std::process::exit(2);
    };
    let start = Instant::now();
    let child = Command::new(program)
        .args(&args[3..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("{FLAG}: cannot start {program}: {e}");
            std::process::exit(2);
        });
    let (rss, code) = wait_with_rusage(child);
    println!("{} {rss} {code}", start.elapsed().as_nanos());
    std::process::exit(0);
}

/// Waits for `child` with `wait4`: its peak RSS in KiB and its exit code.
#[allow(
    unsafe_code,
    reason = "wait4 is the one call that gives a child's own peak RSS with its exit"
)]
fn wait_with_rusage(child: std::process::Child) -> (i64, i32) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    let mut status = 0;
    // SAFETY: `rusage` is plain data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = loop {
        // SAFETY: waits for the child spawned by the caller, which `Child` never waits for
        // (it is forgotten below), with valid pointers to locals.
        let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
        if waited == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        break waited;
    };
    assert_eq!(waited, pid, "wait4");
    // Reaped: `Child`'s drop does nothing more, but say so.
    std::mem::forget(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (usage.ru_maxrss, code)
}
