//! The build side's graph step: `cargo tree` runs only when its inputs changed. The graph is
//! kept in `OUT_DIR` under a key made of cargo's arguments and the content of the manifests
//! and the lock file.
//!
//! The cache holds the model's own encodings (the `.dep-v0` edges and kinds are implied by
//! the run-side table plus the dependency lists), one package per line:
//! `<run-side table line fields> \t checksum \t dependencies`, so no sixth format exists.

use std::fmt::Write as _;
use std::path::Path;

use super::{FeatureSelection, ResolveOptions};
use crate::capture::script::Script;
use crate::model::{BuildFacts, GitOrigin, Graph, Package};
use crate::packages::Packages;

/// The graph for the package in `manifest_dir` with `facts`' features and target, from the
/// cache when nothing it depends on changed; empty (with a problem) when it cannot be had.
pub(crate) fn capture(script: &mut Script, manifest_dir: &Path, facts: &BuildFacts) -> Graph {
    let manifest = manifest_dir.join("Cargo.toml");
    let lockfile = manifest_dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file());
    let mut options = ResolveOptions::new(
        script.var("CARGO").unwrap_or_else(|| "cargo".into()),
        &manifest,
    );
    options.features = FeatureSelection::Exact(facts.features.clone());
    options.target = script.var("TARGET");
    // What the graph depends on: cargo's inputs, the manifests and the lock file.
    script.watch(manifest.clone());
    let mut key = options.cargo_tree_args().join("\u{1f}");
    for path in [Some(manifest.clone()), lockfile.clone()]
        .into_iter()
        .flatten()
    {
        let _ = write!(key, "\u{1f}{}", content_hash(&path));
    }
    if let Some(lock) = &lockfile {
        script.watch(lock.clone());
        // A workspace member's graph also depends on the root manifest beside the lock.
        if let Some(root) = lock.parent().map(|d| d.join("Cargo.toml"))
            && root != manifest
            && root.is_file()
        {
            let _ = write!(key, "\u{1f}{}", content_hash(&root));
            script.watch(root);
        }
    }
    key.push_str(&script.var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default());
    let key = format!("{:016x}", fnv1a(key.as_bytes()));
    let cache = script.out_dir.join("build-info-graph.cache");
    if let Some(graph) = read(&cache, &key) {
        script.note("graph: cached");
        return graph;
    }
    match Graph::resolve(&options, lockfile.as_deref()) {
        Ok(graph) => {
            script.note("graph: computed");
            write(&cache, &key, &graph);
            graph
        }
        Err(e) => {
            script.note("graph: failed");
            let _ = std::fs::remove_file(&cache);
            script.problem(format!("dependency graph not captured: {e}"));
            Graph::default()
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_hash(path: &Path) -> String {
    std::fs::read(path).map_or_else(|_| "missing".into(), |b| format!("{:016x}", fnv1a(&b)))
}

const MAGIC: &str = "build-info graph cache v2";

/// The graph stored under `key`, if that is what the file holds and it is valid.
pub(crate) fn read(path: &Path, key: &str) -> Option<Graph> {
    let text = std::fs::read_to_string(path).ok()?;
    let (head, rest) = text.split_once('\n')?;
    let (stored_key, body) = rest.split_once('\n')?;
    if head != MAGIC || stored_key != key {
        return None;
    }
    // Table lines and their extras alternate: the table part is the model's run-side table.
    let mut table = String::new();
    let mut extras = Vec::new();
    for line in body.lines() {
        let (row, extra) = line.rsplit_once('\u{1e}')?;
        table.push_str(row);
        table.push('\n');
        extras.push(extra);
    }
    let table: &'static str = Box::leak(table.into_boxed_str());
    let mut packages = Vec::with_capacity(extras.len());
    for (p, extra) in Packages::from_table(table).iter().zip(extras) {
        let (checksum, deps) = extra.split_once('\t')?;
        packages.push(Package {
            git: p
                .git_url()
                .zip(p.git_commit())
                .map(|(url, commit)| GitOrigin {
                    url: url.to_owned(),
                    commit: commit.to_owned(),
                }),
            checksum: (!checksum.is_empty()).then(|| checksum.to_owned()),
            kind: p.kind(),
            direct: p.is_direct(),
            root: p.is_root(),
            dependencies: deps
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
            ..Package::new(p.name(), p.version(), p.source())
        });
    }
    let graph = Graph { packages };
    graph.validate().ok()?;
    Some(graph)
}

/// Stores `graph` under `key`; a failure only costs the next run a `cargo tree`.
pub(crate) fn write(path: &Path, key: &str, graph: &Graph) {
    let mut text = format!("{MAGIC}\n{key}\n");
    for (row, p) in graph.to_table().lines().zip(&graph.packages) {
        let deps: Vec<String> = p.dependencies.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            text,
            "{row}\u{1e}{}\t{}",
            p.checksum.as_deref().unwrap_or(""),
            deps.join(",")
        );
    }
    let _ = std::fs::write(path, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::graph::Checksums;

    #[test]
    fn the_graph_cache_round_trips() {
        let tree = "app v0.1.0 (/a)|\n|-- x v1.0.0 (https://u:p@example.invalid/x#0123abcd)|\n`-- y v1.0.0|\n[build-dependencies]\n`-- z v2.0.0|\n";
        let mut sums = Checksums::new();
        sums.insert(
            ("y".into(), "1.0.0".into()),
            vec![("registry+x".into(), "ff".into())],
        );
        let graph = Graph::from_cargo_tree(tree, &sums).unwrap();
        assert!(graph.packages.iter().any(|p| p.checksum.is_some()));
        assert!(graph.packages.iter().any(|p| p.git.is_some()));
        let dir = std::env::temp_dir().join(format!("build-info-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cache");
        write(&path, "k1", &graph);
        assert_eq!(read(&path, "k1"), Some(graph));
        assert_eq!(read(&path, "k2"), None);
        std::fs::write(&path, "build-info graph cache v1\nk1\n").unwrap();
        assert_eq!(read(&path, "k1"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
