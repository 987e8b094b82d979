//! The build side, which captures what [`BuildInfo`](crate::build_info::BuildInfo) reports: call it from
//! `build.rs` (feature `build`).
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     buildinfo::capture::emit();
//! }
//! ```
//!
//! It captures the facts listed on [`BuildInfo`](crate::build_info::BuildInfo), writes them into `OUT_DIR`
//! for [`build_info!`](crate::build_info!), and prints the exact `cargo:rerun-if-*` lines for
//! everything it read. It never fails the build unless asked to ([`Builder::strict`]): what
//! cannot be learned becomes a `cargo:warning` and `unknown`. It never touches the network and
//! kills any helper (git, cargo, rustc) that runs too long.
//!
//! # Overrides
//!
//! Every field can be forced with an environment variable, the way Go packagers use
//! `-ldflags -X`: `BUILD_INFO_PROGRAM`, `BUILD_INFO_VERSION`, `BUILD_INFO_REVISION`,
//! `BUILD_INFO_BRANCH`, `BUILD_INFO_TAG`, `BUILD_INFO_DESCRIBE`, `BUILD_INFO_COMMIT_TIME`, `BUILD_INFO_MODIFIED`
//! (`true`/`false`), `BUILD_INFO_BUILD_USER`, `BUILD_INFO_BUILD_DATE`,
//! `BUILD_INFO_RUST_VERSION`, `BUILD_INFO_RUST_COMMIT`, `BUILD_INFO_RUST_CHANNEL`,
//! `BUILD_INFO_HOST`, `BUILD_INFO_TARGET`, `BUILD_INFO_PROFILE`, `BUILD_INFO_OPT_LEVEL`,
//! `BUILD_INFO_FEATURES` (comma-separated). Times accept RFC 3339 text or Unix seconds.
//! `SOURCE_DATE_EPOCH` fixes the build date for reproducible builds. `BUILD_INFO_STRICT=1`
//! turns on strict mode, `BUILD_INFO_GIT` names the git program.

//!
//! # Layout
//!
//! One file per concern: `builder` (the entry points and the order of the steps), `script`
//! (variables read, files watched, the `cargo:` lines), `vcs` (git, CI variables,
//! `.cargo_vcs_info.json`), `toolchain`, `context` (user and date), `overrides`, `outputs`
//! and `generated_code`. The dependency graph (`graph`: `cargo tree`, Cargo.lock,
//! runtime/build classification, and the `OUT_DIR` cache) is the one part tools use too: the
//! `graph` feature gives [`Graph::resolve`] without the build-script entry points.

mod bounded;
#[cfg(feature = "build")]
mod builder;
#[cfg(feature = "build")]
mod context;
#[cfg(feature = "build")]
mod generated_code;
mod graph;
#[cfg(feature = "build")]
mod outputs;
#[cfg(feature = "build")]
mod overrides;
mod process;
#[cfg(feature = "build")]
mod script;
#[cfg(feature = "build")]
mod toolchain;
#[cfg(feature = "build")]
mod vcs;

#[cfg(feature = "build")]
pub use self::builder::{Builder, emit};
#[cfg(feature = "build")]
pub use self::generated_code::zlib;
pub use self::graph::{
    Checksums, FeatureSelection, GraphError, GraphPackage, LOCKFILE_LIMIT, ResolveOptions,
    inert_toolchain, lockfile_checksums,
};
pub use self::process::{RunError, run_within};
pub use crate::model::{GitOrigin, Graph};
