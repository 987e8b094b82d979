#![doc = include_str!("../README.md")]

// The layers, each importing only those below it (no module imports this file's
// re-exports: each imports the module that defines what it uses). Below them all, the
// `depinfo_read` crate: the bounded opener, escaping, the binary reader, the inventory model
// and the section decoder.
// - at the bottom, tools with no knowledge of the rest: `child_process` (the bounded runner),
//   `progress`, `paint` (colour for the text answers);
// - `observation` (one program running one crate version); `advisories` (the RustSec
//   database) beside it;
// - `sources`: binaries, workspaces, /metrics pages, Prometheus APIs and registry indexes
//   read into observations (and the releases `outdated` judges);
// - `questions` answer over what the sources gave, never reading one;
// - `render` formats the answers;
// - `flags` (the flags shared with depinfo-server's programs) and `progress_line` (the
//   progress on a terminal), for the binaries.
// The exporter and the catalog are programs of their own, in depinfo-server (tokio stays out
// of this crate).
mod advisories;
// The bounded child process runner (`cargo metadata`, `cargo -vV`, `git clone`).
mod child_process;
// The flags shared by `cargo depinfo` and depinfo-server's programs.
pub mod flags;
mod observation;
// Colour for the text answers, and whether a stream gets it (`--color`, `NO_COLOR`).
mod paint;
mod progress;
// The progress line on stderr, for the binaries' scans.
pub mod progress_line;
mod questions;
mod render;
mod sources;
/// The one way cargo depinfo opens a file that someone else controls (`depinfo_read`'s).
pub use depinfo_read::untrusted_file;

pub use crate::advisories::{
    Advisory, AdvisoryError, AuditConfig, AuditConfigError, Commit, DEFAULT_DB_URL, Database,
    DatabaseError, DbLimits, Severity, cargo_home, default_db_path, fetch,
};
pub use crate::observation::{Observation, ProcessCount, Runner, from_inventories};
pub use crate::paint::{Paint, PaintError, Painted, Tone, When};
pub use crate::progress::Progress;
pub use crate::questions::RulesLayout;
pub use crate::questions::{
    AdvisoryRow, BuildRow, CrateRow, CrateVersionRow, DatabaseInfo, FleetReport, OutdatedRow,
    ProgramRow, REPORT_FORMAT_VERSION, Totals, VerdictCounts,
};
pub use crate::questions::{
    Audit, AuditOptions, Blast, CrateSpread, Finding, Hit, Judged, Level, NO_FUNCTIONS,
    NO_FUNCTIONS_IN_VERSION, OutdatedError, Report, Row, RulesError, RulesOptions, Running, Spread,
    Verdict, VersionRunners, affected, audit, audit_with, combine, outdated, outdated_crates,
    root_observations, rules, spread, unjudged,
};
pub use crate::render::{
    CycloneDxVersion, affected_json, affected_prometheus, affected_text, affected_text_with,
    audit_json, audit_prometheus, audit_sarif, audit_text, audit_text_with, content_digest,
    cyclonedx, database_line, json, outdated_json, outdated_prometheus, outdated_text,
    outdated_text_with, prometheus, report_html, report_json, severity_label, spdx, spread_json,
    spread_prometheus, spread_text, spread_text_with, text, write_spread_json, write_spread_text,
    write_spread_text_with,
};
pub use depinfo_read::binary_reader::{
    BinaryFormat, Limits, RawSections, ReadError, read_sections,
};
pub use depinfo_read::inventory::{BuildFacts, Inventory, Kind, Origin, Package};
// `decode_bldinfo` and `decode_dep_v0` decode one section a caller extracted itself.
pub use crate::child_process::ChildError;
pub use crate::sources::binaries::{InspectError, Scan, inspect_paths, inspect_paths_with};
pub use crate::sources::cargo_config::{
    CRATES_IO_INDEX, CargoConfig, ConfigError, ConfigFile, IndexLocation, Selected,
};
pub use crate::sources::metrics_pages::{MAX_LISTS_PER_PAGE, MAX_UNREAD_SHOWN, MetricsPageError};
pub use crate::sources::prometheus_api::ApiError;
pub use crate::sources::sparse_index::{
    IndexError, IndexOptions, Releases, SparseIndex, fetch_releases,
};
pub use crate::sources::workspace::{ListError, ListOptions, list};
pub use crate::sources::{
    Ask, Collected, DEFAULT_API_TIMEOUT, DEFAULT_PAGE_TIMEOUT, DEFAULT_WORKERS, LayoutChoice,
    SourceArgs, SourceError, collect, collect_with,
};
pub use depinfo_http::{Client, HttpError, HttpOptions};
pub use depinfo_read::sections::{FormatError, decode, decode_bldinfo, decode_dep_v0};
pub use depinfo_read::text_safety::{printable, printable_line, quoted, shortened};
pub use depinfo_wire::exposition::{ExpositionError, LineError};
pub use depinfo_wire::index_files::{CacheFileError, IndexFileError};
// What depinfo-server's exporter and catalog take from here besides the above: the exporter's
// series as `prometheus` writes them, and the Prometheus API's instant query.
pub use crate::render::prometheus::{LabelStyle, push_program};
pub use crate::sources::prometheus_api::query as prometheus_query;

/// Writes `error: <message>` to stderr as one line, every control and invisible format
/// character escaped ([`printable_line`]): messages name inputs (paths, URLs, values) that may
/// hold them. What the binaries (`cargo-depinfo`, depinfo-server's) say of a failure.
pub fn eprint_error(message: &str) {
    eprintln!("error: {}", printable_line(message));
}

/// The parsers of network answers and of cargo's index cache, public only with the
/// `test-util` feature, for the property tests (tests/network_parsers.rs,
/// tests/registry_parsers.rs): not part of the stable API.
#[cfg(feature = "test-util")]
pub mod network_parsers {
    pub use crate::sources::metrics_pages::page_observations;
    pub use crate::sources::prometheus_api::{
        Annotations, MAX_LABEL_VALUE as MAX_API_LABEL_VALUE, Sample as ApiSample, Series,
        decode as decode_prometheus_answer, decode_reader as decode_prometheus_answer_reader,
        decode_with as decode_prometheus_answer_with,
    };
    pub use depinfo_wire::exposition::{
        Format, Labels, MAX_LABEL_VALUE, MAX_LINE, Sample, Skipped, StreamError,
        parse as parse_exposition, parse_reader as parse_exposition_reader,
    };
    pub use depinfo_wire::index_files::{Release, parse_cache_file, parse_index_file};
}
