//! The sources `affected`, `spread`, `outdated` and `audit` read, turned into one list of
//! [`Observation`]s (one program or instance running one crate version):
//!
//! - binaries and directories of binaries ([`binaries`], `inspect`'s reader);
//! - `/metrics` endpoints (`--metrics URL`, [`metrics_pages`]): `rust_mod_info` and
//!   `<program>_build_info` in the OpenMetrics or the classic text format ([`depinfo_wire::exposition`]);
//!   the instance is the URL's `host:port`, as Prometheus would label it;
//! - the Prometheus HTTP API (`--prometheus URL`, also Thanos and Mimir, [`prometheus_api`]):
//!   what [`Ask`] says: per instance, `rust_mod_info` (for some crates, with a `name=~`
//!   matcher) joined with `{__name__=~".+_build_info",rustversion!=""}`, the instance and job
//!   being the series' `instance` and `job` labels; or counted, `count by (program, job, name,
//!   version[, source]) (rust_mod_info > 0)`, one observation per program, job and version
//!   standing for that many instances. Each query counts a program seen both through its own
//!   collector and through `depinfo-exporter` (`origin="exporter"`) once, through its
//!   collector. Warnings in an answer make it a [`SourceError`] (what it gave is kept); infos
//!   are [`Collected::notes`].
//! - a cargo workspace ([`workspace`], `list`'s reader) when [`SourceArgs::workspace`] is set:
//!   the command line sets it when no other source is given and a cargo project is found, so
//!   `cargo depinfo spread` in a project answers for the project's own crates (and never for
//!   the test binaries under `target/`).
//!
//! `list` reads a workspace ([`workspace`]) and `outdated` a registry's [`sparse_index`]
//! (chosen from cargo's configuration, [`cargo_config`]; offline from cargo's
//! [`index_cache`], both formats read by [`depinfo_wire::index_files`]); every child process runs through
//! [`crate::child_process`], every request through [`depinfo_http`].
//!
//! A source that fails is one [`SourceError`] naming it; the others are still read. Network
//! sources are read by a bounded pool of workers ([`DEFAULT_WORKERS`], `--jobs`), each source
//! within the timeout; results keep the input order.

pub(crate) mod binaries;
pub(crate) mod cargo_config;

pub(crate) mod index_cache;

pub(crate) mod layouts;
pub(crate) mod metrics_pages;
pub(crate) mod prometheus_api;
pub(crate) mod sparse_index;
pub(crate) mod workspace;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use build_info_collector::RUST_MOD_INFO;

use self::binaries::{InspectError, inspect_paths_with};
use self::metrics_pages::MetricsPageError;
use self::prometheus_api::ApiError;
use self::workspace::{ListError, ListOptions};
use crate::observation::{Observation, ProcessCount, Runner, Strings, from_inventories};
use crate::progress::Progress;
use depinfo_http::{Client, HttpError, HttpOptions};
use depinfo_read::binary_reader::Limits;
use depinfo_read::inventory::Kind;

pub use self::layouts::LayoutChoice;
use self::layouts::{BuildRow, Catalog, Detected, Row};

/// The instant query for build_info series of programs using build-info (their
/// `rustversion` label tells them from other exporters' build_info).
const BUILD_INFO_QUERY: &str = r#"{__name__=~".+_build_info",rustversion!=""}"#;

/// How many network sources are read at once by default (`--jobs`): enough to hide the
/// latency of slow endpoints, few enough that thousands of sources that never answer cost a
/// few threads' memory (each waits at most `--timeout`, so such a run takes about
/// `sources / workers × timeout`).
pub const DEFAULT_WORKERS: usize = 64;

/// The default time allowed for a `/metrics` page: a page is a few KB that a live target
/// serves at once, so a dead one should fail fast.
pub const DEFAULT_PAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default time allowed for a request to a Prometheus API: Prometheus' own default query
/// timeout (`--query.timeout`, 2 minutes), since a `count by` over a large fleet takes
/// seconds on a small server.
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(120);

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
    /// Time allowed for each `/metrics` page (and the client built when `client` is `None`).
    pub timeout: Duration,
    /// Time allowed for each request to a Prometheus API (the client's own timeout is
    /// replaced by this one for them; the budget of bytes stays shared).
    pub api_timeout: Duration,
    /// Which layouts to read through Prometheus APIs.
    pub layout: LayoutChoice,
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
    /// How many network sources are read at once (0: [`DEFAULT_WORKERS`]).
    pub workers: usize,
    /// Also ask Prometheus APIs for the exporter's processes by state (`PROCESS_STATES_QUERY`,
    /// into [`Collected::processes`]).
    pub states: bool,
}

/// What `states` asks each Prometheus API: the exporter's processes (each series counts its
/// processes) by program, version, revision and state.
pub const PROCESS_STATES_QUERY: &str =
    "sum by (program, version, revision, state) (rust_process_info > 0)";

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
            timeout: DEFAULT_PAGE_TIMEOUT,
            api_timeout: DEFAULT_API_TIMEOUT,
            layout: LayoutChoice::Auto,
            client: None,
            limits: Limits::default(),
            workspace: None,
            ask: Ask::default(),
            crates: Vec::new(),
            workers: DEFAULT_WORKERS,
            states: false,
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
    /// Instances run a dependency list (`rust_build_info{deps}`) that the catalog
    /// (`rust_deps_info`) does not hold: their crates are unknown, so the answer is never
    /// clean.
    #[error("{url}: {} ({}) run a dependency list the catalog does not hold (rust_deps_info); their crates are unknown", plural(*instances, "instance"), plural(*builds, "build"))]
    Unresolved {
        /// The base URL as given, redacted and cut short as for `MetricsPage`.
        url: String,
        /// How many instances.
        instances: usize,
        /// How many distinct digests.
        builds: usize,
    },
    /// The catalog's rows for a digest match it from no source: they are not the list the
    /// digest names (a target publishing `rust_deps_info` itself, or a catalog that serves
    /// another list), so the instances running it have unknown crates.
    #[error("{url}: {} ({}) run a dependency list whose rust_deps_info rows do not match its digest (a series not from the catalog?); their crates are unknown", plural(*instances, "instance"), plural(*builds, "build"))]
    Unverified {
        /// The base URL as given, redacted and cut short as for `MetricsPage`.
        url: String,
        /// How many instances.
        instances: usize,
        /// How many distinct digests.
        builds: usize,
    },
    /// The source holds none of our series (of those the `--layout` reads): no answer can
    /// be judged from it.
    #[error("{url}: no {what} series: is this the right server or tenant?")]
    NoData {
        /// The URL as given, redacted and cut short as for `MetricsPage`.
        url: String,
        /// The series looked for: `rust_mod_info or rust_build_info`, or one of them and the
        /// `--layout` that reads it alone.
        what: &'static str,
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
            | SourceError::PrometheusWarnings { url, .. }
            | SourceError::Unresolved { url, .. }
            | SourceError::Unverified { url, .. }
            | SourceError::NoData { url, .. } => url.clone(),
            SourceError::Panicked { input } | SourceError::Workspace { input, .. } => input.clone(),
        }
    }
}

/// `1 instance`, `3 instances`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
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
    depinfo_read::text_safety::blank_controls(error.to_string().chars())
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
    /// The exporter's processes by state, when [`SourceArgs::states`] asked for them.
    pub processes: Vec<ProcessCount>,
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
    let mut processes = Vec::new();
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
                    // Only a TLS setup or a proxy that cannot be used gets here: every network
                    // source fails with it, each as the kind of source it is.
                    let pages = args.metrics.iter().map(|url| SourceError::MetricsPage {
                        url: depinfo_http::shown_url(url),
                        error: MetricsPageError::Http(HttpError::Setup(e.clone())),
                    });
                    let apis = args
                        .prometheus
                        .iter()
                        .map(|url| SourceError::PrometheusApi {
                            url: depinfo_http::shown_url(url),
                            error: ApiError::Http(HttpError::Setup(e.clone())),
                        });
                    errors.extend(pages.chain(apis));
                    return Collected {
                        observations,
                        errors,
                        notes,
                        processes,
                    };
                }
            }
        }
    };
    let api_client = client.with_timeout(args.api_timeout);
    let (client, api_client) = (&client, &api_client);
    let jobs: Vec<(usize, &String, bool)> = args
        .metrics
        .iter()
        .map(|url| (url, true))
        .chain(args.prometheus.iter().map(|url| (url, false)))
        .enumerate()
        .map(|(i, (url, is_page))| (i, url, is_page))
        .collect();
    // What each source waits for now, for the progress line.
    let board: Mutex<Vec<Option<Waiting>>> = Mutex::new(vec![None; jobs.len()]);
    let read = |&(i, url, is_page): &(usize, &String, bool)| {
        let limit = if is_page {
            client.timeout()
        } else {
            api_client.timeout()
        };
        let waiting = |what: Option<&'static str>| {
            if let Ok(mut board) = board.lock() {
                board[i] = what.map(|what| Waiting {
                    source: depinfo_http::shown_url(url),
                    what,
                    since: Instant::now(),
                    limit,
                });
            }
        };
        if !is_page {
            return query_prometheus(api_client, url, args, &waiting);
        }
        waiting(Some("its /metrics page"));
        let page = metrics_pages::scrape(client, url);
        waiting(None);
        match page {
            Ok(metrics_pages::Scraped {
                observations,
                processes,
                skipped,
                unread,
            }) => Collected {
                observations,
                processes,
                // The rest of the page counts, but the answer is not complete.
                errors: skipped
                    .first
                    .map(|first| MetricsPageError::Skipped {
                        count: skipped.count,
                        first,
                    })
                    .into_iter()
                    .chain(unread)
                    .map(|error| SourceError::MetricsPage {
                        url: depinfo_http::shown_url(url),
                        error,
                    })
                    .collect(),
                ..Collected::default()
            },
            Err(error) => Collected {
                errors: vec![SourceError::MetricsPage {
                    url: depinfo_http::shown_url(url),
                    error,
                }],
                ..Collected::default()
            },
        }
    };
    // The longest wait of those under way is the one shown.
    let mut tick = || {
        if let Ok(board) = board.lock()
            && let Some(w) = board.iter().flatten().min_by_key(|w| w.since)
        {
            on_progress(Progress::Waiting {
                source: &w.source,
                what: w.what,
                elapsed: w.since.elapsed(),
                limit: w.limit,
            });
        }
    };
    let results = in_pool_watched(&jobs, args.workers, read, Some(&mut tick));
    let results = results.into_iter().zip(&jobs).map(|(c, (_, url, _))| {
        c.unwrap_or_else(|| Collected {
            errors: vec![SourceError::Panicked {
                input: depinfo_http::shown_url(url),
            }],
            ..Collected::default()
        })
    });
    for c in results {
        // One large source (a page of a million series) is taken, not copied.
        if observations.is_empty() {
            observations = c.observations;
        } else {
            observations.extend(c.observations);
        }
        errors.extend(c.errors);
        notes.extend(c.notes);
        processes.extend(c.processes);
    }
    Collected {
        observations,
        errors,
        notes,
        processes,
    }
}

/// Runs `f` over `jobs` on at most `workers` threads (0: [`DEFAULT_WORKERS`]; never more
/// threads than jobs; one job or one worker runs on the calling thread), each taking the next job from a shared queue; the results come back in
/// the jobs' order. `None` for a job whose `f` panicked (the other jobs still run), or that
/// never ran because no thread could be started.
#[cfg(test)]
fn in_pool<J: Sync, T: Send>(
    jobs: &[J],
    workers: usize,
    f: impl Fn(&J) -> T + Sync,
) -> Vec<Option<T>> {
    in_pool_watched(jobs, workers, f, None)
}

/// What a source waits for (see [`Progress::Waiting`]).
#[derive(Clone)]
struct Waiting {
    source: String,
    what: &'static str,
    since: Instant,
    limit: Duration,
}

/// How often the calling thread calls `tick` while the pool works.
const TICK: Duration = Duration::from_millis(100);
/// How often it looks whether the pool is done.
const POLL: Duration = Duration::from_millis(5);

/// `in_pool`, the calling thread calling `tick` (when given) every [`TICK`] until every job
/// is done: the jobs then run on the pool's threads only, even one job.
fn in_pool_watched<J: Sync, T: Send>(
    jobs: &[J],
    workers: usize,
    f: impl Fn(&J) -> T + Sync,
    mut tick: Option<&mut dyn FnMut()>,
) -> Vec<Option<T>> {
    let done = AtomicUsize::new(0);
    let workers = if workers == 0 {
        DEFAULT_WORKERS
    } else {
        workers
    }
    .min(jobs.len());
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<T>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            // A panic is a bug in reading one source: the others are still read.
            if let Ok(value) = std::panic::catch_unwind(AssertUnwindSafe(|| f(job)))
                && let Ok(mut slot) = results[i].lock()
            {
                *slot = Some(value);
            }
            done.fetch_add(1, Ordering::SeqCst);
        }
    };
    if workers == 1 && tick.is_none() {
        // One source, or one worker: no thread is needed.
        work();
        return collect_slots(results);
    }
    std::thread::scope(|scope| {
        let mut started = 0;
        for n in 0..workers {
            let spawned = std::thread::Builder::new()
                .name(format!("source-{n}"))
                .spawn_scoped(scope, work);
            if spawned.is_ok() {
                started += 1;
            }
        }
        // No thread at all (the system is out of them): read the sources here, one by one.
        if started == 0 {
            work();
        }
        if let Some(tick) = tick.as_mut() {
            // Polled often, so that the last answer is not kept waiting for a tick.
            let mut last = Instant::now();
            while done.load(Ordering::SeqCst) < jobs.len() {
                std::thread::sleep(POLL);
                if last.elapsed() >= TICK {
                    last = Instant::now();
                    tick();
                }
            }
        }
    });
    collect_slots(results)
}

fn collect_slots<T>(results: Vec<Mutex<Option<T>>>) -> Vec<Option<T>> {
    results
        .into_iter()
        .map(|slot| slot.into_inner().ok().flatten())
        .collect()
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

/// What tells the runners of series apart: program, instance, job, instances.
trait RunnerKey {
    fn key(&self) -> (&str, Option<&str>, Option<&str>, usize);
}

/// A runner of the builder, found by its key without a copy of the key's strings.
struct Keyed(Arc<Runner>);

/// A key looked up.
struct Wanted<'a>(&'a str, Option<&'a str>, Option<&'a str>, usize);

impl RunnerKey for Keyed {
    fn key(&self) -> (&str, Option<&str>, Option<&str>, usize) {
        key_of(&self.0)
    }
}

fn key_of(r: &Runner) -> (&str, Option<&str>, Option<&str>, usize) {
    (
        &r.program,
        r.instance.as_deref(),
        r.job.as_deref(),
        r.instances,
    )
}

impl RunnerKey for Wanted<'_> {
    fn key(&self) -> (&str, Option<&str>, Option<&str>, usize) {
        (self.0, self.1, self.2, self.3)
    }
}

impl PartialEq for dyn RunnerKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn RunnerKey + '_ {}

impl PartialOrd for dyn RunnerKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn RunnerKey + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Keyed {}

impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl<'a> std::borrow::Borrow<dyn RunnerKey + 'a> for Keyed {
    fn borrow(&self) -> &(dyn RunnerKey + 'a) {
        self
    }
}

/// Turns series into observations, sharing one [`Runner`] per program and instance (or
/// program, job and count) and one copy of each name, version and source: what a source
/// holds is proportional to what is distinct in it.
#[derive(Default)]
pub(crate) struct ObservationBuilder {
    strings: Strings,
    runners: BTreeSet<Keyed>,
    /// The build_info series read so far (a page's come before its `rust_mod_info` series,
    /// as the collector writes them): a runner made after its program's is made joined.
    pub(crate) build_info: BuildInfoIndex,
    /// The runner of the last series: a page's series come program by program, so most
    /// lookups end here.
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
        let source = self
            .strings
            .get(labels.source.unwrap_or(buildinfo::UNKNOWN));
        let program = labels.program.unwrap_or(buildinfo::UNKNOWN);
        let wanted = Wanted(program, at.instance, at.job, at.instances);
        let runner = match &self.last {
            Some(r) if key_of(r) == wanted.key() => Arc::clone(r),
            _ => {
                let runner = match self.runners.get(&wanted as &dyn RunnerKey) {
                    Some(Keyed(r)) => Arc::clone(r),
                    None => {
                        let (program_version, revision) =
                            build_info_of(&self.build_info, program, at.instance, at.job)
                                .cloned()
                                .unwrap_or_default();
                        let r = Arc::new(Runner {
                            program: program.to_owned(),
                            program_version,
                            revision,
                            // One copy of the instance and the input for the source.
                            instance: at.instance.map(|i| self.strings.get(i)),
                            job: at.job.map(str::to_owned),
                            path: None,
                            origin: self.strings.get(at.origin),
                            instances: at.instances,
                        });
                        self.runners.insert(Keyed(Arc::clone(&r)));
                        r
                    }
                };
                self.last = Some(Arc::clone(&runner));
                runner
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

    /// Fills in the program version and revision of `observations` (made by this builder)
    /// from the build_info series in [`build_info`](Self::build_info): each runner whose
    /// program's series says otherwise than the runner (it came after the runner was made,
    /// or there were several) is replaced once, and the observations that pointed at it
    /// follow; the others are left as they are.
    pub(crate) fn join(self, observations: &mut [Observation]) {
        // By the old runner's address: the old runners stay alive (in `self`) while the map
        // is in use, so no address is reused.
        let mut replaced: BTreeMap<*const Runner, Arc<Runner>> = BTreeMap::new();
        for Keyed(old) in &self.runners {
            let found = build_info_of(
                &self.build_info,
                &old.program,
                old.instance.as_deref(),
                old.job.as_deref(),
            );
            if let Some((version, revision)) = found
                && (version, revision) != (&old.program_version, &old.revision)
            {
                let mut runner = Runner::clone(old);
                runner.program_version.clone_from(version);
                runner.revision.clone_from(revision);
                replaced.insert(Arc::as_ptr(old), Arc::new(runner));
            }
        }
        if replaced.is_empty() {
            return;
        }
        for o in observations {
            if let Some(new) = replaced.get(&Arc::as_ptr(&o.runner)) {
                o.runner = Arc::clone(new);
            }
        }
    }
}

/// The `(version, revision)` of `program`'s build_info series at `instance` in `job`.
fn build_info_of<'b>(
    build_info: &'b BuildInfoIndex,
    program: &str,
    instance: Option<&str>,
    job: Option<&str>,
) -> Option<&'b (Option<String>, Option<String>)> {
    if build_info.is_empty() {
        return None;
    }
    let key = (
        instance.map(str::to_owned),
        job.map(str::to_owned),
        format!("{}_build_info", build_info_collector::metric_name(program)),
    );
    build_info.get(&key)
}

/// build_info series by `(instance, job, metric name)`: `(version, revision)`.
type BuildInfoIndex =
    BTreeMap<(Option<String>, Option<String>, String), (Option<String>, Option<String>)>;

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
/// program once: a program seen both by its own collector and by `depinfo-exporter`
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

/// The requests to one Prometheus-compatible API, and what their answers said beside their
/// series (kept for the end: warnings make errors, infos notes).
struct Session<'a> {
    client: &'a Client,
    url: &'a str,
    /// Says what the source waits for (`None`: nothing).
    waiting: &'a dyn Fn(Option<&'static str>),
    /// The URL as shown.
    origin: String,
    annotations: Vec<prometheus_api::Annotations>,
    errors: Vec<SourceError>,
}

/// A request failed: its error is in the session's errors.
struct Failed;

impl Session<'_> {
    fn fail(&self, error: ApiError) -> SourceError {
        SourceError::PrometheusApi {
            url: self.origin.clone(),
            error,
        }
    }

    /// One instant query (see [`prometheus_api::query`]); `what` it asks, for the progress
    /// line.
    fn query(
        &mut self,
        what: &'static str,
        query: &str,
        keep: &dyn Fn(Option<&str>) -> bool,
        on_sample: &mut dyn FnMut(&prometheus_api::Sample<'_>),
    ) -> Result<(), Failed> {
        (self.waiting)(Some(what));
        let answer = prometheus_api::query(self.client, self.url, query, keep, on_sample);
        (self.waiting)(None);
        match answer {
            Ok(a) => {
                self.annotations.push(a);
                Ok(())
            }
            Err(e) => {
                let e = self.fail(e);
                self.errors.push(e);
                Err(Failed)
            }
        }
    }

    /// Whether the server holds any series of `names` at all (asked only when an answer came
    /// out empty and no `rust_build_info` was seen).
    fn holds_ours(&mut self, names: &[&str]) -> Result<bool, Failed> {
        (self.waiting)(Some("names of our metrics"));
        let names = prometheus_api::metric_names(self.client, self.url, names);
        (self.waiting)(None);
        match names {
            Ok(names) => Ok(!names.is_empty()),
            Err(e) => {
                let e = self.fail(e);
                self.errors.push(e);
                Err(Failed)
            }
        }
    }

    fn finish(mut self, observations: Vec<Observation>) -> Collected {
        let annotations = &self.annotations;
        let skipped: usize = annotations.iter().map(|a| a.skipped).sum();
        if skipped > 0 {
            let e = self.fail(ApiError::Skipped(skipped));
            self.errors.push(e);
        }
        let count: usize = annotations.iter().map(|a| a.warning_count).sum();
        if count > 0 {
            self.errors.push(SourceError::PrometheusWarnings {
                url: self.origin.clone(),
                warnings: annotations
                    .iter()
                    .flat_map(|a| a.warnings.iter().cloned())
                    .take(prometheus_api::MAX_NOTES)
                    .collect(),
                count,
            });
        }
        let origin = &self.origin;
        let notes = annotations
            .iter()
            .flat_map(|a| &a.infos)
            .take(prometheus_api::MAX_NOTES)
            .map(|i| format!("{origin}: info from the server: {}", one_line(i)))
            .collect();
        Collected {
            observations,
            errors: self.errors,
            notes,
            processes: Vec::new(),
        }
    }
}

/// Queries one Prometheus-compatible API: detects the layouts in use (unless told), then
/// asks a `full` fleet what it was always asked ([`full_layout`]), and any other through the
/// catalog ([`through_catalog`]). An empty answer from a server with none of our series is
/// [`SourceError::NoData`], never a clean one.
fn query_prometheus(
    client: &Client,
    url: &str,
    args: &SourceArgs,
    waiting: &dyn Fn(Option<&'static str>),
) -> Collected {
    let mut session = Session {
        client,
        url,
        waiting,
        origin: depinfo_http::shown_url(url),
        annotations: Vec::new(),
        errors: Vec::new(),
    };
    let mut observations = Vec::new();
    let detected = match args.layout {
        LayoutChoice::Full => Some(Detected::default()),
        LayoutChoice::Catalog => None,
        LayoutChoice::Auto => {
            let mut detected = Detected::default();
            let answer = session.query(
                "count by layout over rust_build_info",
                layouts::DETECT_QUERY,
                &|name| name.is_none(),
                &mut |s| detected.add(s.label("layout"), s.labels_other_than("layout"), s.value),
            );
            if answer.is_err() {
                return session.finish(observations);
            }
            Some(detected)
        }
    };
    let read = match &detected {
        Some(d) if !d.has_catalog_instances() => full_layout(&mut session, args, &mut observations),
        _ => through_catalog(&mut session, args, detected.as_ref(), &mut observations),
    };
    // Told a layout, only its series count as data: a catalog-only fleet asked `--layout
    // full` is no data, not a clean answer.
    let (names, what): (&[&str], _) = match args.layout {
        LayoutChoice::Full => (&[RUST_MOD_INFO], "rust_mod_info (--layout full)"),
        LayoutChoice::Catalog => (
            &[build_info_collector::RUST_BUILD_INFO],
            "rust_build_info (--layout catalog)",
        ),
        LayoutChoice::Auto => (
            &[RUST_MOD_INFO, build_info_collector::RUST_BUILD_INFO],
            "rust_mod_info or rust_build_info",
        ),
    };
    let mut processes = Vec::new();
    if read.is_ok() && args.states {
        // A fleet without the exporter answers nothing here: no states, not an error.
        let _ = session.query(
            "rust_process_info by state",
            PROCESS_STATES_QUERY,
            &|name| name.is_none(),
            &mut |s| {
                if let (Some(program), Some(state)) = (s.label("program"), s.label("state")) {
                    processes.push(ProcessCount::new(
                        program,
                        s.label("version").filter(|v| !v.is_empty()),
                        s.label("revision").filter(|v| !v.is_empty()),
                        state,
                        instance_count(s.value),
                    ));
                }
            },
        );
    }
    if read.is_ok()
        && observations.is_empty()
        && session.errors.is_empty()
        && !detected.as_ref().is_some_and(Detected::any)
        && let Ok(false) = session.holds_ours(names)
    {
        let url = session.origin.clone();
        session.errors.push(SourceError::NoData { url, what });
    }
    let mut collected = session.finish(observations);
    collected.processes = processes;
    collected
}

/// A `full` fleet: [`mod_info_query`], and per instance the build_info join.
fn full_layout(
    session: &mut Session<'_>,
    args: &SourceArgs,
    observations: &mut Vec<Observation>,
) -> Result<(), Failed> {
    let origin = session.origin.clone();
    let mut builder = ObservationBuilder::default();
    let counted = args.ask != Ask::Instances;
    let query = mod_info_query(args.ask, &args.crates);
    // Only `rust_mod_info` (and `count by` answers, which have no `__name__`): a series of
    // another metric is dropped as it is read, never kept.
    let ours = |name: Option<&str>| name.is_none_or(|n| n == RUST_MOD_INFO);
    let what = if counted {
        "count by over rust_mod_info"
    } else {
        "rust_mod_info series"
    };
    let answer = session.query(what, &query, &ours, &mut |s| {
        let at = SeenAt {
            instance: if counted { None } else { s.label("instance") },
            job: s.label("job"),
            instances: if counted { instance_count(s.value) } else { 1 },
            origin: &origin,
        };
        observations.extend(builder.observation(|n| s.label(n), &at));
    });
    if answer.is_err() {
        observations.clear();
        return Err(Failed);
    }
    // Per instance, the program's version and revision come from its build_info series;
    // counted observations stand for instances that may differ in both.
    if !observations.is_empty()
        && !counted
        && read_build_info(session, &mut builder.build_info).is_ok()
    {
        builder.join(observations);
    }
    Ok(())
}

/// The build_info series of programs using build-info, by instance, job and metric name.
fn read_build_info(session: &mut Session<'_>, index: &mut BuildInfoIndex) -> Result<(), Failed> {
    let build_info_series = |name: Option<&str>| name.is_some_and(|n| n.ends_with("_build_info"));
    session.query(
        "build_info series",
        BUILD_INFO_QUERY,
        &build_info_series,
        &mut |s| {
            if let Some(name) = s.label("__name__") {
                index.insert(
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
        },
    )
}

/// A fleet with instances in another layout than `full` (or told `--layout catalog`, then
/// `detected` is `None` and no `rust_mod_info` is asked): the `full` part by origin, the
/// catalog part joined with the catalog, the origin rule over both (see [`layouts`]).
fn through_catalog(
    session: &mut Session<'_>,
    args: &SourceArgs,
    detected: Option<&Detected>,
    observations: &mut Vec<Observation>,
) -> Result<(), Failed> {
    let counted = args.ask != Ask::Instances;
    let with_source = args.ask != Ask::Counts;
    let mut rows: Vec<Row> = Vec::new();
    if let Some(d) = detected {
        let query = layouts::mixed_mod_info_query(
            counted.then_some(with_source),
            &args.crates,
            d.needs_exclusion(),
        );
        let ours = |name: Option<&str>| name.is_none_or(|n| n == RUST_MOD_INFO);
        let what = if counted {
            "count by over rust_mod_info"
        } else {
            "rust_mod_info series"
        };
        session.query(what, &query, &ours, &mut |s| {
            rows.extend(Row::read(|n| s.label(n), s.value, counted));
        })?;
    }
    let mut builds: Vec<BuildRow> = Vec::new();
    let build_info =
        |name: Option<&str>| name.is_none_or(|n| n == build_info_collector::RUST_BUILD_INFO);
    session.query(
        if counted {
            "count by over rust_build_info"
        } else {
            "rust_build_info series"
        },
        &layouts::build_info_query(counted, detected.is_none()),
        &build_info,
        &mut |s| {
            builds.extend(BuildRow::read(|n| s.label(n), s.value, counted));
        },
    )?;
    let mut catalog = Catalog::default();
    if !builds.is_empty() {
        let deps_info =
            |name: Option<&str>| name.is_none_or(|n| n == build_info_collector::RUST_DEPS_INFO);
        session.query(
            "the catalog's rust_deps_info",
            layouts::DEPS_INFO_QUERY,
            &deps_info,
            &mut |s| {
                catalog.add(|n| s.label(n));
            },
        )?;
        catalog.finish();
    }
    let (joined, unresolved) =
        layouts::join(&builds, &catalog, &args.crates, with_source, !counted);
    if unresolved.instances > 0 {
        session.errors.push(SourceError::Unresolved {
            url: session.origin.clone(),
            instances: unresolved.instances,
            builds: unresolved.builds.len(),
        });
    }
    if unresolved.unverified_instances > 0 {
        session.errors.push(SourceError::Unverified {
            url: session.origin.clone(),
            instances: unresolved.unverified_instances,
            builds: unresolved.unverified_builds.len(),
        });
    }
    let full_instances = !counted && !rows.is_empty();
    rows.extend(joined);
    let rows = layouts::origin_rule(rows);
    let mut builder = ObservationBuilder::default();
    // The version and revision of catalog instances are on their rust_build_info; those of
    // `full` instances on their program's build_info series.
    if full_instances {
        // A failure is an error of its own; the observations still count.
        let _ = read_build_info(session, &mut builder.build_info);
    }
    for r in &rows {
        if r.program_version.is_some() || r.revision.is_some() {
            builder.build_info.insert(
                (
                    r.instance.clone(),
                    r.job.clone(),
                    format!(
                        "{}_build_info",
                        build_info_collector::metric_name(&r.program)
                    ),
                ),
                (r.program_version.clone(), r.revision.clone()),
            );
        }
    }
    let origin = session.origin.clone();
    for r in &rows {
        let labels = ModLabels {
            name: Some(&r.name),
            version: Some(&r.version),
            source: r.source.as_deref(),
            program: Some(&r.program),
            direct: r.direct.as_deref(),
        };
        let at = SeenAt {
            instance: r.instance.as_deref(),
            job: r.job.as_deref(),
            instances: r.count,
            origin: &origin,
        };
        observations.extend(builder.observation_of(&labels, &at));
    }
    Ok(())
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
    fn the_pool_keeps_the_order_and_survives_a_panic() {
        let jobs: Vec<usize> = (0..50).collect();
        let out = in_pool(&jobs, 3, |&j| {
            assert!(j != 7, "a bug in one source");
            j * 2
        });
        assert_eq!(out.len(), 50);
        assert_eq!(out[7], None);
        assert_eq!(out[8], Some(16));
        assert_eq!(out[49], Some(98));
        assert!(in_pool(&[] as &[usize], 4, |&j| j).is_empty());
    }

    /// One worker, or one job, runs on the calling thread; more run on the pool's threads
    /// only (the calling thread waits), and 0 workers is the default pool, not none.
    #[test]
    fn the_pool_uses_the_calling_thread_only_for_one_worker_or_job() {
        let caller = std::thread::current().id();
        let jobs: Vec<usize> = (0..20).collect();
        let here = |workers| in_pool(&jobs, workers, |_| std::thread::current().id() == caller);
        assert!(here(1).iter().all(|r| *r == Some(true)), "1 worker");
        for workers in [0, 2, 3] {
            assert!(
                here(workers).iter().all(|r| *r == Some(false)),
                "{workers} workers"
            );
        }
        assert_eq!(
            in_pool(&[0], 8, |_| std::thread::current().id() == caller),
            [Some(true)]
        );
    }

    /// With a tick, even one job runs on a pool thread while the caller ticks until it is
    /// done.
    #[test]
    fn a_watched_pool_ticks_while_its_jobs_run() {
        let caller = std::thread::current().id();
        let mut ticks = 0;
        let out = in_pool_watched(
            &[0],
            1,
            |_| {
                std::thread::sleep(Duration::from_millis(350));
                std::thread::current().id() == caller
            },
            Some(&mut || ticks += 1),
        );
        assert_eq!(out, [Some(false)]);
        assert!((2..=4).contains(&ticks), "{ticks} ticks");
    }

    /// Regression (issue 18, defect 12): each source had its own thread, so 2,000 sources that
    /// never answer cost 2,000 threads at once (634 MB). At most `workers` run at once now.
    #[test]
    fn sources_are_read_by_a_bounded_pool() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let threads = Mutex::new(std::collections::BTreeSet::new());
        // Thread names are `source-N`, one per worker.
        let jobs: Vec<usize> = (0..200).collect();
        let out = in_pool(&jobs, 4, |&j| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            threads
                .lock()
                .unwrap()
                .insert(std::thread::current().name().map(str::to_owned));
            std::thread::sleep(std::time::Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            j
        });
        assert_eq!(out, jobs.iter().map(|&j| Some(j)).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 4, "{most:?} at once");
        assert!(threads.lock().unwrap().len() <= 4);
        assert_eq!(SourceArgs::default().workers, DEFAULT_WORKERS);
    }

    /// Sources that accept and never answer, read by a pool smaller than their number: every
    /// one fails on its own deadline, reported in the order given.
    #[test]
    fn silent_sources_fail_in_order_through_the_pool() {
        let listeners: Vec<std::net::TcpListener> = (0..12)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let urls: Vec<String> = listeners
            .iter()
            .map(|l| format!("http://{}/metrics", l.local_addr().unwrap()))
            .collect();
        let args = SourceArgs {
            metrics: urls.clone(),
            timeout: std::time::Duration::from_millis(200),
            workers: 4,
            ..SourceArgs::default()
        };
        let (observations, errors) = collect(&args);
        assert!(observations.is_empty());
        let inputs: Vec<String> = errors.iter().map(SourceError::input).collect();
        assert_eq!(inputs, urls);
        for e in &errors {
            assert!(
                e.to_string().ends_with("no answer within 0.2s (--timeout)"),
                "{e}"
            );
        }
    }
}
