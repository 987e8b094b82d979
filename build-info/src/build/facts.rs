//! The captured build facts, one string per field, `unknown` where nothing could be learned.

use crate::UNKNOWN;

/// Every scalar fact the build side records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facts {
    pub program: String,
    /// Set when `BUILD_INFO_PROGRAM` overrides the binary's own name.
    pub program_override: Option<String>,
    pub version: String,
    pub revision: String,
    pub branch: String,
    /// Empty when no tag points at the commit.
    pub tag: String,
    pub commit_time: String,
    pub modified: Option<bool>,
    pub build_user: String,
    pub build_date: String,
    pub rust_version: String,
    pub rust_commit: String,
    pub rust_channel: String,
    pub host: String,
    pub target: String,
    pub profile: String,
    pub opt_level: String,
    pub features: Vec<String>,
}

impl Default for Facts {
    fn default() -> Self {
        let u = || UNKNOWN.to_owned();
        Facts {
            program: u(),
            program_override: None,
            version: u(),
            revision: u(),
            branch: u(),
            tag: String::new(),
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

impl Facts {
    /// The string fields by their names in `Parts` and in the `.bldinfo` JSON, in a fixed order.
    pub fn string_fields(&self) -> [(&'static str, &str); 15] {
        [
            ("program", &self.program),
            ("version", &self.version),
            ("revision", &self.revision),
            ("branch", &self.branch),
            ("tag", &self.tag),
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

    /// `<sha>-modified` for a dirty tree, else the revision.
    pub fn revision_label(&self) -> String {
        crate::revision_label(&self.revision, self.modified)
    }
}
