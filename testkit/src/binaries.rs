//! Binaries with chosen sections, the way a linker places a `#[link_section]` static.
//!
//! Two ways, for two needs:
//! - [`with_sections`] copies a real system binary (`/bin/true`) and adds sections with
//!   `objcopy` (binutils): a full-size, really linked ELF file;
//! - [`elf_with_sections`], [`mach_o_with_sections`] and [`pe_with_sections`] write a small
//!   linked binary byte by byte, with nothing but the headers a reader needs and the sections
//!   asked for: every format on every host, no tool needed;
//! - [`wasm_module_with_sections`] and [`wasm_component`] assemble WebAssembly with the
//!   `wasm-encoder` crate.

mod elf;
mod mach_o;
mod pe;
mod wasm;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use elf::elf_with_sections;
pub use mach_o::mach_o_with_sections;
pub use pe::pe_with_sections;
pub use wasm::{WasmPart, leb128, wasm_component, wasm_module_with_sections};

use crate::child::{run, stderr};
use crate::zlib::zlib;

/// The system's `name`, from /bin or /usr/bin; panics naming it when it is in neither.
fn system_binary(name: &str) -> PathBuf {
    ["/bin", "/usr/bin"]
        .into_iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {name} in /bin or /usr/bin"))
}

/// A system binary built without any of our data (`true`).
pub fn plain_binary() -> PathBuf {
    system_binary("true")
}

/// Writes to `out` a copy of [`plain_binary`] with each `(name, contents)` section added
/// (allocated, read-only data, as a `#[used] #[link_section]` static).
pub fn with_sections(out: &Path, sections: &[(&str, &[u8])]) {
    with_sections_on(&plain_binary(), out, sections);
}

/// Writes to `out` a copy of the ELF binary `base` (`/bin/sleep` for a process that stays up)
/// with each `(name, contents)` section added, as [`with_sections`] does.
pub fn with_sections_on(base: &Path, out: &Path, sections: &[(&str, &[u8])]) {
    let mut cmd = Command::new("objcopy");
    let mut files = Vec::new();
    for (i, (name, contents)) in sections.iter().enumerate() {
        let file = out.with_extension(format!("section{i}"));
        std::fs::write(&file, contents).unwrap();
        cmd.arg("--add-section")
            .arg(format!("{name}={}", file.display()))
            .arg("--set-section-flags")
            .arg(format!("{name}=alloc,readonly,data"));
        files.push(file);
    }
    let done = run(cmd.arg(base).arg(out), Duration::from_secs(60));
    assert!(
        done.status.success(),
        "objcopy (binutils) failed: {}",
        stderr(&done)
    );
    for file in files {
        std::fs::remove_file(file).unwrap();
    }
}

/// cargo-auditable's `.dep-v0` JSON for a program `root` (name, version, source) depending
/// directly on each of `deps`: packages sorted as cargo-auditable writes them, the root
/// marked and holding the dependency indexes.
pub fn dep_v0_json(root: (&str, &str, &str), deps: &[(&str, &str, &str)]) -> String {
    let mut all: Vec<(&str, &str, &str, bool)> = vec![(root.0, root.1, root.2, true)];
    all.extend(deps.iter().map(|&(n, v, s)| (n, v, s, false)));
    all.sort_unstable();
    let root_index = all.iter().position(|p| p.3).unwrap();
    let others: Vec<String> = (0..all.len())
        .filter(|&i| i != root_index)
        .map(|i| i.to_string())
        .collect();
    let packages: Vec<String> = all
        .iter()
        .map(|&(name, version, source, root)| {
            if root {
                format!(
                    r#"{{"name":"{name}","version":"{version}","source":"{source}","dependencies":[{}],"root":true}}"#,
                    others.join(",")
                )
            } else {
                format!(r#"{{"name":"{name}","version":"{version}","source":"{source}"}}"#)
            }
        })
        .collect();
    format!(r#"{{"packages":[{}],"format":1}}"#, packages.join(","))
}

/// `.bldinfo` JSON of a program with build facts: named `program` (JSON string text, escapes
/// allowed), version 1.4.2 from a modified tree on `main` with two features, a runtime crate
/// (`itoa`) and a build-only one (`cc`), both direct.
pub fn bldinfo_json_with_facts(program: &str) -> String {
    format!(
        r#"{{"format":1,"program":"{program}","version":"1.4.2","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","branch":"main","modified":true,"features":["tls","default"],"packages":[{{"name":"my-svc","version":"1.4.2","source":"local","root":true,"dependencies":[1,2]}},{{"name":"itoa","version":"1.0.15","source":"crates.io","direct":true}},{{"name":"cc","version":"1.2.0","source":"crates.io","kind":"build","direct":true}}]}}"#
    )
}

/// A copy of the plain binary whose `.dep-v0` holds `json`, as `cargo auditable` writes it.
pub fn auditable_binary(out: &Path, json: &str) {
    with_sections(out, &[(".dep-v0", &zlib(json.as_bytes()))]);
}

/// The system's `sleep`: a binary whose process stays up as long as its argument says.
pub fn sleep_binary() -> PathBuf {
    system_binary("sleep")
}

/// A copy of [`sleep_binary`] whose `.dep-v0` holds `json`: a long-running binary with
/// cargo-auditable's data and nothing else.
pub fn auditable_sleeper(out: &Path, json: &str) {
    with_sections_on(&sleep_binary(), out, &[(".dep-v0", &zlib(json.as_bytes()))]);
}

/// Deterministic bytes that never start like a binary (the first byte is `#`).
pub fn noise(seed: usize, len: usize) -> Vec<u8> {
    let mut x = (seed as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut out = vec![b'#'];
    while out.len() < len {
        // xorshift64: cheap, and the same bytes on every run.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(x.to_le_bytes()[0]);
    }
    out.truncate(len.max(1));
    out
}

/// Little-endian writes into a byte buffer: the three formats are built field by field.
trait Put {
    fn u16(&mut self, v: u16);
    fn u32(&mut self, v: u32);
    fn u64(&mut self, v: u64);
    /// `name` in a fixed-size, zero-padded field.
    fn name(&mut self, name: &str, size: usize);
    /// Zeros up to a multiple of `align`.
    fn align(&mut self, align: usize);
}

impl Put for Vec<u8> {
    fn u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes());
    }
    fn name(&mut self, name: &str, size: usize) {
        assert!(name.len() <= size, "{name:?} is longer than {size} bytes");
        self.extend_from_slice(name.as_bytes());
        self.resize(self.len() + size - name.len(), 0);
    }
    fn align(&mut self, align: usize) {
        self.resize(self.len().next_multiple_of(align), 0);
    }
}

/// A size or offset as the 32-bit field the formats use (test binaries are small).
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("a test binary under 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Scratch;
    use object::{Object as _, ObjectSection as _};

    const SECTIONS: &[(&str, &[u8])] =
        &[(".bldinfo", b"build facts"), (".dep-v0", b"graph\x00\xff")];

    fn check(bytes: &[u8], format: object::BinaryFormat) {
        let file = object::File::parse(bytes).unwrap();
        assert_eq!(file.format(), format);
        // Linked, not an object file (`/bin/true` is a position-independent executable).
        assert!(
            matches!(
                file.kind(),
                object::ObjectKind::Executable | object::ObjectKind::Dynamic
            ),
            "{:?}",
            file.kind()
        );
        for (name, contents) in SECTIONS {
            let section = file
                .section_by_name(name)
                .unwrap_or_else(|| panic!("no {name}"));
            assert_eq!(section.data().unwrap(), *contents, "{name}");
        }
        assert!(file.section_by_name(".other").is_none());
    }

    #[test]
    fn each_writer_gives_a_linked_binary_with_its_sections() {
        check(&elf_with_sections(SECTIONS), object::BinaryFormat::Elf);
        check(&mach_o_with_sections(SECTIONS), object::BinaryFormat::MachO);
        check(&pe_with_sections(SECTIONS), object::BinaryFormat::Pe);
    }

    #[test]
    fn no_sections_is_still_a_binary() {
        for bytes in [
            elf_with_sections(&[]),
            mach_o_with_sections(&[]),
            pe_with_sections(&[]),
        ] {
            let file = object::File::parse(&*bytes).unwrap();
            assert!(file.section_by_name(".dep-v0").is_none());
        }
    }

    #[test]
    fn objcopy_adds_sections_to_a_real_binary() {
        let dir = Scratch::new("objcopy");
        let out = dir.join("app");
        with_sections(&out, SECTIONS);
        check(&std::fs::read(&out).unwrap(), object::BinaryFormat::Elf);
        auditable_binary(&dir.join("auditable"), "{}");
        let bytes = std::fs::read(dir.join("auditable")).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let data = file.section_by_name(".dep-v0").unwrap().data().unwrap();
        assert_eq!(crate::zlib::inflate(data), b"{}");
        assert_eq!(std::fs::read_dir(&*dir).unwrap().count(), 2, "no leftovers");
    }

    #[test]
    fn noise_is_stable_and_never_a_binary() {
        assert_eq!(noise(7, 64), noise(7, 64));
        assert_ne!(noise(7, 64), noise(8, 64));
        assert_eq!(noise(1, 10).len(), 10);
        assert_eq!(noise(1, 10)[0], b'#');
    }
}
