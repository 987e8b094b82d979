//! The workspace's graph when some of its packages were never downloaded: a fresh cargo home
//! (a container build) that ran `cargo build -p member`.
//!
//! What cargo does, and what this module stands on (cargo's `ops::resolve_ws_with_opts`, used
//! by `cargo build` and `cargo tree` alike): after resolving, cargo downloads every package
//! reachable from the packages the command selected, for its targets (and the host), through
//! dev-dependencies only when it builds units that use them (`PackageSet::download_accessible`),
//! and only then compiles anything, build scripts included. Hence:
//!
//! - this build's own selection resolves offline: its packages are on disk;
//! - a member whose packages are not on disk is not part of this build, so it cannot unify
//!   features into it, and the upper bound is taken over the members that are on disk;
//! - a later build that selects such a member downloads its packages first, which writes
//!   their `.crate` files into `$CARGO_HOME/registry/cache`. The build script watches that
//!   directory when it left members out, so it runs again then and sees the whole workspace.
//!
//! Which members are on disk is learned from cargo itself, offline: Cargo.lock says which
//! registry packages a member may reach (all its edges, all platforms, every optional
//! dependency some member enables); a member that reaches none beyond the packages this build
//! downloaded is on disk, and any other is asked about with its own `cargo tree -p`. When the
//! members on disk, taken together, still need a package that is not (features they only turn
//! on together), every member that may reach it is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::GraphError;
use super::cargo_tree::{self, Occurrence};
use super::request::Request;

/// The `name` and `version` of the package `cargo tree --offline` could not find on disk
/// (`failed to download `NAME vVERSION``), when that is why it failed.
pub(super) fn not_on_disk(error: &GraphError) -> Option<(String, String)> {
    let GraphError::CargoFailed(message) = error else {
        return None;
    };
    let (_, rest) = message.split_once("failed to download `")?;
    let (package, _) = rest.split_once('`')?;
    let (name, version) = package.split_once(" v")?;
    let valid = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    (valid(name) && valid(version)).then(|| (name.to_owned(), version.to_owned()))
}

/// One `[[package]]` of Cargo.lock.
#[derive(Debug)]
struct LockPackage {
    name: String,
    version: String,
    /// `None` for path packages (workspace members and path dependencies).
    source: Option<String>,
    dependencies: Vec<usize>,
}

impl LockPackage {
    fn is_registry(&self) -> bool {
        self.source
            .as_deref()
            .is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
    }

    fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The packages of a Cargo.lock and their dependency edges (every edge the lock file records:
/// all platforms, dev-dependencies, and the optional dependencies some member enables).
#[derive(Debug, Default)]
pub(super) struct LockGraph {
    packages: Vec<LockPackage>,
}

impl LockGraph {
    /// Reads the `[[package]]` tables of a lock file (format v3 and v4); what it does not
    /// understand is skipped, and a dependency it cannot place has no edge.
    pub(super) fn parse(text: &str) -> LockGraph {
        struct Raw {
            name: String,
            version: String,
            source: Option<String>,
            dependencies: Vec<String>,
        }
        let mut raw: Vec<Raw> = Vec::new();
        let mut in_package = false;
        let mut in_dependencies = false;
        let unquote = |v: &str| {
            v.trim()
                .trim_end_matches(',')
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned)
        };
        for line in text.lines() {
            let line = line.trim();
            if in_dependencies {
                let (items, end) = match line.split_once(']') {
                    Some((items, _)) => (items, true),
                    None => (line, false),
                };
                if let Some(p) = raw.last_mut() {
                    p.dependencies
                        .extend(items.split(',').filter_map(|i| unquote(i.trim())));
                }
                in_dependencies = !end;
                continue;
            }
            if line.starts_with('[') {
                in_package = line == "[[package]]";
                if in_package {
                    raw.push(Raw {
                        name: String::new(),
                        version: String::new(),
                        source: None,
                        dependencies: Vec::new(),
                    });
                }
                continue;
            }
            let (Some(p), Some((key, value))) = (raw.last_mut(), line.split_once(" = ")) else {
                continue;
            };
            if !in_package {
                continue;
            }
            match key {
                "name" => p.name = unquote(value).unwrap_or_default(),
                "version" => p.version = unquote(value).unwrap_or_default(),
                "source" => p.source = unquote(value),
                "dependencies" => {
                    let list = value.trim().strip_prefix('[').unwrap_or("");
                    let (items, end) = match list.split_once(']') {
                        Some((items, _)) => (items, true),
                        None => (list, false),
                    };
                    p.dependencies
                        .extend(items.split(',').filter_map(|i| unquote(i.trim())));
                    in_dependencies = !end;
                }
                _ => {}
            }
        }
        // A package name and a version are made of these; anything else is not cargo's and
        // is never handed to cargo.
        let plain = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
        };
        raw.retain(|p| plain(&p.name) && plain(&p.version));
        // A dependency is `name`, `name version` or `name version (source)`: as little as
        // makes it unique in this lock file.
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in raw.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
        let place = |dependency: &str| -> Option<usize> {
            let mut parts = dependency.splitn(3, ' ');
            let name = parts.next()?;
            let version = parts.next();
            let source = parts
                .next()
                .and_then(|s| s.strip_prefix('('))
                .and_then(|s| s.strip_suffix(')'));
            let matching: Vec<usize> = by_name
                .get(name)?
                .iter()
                .copied()
                .filter(|&i| version.is_none_or(|v| raw[i].version == v))
                .filter(|&i| source.is_none_or(|s| raw[i].source.as_deref() == Some(s)))
                .collect();
            match matching[..] {
                [one] => Some(one),
                // Named without its source although another of that name and version has
                // one: cargo writes path packages so.
                _ if source.is_none() && version.is_some() => {
                    let mut paths = matching.iter().filter(|&&i| raw[i].source.is_none());
                    match (paths.next(), paths.next()) {
                        (Some(&one), None) => Some(one),
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        let dependencies: Vec<Vec<usize>> = raw
            .iter()
            .map(|p| p.dependencies.iter().filter_map(|d| place(d)).collect())
            .collect();
        LockGraph {
            packages: raw
                .into_iter()
                .zip(dependencies)
                .map(|(p, dependencies)| LockPackage {
                    name: p.name,
                    version: p.version,
                    source: p.source,
                    dependencies,
                })
                .collect(),
        }
    }

    /// The packages `start` may reach, itself included.
    fn reach(&self, start: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([start]);
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            for &d in &self.packages[i].dependencies {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    }
}

/// The workspace's graph over the members whose packages are on disk.
pub(super) struct Available {
    /// `cargo tree --workspace --exclude …` over them.
    pub(super) all: Vec<Occurrence>,
    /// The tree the members on disk were judged against: this build's selection when the
    /// invocation is known, else our package alone.
    pub(super) base: Vec<Occurrence>,
    /// `name@version` of the members left out, sorted.
    pub(super) excluded: Vec<String>,
}

/// `name` and `version` of every package in `tree`.
fn packages_of(tree: &[Occurrence]) -> BTreeSet<(String, String)> {
    tree.iter()
        .filter_map(|o| cargo_tree::parse_package(&o.package))
        .map(|p| (p.name, p.version))
        .collect()
}

/// The workspace's graph over the members on disk (see the module docs), after the whole
/// workspace's `cargo tree` failed because `missing` is not on disk. `None` when it cannot be
/// had: the base tree fails too, or cargo fails for another reason.
pub(super) fn available(
    req: &Request<'_>,
    lock: &LockGraph,
    missing: (String, String),
    selected: Option<Vec<Occurrence>>,
) -> Option<Available> {
    // Without the lock file (unreadable, or it does not hold our package) nothing can be
    // judged.
    if !lock
        .packages
        .iter()
        .any(|p| p.source.is_none() && p.name == req.name && p.version == req.version)
    {
        return None;
    }
    let base = match (selected, req.selection_args(), req.invocation) {
        (Some(tree), ..) => tree,
        (None, Some(args), Some((_, cwd))) => req.run(Some(cwd), &args).ok()?,
        _ => req.run(req.manifest.parent(), &req.alone_args()).ok()?,
    };
    let on_disk = packages_of(&base);
    let selected: BTreeSet<(String, String)> = cargo_tree::roots(&base)
        .iter()
        .filter_map(|r| cargo_tree::parse_package(r))
        .map(|p| (p.name, p.version))
        .collect();
    // Path packages that are not selected: members (and path dependencies) to judge.
    let candidates: Vec<usize> = (0..lock.packages.len())
        .filter(|&i| lock.packages[i].source.is_none())
        .filter(|&i| {
            let p = &lock.packages[i];
            !selected.contains(&(p.name.clone(), p.version.clone()))
        })
        .collect();
    let reach: BTreeMap<usize, BTreeSet<usize>> =
        candidates.iter().map(|&c| (c, lock.reach(c))).collect();
    let mut excluded: BTreeSet<usize> = BTreeSet::new();
    let mut missing: BTreeSet<(String, String)> = BTreeSet::from([missing]);
    let doubtful: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|c| {
            reach[c].iter().any(|&i| {
                let p = &lock.packages[i];
                p.is_registry() && !on_disk.contains(&(p.name.clone(), p.version.clone()))
            })
        })
        .collect();
    // Each doubtful member's own `cargo tree`, a few at a time: they only read.
    let dir = req.root_manifest.parent();
    let checks: Vec<Result<(), GraphError>> = doubtful
        .chunks(parallel_checks())
        .flat_map(|chunk| {
            std::thread::scope(|s| {
                let running: Vec<_> = chunk
                    .iter()
                    .map(|&c| {
                        let args = req.member_args(&lock.packages[c].spec());
                        s.spawn(move || req.run(dir, &args).map(drop))
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(GraphError::Cargo("check panicked".into())))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (&c, check) in doubtful.iter().zip(checks) {
        if let Err(e) = check {
            missing.insert(not_on_disk(&e)?);
            excluded.insert(c);
        }
    }
    if candidates.iter().all(|c| excluded.contains(c)) {
        // No other member is on disk: the workspace on disk is the base's own selection.
        let mut excluded: Vec<String> = excluded.iter().map(|&i| lock.packages[i].spec()).collect();
        excluded.sort();
        return Some(Available {
            all: base.clone(),
            base,
            excluded,
        });
    }
    // Taken together, the members on disk may still need a package that is not: leave out
    // every member that may reach it, until cargo resolves the rest (each round leaves out at
    // least one more member).
    for _ in 0..=candidates.len() {
        let specs: Vec<String> = excluded.iter().map(|&i| lock.packages[i].spec()).collect();
        match req.run(
            req.root_manifest.parent(),
            &req.upper_args_excluding(&specs),
        ) {
            Ok(all) => {
                let mut excluded = specs;
                excluded.sort();
                return Some(Available {
                    all,
                    base,
                    excluded,
                });
            }
            Err(e) => {
                let m = not_on_disk(&e)?;
                missing.insert(m);
                let before = excluded.len();
                for &c in &candidates {
                    let needs = reach[&c].iter().any(|&i| {
                        let p = &lock.packages[i];
                        missing.contains(&(p.name.clone(), p.version.clone()))
                    });
                    if needs {
                        excluded.insert(c);
                    }
                }
                if excluded.len() == before {
                    return None;
                }
            }
        }
    }
    None
}

/// How many members' `cargo tree` run at once: the machine's parallelism, at most 4.
fn parallel_checks() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// Reads the lock file beside the workspace root, if any.
pub(super) fn read_lock(path: Option<&Path>) -> LockGraph {
    path.and_then(super::read_lockfile)
        .map(|t| LockGraph::parse(&t))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "a"
version = "0.1.0"
dependencies = [
 "itoa 1.0.14",
 "shared",
]

[[package]]
name = "b"
version = "0.1.0"
dependencies = ["ryu", "shared"]

[[package]]
name = "itoa"
version = "1.0.14"
source = "registry+https://example.invalid/index"
checksum = "ff"

[[package]]
name = "itoa"
version = "0.4.8"
source = "registry+https://example.invalid/index"

[[package]]
name = "ryu"
version = "1.0.23"
source = "sparse+https://example.invalid/index/"

[[package]]
name = "shared"
version = "0.1.0"
dependencies = [
 "itoa 0.4.8 (registry+https://example.invalid/index)",
]
"#;

    fn names(lock: &LockGraph, set: &BTreeSet<usize>) -> Vec<String> {
        set.iter().map(|&i| lock.packages[i].spec()).collect()
    }

    #[test]
    fn the_lock_file_graph_places_every_form_of_dependency() {
        let lock = LockGraph::parse(LOCK);
        assert_eq!(lock.packages.len(), 6);
        let index = |spec: &str| lock.packages.iter().position(|p| p.spec() == spec).unwrap();
        assert_eq!(
            names(&lock, &lock.reach(index("a@0.1.0"))),
            ["a@0.1.0", "itoa@1.0.14", "itoa@0.4.8", "shared@0.1.0"]
        );
        assert_eq!(
            names(&lock, &lock.reach(index("b@0.1.0"))),
            ["b@0.1.0", "itoa@0.4.8", "ryu@1.0.23", "shared@0.1.0"]
        );
        let ryu = &lock.packages[index("ryu@1.0.23")];
        assert!(ryu.is_registry());
        assert!(lock.packages[index("a@0.1.0")].source.is_none());
        assert!(!lock.packages[index("a@0.1.0")].is_registry());
        // A name that is not a package name never reaches cargo's command line.
        let hostile = LockGraph::parse(&LOCK.replace("name = \"b\"", "name = \"--config=x\""));
        assert_eq!(hostile.packages.len(), 5);
        assert!(hostile.packages.iter().all(|p| !p.name.starts_with('-')));
        // An ambiguous dependency (two versions, no version given) gets no edge.
        let lock = LockGraph::parse(&LOCK.replace("\"itoa 1.0.14\"", "\"itoa\""));
        let a = lock.packages.iter().position(|p| p.name == "a").unwrap();
        assert_eq!(lock.packages[a].dependencies.len(), 1);
    }

    #[test]
    fn a_download_failure_names_the_package_and_nothing_else_does() {
        let failed = |m: &str| not_on_disk(&GraphError::CargoFailed(m.to_owned()));
        assert_eq!(
            failed("error: failed to download `ryu v1.0.23`"),
            Some(("ryu".to_owned(), "1.0.23".to_owned()))
        );
        assert_eq!(failed("error: failed to download `ryu`"), None);
        assert_eq!(failed("error: failed to parse manifest"), None);
        assert_eq!(failed("error: failed to download ` v1`"), None);
        assert_eq!(
            not_on_disk(&GraphError::Cargo(
                "failed to download `ryu v1.0.23`".into()
            )),
            None
        );
    }

    /// Lock file text as cargo writes it for `packages` (name, version, registry?, deps): a
    /// dependency is named by as little as makes it unique.
    fn render(packages: &[(String, String, bool, Vec<usize>)]) -> String {
        use std::fmt::Write as _;
        let mut text = String::from("version = 4\n");
        for (name, version, registry, deps) in packages {
            let _ = write!(
                text,
                "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n"
            );
            if *registry {
                text.push_str("source = \"registry+https://example.invalid/index\"\n");
                text.push_str("checksum = \"00\"\n");
            }
            if !deps.is_empty() {
                text.push_str("dependencies = [\n");
                for &d in deps {
                    let (n, v, r, _) = &packages[d];
                    let same_name = packages.iter().filter(|p| p.0 == *n).count();
                    let same_version = packages.iter().filter(|p| p.0 == *n && p.1 == *v).count();
                    let item = if same_name == 1 {
                        n.clone()
                    } else if same_version == 1 {
                        format!("{n} {v}")
                    } else if *r {
                        format!("{n} {v} (registry+https://example.invalid/index)")
                    } else {
                        // The path package beside a registry one of that name and version.
                        format!("{n} {v}")
                    };
                    let _ = writeln!(text, " \"{item}\",");
                }
                text.push_str("]\n");
            }
        }
        text
    }

    fn packages()
    -> impl proptest::strategy::Strategy<Value = Vec<(String, String, bool, Vec<usize>)>> {
        use proptest::prelude::*;
        proptest::collection::vec(
            (
                "[ab]{1,2}",
                "[12]\\.0\\.[0-2]",
                any::<bool>(),
                proptest::collection::vec(any::<usize>(), 0..4),
            ),
            1..12,
        )
        .prop_map(|raw| {
            // Unique (name, version, source), as in a real lock file.
            let mut seen = BTreeSet::new();
            let mut out: Vec<(String, String, bool, Vec<usize>)> = Vec::new();
            for (n, v, r, d) in raw {
                if seen.insert((n.clone(), v.clone(), r)) {
                    out.push((n, v, r, d));
                }
            }
            let len = out.len();
            for p in &mut out {
                let mut deps: Vec<usize> = p.3.iter().map(|d| d % len).collect();
                deps.sort_unstable();
                deps.dedup();
                p.3 = deps;
            }
            out
        })
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(300))]

        /// Any text: no panic, every edge inside the list, nothing made from nothing.
        #[test]
        fn any_text_gives_a_graph_whose_edges_stay_inside_it(
            text in "(\\[\\[package\\]\\]\n|name = \"[a-c]\"\n|version = \"[0-2]\"\n|source = \"(registry|sparse|git)\\+x\"\n|dependencies = \\[\n| \"[a-c]( [0-2])?\",\n|\\]\n|[\\[\\]\" =,a-z0-9\n]{0,8})*"
        ) {
            let lock = LockGraph::parse(&text);
            let headers = text.matches("[[package]]").count();
            proptest::prop_assert!(lock.packages.len() <= headers);
            for p in &lock.packages {
                proptest::prop_assert!(!p.name.is_empty() && !p.version.is_empty());
                proptest::prop_assert!(p.dependencies.iter().all(|&d| d < lock.packages.len()));
                proptest::prop_assert!(p.dependencies.len() <= text.matches('"').count());
            }
        }

        /// Lock files as cargo writes them: every package and every edge read back.
        #[test]
        fn a_written_lock_file_reads_back_whole(packages in packages()) {
            let lock = LockGraph::parse(&render(&packages));
            proptest::prop_assert_eq!(lock.packages.len(), packages.len());
            for (read, (name, version, registry, deps)) in lock.packages.iter().zip(&packages) {
                proptest::prop_assert_eq!(&read.name, name);
                proptest::prop_assert_eq!(&read.version, version);
                proptest::prop_assert_eq!(read.is_registry(), *registry);
                proptest::prop_assert_eq!(&read.dependencies, deps);
            }
        }

        /// Any message: no panic; a download failure gives back its package exactly.
        #[test]
        fn download_failures_are_recognised_and_nothing_else_is(
            name in "[a-z_-]{1,12}",
            version in "[0-9]\\.[0-9]\\.[0-9](-[a-z0-9.]{1,5})?",
            noise in "\\PC{0,40}",
        ) {
            let message = format!("error: failed to download `{name} v{version}`");
            proptest::prop_assert_eq!(
                not_on_disk(&GraphError::CargoFailed(message)),
                Some((name, version))
            );
            let other = not_on_disk(&GraphError::CargoFailed(noise.clone()));
            if !noise.contains("failed to download `") {
                proptest::prop_assert_eq!(other, None);
            }
        }
    }
}
