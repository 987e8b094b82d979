//! Fixture projects under `tests/fixtures`, copied to a scratch directory and built for real
//! by cargo.
//!
//! Every fixture build shares one target directory (`target/fixtures` in this workspace) so
//! that buildinfo and its dependencies compile once. Each test gives its fixture a package
//! name of its own, so binaries never overwrite each other's.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::child::{run_ok, stdout};

/// The workspace root (the directory above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives in the workspace")
        .to_path_buf()
}

/// The target directory every fixture build shares.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("fixtures")
}

/// Path of a binary built into the shared target directory.
pub fn binary(profile: &str, name: &str) -> PathBuf {
    target_dir().join(profile).join(name)
}

/// Copies `tests/fixtures/<template>` into `dest`, replacing in every file `@NAME@` with
/// `name`, `@BUILD_INFO@` with the path of the buildinfo crate, `@FIXTURES@` with the path of
/// `tests/fixtures` (for code the fixtures share through `include!`), and any extra
/// `(from, to)` pairs.
pub fn copy_fixture(template: &str, dest: &Path, name: &str, extra: &[(&str, &str)]) {
    let fixtures = workspace_root().join("tests").join("fixtures");
    let build_info = workspace_root().join("build-info");
    copy_tree(&fixtures.join(template), dest, &|text: String| {
        let mut text = text
            .replace("@NAME@", name)
            .replace("@BUILD_INFO@", &build_info.display().to_string())
            .replace("@FIXTURES@", &fixtures.display().to_string());
        for (from, to) in extra {
            text = text.replace(from, to);
        }
        text
    });
}

fn copy_tree(src: &Path, dest: &Path, edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(dest).unwrap();
    let entries = std::fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    for entry in entries {
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

/// Environment variables buildinfo reads that must not leak from the machine into a test.
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

/// `cargo` in `dir` with the shared target directory and a clean environment (no `CARGO_*`
/// but `CARGO_HOME`, no `BUILD_INFO_*`, no CI or VCS variables).
pub fn cargo(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || key.starts_with("BUILD_INFO_")
            || SCRUBBED.contains(&key)
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_INCREMENTAL", "0");
    cmd
}

/// `git <args>` in `dir`, with a fixed identity and date and no user or system configuration;
/// returns its trimmed stdout.
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

/// `git -C dir` with no user or system configuration, authored and committed by
/// `t <t@example.invalid>` at `date` (as git reads it: `@SECONDS +0000`), for tests that make
/// repositories and need to know exactly what git wrote.
pub fn git_command(dir: &Path, date: &str) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date);
    cmd
}

/// Initializes a repository in `dir` on branch `main`, commits everything, and returns the
/// commit's sha.
pub fn git_init_commit(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    git(dir, &["rev-parse", "HEAD"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;

    #[test]
    fn a_fixture_is_copied_with_its_placeholders_filled() {
        let dir = Scratch::new("fixture");
        copy_fixture("basic", &dir.join("app"), "my-app", &[]);
        let manifest = std::fs::read_to_string(dir.join("app/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-app\""), "{manifest}");
        assert!(!manifest.contains('@'), "{manifest}");
        let main = std::fs::read_to_string(dir.join("app/src/main.rs")).unwrap();
        assert!(!main.contains('@'), "{main}");
        let shared = workspace_root().join("tests/fixtures/print_fields.rs");
        assert!(
            main.contains(&format!("include!(\"{}\")", shared.display())),
            "{main}"
        );
    }

    #[test]
    fn git_commits_with_a_fixed_identity() {
        let dir = Scratch::new("git");
        std::fs::write(dir.join("f"), "x").unwrap();
        let sha = git_init_commit(&dir);
        assert_eq!(sha.len(), 40);
        assert_eq!(
            git(&dir, &["log", "-1", "--format=%an <%ae>"]),
            "Test <test@example.invalid>"
        );
        assert_eq!(git(&dir, &["branch", "--show-current"]), "main");
    }

    #[test]
    fn cargo_leaves_the_machines_variables_out() {
        let cmd = cargo(Path::new("."));
        let removed: Vec<_> = cmd
            .get_envs()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        // Cargo sets CARGO_PKG_NAME for this test process: it must not reach the fixture.
        assert!(removed.iter().any(|k| k == "CARGO_PKG_NAME"), "{removed:?}");
        assert!(!removed.iter().any(|k| k == "CARGO_HOME"));
    }
}
