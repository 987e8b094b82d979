//! `cargo depinfo report`: the whole picture of what was read, as one model that the JSON and
//! the HTML report both render (the HTML computes nothing of its own).
//!
//! Rows are per build: one program at one version and revision with one list of runtime
//! crates, and how many instances (or binaries) run it. A fleet of 1,000 instances of 20
//! builds × 300 crates is 20 build rows and about 300 crate rows, whatever its instance count;
//! the instances themselves are listed once, under their build.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::advisories::Database;
use crate::observation::{Observation, ProcessCount, Runner};
use crate::questions::audit::{Audit, Finding, Verdict};
use crate::questions::outdated::{Level, Report as OutdatedReport};
use depinfo_read::inventory::Kind;

/// Version of the report's JSON model (`"format_version"`): fields may be added within a
/// version; removing or changing one bumps it.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The report's model: every view's rows, and the totals they add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FleetReport {
    /// [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// The inputs named on the command line, as given (URLs without credentials).
    pub sources: Vec<String>,
    /// What the views add up to.
    pub totals: Totals,
    /// One row per program, sorted by name.
    pub programs: Vec<ProgramRow>,
    /// One row per build, sorted by program, version and revision; `id` is the index.
    pub builds: Vec<BuildRow>,
    /// One row per runtime crate, the widest spread first (most versions, then most
    /// instances, then name).
    pub crates: Vec<CrateRow>,
    /// The advisory database's advisories that a running version is affected by, the widest
    /// blast radius first; `None` when no database was read.
    pub advisories: Option<Vec<AdvisoryRow>>,
    /// The database the advisories come from, when one was read.
    pub database: Option<DatabaseInfo>,
    /// The crate versions behind the registry's newest release, the furthest behind first;
    /// `None` when the registry was not asked.
    pub outdated: Option<Vec<OutdatedRow>>,
    /// The registry index asked, when it was.
    pub registry: Option<String>,
    /// The inputs that failed, one line each: the report is partial when there are any.
    /// Written as every JSON answer writes them: `[{"message": ...}]`.
    #[serde(serialize_with = "messages")]
    pub errors: Vec<String>,
    /// What servers said for information (`[{"message": ...}]`).
    #[serde(serialize_with = "messages")]
    pub notes: Vec<String>,
    /// Which build each instance or binary runs, for the advisories' and the registry's rows.
    #[serde(skip)]
    build_of: BTreeMap<RunnerKey, usize>,
}

/// What the views add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Distinct programs.
    pub programs: usize,
    /// Distinct builds (program, version, revision, crate list).
    pub builds: usize,
    /// Instances and binaries, each counted once.
    pub instances: usize,
    /// Distinct runtime crates (by name).
    pub crates: usize,
    /// Distinct runtime crate versions (name and version).
    pub crate_versions: usize,
    /// Advisories affecting something that runs (`None`: no database read).
    pub advisories: Option<usize>,
    /// Crate versions behind the registry (`None`: the registry was not asked).
    pub outdated: Option<usize>,
}

/// One program: its builds and instances, the versions and revisions running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProgramRow {
    /// The program's name.
    pub program: String,
    /// How many builds of it run.
    pub builds: usize,
    /// How many instances (or binaries) run it.
    pub instances: usize,
    /// Its versions running, sorted (SemVer order where they parse).
    pub versions: Vec<String>,
    /// Its revisions running, sorted.
    pub revisions: Vec<String>,
    /// The Prometheus jobs it runs in, sorted.
    pub jobs: Vec<String>,
    /// Processes by state: `current`, `replaced`, `deleted`, `memfd` (the exporter's
    /// `rust_process_info`) and `installed` (binaries read from disk).
    pub states: BTreeMap<String, usize>,
}

/// One build: a program at one version and revision with one list of runtime crates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BuildRow {
    /// Its index in [`FleetReport::builds`], which other rows refer to.
    pub id: usize,
    /// The program.
    pub program: String,
    /// The program's version, when the source says.
    pub version: Option<String>,
    /// The revision it was built from, when the source says.
    pub revision: Option<String>,
    /// How many runtime crates it links.
    pub crates: usize,
    /// How many instances (or binaries) run it.
    pub instances: usize,
    /// The Prometheus jobs it runs in, sorted.
    pub jobs: Vec<String>,
    /// Where it runs: instances (`host:port`), binaries' paths, or the input, sorted.
    pub locations: Vec<String>,
    /// Processes by state, as [`ProgramRow::states`], for this build's program, version and
    /// revision.
    pub states: BTreeMap<String, usize>,
}

/// One runtime crate and the versions of it running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CrateRow {
    /// The crate's name.
    pub name: String,
    /// Instances running any version of it.
    pub instances: usize,
    /// Its versions, in SemVer order (text order for those that do not parse).
    pub versions: Vec<CrateVersionRow>,
}

/// One version of a crate and the builds running it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CrateVersionRow {
    /// The version.
    pub version: String,
    /// Where it came from (`crates.io`, `registry`, `git`, `local`, `unknown`), sorted.
    pub sources: Vec<String>,
    /// Instances running it.
    pub instances: usize,
    /// The builds running it ([`BuildRow::id`]), sorted.
    pub builds: Vec<usize>,
}

/// One advisory and its blast radius.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AdvisoryRow {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// Other identifiers (CVE, GHSA).
    pub aliases: Vec<String>,
    /// The crate.
    pub package: String,
    /// The advisory's title.
    pub title: String,
    /// `vulnerability`, or the informational kind (`unmaintained`, `unsound`, `notice`).
    pub kind: String,
    /// The CVSS severity (`none` … `critical`), when the advisory has a score.
    pub severity: Option<String>,
    /// The CVSS score in tenths (`98` is 9.8), when it has one.
    pub score: Option<u8>,
    /// The versions that fix it (SemVer requirements).
    pub patched: Vec<String>,
    /// The affected versions running, sorted.
    pub versions: Vec<String>,
    /// How many programs run an affected version.
    pub programs: usize,
    /// The builds that run an affected version ([`BuildRow::id`]), sorted.
    pub builds: Vec<usize>,
    /// How many instances (or binaries) run an affected version.
    pub instances: usize,
    /// Of those, how many have each verdict on the advisory's functions: `present`,
    /// `unknown` (the binary not at hand counts here: the fleet path is `unknown`) and
    /// `not-found`.
    pub verdicts: VerdictCounts,
}

/// How many instances (or binaries) have each verdict on an advisory's functions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerdictCounts {
    /// The function is in the binary.
    pub present: usize,
    /// Cannot be said.
    pub unknown: usize,
    /// Not found in the debug information.
    pub not_found: usize,
}

/// The advisory database a report's advisories come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DatabaseInfo {
    /// How many advisories it holds.
    pub advisories: usize,
    /// Its last commit, when known (hash).
    pub commit: Option<String>,
    /// Its last commit's time (seconds since the Unix epoch), when known.
    pub commit_time: Option<u64>,
}

/// One crate version behind the registry's newest release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OutdatedRow {
    /// The crate.
    pub name: String,
    /// The version running.
    pub version: String,
    /// The newest release SemVer-compatible with it.
    pub newest_compatible: String,
    /// The newest release.
    pub newest: String,
    /// How far behind: `patch`, `minor` or `major`.
    pub behind: Level,
    /// The builds that run it ([`BuildRow::id`]), sorted.
    pub builds: Vec<usize>,
    /// How many instances (or binaries) run it.
    pub instances: usize,
}

/// `[{"message": ...}]`, the shape of every JSON answer's `errors` and `notes`.
fn messages<S: serde::Serializer>(lines: &[String], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    s.collect_seq(lines.iter().map(|m| Message { message: m }))
}

/// Where a runner runs and which program it is: one instance or binary, whichever sources saw
/// it (as the audit identifies them).
type RunnerKey = (String, String);

fn runner_key(r: &Runner) -> RunnerKey {
    (r.location().to_owned(), r.program.clone())
}

/// One crate of a build's list: name, version, source.
type Entry = (Arc<str>, Arc<str>, Arc<str>);

/// A build's identity: program, version, revision and its sorted crate list.
type BuildKey = (String, Option<String>, Option<String>, Vec<Entry>);

/// The builds made of what was read, and which build each runner belongs to.
#[derive(Debug, Default)]
struct Grouping {
    builds: Vec<BuildRow>,
    lists: Vec<Vec<Entry>>,
    build_of: BTreeMap<RunnerKey, usize>,
}

impl FleetReport {
    /// The report over `observations` (any source; runtime crates only, as `spread` and
    /// `rust_mod_info` count), with the processes `states` the exporter (or a binary's
    /// presence on disk) reported.
    pub fn new(observations: &[Observation], states: &[ProcessCount]) -> FleetReport {
        let grouping = group(observations);
        let builds = with_states(grouping.builds, states);
        let programs = programs(&builds, states);
        let crates = crates(&grouping.lists, &builds);
        let mut report = FleetReport {
            format_version: REPORT_FORMAT_VERSION,
            sources: Vec::new(),
            totals: Totals::default(),
            programs,
            builds,
            crates,
            advisories: None,
            database: None,
            outdated: None,
            registry: None,
            errors: Vec::new(),
            notes: Vec::new(),
            build_of: grouping.build_of,
        };
        report.count();
        report
    }

    /// Adds the advisories of `audit` (vulnerabilities and informational ones), the widest
    /// blast radius first: most instances, then most builds, then id.
    pub fn add_audit(&mut self, audit: &Audit<'_>, db: &Database) {
        let mut rows: Vec<AdvisoryRow> = audit
            .vulnerabilities
            .iter()
            .chain(&audit.informational)
            .map(|f| self.advisory_row(f))
            .collect();
        rows.sort_by(|a, b| {
            (b.instances, b.builds.len(), &a.id).cmp(&(a.instances, a.builds.len(), &b.id))
        });
        self.advisories = Some(rows);
        self.database = Some(DatabaseInfo {
            advisories: db.advisories().len(),
            commit: db.commit.as_ref().map(|c| c.id.clone()),
            commit_time: db.commit.as_ref().map(|c| c.time),
        });
        self.count();
    }

    fn advisory_row(&self, finding: &Finding<'_>) -> AdvisoryRow {
        let a = finding.advisory;
        let mut builds = BTreeSet::new();
        let mut programs = BTreeSet::new();
        let mut instances = 0;
        let mut verdicts = VerdictCounts::default();
        for blast in &finding.blasts {
            programs.insert(blast.program.as_str());
            for r in &blast.runners {
                instances += r.instances;
                *match blast.judged.verdict {
                    Verdict::Present => &mut verdicts.present,
                    Verdict::Unknown => &mut verdicts.unknown,
                    Verdict::NotFound => &mut verdicts.not_found,
                } += r.instances;
                if let Some(&id) = self.build_of.get(&runner_key(r)) {
                    builds.insert(id);
                }
            }
        }
        AdvisoryRow {
            id: a.id.clone(),
            aliases: a.aliases.clone(),
            package: a.package.clone(),
            title: a.title.clone(),
            kind: a.kind().to_owned(),
            severity: a.severity().map(|s| s.as_str().to_owned()),
            score: a.score,
            patched: a.patched.clone(),
            versions: finding.versions().iter().map(ToString::to_string).collect(),
            programs: programs.len(),
            builds: builds.into_iter().collect(),
            instances,
            verdicts,
        }
    }

    /// Adds the crate versions of `outdated` that are behind, furthest first (major, minor,
    /// patch; then most instances; then name and version), and the index that was asked.
    pub fn add_outdated(&mut self, outdated: &OutdatedReport, registry: &str) {
        let mut by_version: BTreeMap<(&str, &str), OutdatedRow> = BTreeMap::new();
        let mut seen: BTreeSet<(&str, &str, &str, &str)> = BTreeSet::new();
        for row in outdated.rows.iter().filter(|r| r.level > Level::None) {
            let entry = by_version
                .entry((&row.name, &row.version))
                .or_insert_with(|| OutdatedRow {
                    name: row.name.clone(),
                    version: row.version.clone(),
                    newest_compatible: row.newest_compatible.clone(),
                    newest: row.newest.clone(),
                    behind: row.level,
                    builds: Vec::new(),
                    instances: 0,
                });
            // One row per program and location: an instance is counted once per version.
            if !seen.insert((&row.program, &row.location, &row.name, &row.version)) {
                continue;
            }
            let key = (row.location.clone(), row.program.clone());
            if let Some(&id) = self.build_of.get(&key) {
                if !entry.builds.contains(&id) {
                    entry.builds.push(id);
                }
                // A build's instances are counted once per build, whatever location listed it.
            } else {
                entry.instances += 1;
            }
        }
        let mut rows: Vec<OutdatedRow> = by_version
            .into_values()
            .map(|mut r| {
                r.builds.sort_unstable();
                r.instances += r
                    .builds
                    .iter()
                    .map(|&id| self.builds[id].instances)
                    .sum::<usize>();
                r
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.behind, b.instances, &a.name, &a.version).cmp(&(
                a.behind,
                a.instances,
                &b.name,
                &b.version,
            ))
        });
        self.outdated = Some(rows);
        self.registry = Some(registry.to_owned());
        self.count();
    }

    /// Sets the totals from the rows.
    fn count(&mut self) {
        self.totals = Totals {
            programs: self.programs.len(),
            builds: self.builds.len(),
            instances: self.builds.iter().map(|b| b.instances).sum(),
            crates: self.crates.len(),
            crate_versions: self.crates.iter().map(|c| c.versions.len()).sum(),
            advisories: self.advisories.as_ref().map(Vec::len),
            outdated: self.outdated.as_ref().map(Vec::len),
        };
    }
}

/// Groups the observations' runners into builds. A runner seen by several sources (the same
/// location and program) is one, with the most detail any of them gave.
fn group(observations: &[Observation]) -> Grouping {
    struct Seen {
        runner: Arc<Runner>,
        list: BTreeSet<Entry>,
    }
    let mut runners: BTreeMap<RunnerKey, Seen> = BTreeMap::new();
    let mut key_of_ptr: BTreeMap<usize, RunnerKey> = BTreeMap::new();
    for o in observations {
        let key = key_of_ptr
            .entry(Arc::as_ptr(&o.runner) as usize)
            .or_insert_with(|| runner_key(&o.runner))
            .clone();
        let seen = runners.entry(key).or_insert_with(|| Seen {
            runner: Arc::clone(&o.runner),
            list: BTreeSet::new(),
        });
        if o.runner > seen.runner {
            seen.runner = Arc::clone(&o.runner);
        }
        if o.kind == Kind::Runtime {
            seen.list.insert((
                Arc::clone(&o.name),
                Arc::clone(&o.version),
                Arc::clone(&o.source),
            ));
        }
    }
    let mut by_build: BTreeMap<BuildKey, Vec<(RunnerKey, Arc<Runner>)>> = BTreeMap::new();
    for (key, seen) in runners {
        let r = &seen.runner;
        let build = (
            r.program.clone(),
            r.program_version.clone(),
            r.revision.clone(),
            seen.list.into_iter().collect(),
        );
        by_build.entry(build).or_default().push((key, seen.runner));
    }
    let mut grouping = Grouping::default();
    let mut keys: Vec<_> = by_build.into_iter().collect();
    // Program, then version in SemVer order, then revision.
    keys.sort_by(|(a, _), (b, _)| {
        (&a.0, version_key(a.1.as_deref()), &a.2, &a.3).cmp(&(
            &b.0,
            version_key(b.1.as_deref()),
            &b.2,
            &b.3,
        ))
    });
    for ((program, version, revision, list), runners) in keys {
        let id = grouping.builds.len();
        let mut jobs = BTreeSet::new();
        let mut locations = BTreeSet::new();
        let mut instances = 0;
        for (key, r) in runners {
            instances += r.instances;
            if let Some(job) = &r.job {
                jobs.insert(job.clone());
            }
            locations.insert(r.location().to_owned());
            grouping.build_of.insert(key, id);
        }
        grouping.builds.push(BuildRow {
            id,
            program,
            version,
            revision,
            crates: list.len(),
            instances,
            jobs: jobs.into_iter().collect(),
            locations: locations.into_iter().collect(),
            states: BTreeMap::new(),
        });
        grouping.lists.push(list);
    }
    grouping
}

/// A version's sort key: SemVer order where it parses, before the text of those that do not.
fn version_key(v: Option<&str>) -> (Option<semver::Version>, Option<&str>) {
    match v {
        None => (None, None),
        Some(t) => match semver::Version::parse(t) {
            Ok(parsed) => (Some(parsed), None),
            Err(_) => (None, Some(t)),
        },
    }
}

/// The builds with the process states reported for their program, version and revision.
/// Binaries read from disk are `installed`.
fn with_states(mut builds: Vec<BuildRow>, states: &[ProcessCount]) -> Vec<BuildRow> {
    for b in &mut builds {
        for s in states.iter().filter(|s| {
            s.program == b.program && s.version == b.version && s.revision == b.revision
        }) {
            *b.states.entry(s.state.clone()).or_default() += s.count;
        }
    }
    builds
}

/// One row per program, from its builds; states also from processes no build matches (an
/// exporter's process whose crates came from elsewhere).
fn programs(builds: &[BuildRow], states: &[ProcessCount]) -> Vec<ProgramRow> {
    let mut rows: BTreeMap<&str, ProgramRow> = BTreeMap::new();
    for b in builds {
        let row = rows.entry(&b.program).or_insert_with(|| ProgramRow {
            program: b.program.clone(),
            builds: 0,
            instances: 0,
            versions: Vec::new(),
            revisions: Vec::new(),
            jobs: Vec::new(),
            states: BTreeMap::new(),
        });
        row.builds += 1;
        row.instances += b.instances;
        row.versions.extend(b.version.clone());
        row.revisions.extend(b.revision.clone());
        row.jobs.extend(b.jobs.iter().cloned());
    }
    for s in states {
        if let Some(row) = rows.get_mut(s.program.as_str()) {
            *row.states.entry(s.state.clone()).or_default() += s.count;
        }
    }
    rows.into_values()
        .map(|mut r| {
            r.versions
                .sort_by(|a, b| version_key(Some(a)).cmp(&version_key(Some(b))));
            r.versions.dedup();
            r.revisions.sort();
            r.revisions.dedup();
            r.jobs.sort();
            r.jobs.dedup();
            r
        })
        .collect()
}

/// One row per crate, the widest spread first.
fn crates(lists: &[Vec<Entry>], builds: &[BuildRow]) -> Vec<CrateRow> {
    // name -> version -> (sources, builds)
    type Versions<'a> = BTreeMap<&'a str, (BTreeSet<&'a str>, BTreeSet<usize>)>;
    let mut by_name: BTreeMap<&str, Versions<'_>> = BTreeMap::new();
    for (id, list) in lists.iter().enumerate() {
        for (name, version, source) in list {
            let (sources, ids) = by_name.entry(name).or_default().entry(version).or_default();
            sources.insert(source);
            ids.insert(id);
        }
    }
    let mut rows: Vec<CrateRow> = by_name
        .into_iter()
        .map(|(name, versions)| {
            let mut versions: Vec<CrateVersionRow> = versions
                .into_iter()
                .map(|(version, (sources, ids))| CrateVersionRow {
                    version: version.to_owned(),
                    sources: sources.into_iter().map(str::to_owned).collect(),
                    instances: ids.iter().map(|&id| builds[id].instances).sum(),
                    builds: ids.into_iter().collect(),
                })
                .collect();
            versions
                .sort_by(|a, b| version_key(Some(&a.version)).cmp(&version_key(Some(&b.version))));
            // A build links one version of a crate at most in the usual case; when it links
            // several, its instances run each: count each instance once per crate.
            let mut ids: BTreeSet<usize> = BTreeSet::new();
            for v in &versions {
                ids.extend(&v.builds);
            }
            CrateRow {
                name: name.to_owned(),
                instances: ids.iter().map(|&id| builds[id].instances).sum(),
                versions,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.versions.len(), b.instances, &a.name).cmp(&(a.versions.len(), a.instances, &b.name))
    });
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisories::Advisory;
    use crate::questions::audit::{AuditOptions, audit};
    use crate::questions::outdated::{Row, check};

    /// An instance `at` of `program` at `version`/`revision` running `crates` (name@version),
    /// seen by `origin`.
    fn instance(
        program: &str,
        version: &str,
        revision: &str,
        at: &str,
        crates: &[&str],
    ) -> Vec<Observation> {
        seen(program, version, revision, at, crates, "http://prom:9090")
    }

    fn seen(
        program: &str,
        version: &str,
        revision: &str,
        at: &str,
        crates: &[&str],
        origin: &str,
    ) -> Vec<Observation> {
        let runner = Arc::new(Runner {
            program: program.into(),
            program_version: Some(version.into()),
            revision: Some(revision.into()),
            instance: Some(Arc::from(at)),
            job: Some("svc".into()),
            path: None,
            origin: origin.into(),
            instances: 1,
        });
        crates
            .iter()
            .map(|c| {
                let (name, v) = c.split_once('@').unwrap();
                Observation {
                    runner: Arc::clone(&runner),
                    name: name.into(),
                    version: v.into(),
                    source: "crates.io".into(),
                    kind: Kind::Runtime,
                    direct: None,
                }
            })
            .collect()
    }

    /// web: two instances of one build, one of another (hyper 0.14.10 vs 0.14.28, and a
    /// newer revision); api: one instance; a build-only crate that must not count.
    fn fleet() -> Vec<Observation> {
        let mut o = Vec::new();
        o.extend(instance(
            "web",
            "1.0.0",
            "aaa",
            "10.0.0.1:80",
            &["hyper@0.14.10", "serde@1.0.1"],
        ));
        o.extend(instance(
            "web",
            "1.0.0",
            "aaa",
            "10.0.0.2:80",
            &["hyper@0.14.10", "serde@1.0.1"],
        ));
        // The same instance seen by a second source: counted once.
        o.extend(seen(
            "web",
            "1.0.0",
            "aaa",
            "10.0.0.2:80",
            &["hyper@0.14.10", "serde@1.0.1"],
            "http://10.0.0.2:80/metrics",
        ));
        o.extend(instance(
            "web",
            "1.1.0",
            "bbb",
            "10.0.0.3:80",
            &["hyper@0.14.28", "serde@1.0.1"],
        ));
        let mut api = instance("api", "0.3.0", "ccc", "10.0.0.9:80", &["serde@1.0.2"]);
        api.push(Observation {
            kind: Kind::Build,
            ..instance("api", "0.3.0", "ccc", "10.0.0.9:80", &["cc@1.0.0"]).remove(0)
        });
        o.extend(api);
        o
    }

    #[test]
    fn builds_are_program_version_revision_and_list_with_each_instance_once() {
        let r = FleetReport::new(&fleet(), &[]);
        let builds: Vec<_> = r
            .builds
            .iter()
            .map(|b| {
                (
                    b.id,
                    b.program.as_str(),
                    b.version.as_deref(),
                    b.crates,
                    b.instances,
                    b.locations.clone(),
                )
            })
            .collect();
        assert_eq!(
            builds,
            [
                (
                    0,
                    "api",
                    Some("0.3.0"),
                    1,
                    1,
                    vec!["10.0.0.9:80".to_owned()]
                ),
                (
                    1,
                    "web",
                    Some("1.0.0"),
                    2,
                    2,
                    vec!["10.0.0.1:80".to_owned(), "10.0.0.2:80".to_owned()]
                ),
                (
                    2,
                    "web",
                    Some("1.1.0"),
                    2,
                    1,
                    vec!["10.0.0.3:80".to_owned()]
                ),
            ]
        );
        assert_eq!(
            r.totals,
            Totals {
                programs: 2,
                builds: 3,
                instances: 4,
                crates: 2,
                crate_versions: 4,
                advisories: None,
                outdated: None,
            }
        );
        let web = &r.programs[1];
        assert_eq!(
            (web.program.as_str(), web.builds, web.instances),
            ("web", 2, 3)
        );
        assert_eq!(web.versions, ["1.0.0", "1.1.0"]);
        assert_eq!(web.revisions, ["aaa", "bbb"]);
        assert_eq!(web.jobs, ["svc"]);
    }

    #[test]
    fn a_runner_seen_by_two_sources_keeps_what_either_knows() {
        // A page without `<program>_build_info` knows no version; Prometheus' join does.
        let mut bare = seen(
            "web",
            "",
            "",
            "10.0.0.1:80",
            &["hyper@0.14.10"],
            "http://a/",
        );
        let runner = Arc::new(Runner {
            program_version: None,
            revision: None,
            ..(*bare[0].runner).clone()
        });
        for o in &mut bare {
            o.runner = Arc::clone(&runner);
        }
        for first in [true, false] {
            let mut o = instance("web", "1.0.0", "aaa", "10.0.0.1:80", &["hyper@0.14.10"]);
            if first {
                o.splice(0..0, bare.clone());
            } else {
                o.extend(bare.clone());
            }
            let r = FleetReport::new(&o, &[]);
            assert_eq!(r.builds.len(), 1, "first: {first}");
            assert_eq!(r.builds[0].version.as_deref(), Some("1.0.0"));
            assert_eq!(r.builds[0].revision.as_deref(), Some("aaa"));
            assert_eq!(r.totals.instances, 1);
        }
    }

    #[test]
    fn one_revision_with_two_lists_is_two_builds() {
        let mut o = instance("web", "1.0.0", "aaa", "a:1", &["hyper@0.14.10"]);
        o.extend(instance("web", "1.0.0", "aaa", "b:1", &["hyper@0.14.11"]));
        let r = FleetReport::new(&o, &[]);
        assert_eq!(r.builds.len(), 2);
        assert_eq!(r.programs[0].builds, 2);
    }

    #[test]
    fn the_widest_spread_comes_first_then_instances_then_name() {
        let mut o = fleet();
        // zlib: one version on one instance; aaa: one version on one instance (name breaks
        // the tie).
        o.extend(instance(
            "z",
            "1.0.0",
            "z",
            "10.0.1.1:80",
            &["zlib@1.0.0", "aaa@1.0.0"],
        ));
        let r = FleetReport::new(&o, &[]);
        let order: Vec<_> = r
            .crates
            .iter()
            .map(|c| (c.name.as_str(), c.versions.len(), c.instances))
            .collect();
        assert_eq!(
            order,
            [
                ("serde", 2, 4),
                ("hyper", 2, 3),
                ("aaa", 1, 1),
                ("zlib", 1, 1)
            ]
        );
        let hyper = &r.crates[1].versions;
        assert_eq!(
            hyper
                .iter()
                .map(|v| (v.version.as_str(), v.instances, v.builds.clone()))
                .collect::<Vec<_>>(),
            [("0.14.10", 2, vec![1]), ("0.14.28", 1, vec![2])]
        );
        assert_eq!(hyper[0].sources, ["crates.io"]);
    }

    #[test]
    fn versions_sort_as_semver_not_as_text() {
        let mut o = instance("a", "1.0.0", "r", "a:1", &["x@0.10.0"]);
        o.extend(instance("b", "1.0.0", "r", "b:1", &["x@0.9.0"]));
        o.extend(instance("c", "1.0.0", "r", "c:1", &["x@not-semver"]));
        let r = FleetReport::new(&o, &[]);
        let versions: Vec<_> = r.crates[0].versions.iter().map(|v| &*v.version).collect();
        assert_eq!(versions, ["not-semver", "0.9.0", "0.10.0"]);
    }

    #[test]
    fn process_states_go_to_their_build_and_program() {
        let states = [
            ProcessCount::new("web", Some("1.0.0"), Some("aaa"), "current", 2),
            ProcessCount::new("web", Some("1.0.0"), Some("aaa"), "deleted", 1),
            // No build has this revision: the program still counts it.
            ProcessCount::new("web", Some("0.9.0"), Some("old"), "replaced", 4),
            // A program nothing else reported: nowhere to put it.
            ProcessCount::new("ghost", None, None, "current", 1),
            // Another program that happens to share web's revision: not web's.
            ProcessCount::new("ghost", Some("9.9.9"), Some("aaa"), "memfd", 1),
            // web's version, but another revision: not that build's.
            ProcessCount::new("web", Some("1.0.0"), Some("zzz"), "memfd", 3),
        ];
        let r = FleetReport::new(&fleet(), &states);
        let states_of = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(states_of(&r.builds[1].states), "current=2,deleted=1");
        assert_eq!(states_of(&r.builds[2].states), "");
        assert_eq!(
            states_of(&r.programs[1].states),
            "current=2,deleted=1,memfd=3,replaced=4"
        );
        assert_eq!(states_of(&r.programs[0].states), "");
        assert_eq!(r.programs.len(), 2);
    }

    #[test]
    fn binaries_on_disk_are_installed() {
        let inv = crate::render::sample_with_facts("svc");
        let states = ProcessCount::installed(&[inv.clone(), inv.clone()]);
        assert_eq!(states.len(), 1);
        assert_eq!(
            (states[0].state.as_str(), states[0].count),
            ("installed", 2)
        );
        let r = FleetReport::new(&crate::observation::from_inventories(&[inv]), &states);
        assert_eq!(r.builds[0].states.get("installed"), Some(&2));
        assert_eq!(r.builds[0].locations, ["bin/svc"]);
    }

    fn db() -> Database {
        let file = |id: &str, package: &str, patched: &str| {
            format!(
                "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n[versions]\npatched = [{patched}]\n```\n\n# {id} title\n"
            )
        };
        let advisories = [
            file("RUSTSEC-2099-0001", "hyper", "\">= 0.14.20\""),
            file("RUSTSEC-2099-0002", "serde", "\">= 1.0.2\""),
        ]
        .iter()
        .map(|t| Advisory::parse(t).unwrap())
        .collect();
        Database::new("db".into(), None, advisories)
    }

    #[test]
    fn advisories_carry_their_blast_radius_widest_first() {
        let db = db();
        let observations = fleet();
        let answer = audit(&observations, &db, &AuditOptions::default());
        let mut r = FleetReport::new(&observations, &[]);
        r.add_audit(&answer, &db);
        let rows: Vec<_> = r
            .advisories
            .as_ref()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a.id.as_str(),
                    a.package.as_str(),
                    a.versions.clone(),
                    a.programs,
                    a.builds.clone(),
                    a.instances,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                // serde 1.0.1 runs on web's three instances, in two builds.
                (
                    "RUSTSEC-2099-0002",
                    "serde",
                    vec!["1.0.1".to_owned()],
                    1,
                    vec![1, 2],
                    3
                ),
                // hyper 0.14.10 on two instances of one build (0.14.28 is patched).
                (
                    "RUSTSEC-2099-0001",
                    "hyper",
                    vec!["0.14.10".to_owned()],
                    1,
                    vec![1],
                    2
                ),
            ]
        );
        let first = &r.advisories.as_ref().unwrap()[0];
        assert_eq!(first.severity.as_deref(), Some("critical"));
        assert_eq!(first.score, Some(98));
        assert_eq!(first.patched, [">= 1.0.2"]);
        assert_eq!(first.kind, "vulnerability");
        assert_eq!(first.title, "RUSTSEC-2099-0002 title");
        assert_eq!(r.totals.advisories, Some(2));
        assert_eq!(r.database.as_ref().unwrap().advisories, 2);
    }

    /// Each advisory row counts its instances by verdict: binaries on disk as their symbols
    /// say, instances seen over the network as unknown.
    #[test]
    fn advisory_rows_count_instances_by_verdict() {
        use depinfo_read::binary_reader::symbols::FunctionVerdict;
        let text = "```toml\n[advisory]\nid = \"RUSTSEC-2099-0002\"\npackage = \"serde\"\ndate = \"2099-01-01\"\n[affected.functions]\n\"serde::de::from\" = [\"< 1.0.2\"]\n[versions]\npatched = [\">= 1.0.2\"]\n```\n\n# title\n";
        let db = Database::new("db".into(), None, vec![Advisory::parse(text).unwrap()]);
        let mut observations = fleet();
        for path in ["bin/a", "bin/b", "bin/c"] {
            let mut o = instance("tool", "1.0.0", "ddd", path, &["serde@1.0.1"]).remove(0);
            let mut runner = (*o.runner).clone();
            runner.instance = None;
            runner.path = Some(path.to_owned());
            o.runner = Arc::new(runner);
            observations.push(o);
        }
        let answer = crate::questions::audit::audit_with(
            &observations,
            &db,
            &AuditOptions::default(),
            &mut |path, functions| {
                functions
                    .iter()
                    .map(|_| match path.to_str().unwrap() {
                        "bin/a" => FunctionVerdict::Present {
                            symbol: "serde::de::from".into(),
                        },
                        "bin/b" => FunctionVerdict::NotFound {
                            reason: "DWARF".into(),
                        },
                        _ => FunctionVerdict::Unknown {
                            reason: "stripped".into(),
                        },
                    })
                    .collect()
            },
        );
        let mut r = FleetReport::new(&observations, &[]);
        r.add_audit(&answer, &db);
        let row = &r.advisories.as_ref().unwrap()[0];
        // web's three instances (network: unknown) and the three binaries.
        assert_eq!(row.instances, 6);
        assert_eq!(
            row.verdicts,
            VerdictCounts {
                present: 1,
                unknown: 4,
                not_found: 1,
            }
        );
    }

    fn row(program: &str, location: &str, name: &str, version: &str, level: Level) -> Row {
        let newest = match level {
            Level::None => version,
            _ => "9.9.9",
        };
        Row {
            program: program.into(),
            location: location.into(),
            name: name.into(),
            version: version.into(),
            newest_compatible: newest.into(),
            newest: newest.into(),
            level,
        }
    }

    #[test]
    fn outdated_rows_are_per_crate_version_furthest_behind_first() {
        let mut report = check(&[], &[], &BTreeMap::new());
        report.rows = vec![
            row("web", "10.0.0.1:80", "serde", "1.0.1", Level::Patch),
            row("web", "10.0.0.2:80", "serde", "1.0.1", Level::Patch),
            // Listed twice for one instance: counted once.
            row("web", "10.0.0.2:80", "serde", "1.0.1", Level::Patch),
            row("web", "10.0.0.3:80", "hyper", "0.14.28", Level::Major),
            row("api", "10.0.0.9:80", "serde", "1.0.2", Level::None),
            // An instance no build knows: counted by itself.
            row("x", "10.9.9.9:80", "hyper", "0.14.28", Level::Major),
        ];
        let mut r = FleetReport::new(&fleet(), &[]);
        r.add_outdated(&report, "http://index/");
        let rows: Vec<_> = r
            .outdated
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    o.version.as_str(),
                    o.behind,
                    o.builds.clone(),
                    o.instances,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("hyper", "0.14.28", Level::Major, vec![2], 2),
                ("serde", "1.0.1", Level::Patch, vec![1], 2),
            ]
        );
        assert_eq!(r.registry.as_deref(), Some("http://index/"));
        assert_eq!(r.totals.outdated, Some(2));
    }

    #[test]
    fn the_json_model_names_its_version_and_writes_messages_as_every_answer_does() {
        let mut r = FleetReport::new(&fleet(), &[]);
        r.errors = vec!["http://x/metrics: refused".into()];
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(
            v["errors"],
            serde_json::json!([{"message": "http://x/metrics: refused"}])
        );
        assert_eq!(v["notes"], serde_json::json!([]));
        assert!(v["advisories"].is_null() && v["outdated"].is_null());
        assert!(v.get("build_of").is_none());
        assert_eq!(v["totals"]["instances"], 4);
    }
}
