//! Package URLs (purl, the package-url specification's `cargo` type) of the packages of an
//! inventory: the identity SBOM consumers match advisories by, and what an SBOM says about a
//! package that gets none.
//!
//! The `cargo` type's default repository is crates.io: a bare `pkg:cargo/NAME@VERSION` *is*
//! the crates.io package of that name, and scanners match it against crates.io's
//! advisories. So only crates.io packages get the bare form. A package from another registry
//! is qualified with `repository_url`, a git package with `vcs_url` (the commit pinned), and a
//! path crate gets no purl at all (README, "Identities in SBOMs", says why).

use std::fmt::Write as _;

use depinfo_read::inventory::Package;

/// The package URL of a package, canonical per the purl specification (percent-encoding,
/// sorted qualifiers):
///
/// - crates.io: `pkg:cargo/NAME@VERSION`;
/// - another registry whose URL the binary carries (`.bldinfo`'s `registry_url`):
///   `pkg:cargo/NAME@VERSION?repository_url=URL`;
/// - git, repository and commit known: `pkg:cargo/NAME@VERSION?vcs_url=git+URL@COMMIT`;
/// - `None` for path crates (`local`), for registry and git packages whose URL the binary
///   does not carry (a plain cargo-auditable binary knows only the source kind), and for a
///   source this reader does not know: [`identity_note`] says what is known instead.
pub fn purl(p: &Package) -> Option<String> {
    let qualifier = match p.source.as_str() {
        "crates.io" => None,
        "registry" => Some(("repository_url", p.registry_url.clone()?)),
        "git" => {
            let (url, commit) = p.git_url.as_deref().zip(p.git_commit.as_deref())?;
            Some(("vcs_url", format!("git+{url}@{commit}")))
        }
        _ => return None,
    };
    let mut out = String::with_capacity(16 + p.name.len() + p.version.len());
    out.push_str("pkg:cargo/");
    encode(&mut out, &p.name);
    out.push('@');
    encode(&mut out, &p.version);
    if let Some((key, value)) = qualifier {
        out.push('?');
        out.push_str(key);
        out.push('=');
        encode(&mut out, &value);
    }
    Some(out)
}

/// What an SBOM says about a package's identity beside its purl (the `cargo:identity`
/// property): `None` when the purl says it all (crates.io, another registry or git with their
/// URLs), else one of these fixed phrases.
pub fn identity_note(p: &Package) -> Option<&'static str> {
    let on_disk = |url: &str| url.trim_start_matches("sparse+").starts_with("file://");
    match p.source.as_str() {
        "crates.io" => None,
        "local" => Some(LOCAL),
        "registry" => match p.registry_url.as_deref() {
            None => Some(REGISTRY_UNRECORDED),
            Some(url) if on_disk(url) => Some(REGISTRY_ON_DISK),
            Some(_) => None,
        },
        "git" => match (p.git_url.as_deref(), p.git_commit.as_deref()) {
            (Some(url), Some(_)) if on_disk(url) => Some(GIT_ON_DISK),
            (Some(_), Some(_)) => None,
            _ => Some(GIT_UNRECORDED),
        },
        _ => Some(UNKNOWN_SOURCE),
    }
}

/// The phrase for a path crate.
pub const LOCAL: &str =
    "path crate (a workspace member or path dependency): no public identity, no purl";
/// The phrase for a git package whose repository and commit the binary does not carry.
pub const GIT_UNRECORDED: &str = "git dependency, repository and commit not recorded: no purl";
/// The phrase for a git package from a repository on the build machine's disk.
pub const GIT_ON_DISK: &str =
    "git repository on the build machine's disk: vcs_url names it without its path";
/// The phrase for another registry's package whose URL the binary does not carry.
pub const REGISTRY_UNRECORDED: &str =
    "registry other than crates.io, its URL not recorded: no purl";
/// The phrase for a package from a registry index on the build machine's disk.
pub const REGISTRY_ON_DISK: &str =
    "registry index on the build machine's disk: repository_url names it without its path";
/// The phrase for a source this reader does not know.
pub const UNKNOWN_SOURCE: &str = "source not known to this reader: no purl";

/// Appends `s` percent-encoded as the purl specification encodes a name, a version or a
/// qualifier value: every UTF-8 byte but ASCII letters, digits, `.-_~` and `:` becomes `%XX`
/// (upper-case hex, as in the specification's own examples).
fn encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use depinfo_read::inventory::Kind;

    fn package(name: &str, version: &str, source: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            source: source.into(),
            kind: Kind::Runtime,
            direct: false,
            root: false,
            checksum: None,
            git_url: None,
            git_commit: None,
            registry_url: None,
            dependencies: Vec::new(),
        }
    }

    #[test]
    fn each_source_gets_its_identity() {
        let crates_io = package("serde", "1.0.219", "crates.io");
        assert_eq!(purl(&crates_io).unwrap(), "pkg:cargo/serde@1.0.219");
        assert_eq!(identity_note(&crates_io), None);

        let mut registry = package("time", "0.1.45", "registry");
        assert_eq!(purl(&registry), None);
        assert_eq!(identity_note(&registry), Some(REGISTRY_UNRECORDED));
        registry.registry_url = Some("sparse+https://example.invalid/index/".into());
        assert_eq!(
            purl(&registry).unwrap(),
            "pkg:cargo/time@0.1.45?repository_url=sparse%2Bhttps:%2F%2Fexample.invalid%2Findex%2F"
        );
        assert_eq!(identity_note(&registry), None);
        registry.registry_url = Some("file://my-index".into());
        assert_eq!(identity_note(&registry), Some(REGISTRY_ON_DISK));

        let mut git = package("log", "0.4.0", "git");
        assert_eq!(purl(&git), None);
        assert_eq!(identity_note(&git), Some(GIT_UNRECORDED));
        git.git_url = Some("https://example.invalid/log.git".into());
        assert_eq!(
            purl(&git),
            None,
            "a repository without its commit pins nothing"
        );
        git.git_commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        assert_eq!(
            purl(&git).unwrap(),
            "pkg:cargo/log@0.4.0?vcs_url=git%2Bhttps:%2F%2Fexample.invalid%2Flog.git\
             %400123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(identity_note(&git), None);
        git.git_url = Some("file://log.git".into());
        assert_eq!(identity_note(&git), Some(GIT_ON_DISK));

        let local = package("time", "0.1.45", "local");
        assert_eq!(purl(&local), None);
        assert_eq!(identity_note(&local), Some(LOCAL));
        let other = package("x", "1.0.0", "svn");
        assert_eq!(purl(&other), None);
        assert_eq!(identity_note(&other), Some(UNKNOWN_SOURCE));
    }

    #[test]
    fn a_registry_url_on_another_source_changes_nothing() {
        for source in ["crates.io", "git", "local"] {
            let mut p = package("time", "0.3.0", source);
            let before = (purl(&p), identity_note(&p));
            p.registry_url = Some("sparse+https://example.invalid/index/".into());
            assert_eq!((purl(&p), identity_note(&p)), before, "{source}");
        }
    }

    #[test]
    fn names_and_versions_are_percent_encoded() {
        let p = package("odd name", "1.0.0-rc.1+build.5", "crates.io");
        assert_eq!(
            purl(&p).unwrap(),
            "pkg:cargo/odd%20name@1.0.0-rc.1%2Bbuild.5"
        );
        let mut s = String::new();
        encode(&mut s, "é/?#&=@%");
        assert_eq!(s, "%C3%A9%2F%3F%23%26%3D%40%25");
    }

    /// The specification's own build examples (vendored in tests/purl-spec/examples.json,
    /// source and commit named there): every `cargo` one through [`purl`], and every
    /// qualifier value this module writes (`vcs_url`, `repository_url`) through [`encode`].
    #[test]
    fn the_specifications_build_examples() {
        let text = include_str!("../../tests/purl-spec/examples.json");
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut checked = 0;
        for t in doc["tests"].as_array().unwrap() {
            if t["test_type"] != "build" || t["expected_failure"] == true {
                continue;
            }
            let input = &t["input"];
            let want = t["expected_output"].as_str().unwrap();
            if input["type"] == "cargo" {
                let p = package(
                    input["name"].as_str().unwrap(),
                    input["version"].as_str().unwrap(),
                    "crates.io",
                );
                assert_eq!(purl(&p).as_deref(), Some(want), "{t}");
                checked += 1;
            }
            for key in ["vcs_url", "repository_url"] {
                if let Some(value) = input["qualifiers"][key].as_str() {
                    let mut encoded = format!("{key}=");
                    encode(&mut encoded, value);
                    assert!(want.ends_with(&format!("?{encoded}")), "{want} / {encoded}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 6, "the vendored examples this test uses");
    }
}
