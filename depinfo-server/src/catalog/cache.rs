//! The catalog's content-addressed cache on disk: one file per list, named by its digest,
//! holding the document. Written to a temporary file in the same directory and renamed, so a
//! reader (or a crash) never sees half a list. Read back through the crate's one bounded
//! opener, each file verified against its name: a file that does not match is reported and
//! skipped, never served.
//!
//! Bounded three ways, because a fleet member controls both its `deps` label values and the
//! documents it serves, and so can make up any number of valid lists:
//!
//! - **Bytes.** Each list costs its document plus the `rust_deps_info` lines it puts on the
//!   page ([`cost`]); the lists held cost at most [`Bounds::max_bytes`] together. A list that
//!   would pass it is stored only when lists of a worse [`Rank`] can make room (they are
//!   dropped, worst first); otherwise it is not stored.
//! - **Time.** A list is kept while its digest was seen in Prometheus within
//!   [`Bounds::retention`]. When it is seen, the file's modification time is set (at most
//!   every [`Bounds::retention`] / 16, and at least every 10 minutes), so a restart knows
//!   what was running: files last seen longer ago are removed when the cache opens.
//! - **Count.** At most [`MAX_LISTS`] lists.
//!
//! The clock is always the caller's (`now`), so that tests never sleep.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use build_info_collector::{DepsList, MAX_DEPS_LIST_BYTES, is_digest};

use depinfo_read::untrusted_file;

/// The most lists the catalog holds (and serves): at 300 crates a list, 30 million
/// `rust_deps_info` series, past what one Prometheus scrape should carry. A fleet has one list
/// per distinct build, usually a few hundred.
pub const MAX_LISTS: usize = 100_000;

/// The default of [`Bounds::max_bytes`]: 256 MiB, about 5,500 lists of 300 crates (about
/// 49 KB each: a 10 KB document and 39 KB of page lines).
pub const DEFAULT_MAX_CACHE_BYTES: u64 = 256 << 20;

/// The default of [`Bounds::retention`]: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The longest time between two updates of a file's modification time while its list is
/// seen.
const MAX_RECORD_EVERY: Duration = Duration::from_secs(600);

/// How the cache is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bounds {
    /// The most bytes the lists held may cost together ([`cost`]).
    pub max_bytes: u64,
    /// How long a list is kept after its digest was last seen in Prometheus.
    pub retention: Duration,
}

impl Bounds {
    /// `max_bytes` and `retention`.
    pub fn new(max_bytes: u64, retention: Duration) -> Bounds {
        Bounds {
            max_bytes,
            retention,
        }
    }
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds::new(DEFAULT_MAX_CACHE_BYTES, DEFAULT_RETENTION)
    }
}

/// How much a list deserves its place, best first: lists carried by a target that publishes
/// few digests (an instance carries one build, an exporter a node's few) before lists carried
/// only by a target that publishes many (which is what a target making up lists must do), and
/// among those, lists carried by more targets first. A list not seen in the last answer of
/// Prometheus ranks last ([`Rank::UNSEEN`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// The fewest digests published by one of the targets carrying this one.
    pub fan_out: usize,
    /// How many targets carry it (more is better).
    pub carriers: Reverse<usize>,
}

impl Rank {
    /// A list not in Prometheus' last answer: the first to go.
    pub const UNSEEN: Rank = Rank {
        fan_out: usize::MAX,
        carriers: Reverse(0),
    };
}

/// The `rust_deps_info` lines a list puts on the page: the page is these lines for each list,
/// in digest order, after the family's HELP and TYPE lines.
pub fn series_text(list: &DepsList) -> String {
    let mut family = build_info_collector::rust_deps_info_family();
    for entry in list.entries() {
        family.push(
            build_info_collector::rust_deps_info_pairs(list.digest(), &entry),
            1,
        );
    }
    family.sort_series();
    let text = super::rendered(&[family]);
    match text.strip_prefix(super::deps_header()) {
        Some(lines) => lines.to_owned(),
        None => String::new(),
    }
}

/// What a list costs the catalog: its document, held once and served at `/deps/<digest>`,
/// plus its lines on the page ([`series_text`]).
pub fn cost(list: &DepsList) -> u64 {
    (list.text().len() + series_text(list).len()) as u64
}

/// One list held.
#[derive(Debug)]
struct Entry {
    list: Arc<DepsList>,
    cost: u64,
    /// When its digest was last seen in Prometheus (or loaded, from the file's time).
    last_seen: SystemTime,
    /// The file's modification time as last set.
    recorded: SystemTime,
}

/// A list stored by [`Cache::insert`], and what was dropped to make room.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Stored {
    /// Lists dropped for it: digest and cost.
    pub evicted: Vec<(String, u64)>,
    /// The file could not be written (the list is held and served all the same).
    pub write_error: Option<String>,
}

/// A list [`Cache::insert`] did not store: it would pass the byte cap (or [`MAX_LISTS`]) and
/// lists of a worse rank cannot make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Full {
    /// What the list costs.
    pub cost: u64,
    /// What the lists held cost.
    pub used: u64,
}

/// A list dropped because its digest was not seen for longer than the retention.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expired {
    /// Its digest.
    pub digest: String,
    /// What it cost.
    pub cost: u64,
    /// How long ago it was last seen.
    pub unseen: Duration,
    /// The file could not be removed.
    pub remove_error: Option<String>,
}

/// The lists known, by digest, and the directory that keeps them.
#[derive(Debug)]
pub struct Cache {
    dir: Option<PathBuf>,
    bounds: Bounds,
    lists: BTreeMap<String, Entry>,
    used: u64,
    /// Changes when a list is added or removed.
    generation: u64,
}

impl Cache {
    /// A cache in memory only, with the default bounds.
    pub fn in_memory() -> Cache {
        Cache {
            dir: None,
            bounds: Bounds::default(),
            lists: BTreeMap::new(),
            used: 0,
            generation: 0,
        }
    }

    /// An empty cache in memory only, bounded by `bounds`.
    pub fn in_memory_with(bounds: Bounds) -> Cache {
        Cache {
            bounds,
            ..Cache::in_memory()
        }
    }

    /// Opens the cache in `dir` (created when missing) and loads its lists, verified against
    /// their file names, most recently seen first, within `bounds` at `now`. Each file that
    /// cannot be used is one line in the returned notes, and is skipped; files last seen
    /// longer ago than the retention, or past the byte cap or [`MAX_LISTS`], are removed
    /// (one line each). Files whose names start with `.` (temporary files) are ignored.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or listed.
    pub fn open(
        dir: &Path,
        bounds: Bounds,
        now: SystemTime,
    ) -> Result<(Cache, Vec<String>), String> {
        let shown =
            || depinfo_read::text_safety::printable_line(&dir.display().to_string()).into_owned();
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the cache directory {}: {e}", shown()))?;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot list the cache directory {}: {e}", shown()))?;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("cannot list the cache directory {}: {e}", shown()))?;
            names.push(entry.file_name());
        }
        names.sort();
        let mut cache = Cache {
            dir: Some(dir.to_owned()),
            bounds,
            lists: BTreeMap::new(),
            used: 0,
            generation: 0,
        };
        let mut notes = Vec::new();
        // (last seen, digest), to load the most recently seen first.
        let mut found: Vec<(SystemTime, String)> = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let shown_path =
                depinfo_read::text_safety::printable_line(&path.display().to_string()).into_owned();
            let Some(digest) = name.to_str().filter(|n| is_digest(n)) else {
                if !name.to_string_lossy().starts_with('.') {
                    notes.push(format!(
                        "cache file {shown_path}: its name is not a digest (skipped)"
                    ));
                }
                continue;
            };
            // The time only (no file is opened here): the read below is the bounded one.
            let seen = match std::fs::metadata(&path).and_then(|m| m.modified()) {
                Ok(t) => t.min(now),
                Err(e) => {
                    notes.push(format!("cache file {shown_path}: {e} (skipped)"));
                    continue;
                }
            };
            let unseen = now.duration_since(seen).unwrap_or_default();
            if unseen > bounds.retention {
                notes.push(format!(
                    "cache file {shown_path}: last seen {} ago, longer than the retention of {}: {}",
                    words(unseen),
                    words(bounds.retention),
                    removed(&path)
                ));
                continue;
            }
            found.push((seen, digest.to_owned()));
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (seen, digest) in found {
            let path = dir.join(&digest);
            let shown_path =
                depinfo_read::text_safety::printable_line(&path.display().to_string()).into_owned();
            let bytes = match read_list_file(&path) {
                Ok(bytes) => bytes,
                Err(e) => {
                    notes.push(format!("cache file {e}: skipped"));
                    continue;
                }
            };
            let list = match DepsList::verify(&digest, &bytes, MAX_DEPS_LIST_BYTES) {
                Ok(list) => list,
                Err(e) => {
                    notes.push(format!(
                        "cache file {shown_path}: does not match its name: {e} (skipped)"
                    ));
                    continue;
                }
            };
            let cost = cost(&list);
            if cache.lists.len() >= MAX_LISTS || cache.used.saturating_add(cost) > bounds.max_bytes
            {
                notes.push(format!(
                    "cache file {shown_path}: {cost} bytes would pass the cache's bound ({} lists, {} of {} bytes): {}",
                    cache.lists.len(),
                    cache.used,
                    bounds.max_bytes,
                    removed(&path)
                ));
                continue;
            }
            cache.used += cost;
            cache.lists.insert(
                digest,
                Entry {
                    list: Arc::new(list),
                    cost,
                    last_seen: seen,
                    recorded: seen,
                },
            );
        }
        Ok((cache, notes))
    }

    /// The bounds.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The lists, in digest order.
    pub fn lists(&self) -> impl Iterator<Item = &DepsList> {
        self.lists.values().map(|e| &*e.list)
    }

    /// The lists, shared (the served copy is this one), in digest order.
    pub fn shared(&self) -> impl Iterator<Item = &Arc<DepsList>> {
        self.lists.values().map(|e| &e.list)
    }

    /// How many lists are held.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether no list is held.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// What the lists held cost together ([`cost`]).
    pub fn used_bytes(&self) -> u64 {
        self.used
    }

    /// Whether `digest` is known.
    pub fn contains(&self, digest: &str) -> bool {
        self.lists.contains_key(digest)
    }

    /// Whether the cache holds [`MAX_LISTS`] lists.
    pub fn is_full(&self) -> bool {
        self.lists.len() >= MAX_LISTS
    }

    /// The bytes still free under the cap.
    pub fn free(&self) -> u64 {
        self.bounds.max_bytes.saturating_sub(self.used)
    }

    /// A number that changes whenever a list is added or removed (what [`Cache::evictable`]
    /// says holds until it changes).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What the lists ranked worse than `rank` cost together: the room they could make.
    /// It looks at every list: callers asking often keep the answer per rank and
    /// [`Cache::generation`].
    pub fn evictable(&self, rank: Rank, rank_of: &dyn Fn(&str) -> Rank) -> u64 {
        self.lists
            .iter()
            .filter(|(d, _)| rank_of(d) > rank)
            .map(|(_, e)| e.cost)
            .sum()
    }

    /// Whether a list of `cost` and `rank` could be stored now (dropping lists of a worse
    /// rank).
    pub fn would_fit(&self, cost: u64, rank: Rank, rank_of: &dyn Fn(&str) -> Rank) -> bool {
        let free = self.free();
        cost <= free || cost <= free.saturating_add(self.evictable(rank, rank_of))
    }

    /// Stores a verified list of `rank` seen at `now`, and writes it to disk (temporary file,
    /// then rename). When it would pass the byte cap or [`MAX_LISTS`], lists ranked worse
    /// than `rank` (as `rank_of` says) are dropped, worst first, until it fits; when they
    /// cannot make room, nothing is dropped and the list is not stored.
    ///
    /// # Errors
    ///
    /// [`Full`]: not stored.
    pub fn insert(
        &mut self,
        list: DepsList,
        rank: Rank,
        now: SystemTime,
        rank_of: &dyn Fn(&str) -> Rank,
    ) -> Result<Stored, Full> {
        let digest = list.digest().to_owned();
        if self.lists.contains_key(&digest) {
            self.seen(&digest, now);
            return Ok(Stored::default());
        }
        let cost = cost(&list);
        let fits = |used: u64, count: usize| {
            count < MAX_LISTS && used.saturating_add(cost) <= self.bounds.max_bytes
        };
        let mut stored = Stored::default();
        if !fits(self.used, self.lists.len()) {
            // Worst first; among equals, the longest unseen, then by digest.
            let mut worse: Vec<(Rank, SystemTime, &String, u64)> = self
                .lists
                .iter()
                .map(|(d, e)| (rank_of(d), e.last_seen, d, e.cost))
                .filter(|(r, ..)| *r > rank)
                .collect();
            worse.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
            let (mut used, mut count) = (self.used, self.lists.len());
            let mut chosen = Vec::new();
            for (_, _, d, c) in worse {
                if fits(used, count) {
                    break;
                }
                used -= c;
                count -= 1;
                chosen.push(d.clone());
            }
            if !fits(used, count) {
                return Err(Full {
                    cost,
                    used: self.used,
                });
            }
            for d in chosen {
                if let Some(e) = self.remove(&d) {
                    stored.evicted.push((d, e.cost));
                }
            }
        }
        if let Some(dir) = &self.dir {
            let path = dir.join(&digest);
            stored.write_error = write_atomically(&path, list.text().as_bytes())
                .and_then(|()| record(&path, now))
                .err();
        }
        self.used += cost;
        self.generation += 1;
        self.lists.insert(
            digest,
            Entry {
                list: Arc::new(list),
                cost,
                last_seen: now,
                recorded: now,
            },
        );
        Ok(stored)
    }

    /// Notes that `digest` was seen in Prometheus at `now`; on disk, sets its file's
    /// modification time when the last one set is older than the recording step.
    ///
    /// Returns the error when the time could not be set (one line naming the file).
    pub fn seen(&mut self, digest: &str, now: SystemTime) -> Option<String> {
        let step = (self.bounds.retention / 16).min(MAX_RECORD_EVERY);
        let entry = self.lists.get_mut(digest)?;
        entry.last_seen = entry.last_seen.max(now);
        let due = now.duration_since(entry.recorded).unwrap_or_default() >= step;
        let dir = self.dir.as_ref()?;
        if !due {
            return None;
        }
        entry.recorded = now;
        record(&dir.join(digest), now).err()
    }

    /// Drops every list last seen longer than the retention before `now`, from memory and
    /// disk, in digest order.
    pub fn expire(&mut self, now: SystemTime) -> Vec<Expired> {
        let retention = self.bounds.retention;
        let old: Vec<(String, Duration)> = self
            .lists
            .iter()
            .filter_map(|(d, e)| {
                let unseen = now.duration_since(e.last_seen).unwrap_or_default();
                (unseen > retention).then(|| (d.clone(), unseen))
            })
            .collect();
        old.into_iter()
            .filter_map(|(digest, unseen)| {
                let entry = self.remove(&digest)?;
                let remove_error = self.dir.as_ref().and_then(|dir| {
                    let path = dir.join(&digest);
                    match std::fs::remove_file(&path) {
                        Ok(()) => None,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => Some(format!(
                            "cannot remove {}: {e}",
                            depinfo_read::text_safety::printable_line(&path.display().to_string())
                        )),
                    }
                });
                Some(Expired {
                    digest,
                    cost: entry.cost,
                    unseen,
                    remove_error,
                })
            })
            .collect()
    }

    /// Removes a list from memory and its file from disk (an error removing it is left: the
    /// file is past the bounds and removed again at the next start).
    fn remove(&mut self, digest: &str) -> Option<Entry> {
        let entry = self.lists.remove(digest)?;
        self.used -= entry.cost;
        self.generation += 1;
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(digest));
        }
        Some(entry)
    }
}

/// A list file's bytes, through the crate's one opener, at most [`MAX_DEPS_LIST_BYTES`].
fn read_list_file(path: &Path) -> Result<Vec<u8>, String> {
    untrusted_file::read(path, MAX_DEPS_LIST_BYTES as u64)
        .map_err(|e| depinfo_read::text_safety::printable_line(&e.to_string()).into_owned())
}

/// Sets `path`'s modification time to `when`: the durable "last seen" of its list. Opened
/// through the crate's one opener (a regular file, never waited on); setting the time of a
/// file one owns needs no write access.
fn record(path: &Path, when: SystemTime) -> Result<(), String> {
    let shown =
        || depinfo_read::text_safety::printable_line(&path.display().to_string()).into_owned();
    let (file, _) = untrusted_file::open(path).map_err(|e| {
        format!(
            "cannot record when a list was seen: {}",
            depinfo_read::text_safety::printable_line(&e.to_string())
        )
    })?;
    file.set_modified(when)
        .map_err(|e| format!("cannot record when a list was seen: {}: {e}", shown()))
}

/// `removed` or why not.
fn removed(path: &Path) -> String {
    match std::fs::remove_file(path) {
        Ok(()) => "removed".to_owned(),
        Err(e) => format!("cannot remove it: {e}"),
    }
}

/// A duration as Prometheus writes one, exactly, to the millisecond: `7d`, `3h30m`, `7d1s`,
/// `2s500ms`, `0s`.
pub(crate) fn words(d: Duration) -> String {
    use std::fmt::Write as _;
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= size {
            let _ = write!(out, "{}{unit}", ms / size);
            ms %= size;
        }
    }
    out
}

/// Writes `bytes` to `path` through a temporary file beside it (`.NAME.PID.tmp`) and a rename:
/// readers see the old file or the new one, never a part.
///
/// # Errors
///
/// One line naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown =
        || depinfo_read::text_safety::printable_line(&path.display().to_string()).into_owned();
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", shown()))?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    write_then_rename(&temp, path, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", shown())
    })
}

fn write_then_rename(temp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use build_info_collector::DepsEntry;

    fn list(name: &str) -> DepsList {
        sized(name, 1)
    }

    /// A list of `crates` crates named after `name`.
    fn sized(name: &str, crates: usize) -> DepsList {
        DepsList::from_entries((0..crates).map(|i| DepsEntry {
            name: format!("{name}-{i}").into(),
            version: "1.0.0".into(),
            source: "crates.io".into(),
            direct: true,
        }))
    }

    const T0: Duration = Duration::from_secs(1_700_000_000);
    const HOUR: Duration = Duration::from_secs(3600);
    const DAY: Duration = Duration::from_secs(86_400);

    fn at(d: Duration) -> SystemTime {
        SystemTime::UNIX_EPOCH + d
    }

    fn rank(fan_out: usize) -> Rank {
        Rank {
            fan_out,
            carriers: Reverse(1),
        }
    }

    /// The files in `dir` and their total size.
    fn on_disk(dir: &Path) -> (Vec<String>, u64) {
        let mut names = Vec::new();
        let mut bytes = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            bytes += e.metadata().unwrap().len();
            names.push(e.file_name().into_string().unwrap());
        }
        names.sort();
        (names, bytes)
    }

    fn mtime(path: &Path) -> SystemTime {
        std::fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn lists_survive_a_reopen_and_bad_files_are_skipped_in_one_line() {
        let scratch = testkit::Scratch::new("catalog-cache-reopen");
        let dir = scratch.join("cache");
        let now = SystemTime::now();
        let (mut cache, errors) = Cache::open(&dir, Bounds::default(), now).unwrap();
        assert!(errors.is_empty() && cache.is_empty());
        let (a, b) = (list("a"), list("b"));
        cache
            .insert(a.clone(), rank(1), now, &|_| Rank::UNSEEN)
            .unwrap();
        // A file named by b's digest holding a's document: refused on load.
        std::fs::write(dir.join(b.digest()), a.text()).unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join(".a.1.tmp"), "half").unwrap();
        let (cache, errors) = Cache::open(&dir, Bounds::default(), now).unwrap();
        assert_eq!(cache.lists().collect::<Vec<_>>(), [&a]);
        assert_eq!(cache.used_bytes(), cost(&a));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| !e.contains('\n')));
        assert!(
            errors
                .iter()
                .any(|e| e.contains(b.digest()) && e.contains("does not match"))
        );
        assert!(errors.iter().any(|e| e.contains("notes.txt")));
    }

    #[test]
    fn the_byte_cap_holds_and_only_worse_ranked_lists_make_room() {
        let scratch = testkit::Scratch::new("catalog-cache-cap");
        let dir = scratch.join("cache");
        let hostile: Vec<DepsList> = (0..6).map(|i| sized(&format!("evil{i}"), 40)).collect();
        let honest = sized("honest", 60);
        let one = cost(&hostile[0]);
        assert!(hostile.iter().all(|l| cost(l) == one));
        assert!(cost(&honest) > one && cost(&honest) < 2 * one);
        // Room for three made-up lists and a bit.
        let max = 3 * one + one / 2;
        let bounds = Bounds::new(max, DAY);
        let now = at(T0);
        let (mut cache, _) = Cache::open(&dir, bounds, now).unwrap();
        let hostile_digests: Vec<&str> = hostile.iter().map(DepsList::digest).collect();
        let rank_of = |d: &str| {
            if hostile_digests.contains(&d) {
                rank(100)
            } else {
                rank(1)
            }
        };
        for (i, l) in hostile.iter().enumerate() {
            let t = now + Duration::from_secs(i as u64);
            let got = cache.insert(l.clone(), rank(100), t, &rank_of);
            if i < 3 {
                let stored = got.unwrap();
                assert!(stored.evicted.is_empty() && stored.write_error.is_none());
            } else {
                // Full: nothing of equal rank is dropped for it.
                assert_eq!(
                    got.unwrap_err(),
                    Full {
                        cost: one,
                        used: 3 * one
                    }
                );
            }
            assert!(cache.used_bytes() <= max);
        }
        assert_eq!(cache.len(), 3);
        assert!(!cache.would_fit(one, rank(100), &rank_of));
        assert!(cache.would_fit(one, rank(1), &rank_of));
        // The honest list (a better rank) makes room: the two longest unseen made-up lists go.
        let stored = cache
            .insert(honest.clone(), rank(1), now, &rank_of)
            .unwrap();
        assert_eq!(
            stored.evicted,
            [
                (hostile[0].digest().to_owned(), one),
                (hostile[1].digest().to_owned(), one)
            ]
        );
        assert!(cache.contains(honest.digest()) && cache.contains(hostile[2].digest()));
        assert_eq!(cache.used_bytes(), one + cost(&honest));
        // Disk holds what memory holds, within the cap.
        let (names, bytes) = on_disk(&dir);
        let mut want = vec![honest.digest().to_owned(), hostile[2].digest().to_owned()];
        want.sort();
        assert_eq!(names, want);
        assert!(bytes <= max, "{bytes} > {max}");
        // A second honest list takes the made-up list's room, never the honest one's.
        let honest2 = sized("second", 60);
        let stored = cache
            .insert(honest2.clone(), rank(1), now, &rank_of)
            .unwrap();
        assert_eq!(stored.evicted, [(hostile[2].digest().to_owned(), one)]);
        // A third finds nothing ranked below it: not stored, nothing dropped.
        let honest3 = sized("third", 60);
        let later = now + Duration::from_secs(1);
        let e = cache
            .insert(honest3.clone(), rank(1), later, &rank_of)
            .unwrap_err();
        assert_eq!(e.cost, cost(&honest3));
        assert_eq!(cache.len(), 2);
        // A list unseen in Prometheus' last answer goes before any seen one.
        let unseen_honest = |d: &str| {
            if d == honest.digest() {
                Rank::UNSEEN
            } else {
                rank_of(d)
            }
        };
        let stored = cache
            .insert(honest3.clone(), rank(1), later, &unseen_honest)
            .unwrap();
        assert_eq!(
            stored.evicted,
            [(honest.digest().to_owned(), cost(&honest))]
        );
        // A list past the cap on its own is never stored, whatever it could drop.
        let huge = sized("huge", 400);
        assert!(cost(&huge) > max);
        assert_eq!(
            cache
                .insert(huge, rank(0), now, &|_| Rank::UNSEEN)
                .unwrap_err()
                .used,
            cache.used_bytes()
        );
        assert!(on_disk(&dir).1 <= max);
        // Reopened with a smaller cap: the most recently seen list is kept, the other
        // removed from disk, in one line.
        let small = Bounds::new(cost(&honest3), DAY);
        let (reopened, notes) = Cache::open(&dir, small, now + HOUR).unwrap();
        assert_eq!(reopened.lists().collect::<Vec<_>>(), [&honest3]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(honest2.digest()) && notes[0].ends_with("removed"),
            "{notes:?}"
        );
        assert_eq!(on_disk(&dir).0, [honest3.digest().to_owned()]);
    }

    #[test]
    fn lists_unseen_past_the_retention_go_from_memory_and_disk_and_a_restart_serves_the_others() {
        let scratch = testkit::Scratch::new("catalog-cache-retention");
        let dir = scratch.join("cache");
        let bounds = Bounds::new(DEFAULT_MAX_CACHE_BYTES, 7 * DAY);
        let t0 = at(T0);
        let (mut cache, _) = Cache::open(&dir, bounds, t0).unwrap();
        let (a, b) = (list("running"), list("retired"));
        for l in [&a, &b] {
            cache
                .insert(l.clone(), rank(1), t0, &|_| Rank::UNSEEN)
                .unwrap();
            // The file's time is the time it was seen, on the caller's clock.
            assert_eq!(mtime(&dir.join(l.digest())), t0);
        }
        // Seen again: recorded on disk, at most every retention/16 (here 10 minutes).
        assert_eq!(cache.seen(a.digest(), t0 + 5 * DAY), None);
        assert_eq!(mtime(&dir.join(a.digest())), t0 + 5 * DAY);
        cache.seen(a.digest(), t0 + 5 * DAY + Duration::from_secs(60));
        assert_eq!(mtime(&dir.join(a.digest())), t0 + 5 * DAY);
        cache.seen(a.digest(), t0 + 5 * DAY + Duration::from_secs(600));
        let recorded = t0 + 5 * DAY + Duration::from_secs(600);
        assert_eq!(mtime(&dir.join(a.digest())), recorded);
        // Exactly the retention: kept; a second more: dropped, file and all.
        assert!(cache.expire(t0 + 7 * DAY).is_empty());
        let gone = cache.expire(t0 + 7 * DAY + Duration::from_secs(1));
        assert_eq!(
            gone,
            [Expired {
                digest: b.digest().to_owned(),
                cost: cost(&b),
                unseen: 7 * DAY + Duration::from_secs(1),
                remove_error: None,
            }]
        );
        assert_eq!(cache.lists().collect::<Vec<_>>(), [&a]);
        assert_eq!(cache.used_bytes(), cost(&a));
        assert_eq!(on_disk(&dir).0, [a.digest().to_owned()]);
        // A restart within the retention of the last recorded sighting serves the list.
        let (again, notes) = Cache::open(&dir, bounds, recorded + 7 * DAY).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(again.lists().collect::<Vec<_>>(), [&a]);
        // One past it: removed at start-up, in one line.
        let (later, notes) =
            Cache::open(&dir, bounds, recorded + 7 * DAY + Duration::from_secs(1)).unwrap();
        assert!(later.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(a.digest())
                && notes[0].contains("last seen 7d1s ago")
                && notes[0].contains("retention of 7d")
                && notes[0].ends_with("removed")
                && !notes[0].contains('\n'),
            "{notes:?}"
        );
        assert!(on_disk(&dir).0.is_empty());
        // A file from the future (a clock set back) counts as seen now.
        let mut cache = Cache::open(&dir, bounds, t0 + DAY).unwrap().0;
        cache
            .insert(b.clone(), rank(1), t0 + DAY, &|_| Rank::UNSEEN)
            .unwrap();
        let (back, notes) = Cache::open(&dir, bounds, t0).unwrap();
        assert!(notes.is_empty() && back.contains(b.digest()));
    }

    #[test]
    fn durations_are_said_exactly_as_prometheus_writes_them() {
        assert_eq!(words(7 * DAY), "7d");
        assert_eq!(words(3 * HOUR), "3h");
        assert_eq!(words(Duration::from_secs(120)), "2m");
        assert_eq!(words(Duration::from_secs(2)), "2s");
        assert_eq!(words(Duration::from_millis(2500)), "2s500ms");
        assert_eq!(words(Duration::from_millis(500)), "500ms");
        assert_eq!(words(Duration::ZERO), "0s");
        assert_eq!(words(7 * DAY + Duration::from_secs(1)), "7d1s");
        assert_eq!(words(HOUR + Duration::from_secs(1800)), "1h30m");
    }
}
