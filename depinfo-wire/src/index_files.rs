//! The two file formats of a registry's index, parsed without I/O: the sparse index file
//! (one JSON object per line, at least `vers` and `yanked`), as a server or a local registry
//! serves it, and cargo's binary cache of it (version 3), as `outdated --offline` reads it
//! from `$CARGO_HOME` (cargo depinfo's `sources::index_cache` finds the file):
//!
//! ```text
//! 0x03 | index schema version (u32, little endian: 2) | index file version | 0x00
//! then, per release: semver version | 0x00 | JSON line of the index | 0x00
//! ```
//!
//! The index file version is the server's `ETag` or `Last-Modified` (or a git commit): it is
//! not checked, as the cache is all there is offline. Both formats give the same
//! [`Release`]s; cargo depinfo's `sources::sparse_index` fetches or reads the files.

use serde::Deserialize;

/// One release of a crate, as listed in its index file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// The version.
    pub version: semver::Version,
    /// Withdrawn by its authors: never newest.
    pub yanked: bool,
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

/// What is read of one line (one release) of an index file.
#[derive(Deserialize)]
pub(crate) struct Line {
    vers: String,
    #[serde(default)]
    pub(crate) yanked: bool,
}

/// Parses one line of an index file (cargo's cache holds the same JSON).
pub(crate) fn parse_index_line(line: &[u8]) -> Result<Line, String> {
    serde_json::from_slice(line).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
