//! The resolved dependency graph of one package, the way cargo's own resolver decided it
//! (feature `graph`; the build side uses it, and so can tools, without the build-script entry
//! points).
//!
//! Source of truth: `cargo tree --offline -e normal,build --target T` with the package's
//! exact features (the build side runs it over the whole workspace and takes the package's
//! part, so that features other members unify in are not missed). Unlike `cargo metadata`
//! it applies resolver-2 feature rules (so it never lists crates that were not built) and it
//! does not need dev-dependencies to be downloaded, so it works in `cargo build --offline`.
//! Checksums come from Cargo.lock.

#[cfg(feature = "build")]
pub(crate) mod cache;
mod cargo_tree;
mod classify;
mod lockfile;
#[cfg(feature = "build")]
mod on_disk;
// What to resolve and the `cargo tree` command lines it makes (below unification and on_disk).
#[cfg(feature = "build")]
mod request;
#[cfg(feature = "build")]
pub(crate) mod selection;
#[cfg(feature = "build")]
mod unification;
mod version_order;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, RunError};
use crate::model::Graph;

pub use self::lockfile::{Checksums, lockfile_checksums};

/// One package of a [`Graph`]: the model's [`Package`](crate::model::Package).
pub type GraphPackage = crate::model::Package;

/// How every `cargo tree` run of ours prints: the format the parser reads.
pub(crate) const OUTPUT_ARGS: [&str; 6] = [
    "--charset",
    "ascii",
    "--format",
    "{p}|{f}",
    "--color",
    "never",
];

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
        args.extend(["--edges", "normal,build"].map(String::from));
        args.extend(OUTPUT_ARGS.map(String::from));
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

/// Makes a `cargo tree` or `cargo metadata` command run no program named by the
/// configuration of the workspace it reads. Both commands ask rustc for the target's facts, and
/// cargo then honours `build.rustc`, `build.rustc-wrapper` and `build.rustc-workspace-wrapper`
/// from every `.cargo/config.toml` above the workspace: a workspace cloned from someone else
/// could run a program of its choosing. The environment outranks config files, so the wrappers
/// are set empty (none) and `RUSTC` is kept when the caller's environment sets it (a build
/// script's always does), else set to the `rustc` beside `cargo` (the same toolchain), else to
/// `rustc` on the `PATH`. A wrapper such as sccache changes nothing these commands print.
pub fn inert_toolchain(cmd: &mut Command, cargo: &Path) {
    cmd.env("RUSTC_WRAPPER", "")
        .env("RUSTC_WORKSPACE_WRAPPER", "")
        .env_remove("CARGO_BUILD_RUSTC")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER");
    if std::env::var_os("RUSTC").is_some_and(|r| !r.is_empty()) {
        return;
    }
    let beside = cargo
        .parent()
        .map(|dir| dir.join(format!("rustc{}", std::env::consts::EXE_SUFFIX)))
        .filter(|rustc| rustc.is_file());
    cmd.env(
        "RUSTC",
        beside.map_or_else(|| "rustc".into(), PathBuf::into_os_string),
    );
}

/// Runs `cargo` with `args` (a `cargo tree` command line) in `dir` and returns what it
/// printed.
pub(crate) fn run_cargo_tree(
    cargo: &Path,
    dir: Option<&Path>,
    args: &[String],
    timeout: Duration,
) -> Result<String, GraphError> {
    let mut cmd = Command::new(cargo);
    cmd.args(args);
    // A directory that is gone would make the spawn fail as if cargo were missing.
    if let Some(dir) = dir.filter(|d| d.is_dir()) {
        cmd.current_dir(dir);
    }
    inert_toolchain(&mut cmd, cargo);
    // Never ask for credentials or wait for a terminal.
    cmd.env("CARGO_TERM_COLOR", "never")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("CARGO_TERM_PROGRESS_WHEN");
    let out = process::run(&mut cmd, timeout).map_err(|e| match e {
        RunError::Spawn(_) => GraphError::Cargo(format!("{} {e}", cargo.display())),
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
    Ok(out.stdout)
}

/// The largest Cargo.lock read: 32 MiB, a hundred times the lock file of a workspace with
/// 1,000 packages. A bigger one is taken as unreadable.
pub const LOCKFILE_LIMIT: u64 = 32 * 1024 * 1024;

/// The text of the lock file at `path`: a regular file (not a FIFO or a device, which could
/// block or never end) of at most [`LOCKFILE_LIMIT`] bytes; `None` otherwise.
pub(crate) fn read_lockfile(path: &Path) -> Option<String> {
    super::bounded::read_regular_file(path, LOCKFILE_LIMIT)
}

/// The checksums of `lockfile`; none when there is no lock file or it cannot be read.
pub(crate) fn read_checksums(lockfile: Option<&Path>) -> Checksums {
    lockfile
        .and_then(read_lockfile)
        .map(|text| lockfile_checksums(&text))
        .unwrap_or_default()
}

impl Graph {
    /// Resolves the graph by running `cargo tree` (see the module docs) and reading the
    /// checksums from `lockfile` when given.
    pub fn resolve(options: &ResolveOptions, lockfile: Option<&Path>) -> Result<Graph, GraphError> {
        // Cargo finds its configuration (source replacement, registries) from the working
        // directory: use the package's, as cargo does for build scripts.
        Graph::resolve_with(options, &read_checksums(lockfile))
    }

    /// [`Graph::resolve`] with the lock file's checksums already read.
    pub(crate) fn resolve_with(
        options: &ResolveOptions,
        checksums: &Checksums,
    ) -> Result<Graph, GraphError> {
        let dir = options.manifest_path.parent();
        let output = run_cargo_tree(
            &options.cargo,
            dir,
            &options.cargo_tree_args(),
            options.timeout,
        )?;
        Graph::from_cargo_tree(&output, checksums)
    }

    /// Builds a graph from the output of `cargo tree` run with the arguments of
    /// [`ResolveOptions::cargo_tree_args`], one tree (one package).
    pub fn from_cargo_tree(output: &str, checksums: &Checksums) -> Result<Graph, GraphError> {
        let nodes = cargo_tree::parse_tree(output)?;
        if let [_, second, ..] = cargo_tree::roots(&nodes)[..] {
            return Err(GraphError::Parse(format!(
                "more than one root: {second:?}; select one package"
            )));
        }
        Ok(classify::build_graph(&nodes, checksums))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_is_read_only_when_it_is_a_regular_file_within_the_limit() {
        let dir = testkit::Scratch::new("build-info-lockfile");
        let lock = dir.join("Cargo.lock");
        std::fs::write(&lock, "version = 4\n").unwrap();
        assert_eq!(read_lockfile(&lock).as_deref(), Some("version = 4\n"));
        // A sparse file at the limit is read; one byte more is refused before reading.
        let file = std::fs::File::create(&lock).unwrap();
        file.set_len(LOCKFILE_LIMIT).unwrap();
        assert_eq!(
            read_lockfile(&lock).map(|t| t.len() as u64),
            Some(LOCKFILE_LIMIT)
        );
        file.set_len(LOCKFILE_LIMIT + 1).unwrap();
        assert_eq!(read_lockfile(&lock), None);
        // A FIFO would block the build script: refused without opening it.
        let fifo = dir.join("fifo.lock");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(read_lockfile(&fifo), None);
        assert!(read_checksums(Some(&fifo)).is_empty());
        assert_eq!(read_lockfile(&dir.join("missing.lock")), None);
    }
}
