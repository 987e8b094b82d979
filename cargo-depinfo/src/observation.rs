//! The one model every question reads: one program (a binary, or an instance of a service)
//! running one version of one crate. Every source turns what it read into observations.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use depinfo_read::inventory::{Inventory, Kind};

/// Who runs a crate: one program, as one binary or one instance of a service, and what the
/// source knows about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Runner {
    /// The program.
    pub program: String,
    /// The program's version, when the source knows it (binaries; `<program>_build_info`).
    pub program_version: Option<String>,
    /// The program's revision, when known.
    pub revision: Option<String>,
    /// `host:port` of the instance (network sources), shared by the runners of one source.
    pub instance: Option<Arc<str>>,
    /// The Prometheus `job` (`--prometheus` only).
    pub job: Option<String>,
    /// The binary (binaries only).
    pub path: Option<String>,
    /// The input this came from: a path, a `/metrics` URL or a Prometheus URL (shared by
    /// the runners of one source).
    pub origin: Arc<str>,
    /// How many instances (or binaries) this stands for: 1 for a binary, a `/metrics` page
    /// or an instance's series; the count of a Prometheus `count by` answer, when the
    /// runner is one program in one job (no `instance`).
    pub instances: usize,
}

impl Runner {
    /// Whether this stands for the instances of a program in a job, as counted by a
    /// Prometheus API, rather than for one instance or binary.
    pub fn is_counted(&self) -> bool {
        self.instance.is_none() && self.path.is_none()
    }

    /// Where it runs: the instance, else the binary, else the input.
    pub fn location(&self) -> &str {
        self.instance
            .as_deref()
            .or(self.path.as_deref())
            .unwrap_or(&self.origin)
    }
}

/// One program (a binary, or an instance of a service) running one version of one crate.
///
/// A fleet is many observations of few distinct values: the runner is shared by all the
/// crates of one program, and names, versions and sources are interned, so that
/// one observation costs about 64 bytes whatever its text (a million series fit in memory).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Observation {
    /// Who runs it.
    #[serde(flatten)]
    pub runner: Arc<Runner>,
    /// Crate name.
    pub name: Arc<str>,
    /// Crate version.
    pub version: Arc<str>,
    /// Where the crate came from (`crates.io`, `registry`, `git`, `local`).
    pub source: Arc<str>,
    /// Runtime or build-only (network sources only know runtime crates).
    pub kind: Kind,
    /// A dependency the program names itself, when known.
    pub direct: Option<bool>,
}

impl Observation {
    /// Where it runs: the instance, else the binary, else the input.
    pub fn location(&self) -> &str {
        self.runner.location()
    }
}

/// How many processes of one program, version and revision run in one state: the exporter's
/// `rust_process_info` (`current`, `replaced`, `deleted`, `memfd`), or binaries on disk
/// (`installed`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ProcessCount {
    /// The program.
    pub program: String,
    /// Its version, when known.
    pub version: Option<String>,
    /// Its revision, when known.
    pub revision: Option<String>,
    /// The state.
    pub state: String,
    /// How many processes (or binaries).
    pub count: usize,
}

impl ProcessCount {
    /// A count of `state`.
    pub fn new(
        program: &str,
        version: Option<&str>,
        revision: Option<&str>,
        state: &str,
        count: usize,
    ) -> ProcessCount {
        ProcessCount {
            program: program.to_owned(),
            version: version.map(str::to_owned),
            revision: revision.map(str::to_owned),
            state: state.to_owned(),
            count,
        }
    }

    /// Every binary of `inventories`, `installed`, counted by program, version and revision.
    pub fn installed(inventories: &[Inventory]) -> Vec<ProcessCount> {
        let mut counts: std::collections::BTreeMap<(&str, &str, Option<String>), usize> =
            std::collections::BTreeMap::new();
        for inv in inventories {
            // Labelled as the binary's runner is (`runner_of`).
            let revision = inv
                .build
                .as_ref()
                .map(depinfo_read::inventory::BuildFacts::revision_label);
            *counts
                .entry((&inv.program, &inv.version, revision))
                .or_default() += 1;
        }
        counts
            .into_iter()
            .map(|((program, version, revision), count)| {
                ProcessCount::new(
                    program,
                    Some(version),
                    revision.as_deref(),
                    "installed",
                    count,
                )
            })
            .collect()
    }
}

/// One shared copy of each distinct string: names, versions and sources repeat across a
/// fleet (every instance of a service runs the same crates).
#[derive(Debug, Default)]
pub struct Strings(BTreeSet<Arc<str>>);

impl Strings {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(s) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&shared));
        shared
    }
}

/// The runner of a binary's observations.
pub(crate) fn runner_of(inv: &Inventory) -> Arc<Runner> {
    Arc::new(Runner {
        program: inv.program.clone(),
        program_version: Some(inv.version.clone()),
        // As `<program>_build_info` and the exporter label it (`-modified` for a build from
        // a changed tree), so that what is said of a binary joins what the fleet publishes.
        revision: inv
            .build
            .as_ref()
            .map(depinfo_read::inventory::BuildFacts::revision_label),
        instance: None,
        job: None,
        path: Some(inv.path.clone()),
        origin: inv.path.as_str().into(),
        instances: 1,
    })
}

/// The packages of binaries (their own package left out).
pub fn from_inventories(inventories: &[Inventory]) -> Vec<Observation> {
    let mut strings = Strings::default();
    let mut out = Vec::new();
    for inv in inventories {
        let runner = runner_of(inv);
        for p in inv.packages.iter().filter(|p| !p.root) {
            out.push(Observation {
                runner: Arc::clone(&runner),
                name: strings.get(&p.name),
                version: strings.get(&p.version),
                source: strings.get(&p.source),
                kind: p.kind,
                direct: Some(p.direct),
            });
        }
    }
    out
}
