//! ELF (Linux, the BSDs): the section header table, read through the section header string
//! table; nothing else of the file is touched.

use buildinfo::section::{BUILD_INFO, DEP_V0};
use object::read::elf::{FileHeader, SectionHeader as _};
use object::{Endianness, ReadRef, elf};

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
        return Err(Problem::NotLinked);
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
    let mut found = Found::default();
    for (name, slot) in [
        (BUILD_INFO, &mut found.bldinfo),
        (DEP_V0, &mut found.dep_v0),
    ] {
        if let Some((_, section)) = sections.section_by_name(endian, name.as_bytes()) {
            check_section(name, section.sh_size(endian).into(), limits)?;
            *slot = Some(section.data(endian, data).map_err(|_| {
                Problem::Malformed(format!("section {name} lies outside the file"))
            })?);
        }
    }
    Ok(found)
}
