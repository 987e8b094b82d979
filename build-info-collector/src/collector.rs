//! The collector value: the prepared families, their text from the one writer, and what each
//! registry adapter prepared from the same families.

use std::fmt;

use buildinfo::BuildInfo;

use crate::deps_list::{DEPS_PATH_PREFIX, DepsList};
use crate::error::Error;
use crate::exposition::render;
use crate::family::Family;
use crate::layout::Layout;
#[cfg(feature = "metrics")]
use crate::metrics_facade;
use crate::options::Builder;
#[cfg(feature = "prometheus-client")]
use crate::prometheus_client_crate;
#[cfg(feature = "prometheus")]
use crate::prometheus_crate;
use crate::schema::RUST_MOD_INFO;
use crate::series;

/// `<program>_build_info`, `rust_build_info` and (as the [`Layout`] says) `rust_mod_info` for
/// one program, prepared once, with the program's dependency list and its digest.
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
    build_info_name: Box<str>,
    layout: Layout,
    deps: Option<DepsList>,
    exposition: Box<str>,
    #[cfg(feature = "prometheus")]
    prometheus: prometheus_crate::Prepared,
    #[cfg(feature = "prometheus-client")]
    client_helps: Box<[Box<str>]>,
}

impl BuildInfoCollector {
    /// The collector with the default options: runtime dependencies, every crate, no extra
    /// labels, named after [`BuildInfo::program`], the [`Layout::Full`] layout.
    pub fn new(info: &'static BuildInfo) -> BuildInfoCollector {
        match Builder::new(info).build() {
            Ok(collector) => collector,
            // The defaults come from the build data and pass every check.
            Err(e) => unreachable!("default options rejected: {e}"),
        }
    }

    /// Options: program name, namespace, build dependencies, direct only, allow and deny
    /// lists, extra labels, layout.
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
        &self.build_info_name
    }

    /// The layout the collector publishes ([`Builder::layout`]).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The program's dependency list, whose digest is `rust_build_info`'s `deps` label:
    /// exactly the crates the [`Layout::Full`] layout gives a `rust_mod_info` series with the
    /// same options, whatever the layout. `None` when the program carries no dependency graph
    /// (then `deps` is empty).
    pub fn deps_list(&self) -> Option<&DepsList> {
        self.deps.as_ref()
    }

    /// The dependency-list document to answer a `GET` of `path` with: `Some` when `path` is
    /// exactly `/deps/<digest>` for this collector's own digest, `None` for every other path
    /// (answer those as your router does, `404 Not Found` for a path under `/deps/`).
    ///
    /// The collector has no HTTP side of its own: a service whose handler owns `/metrics`
    /// mounts this on the **same host and port that Prometheus scrapes**, because a catalog
    /// (`depinfo-catalog`) fetches `<scrape origin>/deps/<digest>` from the targets of
    /// Prometheus's own target list, never from an address a label names. Serve the body as
    /// it is, with the content type [`DEPS_LIST_CONTENT_TYPE`](crate::DEPS_LIST_CONTENT_TYPE);
    /// the reader checks it against the digest it asked for. Only needed in the `catalog` and
    /// `direct` layouts where no exporter runs on the host; harmless in any layout.
    ///
    /// ```
    /// use build_info_collector::{BuildInfoCollector, DEPS_LIST_CONTENT_TYPE, DepsList, Layout};
    ///
    /// let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
    ///     .layout(Layout::Catalog)
    ///     .build()
    ///     .unwrap();
    ///
    /// // In the service's own handler, framework-free: (status, content type, body).
    /// fn handle(collector: &BuildInfoCollector, path: &str) -> (u16, &'static str, String) {
    ///     if path == "/metrics" {
    ///         return (200, "text/plain; version=0.0.4", collector.exposition().to_owned());
    ///     }
    ///     match collector.deps_document(path) {
    ///         Some(document) => (200, DEPS_LIST_CONTENT_TYPE, document.to_owned()),
    ///         None => (404, "text/plain", "not found\n".to_owned()),
    ///     }
    /// }
    ///
    /// let digest = collector.deps_list().unwrap().digest();
    /// let (status, content_type, body) = handle(&collector, &format!("/deps/{digest}"));
    /// assert_eq!((status, content_type), (200, DEPS_LIST_CONTENT_TYPE));
    /// // What a catalog does with it.
    /// let list = DepsList::verify(digest, body.as_bytes(), 1 << 20).unwrap();
    /// assert_eq!(list.entries().count(), 2);
    /// assert_eq!(handle(&collector, "/deps/0123456789abcdef0123456789abcdef").0, 404);
    /// assert_eq!(handle(&collector, &format!("/deps/{digest}/")).0, 404);
    /// ```
    ///
    /// With axum, for example: `.route("/deps/{digest}", get(deps))` where the handler
    /// answers `collector.deps_document(uri.path())` (`examples/service` in this repository
    /// does exactly that).
    pub fn deps_document(&self, path: &str) -> Option<&str> {
        let list = self.deps.as_ref()?;
        (path.strip_prefix(DEPS_PATH_PREFIX) == Some(list.digest())).then(|| list.text())
    }

    /// Describes `<program>_build_info`, `rust_build_info` and `rust_mod_info` (as the layout
    /// has them) and sets every series to 1 through
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

    /// Number of `rust_mod_info` series (in the layout the collector publishes).
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
        let checked = self.check()?;
        let layout = checked.layout;
        let series::Prepared {
            families,
            build_info_name,
            deps,
        } = series::prepare(&checked);
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
            build_info_name: build_info_name.into_boxed_str(),
            layout,
            deps,
            exposition,
        })
    }
}

impl fmt::Debug for BuildInfoCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildInfoCollector")
            .field("build_info", &self.build_info_name())
            .field("layout", &self.layout)
            .field("deps", &self.deps.as_ref().map(DepsList::digest))
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
