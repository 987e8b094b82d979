//! The real exporter, started for a test or a bench.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use crate::{Running, announced};

/// Starts `cmd depinfo exporter --listen 127.0.0.1:0 ARGS` (`cmd`: the `cargo-depinfo`
/// binary, or a wrapper that runs it) with stdin and stdout on `/dev/null`, and waits for the
/// address it announces on stderr. Returns its guard, which kills it on drop, and that
/// address. Panics when it stops without announcing one.
pub fn start_exporter<S: AsRef<OsStr>>(
    mut cmd: Command,
    args: impl IntoIterator<Item = S>,
) -> (Running, String) {
    let mut exporter = Running::spawn(
        cmd.args(["depinfo", "exporter", "--listen", "127.0.0.1:0"])
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
