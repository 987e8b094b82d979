#![doc = include_str!("../README.md")]

mod affected;
mod binary_reader;
mod exposition;
mod http;
mod inspect;
mod inventory;
mod outdated;
mod output;
mod progress;
mod prometheus_api;
mod rules;
mod sections;
mod sources;
mod sparse_index;
mod spread;
mod workspace;

pub use crate::affected::{Hit, affected, affected_json, affected_prometheus, affected_text};
pub use crate::binary_reader::{
    BinaryFormat, Limits, RawSections, ReadError, inflate, read_sections, read_sections_with,
};
pub use crate::exposition::{ExpositionError, Sample, parse as parse_exposition};
pub use crate::inspect::{InspectError, Scan, inspect_file, inspect_paths, inspect_paths_with};
pub use crate::inventory::{BuildFacts, Inventory, Kind, Origin, Package};
pub use crate::outdated::{
    Level, Report, Row, Use, Verdict, check, compare, compatible, outdated_json,
    outdated_prometheus, outdated_text, uses_from_inventories,
};
pub use crate::output::{ErrorEntry, JSON_FORMAT_VERSION, cyclonedx, json, prometheus, purl, text};
pub use crate::progress::Progress;
pub use crate::prometheus_api::{
    decode as decode_api_answer, query as prometheus_query, query_url,
};
pub use crate::rules::{
    DRIFT_ALERT, DRIFT_EXPR, RulesError, RulesOptions, SPREAD_ALERT, rules, spread_expr,
};
pub use crate::sections::{FormatError, decode, decode_bldinfo, decode_dep_v0};
pub use crate::sources::{
    BUILD_INFO_QUERY, Observation, RUST_MOD_INFO, SourceArgs, SourceError, collect,
    from_inventories,
};
pub use crate::sparse_index::{
    INDEX_ENV, IndexError, Release, SparseIndex, index_path, parse_index_file,
};
pub use crate::spread::{
    CrateSpread, Runner, VersionRunners, spread, spread_json, spread_prometheus, spread_text,
};
pub use crate::workspace::{ListError, ListOptions, from_graph, list};
pub use buildinfo::build::FeatureSelection;
