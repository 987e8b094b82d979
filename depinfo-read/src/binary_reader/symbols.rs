//! Which named functions a binary holds: `Present`, `NotFound` or `Unknown`, with the reason.
//!
//! The question comes from advisories that name functions (RustSec's `[affected] functions`,
//! such as `tar::Archive::unpack`). The answer is one of three:
//!
//! - [`FunctionVerdict::Present`]: a defined symbol of the binary demangles to that function
//!   (see [`symbol_matches`] for the rule), or its debug information has it, with code or
//!   inlined (the `dwarf` module: `binary_reader/dwarf.rs`);
//! - [`FunctionVerdict::NotFound`]: the debug information covers the function's crate and
//!   neither the symbols nor the inline trees hold it;
//! - [`FunctionVerdict::Unknown`]: everything else, with the reason in words. Symbols alone
//!   never prove that a function is absent: the compiler inlines functions into their callers
//!   and folds identical ones, and with `lto = "fat"` and `codegen-units = 1` a called
//!   function can vanish from the symbol table while its neighbours stay. So without debug
//!   information there is no "not found" answer.
//!
//! Where the symbols are read from:
//!
//! - ELF: `.symtab`, or `.dynsym` when there is no `.symtab` (a stripped binary keeps only
//!   the dynamic symbols it imports and exports, which rarely name Rust code);
//! - Mach-O, thin or universal: the `LC_SYMTAB` load command (the first slice that has one);
//! - PE: nothing. The names of a Windows binary's functions live in its PDB file, not in
//!   the executable, so every answer is `Unknown`;
//! - Wasm: nothing (the `name` custom section is not read in this version): `Unknown`.
//!
//! Reading is bounded like the section reader ([`super::Limits`] for the headers) and by
//! [`SymbolLimits`]: the symbol table and the string table are each read whole, once, after
//! their sizes were checked against the limits and against the file's size. A table over a
//! limit, or one that lies outside the file, makes every answer `Unknown` with the reason.
//! Demangling is bounded too: each name's demangled form is cut at
//! [`MAX_DEMANGLED_NAME`] bytes, and all of them together at
//! [`SymbolLimits::max_demangled_total`].

use std::fmt::Write as _;
use std::io::{self, Read as _};
use std::path::Path;

use object::read::ReadCache;
use object::read::elf::{FileHeader, SectionHeader as _, Sym as _};
use object::read::macho::{FatArch, MachHeader, Nlist as _};
use object::{Endianness, ReadRef, SectionIndex, elf, macho};

pub use super::dwarf::{
    MAX_DWARF_DEPTH, MAX_DWARF_ENTRIES, MAX_DWARF_REFERENCES, MAX_DWARF_SECTION_SIZE,
    MAX_DWARF_TOTAL, MAX_DWARF_UNITS,
};
use super::function_names::{Capped, Query, candidate_paths, contains};
pub use super::function_names::{MAX_DEMANGLED_NAME, symbol_matches};
use super::{BinaryFormat, Limits, Problem, check_header, detect, dwarf};

/// Default largest symbol table read, in bytes: 32 MiB, about 1.4 million 64-bit ELF entries
/// (24 bytes each) or 2 million Mach-O ones (16 bytes). A large unstripped Rust program
/// (cargo itself) has about 100,000 symbols: 2.4 MiB.
pub const MAX_SYMBOL_TABLE_SIZE: u64 = 32 << 20;

/// Default largest string table read, in bytes: 64 MiB. Rust symbol names are long (generic
/// instances spell their type arguments): cargo's `.strtab` is about 10 MiB.
pub const MAX_STRING_TABLE_SIZE: u64 = 64 << 20;

/// Default budget of demangled text over one binary, in bytes: 256 MiB of formatting work.
/// Only names that contain the crate name of a function asked about are demangled.
pub const MAX_DEMANGLED_TOTAL: u64 = 256 << 20;

/// Upper bounds on the work of reading one binary's symbols.
///
/// The memory one binary costs is at most `max_symbol_table_size + max_string_table_size`
/// plus the header limits of [`Limits`] and a few KiB, and only when the file really holds
/// tables that large: every size is checked against the file's size before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SymbolLimits {
    /// Limits on the file and its headers, as for the section reader.
    pub headers: Limits,
    /// Largest symbol table read, in bytes (default [`MAX_SYMBOL_TABLE_SIZE`]).
    pub max_symbol_table_size: u64,
    /// Largest string table read, in bytes (default [`MAX_STRING_TABLE_SIZE`]).
    pub max_string_table_size: u64,
    /// Demangled text produced over the whole table, in bytes (default
    /// [`MAX_DEMANGLED_TOTAL`]); when it runs out, the functions not yet found are `Unknown`.
    pub max_demangled_total: u64,
    /// Whether the debug information (DWARF) is read for the functions the symbols did not
    /// show (default true). Without it there is no `NotFound`.
    pub read_dwarf: bool,
    /// Largest DWARF section read, compressed or inflated, in bytes (default
    /// [`MAX_DWARF_SECTION_SIZE`]).
    pub max_dwarf_section_size: u64,
    /// Largest sum of the DWARF sections read, after inflation, in bytes (default
    /// [`MAX_DWARF_TOTAL`]). The DWARF reader holds them all at once.
    pub max_dwarf_total: u64,
    /// Most units walked (default [`MAX_DWARF_UNITS`]).
    pub max_dwarf_units: u64,
    /// Deepest nesting of debugging entries followed (default [`MAX_DWARF_DEPTH`]).
    pub max_dwarf_depth: usize,
    /// Most debugging entries and address ranges visited (default [`MAX_DWARF_ENTRIES`]).
    pub max_dwarf_entries: u64,
    /// Most references between debugging entries kept (default [`MAX_DWARF_REFERENCES`]).
    pub max_dwarf_references: u64,
}

impl Default for SymbolLimits {
    fn default() -> Self {
        SymbolLimits {
            headers: Limits::default(),
            max_symbol_table_size: MAX_SYMBOL_TABLE_SIZE,
            max_string_table_size: MAX_STRING_TABLE_SIZE,
            max_demangled_total: MAX_DEMANGLED_TOTAL,
            read_dwarf: true,
            max_dwarf_section_size: MAX_DWARF_SECTION_SIZE,
            max_dwarf_total: MAX_DWARF_TOTAL,
            max_dwarf_units: MAX_DWARF_UNITS,
            max_dwarf_depth: MAX_DWARF_DEPTH,
            max_dwarf_entries: MAX_DWARF_ENTRIES,
            max_dwarf_references: MAX_DWARF_REFERENCES,
        }
    }
}

impl SymbolLimits {
    /// These limits with the symbol and string tables capped at `symbols` and `strings` bytes.
    #[must_use]
    pub fn with_tables(mut self, symbols: u64, strings: u64) -> Self {
        self.max_symbol_table_size = symbols;
        self.max_string_table_size = strings;
        self
    }

    /// These limits with the debug information read (`true`, the default) or not (`false`:
    /// symbols only, so never a `NotFound`).
    #[must_use]
    pub fn with_dwarf(mut self, read: bool) -> Self {
        self.read_dwarf = read;
        self
    }

    /// These limits with the DWARF sections capped at `section` bytes each and `total`
    /// bytes together, and at most `entries` debugging entries visited.
    #[must_use]
    pub fn with_dwarf_limits(mut self, section: u64, total: u64, entries: u64) -> Self {
        self.max_dwarf_section_size = section;
        self.max_dwarf_total = total;
        self.max_dwarf_entries = entries;
        self
    }

    /// These limits with at most `references` references between debugging entries kept.
    #[must_use]
    pub fn with_dwarf_references(mut self, references: u64) -> Self {
        self.max_dwarf_references = references;
        self
    }
}

/// What the symbol table says about one function.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FunctionVerdict {
    /// A defined symbol of the binary is this function (or a closure within it).
    Present {
        /// The first matching symbol, demangled without its hash.
        symbol: String,
    },
    /// Not found in the debug information: DWARF covers the function's crate (its
    /// compilation units and inline trees are there) and neither the symbols nor the inline
    /// trees hold it. Never from symbols alone (issue 24: symbols cannot prove absence).
    NotFound {
        /// What was searched, in one line.
        reason: String,
    },
    /// The symbols cannot say: stripped, no symbols of the crate, not matched (it may be
    /// inlined), a format without symbols, or a file that could not be read.
    Unknown {
        /// Why, in one line.
        reason: String,
    },
}

impl FunctionVerdict {
    /// True for [`FunctionVerdict::Present`].
    pub fn is_present(&self) -> bool {
        matches!(self, FunctionVerdict::Present { .. })
    }

    fn unknown(reason: impl Into<String>) -> Self {
        FunctionVerdict::Unknown {
            reason: reason.into(),
        }
    }
}

/// [`function_verdicts_with`] with the default [`SymbolLimits`].
pub fn function_verdicts(path: &Path, functions: &[&str]) -> Vec<FunctionVerdict> {
    function_verdicts_with(path, functions, &SymbolLimits::default())
}

/// One verdict per function of `functions` (paths such as `tar::Archive::unpack`), in order,
/// for the binary at `path`. Never fails: what cannot be read is `Unknown`, with a reason
/// that names the file.
pub fn function_verdicts_with(
    path: &Path,
    functions: &[&str],
    limits: &SymbolLimits,
) -> Vec<FunctionVerdict> {
    let queries: Vec<Option<Query>> = functions.iter().map(|f| Query::parse(f)).collect();
    let (mut verdicts, crate_code, exhausted) = symbol_verdicts(path, functions, &queries, limits);
    if !exhausted {
        inner_bodies(path, &queries, &mut verdicts, limits);
    }
    if exhausted
        || !limits.read_dwarf
        || verdicts
            .iter()
            .zip(&queries)
            .all(|(v, q)| v.is_present() || q.is_none())
    {
        return verdicts;
    }
    let dwarf_limits = dwarf::DwarfLimits {
        section: limits.max_dwarf_section_size,
        total: limits.max_dwarf_total,
        units: limits.max_dwarf_units,
        depth: limits.max_dwarf_depth,
        entries: limits.max_dwarf_entries,
        references: limits.max_dwarf_references,
    };
    let reading = dwarf::read(
        path,
        &queries,
        &dwarf_limits,
        limits.headers.max_file_size,
        limits.headers.max_header_size,
    );
    // DWARF from a companion (`.gnu_debuglink`): its symbol table is the binary's too (a
    // binary stripped of everything keeps none), so it answers as well, and its code
    // addresses join the coverage check.
    let companion = match &reading {
        Ok(r) if r.source != path => {
            let (found, code, _) = symbol_verdicts(&r.source, functions, &queries, limits);
            Some((found, code))
        }
        _ => None,
    };
    let crate_code: Vec<Option<Vec<u64>>> = match &companion {
        None => crate_code,
        Some((_, more)) => crate_code
            .into_iter()
            .zip(more)
            .map(|(a, b)| match (a, b) {
                (Some(mut a), Some(b)) if a.len() + b.len() <= MAX_CRATE_CODE => {
                    a.extend(b);
                    Some(a)
                }
                _ => None,
            })
            .collect(),
    };
    verdicts
        .into_iter()
        .enumerate()
        .map(|(i, verdict)| {
            let FunctionVerdict::Unknown { reason } = verdict else {
                return verdict;
            };
            if let Some((found, _)) = &companion
                && let FunctionVerdict::Present { symbol } = &found[i]
            {
                return FunctionVerdict::Present {
                    symbol: symbol.clone(),
                };
            }
            let reading = match &reading {
                Ok(reading) => reading,
                Err(why) if why.is_empty() => return FunctionVerdict::Unknown { reason },
                Err(why) => {
                    return FunctionVerdict::unknown(format!(
                        "{reason}; the debug information cannot say: {why}"
                    ));
                }
            };
            let (Some(query), Some(Some(answer))) = (&queries[i], reading.answers.get(i)) else {
                return FunctionVerdict::Unknown { reason };
            };
            match answer {
                dwarf::Answer::Present(words) => FunctionVerdict::Present {
                    symbol: words.clone(),
                },
                dwarf::Answer::NameOnly(words) => {
                    FunctionVerdict::unknown(format!("{reason}; {words}"))
                }
                dwarf::Answer::Absent {
                    crate_seen: true,
                    owner_seen: true,
                } => FunctionVerdict::unknown(format!(
                    "{reason}; the debug information shows type `{}` of crate `{}` in use, and a \
                     call of a method can be inlined into no code at all, so its absence from \
                     the inline trees does not show that it is not called",
                    query.middle.last().map_or("", String::as_str),
                    query.crate_name
                )),
                dwarf::Answer::Absent {
                    crate_seen: true,
                    owner_seen: false,
                } => {
                    if let Some(address) = reading.uncovered(crate_code[i].as_deref()) {
                        return FunctionVerdict::unknown(format!(
                            "{reason}; code of crate `{}` (the symbol at {address:#x}) has no \
                             debug information, so the debug information does not cover the \
                             crate",
                            query.crate_name
                        ));
                    }
                    FunctionVerdict::NotFound {
                        reason: format!(
                            "{}: `{}` is not found in the debug information (that of {} covers \
                             crate `{}`, and neither its symbols nor its inline trees hold the \
                             function)",
                            path.display(),
                            functions[i],
                            reading.source.display(),
                            query.crate_name
                        ),
                    }
                }
                dwarf::Answer::Absent { .. } => FunctionVerdict::unknown(format!(
                    "{reason}; the debug information shows no trace of crate `{}`",
                    query.crate_name
                )),
            }
        })
        .collect()
}

/// Most code addresses of one crate's symbols kept for the DWARF reader's coverage check;
/// past it, the crate counts as not covered.
pub(super) const MAX_CRATE_CODE: usize = 100_000;

/// The symbol table's verdicts, the code addresses of each query's crate (`None`: more than
/// [`MAX_CRATE_CODE`]), and whether demangling ran out.
/// The non-generic body of a generic function, for each function not found: a generic
/// function often only converts its arguments and calls a private function of the same path
/// named with a leading underscore, which holds the code (`tar::Archive::unpack<P>` calls
/// `<Archive<dyn Read>>::_unpack`: a release build keeps `_unpack` as a symbol and inlines
/// `unpack` into its caller). Such a symbol makes the function `Present`, saying so. A
/// `_name` that is not the body of `name` makes the answer err towards `Present`, as the
/// other rules do.
fn inner_bodies(
    path: &Path,
    queries: &[Option<Query>],
    verdicts: &mut [FunctionVerdict],
    limits: &SymbolLimits,
) {
    let inner: Vec<Option<Query>> = queries
        .iter()
        .zip(verdicts.iter())
        .map(|(q, v)| {
            let q = q.as_ref().filter(|_| !v.is_present())?;
            Some(Query {
                crate_name: q.crate_name.clone(),
                middle: q.middle.clone(),
                function: format!("_{}", q.function),
            })
        })
        .collect();
    if inner.iter().all(Option::is_none) {
        return;
    }
    let names: Vec<String> = inner
        .iter()
        .map(|q| q.as_ref().map_or_else(String::new, |q| q.function.clone()))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (found, _, _) = symbol_verdicts(path, &names, &inner, limits);
    for ((verdict, found), q) in verdicts.iter_mut().zip(found).zip(queries) {
        if let (FunctionVerdict::Present { symbol }, Some(q)) = (found, q)
            && !verdict.is_present()
        {
            *verdict = FunctionVerdict::Present {
                symbol: format!(
                    "{symbol} (`_{name}`, the body that the generic `{name}` calls)",
                    name = q.function
                ),
            };
        }
    }
}

fn symbol_verdicts(
    path: &Path,
    functions: &[&str],
    queries: &[Option<Query>],
    limits: &SymbolLimits,
) -> (Vec<FunctionVerdict>, Vec<Option<Vec<u64>>>, bool) {
    let table = match read_table(path, limits) {
        Ok(table) => table,
        Err(reason) => {
            let reason = format!("{}: {reason}", path.display());
            return (
                functions
                    .iter()
                    .map(|_| FunctionVerdict::unknown(reason.clone()))
                    .collect(),
                vec![Some(Vec::new()); functions.len()],
                false,
            );
        }
    };
    let mut found: Vec<Option<String>> = vec![None; functions.len()];
    let mut crate_seen = vec![false; functions.len()];
    let mut crate_code: Vec<Option<Vec<u64>>> = vec![Some(Vec::new()); functions.len()];
    let mut budget = limits.max_demangled_total;
    let mut exhausted = false;
    let mut text = String::new();
    for &(at, address) in &table.names {
        if found
            .iter()
            .zip(queries)
            .all(|(f, q)| f.is_some() || q.is_none())
        {
            break;
        }
        let Some(name) = table.name(at) else { continue };
        // Identifiers appear literally in both manglings: a name without the crate's name
        // cannot be one of its functions, and is not demangled.
        if !queries
            .iter()
            .flatten()
            .any(|q| contains(name, q.crate_name.as_bytes()))
        {
            continue;
        }
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        let Ok(demangled) = rustc_demangle::try_demangle(name) else {
            continue;
        };
        text.clear();
        let complete = write!(Capped(&mut text, MAX_DEMANGLED_NAME), "{demangled:#}").is_ok();
        budget = budget.saturating_sub(text.len() as u64);
        if budget == 0 {
            exhausted = true;
            break;
        }
        if !complete {
            continue;
        }
        let paths = candidate_paths(&text);
        for (i, query) in queries.iter().enumerate() {
            let Some(query) = query else { continue };
            if paths
                .iter()
                .any(|p| p.first() == Some(&query.crate_name.as_str()))
            {
                crate_seen[i] = true;
                if address != NO_CODE
                    && let Some(code) = &mut crate_code[i]
                {
                    if code.len() < MAX_CRATE_CODE {
                        code.push(address);
                    } else {
                        crate_code[i] = None;
                    }
                }
            }
            if found[i].is_none() && paths.iter().any(|p| query.matches(p)) {
                found[i] = Some(text.clone());
            }
        }
    }
    let verdicts = found
        .into_iter()
        .zip(crate_seen.iter().copied())
        .zip(queries)
        .zip(functions)
        .map(|(((found, seen), query), function)| match (found, query) {
            (Some(symbol), _) => FunctionVerdict::Present { symbol },
            (None, None) => {
                FunctionVerdict::unknown(format!("`{function}` is not a crate::path function name"))
            }
            (None, Some(_)) if exhausted => FunctionVerdict::unknown(format!(
                "{}: demangling stopped after {} bytes (the limit) before `{function}` was found",
                path.display(),
                limits.max_demangled_total
            )),
            (None, Some(query)) if !seen => FunctionVerdict::unknown(format!(
                "{}: the {} has no symbol of crate `{}` (not linked, stripped, or all of its code inlined)",
                path.display(),
                table.kind,
                query.crate_name
            )),
            (None, Some(_)) => FunctionVerdict::unknown(format!(
                "{}: `{function}` is not in the {} (it may be inlined: symbols alone cannot show \
                 that it is absent)",
                path.display(),
                table.kind
            )),
        })
        .collect();
    (verdicts, crate_code, exhausted)
}

/// The address of a symbol that is not code.
const NO_CODE: u64 = u64::MAX;

/// The defined symbols' names, as offsets into the string table.
struct Table {
    /// `the symbol table`, `the dynamic symbol table only`, ...
    kind: &'static str,
    /// Each name's offset, and the address of its code ([`NO_CODE`] for data, and for
    /// Mach-O, whose DWARF is not read).
    names: Vec<(u32, u64)>,
    strings: Vec<u8>,
}

impl Table {
    /// The name at `at`, up to its NUL (or the table's end).
    fn name(&self, at: u32) -> Option<&[u8]> {
        let bytes = self.strings.get(usize::try_from(at).ok()?..)?;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Some(&bytes[..end])
    }
}

fn read_table(path: &Path, limits: &SymbolLimits) -> Result<Table, String> {
    let (mut file, metadata) =
        crate::untrusted_file::open(path).map_err(|e| e.reason.to_string())?;
    let size = metadata.len();
    let mut magic = [0u8; 4];
    let format = match file.read_exact(&mut magic) {
        Ok(()) => detect(magic),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
        Err(e) => return Err(e.to_string()),
    };
    let Some(format) = format else {
        return Err("not an ELF, Mach-O, PE or Wasm binary".into());
    };
    if size > limits.headers.max_file_size {
        return Err(format!(
            "the file is {size} bytes, over the limit of {}",
            limits.headers.max_file_size
        ));
    }
    let problem = |p| match p {
        Problem::NotABinary => format!("not a {format} executable or library"),
        Problem::Malformed(message) => format!("malformed {format} file: {message}"),
        Problem::TooLarge { what, size, limit } => {
            format!("{what} is {size} bytes, over the limit of {limit}")
        }
    };
    let cache = ReadCache::new(file);
    let table = match format {
        BinaryFormat::Elf => elf_table(&cache, size, limits),
        BinaryFormat::MachO => macho_table(&cache, magic, size, limits),
        BinaryFormat::Pe => {
            return Err(
                "a PE file keeps its function names in a separate PDB file, \
                                 which is not read"
                    .into(),
            );
        }
        BinaryFormat::Wasm => {
            return Err("Wasm function names (the `name` section) are not read".into());
        }
    };
    table
        .map_err(problem)?
        .ok_or_else(|| format!("no symbol table: the {format} file is stripped"))
}

/// Checks a table of `size` bytes at `offset` against its limit and the file, then reads it.
fn read_whole<'a, R: ReadRef<'a>>(
    data: R,
    file_size: u64,
    what: &str,
    offset: u64,
    size: u64,
    limit: u64,
) -> Result<&'a [u8], Problem> {
    if size > limit {
        return Err(Problem::TooLarge {
            what: what.to_owned(),
            size,
            limit,
        });
    }
    if offset.checked_add(size).is_none_or(|end| end > file_size) {
        return Err(Problem::Malformed(format!(
            "{what} ({size} bytes at offset {offset}) lies outside the file of {file_size} bytes"
        )));
    }
    data.read_bytes_at(offset, size)
        .map_err(|()| Problem::Malformed(format!("{what} could not be read")))
}

fn elf_table<'a, R: ReadRef<'a>>(
    data: R,
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem> {
    let ident = data
        .read_bytes_at(0, 16)
        .map_err(|()| Problem::Malformed("truncated ELF identification".into()))?;
    match ident[4] {
        1 => elf_symbols::<elf::FileHeader32<Endianness>, R>(data, file_size, limits),
        2 => elf_symbols::<elf::FileHeader64<Endianness>, R>(data, file_size, limits),
        class => Err(Problem::Malformed(format!("unknown ELF class {class}"))),
    }
}

fn elf_symbols<'a, Elf, R>(
    data: R,
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem>
where
    Elf: FileHeader<Endian = Endianness>,
    R: ReadRef<'a>,
{
    let header = Elf::parse(data)?;
    let endian = header.endian()?;
    let headers = u64::from(header.shnum(endian, data)?)
        .saturating_mul(u64::from(header.e_shentsize(endian)));
    check_header("the ELF section header table", headers, &limits.headers)?;
    let sections = header.sections(endian, data)?;
    let pick = |kind| {
        sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.sh_type(endian) == kind)
    };
    let (table_kind, (_, symtab)) = match (pick(elf::SHT_SYMTAB), pick(elf::SHT_DYNSYM)) {
        (Some(found), _) => ("symbol table (.symtab)", found),
        (None, Some(found)) => ("dynamic symbol table (.dynsym; .symtab is stripped)", found),
        (None, None) => return Ok(None),
    };
    let (offset, size) = symtab.file_range(endian).unwrap_or((0, 0));
    let symbols = read_whole(
        data,
        file_size,
        "the symbol table",
        offset,
        size,
        limits.max_symbol_table_size,
    )?;
    let link = symtab.sh_link(endian);
    let strtab = sections.section(SectionIndex(link as usize)).map_err(|_| {
        Problem::Malformed(format!(
            "the symbol table's string table {link} is not a section"
        ))
    })?;
    let (str_offset, str_size) = strtab.file_range(endian).unwrap_or((0, 0));
    let strings = read_whole(
        data,
        file_size,
        "the symbol string table",
        str_offset,
        str_size,
        limits.max_string_table_size,
    )?;
    let count = symbols.len() / size_of::<Elf::Sym>();
    let (entries, _) = object::pod::slice_from_bytes::<Elf::Sym>(symbols, count)
        .map_err(|()| Problem::Malformed("the symbol table is misaligned".into()))?;
    let names = entries
        .iter()
        .filter(|sym| sym.st_shndx(endian) != elf::SHN_UNDEF && sym.st_name(endian) != 0)
        .map(|sym| {
            let value: u64 = sym.st_value(endian).into();
            let code = sym.st_type() == elf::STT_FUNC && value != 0;
            (sym.st_name(endian), if code { value } else { NO_CODE })
        })
        .collect();
    Ok(Some(Table {
        kind: table_kind,
        names,
        strings: strings.to_vec(),
    }))
}

fn macho_table<'a, R: ReadRef<'a>>(
    data: R,
    magic: [u8; 4],
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem> {
    match u32::from_be_bytes(magic) {
        macho::FAT_MAGIC => fat_table::<macho::FatArch32, R>(data, file_size, limits),
        macho::FAT_MAGIC_64 => fat_table::<macho::FatArch64, R>(data, file_size, limits),
        _ => thin_table(data, 0, file_size, limits),
    }
}

fn fat_table<'a, Fat: FatArch, R: ReadRef<'a>>(
    data: R,
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem> {
    let fat = object::read::macho::MachOFatFile::<Fat>::parse(data)?;
    let arches = fat.arches();
    if arches.len() > 30 {
        return Err(Problem::NotABinary);
    }
    // Every slice comes from one build: the first is read.
    let arch = arches
        .first()
        .ok_or_else(|| Problem::Malformed("a universal binary without slices".into()))?;
    thin_table(data, arch.file_range().0, file_size, limits)
}

fn thin_table<'a, R: ReadRef<'a>>(
    data: R,
    offset: u64,
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem> {
    let header = data
        .read_bytes_at(offset, 4)
        .map_err(|()| Problem::Malformed("the Mach-O header lies outside the file".into()))?;
    match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
        macho::MH_MAGIC_64 | macho::MH_CIGAM_64 => {
            macho_symbols::<macho::MachHeader64<Endianness>, R>(data, offset, file_size, limits)
        }
        macho::MH_MAGIC | macho::MH_CIGAM => {
            macho_symbols::<macho::MachHeader32<Endianness>, R>(data, offset, file_size, limits)
        }
        _ => Err(Problem::Malformed(
            "architecture slice is not Mach-O".into(),
        )),
    }
}

fn macho_symbols<'a, Mach, R>(
    data: R,
    offset: u64,
    file_size: u64,
    limits: &SymbolLimits,
) -> Result<Option<Table>, Problem>
where
    Mach: MachHeader<Endian = Endianness>,
    R: ReadRef<'a>,
{
    let header = Mach::parse(data, offset)?;
    let endian = header.endian()?;
    check_header(
        "the Mach-O load commands",
        header.sizeofcmds(endian).into(),
        &limits.headers,
    )?;
    let mut commands = header.load_commands(endian, data, offset)?;
    while let Some(command) = commands.next()? {
        let Some(symtab) = command.symtab()? else {
            continue;
        };
        let count = u64::from(symtab.nsyms.get(endian));
        let symbols = read_whole(
            data,
            file_size,
            "the symbol table",
            offset.saturating_add(symtab.symoff.get(endian).into()),
            count.saturating_mul(size_of::<Mach::Nlist>() as u64),
            limits.max_symbol_table_size,
        )?;
        let strings = read_whole(
            data,
            file_size,
            "the symbol string table",
            offset.saturating_add(symtab.stroff.get(endian).into()),
            symtab.strsize.get(endian).into(),
            limits.max_string_table_size,
        )?;
        let (entries, _) = object::pod::slice_from_bytes::<Mach::Nlist>(
            symbols,
            usize::try_from(count).unwrap_or(usize::MAX),
        )
        .map_err(|()| Problem::Malformed("the symbol table is misaligned".into()))?;
        let names = entries
            .iter()
            // Debugging entries (stabs) and undefined (imported) symbols are not code of
            // this binary.
            .filter(|sym| !sym.is_stab() && !sym.is_undefined())
            .map(|sym| (sym.n_strx(endian), NO_CODE))
            .filter(|&(at, _)| at != 0)
            .collect();
        return Ok(Some(Table {
            kind: "symbol table (LC_SYMTAB)",
            names,
            strings: strings.to_vec(),
        }));
    }
    Ok(None)
}
