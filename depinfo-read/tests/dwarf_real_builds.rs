//! The DWARF reader on real builds of `tests/fixtures/symbols` (the program calls
//! `tarlike::Archive::unpack`, the small `#[inline]` `tarlike::small_mix`, the small
//! `tarlike::plain_step` and `tarlike::out_of_line`, and never calls `tarlike::Archive::list`
//! or `tarlike::checksum`), in the profiles of issue 24:
//!
//! - dev (full DWARF): the called functions `Present`, the never-called `checksum` `NotFound`,
//!   the never-called method `Archive::list` `Unknown` (its type is in use: a method call can
//!   be inlined into no code at all, and leave no inline entry);
//! - `lto-lines` (`lto = "fat"`, `codegen-units = 1`, `debug = "line-tables-only"`): every
//!   called function `Present` or `Unknown`, never `NotFound`; `small_mix`, inlined and gone
//!   from `.symtab`, `Present` through the inline trees; `checksum` `NotFound`;
//! - `release-debug` (`debug = true`): the same promise;
//! - release (no DWARF): `Present` or `Unknown` only; `strip = true`: `Unknown` only;
//! - `release-kept` (the program without debug information, the standard library's kept by
//!   `strip = false`) and `mixed` (line tables everywhere but in `tarlike`): never
//!   `NotFound` for a called function; `directives` (`debug = "line-directives-only"`) and
//!   `split` (`split-debuginfo = "unpacked"`): `Unknown`, the debug information not whole;
//! - a `.gnu_debuglink` companion (`objcopy --only-keep-debug`, `--strip-debug`,
//!   `--add-gnu-debuglink`): the stripped binary answers as the unstripped one when the
//!   companion is beside it (stripped of everything too: the companion's symbols answer),
//!   `Unknown` when it is absent or its CRC is wrong, and a link naming `../x` is refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use depinfo_read::binary_reader::symbols::{FunctionVerdict, function_verdicts};
use object::{Object as _, ObjectSection as _};

const NAME: &str = "symbols-dwarf";

const UNPACK: &str = "tarlike::Archive::unpack";
const SMALL: &str = "tarlike::small_mix";
const LIST: &str = "tarlike::Archive::list";
const CHECKSUM: &str = "tarlike::checksum";
const PLAIN: &str = "tarlike::plain_step";
const CALLED: [&str; 3] = [UNPACK, SMALL, PLAIN];
const FUNCTIONS: [&str; 5] = [UNPACK, SMALL, LIST, CHECKSUM, PLAIN];

fn build(dir: &Path, profile: &str, out: PathBuf) -> PathBuf {
    let mut cmd = testkit::cargo(dir);
    cmd.args(["build", "--offline", "--quiet", "--profile", profile]);
    testkit::run_ok(&mut cmd);
    let profile_dir = if profile == "dev" { "debug" } else { profile };
    std::fs::copy(testkit::binary(profile_dir, NAME), &out).unwrap();
    out
}

fn kind(verdict: &FunctionVerdict) -> &'static str {
    match verdict {
        FunctionVerdict::Present { .. } => "present",
        FunctionVerdict::NotFound { .. } => "not-found",
        FunctionVerdict::Unknown { .. } => "unknown",
        _ => "other",
    }
}

fn kinds(binary: &Path) -> (Vec<&'static str>, Vec<FunctionVerdict>) {
    let verdicts = function_verdicts(binary, &FUNCTIONS);
    for (f, v) in FUNCTIONS.iter().zip(&verdicts) {
        eprintln!("{}: {f}: {v:?}", binary.display());
        let (FunctionVerdict::Present { symbol: text }
        | FunctionVerdict::NotFound { reason: text }
        | FunctionVerdict::Unknown { reason: text }) = v
        else {
            panic!("{v:?}")
        };
        assert!(!text.contains('\n'), "{text}");
        if let FunctionVerdict::NotFound { reason } = v {
            assert!(
                reason.contains("not found in the debug information")
                    && !reason.contains("not affected"),
                "{reason}"
            );
        }
    }
    (verdicts.iter().map(kind).collect(), verdicts)
}

fn objcopy(args: &[&str]) {
    testkit::run_ok(Command::new("objcopy").args(args));
}

#[track_caller]
fn never_not_found_for_called(label: &str, kinds: &[&str]) {
    for (f, k) in FUNCTIONS.iter().zip(kinds) {
        if CALLED.contains(f) {
            assert_ne!(
                *k, "not-found",
                "{label}: {f} is called: zero false not-found"
            );
        }
    }
}

#[test]
fn called_functions_are_never_not_found_and_never_called_ones_are_where_dwarf_allows() {
    let scratch = testkit::Scratch::new("dwarf-real-builds");
    let dir = scratch.join("project");
    testkit::copy_fixture("symbols", &dir, NAME, &[]);
    let dev = build(&dir, "dev", scratch.join("dev"));
    let lto = build(&dir, "lto-lines", scratch.join("lto-lines"));
    let full = build(&dir, "release-debug", scratch.join("release-debug"));
    let release = build(&dir, "release", scratch.join("release"));
    let stripped = build(&dir, "stripped", scratch.join("stripped"));
    for (label, path) in [
        ("dev", &dev),
        ("lto-lines", &lto),
        ("release-debug", &full),
        ("release", &release),
        ("stripped", &stripped),
    ] {
        eprintln!(
            "size {label}: {} bytes",
            std::fs::metadata(path).unwrap().len()
        );
    }

    // dev: full DWARF, one unit per codegen unit and crate.
    let (k, v) = kinds(&dev);
    assert_eq!(
        k,
        ["present", "present", "unknown", "not-found", "present"],
        "dev"
    );
    assert!(
        format!("{:?}", v[2]).contains("shows type `Archive` of crate `tarlike` in use"),
        "{v:?}"
    );

    // Fat LTO, line tables only: small_mix is inlined and has no symbol; the inline trees
    // show it. `list` has only its bare name here (no namespaces, no linkage name), and the
    // program's own `Archive::list` shares it: the conservative answer is present.
    let symtab = String::from_utf8_lossy(&Command::new("nm").arg(&lto).output().unwrap().stdout)
        .into_owned();
    assert!(
        !symtab.contains("small_mix"),
        "small_mix must be inlined away in the lto-lines build"
    );
    let (k, v) = kinds(&lto);
    never_not_found_for_called("lto-lines", &k);
    assert_eq!(k[1], "present", "lto-lines small_mix: {v:?}");
    assert!(
        matches!(&v[1], FunctionVerdict::Present { symbol } if symbol.contains("inlined")),
        "{v:?}"
    );
    assert_eq!(k[3], "not-found", "lto-lines checksum");

    let (k, _) = kinds(&full);
    never_not_found_for_called("release-debug", &k);
    assert_eq!(k[..2], ["present", "present"], "release-debug");
    assert_eq!(k[3], "not-found", "release-debug checksum");

    // No DWARF: present or unknown only.
    let (k, _) = kinds(&release);
    assert!(k.iter().all(|k| *k != "not-found"), "release: {k:?}");
    assert_eq!(k[0], "present");
    let (k, _) = kinds(&stripped);
    assert!(k.iter().all(|k| *k == "unknown"), "stripped: {k:?}");

    // Debug information for some code only: the standard library's (kept by
    // `strip = false`), or everyone's but tarlike's. Never not-found for the called ones.
    let kept = build(&dir, "release-kept", scratch.join("release-kept"));
    let (k, v) = kinds(&kept);
    assert!(k.iter().all(|k| *k != "not-found"), "release-kept: {v:?}");
    let mixed = build(&dir, "mixed", scratch.join("mixed"));
    let (k, v) = kinds(&mixed);
    never_not_found_for_called("mixed", &k);
    // `tarlike::out_of_line` is tarlike's code, under its symbol, in no unit: the crate is not
    // covered, so even the never-called checksum is unknown.
    assert_eq!(k[3], "unknown", "mixed: {v:?}");
    assert!(
        format!("{:?}", v[3])
            .contains("has no debug information, so the debug information does not cover"),
        "mixed: {v:?}"
    );
    // Debug information that is not whole: unknown, with the reason.
    // Line directives only: the program's units hold no subprograms (the precompiled
    // standard library's do), so nothing in the debug information spells the crate.
    for (profile, words) in [
        (
            "directives",
            "the debug information shows no trace of crate `tarlike`",
        ),
        ("split", "split DWARF"),
    ] {
        let binary = build(&dir, profile, scratch.join(profile));
        let (k, v) = kinds(&binary);
        assert!(k.iter().all(|k| *k != "not-found"), "{profile}: {v:?}");
        assert_eq!(k[3], "unknown", "{profile}: {v:?}");
        assert!(format!("{:?}", v[3]).contains(words), "{profile}: {v:?}");
    }

    // The companion: debug information moved to `<binary>.debug`, linked by name and CRC.
    let linked_dir = scratch.join("linked");
    std::fs::create_dir_all(&linked_dir).unwrap();
    let bin = linked_dir.join("prog");
    let debug_file = linked_dir.join("prog.debug");
    let (bin_s, debug_s, lto_s) = (
        bin.to_str().unwrap(),
        debug_file.to_str().unwrap(),
        lto.to_str().unwrap(),
    );
    objcopy(&["--only-keep-debug", lto_s, debug_s]);
    objcopy(&[
        "--strip-debug",
        &format!("--add-gnu-debuglink={debug_s}"),
        lto_s,
        bin_s,
    ]);
    let (unstripped_kinds, unstripped) = kinds(&lto);
    let (k, v) = kinds(&bin);
    assert_eq!(k, unstripped_kinds, "companion beside the binary");
    assert_eq!(v[1], unstripped[1]);
    // Stripped of everything (no `.symtab` either): the companion's symbols answer too.
    let bare = linked_dir.join("bare");
    objcopy(&[
        "--strip-all",
        &format!("--add-gnu-debuglink={debug_s}"),
        lto_s,
        bare.to_str().unwrap(),
    ]);
    let (k, v) = kinds(&bare);
    assert_eq!(
        k, unstripped_kinds,
        "stripped of all, companion beside: {v:?}"
    );
    assert_eq!(v[0], unstripped[0]);
    assert!(
        !v.iter().any(
            |v| matches!(v, FunctionVerdict::NotFound { reason } if !reason.contains("prog.debug"))
        ),
        "{v:?}"
    );
    // In `.debug/` beside it too.
    std::fs::create_dir_all(linked_dir.join(".debug")).unwrap();
    std::fs::rename(&debug_file, linked_dir.join(".debug/prog.debug")).unwrap();
    assert_eq!(kinds(&bin).0, unstripped_kinds, "companion in .debug/");
    // Absent: unknown, unless the symbols show the function.
    std::fs::remove_file(linked_dir.join(".debug/prog.debug")).unwrap();
    let (k, v) = kinds(&bin);
    assert!(k.iter().all(|k| *k != "not-found"), "no companion: {v:?}");
    assert_eq!(k[1], "unknown", "no companion: small_mix has no symbol");
    assert!(
        format!("{v:?}").contains("is not beside the binary"),
        "{v:?}"
    );
    // A companion with the wrong CRC: one byte changed.
    let mut bytes = std::fs::read(&lto).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&debug_file, &bytes).unwrap();
    let (k, v) = kinds(&bin);
    assert_eq!(k[1], "unknown", "wrong CRC: {v:?}");
    assert!(format!("{v:?}").contains("CRC-32"), "{v:?}");
    // A link that names a path: refused, even though the file is there.
    let outside = scratch.join("x");
    objcopy(&["--only-keep-debug", lto_s, outside.to_str().unwrap()]);
    let evil = linked_dir.join("evil");
    objcopy(&["--strip-debug", lto_s, evil.to_str().unwrap()]);
    objcopy(&[
        "--add-gnu-debuglink",
        outside.to_str().unwrap(),
        evil.to_str().unwrap(),
    ]);
    // The link rewritten to name `../x`, with the right CRC of `x` (which objcopy wrote
    // after the name `x`): only the name refuses it.
    let linked = std::fs::read(&evil).unwrap();
    let file = object::File::parse(&*linked).unwrap();
    let link = file
        .section_by_name(".gnu_debuglink")
        .unwrap()
        .data()
        .unwrap();
    assert!(link.starts_with(b"x\0"), "{link:?}");
    let section = scratch.join("link-section");
    let mut content = b"../x\0\0\0\0".to_vec();
    content.extend_from_slice(&link[link.len() - 4..]);
    std::fs::write(&section, &content).unwrap();
    objcopy(&[
        "--update-section",
        &format!(".gnu_debuglink={}", section.display()),
        evil.to_str().unwrap(),
    ]);
    let (k, v) = kinds(&evil);
    assert!(k.iter().all(|k| *k != "not-found"), "{v:?}");
    assert!(format!("{v:?}").contains("`../x` is refused"), "{v:?}");
}
