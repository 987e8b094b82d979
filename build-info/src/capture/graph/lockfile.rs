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
