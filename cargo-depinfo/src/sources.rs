//! The sources `affected`, `spread`, `outdated` and `audit` read, turned into one list of
//! [`Observation`]s (one program or instance running one crate version):
//!
//! - binaries and directories of binaries ([`binaries`], `inspect`'s reader);
//! - `/metrics` endpoints (`--metrics URL`, [`metrics_pages`]): `rust_mod_info` and
//!   `<program>_build_info` in the OpenMetrics or the classic text format ([`exposition`]);
//!   the instance is the URL's `host:port`, as Prometheus would label it;
//! - the Prometheus HTTP API (`--prometheus URL`, also Thanos and Mimir, [`prometheus_api`]):
//!   what [`Ask`] says: per instance, `rust_mod_info` (for some crates, with a `name=~`
//!   matcher) joined with `{__name__=~".+_build_info",rustversion!=""}`, the instance and job
//!   being the series' `instance` and `job` labels; or counted, `count by (program, job, name,
//!   version[, source]) (rust_mod_info > 0)`, one observation per program, job and version
//!   standing for that many instances. Each query counts a program seen both through its own
//!   collector and through `cargo depinfo exporter` (`origin="exporter"`) once, through its
//!   collector. Warnings in an answer make it a [`SourceError`] (what it gave is kept); infos
//!   are [`Collected::notes`].
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
use std::fmt::Write as _;
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
    /// What to ask Prometheus APIs (`affected`, `spread` and `outdated` each ask the least
    /// they need).
    pub ask: Ask,
    /// Only these crates are asked of Prometheus APIs, matched up to `-`/`_`; empty: every
    /// crate. Other sources read every crate: the questions filter.
    pub crates: Vec<String>,
}

/// What a question asks Prometheus APIs for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ask {
    /// Every running `rust_mod_info` series, one observation per instance, joined with the
    /// instances' build_info series (`affected`: who exactly runs it).
    #[default]
    Instances,
    /// `count by (program, job, name, version) (rust_mod_info > 0)`: one observation per
    /// program, job and crate version, standing for that many instances (`spread`).
    Counts,
    /// [`Ask::Counts`] by `source` too (`outdated` checks registry crates only).
    CountsWithSource,
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
            ask: Ask::default(),
            crates: Vec::new(),
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
    /// A Prometheus-compatible API answered with warnings (a Thanos or Mimir partial
    /// response, a Prometheus warning annotation): what it gave is used, but may be
    /// incomplete, so the answer is never clean.
    #[error("{url}: the answer may be incomplete: {count} warning(s) from the server: {}", one_line(&Joined(warnings)))]
    PrometheusWarnings {
        /// The base URL as given, redacted and cut short as for `MetricsPage`.
        url: String,
        /// The first warnings, each cut short.
        warnings: Vec<String>,
        /// How many warnings the answers held.
        count: usize,
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
            SourceError::MetricsPage { url, .. }
            | SourceError::PrometheusApi { url, .. }
            | SourceError::PrometheusWarnings { url, .. } => url.clone(),
            SourceError::Panicked { input } | SourceError::Workspace { input, .. } => input.clone(),
        }
    }
}

/// The first notes joined with `; ` (`; …` when more were kept), so a line stays short.
struct Joined<'a>(&'a [String]);

/// The most warnings quoted in one error line.
const SHOWN_NOTES: usize = 3;

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.0[..self.0.len().min(SHOWN_NOTES)];
        f.write_str(&shown.join("; "))?;
        if self.0.len() > SHOWN_NOTES {
            f.write_str("; …")?;
        }
        Ok(())
    }
}

/// A message with control characters (newlines from a server's answer) blanked.
fn one_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What the sources gave.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Collected {
    /// Every observation, in source order.
    pub observations: Vec<Observation>,
    /// The sources that failed, or answered with warnings.
    pub errors: Vec<SourceError>,
    /// What servers said for information (Prometheus' info annotations, `URL: info: ...`,
    /// cut short): shown, not failures.
    pub notes: Vec<String>,
}

/// Reads every source. When no source is given at all, reads nothing (the command line picks
/// the workspace around the current directory, or asks for a source). Servers' notes are left
/// out: [`collect_with`] has them.
pub fn collect(args: &SourceArgs) -> (Vec<Observation>, Vec<SourceError>) {
    let c = collect_with(args, &mut |_| {});
    (c.observations, c.errors)
}

/// [`collect`], reporting progress while binaries are scanned. Binaries come first, then the
/// network sources in the order given.
pub fn collect_with(args: &SourceArgs, on_progress: &mut dyn FnMut(Progress<'_>)) -> Collected {
    let mut observations = Vec::new();
    let mut errors = Vec::new();
    let mut notes = Vec::new();
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
                    // Only a broken TLS setup gets here: every network source fails with it,
                    // each as the kind of source it is.
                    let pages = args.metrics.iter().map(|url| SourceError::MetricsPage {
                        url: http::shown_url(url),
                        error: MetricsPageError::Http(HttpError::Tls(e.clone())),
                    });
                    let apis = args
                        .prometheus
                        .iter()
                        .map(|url| SourceError::PrometheusApi {
                            url: http::shown_url(url),
                            error: ApiError::Http(HttpError::Tls(e.clone())),
                        });
                    errors.extend(pages.chain(apis));
                    return Collected {
                        observations,
                        errors,
                        notes,
                    };
                }
            }
        }
    };
    let client = &client;
    let results: Vec<Collected> = std::thread::scope(|scope| {
        let metrics = args.metrics.iter().map(|url| {
            let handle = spawn_named(scope, url, move || {
                match metrics_pages::scrape(client, url) {
                    Ok(observations) => Collected {
                        observations,
                        ..Collected::default()
                    },
                    Err(error) => Collected {
                        errors: vec![SourceError::MetricsPage {
                            url: http::shown_url(url),
                            error,
                        }],
                        ..Collected::default()
                    },
                }
            });
            (url, handle)
        });
        let prometheus = args.prometheus.iter().map(|url| {
            let handle = spawn_named(scope, url, move || query_prometheus(client, url, args));
            (url, handle)
        });
        let handles: Vec<_> = metrics.chain(prometheus).collect();
        handles
            .into_iter()
            .map(|(url, h)| {
                h.join().ok().flatten().unwrap_or_else(|| Collected {
                    errors: vec![SourceError::Panicked {
                        input: http::shown_url(url),
                    }],
                    ..Collected::default()
                })
            })
            .collect()
    });
    for c in results {
        observations.extend(c.observations);
        errors.extend(c.errors);
        notes.extend(c.notes);
    }
    Collected {
        observations,
        errors,
        notes,
    }
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

/// Where a series was seen, beside its labels.
pub(crate) struct SeenAt<'a> {
    /// `host:port` of the instance, when the series is one instance's.
    pub(crate) instance: Option<&'a str>,
    /// The Prometheus job.
    pub(crate) job: Option<&'a str>,
    /// How many instances the series stands for (1 but for `count by` answers).
    pub(crate) instances: usize,
    /// The input, as shown.
    pub(crate) origin: &'a str,
}

/// The key of a runner: program, instance, job, instances.
type RunnerKey = (String, Option<String>, Option<String>, usize);

/// Turns series into observations, sharing one [`Runner`] per program and instance (or
/// program, job and count) and one copy of each name, version and source.
#[derive(Default)]
pub(crate) struct ObservationBuilder {
    strings: Strings,
    runners: BTreeMap<RunnerKey, Arc<Runner>>,
    /// The runner of the last series: a page's series come program by program, so most
    /// lookups end here without building a key.
    last: Option<Arc<Runner>>,
}

impl ObservationBuilder {
    /// A `rust_mod_info` series (its labels through `label`) made an observation; `None`
    /// without `name` and `version`.
    pub(crate) fn observation<'l>(
        &mut self,
        label: impl Fn(&str) -> Option<&'l str>,
        at: &SeenAt<'_>,
    ) -> Option<Observation> {
        let labels = ModLabels {
            name: label("name"),
            version: label("version"),
            source: label("source"),
            program: label("program"),
            direct: label("direct"),
        };
        self.observation_of(&labels, at)
    }

    /// [`observation`](Self::observation) from borrowed labels.
    pub(crate) fn observation_of(
        &mut self,
        labels: &ModLabels<'_>,
        at: &SeenAt<'_>,
    ) -> Option<Observation> {
        let name = self.strings.get(labels.name?);
        let version = self.strings.get(labels.version?);
        let source = self.strings.get(labels.source.unwrap_or("unknown"));
        let program = labels.program.unwrap_or("unknown");
        let runner = match &self.last {
            Some(r)
                if r.program == program
                    && r.instance.as_deref() == at.instance
                    && r.job.as_deref() == at.job
                    && r.instances == at.instances
                    && r.origin == at.origin =>
            {
                Arc::clone(r)
            }
            _ => {
                let key = (
                    program.to_owned(),
                    at.instance.map(str::to_owned),
                    at.job.map(str::to_owned),
                    at.instances,
                );
                let runner = self.runners.entry(key).or_insert_with_key(
                    |(program, instance, job, instances)| {
                        Arc::new(Runner {
                            program: program.clone(),
                            program_version: None,
                            revision: None,
                            instance: instance.clone(),
                            job: job.clone(),
                            path: None,
                            origin: at.origin.to_owned(),
                            instances: *instances,
                        })
                    },
                );
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

/// The PromQL regex matching `name` up to `-`/`_` (crate names are `[A-Za-z0-9_-]`; any
/// other character is matched literally), written for a double-quoted PromQL string.
fn name_regex(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '-' | '_' => out.push_str("[-_]"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            // RE2 takes a quote literally and any escaped ASCII punctuation too; PromQL's
            // string needs a quote and every backslash escaped once more.
            '"' => out.push_str(r#"\""#),
            '\\' => out.push_str(r"\\\\"),
            c if c.is_ascii_punctuation() => {
                out.push_str(r"\\");
                out.push(c);
            }
            // Control characters in Go's escapes; anything else is literal in RE2.
            c if c.is_control() => {
                let _ = write!(out, r"\\x{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The PromQL query for `ask` about `crates` (a name matcher when not empty), counting each
/// program once: a program seen both by its own collector and by `cargo depinfo exporter`
/// (whose series carry `origin="exporter"`) counts through its collector, and through the
/// exporter only where no collector series of that program exist (the README's rule). The
/// rule is applied after counting, on the small counted answer, so that it costs the server
/// nothing over the count itself.
pub(crate) fn mod_info_query(ask: Ask, crates: &[String]) -> String {
    let names = if crates.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = crates.iter().map(|c| name_regex(c)).collect();
        format!(r#"name=~"{}","#, names.join("|"))
    };
    let of = |origin: &str| {
        let selector = format!("{RUST_MOD_INFO}{{{names}origin{origin}\"exporter\"}}");
        match ask {
            Ask::Instances => selector,
            Ask::Counts => format!("count by (program, job, name, version) ({selector} > 0)"),
            Ask::CountsWithSource => {
                format!("count by (program, job, name, version, source) ({selector} > 0)")
            }
        }
    };
    format!("{} or on(program) {}", of("!="), of("="))
}

/// How many instances a `count by` sample stands for: its value, a whole number (1 when the
/// server left it out or wrote something else).
fn instance_count(value: Option<f64>) -> usize {
    match value {
        // Exact below 2^53; a count is never near that.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked: a whole number between 1 and 2^53"
        )]
        Some(v) if v.fract() == 0.0 && (1.0..9.0e15).contains(&v) => v as usize,
        _ => 1,
    }
}

/// Queries one Prometheus-compatible API.
fn query_prometheus(client: &Client, url: &str, args: &SourceArgs) -> Collected {
    let fail = |error| SourceError::PrometheusApi {
        url: http::shown_url(url),
        error,
    };
    let origin = http::shown_url(url);
    let mut builder = ObservationBuilder::default();
    let mut observations = Vec::new();
    let counted = args.ask != Ask::Instances;
    let query = mod_info_query(args.ask, &args.crates);
    let answer = prometheus_api::query(client, url, &query, &mut |s| {
        let at = SeenAt {
            instance: if counted { None } else { s.label("instance") },
            job: s.label("job"),
            instances: if counted { instance_count(s.value) } else { 1 },
            origin: &origin,
        };
        observations.extend(builder.observation(|n| s.label(n), &at));
    });
    let mut annotations = match answer {
        Ok(a) => vec![a],
        Err(e) => {
            return Collected {
                errors: vec![fail(e)],
                ..Collected::default()
            };
        }
    };
    let mut errors = Vec::new();
    // Per instance, the program's version and revision come from its build_info series;
    // counted observations stand for instances that may differ in both.
    if !observations.is_empty() && !counted {
        let mut build_info = BuildInfoIndex::new();
        let answer = prometheus_api::query(client, url, BUILD_INFO_QUERY, &mut |s| {
            if let Some(name) = s.label("__name__") {
                build_info.insert(
                    (
                        s.label("instance").map(str::to_owned),
                        s.label("job").map(str::to_owned),
                        name.to_owned(),
                    ),
                    (
                        s.label("version").map(str::to_owned),
                        s.label("revision").map(str::to_owned),
                    ),
                );
            }
        });
        match answer {
            Ok(a) => {
                annotations.push(a);
                join_build_info(&mut observations, &build_info);
            }
            Err(e) => errors.push(fail(e)),
        }
    }
    let count: usize = annotations.iter().map(|a| a.warning_count).sum();
    if count > 0 {
        errors.push(SourceError::PrometheusWarnings {
            url: origin.clone(),
            warnings: annotations
                .iter()
                .flat_map(|a| a.warnings.iter().cloned())
                .take(prometheus_api::MAX_NOTES)
                .collect(),
            count,
        });
    }
    let notes = annotations
        .iter()
        .flat_map(|a| &a.infos)
        .take(prometheus_api::MAX_NOTES)
        .map(|i| format!("{origin}: info from the server: {}", one_line(i)))
        .collect();
    Collected {
        observations,
        errors,
        notes,
    }
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
    fn each_question_asks_for_what_it_needs() {
        assert_eq!(
            mod_info_query(Ask::Instances, &[]),
            r#"rust_mod_info{origin!="exporter"} or on(program) rust_mod_info{origin="exporter"}"#
        );
        assert_eq!(
            mod_info_query(Ask::Instances, &["serde_json".into()]),
            r#"rust_mod_info{name=~"serde[-_]json",origin!="exporter"} or on(program) rust_mod_info{name=~"serde[-_]json",origin="exporter"}"#
        );
        assert_eq!(
            mod_info_query(Ask::Counts, &["a-b".into(), "c".into()]),
            r#"count by (program, job, name, version) (rust_mod_info{name=~"a[-_]b|c",origin!="exporter"} > 0) or on(program) count by (program, job, name, version) (rust_mod_info{name=~"a[-_]b|c",origin="exporter"} > 0)"#
        );
        assert_eq!(
            mod_info_query(Ask::CountsWithSource, &[]),
            r#"count by (program, job, name, version, source) (rust_mod_info{origin!="exporter"} > 0) or on(program) count by (program, job, name, version, source) (rust_mod_info{origin="exporter"} > 0)"#
        );
        // Not crate names, but matched literally all the same: RE2 escapes inside PromQL's
        // string escapes.
        assert_eq!(name_regex("a.b|c\"d\\e"), r#"a\\.b\\|c\"d\\\\e"#);
        assert_eq!(name_regex("x\ny"), r"x\\x{a}y");
    }

    #[test]
    fn many_warnings_are_one_short_line() {
        let e = SourceError::PrometheusWarnings {
            url: "http://thanos:9090".into(),
            warnings: vec!["w\n".repeat(100); 10],
            count: 5000,
        };
        let line = e.to_string();
        assert!(line.chars().count() < 700, "{line}");
        assert!(
            line.starts_with("http://thanos:9090: the answer may be incomplete: 5000 warning(s) from the server: w w "),
            "{line}"
        );
        assert!(line.ends_with("; …"), "{line}");
    }

    #[test]
    fn counts_are_whole_numbers_of_instances() {
        assert_eq!(instance_count(Some(3.0)), 3);
        assert_eq!(instance_count(None), 1);
        assert_eq!(instance_count(Some(f64::NAN)), 1);
        assert_eq!(instance_count(Some(2.5)), 1);
        assert_eq!(instance_count(Some(1e300)), 1);
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
