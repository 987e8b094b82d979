//! The builder: every option is checked here, so that a scrape cannot fail.

use std::borrow::Cow;
use std::collections::BTreeSet;

use buildinfo::BuildInfo;

use crate::error::Error;
use crate::exposition::{is_label_name, is_metric_name};
use crate::layout::Layout;
use crate::schema::{BUILTIN_LABELS, RUST_BUILD_INFO, default_namespace};
use buildinfo::model::{is_crate_name, normalize_crate_name};

/// Options for a [`BuildInfoCollector`](crate::BuildInfoCollector); start with
/// [`BuildInfoCollector::builder`](crate::BuildInfoCollector::builder), finish with
/// [`build`](Self::build).
///
/// ```
/// let collector = build_info_collector::BuildInfoCollector::builder(buildinfo::test_util::example())
///     .program("shop-api")
///     .build_dependencies(true)
///     .deny(["itoa"])
///     .label("team", "payments")
///     .build()
///     .unwrap();
/// assert_eq!(collector.build_info_name(), "shop_api_build_info");
/// // serde_json, and serde_derive (build-only) too; itoa is denied.
/// assert_eq!(collector.crate_count(), 2);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    pub(crate) info: &'static BuildInfo,
    pub(crate) program: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) build_dependencies: bool,
    pub(crate) direct_only: bool,
    pub(crate) allow: Vec<String>,
    pub(crate) deny: Vec<String>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) layout: Layout,
}

impl Builder {
    pub(crate) fn new(info: &'static BuildInfo) -> Builder {
        Builder {
            info,
            program: None,
            namespace: None,
            build_dependencies: false,
            direct_only: false,
            allow: Vec::new(),
            deny: Vec::new(),
            labels: Vec::new(),
            layout: Layout::Full,
        }
    }

    /// The program name: the `program` label of `rust_mod_info`, and (made a valid metric
    /// name) the prefix of `<program>_build_info`. Default: [`BuildInfo::program`].
    pub fn program(mut self, program: impl Into<String>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// The metric name prefix of `<namespace>_build_info`, used as it is (it must be a valid
    /// metric name, and not `rust`: `rust_build_info` is the fixed-name series every program
    /// publishes). Default: the program name made a valid metric name (`rust_program` for a
    /// program named `rust`). `rust_mod_info` and `rust_build_info` keep their fixed names.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Also give build-only dependencies (build scripts, proc macros) a `rust_mod_info` series.
    /// Default: off, runtime dependencies only.
    pub fn build_dependencies(mut self, on: bool) -> Self {
        self.build_dependencies = on;
        self
    }

    /// Only the crates the program's own package names as dependencies. Default: off.
    pub fn direct_only(mut self, on: bool) -> Self {
        self.direct_only = on;
        self
    }

    /// Only these crates (by name; `-` and `_` match each other). Calls add up; an empty
    /// allow list allows every crate.
    pub fn allow<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow.extend(names.into_iter().map(Into::into));
        self
    }

    /// Never these crates (by name; `-` and `_` match each other). Calls add up; the deny list
    /// wins over the allow list.
    pub fn deny<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deny.extend(names.into_iter().map(Into::into));
        self
    }

    /// Which series describe the crates (README, "Layouts"). Default: [`Layout::Full`].
    ///
    /// Every layout publishes `<namespace>_build_info` and
    /// `rust_build_info{deps="<digest>",layout,program,revision,version}`; they differ in the
    /// per-crate series: [`Layout::Full`] gives every crate a `rust_mod_info` series,
    /// [`Layout::Catalog`] none (the crates are looked up by digest in the fleet's catalog,
    /// `rust_deps_info`), [`Layout::Direct`] only the direct dependencies.
    ///
    /// `Full` is the default because it is the one layout that breaks nothing and needs
    /// nothing: every dashboard, alert and `cargo depinfo` query written against
    /// `rust_mod_info` keeps working, and no other component (a catalog, a `/deps/` route) has
    /// to run for the fleet's questions to be answered. Its cost is one series per crate per
    /// instance; a fleet that has deployed the catalog switches with this one option, and the
    /// digest in `rust_build_info` is the same in every layout, so a fleet can move one program
    /// at a time.
    ///
    /// ```
    /// use build_info_collector::{BuildInfoCollector, Layout};
    ///
    /// let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
    ///     .layout(Layout::Catalog)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(collector.layout(), Layout::Catalog);
    /// assert_eq!(collector.crate_count(), 0);
    /// assert!(!collector.exposition().contains("rust_mod_info"));
    /// let digest = collector.deps_list().unwrap().digest();
    /// assert!(collector.exposition().contains(&format!("rust_build_info{{deps=\"{digest}\",layout=\"catalog\",")));
    /// ```
    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// An extra constant label on every series of every family, such as `team="payments"`.
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// The options, checked: what [`build`](Self::build) prepares the families from.
    pub(crate) fn check(self) -> Result<Checked, Error> {
        let program = match self.program {
            Some(p) if p.is_empty() => return Err(Error::EmptyProgram),
            Some(p) => Cow::Owned(p),
            None => Cow::Borrowed(self.info.program()),
        };
        let namespace = match self.namespace {
            Some(ns) if !is_metric_name(&ns) => {
                return Err(Error::InvalidNamespace { namespace: ns });
            }
            Some(ns) if format!("{ns}_build_info") == RUST_BUILD_INFO => {
                return Err(Error::ReservedNamespace { namespace: ns });
            }
            Some(ns) => ns,
            None => default_namespace(&program),
        };
        let mut labels = Vec::with_capacity(self.labels.len());
        let mut seen = BTreeSet::new();
        for (name, value) in self.labels {
            if !is_label_name(&name) {
                return Err(Error::InvalidLabelName { name });
            }
            if name.starts_with("__") {
                return Err(Error::ReservedLabelName { name });
            }
            if BUILTIN_LABELS.contains(&name.as_str()) {
                return Err(Error::BuiltinLabel {
                    name,
                    builtin: BUILTIN_LABELS_TEXT,
                });
            }
            if !seen.insert(name.clone()) {
                return Err(Error::DuplicateLabel { name });
            }
            labels.push((Cow::Owned(name), Cow::Owned(value)));
        }
        Ok(Checked {
            info: self.info,
            program,
            namespace,
            build_dependencies: self.build_dependencies,
            direct_only: self.direct_only,
            allow: crate_names(self.allow, "allow")?,
            deny: crate_names(self.deny, "deny")?,
            labels,
            layout: self.layout,
        })
    }
}

const BUILTIN_LABELS_TEXT: &str = "branch, features, profile, revision, rustversion, target, version, direct, name, program, source, deps, layout";

/// Options that passed every check.
pub(crate) struct Checked {
    pub(crate) info: &'static BuildInfo,
    pub(crate) program: Cow<'static, str>,
    pub(crate) namespace: String,
    pub(crate) build_dependencies: bool,
    pub(crate) direct_only: bool,
    /// Normalized names (`-` as `_`).
    pub(crate) allow: BTreeSet<String>,
    pub(crate) deny: BTreeSet<String>,
    pub(crate) labels: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub(crate) layout: Layout,
}

fn crate_names(names: Vec<String>, list: &'static str) -> Result<BTreeSet<String>, Error> {
    names
        .into_iter()
        .map(|name| {
            if is_crate_name(&name) {
                Ok(normalize_crate_name(&name))
            } else {
                Err(Error::InvalidCrateName { name, list })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> Builder {
        Builder::new(buildinfo::test_util::example())
    }

    #[test]
    fn the_builtin_label_list_in_errors_is_the_list_checked() {
        assert_eq!(BUILTIN_LABELS_TEXT, BUILTIN_LABELS.join(", "));
    }

    #[test]
    fn label_names_are_checked_at_construction() {
        let err = builder().label("team-name", "x").check().err().unwrap();
        assert_eq!(
            err,
            Error::InvalidLabelName {
                name: "team-name".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid label name \"team-name\": a label name matches [a-zA-Z_][a-zA-Z0-9_]*"
        );
        assert!(matches!(
            builder().label("", "x").check(),
            Err(Error::InvalidLabelName { .. })
        ));
        assert!(matches!(
            builder().label("1team", "x").check(),
            Err(Error::InvalidLabelName { .. })
        ));
        assert!(matches!(
            builder().label("__team", "x").check(),
            Err(Error::ReservedLabelName { .. })
        ));
        assert!(matches!(
            builder().label("team", "a").label("team", "b").check(),
            Err(Error::DuplicateLabel { .. })
        ));
    }

    #[test]
    fn builtin_labels_cannot_be_overridden() {
        for name in BUILTIN_LABELS {
            let err = builder().label(*name, "x").check().err().unwrap();
            assert!(matches!(err, Error::BuiltinLabel { .. }), "{name}: {err}");
        }
    }

    #[test]
    fn namespace_program_and_crate_names_are_checked() {
        assert!(matches!(
            builder().namespace("my-app").check(),
            Err(Error::InvalidNamespace { .. })
        ));
        assert_eq!(
            builder().namespace("rust").check().err(),
            Some(Error::ReservedNamespace {
                namespace: "rust".into()
            })
        );
        assert_eq!(
            builder().program("rust").check().ok().unwrap().namespace,
            "rust_program"
        );
        assert!(matches!(
            builder().program("").check(),
            Err(Error::EmptyProgram)
        ));
        assert!(matches!(
            builder().allow(["serde json"]).check(),
            Err(Error::InvalidCrateName { list: "allow", .. })
        ));
        assert!(matches!(
            builder().deny([""]).check(),
            Err(Error::InvalidCrateName { list: "deny", .. })
        ));
        assert!(
            builder()
                .namespace("team:myapp")
                .label("team", "")
                .check()
                .is_ok()
        );
    }
}
