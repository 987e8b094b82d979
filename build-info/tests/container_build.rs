//! The build a production container runs: a context without `.git` (left out by
//! `.dockerignore`), an empty cargo home, vendored sources, `--offline` and `--frozen`, and
//! the revision passed in through the variable build-info/README.md's "Docker" section names.

// Shared with fixture_builds, which uses helpers this file does not.
#[allow(unused_imports)]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{Dump, Scratch, cargo, copy_fixture, git_init_commit, run_limited, stderr};

/// A fixture build compiles buildinfo once for the shared target directory: minutes, not
/// hours.
const LIMIT: Duration = Duration::from_secs(600);

/// What the README's Docker section tells a Dockerfile and `docker build` to write.
struct DockerLines {
    /// `ARG NAME`.
    arg: String,
    /// `ENV NAME=$ARG`: the variable the build reads.
    env: String,
}

/// Reads the three lines from build-info/README.md's "## Docker" section, checking that they
/// fit together: the `ENV` line takes the `ARG`'s value, and `docker build` passes that
/// argument the output of `git rev-parse HEAD`.
fn readme_docker_lines() -> DockerLines {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Docker\n"))
        .unwrap_or_else(|| panic!("{}: no \"## Docker\" section", path.display()));
    let line = |prefix: &str| -> &str {
        let found: Vec<&str> = section
            .lines()
            .filter_map(|l| l.trim().strip_prefix(prefix))
            .collect();
        assert_eq!(found.len(), 1, "one {prefix:?} line in:\n{section}");
        found[0].trim()
    };
    let arg = line("ARG ").to_owned();
    let (env, value) = line("ENV ").split_once('=').expect("ENV NAME=VALUE");
    assert!(
        value == format!("${arg}") || value == format!("${{{arg}}}"),
        "the ENV line must take the ARG's value: ENV {env}={value} after ARG {arg}"
    );
    let docker = line("docker build ");
    assert!(
        docker.contains(&format!("--build-arg {arg}=$(git rev-parse HEAD)")),
        "docker build must pass {arg}: {docker}"
    );
    DockerLines {
        arg,
        env: env.to_owned(),
    }
}

/// Copies `from` into `to` as `docker build` sends a context: every entry but those the
/// top-level names in `.dockerignore` exclude.
fn copy_context(from: &Path, to: &Path) {
    let ignore = std::fs::read_to_string(from.join(".dockerignore")).unwrap_or_default();
    let ignored: Vec<&str> = ignore
        .lines()
        .map(|l| l.trim().trim_start_matches('/').trim_end_matches('/'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    copy_tree(from, to, &ignored);
}

/// Copies the tree at `from` into `to`, leaving out the entries of `from` itself named in
/// `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| skip.contains(&n))
        {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest, &[]);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Whether git finds a repository at or above `dir`.
fn in_a_repository(dir: &Path) -> bool {
    let out = run_limited(
        Command::new("git")
            .args(["rev-parse", "--git-dir"])
            .current_dir(dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_CEILING_DIRECTORIES"),
        Duration::from_secs(30),
    );
    out.status.success()
}

/// Where the container builds go. Not the shared fixture target: the vendored sources'
/// paths differ from the registry's, so building there would make cargo rebuild buildinfo's
/// dependencies under the other fixture tests (as `vcs_truth` explains for its own homes).
fn container_target() -> PathBuf {
    testkit::target_dir().with_file_name("fixtures-container")
}

/// `cargo` in `dir` as the container runs it: an empty cargo home, its own target directory,
/// and any attempt at the network sent to a dead proxy.
fn container_cargo(dir: &Path, home: &Path) -> Command {
    let mut cmd = cargo(dir);
    cmd.env("CARGO_HOME", home)
        .env("CARGO_TARGET_DIR", container_target())
        .env("http_proxy", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("CARGO_HTTP_TIMEOUT", "5")
        .env("CARGO_NET_RETRY", "0");
    cmd
}

/// Asserts a build succeeded without a single warning from build-info.
fn assert_quiet_success(out: &Output, what: &str) {
    let err = stderr(out);
    assert!(out.status.success(), "{what} failed:\n{err}");
    let warnings: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("warning:") && l.contains("build-info"))
        .collect();
    assert!(
        warnings.is_empty(),
        "{what}: build-info warned:\n{}",
        warnings.join("\n")
    );
}

/// The `.bldinfo` and `.dep-v0` JSON of a fixture binary.
fn sections(bin: &Path) -> (serde_json::Value, serde_json::Value) {
    let file = std::fs::read(bin).unwrap();
    let json = |name: &str| -> serde_json::Value {
        let bytes = support::elf_section(&file, name)
            .unwrap_or_else(|| panic!("{}: no {name} section", bin.display()));
        serde_json::from_str(&support::inflate(&bytes)).unwrap()
    };
    (json(".bldinfo"), json(".dep-v0"))
}

/// What every build of the container fixture must embed besides its revision: the vendored
/// packages are `crates.io`, as the manifest declares them, never a path or `local`; only
/// the fixture itself and buildinfo (path dependencies) are local.
fn assert_sources_as_declared(name: &str, dump: &Dump, dep_v0: &serde_json::Value) {
    let mut vendored = Vec::new();
    for line in &dump.packages {
        let mut fields = line.split(' ');
        let (package, source) = (fields.next().unwrap(), fields.nth(1).unwrap());
        if package == name || package == "buildinfo" {
            assert_eq!(source, "local", "{line}");
        } else {
            assert_eq!(source, "crates.io", "{line}");
            vendored.push(package);
        }
        assert!(!line.contains("vendor"), "{line}");
    }
    // buildinfo's build side pulls miniz_oxide (and adler2) from the vendor directory.
    assert!(vendored.contains(&"miniz_oxide"), "{:#?}", dump.packages);
    for p in dep_v0["packages"].as_array().unwrap() {
        let package = p["name"].as_str().unwrap();
        let want = if package == name || package == "buildinfo" {
            "local"
        } else {
            "crates.io"
        };
        assert_eq!(p["source"], want, "{p}");
    }
}

#[test]
fn a_container_build_without_git_reports_the_revision_passed_in_and_where_it_came_from() {
    let lines = readme_docker_lines();
    let name = "fx_container";
    let scratch = Scratch::new(name);

    // The developer's checkout: a repository whose .dockerignore leaves .git (and target)
    // out of the build context.
    let repo = scratch.join("repo");
    copy_fixture("basic", &repo, name, &[]);
    std::fs::write(repo.join(".dockerignore"), ".git\ntarget\n").unwrap();
    let head = git_init_commit(&repo);

    // What `docker build` sends: the context, with no repository in or above it.
    let context = scratch.join("context");
    copy_context(&repo, &context);
    assert!(repo.join(".git").is_dir() && !context.join(".git").exists());
    assert!(
        !in_a_repository(&context),
        "{} is inside a git repository: the scratch directory must not be",
        context.display()
    );

    // Vendored sources, fetched outside the container from the machine's warm cargo home;
    // the source replacement is what cargo vendor prints.
    support::run_ok(cargo(&context).args(["generate-lockfile", "--offline"]));
    let vendor = run_limited(
        cargo(&context).args(["vendor", "--offline", "--locked", "vendor"]),
        LIMIT,
    );
    assert!(vendor.status.success(), "{}", stderr(&vendor));
    let config = support::stdout(&vendor);
    assert!(config.contains("[source.crates-io]"), "{config}");
    std::fs::create_dir_all(context.join(".cargo")).unwrap();
    std::fs::write(context.join(".cargo/config.toml"), &config).unwrap();
    assert!(context.join("vendor/miniz_oxide/Cargo.toml").is_file());

    // The container's cargo home: empty.
    let home: PathBuf = scratch.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();

    // `ENV BUILD_INFO_REVISION=$GIT_REVISION`, the argument holding `git rev-parse HEAD`.
    let out = run_limited(
        container_cargo(&context, &home)
            .args(["build", "--offline"])
            .env(&lines.env, &head),
        LIMIT,
    );
    assert_quiet_success(&out, "the --offline build");
    let bin = container_target().join("debug").join(name);
    let dump = Dump::of(&bin);
    assert_eq!(dump.get("revision"), head);
    assert_eq!(dump.get("revision_source"), lines.env);
    assert_eq!(lines.env, "BUILD_INFO_REVISION", "ARG {}", lines.arg);
    assert_eq!(dump.get("branch"), "unknown");
    assert_eq!(dump.get("modified"), "None");
    let (bldinfo, dep_v0) = sections(&bin);
    assert_eq!(bldinfo["revision"], head.as_str());
    assert_eq!(bldinfo["revision_source"], "BUILD_INFO_REVISION");
    // One package, resolved offline from the vendor directory: the list is exact.
    assert_eq!(bldinfo["graph"], "exact");
    assert_sources_as_declared(name, &dump, &dep_v0);
    let offline_packages = dump.packages.clone();
    assert!(
        !home.join("registry").exists(),
        "nothing is downloaded into the empty cargo home"
    );

    // The same context built by a CI system that passes its own variable instead, with
    // `--frozen`, after the package's outputs are gone (the build script runs again and
    // recomputes its graph).
    let ci_sha = "0123456789abcdef0123456789abcdef01234567";
    support::run_ok(container_cargo(&context, &home).args(["clean", "--frozen", "-p", name]));
    let out = run_limited(
        container_cargo(&context, &home)
            .args(["build", "--frozen"])
            .env("GITHUB_SHA", ci_sha),
        LIMIT,
    );
    assert_quiet_success(&out, "the --frozen build");
    let dump = Dump::of(&bin);
    assert_eq!(dump.get("revision"), ci_sha);
    assert_eq!(dump.get("revision_source"), "GITHUB_SHA");
    let (bldinfo, dep_v0) = sections(&bin);
    assert_eq!(bldinfo["revision_source"], "GITHUB_SHA");
    assert_eq!(bldinfo["graph"], "exact");
    assert_sources_as_declared(name, &dump, &dep_v0);
    assert_eq!(dump.packages, offline_packages);

    // Without either, the build says the revision is unknown, and so is its source.
    let out = run_limited(
        container_cargo(&context, &home).args(["build", "--frozen"]),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    testkit::assert_contains(
        &stderr(&out),
        &format!("warning: {name}@0.3.0: build-info: revision unknown"),
    );
    let dump = Dump::of(&bin);
    assert_eq!(
        (dump.get("revision"), dump.get("revision_source")),
        ("unknown", "unknown")
    );
}
