//! What a workspace member's program may link, given that cargo unifies features across every
//! package one build selects.
//!
//! The build script cannot be re-run when only the package selection changes (cargo decides
//! fingerprints before anything runs, and the script's environment is the same for
//! `cargo build -p b` and `cargo build --workspace`), so what is embedded must not depend on
//! the selection: it is the upper bound U, our package's tree in
//! `cargo tree --workspace` with our exact features, every member's defaults and the command
//! line's features replayed. The selection only decides the label: when the invoking cargo's
//! command line shows that this build selected every member, or when the tree of its own
//! selection (E) holds the same packages, U is exact; otherwise it is an upper bound, and the
//! packages only U holds are named.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::cargo_tree::{self, Occurrence};
use super::request::Request;
use super::{GraphError, classify, on_disk};
use crate::model::{Graph, GraphScope};

/// The embedded graph and what it means.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) graph: Graph,
    pub(crate) scope: GraphScope,
    /// `name@version` of the packages in `graph` that this build did not link.
    pub(crate) only_with_other_members: Vec<String>,
    /// Directories of every workspace member: their manifests feed the upper bound.
    pub(crate) members: Vec<PathBuf>,
    /// `name@version` of the members left out because their packages are not on disk
    /// (see [`super::on_disk`]); empty when the whole workspace was resolved.
    pub(crate) not_on_disk: Vec<String>,
}

/// Why there is no [`Outcome`].
#[derive(Debug)]
pub(crate) enum Failure {
    /// Our package is not a member of the workspace beside the lock file (a dependency's
    /// build script): there is no workspace selection to take into account.
    NotAMember,
    /// `cargo tree` failed.
    Graph(GraphError),
}

impl From<GraphError> for Failure {
    fn from(e: GraphError) -> Self {
        Failure::Graph(e)
    }
}

/// The graph to embed for `req` (see the module docs).
pub(crate) fn resolve(req: &Request<'_>) -> Result<Outcome, Failure> {
    // In a workspace of several members, this build's own selection is asked beside the
    // whole workspace rather than after it: both only read.
    let speculate = req.root_manifest != req.manifest
        && req
            .invocation
            .is_some_and(|(i, _)| !(i.workspace && i.exclude.is_empty() && !i.no_default_features));
    let (upper, selected) = std::thread::scope(|s| {
        let selected = speculate.then(|| {
            s.spawn(|| {
                let (_, cwd) = req.invocation?;
                req.run(Some(cwd), &req.selection_args()?).ok()
            })
        });
        let upper = req.run(req.root_manifest.parent(), &req.upper_args());
        (upper, selected.and_then(|h| h.join().ok().flatten()))
    });
    let (all, selected, not_on_disk) = match upper {
        Ok(all) => (all, selected, Vec::new()),
        Err(e) => {
            // A fresh cargo home: the members whose packages are not on disk are not part of
            // this build (see `on_disk`).
            let Some(missing) = on_disk::not_on_disk(&e) else {
                return Err(e.into());
            };
            let lock = on_disk::read_lock(req.lockfile);
            let Some(available) = on_disk::available(req, &lock, missing, selected) else {
                return Err(e.into());
            };
            let selected = req.invocation.is_some().then_some(available.base);
            (available.all, selected, available.excluded)
        }
    };
    decide(req, &all, selected, &not_on_disk)
}

/// The graph and its label, from the workspace's tree `all` (every member, or every member
/// on disk) and, when already had, this build's own selection `selected`.
fn decide(
    req: &Request<'_>,
    all: &[Occurrence],
    selected: Option<Vec<Occurrence>>,
    not_on_disk: &[String],
) -> Result<Outcome, Failure> {
    let not_ours = || Failure::NotAMember;
    let members: Vec<PathBuf> = cargo_tree::roots(all)
        .iter()
        .filter_map(|r| member_dir(r))
        .collect();
    let (upper, upper_features) = req.our_tree(all).ok_or_else(not_ours)?;
    let ours: BTreeSet<String> = req.features.iter().cloned().collect();
    let known = req.invocation.is_some();
    let done = |tree: &[Occurrence], scope, only| Outcome {
        graph: classify::build_graph(tree, req.checksums),
        scope,
        only_with_other_members: only,
        members: members.clone(),
        not_on_disk: not_on_disk.to_vec(),
    };

    if members.len() <= 1 {
        // One member (on disk): no other package's features can be unified in. Dev-dependency
        // features may be, when the build has dev units; unknown counts as yes, which is
        // exact only if there are no dev-dependencies.
        let exact_enough = known || !all.iter().any(|o| o.dev_edge);
        let scope = if exact_enough {
            GraphScope::Exact
        } else {
            GraphScope::UpperBound
        };
        if upper_features == ours {
            return Ok(done(&upper, scope, Vec::new()));
        }
        // Our default features were turned off by this build: resolve it alone, exactly.
        let alone = req.run(req.manifest.parent(), &req.alone_args())?;
        let (tree, _) = req.our_tree(&alone).ok_or_else(not_ours)?;
        return Ok(done(&tree, scope, Vec::new()));
    }

    let Some((inv, cwd)) = req.invocation else {
        return Ok(done(&upper, GraphScope::UpperBound, Vec::new()));
    };
    if inv.workspace && inv.exclude.is_empty() && !inv.no_default_features && not_on_disk.is_empty()
    {
        // Every member selected, every default on, the command line's features replayed.
        return Ok(done(&upper, GraphScope::Exact, Vec::new()));
    }
    let selected = match selected {
        Some(tree) => Some(tree),
        None => match req.selection_args() {
            Some(args) => req.run(Some(cwd), &args).ok(),
            None => return Ok(done(&upper, GraphScope::UpperBound, Vec::new())),
        },
    };
    // E: this build's own selection. When it cannot be had, or it is not the build that ran
    // this script (our features differ), the label stays the safe one.
    let Some((selected, selected_features)) = selected.and_then(|all| req.our_tree(&all)) else {
        return Ok(done(&upper, GraphScope::UpperBound, Vec::new()));
    };
    if selected_features != ours {
        return Ok(done(&upper, GraphScope::UpperBound, Vec::new()));
    }
    let packages = |tree: &[Occurrence]| -> BTreeSet<String> {
        tree.iter().map(|o| o.package.clone()).collect()
    };
    let (in_upper, in_selected) = (packages(&upper), packages(&selected));
    if !in_selected.is_subset(&in_upper) {
        // Never expected (U holds more of everything), but a crate this build linked must
        // not go missing: embed both.
        return Ok(done(
            &merged(upper, &selected),
            GraphScope::UpperBound,
            Vec::new(),
        ));
    }
    if in_selected == in_upper {
        return Ok(done(&upper, GraphScope::Exact, Vec::new()));
    }
    let mut only: Vec<String> = in_upper
        .difference(&in_selected)
        .filter_map(|p| cargo_tree::parse_package(p))
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    only.sort();
    only.dedup();
    Ok(done(&upper, GraphScope::UpperBound, only))
}

/// `second`'s dependencies hung under `first`'s root (both trees of the same root).
fn merged(mut first: Vec<Occurrence>, second: &[Occurrence]) -> Vec<Occurrence> {
    let offset = first.len() - 1;
    for o in &second[1..] {
        first.push(Occurrence {
            depth: o.depth,
            parent: o.parent.map(|p| if p == 0 { 0 } else { p + offset }),
            build_edge: o.build_edge,
            dev_edge: o.dev_edge,
            package: o.package.clone(),
            node: o.node.clone(),
        });
    }
    first
}

/// The directory of a workspace member from its root line's `{p}` text.
fn member_dir(root: &str) -> Option<PathBuf> {
    let (_, rest) = root.split_once(" v")?;
    let (_, detail) = rest.split_once(" (")?;
    let dir = detail.strip_suffix(')')?;
    Path::new(dir).is_absolute().then(|| PathBuf::from(dir))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Checksums;
    use super::super::selection::Invocation;
    use super::*;

    fn request<'a>(
        invocation: Option<&'a (Invocation, PathBuf)>,
        features: &'a [String],
        checksums: &'a Checksums,
    ) -> Request<'a> {
        Request {
            cargo: Path::new("cargo"),
            root_manifest: Path::new("/w/Cargo.toml"),
            manifest: Path::new("/w/b/Cargo.toml"),
            name: "b",
            version: "0.1.0",
            features,
            target: Some("x86_64-unknown-linux-gnu"),
            invocation,
            checksums,
            lockfile: None,
            timeout: Duration::from_secs(1),
        }
    }

    fn args(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn the_upper_bound_replays_our_features_and_the_command_line() {
        let checksums = Checksums::new();
        let features = vec!["default".to_owned(), "x".to_owned()];
        let inv = (
            super::super::selection::parse(&args("cargo build -p b -F shared/fast")).unwrap(),
            PathBuf::from("/w"),
        );
        let req = request(Some(&inv), &features, &checksums);
        let common = "tree --offline --locked --edges normal,build --charset ascii --format {p}|{f} --color never --target x86_64-unknown-linux-gnu";
        assert_eq!(
            req.upper_args(),
            args(&format!(
                "{common} --manifest-path /w/Cargo.toml --workspace --features b/default,b/x,shared/fast"
            ))
        );
        assert_eq!(
            req.selection_args().unwrap(),
            args(&format!("{common} --package b --features shared/fast"))
        );
        // Unknown invocation: dev edges in (safe side), no selection.
        let req = request(None, &features, &checksums);
        assert!(req.upper_args().contains(&"normal,build,dev".to_owned()));
        assert!(req.selection_args().is_none());
    }

    /// Writes an executable script.
    #[cfg(unix)]
    fn executable(path: &Path, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::write(path, script).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_path_buf()
    }

    /// A stand-in for cargo that prints `upper` for `--workspace`, `selected` for a
    /// `--package` selection and `alone` otherwise.
    #[cfg(unix)]
    fn fake_cargo(dir: &Path, upper: &str, selected: &str, alone: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        for (file, text) in [("upper", upper), ("selected", selected), ("alone", alone)] {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let d = dir.display();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{d}/log'\ncase \"$*\" in\n*--workspace*) cat '{d}/upper';;\n*--package*) cat '{d}/selected';;\n*) cat '{d}/alone';;\nesac\n"
        );
        executable(&dir.join("cargo"), &script)
    }

    #[cfg(unix)]
    #[test]
    fn the_label_follows_the_selection() {
        const UPPER: &str = "a v0.1.0 (/w/a)|\n`-- shared v0.1.0 (/w/shared)|fast\n    `-- itoa v1.0.14|\n\nb v0.1.0 (/w/b)|default\n`-- shared v0.1.0 (/w/shared)|fast (*)\n\nshared v0.1.0 (/w/shared)|fast (*)\n";
        const B_ALONE: &str = "b v0.1.0 (/w/b)|default\n`-- shared v0.1.0 (/w/shared)|\n";
        let scratch = testkit::Scratch::new("build-info-unify");
        let dir = scratch.to_path_buf();
        let checksums = Checksums::new();
        let features = vec!["default".to_owned()];
        let outcome = |cargo: &Path, line: Option<&str>, features: &[String]| {
            let inv = line.map(|l| {
                (
                    super::super::selection::parse(&args(l)).unwrap(),
                    dir.clone(),
                )
            });
            let mut req = request(inv.as_ref(), features, &checksums);
            req.cargo = cargo;
            let o = resolve(&req).unwrap();
            let names: Vec<String> = o.graph.packages.iter().map(|p| p.name.clone()).collect();
            (o.scope, o.only_with_other_members, names, o.members.len())
        };
        let cargo = fake_cargo(&dir, UPPER, B_ALONE, "");
        let all: Vec<String> = ["b", "itoa", "shared"].map(String::from).into();
        // Built alone: the upper bound is embedded, and itoa named.
        let (scope, only, names, members) = outcome(&cargo, Some("cargo build -p b"), &features);
        assert_eq!(
            (scope, names, members),
            (GraphScope::UpperBound, all.clone(), 3)
        );
        assert_eq!(only, ["itoa@1.0.14"]);
        let runs = || {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            let _ = std::fs::remove_file(dir.join("log"));
            log.lines().count()
        };
        // The whole workspace and the selection, once each.
        assert_eq!(runs(), 2);
        // Every member: exact, without a second run.
        let (scope, only, names, _) = outcome(&cargo, Some("cargo build --workspace"), &features);
        assert_eq!((scope, names), (GraphScope::Exact, all.clone()));
        assert!(only.is_empty());
        assert_eq!(runs(), 1);
        // Unknown: the upper bound, unlabelled crates unknown.
        let (scope, only, _, _) = outcome(&cargo, None, &features);
        assert_eq!((scope, only.len()), (GraphScope::UpperBound, 0));
        // The selection's tree is not the build that ran us (other features): no names.
        let (scope, only, _, _) = outcome(&cargo, Some("cargo build -p b"), &["x".to_owned()]);
        assert_eq!((scope, only.len()), (GraphScope::UpperBound, 0));
        // A selection that links the same packages: exact.
        let cargo = fake_cargo(&dir, UPPER, UPPER, "");
        let (scope, _, _, _) = outcome(&cargo, Some("cargo build -p a -p b"), &features);
        assert_eq!(scope, GraphScope::Exact);

        // One member: exact from the one run; with the defaults off, from the package alone.
        let one = "b v0.1.0 (/w/b)|default\n`-- big v1.0.0|\n";
        let one_dev =
            "b v0.1.0 (/w/b)|default\n`-- big v1.0.0|\n[dev-dependencies]\n`-- t v1.0.0|\n";
        let cargo = fake_cargo(&dir, one, "", "b v0.1.0 (/w/b)|\n");
        let (scope, _, names, _) = outcome(&cargo, Some("cargo build"), &features);
        assert_eq!(
            (scope, names),
            (GraphScope::Exact, vec!["b".into(), "big".into()])
        );
        let (scope, _, names, _) = outcome(&cargo, Some("cargo build --no-default-features"), &[]);
        assert_eq!((scope, names), (GraphScope::Exact, vec!["b".to_owned()]));
        // Unknown invocation: exact only when there are no dev-dependencies to unify in.
        assert_eq!(outcome(&cargo, None, &features).0, GraphScope::Exact);
        let cargo = fake_cargo(&dir, one_dev, "", "");
        let (scope, _, names, _) = outcome(&cargo, None, &features);
        assert_eq!(
            (scope, names),
            (GraphScope::UpperBound, vec!["b".into(), "big".into()])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn every_run_resolves_for_the_target_cargo_builds_for_not_the_host() {
        let checksums = Checksums::new();
        let features = vec!["default".to_owned()];
        let inv = (
            super::super::selection::parse(&args(
                "cargo build --target aarch64-unknown-linux-gnu -p b",
            ))
            .unwrap(),
            PathBuf::from("/w"),
        );
        for invocation in [None, Some(&inv)] {
            let mut req = request(invocation, &features, &checksums);
            req.target = Some("aarch64-unknown-linux-gnu");
            let runs = [
                Some(req.upper_args()),
                req.selection_args(),
                Some(req.alone_args()),
                Some(req.member_args("a@0.1.0")),
                Some(req.upper_args_excluding(&["a@0.1.0".to_owned()])),
            ];
            for run in runs.into_iter().flatten() {
                let at = run.iter().position(|a| a == "--target").unwrap();
                assert_eq!(run[at + 1], "aarch64-unknown-linux-gnu", "{run:?}");
                assert_eq!(run.iter().filter(|a| *a == "--target").count(), 1);
                assert!(run.contains(&"--offline".to_owned()), "{run:?}");
            }
        }
        // The triple comes from $TARGET, never from the command line's text.
        let mut req = request(Some(&inv), &features, &checksums);
        req.target = Some("x86_64-unknown-linux-gnu");
        assert!(
            !req.selection_args()
                .unwrap()
                .contains(&"aarch64-unknown-linux-gnu".to_owned())
        );
    }

    /// A stand-in for cargo in a fresh cargo home where member `a`'s itoa was never
    /// downloaded; it logs every command line. With `union`, the members on disk taken
    /// together still need itoa until `shared` is left out too.
    #[cfg(unix)]
    fn fresh_home_cargo(dir: &Path, union: bool) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let d = dir.display();
        let outputs = [
            (
                "b",
                "b v0.1.0 (/w/b)|default\n|-- ryu v1.0.0|\n`-- shared v0.1.0 (/w/shared)|\n",
            ),
            ("shared", "shared v0.1.0 (/w/shared)|\n"),
            (
                "avail",
                "b v0.1.0 (/w/b)|default\n|-- ryu v1.0.0|\n`-- shared v0.1.0 (/w/shared)|\n\nextra v0.1.0 (/w/extra)|\n`-- ryu v1.0.0|\n\nshared v0.1.0 (/w/shared)|\n",
            ),
            (
                "narrow",
                "b v0.1.0 (/w/b)|default\n|-- ryu v1.0.0|\n`-- shared v0.1.0 (/w/shared)|\n\nextra v0.1.0 (/w/extra)|\n`-- ryu v1.0.0|\n",
            ),
        ];
        for (file, text) in outputs {
            std::fs::write(dir.join(file), text.replace("\\n", "\n")).unwrap();
        }
        let fail = "echo 'error: failed to download `itoa v1.0.14`' >&2; exit 101";
        let avail = if union {
            fail.to_owned()
        } else {
            format!("printf \"$(cat '{d}/avail')\"")
        };
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{d}/log'\ncase \"$*\" in\n\
             *'--exclude=a@0.1.0 --exclude=shared@0.1.0'*) printf \"$(cat '{d}/narrow')\";;\n\
             *'--exclude=a@0.1.0'*) {avail};;\n\
             *--workspace*) {fail};;\n\
             *'--package=a@0.1.0'*) {fail};;\n\
             *'--package=shared@0.1.0'*) printf \"$(cat '{d}/shared')\";;\n\
             *) printf \"$(cat '{d}/b')\";;\n\
             esac\n"
        );
        executable(&dir.join("cargo"), &script)
    }

    #[cfg(unix)]
    #[test]
    fn a_fresh_cargo_home_leaves_out_the_members_whose_packages_are_not_on_disk() {
        const LOCK: &str = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"shared\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\ndependencies = [\n \"ryu\",\n \"shared\",\n]\n\n[[package]]\nname = \"extra\"\nversion = \"0.1.0\"\ndependencies = [\n \"ryu\",\n]\n\n[[package]]\nname = \"ryu\"\nversion = \"1.0.0\"\nsource = \"registry+https://example.invalid/index\"\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.14\"\nsource = \"registry+https://example.invalid/index\"\n\n[[package]]\nname = \"shared\"\nversion = \"0.1.0\"\ndependencies = [\n \"extra\",\n \"itoa\",\n]\n";
        let scratch = testkit::Scratch::new("build-info-fresh-home");
        let dir = scratch.to_path_buf();
        let lockfile = dir.join("Cargo.lock");
        std::fs::write(&lockfile, LOCK).unwrap();
        let checksums = Checksums::new();
        let features = vec!["default".to_owned()];
        let inv = (
            super::super::selection::parse(&args("cargo build -p b")).unwrap(),
            dir.clone(),
        );
        let run = |union: bool, invocation: Option<&(Invocation, PathBuf)>| {
            let bin = dir.join(if union { "union" } else { "plain" });
            let _ = std::fs::remove_file(bin.join("log"));
            let cargo = fresh_home_cargo(&bin, union);
            let mut req = request(invocation, &features, &checksums);
            req.cargo = &cargo;
            req.lockfile = Some(&lockfile);
            let o = resolve(&req).unwrap();
            let names: Vec<String> = o.graph.packages.iter().map(|p| p.name.clone()).collect();
            let log = std::fs::read_to_string(bin.join("log")).unwrap();
            (o, names, log)
        };
        // `cargo build -p b`: a needs itoa, which is not on disk, so a is not part of this
        // build; shared is asked about (it may reach itoa) and is on disk; extra reaches
        // nothing beyond what this build downloaded and is not asked about.
        let (o, names, log) = run(false, Some(&inv));
        assert_eq!(o.scope, GraphScope::Exact, "{log}");
        assert_eq!(o.not_on_disk, ["a@0.1.0"]);
        assert!(o.only_with_other_members.is_empty());
        assert_eq!(names, ["b", "ryu", "shared"]);
        assert_eq!(o.members.len(), 3, "{log}");
        assert!(log.contains("--package=shared@0.1.0"), "{log}");
        // This build's own selection was asked once, beside the whole workspace.
        assert_eq!(
            log.lines().filter(|l| l.ends_with("--package b")).count(),
            1,
            "{log}"
        );
        assert!(!log.contains("--package=extra@0.1.0"), "{log}");
        // The command line unknown: the members on disk bound what this build links.
        let (o, names, _) = run(false, None);
        assert_eq!(o.scope, GraphScope::UpperBound);
        assert_eq!(o.not_on_disk, ["a@0.1.0"]);
        assert_eq!(names, ["b", "ryu", "shared"]);
        // Together, the members on disk still need itoa: every member that may reach it is
        // left out too.
        let (o, names, log) = run(true, Some(&inv));
        assert_eq!(o.not_on_disk, ["a@0.1.0", "shared@0.1.0"], "{log}");
        assert_eq!(o.scope, GraphScope::Exact);
        assert_eq!(names, ["b", "ryu", "shared"]);
        assert_eq!(o.members.len(), 2);
        // Without the lock file nothing can be judged: the failure stands.
        let cargo = fresh_home_cargo(&dir.join("plain"), false);
        let mut req = request(Some(&inv), &features, &checksums);
        req.cargo = &cargo;
        assert!(matches!(resolve(&req), Err(Failure::Graph(_))));
        // A lock file without our package says nothing about this workspace.
        let foreign = dir.join("foreign.lock");
        std::fs::write(&foreign, LOCK.replace("name = \"b\"", "name = \"bee\"")).unwrap();
        let mut req = request(Some(&inv), &features, &checksums);
        req.cargo = &cargo;
        req.lockfile = Some(&foreign);
        assert!(matches!(resolve(&req), Err(Failure::Graph(_))));
        // When no other member is on disk, the selection is the workspace on disk: no run
        // over the whole workspace again.
        let alone = dir.join("alone.lock");
        std::fs::write(
            &alone,
            "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"itoa\",\n]\n\n[[package]]\nname = \"b\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.14\"\nsource = \"registry+https://example.invalid/index\"\n",
        )
        .unwrap();
        let bin = dir.join("alone");
        let cargo = fresh_home_cargo(&bin, false);
        let mut req = request(Some(&inv), &features, &checksums);
        req.cargo = &cargo;
        req.lockfile = Some(&alone);
        let o = resolve(&req).unwrap();
        let log = std::fs::read_to_string(bin.join("log")).unwrap();
        assert_eq!(
            (o.scope, o.not_on_disk),
            (GraphScope::Exact, vec!["a@0.1.0".to_owned()])
        );
        assert_eq!(o.members.len(), 1);
        assert!(!log.contains("--exclude"), "{log}");
        assert_eq!(log.matches("--workspace").count(), 1, "{log}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn finds_our_tree_and_features_among_the_members() {
        let checksums = Checksums::new();
        let features: Vec<String> = Vec::new();
        let req = request(None, &features, &checksums);
        let all = cargo_tree::parse_tree(
            "a v0.1.0 (/w/a)|\n`-- shared v0.1.0 (/w/shared)|fast\n    `-- itoa v1.0.14|\n\nb v0.1.0 (/w/b)|default\n`-- shared v0.1.0 (/w/shared)|fast (*)\n",
        )
        .unwrap();
        let (tree, features) = req.our_tree(&all).unwrap();
        assert_eq!(tree.len(), 3);
        assert_eq!(features, BTreeSet::from(["default".to_owned()]));
        let roots = cargo_tree::roots(&all);
        let dirs: Vec<_> = roots.iter().filter_map(|r| member_dir(r)).collect();
        assert_eq!(dirs, [PathBuf::from("/w/a"), PathBuf::from("/w/b")]);
        let merged = merged(tree, &cargo_tree::subtree(&all, "a v0.1.0 (/w/a)").unwrap());
        assert_eq!(merged.len(), 5);
        assert_eq!(merged[3].parent, Some(0));
        assert_eq!(merged[4].parent, Some(3));
    }
}
