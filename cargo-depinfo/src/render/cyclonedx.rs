//! CycloneDX JSON (1.6, or 1.5 on request): one BOM per program, deterministic (no serial
//! number, no timestamp).
//!
//! The BOM is serialized straight from the inventory through borrowing structs: no
//! `serde_json::Value` tree, which cost about 6 KiB per package (400 MB for 60,000). What
//! remains is the output itself and one bom-ref string per package. Fields are declared in
//! the order `serde_json` has always written them (sorted), so the output is unchanged.

use std::collections::BTreeSet;

use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer};

use super::purl::{identity_note, purl};
use depinfo_read::inventory::{Inventory, Kind, Package};

#[derive(Serialize)]
struct Bom<'a> {
    #[serde(rename = "bomFormat")]
    format: &'static str,
    components: Components<'a>,
    dependencies: Dependencies<'a>,
    metadata: Metadata<'a>,
    #[serde(rename = "specVersion")]
    spec_version: CycloneDxVersion,
    version: u32,
}

/// The CycloneDX specification version a BOM is written for. The two differ in no field this
/// writer uses; the version is what a consumer checks the BOM against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum CycloneDxVersion {
    /// CycloneDX 1.6 (the default).
    #[default]
    #[serde(rename = "1.6")]
    V1_6,
    /// CycloneDX 1.5, for consumers that read no later version.
    #[serde(rename = "1.5")]
    V1_5,
}

#[derive(Serialize)]
struct Metadata<'a> {
    component: MetadataComponent<'a>,
    tools: Tools,
}

#[derive(Serialize)]
#[serde(untagged)]
enum MetadataComponent<'a> {
    Package(Component<'a>),
    /// No root package: the program's name and version only.
    Program {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        version: &'a str,
    },
}

#[derive(Serialize)]
struct Tools {
    components: [Tool; 1],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "bom-ref")]
    bom_ref: &'a str,
    #[serde(rename = "externalReferences", skip_serializing_if = "Option::is_none")]
    external_references: Option<[ExternalReference<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hashes: Option<[Hash<'a>; 1]>,
    name: &'a str,
    properties: Vec<Property<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct ExternalReference<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Hash<'a> {
    alg: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct Property<'a> {
    name: &'static str,
    value: &'a str,
}

impl<'a> Component<'a> {
    fn new(bom_ref: &'a str, p: &'a Package, kind: &'static str) -> Self {
        let mut properties = vec![Property {
            name: "cargo:source",
            value: &p.source,
        }];
        if let Some(commit) = &p.git_commit {
            properties.push(Property {
                name: "cargo:git_commit",
                value: commit,
            });
        }
        if let Some(note) = identity_note(p) {
            properties.push(Property {
                name: "cargo:identity",
                value: note,
            });
        }
        Component {
            bom_ref,
            external_references: p
                .git_url
                .as_deref()
                .map(|url| [ExternalReference { kind: "vcs", url }]),
            hashes: sha256(p).map(|content| {
                [Hash {
                    alg: "SHA-256",
                    content,
                }]
            }),
            name: &p.name,
            properties,
            purl: purl(p),
            scope: (!p.root).then_some(match p.kind {
                Kind::Runtime => "required",
                Kind::Build => "excluded",
            }),
            kind,
            version: &p.version,
        }
    }
}

/// The package's Cargo.lock checksum when it is a SHA-256 digest in hex (what cargo writes);
/// anything else a binary claims is left out rather than written as a hash.
pub(super) fn sha256(p: &Package) -> Option<&str> {
    p.checksum
        .as_deref()
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Every package but the root, as a library component, built one at a time while written.
struct Components<'a> {
    packages: &'a [Package],
    refs: &'a [String],
}

impl Serialize for Components<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for (p, bom_ref) in self.packages.iter().zip(self.refs).filter(|(p, _)| !p.root) {
            seq.serialize_element(&Component::new(bom_ref, p, "library"))?;
        }
        seq.end()
    }
}

/// Every package's edges, by bom-ref.
struct Dependencies<'a> {
    packages: &'a [Package],
    refs: &'a [String],
}

#[derive(Serialize)]
struct Dependency<'a> {
    #[serde(rename = "dependsOn")]
    depends_on: DependsOn<'a>,
    #[serde(rename = "ref")]
    bom_ref: &'a str,
}

struct DependsOn<'a> {
    on: &'a [usize],
    refs: &'a [String],
}

impl Serialize for DependsOn<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Indices were checked when the section was decoded; one out of range is skipped
        // rather than written as a dangling reference.
        serializer.collect_seq(self.on.iter().filter_map(|&d| self.refs.get(d)))
    }
}

impl Serialize for Dependencies<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.packages.len()))?;
        for (p, bom_ref) in self.packages.iter().zip(self.refs) {
            seq.serialize_element(&Dependency {
                depends_on: DependsOn {
                    on: &p.dependencies,
                    refs: self.refs,
                },
                bom_ref,
            })?;
        }
        seq.end()
    }
}

/// A CycloneDX JSON BOM (`version` of the specification) for one inventory: the program as
/// `metadata.component`, every other package as a library component (build-only ones with
/// scope `excluded`), the edges as `dependencies`. Deterministic: no serial number, no
/// timestamp.
pub fn cyclonedx(inv: &Inventory, version: CycloneDxVersion) -> String {
    let refs = bom_refs(&inv.packages);
    let component = match inv.packages.iter().position(|p| p.root) {
        Some(r) => {
            MetadataComponent::Package(Component::new(&refs[r], &inv.packages[r], "application"))
        }
        None => MetadataComponent::Program {
            name: &inv.program,
            kind: "application",
            version: &inv.version,
        },
    };
    let bom = Bom {
        format: "CycloneDX",
        components: Components {
            packages: &inv.packages,
            refs: &refs,
        },
        dependencies: Dependencies {
            packages: &inv.packages,
            refs: &refs,
        },
        metadata: Metadata {
            component,
            tools: Tools {
                components: [Tool {
                    name: "cargo-depinfo",
                    kind: "application",
                    version: env!("CARGO_PKG_VERSION"),
                }],
            },
        },
        spec_version: version,
        version: 1,
    };
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and every value is a string, number or sequence.
    if serde_json::to_writer_pretty(&mut out, &bom).is_err() {
        out.clear();
    }
    out.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// One bom-ref per package, unique: its purl, else `NAME@VERSION`; the same name and version
/// can come from two sources, so a later one that is taken gets `#2`, `#3`... (the first
/// number no other ref holds: a hostile name may already end in `#2`).
fn bom_refs(packages: &[Package]) -> Vec<String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    packages
        .iter()
        .map(|p| {
            let base = purl(p).unwrap_or_else(|| format!("{}@{}", p.name, p.version));
            super::first_free(base, '#', &mut taken)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::render::sample;

    #[test]
    fn cyclonedx_has_purls_and_edges() {
        let v: Value = serde_json::from_str(&cyclonedx(&sample(), CycloneDxVersion::V1_5)).unwrap();
        assert_eq!(v["specVersion"], "1.5");
        // The program is a path crate: no purl, and the SBOM says why (issue 23).
        let program = &v["metadata"]["component"];
        assert_eq!(program.get("purl"), None);
        assert_eq!(program["bom-ref"], "app@0.1.0");
        assert_eq!(program["properties"][1]["name"], "cargo:identity");
        assert_eq!(
            program["properties"][1]["value"],
            crate::render::purl::LOCAL
        );
        assert_eq!(v["components"][0]["purl"], "pkg:cargo/serde@1.0.219");
        assert_eq!(v["components"][1]["scope"], "excluded");
        assert_eq!(
            v["dependencies"][0]["dependsOn"],
            json!(["pkg:cargo/serde@1.0.219", "pkg:cargo/serde_derive@1.0.219"])
        );
    }

    #[test]
    fn cyclonedx_writes_hashes_vcs_commits_and_a_program_without_a_root() {
        let mut inv = sample();
        let serde = &mut inv.packages[1];
        serde.checksum = Some("ab".repeat(32));
        serde.git_url = Some("https://example.com/serde".into());
        serde.git_commit = Some("0123".into());
        let v: Value = serde_json::from_str(&cyclonedx(&inv, CycloneDxVersion::V1_6)).unwrap();
        assert_eq!(
            v["components"][0],
            json!({
                "bom-ref": "pkg:cargo/serde@1.0.219",
                "externalReferences": [{"type": "vcs", "url": "https://example.com/serde"}],
                "hashes": [{"alg": "SHA-256", "content": "ab".repeat(32)}],
                "name": "serde",
                "properties": [
                    {"name": "cargo:source", "value": "crates.io"},
                    {"name": "cargo:git_commit", "value": "0123"},
                ],
                "purl": "pkg:cargo/serde@1.0.219",
                "scope": "required",
                "type": "library",
                "version": "1.0.219",
            })
        );
        assert_eq!(v["metadata"]["component"].get("scope"), None);

        for p in &mut inv.packages {
            p.root = false;
        }
        let v: Value = serde_json::from_str(&cyclonedx(&inv, CycloneDxVersion::V1_6)).unwrap();
        assert_eq!(
            v["metadata"]["component"],
            json!({"name": inv.program, "type": "application", "version": inv.version})
        );
        assert_eq!(v["components"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn version_1_6_is_written_when_asked_and_odd_checksums_are_no_hashes() {
        let mut inv = sample();
        inv.packages[1].checksum = Some("not-a-sha256".into());
        inv.packages[2].checksum = Some("AB".repeat(31));
        let v: Value = serde_json::from_str(&cyclonedx(&inv, CycloneDxVersion::default())).unwrap();
        assert_eq!(v["specVersion"], "1.6");
        assert_eq!(v["components"][0].get("hashes"), None);
        assert_eq!(v["components"][1].get("hashes"), None);
    }

    #[test]
    fn cyclonedx_keys_are_written_in_sorted_order_as_before() {
        // The output was a serde_json::Value (sorted keys); it must stay byte for byte the same.
        let out = cyclonedx(&sample(), CycloneDxVersion::V1_5);
        let v: Value = serde_json::from_str(&out).unwrap();
        let mut again = serde_json::to_string_pretty(&v).unwrap();
        again.push('\n');
        assert_eq!(out, again);
    }
}
