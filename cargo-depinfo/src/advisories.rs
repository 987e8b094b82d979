//! The RustSec advisory database: its files ([`Advisory`]), the version rule cargo-audit
//! applies (`versions`), CVSS v3 scores (`cvss`), the database on disk with its last commit
//! and `--fetch` ([`Database`]), and cargo-audit's `audit.toml` ([`AuditConfig`]). The
//! question over observations is `questions::audit`.

mod advisory;
mod audit_config;
mod cvss;
mod database;
mod versions;

pub use self::advisory::Advisory;
pub use self::audit_config::{AuditConfig, AuditConfigError};
pub use self::cvss::Severity;
pub use self::database::{
    AdvisoryError, Commit, DEFAULT_DB_URL, Database, DatabaseError, DbLimits, cargo_home,
    default_db_path, fetch,
};
