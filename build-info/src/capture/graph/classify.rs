//! Which packages end up in the program (runtime) and which only helped build it, and the
//! graph in `.dep-v0` order.

use std::collections::{BTreeMap, BTreeSet};

use super::cargo_tree::{Occurrence, PackageText, parse_package};
use super::lockfile::{Checksums, checksum_for, full_git_commit, registry_url_for};
use super::version_order::compare_versions;
use crate::model::{DependencyKind, Graph, Package};

pub(super) fn build_graph(occurrences: &[Occurrence], checksums: &Checksums) -> Graph {
    // Each occurrence is in the runtime context (target, reached through normal edges and no
    // proc-macro) or in the build context. Children of a `(*)` occurrence were printed at the
    // first occurrence of the same node, so the context is propagated through node identity.
    let texts: Vec<Option<PackageText>> = occurrences
        .iter()
        .map(|o| parse_package(&o.package))
        .collect();
    let mut runtime = vec![false; occurrences.len()];
    let mut children: BTreeMap<(&str, bool), Vec<usize>> = BTreeMap::new();
    for (i, o) in occurrences.iter().enumerate() {
        let is_proc_macro = texts[i].as_ref().is_some_and(|t| t.proc_macro);
        runtime[i] = match o.parent {
            None => true,
            Some(p) => runtime[p] && !o.build_edge && !is_proc_macro,
        };
        if let Some(p) = o.parent {
            children
                .entry((occurrences[p].node.as_str(), runtime[p]))
                .or_default()
                .push(i);
        }
    }
    // Node contexts reached only through (*) occurrences: walk from each runtime (*)
    // occurrence through the children recorded for its node.
    let mut runtime_nodes: BTreeSet<&str> = BTreeSet::new();
    let mut queue: Vec<(&str, bool)> = Vec::new();
    for (i, o) in occurrences.iter().enumerate() {
        if runtime[i] {
            runtime_nodes.insert(&o.package);
            queue.push((o.node.as_str(), true));
        }
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    while let Some((node, _)) = queue.pop() {
        if !seen.insert(node) {
            continue;
        }
        // Children recorded under either context belong to this node; keep those that stay
        // runtime from a runtime parent.
        for ctx in [true, false] {
            for &c in children.get(&(node, ctx)).into_iter().flatten() {
                let o = &occurrences[c];
                let is_proc_macro = texts[c].as_ref().is_some_and(|t| t.proc_macro);
                if !o.build_edge && !is_proc_macro {
                    runtime_nodes.insert(&o.package);
                    queue.push((o.node.as_str(), true));
                }
            }
        }
    }

    // Packages, their edges, and whether the root names them.
    let root_package = occurrences[0].package.as_str();
    let mut packages: BTreeMap<&str, (BTreeSet<&str>, bool)> = BTreeMap::new();
    for (i, o) in occurrences.iter().enumerate() {
        let entry = packages.entry(&o.package).or_default();
        if o.depth == 1 {
            entry.1 = true;
        }
        if let Some(p) = o.parent {
            packages
                .entry(&occurrences[p].package)
                .or_default()
                .0
                .insert(&occurrences[i].package);
        }
    }
    let mut list: Vec<(&str, PackageText)> = packages
        .keys()
        .filter_map(|k| parse_package(k).map(|t| (*k, t)))
        .collect();
    list.sort_by(|(_, a), (_, b)| {
        a.name
            .cmp(&b.name)
            .then_with(|| compare_versions(&a.version, &b.version))
            .then_with(|| a.source.cmp(&b.source))
            .then_with(|| a.git.cmp(&b.git))
    });
    let index: BTreeMap<&str, usize> = list.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
    let packages_out = list
        .iter()
        .map(|(key, t)| {
            let (deps, direct) = &packages[key];
            let mut dependencies: Vec<usize> =
                deps.iter().filter_map(|d| index.get(d).copied()).collect();
            dependencies.sort_unstable();
            dependencies.dedup();
            Package {
                name: t.name.clone(),
                version: t.version.clone(),
                source: t.source,
                git: t.git.as_ref().map(|g| full_git_commit(t, g, checksums)),
                registry_url: registry_url_for(t, checksums),
                checksum: checksum_for(t, checksums),
                kind: if runtime_nodes.contains(key) {
                    DependencyKind::Runtime
                } else {
                    DependencyKind::Build
                },
                direct: *direct,
                root: *key == root_package,
                dependencies,
            }
        })
        .collect();
    Graph {
        packages: packages_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::graph::lockfile_checksums;
    use crate::model::Source;

    const TREE: &str = "\
app v0.1.0 (/work/app)|default,fast
|-- itoa v1.0.18|
|-- lm v0.1.0 (proc-macro) (/work/lm)|
|-- pd v0.1.0 (/work/pd)|
|   [build-dependencies]
|   `-- shlex v1.3.0|default,std
|-- priv v0.2.0 (https://tok:secret@example.invalid/priv.git?branch=main#01234567)|
`-- serde v1.0.229|default,derive,serde_derive,std
    |-- serde_core v1.0.229|result,std
    `-- serde_derive v1.0.229 (proc-macro)|default
        |-- proc-macro2 v1.0.107|proc-macro
        |   `-- unicode-ident v1.0.27|
        |-- quote v1.0.47|proc-macro
        |   `-- proc-macro2 v1.0.107|proc-macro (*)
        `-- syn v3.0.9|clone-impls,derive
            |-- proc-macro2 v1.0.107|proc-macro (*)
            |-- quote v1.0.47|proc-macro (*)
            `-- unicode-ident v1.0.27|
[build-dependencies]
`-- cc v1.11.1|
    |-- find-msvc-tools v0.1.15|
    `-- shlex v2.0.1|default,std
";

    fn names(g: &Graph, kind: DependencyKind) -> Vec<String> {
        g.packages
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect()
    }

    #[test]
    fn classifies_runtime_and_build_packages() {
        let g = Graph::from_cargo_tree(TREE, &Checksums::new()).unwrap();
        assert_eq!(
            names(&g, DependencyKind::Runtime),
            [
                "app@0.1.0",
                "itoa@1.0.18",
                "pd@0.1.0",
                "priv@0.2.0",
                "serde@1.0.229",
                "serde_core@1.0.229"
            ]
        );
        assert_eq!(
            names(&g, DependencyKind::Build),
            [
                "cc@1.11.1",
                "find-msvc-tools@0.1.15",
                "lm@0.1.0",
                "proc-macro2@1.0.107",
                "quote@1.0.47",
                "serde_derive@1.0.229",
                "shlex@1.3.0",
                "shlex@2.0.1",
                "syn@3.0.9",
                "unicode-ident@1.0.27"
            ]
        );
    }

    #[test]
    fn records_sources_edges_and_direct_dependencies() {
        let g = Graph::from_cargo_tree(TREE, &Checksums::new()).unwrap();
        let get = |n: &str| g.packages.iter().find(|p| p.name == n).unwrap();
        let root = g.root().unwrap();
        assert_eq!(root.name, "app");
        assert_eq!(root.source, Source::Local);
        let direct: Vec<&str> = root
            .dependencies
            .iter()
            .map(|&i| g.packages[i].name.as_str())
            .collect();
        assert_eq!(direct, ["cc", "itoa", "lm", "pd", "priv", "serde"]);
        assert_eq!(get("lm").source, Source::Local);
        assert!(get("cc").direct && !get("syn").direct && !root.direct);
        let git = get("priv");
        assert_eq!(git.source, Source::Git);
        let origin = git.git.as_ref().unwrap();
        assert_eq!(origin.url, "https://example.invalid/priv.git");
        assert_eq!(
            origin.commit, "01234567",
            "cargo tree's short commit without Cargo.lock"
        );
        assert_eq!(get("itoa").source, Source::CratesIo);
        let quote_deps: Vec<&str> = get("quote")
            .dependencies
            .iter()
            .map(|&i| g.packages[i].name.as_str())
            .collect();
        assert_eq!(quote_deps, ["proc-macro2"]);
    }

    #[test]
    fn a_dedup_marker_in_runtime_context_makes_its_subtree_runtime() {
        // `b` is first printed under a proc-macro (build context), with its subtree; its
        // runtime use through `z` is only a `(*)` marker. The marker must carry the runtime
        // context into the subtree printed elsewhere: `b` and `c` are linked.
        let tree = "\
app v0.1.0 (/a)|
|-- a v1.0.0 (proc-macro)|
|   `-- b v1.0.0|
|       `-- c v1.0.0|
`-- z v1.0.0|
    `-- b v1.0.0| (*)
";
        let g = Graph::from_cargo_tree(tree, &Checksums::new()).unwrap();
        assert_eq!(names(&g, DependencyKind::Build), ["a@1.0.0"]);
        assert_eq!(
            names(&g, DependencyKind::Runtime),
            ["app@0.1.0", "b@1.0.0", "c@1.0.0", "z@1.0.0"]
        );
        let tree = "\
app v0.1.0 (/a)|
|-- z v1.0.0|
|   `-- b v1.0.0| (*)
[build-dependencies]
`-- a v1.0.0|
    `-- b v1.0.0|
        `-- c v1.0.0|
";
        let g = Graph::from_cargo_tree(tree, &Checksums::new()).unwrap();
        assert_eq!(names(&g, DependencyKind::Build), ["a@1.0.0"]);
    }

    #[test]
    fn reads_checksums_from_cargo_lock() {
        let lock = "version = 4\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.18\"\nsource = \"registry+https://example.invalid/crates.io-index\"\nchecksum = \"abcd\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n \"itoa\",\n]\n\n[[package]]\nname = \"priv\"\nversion = \"0.2.0\"\nsource = \"git+https://tok:secret@example.invalid/priv.git?branch=main#0123456789abcdef0123456789abcdef01234567\"\n";
        let sums = lockfile_checksums(lock);
        let g = Graph::from_cargo_tree(TREE, &sums).unwrap();
        let git = g
            .packages
            .iter()
            .find(|p| p.name == "priv")
            .unwrap()
            .git
            .clone()
            .unwrap();
        assert_eq!(git.commit, "0123456789abcdef0123456789abcdef01234567");
        assert_eq!(git.url, "https://example.invalid/priv.git");
        let g = Graph::from_cargo_tree(TREE, &sums).unwrap();
        let itoa = g.packages.iter().find(|p| p.name == "itoa").unwrap();
        assert_eq!(itoa.checksum.as_deref(), Some("abcd"));
        assert!(
            g.packages
                .iter()
                .filter(|p| p.name != "itoa")
                .all(|p| p.checksum.is_none())
        );
    }

    #[test]
    fn sorts_versions_numerically() {
        let tree = "app v0.1.0 (/a)|\n|-- x v1.10.0|\n`-- y v1.0.0|\n    `-- x v1.9.0|\n";
        let g = Graph::from_cargo_tree(tree, &Checksums::new()).unwrap();
        let v: Vec<String> = g
            .packages
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(v, ["app@0.1.0", "x@1.9.0", "x@1.10.0", "y@1.0.0"]);
    }

    #[test]
    fn rejects_output_that_is_not_a_tree() {
        assert!(Graph::from_cargo_tree("", &Checksums::new()).is_err());
        assert!(Graph::from_cargo_tree("error: nope\n", &Checksums::new()).is_err());
        assert!(
            Graph::from_cargo_tree("a v1.0.0 (/a)|\nb v1.0.0 (/b)|\n", &Checksums::new()).is_err()
        );
    }
}
