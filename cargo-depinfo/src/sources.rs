//! The sources `affected`, `spread` and `outdated` read, turned into one list of
//! [`Observation`]s (one program or instance running one crate version):
//!
//! - binaries and directories of binaries ([`binaries`], `inspect`'s reader);
//! - `/metrics` endpoints (`--metrics URL`, [`metrics_pages`]): `rust_mod_info` and
//!   `<program>_build_info` in the OpenMetrics or the classic text format ([`exposition`]);
//!   the instance is the URL's `host:port`, as Prometheus would label it;
//! - the Prometheus HTTP API (`--prometheus URL`, also Thanos and Mimir, [`prometheus_api`]):
//!   the instant queries `rust_mod_info` and `{__name__=~".+_build_info",rustversion!=""}`; the
//!   instance and job are the series' `instance` and `job` labels.
//!
//! - a cargo workspace ([`workspace`], `list`'s reader) when [`SourceArgs::workspace`] is set:
//!   the command line sets it when no other source is given and a cargo project is found, so
//!   `cargo depinfo spread` in a project answers for the project's own crates (and never for
//!   the test binaries under `target/`).
//!
//! `list` reads a workspace ([`workspace`]) and `outdated` a registry's [`sparse_index`]
//! (chosen from cargo's configuration, [`cargo_config`]; offline from cargo's
//! [`index_cache`]); every child process runs through [`child_process`], every request
//! through [`http`].
//!
//! A source that fails is one [`SourceError`] naming it; the others are still read. Network
//! sources are fetched concurrently, each within the timeout; results keep the input order.

pub(crate) mod binaries;
pub(crate) mod cargo_config;
pub(crate) mod child_process;
pub(crate) mod exposition;
pub(crate) mod http;
pub(crate) mod index_cache;
pub(crate) mod metrics_pages;
pub(crate) mod prometheus_api;
pub(crate) mod sparse_index;
pub(crate) mod workspace;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use build_info_collector::RUST_MOD_INFO;

use self::binaries::binary_reader::Limits;
use self::binaries::{InspectError, inspect_paths_with};
use self::http::{Client, HttpError, HttpOptions};
use self::metrics_pages::MetricsPageError;
use self::prometheus_api::ApiError;
use self::workspace::{ListError, ListOptions};
use crate::inventory::Kind;
use crate::observation::{Observation, Runner, Strings, from_inventories};
use crate::progress::Progress;

/// The instant query for build_info series of programs using build-info (their
/// `rustversion` label tells them from other exporters' build_info).
const BUILD_INFO_QUERY: &str = r#"{__name__=~".+_build_info",rustversion!=""}"#;

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
    /// Time allowed for each network source (for the client built when `client` is `None`).
    pub timeout: Duration,
    /// The HTTP client of the network sources (one budget over all their bodies); `None`
    /// builds one with `timeout` and no credentials.
    pub client: Option<Client>,
    /// Limits for reading binaries.
    pub limits: Limits,
    /// A cargo workspace to read, as `list` reads it (each selected package's inventory).
    pub workspace: Option<ListOptions>,
}

impl Default for SourceArgs {
    fn default() -> Self {
        SourceArgs {
            paths: Vec::new(),
            metrics: Vec::new(),
            prometheus: Vec::new(),
            timeout: Duration::from_secs(5),
            client: None,
            limits: Limits::default(),
            workspace: None,
        }
    }
}

impl SourceArgs {
    /// Whether no source at all is named.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.metrics.is_empty()
            && self.prometheus.is_empty()
            && self.workspace.is_none()
    }
}

/// A source that could not be read. The message names the input and fits on one line
/// (answers from the network may hold anything).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A binary or directory.
    #[error(transparent)]
    Binary(#[from] InspectError),
    /// A `/metrics` endpoint.
    #[error("{url}: {}", one_line(error))]
    MetricsPage {
        /// The URL as given, credentials redacted (`user:***@`), control characters escaped
        /// and cut short.
        url: String,
        /// What went wrong.
        error: MetricsPageError,
    },
    /// A Prometheus-compatible API.
    #[error("{url}: {}", one_line(error))]
    PrometheusApi {
        /// The base URL as given, redacted and cut short as for `MetricsPage`.
        url: String,
        /// What went wrong.
        error: ApiError,
    },
    /// A cargo workspace could not be read.
    #[error("{input}: {}", one_line(error))]
    Workspace {
        /// The manifest given, or the directory cargo looked from.
        input: String,
        /// What went wrong.
        error: ListError,
    },
    /// Reading the source panicked (a bug: the other sources are still read).
    #[error("{input}: panicked")]
    Panicked {
        /// The URL as given, redacted and cut short as for `MetricsPage`.
        input: String,
    },
}

impl SourceError {
    /// The input: a path, or a URL as given with its credentials redacted.
    pub fn input(&self) -> String {
        match self {
            SourceError::Binary(e) => e.path().display().to_string(),
            SourceError::MetricsPage { url, .. } | SourceError::PrometheusApi { url, .. } => {
                url.clone()
            }
            SourceError::Panicked { input } | SourceError::Workspace { input, .. } => input.clone(),
        }
    }
}

/// An error's message with control characters (newlines from a server's answer) blanked.
fn one_line(error: &dyn std::error::Error) -> String {
    error
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Reads every source. When no source is given at all, reads nothing (the command line picks
/// the workspace around the current directory, or asks for a source).
pub fn collect(args: &SourceArgs) -> (Vec<Observation>, Vec<SourceError>) {
    collect_with(args, &mut |_| {})
}

/// [`collect`], reporting progress while binaries are scanned. Binaries come first, then the
/// network sources in the order given.
pub fn collect_with(
    args: &SourceArgs,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> (Vec<Observation>, Vec<SourceError>) {
    let mut observations = Vec::new();
    let mut errors = Vec::new();
    if let Some(options) = &args.workspace {
        match workspace::list(options) {
            Ok(inventories) => observations.extend(from_inventories(&inventories)),
            Err(error) => errors.push(SourceError::Workspace {
                input: options
                    .manifest_path
                    .as_ref()
                    .map_or_else(|| "cargo workspace".to_owned(), |p| p.display().to_string()),
                error,
            }),
        }
    }
    let paths = &args.paths;
    if !paths.is_empty() {
        let scan = inspect_paths_with(paths, &args.limits, on_progress);
        observations.extend(from_inventories(&scan.inventories));
        errors.extend(scan.errors.into_iter().map(SourceError::Binary));
    }
    let client = match &args.client {
        Some(c) => c.clone(),
        None => {
            let options = HttpOptions {
                timeout: args.timeout,
                ..HttpOptions::default()
            };
            match Client::new(&options) {
                Ok(c) => c,
                Err(e) => {
                    // Only a broken TLS setup gets here: every network source fails with it.
                    let failed = args.metrics.iter().chain(&args.prometheus).map(|url| {
                        SourceError::MetricsPage {
                            url: http::shown_url(url),
                            error: MetricsPageError::Http(HttpError::Tls(e.clone())),
                        }
                    });
                    errors.extend(failed);
                    return (observations, errors);
                }
            }
        }
    };
    let client = &client;
    let results: Vec<(Vec<Observation>, Vec<SourceError>)> = std::thread::scope(|scope| {
        let metrics = args.metrics.iter().map(|url| {
            let handle = spawn_named(scope, url, move || {
                match metrics_pages::scrape(client, url) {
                    Ok(o) => (o, Vec::new()),
                    Err(error) => (
                        Vec::new(),
                        vec![SourceError::MetricsPage {
                            url: http::shown_url(url),
                            error,
                        }],
                    ),
                }
            });
            (url, handle)
        });
        let prometheus = args.prometheus.iter().map(|url| {
            let handle = spawn_named(scope, url, move || query_prometheus(client, url));
            (url, handle)
        });
        let handles: Vec<_> = metrics.chain(prometheus).collect();
        handles
            .into_iter()
            .map(|(url, h)| {
                h.join().ok().flatten().unwrap_or_else(|| {
                    (
                        Vec::new(),
                        vec![SourceError::Panicked {
                            input: http::shown_url(url),
                        }],
                    )
                })
            })
            .collect()
    });
    for (o, e) in results {
        observations.extend(o);
        errors.extend(e);
    }
    (observations, errors)
}

/// Runs `f` on a thread named after the source `url` (redacted), so that a panic message
/// names the source; on an unnamed thread if a named one cannot be started. `None` only if
/// `f` never ran.
fn spawn_named<'scope, T, F>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    url: &str,
    f: F,
) -> std::thread::ScopedJoinHandle<'scope, Option<T>>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    // A builder that fails to start the thread drops its closure: share `f` so the fallback
    // still has it.
    let job = Arc::new(Mutex::new(Some(f)));
    let run = |job: Arc<Mutex<Option<F>>>| {
        move || job.lock().ok().and_then(|mut f| f.take()).map(|f| f())
    };
    // `shown_url` escapes control characters, so the name holds no NUL.
    match std::thread::Builder::new()
        .name(http::shown_url(url))
        .spawn_scoped(scope, run(Arc::clone(&job)))
    {
        Ok(handle) => handle,
        Err(_) => scope.spawn(run(job)),
    }
}

/// The labels of one `rust_mod_info` series that make an observation.
#[derive(Debug, Default)]
pub(crate) struct ModLabels<'a> {
    /// `name`.
    pub(crate) name: Option<&'a str>,
    /// `version`.
    pub(crate) version: Option<&'a str>,
    /// `source`.
    pub(crate) source: Option<&'a str>,
    /// `program`.
    pub(crate) program: Option<&'a str>,
    /// `direct`.
    pub(crate) direct: Option<&'a str>,
}

/// Turns series into observations, sharing one [`Runner`] per program and instance and one
/// copy of each name, version and source.
#[derive(Default)]
pub(crate) struct ObservationBuilder {
    strings: Strings,
    runners: BTreeMap<(String, Option<String>, Option<String>), Arc<Runner>>,
    /// The runner of the last series: a page's series come program by program, so most
    /// lookups end here without building a key.
    last: Option<Arc<Runner>>,
}

impl ObservationBuilder {
    /// A `rust_mod_info` series made an observation; `None` without `name` and `version`.
    pub(crate) fn observation(
        &mut self,
        labels: &BTreeMap<String, String>,
        instance: Option<&str>,
        job: Option<&str>,
        origin: &str,
    ) -> Option<Observation> {
        let get = |k: &str| labels.get(k).map(String::as_str);
        let mod_labels = ModLabels {
            name: get("name"),
            version: get("version"),
            source: get("source"),
            program: get("program"),
            direct: get("direct"),
        };
        self.observation_of(&mod_labels, instance, job, origin)
    }

    /// [`observation`](Self::observation) from borrowed labels.
    pub(crate) fn observation_of(
        &mut self,
        labels: &ModLabels<'_>,
        instance: Option<&str>,
        job: Option<&str>,
        origin: &str,
    ) -> Option<Observation> {
        let name = self.strings.get(labels.name?);
        let version = self.strings.get(labels.version?);
        let source = self.strings.get(labels.source.unwrap_or("unknown"));
        let program = labels.program.unwrap_or("unknown");
        let runner = match &self.last {
            Some(r)
                if r.program == program
                    && r.instance.as_deref() == instance
                    && r.job.as_deref() == job =>
            {
                Arc::clone(r)
            }
            _ => {
                let runner = self
                    .runners
                    .entry((
                        program.to_owned(),
                        instance.map(str::to_owned),
                        job.map(str::to_owned),
                    ))
                    .or_insert_with_key(|(program, instance, job)| {
                        Arc::new(Runner {
                            program: program.clone(),
                            program_version: None,
                            revision: None,
                            instance: instance.clone(),
                            job: job.clone(),
                            path: None,
                            origin: origin.to_owned(),
                        })
                    });
                self.last = Some(Arc::clone(runner));
                Arc::clone(runner)
            }
        };
        Some(Observation {
            runner,
            name,
            version,
            source,
            kind: Kind::Runtime,
            direct: labels.direct.map(|d| d == "true"),
        })
    }
}

/// build_info series by `(instance, job, metric name)`: `(version, revision)`.
type BuildInfoIndex =
    BTreeMap<(Option<String>, Option<String>, String), (Option<String>, Option<String>)>;

/// Fills in program version and revision from build_info series, once per distinct runner.
fn join_build_info(observations: &mut [Observation], build_info: &BuildInfoIndex) {
    // By the old runner's address; the old runner is kept alive beside its replacement, so
    // no address is reused while the map is in use.
    let mut joined: BTreeMap<*const Runner, (Arc<Runner>, Arc<Runner>)> = BTreeMap::new();
    for o in observations {
        let (_, new) = joined.entry(Arc::as_ptr(&o.runner)).or_insert_with(|| {
            let mut runner = Runner::clone(&o.runner);
            let key = (
                runner.instance.clone(),
                runner.job.clone(),
                format!(
                    "{}_build_info",
                    build_info_collector::metric_name(&runner.program)
                ),
            );
            if let Some((version, revision)) = build_info.get(&key) {
                runner.program_version.clone_from(version);
                runner.revision.clone_from(revision);
            }
            (Arc::clone(&o.runner), Arc::new(runner))
        });
        o.runner = Arc::clone(new);
    }
}

/// Queries one Prometheus-compatible API.
fn query_prometheus(client: &Client, url: &str) -> (Vec<Observation>, Vec<SourceError>) {
    let fail = |error| SourceError::PrometheusApi {
        url: http::shown_url(url),
        error,
    };
    let origin = http::shown_url(url);
    let series = match prometheus_api::query(client, url, RUST_MOD_INFO) {
        Ok(s) => s,
        Err(e) => return (Vec::new(), vec![fail(e)]),
    };
    let mut builder = ObservationBuilder::default();
    let mut observations: Vec<Observation> = series
        .iter()
        .filter_map(|l| {
            builder.observation(
                l,
                l.get("instance").map(String::as_str),
                l.get("job").map(String::as_str),
                &origin,
            )
        })
        .collect();
    let mut errors = Vec::new();
    if !observations.is_empty() {
        match prometheus_api::query(client, url, BUILD_INFO_QUERY) {
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
            Err(e) => errors.push(fail(e)),
        }
    }
    (observations, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_naming_the_input() {
        let e = SourceError::PrometheusApi {
            url: "http://x:1".into(),
            error: ApiError::Refused {
                status: 400,
                error_type: "bad_data".into(),
                message: "a\nb".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "http://x:1: Prometheus API error (HTTP 400, bad_data): a b"
        );
        assert_eq!(e.input(), "http://x:1");
        let e = SourceError::MetricsPage {
            url: "http://x:1/metrics".into(),
            error: MetricsPageError::Http(HttpError::Protocol("a\rb".into())),
        };
        assert_eq!(
            e.to_string(),
            "http://x:1/metrics: malformed HTTP answer: a b"
        );
    }

    #[test]
    fn a_failed_binary_is_named_by_its_path() {
        let args = SourceArgs {
            paths: vec![PathBuf::from("/nonexistent/bin/app")],
            ..SourceArgs::default()
        };
        let (observations, errors) = collect(&args);
        assert!(observations.is_empty());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].input(), "/nonexistent/bin/app");
        assert!(
            errors[0].to_string().starts_with("/nonexistent/bin/app: "),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn a_source_thread_is_named_after_its_redacted_url() {
        std::thread::scope(|scope| {
            let name = spawn_named(scope, "http://u:pw@h:1/metrics", || {
                std::thread::current().name().map(str::to_owned)
            });
            assert_eq!(
                name.join().unwrap(),
                Some(Some("http://u:***@h:1/metrics".to_owned()))
            );
            // A panic is the join's error, which `collect` turns into `Panicked` naming the URL.
            let panicked = spawn_named(scope, "http://h:1/", || -> u8 { panic!("bug") });
            assert!(panicked.join().is_err());
        });
    }
}
