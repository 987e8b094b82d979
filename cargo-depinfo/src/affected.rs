//! `cargo depinfo affected`: which programs contain a version of a crate that matches a
//! SemVer requirement (what PromQL cannot compare).

use std::fmt::Write as _;

use serde::Serialize;

use crate::inventory::{Inventory, Kind};
use crate::output::{ErrorEntry, JSON_FORMAT_VERSION};

/// One program containing a matching version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Hit {
    /// The binary (or manifest).
    pub path: String,
    /// The program.
    pub program: String,
    /// The program's version.
    pub program_version: String,
    /// The crate.
    pub name: String,
    /// The matching version.
    pub version: String,
    /// Where the crate came from.
    pub source: String,
    /// Runtime or build-only.
    pub kind: Kind,
}

/// Crate names are unique up to `-`/`_` on crates.io; match them that way.
fn same_crate(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || matches!((x, y), (b'-', b'_') | (b'_', b'-')))
}

/// Every package named `name` whose version matches `req`, in input order. Pre-releases match
/// only when `req` names a pre-release of the same version, as in Cargo.
pub fn affected(inventories: &[Inventory], name: &str, req: &semver::VersionReq) -> Vec<Hit> {
    let mut hits = Vec::new();
    for inv in inventories {
        for p in &inv.packages {
            if !same_crate(&p.name, name) {
                continue;
            }
            if semver::Version::parse(&p.version).is_ok_and(|v| req.matches(&v)) {
                hits.push(Hit {
                    path: inv.path.clone(),
                    program: inv.program.clone(),
                    program_version: inv.version.clone(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.clone(),
                    kind: p.kind,
                });
            }
        }
    }
    hits
}

/// One line per hit: `PATH: PROGRAM PROGRAM_VERSION: NAME VERSION SOURCE[ (build)]`.
pub fn affected_text(hits: &[Hit]) -> String {
    let mut out = String::new();
    for h in hits {
        let _ = write!(
            out,
            "{}: {} {}: {} {} {}",
            h.path, h.program, h.program_version, h.name, h.version, h.source
        );
        if h.kind == Kind::Build {
            out.push_str(" (build)");
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct AffectedDocument<'a> {
    format_version: u32,
    name: &'a str,
    requirement: &'a str,
    affected: &'a [Hit],
    errors: Vec<ErrorEntry>,
}

/// JSON: `{"format_version":1,"name","requirement","affected":[...],"errors":[...]}`.
pub fn affected_json(name: &str, requirement: &str, hits: &[Hit], errors: &[String]) -> String {
    let doc = AffectedDocument {
        format_version: JSON_FORMAT_VERSION,
        name,
        requirement,
        affected: hits,
        errors: errors
            .iter()
            .map(|m| ErrorEntry { message: m.clone() })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_semver_requirement() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"serde-json","version":"1.0.140","source":"crates.io"}],"format":1}"#;
        let inv = crate::sections::decode_dep_v0(json, std::path::Path::new("bin/app")).unwrap();
        let req = |r: &str| semver::VersionReq::parse(r).unwrap();
        let inventories = [inv];
        assert_eq!(
            affected(&inventories, "serde_json", &req(">=1.0, <1.0.150")).len(),
            1
        );
        assert!(affected(&inventories, "serde_json", &req("<1.0.140")).is_empty());
        assert!(affected(&inventories, "serde", &req("*")).is_empty());
        assert_eq!(
            affected_text(&affected(&inventories, "serde_json", &req("^1"))),
            "bin/app: app 0.1.0: serde-json 1.0.140 crates.io\n"
        );
    }
}
