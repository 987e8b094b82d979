//! CycloneDX 1.5 JSON: one BOM per program, deterministic (no serial number, no timestamp).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::inventory::{Inventory, Kind, Package};

/// The package URL of a crate: `pkg:cargo/NAME@VERSION`.
pub fn purl(p: &Package) -> String {
    format!("pkg:cargo/{}@{}", p.name, p.version)
}

/// A CycloneDX 1.5 JSON BOM for one inventory: the program as `metadata.component`, every
/// other package as a library component (build-only ones with scope `excluded`), the edges as
/// `dependencies`. Deterministic: no serial number, no timestamp.
pub fn cyclonedx(inv: &Inventory) -> String {
    // bom-refs must be unique; the same name and version can come from two sources.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let refs: Vec<String> = inv
        .packages
        .iter()
        .map(|p| {
            let base = purl(p);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { base } else { format!("{base}#{n}") }
        })
        .collect();
    let component = |i: usize, p: &Package, kind: &str| -> Value {
        let mut c = serde_json::Map::new();
        c.insert("type".into(), json!(kind));
        c.insert("bom-ref".into(), json!(refs[i]));
        c.insert("name".into(), json!(p.name));
        c.insert("version".into(), json!(p.version));
        if !p.root {
            c.insert(
                "scope".into(),
                json!(match p.kind {
                    Kind::Runtime => "required",
                    Kind::Build => "excluded",
                }),
            );
        }
        if let Some(sum) = &p.checksum {
            c.insert("hashes".into(), json!([{"alg": "SHA-256", "content": sum}]));
        }
        c.insert("purl".into(), json!(purl(p)));
        if let Some(url) = &p.git_url {
            c.insert(
                "externalReferences".into(),
                json!([{"type": "vcs", "url": url}]),
            );
        }
        let mut props = vec![json!({"name": "cargo:source", "value": p.source})];
        if let Some(commit) = &p.git_commit {
            props.push(json!({"name": "cargo:git_commit", "value": commit}));
        }
        c.insert("properties".into(), Value::Array(props));
        Value::Object(c)
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "tools".into(),
        json!({"components": [{
            "type": "application",
            "name": "cargo-depinfo",
            "version": env!("CARGO_PKG_VERSION"),
        }]}),
    );
    let root = inv.packages.iter().position(|p| p.root);
    match root {
        Some(r) => {
            metadata.insert(
                "component".into(),
                component(r, &inv.packages[r], "application"),
            );
        }
        None => {
            metadata.insert(
                "component".into(),
                json!({"type": "application", "name": inv.program, "version": inv.version}),
            );
        }
    }
    let components: Vec<Value> = inv
        .packages
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.root)
        .map(|(i, p)| component(i, p, "library"))
        .collect();
    let dependencies: Vec<Value> = inv
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let on: Vec<&String> = p.dependencies.iter().map(|&d| &refs[d]).collect();
            json!({"ref": refs[i], "dependsOn": on})
        })
        .collect();
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": Value::Object(metadata),
        "components": components,
        "dependencies": dependencies,
    });
    let mut s = serde_json::to_string_pretty(&bom).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    #[test]
    fn cyclonedx_has_purls_and_edges() {
        let v: Value = serde_json::from_str(&cyclonedx(&sample())).unwrap();
        assert_eq!(v["specVersion"], "1.5");
        assert_eq!(v["metadata"]["component"]["purl"], "pkg:cargo/app@0.1.0");
        assert_eq!(v["components"][0]["purl"], "pkg:cargo/serde@1.0.219");
        assert_eq!(v["components"][1]["scope"], "excluded");
        assert_eq!(
            v["dependencies"][0]["dependsOn"],
            json!(["pkg:cargo/serde@1.0.219", "pkg:cargo/serde_derive@1.0.219"])
        );
    }
}
