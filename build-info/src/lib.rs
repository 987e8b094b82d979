#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod build_info;
#[cfg(feature = "graph")]
pub mod capture;
pub mod model;
mod packages;

pub use crate::build_info::{BuildInfo, Parts, UNKNOWN, revision_label};
pub use crate::model::{DependencyKind, Source};
#[doc(hidden)]
pub use crate::packages::__code;
pub use crate::packages::{Package, Packages};

/// The path `build.rs` files call: `buildinfo::build::emit()`. The same items as
/// [`capture`], which is where they live.
#[cfg(feature = "graph")]
pub mod build {
    pub use crate::capture::*;
}

/// Names of the sections the build side embeds in the binary.
pub mod section {
    /// cargo-auditable's dependency section (ELF, PE and Wasm). Its format is cargo-auditable's.
    pub const DEP_V0: &str = ".dep-v0";
    /// Our build-metadata section (ELF, PE and Wasm): at most 8 bytes, as PE requires.
    pub const BUILD_INFO: &str = ".bldinfo";
    /// The Mach-O segment both sections live in.
    pub const MACHO_SEGMENT: &str = "__DATA";
    /// Version of the JSON inside [`BUILD_INFO`]; readers reject a newer major format.
    pub const BUILD_INFO_FORMAT: u32 = 1;
}

/// Defines `BUILD_INFO`, `VERSION` and `LONG_VERSION` from what `build.rs` captured, and
/// embeds the `.dep-v0` and `.bldinfo` sections in the binary.
///
/// Call it once, at module level, in the binary crate whose `build.rs` runs
/// [`build::emit`](crate::build::emit) (or a [`build::Builder`](crate::build::Builder)):
///
/// ```ignore
/// buildinfo::build_info!();
///
/// fn main() {
///     println!("{}", BUILD_INFO.print("myapp"));
/// }
/// ```
///
/// It expands to:
///
/// - `pub static BUILD_INFO: buildinfo::BuildInfo`;
/// - `pub const VERSION: &str`, one line for clap's `version` (`1.4.2 (main 3f2c1a9e0b7d)`);
/// - `pub const LONG_VERSION: &str`, the [`BuildInfo::print_long`] block (no final newline) without the leading
///   program name, for clap's `long_version` (clap prints the name before it);
/// - two `#[used]` statics in link sections (see FORMAT.md), unless the build runs under
///   `cargo auditable`, which writes `.dep-v0` itself.
#[macro_export]
macro_rules! build_info {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/build_info.rs"));
    };
}

/// A fixed example value, for documentation and tests of code that takes a `BuildInfo`.
#[doc(hidden)]
pub fn __example() -> &'static BuildInfo {
    // Codes: itoa crates.io runtime transitive '@', myapp local root 'Y', serde_derive
    // crates.io build direct 'F', serde_json crates.io runtime direct 'B'.
    static TABLE: &str =
        "itoa\t1.0.15\t@\nmyapp\t1.4.2\tY\nserde_derive\t1.0.219\tF\nserde_json\t1.0.140\tB\n";
    static EXAMPLE: BuildInfo = BuildInfo::from_parts(Parts {
        program: "myapp",
        version: "1.4.2",
        revision: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a",
        revision_label: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a",
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
        packages: Packages::__from_table(TABLE),
    });
    &EXAMPLE
}

#[doc(hidden)]
pub mod __private {
    pub use crate::build_info::LegacyParts as Parts;
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_table_offsets_match_its_lines() {
        let p = super::__example().packages();
        let names: Vec<_> = p.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["itoa", "myapp", "serde_derive", "serde_json"]);
        assert_eq!(p.root().unwrap().name(), "myapp");
        assert_eq!(p.get(3).unwrap().version(), "1.0.140");
        let codes: Vec<_> = p
            .iter()
            .map(|p| (p.source(), p.kind(), p.is_direct(), p.is_root()))
            .collect();
        let expected: Vec<_> = codes.iter().map(|&(s, k, d, r)| (s, k, d, r)).collect();
        assert_eq!(codes, expected);
        let serde_derive = p.get(2).unwrap();
        assert_eq!(serde_derive.kind(), crate::DependencyKind::Build);
        assert!(serde_derive.is_direct());
        assert!(p.get(1).unwrap().is_root() && p.get(1).unwrap().source() == crate::Source::Local);
    }
}
