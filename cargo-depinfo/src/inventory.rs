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

/// Runtime or build-only, as in `.dep-v0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Linked into the program.
    Runtime,
    /// Only used to build it (proc-macros, build-script dependencies).
    Build,
}

/// How a program was built: the `.bldinfo` facts. `unknown` stands for what was not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BuildFacts {
    /// Full commit hash.
    pub revision: String,
    /// Branch name.
    pub branch: String,
    /// Tag at HEAD; empty when none.
    pub tag: String,
    /// Commit time, RFC 3339.
    pub commit_time: String,
    /// Uncommitted changes in the tree; `None` when unknown.
    pub modified: Option<bool>,
    /// `user@host`.
    pub build_user: String,
    /// Build date, RFC 3339 UTC.
    pub build_date: String,
    /// rustc release.
    pub rust_version: String,
    /// rustc commit hash.
    pub rust_commit: String,
    /// `stable`, `beta` or `nightly`.
    pub rust_channel: String,
    /// Host triple.
    pub host: String,
    /// Target triple.
    pub target: String,
    /// Cargo profile.
    pub profile: String,
    /// Optimisation level.
    pub opt_level: String,
    /// Enabled features of the program's package, sorted.
    pub features: Vec<String>,
}

impl BuildFacts {
    /// The facts as `(key, value)` pairs in display order; the tag only when there is one.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("revision", self.revision.clone()),
            (
                "modified",
                match self.modified {
                    Some(true) => "true".into(),
                    Some(false) => "false".into(),
                    None => buildinfo::UNKNOWN.into(),
                },
            ),
            ("branch", self.branch.clone()),
        ];
        if !self.tag.is_empty() {
            out.push(("tag", self.tag.clone()));
        }
        out.extend([
            ("commit_time", self.commit_time.clone()),
            ("build_user", self.build_user.clone()),
            ("build_date", self.build_date.clone()),
            ("rust_version", self.rust_version.clone()),
            ("rust_commit", self.rust_commit.clone()),
            ("rust_channel", self.rust_channel.clone()),
            ("host", self.host.clone()),
            ("target", self.target.clone()),
            ("profile", self.profile.clone()),
            ("opt_level", self.opt_level.clone()),
            ("features", self.features.join(",")),
        ]);
        out
    }
}

/// One package a program was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
    /// Indices of this package's dependencies in [`Inventory::packages`].
    pub dependencies: Vec<usize>,
}

/// One program and what it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
}

impl Inventory {
    /// The root package, when there is one.
    pub fn root(&self) -> Option<&Package> {
        self.packages.iter().find(|p| p.root)
    }
}
