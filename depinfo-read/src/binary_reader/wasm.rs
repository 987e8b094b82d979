//! WebAssembly: core modules (`\0asm`, version 1) and components (`\0asm`, version 13, layer
//! 1), and the core modules and components nested in components, walked section by section.
//!
//! A Wasm file has no table of contents: each section is an id byte, a LEB128 size and the
//! body, one after the other. The walk reads only those headers and the names of custom
//! sections short enough to be ours, and skips every other body by seeking; a custom section
//! of ours is read only after its size has been checked against [`Limits`] and against the
//! bytes that really follow it, so memory never follows a claimed length. The headers walked
//! count against [`Limits::max_header_size`] (a real module has a few dozen sections), which
//! bounds the time a file of millions of empty sections takes too.
//!
//! Which sections: a custom section (id 0) named `.dep-v0` or `.bldinfo`, in the file or in
//! any module or component nested in it, the first of each name in file order (depth first),
//! as cargo-audit's reader does. A top-level core module with a `linking` custom section is a
//! relocatable object file (what `rustc` hands to `wasm-ld`), not a program: not a binary, as
//! ELF object files are not.

use std::io::{self, BufReader, Read, Seek};

use super::{Limits, Problem, check_section, our_section};

/// How deep components may nest: the file is level 0, a component or core module in it level
/// 1, and so on. Toolchains nest two or three levels (`wasm-tools compose`, `jco`); a deeper
/// file is refused as malformed, so that a small file cannot make the walk recurse without
/// end.
pub const MAX_NESTING: u32 = 16;

/// The two sections' compressed bytes, read out of the file.
#[derive(Default)]
pub(super) struct WasmFound {
    pub(super) bldinfo: Option<Vec<u8>>,
    pub(super) dep_v0: Option<Vec<u8>>,
}

/// What a Wasm binary (or a nested one) is, by its version and layer fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module,
    Component,
}

impl Kind {
    fn of(version: [u8; 4]) -> Option<Kind> {
        match version {
            [1, 0, 0, 0] => Some(Kind::Module),
            // Version 0x0d, layer 1: the component model's binary format, as wasm-tools and
            // wasm-encoder write it.
            [0x0d, 0, 1, 0] => Some(Kind::Component),
            _ => None,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Kind::Module => "core module",
            Kind::Component => "component",
        }
    }

    /// The largest section id of this kind: 13 (tag) for core modules, 12 (value) for
    /// components.
    fn last_id(self) -> u8 {
        match self {
            Kind::Module => 13,
            Kind::Component => 12,
        }
    }
}

/// Walks the sections of the Wasm file read by `file`, positioned just after the 4-byte magic;
/// `size` is the file's size.
pub(super) fn find_wasm<F: Read + Seek>(
    file: F,
    size: u64,
    limits: &Limits,
) -> Result<WasmFound, Problem> {
    let mut walk = Walk {
        reader: BufReader::with_capacity(8 << 10, file),
        pos: 4,
        size,
        header_bytes: 0,
        limits,
        found: WasmFound::default(),
        object_file: false,
    };
    let version = walk.array::<4>(End {
        at: size,
        what: "the file",
    })?;
    let kind = Kind::of(version).ok_or_else(|| {
        Problem::Malformed(format!(
            "unknown Wasm version and layer {version:02x?} (a core module has 01 00 00 00, a component 0d 00 01 00)"
        ))
    })?;
    walk.sections(kind, size, 0)?;
    if walk.object_file {
        return Err(Problem::NotABinary);
    }
    Ok(walk.found)
}

struct Walk<'l, F> {
    reader: BufReader<F>,
    /// The offset in the file of the next byte `reader` returns.
    pos: u64,
    size: u64,
    /// Bytes of section headers (id, size, custom section name) walked so far.
    header_bytes: u64,
    limits: &'l Limits,
    found: WasmFound,
    /// The top-level core module has a `linking` section.
    object_file: bool,
}

/// Where what is being read must end, and what ends there, for messages.
#[derive(Clone, Copy)]
struct End {
    at: u64,
    /// `the file`, `its enclosing section`, `its section`.
    what: &'static str,
}

impl<F: Read + Seek> Walk<'_, F> {
    /// `N` bytes at the current position, none of them at or past `end`.
    fn array<const N: usize>(&mut self, end: End) -> Result<[u8; N], Problem> {
        let mut bytes = [0u8; N];
        if self.pos + N as u64 > end.at {
            return Err(Problem::Malformed(format!(
                "truncated at offset {}: {} ends there",
                self.pos, end.what
            )));
        }
        self.reader
            .read_exact(&mut bytes)
            .map_err(|e| self.io(&e))?;
        self.pos += N as u64;
        Ok(bytes)
    }

    fn byte(&mut self, end: End) -> Result<u8, Problem> {
        self.array::<1>(end).map(|[b]| b)
    }

    fn io(&self, e: &io::Error) -> Problem {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            // The file is shorter than its size said (it shrank while being read).
            Problem::Malformed(format!(
                "truncated at offset {}: the file ends there",
                self.pos
            ))
        } else {
            Problem::Malformed(format!("read failed at offset {}: {e}", self.pos))
        }
    }

    /// Moves to `to`, at or after the current position and at most the file's size.
    fn skip_to(&mut self, to: u64) -> Result<(), Problem> {
        debug_assert!(to >= self.pos && to <= self.size);
        let by = i64::try_from(to - self.pos)
            .map_err(|_| Problem::Malformed(format!("offset {to} is out of range")))?;
        self.reader
            .seek_relative(by)
            .map_err(|e| Problem::Malformed(format!("seek to offset {to} failed: {e}")))?;
        self.pos = to;
        Ok(())
    }

    /// An unsigned LEB128 number of at most 32 bits (at most 5 bytes, the unused bits of the
    /// fifth zero), as the Wasm spec writes sizes and lengths.
    fn leb_u32(&mut self, end: End) -> Result<u32, Problem> {
        let start = self.pos;
        let mut value: u32 = 0;
        for shift in [0, 7, 14, 21] {
            let b = self.byte(end)?;
            value |= u32::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        // The fifth byte holds bits 28 to 31: no continuation, nothing above them.
        let b = self.byte(end)?;
        if b & 0xf0 != 0 {
            return Err(Problem::Malformed(format!(
                "the LEB128 number at offset {start} is longer than 32 bits"
            )));
        }
        Ok(value | u32::from(b) << 28)
    }

    /// Counts header bytes against the header limit.
    fn count_header(&mut self, bytes: u64) -> Result<(), Problem> {
        self.header_bytes += bytes;
        super::check_header("the Wasm section headers", self.header_bytes, self.limits)
    }

    /// Walks the sections of a `kind` binary from the current position (after its header) up
    /// to `end`, at nesting `depth`.
    fn sections(&mut self, kind: Kind, end: u64, depth: u32) -> Result<(), Problem> {
        let end = End {
            at: end,
            what: if depth == 0 {
                "the file"
            } else {
                "its enclosing section"
            },
        };
        while self.pos < end.at {
            let start = self.pos;
            let id = self.byte(end)?;
            if id > kind.last_id() {
                return Err(Problem::Malformed(format!(
                    "unknown section id {id} at offset {start} of a {}",
                    kind.words()
                )));
            }
            let size = u64::from(self.leb_u32(end)?);
            let body = self.pos;
            let body_end = body + size;
            if body_end > end.at {
                return Err(Problem::Malformed(format!(
                    "section {id} at offset {start} claims {size} bytes, past the end of {}",
                    end.what
                )));
            }
            self.count_header(body - start)?;
            match (id, kind) {
                (0, _) => self.custom(body_end, depth == 0 && kind == Kind::Module)?,
                (1, Kind::Component) => self.nested(Kind::Module, start, body_end, depth + 1)?,
                (4, Kind::Component) => {
                    self.nested(Kind::Component, start, body_end, depth + 1)?;
                }
                _ => {}
            }
            self.skip_to(body_end)?;
        }
        Ok(())
    }

    /// A module or component nested in the component section at `start` that ends at `end`.
    fn nested(&mut self, kind: Kind, start: u64, end: u64, depth: u32) -> Result<(), Problem> {
        if depth > MAX_NESTING {
            return Err(Problem::Malformed(format!(
                "the {} in the section at offset {start} is nested {depth} levels deep, over the limit of {MAX_NESTING}",
                kind.words(),
            )));
        }
        let header = self.array::<8>(End {
            at: end,
            what: "its section",
        })?;
        self.count_header(8)?;
        let found = match header {
            [0, b'a', b's', b'm', v0, v1, v2, v3] => Kind::of([v0, v1, v2, v3]),
            _ => None,
        };
        if found != Some(kind) {
            return Err(Problem::Malformed(format!(
                "the {} section at offset {start} does not hold a {}",
                kind.words(),
                kind.words()
            )));
        }
        self.sections(kind, end, depth)
    }

    /// A custom section whose body ends at `end`: its name, and its bytes when it is ours.
    /// `top_module`: the section is one of the file's own, and the file a core module.
    fn custom(&mut self, end: u64, top_module: bool) -> Result<(), Problem> {
        let start = self.pos;
        let len = u64::from(self.leb_u32(End {
            at: end,
            what: "its section",
        })?);
        if self.pos + len > end {
            return Err(Problem::Malformed(format!(
                "the custom section name at offset {start} claims {len} bytes, past the end of its section"
            )));
        }
        // Only names as short as ours are read; a longer one is skipped unread.
        if len > 8 {
            return self.count_header(self.pos - start);
        }
        let mut name = [0u8; 8];
        let name = &mut name[..usize::try_from(len).unwrap_or(8)];
        self.reader.read_exact(name).map_err(|e| self.io(&e))?;
        self.pos += len;
        self.count_header(self.pos - start)?;
        if top_module && name == b"linking" {
            self.object_file = true;
        }
        let Some(label) = our_section(name) else {
            return Ok(());
        };
        let bldinfo = label == buildinfo::section::BUILD_INFO;
        let taken = if bldinfo {
            self.found.bldinfo.is_some()
        } else {
            self.found.dep_v0.is_some()
        };
        if taken {
            // The first of each name wins, as in cargo-audit's reader.
            return Ok(());
        }
        let size = end - self.pos;
        check_section(label, size, self.limits)?;
        // Within the section limit and within the file (checked by the caller): this
        // allocation is bounded by both.
        let mut data = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
        self.reader.read_exact(&mut data).map_err(|e| self.io(&e))?;
        self.pos = end;
        if bldinfo {
            self.found.bldinfo = Some(data);
        } else {
            self.found.dep_v0 = Some(data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use testkit::{WasmPart, leb128, wasm_component, wasm_module_with_sections, zlib};

    use super::MAX_NESTING;
    use crate::binary_reader::{
        BinaryFormat, Limits, ReadError, read_sections, read_sections_with,
    };

    const DEP: &[u8] = br#"{"packages":[],"format":1}"#;
    const BLD: &[u8] = br#"{"format":1}"#;

    struct TempFile(#[allow(dead_code)] testkit::Scratch, PathBuf);

    impl std::ops::Deref for TempFile {
        type Target = Path;

        fn deref(&self) -> &Path {
            &self.1
        }
    }

    fn temp(bytes: &[u8]) -> TempFile {
        let dir = testkit::Scratch::new("wasm-reader");
        let path = dir.join("a.wasm");
        std::fs::write(&path, bytes).unwrap();
        TempFile(dir, path)
    }

    /// `.bldinfo` and `.dep-v0`, decompressed.
    type Both = (Option<Vec<u8>>, Option<Vec<u8>>);

    fn read(bytes: &[u8]) -> Result<Both, ReadError> {
        let path = temp(bytes);
        read_sections(&path).map(|raw| {
            assert_eq!(raw.format, BinaryFormat::Wasm);
            (raw.bldinfo, raw.dep_v0)
        })
    }

    #[track_caller]
    fn malformed(bytes: &[u8]) -> String {
        let path = temp(bytes);
        match read_sections(&path) {
            Err(
                e @ ReadError::Malformed {
                    format: BinaryFormat::Wasm,
                    ..
                },
            ) => {
                let msg = e.to_string();
                assert!(msg.starts_with(&path.display().to_string()), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
                msg
            }
            other => panic!("not malformed Wasm: {other:?}"),
        }
    }

    /// A custom section by hand: id 0, size, name, data.
    fn custom(name: &[u8], data: &[u8]) -> Vec<u8> {
        let mut body = leb128(name.len() as u64);
        body.extend_from_slice(name);
        body.extend_from_slice(data);
        let mut out = vec![0];
        out.extend(leb128(body.len() as u64));
        out.extend(body);
        out
    }

    #[test]
    fn reads_both_sections_of_a_core_module() {
        let bytes = wasm_module_with_sections(&[
            ("producers", b"\0"),
            (".bldinfo", &zlib(BLD)),
            (".dep-v0", &zlib(DEP)),
        ]);
        assert_eq!(
            read(&bytes).unwrap(),
            (Some(BLD.to_vec()), Some(DEP.to_vec()))
        );
        // A module without them has no data, and is no error.
        assert_eq!(
            read(&wasm_module_with_sections(&[("name", b"\0")])).unwrap(),
            (None, None)
        );
        // Cut anywhere after the magic: an error, never a panic, never other data (a cut
        // between two sections leaves a shorter module, with fewer of them).
        let mut errors = 0;
        for cut in 4..bytes.len() {
            let path = temp(&bytes[..cut]);
            match read_sections(&path) {
                Err(ReadError::Malformed { .. }) => errors += 1,
                Ok(raw) => {
                    assert!(raw.bldinfo.is_none_or(|b| b == BLD), "cut at {cut}");
                    assert!(raw.dep_v0.is_none(), "cut at {cut}");
                }
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        assert!(errors > bytes.len() - 20, "{errors} errors");
    }

    #[test]
    fn reads_sections_in_nested_modules_and_components_first_one_wins() {
        let inner_module = wasm_module_with_sections(&[(".dep-v0", &zlib(DEP))]);
        let other_dep = br#"{"packages":[{"name":"x","version":"1.0.0","source":"local","root":true}],"format":1}"#;
        let inner_component = wasm_component(&[
            WasmPart::Module(&wasm_module_with_sections(&[])),
            WasmPart::Custom(".bldinfo", &zlib(BLD)),
            WasmPart::Module(&inner_module),
        ]);
        let outer = wasm_component(&[
            WasmPart::Module(&wasm_module_with_sections(&[("name", b"\0")])),
            WasmPart::Component(&inner_component),
            // Later in the file: not read, as in cargo-audit's reader.
            WasmPart::Module(&wasm_module_with_sections(&[(".dep-v0", &zlib(other_dep))])),
        ]);
        assert_eq!(
            read(&outer).unwrap(),
            (Some(BLD.to_vec()), Some(DEP.to_vec()))
        );
        // A component's own custom section counts too.
        let own = wasm_component(&[WasmPart::Custom(".dep-v0", &zlib(DEP))]);
        assert_eq!(read(&own).unwrap(), (None, Some(DEP.to_vec())));
    }

    /// A component holding one nested `depth` levels down, with `.dep-v0` at the bottom.
    fn nested(depth: u32) -> Vec<u8> {
        let mut bytes = wasm_component(&[WasmPart::Custom(".dep-v0", &zlib(DEP))]);
        for _ in 0..depth {
            bytes = wasm_component(&[WasmPart::Component(&bytes)]);
        }
        bytes
    }

    #[test]
    fn components_nest_up_to_the_documented_depth() {
        assert_eq!(read(&nested(MAX_NESTING)).unwrap().1, Some(DEP.to_vec()));
        let msg = malformed(&nested(MAX_NESTING + 1));
        assert!(
            msg.ends_with(&format!(
                "is nested {} levels deep, over the limit of {MAX_NESTING}",
                MAX_NESTING + 1
            )),
            "{msg}"
        );
        // Ten thousand levels: the same one error, no stack overflow.
        malformed(&nested(10_000));
    }

    #[test]
    fn a_relocatable_object_file_is_not_a_binary() {
        // rustc's object files carry a `linking` section; wasm-ld's output does not.
        let bytes = wasm_module_with_sections(&[(".dep-v0", &zlib(DEP)), ("linking", b"\x02")]);
        let path = temp(&bytes);
        let err = read_sections(&path).unwrap_err();
        assert!(matches!(err, ReadError::NotABinary { .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("not an ELF, Mach-O, PE or Wasm executable or library")
        );
        // Nested in a component, the name means nothing.
        let component = wasm_component(&[WasmPart::Module(&bytes)]);
        assert_eq!(read(&component).unwrap().1, Some(DEP.to_vec()));
    }

    #[test]
    fn lying_lengths_are_malformed() {
        let header = b"\0asm\x01\0\0\0";
        let with = |tail: &[u8]| [&header[..], tail].concat();
        // A section size past the end of the file.
        let msg = malformed(&with(&[0, 0x7f, 7]));
        assert!(
            msg.ends_with("section 0 at offset 8 claims 127 bytes, past the end of the file"),
            "{msg}"
        );
        // A LEB128 of six bytes, and one whose fifth byte has bits past 32.
        let msg = malformed(&with(&[0, 0x80, 0x80, 0x80, 0x80, 0x80, 0]));
        assert!(
            msg.ends_with("the LEB128 number at offset 9 is longer than 32 bits"),
            "{msg}"
        );
        malformed(&with(&[0, 0xff, 0xff, 0xff, 0xff, 0x1f]));
        // The largest 32-bit size is read whole, and is past the end.
        let msg = malformed(&with(&[0, 0xff, 0xff, 0xff, 0xff, 0x0f]));
        assert!(
            msg.ends_with(
                "section 0 at offset 8 claims 4294967295 bytes, past the end of the file"
            ),
            "{msg}"
        );
        // A LEB128 that the file cuts.
        let msg = malformed(&with(&[0, 0x80]));
        assert!(
            msg.ends_with("truncated at offset 10: the file ends there"),
            "{msg}"
        );
        // A custom section name longer than its section.
        let msg = malformed(&with(&[0, 2, 9, b'x']));
        assert!(
            msg.ends_with(
                "the custom section name at offset 10 claims 9 bytes, past the end of its section"
            ),
            "{msg}"
        );
        // A nested module longer than the component section that holds it.
        let module = wasm_module_with_sections(&[(".dep-v0", &zlib(DEP))]);
        let mut component = wasm_component(&[WasmPart::Module(&module)]);
        let last = component.len() - 1;
        component.truncate(last);
        component[9] -= 1; // The section size, one byte shorter: the module's last byte outside.
        let msg = malformed(&component);
        assert!(
            msg.contains("past the end of its enclosing section"),
            "{msg}"
        );
        // An unknown section id, and a component section in a core module.
        let msg = malformed(&with(&[14, 0]));
        assert!(
            msg.ends_with("unknown section id 14 at offset 8 of a core module"),
            "{msg}"
        );
        let msg = malformed(&[&b"\0asm\x0d\0\x01\0"[..], &[13, 0]].concat());
        assert!(
            msg.ends_with("unknown section id 13 at offset 8 of a component"),
            "{msg}"
        );
        // A module section that holds a component.
        let msg = malformed(&wasm_component(&[WasmPart::Module(&nested(0))]));
        assert!(
            msg.ends_with("the core module section at offset 8 does not hold a core module"),
            "{msg}"
        );
        // Another version.
        let msg = malformed(b"\0asm\x02\0\0\0");
        assert!(
            msg.contains("unknown Wasm version and layer [02, 00, 00, 00]"),
            "{msg}"
        );
        malformed(b"\0asm\x01\0");
    }

    #[test]
    fn a_claimed_2_gib_custom_section_is_refused_by_its_size() {
        // In a small file: past the end, whatever its name.
        let mut bytes = b"\0asm\x01\0\0\0\0".to_vec();
        bytes.extend(leb128(2 << 30));
        bytes.extend([7]);
        bytes.extend_from_slice(b".dep-v0");
        let msg = malformed(&bytes);
        assert!(
            msg.contains("claims 2147483648 bytes, past the end of the file"),
            "{msg}"
        );
        // Really that long (a sparse file): ours is over the section limit, before any read;
        // another name is skipped unread.
        for (name, ours) in [(&b".dep-v0"[..], true), (b"producer", false)] {
            let mut bytes = b"\0asm\x01\0\0\0\0".to_vec();
            bytes.extend(leb128(2 << 30));
            bytes.extend([8]);
            bytes.extend_from_slice(&[name, b"\0"].concat()[..8]);
            let end = bytes.len() as u64 - 9 + (2 << 30);
            let path = temp(&bytes);
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&*path)
                .unwrap();
            file.set_len(end).unwrap();
            drop(file);
            let result = read_sections(&path);
            if ours {
                // `.dep-v0\0` is not `.dep-v0`: the 8-byte name is the other one's length.
                assert_eq!(result.unwrap().dep_v0, None);
            } else {
                let raw = result.unwrap();
                assert!(raw.is_empty());
                assert!(
                    raw.bytes_read < 64 << 10,
                    "skipped, not read: {}",
                    raw.bytes_read
                );
            }
        }
        let mut bytes = b"\0asm\x01\0\0\0\0".to_vec();
        bytes.extend(leb128(2 << 30));
        bytes.extend([7]);
        bytes.extend_from_slice(b".dep-v0");
        let path = temp(&bytes);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&*path)
            .unwrap();
        file.set_len(bytes.len() as u64 - 8 + (2 << 30)).unwrap();
        drop(file);
        let err = read_sections(&path).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: section .dep-v0 is 2147483640 bytes, over the limit of 1048576",
                path.display()
            )
        );
    }

    /// Found missed by cargo-mutants: the bounds of a nested binary's header, the last
    /// section ids, and what each section header costs.
    #[test]
    fn a_nested_header_may_not_read_past_its_empty_section() {
        // A component whose module section is empty, followed (in the file, outside the
        // section) by the 8 bytes of a module header.
        let bytes = [&b"\0asm\x0d\0\x01\0"[..], &[1, 0], &b"\0asm\x01\0\0\0"[..]].concat();
        let msg = malformed(&bytes);
        assert!(
            msg.ends_with("truncated at offset 10: its section ends there"),
            "{msg}"
        );
    }

    #[test]
    fn the_last_section_id_of_each_kind_is_known() {
        // Tag (13) in a core module, value (12) in a component; one more is unknown.
        let module = |id: u8| [&b"\0asm\x01\0\0\0"[..], &[id, 0]].concat();
        let component = |id: u8| [&b"\0asm\x0d\0\x01\0"[..], &[id, 0]].concat();
        assert_eq!(read(&module(13)).unwrap(), (None, None));
        assert_eq!(read(&component(12)).unwrap(), (None, None));
        assert!(
            malformed(&module(14)).ends_with("unknown section id 14 at offset 8 of a core module")
        );
        assert!(
            malformed(&component(13)).ends_with("unknown section id 13 at offset 8 of a component")
        );
    }

    #[test]
    fn each_section_header_costs_its_bytes() {
        // 100 custom sections of 200 bytes: id (1), size (2: 201 needs two LEB128 bytes),
        // name length (1), no name: 4 header bytes each, 400 in all.
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        for _ in 0..100 {
            bytes.extend(custom(b"", &[7; 200]));
        }
        let at = |max: u64| {
            let limits = Limits {
                max_header_size: max,
                ..Limits::default()
            };
            read_sections_with(&temp(&bytes), &limits)
        };
        assert!(at(400).is_ok());
        let err = at(399).unwrap_err();
        assert!(
            err.to_string()
                .contains("the Wasm section headers is 400 bytes"),
            "{err}"
        );
        // A name as short as ours is read and counted (1 + 2 bytes for `ab`); a longer one is
        // skipped unread, only its length counted (1 byte for a 9-byte name).
        for (name, each) in [(&b"ab"[..], 5u64), (&b"nine-byte"[..], 3)] {
            let mut bytes = b"\0asm\x01\0\0\0".to_vec();
            for _ in 0..100 {
                bytes.extend(custom(name, b""));
            }
            let at = |max: u64| {
                let limits = Limits {
                    max_header_size: max,
                    ..Limits::default()
                };
                read_sections_with(&temp(&bytes), &limits)
            };
            assert!(at(100 * each).is_ok(), "{name:?}");
            let err = at(100 * each - 1).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("the Wasm section headers is {} bytes", 100 * each)),
                "{name:?}: {err}"
            );
        }
    }

    #[test]
    fn the_section_headers_count_against_the_header_limit() {
        // 100,000 empty custom sections: 300 KB of headers.
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        for _ in 0..100_000 {
            bytes.extend(custom(b"", b""));
        }
        bytes.extend(custom(b".dep-v0", &zlib(DEP)));
        assert_eq!(read(&bytes).unwrap().1, Some(DEP.to_vec()));
        let limits = Limits {
            max_header_size: 64 << 10,
            ..Limits::default()
        };
        let path = temp(&bytes);
        let err = read_sections_with(&path, &limits).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("the Wasm section headers is 65537 bytes"),
            "{err}"
        );
    }

    #[test]
    fn only_the_headers_and_our_sections_are_read() {
        let big = vec![7u8; 4 << 20];
        let bytes = wasm_module_with_sections(&[("big", &big), (".dep-v0", &zlib(DEP))]);
        let path = temp(&bytes);
        let raw = read_sections(&path).unwrap();
        assert_eq!(raw.dep_v0.as_deref(), Some(DEP));
        assert!(raw.bytes_read < 64 << 10, "{} bytes read", raw.bytes_read);
    }
}
