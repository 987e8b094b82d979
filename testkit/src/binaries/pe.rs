//! A PE32+ executable (x86-64): DOS header, `PE\0\0`, the COFF header, the optional header
//! with its 16 data directories (all empty), the section table, then each section's bytes
//! padded to the file alignment. Names must fit the 8-byte short-name field (ours do: that is
//! why the build-info section is called `.bldinfo`).

use super::{Put as _, u32_of};

/// The optional header of PE32+ with its 16 data directories, and one section header.
const OPTIONAL_HEADER: usize = 240;
const SECTION: usize = 40;
/// What link.exe uses: sections padded to 512 bytes in the file, 4 KiB in memory.
const FILE_ALIGNMENT: usize = 0x200;
const SECTION_ALIGNMENT: usize = 0x1000;

/// A linked PE file holding each `(name, contents)` as a read-only data section.
pub fn pe_with_sections(sections: &[(&str, &[u8])]) -> Vec<u8> {
    // The NT headers follow the 64-byte DOS header: "PE\0\0" and the 20-byte COFF header.
    let nt_at = 64;
    let table_at = nt_at + 4 + 20 + OPTIONAL_HEADER;
    let headers = (table_at + SECTION * sections.len()).next_multiple_of(FILE_ALIGNMENT);
    // (file offset, raw size, virtual address) of each section.
    let mut placed = Vec::new();
    let (mut file_at, mut rva) = (headers, SECTION_ALIGNMENT);
    for (_, contents) in sections {
        let raw = contents.len().next_multiple_of(FILE_ALIGNMENT);
        placed.push((file_at, raw, rva));
        file_at += raw;
        rva += contents.len().max(1).next_multiple_of(SECTION_ALIGNMENT);
    }
    let image_size = rva;

    let mut out = Vec::with_capacity(file_at);
    out.extend_from_slice(b"MZ");
    out.resize(0x3c, 0);
    out.u32(u32_of(nt_at)); // e_lfanew
    out.extend_from_slice(b"PE\0\0");

    out.u16(0x8664); // IMAGE_FILE_MACHINE_AMD64
    out.u16(u16::try_from(sections.len()).expect("fewer than 65,536 sections"));
    out.u32(0); // TimeDateStamp: reproducible
    out.u32(0); // PointerToSymbolTable
    out.u32(0); // NumberOfSymbols
    out.u16(u16::try_from(OPTIONAL_HEADER).unwrap());
    out.u16(0x0022); // IMAGE_FILE_EXECUTABLE_IMAGE | IMAGE_FILE_LARGE_ADDRESS_AWARE

    let optional_at = out.len();
    out.u16(0x20b); // PE32+
    out.extend_from_slice(&[14, 0]); // linker version
    out.u32(0); // SizeOfCode
    out.u32(u32_of(placed.iter().map(|p| p.1).sum())); // SizeOfInitializedData
    out.u32(0); // SizeOfUninitializedData
    out.u32(0); // AddressOfEntryPoint
    out.u32(0); // BaseOfCode
    out.u64(0x1_4000_0000); // ImageBase
    out.u32(u32_of(SECTION_ALIGNMENT));
    out.u32(u32_of(FILE_ALIGNMENT));
    for version in [6, 0, 0, 0, 6, 0] {
        out.u16(version); // OS, image and subsystem versions
    }
    out.u32(0); // Win32VersionValue
    out.u32(u32_of(image_size));
    out.u32(u32_of(headers)); // SizeOfHeaders
    out.u32(0); // CheckSum
    out.u16(3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
    out.u16(0); // DllCharacteristics
    for size in [0x10_0000, 0x1000, 0x10_0000, 0x1000] {
        out.u64(size); // stack and heap, reserve and commit
    }
    out.u32(0); // LoaderFlags
    out.u32(16); // NumberOfRvaAndSizes
    out.resize(optional_at + OPTIONAL_HEADER, 0); // the data directories, all empty

    for ((name, contents), &(at, raw, rva)) in sections.iter().zip(&placed) {
        out.name(name, 8);
        out.u32(u32_of(contents.len())); // VirtualSize: the bytes without padding
        out.u32(u32_of(rva));
        out.u32(u32_of(raw)); // SizeOfRawData
        out.u32(u32_of(at)); // PointerToRawData
        out.u32(0); // PointerToRelocations
        out.u32(0); // PointerToLinenumbers
        out.u16(0); // NumberOfRelocations
        out.u16(0); // NumberOfLinenumbers
        // IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ: what `.rdata`-like statics get.
        out.u32(0x4000_0040);
    }
    for ((_, contents), &(at, raw, _)) in sections.iter().zip(&placed) {
        out.resize(at, 0);
        out.extend_from_slice(contents);
        out.resize(at + raw, 0);
    }
    out.resize(headers.max(out.len()), 0);
    out
}
