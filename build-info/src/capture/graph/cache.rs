//! The build side's graph step: `cargo tree` runs only when its inputs changed. The graph
//! (see [`unification`] for which one) is kept in `OUT_DIR` with its scope, under a key made
//! of cargo's arguments (both runs, and the directory of the second), the content of every
//! member's manifest, the root manifest and the lock file.
//!
//! The cache holds the model's own encodings (the `.dep-v0` edges and kinds are implied by
//! the run-side table plus the dependency lists), one package per line:
//! `<run-side table line fields> \t checksum \t dependencies`, so no sixth format exists.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::request::Request;
use super::selection::{self, Invocation};
use super::unification::{self, Failure, Outcome};
use super::{Checksums, FeatureSelection, GraphError, ResolveOptions, read_checksums};
use crate::capture::script::Script;
use crate::model::{BuildFacts, GitOrigin, Graph, GraphScope, Package};
use crate::packages::Packages;

/// What the graph step reads from the build script's environment, the key of what it depends
/// on, and the cached outcome when that key has not changed.
pub(crate) struct Inputs {
    manifest: PathBuf,
    lockfile: Option<PathBuf>,
    root_manifest: PathBuf,
    cargo: PathBuf,
    name: String,
    version: String,
    features: Vec<String>,
    target: Option<String>,
    invocation: Option<(Invocation, PathBuf)>,
    /// The files the graph depends on besides the members' manifests.
    files: Vec<PathBuf>,
    /// The key without the members' manifests.
    base_key: String,
    /// `OUT_DIR/build-info-graph.cache`.
    cache: PathBuf,
    cached: Option<Outcome>,
}

impl Inputs {
    /// Whether this is `cargo package` (or `cargo publish`) building the packaged sources to
    /// verify them: cargo unpacks them into `<target>/package/<name>-<version>/`, with the
    /// `Cargo.toml.orig` only a packaged crate has.
    fn in_package_verification(&self) -> bool {
        let Some(dir) = self.manifest.parent() else {
            return false;
        };
        let packaged = format!("{}-{}", self.name, self.version);
        dir.file_name()
            .is_some_and(|n| n.to_string_lossy() == packaged)
            && dir
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "package")
            && dir.join("Cargo.toml.orig").is_file()
    }

    fn request<'a>(&'a self, checksums: &'a Checksums) -> Request<'a> {
        Request {
            cargo: &self.cargo,
            root_manifest: &self.root_manifest,
            manifest: &self.manifest,
            name: &self.name,
            version: &self.version,
            features: &self.features,
            target: self.target.as_deref(),
            invocation: self.invocation.as_ref(),
            checksums,
            lockfile: self.lockfile.as_deref(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Reads what the graph for the package in `manifest_dir`, built with `features`, depends on,
/// and the cached graph when none of it changed. Quick: it runs nothing.
pub(crate) fn prepare(script: &mut Script, manifest_dir: &Path, features: Vec<String>) -> Inputs {
    let manifest = manifest_dir.join("Cargo.toml");
    let lockfile = manifest_dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file());
    let root_manifest = lockfile
        .as_ref()
        .and_then(|l| l.parent())
        .map(|d| d.join("Cargo.toml"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| manifest.clone());
    let mut inputs = Inputs {
        cargo: PathBuf::from(script.var("CARGO").unwrap_or_else(|| "cargo".into())),
        name: script.var("CARGO_PKG_NAME").unwrap_or_default(),
        version: script.var("CARGO_PKG_VERSION").unwrap_or_default(),
        target: script.var("TARGET"),
        invocation: selection::invoking_cargo(),
        features,
        files: Vec::new(),
        base_key: String::new(),
        cache: script.out_dir.join("build-info-graph.cache"),
        cached: None,
        manifest,
        lockfile,
        root_manifest,
    };
    // What the graph depends on: cargo's arguments (both runs, and where the second runs),
    // the flags, the manifests of every member and the lock file. The files are hashed before
    // cargo runs, so an edit made meanwhile cannot be stored under its own key.
    let no_checksums = Checksums::new();
    let request = inputs.request(&no_checksums);
    let mut args = request.upper_args().join("\u{1f}");
    if let (Some(second), Some((_, cwd))) = (request.selection_args(), &inputs.invocation) {
        let _ = write!(
            args,
            "\u{1e}{}\u{1e}{}",
            cwd.display(),
            second.join("\u{1f}")
        );
    }
    let _ = write!(
        args,
        "\u{1e}{}",
        script.var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default()
    );
    let mut files = vec![inputs.manifest.clone()];
    files.extend(Some(inputs.root_manifest.clone()).filter(|r| *r != inputs.manifest));
    files.extend(inputs.lockfile.clone());
    let base_key = key_of(&args, &files, &[]);
    inputs.cached = read(&inputs.cache, |members| key_of(&base_key, &[], members));
    inputs.files = files;
    inputs.base_key = base_key;
    inputs
}

/// What [`compute`] found.
pub(crate) enum Computed {
    /// The cached outcome holds.
    Cached,
    /// The graph of the workspace (see [`unification`]).
    Resolved(Outcome),
    /// The workspace's graph could not be had: why, and the package's own tree.
    OwnTree(Failure, Result<Graph, GraphError>),
}

impl Computed {
    /// What stands for the outcome when the step itself failed (it panicked): no graph, and
    /// a problem saying so.
    pub(crate) fn panicked() -> Computed {
        let e = || GraphError::Cargo("the graph step panicked".into());
        Computed::OwnTree(Failure::Graph(e()), Err(e()))
    }
}

/// Runs cargo for the graph, unless it is cached. It touches nothing of the script, so the
/// build script runs it beside its other steps.
pub(crate) fn compute(inputs: &Inputs) -> Computed {
    if inputs.cached.is_some() {
        return Computed::Cached;
    }
    // Only a graph that is computed needs the lock file's checksums.
    let checksums = read_checksums(inputs.lockfile.as_deref());
    match unification::resolve(&inputs.request(&checksums)) {
        Ok(outcome) => Computed::Resolved(outcome),
        Err(failure) => {
            let mut options = ResolveOptions::new(&inputs.cargo, &inputs.manifest);
            options.features = FeatureSelection::Exact(inputs.features.clone());
            options.target.clone_from(&inputs.target);
            Computed::OwnTree(failure, Graph::resolve_with(&options, &checksums))
        }
    }
}

/// Records what [`compute`] found: the scope in `facts`, the files to watch, the cache, the
/// notes and problems; returns the graph to embed (empty, with a problem, when there is none).
pub(crate) fn finish(
    script: &mut Script,
    mut inputs: Inputs,
    computed: Computed,
    facts: &mut BuildFacts,
) -> Graph {
    let (files, cache) = (&inputs.files, &inputs.cache);
    let outcome = match computed {
        Computed::Cached => {
            let cached = inputs.cached.take().expect("compute saw a cached outcome");
            watch(script, files, &cached.members);
            script.note("graph: cached");
            return scoped(facts, cached);
        }
        Computed::Resolved(outcome) => {
            script.note("graph: computed");
            outcome
        }
        Computed::OwnTree(failure, own) => {
            match failure {
                // A dependency's build script: its own tree is all there is to say.
                Failure::NotAMember => script.note("graph: not a workspace member"),
                Failure::Graph(e) if inputs.in_package_verification() => {
                    // `cargo package`/`cargo publish` building the packaged sources to check
                    // them: the binary is thrown away, and the dependencies about to be
                    // published with this crate are in a registry only that cargo sees.
                    script.note(&format!("graph: package verification, not captured ({e})"));
                }
                Failure::Graph(e) => {
                    script.note("graph: workspace failed");
                    let remedy = if super::on_disk::not_on_disk(&e).is_some() {
                        "run `cargo fetch` before building (it downloads every package of Cargo.lock) to make it exact"
                    } else {
                        "`cargo tree --offline -e normal,build` in the workspace shows what fails"
                    };
                    script.problem(format!(
                        "dependency graph of the workspace not captured ({e}): the list is this package's own tree (graph=unknown), which may miss crates that other members' features add; {remedy}"
                    ));
                }
            }
            facts.graph = Some(GraphScope::Unknown);
            watch(script, files, &[]);
            // Not cached: the next run tries the workspace again.
            return match own {
                Ok(graph) => graph,
                Err(e) => {
                    script.note("graph: failed");
                    let _ = std::fs::remove_file(cache);
                    if !inputs.in_package_verification() {
                        script.problem(format!("dependency graph not captured: {e}"));
                    }
                    Graph::default()
                }
            };
        }
    };
    watch(script, files, &outcome.members);
    let link = script.out_dir.join(DOWNLOADS_LINK);
    let _ = std::fs::remove_file(&link);
    if outcome.not_on_disk.is_empty() {
        write(
            cache,
            &key_of(&inputs.base_key, &[], &outcome.members),
            &outcome,
        );
    } else {
        // Members left out because their packages are not on disk: a build that selects one
        // downloads them into the registry cache first, and this script must then run again
        // (so the outcome is not cached either).
        script.note(&format!(
            "graph: members not on disk left out: {}",
            outcome.not_on_disk.join(", ")
        ));
        let _ = std::fs::remove_file(cache);
        let downloads = script
            .cargo_home()
            .map(|home| home.join("registry").join("cache"))
            .filter(|dir| dir.is_dir());
        match downloads {
            Some(dir) if link_to(&dir, &link) => script.watch(link),
            _ => script.problem(format!(
                "dependency graph: {} left out (packages not on disk), and a later build that selects them cannot make this script run again; run `cargo fetch` before building to make the list hold for every build",
                outcome.not_on_disk.join(", ")
            )),
        }
    }
    scoped(facts, outcome)
}

/// The link in `OUT_DIR` to `$CARGO_HOME/registry/cache` that the script watches while
/// members are left out. Cargo takes whatever lies under `$CARGO_HOME/registry` and
/// `$CARGO_HOME/git` to be immutable and skips such paths in `rerun-if-changed`; a path outside
/// it that leads there is checked like any other (a directory's newest entry, links followed),
/// and a download adds a `.crate` file there.
const DOWNLOADS_LINK: &str = "build-info-registry-cache";

/// Makes `link` a symbolic link to `dir`; false where that cannot be done.
fn link_to(dir: &Path, link: &Path) -> bool {
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir, link).is_ok()
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::symlink_dir(dir, link).is_ok()
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = (dir, link);
        false
    }
}

/// Declares the files the graph depends on: `files` and the members' manifests.
fn watch(script: &mut Script, files: &[PathBuf], members: &[PathBuf]) {
    for f in files {
        script.watch(f.clone());
    }
    for dir in members {
        script.watch(dir.join("Cargo.toml"));
    }
}

/// Records the outcome's scope in `facts` and hands its graph over.
fn scoped(facts: &mut BuildFacts, outcome: Outcome) -> Graph {
    facts.graph = Some(outcome.scope);
    facts.only_with_other_members = outcome.only_with_other_members;
    outcome.graph
}

/// The cache key: `args` and the content of `files` and of the members' manifests (each file
/// read once: those already in `files` are skipped).
fn key_of(args: &str, files: &[PathBuf], members: &[PathBuf]) -> String {
    let mut key = args.to_owned();
    let mut seen: std::collections::BTreeSet<PathBuf> = files.iter().cloned().collect();
    let manifests = members
        .iter()
        .map(|d| d.join("Cargo.toml"))
        .filter(|m| seen.insert(m.clone()));
    for path in files.iter().cloned().chain(manifests) {
        let _ = write!(key, "\u{1f}{}", content_hash(&path));
    }
    format!("{:016x}", fnv1a(key.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_hash(path: &Path) -> String {
    std::fs::read(path).map_or_else(|_| "missing".into(), |b| format!("{:016x}", fnv1a(&b)))
}

const MAGIC: &str = "build-info graph cache v4";

/// The outcome stored in `path`, if its key (computed by `key` from the member directories it
/// lists) is still the same and it is valid.
pub(crate) fn read(path: &Path, key: impl FnOnce(&[PathBuf]) -> String) -> Option<Outcome> {
    let text = std::fs::read_to_string(path).ok()?;
    let (head, rest) = text.split_once('\n')?;
    let (stored_key, rest) = rest.split_once('\n')?;
    let (meta, body) = rest.split_once('\n')?;
    if head != MAGIC {
        return None;
    }
    let mut meta = meta.split('\t');
    let scope = GraphScope::from_name(meta.next()?)?;
    let only = split_list(meta.next()?, ',');
    let members: Vec<PathBuf> = split_list(meta.next()?, '\u{1f}')
        .into_iter()
        .map(PathBuf::from)
        .collect();
    if key(&members) != stored_key {
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
        let (checksum, rest) = extra.split_once('\t')?;
        let (deps, registry_url) = rest.split_once('\t')?;
        packages.push(Package {
            git: p
                .git_url()
                .zip(p.git_commit())
                .map(|(url, commit)| GitOrigin {
                    url: url.to_owned(),
                    commit: commit.to_owned(),
                }),
            checksum: (!checksum.is_empty()).then(|| checksum.to_owned()),
            registry_url: (!registry_url.is_empty()).then(|| registry_url.to_owned()),
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
    Some(Outcome {
        graph,
        scope,
        only_with_other_members: only,
        members,
        // Only outcomes over the whole workspace are stored.
        not_on_disk: Vec::new(),
    })
}

fn split_list(text: &str, separator: char) -> Vec<String> {
    text.split(separator)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Stores `outcome` under `key`; a failure only costs the next run a `cargo tree`.
pub(crate) fn write(path: &Path, key: &str, outcome: &Outcome) {
    let members: Vec<String> = outcome
        .members
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    let mut text = format!(
        "{MAGIC}\n{key}\n{}\t{}\t{}\n",
        outcome.scope.as_str(),
        outcome.only_with_other_members.join(","),
        members.join("\u{1f}")
    );
    let graph = &outcome.graph;
    for (row, p) in graph.to_table().lines().zip(&graph.packages) {
        let deps: Vec<String> = p.dependencies.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            text,
            "{row}\u{1e}{}\t{}\t{}",
            p.checksum.as_deref().unwrap_or(""),
            deps.join(","),
            p.registry_url.as_deref().unwrap_or("")
        );
    }
    let _ = std::fs::write(path, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::graph::Checksums;

    #[test]
    fn a_packaged_crate_being_verified_is_recognised_by_its_place() {
        let dir = testkit::Scratch::new("build-info-verify");
        let inputs = |manifest: PathBuf| Inputs {
            manifest,
            lockfile: None,
            root_manifest: PathBuf::new(),
            cargo: PathBuf::from("cargo"),
            name: "app".into(),
            version: "1.2.0".into(),
            features: Vec::new(),
            target: None,
            invocation: None,
            files: Vec::new(),
            base_key: String::new(),
            cache: PathBuf::new(),
            cached: None,
        };
        let packaged = dir.join("target").join("package").join("app-1.2.0");
        std::fs::create_dir_all(&packaged).unwrap();
        let manifest = packaged.join("Cargo.toml");
        // Without Cargo.toml.orig it is a directory that only looks like one.
        assert!(!inputs(manifest.clone()).in_package_verification());
        std::fs::write(packaged.join("Cargo.toml.orig"), "").unwrap();
        assert!(inputs(manifest).in_package_verification());
        // Another version, another parent, or the crate's own checkout: not verification.
        let other = dir.join("target").join("package").join("app-1.1.0");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("Cargo.toml.orig"), "").unwrap();
        assert!(!inputs(other.join("Cargo.toml")).in_package_verification());
        let vendored = dir.join("vendor").join("app-1.2.0");
        std::fs::create_dir_all(&vendored).unwrap();
        std::fs::write(vendored.join("Cargo.toml.orig"), "").unwrap();
        assert!(!inputs(vendored.join("Cargo.toml")).in_package_verification());
        assert!(!inputs(dir.join("Cargo.toml")).in_package_verification());
    }

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
        let dir = testkit::Scratch::new("build-info-cache");
        let path = dir.join("cache");
        let outcome = Outcome {
            graph: graph.clone(),
            scope: GraphScope::UpperBound,
            only_with_other_members: vec!["itoa@1.0.14".into(), "x@1.0.0".into()],
            members: vec![PathBuf::from("/w/a"), PathBuf::from("/w/b")],
            not_on_disk: Vec::new(),
        };
        write(&path, "k1", &outcome);
        let key = |members: &[PathBuf]| {
            assert_eq!(members, outcome.members);
            "k1".to_owned()
        };
        let back = read(&path, key).unwrap();
        assert_eq!(back.graph, graph);
        assert_eq!(back.scope, GraphScope::UpperBound);
        assert_eq!(
            back.only_with_other_members,
            outcome.only_with_other_members
        );
        assert!(read(&path, |_| "k2".to_owned()).is_none());
        std::fs::write(&path, "build-info graph cache v2\nk1\n").unwrap();
        assert!(read(&path, |_| "k1".to_owned()).is_none());
    }
}
