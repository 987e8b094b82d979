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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use build_info_collector::{DEPS_PATH_PREFIX, DepsList, MAX_DEPS_LIST_BYTES, is_digest};

use super::cache::{Cache, MAX_LISTS, Rank, words};
use super::targets::{Health, MAX_TARGETS, MAX_TARGETS_BYTES, parse_targets};
use super::{Figures, MAX_NOTES};
use depinfo_http::{Client, HttpError, HttpOptions, Url, shown_url};

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
    refused_invalid: u64,
    refused_cache_full: u64,
    dropped_retention: u64,
    dropped_evicted: u64,
    /// Rounds in which each unresolved digest was asked for.
    tries: BTreeMap<String, u32>,
    /// Unresolved digests already said to have no target.
    said_no_target: BTreeSet<String>,
    /// Valid lists not held for want of room (refused, or evicted): what they cost. Asked for
    /// again only once they would fit, so that a full cache costs no fetch per round.
    waiting: BTreeMap<String, u64>,
    clock: Box<dyn Fn() -> SystemTime + Send>,
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

/// What one answer of Prometheus says: each digest and who carries it, and how many digests
/// each carrier publishes. Bounded: at most [`MAX_LISTS`] digests the cache lacks (besides
/// those it holds), [`MAX_CARRIERS`] carriers kept per digest, [`MAX_TARGETS`] carriers in
/// all.
#[derive(Default)]
struct Seen {
    /// (instance, job) → its index in `fan_out`.
    carrier_ids: BTreeMap<(String, String), usize>,
    /// Digests each carrier publishes (series of the answer).
    fan_out: Vec<usize>,
    /// Digest → carriers (indices).
    digests: BTreeMap<String, Vec<usize>>,
    /// Digests in `digests` the cache lacks.
    missing: usize,
    /// Some series were left out (a bound was reached).
    over: bool,
}

impl Seen {
    fn add(&mut self, deps: &str, instance: &str, job: &str, cached: bool) {
        let known = self.digests.contains_key(deps);
        if !known && !cached && self.missing >= MAX_LISTS {
            self.over = true;
            return;
        }
        let key = (instance.to_owned(), job.to_owned());
        let carrier = match self.carrier_ids.get(&key) {
            Some(&id) => Some(id),
            None if self.fan_out.len() < MAX_TARGETS => {
                let id = self.fan_out.len();
                self.carrier_ids.insert(key, id);
                self.fan_out.push(0);
                Some(id)
            }
            None => {
                self.over = true;
                None
            }
        };
        if !known && !cached {
            self.missing += 1;
        }
        let carriers = self.digests.entry(deps.to_owned()).or_default();
        if let Some(id) = carrier {
            self.fan_out[id] += 1;
            if carriers.len() < MAX_CARRIERS && !carriers.contains(&id) {
                carriers.push(id);
            }
        }
    }

    /// Each digest's rank: the fewest digests one of its carriers publishes, then how many
    /// carry it.
    fn ranks(&self) -> BTreeMap<&str, Rank> {
        self.digests
            .iter()
            .map(|(d, carriers)| {
                let rank = carriers.iter().map(|&id| self.fan_out[id]).min().map_or(
                    Rank::UNSEEN,
                    |fan_out| Rank {
                        fan_out,
                        carriers: Reverse(carriers.len()),
                    },
                );
                (d.as_str(), rank)
            })
            .collect()
    }

    /// The (instance, job) pairs by index.
    fn pairs(&self) -> Vec<&(String, String)> {
        let mut pairs: Vec<(&(String, String), usize)> =
            self.carrier_ids.iter().map(|(k, &id)| (k, id)).collect();
        pairs.sort_by_key(|&(_, id)| id);
        pairs.into_iter().map(|(k, _)| k).collect()
    }
}

/// Says at most [`MAX_NOTES`] of `lines` through `log`, then how many were not said.
fn log_some(log: &mut dyn FnMut(String), lines: Vec<String>) {
    let more = lines.len().saturating_sub(MAX_NOTES);
    for line in lines.into_iter().take(MAX_NOTES) {
        log(line);
    }
    if more > 0 {
        log(format!("... and {more} more like these"));
    }
}

impl Watcher {
    /// Watches the Prometheus API at `prometheus` through a client `prometheus_client` makes
    /// afresh each round (its byte budget then counts one round; secrets files are read
    /// again, as Prometheus does). Lists are fetched from targets within `target_timeout`,
    /// by a client of their own with no credentials and no headers: those are Prometheus',
    /// and would otherwise go to every target. The clock is the system's
    /// ([`Watcher::with_clock`] changes it).
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
            refused_invalid: 0,
            refused_cache_full: 0,
            dropped_retention: 0,
            dropped_evicted: 0,
            tries: BTreeMap::new(),
            said_no_target: BTreeSet::new(),
            waiting: BTreeMap::new(),
            clock: Box::new(SystemTime::now),
        })
    }

    /// The same watcher with another clock (tests move time without sleeping).
    #[must_use]
    pub fn with_clock(mut self, clock: Box<dyn Fn() -> SystemTime + Send>) -> Watcher {
        self.clock = clock;
        self
    }

    /// The catalog's figures as its page shows them.
    pub fn figures(&self) -> Figures {
        Figures {
            unresolved: self.unresolved,
            refused_invalid: self.refused_invalid,
            refused_cache_full: self.refused_cache_full,
            dropped_retention: self.dropped_retention,
            dropped_evicted: self.dropped_evicted,
            cache_bytes: self.cache.used_bytes(),
            max_cache_bytes: self.cache.bounds().max_bytes,
        }
    }

    /// Drops the lists not seen within the retention, a line each (at most [`MAX_NOTES`]).
    /// Returns whether one was dropped.
    fn expire(&mut self, now: SystemTime, log: &mut dyn FnMut(String)) -> bool {
        let retention = words(self.cache.bounds().retention);
        let gone = self.cache.expire(now);
        self.dropped_retention += gone.len() as u64;
        let lines = gone
            .iter()
            .map(|e| {
                let removal = e
                    .remove_error
                    .as_deref()
                    .map_or_else(String::new, |why| format!(" ({why})"));
                format!(
                    "deps {}: not seen in Prometheus for {}, longer than --retention {retention}: dropped ({} bytes){removal}",
                    e.digest,
                    words(e.unseen),
                    e.cost
                )
            })
            .collect();
        log_some(log, lines);
        !gone.is_empty()
    }

    /// One round; each line of progress or error goes to `log`. Returns whether the lists
    /// held changed (added, evicted or dropped).
    ///
    /// The digests in Prometheus' answer that the cache holds are marked seen; lists unseen
    /// for longer than the retention are dropped (also when Prometheus does not answer: a
    /// list is served only while it was seen within the retention). Then the digests the
    /// cache lacks are asked for, least tried first, then best [`Rank`] first; a list that
    /// would pass the byte cap is stored only if lists of a worse rank can make room.
    pub fn round(&mut self, log: &mut dyn FnMut(String)) -> bool {
        let now = (self.clock)();
        let shown = shown_url(&self.prometheus);
        let client = match (self.prometheus_client)() {
            Ok(c) => c,
            Err(e) => {
                log(format!("cannot set up HTTP for {shown}: {e}"));
                return self.expire(now, log);
            }
        };
        let mut seen = Seen::default();
        let cache = &self.cache;
        let answer = cargo_depinfo::prometheus_query(
            &client,
            &self.prometheus,
            DIGESTS_QUERY,
            &|_| true,
            &mut |s| {
                let Some(deps) = s.label("deps").filter(|d| is_digest(d)) else {
                    return;
                };
                seen.add(
                    deps,
                    s.label("instance").unwrap_or_default(),
                    s.label("job").unwrap_or_default(),
                    cache.contains(deps),
                );
            },
        );
        if let Err(e) = answer {
            log(format!(
                "Prometheus {shown} did not answer: {}; serving the {} lists cached",
                depinfo_read::text_safety::printable_line(&e.to_string()),
                self.cache.len()
            ));
            return self.expire(now, log);
        }
        if seen.over {
            log(format!(
                "Prometheus {shown} names more than {MAX_LISTS} digests the catalog lacks, or more than {MAX_TARGETS} instances: the others wait"
            ));
        }
        // Running lists are seen now; then those not seen within the retention go.
        let mut record_errors = Vec::new();
        for digest in seen.digests.keys() {
            if let Some(e) = self.cache.seen(digest, now) {
                record_errors.push(e);
            }
        }
        if let Some(first) = record_errors.first() {
            log(format!(
                "{first} ({} such errors in this round)",
                record_errors.len()
            ));
        }
        let mut changed = self.expire(now, log);
        let ranks = seen.ranks();
        let rank_of = |d: &str| ranks.get(d).copied().unwrap_or(Rank::UNSEEN);
        let missing: Vec<&String> = seen
            .digests
            .keys()
            .filter(|d| !self.cache.contains(d))
            .collect();
        self.unresolved = missing.len();
        if missing.is_empty() {
            self.tries.clear();
            self.said_no_target.clear();
            self.waiting.clear();
            return changed;
        }
        let targets = match self.targets(&client) {
            Ok(t) => t,
            Err(e) => {
                log(format!("cannot read the target list of {shown}: {e}"));
                return changed;
            }
        };
        let lists_client = match Client::new(&self.target_options) {
            Ok(c) => c,
            Err(e) => {
                log(format!("cannot set up HTTP for the targets: {e}"));
                return changed;
            }
        };
        let pairs = seen.pairs();
        // Digests tried least go first: a flood of digests nobody serves cannot starve a new
        // build's list; among equals, the best ranked. Each target is asked a bounded number
        // of times per round, and so is the whole round.
        let mut order: Vec<(&String, Rank)> = missing.iter().map(|d| (*d, rank_of(d))).collect();
        order.sort_by_key(|&(d, rank)| (self.tries.get(d).copied().unwrap_or(0), rank, d));
        let mut per_target: BTreeMap<&str, usize> = BTreeMap::new();
        let mut fetches = 0;
        let mut tried = Vec::new();
        let mut evicted_lines = Vec::new();
        let mut room: BTreeMap<Rank, u64> = BTreeMap::new();
        let mut room_generation = self.cache.generation();
        for (digest, rank) in order {
            if fetches >= MAX_FETCHES_PER_ROUND {
                log(format!(
                    "{MAX_FETCHES_PER_ROUND} lists asked for in this round: the other digests wait for the next"
                ));
                break;
            }
            // A list refused for want of room waits until it would fit. The room lists of a
            // worse rank could make is kept per rank until the cache changes: up to
            // MAX_LISTS digests wait, and each answer looks at every list held.
            if let Some(&cost) = self.waiting.get(digest.as_str()) {
                if room_generation != self.cache.generation() {
                    room.clear();
                    room_generation = self.cache.generation();
                }
                let free = self.cache.free();
                let fits = cost <= free
                    || cost
                        <= free.saturating_add(
                            *room
                                .entry(rank)
                                .or_insert_with(|| self.cache.evictable(rank, &rank_of)),
                        );
                if !fits {
                    continue;
                }
            }
            let mut candidates: Vec<&(Health, String)> = seen.digests[digest.as_str()]
                .iter()
                .filter_map(|&id| targets.get(pairs[id]))
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
                        match self.cache.insert(list, rank, now, &rank_of) {
                            Ok(stored) => {
                                self.waiting.remove(digest.as_str());
                                for (gone, cost) in stored.evicted {
                                    self.dropped_evicted += 1;
                                    evicted_lines.push(format!(
                                        "deps {gone}: dropped ({cost} bytes) to make room for deps {digest}, carried by a target that publishes fewer digests"
                                    ));
                                    self.waiting.insert(gone, cost);
                                }
                                if let Some(e) = stored.write_error {
                                    log(e);
                                }
                                log(format!(
                                    "deps {digest}: {crates} crates, from {}",
                                    shown_url(origin)
                                ));
                                changed = true;
                            }
                            Err(full) => {
                                self.refused_cache_full += 1;
                                self.waiting.insert(digest.clone(), full.cost);
                                log(format!(
                                    "deps {digest}: the list {} serves ({} bytes with its page lines) would pass --max-cache-mib ({} of {} bytes held, none ranked below it): not kept",
                                    shown_url(origin),
                                    full.cost,
                                    full.used,
                                    self.cache.bounds().max_bytes
                                ));
                            }
                        }
                        break;
                    }
                    Err(Failed::Refused(why)) => {
                        self.refused_invalid += 1;
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
        log_some(log, evicted_lines);
        for digest in tried {
            let n = self.tries.entry(digest).or_insert(0);
            *n = n.saturating_add(1);
        }
        let cache = &self.cache;
        let keep = |d: &String| seen.digests.contains_key(d) && !cache.contains(d);
        self.tries.retain(|d, _| keep(d));
        self.said_no_target.retain(|d| keep(d));
        self.waiting.retain(|d, _| keep(d));
        self.unresolved = seen
            .digests
            .keys()
            .filter(|d| !self.cache.contains(d))
            .count();
        changed
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex, PoisonError};

    use build_info_collector::DepsEntry;
    use serde_json::json;
    use testkit::{Reply, Server, fake_instance};

    use super::super::{Bounds, cost};
    use super::*;

    /// A valid list of `crates` crates named after `name`.
    fn made_up(name: &str, crates: usize) -> DepsList {
        DepsList::from_entries((0..crates).map(|i| DepsEntry {
            name: format!("{name}-{i:03}").into(),
            version: "1.0.0".into(),
            source: "crates.io".into(),
            direct: false,
        }))
    }

    /// A Prometheus API answering `rust_build_info`'s digests from `series` (deps, instance)
    /// and listing `targets` (instance addresses) as active, healthy targets of job `fleet`.
    fn prometheus(series: Arc<Mutex<Vec<(String, String)>>>, targets: Vec<String>) -> Server {
        Server::start(move |path| {
            let body = if path.starts_with("/api/v1/query") {
                let result: Vec<serde_json::Value> = series
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .map(|(deps, instance)| {
                        json!({"metric": {"deps": deps, "instance": instance, "job": "fleet"},
                               "value": [1_763_770_000.0, "1"]})
                    })
                    .collect();
                json!({"status": "success", "data": {"resultType": "vector", "result": result}})
            } else if path.starts_with("/api/v1/targets") {
                let active: Vec<serde_json::Value> = targets
                    .iter()
                    .map(|t| {
                        json!({"labels": {"instance": t, "job": "fleet"},
                               "scrapeUrl": format!("http://{t}/metrics"), "health": "up"})
                    })
                    .collect();
                json!({"status": "success", "data": {"activeTargets": active, "droppedTargets": []}})
            } else {
                return Reply::not_found();
            };
            Reply::ok("application/json", body.to_string())
        })
    }

    fn serving(lists: &[&DepsList]) -> Vec<(String, Vec<u8>)> {
        lists
            .iter()
            .map(|l| (l.digest().to_owned(), l.text().as_bytes().to_vec()))
            .collect()
    }

    /// How many lists a fake instance was asked for.
    fn list_requests(server: &Server) -> usize {
        server
            .requests()
            .iter()
            .filter(|r| r.starts_with("/deps/"))
            .count()
    }

    #[test]
    fn a_target_making_up_lists_cannot_keep_honest_lists_out_and_unseen_lists_go() {
        let hostile_lists: Vec<DepsList> = (0..30)
            .map(|i| made_up(&format!("evil{i:02}"), 30))
            .collect();
        let old = made_up("oldapp", 30);
        let new = made_up("newapp", 50);
        let one = cost(&hostile_lists[0]);
        let max = 5 * one + one / 2;
        let hostile_refs: Vec<&DepsList> = hostile_lists.iter().collect();
        let (hostile_listener, honest_listener) = (
            TcpListener::bind("127.0.0.1:0").unwrap(),
            TcpListener::bind("127.0.0.1:0").unwrap(),
        );
        let hostile_at = hostile_listener.local_addr().unwrap().to_string();
        let honest_at = honest_listener.local_addr().unwrap().to_string();
        let hostile = fake_instance(hostile_listener, String::new(), serving(&hostile_refs));
        let honest = fake_instance(honest_listener, String::new(), serving(&[&old, &new]));
        let series = Arc::new(Mutex::new(Vec::new()));
        let set_series = |honest_list: Option<&DepsList>, with_hostile: bool| {
            let mut s = series.lock().unwrap();
            s.clear();
            s.extend(honest_list.map(|l| (l.digest().to_owned(), honest_at.clone())));
            if with_hostile {
                s.extend(
                    hostile_lists
                        .iter()
                        .map(|l| (l.digest().to_owned(), hostile_at.clone())),
                );
            }
        };
        let prom = prometheus(
            Arc::clone(&series),
            vec![hostile_at.clone(), honest_at.clone()],
        );
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let now = Arc::new(Mutex::new(t0));
        let clock = Arc::clone(&now);
        let day = Duration::from_secs(86_400);
        let mut watcher = Watcher::new(
            prom.url(""),
            Box::new(|| Client::new(&HttpOptions::default()).map_err(|e| e.to_string())),
            Duration::from_secs(5),
            Cache::in_memory_with(Bounds::new(max, day)),
        )
        .unwrap()
        .with_clock(Box::new(move || *clock.lock().unwrap()));
        let mut lines = Vec::new();
        let round = |w: &mut Watcher, lines: &mut Vec<String>| {
            let mut log = |l: String| lines.push(l);
            w.round(&mut log)
        };

        // The honest instance and a target publishing 30 made-up digests, all valid lists.
        set_series(Some(&old), true);
        assert!(round(&mut watcher, &mut lines));
        // The honest list first (its target publishes one digest), then the made-up ones
        // until the cap; 16 asked of the hostile target in one round, the rest in the next.
        assert!(watcher.cache.contains(old.digest()));
        assert_eq!(list_requests(&hostile), MAX_FETCHES_PER_TARGET);
        round(&mut watcher, &mut lines);
        assert_eq!(list_requests(&hostile), 30);
        let kept = usize::try_from((max - cost(&old)) / one).unwrap();
        assert_eq!(watcher.cache.len(), 1 + kept);
        assert!(watcher.cache.used_bytes() <= max);
        let figures = watcher.figures();
        assert_eq!(figures.refused_cache_full, (30 - kept) as u64);
        assert_eq!(
            (figures.refused_invalid, figures.unresolved),
            (0, 30 - kept)
        );
        let refusals: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("would pass --max-cache-mib"))
            .collect();
        assert_eq!(refusals.len(), 30 - kept);
        assert!(
            refusals
                .iter()
                .all(|l| l.contains(&hostile_at) && !l.contains('\n')),
            "{refusals:#?}"
        );
        // A full cache costs no fetch: refused lists wait until they would fit.
        assert!(!round(&mut watcher, &mut lines));
        assert_eq!(list_requests(&hostile), 30);

        // The honest instance moves to a new build: the retired list (no longer seen) makes
        // room first, then made-up lists; nothing made up is asked for again.
        *now.lock().unwrap() = t0 + Duration::from_secs(3600);
        set_series(Some(&new), true);
        assert!(round(&mut watcher, &mut lines));
        assert!(watcher.cache.contains(new.digest()) && !watcher.cache.contains(old.digest()));
        assert!(watcher.cache.used_bytes() <= max);
        let evicted = watcher.figures().dropped_evicted;
        assert!(evicted >= 2, "{lines:#?}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains(old.digest()) && l.contains("to make room for deps")),
            "{lines:#?}"
        );
        round(&mut watcher, &mut lines);
        assert_eq!(list_requests(&hostile), 30);
        assert_eq!(list_requests(&honest), 2);

        // The hostile target goes: its lists stay until the retention has passed since they
        // were last seen, then go, a line each.
        set_series(Some(&new), false);
        *now.lock().unwrap() = t0 + Duration::from_secs(3600) + day;
        assert!(!round(&mut watcher, &mut lines));
        let held = watcher.cache.len();
        assert!(held > 1);
        *now.lock().unwrap() = t0 + Duration::from_secs(3601) + day;
        assert!(round(&mut watcher, &mut lines));
        assert_eq!(
            watcher.cache.lists().collect::<Vec<_>>(),
            [&new],
            "{lines:#?}"
        );
        let figures = watcher.figures();
        assert_eq!(figures.dropped_retention, (held - 1) as u64);
        assert_eq!(figures.unresolved, 0);
        assert_eq!(figures.cache_bytes, cost(&new));
        let dropped: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("longer than --retention 1d: dropped"))
            .collect();
        assert_eq!(dropped.len(), held - 1, "{lines:#?}");
        assert!(
            dropped
                .iter()
                .all(|l| l.contains("not seen in Prometheus for 1d1s"))
        );
    }
}
