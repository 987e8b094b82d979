//! One round of the online catalog: which digests does the fleet carry that the cache lacks,
//! and which targets may hold their lists.
//!
//! The digests come from `group by (deps, instance, job) (rust_build_info)`. A digest's
//! candidates are the active targets of Prometheus' own target list whose `instance` and
//! `job` labels equal those of a series carrying it; the list is fetched from the scheme,
//! host and port of the target's `scrapeUrl`, never from an address a label value names
//! (instances control their labels). Each document is verified against the digest it was
//! asked for before it is kept: a target that serves anything else is refused in one line,
//! and the next candidate is tried.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use build_info_collector::{DEPS_PATH_PREFIX, DepsList, MAX_DEPS_LIST_BYTES, is_digest};

use super::cache::{Cache, MAX_LISTS};
use super::targets::{Health, MAX_TARGETS_BYTES, parse_targets};
use crate::sources::http::{Client, HttpError, HttpOptions, Url, shown_url};
use crate::sources::prometheus_api;

/// The query that gives every digest the fleet carries, with who carries it.
pub const DIGESTS_QUERY: &str = "group by (deps, instance, job) (rust_build_info)";

/// The most targets asked for one digest in one round.
pub const MAX_CANDIDATES: usize = 3;

/// The most lists asked for in one round.
pub const MAX_FETCHES_PER_ROUND: usize = 256;

/// The most lists asked of one target in one round: a target that names many digests it
/// does not serve costs a bounded number of requests.
pub const MAX_FETCHES_PER_TARGET: usize = 16;

/// The most (instance, job) pairs kept per digest in one round: enough to find a few
/// candidates, bounded whatever the fleet's size.
const MAX_CARRIERS: usize = 64;

/// Where the catalog looks, and what it knows.
pub struct Watcher {
    prometheus: String,
    prometheus_client: Box<dyn Fn() -> Result<Client, String> + Send>,
    target_options: HttpOptions,
    /// The lists known.
    pub cache: Cache,
    /// Digests seen in Prometheus in the last round that answered, still without a list.
    pub unresolved: usize,
    /// Documents refused since start-up.
    pub refused_total: u64,
    /// Rounds in which each unresolved digest was asked for.
    tries: BTreeMap<String, u32>,
    /// Unresolved digests already said to have no target.
    said_no_target: BTreeSet<String>,
}

/// The active targets by (instance, job) labels: their health and the origin
/// (`scheme://host:port`) of their scrape URL.
type Candidates = BTreeMap<(String, String), Vec<(Health, String)>>;

/// How one fetch went wrong.
enum Failed {
    /// The target answered something that is not the list asked for.
    Refused(String),
    /// No usable answer (network, status): tried again next round.
    Unavailable(String),
}

impl Watcher {
    /// Watches the Prometheus API at `prometheus` through a client `prometheus_client` makes
    /// afresh each round (its byte budget then counts one round; secrets files are read
    /// again, as Prometheus does). Lists are fetched from targets within `target_timeout`,
    /// by a client of their own with no credentials and no headers: those are Prometheus',
    /// and would otherwise go to every target.
    ///
    /// # Errors
    ///
    /// `prometheus` is not an `http://` or `https://` URL.
    pub fn new(
        prometheus: String,
        prometheus_client: Box<dyn Fn() -> Result<Client, String> + Send>,
        target_timeout: Duration,
        cache: Cache,
    ) -> Result<Watcher, String> {
        Url::parse(&prometheus).map_err(|e| format!("--prometheus: {e}"))?;
        let target_options = HttpOptions {
            timeout: target_timeout,
            max_body: MAX_DEPS_LIST_BYTES as u64,
            ..HttpOptions::default()
        };
        Ok(Watcher {
            prometheus,
            prometheus_client,
            target_options,
            cache,
            unresolved: 0,
            refused_total: 0,
            tries: BTreeMap::new(),
            said_no_target: BTreeSet::new(),
        })
    }

    /// One round; each line of progress or error goes to `log`. Returns whether a list was
    /// added.
    pub fn round(&mut self, log: &mut dyn FnMut(String)) -> bool {
        let shown = shown_url(&self.prometheus);
        let client = match (self.prometheus_client)() {
            Ok(c) => c,
            Err(e) => {
                log(format!("cannot set up HTTP for {shown}: {e}"));
                return false;
            }
        };
        let mut carriers: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        let mut over = false;
        let cache = &self.cache;
        let answer = prometheus_api::query(
            &client,
            &self.prometheus,
            DIGESTS_QUERY,
            &|_| true,
            &mut |s| {
                let Some(deps) = s.label("deps").filter(|d| is_digest(d)) else {
                    return;
                };
                if cache.contains(deps) {
                    return;
                }
                if carriers.len() >= MAX_LISTS && !carriers.contains_key(deps) {
                    over = true;
                    return;
                }
                let pairs = carriers.entry(deps.to_owned()).or_default();
                if pairs.len() < MAX_CARRIERS {
                    pairs.insert((
                        s.label("instance").unwrap_or_default().to_owned(),
                        s.label("job").unwrap_or_default().to_owned(),
                    ));
                }
            },
        );
        if let Err(e) = answer {
            log(format!(
                "Prometheus {shown} did not answer: {}; serving the {} lists cached",
                crate::printable_line(&e.to_string()),
                self.cache.lists().len()
            ));
            return false;
        }
        if over {
            log(format!(
                "Prometheus {shown} names more than {MAX_LISTS} digests the catalog lacks: the others wait"
            ));
        }
        self.unresolved = carriers.len();
        if carriers.is_empty() {
            return false;
        }
        let targets = match self.targets(&client) {
            Ok(t) => t,
            Err(e) => {
                log(format!("cannot read the target list of {shown}: {e}"));
                return false;
            }
        };
        let lists_client = match Client::new(&self.target_options) {
            Ok(c) => c,
            Err(e) => {
                log(format!("cannot set up HTTP for the targets: {e}"));
                return false;
            }
        };
        let mut added = false;
        // Digests tried least go first: a flood of digests nobody serves cannot starve a new
        // build's list. Each target is asked a bounded number of times per round, and so is
        // the whole round.
        let mut order: Vec<(&String, &BTreeSet<(String, String)>)> = carriers.iter().collect();
        order.sort_by_key(|(d, _)| (self.tries.get(*d).copied().unwrap_or(0), *d));
        let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
        let mut fetches = 0;
        let mut tried = Vec::new();
        for (digest, pairs) in order {
            if self.cache.is_full() {
                log(format!(
                    "the catalog holds {MAX_LISTS} lists: no more are fetched"
                ));
                break;
            }
            if fetches >= MAX_FETCHES_PER_ROUND {
                log(format!(
                    "{MAX_FETCHES_PER_ROUND} lists asked for in this round: the other digests wait for the next"
                ));
                break;
            }
            let mut candidates: Vec<&(Health, String)> = pairs
                .iter()
                .filter_map(|p| targets.get(p))
                .flatten()
                .collect();
            candidates.sort();
            let mut origins = BTreeSet::new();
            candidates.retain(|(_, origin)| origins.insert(origin.as_str()));
            if candidates.is_empty() {
                if self.said_no_target.insert(digest.clone()) {
                    log(format!(
                        "deps {digest}: no active target of Prometheus has the instance and job of its series: unresolved"
                    ));
                }
                continue;
            }
            tried.push(digest.clone());
            let mut asked = 0;
            for (_, origin) in candidates {
                if asked == MAX_CANDIDATES || fetches == MAX_FETCHES_PER_ROUND {
                    break;
                }
                let count = per_target.entry(origin.as_str()).or_insert(0);
                if *count >= MAX_FETCHES_PER_TARGET {
                    continue;
                }
                *count += 1;
                asked += 1;
                fetches += 1;
                match fetch(&lists_client, origin, digest) {
                    Ok(list) => {
                        let crates = list.len();
                        if let Err(e) = self.cache.insert(list) {
                            log(e);
                        }
                        log(format!(
                            "deps {digest}: {crates} crates, from {}",
                            shown_url(origin)
                        ));
                        added = true;
                        break;
                    }
                    Err(Failed::Refused(why)) => {
                        self.refused_total += 1;
                        log(format!(
                            "refused what {} served as the list of deps {digest}: {why}",
                            shown_url(origin)
                        ));
                    }
                    Err(Failed::Unavailable(why)) => log(format!(
                        "no list for deps {digest} from {}: {why}",
                        shown_url(origin)
                    )),
                }
            }
        }
        for digest in tried {
            let n = self.tries.entry(digest).or_insert(0);
            *n = n.saturating_add(1);
        }
        let cache = &self.cache;
        self.tries
            .retain(|d, _| carriers.contains_key(d) && !cache.contains(d));
        self.said_no_target.retain(|d| carriers.contains_key(d));
        self.unresolved = carriers.keys().filter(|d| !self.cache.contains(d)).count();
        added
    }

    /// The active targets Prometheus scrapes, by (instance, job): their health and the
    /// origin (`scheme://host:port`) of their scrape URL. Down targets are left out.
    fn targets(&self, client: &Client) -> Result<Candidates, String> {
        let url = format!(
            "{}/api/v1/targets?state=active",
            self.prometheus.trim_end_matches('/')
        );
        let url = Url::parse(&url).map_err(|e| e.to_string())?;
        let answer = client
            .get_limited(&url, "application/json", MAX_TARGETS_BYTES as u64)
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("HTTP {}", answer.status));
        }
        let parsed = parse_targets(&answer.body).map_err(|e| e.to_string())?;
        let mut out = Candidates::new();
        for t in parsed.targets {
            if t.health == Health::Down {
                continue;
            }
            let Ok(scrape) = Url::parse(&t.scrape_url) else {
                continue;
            };
            let scheme = if scrape.tls { "https" } else { "http" };
            out.entry((t.instance, t.job))
                .or_default()
                .push((t.health, format!("{scheme}://{}", scrape.host_port())));
        }
        Ok(out)
    }
}

/// `GET <origin>/deps/<digest>`, verified.
fn fetch(client: &Client, origin: &str, digest: &str) -> Result<DepsList, Failed> {
    let url = Url::parse(&format!("{origin}{DEPS_PATH_PREFIX}{digest}"))
        .map_err(|e| Failed::Unavailable(e.to_string()))?;
    let answer = match client.get_limited(&url, "text/plain", MAX_DEPS_LIST_BYTES as u64) {
        Ok(a) => a,
        Err(e @ (HttpError::TooLarge(_) | HttpError::InflatesTooLarge(_))) => {
            return Err(Failed::Refused(e.to_string()));
        }
        Err(e) => return Err(Failed::Unavailable(e.to_string())),
    };
    if answer.status != 200 {
        return Err(Failed::Unavailable(format!("HTTP {}", answer.status)));
    }
    DepsList::verify(digest, &answer.body, MAX_DEPS_LIST_BYTES)
        .map_err(|e| Failed::Refused(e.to_string()))
}
