//! ELF (Linux, the BSDs): the section header table, read through the section header string
//! table; nothing else of the file is touched.

use object::read::elf::{FileHeader, SectionHeader as _};
use object::{Endianness, ReadRef, SectionIndex, elf};

use super::{Found, Limits, Problem, check_section};

pub(super) fn find_elf<'a, R: ReadRef<'a>>(data: R, limits: &Limits) -> Result<Found<'a>, Problem> {
    let ident = data
        .read_bytes_at(0, 16)
        .map_err(|()| Problem::Malformed("truncated ELF identification".into()))?;
    // e_ident[EI_CLASS], byte 4.
    match ident[4] {
        1 => find_elf_sections::<elf::FileHeader32<Endianness>, R>(data, limits),
        2 => find_elf_sections::<elf::FileHeader64<Endianness>, R>(data, limits),
        class => Err(Problem::Malformed(format!("unknown ELF class {class}"))),
    }
}

fn find_elf_sections<'a, Elf, R>(data: R, limits: &Limits) -> Result<Found<'a>, Problem>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'a>,
{
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    if header.e_type(endian) == elf::ET_REL {
        return Err(Problem::NotABinary);
    }
    let table = u64::from(header.shnum(endian, data)?)
        .saturating_mul(u64::from(header.e_shentsize(endian)));
    if table > limits.max_header_size {
        return Err(Problem::TooLarge {
            what: "the ELF section header table".into(),
            size: table,
            limit: limits.max_header_size,
        });
    }
    let sections = header.sections(endian, data)?;
    let names = header.shstrndx(endian, data)?;
    if names == 0 {
        // No section name table (SHN_UNDEF): the sections have no names, so none is ours.
        return Ok(Found::default());
    }
    // The name table is read once, its size bounded like the header table, and names are
    // looked up in it here: reading name by name through the cache would keep up to 4 KiB
    // per section (a hostile table of overlapping long names: gigabytes).
    let table = sections
        .section(SectionIndex(names as usize))
        .map_err(|_| {
            Problem::Malformed(format!("section name table index {names} is not a section"))
        })?;
    let table = match table.file_range(endian) {
        Some((start, size)) => {
            if size > limits.max_header_size {
                return Err(Problem::TooLarge {
                    what: "the ELF section name table".into(),
                    size,
                    limit: limits.max_header_size,
                });
            }
            data.read_bytes_at(start, size).map_err(|()| {
                Problem::Malformed("the section name table lies outside the file".into())
            })?
        }
        None => &[],
    };
    let mut found = Found::default();
    // Index 0 is the null section. A name that cannot be read means a broken name table: that
    // is a malformed file, not a file without data (the data may be right there, unnamed).
    for (index, section) in sections.iter().enumerate().skip(1) {
        let name = usize::try_from(section.sh_name(endian))
            .ok()
            .and_then(|at| table.get(at..))
            .and_then(|rest| {
                rest.split(|&b| b == 0)
                    .next()
                    .filter(|n| n.len() < rest.len())
            })
            .ok_or_else(|| {
                Problem::Malformed(format!(
                    "the name of section {index} lies outside the section name table"
                ))
            })?;
        let Some((label, slot)) = found.slot(name) else {
            continue;
        };
        check_section(label, section.sh_size(endian).into(), limits)?;
        *slot =
            Some(section.data(endian, data).map_err(|_| {
                Problem::Malformed(format!("section {label} lies outside the file"))
            })?);
    }
    Ok(found)
}
