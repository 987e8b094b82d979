//! The loopback registry with real cargo: a workspace resolved and downloaded into an empty
//! cargo home, as in a fresh container, without the network.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{FreshHome, Scratch, SparseRegistry, copy_fixture, run, stderr, stdout};

/// Long enough for a cold build of buildinfo and its dependencies in the shared target dir.
const LIMIT: Duration = Duration::from_secs(600);

/// The crates the `unify` fixture needs from a registry: itoa (through `shared/fast`, which
/// only member `a` turns on) and buildinfo's build side (miniz_oxide, adler2).
const CRATES: [&str; 3] = ["itoa", "miniz_oxide", "adler2"];

#[track_caller]
fn ok(cmd: &mut Command, registry: &SparseRegistry) -> Output {
    let out = run(cmd, LIMIT);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}\n--- registry requests\n{:#?}",
        out.status,
        stdout(&out),
        stderr(&out),
        registry.requests()
    );
    out
}

/// The locked version of `name` in the workspace at `ws`.
fn locked(ws: &Path, name: &str) -> String {
    let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    let block = lock
        .split("[[package]]")
        .find(|b| b.contains(&format!("\nname = \"{name}\"\n")))
        .unwrap_or_else(|| panic!("{name} is not in the lockfile:\n{lock}"));
    let line = block
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .unwrap();
    line.trim_end_matches('"').to_owned()
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[test]
fn a_build_of_one_member_downloads_only_its_packages_and_then_builds_offline() {
    let name = "tk_registry_b";
    let scratch = Scratch::new(name);
    let ws = scratch.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    let registry = SparseRegistry::from_cache(&CRATES);
    let home = FreshHome::new(&registry);
    let b = format!("{name}-b");

    ok(home.cargo(&ws).args(["build", "-p", &b]), &registry);
    let (miniz, adler, itoa) = (
        locked(&ws, "miniz_oxide"),
        locked(&ws, "adler2"),
        locked(&ws, "itoa"),
    );
    // Cargo resolved the whole workspace (itoa is locked) but downloaded only what b's units
    // need: `shared/fast`, which pulls itoa in, is a feature only `a` turns on.
    assert_eq!(
        sorted(registry.downloads()),
        [format!("adler2-{adler}"), format!("miniz_oxide-{miniz}")]
    );
    assert!(
        !home.on_disk("itoa", &itoa),
        "{:?}",
        home.packages_on_disk()
    );
    assert_eq!(
        home.packages_on_disk(),
        [format!("adler2-{adler}"), format!("miniz_oxide-{miniz}")]
    );

    // The same build offline needs nothing more, and asks the registry for nothing.
    let asked = registry.requests().len();
    ok(
        home.cargo(&ws).args(["build", "--offline", "-p", &b]),
        &registry,
    );
    assert_eq!(
        registry.requests().len(),
        asked,
        "{:#?}",
        registry.requests()
    );
}

#[test]
fn a_fetch_downloads_every_package_of_the_workspace_and_then_resolves_offline() {
    let name = "tk_registry_fetch";
    let scratch = Scratch::new(name);
    let ws = scratch.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    let registry = SparseRegistry::from_cache(&CRATES);
    let home = FreshHome::new(&registry);

    ok(home.cargo(&ws).args(["fetch"]), &registry);
    let expected = sorted(
        CRATES
            .iter()
            .map(|c| format!("{c}-{}", locked(&ws, c)))
            .collect(),
    );
    assert_eq!(sorted(registry.downloads()), expected);
    assert_eq!(home.packages_on_disk(), expected);
    // Without a lockfile, cargo picks the newest version the registry serves.
    for c in CRATES {
        let newest = registry
            .packages()
            .into_iter()
            .filter_map(|p| {
                let version = p.strip_prefix(&format!("{c}-"))?.to_owned();
                semver_key(&version)
            })
            .max()
            .unwrap();
        assert_eq!(semver_key(&locked(&ws, c)), Some(newest), "{c}");
    }

    let asked = registry.requests().len();
    let tree = ok(
        home.cargo(&ws)
            .args(["tree", "--offline", "-e", "normal,build", "--workspace"]),
        &registry,
    );
    assert!(stdout(&tree).contains("itoa v"), "{}", stdout(&tree));
    assert_eq!(
        registry.requests().len(),
        asked,
        "{:#?}",
        registry.requests()
    );
}

/// `major.minor.patch` as numbers, for versions without pre-release parts.
fn semver_key(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|p| p.parse().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

#[test]
fn a_lockfiles_registry_packages_are_served_at_their_locked_versions() {
    let name = "tk_registry_lock";
    let scratch = Scratch::new(name);
    let ws = scratch.join("ws");
    copy_fixture("unify", &ws, name, &[]);
    // A lockfile pinning an older cached itoa than the newest, made against the full cache.
    let cached = SparseRegistry::from_cache(&CRATES);
    let home = FreshHome::new(&cached);
    ok(home.cargo(&ws).args(["generate-lockfile"]), &cached);
    // The fixture asks for `itoa = "1"`; the cache may hold other majors too (the advisory
    // matrix's older crates bring itoa 0.4), which cannot be pinned.
    let itoa_versions: Vec<String> = cached
        .packages()
        .into_iter()
        .filter_map(|p| p.strip_prefix("itoa-").map(str::to_owned))
        .filter(|v| semver_key(v).is_some_and(|(major, _, _)| major == 1))
        .collect();
    let oldest = itoa_versions
        .iter()
        .min_by_key(|v| semver_key(v))
        .unwrap()
        .clone();
    ok(
        home.cargo(&ws)
            .args(["update", "-p", "itoa", "--precise", &oldest]),
        &cached,
    );
    drop(home);
    drop(cached);

    let registry = SparseRegistry::from_lockfile(&ws.join("Cargo.lock"));
    let expected = sorted(
        CRATES
            .iter()
            .map(|c| format!("{c}-{}", locked(&ws, c)))
            .collect(),
    );
    assert_eq!(registry.packages(), expected);
    assert!(expected.contains(&format!("itoa-{oldest}")), "{expected:?}");
    let home = FreshHome::new(&registry);
    ok(home.cargo(&ws).args(["fetch", "--locked"]), &registry);
    assert_eq!(sorted(registry.downloads()), expected);
}

#[test]
fn every_package_of_this_workspaces_lockfile_is_fetched_through_one_connection_at_a_time() {
    // Cargo downloads in parallel; the registry answers one connection at a time. A fetch of
    // a couple of hundred packages shows that the queue drains and nothing hangs.
    let scratch = Scratch::new("tk_registry_workspace");
    let ws = scratch.join("ws");
    std::fs::create_dir(&ws).unwrap();
    let archive = run(
        Command::new("git")
            .arg("-C")
            .arg(testkit::workspace_root())
            .args(["archive", "--format=tar", "HEAD"]),
        LIMIT,
    );
    assert!(archive.status.success(), "{}", stderr(&archive));
    let out = testkit::run_with_input(
        Command::new("tar").arg("-x").arg("-C").arg(&ws),
        &archive.stdout,
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let registry = SparseRegistry::from_lockfile(&ws.join("Cargo.lock"));
    assert!(registry.packages().len() > 100, "{:?}", registry.packages());
    let home = FreshHome::new(&registry);
    ok(home.cargo(&ws).args(["fetch", "--locked"]), &registry);
    assert_eq!(sorted(registry.downloads()), registry.packages());
    assert_eq!(home.packages_on_disk(), registry.packages());
}
