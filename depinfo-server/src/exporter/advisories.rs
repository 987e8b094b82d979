//! `--db`: the RustSec advisories of the running programs, with a verdict per program, as
//! `rust_advisory_info` (the labels of `cargo depinfo audit --format prometheus`, plus
//! `revision`), counting this host's processes.
//!
//! - The database is loaded at start, and again on a scan (never on the request path) when
//!   the commit of its directory has changed; a database whose commit cannot be read is
//!   loaded once. A failed reload keeps the database already loaded.
//! - Symbols (and DWARF) are read only for images with findings whose advisories name
//!   functions ([`cargo_depinfo::audit_with`]), and once per image: the scanner keeps one
//!   inventory per image identity (device, inode, size and times), and the verdicts are kept
//!   with it, for as long as the image runs and the functions asked are the same.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use build_info_collector::Family;
use cargo_depinfo::{AuditOptions, Database, audit_with, from_inventories, severity_label};
use depinfo_read::binary_reader::symbols::{FunctionVerdict, function_verdicts};
use depinfo_read::inventory::Inventory;

use super::discovery::{ExeState, HostScan};

/// Where the database is and how old it may be.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdvisoryOptions {
    /// The database's directory (`--db`).
    pub db: PathBuf,
    /// Days after its last commit before each load warns that it is old (`--db-max-age`).
    pub max_age_days: u64,
}

impl AdvisoryOptions {
    /// The database at `db`, old after `max_age_days`.
    pub fn new(db: impl Into<PathBuf>, max_age_days: u64) -> AdvisoryOptions {
        AdvisoryOptions {
            db: db.into(),
            max_age_days,
        }
    }
}

/// The verdicts of one image, for one list of functions.
struct Cached {
    /// Keeps the scanner's inventory (so its address names the same image) alive.
    image: Arc<Inventory>,
    functions: Vec<String>,
    verdicts: Vec<FunctionVerdict>,
}

/// The loaded database and the verdicts of the images still running.
pub struct Advisories {
    options: AdvisoryOptions,
    db: Database,
    cache: BTreeMap<usize, Cached>,
}

impl std::fmt::Debug for Advisories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advisories")
            .field("options", &self.options)
            .field("images_cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

/// Loads the database, with a warning on stderr per advisory that could not be read and when
/// it is old or its age unknown.
fn load(options: &AdvisoryOptions) -> Result<Database, cargo_depinfo::DatabaseError> {
    let (db, errors) = Database::load(&options.db, cargo_depinfo::DbLimits::default())?;
    for e in errors {
        eprintln!(
            "cargo-depinfo exporter: warning: {}",
            cargo_depinfo::printable_line(&e.to_string())
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match db.age_days(now) {
        Some(age) if age > options.max_age_days => eprintln!(
            "cargo-depinfo exporter: warning: the advisory database's last commit is {age} days old (more than --db-max-age {}): update it",
            options.max_age_days
        ),
        Some(_) => {}
        None => eprintln!(
            "cargo-depinfo exporter: warning: the advisory database at {}: its age is unknown",
            cargo_depinfo::printable_line(&db.path.display().to_string())
        ),
    }
    Ok(db)
}

impl Advisories {
    /// Loads the database (an error names its path).
    ///
    /// # Errors
    ///
    /// When the database cannot be used at all (see [`Database::load`]).
    pub fn open(options: AdvisoryOptions) -> Result<Advisories, cargo_depinfo::DatabaseError> {
        let db = load(&options)?;
        Ok(Advisories {
            options,
            db,
            cache: BTreeMap::new(),
        })
    }

    /// Loads the database again when the commit of its directory is not the one loaded.
    fn refresh(&mut self) {
        let Some(head) = Database::head_commit(&self.options.db) else {
            return;
        };
        if self.db.commit.as_ref().is_some_and(|c| c.id == head) {
            return;
        }
        match load(&self.options) {
            Ok(db) => {
                self.db = db;
                // Other advisories may name other functions: nothing cached is reused.
                self.cache.clear();
            }
            Err(e) => eprintln!(
                "cargo-depinfo exporter: the advisory database was not reloaded, the one loaded is kept: {}",
                cargo_depinfo::printable_line(&e.to_string())
            ),
        }
    }

    /// `rust_advisory_info` for the running images of `scan`, and the exporter's count of
    /// symbol reads.
    pub fn families(&mut self, scan: &HostScan) -> [Family<'static>; 2] {
        self.refresh();
        // The running images, once each, with their processes and revision.
        let mut images: BTreeMap<usize, (Arc<Inventory>, u64)> = BTreeMap::new();
        for g in scan
            .groups
            .iter()
            .filter(|g| g.state != ExeState::Installed)
        {
            images
                .entry(Arc::as_ptr(&g.image) as usize)
                .or_insert_with(|| (Arc::clone(&g.image), 0))
                .1 += g.processes;
        }
        let inventories: Vec<Inventory> = images.values().map(|(i, _)| (**i).clone()).collect();
        let by_path: BTreeMap<&str, (usize, &Arc<Inventory>, u64)> = images
            .iter()
            .map(|(ptr, (inv, n))| (inv.path.as_str(), (*ptr, inv, *n)))
            .collect();
        let observations = from_inventories(&inventories);
        let mut options = AuditOptions::default();
        options.add_binaries(&inventories);
        let mut cache = std::mem::take(&mut self.cache);
        let mut kept: BTreeMap<usize, Cached> = BTreeMap::new();
        let mut reads = 0;
        let audit = audit_with(
            &observations,
            &self.db,
            &options,
            &mut |path: &Path, functions: &[&str]| {
                let found = path.to_str().and_then(|p| by_path.get(p));
                let Some(&(ptr, image, _)) = found else {
                    reads += 1;
                    return function_verdicts(path, functions);
                };
                let cached = cache
                    .remove(&ptr)
                    .filter(|c| Arc::ptr_eq(&c.image, image) && c.functions == functions);
                let cached = cached.unwrap_or_else(|| {
                    reads += 1;
                    Cached {
                        image: Arc::clone(image),
                        functions: functions.iter().map(|f| (*f).to_owned()).collect(),
                        verdicts: function_verdicts(path, functions),
                    }
                });
                let verdicts = cached.verdicts.clone();
                kept.insert(ptr, cached);
                verdicts
            },
        );
        // Images with no findings naming functions this time are asked nothing: what they
        // had cached is kept while they run.
        for (ptr, c) in cache {
            if images
                .get(&ptr)
                .is_some_and(|(i, _)| Arc::ptr_eq(i, &c.image))
            {
                kept.entry(ptr).or_insert(c);
            }
        }
        self.cache = kept;
        let mut counts: BTreeMap<[String; 8], u64> = BTreeMap::new();
        for f in audit.vulnerabilities.iter().chain(&audit.informational) {
            let a = f.advisory;
            for b in &f.blasts {
                for r in &b.runners {
                    let Some(&(_, inv, processes)) = r.path.as_deref().and_then(|p| by_path.get(p))
                    else {
                        continue;
                    };
                    let revision = inv.build.as_ref().map_or_else(
                        || buildinfo::UNKNOWN.to_owned(),
                        |b| buildinfo::revision_label(&b.revision, b.modified),
                    );
                    for v in &b.versions {
                        *counts
                            .entry(
                                [
                                    a.id.as_str(),
                                    a.kind(),
                                    a.package.as_str(),
                                    b.program.as_str(),
                                    revision.as_str(),
                                    severity_label(a),
                                    b.judged.verdict.as_str(),
                                    v,
                                ]
                                .map(|s| cargo_depinfo::printable_line(s).into_owned()),
                            )
                            .or_default() += processes;
                    }
                }
            }
        }
        let mut info = Family::gauge(
            "rust_advisory_info",
            "The number of this host's processes of a program and revision running a crate version that a RustSec advisory affects, by verdict.",
        );
        for (values, n) in counts {
            info.push(ADVISORY_LABELS.into_iter().zip(values), n);
        }
        info.sort_series();
        let mut read = Family::gauge(
            "cargo_depinfo_exporter_symbol_reads",
            "Images whose symbols (and debug information) the last scan read for advisory verdicts (the others' verdicts were known from earlier scans).",
        );
        read.push(std::iter::empty::<(&str, &str)>(), reads);
        [info, read]
    }
}

/// The label names of `rust_advisory_info`, sorted.
const ADVISORY_LABELS: [&str; 8] = [
    "advisory", "kind", "name", "program", "revision", "severity", "verdict", "version",
];
