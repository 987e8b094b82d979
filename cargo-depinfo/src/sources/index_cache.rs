//! Cargo's own on-disk cache of index files, read by `outdated --offline`.
//!
//! Each registry cargo has used has a directory `$CARGO_HOME/registry/index/<host>-<hash>/`
//! (`<host>` is the index URL's host, `<hash>` 16 hex digits of a hash of the source id whose
//! function changed between cargo versions, so it is not computed here: every directory of
//! the host is a candidate). Index files are cached under `.cache/` in the sparse layout
//! (`se/rd/serde`), in cargo's binary format (version 3):
//!
//! ```text
//! 0x03 | index schema version (u32, little endian: 2) | index file version | 0x00
//! then, per release: semver version | 0x00 | JSON line of the index | 0x00
//! ```
//!
//! The index file version is the server's `ETag` or `Last-Modified` (or a git commit): it is
//! not checked, as the cache is all there is offline. When several candidate directories
//! hold a crate's file (the same host on several ports, or caches of two cargo versions), the
//! most recently written file wins.

use std::path::{Path, PathBuf};

use crate::sources::sparse_index::{Release, parse_index_line};

/// The cache format version this reads (cargo's `CURRENT_CACHE_VERSION` since 1.65).
const CACHE_VERSION: u8 = 3;

/// The index schema version cargo writes in the cache (`INDEX_V_MAX`).
const INDEX_SCHEMA_VERSION: u32 = 2;

/// Why a cache file is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CacheFileError {
    /// The file is empty or shorter than its header.
    #[error("truncated header ({0} bytes)")]
    Truncated(usize),
    /// Another cache format version (another cargo's cache).
    #[error("cache format version {0}, not {CACHE_VERSION}")]
    CacheVersion(u8),
    /// Another index schema version.
    #[error("index schema version {0}, not {INDEX_SCHEMA_VERSION}")]
    SchemaVersion(u32),
    /// A version has no JSON record after it.
    #[error("record {0}: no JSON after the version")]
    MissingRecord(usize),
    /// No record is usable; the first bad one (1-based) and why.
    #[error("record {record}: {message}")]
    Record {
        /// 1-based record number.
        record: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// Parses a cache file: the releases it lists. Records whose version or JSON is not usable
/// are skipped (cargo skips what it does not understand too); a file with none usable at all
/// is an error naming the first bad one, unless it lists no release.
pub fn parse_cache_file(data: &[u8]) -> Result<Vec<Release>, CacheFileError> {
    let Some((&version, rest)) = data.split_first() else {
        return Err(CacheFileError::Truncated(0));
    };
    if version != CACHE_VERSION {
        return Err(CacheFileError::CacheVersion(version));
    }
    let Some((schema, rest)) = rest.split_first_chunk::<4>() else {
        return Err(CacheFileError::Truncated(data.len()));
    };
    let schema = u32::from_le_bytes(*schema);
    if schema != INDEX_SCHEMA_VERSION {
        return Err(CacheFileError::SchemaVersion(schema));
    }
    // Fields end with a NUL each; the last one's NUL closes the file.
    let rest = rest.strip_suffix(&[0]).unwrap_or(rest);
    let mut fields = rest.split(|b| *b == 0);
    // The index file version (an ETag, a date, a commit): not needed offline.
    let _ = fields.next();
    let mut releases = Vec::new();
    let mut first_error = None;
    let mut record = 0;
    while let Some(version) = fields.next() {
        record += 1;
        let Some(json) = fields.next() else {
            first_error.get_or_insert(CacheFileError::MissingRecord(record));
            break;
        };
        let parsed = std::str::from_utf8(version)
            .map_err(|e| e.to_string())
            .and_then(|v| semver::Version::parse(v).map_err(|e| e.to_string()))
            .and_then(|v| Ok((v, parse_index_line(json)?)));
        match parsed {
            // The version cargo extracted is the record's own; the record says if it is yanked.
            Ok((version, line)) => releases.push(Release {
                version,
                yanked: line.yanked,
            }),
            Err(message) => {
                first_error.get_or_insert(CacheFileError::Record { record, message });
            }
        }
    }
    match first_error {
        Some(e) if releases.is_empty() => Err(e),
        _ => Ok(releases),
    }
}

/// The host part of an index URL as cargo names its cache directories (`127.0.0.1`,
/// `[::1]`, a domain name): no scheme, credentials, port or path.
pub(crate) fn url_host(url: &str) -> Option<&str> {
    let url = url.strip_prefix("sparse+").unwrap_or(url);
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']').map(|(h, _)| &host[..=h.len()])?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// Whether `dir_name` is a cache directory of `host`: `<host>-` and 16 hex digits.
fn is_cache_dir_of(dir_name: &str, host: &str) -> bool {
    dir_name
        .strip_prefix(host)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `.cache` directories cargo may have filled for the index at `url`, in name order.
/// Empty when cargo never used it with this `CARGO_HOME`.
pub(crate) fn cache_dirs(cargo_home: &Path, url: &str) -> Vec<PathBuf> {
    let Some(host) = url_host(url) else {
        return Vec::new();
    };
    // Cargo lowercases host names in URLs.
    let host = host.to_ascii_lowercase();
    let root = cargo_home.join("registry").join("index");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| is_cache_dir_of(n, &host))
        })
        .map(|e| e.path().join(".cache"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Of the files at `relative` under each directory, the most recently written one.
pub(crate) fn newest_file(dirs: &[PathBuf], relative: &str) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(relative))
        .filter_map(|p| {
            let meta = std::fs::metadata(&p)
                .ok()
                .filter(std::fs::Metadata::is_file)?;
            Some((meta.modified().ok(), p))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache file as cargo writes it.
    fn cache_file(releases: &[(&str, &str)]) -> Vec<u8> {
        let mut out = vec![3];
        out.extend(2u32.to_le_bytes());
        out.extend(b"etag: \"abc\"\0");
        for (version, json) in releases {
            out.extend(version.as_bytes());
            out.push(0);
            out.extend(json.as_bytes());
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_cargos_format() {
        let file = cache_file(&[
            ("1.0.0", r#"{"name":"x","vers":"1.0.0","yanked":false}"#),
            ("1.0.1", r#"{"name":"x","vers":"1.0.1","yanked":true}"#),
        ]);
        let r = parse_cache_file(&file).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].version, semver::Version::new(1, 0, 1));
        assert!(!r[0].yanked && r[1].yanked);
        assert_eq!(parse_cache_file(&cache_file(&[])).unwrap(), []);
    }

    #[test]
    fn refuses_other_formats() {
        assert_eq!(parse_cache_file(b""), Err(CacheFileError::Truncated(0)));
        assert_eq!(
            parse_cache_file(b"\x02"),
            Err(CacheFileError::CacheVersion(2))
        );
        assert_eq!(
            parse_cache_file(b"\x03\x02\0"),
            Err(CacheFileError::Truncated(3))
        );
        assert_eq!(
            parse_cache_file(b"\x03\x01\0\0\0e\0"),
            Err(CacheFileError::SchemaVersion(1))
        );
        let mut file = cache_file(&[]);
        file.extend(b"1.0.0");
        assert_eq!(
            parse_cache_file(&file),
            Err(CacheFileError::MissingRecord(1))
        );
        let file = cache_file(&[("x", "{}")]);
        assert!(matches!(
            parse_cache_file(&file),
            Err(CacheFileError::Record { record: 1, .. })
        ));
    }

    #[test]
    fn every_cache_directory_of_the_host_is_a_candidate_and_the_newest_file_wins() {
        let home = testkit::Scratch::new("index-cache-dirs");
        let index = home.join("registry/index");
        for dir in [
            "127.0.0.1-00000000000000aa",
            "127.0.0.1-00000000000000bb",
            "127.0.0.10-00000000000000cc",
            "127.0.0.1-not-a-hash",
        ] {
            std::fs::create_dir_all(index.join(dir).join(".cache/se/rd")).unwrap();
        }
        let dirs = cache_dirs(&home, "sparse+http://127.0.0.1:4321/index/");
        assert_eq!(
            dirs,
            [
                index.join("127.0.0.1-00000000000000aa/.cache"),
                index.join("127.0.0.1-00000000000000bb/.cache"),
            ]
        );
        assert_eq!(newest_file(&dirs, "se/rd/serde"), None);
        let older = dirs[1].join("se/rd/serde");
        std::fs::write(&older, b"old").unwrap();
        assert_eq!(newest_file(&dirs, "se/rd/serde"), Some(older.clone()));
        let newer = dirs[0].join("se/rd/serde");
        std::fs::write(&newer, b"new").unwrap();
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&older)
            .unwrap()
            .set_modified(past)
            .unwrap();
        assert_eq!(newest_file(&dirs, "se/rd/serde"), Some(newer));
        assert!(cache_dirs(&home, "sparse+http://[::1]:1/").is_empty());
    }

    #[test]
    fn hosts_are_cargos_directory_names() {
        assert_eq!(
            url_host("sparse+https://index.example.org/"),
            Some("index.example.org")
        );
        assert!(url_host(crate::sources::cargo_config::CRATES_IO_INDEX).is_some());
        assert_eq!(
            url_host("sparse+http://u:p@127.0.0.1:8080/index/"),
            Some("127.0.0.1")
        );
        assert_eq!(url_host("http://[::1]:80/x"), Some("[::1]"));
        assert_eq!(url_host("nothing"), None);
        assert!(is_cache_dir_of(
            "index.example.org-1949cf8c6b5b557f",
            "index.example.org"
        ));
        assert!(!is_cache_dir_of(
            "index.example.org-1949cf8c6b5b557f-shallow",
            "index.example.org"
        ));
        assert!(!is_cache_dir_of("127.0.0.10-1949cf8c6b5b557f", "127.0.0.1"));
    }
}
