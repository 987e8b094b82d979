//! What the tests and benches of cargo-depinfo share: output text, scratch directories, and
//! binaries given chosen sections. Included with `#[path]`, so it is no test target itself.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A fresh directory `<tmp>/cargo-depinfo-<group>-<pid>/<name>`.
pub fn scratch(group: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("cargo-depinfo-{group}-{}", std::process::id()))
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A system binary built without any of our data.
pub fn plain_binary() -> PathBuf {
    for p in ["/bin/true", "/usr/bin/true"] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!("no /bin/true to use as a plain binary");
}

/// Copies the plain binary to `out` and adds a section holding `contents`, the way a linker
/// would place a `#[link_section]` static (objcopy from binutils).
pub fn with_section(out: &Path, section: &str, contents: &[u8]) {
    let data = out.with_extension("section");
    std::fs::write(&data, contents).unwrap();
    let status = Command::new("objcopy")
        .arg("--add-section")
        .arg(format!("{section}={}", data.display()))
        .arg("--set-section-flags")
        .arg(format!("{section}=alloc,readonly,data"))
        .arg(plain_binary())
        .arg(out)
        .status()
        .expect("objcopy (binutils) must be installed");
    assert!(status.success(), "objcopy failed");
    std::fs::remove_file(data).unwrap();
}

/// A copy of the plain binary whose `.dep-v0` holds `json`, as `cargo auditable` writes it.
pub fn auditable_binary(out: &Path, json: &str) {
    with_section(out, ".dep-v0", &buildinfo::build::zlib(json.as_bytes()));
}

/// Deterministic bytes that never start like a binary (first byte `#`).
pub fn noise(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut out = vec![b'#'];
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x.to_le_bytes()[0]);
    }
    out
}
