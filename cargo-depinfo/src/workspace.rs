//! `cargo depinfo list`: the inventory of packages resolved from source, exactly what
//! build-info would embed for them. The graph comes from build-info's own code
//! ([`buildinfo::build::Graph::resolve`], `cargo tree --offline --locked -e normal,build`);
//! `cargo metadata --no-deps` only names the workspace members.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use buildinfo::build::{FeatureSelection, Graph, GraphError, ResolveOptions};
use serde::Deserialize;

use crate::inventory::{Inventory, Kind, Origin, Package};

/// What to list.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListOptions {
    /// The cargo to run (`$CARGO` when run by cargo).
    pub cargo: PathBuf,
    /// `--manifest-path`; `None` lets cargo find the manifest from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// `-p`: package names (or `name@version`).
    pub packages: Vec<String>,
    /// `--workspace`: every member.
    pub workspace: bool,
    /// `--features`, `--all-features`, `--no-default-features`.
    pub features: FeatureSelection,
    /// `--target`; `None` resolves for the host.
    pub target: Option<String>,
    /// Kill cargo after this long.
    pub timeout: Duration,
}

impl ListOptions {
    /// Default options: the package in the current directory, default features, host target.
    pub fn new(cargo: impl Into<PathBuf>) -> Self {
        ListOptions {
            cargo: cargo.into(),
            manifest_path: None,
            packages: Vec::new(),
            workspace: false,
            features: FeatureSelection::default(),
            target: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Why a workspace could not be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// `cargo metadata` could not be run, or failed.
    #[error("cargo metadata: {0}")]
    Metadata(String),
    /// A `-p` spec matched no workspace member.
    #[error("package `{0}` is not a member of the workspace")]
    NoSuchPackage(String),
    /// The host triple could not be learned from `cargo -vV`.
    #[error("cannot learn the host triple from `{cargo} -vV`: {message}")]
    Host {
        /// The cargo program.
        cargo: String,
        /// What went wrong.
        message: String,
    },
    /// The graph of one package could not be resolved.
    #[error("cannot resolve the dependency graph of {package}")]
    Graph {
        /// The package.
        package: String,
        /// build-info's error.
        #[source]
        source: GraphError,
    },
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<MetaPackage>,
    workspace_members: Vec<String>,
    #[serde(default)]
    workspace_default_members: Option<Vec<String>>,
    workspace_root: PathBuf,
}

#[derive(Deserialize)]
struct MetaPackage {
    name: String,
    version: String,
    id: String,
    manifest_path: PathBuf,
}

fn metadata(options: &ListOptions) -> Result<Metadata, ListError> {
    let mut cmd = Command::new(&options.cargo);
    cmd.args([
        "metadata",
        "--no-deps",
        "--format-version",
        "1",
        "--offline",
    ]);
    if let Some(m) = &options.manifest_path {
        cmd.arg("--manifest-path").arg(m);
    }
    cmd.env("CARGO_TERM_COLOR", "never");
    let out = cmd
        .output()
        .map_err(|e| ListError::Metadata(format!("{}: {e}", options.cargo.display())))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .or_else(|| stderr.lines().next())
            .unwrap_or("failed");
        return Err(ListError::Metadata(line.trim().to_owned()));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| ListError::Metadata(format!("output not understood: {e}")))
}

/// The host triple, from `cargo -vV` (the `host:` line).
fn host_triple(cargo: &Path) -> Result<String, ListError> {
    let err = |message: String| ListError::Host {
        cargo: cargo.display().to_string(),
        message,
    };
    let out = Command::new(cargo)
        .arg("-vV")
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
        .ok_or_else(|| err("no `host:` line".into()))
}

/// The manifest cargo would pick from the current directory: the nearest `Cargo.toml` above.
fn nearest_manifest() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|p| p.is_file())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Lists the selected packages, one inventory each, in workspace member order.
pub fn list(options: &ListOptions) -> Result<Vec<Inventory>, ListError> {
    let meta = metadata(options)?;
    let members: Vec<&MetaPackage> = meta
        .workspace_members
        .iter()
        .filter_map(|id| meta.packages.iter().find(|p| &p.id == id))
        .collect();
    let selected: Vec<&MetaPackage> = if options.workspace {
        members.clone()
    } else if !options.packages.is_empty() {
        let mut out = Vec::new();
        for spec in &options.packages {
            let (name, version) = spec.split_once('@').unwrap_or((spec, ""));
            let found: Vec<&MetaPackage> = members
                .iter()
                .copied()
                .filter(|p| p.name == name && (version.is_empty() || p.version == version))
                .collect();
            if found.is_empty() {
                return Err(ListError::NoSuchPackage(spec.clone()));
            }
            out.extend(found);
        }
        out
    } else {
        let manifest = options.manifest_path.clone().or_else(nearest_manifest);
        let current = manifest.as_deref().and_then(|m| {
            members
                .iter()
                .copied()
                .find(|p| same_file(&p.manifest_path, m))
        });
        match current {
            Some(p) => vec![p],
            // A virtual manifest: its default members, as cargo does.
            None => match &meta.workspace_default_members {
                Some(ids) => members
                    .iter()
                    .copied()
                    .filter(|p| ids.contains(&p.id))
                    .collect(),
                None => members.clone(),
            },
        }
    };
    // build-info's `--target host` default is not understood by every cargo (1.95 wants
    // `host-tuple`); name the host triple instead, as a build script's $TARGET would.
    let target = match &options.target {
        Some(t) => t.clone(),
        None => host_triple(&options.cargo)?,
    };
    let lockfile = meta.workspace_root.join("Cargo.lock");
    let lockfile = lockfile.is_file().then_some(lockfile);
    let mut out = Vec::new();
    for p in selected {
        let mut resolve = ResolveOptions::new(&options.cargo, &p.manifest_path);
        resolve.features = options.features.clone();
        resolve.target = Some(target.clone());
        resolve.timeout = options.timeout;
        let graph =
            Graph::resolve(&resolve, lockfile.as_deref()).map_err(|source| ListError::Graph {
                package: p.name.clone(),
                source,
            })?;
        out.push(from_graph(&graph, &p.manifest_path, &p.name, &p.version));
    }
    Ok(out)
}

/// Converts build-info's graph into an inventory.
pub fn from_graph(graph: &Graph, manifest: &Path, name: &str, version: &str) -> Inventory {
    let packages = graph
        .packages
        .iter()
        .map(|g| Package {
            name: g.name.clone(),
            version: g.version.clone(),
            source: g.source.as_str().to_owned(),
            kind: match g.kind {
                buildinfo::DependencyKind::Build => Kind::Build,
                buildinfo::DependencyKind::Runtime => Kind::Runtime,
            },
            direct: g.direct,
            root: g.root,
            checksum: g.checksum.clone(),
            git_url: g.git.as_ref().map(|o| o.url.clone()),
            git_commit: g.git.as_ref().map(|o| o.commit.clone()),
            dependencies: g.dependencies.clone(),
        })
        .collect();
    Inventory {
        path: manifest.display().to_string(),
        origin: Origin::Workspace,
        program: name.to_owned(),
        version: version.to_owned(),
        build: None,
        packages,
    }
}
