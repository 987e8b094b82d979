//! How a function an advisory names (`tar::Archive::unpack`) is matched against the names a
//! binary gives its code: the symbol table's mangled names and the debug information's
//! linkage names and namespace paths. One rule for both readers, `symbols` and `dwarf`:
//! see [`symbol_matches`].

use std::fmt::Write as _;

/// Longest demangled name looked at, in bytes: a longer one is cut there and not matched (v0
/// back-references let a short name demangle to a very long one).
pub const MAX_DEMANGLED_NAME: usize = 64 << 10;

/// A `fmt::Write` that fails once more than its cap would be written.
pub(super) struct Capped<'a>(pub(super) &'a mut String, pub(super) usize);

impl std::fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.0.len() + s.len() > self.1 {
            return Err(std::fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

pub(super) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A function asked about: `crate::middle::…::name`.
#[derive(Debug)]
pub(super) struct Query {
    /// The crate, with `-` spelled `_` as in symbols.
    pub(super) crate_name: String,
    /// The segments between the crate and the function: the type, or the modules.
    pub(super) middle: Vec<String>,
    pub(super) function: String,
}

impl Query {
    pub(super) fn parse(path: &str) -> Option<Query> {
        let mut segments: Vec<String> = path
            .split("::")
            .map(|s| s.trim().to_owned())
            .collect::<Vec<_>>();
        let valid = |s: &String| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        };
        if segments.len() < 2 || !segments.iter().all(valid) {
            return None;
        }
        let function = segments.pop()?;
        let crate_name = segments.remove(0).replace('-', "_");
        Some(Query {
            crate_name,
            middle: segments,
            function,
        })
    }

    /// The rule: same crate (the first segment), same function (the last), and the segments
    /// asked in between found in order among the symbol's, the last of them (the type, or
    /// the module of a free function) right before the function. Other segments (the
    /// defining modules a public path re-exports from) are tolerated.
    pub(super) fn matches(&self, path: &[&str]) -> bool {
        let [first, between @ .., last] = path else {
            return false;
        };
        if *first != self.crate_name || *last != self.function {
            return false;
        }
        if let Some(owner) = self.middle.last()
            && between.last() != Some(&owner.as_str())
        {
            return false;
        }
        let mut rest = between.iter();
        self.middle
            .iter()
            .all(|wanted| rest.any(|seen| *seen == wanted.as_str()))
    }
}

/// Whether `symbol` (mangled, legacy `_ZN…E` or v0 `_R…`, or already demangled) is the
/// function `function` (`crate::Type::name`, `crate::module::name`) or a closure within it.
///
/// The rule, in full:
///
/// - The symbol is read as paths of identifiers: generic arguments (`Archive<R>`) are
///   dropped, a qualified self type (`<tar::Archive<R> as Read>::read`,
///   `<tar::Archive<R>>::unpack`) gives two paths, the self type's and the trait's, each
///   followed by the rest; references, pointers and `dyn` are looked through; closure and
///   shim segments (`{{closure}}`, `{closure#0}`) and a legacy hash (`::h0123…`) are dropped.
/// - A path matches when its first segment is the crate (exactly: `mytar` and `tar_extra`
///   are other crates), its last is the function, and the segments between the two in the
///   advisory are found among the path's, in order, the last of them right before the
///   function. So `tar::Archive::unpack` matches `tar::archive::Archive<R>::unpack`: the
///   advisory names the public path, the symbol the defining module's.
///
/// The risk this takes is a false `Present`: a same-named type in another module of the same
/// crate (`tar::other::Archive::unpack`) matches too. `Present` is the conservative answer,
/// so the risk is accepted. A type renamed by its re-export (`pub use imp::Inner as Outer`)
/// is missed, which costs an `Unknown`, never a wrong "absent".
pub fn symbol_matches(function: &str, symbol: &str) -> bool {
    Query::parse(function).is_some_and(|query| symbol_matches_query(&query, symbol))
}

/// [`symbol_matches`] with the function already parsed.
pub(super) fn symbol_matches_query(query: &Query, symbol: &str) -> bool {
    let mut text = String::new();
    let symbol = match rustc_demangle::try_demangle(symbol) {
        Ok(demangled) => {
            if write!(Capped(&mut text, MAX_DEMANGLED_NAME), "{demangled:#}").is_err() {
                return false;
            }
            text.as_str()
        }
        Err(_) => symbol,
    };
    candidate_paths(symbol).iter().any(|p| query.matches(p))
}

/// The identifier paths a demangled name stands for (see [`symbol_matches`]).
pub(super) fn candidate_paths(demangled: &str) -> Vec<Vec<&str>> {
    let mut out = Vec::new();
    paths_of(demangled, 0, &mut out);
    out
}

/// Nesting deeper than this is not looked into (rustc-demangle bounds it too).
const MAX_DEPTH: usize = 16;

fn paths_of<'s>(path: &'s str, depth: usize, out: &mut Vec<Vec<&'s str>>) {
    if depth > MAX_DEPTH {
        return;
    }
    let segments = split_top(strip_type_prefix(path));
    let Some((head, rest)) = segments.split_first() else {
        return;
    };
    let mut tail: Vec<&str> = rest.iter().filter_map(|s| identifier(s)).collect();
    // A legacy hash: `h` and 16 hex digits, last.
    if rest.last().is_some_and(|s| is_legacy_hash(s)) {
        tail.pop();
    }
    if let Some(inner) = head.strip_prefix('<').and_then(|h| h.strip_suffix('>')) {
        let (self_type, trait_path) = split_as(inner);
        let mut heads = Vec::new();
        paths_of(self_type, depth + 1, &mut heads);
        if let Some(trait_path) = trait_path {
            paths_of(trait_path, depth + 1, &mut heads);
        }
        for mut head in heads {
            head.extend_from_slice(&tail);
            out.push(head);
        }
    } else if let Some(head) = identifier(head) {
        let mut path = vec![head];
        path.extend(tail);
        out.push(path);
    }
}

fn is_legacy_hash(s: &str) -> bool {
    s.len() == 17 && s.starts_with('h') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `&`, `&mut `, `&'a `, `*const `, `*mut `, `dyn ` in front of a path, taken off.
fn strip_type_prefix(mut s: &str) -> &str {
    loop {
        let before = s;
        s = s.trim_start();
        for prefix in ["&", "mut ", "*const ", "*mut ", "dyn "] {
            if let Some(rest) = s.strip_prefix(prefix) {
                s = rest;
            }
        }
        if s.starts_with('\'') {
            s = s.split_once(' ').map_or("", |(_, rest)| rest);
        }
        if s == before {
            return s;
        }
    }
}

/// A plain segment's identifier: `Archive` of `Archive<R>`; `None` for a closure or shim
/// (`{{closure}}`, `{closure#0}`, `{shim:vtable#0}`) or anything that is not a name.
pub(super) fn identifier(segment: &str) -> Option<&str> {
    let end = segment.find('<').unwrap_or(segment.len());
    let name = segment[..end].trim();
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.'))
    .then_some(name)
}

/// Splits at the top-level `::`, with brackets of every kind nesting (`->` closes none).
fn split_top(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' | b'{' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                out.push(&s[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// `T as Trait` at the top level: `(T, Some(Trait))`; otherwise `(inner, None)`.
fn split_as(inner: &str) -> (&str, Option<&str>) {
    let bytes = inner.as_bytes();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' | b'(' | b'[' | b'{' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && inner[i..].starts_with(" as ") => {
                return (&inner[..i], Some(&inner[i + 4..]));
            }
            _ => {}
        }
    }
    (inner, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn yes(function: &str, symbol: &str) {
        assert!(symbol_matches(function, symbol), "{function} ~ {symbol}");
    }

    #[track_caller]
    fn no(function: &str, symbol: &str) {
        assert!(!symbol_matches(function, symbol), "{function} !~ {symbol}");
    }

    #[test]
    fn demangled_forms_of_one_method_match_its_public_path() {
        let f = "tar::Archive::unpack";
        yes(f, "tar::archive::Archive<R>::unpack");
        yes(f, "<tar::archive::Archive<R>>::unpack");
        yes(f, "<tar::archive::Archive<dyn std::io::Read>>::unpack");
        yes(f, "<tar::Archive<R> as tar::Unpack>::unpack");
        yes(f, "<tar::archive::Archive<R> as core::ops::Drop>::unpack");
        yes(f, "<&mut tar::archive::Archive<R> as Trait>::unpack");
        yes(f, "tar::archive::Archive::unpack::h0123456789abcdef");
        yes(f, "tar::archive::Archive<R>::unpack::{{closure}}");
        yes(f, "<tar::archive::Archive<R>>::unpack::{closure#0}");
        yes(f, "tar::Archive::unpack");
        // Generic arguments that hold paths, brackets and arrows are looked through.
        yes(
            f,
            "<tar::archive::Archive<alloc::boxed::Box<dyn core::ops::Fn(u8) -> u8>>>::unpack",
        );
        yes("tar-rs::Archive::unpack", "tar_rs::Archive::unpack");
        yes(
            "smallvec::SmallVec::insert_many",
            "<smallvec::SmallVec<[u8; 4]>>::insert_many::<core::iter::Once<u8>>",
        );
        // A free function, with its defining module between.
        yes("crate_a::decode", "crate_a::inner::decode");
        yes("crate_a::codec::decode", "crate_a::imp::codec::decode");
    }

    #[test]
    fn near_misses_do_not_match() {
        let f = "tar::Archive::unpack";
        no(f, "mytar::Archive::unpack");
        no(f, "mytar::archive::Archive<R>::unpack");
        no(f, "tar_extra::Archive::unpack");
        no(f, "<tar_extra::Archive<R>>::unpack");
        no(f, "<mytar::Archive as tar::Unpack>::unpack");
        no(f, "<mytar::Archive<tar::Archive> >::unpack");
        no(f, "mytar::Archive<tar::Archive<R>>::unpack");
        no(f, "tar::Archive::unpack_in");
        no(f, "tar::archive::Archive<R>::_unpack");
        no(f, "<tar::entry::EntryFields>::unpack");
        no(f, "tar::Archive::entries");
        no(f, "tar::Archive::unpack::helper");
        no(f, "tar::Archive");
        no(f, "core::ptr::drop_in_place<tar::archive::Archive<R>>");
        no(f, "tar::archive::Archive<R>::unpack::Inner::unpack2");
        no(f, "");
        no(f, "<<<<");
        no(f, "::::");
        no(f, "_ZN");
        no(f, "_R");
        no("tar::Archive::unpack", "unpack");
        // A query that is not a path matches nothing.
        no("unpack", "unpack");
        no("tar::", "tar::x");
        no("tar::Archive::", "tar::Archive::unpack");
    }

    /// Names rustc 1.95 gave `tar::archive::Archive<R>::unpack` (re-exported as
    /// `tar::Archive`), the closure within it and a trait impl's `unpack`, called from `main`.
    const LEGACY: [&str; 3] = [
        "_ZN3tar7archive16Archive$LT$R$GT$6unpack17h22ffeeec4904e319E",
        "_ZN3tar7archive16Archive$LT$R$GT$6unpack28_$u7b$$u7b$closure$u7d$$u7d$17h971a032d7b052a5cE",
        "_ZN72_$LT$tar..archive..Archive$LT$u8$GT$$u20$as$u20$tar..archive..Unpack$GT$6unpack17hffbbdeb765128d50E",
    ];
    /// The same with `-C symbol-mangling-version=v0`, and `black_box` instantiated with the
    /// closure (a generic of another crate whose argument names the function).
    const V0: [&str; 4] = [
        "_RNvMNtCsiHlc7X2v9Jt_3tar7archiveINtB2_7ArchiveNCNvCs32gj3y4fnmh_4main4main0E6unpackBM_",
        "_RNCNvMNtCsiHlc7X2v9Jt_3tar7archiveINtB4_7ArchiveNCNvCs32gj3y4fnmh_4main4main0E6unpack0BO_",
        "_RNvXs_NtCsiHlc7X2v9Jt_3tar7archiveINtB4_7ArchivehENtB4_6Unpack6unpack",
        "_RINvNtCsgEmfK2I1SDS_4core4hint9black_boxNCNvMNtCsiHlc7X2v9Jt_3tar7archiveINtBH_7ArchiveNCNvCs32gj3y4fnmh_4main4main0E6unpack0EB1r_",
    ];

    #[test]
    fn legacy_mangled_names_match() {
        for name in LEGACY {
            yes("tar::Archive::unpack", name);
            yes("tar::archive::Archive::unpack", name);
            no("mytar::Archive::unpack", name);
            no("tar::Archive::unpack_all", name);
            no("tar::Entry::unpack", name);
        }
        // The trait's path names it too.
        yes("tar::Unpack::unpack", LEGACY[2]);
        // Mach-O's extra underscore.
        yes(
            "tar::Archive::unpack",
            "__ZN3tar7archive7Archive6unpack17h0123456789abcdefE",
        );
        no(
            "tar::Archive::unpack",
            "_ZN5mytar7archive7Archive6unpack17h0123456789abcdefE",
        );
        no(
            "tar::Archive::unpack",
            "_ZN9tar_extra7Archive6unpack17h0123456789abcdefE",
        );
        // Broken manglings are not names of anything.
        no("tar::Archive::unpack", "_ZN3tar7archive7Archive6unpack");
        no("tar::Archive::unpack", "_ZN99tar7Archive6unpackE");
    }

    #[test]
    fn v0_mangled_names_match() {
        assert_eq!(
            format!("{:#}", rustc_demangle::demangle(V0[0])),
            "<tar::archive::Archive<main::main::{closure#0}>>::unpack"
        );
        for name in &V0[..3] {
            yes("tar::Archive::unpack", name);
            no("mytar::Archive::unpack", name);
            no("main::Archive::unpack", name);
            no("tar::Archive::unpack_all", name);
        }
        yes("tar::Unpack::unpack", V0[2]);
        // Mach-O's extra underscore.
        yes("tar::Archive::unpack", &format!("_{}", V0[0]));
        // `core::hint::black_box::<…unpack::{closure#0}>` is black_box's code, not unpack's.
        no("tar::Archive::unpack", V0[3]);
        yes("core::hint::black_box", V0[3]);
        // Renamed to another crate, byte for byte the same length: no match.
        let other = V0[0].replace("3tar", "3taz");
        no("tar::Archive::unpack", &other);
        yes("taz::Archive::unpack", &other);
        // Back-references that loop, or point past the name: not a name, not a panic.
        for bad in [
            "_RNvB0_6unpack",
            "_RNvBz_6unpack",
            "_RNvMNtB_3tar7Archive6unpack",
            "_RNvMNtCsiHlc7X2v9Jt_3tar7archiveINtB2_7Archive",
        ] {
            no("tar::Archive::unpack", bad);
        }
    }

    #[test]
    fn split_and_paths_hold_on_odd_text() {
        assert_eq!(split_top("a::<b::c>::d"), ["a", "<b::c>", "d"]);
        assert_eq!(split_top("a<fn() -> b::c>::d"), ["a<fn() -> b::c>", "d"]);
        assert_eq!(
            candidate_paths("<tar::A<R> as x::T>::f"),
            [vec!["tar", "A", "f"], vec!["x", "T", "f"]]
        );
        // Deep nesting stops, unbalanced text does not panic.
        let deep = format!("{}tar::A{}::f", "<".repeat(100), ">".repeat(100));
        let _ = candidate_paths(&deep);
        for odd in [
            "<",
            ">",
            "<>::",
            "::<",
            "'a ",
            "&'",
            "{",
            "}::f",
            "<a as >::f",
        ] {
            let _ = candidate_paths(odd);
        }
    }
}
