#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod collector;
mod error;
mod exposition;
mod options;
#[cfg(feature = "prometheus-client")]
mod prometheus_client_crate;
#[cfg(feature = "prometheus")]
mod prometheus_crate;
mod series;

pub use crate::collector::BuildInfoCollector;
pub use crate::error::Error;
pub use crate::exposition::{
    BUILD_INFO_HELP_TEMPLATE, RUST_MOD_INFO, RUST_MOD_INFO_HELP, metric_name, push_label_value,
};
pub use crate::options::Builder;
