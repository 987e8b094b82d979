//! Mach-O (macOS, iOS), thin or universal: the load commands' segments and their sections.

use buildinfo::section::MACHO_SEGMENT;
use object::read::macho::{FatArch, MachHeader, Section as _, Segment as _};
use object::{Endianness, ReadRef, macho};

use super::{Found, Limits, Problem, check_section};

pub(super) fn find_macho<'a, R: ReadRef<'a>>(
    data: R,
    magic: [u8; 4],
    limits: &Limits,
) -> Result<Found<'a>, Problem> {
    let mut budget = limits.max_header_size;
    match u32::from_be_bytes(magic) {
        macho::FAT_MAGIC => find_fat::<macho::FatArch32, R>(data, limits),
        macho::FAT_MAGIC_64 => find_fat::<macho::FatArch64, R>(data, limits),
        macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => {
            find_macho_sections::<macho::MachHeader64<Endianness>, R>(data, 0, limits, &mut budget)
        }
        _ => {
            find_macho_sections::<macho::MachHeader32<Endianness>, R>(data, 0, limits, &mut budget)
        }
    }
}

/// A universal binary: the first architecture with data wins (all slices come from one
/// build, so they embed the same sections).
fn find_fat<'a, Fat: FatArch, R: ReadRef<'a>>(
    data: R,
    limits: &Limits,
) -> Result<Found<'a>, Problem> {
    // Java class files share the magic: their next four bytes are the class file version
    // (minor, major), and every major version is 45 or more. Real universal binaries have a
    // handful of slices, so more than `MAX_ARCHES` (the bound `file(1)` uses) is not a binary.
    const MAX_ARCHES: u32 = 30;
    let count = data
        .read_bytes_at(4, 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .map_err(|()| Problem::Malformed("truncated universal header".into()))?;
    if count == 0 || count > MAX_ARCHES {
        return Err(Problem::NotABinary);
    }
    let fat = object::read::macho::MachOFatFile::<Fat>::parse(data)?;
    // And every slice names a CPU type that exists: a positive sign of a universal binary.
    if !fat.arches().iter().all(|arch| known_cpu(arch.cputype().0)) {
        return Err(Problem::NotABinary);
    }
    // The load commands of all slices together stay under the header limit: each slice is
    // read separately, so 30 slices claiming the limit each would cost 30 times it.
    let mut budget = limits.max_header_size;
    for arch in fat.arches() {
        let (offset, _) = arch.file_range();
        let header = data
            .read_bytes_at(offset, 4)
            .map_err(|()| Problem::Malformed("architecture slice outside the file".into()))?;
        let found = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
            macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => find_macho_sections::<
                macho::MachHeader64<Endianness>,
                R,
            >(
                data, offset, limits, &mut budget
            )?,
            macho::MH_MAGIC | macho::MH_CIGAM => find_macho_sections::<
                macho::MachHeader32<Endianness>,
                R,
            >(data, offset, limits, &mut budget)?,
            _ => {
                return Err(Problem::Malformed(
                    "architecture slice is not Mach-O".into(),
                ));
            }
        };
        if found.bldinfo.is_some() || found.dep_v0.is_some() {
            return Ok(found);
        }
    }
    Ok(Found::default())
}

/// A Mach-O CPU type: a small base type (x86 is 7, ARM 12, PowerPC 18) with, at most, one of
/// the 64-bit ABI flags in the high byte.
fn known_cpu(cputype: u32) -> bool {
    let abi = cputype & 0xff00_0000;
    let base = cputype & 0x00ff_ffff;
    matches!(abi, 0 | macho::CPU_ARCH_ABI64 | macho::CPU_ARCH_ABI64_32) && (1..=24).contains(&base)
}

fn find_macho_sections<'a, Mach, R>(
    data: R,
    offset: u64,
    limits: &Limits,
    header_budget: &mut u64,
) -> Result<Found<'a>, Problem>
where
    Mach: MachHeader<Endian = Endianness>,
    R: ReadRef<'a>,
{
    let header = Mach::parse(data, offset)?;
    let endian = header.endian()?;
    if header.filetype(endian) == macho::MH_OBJECT {
        return Err(Problem::NotABinary);
    }
    let commands = u64::from(header.sizeofcmds(endian));
    if commands > *header_budget {
        return Err(Problem::TooLarge {
            what: "the Mach-O load commands".into(),
            size: commands,
            limit: limits.max_header_size,
        });
    }
    *header_budget -= commands;
    let mut found = Found::default();
    let mut iter = header.load_commands(endian, data, offset)?;
    while let Some(command) = iter.next()? {
        let Some((segment, section_data)) = Mach::Segment::from_command(command)? else {
            continue;
        };
        if segment.name() != MACHO_SEGMENT.as_bytes() {
            continue;
        }
        for section in segment.sections(endian, section_data)? {
            let name = section.name();
            let Some((label, slot)) = found.slot(name) else {
                continue;
            };
            check_section(label, section.size(endian).into(), limits)?;
            // Section offsets are relative to the start of this architecture's slice.
            let start = offset + u64::from(section.offset(endian));
            *slot = Some(section.data(endian, data, start).map_err(|_| {
                Problem::Malformed(format!("section {label} lies outside the file"))
            })?);
        }
    }
    Ok(found)
}
