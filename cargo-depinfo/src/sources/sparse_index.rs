//! Reads a registry's sparse index: the file layout cargo uses (`1/a`, `2/ab`, `3/a/abc`,
//! `ab/cd/abcd…`, lowercase names), one JSON object per line with at least `vers` and
//! `yanked`. No registry is built in: the caller names the index (see
//! [`SparseIndex::from_env`]).
//!
//! Fetched through the shared HTTP client (`sources::http`), as every network source.

use serde::Deserialize;

use crate::sources::http::{self, Client};

/// The environment variables read, in order, when no `--index` is given. Values may carry
/// cargo's `sparse+` prefix.
pub const INDEX_ENV: [&str; 2] = ["CARGO_DEPINFO_INDEX", "CARGO_REGISTRIES_CRATES_IO_INDEX"];

/// The largest index file accepted (the biggest real ones are a few MiB).
const MAX_INDEX_FILE: usize = 64 << 20;

/// One release of a crate, as listed in its index file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// The version.
    pub version: semver::Version,
    /// Withdrawn by its authors: never newest.
    pub yanked: bool,
}

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
}

/// Why an index file's body is not a sparse index file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexFileError {
    /// The body is not UTF-8.
    #[error("not UTF-8: {0}")]
    NotUtf8(String),
    /// No line is usable; the first bad one (1-based) and why.
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
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

#[derive(Deserialize)]
struct Line {
    vers: String,
    #[serde(default)]
    yanked: bool,
}

/// Parses an index file: one JSON object per line. Lines with a version that is not SemVer
/// are skipped (cargo skips what it does not understand too); a file with no usable line at
/// all is an error, unless it is empty.
pub fn parse_index_file(body: &[u8]) -> Result<Vec<Release>, IndexFileError> {
    let text = std::str::from_utf8(body).map_err(|e| IndexFileError::NotUtf8(e.to_string()))?;
    let mut releases = Vec::new();
    let mut first_error = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(l) => match semver::Version::parse(&l.vers) {
                Ok(version) => releases.push(Release {
                    version,
                    yanked: l.yanked,
                }),
                Err(e) => {
                    first_error.get_or_insert_with(|| IndexFileError::Line {
                        line: n + 1,
                        message: e.to_string(),
                    });
                }
            },
            Err(e) => {
                first_error.get_or_insert_with(|| IndexFileError::Line {
                    line: n + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    match first_error {
        Some(e) if releases.is_empty() => Err(e),
        _ => Ok(releases),
    }
}

/// A sparse index at a base URL.
#[derive(Debug, Clone)]
pub struct SparseIndex {
    base: String,
    /// `base` as shown in messages and outputs (credentials redacted).
    shown: String,
    client: Client,
}

impl SparseIndex {
    /// The index at `url` (`http://…`, `https://…`, optionally with cargo's `sparse+` prefix).
    pub fn new(url: &str, client: Client) -> Result<SparseIndex, IndexError> {
        let trimmed = url.strip_prefix("sparse+").unwrap_or(url);
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            return Err(IndexError::Url {
                url: http::shown_url(url),
                message: "not a sparse index URL (http://, https:// or sparse+http(s)://)".into(),
            });
        }
        http::Url::parse(trimmed).map_err(|e| IndexError::Url {
            url: http::shown_url(url),
            message: e.to_string(),
        })?;
        let mut base = trimmed.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        let shown = http::shown_url(&base);
        Ok(SparseIndex {
            base,
            shown,
            client,
        })
    }

    /// The index named by the first of [`INDEX_ENV`] that is set, if any.
    pub fn from_env(client: &Client) -> Option<Result<SparseIndex, IndexError>> {
        INDEX_ENV
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
            .map(|url| SparseIndex::new(&url, client.clone()))
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

    /// Fetches and parses a crate's index file.
    pub(crate) fn fetch(&self, name: &str) -> Result<Vec<Release>, IndexError> {
        let url = self.file_url(name);
        let shown = http::shown_url(&url);
        let fetch_err = |message: String| IndexError::Fetch {
            name: name.to_owned(),
            url: shown.clone(),
            message,
        };
        if !build_info_collector::is_crate_name(name) {
            return Err(fetch_err("not a valid crate name".into()));
        }
        let parsed = http::Url::parse(&url).map_err(|e| fetch_err(e.to_string()))?;
        let r = self
            .client
            .get(&parsed, "*/*")
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
        if body.len() > MAX_INDEX_FILE {
            return Err(fetch_err(format!(
                "larger than {} MiB",
                MAX_INDEX_FILE >> 20
            )));
        }
        parse_index_file(&body).map_err(|error| IndexError::Malformed {
            name: name.to_owned(),
            url: shown.clone(),
            error,
        })
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
    fn parses_lines_and_keeps_yanked_flags() {
        let body =
            br#"{"name":"x","vers":"1.0.0","deps":[],"cksum":"00","features":{},"yanked":false}
{"name":"x","vers":"1.0.1","yanked":true}

{"name":"x","vers":"not-semver","yanked":false}
"#;
        let r = parse_index_file(body).unwrap();
        assert_eq!(r.len(), 2);
        assert!(!r[0].yanked && r[1].yanked);
        assert!(parse_index_file(b"<html>nope</html>").is_err());
        assert_eq!(parse_index_file(b"").unwrap(), []);
    }

    #[test]
    fn urls_are_checked() {
        let t = Client::new(&http::HttpOptions::default()).unwrap();
        let i = SparseIndex::new("sparse+http://127.0.0.1:1/index", t.clone()).unwrap();
        assert_eq!(i.url(), "http://127.0.0.1:1/index/");
        assert_eq!(i.file_url("itoa"), "http://127.0.0.1:1/index/it/oa/itoa");
        assert!(SparseIndex::new("git://x/y", t.clone()).is_err());
        assert!(SparseIndex::new("https://x y/", t.clone()).is_err());
        // Credentials are basic auth, and shown redacted.
        let i = SparseIndex::new("http://u:p@x/", t).unwrap();
        assert_eq!(i.url(), "http://u:***@x/");
    }
}
