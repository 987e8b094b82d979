//! The sources `affected`, `spread` and `outdated` read, turned into one list of
//! [`Observation`]s (one program or instance running one crate version):
//!
//! - binaries and directories of binaries (`inspect`'s reader);
//! - `/metrics` endpoints (`--metrics URL`): `rust_mod_info` and `<program>_build_info` in the
//!   text exposition format; the instance is the URL's `host:port`, as Prometheus would label it;
//! - the Prometheus HTTP API (`--prometheus URL`, also Thanos and Mimir): the instant queries
//!   `rust_mod_info` and `{__name__=~".+_build_info",rustversion!=""}`; the instance and job are
//!   the series' `instance` and `job` labels.
//!
//! A source that fails is one [`SourceError`] naming it; the others are still read. Network
//! sources are fetched concurrently, each within the timeout; results keep the input order.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::binary_reader::Limits;
use crate::exposition;
use crate::http::{self, Url};
use crate::inspect::inspect_paths;
use crate::inventory::{Inventory, Kind};
use crate::prometheus_api;

/// The metric every program exposes its crates in.
pub const RUST_MOD_INFO: &str = "rust_mod_info";

/// The instant query for build_info series of programs using build-info (their
/// `rustversion` label tells them from other exporters' build_info).
pub const BUILD_INFO_QUERY: &str = r#"{__name__=~".+_build_info",rustversion!=""}"#;

/// What to read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceArgs {
    /// Binaries and directories of binaries.
    pub paths: Vec<PathBuf>,
    /// `/metrics` endpoints (`http://host:port[/path]`; no path means `/metrics`).
    pub metrics: Vec<String>,
    /// Prometheus HTTP API base URLs (`http://host:9090`, or with a path prefix).
    pub prometheus: Vec<String>,
    /// Time allowed for each network source.
    pub timeout: Duration,
    /// Limits for reading binaries.
    pub limits: Limits,
}

impl Default for SourceArgs {
    fn default() -> Self {
        SourceArgs {
            paths: Vec::new(),
            metrics: Vec::new(),
            prometheus: Vec::new(),
            timeout: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }
}

/// One program (a binary, or an instance of a service) running one version of one crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Observation {
    /// The program.
    pub program: String,
    /// The program's version, when the source knows it (binaries; `<program>_build_info`).
    pub program_version: Option<String>,
    /// The program's revision, when known.
    pub revision: Option<String>,
    /// `host:port` of the instance (network sources).
    pub instance: Option<String>,
    /// The Prometheus `job` (`--prometheus` only).
    pub job: Option<String>,
    /// The binary (binaries only).
    pub path: Option<String>,
    /// The input this came from: a path, a `/metrics` URL or a Prometheus URL.
    pub origin: String,
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// Where the crate came from (`crates.io`, `registry`, `git`, `local`).
    pub source: String,
    /// Runtime or build-only (network sources only know runtime crates).
    pub kind: Kind,
    /// A dependency the program names itself, when known.
    pub direct: Option<bool>,
}

impl Observation {
    /// Where it runs: the instance, else the binary, else the input.
    pub fn location(&self) -> &str {
        self.instance
            .as_deref()
            .or(self.path.as_deref())
            .unwrap_or(&self.origin)
    }
}

/// A source that could not be read. The message names it and fits on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    /// The input (path or URL).
    pub input: String,
    /// The whole message, starting with the input.
    pub message: String,
}

impl SourceError {
    fn new(input: &str, what: &str) -> SourceError {
        let one_line: String = what
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        SourceError {
            input: input.to_owned(),
            message: format!("{input}: {one_line}"),
        }
    }
}

/// Reads every source. When no source is given at all, reads the current directory.
pub fn collect(args: &SourceArgs) -> (Vec<Observation>, Vec<SourceError>) {
    let mut observations = Vec::new();
    let mut errors = Vec::new();
    let mut paths = args.paths.clone();
    if paths.is_empty() && args.metrics.is_empty() && args.prometheus.is_empty() {
        paths.push(PathBuf::from("."));
    }
    if !paths.is_empty() {
        let scan = inspect_paths(&paths, &args.limits);
        observations.extend(from_inventories(&scan.inventories));
        errors.extend(scan.errors.iter().map(|e| {
            let message = e.to_string();
            SourceError {
                input: message.split(": ").next().unwrap_or_default().to_owned(),
                message,
            }
        }));
    }
    let timeout = args.timeout;
    let results: Vec<(Vec<Observation>, Vec<SourceError>)> = std::thread::scope(|scope| {
        let metrics = args
            .metrics
            .iter()
            .map(|url| scope.spawn(move || scrape(url, timeout)));
        let prometheus = args
            .prometheus
            .iter()
            .map(|url| scope.spawn(move || query_prometheus(url, timeout)));
        let handles: Vec<_> = metrics.chain(prometheus).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| (Vec::new(), vec![SourceError::new("source", "panicked")]))
            })
            .collect()
    });
    for (o, e) in results {
        observations.extend(o);
        errors.extend(e);
    }
    (observations, errors)
}

/// The packages of binaries (their own package left out).
pub fn from_inventories(inventories: &[Inventory]) -> Vec<Observation> {
    let mut out = Vec::new();
    for inv in inventories {
        let revision = inv.build.as_ref().map(|b| b.revision.clone());
        for p in inv.packages.iter().filter(|p| !p.root) {
            out.push(Observation {
                program: inv.program.clone(),
                program_version: Some(inv.version.clone()),
                revision: revision.clone(),
                instance: None,
                job: None,
                path: Some(inv.path.clone()),
                origin: inv.path.clone(),
                name: p.name.clone(),
                version: p.version.clone(),
                source: p.source.clone(),
                kind: p.kind,
                direct: Some(p.direct),
            });
        }
    }
    out
}

/// A `rust_mod_info` series made an observation; `None` without `name` and `version`.
fn observation(
    labels: &BTreeMap<String, String>,
    instance: Option<String>,
    job: Option<String>,
    origin: &str,
) -> Option<Observation> {
    let label = |k: &str| labels.get(k).cloned();
    Some(Observation {
        program: label("program").unwrap_or_else(|| "unknown".into()),
        program_version: None,
        revision: None,
        instance,
        job,
        path: None,
        origin: origin.to_owned(),
        name: label("name")?,
        version: label("version")?,
        source: label("source").unwrap_or_else(|| "unknown".into()),
        kind: Kind::Runtime,
        direct: labels.get("direct").map(|d| d == "true"),
    })
}

/// build_info series by `(instance, job, metric name)`: `(version, revision)`.
type BuildInfoIndex =
    BTreeMap<(Option<String>, Option<String>, String), (Option<String>, Option<String>)>;

/// Fills in program version and revision from build_info series.
fn join_build_info(observations: &mut [Observation], build_info: &BuildInfoIndex) {
    for o in observations {
        let key = (
            o.instance.clone(),
            o.job.clone(),
            format!(
                "{}_build_info",
                build_info_collector::metric_name(&o.program)
            ),
        );
        if let Some((version, revision)) = build_info.get(&key) {
            o.program_version.clone_from(version);
            o.revision.clone_from(revision);
        }
    }
}

/// Scrapes one `/metrics` endpoint.
fn scrape(url: &str, timeout: Duration) -> (Vec<Observation>, Vec<SourceError>) {
    let fail = |what: &str| (Vec::new(), vec![SourceError::new(url, what)]);
    // `host:port` alone is accepted, as in Prometheus' targets.
    let parsed = if url.contains("://") {
        Url::parse(url)
    } else {
        Url::parse(&format!("http://{url}"))
    };
    let mut parsed = match parsed {
        Ok(u) => u,
        Err(e) => return fail(&e.to_string()),
    };
    if parsed.path == "/" {
        "/metrics".clone_into(&mut parsed.path);
    }
    let response = match http::get(&parsed, "text/plain;version=0.0.4;q=1,*/*;q=0.1", timeout) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    if response.status != 200 {
        return fail(&format!("HTTP {}", response.status));
    }
    let Ok(text) = std::str::from_utf8(&response.body) else {
        return fail("the exposition is not UTF-8");
    };
    let samples =
        match exposition::parse(text, |n| n == RUST_MOD_INFO || n.ends_with("_build_info")) {
            Ok(s) => s,
            Err(e) => return fail(&e.to_string()),
        };
    let instance = Some(parsed.host_port());
    let mut build_info = BTreeMap::new();
    let mut observations = Vec::new();
    for s in samples {
        if s.name == RUST_MOD_INFO {
            observations.extend(observation(&s.labels, instance.clone(), None, url));
        } else {
            build_info.insert(
                (instance.clone(), None, s.name.clone()),
                (
                    s.labels.get("version").cloned(),
                    s.labels.get("revision").cloned(),
                ),
            );
        }
    }
    join_build_info(&mut observations, &build_info);
    (observations, Vec::new())
}

/// Queries one Prometheus-compatible API.
fn query_prometheus(url: &str, timeout: Duration) -> (Vec<Observation>, Vec<SourceError>) {
    let series = match prometheus_api::query(url, RUST_MOD_INFO, timeout) {
        Ok(s) => s,
        Err(e) => return (Vec::new(), vec![SourceError::new(url, &e)]),
    };
    let mut observations: Vec<Observation> = series
        .iter()
        .filter_map(|l| observation(l, l.get("instance").cloned(), l.get("job").cloned(), url))
        .collect();
    let mut errors = Vec::new();
    if !observations.is_empty() {
        match prometheus_api::query(url, BUILD_INFO_QUERY, timeout) {
            Ok(series) => {
                let build_info = series
                    .into_iter()
                    .filter_map(|mut l| {
                        let name = l.remove("__name__")?;
                        Some((
                            (l.remove("instance"), l.remove("job"), name),
                            (l.remove("version"), l.remove("revision")),
                        ))
                    })
                    .collect();
                join_build_info(&mut observations, &build_info);
            }
            Err(e) => errors.push(SourceError::new(url, &e)),
        }
    }
    (observations, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_naming_the_input() {
        let e = SourceError::new("http://x:1/metrics", "a\nb");
        assert_eq!(e.to_string(), "http://x:1/metrics: a b");
    }
}
