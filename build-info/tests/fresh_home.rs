//! Where production binaries are built: an empty cargo home (a fresh container), a registry
//! that really serves and downloads (on loopback, `testkit::SparseRegistry`), vendored
//! sources, an explicit `--target`, a dependency-layer cache, a compiler wrapper. The
//! embedded graph must stay exact there, without a warning, and without the network.

// Shared with fixture_builds, which uses helpers this file does not.
#[allow(unused_imports)]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Dump, Scratch, copy_fixture, run_ok, stderr, stdout};
use testkit::{FreshHome, SparseRegistry};

/// The registry crates the fixtures need: the `unify` fixture's itoa and the build side's
/// miniz_oxide and adler2.
const CRATES: &[&str] = &["itoa", "miniz_oxide", "adler2"];

fn host() -> String {
    let out = run_ok(Command::new("rustc").arg("-vV"));
    stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .unwrap()
}

/// `.bldinfo` of `bin` as JSON.
fn bldinfo(bin: &Path) -> serde_json::Value {
    let file = std::fs::read(bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let section = support::elf_section(&file, ".bldinfo").expect(".bldinfo");
    serde_json::from_str(&support::inflate(&section)).unwrap()
}

/// `.dep-v0` of `bin` as text.
fn dep_v0(bin: &Path) -> String {
    let file = std::fs::read(bin).unwrap();
    support::inflate(&support::elf_section(&file, ".dep-v0").expect(".dep-v0"))
}

/// `name version` of every package the binary embeds.
fn embedded(bin: &Path) -> BTreeSet<String> {
    Dump::of(bin)
        .packages
        .iter()
        .map(|p| p.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

/// `name version` of every package of `cargo tree -p package -e normal,build --target
/// target`, run offline with `cmd` (a cargo command in the right home and directory).
fn tree(mut cmd: Command, package: &str, target: &str) -> BTreeSet<String> {
    cmd.args(["tree", "--offline", "-p", package, "-e", "normal,build"])
        .args(["--target", target, "--prefix", "none", "--format", "{p}"]);
    support::tree_packages(&stdout(&run_ok(&mut cmd)))
}

/// Every line in which build-info warned during a build.
fn our_warnings(out: &Output) -> Vec<String> {
    let text = format!("{}\n{}", stdout(out), stderr(out));
    text.lines()
        .filter(|l| l.contains("build-info:"))
        .map(str::to_owned)
        .collect()
}

/// The trace of the latest run of `package`'s build script in this build.
fn trace(out: &Output, package: &str) -> String {
    let dir = support::out_dir_from_messages(&stdout(out), package)
        .unwrap_or_else(|| panic!("{package}'s build script did not run:\n{}", stdout(out)));
    std::fs::read_to_string(dir.join("build-info-trace.txt")).unwrap()
}

fn build(mut cmd: Command, args: &[&str]) -> Output {
    run_ok(cmd.arg("build").arg("--message-format=json").args(args))
}

/// The `unify` fixture (members a, b, shared, extra: `a` turns on `shared/fast`, which pulls
/// itoa) in a fresh scratch directory: a git repository with one commit, so that the
/// revision is known and any warning is about the graph.
fn unify(name: &str) -> (Scratch, PathBuf) {
    let scratch = Scratch::new(name);
    let ws = scratch.0.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    std::fs::write(ws.join(".gitignore"), "/vendor\n/.cargo\n").unwrap();
    support::git_init_commit(&ws);
    (scratch, ws)
}

#[test]
fn one_member_built_in_a_fresh_home_is_exact_and_so_is_the_workspace_built_after_it() {
    let name = "fx_fresh";
    let (_scratch, ws) = unify(name);
    let (a, b) = (format!("{name}-a"), format!("{name}-b"));
    let registry = SparseRegistry::from_cache(CRATES);
    let home = FreshHome::new(&registry);
    let host = host();

    // `cargo build -p b`: cargo downloads b's packages only; a's itoa never reaches the disk.
    let out = build(home.cargo(&ws), &["-p", &b]);
    let itoa = home
        .packages_on_disk()
        .into_iter()
        .find(|p| p.starts_with("itoa-"));
    assert_eq!(
        itoa,
        None,
        "itoa was downloaded: {:?}",
        registry.downloads()
    );
    assert!(our_warnings(&out).is_empty(), "{:?}", our_warnings(&out));
    let b_trace = trace(&out, &b);
    assert!(
        b_trace.contains(&format!("members not on disk left out: {a}@0.1.0")),
        "{b_trace}"
    );
    // The script watches the registry cache through a link in its OUT_DIR (cargo ignores
    // rerun-if-changed paths under CARGO_HOME/registry).
    let out_dir = support::out_dir_from_messages(&stdout(&out), &b).unwrap();
    let link = out_dir.join("build-info-registry-cache");
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        home.path().join("registry").join("cache")
    );
    let bin_b = testkit::binary("debug", &b);
    let info = bldinfo(&bin_b);
    assert_eq!(info["graph"], "exact", "{info}");
    assert!(info.get("only_with_other_members").is_none(), "{info}");
    assert_eq!(
        embedded(&bin_b),
        tree(home.cargo(&ws), &b, &host),
        "the list is `cargo tree -p b` for the host"
    );
    assert!(!embedded(&bin_b).iter().any(|p| p.starts_with("itoa ")));

    // `cargo build --workspace` right after: itoa is downloaded into the registry cache,
    // which b's build script watches; it runs again and sees the whole workspace, where a's
    // feature is unified into b's shared.
    let out = build(home.cargo(&ws), &["--workspace"]);
    assert!(
        registry.downloads().iter().any(|d| d.starts_with("itoa-")),
        "{:?}",
        registry.downloads()
    );
    assert!(our_warnings(&out).is_empty(), "{:?}", our_warnings(&out));
    let b_trace = trace(&out, &b);
    assert!(b_trace.contains("graph: computed"), "{b_trace}");
    // The whole workspace is on disk now: nothing left to watch there.
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "{}",
        link.display()
    );
    assert!(!b_trace.contains("not on disk"), "{b_trace}");
    for member in [&a, &b] {
        let bin = testkit::binary("debug", member);
        let info = bldinfo(&bin);
        assert_eq!(info["graph"], "exact", "{member}: {info}");
        let listed = embedded(&bin);
        assert!(
            listed.iter().any(|p| p.starts_with("itoa ")),
            "{member}: {listed:?}"
        );
    }
}

#[test]
fn an_explicit_target_resolves_for_that_target() {
    let name = "fx_fresh_target";
    let (_scratch, ws) = unify(name);
    let a = format!("{name}-a");
    let registry = SparseRegistry::from_cache(CRATES);
    let home = FreshHome::new(&registry);
    let host = host();
    let out = build(home.cargo(&ws), &["-p", &a, "--target", &host]);
    assert!(our_warnings(&out).is_empty(), "{:?}", our_warnings(&out));
    let bin = testkit::target_dir().join(&host).join("debug").join(&a);
    let info = bldinfo(&bin);
    assert_eq!(info["graph"], "exact", "{info}");
    assert_eq!(info["target"], host.as_str());
    assert_eq!(embedded(&bin), tree(home.cargo(&ws), &a, &host));
    assert!(embedded(&bin).iter().any(|p| p.starts_with("itoa ")));
}

/// `cargo vendor`, then a build with an empty cargo home that never had a registry: every
/// package is on disk, in the vendor directory.
#[test]
fn vendored_sources_with_offline_and_frozen_are_exact_and_keep_the_declared_source() {
    let name = "fx_vendored";
    let (scratch, ws) = unify(name);
    let (a, b) = (format!("{name}-a"), format!("{name}-b"));
    // Vendored from this machine's warm cache, as a developer would before `docker build`.
    run_ok(testkit::cargo(&ws).args(["generate-lockfile", "--offline"]));
    run_ok(testkit::cargo(&ws).args(["vendor", "--offline", "--locked"]));
    assert!(ws.join("vendor").join("itoa").is_dir());
    std::fs::create_dir_all(ws.join(".cargo")).unwrap();
    std::fs::write(
        ws.join(".cargo").join("config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n\
         [source.vendored-sources]\ndirectory = \"vendor\"\n",
    )
    .unwrap();
    let empty_home = scratch.0.join("empty-cargo-home");
    std::fs::create_dir_all(&empty_home).unwrap();
    let cargo = || {
        let mut cmd = testkit::cargo(&ws);
        cmd.env("CARGO_HOME", &empty_home);
        cmd
    };
    for (args, member) in [
        (&["--offline", "-p", a.as_str()][..], &a),
        (&["--frozen", "--workspace"][..], &b),
    ] {
        let out = build(cargo(), args);
        assert!(
            our_warnings(&out).is_empty(),
            "{args:?}: {:?}",
            our_warnings(&out)
        );
        let bin = testkit::binary("debug", member);
        let info = bldinfo(&bin);
        assert_eq!(info["graph"], "exact", "{args:?}: {info}");
        let listed = embedded(&bin);
        assert!(listed.iter().any(|p| p.starts_with("itoa ")), "{listed:?}");
        // The source is the one the manifest declared, crates.io, never the vendor directory.
        let vendor = ws.join("vendor").display().to_string();
        let dep = dep_v0(&bin);
        assert!(
            dep.contains("{\"name\":\"itoa\"") && !dep.contains(&vendor),
            "{dep}"
        );
        let itoa = listed.iter().find_map(|p| p.strip_prefix("itoa ")).unwrap();
        assert!(
            dep.contains(&format!(
                "{{\"name\":\"itoa\",\"version\":\"{itoa}\",\"source\":\"crates.io\""
            )),
            "{dep}"
        );
        let raw = std::fs::read(&bin).unwrap();
        let bldinfo_text = support::inflate(&support::elf_section(&raw, ".bldinfo").unwrap());
        assert!(
            !bldinfo_text.contains(&vendor) && !bldinfo_text.contains("vendored-sources"),
            "{bldinfo_text}"
        );
    }
    // Nothing was put in the empty home but what cargo keeps for itself.
    assert!(!empty_home.join("registry").join("cache").exists());
}

/// Replaces every file under `dir` whose name is `file` with `text`.
fn replace_files(dir: &Path, file: &str, text: &str) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            replace_files(&path, file, text);
        } else if path.file_name().is_some_and(|n| n == file) {
            std::fs::write(&path, text).unwrap();
        }
    }
}

/// Gives every file under `dir` an old modification time, as `COPY` in a Dockerfile keeps the
/// build context's: older than anything the dependency layer built.
fn age(dir: &Path) {
    let status = Command::new("touch")
        .args(["-d", "2020-01-01T00:00:00Z"])
        .args(
            walk(dir)
                .iter()
                .filter(|p| !p.starts_with(dir.join("target"))),
        )
        .status()
        .unwrap();
    assert!(status.success());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// The dependency-layer cache cargo-chef makes, in one directory as in a Docker build: a
/// skeleton (the manifests and Cargo.lock with the local packages' versions masked to 0.0.1,
/// and every source file, build scripts included, replaced by an empty one) is built first;
/// cargo-chef then deletes the skeleton's compiled build scripts; the real sources are copied
/// over it with old modification times, and the revision arrives as a build argument. A
/// hand-made skeleton that keeps the real build script is tried too. The final binary must
/// carry the real revision, version and list, never the skeleton's.
#[test]
fn a_dependency_layer_built_from_a_skeleton_leaves_nothing_of_the_skeleton_in_the_binary() {
    let registry = SparseRegistry::from_cache(CRATES);
    for (name, keep_build_script) in [("fx_chef", false), ("fx_chef_kept", true)] {
        let scratch = Scratch::new(name);
        let real = scratch.0.join("real");
        copy_fixture("unify", &real, name, &[]);
        let home = FreshHome::new(&registry);
        run_ok(home.cargo(&real).arg("generate-lockfile"));
        let app = scratch.0.join("app");
        copy_fixture("unify", &app, name, &[]);
        std::fs::copy(real.join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
        // The skeleton: versions of local packages masked, every source file empty.
        for file in walk(&app) {
            let is_manifest = file
                .file_name()
                .is_some_and(|n| n == "Cargo.toml" || n == "Cargo.lock");
            if is_manifest {
                let text = std::fs::read_to_string(&file).unwrap();
                let masked = text.replace("version = \"0.1.0\"", "version = \"0.0.1\"");
                std::fs::write(&file, masked).unwrap();
            }
        }
        replace_files(&app, "main.rs", "fn main() {}\n");
        replace_files(&app, "lib.rs", "");
        if !keep_build_script {
            replace_files(&app, "build.rs", "fn main() {}\n");
        }
        let a = format!("{name}-a");
        // The lock file's buildinfo (a path package outside the workspace) keeps its version.
        let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
        std::fs::write(
            app.join("Cargo.lock"),
            lock.replace(
                "name = \"buildinfo\"\nversion = \"0.0.1\"",
                "name = \"buildinfo\"\nversion = \"0.1.0\"",
            ),
        )
        .unwrap();
        // The dependency layer, without the revision (its build argument comes later).
        run_ok(home.cargo(&app).args(["build", "-p", &a]));
        if !keep_build_script {
            // What cargo-chef deletes after cooking: the local packages' compiled scripts.
            let build_dir = testkit::target_dir().join("debug").join("build");
            for entry in std::fs::read_dir(&build_dir).unwrap().flatten() {
                let dir_name = entry.file_name().to_string_lossy().into_owned();
                if dir_name.starts_with(&format!("{name}-")) {
                    for f in std::fs::read_dir(entry.path()).unwrap().flatten() {
                        let n = f.file_name().to_string_lossy().into_owned();
                        if n.starts_with("build-script-build")
                            || n.starts_with("build_script_build")
                        {
                            let _ = std::fs::remove_file(f.path());
                        }
                    }
                }
            }
        }
        // `COPY . .`: the real sources over the skeleton, with the build context's old times.
        age(&real);
        let status = Command::new("cp")
            .args(["-a", "--"])
            .arg(format!("{}/.", real.display()))
            .arg(&app)
            .status()
            .unwrap();
        assert!(status.success());
        let revision = "0123456789abcdef0123456789abcdef01234567";
        let out = build(
            {
                let mut cmd = home.cargo(&app);
                cmd.env("BUILD_INFO_REVISION", revision);
                cmd
            },
            &["-p", &a],
        );
        assert!(
            our_warnings(&out).is_empty(),
            "{name}: {:?}",
            our_warnings(&out)
        );
        let bin = testkit::binary("debug", &a);
        let info = bldinfo(&bin);
        assert_eq!(info["revision"], revision, "{name}: {info}");
        assert_eq!(info["graph"], "exact", "{name}: {info}");
        let listed = embedded(&bin);
        assert!(listed.contains(&format!("{a} 0.1.0")), "{name}: {listed:?}");
        assert!(
            !listed.iter().any(|p| p.ends_with(" 0.0.1")),
            "{name}: {listed:?}"
        );
        assert!(
            listed.iter().any(|p| p.starts_with("itoa ")),
            "{name}: {listed:?}"
        );
        assert_eq!(listed, tree(home.cargo(&app), &a, &host()), "{name}");
        // And the real program runs, not the skeleton's empty main.
        let printed = stdout(&run_ok(&mut Command::new(&bin)));
        assert!(printed.starts_with("number=42\n"), "{name}: {printed}");
    }
}

/// Two builds of the same commit, from two clones at different paths, each in its own empty
/// cargo home, in one shared target directory, the second through a compiler wrapper (as
/// sccache is used), with `SOURCE_DATE_EPOCH` set and the user not recorded: byte-identical
/// sections.
#[test]
fn a_compiler_wrapper_and_a_shared_target_dir_change_nothing_and_builds_are_reproducible() {
    let name = "fx_fresh_repro";
    let scratch = Scratch::new(name);
    let first = scratch.0.join("first");
    copy_fixture("basic", &first, name, &[]);
    std::fs::write(
        first.join("build.rs"),
        "fn main() {\n    buildinfo::build::Builder::new().build_user(false).emit();\n}\n",
    )
    .unwrap();
    let commit = support::git_init_commit(&first);
    let second = scratch.0.join("elsewhere").join("second");
    std::fs::create_dir_all(second.parent().unwrap()).unwrap();
    support::git(
        &scratch.0,
        &[
            "clone",
            "-q",
            &first.display().to_string(),
            &second.display().to_string(),
        ],
    );
    let wrapper = scratch.0.join("wrapper.sh");
    let log = scratch.0.join("wrapper.log");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let registry = SparseRegistry::from_cache(CRATES);
    let bin = testkit::binary("release", name);
    let mut sections = Vec::new();
    for (dir, wrapped) in [(&first, false), (&second, true)] {
        let home = FreshHome::new(&registry);
        let mut cmd = home.cargo(dir);
        cmd.env("SOURCE_DATE_EPOCH", "1790000000");
        if wrapped {
            cmd.env("RUSTC_WRAPPER", &wrapper);
        }
        let out = build(cmd, &["--release"]);
        assert!(our_warnings(&out).is_empty(), "{:?}", our_warnings(&out));
        let file = std::fs::read(&bin).unwrap();
        sections.push((
            support::elf_section(&file, ".dep-v0").unwrap(),
            support::elf_section(&file, ".bldinfo").unwrap(),
        ));
    }
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        calls.contains("rustc"),
        "the wrapper was not used: {calls:?}"
    );
    assert_eq!(sections[0].0, sections[1].0, ".dep-v0 differs");
    assert_eq!(sections[0].1, sections[1].1, ".bldinfo differs");
    let json = support::inflate(&sections[0].1);
    assert!(
        json.contains(&format!("\"revision\":\"{commit}\"")),
        "{json}"
    );
    assert!(json.contains("\"build_user\":\"unknown\""), "{json}");
    assert!(
        json.contains("\"build_date\":\"2026-09-21T14:13:20Z\""),
        "{json}"
    );
    assert!(json.contains("\"graph\":\"exact\""), "{json}");
}
