//! The RustSec advisory database: its files ([`Advisory`]), the version rule cargo-audit
//! applies (`versions`), CVSS v3 scores (`cvss`), the database on disk ([`Database`]) with its
//! last commit read from the repository's files (`git_files`: git never runs in the
//! database), `--fetch` (`fetch`: a fresh clone renamed into place), and cargo-audit's
//! `audit.toml` ([`AuditConfig`]). The question over observations is `questions::audit`.

mod advisory;
mod audit_config;
mod cvss;
mod database;
mod fetch;
mod git_files;
mod versions;

pub use self::advisory::Advisory;
pub use self::audit_config::{AuditConfig, AuditConfigError};
pub use self::cvss::Severity;
pub use self::database::{
    AdvisoryError, Commit, DEFAULT_DB_URL, Database, DatabaseError, DbLimits, cargo_home,
    default_db_path,
};
pub use self::fetch::fetch;
