//! The revision and branch a binary reports are its own package's, in the two places where
//! the nearest repository is not: cargo's git checkouts (`cargo install --git`, git
//! dependencies) and a crate inside a directory its enclosing repository ignores or never
//! added. Each case is built for real by cargo against real temporary repositories.

// Shared with fixture_builds, which uses helpers this file does not.
#[allow(unused_imports)]
mod support;

use std::path::{Path, PathBuf};

use support::{Dump, Scratch, binary, cargo, copy_fixture, git, git_init_commit, run_ok, stderr};

const UNKNOWN: &str = "unknown";

/// The CARGO_HOME this test process was given (cargo's own default otherwise).
fn real_cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"),
        PathBuf::from,
    )
}

/// A fresh CARGO_HOME in `dir` that shares the real one's registry (so an offline build finds
/// every crate) and configuration, but has git checkouts of its own.
fn cargo_home(dir: &Path) -> PathBuf {
    let home = dir.join("cargo-home");
    std::fs::create_dir_all(home.join("git").join("checkouts")).unwrap();
    let real = real_cargo_home();
    for shared in ["registry", "config.toml", "config"] {
        if real.join(shared).exists() {
            std::os::unix::fs::symlink(real.join(shared), home.join(shared)).unwrap();
        }
    }
    home
}

/// Where builds with a CARGO_HOME of their own go. Not the shared fixture target: through
/// the linked registry, every crate's source path differs from the real home's, so building
/// there made cargo rebuild buildinfo's dependencies under the other fixture tests, and
/// `fixture_builds::re_runs_exactly_when_a_reported_fact_changes` saw reruns it did not cause.
fn other_home_target() -> PathBuf {
    testkit::target_dir().with_file_name("fixtures-other-home")
}

/// `cargo build --offline` in `dir` with `home` as CARGO_HOME (into [`other_home_target`]);
/// returns stderr.
fn build_with_home(dir: &Path, home: &Path) -> String {
    let out = run_ok(
        cargo(dir)
            .args(["build", "--offline"])
            .env("CARGO_HOME", home)
            .env("CARGO_TARGET_DIR", other_home_target()),
    );
    stderr(&out)
}

/// The binary `name` that [`build_with_home`] built.
fn other_home_binary(name: &str) -> PathBuf {
    other_home_target().join("debug").join(name)
}

#[test]
fn a_cargo_git_checkout_reports_its_commit_and_no_branch() {
    let name = "fx_gitinstall";
    let scratch = Scratch::new(name);
    let upstream = scratch.0.join("upstream");
    copy_fixture("basic", &upstream, name, &[]);
    let sha = git_init_commit(&upstream);

    // What `cargo install --git file://…/upstream` leaves: a clone at the exact commit, its
    // HEAD on cargo's bookkeeping branch `master`, and the `.cargo-ok` marker.
    let home = cargo_home(&scratch.0);
    let checkouts = home.join("git").join("checkouts");
    let checkout = checkouts.join("upstream-0123456789abcdef").join(&sha[..7]);
    git(
        &scratch.0,
        &[
            "clone",
            "-q",
            &format!("file://{}", upstream.display()),
            checkout.to_str().unwrap(),
        ],
    );
    git(&checkout, &["checkout", "-q", "-B", "master", &sha]);
    std::fs::write(checkout.join(".cargo-ok"), "{\"v\":1}").unwrap();

    build_with_home(&checkout, &home);
    let dump = Dump::of(&other_home_binary(name));
    assert_eq!(dump.get("revision"), sha);
    // Read from the checkout's own repository.
    assert_eq!(dump.get("revision_source"), "git");
    // `master` is cargo's name for its checkout, not the ref that was asked for.
    assert_eq!(dump.get("branch"), UNKNOWN);
    assert_eq!(dump.get("modified"), "Some(false)");
    assert_eq!(dump.get("commit_time"), "2026-01-02T03:04:05Z");
    assert_eq!(dump.get("describe"), &sha[..12]);
    // The package came from git, not from a local path (the checkout keeps no URL).
    let root = dump
        .packages
        .iter()
        .find(|p| p.contains("root=true"))
        .unwrap();
    assert!(
        root.starts_with(&format!("{name} 0.3.0 git runtime ")),
        "{root}"
    );

    // A checkout without its own `.git`, in a CARGO_HOME that is itself kept in git: the
    // surrounding repository is not the package's.
    std::fs::remove_dir_all(checkout.join(".git")).unwrap();
    std::fs::write(home.join(".gitignore"), "registry\n").unwrap();
    let home_sha = git_init_commit(&home);
    // Removing `.git` made cargo rerun nothing here (the build finished at once, although
    // `.git/HEAD` is watched; the package sits under CARGO_HOME): build it afresh. Before this
    // test had a target directory of its own, other fixture builds rebuilding buildinfo under
    // it made the rerun happen by chance.
    run_ok(
        cargo(&checkout)
            .args(["clean", "--offline", "-p", name])
            .env("CARGO_HOME", &home)
            .env("CARGO_TARGET_DIR", other_home_target()),
    );
    let stderr = build_with_home(&checkout, &home);
    let dump = Dump::of(&other_home_binary(name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (UNKNOWN, UNKNOWN),
        "{stderr}"
    );
    assert_ne!(dump.get("revision"), home_sha);
    assert!(stderr.contains("revision unknown"), "{stderr}");
}

#[test]
fn a_crate_its_repository_ignores_or_never_added_reports_no_revision() {
    let name = "fx_ignored";
    let scratch = Scratch::new(name);
    let outer = scratch.0.join("outer");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::write(outer.join(".gitignore"), "/scratchpad/\n").unwrap();
    let outer_sha = git_init_commit(&outer);
    let dir = outer.join("scratchpad").join(name);
    copy_fixture("basic", &dir, name, &[]);

    // Ignored: the outer revision and branch are not the crate's.
    let out = run_ok(
        cargo(&dir)
            .arg("build")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_REF_NAME", "release-1"),
    );
    let warnings = stderr(&out);
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (UNKNOWN, UNKNOWN),
        "the CI variables name the outer repository's commit too"
    );
    assert_eq!(dump.get("revision_source"), UNKNOWN);
    assert_ne!(dump.get("revision"), outer_sha);
    assert!(
        warnings.contains("is not tracked by the git repository at"),
        "{warnings}"
    );
    assert!(warnings.contains("revision unknown"), "{warnings}");

    // No longer ignored but never added: still not the repository's.
    std::fs::write(outer.join(".gitignore"), "").unwrap();
    git(&outer, &["commit", "-q", "-am", "nothing ignored"]);
    run_ok(cargo(&dir).arg("build"));
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (UNKNOWN, UNKNOWN)
    );

    // Added and committed: now the repository's revision is the crate's, and the build
    // script re-ran to see it.
    git(&outer, &["add", "scratchpad"]);
    git(&outer, &["commit", "-q", "-m", "adopt the crate"]);
    let adopted = git(&outer, &["rev-parse", "HEAD"]);
    run_ok(cargo(&dir).arg("build"));
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (adopted.as_str(), "main")
    );
}
