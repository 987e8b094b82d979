//! A workspace from source (`cargo depinfo list`): the inventory of each selected package as
//! build-info resolves it for that package built on its own (a binary also embeds what other
//! members' features can add, see FORMAT.md). `cargo metadata --no-deps` (read with the `cargo_metadata`
//! crate) names the members and selects them the way cargo's `-p`, `--workspace` and
//! `--exclude` do; the graph comes from build-info's own code
//! ([`buildinfo::build::Graph::resolve`], `cargo tree --offline --locked -e normal,build`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use buildinfo::build::{FeatureSelection, Graph, GraphError, ResolveOptions};
use cargo_metadata::{Metadata, MetadataCommand, Package as MetaPackage};

use crate::child_process::{ChildError, output_within};
use depinfo_read::inventory::{Inventory, Kind, Origin, Package};

/// What to list, with cargo's flags.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ListOptions {
    /// The cargo to run (`$CARGO` when run by cargo).
    pub cargo: PathBuf,
    /// `--manifest-path`; `None` lets cargo find the manifest from the current directory.
    pub manifest_path: Option<PathBuf>,
    /// `-p`: package specs (`name`, `name@1.2.3`, `name@1.2`, or a package id URL such as
    /// `path+file:///src/app#0.1.0`; see `cargo help pkgid`).
    pub packages: Vec<String>,
    /// `--workspace`: every member.
    pub workspace: bool,
    /// `--exclude`: specs of members left out (with `--workspace`).
    pub exclude: Vec<String>,
    /// `--features` (already split on commas and spaces).
    pub features: Vec<String>,
    /// `--all-features`.
    pub all_features: bool,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--target`; `None` resolves for the host.
    pub target: Option<String>,
    /// `--locked`, passed to `cargo metadata` (the graph is always read `--locked`).
    pub locked: bool,
    /// `--frozen`, passed to `cargo metadata`.
    pub frozen: bool,
    /// Kill each cargo run after this long.
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
            exclude: Vec::new(),
            features: Vec::new(),
            all_features: false,
            no_default_features: false,
            target: None,
            locked: false,
            frozen: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Why a workspace could not be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// `cargo metadata` or `cargo -vV` did not finish, or could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// `cargo metadata` failed: its first error line.
    #[error("cargo metadata: {message}")]
    Metadata {
        /// The manifest given, if any.
        manifest_path: Option<PathBuf>,
        /// cargo's message.
        message: String,
    },
    /// `cargo metadata` printed something that is not its JSON.
    #[error("cargo metadata: output not understood: {message}")]
    MetadataOutput {
        /// The decoder's message.
        message: String,
    },
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

/// The first `error` line of cargo's stderr (else its first line).
fn first_error_line(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .or_else(|| stderr.lines().next())
        .unwrap_or("failed")
        .trim()
        .to_owned()
}

fn metadata(options: &ListOptions) -> Result<Metadata, ListError> {
    let mut command = MetadataCommand::new();
    command.cargo_path(&options.cargo).no_deps();
    if let Some(m) = &options.manifest_path {
        command.manifest_path(m);
    }
    // Members need no network: --offline always, as the graph is read.
    let mut flags = vec!["--offline".to_owned()];
    if options.locked {
        flags.push("--locked".into());
    }
    if options.frozen {
        flags.push("--frozen".into());
    }
    command.other_options(flags);
    let mut cmd = command.cargo_command();
    // No program named by the workspace's cargo config runs (rustc wrappers).
    buildinfo::capture::inert_toolchain(&mut cmd, &options.cargo);
    cmd.env("CARGO_TERM_COLOR", "never");
    let out = output_within(&mut cmd, options.timeout)?;
    if !out.status.success() {
        return Err(ListError::Metadata {
            manifest_path: options.manifest_path.clone(),
            message: first_error_line(&out.stderr),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    MetadataCommand::parse(text.as_ref()).map_err(|e| ListError::MetadataOutput {
        message: e.to_string(),
    })
}

/// The host triple, from `cargo -vV` (the `host:` line).
fn host_triple(cargo: &Path, timeout: Duration) -> Result<String, ListError> {
    let err = |message: String| ListError::Host {
        cargo: cargo.display().to_string(),
        message,
    };
    let out = output_within(Command::new(cargo).arg("-vV"), timeout)?;
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

/// A version in a spec may leave out the minor and patch numbers (`serde@1`, `serde@1.0`).
fn version_matches(wanted: &str, version: &semver::Version) -> bool {
    if let Ok(exact) = semver::Version::parse(wanted) {
        return &exact == version;
    }
    let numbers = [version.major, version.minor, version.patch];
    let parts: Vec<&str> = wanted.split('.').collect();
    parts.len() < 3
        && parts
            .iter()
            .zip(numbers)
            .all(|(p, n)| p.parse::<u64>().is_ok_and(|p| p == n))
}

/// Strips the source kind (`path+`, `registry+`, `git+`, `sparse+`) off a package id URL.
fn bare_url(url: &str) -> &str {
    ["path+", "registry+", "git+", "sparse+"]
        .iter()
        .find_map(|k| url.strip_prefix(k))
        .unwrap_or(url)
}

/// Whether a package id spec (`cargo help pkgid`) names the package: `NAME`,
/// `NAME@VERSION`, or `URL#[NAME@]VERSION` / `URL#NAME`, where a URL without a name means the
/// package named like the URL's last path segment.
fn spec_matches(spec: &str, package: &MetaPackage) -> bool {
    let name_version = |nv: &str| {
        let (name, version) = nv.split_once('@').map_or((nv, None), |(n, v)| (n, Some(v)));
        name == package.name.as_str()
            && version.is_none_or(|v| version_matches(v, &package.version))
    };
    let Some((url, fragment)) = spec
        .split_once('#')
        .or_else(|| spec.contains("://").then_some((spec, "")))
    else {
        return name_version(spec);
    };
    let id = &package.id.repr;
    let id_url = id.split_once('#').map_or(id.as_str(), |(u, _)| u);
    if bare_url(url).trim_end_matches('/') != bare_url(id_url).trim_end_matches('/') {
        return false;
    }
    let last_segment = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if fragment.is_empty() {
        last_segment == package.name.as_str()
    } else if fragment.contains('@') || !fragment.starts_with(|c: char| c.is_ascii_digit()) {
        name_version(fragment)
    } else {
        last_segment == package.name.as_str() && version_matches(fragment, &package.version)
    }
}

/// The members a list of specs names, each spec matching at least one.
fn matching<'m>(
    specs: &[String],
    members: &[&'m MetaPackage],
) -> Result<Vec<&'m MetaPackage>, ListError> {
    let mut out: Vec<&MetaPackage> = Vec::new();
    for spec in specs {
        let found: Vec<&MetaPackage> = members
            .iter()
            .copied()
            .filter(|p| spec_matches(spec, p))
            .collect();
        if found.is_empty() {
            return Err(ListError::NoSuchPackage(spec.clone()));
        }
        for p in found {
            if !out.iter().any(|o| o.id == p.id) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The members cargo would build with these flags, in workspace member order where cargo has
/// no other order (`-p` keeps the order of the specs).
fn select<'m>(
    options: &ListOptions,
    meta: &'m Metadata,
) -> Result<Vec<&'m MetaPackage>, ListError> {
    let members: Vec<&MetaPackage> = meta
        .workspace_members
        .iter()
        .filter_map(|id| meta.packages.iter().find(|p| &p.id == id))
        .collect();
    // As in cargo, an `--exclude` that matches nothing is not an error.
    let kept = |p: &&MetaPackage| !options.exclude.iter().any(|spec| spec_matches(spec, p));
    if options.workspace {
        return Ok(members.iter().copied().filter(kept).collect());
    }
    if !options.packages.is_empty() {
        return Ok(matching(&options.packages, &members)?
            .into_iter()
            .filter(kept)
            .collect());
    }
    let manifest = options.manifest_path.clone().or_else(nearest_manifest);
    let current = manifest.as_deref().and_then(|m| {
        members
            .iter()
            .copied()
            .find(|p| same_file(p.manifest_path.as_std_path(), m))
    });
    Ok(match current {
        Some(p) => vec![p],
        // A virtual manifest: its default members, as cargo does.
        None if meta.workspace_default_members.is_available() => members
            .iter()
            .copied()
            .filter(|p| meta.workspace_default_members.contains(&p.id))
            .collect(),
        None => members,
    })
}

/// Lists the selected packages, one inventory each (see [`ListOptions`]).
pub fn list(options: &ListOptions) -> Result<Vec<Inventory>, ListError> {
    let meta = metadata(options)?;
    let selected = select(options, &meta)?;
    // build-info's `--target host` default is not understood by every cargo (1.95 wants
    // `host-tuple`); name the host triple instead, as a build script's $TARGET would.
    let target = match &options.target {
        Some(t) => t.clone(),
        None => host_triple(&options.cargo, options.timeout)?,
    };
    let lockfile = meta.workspace_root.as_std_path().join("Cargo.lock");
    let lockfile = lockfile.is_file().then_some(lockfile);
    let features = FeatureSelection::Cli {
        features: options.features.clone(),
        all_features: options.all_features,
        no_default_features: options.no_default_features,
    };
    let mut out = Vec::new();
    for p in selected {
        let manifest = p.manifest_path.as_std_path();
        let mut resolve = ResolveOptions::new(&options.cargo, manifest);
        resolve.features = features.clone();
        resolve.target = Some(target.clone());
        resolve.timeout = options.timeout;
        let graph =
            Graph::resolve(&resolve, lockfile.as_deref()).map_err(|source| ListError::Graph {
                package: p.name.to_string(),
                source,
            })?;
        out.push(from_graph(
            &graph,
            manifest,
            &p.name,
            &p.version.to_string(),
        ));
    }
    Ok(out)
}

/// Converts build-info's graph into an inventory.
fn from_graph(graph: &Graph, manifest: &Path, name: &str, version: &str) -> Inventory {
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
            registry_url: g.registry_url.clone(),
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
        format: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(name: &str, version: &str, id: &str) -> MetaPackage {
        let json = format!(
            r#"{{"name":"{name}","version":"{version}","id":"{id}","license":null,"license_file":null,"description":null,"source":null,"dependencies":[],"targets":[],"features":{{}},"manifest_path":"/src/{name}/Cargo.toml","categories":[],"keywords":[],"readme":null,"repository":null,"homepage":null,"documentation":null,"edition":"2021","links":null,"publish":null,"authors":[],"metadata":null}}"#
        );
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn specs_follow_cargo_pkgid() {
        let app = package("app", "1.2.3", "path+file:///src/app#1.2.3");
        let lib = package("lib", "0.4.0", "path+file:///src/other#lib@0.4.0");
        assert!(spec_matches("app", &app));
        assert!(!spec_matches("ap", &app));
        assert!(spec_matches("app@1.2.3", &app));
        assert!(spec_matches("app@1.2", &app));
        assert!(spec_matches("app@1", &app));
        assert!(!spec_matches("app@1.3", &app));
        assert!(!spec_matches("app@1.2.4", &app));
        assert!(spec_matches("path+file:///src/app#1.2.3", &app));
        assert!(spec_matches("file:///src/app#1.2.3", &app));
        assert!(spec_matches("file:///src/app", &app));
        assert!(!spec_matches("file:///src/app#1.0.0", &app));
        assert!(spec_matches("file:///src/other#lib@0.4.0", &lib));
        assert!(spec_matches("file:///src/other#lib", &lib));
        assert!(!spec_matches("file:///src/other", &lib));
        assert!(!spec_matches("file:///src/app#lib", &lib));
    }

    #[test]
    fn unknown_specs_are_named() {
        let app = package("app", "1.2.3", "path+file:///src/app#1.2.3");
        let err = matching(&["app@2".into()], &[&app]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "package `app@2` is not a member of the workspace"
        );
        assert_eq!(
            matching(&["app".into(), "app@1".into()], &[&app])
                .unwrap()
                .len(),
            1
        );
    }
}
