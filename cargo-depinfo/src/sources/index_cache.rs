//! Cargo's own on-disk cache of index files, read by `outdated --offline`: where the files
//! are. Their format is read by [`depinfo_wire::index_files`].
//!
//! Each registry cargo has used has a directory `$CARGO_HOME/registry/index/<host>-<hash>/`
//! (`<host>` is the index URL's host, `<hash>` 16 hex digits of a hash of the source id whose
//! function changed between cargo versions, so it is not computed here: every directory of
//! the host is a candidate). Index files are cached under `.cache/` in the sparse layout
//! (`se/rd/serde`). When several candidate directories hold a crate's file (the same host on
//! several ports, or caches of two cargo versions), the most recently written file wins.

use std::path::{Path, PathBuf};

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
