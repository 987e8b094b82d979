//! The contract of `cargo depinfo audit` (issue 11): on the same advisory database and the same
//! binaries, it reports the same advisories as cargo-audit (`cargo audit bin --db DB
//! --no-fetch --json BIN`), vulnerabilities and informational warnings by kind.
//!
//! The database is written by the test in RustSec's layout (`crates/NAME/RUSTSEC-YYYY-NNNN.md`,
//! a git repository made with the git CLI) and points at crate versions the fixtures really
//! contain: patched, unaffected, pre-release bounds, withdrawn, the informational kinds
//! (unmaintained, unsound, notice, and one cargo-audit does not report), `affected.os` and
//! `affected.arch`, a build-only dependency, and crates from git or a path. The binaries are
//! built for real: by `cargo auditable build --offline` (tests/fixtures/audit-auditable) and
//! by buildinfo's build side (tests/fixtures/audit-buildinfo), from crate versions this
//! workspace's Cargo.lock holds, so that the registry cache has them. Pre-release versions and a
//! program installed from crates.io cannot be built offline: those binaries are a real system
//! binary with a `.dep-v0` section added by objcopy (testkit's `auditable_binary`).
//!
//! A third test compares the version rule itself: 150 generated advisories whose `patched` and
//! `unaffected` ranges use every operator, partial versions and pre-release bounds, against
//! generated crate versions (pre-releases included), 600 judgments per run (with other seeds,
//! 32,400 judgments agreed while the test was written).
//!
//! Each binary is audited on its own by both tools (cargo-audit prints one report per binary,
//! back to back: rustsec#1511), and both answers must equal the expected set written here, so
//! that the test fails when both tools agree on a wrong answer.
//!
//! What cargo-audit knows about a binary that we do not pass on, and the reverse:
//! - Yanked crates come from its copy of the crates.io index, not from the database: the
//!   test passes `--no-yanked` (which also keeps it away from cargo's package-cache lock, which
//!   it waits on for up to five minutes) and compares advisories only.
//! - For a binary with build-info's data, `cargo depinfo audit` knows the target triple, and
//!   `affected.os`/`arch` of other systems leave the binary out. cargo-audit does not read that
//!   data: it is given the same target (`--target-os`, `--target-arch`) for those binaries.
//!   Without them it reports such advisories (checked below): RustSec's definition of both
//!   lists ("this advisory applies to these targets only") makes ours the precise answer.
//!   Where neither tool knows the target (cargo-auditable's data only), both use the file
//!   format for `os`, as cargo-audit does since rustsec#812 (a Windows-only advisory is not
//!   about an ELF file); `cargo depinfo audit` reported it before this test found the
//!   difference.
//!
//! WebAssembly (issue 23): a real module built by Debian's rustc
//! (`tests/fixtures/wasm-debian-rustc`), a module and a component assembled with wasm-encoder
//! (the dependency list in a nested core module of a nested component), and a module with
//! build-info's data for `wasm32-wasip1`, against a database of their own: the same IDs as
//! `cargo audit bin`, but for one documented difference. cargo-audit 0.22 takes a Wasm file to
//! run on the `unknown` and `none` systems only, so an advisory limited to `wasi` is not
//! run). And cargo-audit reads a component only up to the end of its first nested core module
//! (auditable-extract 0.3.5 stops at the first `End` payload, a nested one included): a list in
//! a later module is "No dependency information found" to it, and read by us (checked below).
//! Both lists are printed (`--nocapture`).
//!
//! cargo-audit and cargo-auditable are installed by scripts/test-all.sh; the test fails, with
//! that hint, when they are missing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use testkit::{Scratch, stderr, stdout};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// Local files only: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// A fixture build on a busy 2-core machine (buildinfo and the crates are shared in the
/// fixtures' target directory, so only the first build compiles them).
const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// The crate versions the fixtures depend on, all in this workspace's Cargo.lock (checked
/// below): `cargo build --offline` finds them in the registry cache.
const ITOA: &str = "1.0.18";
const SMALLVEC: &str = "1.16.5";
const MEMCHR: &str = "2.8.3";
const SEMVER: &str = "1.0.28";
const FNV: &str = "1.0.7";
/// buildinfo's build side brings it in as a build-only dependency.
const MINIZ_OXIDE: &str = "0.9.1";

/// One advisory file in RustSec's format.
fn advisory(id: &str, package: &str, extra: &str, versions: &str) -> (String, String) {
    (
        format!("{package}/{id}.md"),
        format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-02\"\nurl = \"https://example.invalid/{id}\"\n{extra}\n[versions]\n{versions}\n```\n\n# Advisory {id} about {package}\n\nDetails.\n"
        ),
    )
}

/// The fixture database. The comment of each says whom it affects.
fn advisories() -> Vec<(String, String)> {
    vec![
        // itoa 1.0.18 is below the fix: affected.
        advisory("RUSTSEC-2099-0001", "itoa", "", "patched = [\">= 1.0.19\"]"),
        // smallvec 1.16.5 is the fix: not affected.
        advisory(
            "RUSTSEC-2099-0002",
            "smallvec",
            "",
            "patched = [\">= 1.16.5\"]",
        ),
        // memchr 2.8.3: after the unaffected range, before the fix: affected.
        advisory(
            "RUSTSEC-2099-0003",
            "memchr",
            "cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"",
            "patched = [\">= 2.8.4\"]\nunaffected = [\"< 2.8.0\"]",
        ),
        // memchr 2.8.3 is in an unaffected range: not affected.
        advisory(
            "RUSTSEC-2099-0004",
            "memchr",
            "",
            "patched = [\">= 2.9.0\"]\nunaffected = [\">= 2.8.0, < 2.9.0\"]",
        ),
        // A pre-release bound: semver 1.0.28 is below 1.0.29-alpha: affected.
        advisory(
            "RUSTSEC-2099-0005",
            "semver",
            "",
            "patched = [\"^1.0.29-alpha\"]",
        ),
        // Withdrawn: never reported.
        advisory(
            "RUSTSEC-2099-0006",
            "fnv",
            "withdrawn = \"2099-02-01\"",
            "patched = []",
        ),
        // Informational, each kind cargo-audit reports.
        advisory(
            "RUSTSEC-2099-0007",
            "fnv",
            "informational = \"unmaintained\"",
            "patched = []",
        ),
        advisory(
            "RUSTSEC-2099-0008",
            "smallvec",
            "informational = \"unsound\"",
            "patched = [\">= 1.16.6\"]",
        ),
        advisory(
            "RUSTSEC-2099-0009",
            "itoa",
            "informational = \"notice\"",
            "patched = []",
        ),
        // An informational kind cargo-audit does not report (nor do we).
        advisory(
            "RUSTSEC-2099-0010",
            "itoa",
            "informational = \"other-kind\"",
            "patched = []",
        ),
        // Windows only: no ELF program, and no Linux program, runs it.
        advisory(
            "RUSTSEC-2099-0011",
            "memchr",
            "[affected]\nos = [\"windows\"]",
            "patched = []",
        ),
        // Linux only: affected.
        advisory(
            "RUSTSEC-2099-0012",
            "itoa",
            "[affected]\nos = [\"linux\"]",
            "patched = []",
        ),
        // Another architecture: affected where the target is not known, not on x86_64.
        advisory(
            "RUSTSEC-2099-0013",
            "itoa",
            &format!("[affected]\narch = [\"{}\"]", other_arch()),
            "patched = []",
        ),
        // Another ELF system: affected where the target is not known, not on Linux.
        advisory(
            "RUSTSEC-2099-0014",
            "itoa",
            "[affected]\nos = [\"freebsd\"]",
            "patched = []",
        ),
        // A build-only dependency (buildinfo's build side): affected.
        advisory(
            "RUSTSEC-2099-0015",
            "miniz_oxide",
            "",
            "patched = [\">= 0.9.2\"]",
        ),
        // Pre-release versions (the synthetic binary), by SemVer precedence, not Cargo's
        // matching rules: 1.0.0-rc.1 is below 1.0.0, affected...
        advisory(
            "RUSTSEC-2099-0020",
            "fx-pre",
            "",
            "patched = [\">= 1.0.0\"]",
        ),
        // ...and inside `< 1.0.0`: unaffected (Cargo's rule would not match it).
        advisory(
            "RUSTSEC-2099-0021",
            "fx-pre",
            "",
            "patched = [\">= 1.0.1\"]\nunaffected = [\"< 1.0.0\"]",
        ),
        // 1.0.1-beta is above 1.0.0-alpha: patched (Cargo's rule would not match it).
        advisory(
            "RUSTSEC-2099-0022",
            "fx-beta",
            "",
            "patched = [\">= 1.0.0-alpha\"]",
        ),
        // 1.0.1-beta is below 1.0.1: affected.
        advisory("RUSTSEC-2099-0023", "fx-beta", "", "patched = [\"^1.0.1\"]"),
        // The program's own package, installed from crates.io: affected.
        advisory(
            "RUSTSEC-2099-0024",
            "fx-tool",
            "",
            "patched = [\">= 0.2.0\"]",
        ),
        // Crates from git and from a path are not the crates.io crates the advisories are
        // about.
        advisory("RUSTSEC-2099-0025", "fx-git", "", "patched = []"),
        advisory("RUSTSEC-2099-0026", "fx-local", "", "patched = []"),
        // A program without any dependency, installed from crates.io: affected.
        advisory(
            "RUSTSEC-2099-0027",
            "fx-lone",
            "",
            "patched = [\">= 0.4.0\"]",
        ),
    ]
}

/// An architecture the test does not run on.
fn other_arch() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "x86_64"
    } else {
        "aarch64"
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn git(dir: &Path, args: &[&str]) {
    let out = testkit::run(
        testkit::git_command(dir, &format!("@{} +0000", now() - 86_400)).args(args),
        LIMIT,
    );
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// Writes the database as a git repository committed a day ago.
fn write_db(db: &Path) {
    write_db_of(db, advisories());
}

/// Writes a database of these advisories as a git repository committed a day ago.
fn write_db_of(db: &Path, advisories: Vec<(String, String)>) {
    for (path, text) in advisories {
        let path = db.join("crates").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(db, &["init", "-q", "-b", "main"]);
    git(db, &["add", "-A"]);
    git(db, &["commit", "-q", "-m", "advisories"]);
}

/// Fails unless this workspace's Cargo.lock holds `name` at `version` (the registry cache has
/// what the lock file names).
fn assert_locked(name: &str, version: &str) {
    let lock = std::fs::read_to_string(testkit::workspace_root().join("Cargo.lock")).unwrap();
    assert!(
        lock.contains(&format!("name = \"{name}\"\nversion = \"{version}\"\n")),
        "{name} {version} is not in Cargo.lock any more: point the fixtures at a version it holds"
    );
}

/// Copies a fixture with these dependencies, builds it offline with `cargo ARGS`, and returns
/// the binary.
fn build(
    scratch: &Scratch,
    template: &str,
    name: &str,
    deps: &[(&str, &str)],
    args: &[&str],
) -> PathBuf {
    let mut lines = String::new();
    for (n, v) in deps {
        assert_locked(n, v);
        let _ = writeln!(lines, "{n} = \"={v}\"");
    }
    let dir = scratch.join(name);
    testkit::copy_fixture(template, &dir, name, &[("@DEPS@", &lines)]);
    let out = testkit::run(
        testkit::cargo(&dir)
            .args(args)
            .args(["--offline", "--quiet"]),
        BUILD_LIMIT,
    );
    assert!(
        out.status.success(),
        "cargo {args:?} of {template} failed (scripts/test-all.sh installs cargo-auditable): {}",
        stderr(&out)
    );
    let bin = testkit::binary("debug", name);
    let copy = scratch.join("bin").join(name);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&bin, &copy).unwrap();
    copy
}

/// `.dep-v0` JSON for a program and its packages `(name, version, source)`, as
/// cargo-auditable writes them.
fn dep_v0(root: (&str, &str, &str), deps: &[(&str, &str, &str)]) -> String {
    testkit::dep_v0_json(root, deps)
}

/// The cargo-audit executable: on PATH, or in the cargo home's `bin`.
fn cargo_audit_exe() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("cargo-audit"))
        .find(|p| p.is_file())
        .expect("cargo-audit is not installed: scripts/test-all.sh installs it")
}

/// An advisory in an answer: its kind (`vulnerability` or the informational kind) and id.
type Found = BTreeSet<(String, String)>;

/// What `cargo audit bin` reports for one binary, from a cargo home of its own (no user
/// `audit.toml` leaks in).
fn theirs(dir: &Path, db: &Path, bin: &Path, target: Option<(&str, &str)>) -> Found {
    let home = dir.join("cargo-home-theirs");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(cargo_audit_exe());
    cmd.current_dir(dir)
        .env("CARGO_HOME", &home)
        .args(["audit", "--db"])
        .arg(db)
        .args(["--no-fetch", "--no-yanked", "--json"]);
    if let Some((os, arch)) = target {
        cmd.args(["--target-os", os, "--target-arch", arch]);
    }
    // cargo-audit 0.22 takes its options before `bin` only.
    let out = testkit::run(cmd.arg("bin").arg(bin), LIMIT);
    // 0: nothing found, 1: vulnerabilities.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "cargo audit bin {}: {:?} {}",
        bin.display(),
        out.status,
        stderr(&out)
    );
    let doc: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("cargo-audit's JSON: {e}: {}", stdout(&out)));
    let mut found = Found::new();
    for v in doc["vulnerabilities"]["list"].as_array().unwrap() {
        found.insert((
            "vulnerability".into(),
            v["advisory"]["id"].as_str().unwrap().into(),
        ));
    }
    for (kind, warnings) in doc["warnings"].as_object().unwrap() {
        for w in warnings.as_array().unwrap() {
            let id = w["advisory"]["id"].as_str().unwrap_or_else(|| {
                panic!("a {kind} warning without an advisory (yanked should be off): {w}")
            });
            found.insert((kind.clone(), id.into()));
        }
    }
    found
}

/// What `cargo depinfo audit --format json` reports for one binary, and the paths of the
/// targets it read.
fn ours(dir: &Path, db: &Path, bin: &Path) -> (Found, Vec<String>) {
    let home = dir.join("cargo-home-ours");
    std::fs::create_dir_all(&home).unwrap();
    let out = testkit::run(
        Command::new(DEPINFO)
            .current_dir(dir)
            .env("CARGO_HOME", &home)
            .arg("audit")
            .arg("--db")
            .arg(db)
            .args(["--format", "json"])
            .arg(bin),
        LIMIT,
    );
    let doc: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("our JSON: {e}: {} {}", stdout(&out), stderr(&out)));
    let vulnerable = !doc["vulnerabilities"].as_array().unwrap().is_empty();
    assert_eq!(
        out.status.code(),
        Some(i32::from(vulnerable)),
        "{}",
        stderr(&out)
    );
    let mut found = Found::new();
    for f in doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["informational"].as_array().unwrap())
    {
        found.insert((
            f["kind"].as_str().unwrap().into(),
            f["id"].as_str().unwrap().into(),
        ));
    }
    let targets = doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["path"].as_str().unwrap().to_owned())
        .collect();
    (found, targets)
}

fn set(entries: &[(&str, &str)]) -> Found {
    entries
        .iter()
        .map(|(k, id)| ((*k).to_owned(), format!("RUSTSEC-2099-{id}")))
        .collect()
}

/// One binary of the contract: what both tools must report.
struct Case {
    bin: PathBuf,
    /// The target cargo-audit is given: the one build-info's data tells us.
    target: Option<(&'static str, &'static str)>,
    expected: Found,
}

/// Checks every case and returns the disagreements, all at once.
fn disagreements(dir: &Path, db: &Path, cases: &[Case]) -> Vec<String> {
    let mut wrong = Vec::new();
    for case in cases {
        let theirs = theirs(dir, db, &case.bin, case.target);
        let (ours, targets) = ours(dir, db, &case.bin);
        let name = case.bin.display();
        if ours != theirs {
            wrong.push(format!(
                "{name}: ours {ours:?} but cargo-audit's {theirs:?}"
            ));
        }
        if ours != case.expected {
            wrong.push(format!(
                "{name}: ours {ours:?}, expected {:?}",
                case.expected
            ));
        }
        if targets != [case.bin.display().to_string()] {
            wrong.push(format!("{name}: targets {targets:?}"));
        }
    }
    wrong
}

#[test]
fn the_advisories_equal_cargo_audits_on_binaries_built_by_cargo_auditable_and_by_buildinfo() {
    let scratch = Scratch::new("audit-contract");
    let db = scratch.join("db");
    write_db(&db);
    let started = std::time::Instant::now();
    let auditable = build(
        &scratch,
        "audit-auditable",
        "audit-contract-auditable",
        &[
            ("itoa", ITOA),
            ("smallvec", SMALLVEC),
            ("memchr", MEMCHR),
            ("semver", SEMVER),
            ("fnv", FNV),
        ],
        &["auditable", "build"],
    );
    let with_buildinfo = build(
        &scratch,
        "audit-buildinfo",
        "audit-contract-buildinfo",
        &[("itoa", ITOA), ("memchr", MEMCHR), ("fnv", FNV)],
        &["build"],
    );
    assert_locked("miniz_oxide", MINIZ_OXIDE);
    eprintln!("fixture builds: {:?}", started.elapsed());
    let synthetic = scratch.join("bin").join("fx-tool");
    testkit::auditable_binary(
        &synthetic,
        &dep_v0(
            ("fx-tool", "0.1.0", "crates.io"),
            &[
                ("fx-pre", "1.0.0-rc.1", "crates.io"),
                ("fx-beta", "1.0.1-beta", "crates.io"),
                ("fx-git", "0.1.0", "git"),
                ("fx-local", "0.1.0", "local"),
                ("itoa", ITOA, "crates.io"),
            ],
        ),
    );
    let host = (std::env::consts::OS, std::env::consts::ARCH);
    assert_eq!(host.0, "linux", "the fixtures are Linux ELF programs");
    let cases = [
        Case {
            bin: auditable,
            target: None,
            expected: set(&[
                ("vulnerability", "0001"),
                ("vulnerability", "0003"),
                ("vulnerability", "0005"),
                ("unmaintained", "0007"),
                ("unsound", "0008"),
                ("notice", "0009"),
                // No target known: every ELF system and every architecture may run it.
                ("vulnerability", "0012"),
                ("vulnerability", "0013"),
                ("vulnerability", "0014"),
            ]),
        },
        Case {
            bin: with_buildinfo.clone(),
            target: Some(host),
            expected: set(&[
                ("vulnerability", "0001"),
                ("vulnerability", "0003"),
                ("unmaintained", "0007"),
                ("notice", "0009"),
                ("vulnerability", "0012"),
                ("vulnerability", "0015"),
            ]),
        },
        Case {
            bin: synthetic,
            target: None,
            expected: set(&[
                ("vulnerability", "0001"),
                ("notice", "0009"),
                ("vulnerability", "0012"),
                ("vulnerability", "0013"),
                ("vulnerability", "0014"),
                ("vulnerability", "0020"),
                ("vulnerability", "0023"),
                ("vulnerability", "0024"),
            ]),
        },
    ];
    let wrong = disagreements(&scratch, &db, &cases);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Without the target, cargo-audit also reports for the build-info binary what other
    // architectures and other ELF systems are affected by: the documented difference.
    let untargeted = theirs(&scratch, &db, &with_buildinfo, None);
    let extra: Found = untargeted.difference(&cases[1].expected).cloned().collect();
    assert_eq!(
        extra,
        set(&[("vulnerability", "0013"), ("vulnerability", "0014")])
    );
}

#[test]
fn a_binary_without_dependencies_is_audited_through_its_own_package() {
    let scratch = Scratch::new("audit-contract-lone");
    let db = scratch.join("db");
    write_db(&db);
    // Built for real, from a path: its own package is local, not an advisory's subject; it is
    // still read (one target), with nothing to report.
    let built = build(
        &scratch,
        "audit-auditable",
        "audit-contract-nodeps",
        &[],
        &["auditable", "build"],
    );
    // Installed from crates.io: its own package is affected.
    let installed = scratch.join("bin").join("fx-lone");
    testkit::auditable_binary(&installed, &dep_v0(("fx-lone", "0.3.0", "crates.io"), &[]));
    let cases = [
        Case {
            bin: built,
            target: None,
            expected: Found::new(),
        },
        Case {
            bin: installed,
            target: None,
            expected: set(&[("vulnerability", "0027")]),
        },
    ];
    let wrong = disagreements(&scratch, &db, &cases);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // In a directory, beside each other, both are read: neither is left out silently.
    let (found, targets) = ours(&scratch, &db, &scratch.join("bin"));
    assert_eq!(found, set(&[("vulnerability", "0027")]));
    let mut paths: Vec<String> = cases.iter().map(|c| c.bin.display().to_string()).collect();
    paths.sort();
    assert_eq!(targets, paths);
}

/// A small deterministic generator (a linear congruential one): the same cases on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Versions in the order of SemVer precedence, pre-releases included: the cuts of the generated
/// ranges and the versions the generated binaries run.
fn version_pool() -> Vec<String> {
    let mut pool = Vec::new();
    for major in 0..2 {
        for minor in 0..3 {
            for patch in 0..2 {
                for pre in ["-0", "-alpha", "-alpha.1", "-rc.1", ""] {
                    pool.push(format!("{major}.{minor}.{patch}{pre}"));
                }
            }
        }
    }
    pool
}

/// A comparator's version: the full one, or (for a release) without its patch part.
fn comparator_version(rng: &mut Lcg, v: &str) -> String {
    if !v.contains('-') && v.ends_with(".0") && rng.below(3) == 0 {
        v[..v.len() - 2].to_owned()
    } else {
        v.to_owned()
    }
}

/// The `[versions]` of a generated advisory: ranges between strictly increasing cuts (so that
/// they never overlap, which RustSec refuses), each written with a random operator, or one
/// caret or tilde requirement above an unaffected range.
fn generated_versions(rng: &mut Lcg, pool: &[String]) -> String {
    let mut cuts: Vec<usize> = (0..4).map(|_| rng.below(pool.len())).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let cut = |rng: &mut Lcg, i: usize| comparator_version(rng, &pool[cuts[i]]);
    let lower = |rng: &mut Lcg| rng.pick(&[">", ">="]);
    let upper = |rng: &mut Lcg| rng.pick(&["<", "<="]);
    let mut unaffected = Vec::new();
    let mut patched = Vec::new();
    if cuts.len() >= 2 && rng.below(4) == 0 {
        // `^c` or `~c` (from c to the next incompatible version) above `< first`.
        unaffected.push(format!("{} {}", upper(rng), cut(rng, 0)));
        let op = rng.pick(&["^", "~"]);
        patched.push(format!("{op}{}", cut(rng, cuts.len() - 1)));
    } else {
        let mut i = 0;
        if rng.below(2) == 0 {
            unaffected.push(format!("{} {}", upper(rng), cut(rng, 0)));
            i = 1;
        }
        while i + 1 < cuts.len() {
            patched.push(format!(
                "{} {}, {} {}",
                lower(rng),
                cut(rng, i),
                upper(rng),
                cut(rng, i + 1)
            ));
            i += 2;
        }
        if i < cuts.len() && rng.below(2) == 0 {
            patched.push(format!("{} {}", lower(rng), cut(rng, i)));
        }
    }
    let list = |l: &[String]| {
        l.iter()
            .map(|r| format!("\"{r}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "patched = [{}]\nunaffected = [{}]",
        list(&patched),
        list(&unaffected)
    )
}

#[test]
fn generated_version_ranges_are_judged_as_cargo_audit_judges_them() {
    const ADVISORIES: usize = 150;
    const BINARIES: usize = 4;
    let scratch = Scratch::new("audit-contract-ranges");
    let db = scratch.join("db");
    let pool = version_pool();
    let mut rng = Lcg(11);
    let mut texts = Vec::new();
    for i in 0..ADVISORIES {
        let versions = generated_versions(&mut rng, &pool);
        let id = format!("RUSTSEC-2098-{i:04}");
        texts.push(advisory(&id, &format!("fx-r{i:03}"), "", &versions));
    }
    for (path, text) in &texts {
        let path = db.join("crates").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(&db, &["init", "-q", "-b", "main"]);
    git(&db, &["add", "-A"]);
    git(&db, &["commit", "-q", "-m", "generated advisories"]);
    let mut wrong = Vec::new();
    let mut affected = 0;
    for b in 0..BINARIES {
        let crates: Vec<(String, String)> = (0..ADVISORIES)
            .map(|i| (format!("fx-r{i:03}"), pool[rng.below(pool.len())].clone()))
            .collect();
        let deps: Vec<(&str, &str, &str)> = crates
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str(), "crates.io"))
            .collect();
        let bin = scratch.join("bin").join(format!("generated-{b}"));
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        testkit::auditable_binary(&bin, &dep_v0(("generated", "0.1.0", "local"), &deps));
        let theirs = theirs(&scratch, &db, &bin, None);
        let (ours, _) = ours(&scratch, &db, &bin);
        affected += ours.len();
        for id in ours.symmetric_difference(&theirs) {
            let i: usize = id.1["RUSTSEC-2098-".len()..].parse().unwrap();
            let side = if ours.contains(id) {
                "ours"
            } else {
                "cargo-audit"
            };
            wrong.push(format!(
                "{} {} is affected by {} only according to {side}: {}",
                crates[i].0,
                crates[i].1,
                id.1,
                texts[i]
                    .1
                    .lines()
                    .filter(|l| l.contains("= ["))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Both answers are neither empty nor everything.
    assert!(
        affected > BINARIES * ADVISORIES / 10 && affected < BINARIES * ADVISORIES * 9 / 10,
        "{affected}"
    );
}

/// The Wasm database: advisories about the crates of `tests/fixtures/wasm-debian-rustc`'s
/// dependency list.
fn wasm_advisories() -> Vec<(String, String)> {
    vec![
        // itoa 1.0.18 is below the fix: affected everywhere.
        advisory("RUSTSEC-2099-0101", "itoa", "", "patched = [\">= 1.0.19\"]"),
        // memchr 2.8.3 is the fix: not affected.
        advisory(
            "RUSTSEC-2099-0102",
            "memchr",
            "",
            "patched = [\">= 2.8.3\"]",
        ),
        // Native systems only: no Wasm file runs there.
        advisory(
            "RUSTSEC-2099-0103",
            "memchr",
            "[affected]\nos = [\"linux\", \"windows\", \"macos\"]",
            "patched = []",
        ),
        // `wasm32-unknown-unknown` and `wasm32v1-none`'s systems: a Wasm file of unknown
        // target may run there.
        advisory(
            "RUSTSEC-2099-0104",
            "itoa",
            "[affected]\nos = [\"unknown\"]",
            "patched = []",
        ),
        advisory(
            "RUSTSEC-2099-0105",
            "smallvec",
            "[affected]\nos = [\"none\"]",
            "patched = []",
        ),
        // WASI only: the documented difference (cargo-audit does not run Wasm on WASI).
        advisory(
            "RUSTSEC-2099-0106",
            "fnv",
            "[affected]\nos = [\"wasi\"]",
            "patched = []",
        ),
        // Another architecture: affected where the target is not known.
        advisory(
            "RUSTSEC-2099-0107",
            "itoa",
            "[affected]\narch = [\"x86_64\"]",
            "patched = []",
        ),
        // The Wasm architecture: affected.
        advisory(
            "RUSTSEC-2099-0108",
            "smallvec",
            "[affected]\narch = [\"wasm32\"]",
            "patched = [\">= 1.16.6\"]",
        ),
        advisory(
            "RUSTSEC-2099-0109",
            "fnv",
            "informational = \"unmaintained\"",
            "patched = []",
        ),
        // A crate from git is not the crates.io crate of that name.
        advisory("RUSTSEC-2099-0110", "fx-git", "", "patched = []"),
        // Withdrawn: never reported.
        advisory(
            "RUSTSEC-2099-0111",
            "smallvec",
            "withdrawn = \"2099-02-01\"",
            "patched = []",
        ),
    ]
}

/// `tests/fixtures/wasm-debian-rustc`: the real module and its dependency list.
fn wasm_fixture() -> (PathBuf, String) {
    let dir = testkit::workspace_root().join("tests/fixtures/wasm-debian-rustc");
    let json = std::fs::read_to_string(dir.join("dep-v0.json")).unwrap();
    (dir.join("wasm-fixture.wasm"), json)
}

#[test]
fn the_advisories_on_wasm_modules_and_components_equal_cargo_audits_but_for_wasi() {
    use testkit::{WasmPart, wasm_component, wasm_module_with_sections, zlib};

    let scratch = Scratch::new("audit-contract-wasm");
    let db = scratch.join("db");
    write_db_of(&db, wasm_advisories());
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let (real, json) = wasm_fixture();
    let dep = zlib(json.as_bytes());
    let module = bin.join("assembled.wasm");
    std::fs::write(&module, wasm_module_with_sections(&[(".dep-v0", &dep)])).unwrap();
    // The list in the first core module of a nested component: cargo-audit stops reading at
    // the end of the first nested module (auditable-extract 0.3.5 returns at the first `End`
    // payload of wasmparser's `parse_all`, nested ones included), so the list must come
    // before it for cargo-audit to see it. Where it comes later, see `late` below.
    let component = bin.join("component.wasm");
    let inner = wasm_component(&[
        WasmPart::Module(&wasm_module_with_sections(&[(".dep-v0", &dep)])),
        WasmPart::Module(&wasm_module_with_sections(&[])),
    ]);
    std::fs::write(
        &component,
        wasm_component(&[
            WasmPart::Component(&inner),
            WasmPart::Module(&wasm_module_with_sections(&[("producers", b"\0")])),
        ]),
    )
    .unwrap();
    // build-info's data as our build.rs would embed it for `wasm32-wasip1`.
    let bldinfo = r#"{"format":1,"program":"wasm-fixture","version":"0.1.0","revision":"unknown","branch":"unknown","tag":"","commit_time":"unknown","build_user":"unknown","build_date":"2026-12-01T00:00:00Z","rust_version":"1.95.0","rust_commit":"unknown","rust_channel":"stable","host":"x86_64-unknown-linux-gnu","target":"wasm32-wasip1","profile":"release","opt_level":"3","modified":false,"features":[],"graph":"exact","packages":[{"name":"fnv","version":"1.0.7","source":"crates.io","direct":true},{"name":"fx-git","version":"0.1.0","source":"git","direct":true},{"name":"itoa","version":"1.0.18","source":"crates.io","direct":true},{"name":"memchr","version":"2.8.3","source":"crates.io","direct":true},{"name":"smallvec","version":"1.16.5","source":"crates.io","direct":true},{"name":"wasm-fixture","version":"0.1.0","source":"local","root":true,"dependencies":[0,1,2,3,4]}]}"#;
    let wasip1 = bin.join("wasip1.wasm");
    std::fs::write(
        &wasip1,
        wasm_module_with_sections(&[(".bldinfo", &zlib(bldinfo.as_bytes())), (".dep-v0", &dep)]),
    )
    .unwrap();
    let wasi_only = set(&[("vulnerability", "0106")]);
    let untargeted = set(&[
        ("vulnerability", "0101"),
        ("vulnerability", "0104"),
        ("vulnerability", "0105"),
        ("vulnerability", "0106"),
        ("vulnerability", "0107"),
        ("vulnerability", "0108"),
        ("unmaintained", "0109"),
    ]);
    let cases = [
        Case {
            bin: real,
            target: None,
            expected: untargeted.clone(),
        },
        Case {
            bin: module,
            target: None,
            expected: untargeted.clone(),
        },
        Case {
            bin: component,
            target: None,
            expected: untargeted,
        },
        Case {
            bin: wasip1,
            // What build-info's data says, given to cargo-audit.
            target: Some(("wasi", "wasm32")),
            expected: set(&[
                ("vulnerability", "0101"),
                ("vulnerability", "0106"),
                ("vulnerability", "0108"),
                ("unmaintained", "0109"),
            ]),
        },
    ];
    let show = |found: &Found| {
        found
            .iter()
            .map(|(kind, id)| format!("{id} ({kind})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut wrong = Vec::new();
    for case in &cases {
        let theirs = theirs(&scratch, &db, &case.bin, case.target);
        let (ours, targets) = ours(&scratch, &db, &case.bin);
        let name = case.bin.file_name().unwrap().to_string_lossy();
        eprintln!(
            "{name}:\n  cargo depinfo audit: {}\n  cargo audit bin:     {}",
            show(&ours),
            show(&theirs)
        );
        let theirs_expected: Found = case.expected.difference(&wasi_only).cloned().collect();
        if theirs != theirs_expected {
            wrong.push(format!(
                "{name}: cargo-audit's {theirs:?}, expected {theirs_expected:?}"
            ));
        }
        if ours != case.expected {
            wrong.push(format!(
                "{name}: ours {ours:?}, expected {:?}",
                case.expected
            ));
        }
        if targets != [case.bin.display().to_string()] {
            wrong.push(format!("{name}: targets {targets:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // The list in the second core module of a component: we read it, cargo-audit finds none
    // (the second documented difference).
    let late_dir = scratch.join("late");
    std::fs::create_dir_all(&late_dir).unwrap();
    let late = late_dir.join("late.wasm");
    std::fs::write(
        &late,
        wasm_component(&[
            WasmPart::Module(&wasm_module_with_sections(&[("producers", b"\0")])),
            WasmPart::Module(&wasm_module_with_sections(&[(".dep-v0", &dep)])),
        ]),
    )
    .unwrap();
    let (ours_late, _) = ours(&scratch, &db, &late);
    assert_eq!(ours_late, cases[0].expected);
    let home = scratch.join("cargo-home-theirs");
    let out = testkit::run(
        Command::new(cargo_audit_exe())
            .current_dir(&*scratch)
            .env("CARGO_HOME", &home)
            .args(["audit", "--db"])
            .arg(&db)
            .args(["--no-fetch", "--no-yanked", "--json", "bin"])
            .arg(&late),
        LIMIT,
    );
    eprintln!(
        "late.wasm:\n  cargo depinfo audit: {}\n  cargo audit bin:     exit {:?}, {}",
        show(&ours_late),
        out.status.code(),
        stderr(&out).trim()
    );
    assert_eq!(out.status.code(), Some(2));
    testkit::assert_contains(&stderr(&out), "No dependency information found");
}
