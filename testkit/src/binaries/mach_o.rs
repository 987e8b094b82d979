//! A 64-bit little-endian Mach-O executable (x86-64): the header, one `LC_SEGMENT_64` named
//! `__DATA` holding every section (where rustc puts `#[link_section = "__DATA,name"]`), then
//! the sections' bytes.

use super::{Put as _, u32_of};

/// The sizes of `mach_header_64`, `segment_command_64` and `section_64`.
const HEADER: usize = 32;
const SEGMENT_COMMAND: usize = 72;
const SECTION: usize = 80;
/// Where the image is mapped, as ld64 does for executables.
const VM_BASE: u64 = 0x1_0000_0000;

/// A linked Mach-O file holding each `(name, contents)` as a section of `__DATA`.
pub fn mach_o_with_sections(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let commands = SEGMENT_COMMAND + SECTION * sections.len();
    let data_at = (HEADER + commands).next_multiple_of(16);
    let mut placed = Vec::new();
    let mut end = data_at;
    for (_, contents) in sections {
        end = end.next_multiple_of(16);
        placed.push(end);
        end += contents.len();
    }

    let mut out = Vec::with_capacity(end);
    out.u32(0xfeed_facf); // MH_MAGIC_64
    out.u32(0x0100_0007); // CPU_TYPE_X86_64
    out.u32(3); // CPU_SUBTYPE_X86_64_ALL
    out.u32(2); // MH_EXECUTE
    out.u32(1); // ncmds
    out.u32(u32_of(commands));
    out.u32(0); // flags
    out.u32(0); // reserved

    out.u32(0x19); // LC_SEGMENT_64
    out.u32(u32_of(commands));
    out.name("__DATA", 16);
    out.u64(VM_BASE + data_at as u64); // vmaddr
    out.u64((end - data_at) as u64); // vmsize
    out.u64(data_at as u64); // fileoff
    out.u64((end - data_at) as u64); // filesize
    out.u32(3); // maxprot: read and write, a data segment
    out.u32(3); // initprot
    out.u32(u32_of(sections.len()));
    out.u32(0); // flags
    for ((name, contents), &at) in sections.iter().zip(&placed) {
        out.name(name, 16);
        out.name("__DATA", 16);
        out.u64(VM_BASE + at as u64); // addr
        out.u64(contents.len() as u64); // size
        out.u32(u32_of(at)); // offset
        out.u32(4); // align: 2^4
        out.u32(0); // reloff
        out.u32(0); // nreloc
        out.u32(0); // flags: S_REGULAR
        out.u32(0); // reserved1
        out.u32(0); // reserved2
        out.u32(0); // reserved3
    }
    for ((_, contents), &at) in sections.iter().zip(&placed) {
        out.resize(at, 0);
        out.extend_from_slice(contents);
    }
    out
}
