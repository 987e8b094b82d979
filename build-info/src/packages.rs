//! The embedded package list: a compact, relocation-free table read without allocation.
//!
//! The build side writes one line per package into a single `&'static str`, sorted by name,
//! version and source (the order of `.dep-v0`):
//!
//! ```text
//! name \t version \t code [\t git-url \t git-commit] \n
//! ```
//!
//! `code` is one character, `'@'` plus a 5-bit value: source index (crates.io 0, registry 1,
//! git 2, local 3) times 8, plus 4 for build-only, 2 for direct, 1 for the root. The edges and
//! checksums live in the binary's sections, not here: one string keeps the table small, and
//! a position-independent executable pays a 24-byte relocation for every `&'static str` a
//! static holds.

use std::fmt;

use crate::model::{DependencyKind, Source};

/// The packages a program was built from, the program's own package included.
///
/// Obtained from [`BuildInfo::packages`](crate::build_info::BuildInfo::packages). Cheap to copy; reading
/// any field never allocates.
#[derive(Clone, Copy)]
pub struct Packages {
    table: &'static str,
}

impl Packages {
    /// An empty list (the graph was not captured).
    pub const EMPTY: Packages = Packages { table: "" };

    /// A list over a run-side table (FORMAT.md, "The run-side table"): what the code
    /// [`build_info!`](crate::build_info!) generates passes the table the build side derived
    /// with [`Graph::to_table`](crate::model::Graph::to_table).
    pub const fn from_table(table: &'static str) -> Packages {
        Packages { table }
    }

    /// Number of packages, the root included.
    pub fn len(&self) -> usize {
        self.table.lines().count()
    }

    /// True when no graph was captured.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The package at `index` (its position in [`iter`](Self::iter) order).
    pub fn get(&self, index: usize) -> Option<Package> {
        self.iter().nth(index)
    }

    /// Every package, sorted by name, version and source, the root included.
    pub fn iter(&self) -> impl Iterator<Item = Package> + use<> {
        self.table
            .lines()
            .enumerate()
            .map(|(i, line)| Package::parse(i, line))
    }

    /// Every package except the root, in index order.
    pub fn dependencies(&self) -> impl Iterator<Item = Package> + use<> {
        self.iter().filter(|p| !p.is_root())
    }

    /// The program's own package, when a graph was captured.
    pub fn root(&self) -> Option<Package> {
        self.iter().find(Package::is_root)
    }
}

impl fmt::Debug for Packages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One package of the build graph. A view into static data: every getter is free.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Package {
    index: usize,
    name: &'static str,
    version: &'static str,
    code: u8,
    git_url: &'static str,
    git_commit: &'static str,
}

impl Package {
    fn parse(index: usize, line: &'static str) -> Package {
        let mut fields = line.split('\t');
        let mut next = || fields.next().unwrap_or("");
        let name = next();
        let version = next();
        let code = next()
            .bytes()
            .next()
            .map_or(3 * 8, |b| b.wrapping_sub(b'@') & 31);
        Package {
            index,
            name,
            version,
            code,
            git_url: next(),
            git_commit: next(),
        }
    }

    /// Position in [`Packages`].
    pub fn index(&self) -> usize {
        self.index
    }
    /// Crate name as published (`serde_json`, `proc-macro2`).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// Exact version (`1.0.219`).
    pub fn version(&self) -> &'static str {
        self.version
    }
    /// Source kind.
    pub fn source(&self) -> Source {
        Source::ALL[usize::from(self.code >> 3) & 3]
    }
    /// Runtime or build-only.
    pub fn kind(&self) -> DependencyKind {
        if self.code & 4 == 0 {
            DependencyKind::Runtime
        } else {
            DependencyKind::Build
        }
    }
    /// True for a dependency the root package names itself.
    pub fn is_direct(&self) -> bool {
        self.code & 2 != 0
    }
    /// True for the program's own package.
    pub fn is_root(&self) -> bool {
        self.code & 1 != 0
    }
    /// For git packages: the repository URL without credentials, query or fragment.
    pub fn git_url(&self) -> Option<&'static str> {
        non_empty(self.git_url)
    }
    /// For git packages: the full commit hash that was built.
    pub fn git_commit(&self) -> Option<&'static str> {
        non_empty(self.git_commit)
    }
}

fn non_empty(s: &'static str) -> Option<&'static str> {
    if s.is_empty() { None } else { Some(s) }
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("source", &self.source())
            .field("kind", &self.kind())
            .field("direct", &self.is_direct())
            .field("root", &self.is_root())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::table_code;

    #[test]
    fn reads_every_field_of_every_line() {
        static TABLE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| {
            format!(
                "app\t0.1.0\t{}\nserde\t1.0.219\t{}\nsyn\t2.0.1\t{}\thttps://example.invalid/syn\tdeadbeef\n",
                table_code(Source::Local, DependencyKind::Runtime, false, true),
                table_code(Source::CratesIo, DependencyKind::Runtime, true, false),
                table_code(Source::Git, DependencyKind::Build, true, false),
            )
        });
        let p = Packages::from_table(table);
        assert_eq!(p.len(), 3);
        let root = p.root().unwrap();
        assert_eq!(
            (root.name(), root.version(), root.index()),
            ("app", "0.1.0", 0)
        );
        assert_eq!((root.source(), root.is_direct()), (Source::Local, false));
        let serde = p.get(1).unwrap();
        assert_eq!(serde.source(), Source::CratesIo);
        assert!(serde.is_direct() && !serde.is_root());
        assert_eq!(serde.kind(), DependencyKind::Runtime);
        assert_eq!(serde.git_url(), None);
        let syn = p.get(2).unwrap();
        assert_eq!(
            (syn.kind(), syn.source()),
            (DependencyKind::Build, Source::Git)
        );
        assert_eq!(syn.git_commit(), Some("deadbeef"));
        assert_eq!(syn.git_url(), Some("https://example.invalid/syn"));
        assert!(p.get(3).is_none());
        assert_eq!(
            p.dependencies().map(|d| d.name()).collect::<Vec<_>>(),
            ["serde", "syn"]
        );
    }

    #[test]
    fn every_code_round_trips() {
        for source in Source::ALL {
            for kind in [DependencyKind::Runtime, DependencyKind::Build] {
                for (direct, root) in [(false, false), (true, false), (false, true), (true, true)] {
                    let c = table_code(source, kind, direct, root);
                    assert!(c.is_ascii_graphic(), "{c:?}");
                    let p = Package::parse(0, Box::leak(format!("n\t1.0.0\t{c}").into_boxed_str()));
                    assert_eq!(
                        (p.source(), p.kind(), p.is_direct(), p.is_root()),
                        (source, kind, direct, root)
                    );
                }
            }
        }
    }

    #[test]
    fn a_line_without_a_code_is_a_plain_local_package_at_its_index() {
        let p = Packages::from_table("a\t1.0.0\tB\nb\t2.0.0\nc\t3.0.0\tA\n");
        let b = p.get(1).unwrap();
        assert_eq!((b.name(), b.version(), b.index()), ("b", "2.0.0", 1));
        assert_eq!(
            (b.source(), b.kind(), b.is_direct(), b.is_root()),
            (Source::Local, DependencyKind::Runtime, false, false)
        );
        assert_eq!(p.get(2).unwrap().index(), 2);
        assert_eq!(p.iter().map(|p| p.index()).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn empty_list_has_no_root() {
        assert!(Packages::EMPTY.is_empty());
        assert!(Packages::EMPTY.root().is_none());
        assert_eq!(Packages::EMPTY.iter().count(), 0);
    }
}
