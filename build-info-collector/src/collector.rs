//! The collector value: prepared families, the rendered text, and what each registry needs.

use std::fmt;

use buildinfo::BuildInfo;

use crate::options::{Builder, Checked};
use crate::series::{self, Family};

/// `<program>_build_info` and `rust_mod_info` for one program, prepared once.
///
/// Implements the `prometheus` crate's `Collector` (feature `prometheus`, on by default) and
/// `prometheus-client`'s `Collector` (feature `prometheus-client`); [`exposition`](Self::exposition)
/// gives the same series as text for servers that write `/metrics` by hand. Everything is
/// computed by [`new`](Self::new) or [`Builder::build`]: a scrape only hands out prepared data
/// and cannot fail. Cloning copies the prepared data.
#[derive(Clone)]
pub struct BuildInfoCollector {
    pub(crate) families: [Family; 2],
    exposition: Box<str>,
    #[cfg(feature = "prometheus")]
    pub(crate) prometheus: crate::prometheus_crate::Prepared,
    #[cfg(feature = "prometheus-client")]
    pub(crate) prometheus_client: crate::prometheus_client_crate::Prepared,
}

impl BuildInfoCollector {
    /// The collector with the default options: runtime dependencies, every crate, no extra
    /// labels, named after [`BuildInfo::program`].
    pub fn new(info: &'static BuildInfo) -> BuildInfoCollector {
        match Builder::new(info).build() {
            Ok(collector) => collector,
            // The defaults come from the build data and pass every check.
            Err(e) => unreachable!("default options rejected: {e}"),
        }
    }

    /// Options: program name, namespace, build dependencies, direct only, allow and deny
    /// lists, extra labels.
    pub fn builder(info: &'static BuildInfo) -> Builder {
        Builder::new(info)
    }

    pub(crate) fn prepare(opts: &Checked) -> BuildInfoCollector {
        let families = series::prepare(opts);
        let exposition = crate::exposition::render(&families).into_boxed_str();
        BuildInfoCollector {
            #[cfg(feature = "prometheus")]
            prometheus: crate::prometheus_crate::Prepared::new(&families),
            #[cfg(feature = "prometheus-client")]
            prometheus_client: crate::prometheus_client_crate::Prepared::new(&families),
            families,
            exposition,
        }
    }

    /// The series in the Prometheus text format (`text/plain; version=0.0.4`), rendered once:
    /// exactly what `prometheus::TextEncoder` writes for a registry holding only this
    /// collector. Append it to your own /metrics body.
    pub fn exposition(&self) -> &str {
        &self.exposition
    }

    /// Name of the `<program>_build_info` family.
    pub fn build_info_name(&self) -> &str {
        &self.families[0].name
    }

    /// Number of `rust_mod_info` series.
    pub fn crate_count(&self) -> usize {
        self.families[1].series.len()
    }

    /// Approximate heap bytes the collector holds (sum of capacities), for the benchmark.
    #[doc(hidden)]
    pub fn __heap_bytes(&self) -> usize {
        let mut bytes = self.exposition.len();
        for family in &self.families {
            bytes += family.name.capacity() + family.help.capacity();
            bytes += family.series.capacity() * size_of::<Vec<series::Label>>();
            for labels in &family.series {
                bytes += labels.capacity() * size_of::<series::Label>();
                for (name, value) in labels {
                    for text in [name, value] {
                        if let std::borrow::Cow::Owned(owned) = text {
                            bytes += owned.capacity();
                        }
                    }
                }
            }
        }
        #[cfg(feature = "prometheus")]
        {
            bytes += self.prometheus.heap_bytes();
        }
        #[cfg(feature = "prometheus-client")]
        {
            bytes += self.prometheus_client.heap_bytes();
        }
        bytes
    }
}

impl fmt::Debug for BuildInfoCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildInfoCollector")
            .field("build_info", &self.families[0].name)
            .field("rust_mod_info_series", &self.crate_count())
            .finish_non_exhaustive()
    }
}
