//! `--format cyclonedx` validated against the official CycloneDX 1.5 JSON schema, as shipped
//! in the PyPI package `cyclonedx-python-lib` (`cyclonedx/schema/_res/`, with the SPDX and JSF
//! schemas it references), with Python's `jsonschema`. scripts/test-all.sh installs both; this
//! test fails when they are missing rather than skipping.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
/// This package's manifest: `list` describes the cargo-depinfo workspace itself.
const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

/// For cargo-depinfo on local files and for one schema validation alike.
const LIMIT: Duration = Duration::from_secs(120);

/// The validator of bom-1.5 ([`testkit::python_schema_check`] prints every violation and exits
/// 1).
/// References between the bundled schemas are served from the package's files (no network):
/// each is registered under its `$id` and under its file name next to bom-1.5's `$id`.
const VALIDATE: &str = r#"
import json, os, sys
import cyclonedx, jsonschema, referencing
res = os.path.join(os.path.dirname(cyclonedx.__file__), "schema", "_res")
schemas = {}
for f in os.listdir(res):
    if f.endswith(".schema.json"):
        with open(os.path.join(res, f)) as fh:
            schemas[f] = json.load(fh)
bom_file = next(f for f in schemas if f.startswith("bom-1.5") and "strict" not in f)
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
label = f"validated against {bom_file}: "
"#;

fn python_ready() {
    let ok = testkit::run(
        Command::new("python3").args(["-c", "import cyclonedx, jsonschema, referencing"]),
        LIMIT,
    )
    .status
    .success();
    assert!(
        ok,
        "python3 with `jsonschema` and `cyclonedx-python-lib` is required \
         (pip install jsonschema cyclonedx-python-lib; scripts/test-all.sh does it)"
    );
}

fn validate(what: &str, document: &[u8]) {
    python_ready();
    let out = schema_check(document);
    assert!(
        out.status.success(),
        "{what} is not valid CycloneDX 1.5:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    testkit::assert_contains(&stdout(&out), ": 0 error(s)");
}

/// The validator run on `document`.
fn schema_check(document: &[u8]) -> Output {
    testkit::python_schema_check(VALIDATE, document, LIMIT)
}

fn run(args: &[&str]) -> Output {
    let out = testkit::run(Command::new(BIN).args(args), LIMIT);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    out
}

#[test]
fn inspect_of_itself_is_valid_cyclonedx() {
    let out = run(&["inspect", "--format", "cyclonedx", BIN]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["components"].as_array().unwrap().len() > 20);
    validate("inspect --format cyclonedx of cargo-depinfo", &out.stdout);
}

#[test]
fn list_is_valid_cyclonedx() {
    let out = run(&["list", "--manifest-path", MANIFEST, "--format", "cyclonedx"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Checksums from Cargo.lock become SHA-256 hashes: the schema checks their shape.
    assert!(
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["hashes"][0]["alg"] == "SHA-256"),
        "no hashes"
    );
    validate("list --format cyclonedx of cargo-depinfo", &out.stdout);
}

#[test]
fn the_golden_build_info_bom_is_valid_cyclonedx() {
    // Git packages (externalReferences), build-only scope and properties.
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/bldinfo.cdx.json");
    validate(
        "tests/golden/bldinfo.cdx.json",
        &std::fs::read(golden).unwrap(),
    );
}

#[test]
fn the_validator_rejects_a_broken_bom() {
    // The check itself works: a component without a name is refused.
    python_ready();
    let out = schema_check(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library"}]}"#,
    );
    assert!(!out.status.success());
    assert!(stdout(&out).contains("'name' is a required property"));
}
