//! cargo-audit's configuration file, `audit.toml`, read where cargo-audit reads it: the
//! project's `.cargo/audit.toml`, else `$CARGO_HOME/audit.toml` (only the first that exists).
//! Only `[advisories] ignore` is used; other tables and keys are accepted and left alone.
//!
//! This tool's own policy lives in a file of its own, `depinfo.toml`, looked for the same way
//! (the project's `.cargo/depinfo.toml`, else `$CARGO_HOME/depinfo.toml`): cargo-audit 0.22
//! refuses any table or key it does not know in `audit.toml` ("unknown field"), so a key of
//! ours there would break it. Unknown keys in `depinfo.toml` are errors (a misspelt policy
//! must not pass silently):
//!
//! ```toml
//! [audit]
//! # Findings whose every binary answered `not-found` do not make the audit fail (they are
//! # still printed): the same as `--ignore-not-found`.
//! ignore-not-found = true
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    advisories: RawAdvisories,
}

#[derive(Deserialize, Default)]
struct RawAdvisories {
    #[serde(default)]
    ignore: Vec<String>,
}

/// `depinfo.toml`: this tool's own policy.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    audit: RawAuditPolicy,
}

/// `[audit]` of `depinfo.toml`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAuditPolicy {
    #[serde(default, rename = "ignore-not-found")]
    ignore_not_found: bool,
}

/// What cargo-audit's configuration, and this tool's policy file, say to this command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditConfig {
    /// The `audit.toml` it came from, if one exists.
    pub path: Option<PathBuf>,
    /// Advisory ids to ignore (`[advisories] ignore`).
    pub ignore: Vec<String>,
    /// The `depinfo.toml` read, if one exists.
    pub policy_path: Option<PathBuf>,
    /// `depinfo.toml`'s `[audit] ignore-not-found`: findings whose every binary answered
    /// `not-found` do not make the audit fail.
    pub ignore_not_found: bool,
}

/// Why `audit.toml` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
#[non_exhaustive]
pub struct AuditConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (one line).
    pub message: String,
}

impl AuditConfig {
    /// The configuration in effect for a run from `project` (the current directory), with
    /// cargo's home `cargo_home`; the default when neither file exists.
    pub fn find(
        project: &Path,
        cargo_home: Option<&Path>,
    ) -> Result<AuditConfig, AuditConfigError> {
        // A path that exists in any form (a FIFO, a directory, a dangling link) is the file
        // cargo-audit would read: it is read, or refused with an error, never skipped.
        let first = |name: &str| {
            [
                Some(project.join(".cargo").join(name)),
                cargo_home.map(|h| h.join(name)),
            ]
            .into_iter()
            .flatten()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        };
        let mut config = match first("audit.toml") {
            Some(path) => AuditConfig::read(&path)?,
            None => AuditConfig::default(),
        };
        if let Some(path) = first("depinfo.toml") {
            config.ignore_not_found = AuditConfig::read_policy(&path)?;
            config.policy_path = Some(path);
        }
        Ok(config)
    }

    /// Reads one `depinfo.toml`: its `[audit] ignore-not-found`.
    pub fn read_policy(path: &Path) -> Result<bool, AuditConfigError> {
        let raw: RawPolicy = read_toml(path)?;
        Ok(raw.audit.ignore_not_found)
    }

    /// Reads one `audit.toml`.
    pub fn read(path: &Path) -> Result<AuditConfig, AuditConfigError> {
        let raw: RawConfig = read_toml(path)?;
        Ok(AuditConfig {
            path: Some(path.to_owned()),
            ignore: raw.advisories.ignore,
            policy_path: None,
            ignore_not_found: false,
        })
    }
}

/// One configuration file, read as a small untrusted file and parsed; an error names the
/// file and says what is wrong in one line.
fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, AuditConfigError> {
    let fail = |message: String| AuditConfigError {
        path: path.to_owned(),
        message,
    };
    let text = super::database::read_capped(path, depinfo_read::untrusted_file::small_file_limit())
        .map_err(fail)?;
    toml::from_str(&text).map_err(|e| fail(e.message().lines().next().unwrap_or("").to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_file_wins_over_cargo_home() {
        let dir = testkit::Scratch::new("audit-config");
        let project = dir.join("project");
        let home = dir.join("home");
        std::fs::create_dir_all(project.join(".cargo")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        assert_eq!(
            AuditConfig::find(&project, Some(&home)).unwrap(),
            AuditConfig::default()
        );
        std::fs::write(
            home.join("audit.toml"),
            "[advisories]\nignore = [\"RUSTSEC-2020-0002\"]\n[output]\nquiet = true\n",
        )
        .unwrap();
        assert_eq!(
            AuditConfig::find(&project, Some(&home)).unwrap().ignore,
            ["RUSTSEC-2020-0002"]
        );
        std::fs::write(
            project.join(".cargo/audit.toml"),
            "[advisories]\nignore = [\"RUSTSEC-2020-0001\"]\n",
        )
        .unwrap();
        assert_eq!(
            AuditConfig::find(&project, Some(&home)).unwrap().ignore,
            ["RUSTSEC-2020-0001"]
        );
        std::fs::write(
            project.join(".cargo/audit.toml"),
            "[advisories]\nignore = 3\n",
        )
        .unwrap();
        let e = AuditConfig::find(&project, Some(&home))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(".cargo/audit.toml: ") && !e.contains('\n'),
            "{e}"
        );
    }

    /// `depinfo.toml`'s `[audit] ignore-not-found`: off without the file, on when set, found
    /// like `audit.toml` (the project's wins over cargo's home) and apart from it; an unknown
    /// key or a value of the wrong type is an error naming the file.
    #[test]
    fn our_own_file_sets_ignore_not_found() {
        let dir = testkit::Scratch::new("audit-config-depinfo");
        let project = dir.join("project");
        let home = dir.join("home");
        std::fs::create_dir_all(project.join(".cargo")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            project.join(".cargo/audit.toml"),
            "[advisories]\nignore = [\"RUSTSEC-2020-0001\"]\n",
        )
        .unwrap();
        let config = AuditConfig::find(&project, Some(&home)).unwrap();
        assert!(!config.ignore_not_found && config.policy_path.is_none());
        std::fs::write(
            home.join("depinfo.toml"),
            "[audit]\nignore-not-found = true\n",
        )
        .unwrap();
        let config = AuditConfig::find(&project, Some(&home)).unwrap();
        assert!(config.ignore_not_found);
        assert_eq!(config.ignore, ["RUSTSEC-2020-0001"]);
        assert_eq!(config.policy_path, Some(home.join("depinfo.toml")));
        std::fs::write(
            project.join(".cargo/depinfo.toml"),
            "[audit]\nignore-not-found = false\n",
        )
        .unwrap();
        assert!(
            !AuditConfig::find(&project, Some(&home))
                .unwrap()
                .ignore_not_found
        );
        for bad in [
            "[audit]\nignore-not-found = \"yes\"\n",
            "[audit]\nignore-not-fund = true\n",
            "[depinfo]\nignore-not-found = true\n",
        ] {
            std::fs::write(project.join(".cargo/depinfo.toml"), bad).unwrap();
            let e = AuditConfig::find(&project, Some(&home))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(".cargo/depinfo.toml: ") && !e.contains('\n'),
                "{bad}: {e}"
            );
        }
    }
}
