//! `cargo depinfo audit`: which programs, and which instances of them, run a crate version
//! that a RustSec advisory affects, with cargo-audit's rules: crates from crates.io only (an
//! advisory's default source; advisories that name another registry are not matched; a fleet
//! source that does not say where a crate came from counts as crates.io), names
//! compared exactly, RustSec's version rule, `affected.os`/`arch` checked when the program's
//! target is known (it applies otherwise), withdrawn advisories skipped, ignored ids dropped,
//! and informational advisories (unmaintained, unsound, notice) answered apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::advisories::{Advisory, Database};
use crate::observation::{Observation, Runner};
use depinfo_read::binary_reader::BinaryFormat;
use depinfo_read::binary_reader::symbols::{FunctionVerdict, function_verdicts};
use depinfo_read::inventory::Inventory;

/// What the audit is told besides the observations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditOptions {
    /// Advisory ids to leave out (`--ignore`, `audit.toml`).
    pub ignore: Vec<String>,
    /// The platform of each binary read ([`AuditOptions::add_binaries`]), by the path its
    /// observations' runner carries. Fleets have none: every advisory applies to them.
    platforms: BTreeMap<String, Platform>,
    /// Verdicts computed where the binary is and published (`rust_advisory_info` with a
    /// `verdict`, from the exporter or from `audit --format prometheus` in CI), by program,
    /// revision and advisory: used for instances read through Prometheus, whose binary is not
    /// at hand ([`AuditOptions::add_published`]).
    published: BTreeMap<(String, String, String), Verdict>,
}

impl AuditOptions {
    /// A verdict published for `advisory` on `program` at `revision`. Used only for instances
    /// of the same program and revision whose binary is not at hand; never for an unknown
    /// revision (builds without one cannot be told apart). Of several verdicts for one key,
    /// the first in [`Verdict`]'s order is kept (`present` wins).
    pub fn add_published(
        &mut self,
        program: &str,
        revision: &str,
        advisory: &str,
        verdict: Verdict,
    ) {
        if revision.is_empty() || revision == buildinfo::UNKNOWN {
            return;
        }
        let key = (program.to_owned(), revision.to_owned(), advisory.to_owned());
        let slot = self.published.entry(key).or_insert(verdict);
        *slot = (*slot).min(verdict);
    }

    /// Learns each binary's platform from its data, so that advisories limited to other
    /// operating systems, architectures or formats leave it out.
    pub fn add_binaries(&mut self, inventories: &[Inventory]) {
        for inv in inventories {
            self.platforms.insert(inv.path.clone(), Platform::of(inv));
        }
    }
}

/// What the audit knows of one binary's platform: what cargo-audit checks an advisory's
/// `affected.os`, `affected.arch` and format against. Each is `None` where the data does not
/// say it, and an advisory then applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Platform {
    /// Rust's `target_os` of its target triple.
    os: Option<&'static str>,
    /// Rust's `target_arch` of its target triple.
    arch: Option<&'static str>,
    /// The container format: an advisory limited to operating systems none of which runs
    /// that format does not apply (cargo-audit's rule for binaries).
    format: Option<BinaryFormat>,
}

impl Platform {
    /// A binary's platform: the target triple that build-info's data carries (cargo-auditable's
    /// does not), and the format it was read in.
    fn of(inv: &Inventory) -> Platform {
        let target = inv
            .build
            .as_ref()
            .map(|b| b.target.as_str())
            .filter(|t| !t.is_empty() && *t != buildinfo::UNKNOWN);
        Platform::of_target(target, inv.format)
    }

    fn of_target(target: Option<&str>, format: Option<BinaryFormat>) -> Platform {
        let (os, arch) = target.map_or((None, None), target_os_arch);
        Platform { os, arch, format }
    }

    /// Whether `advisory` applies to a binary on this platform.
    fn admits(self, advisory: &Advisory) -> bool {
        advisory.applies_to(self.os, self.arch)
            && self.format.is_none_or(|f| advisory.runs_on_format(f))
    }
}

/// Whether the functions an advisory names are in a binary, in the order findings are listed.
///
/// - `Present`: a function the advisory names is in the binary's symbols;
/// - `Unknown`: nothing can be said (stripped, no match in the symbols, the advisory names no
///   functions, or the binary is not at hand: read through Prometheus or a `/metrics` page);
/// - `NotFound`: not found in the debug information. Only DWARF gives it, never symbols
///   alone, and it is not a proof that the binary is not affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// A function the advisory names is in the binary.
    Present,
    /// Cannot be said.
    Unknown,
    /// Every function the advisory names was looked for in debug information that covers its
    /// crate, and none was found.
    NotFound,
}

impl Verdict {
    /// `present`, `unknown` or `not-found`: the word every output uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Present => "present",
            Verdict::Unknown => "unknown",
            Verdict::NotFound => "not-found",
        }
    }
}

/// A verdict with what supports it: the matched symbol (`present`) or the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Judged {
    /// The verdict.
    pub verdict: Verdict,
    /// For `present`, the function and the symbol that matched it
    /// (`tar::Archive::unpack: <tar::Archive<R>>::unpack`); else why, in one line.
    pub detail: String,
}

impl Judged {
    fn unknown(detail: impl Into<String>) -> Judged {
        Judged {
            verdict: Verdict::Unknown,
            detail: detail.into(),
        }
    }
}

/// What an advisory naming no functions is told.
pub const NO_FUNCTIONS: &str = "the advisory names no functions";

/// The rule that combines the verdicts of an advisory's functions (`functions[i]` answered by
/// `verdicts[i]`): `present` if any function is present (the first such names its symbol),
/// `not-found` if every one is not found, else `unknown` (with the first reason); no function
/// What a not-found verdict says, in every output: what was searched, never "not affected".
const NOT_FOUND_WORDS: &str = "not found in the debug information";

/// at all is `unknown`.
pub fn combine(functions: &[&str], verdicts: &[&FunctionVerdict]) -> Judged {
    if verdicts.is_empty() {
        return Judged::unknown(NO_FUNCTIONS);
    }
    for (f, v) in functions.iter().zip(verdicts) {
        if let FunctionVerdict::Present { symbol } = v {
            return Judged {
                verdict: Verdict::Present,
                detail: format!("{f}: {symbol}"),
            };
        }
    }
    if verdicts
        .iter()
        .all(|v| matches!(v, FunctionVerdict::NotFound { .. }))
    {
        let detail = match verdicts[0] {
            FunctionVerdict::NotFound { reason } => reason.clone(),
            _ => String::new(),
        };
        // The words say exactly what was searched, never "not affected": the reader's own
        // reason says it already, else it is said here.
        return Judged {
            verdict: Verdict::NotFound,
            detail: if detail.contains(NOT_FOUND_WORDS) {
                detail
            } else {
                format!("{NOT_FOUND_WORDS}: {detail}")
            },
        };
    }
    let reason = verdicts
        .iter()
        .find_map(|v| match v {
            FunctionVerdict::Unknown { reason } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Judged::unknown(reason)
}

/// What a binary is told when none of the functions an advisory names is listed as affected
/// in the versions it runs.
pub const NO_FUNCTIONS_IN_VERSION: &str =
    "none of the functions the advisory names is listed as affected in the version running";

/// The functions of `advisory` affected in any of `versions` ([`Advisory::functions_in`]);
/// a version that is not SemVer counts every function.
fn functions_for<'db, 'v>(
    advisory: &'db Advisory,
    versions: impl IntoIterator<Item = &'v str>,
) -> BTreeSet<&'db str> {
    let mut out = BTreeSet::new();
    for v in versions {
        match semver::Version::parse(v) {
            Ok(v) => out.extend(advisory.functions_in(&v)),
            Err(_) => out.extend(advisory.functions.keys().map(String::as_str)),
        }
    }
    out
}

/// Why a runner that is not a binary on disk gets `unknown`.
fn not_at_hand(r: &Runner) -> String {
    let how = if r.job.is_some() {
        "read through Prometheus"
    } else {
        "read from a /metrics page"
    };
    format!("the binary is not at hand: {how}")
}

/// The verdict published for `runner`'s program and revision on `advisory`, if any.
fn published(options: &AuditOptions, runner: &Runner, advisory: &str) -> Option<Judged> {
    let revision = runner.revision.as_deref()?;
    let key = (
        runner.program.clone(),
        revision.to_owned(),
        advisory.to_owned(),
    );
    let verdict = *options.published.get(&key)?;
    Some(Judged {
        verdict,
        detail: format!(
            "published for {} revision {revision}, where the binary is",
            runner.program
        ),
    })
}

/// The programs that run an affected version of a crate with the same list of such versions
/// and the same verdict for the same reason: one line of the blast radius, with every instance it has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Blast {
    /// The program.
    pub program: String,
    /// The affected versions of the crate it runs, sorted.
    pub versions: Vec<Arc<str>>,
    /// Each instance (or binary) running them, sorted by location.
    pub runners: Vec<Arc<Runner>>,
    /// Whether the advisory's functions are in them, with the symbol or the reason (without
    /// the binary's path, which `runners` say).
    pub judged: Judged,
}

/// One advisory and who runs what it affects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Finding<'db> {
    /// The advisory.
    pub advisory: &'db Advisory,
    /// Who runs it, by program and version list, sorted.
    pub blasts: Vec<Blast>,
}

impl Finding<'_> {
    /// Every distinct affected version, sorted.
    pub fn versions(&self) -> Vec<Arc<str>> {
        let set: BTreeSet<&Arc<str>> = self.blasts.iter().flat_map(|b| &b.versions).collect();
        set.into_iter().cloned().collect()
    }

    /// How many instances (or binaries) run it.
    pub fn instances(&self) -> usize {
        self.blasts.iter().map(|b| b.runners.len()).sum()
    }

    /// The finding's verdict: the first of its blasts' in [`Verdict`]'s order (`present` if
    /// any blast is present, `not-found` only if every one is).
    pub fn verdict(&self) -> Verdict {
        self.blasts
            .iter()
            .map(|b| b.judged.verdict)
            .min()
            .unwrap_or(Verdict::Unknown)
    }

    /// How many instances (or binaries) have each verdict: present, unknown, not-found.
    pub fn verdict_counts(&self) -> [usize; 3] {
        let mut counts = [0; 3];
        for b in &self.blasts {
            counts[b.judged.verdict as usize] += b.runners.len();
        }
        counts
    }

    /// Whether the finding makes the audit fail: always, unless `ignore_not_found` and every
    /// blast is `not-found`.
    pub fn fails(&self, ignore_not_found: bool) -> bool {
        !(ignore_not_found && self.verdict() == Verdict::NotFound)
    }
}

/// The audit's answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Audit<'db> {
    /// Vulnerabilities (advisories without an `informational` kind), sorted by id.
    pub vulnerabilities: Vec<Finding<'db>>,
    /// Informational advisories (unmaintained, unsound, notice), sorted by id.
    pub informational: Vec<Finding<'db>>,
    /// Observations of crates with advisories whose version is not SemVer: they cannot be
    /// judged, so an answer with any is not clean.
    pub unjudged: Vec<Observation>,
    /// Every program instance (or binary) read, sorted: the targets of the audit.
    pub runners: Vec<Arc<Runner>>,
}

/// The informational kinds cargo-audit reports (others are left out, as it does).
pub const INFORMATIONAL_KINDS: [&str; 3] = ["notice", "unmaintained", "unsound"];

/// What identifies a program instance: where it runs and which program it is (two sources may
/// see the same instance).
type RunnerKey = (String, String);

/// A program and the affected versions it runs: what one line of a blast radius shares.
type BlastKey<'a> = (&'a str, Vec<Arc<str>>);

fn runner_key(r: &Runner) -> RunnerKey {
    (r.location().to_owned(), r.program.clone())
}

/// Rust's `target_os` and `target_arch` of a target triple, where the triple says them
/// plainly (`None` for what it does not).
pub fn target_os_arch(triple: &str) -> (Option<&'static str>, Option<&'static str>) {
    let arch_part = triple.split('-').next().unwrap_or("");
    let arch = match arch_part {
        "x86_64" | "x86_64h" => Some("x86_64"),
        "i386" | "i586" | "i686" => Some("x86"),
        "aarch64" | "arm64" | "arm64e" => Some("aarch64"),
        "riscv64gc" | "riscv64imac" => Some("riscv64"),
        "riscv32i" | "riscv32imc" | "riscv32imac" => Some("riscv32"),
        "powerpc64" | "powerpc64le" => Some("powerpc64"),
        "powerpc" => Some("powerpc"),
        "s390x" => Some("s390x"),
        "wasm32" | "wasm32v1" => Some("wasm32"),
        "wasm64" => Some("wasm64"),
        "loongarch64" => Some("loongarch64"),
        "sparc64" => Some("sparc64"),
        "mips" | "mipsel" => Some("mips"),
        "mips64" | "mips64el" => Some("mips64"),
        a if a.starts_with("arm") || a.starts_with("thumb") => Some("arm"),
        _ => None,
    };
    let has = |part: &str| triple.split('-').skip(1).any(|p| p == part);
    let wasm = matches!(arch, Some("wasm32" | "wasm64"));
    let os = if wasm {
        // Rust's Wasm targets: `wasm32-wasip1`, `wasm32-wasip2` and `wasm32-wasi` are `wasi`;
        // `wasm32-unknown-unknown` is `unknown`; `wasm32v1-none` is `none`.
        let os_part = triple.split('-').next_back().unwrap_or("");
        if os_part.starts_with("wasi") {
            Some("wasi")
        } else if has("emscripten") {
            Some("emscripten")
        } else if has("none") {
            Some("none")
        } else if triple.split('-').count() == 3 && os_part == "unknown" {
            Some("unknown")
        } else {
            None
        }
    } else if has("android") || has("androideabi") {
        Some("android")
    } else if has("linux") {
        Some("linux")
    } else if has("windows") {
        Some("windows")
    } else if has("darwin") || has("macos") {
        Some("macos")
    } else if has("ios") {
        Some("ios")
    } else {
        [
            "freebsd",
            "netbsd",
            "openbsd",
            "dragonfly",
            "illumos",
            "solaris",
            "fuchsia",
            "redox",
            "haiku",
            "wasi",
        ]
        .into_iter()
        .find(|os| has(os))
        .or_else(|| has("none").then_some("none"))
    };
    (os, arch)
}

/// The programs' own packages, as observations: cargo-audit checks a binary's root package
/// too (a program installed from crates.io can itself be the subject of an advisory), while
/// the fleet questions leave it out. Each shares the runner of the binary's other
/// observations; a binary without any (no dependencies at all) gets its own runner, so that it
/// is still audited and counted.
pub fn root_observations(
    inventories: &[Inventory],
    observations: &[Observation],
) -> Vec<Observation> {
    let runners: BTreeMap<&str, &Arc<Runner>> = observations
        .iter()
        .filter_map(|o| Some((o.runner.path.as_deref()?, &o.runner)))
        .collect();
    let mut out = Vec::new();
    for inv in inventories {
        let runner = runners
            .get(inv.path.as_str())
            .map_or_else(|| crate::observation::runner_of(inv), |r| Arc::clone(r));
        for p in inv.packages.iter().filter(|p| p.root) {
            out.push(Observation {
                runner: Arc::clone(&runner),
                name: Arc::from(p.name.as_str()),
                version: Arc::from(p.version.as_str()),
                source: Arc::from(p.source.as_str()),
                kind: p.kind,
                direct: None,
            });
        }
    }
    out
}

/// Matches the observations against the database, with a verdict for each binary read from
/// its symbols ([`function_verdicts`]).
pub fn audit<'db>(
    observations: &[Observation],
    db: &'db Database,
    options: &AuditOptions,
) -> Audit<'db> {
    audit_with(observations, db, options, &mut |path, functions| {
        function_verdicts(path, functions)
    })
}

/// [`audit`] with the symbol reader `read`: called once per binary on disk (a runner with a
/// path) that has findings whose advisories name functions, with every function of those
/// advisories affected in the versions it runs ([`Advisory::functions_in`]; sorted, once
/// each), and never for any other binary.
pub fn audit_with<'db>(
    observations: &[Observation],
    db: &'db Database,
    options: &AuditOptions,
    read: &mut dyn FnMut(&Path, &[&str]) -> Vec<FunctionVerdict>,
) -> Audit<'db> {
    // Each instance once, with the most detail any source gave about it. Observations of one
    // instance share their runner: its identity is looked up once per shared runner.
    let mut slot_of_runner: BTreeMap<usize, usize> = BTreeMap::new();
    let mut slot_of_key: BTreeMap<RunnerKey, usize> = BTreeMap::new();
    let mut unique: Vec<Arc<Runner>> = Vec::new();
    let ignored: BTreeSet<&str> = options.ignore.iter().map(String::as_str).collect();
    let mut parsed: BTreeMap<&str, Option<semver::Version>> = BTreeMap::new();
    // (advisory index, runner slot, version): one per affected observation.
    let mut hits: Vec<(usize, usize, Arc<str>)> = Vec::new();
    let mut unjudged: BTreeMap<(RunnerKey, Arc<str>, Arc<str>), Observation> = BTreeMap::new();
    for o in observations {
        let slot = *slot_of_runner
            .entry(Arc::as_ptr(&o.runner) as usize)
            .or_insert_with(|| {
                let slot = *slot_of_key.entry(runner_key(&o.runner)).or_insert_with(|| {
                    unique.push(Arc::clone(&o.runner));
                    unique.len() - 1
                });
                if o.runner > unique[slot] {
                    unique[slot] = Arc::clone(&o.runner);
                }
                slot
            });
        // A page without a `source` label says `unknown`: it may well be crates.io, and
        // unknown is never clean.
        if !matches!(&*o.source, "crates.io" | buildinfo::UNKNOWN) {
            continue;
        }
        let mut candidates = db
            .indexed_for_package(&o.name)
            .filter(|(_, a)| {
                a.withdrawn.is_none()
                    && a.source.is_none()
                    && !ignored.contains(a.id.as_str())
                    && a.informational
                        .as_deref()
                        .is_none_or(|k| INFORMATIONAL_KINDS.contains(&k))
            })
            .peekable();
        if candidates.peek().is_none() {
            continue;
        }
        let version = parsed
            .entry(&o.version)
            .or_insert_with(|| semver::Version::parse(&o.version).ok());
        let Some(version) = version else {
            unjudged
                .entry((
                    runner_key(&o.runner),
                    Arc::clone(&o.name),
                    Arc::clone(&o.version),
                ))
                .or_insert_with(|| o.clone());
            continue;
        };
        let platform = o
            .runner
            .path
            .as_ref()
            .and_then(|p| options.platforms.get(p))
            .copied()
            .unwrap_or_default();
        for (index, a) in candidates {
            if platform.admits(a) && a.affects(version) {
                hits.push((index, slot, Arc::clone(&o.version)));
            }
        }
    }
    // Slots renumbered in the order of their keys (location, program): the output's order.
    let mut rank = vec![0; unique.len()];
    for (r, &slot) in slot_of_key.values().enumerate() {
        rank[slot] = r;
    }
    let runners: Vec<Arc<Runner>> = slot_of_key
        .values()
        .map(|&slot| Arc::clone(&unique[slot]))
        .collect();
    for hit in &mut hits {
        hit.1 = rank[hit.1];
    }
    hits.sort_unstable();
    hits.dedup();
    let symbols = read_symbols(&hits, &runners, db, read);
    let mut vulnerabilities = Vec::new();
    let mut informational = Vec::new();
    for per_advisory in hits.chunk_by(|a, b| a.0 == b.0) {
        let advisory = &db.advisories()[per_advisory[0].0];
        // (verdict, program, versions, detail) → runners, in key order: present first.
        let mut blasts: BTreeMap<(Judged, BlastKey<'_>), Vec<Arc<Runner>>> = BTreeMap::new();
        for per_runner in per_advisory.chunk_by(|a, b| a.1 == b.1) {
            let runner = &runners[per_runner[0].1];
            let versions: Vec<Arc<str>> = per_runner.iter().map(|h| Arc::clone(&h.2)).collect();
            let functions: Vec<&str> = functions_for(advisory, versions.iter().map(|v| &**v))
                .into_iter()
                .collect();
            let answers = symbols.get(&per_runner[0].1);
            let judged = if advisory.functions.is_empty() {
                Judged::unknown(NO_FUNCTIONS)
            } else if runner.path.is_none() {
                published(options, runner, &advisory.id)
                    .unwrap_or_else(|| Judged::unknown(not_at_hand(runner)))
            } else if functions.is_empty() {
                Judged::unknown(NO_FUNCTIONS_IN_VERSION)
            } else if let Some(answers) = answers {
                let verdicts: Vec<&FunctionVerdict> =
                    functions.iter().filter_map(|f| answers.get(f)).collect();
                combine(&functions, &verdicts)
            } else {
                Judged::unknown("its symbols were not read")
            };
            blasts
                .entry((judged, (&runner.program, versions)))
                .or_default()
                .push(Arc::clone(runner));
        }
        let finding = Finding {
            advisory,
            blasts: blasts
                .into_iter()
                .map(|((judged, (program, versions)), runners)| Blast {
                    program: program.to_owned(),
                    versions,
                    runners,
                    judged,
                })
                .collect(),
        };
        if advisory.informational.is_some() {
            informational.push(finding);
        } else {
            vulnerabilities.push(finding);
        }
    }
    // Present first, then unknown, then not-found; by id within each (the database's order).
    vulnerabilities.sort_by_key(Finding::verdict);
    informational.sort_by_key(Finding::verdict);
    Audit {
        vulnerabilities,
        informational,
        unjudged: unjudged.into_values().collect(),
        runners,
    }
}

/// Each binary's answers (runner slot → function → verdict): `read` is called once per
/// binary on disk with findings whose advisories name functions, with all their functions.
fn read_symbols<'db>(
    hits: &[(usize, usize, Arc<str>)],
    runners: &[Arc<Runner>],
    db: &'db Database,
    read: &mut dyn FnMut(&Path, &[&str]) -> Vec<FunctionVerdict>,
) -> BTreeMap<usize, BTreeMap<&'db str, FunctionVerdict>> {
    let mut wanted: BTreeMap<usize, BTreeSet<&'db str>> = BTreeMap::new();
    for (index, slot, version) in hits {
        let advisory = &db.advisories()[*index];
        if runners[*slot].path.is_some() && !advisory.functions.is_empty() {
            let functions = functions_for(advisory, [&**version]);
            if !functions.is_empty() {
                wanted.entry(*slot).or_default().extend(functions);
            }
        }
    }
    let mut out = BTreeMap::new();
    for (slot, functions) in wanted {
        let Some(path) = &runners[slot].path else {
            continue;
        };
        let functions: Vec<&str> = functions.into_iter().collect();
        // The reader's reasons start with the binary's path, which the blast's locations
        // already say: without it, binaries with one reason share a line.
        let prefix = format!("{}: ", Path::new(path).display());
        let answers = read(Path::new(path), &functions)
            .into_iter()
            .map(|v| match v {
                FunctionVerdict::Unknown { reason } => FunctionVerdict::Unknown {
                    reason: reason.strip_prefix(&prefix).unwrap_or(&reason).to_owned(),
                },
                FunctionVerdict::NotFound { reason } => FunctionVerdict::NotFound {
                    reason: reason.strip_prefix(&prefix).unwrap_or(&reason).to_owned(),
                },
                other => other,
            });
        out.insert(slot, functions.into_iter().zip(answers).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Database {
        let file = |id: &str, package: &str, extra: &str, patched: &str| {
            format!(
                "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\n{extra}\n[versions]\npatched = [{patched}]\n```\n\n# {id}\n"
            )
        };
        let advisories = [
            file("RUSTSEC-2099-0001", "hyper", "", "\">= 1.0.0\""),
            file(
                "RUSTSEC-2099-0002",
                "hyper",
                "[affected]\nos = [\"windows\"]",
                "\">= 1.0.0\"",
            ),
            file(
                "RUSTSEC-2099-0003",
                "hyper",
                "informational = \"other\"",
                "",
            ),
        ]
        .iter()
        .map(|t| Advisory::parse(t).unwrap())
        .collect();
        Database::new("db".into(), None, advisories)
    }

    fn observation(
        program: &str,
        path: Option<&str>,
        instance: Option<&str>,
        version: &str,
    ) -> Observation {
        Observation {
            runner: Arc::new(Runner {
                program: program.into(),
                program_version: None,
                revision: None,
                instance: instance.map(Arc::from),
                job: None,
                path: path.map(str::to_owned),
                origin: "origin".into(),
                instances: 1,
            }),
            name: "hyper".into(),
            version: version.into(),
            source: "crates.io".into(),
            kind: depinfo_read::inventory::Kind::Runtime,
            direct: Some(true),
        }
    }

    /// Advisory id → (program → locations).
    type Summary = Vec<(String, Vec<(String, Vec<String>)>)>;

    #[test]
    fn targets_pre_releases_duplicates_and_unjudged_versions() {
        let db = db();
        let observations = vec![
            // A Linux binary: the Windows-only advisory does not apply.
            observation("linux-app", Some("bin/linux-app"), None, "0.9.0"),
            // A Windows binary: both apply.
            observation("win-app", Some("bin/win-app"), None, "0.9.0"),
            // An instance seen twice (two sources), on a pre-release of the patched version:
            // below 1.0.0 by precedence, so affected (Cargo's rule would say otherwise).
            observation("web", None, Some("10.0.0.1:80"), "1.0.0-rc.1"),
            observation("web", None, Some("10.0.0.1:80"), "1.0.0-rc.1"),
            // No source known (a page without the label): matched as crates.io.
            Observation {
                source: "unknown".into(),
                ..observation("other", None, Some("10.0.0.4:80"), "0.1.0")
            },
            // From git: not the crates.io crate the advisories are about.
            Observation {
                source: "git".into(),
                ..observation("gitted", None, Some("10.0.0.5:80"), "0.1.0")
            },
            // Patched, and not SemVer.
            observation("web", None, Some("10.0.0.2:80"), "1.0.0"),
            observation("web", None, Some("10.0.0.3:80"), "v0.9"),
        ];
        let mut options = AuditOptions::default();
        for (path, target) in [
            ("bin/linux-app", "x86_64-unknown-linux-gnu"),
            ("bin/win-app", "x86_64-pc-windows-msvc"),
        ] {
            options
                .platforms
                .insert(path.into(), Platform::of_target(Some(target), None));
        }
        let answer = audit(&observations, &db, &options);
        let summary: Summary = answer
            .vulnerabilities
            .iter()
            .map(|f| {
                (
                    f.advisory.id.clone(),
                    f.blasts
                        .iter()
                        .map(|b| {
                            (
                                b.program.clone(),
                                b.runners.iter().map(|r| r.location().to_owned()).collect(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            summary,
            [
                (
                    s("RUSTSEC-2099-0001"),
                    vec![
                        (s("linux-app"), vec![s("bin/linux-app")]),
                        (s("other"), vec![s("10.0.0.4:80")]),
                        (s("web"), vec![s("10.0.0.1:80")]),
                        (s("win-app"), vec![s("bin/win-app")]),
                    ]
                ),
                (
                    s("RUSTSEC-2099-0002"),
                    vec![
                        (s("other"), vec![s("10.0.0.4:80")]),
                        (s("web"), vec![s("10.0.0.1:80")]),
                        (s("win-app"), vec![s("bin/win-app")]),
                    ]
                ),
            ]
        );
        // Informational kinds cargo-audit does not report are left out.
        assert!(answer.informational.is_empty());
        assert_eq!(answer.unjudged.len(), 1);
        assert_eq!(&*answer.unjudged[0].version, "v0.9");
        assert_eq!(answer.runners.len(), 7);
        // Ignored ids are dropped.
        options.ignore = vec!["RUSTSEC-2099-0001".into()];
        let answer = audit(&observations, &db, &options);
        assert_eq!(answer.vulnerabilities.len(), 1);
        assert_eq!(answer.vulnerabilities[0].advisory.id, "RUSTSEC-2099-0002");
    }

    /// Where the target is unknown, the format decides (a Windows-only advisory is not about
    /// an ELF program); a binary the options do not know, or no format, admits every advisory.
    #[test]
    fn formats_decide_where_the_target_is_unknown() {
        let db = db();
        let observations = vec![
            observation("elf-app", Some("bin/elf-app"), None, "0.9.0"),
            observation("pe-app", Some("bin/pe-app"), None, "0.9.0"),
            observation("unread", Some("bin/unread"), None, "0.9.0"),
        ];
        let mut options = AuditOptions::default();
        for (path, format) in [
            ("bin/elf-app", BinaryFormat::Elf),
            ("bin/pe-app", BinaryFormat::Pe),
        ] {
            options
                .platforms
                .insert(path.into(), Platform::of_target(None, Some(format)));
        }
        let answer = audit(&observations, &db, &options);
        let windows_only: Vec<&str> = answer
            .vulnerabilities
            .iter()
            .filter(|f| f.advisory.id == "RUSTSEC-2099-0002")
            .flat_map(|f| f.blasts.iter().map(|b| b.program.as_str()))
            .collect();
        assert_eq!(windows_only, ["pe-app", "unread"]);
        assert_eq!(answer.vulnerabilities[0].instances(), 3);
    }

    fn present(symbol: &str) -> FunctionVerdict {
        FunctionVerdict::Present {
            symbol: symbol.into(),
        }
    }

    fn not_found(reason: &str) -> FunctionVerdict {
        FunctionVerdict::NotFound {
            reason: reason.into(),
        }
    }

    fn unknown(reason: &str) -> FunctionVerdict {
        FunctionVerdict::Unknown {
            reason: reason.into(),
        }
    }

    /// Any present wins; not-found only when every function is; unknown otherwise and for an
    /// advisory that names no functions.
    #[test]
    fn the_combination_rule() {
        let fs = ["c::a", "c::b"];
        let judge = |vs: &[FunctionVerdict]| combine(&fs, &vs.iter().collect::<Vec<_>>());
        let p = judge(&[unknown("u"), present("<c::B>::b")]);
        assert_eq!(
            (p.verdict, p.detail.as_str()),
            (Verdict::Present, "c::b: <c::B>::b")
        );
        assert_eq!(
            judge(&[not_found("n"), present("c::a")]).verdict,
            Verdict::Present
        );
        let n = judge(&[not_found("DWARF of c"), not_found("DWARF of c")]);
        assert_eq!(n.verdict, Verdict::NotFound);
        assert_eq!(n.detail, "not found in the debug information: DWARF of c");
        let u = judge(&[not_found("n"), unknown("stripped")]);
        assert_eq!(
            (u.verdict, u.detail.as_str()),
            (Verdict::Unknown, "stripped")
        );
        assert_eq!(judge(&[unknown("a"), unknown("b")]).detail, "a");
        assert_eq!(combine(&[], &[]), Judged::unknown(NO_FUNCTIONS));
        // The order findings are listed in.
        assert!(Verdict::Present < Verdict::Unknown && Verdict::Unknown < Verdict::NotFound);
        assert_eq!(
            [Verdict::Present, Verdict::Unknown, Verdict::NotFound].map(Verdict::as_str),
            ["present", "unknown", "not-found"]
        );
    }

    /// A blast as (program, verdict, detail).
    type BlastSummary<'a> = (&'a str, Verdict, &'a str);

    /// A database of three vulnerabilities that name functions and one that names none.
    fn functions_db() -> Database {
        let file = |id: &str, package: &str, functions: &str| {
            format!(
                "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\n{functions}\n[versions]\npatched = [\">= 1.0.0\"]\n```\n\n# {id}\n"
            )
        };
        let advisories = [
            file(
                "RUSTSEC-2099-0001",
                "alpha",
                "[affected.functions]\n\"alpha::open\" = [\"< 1.0.0\"]\n\"alpha::close\" = [\"< 1.0.0\"]",
            ),
            file(
                "RUSTSEC-2099-0002",
                "alpha",
                "[affected.functions]\n\"alpha::open\" = [\"< 1.0.0\"]\n\"alpha::seek\" = [\"< 1.0.0\"]",
            ),
            file("RUSTSEC-2099-0003", "beta", ""),
            file(
                "RUSTSEC-2099-0004",
                "gamma",
                "[affected.functions]\n\"gamma::parse\" = [\"< 1.0.0\"]",
            ),
        ]
        .iter()
        .map(|t| Advisory::parse(t).unwrap())
        .collect();
        Database::new("db".into(), None, advisories)
    }

    fn of(name: &str, o: Observation) -> Observation {
        Observation {
            name: name.into(),
            ..o
        }
    }

    /// Symbols are read once per binary with findings whose advisories name functions, with
    /// all their functions; never for a binary whose only finding names none, nor for an
    /// instance (not at hand: unknown). Findings are listed present first, then unknown,
    /// then not-found, and only not-found ones can be let through.
    #[test]
    fn verdicts_are_read_once_per_binary_and_ordered() {
        let db = functions_db();
        let observations = vec![
            // `calls` has alpha (0001, 0002) and gamma (0004): one read, four functions.
            of(
                "alpha",
                observation("calls", Some("bin/calls"), None, "0.9.0"),
            ),
            of(
                "gamma",
                observation("calls", Some("bin/calls"), None, "0.9.0"),
            ),
            // `plain` has only beta, whose advisory names no functions: never read.
            of(
                "beta",
                observation("plain", Some("bin/plain"), None, "0.9.0"),
            ),
            // `lean` has gamma: its DWARF says not found.
            of(
                "gamma",
                observation("lean", Some("bin/lean"), None, "0.9.0"),
            ),
            // An instance: not at hand.
            of(
                "alpha",
                observation("web", None, Some("10.0.0.1:80"), "0.9.0"),
            ),
        ];
        let mut calls: Vec<(String, Vec<String>)> = Vec::new();
        let answer = audit_with(
            &observations,
            &db,
            &AuditOptions::default(),
            &mut |path, functions| {
                calls.push((
                    path.display().to_string(),
                    functions.iter().map(|f| (*f).to_owned()).collect(),
                ));
                functions
                    .iter()
                    .map(|f| match (path.to_str().unwrap(), *f) {
                        ("bin/calls", "alpha::seek") => present("<alpha::File>::seek"),
                        ("bin/calls", _) => unknown("bin/calls: not matched"),
                        (_, _) => not_found("bin/lean: DWARF covers gamma"),
                    })
                    .collect()
            },
        );
        calls.sort();
        assert_eq!(
            calls,
            [
                (
                    "bin/calls".to_owned(),
                    ["alpha::close", "alpha::open", "alpha::seek", "gamma::parse"]
                        .map(str::to_owned)
                        .to_vec()
                ),
                ("bin/lean".to_owned(), vec!["gamma::parse".to_owned()]),
            ]
        );
        let summary: Vec<(&str, Verdict, Vec<BlastSummary<'_>>)> = answer
            .vulnerabilities
            .iter()
            .map(|f| {
                (
                    f.advisory.id.as_str(),
                    f.verdict(),
                    f.blasts
                        .iter()
                        .map(|b| {
                            (
                                b.program.as_str(),
                                b.judged.verdict,
                                b.judged.detail.as_str(),
                            )
                        })
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "RUSTSEC-2099-0002",
                    Verdict::Present,
                    vec![
                        (
                            "calls",
                            Verdict::Present,
                            "alpha::seek: <alpha::File>::seek"
                        ),
                        (
                            "web",
                            Verdict::Unknown,
                            "the binary is not at hand: read from a /metrics page"
                        ),
                    ]
                ),
                (
                    "RUSTSEC-2099-0001",
                    Verdict::Unknown,
                    vec![
                        ("calls", Verdict::Unknown, "not matched"),
                        (
                            "web",
                            Verdict::Unknown,
                            "the binary is not at hand: read from a /metrics page"
                        ),
                    ]
                ),
                (
                    "RUSTSEC-2099-0003",
                    Verdict::Unknown,
                    vec![("plain", Verdict::Unknown, NO_FUNCTIONS)]
                ),
                (
                    "RUSTSEC-2099-0004",
                    Verdict::Unknown,
                    vec![
                        ("calls", Verdict::Unknown, "not matched"),
                        (
                            "lean",
                            Verdict::NotFound,
                            "not found in the debug information: DWARF covers gamma"
                        ),
                    ]
                ),
            ]
        );
        let f4 = &answer.vulnerabilities[3];
        assert_eq!(f4.verdict_counts(), [0, 1, 1]);
        // 0004 is unknown on one binary: it fails even with --ignore-not-found.
        assert!(f4.fails(true) && f4.fails(false));
    }

    /// Only the functions listed as affected in the version running are looked for; when
    /// none is, the verdict is unknown and the binary is not read for that advisory.
    #[test]
    fn only_functions_affected_in_the_running_version_are_looked_for() {
        let text = |id: &str, functions: &str| {
            format!(
                "```toml\n[advisory]\nid = \"{id}\"\npackage = \"delta\"\ndate = \"2099-01-01\"\n[affected.functions]\n{functions}\n[versions]\npatched = [\">= 1.0.0\"]\n```\n\n# {id}\n"
            )
        };
        let advisories = [
            text(
                "RUSTSEC-2099-0011",
                "\"delta::old\" = [\"< 0.5.0\"]\n\"delta::new\" = [\">= 0.5.0, < 1.0.0\"]",
            ),
            text("RUSTSEC-2099-0012", "\"delta::older\" = [\"< 0.2.0\"]"),
        ]
        .iter()
        .map(|t| Advisory::parse(t).unwrap())
        .collect();
        let db = Database::new("db".into(), None, advisories);
        let observations = vec![of(
            "delta",
            observation("app", Some("bin/app"), None, "0.9.0"),
        )];
        let mut asked: Vec<Vec<String>> = Vec::new();
        let answer = audit_with(
            &observations,
            &db,
            &AuditOptions::default(),
            &mut |_, functions| {
                asked.push(functions.iter().map(|f| (*f).to_owned()).collect());
                functions.iter().map(|f| present(f)).collect()
            },
        );
        assert_eq!(asked, [vec!["delta::new".to_owned()]]);
        let judged: Vec<(&str, &Judged)> = answer
            .vulnerabilities
            .iter()
            .map(|f| (f.advisory.id.as_str(), &f.blasts[0].judged))
            .collect();
        assert_eq!(
            judged,
            [
                (
                    "RUSTSEC-2099-0011",
                    &Judged {
                        verdict: Verdict::Present,
                        detail: "delta::new: delta::new".into()
                    }
                ),
                (
                    "RUSTSEC-2099-0012",
                    &Judged::unknown(NO_FUNCTIONS_IN_VERSION)
                ),
            ]
        );
    }

    /// What an instance's `unknown` says: its binary is not at hand, and how it was seen.
    #[test]
    fn instances_say_their_binary_is_not_at_hand() {
        let mut r = (*observation("web", None, Some("10.0.0.1:80"), "0.9.0").runner).clone();
        assert_eq!(
            not_at_hand(&r),
            "the binary is not at hand: read from a /metrics page"
        );
        r.job = Some("api".into());
        assert_eq!(
            not_at_hand(&r),
            "the binary is not at hand: read through Prometheus"
        );
    }

    /// A finding whose every blast is not-found is listed last, and fails unless
    /// `--ignore-not-found`.
    /// The fleet path: an instance read through Prometheus takes the verdict published for
    /// its program and revision; another revision, none, or a verdict published for an
    /// unknown revision leave it unknown; of two published verdicts, present wins.
    #[test]
    fn instances_take_the_verdict_published_for_their_program_and_revision() {
        let db = functions_db();
        let instance = |at: &str, revision: Option<&str>| {
            let mut o = of("alpha", observation("web", None, Some(at), "0.9.0"));
            let mut r = (*o.runner).clone();
            r.revision = revision.map(str::to_owned);
            r.job = Some("api".into());
            o.runner = Arc::new(r);
            o
        };
        let observations = vec![
            instance("10.0.0.1:80", Some("v1")),
            instance("10.0.0.2:80", Some("v2")),
            instance("10.0.0.3:80", None),
            instance("10.0.0.4:80", Some("unknown")),
        ];
        let mut options = AuditOptions::default();
        options.add_published("web", "v1", "RUSTSEC-2099-0001", Verdict::NotFound);
        options.add_published("web", "v1", "RUSTSEC-2099-0001", Verdict::Present);
        options.add_published("web", "unknown", "RUSTSEC-2099-0001", Verdict::Present);
        options.add_published("other", "v2", "RUSTSEC-2099-0001", Verdict::Present);
        let answer = audit_with(&observations, &db, &options, &mut |_, _| {
            panic!("no binary is at hand")
        });
        let finding = answer
            .vulnerabilities
            .iter()
            .find(|f| f.advisory.id == "RUSTSEC-2099-0001")
            .unwrap();
        let judged: Vec<(Vec<&str>, Verdict)> = finding
            .blasts
            .iter()
            .map(|b| {
                (
                    b.runners.iter().map(|r| r.location()).collect(),
                    b.judged.verdict,
                )
            })
            .collect();
        assert_eq!(
            judged,
            [
                (vec!["10.0.0.1:80"], Verdict::Present),
                (
                    vec!["10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"],
                    Verdict::Unknown
                ),
            ]
        );
        assert_eq!(
            finding.blasts[0].judged.detail,
            "published for web revision v1, where the binary is"
        );
    }

    #[test]
    fn not_found_findings_come_last_and_fail_unless_ignored() {
        let db = functions_db();
        let observations = vec![
            of(
                "gamma",
                observation("lean", Some("bin/lean"), None, "0.9.0"),
            ),
            of("beta", observation("lean", Some("bin/lean"), None, "0.9.0")),
            of(
                "alpha",
                observation("lean", Some("bin/lean"), None, "0.9.0"),
            ),
        ];
        let answer = audit_with(
            &observations,
            &db,
            &AuditOptions::default(),
            &mut |_, functions| {
                functions
                    .iter()
                    .map(|f| {
                        if *f == "alpha::open" {
                            present("alpha::open")
                        } else {
                            not_found("DWARF")
                        }
                    })
                    .collect()
            },
        );
        let order: Vec<(&str, Verdict, bool, bool)> = answer
            .vulnerabilities
            .iter()
            .map(|f| {
                (
                    f.advisory.id.as_str(),
                    f.verdict(),
                    f.fails(false),
                    f.fails(true),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("RUSTSEC-2099-0001", Verdict::Present, true, true),
                ("RUSTSEC-2099-0002", Verdict::Present, true, true),
                ("RUSTSEC-2099-0003", Verdict::Unknown, true, true),
                ("RUSTSEC-2099-0004", Verdict::NotFound, true, false),
            ]
        );
    }

    #[test]
    fn triples_name_os_and_arch() {
        for (triple, want) in [
            ("x86_64-unknown-linux-gnu", (Some("linux"), Some("x86_64"))),
            ("aarch64-apple-darwin", (Some("macos"), Some("aarch64"))),
            ("i686-pc-windows-msvc", (Some("windows"), Some("x86"))),
            ("armv7-linux-androideabi", (Some("android"), Some("arm"))),
            ("aarch64-apple-ios", (Some("ios"), Some("aarch64"))),
            ("x86_64-unknown-freebsd", (Some("freebsd"), Some("x86_64"))),
            ("wasm32-wasip1", (Some("wasi"), Some("wasm32"))),
            ("wasm32-wasip2", (Some("wasi"), Some("wasm32"))),
            ("wasm32-unknown-unknown", (Some("unknown"), Some("wasm32"))),
            (
                "wasm32-unknown-emscripten",
                (Some("emscripten"), Some("wasm32")),
            ),
            ("wasm32v1-none", (Some("none"), Some("wasm32"))),
            ("unknown", (None, None)),
        ] {
            assert_eq!(target_os_arch(triple), want, "{triple}");
        }
    }
}
