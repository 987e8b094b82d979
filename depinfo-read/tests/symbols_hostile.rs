//! Symbol tables written by an attacker, for the symbol reader
//! (`depinfo_read::binary_reader::symbols`): huge claimed sizes, tables past the end of the
//! file, string indexes past the string table, a string table that is not a section, bad
//! manglings, and names built to make demangling expensive. Each case must end in `Present`
//! (only for a name that really matches) or `Unknown` with a one-line reason naming the file,
//! never a panic, with the memory the read allocates counted by a counting global allocator.
//!
//! The ELF and Mach-O files are built byte by byte here, so that every field can lie.

use std::path::{Path, PathBuf};

use depinfo_read::binary_reader::symbols::{
    FunctionVerdict, MAX_DEMANGLED_NAME, SymbolLimits, function_verdicts, function_verdicts_with,
    symbol_matches,
};
use proptest::prelude::*;
use testkit::mutation::{mutate, mutation};

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

/// `tar::archive::Archive<R>::unpack` as rustc mangles it (legacy).
const UNPACK: &[u8] = b"_ZN3tar7archive16Archive$LT$R$GT$6unpack17h22ffeeec4904e319E";
/// The same in crate `mytar`.
const MYTAR_UNPACK: &[u8] = b"_ZN5mytar7archive7Archive6unpack17h22ffeeec4904e319E";

/// What a small hand-made file may cost to read: its own bytes a few times over and the
/// paths in messages.
const SMALL_FILE_BOUND: usize = 256 << 10;

/// A file the cases rewrite, one per label and thread, under cargo's scratch directory.
fn scratch_file(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("symbols_hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    dir.join(format!("{label}-{thread}"))
}

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A 64-bit little-endian ELF executable with four sections: null, `.symtab` (one defined
/// symbol per name), `.strtab` and `.shstrtab`, the section headers last.
struct Elf {
    bytes: Vec<u8>,
    /// Where the section headers start.
    shoff: usize,
}

impl Elf {
    /// Offset of field `at` of section header `index` (1: `.symtab`, 2: `.strtab`).
    fn field(&self, index: usize, at: usize) -> usize {
        self.shoff + index * 64 + at
    }

    const SH_OFFSET: usize = 24;
    const SH_SIZE: usize = 32;
    const SH_LINK: usize = 40;

    fn new(names: &[&[u8]]) -> Elf {
        let mut strings = vec![0u8];
        let mut offsets = Vec::new();
        for name in names {
            offsets.push(u32::try_from(strings.len()).unwrap());
            strings.extend_from_slice(name);
            strings.push(0);
        }
        Elf::with_strings(&offsets, &strings)
    }

    /// Symbols naming the given offsets of `strings`, which is the string table as is.
    fn with_strings(offsets: &[u32], strings: &[u8]) -> Elf {
        let shstrtab = b"\0.symtab\0.strtab\0.shstrtab\0";
        let mut b = vec![0u8; 64];
        b[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\0");
        put_u16(&mut b, 16, 2); // ET_EXEC
        put_u16(&mut b, 18, 0x3e); // x86-64
        put_u32(&mut b, 20, 1);
        put_u16(&mut b, 52, 64);
        put_u16(&mut b, 58, 64);
        put_u16(&mut b, 60, 4);
        put_u16(&mut b, 62, 3);
        let symtab_at = b.len();
        // The null symbol, then one defined function symbol per name.
        b.extend_from_slice(&[0u8; 24]);
        for &at in offsets {
            let mut sym = [0u8; 24];
            put_u32(&mut sym, 0, at);
            sym[4] = 0x12; // STB_GLOBAL, STT_FUNC
            put_u16(&mut sym, 6, 1);
            b.extend_from_slice(&sym);
        }
        let symtab_size = b.len() - symtab_at;
        let strtab_at = b.len();
        b.extend_from_slice(strings);
        let shstrtab_at = b.len();
        b.extend_from_slice(shstrtab);
        while !b.len().is_multiple_of(8) {
            b.push(0);
        }
        let shoff = b.len();
        put_u64(&mut b, 40, shoff as u64);
        b.extend_from_slice(&[0u8; 64]);
        // name, type, offset, size, link, entsize
        for (name, kind, at, size, link, entsize) in [
            (1u32, 2u32, symtab_at, symtab_size, 2u32, 24u64),
            (9, 3, strtab_at, strings.len(), 0, 0),
            (17, 3, shstrtab_at, shstrtab.len(), 0, 0),
        ] {
            let mut sh = [0u8; 64];
            put_u32(&mut sh, 0, name);
            put_u32(&mut sh, 4, kind);
            put_u64(&mut sh, 24, at as u64);
            put_u64(&mut sh, 32, size as u64);
            put_u32(&mut sh, 40, link);
            put_u64(&mut sh, 48, 8);
            put_u64(&mut sh, 56, entsize);
            b.extend_from_slice(&sh);
        }
        Elf { bytes: b, shoff }
    }
}

/// A 64-bit little-endian Mach-O executable with one load command, `LC_SYMTAB`, and one
/// defined external symbol per name.
fn macho(names: &[&[u8]]) -> Vec<u8> {
    let mut strings = vec![b' ', 0];
    let mut offsets = Vec::new();
    for name in names {
        offsets.push(u32::try_from(strings.len()).unwrap());
        // Mach-O names carry an extra leading underscore.
        strings.push(b'_');
        strings.extend_from_slice(name);
        strings.push(0);
    }
    let mut b = vec![0u8; 32 + 24];
    put_u32(&mut b, 0, 0xfeed_facf);
    put_u32(&mut b, 4, 0x0100_0007);
    put_u32(&mut b, 8, 3);
    put_u32(&mut b, 12, 2); // MH_EXECUTE
    put_u32(&mut b, 16, 1);
    put_u32(&mut b, 20, 24);
    put_u32(&mut b, 32, 2); // LC_SYMTAB
    put_u32(&mut b, 36, 24);
    let symoff = b.len();
    for at in offsets.iter().copied() {
        let mut nlist = [0u8; 16];
        put_u32(&mut nlist, 0, at);
        nlist[4] = 0x0f; // N_SECT | N_EXT
        nlist[5] = 1;
        b.extend_from_slice(&nlist);
    }
    let stroff = b.len();
    b.extend_from_slice(&strings);
    put_u32(&mut b, 40, u32::try_from(symoff).unwrap());
    put_u32(&mut b, 44, u32::try_from(offsets.len()).unwrap());
    put_u32(&mut b, 48, u32::try_from(stroff).unwrap());
    put_u32(&mut b, 52, u32::try_from(strings.len()).unwrap());
    b
}

/// The verdicts for `functions` on `bytes`, with the peak of memory the read added; every
/// `Unknown` reason is one line that names the file, every `Present` a real match.
fn verdicts_of(
    label: &str,
    bytes: &[u8],
    functions: &[&str],
    limits: &SymbolLimits,
) -> (Vec<FunctionVerdict>, usize) {
    let path = scratch_file(label);
    std::fs::write(&path, bytes).unwrap();
    let (verdicts, peak) =
        testkit::peak_during(|| function_verdicts_with(&path, functions, limits));
    assert_eq!(verdicts.len(), functions.len());
    for (verdict, function) in verdicts.iter().zip(functions) {
        match verdict {
            FunctionVerdict::Present { symbol } => match symbol.split_once(" (`_") {
                // A generic function's non-generic body: `path::_name`.
                Some((body, _)) => {
                    let (path, name) = function.rsplit_once("::").unwrap();
                    assert!(
                        symbol_matches(&format!("{path}::_{name}"), body),
                        "{function}: {symbol}"
                    );
                }
                None => assert!(symbol_matches(function, symbol), "{function}: {symbol}"),
            },
            FunctionVerdict::Unknown { reason } => {
                assert!(
                    reason.starts_with(&format!("{}: ", path.display())),
                    "{reason}"
                );
                assert!(!reason.contains('\n'), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    (verdicts, peak)
}

#[track_caller]
fn reason(verdict: &FunctionVerdict) -> &str {
    match verdict {
        FunctionVerdict::Unknown { reason } => reason,
        other => panic!("expected unknown, got {other:?}"),
    }
}

const TAR: [&str; 1] = ["tar::Archive::unpack"];

/// A generic function's non-generic body, `_name` on the same path, answers for it: real
/// `tar` 0.4 keeps `<tar::archive::Archive<dyn std::io::Read>>::_unpack` in release builds and
/// inlines `unpack` into its caller. Only the same crate and path count, and only a leading
/// underscore on the same name.
#[test]
fn a_generic_functions_underscored_body_answers_for_it() {
    let limits = SymbolLimits::default();
    // `<tar::archive::Archive<dyn std::io::Read>>::_unpack` as tar 0.4.35's release builds
    // name it, legacy and v0 (whose identifier starting with `_` gets a `_` separator).
    for (label, symbol) in [
        (
            "legacy",
            &b"_ZN3tar7archive36Archive$LT$dyn$u20$std..io..Read$GT$7_unpack17h1c369a4a50bee4c4E"[..],
        ),
        (
            "v0",
            &b"_RNvMs_NtCsdiCJpjx0gSr_3tar7archiveINtB4_7ArchiveDNtNtCsjrHSEGnQ3l9_3std2io4ReadEL_E7__unpack"[..],
        ),
    ] {
        let elf = Elf::new(&[b"main", symbol]);
        let (v, _) = verdicts_of(label, &elf.bytes, &TAR, &limits);
        match &v[0] {
            FunctionVerdict::Present { symbol } => assert!(
                symbol.contains("_unpack")
                    && symbol.ends_with("(`_unpack`, the body that the generic `unpack` calls)"),
                "{label}: {symbol}"
            ),
            other => panic!("{label}: {other:?}"),
        }
    }
    // Another crate's `_unpack`, another name with an underscore, two underscores: no.
    for (label, symbol) in [
        (
            "other crate",
            &b"_ZN5mytar7archive7Archive7_unpack17h0123456789abcdefE"[..],
        ),
        (
            "other name",
            &b"_ZN3tar7archive7Archive8_unpacks17h0123456789abcdefE"[..],
        ),
        (
            "two underscores",
            &b"_ZN3tar7archive7Archive8__unpack17h0123456789abcdefE"[..],
        ),
        (
            "other type",
            &b"_ZN3tar7archive5Entry7_unpack17h0123456789abcdefE"[..],
        ),
    ] {
        let elf = Elf::new(&[b"main", symbol]);
        let (v, _) = verdicts_of(label, &elf.bytes, &TAR, &limits);
        assert!(!v[0].is_present(), "{label}: {v:?}");
    }
}

#[test]
fn hand_made_tables_are_read() {
    let limits = SymbolLimits::default();
    let elf = Elf::new(&[MYTAR_UNPACK, b"main", UNPACK]);
    let (v, _) = verdicts_of("elf-good", &elf.bytes, &TAR, &limits);
    assert!(v[0].is_present(), "{v:?}");
    let (v, _) = verdicts_of("macho-good", &macho(&[MYTAR_UNPACK, UNPACK]), &TAR, &limits);
    assert!(v[0].is_present(), "{v:?}");
    // A universal binary with that Mach-O as its one slice, at offset 64: the slice's
    // offsets count from the slice.
    let thin = macho(&[UNPACK]);
    let mut fat = vec![0u8; 64];
    for (at, value) in [
        (0, 0xcafe_babe_u32),
        (4, 1),
        (8, 0x0100_0007),
        (12, 3),
        (16, 64),
        (20, u32::try_from(thin.len()).unwrap()),
        (24, 0),
    ] {
        fat[at..at + 4].copy_from_slice(&value.to_be_bytes());
    }
    fat.extend_from_slice(&thin);
    let (v, _) = verdicts_of("macho-fat", &fat, &TAR, &limits);
    assert!(v[0].is_present(), "{v:?}");
    // Only the other crate's symbol: not present, and the reason says why.
    for (label, bytes) in [
        ("elf-mytar", Elf::new(&[MYTAR_UNPACK]).bytes),
        ("macho-mytar", macho(&[MYTAR_UNPACK])),
    ] {
        let (v, _) = verdicts_of(label, &bytes, &TAR, &limits);
        assert!(
            reason(&v[0]).contains(
                "has no symbol of crate `tar` (not linked, stripped, or all of its code inlined)"
            ),
            "{label}: {v:?}"
        );
    }
    let (v, _) = verdicts_of(
        "elf-entries",
        &Elf::new(&[b"_ZN3tar7archive7Archive7entries17h22ffeeec4904e319E"]).bytes,
        &TAR,
        &limits,
    );
    assert!(
        reason(&v[0]).contains("`tar::Archive::unpack` is not in the symbol table (.symtab) (it may be inlined: symbols alone cannot show that it is absent)"),
        "{v:?}"
    );
}

#[test]
fn huge_claimed_sizes_are_refused_before_reading() {
    let limits = SymbolLimits::default();
    let elf = Elf::new(&[UNPACK]);
    for (index, field, value, words) in [
        (
            1,
            Elf::SH_SIZE,
            1u64 << 40,
            "the symbol table is 1099511627776 bytes, over the limit of 33554432",
        ),
        (
            2,
            Elf::SH_SIZE,
            u64::MAX,
            "the symbol string table is 18446744073709551615 bytes, over the limit of 67108864",
        ),
        (1, Elf::SH_SIZE, 32 << 20, "lies outside the file"),
        (2, Elf::SH_SIZE, 64 << 20, "lies outside the file"),
        (1, Elf::SH_OFFSET, u64::MAX - 8, "lies outside the file"),
        (2, Elf::SH_OFFSET, 1 << 40, "lies outside the file"),
    ] {
        let mut bytes = elf.bytes.clone();
        put_u64(&mut bytes, elf.field(index, field), value);
        let (v, peak) = verdicts_of("elf-huge", &bytes, &TAR, &limits);
        assert!(
            reason(&v[0]).contains(words),
            "{index} {field} {value}: {v:?}"
        );
        assert!(peak < SMALL_FILE_BOUND, "{peak}");
    }
    // The string table link names no section.
    let mut bytes = elf.bytes.clone();
    put_u32(&mut bytes, elf.field(1, Elf::SH_LINK), 4000);
    let (v, _) = verdicts_of("elf-link", &bytes, &TAR, &limits);
    assert!(
        reason(&v[0]).contains("the symbol table's string table 4000 is not a section"),
        "{v:?}"
    );
    // Mach-O: a count of symbols and a string size that lie.
    let good = macho(&[UNPACK]);
    for (at, value, words) in [
        (
            44,
            u32::MAX,
            "the symbol table is 68719476720 bytes, over the limit",
        ),
        (
            52,
            u32::MAX,
            "the symbol string table is 4294967295 bytes, over the limit",
        ),
        (44, 1 << 20, "lies outside the file"),
        (40, u32::MAX, "lies outside the file"),
        (48, u32::MAX - 2, "lies outside the file"),
    ] {
        let mut bytes = good.clone();
        put_u32(&mut bytes, at, value);
        let (v, peak) = verdicts_of("macho-huge", &bytes, &TAR, &limits);
        assert!(reason(&v[0]).contains(words), "{at} {value}: {v:?}");
        assert!(peak < SMALL_FILE_BOUND, "{peak}");
    }
}

#[test]
fn a_real_table_over_the_limit_is_unknown_and_costs_nothing() {
    // 20,000 symbols: 480 KiB of entries and 1.2 MiB of names, really in the file.
    let names: Vec<Vec<u8>> = (0..20_000)
        .map(|i| {
            format!("_ZN3tar14module{i:>8}E")
                .replace(' ', "x")
                .into_bytes()
        })
        .chain([UNPACK.to_vec()])
        .collect();
    let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let elf = Elf::new(&refs);
    let (v, _) = verdicts_of("elf-big", &elf.bytes, &TAR, &SymbolLimits::default());
    assert!(v[0].is_present(), "{v:?}");
    let limits = SymbolLimits::default().with_tables(64 << 10, 1 << 30);
    let (v, peak) = verdicts_of("elf-big", &elf.bytes, &TAR, &limits);
    assert!(
        reason(&v[0]).contains("the symbol table is 480048 bytes, over the limit of 65536"),
        "{v:?}"
    );
    assert!(peak < 64 << 10, "{peak}");
    let limits = SymbolLimits::default().with_tables(1 << 30, 64 << 10);
    let (v, peak) = verdicts_of("elf-big", &elf.bytes, &TAR, &limits);
    assert!(
        reason(&v[0]).contains("the symbol string table is"),
        "{v:?}"
    );
    // The entries were read (they are within their limit), the names were not.
    assert!(peak < 600 << 10, "{peak}");
}

#[test]
fn string_indexes_past_the_table_and_bad_manglings_are_not_names() {
    let limits = SymbolLimits::default();
    let strings = b"\0_ZN3tar7Archive6unpack\0_ZN3tar7ArchiveE\0_R\0_ZN3tar7Archive6unpack";
    // Past the end, at the very end, in the middle of a name, and a name without its NUL.
    let offsets = [
        u32::MAX,
        u32::try_from(strings.len()).unwrap(),
        5,
        24,
        41,
        44,
    ];
    let elf = Elf::with_strings(&offsets, strings);
    let (v, _) = verdicts_of("elf-indexes", &elf.bytes, &TAR, &limits);
    // Some names are of crate `tar` but none is its `Archive::unpack`.
    assert!(
        reason(&v[0]).contains("is not in the symbol table"),
        "{v:?}"
    );
    let bad: [&[u8]; 8] = [
        b"_ZN3tar7Archive6unpack",
        b"_ZN99tar7Archive6unpackE",
        b"_ZN3tar7Archive6unpack\xff\xfeE",
        b"_RNvB0_3tar",
        b"_RNvMNtB_3tar7Archive6unpack",
        b"_RNvNtCs0_3tar3tar3tar",
        b"_R3tar",
        b"<tar::Archive>::unpack",
    ];
    let (v, _) = verdicts_of("elf-bad", &Elf::new(&bad).bytes, &TAR, &limits);
    assert!(!v[0].is_present(), "{v:?}");
}

#[test]
fn demangling_is_bounded_per_name_and_per_table() {
    // A legacy name whose demangled form is longer than the cap: not matched, not kept.
    let long = format!(
        "_ZN3tar7archive{}{}7Archive6unpack17h22ffeeec4904e319E",
        MAX_DEMANGLED_NAME + 1,
        "a".repeat(MAX_DEMANGLED_NAME + 1)
    );
    assert!(!symbol_matches(TAR[0], &long));
    let (v, _) = verdicts_of(
        "elf-long",
        &Elf::new(&[long.as_bytes()]).bytes,
        &TAR,
        &SymbolLimits::default(),
    );
    assert!(!v[0].is_present(), "{v:?}");
    // Many names of the crate before the match, and a budget that runs out first.
    let names: Vec<Vec<u8>> = (0..2_000)
        .map(|i| {
            format!("_ZN3tar13thing{i:>8}E")
                .replace(' ', "x")
                .into_bytes()
        })
        .chain([UNPACK.to_vec()])
        .collect();
    let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
    let elf = Elf::new(&refs);
    let mut limits = SymbolLimits::default();
    limits.max_demangled_total = 4096;
    let (v, _) = verdicts_of("elf-budget", &elf.bytes, &TAR, &limits);
    assert!(
        reason(&v[0]).contains("demangling stopped after 4096 bytes (the limit) before `tar::Archive::unpack` was found"),
        "{v:?}"
    );
    let (v, _) = verdicts_of("elf-budget", &elf.bytes, &TAR, &SymbolLimits::default());
    assert!(v[0].is_present(), "{v:?}");
}

#[test]
fn formats_without_symbols_are_unknown_with_the_reason() {
    let dir = testkit::Scratch::new("symbols-formats");
    let pe = dir.join("a.exe");
    std::fs::write(&pe, testkit::pe_with_sections(&[(".text", b"\xc3")])).unwrap();
    let wasm = dir.join("a.wasm");
    std::fs::write(&wasm, testkit::wasm_module_with_sections(&[])).unwrap();
    let thin = dir.join("a.macho");
    std::fs::write(&thin, testkit::mach_o_with_sections(&[("__text", b"\xc3")])).unwrap();
    let text = dir.join("a.txt");
    std::fs::write(&text, "tar::Archive::unpack\n").unwrap();
    for (path, words) in [
        (
            pe.as_path(),
            "a PE file keeps its function names in a separate PDB file, which is not read",
        ),
        (
            wasm.as_path(),
            "Wasm function names (the `name` section) are not read",
        ),
        (
            thin.as_path(),
            "no symbol table: the Mach-O file is stripped",
        ),
        (text.as_path(), "not an ELF, Mach-O, PE or Wasm binary"),
        (dir.path(), "is a directory, not a regular file"),
    ] {
        let v = function_verdicts(path, &TAR);
        assert_eq!(
            reason(&v[0]),
            format!("{}: {words}", path.display()),
            "{}",
            path.display()
        );
    }
    // An ELF whose every symbol table is gone.
    let stripped = dir.join("stripped");
    let mut elf = Elf::new(&[UNPACK]);
    // `.symtab` becomes SHT_PROGBITS.
    let at = elf.field(1, 4);
    put_u32(&mut elf.bytes, at, 1);
    std::fs::write(&stripped, &elf.bytes).unwrap();
    let v = function_verdicts(&stripped, &TAR);
    assert_eq!(
        reason(&v[0]),
        format!(
            "{}: no symbol table: the ELF file is stripped; the debug information cannot say: \
             no debug information (.debug_info), and no .gnu_debuglink",
            stripped.display()
        )
    );
    // A query that is not a path.
    let v = function_verdicts(&stripped, &["unpack"]);
    assert!(!v[0].is_present());
}

/// Tokens that reach the reader's branches: sizes and offsets that overflow or claim
/// gigabytes, section types, and names of the crate asked about.
fn tokens() -> Vec<Vec<u8>> {
    vec![
        u64::MAX.to_le_bytes().to_vec(),
        (1u64 << 40).to_le_bytes().to_vec(),
        (32u64 << 20).to_le_bytes().to_vec(),
        u32::MAX.to_le_bytes().to_vec(),
        0x8000_0000u32.to_le_bytes().to_vec(),
        2u32.to_le_bytes().to_vec(),
        11u32.to_le_bytes().to_vec(),
        b"_ZN3tar".to_vec(),
        b"_RNvB0_".to_vec(),
        b"$LT$".to_vec(),
        vec![0],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_symbol_tables_are_present_or_unknown_and_cheap(
        macho_seed in any::<bool>(),
        mutations in proptest::collection::vec(mutation(tokens().len()), 1..6),
    ) {
        let seed = if macho_seed {
            macho(&[MYTAR_UNPACK, UNPACK])
        } else {
            Elf::new(&[MYTAR_UNPACK, b"main", UNPACK]).bytes
        };
        let bytes = mutate(&seed, &mutations, &tokens());
        let (_, peak) = verdicts_of(
            "mutated",
            &bytes,
            &["tar::Archive::unpack", "mytar::Archive::unpack", "tar::Entry::unpack"],
            &SymbolLimits::default(),
        );
        prop_assert!(peak < SMALL_FILE_BOUND, "{}", peak);
    }
}
