//! The verdict matrix of issue 24 on real advisories and real builds:
//! `tests/fixtures/advisory-matrix` holds one package per RustSec advisory that names functions
//! (24 of them, their front matter vendored under `advisory-db/`), each pinned to an affected
//! version of its crate, with two programs: `<id>-calls` reaches a function the advisory names,
//! `<id>-never` links the crate and reaches none. `cargo auditable build` builds the workspace
//! in each profile into the shared fixture target directory, and `cargo depinfo audit` judges
//! every binary against the vendored database.
//!
//! What must hold, cell by cell (a cell: a program, a profile, the program's own advisory):
//!
//! - every `calls` cell is `present` or `unknown`, never `not-found` (zero false not-found);
//! - every `strip = true` cell is `unknown`;
//! - without debug information (release, v0 mangling) nothing is `not-found`;
//! - dev builds keep every function they call as a symbol: every `calls` cell is `present`;
//! - each profile with debug information says `not-found` on at least its `min_not_found` of the
//!   `never` cells (as many as the data allows: the closing table says how many);
//! - where `cargo audit bin` (the reference) lists a named function as found in the symbols,
//!   the verdict is `present`.
//!
//! CI builds the profiles where a false `not-found` can happen, the ones with debug information:
//! dev, `lto-lines` (fat LTO, one codegen unit, line tables: called functions vanish from the
//! symbol table into their callers) and `release-debug` (`debug = true`: methods reached
//! through abstract definitions and declarations). The other three only ever say `present` or
//! `unknown` by construction (no debug information, so no `not-found` path), and cost as much
//! again to build. The full matrix, all six profiles (288 binaries), runs with
//! `DEPINFO_MATRIX=full` (RELEASING.md); `DEPINFO_MATRIX_TABLE=PATH` writes the table there.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use testkit::{Scratch, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// How long one build of the workspace in one profile may take (fat LTO of 48 programs on a
/// fresh target directory takes about two minutes on two cores).
const BUILD_LIMIT: Duration = Duration::from_secs(900);
const LIMIT: Duration = Duration::from_secs(300);

/// A profile: its name, the `RUSTFLAGS` it is built with, whether it has debug information,
/// and the fewest `not-found` answers on its `never` cells.
struct Profile {
    name: &'static str,
    rustflags: Option<&'static str>,
    dwarf: bool,
    /// As many as the data allowed with rustc 1.95 (the closing table of issue 24): fewer is
    /// a loss of precision to explain (another toolchain inlines differently) or a bug.
    min_not_found: usize,
}

const PROFILES: [Profile; 6] = [
    Profile {
        name: "dev",
        rustflags: None,
        dwarf: true,
        min_not_found: 9,
    },
    Profile {
        name: "lto-lines",
        rustflags: None,
        dwarf: true,
        min_not_found: 11,
    },
    Profile {
        name: "release-debug",
        rustflags: None,
        dwarf: true,
        min_not_found: 8,
    },
    Profile {
        name: "release",
        rustflags: None,
        dwarf: false,
        min_not_found: 0,
    },
    Profile {
        name: "release-v0",
        rustflags: Some("-C symbol-mangling-version=v0"),
        dwarf: false,
        min_not_found: 0,
    },
    Profile {
        name: "stripped",
        rustflags: None,
        dwarf: false,
        min_not_found: 0,
    },
];

fn fixture_root() -> PathBuf {
    testkit::workspace_root().join("tests/fixtures/advisory-matrix")
}

/// The advisories of the matrix: the fixture's `rustsec-*` packages, as ids, sorted.
fn advisories() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(fixture_root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("rustsec-"))
        .map(|n| n.to_uppercase())
        .collect();
    ids.sort();
    ids
}

/// Builds the workspace in `profile` with `cargo auditable` (offline: scripts/test-all.sh
/// fetched its packages) and copies its programs to `out`.
fn build(project: &Path, profile: &Profile, ids: &[String], out: &Path) {
    let mut cmd = testkit::cargo(project);
    cmd.args([
        "auditable",
        "build",
        "--offline",
        "--quiet",
        "--workspace",
        "--locked",
        "--profile",
        profile.name,
    ]);
    if let Some(flags) = profile.rustflags {
        cmd.env("RUSTFLAGS", flags);
    }
    let done = testkit::run(&mut cmd, BUILD_LIMIT);
    assert!(
        done.status.success(),
        "cargo auditable build --profile {} of {} failed (its packages come from the cargo \
         cache: scripts/test-all.sh fetches them with `cargo fetch --locked`): {}",
        profile.name,
        project.display(),
        stderr(&done)
    );
    std::fs::create_dir_all(out).unwrap();
    let dir = if profile.name == "dev" {
        "debug"
    } else {
        profile.name
    };
    for id in ids {
        for variant in ["calls", "never"] {
            let name = program(id, variant);
            std::fs::copy(testkit::binary(dir, &name), out.join(&name))
                .unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));
        }
    }
}

fn program(id: &str, variant: &str) -> String {
    format!("{}-{variant}", id.to_lowercase())
}

/// The database: the vendored front matter, committed with git (a commit and a date).
fn write_db(db: &Path) {
    copy_dir(&fixture_root().join("advisory-db"), db);
    testkit::git(db, &["init", "-q", "-b", "main"]);
    testkit::git(db, &["add", "-A"]);
    testkit::git(db, &["commit", "-q", "-m", "vendored advisories"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// One verdict: the word, and the symbol or reason.
#[derive(Clone, Debug)]
struct Verdict {
    word: String,
    detail: String,
}

/// `cargo depinfo audit --format json` over `dir`: each binary's verdict on each advisory.
fn ours(scratch: &Path, db: &Path, dir: &Path) -> BTreeMap<(String, String), Verdict> {
    let home = scratch.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = testkit::run(
        Command::new(BIN)
            .current_dir(scratch)
            .env("CARGO_HOME", &home)
            .args(["audit", "--format", "json", "--db"])
            .arg(db)
            .arg(dir),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["errors"], serde_json::json!([]), "{}", stdout(&out));
    let mut verdicts = BTreeMap::new();
    for finding in doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["informational"].as_array().unwrap())
    {
        let id = finding["id"].as_str().unwrap();
        for blast in finding["affected"].as_array().unwrap() {
            let verdict = Verdict {
                word: blast["verdict"].as_str().unwrap().to_owned(),
                detail: blast["symbol"]
                    .as_str()
                    .or(blast["reason"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
            };
            for instance in blast["instances"].as_array().unwrap() {
                let name = Path::new(instance.as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                verdicts.insert((name, id.to_owned()), verdict.clone());
            }
        }
    }
    verdicts
}

/// `cargo audit bin` on one binary: for each advisory it reports with an `Affected:` line,
/// the functions that line lists (those it found in the symbol table). Its text output, since
/// its JSON lists the advisory's functions, not the ones found.
fn theirs(scratch: &Path, db: &Path, binary: &Path) -> BTreeMap<String, String> {
    let home = scratch.join("cargo-home-theirs");
    std::fs::create_dir_all(&home).unwrap();
    let out = testkit::run(
        Command::new(which("cargo-audit"))
            .current_dir(scratch)
            .env("CARGO_HOME", &home)
            .args(["audit", "--db"])
            .arg(db)
            .args(["--no-fetch", "--no-yanked", "--color", "never", "bin"])
            .arg(binary),
        LIMIT,
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "cargo audit bin {}: {}",
        binary.display(),
        stderr(&out)
    );
    let mut found = BTreeMap::new();
    let mut id = String::new();
    for line in stdout(&out).lines() {
        if let Some(rest) = line.trim().strip_prefix("ID:") {
            rest.trim().clone_into(&mut id);
        } else if let Some(rest) = line.trim().strip_prefix("Affected:") {
            found.insert(id.clone(), rest.trim().to_owned());
        }
    }
    found
}

/// An installed program, on `PATH` (scripts/test-all.sh installs cargo-audit).
fn which(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed: scripts/test-all.sh installs it"))
}

#[test]
fn real_advisories_in_real_builds_are_never_not_found_where_called() {
    let full = std::env::var("DEPINFO_MATRIX").is_ok_and(|v| v == "full");
    let profiles: Vec<&Profile> = PROFILES.iter().filter(|p| full || p.dwarf).collect();
    let ids = advisories();
    assert!(ids.len() >= 20, "{ids:?}");
    let scratch = Scratch::new("advisory-matrix");
    let project = scratch.join("project");
    copy_dir(&fixture_root(), &project);
    let db = scratch.join("db");
    write_db(&db);

    let mut table = String::new();
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for profile in &profiles {
        let dir = scratch.join("bin").join(profile.name);
        build(&project, profile, &ids, &dir);
        let verdicts = ours(&scratch, &db, &dir);
        // cargo-audit, one binary at a time (its text names the binary of a block only on
        // stderr).
        let mut reference = BTreeMap::new();
        for id in &ids {
            for variant in ["calls", "never"] {
                let name = program(id, variant);
                for (advisory, functions) in theirs(&scratch, &db, &dir.join(&name)) {
                    reference.insert((name.clone(), advisory), functions);
                }
            }
        }
        let mut not_found_never = 0;
        let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
        for id in &ids {
            for variant in ["calls", "never"] {
                let name = program(id, variant);
                let Some(v) = verdicts.get(&(name.clone(), id.clone())) else {
                    failures.push(format!("{}: {name}: no finding of {id}", profile.name));
                    continue;
                };
                *counts.entry((variant, v.word.clone())).or_default() += 1;
                let theirs = reference.get(&(name.clone(), id.clone()));
                let _ = writeln!(
                    table,
                    "| {} | {id} | {variant} | {} | {} | {} |",
                    profile.name,
                    v.word,
                    theirs.map_or("-", String::as_str),
                    v.detail
                        .replace('|', "\\|")
                        .replace(&*scratch.display().to_string(), "…"),
                );
                let wrong = match (variant, v.word.as_str()) {
                    ("calls", "not-found") => Some("a called function is not-found"),
                    (_, w) if profile.name == "stripped" && w != "unknown" => {
                        Some("a stripped binary is not unknown")
                    }
                    (_, "not-found") if !profile.dwarf => Some("not-found without DWARF"),
                    ("calls", w) if profile.name == "dev" && w != "present" => {
                        Some("a dev build's called function is not present")
                    }
                    _ => None,
                };
                if let Some(wrong) = wrong {
                    failures.push(format!("{}: {name}: {wrong}: {v:?}", profile.name));
                }
                if theirs.is_some() && v.word != "present" {
                    failures.push(format!(
                        "{}: {name}: cargo audit bin found {theirs:?} in its symbols, ours is {v:?}",
                        profile.name
                    ));
                }
                if variant == "never" && v.word == "not-found" {
                    not_found_never += 1;
                }
            }
        }
        if not_found_never < profile.min_not_found {
            failures.push(format!(
                "{}: only {not_found_never} never-called cells are not-found (at least {})",
                profile.name, profile.min_not_found
            ));
        }
        let found_by_them = reference
            .keys()
            .filter(|(name, advisory)| name.starts_with(&advisory.to_lowercase()))
            .count();
        summary.push(format!(
            "{}: {counts:?}; cargo audit bin lists found functions on {found_by_them} cells",
            profile.name
        ));
    }
    let table = format!(
        "| profile | advisory | program | verdict | cargo audit bin `Affected:` | symbol or reason |\n\
         |---|---|---|---|---|---|\n{table}"
    );
    eprintln!("{table}\n{}", summary.join("\n"));
    if let Some(path) = std::env::var_os("DEPINFO_MATRIX_TABLE") {
        std::fs::write(path, format!("{table}\n{}\n", summary.join("\n"))).unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
