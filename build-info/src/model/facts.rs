//! The scalar build facts: one string per field, `unknown` where nothing could be learned.

use crate::UNKNOWN;

/// How a program was built: everything `.bldinfo` carries besides the package list.
///
/// The build side fills it; readers ([`decode_bldinfo`](crate::model::decode_bldinfo), with
/// the `read` feature) get it back. A field that could not be established holds
/// [`UNKNOWN`](crate::UNKNOWN).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "read", derive(serde::Serialize))]
#[non_exhaustive]
pub struct BuildFacts {
    /// Program name: `BUILD_INFO_PROGRAM`, else the package name.
    #[cfg_attr(feature = "read", serde(skip))]
    pub program: String,
    /// Package version.
    #[cfg_attr(feature = "read", serde(skip))]
    pub version: String,
    /// Full commit hash.
    pub revision: String,
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
}

impl Default for BuildFacts {
    /// Every fact unknown, no tag, no features.
    fn default() -> Self {
        let u = || UNKNOWN.to_owned();
        BuildFacts {
            program: u(),
            version: u(),
            revision: u(),
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
        }
    }
}

impl BuildFacts {
    /// The string fields by their `.bldinfo` keys, in the order `.bldinfo` writes them.
    pub(crate) fn string_fields(&self) -> [(&'static str, &str); 16] {
        [
            ("program", &self.program),
            ("version", &self.version),
            ("revision", &self.revision),
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
    /// [`revision_label`](crate::revision_label)).
    pub fn revision_label(&self) -> String {
        crate::revision_label(&self.revision, self.modified)
    }

    /// The facts as `(key, value)` pairs in display order (what `cargo depinfo inspect`
    /// prints); the tag and the description only when there is one.
    ///
    /// ```
    /// let mut facts = buildinfo::model::BuildFacts::default();
    /// facts.describe = "v1.0.0-2-g3f2c1a9e0b7d".into();
    /// let keys: Vec<_> = facts.pairs().into_iter().map(|(k, _)| k).collect();
    /// assert_eq!(&keys[..4], ["revision", "modified", "branch", "describe"]);
    /// ```
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let modified = match self.modified {
            Some(true) => "true",
            Some(false) => "false",
            None => UNKNOWN,
        };
        let mut out = vec![
            ("revision", self.revision.clone()),
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
        ]);
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
        assert_eq!(pairs[3], ("describe", "v1-modified".into()));
        assert_eq!(pairs[4], ("tag", "v1".into()));
        assert!(pairs.contains(&("modified", "false".into())));
        facts.modified = None;
        assert!(facts.pairs().contains(&("modified", "unknown".into())));
    }
}
