//! The embedded package list: a compact, relocation-free table read without allocation.
//!
//! The build side writes one line per package into a single `&'static str`, sorted by name,
//! version and source (the order of cargo-auditable's `.dep-v0`, so indices agree), plus a
//! table of line offsets. Each line holds tab-separated fields:
//!
//! ```text
//! name \t version \t source \t flags \t checksum \t git-url \t git-commit \t deps
//! ```
//!
//! `flags` is three characters: `R` (runtime) or `B` (build-only), `D` (direct) or `T`
//! (transitive), `*` (the root package) or `-`. `deps` is a comma-separated list of indices.
//! One string and one offset table keep the binary small: a table of `&'static str` fields
//! would cost a dynamic relocation (24 bytes on x86-64) per string in a position-independent
//! executable.

use std::fmt;

/// Where a package came from, in cargo-auditable's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The crates.io registry.
    CratesIo,
    /// Another registry.
    Registry,
    /// A git repository (see [`Package::git_commit`]).
    Git,
    /// A local path (a workspace member or a path dependency).
    Local,
}

impl Source {
    /// The name used in `.dep-v0` and in metric labels: `crates.io`, `registry`, `git`, `local`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::CratesIo => "crates.io",
            Source::Registry => "registry",
            Source::Git => "git",
            Source::Local => "local",
        }
    }

    /// Parses the name returned by [`Source::as_str`].
    pub fn from_name(name: &str) -> Option<Source> {
        Some(match name {
            "crates.io" => Source::CratesIo,
            "registry" => Source::Registry,
            "git" => Source::Git,
            "local" => Source::Local,
            _ => return None,
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a package ends up in the running program or only helped build it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DependencyKind {
    /// Linked into the program (reached from the root through normal dependencies only).
    Runtime,
    /// Only used at build time: proc-macros, build-script dependencies and what only they use.
    Build,
}

impl DependencyKind {
    /// `runtime` or `build`, as in `.dep-v0`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DependencyKind::Runtime => "runtime",
            DependencyKind::Build => "build",
        }
    }
}

/// The packages a program was built from, the program's own package included.
///
/// Obtained from [`BuildInfo::packages`](crate::BuildInfo::packages). Cheap to copy; reading
/// any field never allocates.
#[derive(Clone, Copy)]
pub struct Packages {
    table: &'static str,
    offsets: &'static [u32],
}

impl Packages {
    /// An empty list (the graph was not captured).
    pub const EMPTY: Packages = Packages {
        table: "",
        offsets: &[0],
    };

    #[doc(hidden)]
    pub const fn __from_table(table: &'static str, offsets: &'static [u32]) -> Packages {
        Packages { table, offsets }
    }

    /// Number of packages, the root included.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// True when no graph was captured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The package at `index` (indices are the ones [`Package::dependencies`] yields).
    pub fn get(&self, index: usize) -> Option<Package> {
        let start = *self.offsets.get(index)? as usize;
        let end = *self.offsets.get(index + 1)? as usize;
        // Each line ends with '\n', which is not part of the record.
        let line = self.table.get(start..end.checked_sub(1)?)?;
        Some(Package::parse(index, line))
    }

    /// Every package in index order (sorted by name, version, source), the root included.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Package> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or(Package::INVALID))
    }

    /// Every package except the root, in index order.
    pub fn dependencies(&self) -> impl Iterator<Item = Package> + '_ {
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
    source: Source,
    kind: DependencyKind,
    direct: bool,
    root: bool,
    checksum: &'static str,
    git_url: &'static str,
    git_commit: &'static str,
    deps: &'static str,
}

impl Package {
    const INVALID: Package = Package {
        index: usize::MAX,
        name: "",
        version: "",
        source: Source::Local,
        kind: DependencyKind::Build,
        direct: false,
        root: false,
        checksum: "",
        git_url: "",
        git_commit: "",
        deps: "",
    };

    fn parse(index: usize, line: &'static str) -> Package {
        let mut fields = line.split('\t');
        let mut next = || fields.next().unwrap_or("");
        let name = next();
        let version = next();
        let source = Source::from_name(next()).unwrap_or(Source::Local);
        let flags = next().as_bytes();
        let checksum = next();
        let git_url = next();
        let git_commit = next();
        let deps = next();
        Package {
            index,
            name,
            version,
            source,
            kind: if flags.first() == Some(&b'B') {
                DependencyKind::Build
            } else {
                DependencyKind::Runtime
            },
            direct: flags.get(1) == Some(&b'D'),
            root: flags.get(2) == Some(&b'*'),
            checksum,
            git_url,
            git_commit,
            deps,
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
        self.source
    }
    /// Runtime or build-only.
    pub fn kind(&self) -> DependencyKind {
        self.kind
    }
    /// True for a dependency the root package names itself.
    pub fn is_direct(&self) -> bool {
        self.direct
    }
    /// True for the program's own package.
    pub fn is_root(&self) -> bool {
        self.root
    }
    /// The SHA-256 checksum Cargo.lock records (registry packages), when embedded.
    pub fn checksum(&self) -> Option<&'static str> {
        non_empty(self.checksum)
    }
    /// For git packages: the repository URL without credentials, query or fragment.
    pub fn git_url(&self) -> Option<&'static str> {
        non_empty(self.git_url)
    }
    /// For git packages: the full commit hash that was built.
    pub fn git_commit(&self) -> Option<&'static str> {
        non_empty(self.git_commit)
    }
    /// Indices (into [`Packages`]) of this package's own dependencies, ascending.
    pub fn dependencies(&self) -> impl Iterator<Item = usize> + use<> {
        self.deps
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
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
            .field("source", &self.source)
            .field("kind", &self.kind)
            .field("direct", &self.direct)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "app\t0.1.0\tlocal\tRT*\t\t\t\t1,2\n\
                         serde\t1.0.219\tcrates.io\tRD-\tabc\t\t\t\n\
                         syn\t2.0.1\tgit\tBD-\t\thttps://example.invalid/syn\tdeadbeef\t\n";

    fn offsets(table: &str) -> &'static [u32] {
        let mut v = vec![0];
        v.extend(
            table
                .match_indices('\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap()),
        );
        Vec::leak(v)
    }

    #[test]
    fn reads_every_field_of_every_line() {
        let p = Packages::__from_table(TABLE, offsets(TABLE));
        assert_eq!(p.len(), 3);
        let root = p.root().unwrap();
        assert_eq!(
            (root.name(), root.version(), root.index()),
            ("app", "0.1.0", 0)
        );
        assert_eq!(root.dependencies().collect::<Vec<_>>(), vec![1, 2]);
        let serde = p.get(1).unwrap();
        assert_eq!(serde.source(), Source::CratesIo);
        assert_eq!(serde.checksum(), Some("abc"));
        assert!(serde.is_direct() && !serde.is_root());
        assert_eq!(serde.kind(), DependencyKind::Runtime);
        let syn = p.get(2).unwrap();
        assert_eq!(syn.kind(), DependencyKind::Build);
        assert_eq!(syn.git_commit(), Some("deadbeef"));
        assert_eq!(syn.git_url(), Some("https://example.invalid/syn"));
        assert_eq!(syn.checksum(), None);
        assert!(p.get(3).is_none());
        assert_eq!(
            p.dependencies().map(|d| d.name()).collect::<Vec<_>>(),
            ["serde", "syn"]
        );
    }

    #[test]
    fn empty_list_has_no_root() {
        assert!(Packages::EMPTY.is_empty());
        assert!(Packages::EMPTY.root().is_none());
        assert_eq!(Packages::EMPTY.iter().count(), 0);
    }
}
