#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod build_info;
#[cfg(feature = "graph")]
pub mod capture;
#[cfg(any(test, feature = "test-util"))]
mod example;
pub mod model;
mod packages;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use crate::build_info::{BuildInfo, Parts};
pub use crate::model::{DependencyKind, Source, UNKNOWN, revision_label};
pub use crate::packages::{Package, Packages};

/// The path `build.rs` files call: `buildinfo::build::emit()`. The same items as
/// [`capture`], which is where they live.
#[cfg(feature = "graph")]
pub mod build {
    pub use crate::capture::*;
}

pub mod section;

/// Defines `BUILD_INFO`, `VERSION`, `LONG_VERSION` and `LONG_VERSION_FACTS` from what
/// `build.rs` captured, and embeds the `.dep-v0` and `.bldinfo` sections in the binary.
///
/// Call it once, at module level, in the binary crate whose `build.rs` runs
/// `buildinfo::build::emit()` ([`crate::capture::emit`], or a
/// [`crate::capture::Builder`]):
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
/// - `pub const LONG_VERSION_FACTS: &str`, the same without the dependency list
///   ([`BuildInfo::long_version_facts`]), for programs with hundreds of crates;
/// - two `#[used]` statics in link sections (see FORMAT.md), unless the build runs under
///   `cargo auditable`, which writes `.dep-v0` itself.
#[macro_export]
macro_rules! build_info {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/build_info.rs"));
    };
}
