//! The symbol reader on real builds of `tests/fixtures/symbols`: a program that calls
//! `tarlike::Archive::unpack` (a method of a re-exported generic type) and never calls
//! `tarlike::Archive::list` or `tarlike::checksum`, built by cargo, offline, into the shared
//! fixture target directory in four variants: dev (debug information), release, release with
//! v0 mangling (`-C symbol-mangling-version=v0`, stable since Rust 1.59), and release with
//! `strip = true`.
//!
//! The called function must be `Present` in every unstripped build; everything must be
//! `Unknown` in the stripped one; a function never called is `Unknown` (never a "not found":
//! symbols alone cannot prove absence); and the program's own `tarlike::Archive::list`, a
//! symbol of another crate with the same words, must not answer for the dependency's.

use std::path::{Path, PathBuf};

use depinfo_read::binary_reader::symbols::{FunctionVerdict, SymbolLimits, function_verdicts_with};

/// The symbol table alone: the debug information is the DWARF reader's, tested in
/// `dwarf_real_builds.rs`.
fn function_verdicts(binary: &Path, functions: &[&str]) -> Vec<FunctionVerdict> {
    function_verdicts_with(
        binary,
        functions,
        &SymbolLimits::default().with_dwarf(false),
    )
}

const NAME: &str = "symbols-fixture";

const UNPACK: &str = "tarlike::Archive::unpack";
const LIST: &str = "tarlike::Archive::list";
const CHECKSUM: &str = "tarlike::checksum";
/// The program's own module `tarlike`: a near miss for `LIST`, and called.
const OWN_LIST: &str = "symbols-fixture::tarlike::Archive::list";

/// Builds the fixture with `profile` (and `rustflags`), and copies its binary to `out`. Flags
/// get a profile of their own: other tests build the same fixture in the shared target
/// directory at the same time, and a profile's binary must be the same whoever built it.
fn build(dir: &Path, profile: &str, rustflags: Option<&str>, out: PathBuf) -> PathBuf {
    let mut cmd = testkit::cargo(dir);
    cmd.args(["build", "--offline", "--quiet", "--profile", profile]);
    if let Some(flags) = rustflags {
        cmd.env("RUSTFLAGS", flags);
    }
    testkit::run_ok(&mut cmd);
    let profile_dir = if profile == "dev" { "debug" } else { profile };
    std::fs::copy(testkit::binary(profile_dir, NAME), &out).unwrap();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[track_caller]
fn present(verdict: &FunctionVerdict, label: &str) -> String {
    match verdict {
        FunctionVerdict::Present { symbol } => symbol.clone(),
        other => panic!("{label}: expected present, got {other:?}"),
    }
}

#[track_caller]
fn unknown(verdict: &FunctionVerdict, label: &str) -> String {
    match verdict {
        FunctionVerdict::Unknown { reason } => {
            assert!(!reason.contains('\n'), "{label}: {reason}");
            reason.clone()
        }
        other => panic!("{label}: expected unknown, got {other:?}"),
    }
}

#[test]
fn the_called_function_is_present_unless_stripped_and_nothing_else_is_claimed() {
    let scratch = testkit::Scratch::new("symbols-real-builds");
    let dir = scratch.join("project");
    testkit::copy_fixture("symbols", &dir, NAME, &[]);
    let dev = build(&dir, "dev", None, scratch.join("dev"));
    let release = build(&dir, "release", None, scratch.join("release"));
    let stripped = build(&dir, "stripped", None, scratch.join("stripped"));
    let v0 = build(
        &dir,
        "release-v0",
        Some("-C symbol-mangling-version=v0"),
        scratch.join("v0"),
    );

    // The manglings really differ: legacy `_ZN7tarlike…`, v0 `_R…7tarlike…`.
    let legacy_name: &[u8] = b"_ZN7tarlike7archive";
    assert!(contains(&std::fs::read(&release).unwrap(), legacy_name));
    let v0_bytes = std::fs::read(&v0).unwrap();
    assert!(!contains(&v0_bytes, legacy_name));
    assert!(contains(&v0_bytes, b"7tarlike7archive"));

    let functions = [UNPACK, LIST, CHECKSUM, OWN_LIST];
    for (label, binary) in [("dev", &dev), ("release", &release), ("v0", &v0)] {
        let verdicts = function_verdicts(binary, &functions);
        let symbol = present(&verdicts[0], label);
        eprintln!("{label}: {UNPACK} is {symbol}");
        assert!(
            symbol
                .trim_start_matches('<')
                .starts_with("tarlike::archive::Archive<")
                && symbol.ends_with(">::unpack"),
            "{label}: {symbol}"
        );
        for (i, function) in [(1, LIST), (2, CHECKSUM)] {
            let reason = unknown(&verdicts[i], &format!("{label} {function}"));
            assert!(
                reason.starts_with(&binary.display().to_string())
                    && reason.contains("symbols alone cannot show that it is absent"),
                "{label}: {reason}"
            );
        }
        // The near miss is in the table, and answers only for its own crate.
        let own = present(&verdicts[3], label);
        assert!(
            own.trim_start_matches('<')
                .starts_with("symbols_fixture::tarlike::Archive"),
            "{label}: {own}"
        );
        // The defining module's path matches too.
        assert!(
            function_verdicts(binary, &["tarlike::archive::Archive::unpack"])[0].is_present(),
            "{label}"
        );
    }

    let verdicts = function_verdicts(&stripped, &functions);
    for (verdict, function) in verdicts.iter().zip(functions) {
        let reason = unknown(verdict, &format!("stripped {function}"));
        eprintln!("stripped: {function}: {reason}");
        // A stripped executable keeps `.dynsym` (its imports), which names no Rust code.
        assert!(
            reason.contains("has no symbol of crate")
                || reason.contains("no symbol table: the ELF file is stripped"),
            "stripped {function}: {reason}"
        );
        assert!(
            reason.contains(".dynsym") || reason.contains("stripped"),
            "{reason}"
        );
    }
}
