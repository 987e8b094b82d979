//! The real exporter, started for a test or a bench.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::child::{Running, announced};

/// Starts `cmd --listen 127.0.0.1:0 ARGS` (`cmd`: the `depinfo-exporter` binary, or a wrapper
/// that runs it) with stdin and stdout on `/dev/null`, and waits for the
/// address it announces on stderr. Returns its guard, which kills it on drop, and that
/// address. Panics when it stops without announcing one.
pub fn start_exporter<S: AsRef<OsStr>>(
    mut cmd: Command,
    args: impl IntoIterator<Item = S>,
) -> (Running, String) {
    let mut exporter = Running::spawn(
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = exporter
        .child()
        .stderr
        .take()
        .expect("the exporter's stderr is piped");
    let addr = announced(
        stderr,
        "cargo-depinfo exporter listening on ",
        "the exporter",
    );
    (exporter, addr)
}

/// The `cargo-depinfo` binary of the build that runs this test or bench, for a test of
/// another package (depinfo-server's) that also asks `cargo depinfo`: binaries are in
/// `target/<profile>/`, and a test's own executable is `target/<profile>/deps/<test>-<hash>`.
/// `cargo nextest run --workspace` and `cargo test --workspace` build it first. Panics, saying
/// how to build it, when it is missing.
pub fn cargo_depinfo_bin() -> PathBuf {
    profile_bin("cargo-depinfo", "cargo-depinfo")
}

/// The `depinfo-exporter` binary of the build that runs this test, for a test of a package
/// below depinfo-server (cargo-depinfo's dashboard test scrapes the real exporter), found as
/// [`cargo_depinfo_bin`] finds its binary. Panics, saying how to build it, when it is missing.
pub fn depinfo_exporter_bin() -> PathBuf {
    profile_bin("depinfo-exporter", "depinfo-server")
}

/// The binary `name` of `package` beside the running test's profile directory.
fn profile_bin(name: &str, package: &str) -> PathBuf {
    let me = std::env::current_exe().expect("the test knows its own executable");
    let profile_dir = me
        .parent()
        .filter(|deps| deps.ends_with("deps"))
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{}: not in target/<profile>/deps", me.display()));
    let bin = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{}: missing: run cargo build -p {package} first",
        bin.display()
    );
    bin
}

/// A client of the server at `addr` that sends half a request head and then nothing (reads
/// give up after 10 s): what a server's header read timeout, or its fairness to newcomers,
/// is tested with.
pub fn half_request_client(addr: &str) -> std::net::TcpStream {
    use std::io::Write as _;
    let mut client =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    client
}
