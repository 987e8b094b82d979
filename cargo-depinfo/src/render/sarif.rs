//! SARIF 2.1.0 for code-scanning services: one rule per advisory found, one result per
//! advisory, crate version and program, with one location (the program: a logical location,
//! and its binary or source as the artifact) and the fingerprint
//! `advisory:crate:version:program`, so that a service deduplicates per program however many
//! instances run it. Each result carries the verdict (`present`, `unknown` or `not-found`, the
//! first of its instances' in that order) as the property `verdict`, with its symbol or
//! reason as `verdictDetail`, and in its message; a `not-found` one says "not found in the
//! debug information". The database's commit and age are the run's properties.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::audit::{civil_date, source_kind};
use crate::advisories::{Advisory, Database};
use crate::questions::{Audit, Finding, Judged};

/// The SARIF schema's address, as SARIF files name it.
const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn rule(a: &Advisory) -> Value {
    let mut properties = json!({
        "tags": std::iter::once("security").chain(std::iter::once(a.kind())).chain(a.categories.iter().map(String::as_str)).collect::<Vec<_>>(),
    });
    if let Some(score) = a.score {
        // What code-scanning services sort by: the CVSS score as a string.
        properties["security-severity"] = json!(format!("{}.{}", score / 10, score % 10));
    }
    let mut rule = json!({
        "id": a.id,
        "name": a.package,
        "shortDescription": { "text": a.title },
        "fullDescription": { "text": format!("{}: {} (patched: {})", a.package, a.title,
            if a.patched.is_empty() { "none".to_owned() } else { a.patched.join("; ") }) },
        "properties": properties,
    });
    if let Some(url) = &a.url {
        rule["helpUri"] = json!(url);
    }
    rule
}

/// A path as a URI reference: `file://` and the absolute path, else the relative path, with
/// every byte but unreserved characters and `/` percent-encoded.
fn path_uri(path: &str) -> String {
    let mut out = String::new();
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// One result's runners, and the first verdict among them (present, unknown, not-found).
type ProgramResult<'a> = (Vec<&'a crate::observation::Runner>, Option<&'a Judged>);

/// SARIF 2.1.0, pretty-printed, ending in a newline; `version` is this program's.
pub fn audit_sarif(audit: &Audit<'_>, db: &Database, now: u64, version: &str) -> String {
    let findings: Vec<&Finding<'_>> = audit
        .vulnerabilities
        .iter()
        .chain(&audit.informational)
        .collect();
    let rules: Vec<Value> = findings.iter().map(|f| rule(f.advisory)).collect();
    let mut results = Vec::new();
    for (index, f) in findings.iter().enumerate() {
        let a = f.advisory;
        // (program, version) → runners, and the first verdict (present, unknown, not-found).
        let mut by_program: BTreeMap<(&str, &str), ProgramResult<'_>> = BTreeMap::new();
        for b in &f.blasts {
            for v in &b.versions {
                let entry = by_program.entry((&b.program, v)).or_default();
                entry.0.extend(b.runners.iter().map(|r| &**r));
                if entry.1.is_none_or(|j| b.judged.verdict < j.verdict) {
                    entry.1 = Some(&b.judged);
                }
            }
        }
        for ((program, version), (runners, judged)) in by_program {
            let judged = judged.unwrap_or_else(|| unreachable!("every entry has a blast"));
            let first = runners[0];
            let artifact = match &first.path {
                Some(path) => path_uri(path),
                None => first.origin.to_string(),
            };
            let instances: Vec<&str> = runners.iter().map(|r| r.location()).collect();
            let n = instances.len();
            results.push(json!({
                "ruleId": a.id,
                "ruleIndex": index,
                "kind": "fail",
                "level": if a.informational.is_some() { "warning" } else { "error" },
                "message": { "text": format!(
                    "{program} runs {} {version} ({n} {}), affected by {}: {}; the vulnerable code: {} ({})",
                    a.package,
                    if n == 1 { "instance" } else { "instances" },
                    a.id,
                    a.title,
                    judged.verdict.as_str(),
                    judged.detail,
                ) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": artifact } },
                    "logicalLocations": [{ "name": program, "kind": "module" }],
                }],
                "fingerprints": { "cargo-depinfo/v1": format!("{}:{}:{version}:{program}", a.id, a.package) },
                "properties": {
                    "instances": instances,
                    "source": source_kind(first),
                    "verdict": judged.verdict.as_str(),
                    "verdictDetail": judged.detail,
                },
            }));
        }
    }
    let database = json!({
        "path": db.path.display().to_string(),
        "commit": db.commit.as_ref().map(|c| c.id.as_str()),
        "commitDate": db.commit.as_ref().map(|c| civil_date(c.time)),
        "ageDays": db.age_days(now),
        "advisories": db.advisories().len(),
    });
    let doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-depinfo",
                "version": version,
                "rules": rules,
            } },
            "results": results,
            "properties": { "advisoryDatabase": database },
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
