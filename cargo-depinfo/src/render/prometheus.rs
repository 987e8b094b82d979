//! Prometheus text exposition for node_exporter's textfile collector: the programs as
//! build-info-collector serves them, and one family set per question. Every family goes
//! through the collector's one writer, which escapes HELP texts and label values.

use std::borrow::Cow;
use std::collections::BTreeMap;

use build_info_collector::{
    BuildInfoLabels, Family, RustModInfoLabels, SampleValue, build_info_family, render,
    rust_mod_info_family,
};

use crate::questions::{CrateSpread, Hit, Level, Report, Row};
use depinfo_read::inventory::Inventory;

/// Renders families whose names are constants or come from `metric_name`.
fn render_known(families: &[Family<'_>]) -> String {
    render(families).unwrap_or_else(|e| unreachable!("constant metric and label names: {e}"))
}

/// How [`push_program`] writes label values.
#[derive(Debug, Clone, Copy)]
pub struct LabelStyle {
    /// Applied to every label value and to the program name a `<program>_build_info` family
    /// is named after (the exporter escapes control characters there; files keep values as
    /// they are).
    pub value: for<'v> fn(Cow<'v, str>) -> Cow<'v, str>,
    /// An `origin` label added to every series, in its sorted place.
    pub origin: Option<&'static str>,
}

impl LabelStyle {
    /// Values as they are, no `origin`: the collector's own labels.
    pub(crate) const PLAIN: LabelStyle = LabelStyle {
        value: unchanged,
        origin: None,
    };

    /// A collector's label pairs (sorted by name) in this style.
    pub fn pairs<'a>(
        self,
        pairs: impl IntoIterator<Item = (&'static str, Cow<'a, str>)>,
    ) -> Vec<(&'static str, Cow<'a, str>)> {
        let mut pairs: Vec<_> = pairs
            .into_iter()
            .map(|(name, value)| (name, (self.value)(value)))
            .collect();
        if let Some(origin) = self.origin {
            let at = pairs.partition_point(|(name, _)| *name < "origin");
            pairs.insert(at, ("origin", origin.into()));
        }
        pairs
    }
}

fn unchanged(value: Cow<'_, str>) -> Cow<'_, str> {
    value
}

/// One program's series in the families build-info-collector would serve for it, with the
/// collector's names, HELP texts and labels: its `<program>_build_info` (when it has build
/// facts) into `build_info`, by family name (two programs whose names give one metric name
/// share the family that came first), and a `rust_mod_info` series into `mod_info` for each
/// runtime crate whose `direct` flag `keep_mod` accepts. `prometheus` and the exporter both
/// build their families here.
pub fn push_program<'a>(
    inv: &'a Inventory,
    style: LabelStyle,
    keep_mod: impl Fn(bool) -> bool,
    build_info: &mut BTreeMap<String, Family<'a>>,
    mod_info: &mut Family<'a>,
) {
    if let Some(b) = &inv.build {
        let family = build_info_family(&(style.value)(inv.program.as_str().into()));
        let labels = BuildInfoLabels::of_facts(b, &inv.version);
        build_info
            .entry(family.name().to_owned())
            .or_insert(family)
            .push(style.pairs(labels.pairs()), 1);
    }
    for p in inv.runtime_crates().filter(|p| keep_mod(p.direct)) {
        let labels = RustModInfoLabels {
            direct: p.direct,
            name: p.name.as_str().into(),
            program: inv.program.as_str().into(),
            source: p.source.as_str().into(),
            version: p.version.as_str().into(),
        };
        mod_info.push(style.pairs(labels.pairs()), 1);
    }
}

/// The programs as the Prometheus text exposition build-info-collector would serve for each:
/// `<program>_build_info` (programs with build facts) and `rust_mod_info` (runtime
/// dependencies), with the collector's names, HELP texts and labels, for node_exporter's
/// textfile collector. Each family appears once, its series sorted and deduplicated, so any
/// number of programs make one valid exposition. Labels never carry a path.
pub fn prometheus(inventories: &[Inventory]) -> String {
    // By name, so that families come out sorted.
    let mut families: BTreeMap<String, Family<'_>> = BTreeMap::new();
    let mut mod_info = rust_mod_info_family();
    for inv in inventories {
        push_program(
            inv,
            LabelStyle::PLAIN,
            |_| true,
            &mut families,
            &mut mod_info,
        );
    }
    if !mod_info.is_empty() {
        families.insert(mod_info.name().to_owned(), mod_info);
    }
    for family in families.values_mut() {
        family.sort_series();
    }
    render(families.values())
        .unwrap_or_else(|e| unreachable!("names from metric_name and the collector's schema: {e}"))
}

/// Prometheus textfile-collector exposition: `cargo_depinfo_affected{location,name,program,
/// requirement,version} 1` per hit and `cargo_depinfo_affected_programs{name,requirement}`.
pub fn affected_prometheus(name: &str, requirement: &str, hits: &[Hit]) -> String {
    let mut affected = Family::gauge(
        "cargo_depinfo_affected",
        "A constant '1' per program (instance or binary) running a version of a crate that matches a SemVer requirement.",
    );
    // One series per label set (hits of one version from two sources differ only in source or
    // kind, which are no labels here).
    let mut seen = std::collections::BTreeSet::new();
    let mut runners = std::collections::BTreeSet::new();
    for h in hits {
        runners.insert((&h.location, &h.observation.runner.program));
        if !seen.insert((
            &h.location,
            &h.observation.runner.program,
            &h.observation.version,
        )) {
            continue;
        }
        affected.push(
            [
                ("location", h.location.as_str()),
                ("name", name),
                ("program", h.observation.runner.program.as_str()),
                ("requirement", requirement),
                ("version", &h.observation.version),
            ],
            1,
        );
    }
    let mut programs = Family::gauge(
        "cargo_depinfo_affected_programs",
        "Programs (instances or binaries) running a version of a crate that matches a SemVer requirement.",
    );
    programs.push(
        [("name", name), ("requirement", requirement)],
        runners.len(),
    );
    render_known(&[affected, programs])
}

/// Prometheus textfile-collector exposition: `cargo_depinfo_crate_versions{name}` (distinct
/// versions) and `cargo_depinfo_crate_version_runners{name,version}` (programs running each).
pub fn spread_prometheus(crates: &[CrateSpread]) -> String {
    let mut versions = Family::gauge(
        "cargo_depinfo_crate_versions",
        "Distinct versions of a crate that the programs read by cargo depinfo run.",
    );
    let mut runners = Family::gauge(
        "cargo_depinfo_crate_version_runners",
        "Programs (instances or binaries) running one version of a crate.",
    );
    for c in crates {
        versions.push([("name", c.name.as_str())], c.version_count);
        for v in &c.versions {
            runners.push(
                [("name", c.name.as_str()), ("version", v.version.as_str())],
                v.instances(),
            );
        }
    }
    render_known(&[versions, runners])
}

/// `outdated`'s answer: how far behind each crate version is.
const OUTDATED: &str = "cargo_depinfo_outdated";
/// `outdated`'s answer: how many crate versions each program has behind.
const OUTDATED_CRATES: &str = "cargo_depinfo_outdated_crates";
/// The names `outdated` wrote before every answer moved to `cargo_depinfo_*`: written beside
/// [`OUTDATED`] and [`OUTDATED_CRATES`], with the same labels and values, for one release
/// (FORMAT.md, "Metric names"; RELEASING.md's checklist removes them).
const DEPRECATED_OUTDATED: &str = "rust_mod_outdated";
/// See [`DEPRECATED_OUTDATED`].
const DEPRECATED_OUTDATED_CRATES: &str = "rust_mod_outdated_crates";

/// An answer's family and the deprecated alias that repeats its series under an old name.
struct Aliased<'a> {
    family: Family<'a>,
    alias: Family<'a>,
}

impl<'a> Aliased<'a> {
    fn gauge(name: &'static str, help: &'static str, old_name: &'static str) -> Aliased<'a> {
        Aliased {
            family: Family::gauge(name, help),
            alias: Family::gauge(
                old_name,
                format!(
                    "Deprecated alias of {name} (same labels and values), written for one release only: use {name}."
                ),
            ),
        }
    }

    fn push<const N: usize>(
        &mut self,
        labels: [(&'static str, &'a str); N],
        value: impl Into<SampleValue> + Copy,
    ) {
        self.family.push(labels, value);
        self.alias.push(labels, value);
    }
}

/// Prometheus text exposition for node_exporter's textfile collector:
///
/// ```text
/// # HELP cargo_depinfo_outdated …
/// # TYPE cargo_depinfo_outdated gauge
/// cargo_depinfo_outdated{name="rand",newest="0.9.0",newest_compatible="0.7.3",program="app",version="0.7.3"} 3
/// # HELP cargo_depinfo_outdated_crates …
/// # TYPE cargo_depinfo_outdated_crates gauge
/// cargo_depinfo_outdated_crates{program="app"} 1
/// ```
///
/// One `cargo_depinfo_outdated` series per program, crate and version (0 up to date,
/// 1 patch, 2 minor, 3 major), one `cargo_depinfo_outdated_crates` per program (crates behind
/// at any level). Copies of a program at several paths give one series. The HELP texts do not
/// depend on the program, so one file holds every program checked in one run. The deprecated
/// `rust_mod_outdated` and `rust_mod_outdated_crates` follow, with the same series, for one
/// release.
pub fn outdated_prometheus(report: &Report) -> String {
    let mut series: BTreeMap<(&str, &str, &str), &Row> = BTreeMap::new();
    for r in &report.rows {
        series.entry((&r.program, &r.name, &r.version)).or_insert(r);
    }
    let mut counts: BTreeMap<&str, usize> =
        report.programs.iter().map(|p| (p.as_str(), 0)).collect();
    let mut outdated = Aliased::gauge(
        OUTDATED,
        "How far the crate version a program was built with is behind the newest release in the registry index: 0 up to date, 1 patch, 2 minor, 3 major (breaking).",
        DEPRECATED_OUTDATED,
    );
    for ((program, name, version), r) in series {
        outdated.push(
            [
                ("name", name),
                ("newest", r.newest.as_str()),
                ("newest_compatible", r.newest_compatible.as_str()),
                ("program", program),
                ("version", version),
            ],
            r.level.value(),
        );
        if r.level != Level::None {
            *counts.entry(program).or_insert(0) += 1;
        }
    }
    let mut crates = Aliased::gauge(
        OUTDATED_CRATES,
        "The number of crate versions a program was built with that are behind the newest release in the registry index.",
        DEPRECATED_OUTDATED_CRATES,
    );
    for (program, n) in counts {
        crates.push([("program", program)], n);
    }
    // By name: the answers, then their deprecated aliases.
    render_known(&[outdated.family, crates.family, outdated.alias, crates.alias])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questions::Report;
    use crate::render::{sample, sample_with_facts};

    /// The answer under its `cargo_depinfo_*` names, then the same series under the
    /// deprecated names, whose HELP names the replacement; sorted by name, so one file holds
    /// both and `promtool` accepts it.
    #[test]
    fn outdated_answers_and_their_deprecated_aliases_byte_for_byte() {
        let row = |program: &str, name: &str, version: &str, level| Row {
            program: program.into(),
            location: format!("bin/{program}"),
            name: name.into(),
            version: version.into(),
            newest_compatible: "1.0.1".into(),
            newest: "2.0.0".into(),
            level,
        };
        let report = Report {
            rows: vec![
                row("app", "x", "1.0.0", Level::Major),
                row("app", "y", "2.0.0", Level::None),
                // The same program at another path: one series.
                Row {
                    location: "other/app".into(),
                    ..row("app", "x", "1.0.0", Level::Major)
                },
            ],
            programs: vec!["app".into(), "idle".into()],
            errors: vec![],
        };
        assert_eq!(
            outdated_prometheus(&report),
            concat!(
                "# HELP cargo_depinfo_outdated How far the crate version a program was built with is behind the newest release in the registry index: 0 up to date, 1 patch, 2 minor, 3 major (breaking).\n",
                "# TYPE cargo_depinfo_outdated gauge\n",
                "cargo_depinfo_outdated{name=\"x\",newest=\"2.0.0\",newest_compatible=\"1.0.1\",program=\"app\",version=\"1.0.0\"} 3\n",
                "cargo_depinfo_outdated{name=\"y\",newest=\"2.0.0\",newest_compatible=\"1.0.1\",program=\"app\",version=\"2.0.0\"} 0\n",
                "# HELP cargo_depinfo_outdated_crates The number of crate versions a program was built with that are behind the newest release in the registry index.\n",
                "# TYPE cargo_depinfo_outdated_crates gauge\n",
                "cargo_depinfo_outdated_crates{program=\"app\"} 1\n",
                "cargo_depinfo_outdated_crates{program=\"idle\"} 0\n",
                "# HELP rust_mod_outdated Deprecated alias of cargo_depinfo_outdated (same labels and values), written for one release only: use cargo_depinfo_outdated.\n",
                "# TYPE rust_mod_outdated gauge\n",
                "rust_mod_outdated{name=\"x\",newest=\"2.0.0\",newest_compatible=\"1.0.1\",program=\"app\",version=\"1.0.0\"} 3\n",
                "rust_mod_outdated{name=\"y\",newest=\"2.0.0\",newest_compatible=\"1.0.1\",program=\"app\",version=\"2.0.0\"} 0\n",
                "# HELP rust_mod_outdated_crates Deprecated alias of cargo_depinfo_outdated_crates (same labels and values), written for one release only: use cargo_depinfo_outdated_crates.\n",
                "# TYPE rust_mod_outdated_crates gauge\n",
                "rust_mod_outdated_crates{program=\"app\"} 1\n",
                "rust_mod_outdated_crates{program=\"idle\"} 0\n",
            )
        );
    }

    /// Two programs whose names give one metric name share the first one's family; a program
    /// read twice gives its series once; build-only crates and roots are no series.
    #[test]
    fn programs_as_the_collector_serves_them_byte_for_byte() {
        let text = prometheus(&[
            sample(),
            sample_with_facts("my-svc"),
            sample(),
            sample_with_facts("my_svc"),
        ]);
        assert_eq!(
            text,
            concat!(
                "# HELP my_svc_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which my-svc was built.\n",
                "# TYPE my_svc_build_info gauge\n",
                "my_svc_build_info{branch=\"main\",features=\"default,tls\",profile=\"unknown\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified\",rustversion=\"unknown\",target=\"unknown\",version=\"1.4.2\"} 1\n",
                "# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n",
                "# TYPE rust_mod_info gauge\n",
                "rust_mod_info{direct=\"true\",name=\"itoa\",program=\"my-svc\",source=\"crates.io\",version=\"1.0.15\"} 1\n",
                "rust_mod_info{direct=\"true\",name=\"itoa\",program=\"my_svc\",source=\"crates.io\",version=\"1.0.15\"} 1\n",
                "rust_mod_info{direct=\"true\",name=\"serde\",program=\"app\",source=\"crates.io\",version=\"1.0.219\"} 1\n",
            )
        );
    }
}
