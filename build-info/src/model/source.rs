//! Where a package came from, and whether it ends up in the program: the two words every
//! format (`.dep-v0`, `.bldinfo`, the run-side table, metric labels) shares.

use std::fmt;

/// Where a package came from, in cargo-auditable's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The crates.io registry.
    CratesIo,
    /// Another registry.
    Registry,
    /// A git repository (see [`Package::git_commit`](crate::Package::git_commit)).
    Git,
    /// A local path (a workspace member or a path dependency).
    Local,
}

impl Source {
    /// Every source, in the order of their codes in the run-side table.
    pub const ALL: [Source; 4] = [
        Source::CratesIo,
        Source::Registry,
        Source::Git,
        Source::Local,
    ];

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
    ///
    /// ```
    /// use buildinfo::Source;
    /// for s in Source::ALL {
    ///     assert_eq!(Source::from_name(s.as_str()), Some(s));
    /// }
    /// assert_eq!(Source::from_name("svn"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "read")]
impl serde::Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Whether a package ends up in the running program or only helped build it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "read", derive(serde::Serialize))]
#[cfg_attr(feature = "read", serde(rename_all = "lowercase"))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_name_parses_back() {
        let names: Vec<_> = Source::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["crates.io", "registry", "git", "local"]);
        for s in Source::ALL {
            assert_eq!(Source::from_name(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Source::from_name(""), None);
        assert_eq!(Source::from_name("Registry"), None);
        assert_eq!(DependencyKind::Runtime.as_str(), "runtime");
        assert_eq!(DependencyKind::Build.as_str(), "build");
    }
}
