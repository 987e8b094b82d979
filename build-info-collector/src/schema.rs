//! What the collector publishes, defined once: the two families' names, HELP texts and label
//! sets. cargo-depinfo's textfile output builds its families from the same definitions, so
//! the two cannot drift apart.

use std::borrow::Cow;

use crate::exposition::metric_name;
use crate::family::Family;

/// The name of the per-crate family. Fixed for every program, like Go's `go_mod_info`, so that
/// one query covers every service.
pub const RUST_MOD_INFO: &str = "rust_mod_info";

/// HELP of [`RUST_MOD_INFO`], the same for every program so that several programs in one
/// exposition stay valid.
pub const RUST_MOD_INFO_HELP: &str = "A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.";

/// HELP of `<program>_build_info`; `{program}` stands for the program name.
pub const BUILD_INFO_HELP_TEMPLATE: &str = "A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which {program} was built.";

/// Every label the collector sets itself, over its three families, as the builder's error
/// message lists them.
pub(crate) const BUILTIN_LABELS: &[&str] = &[
    "branch",
    "features",
    "profile",
    "revision",
    "rustversion",
    "target",
    "version",
    "direct",
    "name",
    "program",
    "source",
    "deps",
    "layout",
];

/// An empty `<program>_build_info` family: the program name made a metric name, and the HELP
/// naming the program as it is (escaped when rendered).
///
/// ```
/// let family = build_info_collector::build_info_family("my-svc");
/// assert_eq!(family.name(), "my_svc_build_info");
/// assert!(family.help().ends_with(" from which my-svc was built."));
/// ```
pub fn build_info_family<'a>(program: &str) -> Family<'a> {
    build_info_family_in(&default_namespace(program), program)
}

/// The namespace of a program's `<namespace>_build_info`: its name made a metric name, except
/// that a program whose name gives `rust` gets `rust_program`, since `rust_build_info` is the
/// fixed-name series every program publishes.
///
/// ```
/// assert_eq!(build_info_collector::build_info_family("rust").name(), "rust_program_build_info");
/// ```
pub(crate) fn default_namespace(program: &str) -> String {
    let namespace = metric_name(program);
    if format!("{namespace}_build_info") == RUST_BUILD_INFO {
        "rust_program".to_owned()
    } else {
        namespace
    }
}

/// `<namespace>_build_info`, the namespace used as it is.
pub(crate) fn build_info_family_in<'a>(namespace: &str, program: &str) -> Family<'a> {
    Family::gauge(
        format!("{namespace}_build_info"),
        BUILD_INFO_HELP_TEMPLATE.replace("{program}", program),
    )
}

/// An empty [`RUST_MOD_INFO`] family with its HELP.
pub fn rust_mod_info_family<'a>() -> Family<'a> {
    Family::gauge(RUST_MOD_INFO, RUST_MOD_INFO_HELP)
}

/// The labels of a `<program>_build_info` sample. Push them with
/// [`BuildInfoLabels::pairs`]: the pairs come sorted by name, as the collector writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfoLabels<'a> {
    /// Git branch.
    pub branch: Cow<'a, str>,
    /// Enabled features, comma-separated.
    pub features: Cow<'a, str>,
    /// Cargo profile.
    pub profile: Cow<'a, str>,
    /// Git revision, `-modified` appended for a dirty tree.
    pub revision: Cow<'a, str>,
    /// rustc version.
    pub rustversion: Cow<'a, str>,
    /// Target triple.
    pub target: Cow<'a, str>,
    /// Program version.
    pub version: Cow<'a, str>,
}

impl BuildInfoLabels<'static> {
    /// The labels of this program's own build, as the collector writes them.
    pub fn of(info: &'static buildinfo::BuildInfo) -> Self {
        BuildInfoLabels {
            branch: info.branch().into(),
            features: info.features().into(),
            profile: info.profile().into(),
            revision: info.revision_label().into(),
            rustversion: info.rust_version().into(),
            target: info.target().into(),
            version: info.version().into(),
        }
    }
}

impl<'a> BuildInfoLabels<'a> {
    /// The labels of build facts read from another binary (`.bldinfo`), for the program at
    /// `version`: the same labels its own collector would write.
    pub fn of_facts(facts: &'a buildinfo::model::BuildFacts, version: &'a str) -> Self {
        BuildInfoLabels {
            branch: facts.branch.as_str().into(),
            features: facts.features.join(",").into(),
            profile: facts.profile.as_str().into(),
            revision: buildinfo::revision_label(&facts.revision, facts.modified).into(),
            rustversion: facts.rust_version.as_str().into(),
            target: facts.target.as_str().into(),
            version: version.into(),
        }
    }

    /// The label pairs, sorted by name.
    pub fn pairs(self) -> [(&'static str, Cow<'a, str>); 7] {
        [
            ("branch", self.branch),
            ("features", self.features),
            ("profile", self.profile),
            ("revision", self.revision),
            ("rustversion", self.rustversion),
            ("target", self.target),
            ("version", self.version),
        ]
    }
}

/// The labels of a [`RUST_MOD_INFO`] sample. Push them with [`RustModInfoLabels::pairs`]: the
/// pairs come sorted by name, as the collector writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustModInfoLabels<'a> {
    /// Whether the program's own package names the crate as a dependency.
    pub direct: bool,
    /// Crate name as published.
    pub name: Cow<'a, str>,
    /// The program built with it.
    pub program: Cow<'a, str>,
    /// `crates.io`, `registry`, `git` or `local`: never a URL or a path.
    pub source: Cow<'a, str>,
    /// Crate version.
    pub version: Cow<'a, str>,
}

impl<'a> RustModInfoLabels<'a> {
    /// The label pairs, sorted by name.
    pub fn pairs(self) -> [(&'static str, Cow<'a, str>); 5] {
        [
            (
                "direct",
                Cow::Borrowed(if self.direct { "true" } else { "false" }),
            ),
            ("name", self.name),
            ("program", self.program),
            ("source", self.source),
            ("version", self.version),
        ]
    }
}

/// The name of the per-instance series of the `catalog` and `direct` layouts (and of `full`,
/// for fleets changing layout): fixed for every program, like client_golang's `go_build_info`.
pub const RUST_BUILD_INFO: &str = "rust_build_info";

/// HELP of [`RUST_BUILD_INFO`].
pub const RUST_BUILD_INFO_HELP: &str = "A metric with a constant '1' value labeled by the program, its version and revision, the digest of its dependency list (deps) and the layout of its crate series.";

/// The name of the catalog's series: one per crate per distinct dependency list, joined to
/// [`RUST_BUILD_INFO`] on `deps`.
pub const RUST_DEPS_INFO: &str = "rust_deps_info";

/// HELP of [`RUST_DEPS_INFO`].
pub const RUST_DEPS_INFO_HELP: &str = "A metric with a constant '1' value labeled by the digest of a dependency list (deps) and the name, version, source and directness of each crate on it.";

/// An empty [`RUST_BUILD_INFO`] family with its HELP.
pub fn rust_build_info_family<'a>() -> Family<'a> {
    Family::gauge(RUST_BUILD_INFO, RUST_BUILD_INFO_HELP)
}

/// An empty [`RUST_DEPS_INFO`] family with its HELP.
pub fn rust_deps_info_family<'a>() -> Family<'a> {
    Family::gauge(RUST_DEPS_INFO, RUST_DEPS_INFO_HELP)
}

/// The labels of a [`RUST_BUILD_INFO`] sample; [`RustBuildInfoLabels::pairs`] gives them sorted
/// by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustBuildInfoLabels<'a> {
    /// The digest of the program's dependency list ([`DepsList::digest`](crate::DepsList::digest)),
    /// empty when the program carries no dependency graph.
    pub deps: Cow<'a, str>,
    /// The layout of the producer's crate series.
    pub layout: crate::layout::Layout,
    /// The program.
    pub program: Cow<'a, str>,
    /// Git revision, as `<program>_build_info` has it.
    pub revision: Cow<'a, str>,
    /// Program version.
    pub version: Cow<'a, str>,
}

impl<'a> RustBuildInfoLabels<'a> {
    /// The label pairs, sorted by name.
    pub fn pairs(self) -> [(&'static str, Cow<'a, str>); 5] {
        [
            ("deps", self.deps),
            ("layout", Cow::Borrowed(self.layout.as_str())),
            ("program", self.program),
            ("revision", self.revision),
            ("version", self.version),
        ]
    }
}

/// The labels of a [`RUST_DEPS_INFO`] sample: a list's digest and one of its entries, sorted by
/// name.
pub fn rust_deps_info_pairs<'a>(
    deps: &'a str,
    entry: &crate::deps_list::DepsEntry<'a>,
) -> [(&'static str, Cow<'a, str>); 5] {
    [
        ("deps", Cow::Borrowed(deps)),
        (
            "direct",
            Cow::Borrowed(if entry.direct { "true" } else { "false" }),
        ),
        ("name", entry.name.clone()),
        ("source", entry.source.clone()),
        ("version", entry.version.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_labels_are_the_labels_of_both_families() {
        let build = BuildInfoLabels {
            branch: "".into(),
            features: "".into(),
            profile: "".into(),
            revision: "".into(),
            rustversion: "".into(),
            target: "".into(),
            version: "".into(),
        };
        let module = RustModInfoLabels {
            direct: false,
            name: "".into(),
            program: "".into(),
            source: "".into(),
            version: "".into(),
        };
        let rust_build = RustBuildInfoLabels {
            deps: "".into(),
            layout: crate::layout::Layout::Full,
            program: "".into(),
            revision: "".into(),
            version: "".into(),
        };
        let mut names: Vec<&str> = build.pairs().iter().map(|p| p.0).collect();
        for pairs in [module.pairs(), rust_build.pairs()] {
            for (name, _) in pairs {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        assert_eq!(names, BUILTIN_LABELS);
    }

    #[test]
    fn pairs_carry_their_values_sorted_by_name() {
        let build = BuildInfoLabels {
            branch: "b".into(),
            features: "f".into(),
            profile: "p".into(),
            revision: "r".into(),
            rustversion: "rv".into(),
            target: "t".into(),
            version: "v".into(),
        };
        let pairs = build.pairs();
        assert!(pairs.is_sorted_by_key(|p| p.0));
        let values: Vec<&str> = pairs.iter().map(|p| p.1.as_ref()).collect();
        assert_eq!(values, ["b", "f", "p", "r", "rv", "t", "v"]);
        let module = |direct| RustModInfoLabels {
            direct,
            name: "n".into(),
            program: "p".into(),
            source: "s".into(),
            version: "v".into(),
        };
        let pairs = module(true).pairs();
        assert!(pairs.is_sorted_by_key(|p| p.0));
        let values: Vec<&str> = pairs.iter().map(|p| p.1.as_ref()).collect();
        assert_eq!(values, ["true", "n", "p", "s", "v"]);
        assert_eq!(module(false).pairs()[0].1, "false");
    }

    #[test]
    fn families_are_named_as_the_collector_names_them() {
        let f = build_info_family("2fa-svc");
        assert_eq!(f.name(), "_2fa_svc_build_info");
        assert_eq!(
            f.help(),
            BUILD_INFO_HELP_TEMPLATE.replace("{program}", "2fa-svc")
        );
        assert!(f.is_empty());
        let f = rust_mod_info_family();
        assert_eq!((f.name(), f.help()), (RUST_MOD_INFO, RUST_MOD_INFO_HELP));
    }
}
