//! The sections of a binary as an [`Inventory`]: buildinfo's model decodes and validates the
//! JSON (`buildinfo::model::decode_sections`); this adds the file's path to every error.

use std::path::Path;

use buildinfo::model::{self, BuildFacts, DecodeError, Graph};

use crate::binary_reader::RawSections;
use crate::inventory::{Inventory, Origin, Package};

/// Why a section's JSON was refused. Every message names the file and the section.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct FormatError {
    path: String,
    source: DecodeError,
}

impl FormatError {
    fn new(path: &Path) -> impl FnOnce(DecodeError) -> Self {
        move |source| FormatError {
            path: path.display().to_string(),
            source,
        }
    }
}

fn inventory(path: &Path, facts: Option<BuildFacts>, graph: Graph) -> Inventory {
    let (program, version) = match (&facts, graph.root()) {
        (Some(f), _) => (f.program.clone(), f.version.clone()),
        (None, Some(root)) => (root.name.clone(), root.version.clone()),
        (None, None) => (buildinfo::UNKNOWN.to_owned(), buildinfo::UNKNOWN.to_owned()),
    };
    Inventory {
        path: path.display().to_string(),
        origin: if facts.is_some() {
            Origin::BuildInfo
        } else {
            Origin::DepV0
        },
        program,
        version,
        build: facts,
        packages: graph.packages.into_iter().map(Package::from).collect(),
        format: None,
    }
}

/// Decodes `.dep-v0` JSON (cargo-auditable's format).
pub fn decode_dep_v0(json: &[u8], path: &Path) -> Result<Inventory, FormatError> {
    let graph = model::decode_dep_v0(json).map_err(FormatError::new(path))?;
    Ok(inventory(path, None, graph))
}

/// Decodes `.bldinfo` JSON (buildinfo's format, see FORMAT.md) on its own. When its package
/// entries only add to `.dep-v0` (no `source`), use [`decode`], which merges the two.
pub fn decode_bldinfo(json: &[u8], path: &Path) -> Result<Inventory, FormatError> {
    let (facts, graph) = model::decode_bldinfo(json, None).map_err(FormatError::new(path))?;
    Ok(inventory(path, Some(facts), graph))
}

/// The inventory of a binary from its sections: `.bldinfo`'s facts and its package entries
/// merged into `.dep-v0`'s list, or `.dep-v0` alone. `None` when the binary has neither.
pub fn decode(raw: &RawSections, path: &Path) -> Result<Option<Inventory>, FormatError> {
    let sections = model::decode_sections(raw.dep_v0.as_deref(), raw.bldinfo.as_deref())
        .map_err(FormatError::new(path))?;
    Ok(sections.map(|s| Inventory {
        format: Some(raw.format),
        ..inventory(path, s.facts, s.graph)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Kind;

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
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true,"dependencies":[0]}]}"#,
                "package 0: depends on itself",
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
            "b: section .bldinfo: format 2 is not supported (this reader knows format 1)"
        );
    }

    #[test]
    fn bldinfo_entries_without_source_add_to_dep_v0() {
        let raw = RawSections {
            format: crate::binary_reader::BinaryFormat::Elf,
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
            format: crate::binary_reader::BinaryFormat::Elf,
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

    #[test]
    fn another_registrys_url_reaches_the_package_of_that_source_only() {
        let dep_v0 = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"priv","version":"1.0.0","source":"registry"},{"name":"serde","version":"1.0.219","source":"crates.io"}],"format":1}"#;
        let raw = RawSections {
            format: crate::binary_reader::BinaryFormat::Elf,
            bldinfo: Some(br#"{"format":1,"packages":[{"name":"priv","version":"1.0.0","registry_url":"sparse+https://example.invalid/index/"},{"name":"serde","version":"1.0.219","registry_url":"sparse+https://example.invalid/index/"}]}"#.to_vec()),
            dep_v0: Some(dep_v0.as_bytes().to_vec()),
            bytes_read: 0,
        };
        let inv = decode(&raw, Path::new("bin")).unwrap().unwrap();
        assert_eq!(
            inv.packages[1].registry_url.as_deref(),
            Some("sparse+https://example.invalid/index/")
        );
        // `.dep-v0` says serde is crates.io's: a registry URL on it is ignored.
        assert_eq!(inv.packages[2].registry_url, None);
        // cargo-auditable's section alone knows the source kind only.
        let alone = decode_dep_v0(dep_v0.as_bytes(), Path::new("bin")).unwrap();
        assert!(alone.packages.iter().all(|p| p.registry_url.is_none()));
    }
}
