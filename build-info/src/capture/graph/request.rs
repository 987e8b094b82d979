//! What to resolve: the build's request (cargo, manifests, our package and features, the
//! invoking command line), the `cargo tree` command lines it makes, and their run. Below
//! both the unification ([`super::unification`]) and the fallback for members whose
//! packages are not on disk ([`super::on_disk`]), which run the same command lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::cargo_tree::{self, Occurrence};
use super::selection::Invocation;
use super::{Checksums, GraphError, run_cargo_tree};

/// What to resolve.
pub(crate) struct Request<'a> {
    /// `$CARGO`.
    pub(crate) cargo: &'a Path,
    /// `Cargo.toml` of the workspace root (beside Cargo.lock).
    pub(crate) root_manifest: &'a Path,
    /// Our package's `Cargo.toml`.
    pub(crate) manifest: &'a Path,
    /// Our package's name and version.
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    /// Our package's exact features (`CARGO_CFG_FEATURE`).
    pub(crate) features: &'a [String],
    /// `$TARGET`.
    pub(crate) target: Option<&'a str>,
    /// The invoking cargo's command line and working directory, when known.
    pub(crate) invocation: Option<&'a (Invocation, PathBuf)>,
    /// Cargo.lock's checksums.
    pub(crate) checksums: &'a Checksums,
    /// Cargo.lock, read only when some packages are not on disk.
    pub(crate) lockfile: Option<&'a Path>,
    /// Limit for each `cargo tree` run.
    pub(crate) timeout: Duration,
}

impl Request<'_> {
    /// Whether the build units may use dev-dependencies; unknown counts as yes (safe side).
    fn dev_units(&self) -> bool {
        self.invocation.is_none_or(|(i, _)| i.dev_units)
    }

    fn common_args(&self) -> Vec<String> {
        let edges = if self.dev_units() {
            "normal,build,dev"
        } else {
            "normal,build"
        };
        let mut args: Vec<String> = ["tree", "--offline", "--locked", "--edges", edges]
            .map(String::from)
            .into();
        args.extend(super::OUTPUT_ARGS.map(String::from));
        if let Some(t) = self.target {
            args.extend(["--target".to_owned(), t.to_owned()]);
        }
        args
    }

    /// `cargo tree` arguments of the upper bound U (run beside the root manifest).
    pub(crate) fn upper_args(&self) -> Vec<String> {
        let mut args = self.common_args();
        args.extend([
            "--manifest-path".to_owned(),
            self.root_manifest.display().to_string(),
            "--workspace".to_owned(),
        ]);
        let mut features: Vec<String> = self
            .features
            .iter()
            .map(|f| format!("{}/{f}", self.name))
            .collect();
        if let Some((inv, _)) = self.invocation {
            features.extend(inv.features.iter().cloned());
            if inv.all_features {
                args.push("--all-features".into());
            }
        }
        if !features.is_empty() {
            args.extend(["--features".to_owned(), features.join(",")]);
        }
        args
    }

    /// [`upper_args`](Self::upper_args) without the members `excluded` (`name@version`).
    pub(super) fn upper_args_excluding(&self, excluded: &[String]) -> Vec<String> {
        let mut args = self.upper_args();
        for spec in excluded {
            // One argument, so that no text read from Cargo.lock can become an option.
            args.push(format!("--exclude={spec}"));
        }
        args
    }

    /// `cargo tree` arguments of the package `spec` (`name@version`) alone, with its default
    /// features: whether its packages are on disk.
    pub(super) fn member_args(&self, spec: &str) -> Vec<String> {
        let mut args = self.common_args();
        args.extend([
            "--manifest-path".to_owned(),
            self.root_manifest.display().to_string(),
            format!("--package={spec}"),
        ]);
        if self.invocation.is_some_and(|(i, _)| i.all_features) {
            args.push("--all-features".into());
        }
        args
    }

    /// `cargo tree` arguments of this build's own selection E (run in the invoking cargo's
    /// directory), when the invocation is known.
    pub(crate) fn selection_args(&self) -> Option<Vec<String>> {
        let (inv, _) = self.invocation?;
        let mut args = self.common_args();
        if inv.subcommand == "install" {
            // `cargo install --path` builds our package alone.
            args.extend([
                "--manifest-path".to_owned(),
                self.manifest.display().to_string(),
                "--package".to_owned(),
                self.name.to_owned(),
            ]);
            args.extend(inv.feature_args());
        } else {
            args.extend(inv.tree_args());
        }
        Some(args)
    }

    /// The `cargo tree` arguments of our package alone with its exact features: exact for a
    /// workspace of one member.
    pub(super) fn alone_args(&self) -> Vec<String> {
        let mut args = self.common_args();
        args.extend([
            "--manifest-path".to_owned(),
            self.manifest.display().to_string(),
            "--no-default-features".to_owned(),
        ]);
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        args
    }

    /// Our package's tree in `output`, and the features cargo gave our package there.
    pub(super) fn our_tree(
        &self,
        all: &[Occurrence],
    ) -> Option<(Vec<Occurrence>, BTreeSet<String>)> {
        let roots = cargo_tree::roots(all);
        let prefix = format!("{} v{} (", self.name, self.version);
        let dir = self.manifest.parent().unwrap_or(Path::new(""));
        let exact = format!("{prefix}{})", dir.display());
        let root = roots
            .iter()
            .find(|r| **r == exact)
            .or_else(|| roots.iter().find(|r| r.starts_with(&prefix)))?;
        let tree = cargo_tree::subtree(all, root)?;
        let features = tree[0]
            .node
            .rsplit_once('|')
            .map(|(_, f)| f.split(',').filter(|f| !f.is_empty()).map(str::to_owned))
            .into_iter()
            .flatten()
            .collect();
        Some((tree, features))
    }

    pub(super) fn run(
        &self,
        dir: Option<&Path>,
        args: &[String],
    ) -> Result<Vec<Occurrence>, GraphError> {
        cargo_tree::parse_tree(&run_cargo_tree(self.cargo, dir, args, self.timeout)?)
    }
}
