#![doc = include_str!("../README.md")]

mod affected;
mod binary_reader;
mod inspect;
mod inventory;
mod output;
mod sections;
mod workspace;

pub use crate::affected::{Hit, affected, affected_json, affected_text};
pub use crate::binary_reader::{
    BinaryFormat, Limits, RawSections, ReadError, inflate, read_sections, read_sections_with,
};
pub use crate::inspect::{InspectError, Scan, inspect_file, inspect_paths};
pub use crate::inventory::{BuildFacts, Inventory, Kind, Origin, Package};
pub use crate::output::{ErrorEntry, Format, JSON_FORMAT_VERSION, cyclonedx, json, purl, text};
pub use crate::sections::{FormatError, decode, decode_bldinfo, decode_dep_v0};
pub use crate::workspace::{ListError, ListOptions, from_graph, list};
pub use build_info::build::FeatureSelection;
