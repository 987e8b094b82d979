//! Fixtures for tests of code that takes a [`BuildInfo`] (feature `test-util`; enable it in
//! `[dev-dependencies]` only).

use crate::build_info::BuildInfo;

/// A fixed `BuildInfo`: `myapp` 1.4.2 on `main`, tagged `v1.4.2`, built by `ci@builder-7`
/// with rustc 1.95.0 for x86_64 Linux, features `default,tls`, and four packages: `itoa`
/// (runtime, transitive), `myapp` (the root), `serde_derive` (build, direct) and `serde_json`
/// (runtime, direct).
///
/// ```
/// let info = buildinfo::test_util::example();
/// assert_eq!(info.short_version(), "1.4.2 (main 3f2c1a9e0b7d)");
/// ```
pub fn example() -> &'static BuildInfo {
    crate::example::example()
}
