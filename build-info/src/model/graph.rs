//! The dependency graph: every package a build used, with its edges.

use super::source::{DependencyKind, Source};

/// A git source: repository (credentials, query and fragment removed) and commit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GitOrigin {
    /// Repository URL without credentials, query or fragment.
    pub url: String,
    /// Full commit hash.
    pub commit: String,
}

/// One package of a [`Graph`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Package {
    /// Crate name.
    pub name: String,
    /// Exact version.
    pub version: String,
    /// Source kind.
    pub source: Source,
    /// For git packages.
    pub git: Option<GitOrigin>,
    /// For packages from a registry other than crates.io ([`Source::Registry`]): the
    /// registry's index URL as cargo's configuration names it (`sparse+https://host/index/`,
    /// or a git index's plain URL), credentials, query and fragment removed; a `file://` URL
    /// keeps only its last path component. `None` when not known.
    pub registry_url: Option<String>,
    /// SHA-256 from Cargo.lock, for registry packages.
    pub checksum: Option<String>,
    /// Runtime or build-only.
    pub kind: DependencyKind,
    /// A dependency the root names itself.
    pub direct: bool,
    /// The package the graph was resolved for.
    pub root: bool,
    /// Indices of this package's dependencies (normal and build), ascending.
    pub dependencies: Vec<usize>,
}

impl Package {
    /// A runtime package with no edges, flags, checksum or git origin; set the public fields
    /// for the rest.
    pub fn new(name: impl Into<String>, version: impl Into<String>, source: Source) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            source,
            git: None,
            registry_url: None,
            checksum: None,
            kind: DependencyKind::Runtime,
            direct: false,
            root: false,
            dependencies: Vec::new(),
        }
    }
}

/// A resolved graph: packages sorted by name, version and source (the `.dep-v0` order),
/// exactly one root unless empty. [`Graph::validate`] checks the rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Graph {
    /// The packages, in index order.
    pub packages: Vec<Package>,
}

impl Graph {
    /// Every path package (`local`) said to come from `git`: the build ran in a cargo git
    /// checkout, where `cargo tree` names packages by their path.
    #[cfg(feature = "build")]
    pub(crate) fn mark_local_as_git(&mut self) {
        for p in &mut self.packages {
            if p.source == Source::Local {
                p.source = Source::Git;
            }
        }
    }

    /// The root package.
    pub fn root(&self) -> Option<&Package> {
        self.packages.iter().find(|p| p.root)
    }

    #[cfg(feature = "read")]
    /// Marks the root's own dependencies as direct (for formats that do not carry the flag).
    pub(crate) fn mark_direct_from_root(&mut self) {
        let Some(root) = self.packages.iter().position(|p| p.root) else {
            return;
        };
        for d in self.packages[root].dependencies.clone() {
            if let Some(p) = self.packages.get_mut(d) {
                p.direct = true;
            }
        }
    }
}
