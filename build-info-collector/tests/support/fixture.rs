//! Fixture `BuildInfo` and `Packages` values, built from rows, for build-info-collector's
//! tests and benches (`tests/exposition.rs`, `benches/scrape.rs` include this file).
//!
//! The only place in the workspace's tests that knows how a `BuildInfo` is put together: the
//! documented `Parts`, `BuildInfo::from_parts` and a package table derived from a
//! `model::Graph`, as buildinfo's generated code does. It lives here, not in testkit, so that
//! testkit does not depend on buildinfo, whose own tests use testkit (no crate cycle).
//!
//! ```text
//! let info = build(
//!     Facts { program: "my-svc", ..facts() },
//!     &[("my-svc", "1.4.2", "local", "RT*"), ("itoa", "1.0.15", "crates.io", "RD-")],
//! );
//! ```

use buildinfo::model::{self, Graph};
use buildinfo::{BuildInfo, DependencyKind, Packages, Source};

/// One package: `(name, version, source, flags)`. `source` is `crates.io`, `registry`, `git`
/// or `local`; `flags` is three characters: `R`/`B` (runtime or build-only), `D`/`T` (direct
/// or transitive), `*`/`-` (the root or not).
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

/// The build facts of a fixture: every field a `BuildInfo` getter reads. Its `packages` are
/// replaced by the rows given to [`build`].
pub type Facts = buildinfo::Parts;

/// The facts of the example build the READMEs show: a clean release build of `myapp` 1.4.2
/// on `main`. Change the fields a test is about with struct-update syntax.
pub fn facts() -> Facts {
    // Read back through the getters, so that the example's values are written down once.
    let e = buildinfo::test_util::example();
    Facts {
        program: e.program(),
        version: e.version(),
        revision: e.revision(),
        revision_label: e.revision_label(),
        revision_source: e.revision_source(),
        branch: e.branch(),
        tag: e.tag().unwrap_or(""),
        describe: e.describe(),
        commit_time: e.commit_time(),
        modified: e.modified(),
        build_user: e.build_user(),
        build_date: e.build_date(),
        rust_version: e.rust_version(),
        rust_commit: e.rust_commit(),
        rust_channel: e.rust_channel(),
        host: e.host(),
        target: e.target(),
        profile: e.profile(),
        opt_level: e.opt_level(),
        features: e.features(),
        packages: Packages::EMPTY,
    }
}

/// A `BuildInfo` with these facts and `rows` as its packages, leaked for the `'static`
/// lifetime the run side hands out (a test leaks a few of them, once).
#[allow(
    clippy::large_types_passed_by_value,
    reason = "callers write the facts in place with struct-update syntax (`Facts { program, ..facts() }`)"
)]
pub fn build(facts: Facts, rows: &[Row<'_>]) -> &'static BuildInfo {
    Box::leak(Box::new(BuildInfo::from_parts(Facts {
        packages: packages(rows),
        ..facts
    })))
}

/// The example build the READMEs show: `myapp` 1.4.2 with [`facts()`], using
/// `serde_json` (runtime, direct), `itoa` (runtime, transitive) and `serde_derive` (build-only,
/// direct). buildinfo's own, not a copy.
pub use buildinfo::test_util::example;

/// A package table of `rows`, in the form buildinfo's generated code writes it (one line per
/// package: name, version, a one-character code), leaked for `'static`.
pub fn packages(rows: &[Row<'_>]) -> Packages {
    let mut graph = Graph::default();
    for &(name, version, source, flags) in rows {
        let flag = |i: usize, yes: u8| flags.as_bytes().get(i) == Some(&yes);
        let source =
            Source::from_name(source).unwrap_or_else(|| panic!("unknown source {source:?}"));
        let mut package = model::Package::new(name, version, source);
        if flag(0, b'B') {
            package.kind = DependencyKind::Build;
        }
        package.direct = flag(1, b'D');
        package.root = flag(2, b'*');
        graph.packages.push(package);
    }
    Packages::from_table(Box::leak(graph.to_table().into_boxed_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_packages_with_their_flags() {
        let info = build(
            Facts {
                program: "svc",
                modified: None,
                ..facts()
            },
            &[
                ("cc", "1.2.0", "crates.io", "BT-"),
                ("svc", "0.1.0", "local", "RT*"),
                ("tokio", "1.47.0", "git", "RD-"),
            ],
        );
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
    fn the_facts_are_the_examples() {
        let ours = build(facts(), &[]);
        let example = buildinfo::test_util::example();
        assert_eq!(ours.info(), example.info());
        assert_eq!(ours.build_context(), example.build_context());
        assert_eq!(ours.tag(), example.tag());
        assert!(ours.packages().is_empty());
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
