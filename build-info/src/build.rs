//! The build side: call it from `build.rs` (feature `build`).
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     buildinfo::build::emit();
//! }
//! ```
//!
//! It captures the facts listed on [`BuildInfo`](crate::BuildInfo), writes them into `OUT_DIR`
//! for [`build_info!`](crate::build_info!), and prints the exact `cargo:rerun-if-*` lines for
//! everything it read. It never fails the build unless asked to ([`Builder::strict`]): what
//! cannot be learned becomes a `cargo:warning` and `unknown`. It never touches the network and
//! kills any helper (git, cargo, rustc) that runs too long.
//!
//! # Overrides
//!
//! Every field can be forced with an environment variable, the way Go packagers use
//! `-ldflags -X`: `BUILD_INFO_PROGRAM`, `BUILD_INFO_VERSION`, `BUILD_INFO_REVISION`,
//! `BUILD_INFO_BRANCH`, `BUILD_INFO_TAG`, `BUILD_INFO_COMMIT_TIME`, `BUILD_INFO_MODIFIED`
//! (`true`/`false`), `BUILD_INFO_BUILD_USER`, `BUILD_INFO_BUILD_DATE`,
//! `BUILD_INFO_RUST_VERSION`, `BUILD_INFO_RUST_COMMIT`, `BUILD_INFO_RUST_CHANNEL`,
//! `BUILD_INFO_HOST`, `BUILD_INFO_TARGET`, `BUILD_INFO_PROFILE`, `BUILD_INFO_OPT_LEVEL`,
//! `BUILD_INFO_FEATURES` (comma-separated). Times accept RFC 3339 text or Unix seconds.
//! `SOURCE_DATE_EPOCH` fixes the build date for reproducible builds. `BUILD_INFO_STRICT=1`
//! turns on strict mode, `BUILD_INFO_GIT` names the git program.

mod dependency_graph;
mod encode;
mod git_state;
mod process;
mod time_format;
mod toolchain;
mod version_order;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

pub use self::dependency_graph::{
    Checksums, FeatureSelection, GraphError, GraphPackage, ResolveOptions, lockfile_checksums,
};
pub use self::encode::{dep_v0_json, zlib};
use self::git_state::{GitLookup, VcsFacts};
use crate::UNKNOWN;
use crate::model::BuildFacts as Facts;
pub use crate::model::{GitOrigin, Graph};

/// Captures everything with the default options. Same as `Builder::new().emit()`.
pub fn emit() {
    Builder::new().emit();
}

/// Options for the build side.
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    strict: bool,
    git: bool,
    dependencies: bool,
    checksums: bool,
    build_user: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            strict: false,
            git: true,
            dependencies: true,
            checksums: false,
            build_user: true,
        }
    }
}

impl Builder {
    /// Default options: everything captured, failures become warnings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fail the build instead of warning when a fact cannot be captured (an unknown revision,
    /// a failed dependency graph). For release pipelines. Also `BUILD_INFO_STRICT=1`.
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// Read the revision, branch, tag and dirty state (default on).
    pub fn git(mut self, on: bool) -> Self {
        self.git = on;
        self
    }

    /// Capture the dependency graph and embed `.dep-v0` (default on).
    pub fn dependencies(mut self, on: bool) -> Self {
        self.dependencies = on;
        self
    }

    /// Embed Cargo.lock checksums in `.bldinfo` (default off: 32 bytes of entropy each, ~13 KiB
    /// for 300 packages; the run-side table never holds them).
    pub fn checksums(mut self, on: bool) -> Self {
        self.checksums = on;
        self
    }

    /// Record `user@host` (default on; off writes `unknown`, for builds that must not say who
    /// ran them).
    pub fn build_user(mut self, on: bool) -> Self {
        self.build_user = on;
        self
    }

    /// Captures, writes the generated files into `OUT_DIR` and prints the `cargo:` lines.
    ///
    /// # Panics
    ///
    /// Only in strict mode, when something could not be captured, or when `OUT_DIR` is not
    /// set (it is not running as a build script).
    pub fn emit(self) {
        let out_dir = PathBuf::from(
            std::env::var_os("OUT_DIR")
                .expect("buildinfo::build::emit must run from a build script (OUT_DIR is not set)"),
        );
        let mut run = Run::new(self, out_dir);
        run.capture();
        run.finish();
    }
}

/// One build-script run: what was read, what went wrong, what to watch.
struct Run {
    options: Builder,
    out_dir: PathBuf,
    env_read: BTreeSet<String>,
    watch: BTreeSet<PathBuf>,
    problems: Vec<String>,
    trace: String,
    started: Instant,
    /// `BUILD_INFO_PROGRAM`, which replaces the binary's own name in the generated code.
    program_override: Option<String>,
}

/// Variables cargo sets for build scripts: reading them needs no `rerun-if-env-changed`.
fn set_by_cargo(name: &str) -> bool {
    name.starts_with("CARGO_") && name != "CARGO_AUDITABLE_ORIG_ARGS"
        || matches!(
            name,
            "OUT_DIR" | "TARGET" | "HOST" | "PROFILE" | "OPT_LEVEL" | "DEBUG" | "RUSTC" | "CARGO"
        )
}

impl Run {
    fn new(options: Builder, out_dir: PathBuf) -> Run {
        Run {
            options,
            out_dir,
            env_read: BTreeSet::new(),
            watch: BTreeSet::new(),
            problems: Vec::new(),
            trace: String::new(),
            started: Instant::now(),
            program_override: None,
        }
    }

    fn var(&mut self, name: &str) -> Option<String> {
        self.env_read.insert(name.to_owned());
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    fn note(&mut self, line: &str) {
        let _ = writeln!(
            self.trace,
            "{line} ({} us)",
            self.started.elapsed().as_micros()
        );
    }

    fn capture(&mut self) {
        if self
            .var("BUILD_INFO_STRICT")
            .is_some_and(|v| v != "0" && v != "false")
        {
            self.options.strict = true;
        }
        let manifest_dir = PathBuf::from(self.var("CARGO_MANIFEST_DIR").unwrap_or_default());
        let mut facts = Facts {
            program: self.var("CARGO_PKG_NAME").unwrap_or_else(|| UNKNOWN.into()),
            version: self
                .var("CARGO_PKG_VERSION")
                .unwrap_or_else(|| UNKNOWN.into()),
            ..Facts::default()
        };
        self.capture_vcs(&manifest_dir, &mut facts);
        self.note("vcs");
        self.capture_toolchain(&mut facts);
        self.note("toolchain");
        self.capture_build_context(&mut facts);
        self.apply_overrides(&mut facts);
        let graph = if self.options.dependencies {
            self.capture_graph(&manifest_dir, &facts)
        } else {
            self.note("graph: disabled");
            Graph::default()
        };
        self.write_outputs(&facts, &graph);
        self.note("written");
    }

    fn capture_vcs(&mut self, manifest_dir: &Path, facts: &mut Facts) {
        if !self.options.git {
            return;
        }
        let vcs_info = manifest_dir.join(".cargo_vcs_info.json");
        // A packaged crate (crates.io tarball, `cargo vendor`, registry or git checkout) is not
        // part of whatever repository happens to contain it.
        let packaged = vcs_info.is_file()
            || manifest_dir.join(".cargo-checksum.json").is_file()
            || manifest_dir.join("Cargo.toml.orig").is_file()
            || self.under_cargo_home(manifest_dir);
        let mut found: Option<VcsFacts> = None;
        if packaged {
            self.note("vcs: packaged crate, repository not consulted");
        } else {
            let git = self.var("BUILD_INFO_GIT").unwrap_or_else(|| "git".into());
            match git_state::read(Path::new(&git), manifest_dir) {
                GitLookup::Found(state) => {
                    self.watch.extend(state.watch);
                    found = Some(state.facts);
                }
                GitLookup::NoRepository => self.note("vcs: not in a git repository"),
                GitLookup::Failed(e) => self.problem(format!("git: {e}")),
            }
            if found.as_ref().is_none_or(|f| f.revision.is_none()) {
                let mut var = |name: &str| self.var(name);
                if let Some(ci) = git_state::from_ci(&mut var) {
                    // Keep the branch git knew (a repository with no commits yet has one).
                    let branch = found.and_then(|f| f.branch);
                    found = Some(VcsFacts {
                        branch: ci.branch.or(branch),
                        ..ci
                    });
                }
            }
        }
        if found.as_ref().is_none_or(|f| f.revision.is_none()) && vcs_info.is_file() {
            self.watch.insert(vcs_info.clone());
            if let Some(v) = std::fs::read_to_string(&vcs_info)
                .ok()
                .and_then(|t| git_state::from_cargo_vcs_info(&t))
            {
                found = Some(v);
            }
        }
        let Some(f) = found else { return };
        if let Some(r) = f.revision {
            facts.revision = r;
        }
        if let Some(b) = f.branch {
            facts.branch = b;
        }
        facts.tag = f.tag.unwrap_or_default();
        if let Some(t) = f.commit_time {
            facts.commit_time = time_format::rfc3339_utc(t);
        }
        facts.modified = f.modified;
    }

    fn under_cargo_home(&mut self, dir: &Path) -> bool {
        let home = self
            .var("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
        home.is_some_and(|h| {
            ["registry", "git"]
                .iter()
                .any(|d| dir.starts_with(h.join(d)))
        })
    }

    fn capture_toolchain(&mut self, facts: &mut Facts) {
        let rustc = self.var("RUSTC").unwrap_or_else(|| "rustc".into());
        // OUT_DIR's hash changes with the compiler's version, so what `rustc -vV` said in this
        // OUT_DIR stays true: re-reading it saves a process start on every git-only re-run.
        let cache = self.out_dir.join("build-info-rustc.cache");
        let cached = std::fs::read_to_string(&cache)
            .ok()
            .and_then(|t| t.strip_prefix(&format!("{rustc}\n")).map(str::to_owned));
        let result = match cached {
            Some(text) => Ok(process::Output {
                stdout: text,
                stderr: String::new(),
                success: true,
            }),
            None => {
                let out = process::run(Command::new(&rustc).arg("-vV"), Duration::from_secs(20));
                if let Ok(o) = &out
                    && o.success
                {
                    let _ = std::fs::write(&cache, format!("{rustc}\n{}", o.stdout));
                }
                out
            }
        };
        match result {
            Ok(out) if out.success => {
                let r = toolchain::parse_rustc_vv(&out.stdout);
                if let Some(release) = r.release {
                    facts.rust_channel = toolchain::channel(&release).to_owned();
                    facts.rust_version = release;
                }
                if let Some(c) = r.commit {
                    facts.rust_commit = c;
                }
            }
            Ok(out) => self.problem(format!("{rustc} -vV failed: {}", out.stderr.trim())),
            Err(e) => self.problem(format!("{rustc} -vV: {e}")),
        }
        facts.host = self.var("HOST").unwrap_or_else(|| UNKNOWN.into());
        facts.target = self.var("TARGET").unwrap_or_else(|| UNKNOWN.into());
        facts.opt_level = self.var("OPT_LEVEL").unwrap_or_else(|| UNKNOWN.into());
        // OUT_DIR is <target-dir>/[<triple>/]<profile>/build/<pkg>-<hash>/out: the profile
        // directory is the real profile name (`debug` for dev, `release`, or a custom one).
        facts.profile = self
            .out_dir
            .ancestors()
            .nth(3)
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| self.var("PROFILE"))
            .unwrap_or_else(|| UNKNOWN.into());
        facts.features = match self.var("CARGO_CFG_FEATURE") {
            Some(list) => list
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
            // Before CARGO_CFG_FEATURE: names come upper-cased with `-` as `_`; lower-case them.
            None => std::env::vars()
                .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(str::to_lowercase))
                .collect(),
        };
        facts.features.sort();
    }

    fn capture_build_context(&mut self, facts: &mut Facts) {
        if self.options.build_user {
            let user = self
                .var("USER")
                .or_else(|| self.var("USERNAME"))
                .or_else(|| self.var("LOGNAME"))
                .or_else(|| {
                    // Containers often run without USER set: ask the system.
                    process::run(Command::new("id").arg("-un"), Duration::from_secs(5))
                        .ok()
                        .filter(|o| o.success)
                        .map(|o| o.stdout.trim().to_owned())
                        .filter(|u| !u.is_empty())
                });
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .or_else(|| self.var("HOSTNAME"))
                .or_else(|| self.var("COMPUTERNAME"));
            facts.build_user = match (user, host) {
                (Some(u), Some(h)) => format!("{u}@{h}"),
                (Some(u), None) => u,
                (None, Some(h)) => format!("{UNKNOWN}@{h}"),
                (None, None) => UNKNOWN.into(),
            };
        }
        facts.build_date = match self.var("SOURCE_DATE_EPOCH") {
            Some(s) => match s.trim().parse::<i64>() {
                Ok(secs) => time_format::rfc3339_utc(secs),
                Err(_) => {
                    self.problem(format!(
                        "SOURCE_DATE_EPOCH={s:?} is not a number of seconds"
                    ));
                    UNKNOWN.into()
                }
            },
            None => {
                let now = SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
                time_format::rfc3339_utc(now)
            }
        };
    }

    fn apply_overrides(&mut self, facts: &mut Facts) {
        if let Some(p) = self.var("BUILD_INFO_PROGRAM") {
            facts.program.clone_from(&p);
            self.program_override = Some(p);
        }
        let time = |v: String| match v.parse::<i64>() {
            Ok(secs) => time_format::rfc3339_utc(secs),
            Err(_) => v,
        };
        let fields: [(&str, &mut String, bool); 14] = [
            ("BUILD_INFO_VERSION", &mut facts.version, false),
            ("BUILD_INFO_REVISION", &mut facts.revision, false),
            ("BUILD_INFO_BRANCH", &mut facts.branch, false),
            ("BUILD_INFO_TAG", &mut facts.tag, false),
            ("BUILD_INFO_COMMIT_TIME", &mut facts.commit_time, true),
            ("BUILD_INFO_BUILD_USER", &mut facts.build_user, false),
            ("BUILD_INFO_BUILD_DATE", &mut facts.build_date, true),
            ("BUILD_INFO_RUST_VERSION", &mut facts.rust_version, false),
            ("BUILD_INFO_RUST_COMMIT", &mut facts.rust_commit, false),
            ("BUILD_INFO_RUST_CHANNEL", &mut facts.rust_channel, false),
            ("BUILD_INFO_HOST", &mut facts.host, false),
            ("BUILD_INFO_TARGET", &mut facts.target, false),
            ("BUILD_INFO_PROFILE", &mut facts.profile, false),
            ("BUILD_INFO_OPT_LEVEL", &mut facts.opt_level, false),
        ];
        for (name, slot, is_time) in fields {
            self.env_read.insert(name.to_owned());
            if let Some(v) = std::env::var(name).ok().filter(|v| !v.is_empty()) {
                *slot = if is_time { time(v) } else { v };
            }
        }
        if let Some(list) = self.var("BUILD_INFO_FEATURES") {
            facts.features = list
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect();
            facts.features.sort();
        }
        if let Some(m) = self.var("BUILD_INFO_MODIFIED") {
            facts.modified = match m.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => {
                    self.problem(format!(
                        "BUILD_INFO_MODIFIED={m:?} is neither true nor false"
                    ));
                    None
                }
            };
        }
        if self.options.git && facts.revision == UNKNOWN {
            self.problem(
                "revision unknown: no git repository, CI variable or .cargo_vcs_info.json".into(),
            );
        }
    }

    fn capture_graph(&mut self, manifest_dir: &Path, facts: &Facts) -> Graph {
        let manifest = manifest_dir.join("Cargo.toml");
        let lockfile = manifest_dir
            .ancestors()
            .map(|d| d.join("Cargo.lock"))
            .find(|p| p.is_file());
        let mut options = ResolveOptions::new(
            self.var("CARGO").unwrap_or_else(|| "cargo".into()),
            &manifest,
        );
        options.features = FeatureSelection::Exact(facts.features.clone());
        options.target = self.var("TARGET");
        // What the graph depends on: cargo's inputs, the manifests and the lock file.
        self.watch.insert(manifest.clone());
        let mut key = options.cargo_tree_args().join("\u{1f}");
        for path in [Some(manifest.clone()), lockfile.clone()]
            .into_iter()
            .flatten()
        {
            let _ = write!(key, "\u{1f}{}", content_hash(&path));
        }
        if let Some(lock) = &lockfile {
            self.watch.insert(lock.clone());
            // A workspace member's graph also depends on the root manifest beside the lock.
            if let Some(root) = lock.parent().map(|d| d.join("Cargo.toml"))
                && root != manifest
                && root.is_file()
            {
                let _ = write!(key, "\u{1f}{}", content_hash(&root));
                self.watch.insert(root);
            }
        }
        key.push_str(&self.var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default());
        let key = format!("{:016x}", fnv1a(key.as_bytes()));
        let cache = self.out_dir.join("build-info-graph.cache");
        if let Some(graph) = read_cache(&cache, &key) {
            self.note("graph: cached");
            return graph;
        }
        match Graph::resolve(&options, lockfile.as_deref()) {
            Ok(graph) => {
                self.note("graph: computed");
                write_cache(&cache, &key, &graph);
                graph
            }
            Err(e) => {
                self.note("graph: failed");
                let _ = std::fs::remove_file(&cache);
                self.problem(format!("dependency graph not captured: {e}"));
                Graph::default()
            }
        }
    }

    fn write_outputs(&mut self, facts: &Facts, graph: &Graph) {
        // Under `cargo auditable` its own `.dep-v0` goes in; a second one would corrupt both.
        let auditable = self.var("CARGO_AUDITABLE_ORIG_ARGS").is_some();
        let dep_v0 = if !auditable && !graph.packages.is_empty() {
            let bytes = zlib(graph.to_dep_v0_json().as_bytes());
            self.write_if_changed("dep-v0.bin", &bytes);
            Some(bytes.len())
        } else {
            None
        };
        let bldinfo = zlib(
            facts
                .to_bldinfo_json(graph, self.options.checksums)
                .as_bytes(),
        );
        self.write_if_changed("bldinfo.bin", &bldinfo);

        let info = leaked_build_info(facts, graph);
        let source = encode::rust_source(&encode::Generated {
            facts,
            program_override: self.program_override.as_deref(),
            graph,
            dep_v0,
            bldinfo: bldinfo.len(),
            version: info.short_version(),
            // clap prints its own newline after the long version.
            long_version: info.long_version().trim_end().to_owned(),
        });
        self.write_if_changed("build_info.rs", source.as_bytes());
    }

    fn write_if_changed(&mut self, name: &str, bytes: &[u8]) {
        let path = self.out_dir.join(name);
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return;
        }
        if let Err(e) = std::fs::write(&path, bytes) {
            // Without the generated file the crate cannot compile: this one is fatal.
            panic!("build-info: cannot write {}: {e}", path.display());
        }
    }

    fn finish(mut self) {
        let _ = std::fs::write(self.out_dir.join("build-info-trace.txt"), &self.trace);
        let mut lines = String::new();
        for path in &self.watch {
            let _ = writeln!(lines, "cargo:rerun-if-changed={}", path.display());
        }
        for name in &self.env_read {
            if !set_by_cargo(name) {
                let _ = writeln!(lines, "cargo:rerun-if-env-changed={name}");
            }
        }
        let problems = std::mem::take(&mut self.problems);
        for p in &problems {
            let _ = writeln!(lines, "cargo:warning=build-info: {}", p.replace('\n', " "));
        }
        print!("{lines}");
        assert!(
            !self.options.strict || problems.is_empty(),
            "build-info strict mode: {}",
            problems.join("; ")
        );
    }
}

/// A `BuildInfo` over leaked copies of the facts, so that the consts are printed by the very
/// code that prints at run time. A build script is short-lived; the leak is a few KiB.
fn leaked_build_info(facts: &Facts, graph: &Graph) -> crate::BuildInfo {
    let s = |v: &str| -> &'static str { Box::leak(v.to_owned().into_boxed_str()) };
    let table = graph.to_table();
    crate::BuildInfo::from_parts(crate::Parts {
        program: s(&facts.program),
        version: s(&facts.version),
        revision: s(&facts.revision),
        revision_label: s(&facts.revision_label()),
        branch: s(&facts.branch),
        tag: s(&facts.tag),
        describe: s(&facts.describe),
        commit_time: s(&facts.commit_time),
        modified: facts.modified,
        build_user: s(&facts.build_user),
        build_date: s(&facts.build_date),
        rust_version: s(&facts.rust_version),
        rust_commit: s(&facts.rust_commit),
        rust_channel: s(&facts.rust_channel),
        host: s(&facts.host),
        target: s(&facts.target),
        profile: s(&facts.profile),
        opt_level: s(&facts.opt_level),
        features: s(&facts.features.join(",")),
        packages: crate::Packages::from_table(s(&table)),
    })
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_hash(path: &Path) -> String {
    std::fs::read(path).map_or_else(|_| "missing".into(), |b| format!("{:016x}", fnv1a(&b)))
}

const CACHE_MAGIC: &str = "build-info graph cache v1";

fn read_cache(path: &Path, key: &str) -> Option<Graph> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next()? != CACHE_MAGIC || lines.next()? != key {
        return None;
    }
    let mut packages = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, version, source, flags, checksum, url, commit, deps] = f.as_slice() else {
            return None;
        };
        let flags = flags.as_bytes();
        packages.push(GraphPackage {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            source: crate::Source::from_name(source)?,
            git: (!url.is_empty()).then(|| GitOrigin {
                url: (*url).to_owned(),
                commit: (*commit).to_owned(),
            }),
            checksum: (!checksum.is_empty()).then(|| (*checksum).to_owned()),
            kind: if flags.first() == Some(&b'B') {
                crate::DependencyKind::Build
            } else {
                crate::DependencyKind::Runtime
            },
            direct: flags.get(1) == Some(&b'D'),
            root: flags.get(2) == Some(&b'*'),
            dependencies: deps
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?,
        });
    }
    Some(Graph { packages })
}

fn write_cache(path: &Path, key: &str, graph: &Graph) {
    let mut text = format!("{CACHE_MAGIC}\n{key}\n");
    for p in &graph.packages {
        let flags = [
            if p.kind == crate::DependencyKind::Build {
                'B'
            } else {
                'R'
            },
            if p.direct { 'D' } else { 'T' },
            if p.root { '*' } else { '-' },
        ];
        let (url, commit) = p
            .git
            .as_ref()
            .map_or(("", ""), |g| (g.url.as_str(), g.commit.as_str()));
        let deps: Vec<String> = p.dependencies.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{}\t{url}\t{commit}\t{}",
            p.name,
            p.version,
            p.source.as_str(),
            flags.iter().collect::<String>(),
            p.checksum.as_deref().unwrap_or(""),
            deps.join(",")
        );
    }
    let _ = std::fs::write(path, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_cache_round_trips() {
        let tree = "app v0.1.0 (/a)|\n|-- x v1.0.0 (https://u:p@example.invalid/x#0123abcd)|\n`-- y v1.0.0|\n[build-dependencies]\n`-- z v2.0.0|\n";
        let mut sums = Checksums::new();
        sums.insert(
            ("y".into(), "1.0.0".into()),
            vec![("registry+x".into(), "ff".into())],
        );
        let graph = Graph::from_cargo_tree(tree, &sums).unwrap();
        let dir = std::env::temp_dir().join(format!("build-info-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cache");
        write_cache(&path, "k1", &graph);
        assert_eq!(read_cache(&path, "k1"), Some(graph));
        assert_eq!(read_cache(&path, "k2"), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_user_controlled_variables_are_declared() {
        assert!(
            set_by_cargo("CARGO_PKG_NAME") && set_by_cargo("OUT_DIR") && set_by_cargo("TARGET")
        );
        assert!(!set_by_cargo("CARGO_AUDITABLE_ORIG_ARGS") && !set_by_cargo("SOURCE_DATE_EPOCH"));
    }
}
