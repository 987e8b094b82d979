//! Binaries written by an attacker: every case of issue 10 that concerns the binary reader
//! (PE section sizes, FIFOs and devices, Java class files and `MZ` text in a scan, a broken
//! section-name table) as a regression test, and property-based tests of the reader and the
//! section decoders over mutated real files, with the memory they allocate counted.
//!
//! A counting global allocator measures what one call allocates at its peak, per thread (the
//! tests run in parallel), so that "bounded memory" is asserted, not assumed.

use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cargo_depinfo::{Limits, ReadError, decode_bldinfo, decode_dep_v0, read_sections};
use proptest::prelude::*;
use proptest::sample::Index;
use testkit::{
    Scratch, auditable_binary, elf_with_sections, mach_o_with_sections, pe_with_sections, stderr,
    stdout, zlib,
};

// ---------------------------------------------------------------------------------------------
// The counting allocator.

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

/// Runs `f` and returns its result with the most bytes it held allocated at once.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let (out, peak) = testkit::peak_during(f);
    (out, peak as u64)
}

/// The documented bound on what reading one file may allocate (see [`Limits`]): the header
/// table and the section-name table, both sections compressed and decompressed, and 1 MiB
/// for everything else.
fn documented_bound(limits: &Limits) -> u64 {
    3 * limits.max_header_size
        + 2 * limits.max_section_size
        + 2 * limits.max_decompressed_size as u64
        + (1 << 20)
}

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const LIMIT: Duration = Duration::from_secs(60);

const DEP_V0: &str = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.219","source":"crates.io"},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"}],"format":1}"#;

fn inspect<P: AsRef<std::ffi::OsStr>>(args: &[P]) -> std::process::Output {
    testkit::run(Command::new(BIN).arg("inspect").args(args), LIMIT)
}

// ---------------------------------------------------------------------------------------------
// Item 1: PE section sizes.

/// Where the first section header of a `pe_with_sections` file is: after the 64-byte DOS
/// header, `PE\0\0`, the COFF header and the PE32+ optional header.
const PE_FIRST_SECTION: usize = 64 + 4 + 20 + 240;

#[test]
fn a_sparse_2_gib_pe_claiming_a_2_gib_dep_v0_is_refused_fast_with_bounded_memory() {
    let scratch = Scratch::new("pe-2gib");
    let path = scratch.join("huge.exe");
    let mut bytes = pe_with_sections(&[(".dep-v0", &zlib(DEP_V0.as_bytes()))]);
    let header = PE_FIRST_SECTION;
    assert_eq!(&bytes[header..header + 8], b".dep-v0\0");
    let claim: u32 = 2 << 30;
    bytes[header + 8..header + 12].copy_from_slice(&claim.to_le_bytes()); // VirtualSize
    bytes[header + 16..header + 20].copy_from_slice(&claim.to_le_bytes()); // SizeOfRawData
    std::fs::write(&path, &bytes).unwrap();
    // The section's bytes really are in the file (sparse: no disk used).
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(u64::from(claim) + 0x1000).unwrap();
    drop(file);

    let started = Instant::now();
    let (result, peak) = peak_of(|| read_sections(&path));
    let err = result.unwrap_err();
    assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: section .dep-v0 is 2147483648 bytes, over the limit of 1048576",
            path.display()
        )
    );
    assert!(
        peak < 1 << 20,
        "refused before reading: {peak} bytes allocated"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // And the command says the same, at once.
    let out = inspect(&[&path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    testkit::assert_contains(&stderr(&out), "over the limit of 1048576");
}

#[test]
fn a_pe_section_over_the_limit_is_refused_before_it_is_read() {
    // Just over the limit in real bytes: still refused by its size, not by inflating it.
    let scratch = Scratch::new("pe-over");
    let path = scratch.join("big.exe");
    let big = vec![0u8; usize::try_from(Limits::default().max_section_size).unwrap() + 1];
    std::fs::write(&path, pe_with_sections(&[(".bldinfo", &big)])).unwrap();
    let (result, peak) = peak_of(|| read_sections(&path));
    let err = result.unwrap_err();
    assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    assert!(peak < 1 << 20, "{peak} bytes allocated");
}

// ---------------------------------------------------------------------------------------------
// Item 2 (issue item 6): FIFOs, devices and sockets.

fn mkfifo(path: &Path) {
    let out = testkit::run(Command::new("mkfifo").arg(path), LIMIT);
    assert!(out.status.success(), "mkfifo: {}", stderr(&out));
}

#[test]
fn inspect_of_a_fifo_is_refused_at_once_naming_it() {
    let scratch = Scratch::new("fifo");
    let fifo = scratch.join("pipe");
    mkfifo(&fifo);
    let started = Instant::now();
    let err = read_sections(&fifo).unwrap_err();
    assert!(
        matches!(err, ReadError::NotAFile { kind: "FIFO", .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!("{}: is a FIFO, not a regular file", fifo.display())
    );
    // Through a symbolic link too.
    let link = scratch.join("link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    assert!(matches!(
        read_sections(&link),
        Err(ReadError::NotAFile { kind: "FIFO", .. })
    ));

    let out = inspect(&[&fifo]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    testkit::assert_contains(
        &stderr(&out),
        &format!("{}: is a FIFO, not a regular file", fifo.display()),
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_device_named_explicitly_is_refused_without_reading_it() {
    // /dev/zero would read as zeros forever; /dev/null is the same refusal.
    for device in ["/dev/zero", "/dev/null"] {
        let err = read_sections(Path::new(device)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{device}: is a character device, not a regular file")
        );
    }
}

#[test]
fn a_socket_named_explicitly_is_refused() {
    let scratch = Scratch::new("socket");
    let path = scratch.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = read_sections(&path).unwrap_err();
    assert!(
        matches!(err, ReadError::NotAFile { kind: "socket", .. }),
        "{err}"
    );
}

#[test]
fn a_fifo_inside_a_scanned_directory_is_skipped() {
    let scratch = Scratch::new("fifo-scan");
    let dir = scratch.join("tree");
    std::fs::create_dir_all(&dir).unwrap();
    mkfifo(&dir.join("a-pipe"));
    std::os::unix::fs::symlink(dir.join("a-pipe"), dir.join("b-link-to-pipe")).unwrap();
    auditable_binary(&dir.join("c-app"), DEP_V0);
    let out = inspect(&[&dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    assert!(
        stdout(&out).starts_with(&format!("{}/c-app: app 0.1.0", dir.display())),
        "{}",
        stdout(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Item 3 (issue item 7): what is not positively a binary.

/// A Java class file as javac writes it: the magic `CAFEBABE` (the universal Mach-O magic),
/// the class file version (minor, major), then the constant pool.
fn class_file(minor: u16, major: u16) -> Vec<u8> {
    let mut out = vec![0xca, 0xfe, 0xba, 0xbe];
    out.extend_from_slice(&minor.to_be_bytes());
    out.extend_from_slice(&major.to_be_bytes());
    out.extend_from_slice(&[0x00, 0x21]); // constant_pool_count
    // #1 Methodref(#7, #16), #2 Fieldref(#17, #18), #3 String(#19), #4 Class(#23), then a
    // Utf8 "<init>": the opening of every class.
    out.extend_from_slice(&[0x0a, 0x00, 0x07, 0x00, 0x10]);
    out.extend_from_slice(&[0x09, 0x00, 0x11, 0x00, 0x12]);
    out.extend_from_slice(&[0x08, 0x00, 0x13]);
    out.extend_from_slice(&[0x07, 0x00, 0x17]);
    out.extend_from_slice(&[0x01, 0x00, 0x06]);
    out.extend_from_slice(b"<init>");
    out.extend_from_slice(&[0x01, 0x00, 0x03]);
    out.extend_from_slice(b"()V");
    out.resize(510, 0);
    out
}

/// A universal (fat) Mach-O binary holding one x86-64 slice.
fn universal(slice: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes()); // nfat_arch
    out.extend_from_slice(&0x0100_0007_u32.to_be_bytes()); // CPU_TYPE_X86_64
    out.extend_from_slice(&3u32.to_be_bytes()); // CPU_SUBTYPE_X86_64_ALL
    out.extend_from_slice(&0x1000_u32.to_be_bytes()); // offset
    out.extend_from_slice(&u32::try_from(slice.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&12u32.to_be_bytes()); // align: 2^12
    out.resize(0x1000, 0);
    out.extend_from_slice(slice);
    out
}

const MZ_TEXT: &[u8] = b"MZ is the postal abbreviation nobody uses; this is a text file.\n\
    It is long enough to have bytes at 0x3c, which a PE stub reads as e_lfanew.\n";

#[test]
fn a_class_file_and_an_mz_text_file_in_a_scanned_directory_are_skipped() {
    let scratch = Scratch::new("class-scan");
    let dir = scratch.join("share");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("javaversion.class"), class_file(3, 45)).unwrap();
    std::fs::write(dir.join("Main.class"), class_file(0, 65)).unwrap();
    std::fs::write(dir.join("Preview.class"), class_file(0xffff, 65)).unwrap();
    std::fs::write(dir.join("MZ-notes.txt"), MZ_TEXT).unwrap();
    std::fs::write(dir.join("MZ"), b"MZ").unwrap();
    // A DOS program: an MZ stub whose e_lfanew points at no PE header.
    let mut dos = b"MZ".to_vec();
    dos.resize(0x40, 0x90);
    dos[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    dos.extend_from_slice(b"\xb4\x4c\xcd\x21");
    std::fs::write(dir.join("dos.com"), dos).unwrap();
    // The real one, where the system has it.
    let real = Path::new("/usr/share/gettext/javaversion.class");
    if real.is_file() {
        std::fs::copy(real, dir.join("real-javaversion.class")).unwrap();
    }
    auditable_binary(&dir.join("zz-app"), DEP_V0);
    let out = inspect(&[&dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let listing = stdout(&out);
    let headers: Vec<&str> = listing.lines().filter(|l| !l.starts_with('\t')).collect();
    assert_eq!(headers, [format!("{}/zz-app: app 0.1.0", dir.display())]);

    // Named explicitly, each is still an error that names it.
    for name in ["javaversion.class", "Main.class", "MZ-notes.txt", "dos.com"] {
        let path = dir.join(name);
        let err = read_sections(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: not an ELF, Mach-O, PE or Wasm executable or library",
                path.display()
            )
        );
        let out = inspect(&[&path]);
        assert_eq!(out.status.code(), Some(2), "{name}");
    }
}

#[test]
fn a_universal_binary_is_still_read() {
    let scratch = Scratch::new("fat");
    let path = scratch.join("fat");
    let dep = zlib(DEP_V0.as_bytes());
    std::fs::write(
        &path,
        universal(&mach_o_with_sections(&[(".dep-v0", &dep)])),
    )
    .unwrap();
    let raw = read_sections(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(raw.dep_v0.as_deref(), Some(DEP_V0.as_bytes()));
}

#[test]
fn a_universal_header_with_an_unknown_cpu_type_is_not_a_binary() {
    let scratch = Scratch::new("fat-cpu");
    let path = scratch.join("fat");
    let mut bytes = universal(&mach_o_with_sections(&[]));
    bytes[8..12].copy_from_slice(&0x001d_0a00_u32.to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    assert!(matches!(
        read_sections(&path),
        Err(ReadError::NotABinary { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Item 4 (issue item 12): a broken section-name table.

/// Offsets in an `elf_with_sections` file (64-bit little-endian).
fn elf_u64(bytes: &[u8], at: usize) -> usize {
    usize::try_from(u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())).unwrap()
}

/// The section header of index `i`.
fn elf_section(bytes: &[u8], i: usize) -> usize {
    elf_u64(bytes, 0x28) + 64 * i
}

fn elf_with_dep_v0() -> Vec<u8> {
    elf_with_sections(&[(".dep-v0", &zlib(DEP_V0.as_bytes()))])
}

#[test]
fn a_broken_section_name_table_is_malformed_not_no_data() {
    let scratch = Scratch::new("shstrtab");
    let good = elf_with_dep_v0();
    let names = usize::from(u16::from_le_bytes([good[0x3e], good[0x3f]]));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        {
            // The name table's offset points far outside the file.
            let mut b = good.clone();
            let at = elf_section(&b, names) + 0x18;
            b[at..at + 8].copy_from_slice(&0xffff_ffff_0000_u64.to_le_bytes());
            (
                "table-outside",
                b,
                "section name table lies outside the file",
            )
        },
        {
            // `.dep-v0`'s name lies past the end of the table.
            let mut b = good.clone();
            let at = elf_section(&b, 1);
            b[at..at + 4].copy_from_slice(&0x7fff_ffff_u32.to_le_bytes());
            ("name-outside", b, "the name of section 1 lies outside")
        },
        {
            // The table is cut short: the last name has no terminating NUL.
            let mut b = good.clone();
            let at = elf_section(&b, names) + 0x20;
            b[at..at + 8].copy_from_slice(&3u64.to_le_bytes());
            ("table-short", b, "the name of section 1 lies outside")
        },
        {
            // e_shstrndx names no section.
            let mut b = good.clone();
            b[0x3e..0x40].copy_from_slice(&200u16.to_le_bytes());
            ("index", b, "e_shstrndx")
        },
    ];
    for (name, bytes, message) in cases {
        let path = scratch.join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = read_sections(&path).unwrap_err();
        assert!(matches!(err, ReadError::Malformed { .. }), "{name}: {err}");
        assert!(err.to_string().contains(message), "{name}: {err}");
        let out = inspect(&[&path]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        testkit::assert_contains(&stderr(&out), "malformed ELF file");
        assert!(!stderr(&out).contains("no build-info"), "{}", stderr(&out));
    }
    // A name table claiming 1 TiB lies outside the file.
    let mut b = good.clone();
    let at = elf_section(&b, names) + 0x20;
    b[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let path = scratch.join("table-huge");
    std::fs::write(&path, b).unwrap();
    let err = read_sections(&path).unwrap_err();
    assert!(matches!(err, ReadError::Malformed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("section name table lies outside the file")
    );
}

#[test]
fn a_name_table_over_the_header_limit_is_read_name_by_name() {
    // A table shared with 17 MiB of other strings (in the file: sparse): our names are still
    // found, by their first bytes, without reading the table whole.
    let good = elf_with_dep_v0();
    let names = usize::from(u16::from_le_bytes([good[0x3e], good[0x3f]]));
    let mut b = good.clone();
    let at = elf_section(&b, names) + 0x20;
    b[at..at + 8].copy_from_slice(&(17u64 << 20).to_le_bytes());
    let scratch = Scratch::new("shstrtab-big");
    let path = scratch.join("big-names.elf");
    std::fs::write(&path, &b).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(18 << 20).unwrap();
    drop(file);
    let (result, peak) = peak_of(|| read_sections(&path));
    let raw = result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(raw.dep_v0.as_deref(), Some(DEP_V0.as_bytes()));
    assert!(peak < 1 << 20, "{peak} bytes");
}

#[test]
fn overlapping_long_section_names_cost_one_name_table() {
    // 4,000 sections whose names all start at different offsets of one 4,000-byte run: read
    // name by name through a cache, that was 4,000 × 4 KiB.
    let mut sections: Vec<(String, Vec<u8>)> = Vec::new();
    let long = "x".repeat(4000);
    sections.push((long, Vec::new()));
    for _ in 0..4000 {
        sections.push((String::from("y"), Vec::new()));
    }
    let refs: Vec<(&str, &[u8])> = sections
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let mut bytes = elf_with_sections(&refs);
    for i in 2..=4001 {
        let at = elf_section(&bytes, i);
        bytes[at..at + 4].copy_from_slice(&u32::try_from(i - 1).unwrap().to_le_bytes());
    }
    let scratch = Scratch::new("names");
    let path = scratch.join("names.elf");
    std::fs::write(&path, &bytes).unwrap();
    let (result, peak) = peak_of(|| read_sections(&path));
    assert!(result.unwrap().is_empty());
    assert!(
        peak < 4 * bytes.len() as u64 + (1 << 20),
        "{peak} bytes for a {} byte file",
        bytes.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Property-based tests: the reader on mutated binaries, the decoders on mutated JSON.

/// One change to a file: overwrite, insert or delete a byte, or cut the file there.
#[derive(Debug, Clone)]
enum Mutation {
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Cut(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Cut),
    ]
}

fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in mutations {
        if out.is_empty() {
            break;
        }
        match m {
            Mutation::Set(i, b) => {
                let at = i.index(out.len());
                out[at] = *b;
            }
            Mutation::Insert(i, b) => out.insert(i.index(out.len()), *b),
            Mutation::Delete(i) => {
                out.remove(i.index(out.len()));
            }
            Mutation::Cut(i) => out.truncate(i.index(out.len())),
        }
    }
    out
}

/// Small linked binaries of the three formats (and a universal one) with both sections.
fn seeds() -> &'static [(&'static str, Vec<u8>)] {
    static SEEDS: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let bld = zlib(br#"{"format":1}"#);
        let dep = zlib(DEP_V0.as_bytes());
        let sections: [(&str, &[u8]); 3] = [
            (".text", b"\x90\x90"),
            (".bldinfo", &bld),
            (".dep-v0", &dep),
        ];
        vec![
            ("elf", elf_with_sections(&sections)),
            ("mach-o", mach_o_with_sections(&sections)),
            ("pe", pe_with_sections(&sections)),
            ("universal", universal(&mach_o_with_sections(&sections))),
        ]
    })
}

/// What a read may end in for a mutated binary: data, or one of the errors about the file's
/// contents, in one line that starts with the path. Never an I/O error or "not a file".
fn check_read(path: &Path, result: &Result<cargo_depinfo::RawSections, ReadError>) {
    let limits = Limits::default();
    match result {
        Ok(raw) => {
            for section in [&raw.bldinfo, &raw.dep_v0].into_iter().flatten() {
                assert!(section.len() <= limits.max_decompressed_size);
            }
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    ReadError::NotABinary { .. }
                        | ReadError::Malformed { .. }
                        | ReadError::TooLarge { .. }
                        | ReadError::Decompress { .. }
                ),
                "{e:?}"
            );
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("{}: ", path.display())),
                "{message}"
            );
            assert!(!message.contains('\n'), "{message}");
        }
    }
}

/// A file the property tests rewrite for each case. It lives in cargo's scratch directory for
/// integration tests, under a name fixed by the label and the thread, so that every run reuses
/// the same few files (a static directory would never be dropped, and a directory per process
/// would leave one 100 MB copy of the real executable behind for each run).
fn scratch_file(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile_binaries");
    std::fs::create_dir_all(&dir).unwrap();
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    dir.join(format!("{label}-{thread}"))
}

proptest! {
    #![proptest_config(testkit::proptest_cases(600))]

    /// Mutated small binaries: no panic, the right kind of answer, memory bounded by the
    /// documented limits and by the file's size.
    #[test]
    fn mutated_small_binaries_read_as_data_or_a_content_error(
        seed in 0..4usize,
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let (name, bytes) = &seeds()[seed];
        let bytes = mutate(bytes, &mutations);
        let path = scratch_file(name);
        std::fs::write(&path, &bytes).unwrap();
        let (result, peak) = peak_of(|| read_sections(&path));
        check_read(&path, &result);
        let limits = Limits::default();
        prop_assert!(peak <= documented_bound(&limits), "{peak}");
        // What is cached is read from the file; only inflating can produce more.
        prop_assert!(
            peak <= 4 * bytes.len() as u64 + limits.max_decompressed_size as u64 + (1 << 20),
            "{peak} bytes for a {} byte {name}",
            bytes.len()
        );
    }

}

proptest! {
    #![proptest_config(testkit::proptest_cases(500))]

    /// Bytes changed only inside the compressed `.dep-v0`: the same data or a decompression
    /// error, never a header error and never other data.
    #[test]
    fn a_mutated_zlib_stream_is_a_decompress_error_or_the_same_data(
        at in any::<Index>(),
        byte in any::<u8>(),
    ) {
        let dep = zlib(DEP_V0.as_bytes());
        let mut bytes = elf_with_sections(&[(".dep-v0", &dep)]);
        let start = bytes.windows(dep.len()).position(|w| w == dep.as_slice()).unwrap();
        bytes[start + at.index(dep.len())] = byte;
        let path = scratch_file("zlib");
        std::fs::write(&path, &bytes).unwrap();
        match read_sections(&path) {
            Ok(raw) => prop_assert_eq!(raw.dep_v0.as_deref(), Some(DEP_V0.as_bytes())),
            Err(e) => prop_assert!(matches!(e, ReadError::Decompress { .. }), "{}", e),
        }
    }
}

proptest! {
    #![proptest_config(testkit::proptest_cases(500))]

    /// Generated files: a magic of each format (or none) followed by arbitrary bytes. Never
    /// data (nothing random holds a valid zlib stream under our names), never a panic.
    #[test]
    fn generated_bytes_after_a_magic_are_never_data(
        magic in prop::sample::select(vec![
            &b""[..], b"\x7fELF\x02\x01\x01", b"\x7fELF\x01\x02\x01", b"MZ",
            b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe\0\0\0\x01",
            b"\xca\xfe\xba\xbf\0\0\0\x02",
        ]),
        rest in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&rest);
        let path = scratch_file("generated");
        std::fs::write(&path, &bytes).unwrap();
        let (result, peak) = peak_of(|| read_sections(&path));
        check_read(&path, &result);
        if let Ok(raw) = &result {
            prop_assert!(raw.is_empty(), "{:?}", raw);
        }
        prop_assert!(peak <= 4 * bytes.len() as u64 + (1 << 20), "{peak}");
    }
}

/// This test binary's sibling, the real cargo-depinfo executable: a linked ELF with a
/// `.bldinfo` section (buildinfo's build script embeds it), copied once.
fn real_binary() -> &'static (PathBuf, Vec<u8>) {
    static REAL: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    REAL.get_or_init(|| {
        let path = scratch_file("real");
        std::fs::copy(BIN, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    })
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1000))]

    /// The real executable with bytes changed where the reader looks (the file header, and
    /// the section headers and name table at the end): changed in place and restored, so
    /// that a 40 MB file costs no 40 MB write per case.
    #[test]
    fn the_real_executable_mutated_reads_as_data_or_a_content_error(
        changes in prop::collection::vec((any::<bool>(), any::<Index>(), any::<u8>()), 1..8),
    ) {
        let (path, original) = real_binary();
        let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        let tail = 16 << 10;
        let mut offsets = Vec::new();
        for (head, at, byte) in &changes {
            let offset = if *head {
                at.index(4096)
            } else {
                original.len() - tail + at.index(tail)
            };
            file.write_at(&[*byte], offset as u64).unwrap();
            offsets.push(offset);
        }
        let (result, peak) = peak_of(|| read_sections(path));
        for offset in offsets {
            file.write_at(&original[offset..=offset], offset as u64).unwrap();
        }
        check_read(path, &result);
        prop_assert!(peak <= documented_bound(&Limits::default()), "{peak}");
    }
}

#[test]
fn the_real_executable_has_data() {
    let raw = read_sections(Path::new(BIN)).unwrap();
    assert!(raw.bldinfo.is_some() || raw.dep_v0.is_some());
}

/// Which decoder a JSON seed goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoder {
    /// `decode_dep_v0` on `.dep-v0` alone.
    DepV0,
    /// `decode_bldinfo` on `.bldinfo` alone.
    Bldinfo,
    /// `decode` on the real executable's sections, `.bldinfo` replaced.
    PairBldinfo,
    /// `decode` on the real executable's sections, `.dep-v0` replaced.
    PairDepV0,
}

/// The real executable's sections, and the JSON seeds: its sections and small ones.
type JsonSeeds = (cargo_depinfo::RawSections, Vec<(Decoder, Vec<u8>)>);

fn json_seeds() -> &'static JsonSeeds {
    static JSON: OnceLock<JsonSeeds> = OnceLock::new();
    JSON.get_or_init(|| {
        let raw = read_sections(Path::new(BIN)).unwrap();
        let mut seeds = vec![
            (Decoder::DepV0, DEP_V0.as_bytes().to_vec()),
            (
                Decoder::Bldinfo,
                br#"{"format":1,"program":"app","version":"0.1.0","packages":[{"name":"app","version":"0.1.0","source":"local","root":true}]}"#.to_vec(),
            ),
        ];
        if let Some(dep) = &raw.dep_v0 {
            seeds.push((Decoder::DepV0, dep.clone()));
            seeds.push((Decoder::PairDepV0, dep.clone()));
        }
        if let Some(bld) = &raw.bldinfo {
            seeds.push((Decoder::PairBldinfo, bld.clone()));
        }
        (raw, seeds)
    })
}

fn decode_as(
    decoder: Decoder,
    json: &[u8],
    path: &Path,
) -> Result<cargo_depinfo::Inventory, cargo_depinfo::FormatError> {
    let (real, _) = json_seeds();
    let pair = |bldinfo: bool| {
        let mut raw = real.clone();
        if bldinfo {
            raw.bldinfo = Some(json.to_vec());
        } else {
            raw.dep_v0 = Some(json.to_vec());
        }
        cargo_depinfo::decode(&raw, path).map(|inv| inv.expect("a section is present"))
    };
    match decoder {
        Decoder::DepV0 => decode_dep_v0(json, path),
        Decoder::Bldinfo => decode_bldinfo(json, path),
        Decoder::PairBldinfo => pair(true),
        Decoder::PairDepV0 => pair(false),
    }
}

#[test]
fn every_json_seed_decodes() {
    for (decoder, json) in &json_seeds().1 {
        if let Err(e) = decode_as(*decoder, json, Path::new("bin/app")) {
            panic!("{decoder:?}: {e}");
        }
    }
}

proptest! {
    #![proptest_config(testkit::proptest_cases(2000))]

    /// Mutated section JSON: decoded or refused with one line naming the file, never a
    /// panic; what is not JSON at all is always refused; memory in proportion to the input.
    #[test]
    fn mutated_section_json_is_decoded_or_refused(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let seeds = &json_seeds().1;
        let (decoder, json) = &seeds[seed.index(seeds.len())];
        let json = mutate(json, &mutations);
        let path = Path::new("bin/app");
        let (result, peak) = peak_of(|| decode_as(*decoder, &json, path));
        if serde_json::from_slice::<serde::de::IgnoredAny>(&json).is_err() {
            prop_assert!(result.is_err(), "{:?} accepted what is not JSON", decoder);
        }
        if let Err(e) = &result {
            let message = e.to_string();
            prop_assert!(message.starts_with("bin/app: "), "{}", message);
            prop_assert!(!message.contains('\n'), "{}", message);
        }
        // The pairs also decode the real executable's other section.
        let other = json_seeds().0.bldinfo.as_ref().map_or(0, Vec::len)
            + json_seeds().0.dep_v0.as_ref().map_or(0, Vec::len);
        prop_assert!(
            peak <= 64 * (json.len() + other) as u64 + (1 << 20),
            "{peak} bytes for {} bytes of JSON",
            json.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Issue item 11: memory amplification in the CycloneDX output (and SPDX, issue 23).

#[test]
fn sboms_of_60000_packages_cost_about_their_output() {
    use std::fmt::Write as _;
    const PACKAGES: usize = 60_000;
    let mut json = String::from(
        r#"{"format":1,"packages":[{"name":"app","version":"0.1.0","source":"local","root":true,"dependencies":[1,2,3]}"#,
    );
    for i in 1..PACKAGES {
        write!(
            json,
            r#",{{"name":"crate{i}","version":"1.{}.{}","source":"crates.io""#,
            i % 100,
            i % 7
        )
        .unwrap();
        if i + 1 < PACKAGES && i % 3 != 0 {
            write!(json, r#","dependencies":[{}]"#, i + 1).unwrap();
        }
        json.push('}');
    }
    json.push_str("]}");
    let inv = decode_dep_v0(json.as_bytes(), Path::new("big")).unwrap();
    assert_eq!(inv.packages.len(), PACKAGES);
    let (bom, peak) =
        peak_of(|| cargo_depinfo::cyclonedx(&inv, cargo_depinfo::CycloneDxVersion::default()));
    // The output, its buffer's growth, and one bom-ref per package: a serde_json::Value tree
    // of the same BOM cost more than ten times the output.
    let bound = 2 * bom.len() as u64 + (8 << 20);
    assert!(
        peak <= bound,
        "{peak} bytes to write {} bytes (bound {bound})",
        bom.len()
    );
    // SPDX alike: one SPDX ID per package besides the output.
    let (document, peak) = peak_of(|| cargo_depinfo::spdx(&inv, "00"));
    let bound = 2 * document.len() as u64 + (8 << 20);
    assert!(
        peak <= bound,
        "{peak} bytes to write {} bytes of SPDX (bound {bound})",
        document.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Amplification through the read cache: each distinct read is kept until the file is done.

#[test]
fn duplicate_sections_are_read_once() {
    // 200 sections named `.dep-v0` of 64 KiB each: only the first is read.
    let chunk = vec![0u8; 64 << 10];
    let sections: Vec<(&str, &[u8])> = (0..200).map(|_| (".dep-v0", chunk.as_slice())).collect();
    let scratch = Scratch::new("duplicates");
    for (name, bytes) in [
        ("dup.elf", elf_with_sections(&sections)),
        ("dup.macho", mach_o_with_sections(&sections)),
        ("dup.exe", pe_with_sections(&sections)),
    ] {
        let path = scratch.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let (result, peak) = peak_of(|| read_sections(&path));
        // Zeros are no zlib stream: the first section is read and refused.
        assert!(
            matches!(result, Err(ReadError::Decompress { .. })),
            "{name}"
        );
        assert!(
            peak < 2 << 20,
            "{name}: {peak} bytes for a {} byte file",
            bytes.len()
        );
    }
}

#[test]
fn the_load_commands_of_all_universal_slices_share_the_header_limit() {
    // 20 slices, each claiming 1 MiB of load commands: 20 MiB, over the header limit even if
    // it is raised to 16 MiB.
    const SLICES: u32 = 20;
    const SLICE: u32 = 2 << 20;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
    bytes.extend_from_slice(&SLICES.to_be_bytes());
    for i in 0..SLICES {
        for field in [0x0100_0007, 3, SLICE * (i + 1), SLICE, 12] {
            bytes.extend_from_slice(&u32::to_be_bytes(field));
        }
    }
    let scratch = Scratch::new("fat-budget");
    let path = scratch.join("fat");
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    for i in 0..SLICES {
        let mut header = Vec::new();
        for field in [0xfeed_facf_u32, 0x0100_0007, 3, 2, 0, 1 << 20, 0, 0] {
            header.extend_from_slice(&field.to_le_bytes());
        }
        file.write_at(&header, u64::from(SLICE * (i + 1))).unwrap();
    }
    file.set_len(u64::from(SLICE * (SLICES + 1))).unwrap();
    drop(file);
    let (result, peak) = peak_of(|| read_sections(&path));
    let err = result.unwrap_err();
    assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    assert!(
        peak <= Limits::default().max_header_size + (1 << 20),
        "{peak} bytes"
    );
}
