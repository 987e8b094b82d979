//! The data model every command works on: one program (a binary, or a package resolved from
//! source), its build facts when known, and the packages it was built from.

use serde::Serialize;

/// Where an [`Inventory`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum Origin {
    /// A binary with build-info's `.bldinfo` section.
    #[serde(rename = "bldinfo")]
    BuildInfo,
    /// A binary with only cargo-auditable's `.dep-v0` section.
    #[serde(rename = "dep-v0")]
    DepV0,
    /// A package resolved from source (`cargo depinfo list`).
    #[serde(rename = "workspace")]
    Workspace,
}

impl Origin {
    /// `bldinfo`, `dep-v0` or `workspace`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Origin::BuildInfo => "bldinfo",
            Origin::DepV0 => "dep-v0",
            Origin::Workspace => "workspace",
        }
    }
}

/// Runtime or build-only: the model's [`DependencyKind`](buildinfo::DependencyKind).
pub use buildinfo::DependencyKind as Kind;
/// How a program was built: the model's `.bldinfo` facts (`unknown` for what was not known).
pub use buildinfo::model::BuildFacts;

/// One package a program was built from, as the commands compare and print it.
///
/// A flat row of the model's [`buildinfo::model::Package`] (see the `From` impl): `source`
/// is a string here because packages observed through metrics carry whatever label a
/// writer used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Crate name.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// `crates.io`, `registry`, `git`, `local` (or another string a newer writer used).
    pub source: String,
    /// Runtime or build-only.
    pub kind: Kind,
    /// A dependency the root package names itself.
    pub direct: bool,
    /// The program's own package.
    pub root: bool,
    /// SHA-256 from Cargo.lock, when known.
    pub checksum: Option<String>,
    /// Repository of a git package, when known.
    pub git_url: Option<String>,
    /// Commit of a git package, when known.
    pub git_commit: Option<String>,
    /// Index URL of the registry a `registry` package came from, when known (`.bldinfo`
    /// written by buildinfo since issue 23; see FORMAT.md).
    pub registry_url: Option<String>,
    /// Indices of this package's dependencies in [`Inventory::packages`].
    pub dependencies: Vec<usize>,
}

impl From<buildinfo::model::Package> for Package {
    fn from(p: buildinfo::model::Package) -> Self {
        let (git_url, git_commit) = p.git.map(|g| (g.url, g.commit)).unzip();
        Package {
            name: p.name,
            version: p.version,
            source: p.source.as_str().to_owned(),
            kind: p.kind,
            direct: p.direct,
            root: p.root,
            checksum: p.checksum,
            git_url,
            git_commit,
            registry_url: p.registry_url,
            dependencies: p.dependencies,
        }
    }
}

/// One program and what it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// The binary, or the manifest of the package.
    pub path: String,
    /// Where the data came from.
    pub origin: Origin,
    /// Program name (the root package's name without build-info).
    pub program: String,
    /// Program version.
    pub version: String,
    /// The build facts; only binaries with `.bldinfo` have them.
    pub build: Option<BuildFacts>,
    /// The packages, sorted by name, version and source; indices as in `.dep-v0`.
    pub packages: Vec<Package>,
    /// The binary's container format, when the inventory was read from a binary: where the
    /// target is not known, it still tells which operating systems can run the program.
    #[serde(skip)]
    pub format: Option<crate::binary_reader::BinaryFormat>,
}

impl Inventory {
    /// The root package, when there is one.
    pub fn root(&self) -> Option<&Package> {
        self.packages.iter().find(|p| p.root)
    }

    /// The runtime crates the program links, itself left out: the crates `rust_mod_info` and
    /// the dependency list describe.
    pub fn runtime_crates(&self) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(|p| !p.root && p.kind == Kind::Runtime)
    }

    /// The program's dependency list as its own collector with default options publishes it
    /// (the runtime crates but the root, each with its source and directness), and its digest;
    /// `None` without a dependency graph. The exporter, `inspect` and the offline catalog all
    /// use this one function, so a binary gets the same digest from each of them and from
    /// its own collector (FORMAT.md, "Dependency lists").
    pub fn deps_list(&self) -> Option<build_info_collector::DepsList> {
        if self.packages.is_empty() {
            return None;
        }
        Some(build_info_collector::DepsList::from_entries(
            self.runtime_crates()
                .map(|p| build_info_collector::DepsEntry {
                    name: p.name.as_str().into(),
                    version: p.version.as_str().into(),
                    source: p.source.as_str().into(),
                    direct: p.direct,
                }),
        ))
    }
}
