//! What only buildinfo's fixture-build tests need; the rest (scratch directories, fixture
//! copies, cargo and git with a clean environment, children with time limits) is testkit's.

#![allow(dead_code, clippy::cast_possible_truncation)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use testkit::{
    Scratch, binary, cargo, copy_fixture, git, git_init_commit, run as run_limited, run_ok, stderr,
    stdout,
};

/// Runs a fixture binary built from the `basic` template and parses its `key=value` lines;
/// `package=` lines are collected in order under `packages`.
pub struct Dump {
    pub fields: BTreeMap<String, String>,
    pub packages: Vec<String>,
}

impl Dump {
    pub fn of(binary: &Path) -> Dump {
        let out = run_ok(&mut Command::new(binary));
        let mut fields = BTreeMap::new();
        let mut packages = Vec::new();
        for line in stdout(&out).lines() {
            let (k, v) = line.split_once('=').unwrap();
            if k == "package" {
                packages.push(v.to_owned());
            } else {
                fields.insert(k.to_owned(), v.to_owned());
            }
        }
        Dump { fields, packages }
    }

    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("<missing>", String::as_str)
    }
}

/// The output directory of the latest build-script run of package `name`, from cargo's
/// `--message-format=json` output.
pub fn out_dir_from_messages(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "build-script-executed")
        .filter(|v| {
            v["package_id"].as_str().is_some_and(|id| {
                id.contains(&format!("#{name}@")) || id.contains(&format!("/{name}#"))
            })
        })
        .filter_map(|v| v["out_dir"].as_str().map(PathBuf::from))
        .next_back()
}

/// The bytes of ELF section `name` (64-bit little-endian ELF only: what these tests build).
pub fn elf_section(file: &[u8], name: &str) -> Option<Vec<u8>> {
    let u16_at = |o: usize| u16::from_le_bytes(file[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(file[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(file[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&file[..5], b"\x7fELF\x02", "not a 64-bit ELF file");
    let shoff = u64_at(0x28);
    let shentsize = u16_at(0x3a);
    let shnum = u16_at(0x3c);
    let shstrndx = u16_at(0x3e);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(header(shstrndx) + 0x18);
    for i in 0..shnum {
        let h = header(i);
        let name_off = strtab + u32_at(h);
        let end = file[name_off..].iter().position(|&b| b == 0)?;
        if &file[name_off..name_off + end] == name.as_bytes() {
            let (offset, size) = (u64_at(h + 0x18), u64_at(h + 0x20));
            return Some(file[offset..offset + size].to_vec());
        }
    }
    None
}

/// Inflates one zlib stream.
pub fn inflate(data: &[u8]) -> String {
    String::from_utf8(testkit::inflate(data)).unwrap()
}

/// `name version` of every package line of `cargo tree --prefix none --format {p}` output.
pub fn tree_packages(output: &str) -> std::collections::BTreeSet<String> {
    output
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('['))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let n = parts.next().unwrap();
            let v = parts.next().unwrap().trim_start_matches('v');
            format!("{n} {v}")
        })
        .collect()
}
