//! Fixture `BuildInfo` and `Packages` values, built from rows.
//!
//! The only place in the workspace's tests that knows how a `BuildInfo` is put together
//! (today through buildinfo's hidden `__private::Parts`, `BuildInfo::__from_parts`,
//! `Packages::__from_table` and `__code`): when buildinfo gets a public constructor, this file
//! is the one to change.
//!
//! ```
//! use testkit::fixture::{Facts, packages};
//!
//! let info = Facts { program: "my-svc", ..Facts::default() }.build(&[
//!     ("my-svc", "1.4.2", "local", "RT*"),
//!     ("itoa", "1.0.15", "crates.io", "RD-"),
//! ]);
//! assert_eq!(info.program(), "my-svc");
//! assert_eq!(info.packages().dependencies().count(), 1);
//! assert_eq!(packages(&[("cc", "1.2.0", "crates.io", "BT-")]).iter().count(), 1);
//! ```

use std::fmt::Write as _;

use buildinfo::__private::Parts;
use buildinfo::{BuildInfo, DependencyKind, Packages, Source};

/// One package: `(name, version, source, flags)`. `source` is `crates.io`, `registry`, `git`
/// or `local`; `flags` is three characters: `R`/`B` (runtime or build-only), `D`/`T` (direct
/// or transitive), `*`/`-` (the root or not).
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

/// The build facts of a fixture. `Facts::default()` is a clean release build of `myapp` 1.4.2
/// on `main`; change the fields a test is about with struct-update syntax.
#[derive(Clone, Copy, Debug)]
#[allow(
    missing_docs,
    reason = "each field is the BuildInfo getter of the same name"
)]
pub struct Facts {
    pub program: &'static str,
    pub version: &'static str,
    pub revision: &'static str,
    pub revision_label: &'static str,
    pub branch: &'static str,
    pub tag: &'static str,
    pub commit_time: &'static str,
    pub modified: Option<bool>,
    pub build_user: &'static str,
    pub build_date: &'static str,
    pub rust_version: &'static str,
    pub rust_commit: &'static str,
    pub rust_channel: &'static str,
    pub host: &'static str,
    pub target: &'static str,
    pub profile: &'static str,
    pub opt_level: &'static str,
    pub features: &'static str,
}

impl Default for Facts {
    fn default() -> Facts {
        const SHA: &str = "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a";
        const LINUX: &str = "x86_64-unknown-linux-gnu";
        Facts {
            program: "myapp",
            version: "1.4.2",
            revision: SHA,
            revision_label: SHA,
            branch: "main",
            tag: "v1.4.2",
            commit_time: "2026-11-21T23:40:00Z",
            modified: Some(false),
            build_user: "ci@builder-7",
            build_date: "2026-11-21T23:46:36Z",
            rust_version: "1.95.0",
            rust_commit: "59807616e1fa3d3a9f6bb4f9c2e5a4c4d0b8e3f1",
            rust_channel: "stable",
            host: LINUX,
            target: LINUX,
            profile: "release",
            opt_level: "3",
            features: "default,tls",
        }
    }
}

impl Facts {
    /// A `BuildInfo` with these facts and `rows` as its packages, leaked for the `'static`
    /// lifetime the run side hands out (a test leaks a few of them, once).
    pub fn build(self, rows: &[Row<'_>]) -> &'static BuildInfo {
        let Facts {
            program,
            version,
            revision,
            revision_label,
            branch,
            tag,
            commit_time,
            modified,
            build_user,
            build_date,
            rust_version,
            rust_commit,
            rust_channel,
            host,
            target,
            profile,
            opt_level,
            features,
        } = self;
        Box::leak(Box::new(BuildInfo::__from_parts(Parts {
            program,
            version,
            revision,
            revision_label,
            branch,
            tag,
            commit_time,
            modified,
            build_user,
            build_date,
            rust_version,
            rust_commit,
            rust_channel,
            host,
            target,
            profile,
            opt_level,
            features,
            packages: packages(rows),
        })))
    }
}

/// The example build the READMEs show: `myapp` 1.4.2 with `Facts::default()`, using
/// `serde_json` (runtime, direct), `itoa` (runtime, transitive) and `serde_derive` (build-only,
/// direct).
pub fn example() -> &'static BuildInfo {
    Facts::default().build(&[
        ("itoa", "1.0.15", "crates.io", "RT-"),
        ("myapp", "1.4.2", "local", "RT*"),
        ("serde_derive", "1.0.219", "crates.io", "BD-"),
        ("serde_json", "1.0.140", "crates.io", "RD-"),
    ])
}

/// A package table of `rows`, in the form buildinfo's generated code writes it (one line per
/// package: name, version, a one-character code), leaked for `'static`.
pub fn packages(rows: &[Row<'_>]) -> Packages {
    let mut table = String::new();
    for &(name, version, source, flags) in rows {
        let flag = |i: usize, yes: u8| flags.as_bytes().get(i) == Some(&yes);
        let code = buildinfo::__code(
            Source::from_name(source).unwrap_or_else(|| panic!("unknown source {source:?}")),
            if flag(0, b'B') {
                DependencyKind::Build
            } else {
                DependencyKind::Runtime
            },
            flag(1, b'D'),
            flag(2, b'*'),
        );
        let _ = writeln!(table, "{name}\t{version}\t{code}");
    }
    Packages::__from_table(Box::leak(table.into_boxed_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_packages_with_their_flags() {
        let info = Facts {
            program: "svc",
            modified: None,
            ..Facts::default()
        }
        .build(&[
            ("cc", "1.2.0", "crates.io", "BT-"),
            ("svc", "0.1.0", "local", "RT*"),
            ("tokio", "1.47.0", "git", "RD-"),
        ]);
        assert_eq!(
            (info.program(), info.version(), info.branch()),
            ("svc", "1.4.2", "main")
        );
        let all: Vec<_> = info.packages().iter().collect();
        assert_eq!(all.len(), 3);
        let cc = all.iter().find(|p| p.name() == "cc").unwrap();
        assert_eq!(cc.kind(), DependencyKind::Build);
        assert!(!cc.is_direct());
        let tokio = all.iter().find(|p| p.name() == "tokio").unwrap();
        assert_eq!((tokio.source(), tokio.is_direct()), (Source::Git, true));
        let deps: Vec<_> = info.packages().dependencies().map(|p| p.name()).collect();
        assert_eq!(deps, ["cc", "tokio"], "the root is not a dependency");
    }

    #[test]
    fn the_example_has_one_root_and_three_dependencies() {
        let info = example();
        assert_eq!(info.program(), "myapp");
        assert_eq!(
            info.packages()
                .iter()
                .filter(buildinfo::Package::is_root)
                .count(),
            1
        );
        let build_only: Vec<_> = info
            .packages()
            .dependencies()
            .filter(|p| p.kind() == DependencyKind::Build)
            .map(|p| p.name())
            .collect();
        assert_eq!(build_only, ["serde_derive"]);
    }
}
