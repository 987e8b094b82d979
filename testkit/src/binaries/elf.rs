//! A 64-bit little-endian ELF executable (x86-64): file header, the sections' bytes, the
//! section-name table, then the section header table. No program headers: readers of
//! sections never look at segments, and nothing runs these files.

use super::{Put as _, u32_of};

/// The sizes of the file header and of one section header.
const HEADER: usize = 64;
const SECTION_HEADER: usize = 64;
/// `sh_type`: program data, or a string table.
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;

/// A linked ELF file holding each `(name, contents)` as an allocated data section.
pub fn elf_with_sections(sections: &[(&str, &[u8])]) -> Vec<u8> {
    // The name table: "\0", every section's name, ".shstrtab".
    let mut names = vec![0u8];
    let mut name_at = Vec::new();
    for (name, _) in sections {
        name_at.push(u32_of(names.len()));
        names.extend_from_slice(name.as_bytes());
        names.push(0);
    }
    let shstrtab_name = u32_of(names.len());
    names.extend_from_slice(b".shstrtab\0");

    let mut body = Vec::new();
    let mut placed = Vec::new();
    for (_, contents) in sections {
        body.align(8);
        placed.push(HEADER + body.len());
        body.extend_from_slice(contents);
    }
    let name_table_at = HEADER + body.len();
    body.extend_from_slice(&names);
    body.align(8);
    let table_at = HEADER + body.len();
    // The null section, the given ones, the name table.
    let count = sections.len() + 2;

    let mut out = Vec::with_capacity(table_at + count * SECTION_HEADER);
    out.extend_from_slice(b"\x7fELF");
    // Class 64-bit, little-endian, version 1, System V ABI; padding to 16 bytes.
    out.extend_from_slice(&[2, 1, 1, 0]);
    out.resize(16, 0);
    out.u16(2); // e_type: ET_EXEC
    out.u16(62); // e_machine: EM_X86_64
    out.u32(1); // e_version
    out.u64(0x40_1000); // e_entry
    out.u64(0); // e_phoff
    out.u64(table_at as u64); // e_shoff
    out.u32(0); // e_flags
    out.u16(u16::try_from(HEADER).unwrap());
    out.u16(56); // e_phentsize
    out.u16(0); // e_phnum
    out.u16(u16::try_from(SECTION_HEADER).unwrap());
    out.u16(u16::try_from(count).expect("fewer than 65,535 sections"));
    out.u16(u16::try_from(count - 1).unwrap()); // e_shstrndx: the name table, last
    out.extend_from_slice(&body);

    out.resize(out.len() + SECTION_HEADER, 0); // the null section
    for (i, (_, contents)) in sections.iter().enumerate() {
        section_header(
            &mut out,
            name_at[i],
            SHT_PROGBITS,
            2, // sh_flags: SHF_ALLOC, loaded with the program
            placed[i],
            contents.len(),
            8,
        );
    }
    section_header(
        &mut out,
        shstrtab_name,
        SHT_STRTAB,
        0,
        name_table_at,
        names.len(),
        1,
    );
    out
}

fn section_header(
    out: &mut Vec<u8>,
    name: u32,
    kind: u32,
    flags: u64,
    offset: usize,
    size: usize,
    align: u64,
) {
    out.u32(name);
    out.u32(kind);
    out.u64(flags);
    // Allocated sections get an address in the image; the name table has none.
    out.u64(if flags == 0 {
        0
    } else {
        0x40_0000 + offset as u64
    });
    out.u64(offset as u64);
    out.u64(size as u64);
    out.u32(0); // sh_link
    out.u32(0); // sh_info
    out.u64(align);
    out.u64(0); // sh_entsize
}
