//! The `BuildInfo` value the `build_info!()` macro defines, and its printed forms.

use std::fmt::Write as _;

use crate::model::{DependencyKind, UNKNOWN};
use crate::packages::Packages;

/// Everything known about how this program was built.
///
/// Defined as `static BUILD_INFO` by [`build_info!`](crate::build_info!) from what the build
/// side captured. Every getter returns static data: reading a field never allocates.
#[derive(Clone, Copy)]
pub struct BuildInfo {
    parts: Parts,
}

/// The fields of a [`BuildInfo`], as static data.
///
/// The code [`build_info!`](crate::build_info!) generates fills one from what the build side
/// captured and passes it to [`BuildInfo::from_parts`]; tests can build their own. Each field
/// means what the [`BuildInfo`] getter of the same name returns; `tag` is `""` when there is
/// none, `features` is comma-separated.
#[derive(Clone, Copy, Debug)]
pub struct Parts {
    /// See [`BuildInfo::program`].
    pub program: &'static str,
    /// See [`BuildInfo::version`].
    pub version: &'static str,
    /// See [`BuildInfo::revision`].
    pub revision: &'static str,
    /// See [`BuildInfo::revision_label`].
    pub revision_label: &'static str,
    /// See [`BuildInfo::revision_source`].
    pub revision_source: &'static str,
    /// See [`BuildInfo::branch`].
    pub branch: &'static str,
    /// See [`BuildInfo::tag`]; `""` for none.
    pub tag: &'static str,
    /// See [`BuildInfo::describe`].
    pub describe: &'static str,
    /// See [`BuildInfo::commit_time`].
    pub commit_time: &'static str,
    /// See [`BuildInfo::modified`].
    pub modified: Option<bool>,
    /// See [`BuildInfo::build_user`].
    pub build_user: &'static str,
    /// See [`BuildInfo::build_date`].
    pub build_date: &'static str,
    /// See [`BuildInfo::rust_version`].
    pub rust_version: &'static str,
    /// See [`BuildInfo::rust_commit`].
    pub rust_commit: &'static str,
    /// See [`BuildInfo::rust_channel`].
    pub rust_channel: &'static str,
    /// See [`BuildInfo::host`].
    pub host: &'static str,
    /// See [`BuildInfo::target`].
    pub target: &'static str,
    /// See [`BuildInfo::profile`].
    pub profile: &'static str,
    /// See [`BuildInfo::opt_level`].
    pub opt_level: &'static str,
    /// See [`BuildInfo::features`]: comma-separated, sorted.
    pub features: &'static str,
    /// See [`BuildInfo::packages`].
    pub packages: Packages,
}

impl BuildInfo {
    /// A `BuildInfo` over static fields: how the generated `BUILD_INFO` static is built.
    pub const fn from_parts(parts: Parts) -> BuildInfo {
        BuildInfo { parts }
    }

    /// Program name: the `BUILD_INFO_PROGRAM` override, else the binary's name, else the package's.
    pub fn program(&self) -> &'static str {
        self.parts.program
    }
    /// Package version (`CARGO_PKG_VERSION`, or the `BUILD_INFO_VERSION` override).
    pub fn version(&self) -> &'static str {
        self.parts.version
    }
    /// Full commit hash of the source, or `unknown`.
    pub fn revision(&self) -> &'static str {
        self.parts.revision
    }
    /// The revision as printed and labelled: `<sha>-modified` when the tree had uncommitted
    /// changes, else the same as [`revision`](Self::revision).
    pub fn revision_label(&self) -> &'static str {
        self.parts.revision_label
    }
    /// Where the revision came from: `git` (the package's repository, or cargo's checkout of
    /// a git dependency), `BUILD_INFO_REVISION` (the override, as a container build without
    /// `.git` passes it), the CI variable that held it (`GITHUB_SHA`, `CI_COMMIT_SHA`, ...),
    /// `cargo_vcs_info` (a packaged crate's `.cargo_vcs_info.json`), or `unknown`.
    pub fn revision_source(&self) -> &'static str {
        self.parts.revision_source
    }
    /// Branch checked out (`HEAD` when detached), or `unknown`.
    pub fn branch(&self) -> &'static str {
        self.parts.branch
    }
    /// A tag pointing at the built commit, if any.
    pub fn tag(&self) -> Option<&'static str> {
        if self.parts.tag.is_empty() {
            None
        } else {
            Some(self.parts.tag)
        }
    }
    /// `git describe --tags --always` style: the last tag (`v1.4.2`), or with commits since it
    /// and the short hash (`v1.4.2-3-g3f2c1a9e0b7d`), or the short hash alone when no tag is
    /// reachable; `-modified` appended for a dirty tree. `unknown` without a repository.
    pub fn describe(&self) -> &'static str {
        self.parts.describe
    }
    /// Commit time in RFC 3339, UTC, or `unknown`.
    pub fn commit_time(&self) -> &'static str {
        self.parts.commit_time
    }
    /// Whether tracked files differed from the commit; `None` when unknown.
    pub fn modified(&self) -> Option<bool> {
        self.parts.modified
    }
    /// `user@host` that ran the build, or `unknown`.
    pub fn build_user(&self) -> &'static str {
        self.parts.build_user
    }
    /// Build time in RFC 3339, UTC (`SOURCE_DATE_EPOCH` when set).
    pub fn build_date(&self) -> &'static str {
        self.parts.build_date
    }
    /// rustc release (`1.95.0`).
    pub fn rust_version(&self) -> &'static str {
        self.parts.rust_version
    }
    /// rustc commit hash.
    pub fn rust_commit(&self) -> &'static str {
        self.parts.rust_commit
    }
    /// `stable`, `beta`, `nightly` or `dev`.
    pub fn rust_channel(&self) -> &'static str {
        self.parts.rust_channel
    }
    /// Triple of the machine that compiled the program.
    pub fn host(&self) -> &'static str {
        self.parts.host
    }
    /// Triple the program was compiled for.
    pub fn target(&self) -> &'static str {
        self.parts.target
    }
    /// Cargo profile directory: `debug` (the dev profile), `release`, or a custom profile's name.
    pub fn profile(&self) -> &'static str {
        self.parts.profile
    }
    /// `opt-level` of the profile.
    pub fn opt_level(&self) -> &'static str {
        self.parts.opt_level
    }
    /// Enabled features of the package, sorted and comma-separated (`default,tls`).
    pub fn features(&self) -> &'static str {
        self.parts.features
    }
    /// The enabled features one by one.
    pub fn feature_list(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.parts.features.split(',').filter(|f| !f.is_empty())
    }
    /// The build graph: every package the build used, this one included.
    pub fn packages(&self) -> Packages {
        self.parts.packages
    }

    /// `(version=1.4.2, branch=main, revision=3f2c…)`, for a log line at start-up.
    pub fn info(&self) -> String {
        format!(
            "(version={}, branch={}, revision={})",
            self.version(),
            self.branch(),
            self.revision_label()
        )
    }

    /// `(rust=1.95.0, platform=x86_64-unknown-linux-gnu, user=…, date=…, features=…)`.
    pub fn build_context(&self) -> String {
        format!(
            "(rust={}, platform={}, user={}, date={}, features={})",
            self.rust_version(),
            self.target(),
            self.build_user(),
            self.build_date(),
            self.features()
        )
    }

    /// The multi-line block Prometheus programs print for `--version`, values at column 21.
    ///
    /// ```
    /// # let info = buildinfo::test_util::example();
    /// assert_eq!(info.print("myapp"), "\
    /// myapp, version 1.4.2 (branch: main, revision: 3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a)
    ///   build user:       ci@builder-7
    ///   build date:       2026-11-21T23:46:36Z
    ///   rust version:     1.95.0
    ///   platform:         x86_64-unknown-linux-gnu
    ///   features:         default,tls
    /// ");
    /// ```
    pub fn print(&self, program: &str) -> String {
        let mut out = format!("{program}, version {}\n", self.head());
        self.write_context(&mut out);
        out
    }

    /// [`print`](Self::print) followed by the runtime dependencies, sorted by name, in aligned
    /// columns.
    ///
    /// ```
    /// # let info = buildinfo::test_util::example();
    /// let text = info.print_long("myapp");
    /// assert!(text.ends_with("\
    ///   features:         default,tls
    ///   dependencies:
    ///     itoa        1.0.15
    ///     serde_json  1.0.140
    /// "));
    /// ```
    pub fn print_long(&self, program: &str) -> String {
        let mut out = self.print(program);
        self.write_dependencies(&mut out);
        out
    }

    /// The long form without the leading `program, version `: what the `LONG_VERSION` const
    /// of [`build_info!`](crate::build_info!) holds, since clap prints the name before it.
    ///
    /// ```
    /// # let info = buildinfo::test_util::example();
    /// assert!(info.long_version().starts_with("1.4.2 (branch: main, revision: 3f2c1a9e0b7d"));
    /// assert_eq!(info.print_long("myapp"), format!("myapp, version {}", info.long_version()));
    /// ```
    pub fn long_version(&self) -> String {
        let mut out = self.head();
        out.push('\n');
        self.write_context(&mut out);
        self.write_dependencies(&mut out);
        out
    }

    /// [`long_version`](Self::long_version) without the dependency list: what the
    /// `LONG_VERSION_FACTS` const holds, for programs with hundreds of crates.
    ///
    /// ```
    /// # let info = buildinfo::test_util::example();
    /// assert!(info.long_version().starts_with(&info.long_version_facts()));
    /// assert!(info.long_version_facts().ends_with("features:         default,tls\n"));
    /// assert!(!info.long_version_facts().contains("dependencies:"));
    /// ```
    pub fn long_version_facts(&self) -> String {
        let mut out = self.head();
        out.push('\n');
        self.write_context(&mut out);
        out
    }

    /// One line for clap's `version`: `1.4.2 (main 3f2c1a9e0b7d)`, the revision cut to 12
    /// characters; just the version when the revision is unknown.
    ///
    /// ```
    /// # let info = buildinfo::test_util::example();
    /// assert_eq!(info.short_version(), "1.4.2 (main 3f2c1a9e0b7d)");
    /// ```
    pub fn short_version(&self) -> String {
        if self.revision() == UNKNOWN {
            return self.version().to_owned();
        }
        let rev = self.revision();
        let short = rev.get(..12).unwrap_or(rev);
        let dirty = if self.modified() == Some(true) {
            "-modified"
        } else {
            ""
        };
        format!("{} ({} {short}{dirty})", self.version(), self.branch())
    }

    fn head(&self) -> String {
        format!(
            "{} (branch: {}, revision: {})",
            self.version(),
            self.branch(),
            self.revision_label()
        )
    }

    fn write_context(&self, out: &mut String) {
        let rows = [
            ("build user:", self.build_user()),
            ("build date:", self.build_date()),
            ("rust version:", self.rust_version()),
            ("platform:", self.target()),
            ("features:", self.features()),
        ];
        for (label, value) in rows {
            if value.is_empty() {
                // No padding before nothing: a line of the block never ends in spaces.
                let _ = writeln!(out, "  {label}");
            } else {
                // Two spaces of indent and an 18-wide label put every value at column 21.
                let _ = writeln!(out, "  {label:<18}{value}");
            }
        }
    }

    fn write_dependencies(&self, out: &mut String) {
        let mut deps: Vec<_> = self
            .packages()
            .dependencies()
            .filter(|p| p.kind() == DependencyKind::Runtime)
            .map(|p| (p.name(), p.version()))
            .collect();
        if deps.is_empty() {
            return;
        }
        deps.sort_unstable();
        let width = deps.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        out.push_str("  dependencies:\n");
        for (name, version) in deps {
            let _ = writeln!(out, "    {name:<width$}  {version}");
        }
    }
}

impl std::fmt::Debug for BuildInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildInfo")
            .field("program", &self.program())
            .field("version", &self.version())
            .field("revision", &self.revision_label())
            .field("branch", &self.branch())
            .field("build_date", &self.build_date())
            .field("rust_version", &self.rust_version())
            .field("target", &self.target())
            .field("profile", &self.profile())
            .field("features", &self.features())
            .field("packages", &self.packages().len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::example;
    use crate::model::revision_label;

    #[test]
    fn revision_label_marks_only_known_dirty_revisions() {
        assert_eq!(revision_label("3f2c", Some(true)), "3f2c-modified");
        assert_eq!(revision_label("3f2c", Some(false)), "3f2c");
        assert_eq!(revision_label("3f2c", None), "3f2c");
        assert_eq!(revision_label(UNKNOWN, Some(true)), UNKNOWN);
    }

    #[test]
    fn every_getter_returns_its_own_field() {
        let info = example();
        assert_eq!(info.program(), "myapp");
        assert_eq!(info.version(), "1.4.2");
        assert_eq!(info.revision_source(), "git");
        assert_eq!(info.branch(), "main");
        assert_eq!(info.tag(), Some("v1.4.2"));
        assert_eq!(info.describe(), "v1.4.2");
        assert_eq!(info.commit_time(), "2026-11-21T23:40:00Z");
        assert_eq!(info.modified(), Some(false));
        assert_eq!(
            info.rust_commit(),
            "59807616e1fa3d3a9f6bb4f9c2e5a4c4d0b8e3f1"
        );
        assert_eq!(info.rust_channel(), "stable");
        assert_eq!(info.host(), "x86_64-unknown-linux-gnu");
        assert_eq!(info.profile(), "release");
        assert_eq!(info.opt_level(), "3");
        assert_eq!(info.feature_list().collect::<Vec<_>>(), ["default", "tls"]);
        assert_eq!(info.packages().len(), 4);
        assert!(!info.packages().is_empty());
    }

    #[test]
    fn the_printed_blocks_hold_facts_then_runtime_dependencies() {
        let info = example();
        let facts = "\
1.4.2 (branch: main, revision: 3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a)
  build user:       ci@builder-7
  build date:       2026-11-21T23:46:36Z
  rust version:     1.95.0
  platform:         x86_64-unknown-linux-gnu
  features:         default,tls
";
        // serde_derive is build-only and myapp is the root: neither is listed.
        let deps = "  dependencies:\n    itoa        1.0.15\n    serde_json  1.0.140\n";
        assert_eq!(info.long_version_facts(), facts);
        assert_eq!(info.long_version(), format!("{facts}{deps}"));
        assert_eq!(info.print("x"), format!("x, version {facts}"));
        assert_eq!(info.print_long("x"), format!("x, version {facts}{deps}"));
    }

    #[test]
    fn debug_output_names_the_program_and_its_packages() {
        let info = format!("{:?}", example());
        assert!(info.starts_with("BuildInfo { program: \"myapp\""), "{info}");
        assert!(info.contains("packages: 4"), "{info}");
        let packages = format!("{:?}", example().packages());
        assert!(
            packages.starts_with("[Package { name: \"itoa\""),
            "{packages}"
        );
        assert!(packages.contains("kind: Build, direct: true"), "{packages}");
    }

    #[test]
    fn log_lines_name_their_facts() {
        let info = example();
        assert_eq!(
            info.info(),
            "(version=1.4.2, branch=main, revision=3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a)"
        );
        assert_eq!(
            info.build_context(),
            "(rust=1.95.0, platform=x86_64-unknown-linux-gnu, user=ci@builder-7, \
             date=2026-11-21T23:46:36Z, features=default,tls)"
        );
    }

    #[allow(clippy::large_types_passed_by_value)] // mirrors `from_parts`, which is const
    fn with(parts: Parts) -> &'static BuildInfo {
        Box::leak(Box::new(BuildInfo::from_parts(parts)))
    }

    #[test]
    fn dirty_unknown_and_empty_values_print_as_documented() {
        let base = example().parts;
        let dirty = with(Parts {
            modified: Some(true),
            revision_label: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified",
            tag: "",
            features: "",
            packages: Packages::EMPTY,
            ..base
        });
        assert_eq!(dirty.short_version(), "1.4.2 (main 3f2c1a9e0b7d-modified)");
        assert_eq!(dirty.tag(), None);
        assert_eq!(dirty.feature_list().count(), 0);
        assert!(
            dirty
                .print("x")
                .contains("revision: 3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified)")
        );
        // No dependencies: no header for an empty list.
        assert_eq!(dirty.long_version(), dirty.long_version_facts());
        // No features: the label alone, without trailing spaces.
        assert!(
            dirty.print_long("x").ends_with("\n  features:\n"),
            "{}",
            dirty.print_long("x")
        );
        assert!(!dirty.long_version().lines().any(|l| l.ends_with(' ')));
        let unknown = with(Parts {
            revision: UNKNOWN,
            ..base
        });
        assert_eq!(unknown.short_version(), "1.4.2");
        let short = with(Parts {
            revision: "abc",
            ..base
        });
        assert_eq!(short.short_version(), "1.4.2 (main abc)");
    }
}
