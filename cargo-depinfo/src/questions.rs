//! Questions over observations: which programs run an affected version (`affected`), how many
//! versions of each crate run (`spread`), how far crates are behind a registry (`outdated`),
//! and alerting rules that ask Prometheus the same (`rules`). Questions never read a source and
//! never format output.

pub(crate) mod affected;
mod audit;
mod fleet_report;
mod outdated;
mod rules;
mod spread;

pub use self::affected::{Hit, affected, unjudged};
pub use self::audit::{
    Audit, AuditOptions, Blast, Finding, Judged, NO_FUNCTIONS, NO_FUNCTIONS_IN_VERSION, Verdict,
    audit, audit_with, combine, root_observations,
};
pub use self::fleet_report::{
    AdvisoryRow, BuildRow, CrateRow, CrateVersionRow, DatabaseInfo, FleetReport, OutdatedRow,
    ProgramRow, REPORT_FORMAT_VERSION, Totals, VerdictCounts,
};
pub use self::outdated::{Level, OutdatedError, Report, Row, outdated, outdated_crates};
pub use self::rules::RulesLayout;
pub use self::rules::{RulesError, RulesOptions, rules};
pub use self::spread::{CrateSpread, Running, Spread, VersionRunners, spread};
