//! Reads a registry's sparse index: the file layout cargo uses (`1/a`, `2/ab`, `3/a/abc`,
//! `ab/cd/abcd…`, lowercase names), one JSON object per line with at least `vers` and
//! `yanked`. The index is named by `--index`, or chosen from cargo's configuration
//! ([`SparseIndex::open`], see [`crate::sources::cargo_config`]); its files are fetched over
//! HTTP, read from cargo's own cache offline ([`crate::sources::index_cache`]), or read from a
//! local registry's `index/` directory.
//!
//! Fetched through [`depinfo_http`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use crate::progress::Progress;
use crate::sources::cargo_config::{CargoConfig, ConfigError, DEPINFO_INDEX_ENV, IndexLocation};
use crate::sources::index_cache;
use depinfo_http::Client;
use depinfo_wire::index_files::{self, IndexFileError, Release, parse_index_file};

/// The environment variables [`SparseIndex::from_env`] reads, in order. Values may carry
/// cargo's `sparse+` prefix. ([`SparseIndex::open`] reads the first, then cargo's
/// configuration, where the second is one of cargo's variables.)
pub const INDEX_ENV: [&str; 2] = ["CARGO_DEPINFO_INDEX", "CARGO_REGISTRIES_CRATES_IO_INDEX"];

/// The largest index file accepted (the biggest real ones are a few MiB).
const MAX_INDEX_FILE: usize = 64 << 20;

/// Why a crate's index file could not be used. Every message names the crate and the URL.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The index URL is not usable.
    #[error("index {url}: {message}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The index does not know the crate (404, 410 or 451).
    #[error("{name}: not in the index ({url}: HTTP {status})")]
    NotFound {
        /// The crate.
        name: String,
        /// Its index file.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The request failed or the server answered with an unexpected status.
    #[error("{name}: cannot fetch {url}: {message}")]
    Fetch {
        /// The crate.
        name: String,
        /// Its index file.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The file is not a sparse index file.
    #[error("{name}: {url}: not a sparse index file: {error}")]
    Malformed {
        /// The crate.
        name: String,
        /// Its index file.
        url: String,
        /// What went wrong.
        error: IndexFileError,
    },
    /// Cargo's configuration names no usable index.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Offline, and cargo has no cache for this index at all.
    #[error(
        "index {url}: cargo has no cache of it in {}: run a cargo command that reads it (cargo update) without --offline first",
        dir.display()
    )]
    NoCache {
        /// The index URL.
        url: String,
        /// Where the caches would be.
        dir: PathBuf,
    },
    /// Offline, and cargo's cache does not hold the crate: unknown, not up to date.
    #[error("{name}: not in cargo's index cache for {url} (offline: cannot check)")]
    NotCached {
        /// The crate.
        name: String,
        /// The index URL.
        url: String,
    },
    /// A file on disk (cargo's cache, a local registry) could not be read or used.
    #[error("{name}: {}: {message}", path.display())]
    File {
        /// The crate.
        name: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The path of a crate's file in the sparse layout, relative to the index root.
/// (`a` is `1/a`, `syn` is `3/s/syn`, `Inflector` is `in/fl/inflector`).
fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        0 => String::new(),
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// Where index files are read from.
#[derive(Debug, Clone)]
enum Backend {
    /// Over HTTP(S), from the base URL.
    Http,
    /// From cargo's cache of the index (offline): these `.cache` directories.
    Cache(Vec<PathBuf>),
    /// From a local registry's `index/` directory.
    Local(PathBuf),
}

/// What [`SparseIndex::open`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IndexOptions {
    /// `--index URL`: wins over everything.
    pub index: Option<String>,
    /// `--registry NAME`: a registry of cargo's configuration instead of `crates-io`.
    pub registry: Option<String>,
    /// `--offline`: answer from cargo's cache (also when cargo's config says `net.offline`).
    pub offline: bool,
    /// The HTTP client (timeout, credentials, the budget shared with the other sources).
    pub client: Client,
    /// The directory cargo's configuration is looked for from.
    pub cwd: PathBuf,
}

impl IndexOptions {
    /// crates.io (as configured), online, through `client`, configuration found from `cwd`.
    pub fn new(cwd: impl Into<PathBuf>, client: Client) -> IndexOptions {
        IndexOptions {
            index: None,
            registry: None,
            offline: false,
            client,
            cwd: cwd.into(),
        }
    }
}

/// A registry's index: a sparse index at a base URL, cargo's cache of one, or a local
/// registry.
#[derive(Debug, Clone)]
pub struct SparseIndex {
    base: String,
    /// `base` as shown in messages and outputs (credentials redacted).
    shown: String,
    /// `None` for a local registry (read from disk).
    client: Option<Client>,
    backend: Backend,
}

impl SparseIndex {
    /// The index at `url` (`http://…`, `https://…`, optionally with cargo's `sparse+` prefix).
    pub fn new(url: &str, client: Client) -> Result<SparseIndex, IndexError> {
        let trimmed = url.strip_prefix("sparse+").unwrap_or(url);
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(IndexError::Url {
                url: depinfo_http::shown_url(url),
                message: "not a sparse index URL (http://, https:// or sparse+http(s)://)".into(),
            });
        }
        depinfo_http::Url::parse(trimmed).map_err(|e| IndexError::Url {
            url: depinfo_http::shown_url(url),
            message: e.to_string(),
        })?;
        let mut base = trimmed.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let shown = depinfo_http::shown_url(&base);
        Ok(SparseIndex {
            base,
            shown,
            client: Some(client),
            backend: Backend::Http,
        })
    }

    /// The index named by the first of `CARGO_DEPINFO_INDEX` and
    /// `CARGO_REGISTRIES_CRATES_IO_INDEX` that is set, if any.
    pub fn from_env(client: &Client) -> Option<Result<SparseIndex, IndexError>> {
        INDEX_ENV
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .map(|url| SparseIndex::new(&url, client.clone()))
    }

    /// The index `options` select: `--index`, else `$CARGO_DEPINFO_INDEX`, else the registry
    /// cargo's configuration gives (`crates-io` or `--registry NAME`, source replacement
    /// followed, `$CARGO_REGISTRIES_CRATES_IO_INDEX` honoured). Offline, a sparse index is
    /// read from cargo's cache in `$CARGO_HOME`.
    pub fn open(options: &IndexOptions) -> Result<SparseIndex, IndexError> {
        let config = CargoConfig::load(&options.cwd)?;
        let offline = options.offline || config.offline()?;
        let named = options.index.clone().or_else(|| {
            std::env::var(DEPINFO_INDEX_ENV)
                .ok()
                .filter(|v| !v.is_empty())
        });
        let location = match named {
            Some(url) => IndexLocation::Sparse(url),
            None => config.select(options.registry.as_deref())?.index,
        };
        let url = match location {
            IndexLocation::Sparse(url) => url,
            IndexLocation::LocalRegistry(path) => return Ok(SparseIndex::local_registry(&path)),
        };
        let mut index = SparseIndex::new(&url, options.client.clone())?;
        if offline {
            let dirs = index_cache::cache_dirs(config.cargo_home(), &index.base);
            if dirs.is_empty() {
                return Err(IndexError::NoCache {
                    url: index.shown,
                    dir: config.cargo_home().join("registry").join("index"),
                });
            }
            index.backend = Backend::Cache(dirs);
        }
        Ok(index)
    }

    /// The local registry at `path` (its index files are under `path/index/`).
    pub fn local_registry(path: &Path) -> SparseIndex {
        let shown =
            depinfo_read::text_safety::printable_line(&path.display().to_string()).into_owned();
        SparseIndex {
            base: shown.clone(),
            shown,
            client: None,
            backend: Backend::Local(path.join("index")),
        }
    }

    /// Whether the answers come from cargo's cache (offline).
    pub fn is_offline_cache(&self) -> bool {
        matches!(self.backend, Backend::Cache(_))
    }

    /// The base URL, ending with `/`, as it may be shown: credentials redacted
    /// (`user:***@`), control characters escaped, cut short.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The URL of a crate's index file.
    pub(crate) fn file_url(&self, name: &str) -> String {
        format!("{}{}", self.base, index_path(name))
    }

    /// Fetches (or reads) and parses a crate's index file.
    pub(crate) fn fetch(&self, name: &str) -> Result<Vec<Release>, IndexError> {
        match &self.backend {
            Backend::Http => self.fetch_http(name),
            Backend::Cache(dirs) => self.read_cache(dirs, name),
            Backend::Local(dir) => read_local(dir, name),
        }
    }

    /// Reads a crate's file from cargo's cache: never "up to date" when it is missing.
    fn read_cache(&self, dirs: &[PathBuf], name: &str) -> Result<Vec<Release>, IndexError> {
        if !buildinfo::model::is_crate_name(name) {
            return Err(IndexError::NotCached {
                name: name.to_owned(),
                url: self.shown.clone(),
            });
        }
        let Some(path) = index_cache::newest_file(dirs, &index_path(name)) else {
            return Err(IndexError::NotCached {
                name: name.to_owned(),
                url: self.shown.clone(),
            });
        };
        let data = read_bounded(name, &path)?;
        let releases =
            index_files::parse_cache_file(&data).map_err(|e| file_error(name, &path, &e))?;
        // Cargo caches a crate the index does not know as a file with no release.
        if releases.is_empty() {
            return Err(IndexError::NotCached {
                name: name.to_owned(),
                url: self.shown.clone(),
            });
        }
        Ok(releases)
    }

    /// Fetches and parses a crate's index file over HTTP.
    fn fetch_http(&self, name: &str) -> Result<Vec<Release>, IndexError> {
        let url = self.file_url(name);
        let shown = depinfo_http::shown_url(&url);
        let fetch_err = |message: String| IndexError::Fetch {
            name: name.to_owned(),
            url: shown.clone(),
            message,
        };
        if !buildinfo::model::is_crate_name(name) {
            return Err(fetch_err("not a valid crate name".into()));
        }
        let parsed = depinfo_http::Url::parse(&url).map_err(|e| fetch_err(e.to_string()))?;
        let Some(client) = &self.client else {
            return Err(fetch_err("a local registry is not fetched".into()));
        };
        // The cap is checked while reading: no more than it is ever read or held.
        let r = client
            .get_limited(&parsed, "*/*", MAX_INDEX_FILE as u64)
            .map_err(|e| fetch_err(e.to_string()))?;
        let (status, body) = (r.status, r.body);
        match status {
            200 => {}
            404 | 410 | 451 => {
                return Err(IndexError::NotFound {
                    name: name.to_owned(),
                    url: shown,
                    status,
                });
            }
            other => return Err(fetch_err(format!("HTTP {other}"))),
        }
        parse_index_file(&body).map_err(|error| IndexError::Malformed {
            name: name.to_owned(),
            url: shown.clone(),
            error,
        })
    }
}

/// Each crate's releases, or why its index file could not be used: what `outdated` judges.
pub type Releases = BTreeMap<String, Result<Vec<Release>, IndexError>>;

/// How many index files are fetched at once.
const PARALLEL_FETCHES: usize = 8;

/// Fetches (or reads) the index file of each crate in `names` once, several at a time, and
/// reports [`Progress::Checking`] after each one.
pub fn fetch_releases(
    index: &SparseIndex,
    names: &[String],
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Releases {
    let names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = BTreeMap::new();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..PARALLEL_FETCHES.min(names.len()) {
            let tx = tx.clone();
            let next = &next;
            let names = &names;
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&name) = names.get(i) else { break };
                    if tx.send((name, index.fetch(name))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (name, result) in rx {
            out.insert(name.to_owned(), result);
            on_progress(Progress::Checking {
                done: out.len(),
                total: names.len(),
            });
        }
    });
    out
}

/// A crate's file in a local registry's index directory.
fn read_local(dir: &Path, name: &str) -> Result<Vec<Release>, IndexError> {
    let path = dir.join(index_path(name));
    if !buildinfo::model::is_crate_name(name) || !path.is_file() {
        return Err(IndexError::File {
            name: name.to_owned(),
            path,
            message: "not in the local registry".into(),
        });
    }
    let data = read_bounded(name, &path)?;
    parse_index_file(&data).map_err(|e| file_error(name, &path, &e))
}

/// A file of at most [`MAX_INDEX_FILE`] bytes, through the one bounded, non-blocking opener.
fn read_bounded(name: &str, path: &Path) -> Result<Vec<u8>, IndexError> {
    depinfo_read::untrusted_file::read(path, MAX_INDEX_FILE as u64)
        .map_err(|e| file_error(name, path, &e.reason))
}

fn file_error(name: &str, path: &Path, e: &dyn std::fmt::Display) -> IndexError {
    IndexError::File {
        name: name.to_owned(),
        path: path.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_cargos() {
        assert_eq!(index_path("serde"), "se/rd/serde");
        assert_eq!(index_path("serde_json"), "se/rd/serde_json");
        assert_eq!(index_path("ABC"), "3/a/abc");
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("cc"), "2/cc");
        assert_eq!(index_path("syn"), "3/s/syn");
        assert_eq!(index_path("Inflector"), "in/fl/inflector");
    }

    #[test]
    fn urls_are_checked() {
        let t = Client::new(&depinfo_http::HttpOptions::default()).unwrap();
        let i = SparseIndex::new("sparse+http://127.0.0.1:1/index", t.clone()).unwrap();
        assert_eq!(i.url(), "http://127.0.0.1:1/index/");
        assert_eq!(i.file_url("itoa"), "http://127.0.0.1:1/index/it/oa/itoa");
        assert!(SparseIndex::new("git://x/y", t.clone()).is_err());
        assert!(SparseIndex::new("https://x y/", t.clone()).is_err());
        // Credentials are basic auth, and shown redacted.
        let i = SparseIndex::new("http://u:p@x/", t).unwrap();
        assert_eq!(i.url(), "http://u:***@x/");
    }

    /// Regression (issue 18, defect 12): an index file's body was read up to the client's
    /// 256 MiB cap and only then checked against 64 MiB. The cap is checked while reading:
    /// with a budget of 65 MiB for the whole run, a 70 MiB file fails on the file's own cap,
    /// never on the budget (which reading past 65 MiB would have hit first).
    #[test]
    fn an_index_file_is_capped_while_it_is_read() {
        let body = vec![b' '; 70 << 20];
        let server =
            testkit::Server::fixed(testkit::Reply::ok("text/plain", body).chunked(1 << 20));
        let options = depinfo_http::HttpOptions {
            max_total: 65 << 20,
            ..depinfo_http::HttpOptions::default()
        };
        let client = Client::new(&options).unwrap();
        let index = SparseIndex::new(&server.url("/index/"), client).unwrap();
        let e = index.fetch("serde").unwrap_err().to_string();
        assert!(e.ends_with("answer larger than 64 MiB"), "{e}");
    }
}
