#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Layers, bottom up (a file uses only files above it):
//   error, family, deps_list, layout
//                               the dependency-list document and its digest, the layouts
//   error, family               the builder's errors, the prepared data (the crate-name
//                               rule is buildinfo::model's, re-exported)
//   exposition                  the one text writer (names, escaping, render)
//   schema                      what the collector publishes: names, HELP, label sets
//   options                     the builder, checked
//   series                      the chosen crates, the families and the dependency list from
//                               the checked options
//   prometheus_crate, prometheus_client_crate, metrics_facade   each registry's view of the
//                               families
//   collector                   the collector value, and the registry trait impls
mod collector;
mod deps_list;
mod error;
mod exposition;
mod family;
mod layout;
#[cfg(feature = "metrics")]
mod metrics_facade;
mod options;
#[cfg(feature = "prometheus-client")]
mod prometheus_client_crate;
#[cfg(feature = "prometheus")]
mod prometheus_crate;
mod schema;
mod series;

pub use crate::collector::BuildInfoCollector;
// The crate-name rule is the model's; re-exported so that this crate's API keeps it.
pub use crate::deps_list::{
    DEPS_LIST_CONTENT_TYPE, DEPS_PATH_PREFIX, DIGEST_HEX_LEN, DepsEntry, DepsList, DepsListError,
    MAX_DEPS_LIST_BYTES, SOURCES, digest_of, is_digest, sha256,
};
pub use crate::error::Error;
pub use crate::exposition::{RenderError, metric_name, push_label_value, render};
pub use crate::family::{Family, SampleValue};
pub use crate::layout::{Layout, UnknownLayout};
pub use crate::options::Builder;
pub use crate::schema::{
    BUILD_INFO_HELP_TEMPLATE, BuildInfoLabels, RUST_BUILD_INFO, RUST_BUILD_INFO_HELP,
    RUST_DEPS_INFO, RUST_DEPS_INFO_HELP, RUST_MOD_INFO, RUST_MOD_INFO_HELP, RustBuildInfoLabels,
    RustModInfoLabels, build_info_family, rust_build_info_family, rust_deps_info_family,
    rust_deps_info_pairs, rust_mod_info_family,
};
pub use buildinfo::model::{is_crate_name, normalize_crate_name, same_crate_name};
