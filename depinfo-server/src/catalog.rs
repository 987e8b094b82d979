//! `depinfo-catalog`: `rust_deps_info{deps,direct,name,source,version} 1`, one series
//! per crate per distinct dependency list, served once for a whole fleet whose instances
//! publish only `rust_build_info{deps="<digest>"}`.
//!
//! - Online ([`run`]): every interval, [`Watcher::round`] asks Prometheus which digests the
//!   fleet carries, fetches each list the [`Cache`] lacks from a target Prometheus itself
//!   scrapes, verifies it against its digest and keeps it on disk; [`serve()`] hands out the
//!   page ([`catalog_page`]) and the lists (`/deps/<digest>`).
//! - Offline: [`deps_page`] over the lists of binaries read from disk, for node_exporter's
//!   textfile collector ([`write_atomically`]) or served.
//!
//! [`parse_targets`] reads Prometheus' target list, the only source of addresses.
//!
//! A fleet member controls its `deps` values and the documents it serves, so the [`Cache`] is
//! bounded in bytes ([`cost`]: a list's document and its page lines, `--max-cache-mib`), in
//! time (a list goes once unseen in Prometheus for `--retention`) and in count
//! ([`MAX_LISTS`]); when full, a list of a better [`Rank`] takes the room of worse ones.

mod cache;
mod serve;
mod targets;
mod watch;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use build_info_collector::{DepsList, Family, render, rust_deps_info_family};
use bytes::Bytes;

pub use self::cache::{
    Bounds, Cache, DEFAULT_MAX_CACHE_BYTES, DEFAULT_RETENTION, Expired, Full, MAX_LISTS, Rank,
    Stored, cost, series_text, write_atomically,
};
pub use self::serve::{ServeOptions, Served, Shared, serve};
pub use self::targets::{
    Health, MAX_TARGET_FIELD, MAX_TARGETS, MAX_TARGETS_BYTES, Target, Targets, TargetsError,
    parse_targets,
};
pub use self::watch::{
    DIGESTS_QUERY, MAX_CANDIDATES, MAX_FETCHES_PER_ROUND, MAX_FETCHES_PER_TARGET, Watcher,
};

/// Lists served by the catalog.
pub const LISTS: &str = "cargo_depinfo_catalog_lists";
/// Digests seen in Prometheus that the catalog has no list for yet.
pub const UNRESOLVED: &str = "cargo_depinfo_catalog_unresolved";
/// Lists refused since start-up, by `reason`: `invalid` (not the document its digest names:
/// a digest that did not match, a malformed or oversized list) or `cache_full` (valid, but
/// past `--max-cache-mib`).
pub const REFUSED_TOTAL: &str = "cargo_depinfo_catalog_refused_total";
/// Lists dropped since start-up, by `reason`: `retention` (not seen in Prometheus within
/// `--retention`) or `evicted` (to make room for a list of a better [`Rank`]).
pub const DROPPED_TOTAL: &str = "cargo_depinfo_catalog_dropped_total";
/// What the lists held cost ([`cost`]): their documents and their lines on the page.
pub const CACHE_BYTES: &str = "cargo_depinfo_catalog_cache_bytes";
/// The bound on [`CACHE_BYTES`] (`--max-cache-mib`).
pub const CACHE_MAX_BYTES: &str = "cargo_depinfo_catalog_cache_max_bytes";

/// The online catalog's own figures, as its page shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Figures {
    /// Digests seen in Prometheus' last answer without a list.
    pub unresolved: usize,
    /// Documents refused: not the list their digest names.
    pub refused_invalid: u64,
    /// Valid lists not stored: past the byte cap.
    pub refused_cache_full: u64,
    /// Lists dropped: not seen within the retention.
    pub dropped_retention: u64,
    /// Lists dropped to make room for a list of a better rank.
    pub dropped_evicted: u64,
    /// What the lists held cost.
    pub cache_bytes: u64,
    /// The bound on `cache_bytes`.
    pub max_cache_bytes: u64,
}

/// The HELP and TYPE lines of `rust_deps_info`, which start every page.
fn deps_header() -> &'static str {
    static HEADER: OnceLock<String> = OnceLock::new();
    HEADER.get_or_init(|| rendered(&[rust_deps_info_family()]))
}

/// The `rust_deps_info` page of `lists`: one series per crate per list, sorted (by digest,
/// then by the other labels), each list once. Rendered list by list, so that building it
/// takes the page and one list's samples, never every list's at once.
pub fn deps_page<'a>(lists: impl IntoIterator<Item = &'a DepsList>) -> String {
    let mut lists: Vec<&DepsList> = lists.into_iter().collect();
    lists.sort_by(|a, b| a.digest().cmp(b.digest()));
    lists.dedup_by(|a, b| a.digest() == b.digest());
    let mut out = String::from(deps_header());
    for list in lists {
        out.push_str(&series_text(list));
    }
    out
}

/// The online catalog's page: [`deps_page`] and the catalog's own figures.
pub fn catalog_page<'a>(
    lists: impl IntoIterator<Item = &'a DepsList>,
    figures: &Figures,
) -> String {
    let lists: Vec<&DepsList> = lists.into_iter().collect();
    let mut out = deps_page(lists.iter().copied());
    let gauge = |name: &'static str, help: &'static str, value: u64| {
        let mut f = Family::gauge(name, help);
        f.push(std::iter::empty::<(&str, &str)>(), value);
        f
    };
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    out.push_str(&rendered(&[
        gauge(
            LISTS,
            "Dependency lists the catalog serves.",
            count(lists.len()),
        ),
        gauge(
            UNRESOLVED,
            "Digests of rust_build_info in Prometheus that the catalog has no list for yet.",
            count(figures.unresolved),
        ),
        gauge(
            CACHE_BYTES,
            "Bytes the lists held cost: their documents and their rust_deps_info lines.",
            figures.cache_bytes,
        ),
        gauge(
            CACHE_MAX_BYTES,
            "The bound on cargo_depinfo_catalog_cache_bytes (--max-cache-mib).",
            figures.max_cache_bytes,
        ),
    ]));
    // Counters: the family writer knows gauges only.
    let _ = write!(
        out,
        "# HELP {REFUSED_TOTAL} Dependency lists refused since start-up: invalid (not the document their digest names) or cache_full (past --max-cache-mib).\n# TYPE {REFUSED_TOTAL} counter\n{REFUSED_TOTAL}{{reason=\"cache_full\"}} {}\n{REFUSED_TOTAL}{{reason=\"invalid\"}} {}\n",
        figures.refused_cache_full, figures.refused_invalid
    );
    let _ = write!(
        out,
        "# HELP {DROPPED_TOTAL} Dependency lists dropped since start-up: evicted (for a list of a better rank) or retention (not seen within --retention).\n# TYPE {DROPPED_TOTAL} counter\n{DROPPED_TOTAL}{{reason=\"evicted\"}} {}\n{DROPPED_TOTAL}{{reason=\"retention\"}} {}\n",
        figures.dropped_evicted, figures.dropped_retention
    );
    out
}

/// The families as text; the catalog's names and labels are valid, so this never fails in
/// practice (an error would give an empty page rather than a panic).
fn rendered(families: &[Family<'_>]) -> String {
    render(families).unwrap_or_default()
}

/// The units of a duration, largest first, in milliseconds (a year is 365 days, as
/// Prometheus counts it).
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400_000),
    ("w", 7 * 86_400_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1000),
    ("ms", 1),
];

/// Parses a duration as Prometheus writes them: numbers each followed by a unit (`y`, `w`,
/// `d`, `h`, `m`, `s`, `ms`), largest unit first, each at most once (`30s`, `1h30m`, `7d`,
/// `500ms`), or a bare number of seconds; within `min..=max`. `what` names the flag and the
/// range in the error.
fn parse_duration(
    flag: &str,
    text: &str,
    (min, max): (Duration, Duration),
    examples: &str,
) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{flag} {}: expected a duration such as {examples}",
            depinfo_read::text_safety::quoted(&depinfo_read::text_safety::shortened(text, 40))
        )
    };
    let millis = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().ok().and_then(|n| n.checked_mul(1000))
    } else {
        let mut rest = text;
        let mut total: u64 = 0;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let letters = rest
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(rest.len());
            let unit = &rest[..letters];
            rest = &rest[letters..];
            let at = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(bad)?;
            next_unit += at + 1;
            total = n
                .checked_mul(UNITS[next_unit - 1].1)
                .and_then(|ms| total.checked_add(ms))
                .ok_or_else(bad)?;
        }
        (!text.is_empty()).then_some(total)
    }
    .ok_or_else(bad)?;
    let d = Duration::from_millis(millis);
    if d < min || d > max {
        return Err(bad());
    }
    Ok(d)
}

/// Parses `--interval`: a duration in Prometheus' syntax (`30s`, `1m`, `500ms`, `1m30s`, or a
/// bare number of seconds) from 100 ms to one day.
///
/// # Errors
///
/// One line quoting the value.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    parse_duration(
        "--interval",
        text,
        (Duration::from_millis(100), Duration::from_secs(86_400)),
        "30s, 1m or 500ms, from 100ms to 24h",
    )
}

/// Parses `--retention`: a duration (`7d`, `2w`, `12h`, `1h30m`, or a bare number of
/// seconds) from one second to ten years.
///
/// # Errors
///
/// One line quoting the value.
pub fn parse_retention(text: &str) -> Result<Duration, String> {
    parse_duration(
        "--retention",
        text,
        (Duration::from_secs(1), Duration::from_secs(3650 * 86_400)),
        "7d, 2w or 12h, from 1s to 10y",
    )
}

/// The default cache directory: `$XDG_CACHE_HOME/cargo-depinfo/catalog`, else
/// `$HOME/.cache/cargo-depinfo/catalog` (relative values are ignored, as the XDG base
/// directory specification says).
pub fn default_cache_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|h| h.join(".cache")))
        .map(|c| c.join("cargo-depinfo").join("catalog"))
}

/// How the online catalog runs.
#[non_exhaustive]
pub struct Options {
    /// Asks Prometheus and fetches lists.
    pub watcher: Watcher,
    /// Time between the start of one round and the next.
    pub interval: Duration,
    /// How it serves.
    pub serve: ServeOptions,
}

impl Options {
    /// Rounds of `watcher` every `interval`, served as `serve` says.
    pub fn new(watcher: Watcher, interval: Duration, serve: ServeOptions) -> Options {
        Options {
            watcher,
            interval,
            serve,
        }
    }
}

/// Every line the catalog says on stderr.
fn say(line: &str) {
    eprintln!(
        "cargo-depinfo catalog: {}",
        depinfo_read::text_safety::printable_line(line)
    );
}

/// A list's document as served: the cache's own copy, shared, never a second one.
struct SharedText(Arc<DepsList>);

impl AsRef<[u8]> for SharedText {
    fn as_ref(&self) -> &[u8] {
        self.0.text().as_bytes()
    }
}

/// What `watcher` knows, as served: the page, and each list's document shared with the
/// cache.
fn snapshot(watcher: &Watcher) -> Arc<Served> {
    Arc::new(Served {
        metrics: Bytes::from(catalog_page(watcher.cache.lists(), &watcher.figures())),
        lists: watcher
            .cache
            .shared()
            .map(|l| {
                (
                    l.digest().to_owned(),
                    Bytes::from_owner(SharedText(Arc::clone(l))),
                )
            })
            .collect(),
    })
}

/// Serves what the cache holds at once, then runs a round at once and every interval in a
/// thread, until SIGTERM or SIGINT. Progress and errors are lines on stderr.
///
/// # Errors
///
/// The server could not start (one line).
pub fn run(options: Options, on_listening: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let Options {
        mut watcher,
        interval,
        serve: serve_options,
    } = options;
    let shared: Shared = Arc::new(Mutex::new(snapshot(&watcher)));
    let (stop, stopped) = channel::<()>();
    let rounds = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("catalog".into())
        .spawn(move || {
            let mut next = Instant::now();
            loop {
                match stopped.recv_timeout(next.saturating_duration_since(Instant::now())) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                next = Instant::now() + interval;
                let before = watcher.figures();
                let changed = watcher.round(&mut |line| say(&line));
                if changed || before != watcher.figures() {
                    // The old page goes as soon as no answer holds it any more.
                    let served = snapshot(&watcher);
                    *rounds.lock().unwrap_or_else(PoisonError::into_inner) = served;
                }
            }
        })
        .map_err(|e| format!("cannot start the catalog's rounds: {e}"))?;
    let result = serve(&serve_options, &shared, on_listening);
    let _ = stop.send(());
    result
}

/// Serves a fixed set of lists (the offline catalog with `--listen`) until SIGTERM or SIGINT.
///
/// # Errors
///
/// The server could not start (one line).
pub fn serve_lists<'a>(
    lists: impl IntoIterator<Item = &'a DepsList>,
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let lists: Vec<&DepsList> = lists.into_iter().collect();
    let served = Served {
        metrics: Bytes::from(deps_page(lists.iter().copied())),
        lists: lists
            .iter()
            .map(|l| (l.digest().to_owned(), Bytes::from(l.text().to_owned())))
            .collect(),
    };
    serve(
        options,
        &Arc::new(Mutex::new(Arc::new(served))),
        on_listening,
    )
}

/// Opens the cache in `dir` within `bounds` at `now`, saying each file it skips or removes on
/// stderr (at most [`MAX_NOTES`] lines, then their number).
///
/// # Errors
///
/// The directory cannot be created or listed.
pub fn open_cache(dir: &Path, bounds: Bounds, now: SystemTime) -> Result<Cache, String> {
    let (cache, notes) = Cache::open(dir, bounds, now)?;
    say_some(&notes);
    say(&format!(
        "{} lists loaded from {} ({} of {} bytes)",
        cache.len(),
        dir.display(),
        cache.used_bytes(),
        bounds.max_bytes
    ));
    Ok(cache)
}

/// The most lines of one kind said at once (files skipped at start-up, lists dropped in a
/// round): past it, one line says how many more.
pub const MAX_NOTES: usize = 20;

/// Says at most [`MAX_NOTES`] of `lines`, then how many were not said.
fn say_some(lines: &[String]) {
    for line in lines.iter().take(MAX_NOTES) {
        say(line);
    }
    if lines.len() > MAX_NOTES {
        say(&format!(
            "... and {} more like these",
            lines.len() - MAX_NOTES
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use build_info_collector::DepsEntry;

    #[test]
    fn intervals_take_prometheus_units() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_interval("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "",
            "s",
            "0s",
            "99ms",
            "25h",
            "2d",
            "-1s",
            "1.5s",
            "1x",
            "30s1m",
            "1m1m",
            "1m 30s",
            "99999999999999999999h",
            "999999999999y",
        ] {
            let e = parse_interval(bad).unwrap_err();
            assert!(e.starts_with("--interval "), "{bad}: {e}");
            assert!(e.contains("from 100ms to 24h"), "{bad}: {e}");
        }
    }

    #[test]
    fn retention_takes_prometheus_units_up_to_ten_years() {
        let day = Duration::from_secs(86_400);
        assert_eq!(parse_retention("7d"), Ok(7 * day));
        assert_eq!(parse_retention("2w"), Ok(14 * day));
        assert_eq!(parse_retention("1y"), Ok(365 * day));
        assert_eq!(parse_retention("1w2d12h"), Ok(9 * day + day / 2));
        assert_eq!(parse_retention("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_retention("3600"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_retention("10y"), Ok(3650 * day));
        for bad in ["", "500ms", "0s", "11y", "7days", "1d1w", "d", "7D"] {
            let e = parse_retention(bad).unwrap_err();
            assert!(e.starts_with("--retention "), "{bad}: {e}");
            assert!(!e.contains('\n'), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(512))]
        /// Any text is a duration in range or one line naming the flag; never a panic.
        #[test]
        fn any_duration_text_is_read_or_refused_in_one_line(text in "[0-9a-z ]{0,12}|.{0,12}") {
            match parse_retention(&text) {
                Ok(d) => proptest::prop_assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(3650 * 86_400)),
                Err(e) => proptest::prop_assert!(e.starts_with("--retention ") && !e.contains('\n')),
            }
        }
    }

    /// The page as the catalog rendered it before it went list by list: one family of every
    /// list's samples, sorted whole.
    fn page_in_one_family(lists: &[&DepsList]) -> String {
        let mut family = rust_deps_info_family();
        for list in lists {
            for entry in list.entries() {
                family.push(
                    build_info_collector::rust_deps_info_pairs(list.digest(), &entry),
                    1,
                );
            }
        }
        family.sort_series();
        rendered(&[family])
    }

    #[test]
    fn the_page_rendered_list_by_list_is_the_page_of_one_family_and_costs_what_the_lists_say() {
        let entry = |name: String, version: &str, source: &'static str, direct| DepsEntry {
            name: name.into(),
            version: version.to_owned().into(),
            source: source.into(),
            direct,
        };
        let lists: Vec<DepsList> = (0..12)
            .map(|i| {
                DepsList::from_entries((0..=i * 3).map(|c| {
                    entry(
                        format!("crate-{}", (c * 7 + i) % 11),
                        ["1.0.0", "0.2.3-beta.1+x", "10.20.30"][c % 3],
                        ["crates.io", "git", "local", "registry"][(c + i) % 4],
                        c % 2 == 0,
                    )
                }))
            })
            .chain([DepsList::from_entries([])])
            .collect();
        let refs: Vec<&DepsList> = lists.iter().rev().collect();
        let page = deps_page(refs.iter().copied().chain([&lists[3]]));
        assert_eq!(page, page_in_one_family(&refs));
        assert_eq!(deps_page([]), page_in_one_family(&[]));
        // What each list costs is its document and its share of the page, to the byte.
        let costs: u64 = lists.iter().map(cost).sum();
        let documents: usize = lists.iter().map(|l| l.text().len()).sum();
        assert_eq!(
            page.len() - deps_header().len(),
            usize::try_from(costs).unwrap() - documents
        );
        testkit::check_metrics(&page);
    }

    #[test]
    fn the_page_is_sorted_and_carries_the_catalogs_figures() {
        let entry = |name: &'static str, direct| DepsEntry {
            name: name.into(),
            version: "1.0.0".into(),
            source: "crates.io".into(),
            direct,
        };
        let a = DepsList::from_entries([entry("zz", true), entry("aa", false)]);
        let b = DepsList::from_entries([entry("mm", true)]);
        let figures = Figures {
            unresolved: 2,
            refused_invalid: 5,
            refused_cache_full: 3,
            dropped_retention: 4,
            dropped_evicted: 1,
            cache_bytes: 1234,
            max_cache_bytes: 1 << 20,
        };
        let page = catalog_page([&b, &a], &figures);
        let series: Vec<&str> = page.lines().filter(|l| !l.starts_with('#')).collect();
        let (first, second) = if a.digest() < b.digest() {
            (&a, &b)
        } else {
            (&b, &a)
        };
        let mut expected: Vec<String> = Vec::new();
        for list in [first, second] {
            let mut lines: Vec<String> = list
                .entries()
                .map(|e| {
                    format!(
                        "rust_deps_info{{deps=\"{}\",direct=\"{}\",name=\"{}\",source=\"crates.io\",version=\"1.0.0\"}} 1",
                        list.digest(),
                        e.direct,
                        e.name
                    )
                })
                .collect();
            lines.sort();
            expected.extend(lines);
        }
        expected.extend([
            "cargo_depinfo_catalog_lists 2".to_owned(),
            "cargo_depinfo_catalog_unresolved 2".to_owned(),
            "cargo_depinfo_catalog_cache_bytes 1234".to_owned(),
            "cargo_depinfo_catalog_cache_max_bytes 1048576".to_owned(),
            "cargo_depinfo_catalog_refused_total{reason=\"cache_full\"} 3".to_owned(),
            "cargo_depinfo_catalog_refused_total{reason=\"invalid\"} 5".to_owned(),
            "cargo_depinfo_catalog_dropped_total{reason=\"evicted\"} 1".to_owned(),
            "cargo_depinfo_catalog_dropped_total{reason=\"retention\"} 4".to_owned(),
        ]);
        assert_eq!(series, expected);
        testkit::check_metrics(&page);
    }
}
