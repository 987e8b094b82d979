//! Fixture projects copied to a temporary directory and built for real by cargo.
//!
//! Every fixture build shares one target directory (`target/fixtures` in this workspace) so
//! that build-info and its dependencies compile once. Each test gives its fixture a package
//! name of its own, so binaries never overwrite each other's.

#![allow(dead_code, clippy::cast_possible_truncation)]

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("fixtures")
}

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "build-info-test-{label}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies `tests/fixtures/<template>` into `dest`, replacing `@NAME@` and `@BUILD_INFO@`
/// (and any extra `(from, to)` pairs) in every file.
pub fn copy_fixture(template: &str, dest: &Path, name: &str, extra: &[(&str, &str)]) {
    let src = workspace_root()
        .join("tests")
        .join("fixtures")
        .join(template);
    let build_info = workspace_root().join("build-info");
    copy_tree(&src, dest, &|text: String| {
        let mut text = text
            .replace("@NAME@", name)
            .replace("@BUILD_INFO@", &build_info.display().to_string());
        for (from, to) in extra {
            text = text.replace(from, to);
        }
        text
    });
}

fn copy_tree(src: &Path, dest: &Path, edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dest.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &to, edit);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&to, edit(text)).unwrap();
        }
    }
}

/// Environment variables build-info reads that must not leak from the machine into a test.
const SCRUBBED: &[&str] = &[
    "SOURCE_DATE_EPOCH",
    "GITHUB_SHA",
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_SHA",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_TAG",
    "BUILDKITE_COMMIT",
    "BUILDKITE_BRANCH",
    "BUILDKITE_TAG",
    "CIRCLE_SHA1",
    "CIRCLE_BRANCH",
    "CIRCLE_TAG",
    "TRAVIS_COMMIT",
    "TRAVIS_BRANCH",
    "TRAVIS_TAG",
    "DRONE_COMMIT_SHA",
    "DRONE_BRANCH",
    "DRONE_TAG",
    "BITBUCKET_COMMIT",
    "BITBUCKET_BRANCH",
    "BITBUCKET_TAG",
    "BUILD_SOURCEVERSION",
    "BUILD_SOURCEBRANCHNAME",
    "GIT_COMMIT",
    "GIT_BRANCH",
    "CARGO_AUDITABLE_ORIG_ARGS",
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "GIT_DIR",
    "GIT_WORK_TREE",
];

/// `cargo <args>` in `dir` with the shared target directory and a clean environment.
pub fn cargo(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || key.starts_with("BUILD_INFO_")
            || SCRUBBED.contains(&key.as_str())
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_INCREMENTAL", "0");
    cmd
}

/// Runs a command with a time limit; panics with its output on failure.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = run_limited(cmd, Duration::from_secs(900));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command, killing it after `limit`.
pub fn run_limited(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.read_to_end(&mut b);
        b
    });
    let err_thread = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.read_to_end(&mut b);
        b
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran longer than {limit:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `git <args>` in `dir`, with a fixed identity and no user or system configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = run_ok(
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z"),
    );
    stdout(&out).trim().to_owned()
}

/// Initializes a repository in `dir` on branch `main` and commits everything.
pub fn git_init_commit(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// Path of a binary built into the shared target directory.
pub fn binary(profile: &str, name: &str) -> PathBuf {
    target_dir().join(profile).join(name)
}

/// Runs a fixture binary built from the `basic` template and parses its `key=value` lines;
/// `package=` lines are collected in order under `packages`.
pub struct Dump {
    pub fields: BTreeMap<String, String>,
    pub packages: Vec<String>,
}

impl Dump {
    pub fn of(binary: &Path) -> Dump {
        let out = run_ok(&mut Command::new(binary));
        let mut fields = BTreeMap::new();
        let mut packages = Vec::new();
        for line in stdout(&out).lines() {
            let (k, v) = line.split_once('=').unwrap();
            if k == "package" {
                packages.push(v.to_owned());
            } else {
                fields.insert(k.to_owned(), v.to_owned());
            }
        }
        Dump { fields, packages }
    }

    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("<missing>", String::as_str)
    }
}

/// The output directory of the latest build-script run of package `name`, from cargo's
/// `--message-format=json` output.
pub fn out_dir_from_messages(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "build-script-executed")
        .filter(|v| {
            v["package_id"].as_str().is_some_and(|id| {
                id.contains(&format!("#{name}@")) || id.contains(&format!("/{name}#"))
            })
        })
        .filter_map(|v| v["out_dir"].as_str().map(PathBuf::from))
        .next_back()
}

/// The bytes of ELF section `name` (64-bit little-endian ELF only: what these tests build).
pub fn elf_section(file: &[u8], name: &str) -> Option<Vec<u8>> {
    let u16_at = |o: usize| u16::from_le_bytes(file[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(file[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(file[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&file[..5], b"\x7fELF\x02", "not a 64-bit ELF file");
    let shoff = u64_at(0x28);
    let shentsize = u16_at(0x3a);
    let shnum = u16_at(0x3c);
    let shstrndx = u16_at(0x3e);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    for i in 0..shnum {
        let h = header(i);
        let name_off = strtab + u32_at(h);
        let end = file[name_off..].iter().position(|&b| b == 0)?;
        if &file[name_off..name_off + end] == name.as_bytes() {
            let (offset, size) = (u64_at(h + 0x18), u64_at(h + 0x20));
            return Some(file[offset..offset + size].to_vec());
        }
    }
    None
}

/// Inflates one zlib stream.
pub fn inflate(data: &[u8]) -> String {
    let bytes = miniz_oxide::inflate::decompress_to_vec_zlib(data).expect("not one zlib stream");
    String::from_utf8(bytes).unwrap()
}
