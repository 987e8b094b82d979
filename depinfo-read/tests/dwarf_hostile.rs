//! Debug information written by an attacker, for the DWARF reader
//! (`depinfo_read::binary_reader::symbols` with DWARF on): the real `.debug_info` and
//! `.debug_abbrev` of a fixture build (`tests/fixtures/symbols`, profile `lto-lines`), mutated
//! in place under proptest; sections over the limits; entries over the limit; compressed
//! sections (`objcopy --compress-debug-sections=zlib`) read as the plain ones, and a
//! compression header that lies. Never a panic, the memory counted by a counting allocator,
//! every reason one line, and the limits end in `Unknown`.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use depinfo_read::binary_reader::symbols::{FunctionVerdict, SymbolLimits, function_verdicts_with};
use object::{Object as _, ObjectSection as _};
use proptest::prelude::*;

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

const FUNCTIONS: [&str; 4] = [
    "tarlike::Archive::unpack",
    "tarlike::small_mix",
    "tarlike::Archive::list",
    "tarlike::checksum",
];

/// The `lto-lines` build's bytes, and the file ranges of its `.debug_info` and
/// `.debug_abbrev`.
struct Seed {
    bytes: Vec<u8>,
    info: (usize, usize),
    abbrev: (usize, usize),
}

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let scratch = testkit::Scratch::new("dwarf-hostile-build");
        let dir = scratch.join("project");
        testkit::copy_fixture("symbols", &dir, "symbols-hostile", &[]);
        let mut cmd = testkit::cargo(&dir);
        cmd.args(["build", "--offline", "--quiet", "--profile", "lto-lines"]);
        testkit::run_ok(&mut cmd);
        let bytes = std::fs::read(testkit::binary("lto-lines", "symbols-hostile")).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let range = |name| {
            let (at, len) = file
                .section_by_name(name)
                .and_then(|s| s.file_range())
                .unwrap();
            (usize::try_from(at).unwrap(), usize::try_from(len).unwrap())
        };
        let (info, abbrev) = (range(".debug_info"), range(".debug_abbrev"));
        Seed {
            bytes,
            info,
            abbrev,
        }
    })
}

/// The verdicts on `bytes` and the peak of memory the read added; every reason one line.
fn verdicts_of(
    scratch: &testkit::Scratch,
    bytes: &[u8],
    limits: &SymbolLimits,
) -> (Vec<FunctionVerdict>, usize) {
    let path = scratch.join("binary");
    std::fs::write(&path, bytes).unwrap();
    verdicts_at(&path, limits)
}

fn verdicts_at(path: &Path, limits: &SymbolLimits) -> (Vec<FunctionVerdict>, usize) {
    let (verdicts, peak) =
        testkit::peak_during(|| function_verdicts_with(path, &FUNCTIONS, limits));
    for verdict in &verdicts {
        let text = match verdict {
            FunctionVerdict::Present { symbol } => symbol,
            FunctionVerdict::NotFound { reason } | FunctionVerdict::Unknown { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert!(!text.contains('\n'), "{text}");
    }
    (verdicts, peak)
}

#[track_caller]
fn unknown_with(verdict: &FunctionVerdict, words: &str) {
    match verdict {
        FunctionVerdict::Unknown { reason } => assert!(reason.contains(words), "{reason}"),
        other => panic!("expected unknown with `{words}`, got {other:?}"),
    }
}

/// The DWARF sections of the seed add up to about 1.5 MiB: a read holds them once, plus
/// gimli's abbreviations and the reader's small tables.
const BOUND: usize = 8 << 20;

#[test]
fn limits_end_in_unknown_with_the_reason() {
    let seed = seed();
    let scratch = testkit::Scratch::new("dwarf-hostile-limits");
    let (v, peak) = verdicts_of(&scratch, &seed.bytes, &SymbolLimits::default());
    assert!(v[1].is_present(), "{v:?}");
    assert!(peak < BOUND, "{peak}");
    for (limits, words) in [
        (
            SymbolLimits::default().with_dwarf_limits(4096, 1 << 30, 1 << 30),
            "over the limit of 4096",
        ),
        (
            SymbolLimits::default().with_dwarf_limits(1 << 30, 64 << 10, 1 << 30),
            "the DWARF sections add up to more than 65536 bytes (the limit)",
        ),
        (
            SymbolLimits::default().with_dwarf_limits(1 << 30, 1 << 30, 1000),
            "more than 1000 debugging entries (the limit)",
        ),
        (
            SymbolLimits::default().with_dwarf_references(10),
            "more than 10 references between debugging entries (the limit)",
        ),
    ] {
        let (v, peak) = verdicts_of(&scratch, &seed.bytes, &limits);
        // The symbols still show unpack; small_mix, inlined away, needs the DWARF.
        assert!(v[0].is_present(), "{v:?}");
        for verdict in &v[1..] {
            unknown_with(verdict, words);
        }
        assert!(peak < BOUND, "{words}: {peak}");
    }
}

#[test]
fn compressed_sections_read_as_plain_ones_and_a_lying_header_is_unknown() {
    let seed = seed();
    let scratch = testkit::Scratch::new("dwarf-hostile-compressed");
    let plain = scratch.join("plain");
    std::fs::write(&plain, &seed.bytes).unwrap();
    let packed = scratch.join("packed");
    testkit::run_ok(Command::new("objcopy").args([
        "--compress-debug-sections=zlib",
        plain.to_str().unwrap(),
        packed.to_str().unwrap(),
    ]));
    let packed_bytes = std::fs::read(&packed).unwrap();
    let file = object::File::parse(&*packed_bytes).unwrap();
    let info = file.section_by_name(".debug_info").unwrap();
    assert!(
        matches!(
            info.compressed_file_range().unwrap().format,
            object::CompressionFormat::Zlib
        ),
        "objcopy compressed .debug_info"
    );
    let (at, _) = info.file_range().unwrap();
    let (expected, _) = verdicts_at(&plain, &SymbolLimits::default());
    let (v, peak) = verdicts_at(&packed, &SymbolLimits::default());
    // The same answers, the reasons naming the other file.
    assert_eq!(
        format!("{v:?}").replace(packed.to_str().unwrap(), plain.to_str().unwrap()),
        format!("{expected:?}")
    );
    assert!(peak < BOUND, "{peak}");
    // The Elf64_Chdr's ch_size (bytes 8..16) lies: huge, then too small.
    let at = usize::try_from(at).unwrap();
    for (size, words) in [
        (u64::MAX / 2, "inflates to"),
        (1 << 40, "inflates to"),
        (100, "is not a zlib stream of 100 bytes"),
    ] {
        let mut bytes = packed_bytes.clone();
        bytes[at + 8..at + 16].copy_from_slice(&size.to_le_bytes());
        let (v, peak) = verdicts_of(&scratch, &bytes, &SymbolLimits::default());
        unknown_with(&v[1], words);
        assert!(peak < BOUND, "{peak}");
    }
}

/// A path in a fresh scratch directory per proptest case.
fn case_dir() -> testkit::Scratch {
    testkit::Scratch::new("dwarf-hostile-case")
}

proptest! {
    #![proptest_config(testkit::proptest_cases(48))]

    #[test]
    fn mutated_debug_info_and_abbrev_never_panic_and_stay_bounded(
        in_abbrev in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
    ) {
        let seed = seed();
        let (start, len) = if in_abbrev { seed.abbrev } else { seed.info };
        let mut bytes = seed.bytes.clone();
        for (index, value) in &edits {
            bytes[start + index.index(len)] = *value;
        }
        let scratch = case_dir();
        let (v, peak) = verdicts_of(&scratch, &bytes, &SymbolLimits::default());
        prop_assert!(peak < BOUND, "{}", peak);
        // The symbol table is untouched: unpack stays present.
        prop_assert!(v[0].is_present(), "{:?}", v);
    }
}
