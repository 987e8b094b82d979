//! Reads the raw `.bldinfo` and `.dep-v0` sections out of ELF, Mach-O, PE and WebAssembly
//! files.
//!
//! Only the headers and the two sections are read, through [`object::read::ReadCache`] over
//! the open file (Wasm: section headers walked with a small buffer, bodies skipped by seeking):
//! never the whole file, never the symbol table (the high-level
//! `object::File::parse` reads both symbol tables, megabytes on an unstripped binary). Every
//! size that comes from the file is checked against [`Limits`] before anything is allocated,
//! and the zlib streams are inflated with a cap, so a hostile file costs at most a few MiB.
//!
//! The symbol tables and the debug information are read only by [`symbols`] (with
//! the `dwarf` module), on request: which functions an advisory names are in the binary (`Present`),
//! are not found in its debug information (`NotFound`), or why that can't be told
//! (`Unknown`).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

mod dwarf;
mod elf;
mod function_names;
mod macho;
mod pe;
pub mod symbols;
mod wasm;

use buildinfo::section::{BUILD_INFO, DEP_V0};
use object::macho as macho_format;
use object::read::ReadCache;

use self::elf::find_elf;
use self::macho::find_macho;
use self::pe::find_pe;
pub use self::wasm::MAX_NESTING as MAX_WASM_NESTING;
use self::wasm::find_wasm;

/// Upper bounds on the work one file may cause.
///
/// Every size read from a file is checked against these before anything is allocated, and
/// nothing else is read: the memory one file costs is at most
/// `3 × max_header_size + 2 × max_section_size + 2 × max_decompressed_size` (the header
/// table, and the ELF section-name table or the few bytes of each name read from it; each
/// section compressed and inflated) plus a few KiB, and every read lies within the file, so
/// a small file costs little whatever it claims. With the defaults that is 9 MiB at worst;
/// a real binary costs kilobytes plus its two sections. Non-regular files (FIFOs, devices,
/// sockets) are refused before they are opened for reading.
///
/// A Wasm file costs at most its two sections, compressed and inflated, plus an 8 KiB read
/// buffer: its section headers are walked, not kept, and count against `max_header_size`;
/// components nest at most [`MAX_WASM_NESTING`] levels deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest file accepted, in bytes (default 4 GiB).
    pub max_file_size: u64,
    /// Largest compressed section accepted, in bytes (default 1 MiB: a real `.dep-v0` of 2,000
    /// packages is about 30 KiB compressed).
    pub max_section_size: u64,
    /// Largest decompressed section accepted, in bytes (default 2 MiB: about 20,000 packages,
    /// ten times the largest real programs).
    pub max_decompressed_size: usize,
    /// Largest header table (ELF section headers, the ELF section-name table, Mach-O load
    /// commands, the PE section table, all the section headers of a Wasm file) read, in bytes
    /// (default 1 MiB; real ones are a few KiB).
    pub max_header_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 4 << 30,
            max_section_size: 1 << 20,
            max_decompressed_size: 2 << 20,
            max_header_size: 1 << 20,
        }
    }
}

/// The container format of a binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinaryFormat {
    /// ELF (Linux, the BSDs, ...).
    Elf,
    /// Mach-O, thin or universal (macOS, iOS).
    MachO,
    /// PE/COFF (Windows).
    Pe,
    /// WebAssembly: a core module or a component.
    Wasm,
}

impl BinaryFormat {
    /// `ELF`, `Mach-O`, `PE` or `Wasm`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BinaryFormat::Elf => "ELF",
            BinaryFormat::MachO => "Mach-O",
            BinaryFormat::Pe => "PE",
            BinaryFormat::Wasm => "Wasm",
        }
    }
}

impl std::fmt::Display for BinaryFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decompressed contents of the sections found in one binary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawSections {
    /// The container format.
    pub format: BinaryFormat,
    /// Decompressed `.bldinfo` (build-info's JSON), when present.
    pub bldinfo: Option<Vec<u8>>,
    /// Decompressed `.dep-v0` (cargo-auditable's JSON), when present.
    pub dep_v0: Option<Vec<u8>>,
    /// Bytes read from the file to find them.
    pub bytes_read: u64,
}

impl RawSections {
    /// True when neither section is present.
    pub fn is_empty(&self) -> bool {
        self.bldinfo.is_none() && self.dep_v0.is_none()
    }
}

/// Why a file could not be read. Every message names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not an ELF, Mach-O, PE or Wasm executable or library (object files are
    /// not: they are not what runs, and a build leaves thousands of them).
    #[error("{}: not an ELF, Mach-O, PE or Wasm executable or library", path.display())]
    NotABinary {
        /// The file.
        path: PathBuf,
    },
    /// The path is a FIFO, a device, a socket or a directory: refused without reading it
    /// (opening a FIFO for reading waits for a writer; a device may never end).
    #[error("{}: is a {kind}, not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is: `FIFO`, `character device`, `block device`, `socket`, `directory`.
        kind: &'static str,
    },
    /// The file looks like a binary but its headers are broken (truncated, fake, corrupt).
    #[error("{}: malformed {format} file: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What it claims to be.
        format: BinaryFormat,
        /// What is wrong.
        message: String,
    },
    /// Something in the file is larger than [`Limits`] allow.
    #[error("{}: {what} is {size} bytes, over the limit of {limit}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What is too large.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A section is not a zlib stream, or inflates past the limit.
    #[error("{}: section {section}: {message}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// The section name.
        section: &'static str,
        /// What went wrong.
        message: String,
    },
}

impl ReadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::NotABinary { path }
            | ReadError::NotAFile { path, .. }
            | ReadError::Malformed { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::Decompress { path, .. } => path,
        }
    }
}

/// A file that counts the bytes read from it.
struct CountingFile {
    file: File,
    read: Rc<Cell<u64>>,
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for CountingFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// The compressed bytes of the two sections, borrowed from the read cache.
#[derive(Default)]
struct Found<'a> {
    bldinfo: Option<&'a [u8]>,
    dep_v0: Option<&'a [u8]>,
}

impl<'a> Found<'a> {
    /// Where a section of this name goes: `None` for a section we do not read, and for a
    /// second section of a name already found. The first one wins, and the others are never
    /// read: every read is kept by the cache, so a thousand duplicates within the limits
    /// would otherwise cost a thousand sections.
    fn slot(&mut self, name: &[u8]) -> Option<(&'static str, &mut Option<&'a [u8]>)> {
        let label = our_section(name)?;
        let slot = if label == BUILD_INFO {
            &mut self.bldinfo
        } else {
            &mut self.dep_v0
        };
        slot.is_none().then_some((label, slot))
    }
}

/// The name of a section we read (`.bldinfo` or `.dep-v0`) when `name` is one of them.
fn our_section(name: &[u8]) -> Option<&'static str> {
    [BUILD_INFO, DEP_V0]
        .into_iter()
        .find(|ours| name == ours.as_bytes())
}

/// What went wrong while walking headers, before the path is attached.
enum Problem {
    /// Not positively a binary: an object file, a DOS program or text starting with `MZ`, a
    /// Java class file (which shares the universal Mach-O magic).
    NotABinary,
    Malformed(String),
    TooLarge {
        what: String,
        size: u64,
        limit: u64,
    },
}

impl From<object::read::Error> for Problem {
    fn from(e: object::read::Error) -> Self {
        Problem::Malformed(e.to_string())
    }
}

/// Reads the sections of the binary at `path` with the default [`Limits`].
pub fn read_sections(path: &Path) -> Result<RawSections, ReadError> {
    read_sections_with(path, &Limits::default())
}

/// Reads the sections of the binary at `path`.
pub fn read_sections_with(path: &Path, limits: &Limits) -> Result<RawSections, ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    // The one opener of files from others: the type is checked before opening (opening a
    // FIFO for reading blocks until a writer comes), the open does not wait (O_NONBLOCK), and
    // the type is checked again on the open file, in case the path was replaced in between.
    let (mut file, metadata) = crate::untrusted_file::open(path).map_err(|e| match e.reason {
        crate::untrusted_file::FileRefusal::NotRegular(kind) => ReadError::NotAFile {
            path: path.to_owned(),
            kind,
        },
        crate::untrusted_file::FileRefusal::Io(source) => io_err(source),
        other => io_err(io::Error::other(other.to_string())),
    })?;
    let size = metadata.len();
    let mut magic = [0u8; 4];
    let format = match file.read_exact(&mut magic) {
        Ok(()) => detect(magic),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
        Err(e) => return Err(io_err(e)),
    };
    let Some(format) = format else {
        return Err(ReadError::NotABinary {
            path: path.to_owned(),
        });
    };
    if size > limits.max_file_size {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            what: "the file".into(),
            size,
            limit: limits.max_file_size,
        });
    }
    let counter = Rc::new(Cell::new(4));
    let counting = CountingFile {
        file,
        read: Rc::clone(&counter),
    };
    let problem = |p| match p {
        Problem::NotABinary => ReadError::NotABinary {
            path: path.to_owned(),
        },
        Problem::Malformed(message) => ReadError::Malformed {
            path: path.to_owned(),
            format,
            message,
        },
        Problem::TooLarge { what, size, limit } => ReadError::TooLarge {
            path: path.to_owned(),
            what,
            size,
            limit,
        },
    };
    let inflate_both = |bldinfo: Option<&[u8]>, dep_v0: Option<&[u8]>| {
        Ok::<_, ReadError>((
            bldinfo
                .map(|data| inflate(path, BUILD_INFO, data, limits))
                .transpose()?,
            dep_v0
                .map(|data| inflate(path, DEP_V0, data, limits))
                .transpose()?,
        ))
    };
    let (bldinfo, dep_v0) = match format {
        BinaryFormat::Wasm => {
            // No header table to cache: the walk reads section headers one after the other.
            let found = find_wasm(counting, size, limits).map_err(problem)?;
            inflate_both(found.bldinfo.as_deref(), found.dep_v0.as_deref())?
        }
        BinaryFormat::Elf | BinaryFormat::MachO | BinaryFormat::Pe => {
            let cache = ReadCache::new(counting);
            let found = match format {
                BinaryFormat::Elf => find_elf(&cache, limits),
                BinaryFormat::MachO => find_macho(&cache, magic, limits),
                _ => find_pe(&cache, limits),
            }
            .map_err(problem)?;
            inflate_both(found.bldinfo, found.dep_v0)?
        }
    };
    Ok(RawSections {
        format,
        bldinfo,
        dep_v0,
        bytes_read: counter.get(),
    })
}

/// Recognises a binary by its first four bytes.
fn detect(magic: [u8; 4]) -> Option<BinaryFormat> {
    let be = u32::from_be_bytes(magic);
    match magic {
        [0x7f, b'E', b'L', b'F'] => Some(BinaryFormat::Elf),
        [b'M', b'Z', _, _] => Some(BinaryFormat::Pe),
        [0, b'a', b's', b'm'] => Some(BinaryFormat::Wasm),
        _ if matches!(
            be,
            macho_format::MH_MAGIC
                | macho_format::MH_CIGAM
                | macho_format::MH_MAGIC_64
                | macho_format::MH_CIGAM_64
                | macho_format::FAT_MAGIC
                | macho_format::FAT_MAGIC_64
        ) =>
        {
            Some(BinaryFormat::MachO)
        }
        _ => None,
    }
}

/// Inflates one zlib stream (RFC 1950), refusing to produce more than the limit.
pub fn inflate(
    path: &Path,
    section: &'static str,
    data: &[u8],
    limits: &Limits,
) -> Result<Vec<u8>, ReadError> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, limits.max_decompressed_size)
        .map_err(|e| ReadError::Decompress {
            path: path.to_owned(),
            section,
            message: match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!(
                    "decompresses to more than {} bytes (the limit)",
                    limits.max_decompressed_size
                ),
                _ => "not a valid zlib stream".into(),
            },
        })
}

/// Refuses a header structure (`what`) of `size` bytes over the header limit, before reading it.
fn check_header(what: &str, size: u64, limits: &Limits) -> Result<(), Problem> {
    if size > limits.max_header_size {
        return Err(Problem::TooLarge {
            what: what.to_owned(),
            size,
            limit: limits.max_header_size,
        });
    }
    Ok(())
}

fn check_section(name: &str, size: u64, limits: &Limits) -> Result<(), Problem> {
    if size > limits.max_section_size {
        return Err(Problem::TooLarge {
            what: format!("section {name}"),
            size,
            limit: limits.max_section_size,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use testkit::{
        elf_with_sections, mach_o_with_sections as macho_with_sections, pe_with_sections, zlib,
    };

    use super::*;

    /// An ELF file of another type (`e_type`, at byte 16): 1 is a relocatable object file.
    fn elf_of_type(elf_type: u16, sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut bytes = elf_with_sections(sections);
        bytes[16..18].copy_from_slice(&elf_type.to_le_bytes());
        bytes
    }

    /// A file in a scratch directory of its own, removed with it when dropped.
    struct TempFile(#[allow(dead_code)] testkit::Scratch, PathBuf);

    impl std::ops::Deref for TempFile {
        type Target = Path;

        fn deref(&self) -> &Path {
            &self.1
        }
    }

    fn temp(name: &str, bytes: &[u8]) -> TempFile {
        let dir = testkit::Scratch::new("binary-reader");
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile(dir, path)
    }

    #[test]
    fn reads_both_sections_of_a_mach_o_and_a_pe() {
        let bld = zlib(b"{\"format\":1}");
        let dep = zlib(b"{\"packages\":[],\"format\":1}");
        let sections: [(&str, &[u8]); 3] =
            [("__data", b"xyz"), (".bldinfo", &bld), (".dep-v0", &dep)];
        for (name, bytes, format) in [
            (
                "a.macho",
                macho_with_sections(&sections),
                BinaryFormat::MachO,
            ),
            ("a.exe", pe_with_sections(&sections), BinaryFormat::Pe),
        ] {
            let path = temp(name, &bytes);
            let raw = read_sections(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(raw.format, format);
            assert_eq!(
                raw.bldinfo.as_deref(),
                Some(&b"{\"format\":1}"[..]),
                "{name}"
            );
            assert_eq!(
                raw.dep_v0.as_deref(),
                Some(&b"{\"packages\":[],\"format\":1}"[..]),
                "{name}"
            );
            // Truncated anywhere: an error, never a panic, and never other data (a cut in the
            // padding after the last section may still read the same sections).
            for cut in (4..bytes.len()).step_by(7) {
                let path = temp(&format!("cut-{name}"), &bytes[..cut]);
                if let Ok(cut_raw) = read_sections(&path) {
                    assert_eq!(
                        (cut_raw.bldinfo, cut_raw.dep_v0),
                        (raw.bldinfo.clone(), raw.dep_v0.clone()),
                        "{name} cut at {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn reads_both_sections_of_a_small_elf() {
        let bld = zlib(b"{\"format\":1}");
        let dep = zlib(b"{\"packages\":[],\"format\":1}");
        let path = temp(
            "both.elf",
            &elf_with_sections(&[
                (".text", b"\x90\x90"),
                (".bldinfo", &bld),
                (".dep-v0", &dep),
            ]),
        );
        let raw = read_sections(&path).unwrap();
        assert_eq!(raw.format, BinaryFormat::Elf);
        assert_eq!(raw.bldinfo.as_deref(), Some(&b"{\"format\":1}"[..]));
        assert_eq!(
            raw.dep_v0.as_deref(),
            Some(&b"{\"packages\":[],\"format\":1}"[..])
        );
    }

    #[test]
    fn object_files_are_not_binaries() {
        let dep = zlib(b"{\"packages\":[],\"format\":1}");
        let path = temp("a.o", &elf_of_type(1, &[(".dep-v0", &dep)]));
        let err = read_sections(&path).unwrap_err();
        assert!(matches!(err, ReadError::NotABinary { .. }), "{err}");
    }

    #[test]
    fn an_elf_without_sections_has_no_data() {
        let path = temp("none.elf", &elf_with_sections(&[(".text", b"\x90")]));
        assert!(read_sections(&path).unwrap().is_empty());
    }

    /// Reads `path`, which must be refused as malformed or as not a binary; the message.
    #[track_caller]
    fn not_data(path: &Path) -> String {
        let err = read_sections(path).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Malformed { .. } | ReadError::NotABinary { .. }
            ),
            "{}: {err}",
            path.display()
        );
        err.to_string()
    }

    #[test]
    fn a_truncated_elf_is_one_clear_error() {
        let dep = zlib(b"{\"packages\":[],\"format\":1}");
        let full = elf_with_sections(&[(".dep-v0", &dep)]);
        for cut in [3, 10, 40, 63, 64, full.len() - 1] {
            let path = temp("truncated.elf", &full[..cut]);
            let msg = not_data(&path);
            assert!(msg.starts_with(&path.display().to_string()), "{cut}: {msg}");
            assert!(!msg.contains('\n'), "{cut}: {msg}");
        }
    }

    #[test]
    fn a_fake_elf_header_is_malformed_not_a_panic() {
        let mut fake = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        // A section header table at a huge offset with 65535 entries.
        fake.extend_from_slice(&[0xff; 48]);
        let path = temp("fake.elf", &fake);
        let err = read_sections(&path).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::Malformed { .. } | ReadError::TooLarge { .. }
            ),
            "{err}"
        );
    }

    /// 512 bytes of xorshift noise after `magic`.
    fn noise_after(magic: &[u8], seed: u32) -> Vec<u8> {
        let mut bytes = magic.to_vec();
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        for _ in 0..512 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes.push(x.to_le_bytes()[0]);
        }
        bytes
    }

    #[test]
    fn random_bytes_after_a_magic_are_malformed_never_data() {
        let mut kinds = std::collections::BTreeMap::new();
        for (magic, format) in [
            (&b"\x7fELF"[..], BinaryFormat::Elf),
            (b"MZ\0\0", BinaryFormat::Pe),
            (b"\xcf\xfa\xed\xfe", BinaryFormat::MachO),
            (b"\xca\xfe\xba\xbe", BinaryFormat::MachO),
        ] {
            for seed in 0..50u32 {
                let path = temp("random.bin", &noise_after(magic, seed));
                // The magic claims a format, so the file is a broken binary of that format
                // (or one whose headers ask for more than the limits), never one with data.
                let kind = match read_sections(&path) {
                    Err(ReadError::Malformed { format: f, .. }) if f == format => "malformed",
                    Err(ReadError::TooLarge { .. }) => "too large",
                    // A PE stub with a random e_lfanew points at no PE header: a DOS program
                    // or text. A universal header with a random architecture count and CPU
                    // types is not positively a binary either (Java class files share its
                    // magic): both are skipped in a directory scan.
                    Err(ReadError::NotABinary { .. }) if magic.starts_with(b"MZ") => "not a PE",
                    Err(ReadError::NotABinary { .. }) if magic == b"\xca\xfe\xba\xbe" => {
                        "not universal"
                    }
                    other => panic!("{format} noise (seed {seed}) read as {other:?}"),
                };
                *kinds.entry(kind).or_insert(0) += 1;
            }
        }
        // ELF noise is malformed; thin Mach-O noise claims huge load commands; PE and
        // universal noise is not positively a binary.
        assert!(kinds["malformed"] > 40, "{kinds:?}");
        assert_eq!(kinds.len(), 4, "{kinds:?}");
    }

    #[test]
    fn random_bytes_without_a_magic_are_not_a_binary() {
        for seed in 0..50u32 {
            let bytes = noise_after(b"", seed);
            // Not by `detect`, which is under test: the magics spelled out.
            let be = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            if bytes.starts_with(b"\x7fELF")
                || bytes.starts_with(b"MZ")
                || [
                    0xfeed_face,
                    0xcefa_edfe,
                    0xfeed_facf,
                    0xcffa_edfe,
                    0xcafe_babe,
                    0xcafe_babf,
                ]
                .contains(&be)
            {
                continue;
            }
            let path = temp("random.bin", &bytes);
            let err = read_sections(&path).unwrap_err();
            assert!(matches!(err, ReadError::NotABinary { .. }), "{err}");
        }
    }

    #[test]
    fn a_section_that_inflates_past_the_limit_is_refused() {
        let limit = Limits::default().max_decompressed_size;
        let bomb = zlib(&vec![b' '; limit + 1]);
        assert!(bomb.len() < 64 << 10, "the bomb is small: {}", bomb.len());
        let path = temp("bomb.elf", &elf_with_sections(&[(".dep-v0", &bomb)]));
        let err = read_sections(&path).unwrap_err();
        assert!(matches!(err, ReadError::Decompress { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("decompresses to more than {limit} bytes"))
        );
        // Exactly at the limit is fine.
        let path = temp(
            "limit.elf",
            &elf_with_sections(&[(".dep-v0", &zlib(&vec![b' '; limit]))]),
        );
        assert_eq!(read_sections(&path).unwrap().dep_v0.unwrap().len(), limit);
    }

    #[test]
    fn a_section_that_is_not_zlib_is_an_error() {
        let path = temp(
            "notzlib.elf",
            &elf_with_sections(&[(".bldinfo", b"hello world")]),
        );
        let err = read_sections(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: section .bldinfo: not a valid zlib stream",
                path.display()
            )
        );
    }

    #[test]
    fn an_oversized_section_is_refused_before_reading_it() {
        let limits = Limits {
            max_section_size: 4,
            ..Limits::default()
        };
        let path = temp(
            "big.elf",
            &elf_with_sections(&[(".dep-v0", &zlib(b"0123456789"))]),
        );
        let err = read_sections_with(&path, &limits).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn text_files_and_empty_files_are_not_binaries() {
        for (name, bytes) in [("a.txt", &b"hello\n"[..]), ("empty", b""), ("two", b"MZ")] {
            not_data(&temp(name, bytes));
        }
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let err = read_sections(Path::new("/nonexistent/cargo-depinfo")).unwrap_err();
        assert!(
            err.to_string().starts_with("/nonexistent/cargo-depinfo: "),
            "{err}"
        );
    }
}
