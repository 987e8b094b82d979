//! The debug information (DWARF) of an ELF binary, asked about the functions its symbols did
//! not show: found in an inline tree or as code (`Present`), or absent from debug information
//! that covers the crate (`NotFound`), or `Unknown`.
//!
//! What is read: `.debug_info` with `.debug_abbrev` and the string, address and range sections
//! it refers to, from the binary or, when the binary has none, from its `.gnu_debuglink`
//! companion (see [`companion`]). Compressed sections (`SHF_COMPRESSED`, zlib) are inflated
//! within [`DwarfLimits`]. Mach-O keeps its DWARF in a separate `.dSYM` bundle and PE in a PDB
//! file: neither is read, and the answer there stays `Unknown`.
//!
//! # How a debugging entry is matched
//!
//! Every `DW_TAG_subprogram` whose `DW_AT_name` (generic arguments cut off) is the function's
//! name is a candidate. It counts only when live: it has code of its own (`DW_AT_low_pc` or
//! `DW_AT_ranges` at an address other than 0 or a tombstone: the linker gives 0 to the debug
//! information of code it removed), or it is reached from a live `DW_TAG_inlined_subroutine`
//! or live subprogram through `DW_AT_abstract_origin` and `DW_AT_specification`, followed to
//! the end (with `debug = true`, an inline tree points at an abstract definition without a
//! name, which points at the declaration inside its type that has the name). Then:
//!
//! - with a `DW_AT_linkage_name` (`debug = true`, dev builds), the mangled name is matched by
//!   the symbol table's rule (`function_names::symbol_matches`);
//! - with enclosing `DW_TAG_namespace` entries (the crate, its modules, `{impl#N}` for an impl
//!   block), the path they spell is matched the same way; an impl block hides the type's
//!   name, so under one the crate and the function name must agree, and nothing else;
//! - without either (`debug = "line-tables-only"`: rustc 1.95 emits each subprogram with its
//!   bare name, `unpack<R>`, at the top of the unit, and the inline trees in full), the crate
//!   cannot be told, and the name alone decides.
//!
//! A candidate that shares only the crate and the name, not the path, makes the answer
//! `Unknown`, never `NotFound`. So the rule errs towards `Present`, like the symbol rule.
//!
//! # When "not found" is said
//!
//! Only when all of these hold:
//!
//! - the debug information is whole: at least one unit holds subprograms, no unit is a
//!   skeleton of split DWARF (`split-debuginfo`, whose entries live in `.dwo` files);
//! - the crate is seen in the debug information itself: a top-level namespace, a linkage
//!   name, or a path inside a name (`fold<…, tarlike::archive::…>`) spells it (a symbol is
//!   not enough: the standard library's debug information may be all there is);
//! - every code symbol of the crate lies within some unit's address ranges (below);
//! - no live candidate matches, loosely or fully.
//!
//! How a unit's crate is told: rustc names a unit `<source path>/@/<crate>.<hash>-cgu.<n>`
//! (incremental builds: a hash after `/@/`) and nests each item in a `DW_TAG_namespace` per
//! path segment, the crate first; so a crate is told from the namespaces and linkage names,
//! not from the units, which fat LTO merges and generic code leaves (a generic function's
//! debug information lives in the unit of the crate that instantiates it).
//!
//! A call that the optimiser turns into no instructions at all (a constant, say) leaves no
//! inline entry: no code of the function is in the binary then, and `NotFound` says so.
//!
//! A crate built without debug information while others have it (`strip = false` with
//! `debug = false` keeps only the standard library's; a `[profile.*.package.<crate>] debug =
//! false` override) is caught where its code has symbols: every code symbol of the asked
//! crate (`STT_FUNC`, from the symbol reader) must lie within some unit's address ranges, or
//! the answer is `Unknown`. What stays unseen is code of such a crate without a symbol of its
//! own (inlined by LLVM into another function of that crate).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use gimli::{AttributeValue, EndianSlice, RunTimeEndian, SectionId, UnitType};
use object::read::ReadCache;
use object::read::elf::{CompressionHeader as _, FileHeader, SectionHeader as _};
use object::{Endianness, ReadRef, elf};

use super::function_names::{Query, contains, identifier, symbol_matches_query};

/// Default largest DWARF section read, in bytes, compressed or inflated: 512 MiB.
pub const MAX_DWARF_SECTION_SIZE: u64 = 512 << 20;
/// Default largest sum of the DWARF sections read, in bytes, after inflation: 1 GiB.
pub const MAX_DWARF_TOTAL: u64 = 1 << 30;
/// Default largest number of units walked.
pub const MAX_DWARF_UNITS: u64 = 1 << 20;
/// Default deepest nesting of entries followed.
pub const MAX_DWARF_DEPTH: usize = 256;
/// Default largest number of entries (and address ranges) visited over one binary.
pub const MAX_DWARF_ENTRIES: u64 = 200_000_000;
/// Default largest number of references between entries kept (`DW_AT_abstract_origin` and
/// `DW_AT_specification` of subprograms and inline trees), at 16 bytes each at most: 256 MiB.
pub const MAX_DWARF_REFERENCES: u64 = 1 << 24;

/// The bounds of the DWARF reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DwarfLimits {
    pub section: u64,
    pub total: u64,
    pub units: u64,
    pub depth: usize,
    pub entries: u64,
    pub references: u64,
}

/// What the debug information says about each function asked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Found: the entry, in words.
    Present(String),
    /// A subprogram with the name and crate but another path: `Unknown`, with this reason.
    NameOnly(String),
    /// Nothing matched; whether the crate was seen in the DWARF, and whether the type the
    /// function is a method of was (see [`owner`]). `NotFound` only when the crate was and
    /// the type was not, and when every code symbol of the crate lies within a unit
    /// ([`Reading::uncovered`]).
    Absent { crate_seen: bool, owner_seen: bool },
}

/// The whole reading: one answer per query (`None` for a query that does not parse).
pub(crate) struct Reading {
    pub answers: Vec<Option<Answer>>,
    /// Where the DWARF came from (the binary, or its companion).
    pub source: PathBuf,
    /// The units' address ranges, sorted, merged, disjoint.
    covered: Vec<(u64, u64)>,
}

impl Reading {
    /// The first of `code` (a crate's code addresses, from the symbols) that no unit covers;
    /// `Some(0)` for `None` (more addresses than were kept).
    pub fn uncovered(&self, code: Option<&[u64]>) -> Option<u64> {
        let Some(code) = code else { return Some(0) };
        code.iter().copied().find(|&address| {
            let after = self.covered.partition_point(|&(begin, _)| begin <= address);
            after == 0 || address >= self.covered[after - 1].1
        })
    }
}

/// Reads the DWARF of `path` (or of its debuglink companion) and answers each query.
/// An `Err` is the reason in one line, without the path; empty for a file that is not ELF.
pub(crate) fn read(
    path: &Path,
    queries: &[Option<Query>],
    limits: &DwarfLimits,
    max_file_size: u64,
    max_header_size: u64,
) -> Result<Reading, String> {
    let sections = load(path, limits, max_file_size, max_header_size)?;
    let (sections, source) = if sections.has_info() {
        (sections, path.to_owned())
    } else if let Some(link) = &sections.debuglink {
        let companion = companion::find(path, link, sections.build_id.as_deref(), max_file_size)?;
        let loaded = load(&companion, limits, max_file_size, max_header_size)
            .map_err(|e| format!("the debuglink companion {}: {e}", companion.display()))?;
        if !loaded.has_info() {
            return Err(format!(
                "the debuglink companion {} has no .debug_info",
                companion.display()
            ));
        }
        (loaded, companion)
    } else {
        return Err("no debug information (.debug_info), and no .gnu_debuglink".into());
    };
    let (answers, covered) = walk(&sections, queries, limits)?;
    Ok(Reading {
        answers,
        source,
        covered,
    })
}

/// The sections gimli reads, owned.
#[derive(Default)]
struct Sections {
    endian: Option<RunTimeEndian>,
    data: BTreeMap<&'static str, Vec<u8>>,
    debuglink: Option<(Vec<u8>, u32)>,
    build_id: Option<Vec<u8>>,
}

impl Sections {
    fn has_info(&self) -> bool {
        self.data.get(".debug_info").is_some_and(|d| !d.is_empty())
    }
}

/// The sections read: the entries, what their attributes point into, and `.debug_line`,
/// whose header gimli reads with each unit.
const WANTED: [&str; 10] = [
    ".debug_info",
    ".debug_line",
    ".debug_abbrev",
    ".debug_str",
    ".debug_str_offsets",
    ".debug_line_str",
    ".debug_addr",
    ".debug_ranges",
    ".debug_rnglists",
    ".debug_types",
];

fn load(
    path: &Path,
    limits: &DwarfLimits,
    max_file_size: u64,
    max_header_size: u64,
) -> Result<Sections, String> {
    // A file that cannot be opened, or is not ELF: the symbol reader said so already.
    let (mut file, metadata) = crate::untrusted_file::open(path).map_err(|_| String::new())?;
    let size = metadata.len();
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic).map_err(|_| String::new())?;
    if magic != *b"\x7fELF" {
        // Mach-O keeps its DWARF in a `.dSYM` bundle, PE in a PDB file, and neither is read:
        // the symbol reader's reason says all there is (an empty reason adds nothing).
        return Err(String::new());
    }
    if size > max_file_size {
        return Err(format!(
            "the file is {size} bytes, over the limit of {max_file_size}"
        ));
    }
    let cache = ReadCache::new(file);
    let ident = (&cache)
        .read_bytes_at(0, 16)
        .map_err(|()| "truncated ELF identification".to_owned())?;
    let (endian, plans) = match ident[4] {
        1 => plan_elf::<elf::FileHeader32<Endianness>, _>(&cache, size, limits, max_header_size),
        2 => plan_elf::<elf::FileHeader64<Endianness>, _>(&cache, size, limits, max_header_size),
        class => Err(format!("unknown ELF class {class}")),
    }?;
    // The headers' cache is dropped; each section is read once, into its own buffer.
    let mut file = cache.into_inner();
    let mut out = Sections {
        endian: Some(if endian == Endianness::Little {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        }),
        ..Sections::default()
    };
    let mut total = 0u64;
    for plan in plans {
        let label = plan.name;
        let read_at = |file: &mut std::fs::File, offset: u64, len: u64| {
            let mut buf = vec![
                0u8;
                usize::try_from(len)
                    .map_err(|_| format!("section {label} is too large"))?
            ];
            file.seek(SeekFrom::Start(offset))
                .and_then(|_| file.read_exact(&mut buf))
                .map_err(|e| format!("section {label} could not be read: {e}"))?;
            Ok::<_, String>(buf)
        };
        let bytes = match plan.compressed {
            None => read_at(&mut file, plan.offset, plan.size)?,
            Some(inflated) => {
                let compressed = read_at(&mut file, plan.offset, plan.size)?;
                let cap = usize::try_from(inflated).unwrap_or(usize::MAX);
                let bytes =
                    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, cap)
                        .map_err(|_| {
                            format!("section {label} is not a zlib stream of {inflated} bytes")
                        })?;
                if bytes.len() as u64 != inflated {
                    return Err(format!(
                        "section {label} inflates to {} bytes, not {inflated} as its header says",
                        bytes.len()
                    ));
                }
                bytes
            }
        };
        total = total.saturating_add(bytes.len() as u64);
        if total > limits.total {
            return Err(format!(
                "the DWARF sections add up to more than {} bytes (the limit)",
                limits.total
            ));
        }
        match label {
            ".gnu_debuglink" => out.debuglink = Some(companion::parse_link(&bytes, endian)?),
            ".note.gnu.build-id" => out.build_id = build_id(&bytes, endian),
            _ => {
                out.data.entry(label).or_insert(bytes);
            }
        }
    }
    Ok(out)
}

/// A section to read: where, how large in the file, and its inflated size when compressed.
struct Plan {
    name: &'static str,
    offset: u64,
    size: u64,
    compressed: Option<u64>,
}

/// The sections to read, checked against the limits and the file's size.
fn plan_elf<'a, Elf, R>(
    data: R,
    file_size: u64,
    limits: &DwarfLimits,
    max_header_size: u64,
) -> Result<(Endianness, Vec<Plan>), String>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'a>,
{
    let malformed = |e: object::read::Error| format!("malformed ELF file: {e}");
    let header = Elf::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(malformed)?;
    let table = u64::from(header.shnum(endian, data).map_err(malformed)?)
        .saturating_mul(u64::from(header.e_shentsize(endian)));
    if table > max_header_size {
        return Err(format!(
            "the ELF section header table is {table} bytes, over the limit of {max_header_size}"
        ));
    }
    let sections = header.sections(endian, data).map_err(malformed)?;
    let shstrndx = header.shstrndx(endian, data).map_err(malformed)?;
    let names = sections
        .strings(endian, data, object::SectionIndex(shstrndx as usize))
        .map_err(malformed)?;
    let mut plans: Vec<Plan> = Vec::new();
    let mut total = 0u64;
    for section in sections.iter() {
        if section.sh_type(endian) == elf::SHT_NOBITS {
            continue;
        }
        let Ok(name) = section.name(endian, names) else {
            continue;
        };
        let Some(&label) = WANTED
            .iter()
            .chain(&[".gnu_debuglink", ".note.gnu.build-id"])
            .find(|w| w.as_bytes() == name)
        else {
            continue;
        };
        if plans.iter().any(|p| p.name == label) {
            // The first of a name wins; the others are never read.
            continue;
        }
        let small = !label.starts_with(".debug");
        let limit = if small { 4096 } else { limits.section };
        let (mut offset, mut size) = section.file_range(endian).unwrap_or((0, 0));
        if size > limit {
            return Err(format!(
                "section {label} is {size} bytes, over the limit of {limit}"
            ));
        }
        if offset.checked_add(size).is_none_or(|end| end > file_size) {
            return Err(format!("section {label} lies outside the file"));
        }
        let compressed = match section.compression(endian, data).map_err(malformed)? {
            None => None,
            Some((ch, at, len)) => {
                if ch.ch_type(endian) != elf::ELFCOMPRESS_ZLIB {
                    return Err(format!(
                        "section {label} is compressed other than with zlib"
                    ));
                }
                let inflated: u64 = ch.ch_size(endian).into();
                if inflated > limit {
                    return Err(format!(
                        "section {label} inflates to {inflated} bytes, over the limit of {limit}"
                    ));
                }
                (offset, size) = (at, len);
                Some(inflated)
            }
        };
        total = total.saturating_add(compressed.unwrap_or(size));
        if total > limits.total {
            return Err(format!(
                "the DWARF sections add up to more than {} bytes (the limit)",
                limits.total
            ));
        }
        plans.push(Plan {
            name: label,
            offset,
            size,
            compressed,
        });
    }
    Ok((endian, plans))
}

/// The descriptor of a `NT_GNU_BUILD_ID` note.
fn build_id(note: &[u8], endian: Endianness) -> Option<Vec<u8>> {
    let word = |at: usize| -> Option<u32> {
        let b: [u8; 4] = note.get(at..at + 4)?.try_into().ok()?;
        Some(if endian == Endianness::Little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let (namesz, descsz, kind) = (word(0)? as usize, word(4)? as usize, word(8)?);
    if kind != 3 {
        return None;
    }
    let desc = 12 + namesz.div_ceil(4) * 4;
    note.get(desc..desc.checked_add(descsz)?)
        .filter(|d| !d.is_empty())
        .map(<[u8]>::to_vec)
}

type Slice<'a> = EndianSlice<'a, RunTimeEndian>;

/// A subprogram whose name is a function asked about.
struct Candidate {
    /// Has code of its own.
    live: bool,
    /// Is the origin of live code (an inline tree, an out-of-line instance).
    referenced: bool,
    /// Per query: 2 full match, 1 crate and name only, 0 none.
    grades: Vec<u8>,
    /// The entry in words.
    words: String,
}

/// One answer per query, and the units' address ranges (sorted, merged).
type Walked = (Vec<Option<Answer>>, Vec<(u64, u64)>);

fn walk(
    sections: &Sections,
    queries: &[Option<Query>],
    limits: &DwarfLimits,
) -> Result<Walked, String> {
    let endian = sections.endian.unwrap_or(RunTimeEndian::Little);
    let mut dwarf = gimli::Dwarf::load(|id: SectionId| {
        Ok::<_, ()>(EndianSlice::new(
            sections.data.get(id.name()).map_or(&[][..], Vec::as_slice),
            endian,
        ))
    })
    .map_err(|()| "the DWARF sections could not be loaded".to_owned())?;
    // An abbreviation table that several units share is parsed once: a file whose many
    // units all point at one large table costs that table once, not once per unit. (rustc
    // gives each unit its own table, so a real binary caches nothing.)
    dwarf.populate_abbreviations_cache(gimli::AbbreviationsCacheStrategy::Duplicates);
    // gimli's messages may span lines: one line, as every reason.
    let bad = |e: gimli::Error| {
        let words: Vec<String> = e
            .to_string()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        format!("malformed DWARF: {}", words.join(" "))
    };
    let names: BTreeSet<&str> = queries
        .iter()
        .flatten()
        .map(|q| q.function.as_str())
        .collect();
    let mut crate_seen = vec![false; queries.len()];
    let mut owner_seen = vec![false; queries.len()];
    let owners: Vec<Option<&str>> = queries.iter().map(|q| q.as_ref().and_then(owner)).collect();
    let needles: Vec<String> = queries
        .iter()
        .map(|q| {
            q.as_ref()
                .map_or_else(String::new, |q| format!("{}::", q.crate_name))
        })
        .collect();
    let mut candidates: Vec<Candidate> = Vec::new();
    // The candidates by their offset in `.debug_info`.
    let mut candidate_at: BTreeMap<usize, usize> = BTreeMap::new();
    // The origins of live code (`DW_AT_abstract_origin`, `DW_AT_specification` of a live
    // entry), and every other subprogram's own references: an origin is often itself a
    // definition without a name that points on to the declaration holding the name (a method
    // with `debug = true`: inline tree -> abstract definition -> declaration in its type), so
    // what is reached from live code is followed to the end, at the end of the walk.
    let mut roots: Vec<usize> = Vec::new();
    // (from, to), sorted at the end.
    let mut onward: Vec<(usize, usize)> = Vec::new();
    let mut covered: Vec<(u64, u64)> = Vec::new();
    let mut units = 0u64;
    let mut entries = 0u64;
    let mut with_subprograms = 0u64;
    let mut headers = dwarf.units();
    while let Some(header) = headers.next().map_err(bad)? {
        units += 1;
        if units > limits.units {
            return Err(format!("more than {} units (the limit)", limits.units));
        }
        if matches!(
            header.type_(),
            UnitType::Skeleton(_) | UnitType::SplitCompilation(_)
        ) {
            return Err(
                "split DWARF (a skeleton unit): the entries are in .dwo files, not read".into(),
            );
        }
        let unit = dwarf.unit(header).map_err(bad)?;
        // The unit's code, for the coverage check.
        let mut ranges = dwarf.unit_ranges(&unit).map_err(bad)?;
        while let Some(range) = ranges.next().map_err(bad)? {
            entries += 1;
            if entries > limits.entries {
                return Err(format!(
                    "more than {} debugging entries (the limit)",
                    limits.entries
                ));
            }
            if range.begin != 0 && range.begin < range.end {
                covered.push((range.begin, range.end));
            }
        }
        let mut cursor = unit.entries();
        // The enclosing namespaces: (depth, name).
        let mut stack: Vec<(isize, String)> = Vec::new();
        let mut depth = 0isize;
        let mut subprograms = false;
        while let Some((delta, entry)) = cursor.next_dfs().map_err(bad)? {
            entries += 1;
            if entries > limits.entries {
                return Err(format!(
                    "more than {} debugging entries (the limit)",
                    limits.entries
                ));
            }
            depth += delta;
            if usize::try_from(depth).is_ok_and(|d| d > limits.depth) || depth < 0 {
                return Err(format!(
                    "debugging entries nested deeper than {} (the limit)",
                    limits.depth
                ));
            }
            while stack.last().is_some_and(|(d, _)| *d >= depth) {
                stack.pop();
            }
            let tag = entry.tag();
            if tag == gimli::DW_TAG_compile_unit
                && entry
                    .attr_value(gimli::DW_AT_GNU_dwo_name)
                    .map_err(bad)?
                    .or(entry.attr_value(gimli::DW_AT_dwo_name).map_err(bad)?)
                    .is_some()
            {
                return Err(
                    "split DWARF (a unit names a .dwo file): the entries are not here".into(),
                );
            }
            let name = match entry.attr_value(gimli::DW_AT_name).map_err(bad)? {
                Some(v) => dwarf
                    .attr_string(&unit, v)
                    .ok()
                    .map(|s| String::from_utf8_lossy(s.slice()).into_owned()),
                None => None,
            };
            // The crate, seen in any name that spells a path (`tarlike::…` in generic
            // arguments), or as a top-level namespace.
            if let Some(name) = &name {
                for (i, q) in queries.iter().enumerate() {
                    if let Some(q) = q
                        && !crate_seen[i]
                        && ((tag == gimli::DW_TAG_namespace
                            && stack.is_empty()
                            && *name == q.crate_name)
                            || spells_crate(name, &needles[i]))
                    {
                        crate_seen[i] = true;
                    }
                    // The method's type: declared in the crate, or spelled in a path.
                    if let (Some(q), Some(owner)) = (q, owners[i])
                        && !owner_seen[i]
                        && ((matches!(
                            tag,
                            gimli::DW_TAG_structure_type
                                | gimli::DW_TAG_enumeration_type
                                | gimli::DW_TAG_union_type
                        ) && identifier(name) == Some(owner)
                            && stack.first().is_some_and(|(_, c)| *c == q.crate_name))
                            || spells_owner(name, &needles[i], owner))
                    {
                        owner_seen[i] = true;
                    }
                }
            }
            // Namespaces (the crate, its modules, `{impl#N}`) and types (a method declared in
            // its type) spell the path of what they hold.
            if matches!(
                tag,
                gimli::DW_TAG_namespace
                    | gimli::DW_TAG_structure_type
                    | gimli::DW_TAG_enumeration_type
                    | gimli::DW_TAG_union_type
            ) {
                stack.push((depth, name.clone().unwrap_or_default()));
                continue;
            }
            let inlined = tag == gimli::DW_TAG_inlined_subroutine;
            if tag != gimli::DW_TAG_subprogram && !inlined {
                continue;
            }
            subprograms = true;
            let live = has_live_code(&dwarf, &unit, entry, &mut entries, limits).map_err(bad)?;
            let here = entry
                .offset()
                .to_debug_info_offset(&unit.header)
                .map_or(usize::MAX, |o| o.0);
            for at in [gimli::DW_AT_abstract_origin, gimli::DW_AT_specification] {
                if let Some(target) = entry.attr_value(at).map_err(bad)? {
                    let offset = match target {
                        AttributeValue::UnitRef(o) => {
                            o.to_debug_info_offset(&unit.header).map(|o| o.0)
                        }
                        AttributeValue::DebugInfoRef(o) => Some(o.0),
                        _ => None,
                    };
                    match offset {
                        Some(o) if live => roots.push(o),
                        // An entry without code says nothing by itself; its reference counts
                        // once something live reaches the entry: a subprogram's (an abstract
                        // definition pointing on to its declaration), and an inline tree's
                        // inside an abstract definition (a compiler may nest the trees of what
                        // a function inlined in its abstract instance, and point the concrete
                        // trees there rather than at the callee).
                        Some(o) => onward.push((here, o)),
                        None => continue,
                    }
                    if (roots.len() + onward.len()) as u64 > limits.references {
                        return Err(format!(
                            "more than {} references between debugging entries (the limit)",
                            limits.references
                        ));
                    }
                }
            }
            if inlined {
                continue;
            }
            let linkage = match entry
                .attr_value(gimli::DW_AT_linkage_name)
                .map_err(bad)?
                .or(entry
                    .attr_value(gimli::DW_AT_MIPS_linkage_name)
                    .map_err(bad)?)
            {
                Some(v) => dwarf
                    .attr_string(&unit, v)
                    .ok()
                    .and_then(|s| std::str::from_utf8(s.slice()).ok().map(str::to_owned)),
                None => None,
            };
            if let Some(linkage) = &linkage {
                for (i, q) in queries.iter().enumerate() {
                    let Some(q) = q else { continue };
                    if !contains(linkage.as_bytes(), q.crate_name.as_bytes()) {
                        continue;
                    }
                    if !crate_seen[i] && symbol_matches_query(&loose(q), linkage) {
                        crate_seen[i] = true;
                    }
                    if let Some(owner) = owners[i]
                        && !owner_seen[i]
                        && spells_owner(
                            &format!("{:#}", rustc_demangle::demangle(linkage)),
                            &needles[i],
                            owner,
                        )
                    {
                        owner_seen[i] = true;
                    }
                }
            }
            let Some(id) = name.as_deref().and_then(identifier) else {
                continue;
            };
            if !names.contains(id) {
                continue;
            }
            let namespaces: Vec<&str> = stack.iter().map(|(_, n)| n.as_str()).collect();
            let grades = queries
                .iter()
                .map(|q| {
                    q.as_ref()
                        .map_or(0, |q| grade(q, linkage.as_deref(), &namespaces, id))
                })
                .collect();
            let words = match &linkage {
                Some(l) => format!("{:#}", rustc_demangle::demangle(l)),
                None if namespaces.is_empty() => format!("`{}`", name.unwrap_or_default()),
                None => format!("{}::{}", namespaces.join("::"), name.unwrap_or_default()),
            };
            candidate_at.insert(here, candidates.len());
            candidates.push(Candidate {
                live,
                referenced: false,
                grades,
                words,
            });
        }
        if subprograms {
            with_subprograms += 1;
        }
    }
    if with_subprograms == 0 {
        return Err("the debug information holds no subprograms (line directives only)".into());
    }
    // Everything live code reaches, each entry once (a cycle of references ends).
    onward.sort_unstable();
    let mut reached: BTreeSet<usize> = BTreeSet::new();
    while let Some(o) = roots.pop() {
        if reached.insert(o) {
            if let Some(&c) = candidate_at.get(&o) {
                candidates[c].referenced = true;
            }
            let first = onward.partition_point(|&(from, _)| from < o);
            roots.extend(
                onward[first..]
                    .iter()
                    .take_while(|&&(from, _)| from == o)
                    .map(|&(_, to)| to),
            );
        }
    }
    // Sorted and merged into disjoint ranges, so that one binary search answers.
    covered.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(covered.len());
    for (begin, end) in covered {
        match merged.last_mut() {
            Some(last) if begin <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((begin, end)),
        }
    }
    let answers = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let q = q.as_ref()?;
            let live = || {
                candidates
                    .iter()
                    .filter(|c| c.live || c.referenced)
            };
            if let Some(c) = live().find(|c| c.grades[i] == 2) {
                let how = if c.live { "with code" } else { "inlined" };
                return Some(Answer::Present(format!(
                    "{} ({how}, in the debug information)",
                    c.words
                )));
            }
            if let Some(c) = live().find(|c| c.grades[i] == 1) {
                return Some(Answer::NameOnly(format!(
                    "the debug information has {} of crate `{}` under another path than the one asked",
                    c.words, q.crate_name
                )));
            }
            Some(Answer::Absent {
                crate_seen: crate_seen[i],
                owner_seen: owner_seen[i],
            })
        })
        .collect();
    Ok((answers, merged))
}

/// The query with its middle segments dropped: crate and name only.
fn loose(q: &Query) -> Query {
    Query {
        crate_name: q.crate_name.clone(),
        middle: Vec::new(),
        function: q.function.clone(),
    }
}

/// 2: matches the query; 1: same crate (or a crate that cannot be told) and name; 0: no.
fn grade(q: &Query, linkage: Option<&str>, namespaces: &[&str], id: &str) -> u8 {
    if id != q.function {
        return 0;
    }
    let mut best = 0;
    if let Some(linkage) = linkage {
        if symbol_matches_query(q, linkage) {
            return 2;
        }
        if symbol_matches_query(&loose(q), linkage) {
            best = 1;
        }
    }
    if namespaces.is_empty() {
        // No namespaces and no path in the linkage name: the crate cannot be told.
        return if linkage.is_some() { best } else { 2 };
    }
    let hidden_type = namespaces.iter().any(|n| n.starts_with('{'));
    let mut path: Vec<&str> = namespaces.iter().filter_map(|n| identifier(n)).collect();
    path.push(id);
    if q.matches(&path) || (hidden_type && path.first() == Some(&q.crate_name.as_str())) {
        return 2;
    }
    if path.first() == Some(&q.crate_name.as_str()) {
        best = 1;
    }
    best
}

/// The type a queried function is a method of: the segment before the function when it is
/// spelled as a type (an upper-case first letter, Rust's naming convention), else `None` (a
/// free function, or a module's).
///
/// A method whose type is in use may have been called and inlined into no code at all (a
/// constructor such as `into_iter`, whose work runs in the iterator it returns): such a call
/// leaves no inline entry, so absence from the inline trees proves nothing while the type is
/// in use. "Not found" is then not said.
fn owner(q: &Query) -> Option<&str> {
    q.middle
        .last()
        .filter(|s| s.chars().next().is_some_and(char::is_uppercase))
        .map(String::as_str)
}

/// Whether `name` spells a path of the crate (`needle`, `crate::`) with the segment `owner`
/// (`bumpalo::collections::vec::Vec<u8>` for `Vec`).
fn spells_owner(name: &str, needle: &str, owner: &str) -> bool {
    name.match_indices(needle).any(|(at, _)| {
        let boundary = name[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let rest = &name[at + needle.len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        boundary && rest[..end].split("::").any(|s| s == owner)
    })
}

/// `needle` (`crate::`) at the start of `name` or after a character that cannot be part of
/// a name.
fn spells_crate(name: &str, needle: &str) -> bool {
    name.match_indices(needle).any(|(at, _)| {
        name[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Whether the entry has code at an address the linker kept (not 0, not a tombstone).
fn has_live_code(
    dwarf: &gimli::Dwarf<Slice<'_>>,
    unit: &gimli::Unit<Slice<'_>>,
    entry: &gimli::DebuggingInformationEntry<'_, '_, Slice<'_>>,
    entries: &mut u64,
    limits: &DwarfLimits,
) -> gimli::Result<bool> {
    if entry.attr_value(gimli::DW_AT_low_pc)?.is_none()
        && entry.attr_value(gimli::DW_AT_ranges)?.is_none()
    {
        return Ok(false);
    }
    let mut ranges = dwarf.die_ranges(unit, entry)?;
    while let Some(range) = ranges.next()? {
        *entries += 1;
        if *entries > limits.entries {
            return Ok(true);
        }
        if range.begin != 0 && range.begin < range.end && range.begin < u64::MAX - 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) mod companion {
    //! The `.gnu_debuglink` companion: a file named by the binary, holding its DWARF.
    //!
    //! The name is the binary's choosing, so it is taken only as a plain file name (no `/`,
    //! no `..`) and looked for only in these places, in order: beside the binary, in
    //! `.debug/` beside it, under `/usr/lib/debug` followed by the binary's directory, and
    //! under `/usr/lib/debug/.build-id/xx/yyyy.debug` by the binary's build-id. The file is
    //! opened through the bounded opener (`untrusted_file`), and its CRC-32 must be the one
    //! the debuglink section gives.

    use std::fmt::Write as _;
    use std::io::Read as _;
    use std::path::{Path, PathBuf};

    use object::Endianness;

    /// The file name and CRC-32 of a `.gnu_debuglink` section.
    pub(crate) fn parse_link(bytes: &[u8], endian: Endianness) -> Result<(Vec<u8>, u32), String> {
        let end = bytes
            .iter()
            .position(|&b| b == 0)
            .ok_or("the .gnu_debuglink name has no end")?;
        let at = (end + 1).div_ceil(4) * 4;
        let crc: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or("the .gnu_debuglink section has no CRC")?;
        let crc = if endian == Endianness::Little {
            u32::from_le_bytes(crc)
        } else {
            u32::from_be_bytes(crc)
        };
        Ok((bytes[..end].to_vec(), crc))
    }

    /// Where the companion is: the first place that holds a regular file whose CRC matches.
    pub(crate) fn find(
        binary: &Path,
        (name, crc): &(Vec<u8>, u32),
        build_id: Option<&[u8]>,
        max_file_size: u64,
    ) -> Result<PathBuf, String> {
        let shown = String::from_utf8_lossy(name);
        let name = std::str::from_utf8(name)
            .ok()
            .filter(|n| !n.is_empty() && !n.contains('/') && !n.contains('\\') && *n != "." && !n.contains(".."))
            .ok_or_else(|| {
                format!("the .gnu_debuglink name `{}` is refused (only a plain file name is looked for)", shown.escape_debug())
            })?;
        let dir = binary
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        let mut places = vec![dir.join(name), dir.join(".debug").join(name)];
        places.push(
            Path::new("/usr/lib/debug")
                .join(dir.strip_prefix("/").unwrap_or(&dir))
                .join(name),
        );
        if let Some(id) = build_id
            && id.len() >= 2
        {
            let hex = id.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
            places.push(
                Path::new("/usr/lib/debug/.build-id")
                    .join(&hex[..2])
                    .join(format!("{}.debug", &hex[2..])),
            );
        }
        let mut wrong = None;
        for place in places {
            if place == binary {
                continue;
            }
            match file_crc(&place, max_file_size) {
                Some(found) if found == *crc => return Ok(place),
                Some(found) => {
                    wrong.get_or_insert(format!(
                        "the debuglink companion {} has CRC-32 {found:08x}, not {crc:08x} as the binary says",
                        place.display()
                    ));
                }
                None => {}
            }
        }
        Err(wrong.unwrap_or_else(|| {
            format!(
                "no debug information, and the debuglink companion `{name}` is not beside the binary, in .debug/ or under /usr/lib/debug"
            )
        }))
    }

    /// The CRC-32 of a regular file, read through the bounded opener; `None` when it is not
    /// there, not a regular file, or larger than `max_file_size`.
    fn file_crc(path: &Path, max_file_size: u64) -> Option<u32> {
        let (mut file, metadata) = crate::untrusted_file::open(path).ok()?;
        if metadata.len() > max_file_size {
            return None;
        }
        let mut crc = Crc32::default();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = file.read(&mut buf).ok()?;
            if n == 0 {
                return Some(crc.finish());
            }
            crc.update(&buf[..n]);
        }
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as `.gnu_debuglink` uses.
    pub(crate) struct Crc32 {
        table: [u32; 256],
        value: u32,
    }

    impl Default for Crc32 {
        fn default() -> Self {
            let mut table = [0u32; 256];
            for (c, slot) in (0u32..).zip(table.iter_mut()) {
                let mut c = c;
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
                *slot = c;
            }
            Crc32 {
                table,
                value: 0xFFFF_FFFF,
            }
        }
    }

    impl Crc32 {
        pub(crate) fn update(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.value =
                    self.table[((self.value ^ u32::from(b)) & 0xFF) as usize] ^ (self.value >> 8);
            }
        }

        pub(crate) fn finish(&self) -> u32 {
            !self.value
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn crc32_of_the_check_string() {
            let mut crc = Crc32::default();
            crc.update(b"123456789");
            assert_eq!(crc.finish(), 0xCBF4_3926);
        }

        #[test]
        fn names_with_a_path_are_refused() {
            for bad in [&b"../x"[..], b"a/b", b"..", b"", b".", b"x/../y"] {
                let err =
                    find(Path::new("/bin/true"), &(bad.to_vec(), 0), None, 1 << 30).unwrap_err();
                assert!(err.contains("is refused"), "{err}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(path: &str) -> Query {
        Query::parse(path).unwrap()
    }

    /// Debug information written entry by entry: each test lays out the trees that one rule
    /// of [`walk`] reads, and its near miss.
    mod written {
        use super::super::*;
        use gimli::write::{
            Address, AttributeValue as Value, Dwarf, EndianVec, LineProgram, Reference,
            Sections as Written, Unit, UnitEntryId, UnitId,
        };

        pub struct Builder {
            pub dwarf: Dwarf,
            pub unit: UnitId,
        }

        impl Builder {
            /// One unit with code at 0x1000..0x2000.
            pub fn new() -> Self {
                let mut dwarf = Dwarf::new();
                let unit = Self::add_unit(&mut dwarf);
                Builder { dwarf, unit }
            }

            pub fn add_unit(dwarf: &mut Dwarf) -> UnitId {
                Self::add_unit_at(dwarf, 0x1000, 0x1000)
            }

            /// A unit with code at `low..low + len`.
            pub fn add_unit_at(dwarf: &mut Dwarf, low: u64, len: u64) -> UnitId {
                let encoding = gimli::Encoding {
                    format: gimli::Format::Dwarf32,
                    version: 4,
                    address_size: 8,
                };
                let id = dwarf.units.add(Unit::new(encoding, LineProgram::none()));
                let unit = dwarf.units.get_mut(id);
                let root = unit.root();
                let root = unit.get_mut(root);
                root.set(gimli::DW_AT_name, Value::String(b"src/lib.rs".to_vec()));
                root.set(gimli::DW_AT_low_pc, Value::Address(Address::Constant(low)));
                root.set(gimli::DW_AT_high_pc, Value::Udata(len));
                id
            }

            pub fn root(&self, unit: UnitId) -> UnitEntryId {
                self.dwarf.units.get(unit).root()
            }

            /// A child of `parent` in `unit`; `code`: a range of its own.
            pub fn add(
                &mut self,
                unit: UnitId,
                parent: UnitEntryId,
                tag: gimli::DwTag,
                name: Option<&str>,
                code: Option<u64>,
            ) -> UnitEntryId {
                let unit = self.dwarf.units.get_mut(unit);
                let id = unit.add(parent, tag);
                let entry = unit.get_mut(id);
                if let Some(name) = name {
                    entry.set(gimli::DW_AT_name, Value::String(name.as_bytes().to_vec()));
                }
                if let Some(at) = code {
                    entry.set(gimli::DW_AT_low_pc, Value::Address(Address::Constant(at)));
                    entry.set(gimli::DW_AT_high_pc, Value::Udata(0x10));
                }
                id
            }

            pub fn set(&mut self, unit: UnitId, entry: UnitEntryId, at: gimli::DwAt, v: Value) {
                self.dwarf.units.get_mut(unit).get_mut(entry).set(at, v);
            }

            /// `main`, with code, at the top of the first unit.
            pub fn main(&mut self) -> UnitEntryId {
                let root = self.root(self.unit);
                self.add(
                    self.unit,
                    root,
                    gimli::DW_TAG_subprogram,
                    Some("main"),
                    Some(0x1000),
                )
            }

            /// An inline tree of `origin` in `parent` (first unit); `code` as in [`add`](Self::add).
            pub fn inline(
                &mut self,
                parent: UnitEntryId,
                origin: UnitEntryId,
                code: Option<u64>,
            ) -> UnitEntryId {
                let tree = self.add(
                    self.unit,
                    parent,
                    gimli::DW_TAG_inlined_subroutine,
                    None,
                    code,
                );
                self.refer(tree, gimli::DW_AT_abstract_origin, origin);
                tree
            }

            /// `from` refers to `to` (same unit) by `at`.
            pub fn refer(&mut self, from: UnitEntryId, at: gimli::DwAt, to: UnitEntryId) {
                self.set(self.unit, from, at, Value::UnitRef(to));
            }

            /// `from` (in `unit`) refers to `to` of another unit: `DW_FORM_ref_addr`.
            pub fn refer_across(
                &mut self,
                unit: UnitId,
                from: UnitEntryId,
                to: (UnitId, UnitEntryId),
            ) {
                self.set(
                    unit,
                    from,
                    gimli::DW_AT_abstract_origin,
                    Value::DebugInfoRef(Reference::Entry(to.0, to.1)),
                );
            }

            /// What [`walk`] answers for `functions`, within [`LIMITS`].
            pub fn answers(self, functions: &[&str]) -> Vec<Answer> {
                self.walk(functions, &LIMITS)
                    .unwrap()
                    .0
                    .into_iter()
                    .map(Option::unwrap)
                    .collect()
            }

            /// [`walk`] over the sections written.
            pub fn walk(
                mut self,
                functions: &[&str],
                limits: &DwarfLimits,
            ) -> Result<Walked, String> {
                let mut written = Written::new(EndianVec::new(gimli::LittleEndian));
                self.dwarf.write(&mut written).unwrap();
                let mut sections = Sections {
                    endian: Some(RunTimeEndian::Little),
                    ..Sections::default()
                };
                written
                    .for_each(|id, data| {
                        if !data.slice().is_empty() {
                            let name = WANTED.iter().find(|w| **w == id.name()).unwrap();
                            sections.data.insert(name, data.slice().to_vec());
                        }
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                let queries: Vec<Option<Query>> =
                    functions.iter().map(|f| Query::parse(f)).collect();
                walk(&sections, &queries, limits)
            }
        }

        pub const LIMITS: DwarfLimits = DwarfLimits {
            section: 1 << 20,
            total: 1 << 20,
            units: 16,
            depth: 16,
            entries: 1 << 10,
            references: 1 << 10,
        };
    }

    use gimli::write::AttributeValue as Value;
    use written::Builder;

    const NOT_SEEN: Answer = Answer::Absent {
        crate_seen: false,
        owner_seen: false,
    };
    const CRATE_SEEN: Answer = Answer::Absent {
        crate_seen: true,
        owner_seen: false,
    };
    const OWNER_SEEN: Answer = Answer::Absent {
        crate_seen: true,
        owner_seen: true,
    };

    /// `tarlike` (a namespace) with the abstract definition of `checksum` (no code), and
    /// `main` with code: the usual layout of an inlined call.
    fn with_checksum() -> (
        Builder,
        gimli::write::UnitEntryId,
        gimli::write::UnitEntryId,
    ) {
        let mut b = Builder::new();
        let (u, root) = (b.unit, b.root(b.unit));
        let ns = b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
        let checksum = b.add(u, ns, gimli::DW_TAG_subprogram, Some("checksum"), None);
        let main = b.main();
        (b, checksum, main)
    }

    #[test]
    fn an_inline_tree_with_code_makes_its_origin_present_and_one_without_code_does_not() {
        let (mut b, checksum, main) = with_checksum();
        b.inline(main, checksum, Some(0x1004));
        let answers = b.answers(&["tarlike::checksum"]);
        assert!(
            matches!(&answers[0], Answer::Present(w) if w.contains("tarlike::checksum") && w.contains("inlined")),
            "{answers:?}"
        );

        let (mut b, checksum, main) = with_checksum();
        b.inline(main, checksum, None);
        assert_eq!(b.answers(&["tarlike::checksum"]), [CRATE_SEEN]);
    }

    #[test]
    fn empty_and_tombstoned_code_is_no_code() {
        use gimli::write::Address;
        let with_inline_code = |low: u64, high: u64| {
            let (mut b, checksum, main) = with_checksum();
            let u = b.unit;
            let inlined = b.inline(main, checksum, None);
            b.set(
                u,
                inlined,
                gimli::DW_AT_low_pc,
                Value::Address(Address::Constant(low)),
            );
            b.set(
                u,
                inlined,
                gimli::DW_AT_high_pc,
                Value::Address(Address::Constant(high)),
            );
            b.answers(&["tarlike::checksum"])
        };
        assert!(matches!(
            &with_inline_code(0x1004, 0x1005)[0],
            Answer::Present(_)
        ));
        assert_eq!(with_inline_code(0x1004, 0x1004), [CRATE_SEEN]);
        // Code at address 0, and the linkers' tombstones for code they dropped.
        assert_eq!(with_inline_code(0, 0x10), [CRATE_SEEN]);
        assert_eq!(with_inline_code(u64::MAX - 1, u64::MAX), [CRATE_SEEN]);
        assert!(matches!(
            &with_inline_code(u64::MAX - 2, u64::MAX - 1)[0],
            Answer::Present(_)
        ));
    }

    #[test]
    fn an_origin_is_followed_through_entries_without_code_to_the_end() {
        // debug = true: inline tree -> abstract definition (no name) -> declaration in its
        // type.
        let mut b = Builder::new();
        let (u, root) = (b.unit, b.root(b.unit));
        let ns = b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
        let archive = b.add(u, ns, gimli::DW_TAG_structure_type, Some("Archive"), None);
        let decl = b.add(u, archive, gimli::DW_TAG_subprogram, Some("unpack"), None);
        let list = b.add(u, archive, gimli::DW_TAG_subprogram, Some("list"), None);
        // Other definitions without code before it, so that its references are not the
        // first ones.
        for _ in 0..3 {
            let other = b.add(u, root, gimli::DW_TAG_subprogram, None, None);
            b.refer(other, gimli::DW_AT_specification, list);
        }
        let abstract_def = b.add(u, root, gimli::DW_TAG_subprogram, None, None);
        b.refer(abstract_def, gimli::DW_AT_specification, decl);
        let main = b.main();
        b.inline(main, abstract_def, Some(0x1004));
        let answers = b.answers(&["tarlike::Archive::unpack"]);
        assert!(
            matches!(&answers[0], Answer::Present(w) if w.contains("tarlike::Archive::unpack")),
            "{answers:?}"
        );

        // A nested abstract inline tree: the concrete tree points at the tree inside the
        // caller's abstract definition, which points at the callee.
        let (mut b, checksum, main) = with_checksum();
        let u = b.unit;
        let root = b.root(u);
        let caller = b.add(u, root, gimli::DW_TAG_subprogram, Some("read_all"), None);
        let nested = b.inline(caller, checksum, None);
        let outer = b.inline(main, caller, Some(0x1004));
        b.inline(outer, nested, Some(0x1008));
        let answers = b.answers(&["tarlike::checksum"]);
        assert!(matches!(&answers[0], Answer::Present(_)), "{answers:?}");

        // Nothing live reaches the chain: absent.
        let mut b = Builder::new();
        let (u, root) = (b.unit, b.root(b.unit));
        let ns = b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
        let decl = b.add(u, ns, gimli::DW_TAG_subprogram, Some("checksum"), None);
        let abstract_def = b.add(u, root, gimli::DW_TAG_subprogram, None, None);
        b.refer(abstract_def, gimli::DW_AT_specification, decl);
        b.main();
        assert_eq!(b.answers(&["tarlike::checksum"]), [CRATE_SEEN]);
    }

    #[test]
    fn the_crate_is_a_top_level_namespace_or_a_path_and_never_a_module_of_another_crate() {
        let with_namespaces = |outer: &str, inner: Option<&str>| {
            let mut b = Builder::new();
            let (u, root) = (b.unit, b.root(b.unit));
            let ns = b.add(u, root, gimli::DW_TAG_namespace, Some(outer), None);
            if let Some(inner) = inner {
                b.add(u, ns, gimli::DW_TAG_namespace, Some(inner), None);
            }
            b.main();
            b.answers(&["tarlike::checksum"])
        };
        assert_eq!(with_namespaces("tarlike", None), [CRATE_SEEN]);
        assert_eq!(with_namespaces("mytar", None), [NOT_SEEN]);
        assert_eq!(with_namespaces("mytar", Some("tarlike")), [NOT_SEEN]);
        assert_eq!(with_namespaces("mytar", Some("tarlike::x")), [CRATE_SEEN]);
    }

    #[test]
    fn a_function_of_the_name_answers_by_its_path() {
        let with_function = |path: &[&str], linkage: bool| {
            let mut b = Builder::new();
            let (u, root) = (b.unit, b.root(b.unit));
            b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
            let mut parent = root;
            for segment in path {
                parent = b.add(u, parent, gimli::DW_TAG_namespace, Some(segment), None);
            }
            let f = b.add(
                u,
                parent,
                gimli::DW_TAG_subprogram,
                Some("checksum"),
                Some(0x1000),
            );
            if linkage {
                b.set(
                    u,
                    f,
                    gimli::DW_AT_linkage_name,
                    Value::String(b"_ZN7tarlike8checksum17h0123456789abcdefE".to_vec()),
                );
            }
            b.answers(&["tarlike::checksum"])
        };
        // No namespace, no linkage name (line tables only): the name in backquotes.
        assert_eq!(
            with_function(&[], false),
            [Answer::Present(
                "`checksum` (with code, in the debug information)".into()
            )]
        );
        assert_eq!(
            with_function(&["tarlike"], false),
            [Answer::Present(
                "tarlike::checksum (with code, in the debug information)".into()
            )]
        );
        assert_eq!(
            with_function(&[], true),
            [Answer::Present(
                "tarlike::checksum (with code, in the debug information)".into()
            )]
        );
        // Asked in one module, found in another of the crate: the name only.
        let mut b = Builder::new();
        let (u, root) = (b.unit, b.root(b.unit));
        let ns = b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
        let other = b.add(u, ns, gimli::DW_TAG_namespace, Some("other"), None);
        b.add(
            u,
            other,
            gimli::DW_TAG_subprogram,
            Some("checksum"),
            Some(0x1000),
        );
        assert_eq!(
            b.answers(&["tarlike::header::checksum"]),
            [Answer::NameOnly(
                "the debug information has tarlike::other::checksum of crate `tarlike` under \
                 another path than the one asked"
                    .into()
            )]
        );
        // Another crate's: nothing.
        assert_eq!(with_function(&["mytar"], false), [CRATE_SEEN]);
    }

    /// The smallest value of one limit that `walk` passes with (the others at [`LIMITS`]),
    /// and the error one below it.
    fn tightest(build: impl Fn() -> Builder, set: impl Fn(&mut DwarfLimits, u64)) -> (u64, String) {
        let pass = (0..64)
            .find(|&n| {
                let mut limits = written::LIMITS;
                set(&mut limits, n);
                build().walk(&["tarlike::checksum"], &limits).is_ok()
            })
            .unwrap();
        let mut limits = written::LIMITS;
        set(&mut limits, pass - 1);
        let err = build()
            .walk(&["tarlike::checksum"], &limits)
            .map(|_| ())
            .unwrap_err();
        (pass, err)
    }

    #[test]
    fn each_limit_is_exact() {
        // Two units; in the first, namespaces three deep and a function with code that an
        // inline tree of `main` (with code) refers to.
        let build = || {
            let mut b = Builder::new();
            let (u, root) = (b.unit, b.root(b.unit));
            let ns = b.add(u, root, gimli::DW_TAG_namespace, Some("tarlike"), None);
            let module = b.add(u, ns, gimli::DW_TAG_namespace, Some("archive"), None);
            let inner = b.add(u, module, gimli::DW_TAG_namespace, Some("header"), None);
            let f = b.add(u, inner, gimli::DW_TAG_subprogram, Some("checksum"), None);
            let main = b.main();
            b.inline(main, f, Some(0x1004));
            Builder::add_unit_at(&mut b.dwarf, 0x3000, 0x100);
            b
        };
        assert_eq!(
            tightest(build, |l, n| l.units = n),
            (2, "more than 1 units (the limit)".to_owned())
        );
        // Root 0, tarlike 1, archive 2, header 3, checksum 4.
        assert_eq!(
            tightest(build, |l, n| l.depth = usize::try_from(n).unwrap()),
            (
                4,
                "debugging entries nested deeper than 3 (the limit)".to_owned()
            )
        );
        // Units' ranges 2, entries 8 (7 in the first unit, the root of the second), the
        // ranges of `main` and of the inline tree 2.
        assert_eq!(
            tightest(build, |l, n| l.entries = n),
            (12, "more than 11 debugging entries (the limit)".to_owned())
        );
        // The inline tree's origin.
        assert_eq!(
            tightest(build, |l, n| l.references = n),
            (
                1,
                "more than 0 references between debugging entries (the limit)".to_owned()
            )
        );
    }

    #[test]
    fn the_units_code_is_merged_into_disjoint_ranges() {
        let mut b = Builder::new();
        // 0x1000..0x2000, then overlapping, touching, inside, apart, empty, at address 0.
        for (low, len) in [
            (0x1800, 0x1000),
            (0x2800, 0x800),
            (0x1100, 0x10),
            (0x5000, 0x100),
            (0x7000, 0),
            (0, 0x400),
        ] {
            let unit = Builder::add_unit_at(&mut b.dwarf, low, len);
            let root = b.root(unit);
            b.add(unit, root, gimli::DW_TAG_subprogram, Some("f"), None);
        }
        let (_, covered) = b.walk(&["tarlike::checksum"], &written::LIMITS).unwrap();
        assert_eq!(covered, [(0x1000, 0x3000), (0x5000, 0x5100)]);
    }

    #[test]
    fn an_origin_in_another_unit_is_reached() {
        let (mut b, checksum, _) = with_checksum();
        let first = b.unit;
        let second = Builder::add_unit(&mut b.dwarf);
        let root = b.root(second);
        let main = b.add(
            second,
            root,
            gimli::DW_TAG_subprogram,
            Some("run"),
            Some(0x1800),
        );
        let inlined = b.add(
            second,
            main,
            gimli::DW_TAG_inlined_subroutine,
            None,
            Some(0x1804),
        );
        b.refer_across(second, inlined, (first, checksum));
        let answers = b.answers(&["tarlike::checksum"]);
        assert!(matches!(&answers[0], Answer::Present(_)), "{answers:?}");
    }

    #[test]
    fn a_methods_type_declared_in_its_crate_is_its_owner_seen() {
        let query = ["tarlike::Archive::unpack"];
        let with_type = |namespace: &str, ty: &str| {
            let (mut b, _, _) = with_checksum();
            let (u, root) = (b.unit, b.root(b.unit));
            let ns = b.add(u, root, gimli::DW_TAG_namespace, Some(namespace), None);
            let module = b.add(u, ns, gimli::DW_TAG_namespace, Some("archive"), None);
            b.add(u, module, gimli::DW_TAG_structure_type, Some(ty), None);
            b.answers(&query)
        };
        assert_eq!(with_type("tarlike", "Archive<R>"), [OWNER_SEEN]);
        // Another type of the crate, the same type of another crate.
        assert_eq!(with_type("tarlike", "Entry"), [CRATE_SEEN]);
        assert_eq!(with_type("mytar", "Archive"), [CRATE_SEEN]);
        // A name that spells the type's path.
        let (mut b, _, main) = with_checksum();
        b.add(
            b.unit,
            main,
            gimli::DW_TAG_variable,
            Some("Option<tarlike::archive::Archive<u8>>"),
            None,
        );
        assert_eq!(b.answers(&query), [OWNER_SEEN]);
    }

    #[test]
    fn linkage_names_show_the_crate_and_the_methods_type() {
        let with_linkage = |linkage: &str| {
            let mut b = Builder::new();
            let (u, root) = (b.unit, b.root(b.unit));
            let f = b.add(
                u,
                root,
                gimli::DW_TAG_subprogram,
                Some("other"),
                Some(0x1000),
            );
            b.set(
                u,
                f,
                gimli::DW_AT_linkage_name,
                Value::String(linkage.as_bytes().to_vec()),
            );
            b.answers(&["tarlike::checksum", "tarlike::Archive::unpack"])
        };
        // The crate is seen in a function of its own with the name asked (in another
        // module, or of another type); the type in any of its paths.
        assert_eq!(
            with_linkage("_ZN7tarlike5other8checksum17h0123456789abcdefE"),
            [CRATE_SEEN, NOT_SEEN]
        );
        assert_eq!(
            with_linkage("_ZN7tarlike7archive7Archive6unpack17h0123456789abcdefE"),
            [NOT_SEEN, OWNER_SEEN]
        );
        assert_eq!(
            with_linkage("_ZN7tarlike7archive7Archive4list17h0123456789abcdefE"),
            [
                NOT_SEEN,
                Answer::Absent {
                    crate_seen: false,
                    owner_seen: true
                }
            ]
        );
        // The crate's name inside another crate's name.
        assert_eq!(
            with_linkage("_ZN10tarlikeish5other8checksum17h0123456789abcdefE"),
            [NOT_SEEN, NOT_SEEN]
        );
    }

    #[test]
    fn grades_by_linkage_name_namespaces_or_bare_name() {
        let unpack = q("tarlike::Archive::unpack");
        let linkage = "_ZN7tarlike7archive16Archive$LT$R$GT$6unpack17h22ffeeec4904e319E";
        assert_eq!(grade(&unpack, Some(linkage), &[], "unpack"), 2);
        // Another type's `unpack` of the same crate: crate and name only.
        let entry = "_ZN7tarlike5entry5Entry6unpack17h22ffeeec4904e319E";
        assert_eq!(grade(&unpack, Some(entry), &[], "unpack"), 1);
        // Another crate's.
        let other = "_ZN5mytar7archive7Archive6unpack17h22ffeeec4904e319E";
        assert_eq!(grade(&unpack, Some(other), &[], "unpack"), 0);
        // Namespaces: an impl block hides the type, so the crate and the name decide.
        assert_eq!(
            grade(&unpack, None, &["tarlike", "archive", "{impl#0}"], "unpack"),
            2
        );
        assert_eq!(
            grade(
                &unpack,
                None,
                &["tarlike", "archive", "Archive<R>"],
                "unpack"
            ),
            2
        );
        assert_eq!(
            grade(&unpack, None, &["tarlike", "entry", "Entry"], "unpack"),
            1
        );
        assert_eq!(
            grade(&unpack, None, &["symbols_fixture", "{impl#0}"], "unpack"),
            0
        );
        // No namespace, no linkage name (line tables only): the name alone.
        assert_eq!(grade(&unpack, None, &[], "unpack"), 2);
        assert_eq!(grade(&unpack, None, &[], "unpack_all"), 0);
    }

    #[test]
    fn a_crate_is_spelled_only_as_a_whole_segment() {
        assert!(spells_crate(
            "fold<u8, tarlike::archive::{impl#0}::unpack::{closure_env#0}>",
            "tarlike::"
        ));
        assert!(spells_crate("tarlike::checksum", "tarlike::"));
        assert!(!spells_crate("mytarlike::checksum", "tarlike::"));
        assert!(!spells_crate("tarlike_extra::checksum", "tarlike::"));
        assert!(!spells_crate("tarlike", "tarlike::"));
    }

    #[test]
    fn a_methods_type_is_its_owner_and_is_seen_only_in_its_crates_paths() {
        let owner_of = |path: &str| owner(&q(path)).map(str::to_owned);
        assert_eq!(
            owner_of("bumpalo::collections::vec::Vec::into_iter").as_deref(),
            Some("Vec")
        );
        assert_eq!(owner_of("tar::Archive::unpack").as_deref(), Some("Archive"));
        // Free functions, at the root or in a module, have none.
        assert_eq!(owner_of("time::now"), None);
        assert_eq!(owner_of("zlib_rs::inflate::inflate"), None);

        let needle = "bumpalo::";
        for (name, seen) in [
            ("drop_in_place<bumpalo::collections::vec::Vec<u8>>", true),
            ("bumpalo::collections::vec::Vec", true),
            ("extend<bumpalo::collections::vec::Vec<u8>, u8>", true),
            ("(bumpalo::collections::vec::Vec, u8)", true),
            // Another type of the crate, the type of another crate, a longer name.
            ("fold<bumpalo::collections::vec::IntoIter<u8>>", false),
            ("alloc::vec::Vec<u8>", false),
            ("mybumpalo::collections::vec::Vec<u8>", false),
            ("bumpalo::collections::vec::Vecs<u8>", false),
            ("bumpalo::collections::vec::MyVec<u8>", false),
            // The segment must follow the crate within one path.
            ("f<bumpalo::Bump, alloc::vec::Vec<u8>>", false),
            ("bumpalo", false),
            ("", false),
        ] {
            assert_eq!(spells_owner(name, needle, "Vec"), seen, "{name}");
        }
    }

    proptest::proptest! {
        /// Any name, crate and owner: no panic, and a `true` only where the name spells the
        /// crate followed, within one path, by the owner as a whole segment.
        #[test]
        fn spells_owner_never_panics_and_needs_the_crate_then_the_owner(
            name in "(\\PC|:|<|>|_|[a-zA-Z]){0,64}",
            krate in "[a-z_]{1,6}",
            owner in "[A-Z][a-zA-Z]{0,5}",
        ) {
            let needle = format!("{krate}::");
            let seen = spells_owner(&name, &needle, &owner);
            if seen {
                let at = name.find(&needle).unwrap();
                let segment = format!("::{owner}");
                proptest::prop_assert!(name[at..].contains(&segment));
            }
            // Spelled outright, it is seen.
            let spelled = format!("{name} {krate}::m::{owner}<u8>");
            proptest::prop_assert!(spells_owner(&spelled, &needle, &owner));
        }
    }

    #[test]
    fn a_build_id_note_gives_its_descriptor() {
        let mut note = Vec::new();
        for word in [4u32, 3, 3] {
            note.extend_from_slice(&word.to_le_bytes());
        }
        note.extend_from_slice(b"GNU\0\xab\xcd\xef");
        assert_eq!(
            build_id(&note, Endianness::Little),
            Some(vec![0xab, 0xcd, 0xef])
        );
        note[8] = 1;
        assert_eq!(build_id(&note, Endianness::Little), None);
        assert_eq!(build_id(&note[..10], Endianness::Little), None);
    }
}
