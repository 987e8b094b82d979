//! Bad input: a directory with thousands of files that are not binaries (text, empty files,
//! scripts, random bytes, names like `libfoo.so`) and a few binaries among them. `inspect`
//! lists the binaries, skips the rest quietly (no progress line either: stderr is not a
//! terminal) and exits 0, well within a generous limit.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::{Scratch, auditable_binary, noise, plain_binary, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// The files that are not binaries.
const OTHER_FILES: usize = 3_000;
/// A hang or a quadratic walk shows up as a failure, not as a slow CI.
const LIMIT: Duration = Duration::from_secs(120);

const DEP_V0: &str = r#"{"packages":[{"name":"NAME","version":"1.0.0","source":"local","dependencies":[1],"root":true},{"name":"itoa","version":"1.0.15","source":"crates.io"}],"format":1}"#;

#[test]
fn thousands_of_non_binaries_are_skipped_and_the_binaries_listed() {
    let scratch = Scratch::new("big-scan");
    let dir = scratch.join("tree");
    for i in 0..OTHER_FILES {
        let sub = dir.join(format!("d{:02}", i % 30));
        std::fs::create_dir_all(&sub).unwrap();
        let (name, contents): (String, Vec<u8>) = match i % 6 {
            0 => (format!("notes-{i}.txt"), b"plain text\n".to_vec()),
            1 => (format!("empty-{i}"), Vec::new()),
            2 => (format!("run-{i}.sh"), b"#!/bin/sh\nexit 0\n".to_vec()),
            3 => (format!("libfake-{i}.so"), noise(i, 4096)),
            4 => (format!("data-{i}.bin"), noise(i, 64)),
            _ => (format!("tiny-{i}"), b"\x7f".to_vec()),
        };
        std::fs::write(sub.join(name), contents).unwrap();
    }
    auditable_binary(&dir.join("d00/app-one"), &DEP_V0.replace("NAME", "app-one"));
    auditable_binary(&dir.join("d17/app-two"), &DEP_V0.replace("NAME", "app-two"));
    auditable_binary(
        &dir.join("d29/zz-app-three"),
        &DEP_V0.replace("NAME", "app-three"),
    );
    std::fs::copy(plain_binary(), dir.join("d05/plain")).unwrap();

    let out = testkit::run(Command::new(BIN).arg("inspect").arg(&dir), LIMIT);
    let (stdout, stderr) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "", "nothing on stderr when it is not a terminal");
    let headers: Vec<&str> = stdout.lines().filter(|l| !l.starts_with('\t')).collect();
    let d = dir.display();
    assert_eq!(
        headers,
        [
            format!("{d}/d00/app-one: app-one 1.0.0"),
            format!("{d}/d17/app-two: app-two 1.0.0"),
            format!("{d}/d29/zz-app-three: app-three 1.0.0"),
        ]
    );
}

/// Runs `inspect DIR` with stderr on a pseudo-terminal (util-linux `script`), returning what
/// the terminal showed.
fn on_a_terminal(dir: &Path, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["--quiet", "--return", "--command"])
        .arg(format!("'{BIN}' inspect '{}' >/dev/null", dir.display()))
        .arg("/dev/null")
        .env("TERM", "xterm");
    if no_color {
        cmd.env("NO_COLOR", "1");
    } else {
        cmd.env_remove("NO_COLOR");
    }
    // `script` (util-linux) runs the command on a pseudo-terminal.
    let out = testkit::run(&mut cmd, LIMIT);
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
}

#[test]
fn progress_shows_on_a_terminal_and_respects_no_color() {
    let dir = Scratch::new("big-scan-terminal");
    for i in 0..50 {
        std::fs::write(dir.join(format!("f{i:02}.txt")), "text").unwrap();
    }
    let shown = on_a_terminal(&dir, false);
    assert!(shown.contains("\rscanning 1 "), "{shown:?}");
    assert!(shown.contains("\x1b[K"), "{shown:?}");
    // The line is removed at the end: the last thing drawn is an empty, cleared line.
    assert!(shown.ends_with("\r\x1b[K"), "{shown:?}");
    let plain = on_a_terminal(&dir, true);
    assert!(plain.contains("\rscanning 1 "), "{plain:?}");
    assert!(
        !plain.contains('\x1b'),
        "NO_COLOR: no escape sequences: {plain:?}"
    );
}
