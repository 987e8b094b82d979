//! SPDX 2.3 JSON: one document per program, deterministic. The document's `created` is the
//! build date the binary embeds (else the Unix epoch) and its `documentNamespace` ends in the
//! digest of what the binary embeds ([`content_digest`]): nothing comes from the clock or a
//! random UUID, so the same binary always gives the same bytes.

use std::collections::BTreeSet;

use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer};

use super::cyclonedx::sha256;
use super::purl::{identity_note, purl};
use depinfo_read::inventory::{Inventory, Kind, Package};

/// `created` when the binary embeds no build date: the Unix epoch, which says "not known"
/// to a reader without making the output depend on when it was written.
pub const NO_DATE: &str = "1970-01-01T00:00:00Z";

/// Where the namespaces of the documents live: the SPDX specification's own example prefix
/// for documents that have no home of their own. The program and the digest make it unique.
const NAMESPACE_PREFIX: &str = "https://spdx.org/spdxdocs/cargo-depinfo/";

/// The longest run of a name or version kept in an SPDX ID or a namespace: a hostile name of
/// a megabyte stays a megabyte once (in `name`), not three times.
const ID_PART_MAX: usize = 64;

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "spdxVersion")]
    spdx_version: &'static str,
    #[serde(rename = "dataLicense")]
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    id: &'static str,
    name: String,
    #[serde(rename = "documentNamespace")]
    namespace: String,
    #[serde(rename = "creationInfo")]
    creation_info: CreationInfo,
    packages: Packages<'a>,
    relationships: Relationships<'a>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: [String; 1],
    comment: &'static str,
}

/// One package of the document.
#[derive(Serialize)]
struct SpdxPackage<'a> {
    name: &'a str,
    #[serde(rename = "SPDXID")]
    id: &'a str,
    #[serde(rename = "versionInfo")]
    version: &'a str,
    #[serde(rename = "downloadLocation")]
    download_location: &'static str,
    #[serde(rename = "filesAnalyzed")]
    files_analyzed: bool,
    #[serde(rename = "primaryPackagePurpose")]
    purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksums: Option<[Checksum<'a>; 1]>,
    #[serde(rename = "externalRefs", skip_serializing_if = "Option::is_none")]
    external_refs: Option<[ExternalRef; 1]>,
    #[serde(rename = "sourceInfo", skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

#[derive(Serialize)]
struct Checksum<'a> {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: &'a str,
}

#[derive(Serialize)]
struct ExternalRef {
    #[serde(rename = "referenceCategory")]
    category: &'static str,
    #[serde(rename = "referenceType")]
    kind: &'static str,
    #[serde(rename = "referenceLocator")]
    locator: String,
}

#[derive(Serialize)]
struct Relationship<'a> {
    #[serde(rename = "spdxElementId")]
    from: &'a str,
    #[serde(rename = "relationshipType")]
    kind: &'static str,
    #[serde(rename = "relatedSpdxElement")]
    to: &'a str,
}

/// The program when the inventory has no root package: its name and version only.
struct Program<'a> {
    name: &'a str,
    version: &'a str,
}

/// The SPDX ID of the program when it has no root package (package IDs all start with
/// `SPDXRef-Package-`, so it is never taken).
const PROGRAM_ID: &str = "SPDXRef-Program";

/// Every package, built one at a time while written; the program first when it has no root.
struct Packages<'a> {
    program: Option<Program<'a>>,
    all: &'a [Package],
    ids: &'a [String],
}

impl Serialize for Packages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        if let Some(program) = &self.program {
            seq.serialize_element(&SpdxPackage {
                name: program.name,
                id: PROGRAM_ID,
                version: program.version,
                download_location: "NOASSERTION",
                files_analyzed: false,
                purpose: "APPLICATION",
                checksums: None,
                external_refs: None,
                source_info: None,
                comment: Some("the program: its binary names no package of its own"),
            })?;
        }
        for (p, id) in self.all.iter().zip(self.ids) {
            seq.serialize_element(&package(p, id))?;
        }
        seq.end()
    }
}

fn package<'a>(p: &'a Package, id: &'a str) -> SpdxPackage<'a> {
    let mut source_info = format!("cargo source: {}", p.source);
    if let Some(url) = &p.git_url {
        source_info.push_str("; git repository: ");
        source_info.push_str(url);
    }
    if let Some(commit) = &p.git_commit {
        source_info.push_str("; git commit: ");
        source_info.push_str(commit);
    }
    // What is known of a package without a purl (CycloneDX's `cargo:identity` property).
    if let Some(note) = identity_note(p) {
        source_info.push_str("; identity: ");
        source_info.push_str(note);
    }
    SpdxPackage {
        name: &p.name,
        id,
        version: &p.version,
        download_location: "NOASSERTION",
        files_analyzed: false,
        purpose: if p.root { "APPLICATION" } else { "LIBRARY" },
        checksums: sha256(p).map(|value| {
            [Checksum {
                algorithm: "SHA256",
                value,
            }]
        }),
        external_refs: purl(p).map(|locator| {
            [ExternalRef {
                category: "PACKAGE-MANAGER",
                kind: "purl",
                locator,
            }]
        }),
        source_info: Some(source_info),
        comment: (p.kind == Kind::Build && !p.root).then_some(
            "build-only: used by a build script or a procedural macro, not linked into the program",
        ),
    }
}

/// The document DESCRIBES the program; each package DEPENDS_ON its dependencies.
struct Relationships<'a> {
    described: &'a str,
    packages: &'a [Package],
    ids: &'a [String],
}

impl Serialize for Relationships<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(&Relationship {
            from: "SPDXRef-DOCUMENT",
            kind: "DESCRIBES",
            to: self.described,
        })?;
        for (p, from) in self.packages.iter().zip(self.ids) {
            // Indices were checked when the section was decoded; one out of range is skipped
            // rather than written as a dangling reference.
            for to in p.dependencies.iter().filter_map(|&d| self.ids.get(d)) {
                seq.serialize_element(&Relationship {
                    from,
                    kind: "DEPENDS_ON",
                    to,
                })?;
            }
        }
        seq.end()
    }
}

/// An SPDX 2.3 JSON document for one inventory: every package (the root one the program,
/// `APPLICATION`), their purls, Cargo.lock checksums and sources, the document DESCRIBES the
/// program and each package DEPENDS_ON its dependencies.
///
/// `digest` ([`content_digest`] of the inventory) names the document in `documentNamespace`:
/// the same data gives the same document, other data another namespace. `created` is the
/// binary's embedded build date, else the Unix epoch (`1970-01-01T00:00:00Z`).
pub fn spdx(inv: &Inventory, digest: &str) -> String {
    let ids = spdx_ids(&inv.packages);
    let root = inv.packages.iter().position(|p| p.root);
    let program = root.is_none().then_some(Program {
        name: &inv.program,
        version: &inv.version,
    });
    let (created, comment) = match inv.build.as_ref().and_then(|b| spdx_date(&b.build_date)) {
        Some(date) => (date, "created: the build date embedded in the binary"),
        None => (
            NO_DATE.to_owned(),
            "created: the Unix epoch, as the program embeds no build date",
        ),
    };
    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        id: "SPDXRef-DOCUMENT",
        name: format!("{}-{}", inv.program, inv.version),
        namespace: format!(
            "{NAMESPACE_PREFIX}{}-{}",
            id_part(&inv.program),
            id_part(digest)
        ),
        creation_info: CreationInfo {
            created,
            creators: [format!("Tool: cargo-depinfo-{}", env!("CARGO_PKG_VERSION"))],
            comment,
        },
        packages: Packages {
            program,
            all: &inv.packages,
            ids: &ids,
        },
        relationships: Relationships {
            described: root.map_or(PROGRAM_ID, |r| &ids[r]),
            packages: &inv.packages,
            ids: &ids,
        },
    };
    // Written twice: first counted, then into a buffer of exactly that size. A growing Vec
    // holds up to three times the document while it doubles (60,000 packages: 104 MB for
    // 36 MB); counting costs time, not memory.
    let mut counter = Counter(0);
    let mut out = Vec::new();
    // Neither writer can fail, and every value is a string, bool or sequence.
    if serde_json::to_writer_pretty(&mut counter, &document).is_ok() {
        out.reserve_exact(counter.0 + 1);
        if serde_json::to_writer_pretty(&mut out, &document).is_err() {
            out.clear();
        }
    }
    out.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
}

/// A writer that only counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 (hex) of what an inventory says, its path left out: of a binary, what it
/// embeds as it was read (program, version, build facts, packages), without reading the rest
/// of the file (`inspect` reads only headers and two sections); of a package resolved from
/// source, what `list` resolved. The same data gives the same digest wherever the file or
/// the workspace lies.
pub fn content_digest(inv: &Inventory) -> String {
    let unplaced = Inventory {
        path: String::new(),
        ..inv.clone()
    };
    let bytes = serde_json::to_vec(&unplaced).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    hex(digest.as_ref())
}

/// Lowercase hex.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `YYYY-MM-DDThh:mm:ssZ`, the only form SPDX takes, from an RFC 3339 UTC date (fractions of
/// a second dropped); `None` for anything else (`unknown`, another offset, a hostile value).
fn spdx_date(date: &str) -> Option<String> {
    let b = date.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = b.get(19..)?;
    let tail_ok = rest == b"Z"
        || (rest.first() == Some(&b'.')
            && rest.last() == Some(&b'Z')
            && rest.len() > 2
            && rest[1..rest.len() - 1].iter().all(u8::is_ascii_digit));
    (shape && tail_ok).then(|| format!("{}Z", &date[..19]))
}

/// `text` as SPDX ID characters: letters, digits, `.` and `-` kept, anything else `-`, at
/// most [`ID_PART_MAX`] characters.
fn id_part(text: &str) -> String {
    text.chars()
        .take(ID_PART_MAX)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One SPDX ID per package, unique: `SPDXRef-Package-NAME-VERSION` in ID characters; a later
/// package whose ID is taken (the same name and version from two sources, or names that
/// differ only in characters IDs cannot hold) gets `-2`, `-3`... (the first that is free).
fn spdx_ids(packages: &[Package]) -> Vec<String> {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    packages
        .iter()
        .map(|p| {
            let base = format!(
                "SPDXRef-Package-{}-{}",
                id_part(&p.name),
                id_part(&p.version)
            );
            super::first_free(base, '-', &mut taken)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::render::{sample, sample_with_facts};

    #[test]
    fn spdx_describes_the_root_and_its_edges() {
        let v: Value = serde_json::from_str(&spdx(&sample(), "ab12")).unwrap();
        assert_eq!(v["spdxVersion"], "SPDX-2.3");
        assert_eq!(v["SPDXID"], "SPDXRef-DOCUMENT");
        assert_eq!(v["name"], "app-0.1.0");
        assert_eq!(
            v["documentNamespace"],
            "https://spdx.org/spdxdocs/cargo-depinfo/app-ab12"
        );
        assert_eq!(v["creationInfo"]["created"], NO_DATE);
        assert_eq!(
            v["relationships"],
            json!([
                {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-app-0.1.0"},
                {"spdxElementId": "SPDXRef-Package-app-0.1.0", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-Package-serde-1.0.219"},
                {"spdxElementId": "SPDXRef-Package-app-0.1.0", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-Package-serde-derive-1.0.219"},
            ])
        );
        assert_eq!(v["packages"][0]["primaryPackagePurpose"], "APPLICATION");
        assert_eq!(
            v["packages"][1]["externalRefs"][0]["referenceLocator"],
            "pkg:cargo/serde@1.0.219"
        );
        assert!(
            v["packages"][2]["comment"]
                .as_str()
                .unwrap()
                .starts_with("build-only")
        );
    }

    #[test]
    fn created_is_the_build_date_in_spdx_form() {
        let mut inv = sample_with_facts("svc");
        let unknown: Value = serde_json::from_str(&spdx(&inv, "00")).unwrap();
        assert_eq!(unknown["creationInfo"]["created"], NO_DATE);
        inv.build.as_mut().unwrap().build_date = "2026-11-21T23:46:36.5Z".into();
        let v: Value = serde_json::from_str(&spdx(&inv, "00")).unwrap();
        assert_eq!(v["creationInfo"]["created"], "2026-11-21T23:46:36Z");
        assert_eq!(
            v["creationInfo"]["comment"],
            "created: the build date embedded in the binary"
        );
        for (date, want) in [
            ("2026-11-21T23:46:36Z", Some("2026-11-21T23:46:36Z")),
            ("2026-11-21T23:46:36.123456Z", Some("2026-11-21T23:46:36Z")),
            ("2026-11-21T23:46:36+02:00", None),
            ("2026-11-21T23:46:36.Z", None),
            ("unknown", None),
            ("2026-11-21T23:46:36Zjunk", None),
            ("２026-11-21T23:46:36Z", None),
        ] {
            assert_eq!(spdx_date(date).as_deref(), want, "{date}");
        }
    }

    #[test]
    fn a_program_without_a_root_is_described_by_its_own_package() {
        let mut inv = sample();
        for p in &mut inv.packages {
            p.root = false;
        }
        let v: Value = serde_json::from_str(&spdx(&inv, "00")).unwrap();
        assert_eq!(v["packages"][0]["SPDXID"], PROGRAM_ID);
        assert_eq!(v["packages"].as_array().unwrap().len(), 4);
        assert_eq!(v["relationships"][0]["relatedSpdxElement"], PROGRAM_ID);
    }

    #[test]
    fn ids_are_unique_when_names_differ_only_in_what_ids_cannot_hold() {
        let mut inv = sample();
        let mut twin = inv.packages[1].clone();
        twin.name = "serde!".into();
        inv.packages.push(twin.clone());
        twin.name = "serde?".into();
        inv.packages.push(twin);
        let ids = spdx_ids(&inv.packages);
        assert_eq!(
            ids[1..],
            [
                "SPDXRef-Package-serde-1.0.219",
                "SPDXRef-Package-serde-derive-1.0.219",
                "SPDXRef-Package-serde--1.0.219",
                "SPDXRef-Package-serde--1.0.219-2",
            ]
        );
    }

    #[test]
    fn the_content_digest_ignores_where_the_workspace_lies() {
        let a = sample();
        let mut b = sample();
        b.path = "elsewhere/Cargo.toml".into();
        assert_eq!(content_digest(&a), content_digest(&b));
        assert_eq!(content_digest(&a).len(), 64);
        b.version = "9.9.9".into();
        assert_ne!(content_digest(&a), content_digest(&b));
    }

    mod arbitrary_packages {
        use std::collections::BTreeSet;

        use proptest::prelude::*;
        use serde_json::Value;

        use super::super::*;
        use crate::render::{CycloneDxVersion, cyclonedx, sample};

        /// A package with any name (any string the model takes) and any version text.
        fn package() -> impl Strategy<Value = Package> {
            (
                any::<String>(),
                "[0-9A-Za-z.+-]{0,12}",
                proptest::option::of("[0-9a-f]{64}|.{0,8}"),
                any::<bool>(),
            )
                .prop_map(|(name, version, checksum, build)| {
                    let mut p = sample().packages[1].clone();
                    p.name = name;
                    p.version = version;
                    p.checksum = checksum;
                    p.kind = if build { Kind::Build } else { Kind::Runtime };
                    p
                })
        }

        fn inventory() -> impl Strategy<Value = Inventory> {
            (
                proptest::collection::vec(package(), 0..12),
                any::<bool>(),
                any::<String>(),
            )
                .prop_map(|(mut packages, rooted, program)| {
                    let n = packages.len();
                    for (i, p) in packages.iter_mut().enumerate() {
                        // Edges to later packages, and one index out of range.
                        p.dependencies = (i + 1..=n).collect();
                    }
                    if rooted && let Some(first) = packages.first_mut() {
                        first.root = true;
                    }
                    let mut inv = sample();
                    inv.packages = packages;
                    inv.program = program;
                    inv
                })
        }

        fn spdx_id_ok(id: &str) -> bool {
            id.strip_prefix("SPDXRef-").is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
        }

        proptest! {
            #![proptest_config(testkit::proptest_cases(300))]

            #[test]
            fn spdx_is_json_with_valid_unique_ids_and_no_dangling_edge(inv in inventory()) {
                let v: Value = serde_json::from_str(&spdx(&inv, "ab")).unwrap();
                let ids: Vec<&str> = v["packages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["SPDXID"].as_str().unwrap())
                    .collect();
                let unique: BTreeSet<&str> = ids.iter().copied().collect();
                prop_assert_eq!(unique.len(), ids.len());
                prop_assert!(ids.iter().all(|id| spdx_id_ok(id)), "{:?}", ids);
                for r in v["relationships"].as_array().unwrap() {
                    let to = r["relatedSpdxElement"].as_str().unwrap();
                    prop_assert!(unique.contains(to), "{}", to);
                }
                let ns = v["documentNamespace"].as_str().unwrap();
                prop_assert!(!ns.contains('#') && !ns.contains(' '), "{}", ns);
                for p in v["packages"].as_array().unwrap() {
                    if let Some(c) = p["checksums"][0]["checksumValue"].as_str() {
                        prop_assert_eq!(c.len(), 64);
                    }
                }
            }

            #[test]
            fn cyclonedx_is_json_with_unique_refs_and_no_dangling_edge(inv in inventory()) {
                for version in [CycloneDxVersion::V1_5, CycloneDxVersion::V1_6] {
                    let v: Value = serde_json::from_str(&cyclonedx(&inv, version)).unwrap();
                    let mut refs: Vec<&str> = v["components"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["bom-ref"].as_str().unwrap())
                        .collect();
                    if let Some(r) = v["metadata"]["component"]["bom-ref"].as_str() {
                        refs.push(r);
                    }
                    let unique: BTreeSet<&str> = refs.iter().copied().collect();
                    prop_assert_eq!(unique.len(), refs.len());
                    for d in v["dependencies"].as_array().unwrap() {
                        prop_assert!(unique.contains(d["ref"].as_str().unwrap()));
                        for on in d["dependsOn"].as_array().unwrap() {
                            prop_assert!(unique.contains(on.as_str().unwrap()));
                        }
                    }
                }
            }
        }
    }
}
