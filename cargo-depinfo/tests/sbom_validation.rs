//! Every SBOM format validated by the official tools, on real binaries and on hostile names:
//!
//! - CycloneDX 1.6 (the default) and 1.5 (`--spec-version 1.5`) against the official JSON
//!   schemas as shipped in the PyPI package `cyclonedx-python-lib` (`cyclonedx/schema/_res/`,
//!   with the SPDX and JSF schemas they reference), with Python's `jsonschema`;
//! - SPDX 2.3 with the validator of the PyPI package `spdx-tools` (its JSON parser, then
//!   `validate_full_spdx_document`, what `pyspdxtools -i FILE` runs).
//!
//! scripts/test-all.sh installs them into the tests' virtual environment
//! ([`testkit::python`]); these tests fail when they are missing rather than skipping.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use testkit::{Scratch, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
/// This package's manifest: `list` describes the cargo-depinfo workspace itself.
const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

/// For cargo-depinfo on local files and for one validation alike.
const LIMIT: Duration = Duration::from_secs(120);

/// The validator of bom-VERSION ([`testkit::python_schema_check`] prints every violation
/// and exits 1). References between the bundled schemas are served from the package's files
/// (no network): each is registered under its `$id` and under its file name next to the
/// BOM schema's `$id`.
fn cyclonedx_setup(version: &str) -> String {
    format!(
        r#"
import json, os, sys
import cyclonedx, jsonschema, referencing
res = os.path.join(os.path.dirname(cyclonedx.__file__), "schema", "_res")
schemas = {{}}
for f in os.listdir(res):
    if f.endswith(".schema.json"):
        with open(os.path.join(res, f)) as fh:
            schemas[f] = json.load(fh)
bom_file = next(f for f in schemas if f.startswith("bom-{version}.") and "strict" not in f)
bom = schemas[bom_file]
base = bom["$id"].rsplit("/", 1)[0] + "/"
resources = []
for f, s in schemas.items():
    r = referencing.Resource.from_contents(s, default_specification=referencing.jsonschema.DRAFT7)
    resources.append((base + f, r))
    if "$id" in s:
        resources.append((s["$id"], r))
registry = referencing.Registry().with_resources(resources)
validator = jsonschema.Draft7Validator(bom, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
label = f"validated against {{bom_file}}: "
"#
    )
}

/// spdx-tools' own checks: its JSON parser (control characters dropped as its
/// `parse_from_file` drops them), then every validation of SPDX 2.3; each message printed,
/// then `N error(s)`, exit 1 on any.
const VALIDATE_SPDX: &str = r#"
import json, sys
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.json.json_parser import remove_json_control_chars_hook
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
raw = json.load(sys.stdin, object_pairs_hook=remove_json_control_chars_hook)
try:
    doc = JsonLikeDictParser().parse(raw)
except SPDXParsingError as e:
    for m in e.get_messages():
        print("parse: " + m)
    print("validated with spdx-tools: the document does not parse")
    sys.exit(1)
messages = validate_full_spdx_document(doc, "SPDX-2.3")
for m in messages:
    print(m.validation_message)
print(f"validated with spdx-tools (SPDX-2.3): {len(messages)} error(s)")
sys.exit(1 if messages else 0)
"#;

/// `document` checked against the official CycloneDX `version` schema.
fn cyclonedx_check(version: &str, document: &[u8]) -> Output {
    testkit::python_ready(&["cyclonedx", "jsonschema", "referencing"]);
    testkit::python_schema_check(&cyclonedx_setup(version), document, LIMIT)
}

/// `document` checked by spdx-tools.
fn spdx_check(document: &[u8]) -> Output {
    testkit::python_ready(&["spdx_tools"]);
    testkit::python_script(VALIDATE_SPDX, document, LIMIT)
}

fn assert_valid(what: &str, check: &Output) {
    assert!(
        check.status.success(),
        "{what} is not valid:\n{}{}",
        stdout(check),
        stderr(check)
    );
    testkit::assert_contains(&stdout(check), ": 0 error(s)");
}

/// Validates `document`, a CycloneDX BOM of `version` (which it must say it is).
fn validate_cyclonedx(what: &str, version: &str, document: &[u8]) {
    let v: Value = serde_json::from_slice(document).unwrap();
    assert_eq!(v["specVersion"], version, "{what}");
    assert_valid(what, &cyclonedx_check(version, document));
}

fn validate_spdx(what: &str, document: &[u8]) {
    let v: Value = serde_json::from_slice(document).unwrap();
    assert_eq!(v["spdxVersion"], "SPDX-2.3", "{what}");
    assert_valid(what, &spdx_check(document));
}

fn run(args: &[&str]) -> Output {
    let out = testkit::run(Command::new(BIN).args(args), LIMIT);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    out
}

/// `cargo depinfo <args> --format …` in all three SBOM forms, each validated.
fn validate_every_format(what: &str, args: &[&str]) -> [Value; 3] {
    let with = |extra: &[&str]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        run(&all).stdout
    };
    let cdx16 = with(&["--format", "cyclonedx"]);
    validate_cyclonedx(&format!("{what} (CycloneDX 1.6)"), "1.6", &cdx16);
    let cdx15 = with(&["--format", "cyclonedx", "--spec-version", "1.5"]);
    validate_cyclonedx(&format!("{what} (CycloneDX 1.5)"), "1.5", &cdx15);
    let spdx = with(&["--format", "spdx"]);
    validate_spdx(&format!("{what} (SPDX 2.3)"), &spdx);
    [cdx16, cdx15, spdx].map(|doc| serde_json::from_slice(&doc).unwrap())
}

#[test]
fn inspect_of_itself_is_valid_in_every_sbom_format() {
    // A real binary: cargo-depinfo as cargo built it, with build-info's data.
    let [cdx, _, spdx] = validate_every_format("inspect of cargo-depinfo", &["inspect", BIN]);
    assert!(cdx["components"].as_array().unwrap().len() > 20);
    let packages = spdx["packages"].as_array().unwrap();
    assert_eq!(
        packages.len(),
        cdx["components"].as_array().unwrap().len() + 1
    );
    // Created at the build date the binary embeds.
    let text = stdout(&run(&["inspect", "--format", "json", BIN]));
    let json: Value = serde_json::from_str(&text).unwrap();
    let build_date = json["inventories"][0]["build"]["build_date"]
        .as_str()
        .unwrap_or_else(|| panic!("no build date in {text}"));
    assert_eq!(
        spdx["creationInfo"]["created"].as_str().unwrap(),
        format!("{}Z", &build_date[..19])
    );
}

/// Real builds, offline: a build-info binary that embeds Cargo.lock's checksums
/// (tests/fixtures/sbom-checksums) and one built by `cargo auditable build`
/// (tests/fixtures/audit-auditable; scripts/test-all.sh installs cargo-auditable).
#[test]
fn real_fixture_binaries_are_valid_in_every_sbom_format() {
    let scratch = Scratch::new("sbom-fixtures");
    let build = |template: &str, name: &str, subst: &[(&str, &str)], args: &[&str]| {
        let dir = scratch.join(name);
        testkit::copy_fixture(template, &dir, name, subst);
        let out = testkit::run(
            testkit::cargo(&dir)
                .args(args)
                .args(["--offline", "--quiet"]),
            Duration::from_secs(900),
        );
        assert!(
            out.status.success(),
            "cargo {args:?} of tests/fixtures/{template} failed (scripts/test-all.sh installs cargo-auditable): {}",
            stderr(&out)
        );
        let copy = scratch.join("bin").join(name);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(testkit::binary("debug", name), &copy).unwrap();
        copy
    };
    let checksums = build("sbom-checksums", "sbom-checksums", &[], &["build"]);
    let [cdx, _, spdx] = validate_every_format(
        "inspect of a build-info binary with checksums",
        &["inspect", checksums.to_str().unwrap()],
    );
    // Builder::checksums: the lockfile's SHA-256 of each registry crate, in both formats.
    let itoa = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "itoa")
        .unwrap_or_else(|| panic!("no itoa in {cdx}"));
    assert_eq!(itoa["hashes"][0]["alg"], "SHA-256", "{itoa}");
    let sum = itoa["hashes"][0]["content"].as_str().unwrap();
    let lock = std::fs::read_to_string(testkit::workspace_root().join("Cargo.lock")).unwrap();
    let entry = lock
        .split("\n\n")
        .find(|e| e.contains("name = \"itoa\"\nversion = \"1.0.18\"\n"))
        .expect("itoa 1.0.18 in Cargo.lock");
    testkit::assert_contains(entry, &format!("checksum = \"{sum}\""));
    let spdx_itoa = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "itoa")
        .unwrap();
    assert_eq!(spdx_itoa["checksums"][0]["checksumValue"], sum);
    assert_ne!(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z");

    let deps = "itoa = \"=1.0.18\"\nfnv = \"=1.0.7\"\n";
    let auditable = build(
        "audit-auditable",
        "sbom-auditable",
        &[("@DEPS@", deps)],
        &["auditable", "build"],
    );
    let [cdx, _, spdx] = validate_every_format(
        "inspect of a cargo-auditable binary",
        &["inspect", auditable.to_str().unwrap()],
    );
    assert!(
        cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "fnv"),
        "{cdx}"
    );
    // cargo-auditable embeds no build date.
    assert_eq!(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z");
}

#[test]
fn list_is_valid_in_every_sbom_format_with_the_lockfile_hashes() {
    let [cdx16, cdx15, spdx] = validate_every_format(
        "list of cargo-depinfo",
        &["list", "--manifest-path", MANIFEST],
    );
    // Checksums from Cargo.lock become SHA-256 hashes: the schema and spdx-tools check their
    // shape.
    for cdx in [&cdx16, &cdx15] {
        assert!(
            cdx["components"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["hashes"][0]["alg"] == "SHA-256"),
            "no hashes"
        );
    }
    assert!(
        spdx["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["checksums"][0]["algorithm"] == "SHA256"),
        "no checksums"
    );
    // No binary: no build date, so the epoch.
    assert_eq!(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z");
}

#[test]
fn the_golden_sboms_are_valid() {
    // Git packages (externalReferences), build-only scope and properties; tests/cli.rs
    // compares them with the output byte for byte.
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    // identities.cdx.json: every kind of source's identity (tests/identities.rs).
    for (file, version) in [
        ("bldinfo.cdx.json", "1.6"),
        ("bldinfo.cdx-1.5.json", "1.5"),
        ("identities.cdx.json", "1.6"),
        ("identities.cdx-1.5.json", "1.5"),
    ] {
        validate_cyclonedx(file, version, &std::fs::read(golden.join(file)).unwrap());
    }
    for file in [
        "bldinfo.spdx.json",
        "dep_v0_only.spdx.json",
        "identities.spdx.json",
    ] {
        validate_spdx(file, &std::fs::read(golden.join(file)).unwrap());
    }
}

/// Names a scanner, a JSON reader, an SPDX ID or a URI could choke on. The model takes any
/// string but the empty one as a name (versions must be SemVer).
const HOSTILE_NAMES: &[&str] = &[
    " ",
    "a b",
    "pkg:cargo/evil@6.6.6",
    "../../etc/passwd",
    "x#2",
    "SPDXRef-DOCUMENT",
    "serde@1.0.219",
    "名前",
    "\u{1b}[31mred\u{1b}[0m",
    "tab\tand\rreturn",
    "line\nfeed",
    "quote\"and\\backslash",
    "%2F%00",
    "emoji-🦀",
];

#[test]
fn hostile_names_still_give_valid_sboms() {
    let dir = Scratch::new("sbom-hostile");
    let mut packages: Vec<Value> = HOSTILE_NAMES
        .iter()
        .map(|name| serde_json::json!({"name": name, "version": "1.0.0-rc.1+build.5", "source": "crates.io"}))
        .collect();
    // The same name and version from two sources, and a long name.
    packages
        .push(serde_json::json!({"name": "serde", "version": "1.0.219", "source": "crates.io"}));
    packages.push(serde_json::json!({"name": "serde", "version": "1.0.219", "source": "git"}));
    packages
        .push(serde_json::json!({"name": "n".repeat(5000), "version": "0.0.1", "source": "local"}));
    let others: Vec<usize> = (0..packages.len()).collect();
    packages.push(serde_json::json!({
        "name": "hostile app/€", "version": "0.1.0", "source": "local", "root": true,
        "dependencies": others,
    }));
    let dep_v0 = serde_json::json!({"packages": packages, "format": 1}).to_string();
    let bin = dir.join("hostile");
    std::fs::write(
        &bin,
        testkit::elf_with_sections(&[(".dep-v0", &zlib(dep_v0.as_bytes()))]),
    )
    .unwrap();
    let [cdx, _, spdx] = validate_every_format(
        "inspect of hostile names",
        &["inspect", bin.to_str().unwrap()],
    );
    assert_eq!(
        cdx["components"].as_array().unwrap().len(),
        HOSTILE_NAMES.len() + 3
    );
    let ids: Vec<&str> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids.iter().all(|id| id.len() < 200), "{ids:?}");
}

#[test]
fn an_spdx_document_is_the_same_bytes_for_the_same_binary_wherever_it_lies() {
    // created and documentNamespace come from the binary, never the clock or a random UUID.
    let dir = Scratch::new("sbom-same");
    let copy = dir.join("elsewhere");
    std::fs::copy(BIN, &copy).unwrap();
    let first = run(&["inspect", "--format", "spdx", BIN]).stdout;
    std::thread::sleep(Duration::from_millis(1100));
    let again = run(&["inspect", "--format", "spdx", copy.to_str().unwrap()]).stdout;
    assert_eq!(stdout_of(&first), stdout_of(&again));
    // The namespace is the digest of what the binary embeds (inspect never reads the whole
    // file): other bytes around the same sections are the same document, other data another.
    let elf = |root: (&str, &str, &str)| {
        let json = testkit::dep_v0_json(root, &[("itoa", "1.0.15", "crates.io")]);
        testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))])
    };
    let namespace = |bytes: &[u8]| {
        std::fs::write(&copy, bytes).unwrap();
        let doc = run(&["inspect", "--format", "spdx", copy.to_str().unwrap()]).stdout;
        serde_json::from_slice::<Value>(&doc).unwrap()["documentNamespace"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let app = elf(("app", "1.0.0", "local"));
    let padded = [app.clone(), vec![0; 4096]].concat();
    assert_eq!(namespace(&app), namespace(&padded));
    let next = namespace(&elf(("app", "1.0.1", "local")));
    assert_ne!(namespace(&app), next);
    assert!(
        next.starts_with("https://spdx.org/spdxdocs/cargo-depinfo/app-"),
        "{next}"
    );
}

fn stdout_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn several_programs_are_refused_one_sbom_per_program() {
    let dir = Scratch::new("sbom-several");
    for name in ["one", "two"] {
        let json =
            testkit::dep_v0_json((name, "1.0.0", "local"), &[("itoa", "1.0.15", "crates.io")]);
        std::fs::write(
            dir.join(name),
            testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]),
        )
        .unwrap();
    }
    for format in ["cyclonedx", "spdx"] {
        let out = testkit::run(
            Command::new(BIN).args(["inspect", "--format", format, dir.to_str().unwrap()]),
            LIMIT,
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
        testkit::assert_contains(
            &stderr(&out),
            &format!("--format {format} describes one program; 2 were found"),
        );
    }
    let out = testkit::run(
        Command::new(BIN).args(["inspect", "--format", "spdx", "--spec-version", "1.5", BIN]),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    testkit::assert_contains(
        &stderr(&out),
        "--spec-version is the CycloneDX version; --format spdx takes none",
    );
}

#[test]
fn the_validators_reject_broken_documents() {
    // The checks themselves work: a component without a name, an SPDX ID with `_`.
    for version in ["1.5", "1.6"] {
        let out = cyclonedx_check(
            version,
            format!(r#"{{"bomFormat":"CycloneDX","specVersion":"{version}","components":[{{"type":"library"}}]}}"#)
                .as_bytes(),
        );
        assert!(!out.status.success());
        testkit::assert_contains(&stdout(&out), "'name' is a required property");
    }
    let good = run(&["inspect", "--format", "spdx", BIN]).stdout;
    let mut doc: Value = serde_json::from_slice(&good).unwrap();
    doc["packages"][0]["SPDXID"] = "SPDXRef-bad_id".into();
    let out = spdx_check(doc.to_string().as_bytes());
    assert!(!out.status.success());
    testkit::assert_contains(&stdout(&out), "SPDXRef-bad_id");
    let mut doc: Value = serde_json::from_slice(&good).unwrap();
    doc["documentNamespace"] = "https://example.com/spdx#fragment".into();
    let out = spdx_check(doc.to_string().as_bytes());
    assert!(!out.status.success(), "{}", stdout(&out));
}

/// Every document of a JSON array on stdin checked as one check's `setup` defines
/// (`validator`, or `check(doc)` returning messages); each failure printed as `doc N: …`.
const BATCH_REPORT: &str = r#"
docs = json.load(sys.stdin, object_pairs_hook=hook)
failed = 0
for i, doc in enumerate(docs):
    for m in check(doc):
        failed += 1
        print(f"doc {i}: {m}")
print(f"{len(docs)} documents: {failed} error(s)")
sys.exit(1 if failed else 0)
"#;

/// `check` for CycloneDX: the schema's violations.
const BATCH_CYCLONEDX: &str = r#"
hook = None
def check(doc):
    return ["/".join(str(p) for p in e.absolute_path) + ": " + e.message for e in validator.iter_errors(doc)]
"#;

/// `check` for SPDX: spdx-tools' parser and validator.
const BATCH_SPDX: &str = r#"
import json, sys
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.json.json_parser import remove_json_control_chars_hook as hook
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
def check(doc):
    try:
        parsed = JsonLikeDictParser().parse(doc)
    except SPDXParsingError as e:
        return ["parse: " + m for m in e.get_messages()]
    return [m.validation_message for m in validate_full_spdx_document(parsed, "SPDX-2.3")]
"#;

/// A package name: any text but the empty one (the model refuses it); the purl writer
/// percent-encodes what a purl cannot hold, line feeds included.
fn name() -> impl Strategy<Value = String> {
    "(?s).{1,24}"
}

/// A SemVer version, with a pre-release and build metadata sometimes.
fn version() -> impl Strategy<Value = String> {
    "(0|[1-9][0-9]{0,3})\\.(0|[1-9][0-9]{0,2})\\.(0|[1-9][0-9]{0,2})(-[a-z][0-9A-Za-z-]{0,6})?(\\+[0-9A-Za-z-]{1,6})?"
}

/// `.dep-v0` JSON of a program with arbitrary packages; each depends on the ones after it.
fn arbitrary_dep_v0() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            name(),
            version(),
            proptest::sample::select(vec!["crates.io", "git", "local", "registry"]),
        ),
        1..8,
    )
    .prop_map(|packages| {
        let n = packages.len();
        let packages: Vec<Value> = packages
            .into_iter()
            .enumerate()
            .map(|(i, (name, version, source))| {
                serde_json::json!({
                    "name": name, "version": version, "source": source,
                    "dependencies": (i + 1..n).collect::<Vec<_>>(), "root": i == 0,
                })
            })
            .collect();
        serde_json::json!({"packages": packages, "format": 1}).to_string()
    })
}

#[test]
fn arbitrary_names_and_versions_give_valid_sboms() {
    // Property test with the official validators: 48 arbitrary programs, each through the
    // real binary in the three SBOM forms, validated in one Python process per form.
    use proptest::strategy::ValueTree as _;
    let dir = Scratch::new("sbom-arbitrary");
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut docs: [Vec<Value>; 3] = Default::default();
    for case in 0..48 {
        let dep_v0 = arbitrary_dep_v0().new_tree(&mut runner).unwrap().current();
        let bin = dir.join(format!("case{case}"));
        std::fs::write(
            &bin,
            testkit::elf_with_sections(&[(".dep-v0", &zlib(dep_v0.as_bytes()))]),
        )
        .unwrap();
        let path = bin.to_str().unwrap();
        let out = testkit::run(
            Command::new(BIN).args(["inspect", "--format", "json", path]),
            LIMIT,
        );
        if out.status.code() != Some(0) {
            // The model refused it (two packages alike in name, version and source): an error
            // naming the file, and no SBOM either.
            testkit::assert_contains(&stderr(&out), path);
            continue;
        }
        for (i, extra) in [
            &["--format", "cyclonedx"][..],
            &["--format", "cyclonedx", "--spec-version", "1.5"],
            &["--format", "spdx"],
        ]
        .into_iter()
        .enumerate()
        {
            let mut args = vec!["inspect", path];
            args.extend_from_slice(extra);
            docs[i].push(serde_json::from_slice(&run(&args).stdout).unwrap());
        }
    }
    assert!(
        docs[2].len() >= 40,
        "only {} programs were read",
        docs[2].len()
    );
    testkit::python_ready(&["cyclonedx", "jsonschema", "referencing", "spdx_tools"]);
    for (setup, docs) in [
        (cyclonedx_setup("1.6") + BATCH_CYCLONEDX, &docs[0]),
        (cyclonedx_setup("1.5") + BATCH_CYCLONEDX, &docs[1]),
        (BATCH_SPDX.to_owned(), &docs[2]),
    ] {
        let input = serde_json::to_vec(docs).unwrap();
        let check = testkit::python_script(&(setup + BATCH_REPORT), &input, LIMIT);
        assert_valid("arbitrary programs", &check);
    }
}
