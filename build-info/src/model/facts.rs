//! The scalar build facts: one string per field, `unknown` where nothing could be learned.

/// The value written for any fact that could not be established.
pub const UNKNOWN: &str = "unknown";

/// The revision as printed and labelled everywhere: `<sha>-modified` when the tree had
/// uncommitted changes, else the revision itself (`unknown` stays `unknown`).
///
/// ```
/// assert_eq!(buildinfo::revision_label("3f2c", Some(true)), "3f2c-modified");
/// assert_eq!(buildinfo::revision_label("3f2c", None), "3f2c");
/// assert_eq!(buildinfo::revision_label("unknown", Some(true)), "unknown");
/// ```
pub fn revision_label(revision: &str, modified: Option<bool>) -> String {
    if modified == Some(true) && revision != UNKNOWN {
        format!("{revision}-modified")
    } else {
        revision.to_owned()
    }
}

/// How the embedded package list relates to what the linker put into the program.
///
/// Cargo unifies features across every package one build selects, so a workspace member
/// built together with others can link crates that its own `cargo tree -p` does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "read",
    derive(serde::Serialize),
    serde(rename_all = "kebab-case")
)]
#[non_exhaustive]
pub enum GraphScope {
    /// The graph cargo resolved for the build that ran the build script (its package
    /// selection and feature flags): `exact` in `.bldinfo`.
    Exact,
    /// A safe over-approximation: the graph the program would have if every workspace member
    /// were built with it; it may list crates this build did not link: `upper-bound`.
    UpperBound,
    /// The package's own tree, resolved alone, because the workspace's graph could not be
    /// had: neither exact nor surely an upper bound (crates that other members' features add
    /// may be missing): `unknown`.
    Unknown,
}

impl GraphScope {
    /// `exact` or `upper-bound`, as `.bldinfo` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            GraphScope::Exact => "exact",
            GraphScope::UpperBound => "upper-bound",
            GraphScope::Unknown => "unknown",
        }
    }

    /// What the label means for the package list, in words for people (`cargo depinfo
    /// inspect` prints it).
    pub const fn meaning(self) -> &'static str {
        match self {
            GraphScope::Exact => {
                "the list is what cargo resolved for the build that made this binary"
            }
            GraphScope::UpperBound => {
                "the list may hold crates this build did not link: those a build selecting more workspace members links"
            }
            GraphScope::Unknown => {
                "the list is the package's own tree, resolved alone: crates that other workspace members' features add may be missing"
            }
        }
    }

    /// A `graph` value as `.bldinfo` readers take it: a scope they do not know (written by a
    /// newer build side) reads as `None`, like a missing one.
    #[cfg(feature = "read")]
    fn deserialize_known<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<GraphScope>, D::Error> {
        let name: Option<std::borrow::Cow<'de, str>> = serde::Deserialize::deserialize(d)?;
        Ok(name.as_deref().and_then(GraphScope::from_name))
    }

    /// The scope named by [`as_str`](Self::as_str)'s text.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "exact" => Some(GraphScope::Exact),
            "upper-bound" => Some(GraphScope::UpperBound),
            "unknown" => Some(GraphScope::Unknown),
            _ => None,
        }
    }
}

/// The longest `revision_source` a reader accepts.
pub const REVISION_SOURCE_MAX_LEN: usize = 64;

/// Whether `name` can be a `revision_source`: 1 to [`REVISION_SOURCE_MAX_LEN`] ASCII letters,
/// digits and `_`, `-`, `.` (a source's name or an environment variable's, never free text).
///
/// ```
/// use buildinfo::model::is_revision_source;
/// assert!(is_revision_source("GITHUB_SHA"));
/// assert!(is_revision_source("cargo_vcs_info"));
/// assert!(!is_revision_source(""));
/// assert!(!is_revision_source("git\n"));
/// assert!(!is_revision_source(&"A".repeat(65)));
/// ```
pub fn is_revision_source(name: &str) -> bool {
    (1..=REVISION_SOURCE_MAX_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// How a program was built: everything `.bldinfo` carries besides the package list.
///
/// The build side fills it; readers ([`decode_bldinfo`](crate::model::decode_bldinfo), with
/// the `read` feature) get it back. A field that could not be established holds
/// [`crate::model::UNKNOWN`].
///
/// With the `read` feature it is `Serialize` (without `program` and `version`, which name the
/// program elsewhere) and `Deserialize` from the `.bldinfo` keys, each missing key taking its
/// [`Default`] (`unknown`; no tag, no features, `modified` and `graph` not known) and a
/// `graph` this reader does not know read as `None`. Deserializing checks nothing else:
/// [`decode_bldinfo`](crate::model::decode_bldinfo) is the reader that checks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "read",
    derive(serde::Serialize, serde::Deserialize),
    serde(default)
)]
#[non_exhaustive]
pub struct BuildFacts {
    /// Program name: `BUILD_INFO_PROGRAM`, else the package name.
    #[cfg_attr(feature = "read", serde(skip_serializing))]
    pub program: String,
    /// Package version.
    #[cfg_attr(feature = "read", serde(skip_serializing))]
    pub version: String,
    /// Full commit hash.
    pub revision: String,
    /// Where [`revision`](Self::revision) came from: `git` (the package's repository, or
    /// cargo's checkout of a git dependency), `BUILD_INFO_REVISION` (the override), the name
    /// of the CI variable that held it (`GITHUB_SHA`, `CI_COMMIT_SHA`, ...), `cargo_vcs_info`
    /// (the `.cargo_vcs_info.json` of a packaged crate), or `unknown` (also for binaries built
    /// before it was recorded). Readers refuse a value that is not a plain name (see
    /// [`is_revision_source`]).
    pub revision_source: String,
    /// Branch name (`HEAD` when detached).
    pub branch: String,
    /// Tag at the commit; empty when none.
    pub tag: String,
    /// `git describe --tags --always` style: `v1.4.2`, `v1.4.2-3-g3f2c1a9e0b7d`, or the short
    /// hash when no tag is reachable; `-modified` appended for a dirty tree.
    pub describe: String,
    /// Commit time, RFC 3339 UTC.
    pub commit_time: String,
    /// Uncommitted changes in tracked files; `None` when unknown.
    pub modified: Option<bool>,
    /// `user@host`.
    pub build_user: String,
    /// Build date, RFC 3339 UTC.
    pub build_date: String,
    /// rustc release.
    pub rust_version: String,
    /// rustc commit hash.
    pub rust_commit: String,
    /// `stable`, `beta`, `nightly` or `dev`.
    pub rust_channel: String,
    /// Host triple.
    pub host: String,
    /// Target triple.
    pub target: String,
    /// Cargo profile directory (`debug`, `release`, or a custom profile's name).
    pub profile: String,
    /// Optimisation level.
    pub opt_level: String,
    /// Enabled features of the program's package, sorted.
    pub features: Vec<String>,
    /// Whether the package list is exact or an upper bound; `None` when the binary does not
    /// say (built before this was recorded, or without a dependency graph).
    #[cfg_attr(
        feature = "read",
        serde(deserialize_with = "GraphScope::deserialize_known")
    )]
    pub graph: Option<GraphScope>,
    /// With [`GraphScope::UpperBound`], when known: the packages (`name@version`) in the list
    /// that this very build did not link, and that a build selecting more workspace members
    /// would. Sorted.
    pub only_with_other_members: Vec<String>,
}

impl Default for BuildFacts {
    /// Every fact unknown, no tag, no features.
    fn default() -> Self {
        let u = || UNKNOWN.to_owned();
        BuildFacts {
            program: u(),
            version: u(),
            revision: u(),
            revision_source: u(),
            branch: u(),
            tag: String::new(),
            describe: u(),
            commit_time: u(),
            modified: None,
            build_user: u(),
            build_date: u(),
            rust_version: u(),
            rust_commit: u(),
            rust_channel: u(),
            host: u(),
            target: u(),
            profile: u(),
            opt_level: u(),
            features: Vec::new(),
            graph: None,
            only_with_other_members: Vec::new(),
        }
    }
}

impl BuildFacts {
    /// The string fields by their `.bldinfo` keys, in the order `.bldinfo` writes them.
    pub(crate) fn string_fields(&self) -> [(&'static str, &str); 17] {
        [
            ("program", &self.program),
            ("version", &self.version),
            ("revision", &self.revision),
            ("revision_source", &self.revision_source),
            ("branch", &self.branch),
            ("tag", &self.tag),
            ("describe", &self.describe),
            ("commit_time", &self.commit_time),
            ("build_user", &self.build_user),
            ("build_date", &self.build_date),
            ("rust_version", &self.rust_version),
            ("rust_commit", &self.rust_commit),
            ("rust_channel", &self.rust_channel),
            ("host", &self.host),
            ("target", &self.target),
            ("profile", &self.profile),
            ("opt_level", &self.opt_level),
        ]
    }

    /// `<sha>-modified` for a dirty tree, else the revision (see
    /// [`revision_label`]).
    pub fn revision_label(&self) -> String {
        revision_label(&self.revision, self.modified)
    }

    /// The facts as `(key, value)` pairs in display order (what `cargo depinfo inspect`
    /// prints); the tag and the description only when there is one.
    ///
    /// ```
    /// let mut facts = buildinfo::model::BuildFacts::default();
    /// facts.describe = "v1.0.0-2-g3f2c1a9e0b7d".into();
    /// let keys: Vec<_> = facts.pairs().into_iter().map(|(k, _)| k).collect();
    /// assert_eq!(&keys[..5], ["revision", "revision_source", "modified", "branch", "describe"]);
    /// ```
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let modified = match self.modified {
            Some(true) => "true",
            Some(false) => "false",
            None => UNKNOWN,
        };
        let mut out = vec![
            ("revision", self.revision.clone()),
            ("revision_source", self.revision_source.clone()),
            ("modified", modified.to_owned()),
            ("branch", self.branch.clone()),
        ];
        if self.describe != UNKNOWN {
            out.push(("describe", self.describe.clone()));
        }
        if !self.tag.is_empty() {
            out.push(("tag", self.tag.clone()));
        }
        out.extend([
            ("commit_time", self.commit_time.clone()),
            ("build_user", self.build_user.clone()),
            ("build_date", self.build_date.clone()),
            ("rust_version", self.rust_version.clone()),
            ("rust_commit", self.rust_commit.clone()),
            ("rust_channel", self.rust_channel.clone()),
            ("host", self.host.clone()),
            ("target", self.target.clone()),
            ("profile", self.profile.clone()),
            ("opt_level", self.opt_level.clone()),
            ("features", self.features.join(",")),
            (
                "graph",
                self.graph.map_or(UNKNOWN, GraphScope::as_str).to_owned(),
            ),
        ]);
        if !self.only_with_other_members.is_empty() {
            out.push((
                "only_with_other_members",
                self.only_with_other_members.join(","),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_show_the_tag_only_when_there_is_one() {
        let mut facts = BuildFacts {
            modified: Some(true),
            features: vec!["a".into(), "b".into()],
            ..BuildFacts::default()
        };
        let pairs = facts.pairs();
        assert!(pairs.iter().all(|(k, _)| *k != "tag" && *k != "describe"));
        assert!(pairs.contains(&("modified", "true".into())));
        assert!(pairs.contains(&("features", "a,b".into())));
        facts.tag = "v1".into();
        facts.describe = "v1-modified".into();
        facts.modified = Some(false);
        let pairs = facts.pairs();
        assert_eq!(pairs[1], ("revision_source", "unknown".into()));
        assert_eq!(pairs[4], ("describe", "v1-modified".into()));
        assert_eq!(pairs[5], ("tag", "v1".into()));
        assert!(pairs.contains(&("modified", "false".into())));
        facts.modified = None;
        assert!(facts.pairs().contains(&("modified", "unknown".into())));
        assert!(facts.pairs().contains(&("graph", "unknown".into())));
        facts.graph = Some(GraphScope::UpperBound);
        facts.only_with_other_members = vec!["itoa@1.0.14".into()];
        let pairs = facts.pairs();
        assert!(pairs.contains(&("graph", "upper-bound".into())));
        assert_eq!(
            pairs.last(),
            Some(&("only_with_other_members", "itoa@1.0.14".into()))
        );
    }

    #[test]
    fn every_scope_is_named_read_back_and_explained_differently() {
        let scopes = [
            GraphScope::Exact,
            GraphScope::UpperBound,
            GraphScope::Unknown,
        ];
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["exact", "upper-bound", "unknown"]);
        for scope in scopes {
            assert_eq!(GraphScope::from_name(scope.as_str()), Some(scope));
        }
        assert_eq!(GraphScope::from_name("exact-ish"), None);
        let meanings: std::collections::BTreeSet<&str> =
            scopes.iter().map(|s| s.meaning()).collect();
        assert_eq!(meanings.len(), 3);
        assert!(GraphScope::Unknown.meaning().contains("may be missing"));
        assert!(GraphScope::UpperBound.meaning().contains("did not link"));
        assert!(
            GraphScope::Exact
                .meaning()
                .contains("resolved for the build")
        );
    }
}
