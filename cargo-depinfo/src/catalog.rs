//! `cargo depinfo catalog`: `rust_deps_info{deps,direct,name,source,version} 1`, one series
//! per crate per distinct dependency list, served once for a whole fleet whose instances
//! publish only `rust_build_info{deps="<digest>"}`.
//!
//! - Online ([`run`]): every interval, [`Watcher::round`] asks Prometheus which digests the
//!   fleet carries, fetches each list the [`Cache`] lacks from a target Prometheus itself
//!   scrapes, verifies it against its digest and keeps it on disk; [`serve`] hands out the
//!   page ([`catalog_page`]) and the lists (`/deps/<digest>`).
//! - Offline: [`deps_page`] over the lists of binaries read from disk, for node_exporter's
//!   textfile collector ([`write_atomically`]) or served.
//!
//! [`parse_targets`] reads Prometheus' target list, the only source of addresses.

mod cache;
mod serve;
mod targets;
mod watch;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use build_info_collector::{DepsList, Family, render, rust_deps_info_family, rust_deps_info_pairs};
use bytes::Bytes;

pub use self::cache::{Cache, MAX_LISTS, write_atomically};
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
/// Documents refused since start-up (a digest that did not match, a malformed or oversized
/// list).
pub const REFUSED_TOTAL: &str = "cargo_depinfo_catalog_refused_total";

/// The `rust_deps_info` page of `lists`: one series per crate per list, sorted.
pub fn deps_page<'a>(lists: impl IntoIterator<Item = &'a DepsList>) -> String {
    let mut family = rust_deps_info_family();
    for list in lists {
        for entry in list.entries() {
            family.push(rust_deps_info_pairs(list.digest(), &entry), 1);
        }
    }
    family.sort_series();
    rendered(&[family])
}

/// The online catalog's page: [`deps_page`] and the catalog's own figures.
pub fn catalog_page<'a>(
    lists: impl IntoIterator<Item = &'a DepsList>,
    unresolved: usize,
    refused_total: u64,
) -> String {
    let lists: Vec<&DepsList> = lists.into_iter().collect();
    let mut out = deps_page(lists.iter().copied());
    let gauge = |name: &'static str, help: &'static str, value: usize| {
        let mut f = Family::gauge(name, help);
        f.push(std::iter::empty::<(&str, &str)>(), value);
        f
    };
    out.push_str(&rendered(&[
        gauge(LISTS, "Dependency lists the catalog serves.", lists.len()),
        gauge(
            UNRESOLVED,
            "Digests of rust_build_info in Prometheus that the catalog has no list for yet.",
            unresolved,
        ),
    ]));
    // A counter: the family writer knows gauges only.
    let _ = write!(
        out,
        "# HELP {REFUSED_TOTAL} Dependency lists refused since start-up: not the document their digest names.\n# TYPE {REFUSED_TOTAL} counter\n{REFUSED_TOTAL} {refused_total}\n"
    );
    out
}

/// The families as text; the catalog's names and labels are valid, so this never fails in
/// practice (an error would give an empty page rather than a panic).
fn rendered(families: &[Family<'_>]) -> String {
    render(families).unwrap_or_default()
}

/// Parses an interval: a number followed by `ms`, `s`, `m` or `h` (`30s`, `1m`, `500ms`), or a
/// bare number of seconds; from 100 ms to one day.
///
/// # Errors
///
/// One line quoting the value.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "--interval {}: expected a duration such as 30s, 1m or 500ms, from 100ms to 24h",
            crate::quoted(&crate::shortened(text, 40))
        )
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    }
    .ok_or_else(bad)?;
    if !(100..=86_400_000).contains(&millis) {
        return Err(bad());
    }
    Ok(Duration::from_millis(millis))
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
    eprintln!("cargo-depinfo catalog: {}", crate::printable_line(line));
}

/// What `watcher` knows, as served.
fn snapshot(watcher: &Watcher, lists: &mut BTreeMap<String, Bytes>) -> Arc<Served> {
    for (digest, list) in watcher.cache.lists() {
        if !lists.contains_key(digest) {
            lists.insert(digest.clone(), Bytes::from(list.text().to_owned()));
        }
    }
    Arc::new(Served {
        metrics: Bytes::from(catalog_page(
            watcher.cache.lists().values(),
            watcher.unresolved,
            watcher.refused_total,
        )),
        lists: lists.clone(),
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
    let mut lists = BTreeMap::new();
    let shared: Shared = Arc::new(Mutex::new(snapshot(&watcher, &mut lists)));
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
                let before = (watcher.unresolved, watcher.refused_total);
                let added = watcher.round(&mut |line| say(&line));
                if added || before != (watcher.unresolved, watcher.refused_total) {
                    let served = snapshot(&watcher, &mut lists);
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

/// Opens the cache in `dir`, saying each file it skips on stderr.
///
/// # Errors
///
/// The directory cannot be created or listed.
pub fn open_cache(dir: &Path) -> Result<Cache, String> {
    let (cache, errors) = Cache::open(dir)?;
    for e in &errors {
        say(e);
    }
    say(&format!(
        "{} lists loaded from {}",
        cache.lists().len(),
        dir.display()
    ));
    Ok(cache)
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
        for bad in [
            "",
            "s",
            "0s",
            "99ms",
            "25h",
            "1d",
            "-1s",
            "1.5s",
            "99999999999999999999h",
        ] {
            let e = parse_interval(bad).unwrap_err();
            assert!(e.starts_with("--interval "), "{bad}: {e}");
        }
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
        let page = catalog_page([&b, &a], 2, 5);
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
            "cargo_depinfo_catalog_refused_total 5".to_owned(),
        ]);
        assert_eq!(series, expected);
    }
}
