//! Where production binaries are built: an empty cargo home (a fresh container), a registry
//! that really serves and downloads (on loopback, `testkit::SparseRegistry`), vendored
//! sources, an explicit `--target`, a dependency-layer cache, a compiler wrapper. The
//! embedded graph must stay exact there, without a warning, and without the network.

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
    stdout(&run_ok(&mut cmd))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('['))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let n = parts.next().unwrap();
            let v = parts.next().unwrap().trim_start_matches('v');
            format!("{n} {v}")
        })
        .collect()
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
