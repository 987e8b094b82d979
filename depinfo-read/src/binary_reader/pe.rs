//! PE (Windows): the section table of the NT headers.

use object::read::pe::ImageNtHeaders;
use object::{ReadRef, pe};

use super::{Found, Limits, Problem, check_header, check_section};

pub(super) fn find_pe<'a, R: ReadRef<'a>>(data: R, limits: &Limits) -> Result<Found<'a>, Problem> {
    // `MZ` is two printable letters: a text file may start with them, and a DOS program has
    // them too. Only a stub whose `e_lfanew` (at 0x3c) points at the `PE\0\0` signature is
    // positively a PE file; anything else is not a binary (skipped in a directory scan).
    let signature = data
        .read_bytes_at(0x3c, 4)
        .ok()
        .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .and_then(|at| data.read_bytes_at(at, 4).ok());
    if signature != Some(&b"PE\0\0"[..]) {
        return Err(Problem::NotABinary);
    }
    match object::read::pe::optional_header_magic(data)? {
        pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => {
            find_pe_sections::<pe::ImageNtHeaders64, R>(data, limits)
        }
        _ => find_pe_sections::<pe::ImageNtHeaders32, R>(data, limits),
    }
}

fn find_pe_sections<'a, Pe: ImageNtHeaders, R: ReadRef<'a>>(
    data: R,
    limits: &Limits,
) -> Result<Found<'a>, Problem> {
    let dos = pe::ImageDosHeader::parse(data)?;
    let mut offset = u64::from(dos.nt_headers_offset());
    let (nt, _) = Pe::parse(data, &mut offset)?;
    // At most 65,535 headers of 40 bytes: bounded, but by the header limit too.
    let table = u64::from(
        nt.file_header()
            .number_of_sections
            .get(object::LittleEndian),
    ) * 40;
    check_header("the PE section table", table, limits)?;
    let sections = nt.sections(data, offset)?;
    let mut found = Found::default();
    for section in sections.iter() {
        // Both names fit the 8-byte short-name field, so no string table is needed.
        let raw = section.raw_name();
        let name = raw.split(|&b| b == 0).next().unwrap_or(raw);
        let Some((label, slot)) = found.slot(name) else {
            continue;
        };
        // The section is padded to the file alignment in the file; its bytes are the raw data
        // trimmed to the virtual size, so the zlib stream is followed by zero padding at most.
        // The size is checked before the read: the read cache allocates what it is asked for.
        let (start, size) = section.pe_file_range();
        check_section(label, size.into(), limits)?;
        *slot = Some(
            data.read_bytes_at(start.into(), size.into())
                .map_err(|()| {
                    Problem::Malformed(format!("section {label} lies outside the file"))
                })?,
        );
    }
    Ok(found)
}
