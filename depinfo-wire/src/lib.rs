//! Parsers of what others send over the wire, with no I/O of their own: every one takes bytes
//! or a reader and bounds what it holds.
//!
//! - [`exposition`]: the Prometheus text exposition format and OpenMetrics, streamed line by
//!   line with bounded lines, label counts and values.
//! - [`index_files`]: a registry's sparse index file and cargo's local cache of it, read into
//!   releases.

pub mod exposition;
pub mod index_files;
