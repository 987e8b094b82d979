//! Cargo.lock: the full git commits and the registry checksums `cargo tree` does not print.

use std::collections::BTreeMap;

use super::cargo_tree::PackageText;
use crate::model::{GitOrigin, Source};

/// Cargo.lock entries: `(name, version)` to `(source, checksum)` pairs (the checksum is empty
/// for git and path packages).
pub type Checksums = BTreeMap<(String, String), Vec<(String, String)>>;

/// Reads the `[[package]]` sources and checksums of a Cargo.lock (format v1 `[metadata]`
/// checksums are not supported: they predate 2019).
pub fn lockfile_checksums(text: &str) -> Checksums {
    let mut out: Checksums = BTreeMap::new();
    let mut flush = |name: &mut Option<String>,
                     version: &mut Option<String>,
                     source: &mut Option<String>,
                     checksum: &mut Option<String>| {
        if let (Some(n), Some(v), Some(s)) = (name.take(), version.take(), source.take()) {
            out.entry((n, v))
                .or_default()
                .push((s, checksum.take().unwrap_or_default()));
        }
        *source = None;
    };
    let (mut name, mut version, mut source, mut checksum) = (None, None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(&mut name, &mut version, &mut source, &mut checksum);
            name = None;
            version = None;
            checksum = None;
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            continue;
        };
        match key {
            "name" => name = Some(value.to_owned()),
            "version" => version = Some(value.to_owned()),
            "source" => source = Some(value.to_owned()),
            "checksum" => checksum = Some(value.to_owned()),
            _ => {}
        }
    }
    flush(&mut name, &mut version, &mut source, &mut checksum);
    out
}

/// cargo tree prints a short commit; Cargo.lock has the full one (`git+URL#SHA`).
pub(super) fn full_git_commit(t: &PackageText, origin: &GitOrigin, lock: &Checksums) -> GitOrigin {
    let full = lock
        .get(&(t.name.clone(), t.version.clone()))
        .into_iter()
        .flatten()
        .filter(|(s, _)| s.starts_with("git+"))
        .filter_map(|(s, _)| s.rsplit_once('#').map(|(_, sha)| sha))
        .find(|sha| sha.starts_with(&origin.commit));
    GitOrigin {
        url: origin.url.clone(),
        commit: full.map_or_else(|| origin.commit.clone(), str::to_owned),
    }
}

/// Whether a Cargo.lock `source` is crates.io's index (git or sparse): the rule
/// [`checksum_for`] already tells the two registries apart by.
fn is_crates_io(source: &str) -> bool {
    source.contains("crates.io")
}

/// The URL of the registry a [`Source::Registry`] package came from, from its Cargo.lock
/// `source` (cargo tree prints only the registry's name): a sparse index keeps its `sparse+`
/// prefix, a git index is its plain URL (`registry+` removed), as `[registries]` in cargo's
/// configuration names them; credentials, query and fragment are removed, and a `file://`
/// index keeps only its last path component. `None` when Cargo.lock names no such registry
/// for this name and version, or several.
pub(super) fn registry_url_for(t: &PackageText, lock: &Checksums) -> Option<String> {
    if t.source != Source::Registry {
        return None;
    }
    let mut urls = lock
        .get(&(t.name.clone(), t.version.clone()))
        .into_iter()
        .flatten()
        .filter(|(s, _)| !is_crates_io(s))
        .filter_map(|(s, _)| registry_url(s));
    let first = urls.next()?;
    // Two other registries with this name and version: no way to tell which one it was.
    urls.all(|u| u == first).then_some(first)
}

/// A Cargo.lock registry `source` as the URL [`registry_url_for`] gives; `None` for sources
/// that are not registries.
pub(super) fn registry_url(source: &str) -> Option<String> {
    let (prefix, url) = if let Some(url) = source.strip_prefix("sparse+") {
        ("sparse+", url)
    } else {
        ("", source.strip_prefix("registry+")?)
    };
    // A URL never holds whitespace or control characters; whatever does is not one.
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let scheme_end = url.find("://")? + 3;
    let clean = super::cargo_tree::sanitize_url(&url[..scheme_end], &url[scheme_end..]);
    Some(format!("{prefix}{clean}"))
}

pub(super) fn checksum_for(t: &PackageText, checksums: &Checksums) -> Option<String> {
    if !matches!(t.source, Source::CratesIo | Source::Registry) {
        return None;
    }
    let candidates = checksums.get(&(t.name.clone(), t.version.clone()))?;
    let registry: Vec<&(String, String)> = candidates
        .iter()
        .filter(|(s, c)| (s.starts_with("registry+") || s.starts_with("sparse+")) && !c.is_empty())
        .collect();
    match registry.as_slice() {
        [] => None,
        [(_, c)] => Some(c.clone()),
        many => {
            // The same name and version from several registries: crates.io's index URL names it.
            let want_crates_io = t.source == Source::CratesIo;
            many.iter()
                .find(|(s, _)| is_crates_io(s) == want_crates_io)
                .map(|(_, c)| c.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::graph::cargo_tree::parse_package;
    use crate::capture::graph::lockfile_checksums;

    const LOCK: &str = "version = 4\n\n\
        [[package]]\nname = \"itoa\"\nversion = \"1.0.18\"\n\
        source = \"registry+https://example.invalid/crates.io-index\"\nchecksum = \"aa\"\n\n\
        [[package]]\nname = \"itoa\"\nversion = \"1.0.18\"\n\
        source = \"sparse+https://user:token@example.invalid/second/index/?x=1#frag\"\nchecksum = \"bb\"\n\n\
        [[package]]\nname = \"gix\"\nversion = \"0.1.0\"\n\
        source = \"registry+file:///home/builder/registries/third-index\"\nchecksum = \"cc\"\n\n\
        [[package]]\nname = \"twice\"\nversion = \"1.0.0\"\n\
        source = \"sparse+https://one.example.invalid/index/\"\nchecksum = \"dd\"\n\n\
        [[package]]\nname = \"twice\"\nversion = \"1.0.0\"\n\
        source = \"sparse+https://two.example.invalid/index/\"\nchecksum = \"ee\"\n";

    fn url(tree_line: &str) -> Option<String> {
        let text = parse_package(tree_line).unwrap();
        registry_url_for(&text, &lockfile_checksums(LOCK))
    }

    #[test]
    fn another_registrys_url_comes_from_cargo_lock_without_credentials_or_paths() {
        // cargo tree names another registry by its name only; Cargo.lock has its URL.
        assert_eq!(
            url("itoa v1.0.18 (registry `second`)").as_deref(),
            Some("sparse+https://example.invalid/second/index/")
        );
        // A git index on the build machine's disk: its name, never its path.
        assert_eq!(
            url("gix v0.1.0 (registry `third`)").as_deref(),
            Some("file://third-index")
        );
        // crates.io's own package of the same name and version has no registry URL.
        assert_eq!(url("itoa v1.0.18"), None);
        // Two other registries with one name and version: not known which.
        assert_eq!(url("twice v1.0.0 (registry `one`)"), None);
        // Not in Cargo.lock at all.
        assert_eq!(url("absent v1.0.0 (registry `one`)"), None);
    }

    #[test]
    fn registry_sources_are_told_from_the_rest() {
        for (source, want) in [
            (
                "sparse+https://h.invalid/i/",
                Some("sparse+https://h.invalid/i/"),
            ),
            (
                "registry+https://h.invalid/i.git",
                Some("https://h.invalid/i.git"),
            ),
            (
                "registry+ssh://git@h.invalid:22/i.git",
                Some("ssh://h.invalid:22/i.git"),
            ),
            ("git+https://h.invalid/r.git#0123", None),
            ("path+file:///w/a", None),
            ("registry+no-scheme", None),
            ("sparse+https://h.invalid/a b/", None),
            ("sparse+https://h.invalid/\u{7}/", None),
        ] {
            assert_eq!(registry_url(source).as_deref(), want, "{source}");
        }
    }

    proptest::proptest! {
        /// Whatever Cargo.lock says: no panic, never longer than the source, never a user
        /// name, password or token, never a `file://` path, and only registry sources give one.
        #[test]
        fn registry_urls_never_carry_credentials_or_paths(
            kind in proptest::sample::select(vec!["sparse+", "registry+", "git+", "path+", ""]),
            scheme in proptest::sample::select(vec!["https://", "http://", "ssh://", "file://", ""]),
            user in "[a-z]{0,6}(:[a-zA-Z0-9]{1,12})?@",
            rest in "[a-zA-Z0-9./:@?#%+_ -]{0,40}",
        ) {
            let source = format!("{kind}{scheme}{user}{rest}");
            let got = registry_url(&source);
            if !matches!(kind, "sparse+" | "registry+") {
                proptest::prop_assert!(got.is_none(), "{source} -> {got:?}");
            }
            if let Some(url) = got {
                proptest::prop_assert!(url.len() <= source.len(), "{source} -> {url}");
                let authority = url.split("://").nth(1).unwrap_or("");
                let authority = authority.split('/').next().unwrap_or("");
                proptest::prop_assert!(!authority.contains('@'), "{source} -> {url}");
                proptest::prop_assert!(!url.contains(['?', '#', ' ']), "{source} -> {url}");
                if scheme == "file://" {
                    proptest::prop_assert!(!url.trim_start_matches("sparse+").trim_start_matches("file://").contains('/'), "{source} -> {url}");
                }
            }
        }
    }
}
