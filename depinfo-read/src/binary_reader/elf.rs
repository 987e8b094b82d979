//! ELF (Linux, the BSDs): the section header table, read through the section header string
//! table; nothing else of the file is touched.

use object::read::elf::{FileHeader, SectionHeader as _};
use object::{Endianness, ReadRef, SectionIndex, elf};

use super::{Found, Limits, Problem, check_header, check_section};

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
    check_header("the ELF section header table", table, limits)?;
    let sections = header.sections(endian, data)?;
    let names = header.shstrndx(endian, data)?;
    if names == 0 {
        // No section name table (SHN_UNDEF): the sections have no names, so none is ours.
        return Ok(Found::default());
    }
    let table = sections
        .section(SectionIndex(names as usize))
        .map_err(|_| {
            Problem::Malformed(format!("section name table index {names} is not a section"))
        })?;
    let table = match table.file_range(endian) {
        Some((start, size)) => {
            if start
                .checked_add(size)
                .is_none_or(|end| end > data.len().unwrap_or(0))
            {
                return Err(Problem::Malformed(
                    "the section name table lies outside the file".into(),
                ));
            }
            NameTable::new(data, start, size, limits)?
        }
        None => NameTable::Whole(&[]),
    };
    let mut found = Found::default();
    // Index 0 is the null section. A name that cannot be read means a broken name table: that
    // is a malformed file, not a file without data (the data may be right there, unnamed).
    for (index, section) in sections.iter().enumerate().skip(1) {
        let name = table.name(data, section.sh_name(endian)).ok_or_else(|| {
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

/// The section-name table, looked up by offset.
enum NameTable<'a> {
    /// Read once, whole: it is within the header limit (it always is with today's linkers,
    /// which write `.shstrtab` on its own: a few hundred bytes).
    Whole(&'a [u8]),
    /// Too large to read whole (a table shared with the symbol names): only the first bytes of
    /// each name are read, enough to recognise ours. A hostile file gains nothing by this:
    /// the section count is bounded by the header limit, and each read is a few bytes.
    Windowed { start: u64, size: u64 },
}

/// Longest name we look for, with its NUL.
const WINDOW: u64 = 9;
const _: () = assert!(
    (buildinfo::section::BUILD_INFO.len() as u64) < WINDOW
        && (buildinfo::section::DEP_V0.len() as u64) < WINDOW
);

impl<'a> NameTable<'a> {
    fn new<R: ReadRef<'a>>(
        data: R,
        start: u64,
        size: u64,
        limits: &Limits,
    ) -> Result<NameTable<'a>, Problem> {
        if size > limits.max_header_size {
            return Ok(NameTable::Windowed { start, size });
        }
        data.read_bytes_at(start, size)
            .map(NameTable::Whole)
            .map_err(|()| Problem::Malformed("the section name table lies outside the file".into()))
    }

    /// The name at `at`, up to its NUL; `None` when it lies outside the table or has no NUL
    /// before the table ends. A windowed name longer than the window is returned cut, which
    /// matches none of ours.
    fn name<R: ReadRef<'a>>(&self, data: R, at: u32) -> Option<&'a [u8]> {
        let at = u64::from(at);
        let (bytes, whole) = match *self {
            NameTable::Whole(table) => (table.get(usize::try_from(at).ok()?..)?, true),
            NameTable::Windowed { start, size } => {
                let left = size.checked_sub(at).filter(|&n| n > 0)?;
                let window = left.min(WINDOW);
                (data.read_bytes_at(start + at, window).ok()?, window == left)
            }
        };
        match bytes.iter().position(|&b| b == 0) {
            Some(end) => Some(&bytes[..end]),
            None if whole => None,
            None => Some(bytes),
        }
    }
}
