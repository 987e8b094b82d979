//! The collector value: the prepared families, their text from the one writer, and what each
//! registry adapter prepared from the same families.

use std::fmt;

use buildinfo::BuildInfo;

use crate::error::Error;
use crate::exposition::render;
use crate::family::Family;
#[cfg(feature = "metrics")]
use crate::metrics_facade;
use crate::options::Builder;
#[cfg(feature = "prometheus-client")]
use crate::prometheus_client_crate;
#[cfg(feature = "prometheus")]
use crate::prometheus_crate;
use crate::schema::RUST_MOD_INFO;
use crate::series;

/// `<program>_build_info` and `rust_mod_info` for one program, prepared once.
///
/// Implements the `prometheus` crate's `Collector` (feature `prometheus`, on by default) and
/// `prometheus-client`'s `Collector` (feature `prometheus-client`); [`exposition`](Self::exposition)
/// gives the same series as text for servers that write `/metrics` by hand. Everything is
/// computed by [`new`](Self::new) or [`Builder::build`]: a scrape only hands out prepared data
/// and cannot fail. Cloning copies the prepared data.
#[derive(Clone)]
pub struct BuildInfoCollector {
    /// In exposition order, without empty families: every output path writes exactly these.
    families: Vec<Family<'static>>,
    exposition: Box<str>,
    #[cfg(feature = "prometheus")]
    prometheus: prometheus_crate::Prepared,
    #[cfg(feature = "prometheus-client")]
    client_helps: Box<[Box<str>]>,
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

    /// The series in the Prometheus text format (`text/plain; version=0.0.4`), rendered once:
    /// exactly what `prometheus::TextEncoder` writes for a registry holding only this
    /// collector. Append it to your own /metrics body.
    pub fn exposition(&self) -> &str {
        &self.exposition
    }

    /// Name of the `<program>_build_info` family.
    pub fn build_info_name(&self) -> &str {
        // The build_info family always has its one sample, so it is always there; its name
        // ends in `_build_info`, so it is never rust_mod_info.
        self.families
            .iter()
            .map(Family::name)
            .find(|name| *name != RUST_MOD_INFO)
            .unwrap_or_default()
    }

    /// Describes `<program>_build_info` and `rust_mod_info` and sets every series to 1 through
    /// the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`): for programs whose
    /// `/metrics` comes from a `metrics` recorder such as `metrics-exporter-prometheus`. Call it
    /// once, after installing the recorder; calling it again sets the same gauges to the same
    /// values. The series, HELP texts and labels are the ones [`exposition`](Self::exposition)
    /// writes; the recorder escapes them and picks the order of families and series.
    ///
    /// With `metrics-exporter-prometheus` 0.18, two things to know: a recorder built with an
    /// `idle_timeout` for gauges drops these series once the timeout passes (they are set once
    /// and never change), and its escaping takes a backslash that comes right before another
    /// backslash or a `"` as an escape already written, so such a label value or HELP text reads
    /// back with one backslash fewer (`a\\b` as `a\b`), and a backslash right before a newline
    /// reads back after it. Branch names cannot hold a backslash (git refuses them), versions and
    /// crate names neither; program names and extra labels can.
    ///
    /// ```
    /// use build_info_collector::BuildInfoCollector;
    /// use metrics_exporter_prometheus::PrometheusBuilder;
    ///
    /// let collector = BuildInfoCollector::new(buildinfo::test_util::example());
    /// // A program installs its recorder with `install_recorder()` and calls
    /// // `collector.register_metrics()`; a local recorder keeps this example to itself.
    /// let recorder = PrometheusBuilder::new().build_recorder();
    /// metrics::with_local_recorder(&recorder, || collector.register_metrics());
    /// let text = recorder.handle().render();
    /// assert!(text.contains(concat!(
    ///     r#"rust_mod_info{direct="true",name="serde_json",program="myapp","#,
    ///     r#"source="crates.io",version="1.0.140"} 1"#,
    /// )));
    /// // Every series line is one the collector's own exposition writes.
    /// let ours: Vec<&str> = collector.exposition().lines().collect();
    /// assert!(text.lines().filter(|l| !l.is_empty()).all(|l| ours.contains(&l)));
    /// assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), ours.len());
    /// ```
    #[cfg(feature = "metrics")]
    pub fn register_metrics(&self) {
        metrics_facade::register(&self.families);
    }

    /// Number of `rust_mod_info` series.
    pub fn crate_count(&self) -> usize {
        self.families
            .iter()
            .find(|f| f.name() == RUST_MOD_INFO)
            .map_or(0, Family::len)
    }
}

impl Builder {
    /// Checks the options and prepares every series and the exposition text.
    pub fn build(self) -> Result<BuildInfoCollector, Error> {
        let families = series::prepare(&self.check()?);
        let exposition = match render(&families) {
            Ok(text) => text.into_boxed_str(),
            // The builder checked the namespace and the extra label names; the rest are ours.
            Err(e) => unreachable!("checked families rejected: {e}"),
        };
        Ok(BuildInfoCollector {
            #[cfg(feature = "prometheus")]
            prometheus: prometheus_crate::Prepared::new(&families),
            #[cfg(feature = "prometheus-client")]
            client_helps: prometheus_client_crate::escaped_helps(&families),
            families,
            exposition,
        })
    }
}

impl fmt::Debug for BuildInfoCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildInfoCollector")
            .field("build_info", &self.build_info_name())
            .field("rust_mod_info_series", &self.crate_count())
            .finish_non_exhaustive()
    }
}

// The registry traits, implemented here so that the adapters depend on the families only;
// each adapter file holds everything else its registry needs.

#[cfg(feature = "prometheus")]
impl prometheus::core::Collector for BuildInfoCollector {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.prometheus.desc()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        self.prometheus.collect()
    }
}

#[cfg(feature = "prometheus-client")]
impl prometheus_client::collector::Collector for BuildInfoCollector {
    fn encode(
        &self,
        encoder: prometheus_client::encoding::DescriptorEncoder<'_>,
    ) -> Result<(), fmt::Error> {
        prometheus_client_crate::encode(&self.families, &self.client_helps, encoder)
    }
}
