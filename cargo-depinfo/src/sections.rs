//! Decodes the JSON inside `.bldinfo` (build-info's format) and `.dep-v0` (cargo-auditable's
//! format) into an [`Inventory`], checking that it really is the format: known fields with the
//! right types, dependency indices in range, at most one root, SemVer versions.

use std::path::Path;

use serde::Deserialize;

use crate::binary_reader::RawSections;
use crate::inventory::{BuildFacts, Inventory, Kind, Origin, Package};

/// Why a section's JSON was refused. Every message names the file and the section.
#[derive(Debug, thiserror::Error)]
#[error("{path}: section {section}: {message}")]
pub struct FormatError {
    path: String,
    section: &'static str,
    message: String,
}

impl FormatError {
    fn new(path: &Path, section: &'static str, message: impl Into<String>) -> Self {
        FormatError {
            path: path.display().to_string(),
            section,
            message: message.into(),
        }
    }
}

fn unknown() -> String {
    buildinfo::UNKNOWN.to_owned()
}

#[derive(Deserialize)]
struct RawDepV0 {
    packages: Vec<RawPackage>,
    // cargo-auditable: an unknown format is read as the highest known one below it.
    #[serde(default)]
    #[allow(dead_code)]
    format: u32,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    // Always present in `.dep-v0`; in `.bldinfo` entries that only add to `.dep-v0` (see
    // `decode`) leave it out.
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
    // .bldinfo only.
    #[serde(default)]
    direct: bool,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    git_url: Option<String>,
    #[serde(default)]
    git_commit: Option<String>,
}

#[derive(Deserialize)]
struct RawBldinfo {
    format: u32,
    #[serde(default = "unknown")]
    program: String,
    #[serde(default = "unknown")]
    version: String,
    #[serde(default = "unknown")]
    revision: String,
    #[serde(default = "unknown")]
    branch: String,
    #[serde(default)]
    tag: String,
    #[serde(default = "unknown")]
    commit_time: String,
    #[serde(default = "unknown")]
    build_user: String,
    #[serde(default = "unknown")]
    build_date: String,
    #[serde(default = "unknown")]
    rust_version: String,
    #[serde(default = "unknown")]
    rust_commit: String,
    #[serde(default = "unknown")]
    rust_channel: String,
    #[serde(default = "unknown")]
    host: String,
    #[serde(default = "unknown")]
    target: String,
    #[serde(default = "unknown")]
    profile: String,
    #[serde(default = "unknown")]
    opt_level: String,
    #[serde(default)]
    modified: Option<bool>,
    #[serde(default)]
    features: Vec<String>,
    #[serde(default)]
    packages: Vec<RawPackage>,
}

/// Checks and converts the package list; `direct` is computed from the root's edges when the
/// format does not carry it (`.dep-v0`).
fn packages(
    raw: Vec<RawPackage>,
    path: &Path,
    section: &'static str,
    has_direct: bool,
) -> Result<Vec<Package>, FormatError> {
    let len = raw.len();
    let mut out = Vec::with_capacity(len);
    for (i, p) in raw.into_iter().enumerate() {
        let err = |m: String| FormatError::new(path, section, format!("package {i}: {m}"));
        if p.name.is_empty() {
            return Err(err("empty name".into()));
        }
        if semver::Version::parse(&p.version).is_err() {
            return Err(err(format!(
                "version {:?} of {} is not SemVer",
                p.version, p.name
            )));
        }
        let kind = match p.kind.as_deref() {
            None | Some("runtime") => Kind::Runtime,
            Some("build") => Kind::Build,
            Some(other) => return Err(err(format!("unknown kind {other:?}"))),
        };
        if let Some(bad) = p.dependencies.iter().find(|&&d| d >= len || d == i) {
            return Err(err(format!("dependency index {bad} is out of range")));
        }
        let Some(source) = p.source else {
            return Err(err("missing field `source`".into()));
        };
        let mut dependencies = p.dependencies;
        dependencies.sort_unstable();
        dependencies.dedup();
        out.push(Package {
            name: p.name,
            version: p.version,
            source,
            kind,
            direct: p.direct,
            root: p.root,
            checksum: p.checksum.filter(|c| !c.is_empty()),
            git_url: p.git_url.filter(|c| !c.is_empty()),
            git_commit: p.git_commit.filter(|c| !c.is_empty()),
            dependencies,
        });
    }
    let roots: Vec<usize> = (0..out.len()).filter(|&i| out[i].root).collect();
    if roots.len() > 1 {
        return Err(FormatError::new(
            path,
            section,
            format!("{} packages are marked as the root", roots.len()),
        ));
    }
    if !has_direct && let Some(&r) = roots.first() {
        for d in out[r].dependencies.clone() {
            out[d].direct = true;
        }
    }
    Ok(out)
}

fn parse<'a, T: Deserialize<'a>>(
    json: &'a [u8],
    path: &Path,
    section: &'static str,
) -> Result<T, FormatError> {
    serde_json::from_slice(json)
        .map_err(|e| FormatError::new(path, section, format!("not the expected JSON format: {e}")))
}

/// Decodes `.dep-v0` JSON (cargo-auditable's format).
pub fn decode_dep_v0(json: &[u8], path: &Path) -> Result<Inventory, FormatError> {
    const SECTION: &str = buildinfo::section::DEP_V0;
    let raw: RawDepV0 = parse(json, path, SECTION)?;
    let packages = packages(raw.packages, path, SECTION, false)?;
    let (program, version) = packages.iter().find(|p| p.root).map_or_else(
        || (unknown(), unknown()),
        |r| (r.name.clone(), r.version.clone()),
    );
    Ok(Inventory {
        path: path.display().to_string(),
        origin: Origin::DepV0,
        program,
        version,
        build: None,
        packages,
    })
}

/// Decodes `.bldinfo` JSON (build-info's format, see FORMAT.md) on its own. When its package
/// entries only add to `.dep-v0` (no `source`), use [`decode`], which merges the two.
pub fn decode_bldinfo(json: &[u8], path: &Path) -> Result<Inventory, FormatError> {
    decode_bldinfo_with(json, path, None)
}

/// Merges `.bldinfo` entries without `source` (direct, checksum, git origin, keyed by name
/// and version) into the `.dep-v0` packages.
fn overlay(
    raw: Vec<RawPackage>,
    mut base: Vec<Package>,
    path: &Path,
) -> Result<Vec<Package>, FormatError> {
    const SECTION: &str = buildinfo::section::BUILD_INFO;
    for (i, extra) in raw.into_iter().enumerate() {
        let mut matched = false;
        for p in base
            .iter_mut()
            .filter(|p| p.name == extra.name && p.version == extra.version)
        {
            matched = true;
            p.direct |= extra.direct;
            if let Some(c) = extra.checksum.clone().filter(|c| !c.is_empty()) {
                p.checksum = Some(c);
            }
            if let Some(u) = extra.git_url.clone().filter(|u| !u.is_empty()) {
                p.git_url = Some(u);
            }
            if let Some(c) = extra.git_commit.clone().filter(|c| !c.is_empty()) {
                p.git_commit = Some(c);
            }
        }
        if !matched {
            return Err(FormatError::new(
                path,
                SECTION,
                format!(
                    "package {i}: {} {} is not in .dep-v0",
                    extra.name, extra.version
                ),
            ));
        }
    }
    Ok(base)
}

fn decode_bldinfo_with(
    json: &[u8],
    path: &Path,
    dep_v0: Option<Vec<Package>>,
) -> Result<Inventory, FormatError> {
    const SECTION: &str = buildinfo::section::BUILD_INFO;
    let raw: RawBldinfo = parse(json, path, SECTION)?;
    if raw.format == 0 || raw.format > buildinfo::section::BUILD_INFO_FORMAT {
        return Err(FormatError::new(
            path,
            SECTION,
            format!(
                "format {} is not supported (this cargo-depinfo reads format {})",
                raw.format,
                buildinfo::section::BUILD_INFO_FORMAT
            ),
        ));
    }
    let full = raw.packages.iter().all(|p| p.source.is_some());
    let packages = match dep_v0 {
        // Entries that only add to `.dep-v0`.
        Some(base) if !full || raw.packages.is_empty() => overlay(raw.packages, base, path)?,
        None if !full => {
            return Err(FormatError::new(
                path,
                SECTION,
                "package entries without `source` need a .dep-v0 section, and there is none",
            ));
        }
        _ => packages(raw.packages, path, SECTION, true)?,
    };
    let mut features = raw.features;
    features.sort();
    Ok(Inventory {
        path: path.display().to_string(),
        origin: Origin::BuildInfo,
        program: raw.program,
        version: raw.version,
        build: Some(BuildFacts {
            revision: raw.revision,
            branch: raw.branch,
            tag: raw.tag,
            commit_time: raw.commit_time,
            modified: raw.modified,
            build_user: raw.build_user,
            build_date: raw.build_date,
            rust_version: raw.rust_version,
            rust_commit: raw.rust_commit,
            rust_channel: raw.rust_channel,
            host: raw.host,
            target: raw.target,
            profile: raw.profile,
            opt_level: raw.opt_level,
            features,
        }),
        packages,
    })
}

/// The inventory of a binary from its sections. With `.bldinfo`, its facts, and its package
/// list: either complete (every entry has `source`) or, as build-info writes it now, only
/// what `.dep-v0` cannot hold (direct, checksum, git origin) merged into `.dep-v0`'s list.
/// Otherwise `.dep-v0` alone. `None` when the binary has neither.
pub fn decode(raw: &RawSections, path: &Path) -> Result<Option<Inventory>, FormatError> {
    let dep_v0 = raw
        .dep_v0
        .as_deref()
        .map(|json| decode_dep_v0(json, path))
        .transpose()?;
    match raw.bldinfo.as_deref() {
        Some(json) => Ok(Some(decode_bldinfo_with(
            json,
            path,
            dep_v0.map(|d| d.packages),
        )?)),
        None => Ok(dep_v0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP_V0: &str = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.219","source":"crates.io"},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"}],"format":1}"#;

    #[test]
    fn decodes_cargo_auditable_json() {
        let inv = decode_dep_v0(DEP_V0.as_bytes(), Path::new("bin")).unwrap();
        assert_eq!(
            (inv.program.as_str(), inv.version.as_str()),
            ("app", "0.1.0")
        );
        assert_eq!(inv.origin, Origin::DepV0);
        assert!(inv.packages[1].direct && inv.packages[2].direct);
        assert_eq!(inv.packages[2].kind, Kind::Build);
        assert!(inv.build.is_none());
    }

    #[test]
    fn json_that_is_not_the_format_is_one_clear_error() {
        for (json, want) in [
            (
                "{\"hello\":1}",
                "not the expected JSON format: missing field `packages`",
            ),
            ("[1,2,3]", "not the expected JSON format"),
            ("not json", "not the expected JSON format"),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","dependencies":[5]}]}"#,
                "package 0: dependency index 5 is out of range",
            ),
            (
                r#"{"packages":[{"name":"a","version":"one","source":"local"}]}"#,
                "package 0: version \"one\" of a is not SemVer",
            ),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true},{"name":"b","version":"1.0.0","source":"local","root":true}]}"#,
                "2 packages are marked as the root",
            ),
        ] {
            let err = decode_dep_v0(json.as_bytes(), Path::new("x/bin"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("x/bin: section .dep-v0: "), "{err}");
            assert!(err.contains(want), "{err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn a_newer_bldinfo_format_is_refused() {
        let err = decode_bldinfo(br#"{"format":2}"#, Path::new("b"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "b: section .bldinfo: format 2 is not supported (this cargo-depinfo reads format 1)"
        );
    }

    #[test]
    fn bldinfo_entries_without_source_add_to_dep_v0() {
        let raw = RawSections {
            format: crate::BinaryFormat::Elf,
            bldinfo: Some(br#"{"format":1,"program":"app","version":"0.1.0","packages":[{"name":"serde","version":"1.0.219","direct":true,"checksum":"ab"},{"name":"serde_derive","version":"1.0.219","direct":true,"git_url":"https://example.invalid/s","git_commit":"0123"}]}"#.to_vec()),
            dep_v0: Some(DEP_V0.as_bytes().to_vec()),
            bytes_read: 0,
        };
        let inv = decode(&raw, Path::new("bin")).unwrap().unwrap();
        assert_eq!(inv.packages.len(), 3);
        assert_eq!(inv.packages[1].checksum.as_deref(), Some("ab"));
        assert_eq!(inv.packages[2].git_commit.as_deref(), Some("0123"));
        assert!(inv.packages[0].root && inv.packages[1].direct);

        let alone = decode_bldinfo(
            br#"{"format":1,"packages":[{"name":"serde","version":"1.0.219"}]}"#,
            Path::new("bin"),
        )
        .unwrap_err()
        .to_string();
        assert!(alone.contains("need a .dep-v0 section"), "{alone}");
        let stray = RawSections {
            bldinfo: Some(
                br#"{"format":1,"packages":[{"name":"nope","version":"1.0.0"}]}"#.to_vec(),
            ),
            ..raw
        };
        let err = decode(&stray, Path::new("bin")).unwrap_err().to_string();
        assert_eq!(
            err,
            "bin: section .bldinfo: package 0: nope 1.0.0 is not in .dep-v0"
        );
    }

    #[test]
    fn bldinfo_without_packages_takes_them_from_dep_v0() {
        let raw = RawSections {
            format: crate::BinaryFormat::Elf,
            bldinfo: Some(br#"{"format":1,"program":"app","version":"0.1.0","modified":null,"features":["b","a"]}"#.to_vec()),
            dep_v0: Some(DEP_V0.as_bytes().to_vec()),
            bytes_read: 0,
        };
        let inv = decode(&raw, Path::new("bin")).unwrap().unwrap();
        assert_eq!(inv.origin, Origin::BuildInfo);
        assert_eq!(inv.packages.len(), 3);
        let build = inv.build.unwrap();
        assert_eq!(build.features, ["a", "b"]);
        assert_eq!(build.revision, "unknown");
    }
}
