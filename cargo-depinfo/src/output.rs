//! Renders inventories as text (modelled on `go version -m`), JSON (our documented format,
//! `format_version` 1) and CycloneDX 1.5 JSON. Output is deterministic: inventories come in
//! input order, packages in index order, JSON keys in a fixed order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::inventory::{Inventory, Kind, Package};

/// Version of the JSON output format (`"format_version"`). Fields may be added within a
/// version; removing or changing one bumps it.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// An input that failed, for the `errors` list of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// The one-line message (it names the input).
    pub message: String,
}

/// The `errors` array every JSON document carries.
pub(crate) fn error_entries(errors: &[String]) -> Vec<ErrorEntry> {
    errors
        .iter()
        .map(|m| ErrorEntry { message: m.clone() })
        .collect()
}

/// A JSON document, pretty-printed, ending in a newline.
pub(crate) fn pretty_json(doc: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

/// Text in the shape of `go version -m`:
///
/// ```text
/// PATH: PROGRAM VERSION
/// <TAB>build<TAB>KEY=VALUE            (one per build fact, .bldinfo only)
/// <TAB>mod<TAB>NAME<TAB>VERSION<TAB>SOURCE   (the root package)
/// <TAB>dep<TAB>NAME<TAB>VERSION<TAB>SOURCE[<TAB>PROVENANCE]
/// <TAB>build-dep<TAB>NAME<TAB>VERSION<TAB>SOURCE[<TAB>PROVENANCE]
/// ```
///
/// PROVENANCE is `sha256:HEX` (the Cargo.lock checksum) or `URL#COMMIT` for git packages.
pub fn text(inventories: &[Inventory]) -> String {
    let mut out = String::new();
    for inv in inventories {
        let _ = writeln!(out, "{}: {} {}", inv.path, inv.program, inv.version);
        if let Some(build) = &inv.build {
            for (key, value) in build.pairs() {
                let _ = writeln!(out, "\tbuild\t{key}={}", clean(&value));
            }
        }
        let line = |out: &mut String, tag: &str, p: &Package| {
            let _ = write!(
                out,
                "\t{tag}\t{}\t{}\t{}",
                clean(&p.name),
                clean(&p.version),
                clean(&p.source)
            );
            if let Some(c) = &p.checksum {
                let _ = write!(out, "\tsha256:{}", clean(c));
            } else if let (Some(url), Some(commit)) = (&p.git_url, &p.git_commit) {
                let _ = write!(out, "\t{}#{}", clean(url), clean(commit));
            }
            out.push('\n');
        };
        if let Some(root) = inv.root() {
            line(&mut out, "mod", root);
        }
        for p in inv.packages.iter().filter(|p| !p.root) {
            let tag = match p.kind {
                Kind::Runtime => "dep",
                Kind::Build => "build-dep",
            };
            line(&mut out, tag, p);
        }
    }
    out
}

/// Tabs and newlines would break the line format; embedded data is not trusted.
fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    format_version: u32,
    inventories: &'a [Inventory],
    errors: Vec<ErrorEntry>,
}

/// Our JSON format (see the README): `{"format_version":1,"inventories":[...],"errors":[...]}`,
/// pretty-printed, ending in a newline.
pub fn json(inventories: &[Inventory], errors: &[String]) -> String {
    let doc = JsonDocument {
        format_version: JSON_FORMAT_VERSION,
        inventories,
        errors: crate::output::error_entries(errors),
    };
    crate::output::pretty_json(&doc)
}

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

/// The programs as the Prometheus text exposition build-info-collector would serve for each:
/// `<program>_build_info` (programs with build facts) and `rust_mod_info` (runtime
/// dependencies), with the collector's HELP texts and labels, for node_exporter's textfile
/// collector. Each family appears once, its series sorted and deduplicated, so any number of
/// programs make one valid exposition. Labels never carry a path.
pub fn prometheus(inventories: &[Inventory]) -> String {
    use std::collections::BTreeSet;

    use build_info_collector::{
        BUILD_INFO_HELP_TEMPLATE, RUST_MOD_INFO, RUST_MOD_INFO_HELP, metric_name, push_label_value,
    };

    let series = |labels: &[(&str, &str)]| {
        let mut out = String::from("{");
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"");
            push_label_value(&mut out, v);
            out.push('"');
        }
        out.push_str("} 1");
        out
    };
    // family name -> (help, series)
    let mut families: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for inv in inventories {
        if let Some(b) = &inv.build {
            let name = format!("{}_build_info", metric_name(&inv.program));
            let revision = buildinfo::revision_label(&b.revision, b.modified);
            let features = b.features.join(",");
            let help = BUILD_INFO_HELP_TEMPLATE.replace("{program}", &inv.program);
            let line = series(&[
                ("branch", &b.branch),
                ("features", &features),
                ("profile", &b.profile),
                ("revision", &revision),
                ("rustversion", &b.rust_version),
                ("target", &b.target),
                ("version", &inv.version),
            ]);
            families
                .entry(name)
                .or_insert_with(|| (help, BTreeSet::new()))
                .1
                .insert(line);
        }
        for p in inv
            .packages
            .iter()
            .filter(|p| !p.root && p.kind == Kind::Runtime)
        {
            let line = series(&[
                ("direct", if p.direct { "true" } else { "false" }),
                ("name", &p.name),
                ("program", &inv.program),
                ("source", &p.source),
                ("version", &p.version),
            ]);
            families
                .entry(RUST_MOD_INFO.to_owned())
                .or_insert_with(|| (RUST_MOD_INFO_HELP.to_owned(), BTreeSet::new()))
                .1
                .insert(line);
        }
    }
    let mut out = String::new();
    for (name, (help, lines)) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for l in lines {
            let _ = writeln!(out, "{name}{l}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Origin;

    fn sample() -> Inventory {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.219","source":"crates.io"},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"}],"format":1}"#;
        crate::sections::decode_dep_v0(json, std::path::Path::new("bin/app")).unwrap()
    }

    #[test]
    fn text_is_go_version_m_shaped() {
        assert_eq!(
            text(&[sample()]),
            "bin/app: app 0.1.0\n\
             \tmod\tapp\t0.1.0\tlocal\n\
             \tdep\tserde\t1.0.219\tcrates.io\n\
             \tbuild-dep\tserde_derive\t1.0.219\tcrates.io\n"
        );
    }

    #[test]
    fn json_carries_its_format_version() {
        let v: Value = serde_json::from_str(&json(&[sample()], &["x: broken".into()])).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["inventories"][0]["origin"], Origin::DepV0.as_str());
        assert_eq!(v["inventories"][0]["packages"][2]["kind"], "build");
        assert_eq!(v["errors"][0]["message"], "x: broken");
    }

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
