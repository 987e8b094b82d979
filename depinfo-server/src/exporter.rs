//! `depinfo-exporter`: what actually runs on a Linux host.
//!
//! [`Scanner`] walks a `/proc` tree (its docs list each step) and groups processes per
//! executable image; [`render_scan`] turns a scan into the Prometheus
//! text `/metrics` serves in one [`Layout`](build_info_collector::Layout), with the dependency
//! lists `/deps/<digest>` serves; [`serve()`] runs scans in the background and serves the last
//! one.
//! The parsers of `/proc/PID/stat`, `status` and `cgroup` are pure functions in `proc_files`.

mod advisories;
mod discovery;
mod proc_files;
mod series;
mod serve;

pub use self::advisories::{Advisories, AdvisoryOptions};
pub use self::discovery::{Counts, ExeState, HostScan, ProcessGroup, ScanOptions, Scanner};
pub use self::proc_files::{
    MAX_PROC_FILE, ProcParseError, Stat, Workload, parse_cgroup, parse_stat, workload_of_path,
};
pub use self::series::{ORIGIN, ScanPage, render_scan};
pub use self::serve::{ServeError, ServeOptions, serve};
