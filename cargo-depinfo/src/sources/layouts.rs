//! The three series layouts seen through a Prometheus API, and the client-side join that makes
//! the `catalog` (and `direct`) layouts answer as `full` does.
//!
//! - Detection: `count by (layout) (rust_build_info)` ([`DETECT_QUERY`]). No `rust_build_info`
//!   at all, or only `layout="full"`: a `full` fleet, asked exactly what it was always asked
//!   (the pushdown `count by` over `rust_mod_info`). Any other layout value (or none on a
//!   `rust_build_info`): those instances are answered from the catalog.
//! - Catalog: `rust_build_info{layout!="full",deps!=""}` (counted, or per instance) joined
//!   `on(deps)` with `rust_deps_info`, fetched once and deduplicated (several catalog replicas
//!   serve the same rows under their own `instance` and `job`, which are ignored).
//! - In a mixed fleet the `full` part is asked by `origin` too, and the origin rule (a
//!   program's own collector wins over `depinfo-exporter`'s `origin="exporter"` series)
//!   is applied here over both parts, on the rows that passed the crate filter, as the `full`
//!   query's `or on(program)` applies it there. The `direct` layout's own `rust_mod_info`
//!   series are left out (`unless on(instance, job, program)` its `rust_build_info`).

use std::collections::{BTreeMap, BTreeSet};

use build_info_collector::{RUST_BUILD_INFO, RUST_DEPS_INFO, RUST_MOD_INFO};

/// Which layouts to read through a Prometheus API (`--layout`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutChoice {
    /// Ask which layouts the fleet uses (`count by (layout) (rust_build_info)`), and read each instance in its own.
    #[default]
    Auto,
    /// Every instance from its `rust_mod_info` series (today's queries, nothing else).
    Full,
    /// Every instance that has a `rust_build_info` with a digest from the catalog; no
    /// `rust_mod_info` query.
    Catalog,
}

/// The detection query: how many instances publish `rust_build_info` per layout value.
pub(crate) const DETECT_QUERY: &str = "count by (layout) (rust_build_info)";

/// What detection found: the layout values of `rust_build_info` series (`""` for a series
/// without the label).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Detected {
    /// Every layout value seen, with its instance count.
    pub(crate) layouts: BTreeMap<String, usize>,
}

impl Detected {
    /// One sample of [`DETECT_QUERY`]'s answer: its `layout` and its count. A sample with
    /// other labels is no answer to that query (a server that answers something else) and is
    /// left out.
    pub(crate) fn add(&mut self, layout: Option<&str>, other_labels: bool, value: Option<f64>) {
        if other_labels {
            return;
        }
        *self
            .layouts
            .entry(layout.unwrap_or_default().to_owned())
            .or_default() += super::instance_count(value);
    }

    /// Whether any instance is answered from the catalog (a layout other than `full`).
    pub(crate) fn has_catalog_instances(&self) -> bool {
        self.layouts.keys().any(|l| l != "full")
    }

    /// Whether some instances may publish `rust_mod_info` series that must not be counted
    /// (`direct`, or a layout this version does not know).
    pub(crate) fn needs_exclusion(&self) -> bool {
        self.layouts.keys().any(|l| l != "full" && l != "catalog")
    }

    /// Whether any `rust_build_info` exists.
    pub(crate) fn any(&self) -> bool {
        !self.layouts.is_empty()
    }
}

/// The selector of the crate names asked for (`name=~"a[-_]b|c"`), empty for every crate.
fn names_matcher(crates: &[String]) -> String {
    if crates.is_empty() {
        return String::new();
    }
    let names: Vec<String> = crates.iter().map(|c| super::name_regex(c)).collect();
    format!(r#"name=~"{}""#, names.join("|"))
}

/// `{a,b}` of the non-empty matchers.
fn selector(metric: &str, matchers: &[&str]) -> String {
    let kept: Vec<&str> = matchers.iter().copied().filter(|m| !m.is_empty()).collect();
    if kept.is_empty() {
        metric.to_owned()
    } else {
        format!("{metric}{{{}}}", kept.join(","))
    }
}

/// The `by` labels of a counted question, `origin` last.
fn by_labels(with_source: bool, middle: &str) -> String {
    let source = if with_source { ", source" } else { "" };
    format!("program, job, {middle}{source}, origin")
}

/// The `rust_build_info` selector of the instances answered from the catalog: every one with
/// a digest when told `--layout catalog`, else those not in the `full` layout.
pub(crate) fn catalog_selector(told: bool) -> String {
    let layout = if told { "" } else { r#"layout!="full""# };
    selector(RUST_BUILD_INFO, &[layout, r#"deps!="""#])
}

/// The `full` part of a mixed fleet: `rust_mod_info` of the crates asked for, by `origin`
/// too (the rule is applied on the client), without the instances of `exclude`'s layouts.
/// `counted`: `Some(with_source)` for a `count by`, `None` per instance.
pub(crate) fn mixed_mod_info_query(
    counted: Option<bool>,
    crates: &[String],
    exclude: bool,
) -> String {
    let names = names_matcher(crates);
    let series = selector(RUST_MOD_INFO, &[&names]);
    let unless = if exclude {
        format!(
            r#" unless on(instance, job, program) {RUST_BUILD_INFO}{{layout!="full",layout!="catalog"}}"#
        )
    } else {
        String::new()
    };
    match counted {
        None => format!("{series}{unless}"),
        Some(with_source) => format!(
            "count by ({}) ({series} > 0{unless})",
            by_labels(with_source, "name, version")
        ),
    }
}

/// The catalog part: `rust_build_info` of the instances answered from the catalog, counted by
/// program, job, digest and origin, or per instance.
pub(crate) fn build_info_query(counted: bool, told: bool) -> String {
    let series = catalog_selector(told);
    if counted {
        format!("count by (program, job, deps, origin) ({series} > 0)")
    } else {
        series
    }
}

/// The catalog's rows: every row of every list, whatever crates are asked for. A list is
/// believed only whole, when its rows hash to its digest ([`Catalog::finish`]): rows asked
/// for some crates only could not be checked, and a target that publishes `rust_deps_info`
/// itself could then add crates to another build's list, or make a digest look held and hide
/// a crate. Its size follows the distinct builds (one series per crate per list), not the
/// instances.
pub(crate) const DEPS_INFO_QUERY: &str = RUST_DEPS_INFO;

/// One crate of a dependency list, as the catalog says it (`instance` and `job` of the
/// catalog target left out, so that replicas are one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct CatalogEntry {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) source: Option<String>,
    pub(crate) direct: Option<String>,
}

/// Where a `rust_deps_info` row came from: its series' `instance` and `job` (a catalog
/// replica, or a target publishing the family itself).
type RowSource = (Option<String>, Option<String>);

/// The catalog as read: each digest's crates, and every digest it holds.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    pub(crate) entries: BTreeMap<String, BTreeSet<CatalogEntry>>,
    pub(crate) digests: BTreeSet<String>,
    /// Digests (of the form this crate writes) for which no source's rows hash to the digest.
    pub(crate) unverified: BTreeSet<String>,
    /// The rows as read, by digest and source, until [`Catalog::finish`].
    read: BTreeMap<String, BTreeMap<RowSource, BTreeSet<CatalogEntry>>>,
}

impl Catalog {
    /// Adds one `rust_deps_info` series' labels; `None` without `deps`, `name` or `version`.
    pub(crate) fn add<'l>(&mut self, label: impl Fn(&str) -> Option<&'l str>) -> Option<()> {
        let deps = label("deps").filter(|d| !d.is_empty())?;
        let entry = CatalogEntry {
            name: label("name")?.to_owned(),
            version: label("version")?.to_owned(),
            source: label("source").map(str::to_owned),
            direct: label("direct").map(str::to_owned),
        };
        let from = (
            label("instance").map(str::to_owned),
            label("job").map(str::to_owned),
        );
        self.read
            .entry(deps.to_owned())
            .or_default()
            .entry(from)
            .or_default()
            .insert(entry);
        Some(())
    }

    /// Decides what is believed, once every row is read. A digest of the form this crate
    /// writes ([`is_digest`](build_info_collector::is_digest)) is held when the rows of one
    /// source (one catalog replica) are exactly its list: they hash to it. Replicas serve
    /// the same rows, so any one will do; rows from any other source are set aside, and a
    /// digest no source's rows match is [`unverified`](Self::unverified): its instances'
    /// crates are unknown. Any other `deps` value (another producer's, a future digest) is
    /// opaque: the rows of every source are taken together, as the join in PromQL takes them.
    pub(crate) fn finish(&mut self) {
        for (deps, sources) in std::mem::take(&mut self.read) {
            if build_info_collector::is_digest(&deps) {
                match sources.into_values().find(|rows| hashes_to(rows, &deps)) {
                    Some(rows) => {
                        self.entries.insert(deps.clone(), rows);
                        self.digests.insert(deps);
                    }
                    None => {
                        self.unverified.insert(deps);
                    }
                }
            } else {
                let all: BTreeSet<CatalogEntry> = sources.into_values().flatten().collect();
                self.entries.insert(deps.clone(), all);
                self.digests.insert(deps);
            }
        }
    }
}

/// Whether `rows` are exactly the list whose digest is `deps`.
fn hashes_to(rows: &BTreeSet<CatalogEntry>, deps: &str) -> bool {
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows {
        let direct = match r.direct.as_deref() {
            Some("true") => true,
            Some("false") => false,
            _ => return false,
        };
        let Some(source) = r.source.as_deref() else {
            return false;
        };
        entries.push(build_info_collector::DepsEntry {
            name: r.name.as_str().into(),
            version: r.version.as_str().into(),
            source: source.into(),
            direct,
        });
    }
    let list = build_info_collector::DepsList::from_entries(entries);
    // Rows that differ only in what a line cannot hold (a tab) would write the same line:
    // as many lines as rows, or it is not this list.
    list.len() == rows.len() && list.digest() == deps
}

/// One `rust_build_info` of the catalog part: an instance, or a count of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BuildRow {
    pub(crate) program: String,
    pub(crate) instance: Option<String>,
    pub(crate) job: Option<String>,
    pub(crate) deps: String,
    pub(crate) exporter: bool,
    pub(crate) count: usize,
    pub(crate) version: Option<String>,
    pub(crate) revision: Option<String>,
}

/// One program (instance, or count of instances) running one crate version: what either
/// part gives before the origin rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Row {
    pub(crate) program: String,
    pub(crate) instance: Option<String>,
    pub(crate) job: Option<String>,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) source: Option<String>,
    pub(crate) direct: Option<String>,
    pub(crate) program_version: Option<String>,
    pub(crate) revision: Option<String>,
    pub(crate) exporter: bool,
    pub(crate) count: usize,
}

/// Who a series (or `count by` sample) of either part stands for.
struct Producer {
    program: String,
    instance: Option<String>,
    job: Option<String>,
    exporter: bool,
    count: usize,
}

impl Producer {
    /// From a series' labels and value: per instance unless `counted` (a `count by` sample
    /// has no `instance`, and its value is how many instances it stands for).
    fn of<'l>(label: &impl Fn(&str) -> Option<&'l str>, value: Option<f64>, counted: bool) -> Self {
        Producer {
            program: label("program").unwrap_or(buildinfo::UNKNOWN).to_owned(),
            instance: if counted {
                None
            } else {
                label("instance").map(str::to_owned)
            },
            job: label("job").map(str::to_owned),
            exporter: label("origin") == Some("exporter"),
            count: if counted {
                super::instance_count(value)
            } else {
                1
            },
        }
    }
}

impl BuildRow {
    /// The row of a `rust_build_info` series (or `count by` sample) of the catalog part;
    /// `None` without a digest.
    pub(crate) fn read<'l>(
        label: impl Fn(&str) -> Option<&'l str>,
        value: Option<f64>,
        counted: bool,
    ) -> Option<BuildRow> {
        let deps = label("deps").filter(|d| !d.is_empty())?;
        let p = Producer::of(&label, value, counted);
        Some(BuildRow {
            program: p.program,
            instance: p.instance,
            job: p.job,
            deps: deps.to_owned(),
            exporter: p.exporter,
            count: p.count,
            version: label("version").map(str::to_owned),
            revision: label("revision").map(str::to_owned),
        })
    }
}

impl Row {
    /// The row of a `rust_mod_info` series (or `count by` sample) of the `full` part; `None`
    /// without `name` or `version`.
    pub(crate) fn read<'l>(
        label: impl Fn(&str) -> Option<&'l str>,
        value: Option<f64>,
        counted: bool,
    ) -> Option<Row> {
        let (name, version) = (label("name")?, label("version")?);
        let p = Producer::of(&label, value, counted);
        Some(Row {
            program: p.program,
            instance: p.instance,
            job: p.job,
            name: name.to_owned(),
            version: version.to_owned(),
            source: label("source").map(str::to_owned),
            direct: label("direct").map(str::to_owned),
            program_version: None,
            revision: None,
            exporter: p.exporter,
            count: p.count,
        })
    }
}

/// Instances whose digest the catalog does not hold, and those whose digest's rows do not
/// hash to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Unresolved {
    pub(crate) instances: usize,
    pub(crate) builds: BTreeSet<String>,
    pub(crate) unverified_instances: usize,
    pub(crate) unverified_builds: BTreeSet<String>,
}

/// The catalog part joined `on(deps)` with the catalog: one row per crate of each build row's
/// list. `with_source`: keep `source` (counted questions that ask for it, and per-instance
/// ones); `per_instance`: keep `direct` and the program's version and revision, as the `full`
/// part's per-instance series and build_info join give them.
pub(crate) fn join(
    builds: &[BuildRow],
    catalog: &Catalog,
    crates: &[String],
    with_source: bool,
    per_instance: bool,
) -> (Vec<Row>, Unresolved) {
    let mut rows = Vec::new();
    let mut unresolved = Unresolved::default();
    for b in builds {
        if catalog.unverified.contains(&b.deps) {
            unresolved.unverified_instances += b.count;
            unresolved.unverified_builds.insert(b.deps.clone());
            continue;
        }
        if !catalog.digests.contains(&b.deps) {
            unresolved.instances += b.count;
            unresolved.builds.insert(b.deps.clone());
            continue;
        }
        let Some(entries) = catalog.entries.get(&b.deps) else {
            continue;
        };
        let asked = |name: &str| {
            crates.is_empty()
                || crates
                    .iter()
                    .any(|c| buildinfo::model::same_crate_name(c, name))
        };
        for e in entries.iter().filter(|e| asked(&e.name)) {
            rows.push(Row {
                program: b.program.clone(),
                instance: b.instance.clone(),
                job: b.job.clone(),
                name: e.name.clone(),
                version: e.version.clone(),
                source: if with_source { e.source.clone() } else { None },
                direct: if per_instance { e.direct.clone() } else { None },
                program_version: if per_instance {
                    b.version.clone()
                } else {
                    None
                },
                revision: if per_instance {
                    b.revision.clone()
                } else {
                    None
                },
                exporter: b.exporter,
                count: b.count,
            });
        }
    }
    (rows, unresolved)
}

/// The origin rule over every row of both parts: the rows of `depinfo-exporter`
/// (`origin="exporter"`) are dropped for every program that has a row of its own collector;
/// then rows that differ only in origin (or came twice) are one, counts added for counted
/// rows (`count by` groups split by origin), kept once per instance.
pub(crate) fn origin_rule(rows: Vec<Row>) -> Vec<Row> {
    let collected: BTreeSet<String> = rows
        .iter()
        .filter(|r| !r.exporter)
        .map(|r| r.program.clone())
        .collect();
    let mut merged: BTreeMap<Row, usize> = BTreeMap::new();
    for mut r in rows {
        if r.exporter && collected.contains(&r.program) {
            continue;
        }
        let count = r.count;
        r.exporter = false;
        r.count = 0;
        let per_instance = r.instance.is_some();
        let slot = merged.entry(r).or_default();
        if per_instance {
            *slot = 1;
        } else {
            *slot += count;
        }
    }
    merged
        .into_iter()
        .map(|(mut r, count)| {
            r.count = count;
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(
        program: &str,
        instance: Option<&str>,
        deps: &str,
        exporter: bool,
        n: usize,
    ) -> BuildRow {
        BuildRow {
            program: program.into(),
            instance: instance.map(Into::into),
            job: Some("fleet".into()),
            deps: deps.into(),
            exporter,
            count: n,
            version: Some("1.0.0".into()),
            revision: Some("abc".into()),
        }
    }

    fn catalog(rows: &[(&str, &str, &str)], replica: &str) -> Catalog {
        let mut c = Catalog::default();
        for (deps, name, version) in rows {
            let labels = [
                ("deps", *deps),
                ("name", *name),
                ("version", *version),
                ("source", "crates.io"),
                ("direct", "true"),
                // The catalog target's own labels: never part of a row.
                ("instance", replica),
                ("job", "catalog"),
            ];
            c.add(|n| labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
                .unwrap();
        }
        c.finish();
        c
    }

    /// The counted rows of `builds` after the join and the origin rule.
    fn counted(builds: &[BuildRow], c: &Catalog, with_source: bool) -> Vec<Row> {
        origin_rule(join(builds, c, &[], with_source, false).0)
    }

    /// (program, count) of each row.
    fn program_counts(rows: &[Row]) -> Vec<(&str, usize)> {
        rows.iter().map(|r| (r.program.as_str(), r.count)).collect()
    }

    #[test]
    fn rows_are_read_per_instance_or_counted() {
        let labels = [
            ("__name__", "rust_mod_info"),
            ("program", "shop"),
            ("instance", "h:1"),
            ("job", "app"),
            ("origin", "exporter"),
            ("name", "serde"),
            ("version", "1.0.0"),
            ("source", "crates.io"),
            ("direct", "true"),
            ("deps", "d1"),
            ("revision", "abc"),
        ];
        let label = |n: &str| labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let row = Row::read(label, Some(3.0), false).unwrap();
        assert_eq!(
            (row.instance.as_deref(), row.count, row.exporter),
            (Some("h:1"), 1, true)
        );
        assert_eq!(
            (row.name.as_str(), row.source.as_deref()),
            ("serde", Some("crates.io"))
        );
        let row = Row::read(label, Some(3.0), true).unwrap();
        assert_eq!((row.instance, row.count), (None, 3));
        let build = BuildRow::read(label, None, true).unwrap();
        assert_eq!(
            (build.deps.as_str(), build.count, build.revision.as_deref()),
            ("d1", 1, Some("abc"))
        );
        // Without a name, a version or a digest: no row; without a program: `unknown`.
        let none = |n: &str| (n == "name").then_some("serde");
        assert!(Row::read(none, None, false).is_none());
        assert!(BuildRow::read(|n| (n == "deps").then_some(""), None, false).is_none());
        let b = BuildRow::read(|n| (n == "deps").then_some("d1"), None, false).unwrap();
        assert_eq!((b.program.as_str(), b.exporter), ("unknown", false));
    }

    #[test]
    fn queries_per_layout() {
        assert_eq!(DETECT_QUERY, "count by (layout) (rust_build_info)");
        assert_eq!(
            build_info_query(true, false),
            r#"count by (program, job, deps, origin) (rust_build_info{layout!="full",deps!=""} > 0)"#
        );
        assert_eq!(
            build_info_query(false, false),
            r#"rust_build_info{layout!="full",deps!=""}"#
        );
        assert_eq!(
            build_info_query(false, true),
            r#"rust_build_info{deps!=""}"#
        );
        assert_eq!(DEPS_INFO_QUERY, "rust_deps_info");
        assert_eq!(
            mixed_mod_info_query(Some(false), &[], false),
            "count by (program, job, name, version, origin) (rust_mod_info > 0)"
        );
        assert_eq!(
            mixed_mod_info_query(Some(true), &["a".into()], true),
            r#"count by (program, job, name, version, source, origin) (rust_mod_info{name=~"a"} > 0 unless on(instance, job, program) rust_build_info{layout!="full",layout!="catalog"})"#
        );
        assert_eq!(
            mixed_mod_info_query(None, &["a".into()], false),
            r#"rust_mod_info{name=~"a"}"#
        );
    }

    #[test]
    fn detection_tells_full_fleets_from_others() {
        let mut d = Detected::default();
        // Not an answer to the detection query: left out.
        d.add(Some("catalog"), true, Some(3.0));
        assert_eq!(d, Detected::default());
        d.add(Some("full"), false, Some(2.0));
        d.add(Some("full"), false, Some(1.0));
        assert_eq!(d.layouts["full"], 3);
        let mut d = Detected::default();
        assert!(!d.any() && !d.has_catalog_instances() && !d.needs_exclusion());
        d.layouts.insert("full".into(), 3);
        assert!(d.any() && !d.has_catalog_instances() && !d.needs_exclusion());
        d.layouts.insert("catalog".into(), 1);
        assert!(d.has_catalog_instances() && !d.needs_exclusion());
        d.layouts.insert("direct".into(), 1);
        assert!(d.needs_exclusion());
        let mut absent = Detected::default();
        absent.layouts.insert(String::new(), 1);
        assert!(absent.has_catalog_instances() && absent.needs_exclusion());
    }

    #[test]
    fn replicas_of_the_catalog_are_one() {
        let mut c = catalog(
            &[("d1", "serde", "1.0.0"), ("d1", "itoa", "1.0.1")],
            "cat-a:1",
        );
        let again = catalog(
            &[("d1", "serde", "1.0.0"), ("d1", "itoa", "1.0.1")],
            "cat-b:1",
        );
        for (deps, entries) in again.entries {
            c.entries.entry(deps).or_default().extend(entries);
        }
        let (rows, unresolved) = join(&[build("app", None, "d1", false, 4)], &c, &[], false, false);
        assert_eq!(unresolved, Unresolved::default());
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows.iter()
                .all(|r| r.count == 4 && r.source.is_none() && r.direct.is_none())
        );
        // Adding the same labels twice keeps one row.
        let mut twice = catalog(&[("d1", "serde", "1.0.0")], "x");
        assert!(
            twice
                .add(|n| match n {
                    "deps" => Some("d1"),
                    "name" => Some("serde"),
                    "version" => Some("1.0.0"),
                    "source" => Some("crates.io"),
                    "direct" => Some("true"),
                    _ => None,
                })
                .is_some()
        );
        assert_eq!(twice.entries["d1"].len(), 1);
        assert!(twice.add(|n| (n == "name").then_some("x")).is_none());
    }

    #[test]
    fn two_programs_share_one_list_and_counts_add_up_per_program() {
        let c = catalog(&[("d1", "serde", "1.0.0")], "cat");
        let rows = counted(
            &[
                build("a", None, "d1", false, 2),
                build("b", None, "d1", false, 3),
            ],
            &c,
            true,
        );
        assert_eq!(program_counts(&rows), [("a", 2), ("b", 3)]);
        assert_eq!(rows[0].source.as_deref(), Some("crates.io"));
        // Two builds of one program in one job: the versions they share are counted together.
        let c = catalog(
            &[
                ("d1", "serde", "1.0.0"),
                ("d2", "serde", "1.0.0"),
                ("d2", "itoa", "1.0.1"),
            ],
            "cat",
        );
        let rows = counted(
            &[
                build("a", None, "d1", false, 2),
                build("a", None, "d2", false, 5),
            ],
            &c,
            false,
        );
        let counts: Vec<(&str, usize)> = rows.iter().map(|r| (r.name.as_str(), r.count)).collect();
        assert_eq!(counts, [("itoa", 5), ("serde", 7)]);
    }

    #[test]
    fn per_instance_rows_carry_the_build_and_are_kept_once() {
        let c = catalog(&[("d1", "serde", "1.0.0")], "cat");
        let b = build("a", Some("h:1"), "d1", false, 1);
        let rows = origin_rule(join(&[b.clone(), b], &c, &[], true, true).0);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].count, 1);
        assert_eq!(rows[0].program_version.as_deref(), Some("1.0.0"));
        assert_eq!(rows[0].revision.as_deref(), Some("abc"));
        assert_eq!(rows[0].direct.as_deref(), Some("true"));
    }

    #[test]
    fn the_exporter_counts_only_for_programs_no_collector_reports() {
        let c = catalog(&[("d1", "serde", "1.0.0")], "cat");
        let rows = counted(
            &[
                build("a", None, "d1", false, 2),
                build("a", None, "d1", true, 9),
                build("b", None, "d1", true, 4),
            ],
            &c,
            false,
        );
        assert_eq!(program_counts(&rows), [("a", 2), ("b", 4)]);
        assert!(rows.iter().all(|r| !r.exporter));
    }

    #[test]
    fn an_unresolved_digest_is_counted_not_dropped() {
        // d3 is held, without a row of the crate asked for: known, not unresolved.
        let c = catalog(&[("d1", "serde", "1.0.0"), ("d3", "itoa", "1.0.0")], "cat");
        let (rows, unresolved) = join(
            &[
                build("a", None, "d1", false, 2),
                build("b", None, "d2", false, 3),
                build("c", Some("h:1"), "d2", false, 1),
                build("e", None, "d3", false, 7),
            ],
            &c,
            &["serde".into()],
            false,
            false,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].program.as_str(), rows[0].count), ("a", 2));
        assert_eq!(unresolved.instances, 4);
        assert_eq!(unresolved.builds.len(), 1);
        assert_eq!(unresolved.unverified_instances, 0);
        // Every crate when none is asked for; the crate filter matches up to `-`/`_`.
        let (rows, _) = join(&[build("e", None, "d3", false, 7)], &c, &[], false, false);
        assert_eq!(rows.len(), 1);
        let (rows, _) = join(
            &[build("a", None, "d1", false, 2)],
            &c,
            &["SERDE".into(), "se-rde".into()],
            false,
            false,
        );
        assert!(rows.is_empty(), "{rows:?}");
    }

    /// A catalog of `rows` (deps, instance, name, version, direct), each from the source
    /// `instance` in job `catalog`.
    fn sourced(rows: &[(&str, &str, &str, &str, &str)]) -> Catalog {
        let mut c = Catalog::default();
        for (deps, instance, name, version, direct) in rows {
            let labels = [
                ("deps", *deps),
                ("instance", *instance),
                ("job", "catalog"),
                ("name", *name),
                ("version", *version),
                ("source", "crates.io"),
                ("direct", *direct),
            ];
            c.add(|n| labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
                .unwrap();
        }
        c.finish();
        c
    }

    fn list(crates: &[(&str, &str, bool)]) -> build_info_collector::DepsList {
        build_info_collector::DepsList::from_entries(crates.iter().map(|(n, v, d)| {
            build_info_collector::DepsEntry {
                name: (*n).into(),
                version: (*v).into(),
                source: "crates.io".into(),
                direct: *d,
            }
        }))
    }

    #[test]
    fn a_digest_is_believed_only_from_rows_that_hash_to_it() {
        let honest = list(&[("serde", "1.0.0", true), ("itoa", "1.0.1", false)]);
        let d = honest.digest();
        let rows = |from: &str| -> Vec<(&str, String, &str, &str, &str)> {
            vec![
                (d, from.to_owned(), "serde", "1.0.0", "true"),
                (d, from.to_owned(), "itoa", "1.0.1", "false"),
            ]
        };
        let catalog_of = |all: Vec<(&str, String, &str, &str, &str)>| {
            let borrowed: Vec<(&str, &str, &str, &str, &str)> = all
                .iter()
                .map(|(a, b, c, e, f)| (*a, b.as_str(), *c, *e, *f))
                .collect();
            sourced(&borrowed)
        };
        let names =
            |c: &Catalog| -> Vec<String> { c.entries[d].iter().map(|e| e.name.clone()).collect() };
        // Two replicas and a target that adds a crate to the list under its own labels:
        // the replicas' rows hash to the digest, the forger's are set aside.
        let mut all = rows("cat-a:1");
        all.extend(rows("cat-b:1"));
        all.extend(rows("evil:1"));
        all.push((d, "evil:1".into(), "openssl", "0.10.0", "false"));
        let c = catalog_of(all);
        assert_eq!(names(&c), ["itoa", "serde"]);
        assert!(c.unverified.is_empty());
        // Only the forger: no source hashes to the digest, its instances are unknown.
        let mut forged = rows("evil:1");
        forged.push((d, "evil:1".into(), "openssl", "0.10.0", "false"));
        let c = catalog_of(forged);
        assert!(c.digests.is_empty() && c.entries.is_empty());
        assert_eq!(c.unverified.iter().collect::<Vec<_>>(), [d]);
        let (rows_joined, unresolved) =
            join(&[build("a", None, d, false, 3)], &c, &[], false, false);
        assert!(rows_joined.is_empty());
        assert_eq!(unresolved.unverified_instances, 3);
        assert_eq!(unresolved.unverified_builds.len(), 1);
        assert_eq!(unresolved.instances, 0);
        // A forger making a digest look held with a crate missing (hiding one) is caught too.
        let c = catalog_of(vec![(d, "evil:1".into(), "itoa", "1.0.1", "false")]);
        assert_eq!(c.unverified.len(), 1);
        // The catalog's own rows merged with a forger's under the same labels: unverified.
        let mut merged = rows("cat-a:1");
        merged.push((d, "cat-a:1".into(), "openssl", "0.10.0", "false"));
        assert_eq!(catalog_of(merged).unverified.len(), 1);
        // `direct` must be true or false, and `source` present, for rows to be a list.
        let mut odd = rows("cat-a:1");
        odd[0].4 = "yes";
        assert_eq!(catalog_of(odd).unverified.len(), 1);
        let mut c = Catalog::default();
        for (name, version, direct) in [("serde", "1.0.0", "true"), ("itoa", "1.0.1", "false")] {
            let labels = [
                ("deps", d),
                ("name", name),
                ("version", version),
                ("direct", direct),
            ];
            c.add(|n| labels.iter().find(|(k, _)| *k == n).map(|(_, v)| *v))
                .unwrap();
        }
        c.finish();
        assert_eq!(c.unverified.len(), 1);
    }

    #[test]
    fn other_producers_digests_are_opaque_and_joined_from_every_source() {
        let c = sourced(&[
            ("sha512:abc", "cat-a:1", "serde", "1.0.0", "true"),
            ("sha512:abc", "cat-b:1", "itoa", "1.0.1", "false"),
        ]);
        assert!(c.unverified.is_empty());
        assert_eq!(c.entries["sha512:abc"].len(), 2);
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(256))]

        /// Rows from Prometheus are anyone's label values: reading them never panics, a
        /// list's own rows (from one source, in any order, beside any other source's rows)
        /// are believed, and rows that differ from the list in one field never are.
        #[test]
        fn rows_are_believed_exactly_when_they_are_the_list(
            crates in proptest::collection::vec(
                ("[a-z][a-z0-9_-]{0,12}", "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}", proptest::bool::ANY),
                1..20,
            ),
            noise in proptest::collection::vec(("\\PC{0,12}", "\\PC{0,12}", "\\PC{0,6}"), 0..8),
            change in "\\PC{1,12}",
            which in 0usize..20,
        ) {
            let listed: Vec<(&str, &str, bool)> =
                crates.iter().map(|(n, v, d)| (n.as_str(), v.as_str(), *d)).collect();
            let l = list(&listed);
            let d = l.digest().to_owned();
            let mut honest: Vec<(String, String, String)> = l
                .entries()
                .map(|e| (e.name.into_owned(), e.version.into_owned(), e.direct.to_string()))
                .collect();
            honest.reverse();
            let mut rows: Vec<(&str, &str, &str, &str, &str)> = honest
                .iter()
                .map(|(n, v, dir)| (d.as_str(), "cat:1", n.as_str(), v.as_str(), dir.as_str()))
                .collect();
            rows.extend(noise.iter().map(|(n, v, dir)| {
                (d.as_str(), "evil:1", n.as_str(), v.as_str(), dir.as_str())
            }));
            let c = sourced(&rows);
            proptest::prop_assert!(c.unverified.is_empty());
            proptest::prop_assert_eq!(c.entries[&d].len(), honest.len());

            // One field of one of the list's rows changed: not the list any more.
            let i = which % honest.len();
            let mut altered = honest.clone();
            if altered[i].1 == change {
                return Ok(());
            }
            altered[i].1.clone_from(&change);
            let rows: Vec<(&str, &str, &str, &str, &str)> = altered
                .iter()
                .map(|(n, v, dir)| (d.as_str(), "cat:1", n.as_str(), v.as_str(), dir.as_str()))
                .collect();
            let c = sourced(&rows);
            proptest::prop_assert!(c.entries.is_empty());
            proptest::prop_assert_eq!(c.unverified.len(), 1);
        }
    }
}
