//! The workspace's layering, enforced: the crates stand in a fixed order, each depending
//! (normally, to build, or to test) only on crates below it, so the crate graph has no circle
//! and no arrow that runs back up; and inside `cargo-depinfo`, whose modules are one crate's
//! layers, a module names only modules of its own layer or below.
//!
//! The orders below are ARCHITECTURE.md's; a change of the architecture changes both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// The workspace's crates, from the ground up. A crate may depend on crates before it only.
const CRATES: &[&str] = &[
    "testkit",
    "buildinfo",
    "build-info-collector",
    "depinfo-read",
    "depinfo-wire",
    "depinfo-http",
    "cargo-depinfo",
    "depinfo-server",
    "build-info-example-service",
];

/// `name -> {workspace crates it depends on, any kind}`, from `cargo metadata`.
fn workspace_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = testkit::workspace_root();
    let out = testkit::run_ok(Command::new(env!("CARGO")).current_dir(&root).args([
        "metadata",
        "--format-version",
        "1",
        "--offline",
        "--no-deps",
    ]));
    let meta: serde_json::Value = serde_json::from_str(&testkit::stdout(&out)).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["path"].is_string())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|d| names.contains(d) && d != p["name"].as_str().unwrap())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn every_crate_depends_only_on_crates_below_it() {
    let graph = workspace_graph();
    let listed: BTreeSet<String> = CRATES.iter().map(|c| (*c).to_owned()).collect();
    let present: BTreeSet<String> = graph.keys().cloned().collect();
    assert_eq!(
        present, listed,
        "the workspace's crates and the layering's list differ: place new crates in CRATES \
         and ARCHITECTURE.md"
    );
    let rank = |name: &str| CRATES.iter().position(|c| *c == name).unwrap();
    let mut upward = Vec::new();
    for (name, deps) in &graph {
        for dep in deps {
            if rank(dep) >= rank(name) {
                upward.push(format!("{name} -> {dep}"));
            }
        }
    }
    assert!(upward.is_empty(), "arrows that run back up: {upward:?}");
}

/// `cargo-depinfo`'s top-level modules, from the ground up, in layers: a module may name
/// modules of its own layer or of layers below.
const DEPINFO_LAYERS: &[&[&str]] = &[
    &["progress", "child_process", "paint"],
    &["observation"],
    &["sources"],
    &["advisories"],
    &["questions"],
    &["render"],
    &["flags", "progress_line"],
    &["lib"],
    &["cli", "console"],
    &["commands"],
    &["main"],
];

/// The top-level module a source file belongs to (`sources/http/tls.rs` -> `sources`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Opening minus closing braces on a line.
fn braces(line: &str) -> isize {
    let count = |c| isize::try_from(line.matches(c).count()).unwrap_or(isize::MAX);
    count('{') - count('}')
}

/// The code of a file without its `#[cfg(test)]` modules (tests may reach anywhere) and
/// without comments.
fn code_without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    let mut depth = 0isize;
    let mut pending_cfg_test = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if skipping {
            depth += braces(line);
            if depth <= 0 {
                skipping = false;
            }
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") || trimmed.starts_with("#[cfg(all(test") {
            pending_cfg_test = true;
            continue;
        }
        if pending_cfg_test && trimmed.starts_with("mod ") {
            pending_cfg_test = false;
            depth = braces(line);
            skipping = depth > 0;
            continue;
        }
        pending_cfg_test = false;
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn cargo_depinfo_modules_name_only_their_layer_and_below() {
    let src = testkit::workspace_root().join("cargo-depinfo").join("src");
    let layer_of = |module: &str| {
        DEPINFO_LAYERS
            .iter()
            .position(|layer| layer.contains(&module))
    };
    let mut unplaced = BTreeSet::new();
    let mut upward = BTreeSet::new();
    for file in rust_files(&src) {
        let module = module_of(&src, &file);
        let Some(own) = layer_of(&module) else {
            unplaced.insert(module);
            continue;
        };
        let code = code_without_tests(&std::fs::read_to_string(&file).unwrap());
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() || name == module {
                continue;
            }
            // A module of a higher layer, or an item defined in lib.rs itself (a re-export:
            // the front door, which the modules below it must not use).
            let through_lib = layer_of(&name).is_none() && own < layer_of("lib").unwrap();
            if layer_of(&name).is_some_and(|l| l > own) || through_lib {
                upward.insert(format!(
                    "{} -> crate::{name}{}",
                    file.strip_prefix(&src).unwrap().display(),
                    if through_lib { " (through lib.rs)" } else { "" }
                ));
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules not placed in DEPINFO_LAYERS (and ARCHITECTURE.md): {unplaced:?}"
    );
    assert!(upward.is_empty(), "arrows that run back up: {upward:#?}");
}

#[test]
fn the_module_scan_sees_test_modules_and_comments_as_nothing() {
    let text = "use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests {\n    use crate::c;\n    fn f() { }\n}\nuse crate::d;\n";
    let code = code_without_tests(text);
    assert!(
        code.contains("crate::a") && code.contains("crate::d"),
        "{code}"
    );
    assert!(
        !code.contains("crate::b") && !code.contains("crate::c"),
        "{code}"
    );
}
