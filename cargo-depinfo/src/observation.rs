//! The one model every question reads: one program (a binary, or an instance of a service)
//! running one version of one crate. Every source turns what it read into observations.

use serde::Serialize;

use crate::inventory::{Inventory, Kind};

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
    /// `host:port` of the instance (network sources).
    pub instance: Option<String>,
    /// The Prometheus `job` (`--prometheus` only).
    pub job: Option<String>,
    /// The binary (binaries only).
    pub path: Option<String>,
    /// The input this came from: a path, a `/metrics` URL or a Prometheus URL.
    pub origin: String,
}

impl Runner {
    /// Where it runs: the instance, else the binary, else the input.
    pub fn location(&self) -> &str {
        self.instance
            .as_deref()
            .or(self.path.as_deref())
            .unwrap_or(&self.origin)
    }
}

/// One program (a binary, or an instance of a service) running one version of one crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Observation {
    /// Who runs it.
    #[serde(flatten)]
    pub runner: Runner,
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// Where the crate came from (`crates.io`, `registry`, `git`, `local`).
    pub source: String,
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

/// The packages of binaries (their own package left out).
pub fn from_inventories(inventories: &[Inventory]) -> Vec<Observation> {
    let mut out = Vec::new();
    for inv in inventories {
        let revision = inv.build.as_ref().map(|b| b.revision.clone());
        for p in inv.packages.iter().filter(|p| !p.root) {
            out.push(Observation {
                runner: Runner {
                    program: inv.program.clone(),
                    program_version: Some(inv.version.clone()),
                    revision: revision.clone(),
                    instance: None,
                    job: None,
                    path: Some(inv.path.clone()),
                    origin: inv.path.clone(),
                },
                name: p.name.clone(),
                version: p.version.clone(),
                source: p.source.clone(),
                kind: p.kind,
                direct: Some(p.direct),
            });
        }
    }
    out
}
