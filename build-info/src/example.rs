//! One fixed `BuildInfo`, for documentation and for tests of code that takes one.

use crate::{BuildInfo, Packages, Parts};

/// The value behind [`test_util::example`](crate::test_util::example).
pub(crate) fn example() -> &'static BuildInfo {
    // Codes: itoa crates.io runtime transitive '@', myapp local root 'Y', serde_derive
    // crates.io build direct 'F', serde_json crates.io runtime direct 'B'.
    static TABLE: &str =
        "itoa\t1.0.15\t@\nmyapp\t1.4.2\tY\nserde_derive\t1.0.219\tF\nserde_json\t1.0.140\tB\n";
    static EXAMPLE: BuildInfo = BuildInfo::from_parts(Parts {
        program: "myapp",
        version: "1.4.2",
        revision: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a",
        revision_label: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a",
        revision_source: "git",
        branch: "main",
        tag: "v1.4.2",
        describe: "v1.4.2",
        commit_time: "2026-11-21T23:40:00Z",
        modified: Some(false),
        build_user: "ci@builder-7",
        build_date: "2026-11-21T23:46:36Z",
        rust_version: "1.95.0",
        rust_commit: "59807616e1fa3d3a9f6bb4f9c2e5a4c4d0b8e3f1",
        rust_channel: "stable",
        host: "x86_64-unknown-linux-gnu",
        target: "x86_64-unknown-linux-gnu",
        profile: "release",
        opt_level: "3",
        features: "default,tls",
        packages: Packages::from_table(TABLE),
    });
    &EXAMPLE
}

#[cfg(test)]
mod tests {
    use crate::{DependencyKind, Source};

    #[test]
    fn example_table_offsets_match_its_lines() {
        let p = super::example().packages();
        let names: Vec<_> = p.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["itoa", "myapp", "serde_derive", "serde_json"]);
        assert_eq!(p.root().unwrap().name(), "myapp");
        assert_eq!(p.get(3).unwrap().version(), "1.0.140");
        let codes: Vec<_> = p
            .iter()
            .map(|p| (p.source(), p.kind(), p.is_direct(), p.is_root()))
            .collect();
        // What the comment above the table promises, line by line.
        assert_eq!(
            codes,
            [
                (Source::CratesIo, DependencyKind::Runtime, false, false),
                (Source::Local, DependencyKind::Runtime, false, true),
                (Source::CratesIo, DependencyKind::Build, true, false),
                (Source::CratesIo, DependencyKind::Runtime, true, false),
            ]
        );
    }
}
