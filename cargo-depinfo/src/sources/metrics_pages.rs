//! `/metrics` endpoints (`--metrics URL`): one scrape each, asking for OpenMetrics first as
//! Prometheus does, and `rust_mod_info` and `<program>_build_info` read from the page in the
//! format its `Content-Type` names ([`exposition`]).

use std::borrow::Cow;

use std::collections::{BTreeMap, BTreeSet};

use build_info_collector::{
    DEPS_LIST_CONTENT_TYPE, DEPS_PATH_PREFIX, DepsList, MAX_DEPS_LIST_BYTES, RUST_BUILD_INFO,
    RUST_MOD_INFO, is_digest,
};

use super::{ModLabels, ObservationBuilder, SeenAt};
use crate::observation::{Observation, ProcessCount};
use depinfo_http::{Body, Client, HttpError, Url};
use depinfo_wire::exposition::{self, ExpositionError, Format, Sample, Skipped, StreamError};

/// The `Accept` header of a scrape, as Prometheus sends it: OpenMetrics 1.0.0 preferred, then
/// OpenMetrics 0.0.1, then the classic text format, then anything.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
                          application/openmetrics-text;version=0.0.1;q=0.75,\
                          text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Why a `/metrics` endpoint gave no observations. The caller names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsPageError {
    /// The URL is unusable, or the request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The endpoint answered with another status than 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// The body is not a valid exposition.
    #[error(transparent)]
    Exposition(#[from] ExpositionError),
    /// The page holds none of our series (`rust_mod_info`, `rust_build_info`, a
    /// `<program>_build_info` with `rustversion`): nothing can be judged from it.
    #[error("no rust_mod_info or rust_build_info series: is this the right page?")]
    NoData,
    /// A program on the page publishes its dependency list's digest only (the `catalog` or
    /// `direct` layout), and the list could not be read from the target itself: its crates
    /// are unknown.
    #[error(
        "{program}: its dependency list {deps} could not be read from {url}: {why}; its crates are unknown"
    )]
    ListUnread {
        /// The program.
        program: String,
        /// The digest (or the label value, escaped and cut short, when it is none).
        deps: String,
        /// Where it was asked for (credentials redacted).
        url: String,
        /// Why not.
        why: String,
    },
    /// More programs than [`MAX_UNREAD_SHOWN`] whose lists could not be read, or more
    /// distinct lists than [`MAX_LISTS_PER_PAGE`] on one page: counted in one line.
    #[error(
        "{count} more programs whose dependency lists were not read (at most {MAX_LISTS_PER_PAGE} distinct lists are asked of one page); their crates are unknown"
    )]
    ListsUnread {
        /// How many programs.
        count: usize,
    },
    /// Series of ours were too large to read and were skipped; the page's others count.
    #[error("{count} series skipped, the first at line {}: {}", .first.line, .first.problem)]
    Skipped {
        /// How many.
        count: usize,
        /// The first, with its line.
        first: ExpositionError,
    },
}

/// Scrapes one `/metrics` endpoint, reading the page as it arrives (memory is what the page
/// holds of ours, not its size): its observations, and the samples of ours skipped for
/// their size.
pub(super) fn scrape(client: &Client, url: &str) -> Result<Scraped, MetricsPageError> {
    // `host:port` alone is accepted, as in Prometheus' targets.
    let mut parsed = if url.contains("://") {
        Url::parse(url)
    } else {
        Url::parse(&format!("http://{url}"))
    }?;
    if parsed.path == "/" {
        "/metrics".clone_into(&mut parsed.path);
    }
    let response = client.get_streamed(&parsed, ACCEPT)?;
    if response.status != 200 {
        return Err(MetricsPageError::Status(response.status));
    }
    let mut page = PageReader::new(&parsed.host_port(), depinfo_http::shown_url(url));
    let mut body = response.body;
    let skipped = exposition::parse_reader(
        &mut body,
        Format::from_content_type(response.content_type.as_deref()),
        is_ours,
        |s| page.sample(&s),
    )
    .map_err(|e| match e {
        // A page cut short is a failed transfer, not a malformed page (what the body says
        // before the cut may be anything): the rest is read, into nothing, to tell them apart.
        StreamError::Exposition(e) => match body.drain() {
            Ok(()) => MetricsPageError::Exposition(e),
            Err(read) => MetricsPageError::Http(read),
        },
        StreamError::Read(e) => MetricsPageError::Http(Body::http_error(e)),
    })?;
    if !page.ours() {
        return Err(MetricsPageError::NoData);
    }
    let mut unread = Vec::new();
    let mut not_shown = 0;
    let mut lists: BTreeMap<String, Result<DepsList, String>> = BTreeMap::new();
    for b in page.listed() {
        // A page names the lists it likes: each costs a request to its target, so a page
        // gets at most MAX_LISTS_PER_PAGE of them, and the programs past that are unknown.
        if !lists.contains_key(&b.deps) && lists.len() >= MAX_LISTS_PER_PAGE {
            not_shown += 1;
            continue;
        }
        let list = lists
            .entry(b.deps.clone())
            .or_insert_with(|| fetch_list(client, &parsed, &b.deps));
        match list {
            Ok(list) => page.add_list(&b, list),
            Err(_) if unread.len() >= MAX_UNREAD_SHOWN => not_shown += 1,
            Err(why) => unread.push(MetricsPageError::ListUnread {
                program: b.program.clone(),
                deps: shown_deps(&b.deps),
                url: depinfo_http::shown_url(&list_url(&parsed, &b.deps)),
                why: why.clone(),
            }),
        }
    }
    if not_shown > 0 {
        unread.push(MetricsPageError::ListsUnread { count: not_shown });
    }
    let processes = page.processes();
    Ok(Scraped {
        observations: page.finish(),
        processes,
        skipped,
        unread,
    })
}

/// What one page gave.
pub(super) struct Scraped {
    pub(super) observations: Vec<Observation>,
    /// The exporter's processes by state (its `rust_process_info`), when the page is an
    /// exporter's.
    pub(super) processes: Vec<ProcessCount>,
    /// Samples of ours too large to read.
    pub(super) skipped: Skipped,
    /// The dependency lists that could not be read.
    pub(super) unread: Vec<MetricsPageError>,
}

/// The most distinct dependency lists read from one page's target: a host's exporter lists
/// one per distinct program it runs, a service one.
pub const MAX_LISTS_PER_PAGE: usize = 64;

/// The most programs named one line each when their lists cannot be read; the rest are
/// counted in one line.
pub const MAX_UNREAD_SHOWN: usize = 16;

/// `deps` as shown in a message: a digest as is, anything else escaped and cut short.
fn shown_deps(deps: &str) -> String {
    if is_digest(deps) {
        deps.to_owned()
    } else {
        depinfo_read::text_safety::quoted(&depinfo_read::text_safety::shortened(deps, 40))
    }
}

/// Where the target serves the list of `deps`: the page's own scheme, host and port.
fn list_url(page: &Url, deps: &str) -> String {
    let mut url = page.clone();
    url.path = format!("{DEPS_PATH_PREFIX}{deps}");
    url.to_url_string()
}

/// The list of `deps`, read from the target (at most [`MAX_DEPS_LIST_BYTES`]) and checked
/// against its digest; why not, in words. Only a value that is a digest is put in a URL.
fn fetch_list(client: &Client, page: &Url, deps: &str) -> Result<DepsList, String> {
    if !is_digest(deps) {
        return Err("the deps label is not a digest".into());
    }
    let url = Url::parse(&list_url(page, deps)).map_err(|e| e.to_string())?;
    let response = client
        .get_limited(&url, DEPS_LIST_CONTENT_TYPE, MAX_DEPS_LIST_BYTES as u64)
        .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("HTTP {}", response.status));
    }
    DepsList::verify(deps, &response.body, MAX_DEPS_LIST_BYTES).map_err(|e| e.to_string())
}

/// The families a page is read for.
fn is_ours(name: &str) -> bool {
    name == RUST_MOD_INFO || name.ends_with("_build_info") || name == RUST_PROCESS_INFO
}

/// The exporter's processes: one series per program, revision, executable and state, its
/// value the number of processes.
const RUST_PROCESS_INFO: &str = "rust_process_info";

/// The observations one page holds: its `rust_mod_info` series (whatever their value, an
/// info series counts only while positive), joined with the `<program>_build_info` series of
/// their program, for the instance `instance` (`host:port`) read from `origin` (the URL as
/// shown). A page without our series is an empty answer. Samples of ours too large to read
/// (see [`exposition::Skipped`]) are left out.
///
/// # Errors
///
/// A malformed series of ours, or a page that is no exposition (see [`exposition::parse`]).
#[cfg(any(test, feature = "test-util"))]
pub fn page_observations(
    body: &[u8],
    content_type: Option<&str>,
    instance: &str,
    origin: &str,
) -> Result<Vec<Observation>, ExpositionError> {
    let mut page = PageReader::new(instance, origin.to_owned());
    exposition::parse(
        body,
        Format::from_content_type(content_type),
        is_ours,
        |s| {
            page.sample(&s);
        },
    )?;
    Ok(page.finish())
}

/// What a page gave so far: observations, and (in the builder) build_info series to join
/// them with; the programs that publish a digest only.
struct PageReader {
    instance: String,
    origin: String,
    observations: Vec<Observation>,
    builder: ObservationBuilder,
    /// Whether a series of ours was seen (whatever its value).
    ours: bool,
    /// The `rust_build_info` series in another layout than `full`, with a digest.
    listed: Vec<Listed>,
    /// Processes by program, version, revision and state (`rust_process_info`).
    processes: BTreeMap<(String, Option<String>, Option<String>, String), usize>,
}

/// A program of the page answered from its dependency list.
#[derive(Debug, Clone)]
struct Listed {
    program: String,
    deps: String,
    version: Option<String>,
    revision: Option<String>,
}

impl PageReader {
    fn new(instance: &str, origin: String) -> PageReader {
        PageReader {
            instance: instance.to_owned(),
            origin,
            observations: Vec::new(),
            builder: ObservationBuilder::default(),
            ours: false,
            listed: Vec::new(),
            processes: BTreeMap::new(),
        }
    }

    /// The processes by state the page's `rust_process_info` counted.
    fn processes(&self) -> Vec<ProcessCount> {
        self.processes
            .iter()
            .map(|((program, version, revision, state), &count)| {
                ProcessCount::new(
                    program,
                    version.as_deref(),
                    revision.as_deref(),
                    state,
                    count,
                )
            })
            .collect()
    }

    /// Whether the page held a series of ours.
    fn ours(&self) -> bool {
        self.ours
    }

    /// The programs answered from their lists; their own `rust_mod_info` series (the `direct`
    /// layout's) are dropped, so that each crate of theirs counts once, from the list.
    fn listed(&mut self) -> Vec<Listed> {
        if !self.listed.is_empty() {
            let programs: BTreeSet<&str> = self.listed.iter().map(|l| l.program.as_str()).collect();
            self.observations
                .retain(|o| !programs.contains(o.runner.program.as_str()));
        }
        std::mem::take(&mut self.listed)
    }

    /// The crates of `list`, as `listed`'s program runs them at this instance.
    fn add_list(&mut self, listed: &Listed, list: &DepsList) {
        let key = (
            Some(self.instance.clone()),
            None,
            format!(
                "{}_build_info",
                build_info_collector::metric_name(&listed.program)
            ),
        );
        self.builder
            .build_info
            .entry(key)
            .or_insert_with(|| (listed.version.clone(), listed.revision.clone()));
        let at = SeenAt {
            instance: Some(&self.instance),
            job: None,
            instances: 1,
            origin: &self.origin,
        };
        for e in list.entries() {
            let labels = ModLabels {
                name: Some(&e.name),
                version: Some(&e.version),
                source: Some(&e.source),
                program: Some(&listed.program),
                direct: Some(if e.direct { "true" } else { "false" }),
            };
            self.observations
                .extend(self.builder.observation_of(&labels, &at));
        }
    }

    fn sample(&mut self, s: &Sample<'_>) {
        if s.name == RUST_MOD_INFO || s.name == RUST_BUILD_INFO || s.label("rustversion").is_some()
        {
            self.ours = true;
        }
        // 0 (or NaN, which compares false) is what a program exports for what it no
        // longer runs.
        if s.value.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return;
        }
        if s.name == RUST_PROCESS_INFO {
            let label = |n: &str| s.label(n).map(Cow::into_owned).filter(|v| !v.is_empty());
            if let (Some(program), Some(state)) = (label("program"), label("state")) {
                let count = super::instance_count(Some(s.value));
                *self
                    .processes
                    .entry((program, label("version"), label("revision"), state))
                    .or_default() += count;
            }
        } else if s.name == RUST_BUILD_INFO {
            let label = |n: &str| s.label(n).map(Cow::into_owned);
            if let Some(deps) = label("deps").filter(|d| !d.is_empty())
                && label("layout").as_deref() != Some("full")
            {
                self.listed.push(Listed {
                    program: label("program").unwrap_or_else(|| buildinfo::UNKNOWN.to_owned()),
                    deps,
                    version: label("version"),
                    revision: label("revision"),
                });
            }
        } else if s.name == RUST_MOD_INFO {
            let mut fields: [Option<Cow<'_, str>>; 5] = Default::default();
            for (k, v) in s.labels() {
                let slot = match k {
                    "name" => 0,
                    "version" => 1,
                    "source" => 2,
                    "program" => 3,
                    "direct" => 4,
                    _ => continue,
                };
                fields[slot] = Some(v);
            }
            let [name, version, source, program, direct] = &fields;
            let labels = ModLabels {
                name: name.as_deref(),
                version: version.as_deref(),
                source: source.as_deref(),
                program: program.as_deref(),
                direct: direct.as_deref(),
            };
            let at = SeenAt {
                instance: Some(&self.instance),
                job: None,
                instances: 1,
                origin: &self.origin,
            };
            self.observations
                .extend(self.builder.observation_of(&labels, &at));
        } else {
            self.builder.build_info.insert(
                (Some(self.instance.clone()), None, s.name.to_owned()),
                (
                    s.label("version").map(Cow::into_owned),
                    s.label("revision").map(Cow::into_owned),
                ),
            );
        }
    }

    fn finish(mut self) -> Vec<Observation> {
        self.builder.join(&mut self.observations);
        self.observations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_asks_as_prometheus_does() {
        assert_eq!(
            ACCEPT,
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        );
    }

    /// A runner made after its program's build_info series is made joined; one made before
    /// is joined at the end; of two series for one program the last counts.
    #[test]
    fn build_info_joins_whatever_its_place_on_the_page() {
        let page = "a_build_info{version=\"1\",revision=\"r1\"} 1\n\
                    rust_mod_info{name=\"x\",program=\"a\",version=\"1.0.0\"} 1\n\
                    rust_mod_info{name=\"x\",program=\"b\",version=\"1.0.0\"} 1\n\
                    rust_mod_info{name=\"y\",program=\"c\",version=\"1.0.0\"} 1\n\
                    b_build_info{version=\"2\",revision=\"r2\"} 1\n\
                    rust_mod_info{name=\"y\",program=\"b\",version=\"1.0.0\"} 1\n\
                    a_build_info{version=\"3\",revision=\"r3\"} 1\n";
        let o = page_observations(page.as_bytes(), None, "h:1", "u").unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = o
            .iter()
            .map(|o| {
                (
                    o.runner.program.as_str(),
                    o.runner.program_version.as_deref(),
                    o.runner.revision.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", Some("3"), Some("r3")),
                ("b", Some("2"), Some("r2")),
                ("c", None, None),
                ("b", Some("2"), Some("r2")),
            ]
        );
        // One runner per program, shared by its observations.
        assert!(std::sync::Arc::ptr_eq(&o[1].runner, &o[3].runner));
    }
}
