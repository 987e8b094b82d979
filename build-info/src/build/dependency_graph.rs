//! The resolved dependency graph of one package, the way cargo's own resolver decided it.
//!
//! Source of truth: `cargo tree --offline -e normal,build --target T` with the package's
//! exact features. Unlike `cargo metadata` it applies resolver-2 feature rules (so it never
//! lists crates that were not built) and it does not need dev-dependencies to be downloaded,
//! so it works in `cargo build --offline`. Checksums come from Cargo.lock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, RunError};
use super::version_order::compare_versions;
use crate::model::{DependencyKind, GitOrigin, Graph, Source};

/// Which features to resolve with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSelection {
    /// Exactly these features and nothing else (`--no-default-features --features …`): what a
    /// build script sees in `CARGO_CFG_FEATURE`.
    Exact(Vec<String>),
    /// Cargo's command-line selection.
    Cli {
        /// `--features`
        features: Vec<String>,
        /// `--all-features`
        all_features: bool,
        /// `--no-default-features`
        no_default_features: bool,
    },
}

impl Default for FeatureSelection {
    fn default() -> Self {
        FeatureSelection::Cli {
            features: Vec::new(),
            all_features: false,
            no_default_features: false,
        }
    }
}

/// What to resolve.
#[derive(Debug, Clone)]
pub struct ResolveOptions {
    /// The cargo to run (`$CARGO` in a build script).
    pub cargo: PathBuf,
    /// `Cargo.toml` of the package or workspace.
    pub manifest_path: PathBuf,
    /// `-p` spec, when the manifest is a workspace root.
    pub package: Option<String>,
    /// Feature selection.
    pub features: FeatureSelection,
    /// Target triple (`$TARGET`); `None` keeps the dependencies of every platform, as
    /// `cargo tree` does without `--target`.
    pub target: Option<String>,
    /// Pass `--offline`: never touch the network.
    pub offline: bool,
    /// Pass `--locked`: never rewrite Cargo.lock.
    pub locked: bool,
    /// Kill cargo after this long.
    pub timeout: Duration,
}

impl ResolveOptions {
    /// Options for `manifest_path` run with `cargo`: offline, locked, every platform, default
    /// features, 60 s limit.
    pub fn new(cargo: impl Into<PathBuf>, manifest_path: impl Into<PathBuf>) -> Self {
        ResolveOptions {
            cargo: cargo.into(),
            manifest_path: manifest_path.into(),
            package: None,
            features: FeatureSelection::default(),
            target: None,
            offline: true,
            locked: true,
            timeout: Duration::from_secs(60),
        }
    }

    /// The `cargo tree` arguments these options stand for.
    pub fn cargo_tree_args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["tree".into()];
        if self.offline {
            args.push("--offline".into());
        }
        if self.locked {
            args.push("--locked".into());
        }
        args.extend(
            [
                "--edges",
                "normal,build",
                "--charset",
                "ascii",
                "--format",
                "{p}|{f}",
                "--color",
                "never",
            ]
            .map(String::from),
        );
        args.push("--manifest-path".into());
        args.push(self.manifest_path.display().to_string());
        if let Some(p) = &self.package {
            args.push("--package".into());
            args.push(p.clone());
        }
        // Without --target, cargo tree shows the dependencies of every platform.
        if let Some(t) = &self.target {
            args.push("--target".into());
            args.push(t.clone());
        }
        match &self.features {
            FeatureSelection::Exact(list) => {
                args.push("--no-default-features".into());
                if !list.is_empty() {
                    args.push("--features".into());
                    args.push(list.join(","));
                }
            }
            FeatureSelection::Cli {
                features,
                all_features,
                no_default_features,
            } => {
                if *all_features {
                    args.push("--all-features".into());
                }
                if *no_default_features {
                    args.push("--no-default-features".into());
                }
                if !features.is_empty() {
                    args.push("--features".into());
                    args.push(features.join(","));
                }
            }
        }
        args
    }
}

/// Why a graph could not be resolved.
#[derive(Debug)]
#[non_exhaustive]
pub enum GraphError {
    /// cargo could not be run or was killed.
    Cargo(String),
    /// cargo ran and failed; its message.
    CargoFailed(String),
    /// cargo's output was not understood.
    Parse(String),
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Cargo(m) => write!(f, "cargo tree: {m}"),
            GraphError::CargoFailed(m) => write!(f, "cargo tree failed: {m}"),
            GraphError::Parse(m) => write!(f, "cargo tree output not understood: {m}"),
        }
    }
}

impl std::error::Error for GraphError {}

/// One package of a [`Graph`]: the model's [`Package`](crate::model::Package).
pub type GraphPackage = crate::model::Package;

impl Graph {
    /// Resolves the graph by running `cargo tree` (see the module docs) and reading the
    /// checksums from `lockfile` when given.
    pub fn resolve(options: &ResolveOptions, lockfile: Option<&Path>) -> Result<Graph, GraphError> {
        let mut cmd = Command::new(&options.cargo);
        cmd.args(options.cargo_tree_args());
        // Cargo finds its configuration (source replacement, registries) from the working
        // directory: use the package's, as cargo does for build scripts.
        if let Some(dir) = options.manifest_path.parent().filter(|d| d.is_dir()) {
            cmd.current_dir(dir);
        }
        // Never ask for credentials or wait for a terminal.
        cmd.env("CARGO_TERM_COLOR", "never")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("CARGO_TERM_PROGRESS_WHEN");
        let out = process::run(&mut cmd, options.timeout).map_err(|e| match e {
            RunError::Spawn(_) => GraphError::Cargo(format!("{} {e}", options.cargo.display())),
            RunError::TimedOut(_) => GraphError::Cargo(e.to_string()),
        })?;
        if !out.success {
            let msg = out
                .stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or_else(|| out.stderr.lines().next().unwrap_or("no message"));
            return Err(GraphError::CargoFailed(msg.trim().to_owned()));
        }
        let checksums = match lockfile {
            Some(path) => std::fs::read_to_string(path)
                .map(|text| lockfile_checksums(&text))
                .unwrap_or_default(),
            None => BTreeMap::new(),
        };
        Graph::from_cargo_tree(&out.stdout, &checksums)
    }

    /// Builds a graph from the output of `cargo tree` run with the arguments of
    /// [`ResolveOptions::cargo_tree_args`], one tree (one package).
    pub fn from_cargo_tree(output: &str, checksums: &Checksums) -> Result<Graph, GraphError> {
        let nodes = parse_tree(output)?;
        Ok(build_graph(&nodes, checksums))
    }
}

/// Cargo.lock entries: `(name, version)` to `(source, checksum)` pairs (the checksum is empty
/// for git and path packages).
pub type Checksums = BTreeMap<(String, String), Vec<(String, String)>>;

/// Reads the `[[package]]` sources and checksums of a Cargo.lock (format v1 `[metadata]`
/// checksums are not supported: they predate 2019).
pub fn lockfile_checksums(text: &str) -> Checksums {
    let mut out: Checksums = BTreeMap::new();
    let mut flush = |name: &mut Option<String>,
                     version: &mut Option<String>,
                     source: &mut Option<String>,
                     checksum: &mut Option<String>| {
        if let (Some(n), Some(v), Some(s)) = (name.take(), version.take(), source.take()) {
            out.entry((n, v))
                .or_default()
                .push((s, checksum.take().unwrap_or_default()));
        }
        *source = None;
    };
    let (mut name, mut version, mut source, mut checksum) = (None, None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            flush(&mut name, &mut version, &mut source, &mut checksum);
            name = None;
            version = None;
            checksum = None;
            continue;
        }
        let Some((key, value)) = line.split_once(" = ") else {
            continue;
        };
        let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
            continue;
        };
        match key {
            "name" => name = Some(value.to_owned()),
            "version" => version = Some(value.to_owned()),
            "source" => source = Some(value.to_owned()),
            "checksum" => checksum = Some(value.to_owned()),
            _ => {}
        }
    }
    flush(&mut name, &mut version, &mut source, &mut checksum);
    out
}

/// One line of the tree.
#[derive(Debug)]
struct Occurrence {
    depth: usize,
    /// Index of the parent occurrence.
    parent: Option<usize>,
    /// Reached from its parent through a build-dependency edge.
    build_edge: bool,
    /// `{p}` text: identifies the package.
    package: String,
    /// `{p}|{f}` text: identifies the node (a package with one feature set).
    node: String,
}

fn parse_tree(output: &str) -> Result<Vec<Occurrence>, GraphError> {
    let mut occurrences: Vec<Occurrence> = Vec::new();
    // stack[d] = index of the latest occurrence at depth d; build[d] = children of stack[d]
    // are currently under a [build-dependencies] header.
    let mut stack: Vec<usize> = Vec::new();
    let mut build: Vec<bool> = Vec::new();
    for line in output.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let (depth, rest) = strip_prefix_units(line);
        if let Some(header) = rest.strip_prefix('[') {
            // A header after n units introduces the children (at depth n + 1) of the
            // occurrence at depth n.
            if build.len() <= depth {
                build.resize(depth + 1, false);
            }
            build[depth] = header.starts_with("build-dependencies");
            continue;
        }
        if depth == 0 && !occurrences.is_empty() {
            // A second tree: this parser reads one package's tree.
            return Err(GraphError::Parse(format!(
                "more than one root: {line:?}; select one package"
            )));
        }
        // `(*)`: the children were printed at the node's first occurrence.
        let rest = rest.strip_suffix(" (*)").unwrap_or(rest);
        let package = match rest.rfind('|') {
            Some(i) => &rest[..i],
            None => rest,
        };
        if !package.contains(" v") {
            return Err(GraphError::Parse(format!("unexpected line {line:?}")));
        }
        stack.truncate(depth);
        build.truncate(depth + 1);
        let parent = if depth == 0 {
            None
        } else {
            stack.last().copied()
        };
        if depth > 0 && parent.is_none() {
            return Err(GraphError::Parse(format!("line without parent: {line:?}")));
        }
        let build_edge = depth > 0 && build.get(depth - 1).copied().unwrap_or(false);
        occurrences.push(Occurrence {
            depth,
            parent,
            build_edge,
            package: package.to_owned(),
            node: rest.to_owned(),
        });
        stack.push(occurrences.len() - 1);
        if build.len() <= depth {
            build.resize(depth + 1, false);
        }
        build[depth] = false;
    }
    if occurrences.is_empty() {
        return Err(GraphError::Parse("no packages in cargo tree output".into()));
    }
    Ok(occurrences)
}

/// Strips the ASCII tree drawing (`|-- `, `` `-- ``, `|   `, four spaces) and returns the
/// depth of a package line (a header line gets the depth of the children it introduces
/// minus one, i.e. the number of units before it).
fn strip_prefix_units(line: &str) -> (usize, &str) {
    let mut rest = line;
    let mut units = 0;
    loop {
        if let Some(r) = rest
            .strip_prefix("|-- ")
            .or_else(|| rest.strip_prefix("`-- "))
        {
            return (units + 1, r);
        }
        if let Some(r) = rest
            .strip_prefix("|   ")
            .or_else(|| rest.strip_prefix("    "))
        {
            rest = r;
            units += 1;
            continue;
        }
        return (units, rest);
    }
}

/// The parts of a `{p}` string: `name vVERSION[ (SOURCE)][ (proc-macro)]`.
#[derive(Debug, PartialEq, Eq)]
struct PackageText {
    name: String,
    version: String,
    source: Source,
    git: Option<GitOrigin>,
    proc_macro: bool,
}

fn parse_package(text: &str) -> Option<PackageText> {
    let (name, rest) = text.split_once(" v")?;
    let (version, rest) = match rest.split_once(' ') {
        Some((v, r)) => (v, r),
        None => (rest, ""),
    };
    // cargo prints `name vX (proc-macro) (source)`; accept the marker on either side.
    let (rest, proc_macro) = if let Some(r) = rest.strip_prefix("(proc-macro)") {
        (r.trim_start(), true)
    } else if let Some(r) = rest.strip_suffix(" (proc-macro)") {
        (r, true)
    } else if rest == "(proc-macro)" {
        ("", true)
    } else {
        (rest, false)
    };
    let detail = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
    let (source, git) = match detail {
        None => (Source::CratesIo, None),
        Some(d) if d.starts_with("registry ") => (Source::Registry, None),
        Some(d) => match git_origin(d) {
            Some(g) => (Source::Git, Some(g)),
            None => (Source::Local, None),
        },
    };
    Some(PackageText {
        name: name.to_owned(),
        version: version.to_owned(),
        source,
        git,
        proc_macro,
    })
}

/// `https://user:pw@host/repo?branch=x#sha` → url `https://host/repo`, commit `sha`.
fn git_origin(detail: &str) -> Option<GitOrigin> {
    let (url, commit) = detail.rsplit_once('#')?;
    let scheme_end = url.find("://")?;
    if !commit.bytes().all(|b| b.is_ascii_hexdigit()) || commit.is_empty() {
        return None;
    }
    Some(GitOrigin {
        url: sanitize_url(&url[..scheme_end + 3], &url[scheme_end + 3..]),
        commit: commit.to_owned(),
    })
}

/// Drops credentials, query and fragment from a URL given as scheme and the rest.
fn sanitize_url(scheme: &str, rest: &str) -> String {
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    if scheme == "file://" {
        // A local repository: its path says where the build machine keeps things.
        let last = rest.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        return format!("file://{last}");
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}{host}{path}")
}

fn build_graph(occurrences: &[Occurrence], checksums: &Checksums) -> Graph {
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
            GraphPackage {
                name: t.name.clone(),
                version: t.version.clone(),
                source: t.source,
                git: t.git.as_ref().map(|g| full_git_commit(t, g, checksums)),
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

/// cargo tree prints a short commit; Cargo.lock has the full one (`git+URL#SHA`).
fn full_git_commit(t: &PackageText, origin: &GitOrigin, lock: &Checksums) -> GitOrigin {
    let full = lock
        .get(&(t.name.clone(), t.version.clone()))
        .into_iter()
        .flatten()
        .filter(|(s, _)| s.starts_with("git+"))
        .filter_map(|(s, _)| s.rsplit_once('#').map(|(_, sha)| sha))
        .find(|sha| sha.starts_with(&origin.commit));
    GitOrigin {
        url: origin.url.clone(),
        commit: full.map_or_else(|| origin.commit.clone(), str::to_owned),
    }
}

fn checksum_for(t: &PackageText, checksums: &Checksums) -> Option<String> {
    if !matches!(t.source, Source::CratesIo | Source::Registry) {
        return None;
    }
    let candidates = checksums.get(&(t.name.clone(), t.version.clone()))?;
    let registry: Vec<&(String, String)> = candidates
        .iter()
        .filter(|(s, c)| (s.starts_with("registry+") || s.starts_with("sparse+")) && !c.is_empty())
        .collect();
    match registry.as_slice() {
        [] => None,
        [(_, c)] => Some(c.clone()),
        many => {
            // The same name and version from several registries: crates.io's index URL names it.
            let want_crates_io = t.source == Source::CratesIo;
            many.iter()
                .find(|(s, _)| s.contains("crates.io") == want_crates_io)
                .map(|(_, c)| c.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // `b` is first seen under a build dependency; its runtime use is deduplicated.
        let tree = "\
app v0.1.0 (/a)|
|-- a v1.0.0|
|   `-- b v1.0.0|
|       `-- c v1.0.0|
`-- z v1.0.0|
    `-- b v1.0.0| (*)
";
        let g = Graph::from_cargo_tree(tree, &Checksums::new()).unwrap();
        assert_eq!(names(&g, DependencyKind::Build), Vec::<String>::new());
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

    #[test]
    fn sanitizes_urls() {
        assert_eq!(
            sanitize_url("ssh://", "git@host:22/r.git?rev=1"),
            "ssh://host:22/r.git"
        );
        assert_eq!(
            sanitize_url("file://", "/tmp/x/repo.git/"),
            "file://repo.git"
        );
    }
}
