//! PE (Windows): the section table of the NT headers.

use object::read::pe::ImageNtHeaders;
use object::{ReadRef, pe};

use super::{Found, Problem};

pub(super) fn find_pe<'a, R: ReadRef<'a>>(data: R) -> Result<Found<'a>, Problem> {
    match object::read::pe::optional_header_magic(data)? {
        pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC => find_pe_sections::<pe::ImageNtHeaders64, R>(data),
        _ => find_pe_sections::<pe::ImageNtHeaders32, R>(data),
    }
}

fn find_pe_sections<'a, Pe: ImageNtHeaders, R: ReadRef<'a>>(data: R) -> Result<Found<'a>, Problem> {
    let dos = pe::ImageDosHeader::parse(data)?;
    let mut offset = u64::from(dos.nt_headers_offset());
    let (nt, _) = Pe::parse(data, &mut offset)?;
    let sections = nt.sections(data, offset)?;
    let mut found = Found::default();
    for section in sections.iter() {
        // Both names fit the 8-byte short-name field, so no string table is needed.
        let raw = section.raw_name();
        let name = raw.split(|&b| b == 0).next().unwrap_or(raw);
        let Some(slot) = found.slot(name) else {
            continue;
        };
        // The section is padded to the file alignment in the file; `pe_data` trims to the
        // virtual size, so the zlib stream is followed by nothing but zero padding at most.
        *slot = Some(section.pe_data(data)?);
    }
    Ok(found)
}
