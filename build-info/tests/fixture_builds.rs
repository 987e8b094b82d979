//! build-info's contracts, each proven on a fixture project built for real by cargo.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use support::{
    Dump, Scratch, binary, cargo, copy_fixture, git, git_init_commit, out_dir_from_messages,
    run_limited, run_ok, stderr, stdout,
};

const UNKNOWN: &str = "unknown";

/// A `basic` fixture named `name` in a fresh scratch directory (not yet a repository).
fn basic(name: &str) -> (Scratch, std::path::PathBuf) {
    let scratch = Scratch::new(name);
    let dir = scratch.0.join(name);
    copy_fixture("basic", &dir, name, &[]);
    (scratch, dir)
}

fn build(dir: &Path, extra: &[&str]) -> String {
    let out = run_ok(cargo(dir).arg("build").args(extra));
    stderr(&out)
}

/// Builds the project in `dir` and reads what its debug binary `name` captured.
fn built(dir: &Path, name: &str) -> Dump {
    build(dir, &[]);
    Dump::of(&binary("debug", name))
}

// ---------------------------------------------------------------------------------------
// 1. The embedded graph is what cargo tree says the build linked.

/// Sets the `{p}` lines of `cargo tree` reduce to `name version`.
fn tree_set(
    dir: &Path,
    name: &str,
    edges: &str,
    target: &str,
    features: &[&str],
) -> BTreeSet<String> {
    let mut cmd = cargo(dir);
    cmd.args([
        "tree",
        "--offline",
        "-p",
        name,
        "-e",
        edges,
        "--target",
        target,
    ])
    .args(["--prefix", "none", "--format", "{p}"])
    .args(features);
    support::tree_packages(&stdout(&run_ok(&mut cmd)))
}

fn embedded_set(dump: &Dump, kind: Option<&str>) -> BTreeSet<String> {
    dump.packages
        .iter()
        .filter(|p| kind.is_none_or(|k| p.split(' ').nth(3) == Some(k)))
        .map(|p| p.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn package_line<'a>(dump: &'a Dump, name: &str) -> &'a str {
    dump.packages
        .iter()
        .find(|p| p.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} not embedded: {:#?}", dump.packages))
}

/// The graph fixture, with its git dependency in a local repository the test creates.
fn graph_fixture(name: &str) -> (Scratch, std::path::PathBuf, String) {
    let scratch = Scratch::new(name);
    let repo = scratch.0.join("fx-git-repo");
    copy_fixture("git-dep", &repo, name, &[]);
    let git_sha = git_init_commit(&repo);
    let ws = scratch.0.join("ws");
    let url = format!("file://{}", repo.display());
    copy_fixture("graph", &ws, name, &[("@GIT_URL@", &url)]);
    (scratch, ws, git_sha)
}

#[test]
fn embedded_graph_equals_cargo_tree_with_a_feature_off_and_on() {
    let name = "fx_graph";
    let (_scratch, ws, git_sha) = graph_fixture(name);
    for features in [&[][..], &["--features", "fast"][..]] {
        build(&ws, &[&["-p", name][..], features].concat());
        let dump = Dump::of(&binary("debug", name));
        let target = dump.get("target").to_owned();

        let all = tree_set(&ws, name, "normal,build", &target, features);
        let runtime = tree_set(&ws, name, "normal,no-proc-macro", &target, features);
        assert_eq!(
            embedded_set(&dump, None),
            all,
            "packages, features {features:?}"
        );
        assert_eq!(
            embedded_set(&dump, Some("runtime")),
            runtime,
            "runtime packages"
        );

        let has_itoa = dump.packages.iter().any(|p| p.starts_with("itoa "));
        assert_eq!(
            has_itoa,
            !features.is_empty(),
            "the optional dependency follows its feature"
        );
        let names: Vec<&str> = dump
            .packages
            .iter()
            .map(|p| p.split(' ').next().unwrap())
            .collect();
        assert!(!names.contains(&"fx-dev"), "dev-dependency embedded");
        assert!(
            !names.contains(&"fx-windows"),
            "cfg(windows) dependency embedded on {target}"
        );
        assert!(package_line(&dump, "fx-macro").contains(" local build direct=true"));
        assert!(package_line(&dump, "fx-macro-helper").contains(" local build direct=false"));
        assert!(package_line(&dump, "fx-build-helper").contains(" local build direct=true"));
        assert!(package_line(&dump, "fx-lib").contains(" local runtime direct=true"));
        let git_line = package_line(&dump, "fx-git");
        assert!(git_line.contains(" git runtime direct=true"), "{git_line}");
        assert!(git_line.contains(&format!("git={git_sha}")), "{git_line}");
        assert!(package_line(&dump, "fx-git-inner").contains(" git runtime direct=false"));
        assert!(package_line(&dump, name).contains("root=true"));
        if has_itoa {
            // This fixture opts into checksums: .bldinfo carries Cargo.lock's.
            let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
            let file = std::fs::read(binary("debug", name)).unwrap();
            let ours = support::elf_section(&file, ".bldinfo").unwrap();
            let json: serde_json::Value = serde_json::from_str(&support::inflate(&ours)).unwrap();
            let itoa = json["packages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "itoa")
                .unwrap();
            let sum = itoa["checksum"].as_str().unwrap();
            assert!(lock.contains(&format!("checksum = \"{sum}\"")), "{itoa}");
            assert_eq!(itoa["direct"], true);
            assert!(package_line(&dump, "itoa").contains(" crates.io runtime direct=true"));
        }
        assert_eq!(
            dump.get("features"),
            if features.is_empty() { "" } else { "fast" }
        );
    }
}

#[test]
fn a_release_build_with_lto_and_strip_carries_both_sections_and_auditable_info_reads_them() {
    let name = "fx_release";
    let (_scratch, ws, _) = graph_fixture(name);
    run_ok(
        cargo(&ws)
            .args(["build", "--release", "-p", name])
            .env("CARGO_PROFILE_RELEASE_LTO", "true")
            .env("CARGO_PROFILE_RELEASE_STRIP", "true")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1"),
    );
    let bin = binary("release", name);
    let dump = Dump::of(&bin);
    assert_eq!(dump.get("profile"), "release");

    let info = auditable_info::audit_info_from_file(&bin, auditable_info::Limits::default())
        .expect("auditable-info reads .dep-v0");
    assert_eq!(info.format, 1);
    let from_section: Vec<String> = info
        .packages
        .iter()
        .map(|p| {
            let kind = match p.kind {
                auditable_serde::DependencyKind::Build => "build",
                auditable_serde::DependencyKind::Runtime => "runtime",
            };
            let source = match &p.source {
                auditable_serde::Source::CratesIo => "crates.io".to_owned(),
                auditable_serde::Source::Git => "git".to_owned(),
                auditable_serde::Source::Local => "local".to_owned(),
                auditable_serde::Source::Registry => "registry".to_owned(),
                other => format!("{other:?}"),
            };
            format!("{} {} {source} {kind} root={}", p.name, p.version, p.root)
        })
        .collect();
    let from_static: Vec<String> = dump
        .packages
        .iter()
        .map(|p| {
            let f: Vec<&str> = p.split(' ').collect();
            format!("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[5])
        })
        .collect();
    assert_eq!(from_section, from_static);
    // The root's edges in .dep-v0 are exactly the direct dependencies of the static table.
    let root = info.packages.iter().find(|p| p.root).unwrap();
    let mut edges: Vec<String> = root
        .dependencies
        .iter()
        .map(|&i| info.packages[i].name.clone())
        .collect();
    edges.sort();
    edges.dedup();
    let mut direct: Vec<String> = dump
        .packages
        .iter()
        .filter(|p| p.contains("direct=true"))
        .map(|p| p.split(' ').next().unwrap().to_owned())
        .collect();
    direct.sort();
    assert_eq!(edges, direct);

    let file = std::fs::read(&bin).unwrap();
    let ours = support::elf_section(&file, ".bldinfo").expect(".bldinfo survives lto and strip");
    let json: serde_json::Value = serde_json::from_str(&support::inflate(&ours)).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["program"], name);
    assert_eq!(json["revision"], dump.get("revision"));
    assert_eq!(json["profile"], "release");
    assert_eq!(json["target"], dump.get("target"));
    // .bldinfo lists the packages with facts .dep-v0 cannot hold: direct ones, git ones, and
    // (this fixture opts into checksums) registry ones.
    let extras: Vec<&str> = testkit::json_strings(&json["packages"], "name");
    let expected: Vec<&str> = dump
        .packages
        .iter()
        .filter(|p| p.contains("direct=true") || p.contains(" git ") || p.contains(" crates.io "))
        .map(|p| p.split(' ').next().unwrap())
        .collect();
    assert_eq!(extras, expected);
    let git = json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "fx-git")
        .unwrap();
    assert_eq!(git["git_commit"].as_str().unwrap().len(), 40);
    assert_eq!(git["git_url"], "file://fx-git-repo");
}

// ---------------------------------------------------------------------------------------
// 2. Offline, no network, no lock waits; every repository situation reports the truth.

#[test]
fn offline_build_succeeds_when_dev_dependencies_were_never_downloaded() {
    let name = "fx_offline";
    let (_scratch, dir) = basic(name);
    // A registry dev-dependency that nothing else uses: cargo records it in Cargo.lock from the
    // index but must never download it for `cargo build`.
    let (dev, dev_version) = ("unindent", "0.1.11");
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "[features]",
            &format!("[dev-dependencies]\n{dev} = \"={dev_version}\"\n\n[features]"),
        ),
    )
    .unwrap();
    run_ok(cargo(&dir).arg("generate-lockfile"));
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || Path::new(&std::env::var_os("HOME").unwrap()).join(".cargo"),
        std::path::PathBuf::from,
    );
    let downloaded = || {
        ["cache", "src"].iter().any(|kind| {
            std::fs::read_dir(home.join("registry").join(kind))
                .into_iter()
                .flatten()
                .flatten()
                .any(|reg| {
                    let crate_file = reg.path().join(format!("{dev}-{dev_version}.crate"));
                    let src_dir = reg.path().join(format!("{dev}-{dev_version}"));
                    crate_file.exists() || src_dir.exists()
                })
        })
    };
    // Make "never downloaded" true before the build: drop any cached copy of the crate.
    for kind in ["cache", "src"] {
        for reg in std::fs::read_dir(home.join("registry").join(kind))
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_file(reg.path().join(format!("{dev}-{dev_version}.crate")));
            let _ = std::fs::remove_dir_all(reg.path().join(format!("{dev}-{dev_version}")));
        }
    }
    assert!(!downloaded());
    git_init_commit(&dir);
    // Any attempt at the network would go to a dead proxy and fail.
    let out = run_limited(
        cargo(&dir)
            .args(["build", "--offline"])
            .env("http_proxy", "http://127.0.0.1:9")
            .env("https_proxy", "http://127.0.0.1:9")
            .env("CARGO_HTTP_TIMEOUT", "5"),
        std::time::Duration::from_secs(600),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("warning: build-info"),
        "{}",
        stderr(&out)
    );
    assert!(!downloaded(), "the dev-dependency was downloaded");
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(dump.packages.len(), 4, "{:#?}", dump.packages);
    assert!(!dump.packages.iter().any(|p| p.starts_with(dev)));
}

#[test]
fn without_git_on_path_the_build_warns_and_reports_unknown() {
    let name = "fx_nogit";
    let (scratch, dir) = basic(name);
    git_init_commit(&dir);
    // A PATH with everything but git.
    let bin = scratch.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap()) {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let file = e.file_name();
            if file.to_string_lossy().starts_with("git") || bin.join(&file).exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), bin.join(&file));
        }
    }
    let out = run_ok(cargo(&dir).arg("build").env("PATH", &bin));
    testkit::assert_contains(&stderr(&out), "warning: fx_nogit@0.3.0: build-info: git");
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(dump.get("revision"), UNKNOWN);
    assert_eq!(dump.get("modified"), "None");
    assert_eq!(
        dump.get("rust_version").split('.').count(),
        3,
        "the rest is still captured"
    );
    assert_eq!(dump.packages.len(), 4);
}

#[test]
fn outside_any_repository_the_revision_is_unknown_and_ci_variables_are_used() {
    let name = "fx_norepo";
    let (_scratch, dir) = basic(name);
    let dump = built(&dir, name);
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (UNKNOWN, UNKNOWN)
    );
    assert_eq!(dump.get("revision_source"), UNKNOWN);
    run_ok(
        cargo(&dir)
            .arg("build")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_REF_NAME", "release-1"),
    );
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        dump.get("revision"),
        "0123456789abcdef0123456789abcdef01234567"
    );
    assert_eq!(dump.get("branch"), "release-1");
    assert_eq!(dump.get("revision_source"), "GITHUB_SHA");
}

#[test]
fn a_repository_with_no_commits_reports_its_branch_only() {
    let name = "fx_nocommit";
    let (_scratch, dir) = basic(name);
    git(&dir, &["init", "-q", "-b", "trunk"]);
    let dump = built(&dir, name);
    assert_eq!(dump.get("revision"), UNKNOWN);
    assert_eq!(dump.get("branch"), "trunk");
    assert_eq!(dump.get("modified"), "None");
}

#[test]
fn detached_head_shallow_clone_and_linked_worktree_report_what_is_true() {
    let name = "fx_gitstates";
    let (scratch, dir) = basic(name);
    let first = git_init_commit(&dir);
    std::fs::write(dir.join("NOTES"), "second\n").unwrap();
    git(&dir, &["add", "NOTES"]);
    git(&dir, &["commit", "-q", "-m", "second"]);
    let second = git(&dir, &["rev-parse", "HEAD"]);
    git(&dir, &["tag", "v0.3.0"]);

    // Detached HEAD at the first commit.
    git(&dir, &["checkout", "-q", "--detach", &first]);
    let dump = built(&dir, name);
    assert_eq!(
        (dump.get("revision"), dump.get("branch"), dump.get("tag")),
        (first.as_str(), "HEAD", "")
    );
    assert_eq!(dump.get("revision_source"), "git");
    assert_eq!(dump.get("commit_time"), "2026-01-02T03:04:05Z");
    assert_eq!(dump.get("modified"), "Some(false)");
    // No tag is reachable from the first commit: describe is the short hash.
    assert_eq!(dump.get("describe"), &first[..12]);

    // Back on main: the tag at HEAD is reported.
    git(&dir, &["checkout", "-q", "main"]);
    let dump = built(&dir, name);
    assert_eq!(
        (dump.get("revision"), dump.get("branch"), dump.get("tag")),
        (second.as_str(), "main", "v0.3.0")
    );
    assert_eq!(dump.get("describe"), "v0.3.0");

    // A shallow clone.
    let shallow = scratch.0.join("shallow");
    git(
        &scratch.0,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", dir.display()),
            "shallow",
        ],
    );
    build(&shallow, &[]);
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (second.as_str(), "main")
    );

    // A linked worktree on its own branch.
    let wt = scratch.0.join("wt");
    git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "feature",
            wt.to_str().unwrap(),
            &first,
        ],
    );
    build(&wt, &[]);
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (first.as_str(), "feature")
    );
    // A commit in the worktree after packing refs re-runs the build script and is seen.
    git(&dir, &["pack-refs", "--all"]);
    git(&wt, &["commit", "-q", "--allow-empty", "-m", "in worktree"]);
    let third = git(&wt, &["rev-parse", "HEAD"]);
    build(&wt, &[]);
    let dump = Dump::of(&binary("debug", name));
    assert_eq!(dump.get("revision"), third);

    // One commit past the tag, with an edit: the git describe form, marked modified.
    std::fs::write(dir.join("NOTES"), "third\n").unwrap();
    git(&dir, &["commit", "-q", "-am", "third"]);
    let past_tag = git(&dir, &["rev-parse", "HEAD"]);
    std::fs::write(dir.join("NOTES"), "dirty\n").unwrap();
    let dump = built(&dir, name);
    assert_eq!(
        dump.get("describe"),
        format!("v0.3.0-1-g{}-modified", &past_tag[..12])
    );
    git(&dir, &["checkout", "-q", "NOTES"]);
}

#[test]
fn a_published_crate_reports_its_cargo_vcs_info_not_the_surrounding_repository() {
    let name = "fx_tarball";
    let scratch = Scratch::new(name);
    // Some unrelated repository that happens to contain the unpacked crate.
    let outer = scratch.0.join("outer");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::write(outer.join("README"), "outer\n").unwrap();
    let outer_sha = git_init_commit(&outer);
    let dir = outer.join("vendor").join(name);
    copy_fixture("basic", &dir, name, &[]);
    std::fs::write(
        dir.join(".cargo_vcs_info.json"),
        "{\n  \"git\": {\n    \"sha1\": \"89abcdef0123456789abcdef0123456789abcdef\"\n  },\n  \"path_in_vcs\": \"\"\n}",
    )
    .unwrap();
    let dump = built(&dir, name);
    assert_eq!(
        dump.get("revision"),
        "89abcdef0123456789abcdef0123456789abcdef"
    );
    assert_eq!(
        (dump.get("branch"), dump.get("modified")),
        (UNKNOWN, "Some(false)")
    );
    assert_eq!(dump.get("revision_source"), "cargo_vcs_info");
    assert_ne!(dump.get("revision"), outer_sha);

    // A vendored crate (cargo vendor writes .cargo-checksum.json) with no VCS info of its own.
    std::fs::remove_file(dir.join(".cargo_vcs_info.json")).unwrap();
    std::fs::write(
        dir.join(".cargo-checksum.json"),
        "{\"files\":{},\"package\":null}",
    )
    .unwrap();
    let dump = built(&dir, name);
    assert_eq!(
        (dump.get("revision"), dump.get("branch")),
        (UNKNOWN, UNKNOWN)
    );
    assert_eq!(dump.get("revision_source"), UNKNOWN);
    assert_eq!(dump.get("commit_time"), UNKNOWN);
}

// ---------------------------------------------------------------------------------------
// 3. Re-runs exactly when something reported changed.

fn build_json(dir: &Path, name: &str, extra: &[&str]) -> (String, std::path::PathBuf) {
    let out = run_ok(
        cargo(dir)
            .args(["build", "-v", "--message-format=json"])
            .args(extra),
    );
    let messages = stdout(&out);
    let out_dir = out_dir_from_messages(&messages, name)
        .unwrap_or_else(|| panic!("no build script run: {messages}"));
    (stderr(&out), out_dir)
}

fn trace(out_dir: &Path) -> String {
    std::fs::read_to_string(out_dir.join("build-info-trace.txt")).unwrap()
}

#[test]
fn re_runs_exactly_when_a_reported_fact_changes() {
    let name = "fx_rerun";
    let (_scratch, dir) = basic(name);
    let first = git_init_commit(&dir);
    let (_, out_dir) = build_json(&dir, name, &[]);
    assert!(trace(&out_dir).contains("graph: computed"));
    let bin = binary("debug", name);
    let mtime = || std::fs::metadata(&bin).unwrap().modified().unwrap();
    let before = mtime();

    // A no-op build runs nothing and relinks nothing.
    let log = build(&dir, &["-v"]);
    assert!(
        !log.contains("Running") && !log.contains("Compiling"),
        "{log}"
    );
    assert_eq!(mtime(), before);

    // Editing a tracked file flips `modified` without recomputing the graph.
    std::fs::write(dir.join("src/extra.txt"), "x").unwrap();
    git(&dir, &["add", "src/extra.txt"]);
    git(&dir, &["commit", "-q", "-m", "extra"]);
    let (_, out_dir) = build_json(&dir, name, &[]);
    std::fs::write(dir.join("src/extra.txt"), "edited").unwrap();
    let (_, out_dir2) = build_json(&dir, name, &[]);
    assert_eq!(out_dir, out_dir2);
    testkit::assert_contains(&trace(&out_dir), "graph: cached");
    let dump = Dump::of(&bin);
    assert_eq!(dump.get("modified"), "Some(true)");
    assert!(dump.get("revision_label").ends_with("-modified"));
    git(&dir, &["checkout", "-q", "--", "src/extra.txt"]);
    build(&dir, &[]);
    assert_eq!(Dump::of(&bin).get("modified"), "Some(false)");

    // An empty commit, also after pack-refs.
    git(&dir, &["commit", "-q", "--allow-empty", "-m", "empty"]);
    build(&dir, &[]);
    let rev = git(&dir, &["rev-parse", "HEAD"]);
    assert_eq!(Dump::of(&bin).get("revision"), rev);
    git(&dir, &["pack-refs", "--all"]);
    git(
        &dir,
        &["commit", "-q", "--allow-empty", "-m", "after pack-refs"],
    );
    build(&dir, &[]);
    let rev = git(&dir, &["rev-parse", "HEAD"]);
    assert_eq!(Dump::of(&bin).get("revision"), rev);

    // A branch switch.
    git(&dir, &["checkout", "-q", "-b", "topic", &first]);
    build(&dir, &[]);
    let dump = Dump::of(&bin);
    assert_eq!(
        (dump.get("branch"), dump.get("revision")),
        ("topic", first.as_str())
    );
    git(&dir, &["checkout", "-q", "main"]);

    // A feature change.
    build(&dir, &["--features", "beta"]);
    assert_eq!(Dump::of(&bin).get("features"), "alpha,beta,default");
    build(&dir, &[]);
    assert_eq!(Dump::of(&bin).get("features"), "alpha,default");

    // An override change.
    run_ok(
        cargo(&dir)
            .arg("build")
            .env("BUILD_INFO_VERSION", "9.9.9-custom"),
    );
    assert_eq!(Dump::of(&bin).get("version"), "9.9.9-custom");
    build(&dir, &[]);
    assert_eq!(Dump::of(&bin).get("version"), "0.3.0");

    // A Cargo.lock change (a new path dependency) recomputes the graph.
    std::fs::create_dir_all(dir.join("extra/src")).unwrap();
    std::fs::write(
        dir.join("extra/Cargo.toml"),
        "[package]\nname = \"fx-extra\"\nversion = \"0.0.1\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("extra/src/lib.rs"), "").unwrap();
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "[build-dependencies]",
            "fx-extra = { path = \"extra\" }\n\n[build-dependencies]",
        ),
    )
    .unwrap();
    let (_, out_dir) = build_json(&dir, name, &[]);
    testkit::assert_contains(&trace(&out_dir), "graph: computed");
    assert!(
        Dump::of(&bin)
            .packages
            .iter()
            .any(|p| p.starts_with("fx-extra 0.0.1 local runtime direct=true"))
    );

    // And after all that, a no-op build is still a no-op.
    let log = build(&dir, &["-v"]);
    assert!(
        !log.contains("Running") && !log.contains("Compiling"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------
// 4 and 5. Sections: cargo auditable, determinism.

fn sections(bin: &Path) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let file = std::fs::read(bin).unwrap();
    (
        support::elf_section(&file, ".dep-v0"),
        support::elf_section(&file, ".bldinfo"),
    )
}

#[test]
fn two_clean_builds_with_the_same_inputs_give_byte_identical_sections() {
    let name = "fx_repro";
    let (_scratch, dir) = basic(name);
    git_init_commit(&dir);
    let clean_build = || {
        run_ok(cargo(&dir).args(["clean", "-p", name]));
        run_ok(
            cargo(&dir)
                .args(["build", "--release"])
                .env("SOURCE_DATE_EPOCH", "1790000000")
                .env("BUILD_INFO_BUILD_USER", "ci@builder"),
        );
        sections(&binary("release", name))
    };
    let (dep1, ours1) = clean_build();
    let (dep2, ours2) = clean_build();
    assert!(dep1.is_some() && ours1.is_some());
    assert_eq!(dep1, dep2);
    assert_eq!(ours1, ours2);
    let json = support::inflate(&ours1.unwrap());
    assert!(
        json.contains("\"build_date\":\"2026-09-21T14:13:20Z\""),
        "{json}"
    );
    assert!(json.contains("\"build_user\":\"ci@builder\""));
    assert!(
        !json.contains(dir.to_str().unwrap()),
        "absolute path embedded: {json}"
    );
}

#[test]
fn under_cargo_auditable_our_dep_v0_steps_aside() {
    let name = "fx_auditable";
    let (_scratch, dir) = basic(name);
    git_init_commit(&dir);
    build(&dir, &[]);
    let (dep, ours) = sections(&binary("debug", name));
    assert!(dep.is_some() && ours.is_some());
    run_ok(
        cargo(&dir)
            .arg("build")
            .env("CARGO_AUDITABLE_ORIG_ARGS", "[\"build\"]"),
    );
    let (dep, ours) = sections(&binary("debug", name));
    assert!(
        dep.is_none(),
        "a second .dep-v0 would corrupt cargo auditable's"
    );
    assert!(ours.is_some());
}

#[test]
fn strict_mode_fails_the_build_when_the_revision_is_unknown() {
    let name = "fx_strict";
    let (_scratch, dir) = basic(name);
    let out = run_limited(
        cargo(&dir).arg("build").env("BUILD_INFO_STRICT", "1"),
        std::time::Duration::from_secs(600),
    );
    assert!(!out.status.success());
    testkit::assert_contains(&stderr(&out), "build-info strict mode: revision unknown");
}

#[test]
fn overrides_replace_every_field_and_print_uses_them() {
    let name = "fx_override";
    let (_scratch, dir) = basic(name);
    run_ok(
        cargo(&dir)
            .arg("build")
            .env("BUILD_INFO_REVISION", "feedface")
            .env("BUILD_INFO_BRANCH", "rel")
            .env("BUILD_INFO_MODIFIED", "true")
            .env("BUILD_INFO_BUILD_USER", "ci@builder-7")
            .env("BUILD_INFO_BUILD_DATE", "1790000000")
            .env("BUILD_INFO_PROGRAM", "renamed"),
    );
    let bin = binary("debug", name);
    let dump = Dump::of(&bin);
    assert_eq!(dump.get("program"), "renamed");
    assert_eq!(dump.get("revision_label"), "feedface-modified");
    assert_eq!(dump.get("revision_source"), "BUILD_INFO_REVISION");
    // A forced revision replaces what git described.
    assert_eq!(dump.get("describe"), "feedface-modified");
    let long = stdout(&run_ok(Command::new(&bin).arg("--print-long")));
    let rust = dump.get("rust_version");
    let target = dump.get("target");
    assert_eq!(
        long,
        format!(
            "app, version 0.3.0 (branch: rel, revision: feedface-modified)\n  build user:       ci@builder-7\n  build date:       2026-09-21T14:13:20Z\n  rust version:     {rust}\n  platform:         {target}\n  features:         alpha,default\n  dependencies:\n    buildinfo  0.1.0\n"
        )
    );
    let consts = stdout(&run_ok(Command::new(&bin).arg("--version-consts")));
    assert_eq!(
        consts,
        format!(
            "0.3.0 (rel feedface-modified)\n---\n{}\n---\n{}",
            long.strip_prefix("app, version ").unwrap().trim_end(),
            long.strip_prefix("app, version ")
                .unwrap()
                .split("  dependencies:")
                .next()
                .unwrap()
                .trim_end()
        )
    );
}

// ---------------------------------------------------------------------------------------
// Feature unification across workspace members: a binary's list never misses a crate that
// is linked into it, however the workspace is built, and says whether it is exact.

/// What `b` of the `unify` fixture embeds and links after one build.
struct Unified {
    /// `name version` of every embedded package.
    listed: BTreeSet<String>,
    /// Names (as Rust paths) of the embedded runtime packages.
    runtime: BTreeSet<String>,
    /// `.bldinfo`'s `graph`.
    scope: String,
    /// `.bldinfo`'s `only_with_other_members`.
    only_with_others: Vec<String>,
    /// Crates (as Rust paths: `-` → `_`) with symbols in the debug binary, when nm runs.
    linked: Option<BTreeSet<String>>,
}

fn unified(bin: &Path, crates: &BTreeSet<String>) -> Unified {
    let dump = Dump::of(bin);
    let file = std::fs::read(bin).unwrap();
    let json: serde_json::Value = serde_json::from_str(&support::inflate(
        &support::elf_section(&file, ".bldinfo").unwrap(),
    ))
    .unwrap();
    // `nm -C` names every function with its crate path; a crate with code in the binary
    // shows up as `crate::` in some symbol.
    let linked = Command::new("nm")
        .arg("-C")
        .arg(bin)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let symbols = String::from_utf8_lossy(&o.stdout).into_owned();
            crates
                .iter()
                .filter(|c| {
                    symbols.contains(&format!(" {c}::")) || symbols.contains(&format!("<{c}::"))
                })
                .cloned()
                .collect()
        });
    Unified {
        listed: embedded_set(&dump, None),
        runtime: dump
            .packages
            .iter()
            .filter(|p| p.ends_with(" runtime"))
            .map(|p| p.split(' ').next().unwrap().replace('-', "_"))
            .collect(),
        scope: json["graph"].as_str().unwrap_or("<missing>").to_owned(),
        only_with_others: json["only_with_other_members"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default(),
        linked,
    }
}

#[test]
fn a_member_lists_every_crate_linked_into_it_however_the_workspace_is_built() {
    let name = "fx_unify";
    let scratch = Scratch::new(name);
    let ws = scratch.0.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    let b = format!("{name}-b");
    let a = format!("{name}-a");
    let bin = binary("debug", &b);
    // (cargo arguments, itoa linked into b, scope)
    let cases: [(&[&str], bool, &str); 5] = [
        (&["--workspace"], true, "exact"),
        (&["-p", &b], false, "upper-bound"),
        (&["-p", &a, "-p", &b], true, "exact"),
        // A feature only on the command line, for a dependency of b.
        (&["-p", &b, "--features", "shared/fast"], true, "exact"),
        // The workspace's default members (all of them), from its root.
        (&[], true, "exact"),
    ];
    let mut lock_crates = BTreeSet::new();
    let mut itoa_version = String::new();
    for (args, itoa_linked, scope) in cases {
        // b's build script must run for this selection: cargo does not re-run it when only
        // the selection changes.
        run_ok(cargo(&ws).args(["clean", "--offline", "-p", &b]));
        build(&ws, &[&["--offline"][..], args].concat());
        if lock_crates.is_empty() {
            let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
            lock_crates = lock
                .lines()
                .filter_map(|l| l.strip_prefix("name = \""))
                .map(|n| n.trim_end_matches('"').replace('-', "_"))
                .collect();
        }
        let got = unified(&bin, &lock_crates);
        let itoa_listed = got.listed.iter().any(|p| p.starts_with("itoa "));
        // Never a false negative: itoa is listed in every case, linked or not.
        assert!(itoa_listed, "{args:?}: itoa not listed: {:?}", got.listed);
        assert_eq!(got.scope, scope, "{args:?}");
        itoa_version = got
            .listed
            .iter()
            .find_map(|p| p.strip_prefix("itoa "))
            .unwrap()
            .to_owned();
        if itoa_linked {
            assert!(got.only_with_others.is_empty(), "{args:?}");
        } else {
            // Not linked by this build, linked by one that selects more members: named.
            assert_eq!(
                got.only_with_others,
                [format!("itoa@{itoa_version}")],
                "{args:?}"
            );
        }
        if let Some(linked) = &got.linked {
            assert_eq!(linked.contains("itoa"), itoa_linked, "{args:?}: nm");
            // Every crate with code in the binary is listed.
            let listed: BTreeSet<String> = got
                .listed
                .iter()
                .map(|p| p.split(' ').next().unwrap().replace('-', "_"))
                .collect();
            assert!(
                linked.is_subset(&listed),
                "{args:?}: {linked:?} ⊄ {listed:?}"
            );
            // The runtime crates listed, less those only other members link, are exactly
            // the crates with code in the binary.
            // (The standard library links its own miniz_oxide and adler2, for backtraces,
            // which nm cannot tell from the build script's: crates listed only as build
            // dependencies are left out.)
            let mut expected = got.runtime.clone();
            for only in &got.only_with_others {
                expected.remove(&only.split('@').next().unwrap().replace('-', "_"));
            }
            let linked: BTreeSet<String> = linked
                .iter()
                .filter(|c| got.runtime.contains(*c) || !listed.contains(*c))
                .cloned()
                .collect();
            assert_eq!(linked, expected, "{args:?}: nm");
        }
        // Only dev units turn on `shared/extra`.
        assert!(
            !got.listed
                .iter()
                .any(|p| p.starts_with(&format!("{name}-extra "))),
            "{args:?}"
        );
    }

    // `cargo test` builds dev units: b's dev-dependency unifies `shared/extra` into what the
    // test harness of b links, and b's list says so.
    run_ok(cargo(&ws).args(["clean", "--offline", "-p", &b]));
    let out = run_ok(cargo(&ws).args([
        "test",
        "--offline",
        "--no-run",
        "-p",
        &b,
        "--message-format=json",
    ]));
    let harness = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["profile"]["test"] == true)
        .find(|v| v["target"]["name"] == b.as_str())
        .and_then(|v| v["executable"].as_str().map(std::path::PathBuf::from))
        .expect("cargo test built b's test harness");
    let file = std::fs::read(&harness).unwrap();
    let bldinfo: serde_json::Value = serde_json::from_str(&support::inflate(
        &support::elf_section(&file, ".bldinfo").unwrap(),
    ))
    .unwrap();
    let dep_v0 = support::inflate(&support::elf_section(&file, ".dep-v0").unwrap());
    assert!(
        dep_v0.contains(&format!("\"name\":\"{name}-extra\"")),
        "{dep_v0}"
    );
    // a is not selected: itoa is still only what a build with more members links.
    assert_eq!(bldinfo["graph"], "upper-bound", "{bldinfo}");
    assert_eq!(
        bldinfo["only_with_other_members"],
        serde_json::json!([format!("itoa@{itoa_version}")]),
        "{bldinfo}"
    );

    // `cargo install --path b` builds b alone.
    let root = scratch.0.join("installed");
    run_ok(
        cargo(&ws)
            .args(["install", "--offline", "--path", "b", "--root"])
            .arg(&root),
    );
    let file = std::fs::read(root.join("bin").join(&b)).unwrap();
    let bldinfo: serde_json::Value = serde_json::from_str(&support::inflate(
        &support::elf_section(&file, ".bldinfo").unwrap(),
    ))
    .unwrap();
    let dep_v0 = support::inflate(&support::elf_section(&file, ".dep-v0").unwrap());
    assert!(dep_v0.contains("\"name\":\"itoa\""), "{dep_v0}");
    assert_eq!(bldinfo["graph"], "upper-bound", "{bldinfo}");
    assert_eq!(
        bldinfo["only_with_other_members"],
        serde_json::json!([format!("itoa@{itoa_version}")]),
        "{bldinfo}"
    );
}

/// The cached graph depends on every member's manifest: when member `a` stops turning on
/// `shared/fast`, `b`'s next build (same target dir, nothing cleaned) re-runs its build
/// script and drops itoa from its upper bound.
#[test]
fn another_members_manifest_invalidates_the_cached_graph() {
    let name = "fx_unify_cache";
    let scratch = Scratch::new(name);
    let ws = scratch.0.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    let b = format!("{name}-b");
    let bin = binary("debug", &b);
    let itoa_listed = || {
        embedded_set(&Dump::of(&bin), None)
            .iter()
            .any(|p| p.starts_with("itoa "))
    };
    build(&ws, &["--offline", "-p", &b]);
    assert!(
        itoa_listed(),
        "a turns on shared/fast: itoa is in b's upper bound"
    );
    let manifest = ws.join("a").join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(", features = [\"fast\"]", "")).unwrap();
    build(&ws, &["--offline", "-p", &b]);
    assert!(!itoa_listed(), "no member turns on shared/fast any more");
}
