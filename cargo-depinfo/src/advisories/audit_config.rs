//! cargo-audit's configuration file, `audit.toml`, read where cargo-audit reads it: the
//! project's `.cargo/audit.toml`, else `$CARGO_HOME/audit.toml` (only the first that exists).
//! Only `[advisories] ignore` and this tool's own table are used; other tables and keys are
//! accepted and left alone. This tool's own table, which cargo-audit ignores (it reads only
//! the tables it knows):
//!
//! ```toml
//! [depinfo]
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
    #[serde(default)]
    depinfo: RawDepinfo,
}

/// `[depinfo]`: this tool's own table.
#[derive(Deserialize, Default)]
struct RawDepinfo {
    #[serde(default, rename = "ignore-not-found")]
    ignore_not_found: bool,
}

#[derive(Deserialize, Default)]
struct RawAdvisories {
    #[serde(default)]
    ignore: Vec<String>,
}

/// What cargo-audit's configuration says to this command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditConfig {
    /// The file it came from, if one exists.
    pub path: Option<PathBuf>,
    /// Advisory ids to ignore (`[advisories] ignore`).
    pub ignore: Vec<String>,
    /// `[depinfo] ignore-not-found`: findings whose every binary answered `not-found` do not
    /// make the audit fail.
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
        let candidates = [
            Some(project.join(".cargo").join("audit.toml")),
            cargo_home.map(|h| h.join("audit.toml")),
        ];
        // A path that exists in any form (a FIFO, a directory, a dangling link) is the file
        // cargo-audit would read: it is read, or refused with an error, never skipped.
        match candidates
            .into_iter()
            .flatten()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
        {
            Some(path) => AuditConfig::read(&path),
            None => Ok(AuditConfig::default()),
        }
    }

    /// Reads one `audit.toml`.
    pub fn read(path: &Path) -> Result<AuditConfig, AuditConfigError> {
        let fail = |message: String| AuditConfigError {
            path: path.to_owned(),
            message,
        };
        let text =
            super::database::read_capped(path, depinfo_read::untrusted_file::small_file_limit())
                .map_err(fail)?;
        let raw: RawConfig = toml::from_str(&text)
            .map_err(|e| fail(e.message().lines().next().unwrap_or("").to_owned()))?;
        Ok(AuditConfig {
            path: Some(path.to_owned()),
            ignore: raw.advisories.ignore,
            ignore_not_found: raw.depinfo.ignore_not_found,
        })
    }
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

    /// `[depinfo] ignore-not-found`: off by default, on when set, beside cargo-audit's
    /// tables; a value of the wrong type is an error naming the file.
    #[test]
    fn our_own_table_sets_ignore_not_found() {
        let dir = testkit::Scratch::new("audit-config-depinfo");
        let path = dir.join("audit.toml");
        std::fs::write(&path, "[advisories]\nignore = []\n").unwrap();
        assert!(!AuditConfig::read(&path).unwrap().ignore_not_found);
        std::fs::write(
            &path,
            "[advisories]\nignore = [\"RUSTSEC-2020-0001\"]\n[depinfo]\nignore-not-found = true\n",
        )
        .unwrap();
        let config = AuditConfig::read(&path).unwrap();
        assert!(config.ignore_not_found);
        assert_eq!(config.ignore, ["RUSTSEC-2020-0001"]);
        std::fs::write(&path, "[depinfo]\nignore-not-found = \"yes\"\n").unwrap();
        let e = AuditConfig::read(&path).unwrap_err().to_string();
        assert!(e.contains("audit.toml: ") && !e.contains('\n'), "{e}");
    }
}
