//! Prometheus text exposition for node_exporter's textfile collector: the programs as
//! build-info-collector serves them, and one family set per question.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use build_info_collector::push_label_value;

use crate::inventory::{Inventory, Kind};
use crate::questions::{CrateSpread, Hit, Level, Report, Row};

/// The programs as the Prometheus text exposition build-info-collector would serve for each:
/// `<program>_build_info` (programs with build facts) and `rust_mod_info` (runtime
/// dependencies), with the collector's HELP texts and labels, for node_exporter's textfile
/// collector. Each family appears once, its series sorted and deduplicated, so any number of
/// programs make one valid exposition. Labels never carry a path.
pub fn prometheus(inventories: &[Inventory]) -> String {
    use std::collections::BTreeSet;

    use build_info_collector::{
        BUILD_INFO_HELP_TEMPLATE, RUST_MOD_INFO, RUST_MOD_INFO_HELP, metric_name, push_label_value,
    };

    let series = |labels: &[(&str, &str)]| {
        let mut out = String::from("{");
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"");
            push_label_value(&mut out, v);
            out.push('"');
        }
        out.push_str("} 1");
        out
    };
    // family name -> (help, series)
    let mut families: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for inv in inventories {
        if let Some(b) = &inv.build {
            let name = format!("{}_build_info", metric_name(&inv.program));
            let revision = buildinfo::revision_label(&b.revision, b.modified);
            let features = b.features.join(",");
            let help = BUILD_INFO_HELP_TEMPLATE.replace("{program}", &inv.program);
            let line = series(&[
                ("branch", &b.branch),
                ("features", &features),
                ("profile", &b.profile),
                ("revision", &revision),
                ("rustversion", &b.rust_version),
                ("target", &b.target),
                ("version", &inv.version),
            ]);
            families
                .entry(name)
                .or_insert_with(|| (help, BTreeSet::new()))
                .1
                .insert(line);
        }
        for p in inv
            .packages
            .iter()
            .filter(|p| !p.root && p.kind == Kind::Runtime)
        {
            let line = series(&[
                ("direct", if p.direct { "true" } else { "false" }),
                ("name", &p.name),
                ("program", &inv.program),
                ("source", &p.source),
                ("version", &p.version),
            ]);
            families
                .entry(RUST_MOD_INFO.to_owned())
                .or_insert_with(|| (RUST_MOD_INFO_HELP.to_owned(), BTreeSet::new()))
                .1
                .insert(line);
        }
    }
    let mut out = String::new();
    for (name, (help, lines)) in families {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for l in lines {
            let _ = writeln!(out, "{name}{l}");
        }
    }
    out
}

/// Prometheus textfile-collector exposition: `cargo_depinfo_affected{location,name,program,
/// requirement,version} 1` per hit and `cargo_depinfo_affected_programs{name,requirement}`.
pub fn affected_prometheus(name: &str, requirement: &str, hits: &[Hit]) -> String {
    let mut out = String::new();
    out.push_str("# HELP cargo_depinfo_affected A constant '1' per program (instance or binary) running a version of a crate that matches a SemVer requirement.\n");
    out.push_str("# TYPE cargo_depinfo_affected gauge\n");
    let mut seen = std::collections::BTreeSet::new();
    for h in hits {
        let key = (&h.location, &h.program, &h.version);
        if !seen.insert(key) {
            continue;
        }
        out.push_str("cargo_depinfo_affected{location=\"");
        push_label_value(&mut out, &h.location);
        out.push_str("\",name=\"");
        push_label_value(&mut out, name);
        out.push_str("\",program=\"");
        push_label_value(&mut out, &h.program);
        out.push_str("\",requirement=\"");
        push_label_value(&mut out, requirement);
        out.push_str("\",version=\"");
        push_label_value(&mut out, &h.version);
        out.push_str("\"} 1\n");
    }
    out.push_str("# HELP cargo_depinfo_affected_programs Programs (instances or binaries) running a version of a crate that matches a SemVer requirement.\n");
    out.push_str("# TYPE cargo_depinfo_affected_programs gauge\n");
    out.push_str("cargo_depinfo_affected_programs{name=\"");
    push_label_value(&mut out, name);
    out.push_str("\",requirement=\"");
    push_label_value(&mut out, requirement);
    let _ = writeln!(out, "\"}} {}", seen.len());
    out
}

/// Prometheus textfile-collector exposition: `cargo_depinfo_crate_versions{name}` (distinct
/// versions) and `cargo_depinfo_crate_version_runners{name,version}` (programs running each).
pub fn spread_prometheus(crates: &[CrateSpread]) -> String {
    let mut out = String::new();
    out.push_str("# HELP cargo_depinfo_crate_versions Distinct versions of a crate that the programs read by cargo depinfo run.\n");
    out.push_str("# TYPE cargo_depinfo_crate_versions gauge\n");
    for c in crates {
        out.push_str("cargo_depinfo_crate_versions{name=\"");
        push_label_value(&mut out, &c.name);
        let _ = writeln!(out, "\"}} {}", c.version_count);
    }
    out.push_str("# HELP cargo_depinfo_crate_version_runners Programs (instances or binaries) running one version of a crate.\n");
    out.push_str("# TYPE cargo_depinfo_crate_version_runners gauge\n");
    for c in crates {
        for v in &c.versions {
            out.push_str("cargo_depinfo_crate_version_runners{name=\"");
            push_label_value(&mut out, &c.name);
            out.push_str("\",version=\"");
            push_label_value(&mut out, &v.version);
            let _ = writeln!(out, "\"}} {}", v.running.len());
        }
    }
    out
}

/// Escapes a label value for the exposition format.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    build_info_collector::push_label_value(&mut out, value);
    out
}

/// Prometheus text exposition for node_exporter's textfile collector:
///
/// ```text
/// # HELP rust_mod_outdated …
/// # TYPE rust_mod_outdated gauge
/// rust_mod_outdated{name="rand",newest="0.9.0",newest_compatible="0.7.3",program="app",version="0.7.3"} 3
/// # HELP rust_mod_outdated_crates …
/// # TYPE rust_mod_outdated_crates gauge
/// rust_mod_outdated_crates{program="app"} 1
/// ```
///
/// One `rust_mod_outdated` series per program, crate and version (0 up to date, 1 patch,
/// 2 minor, 3 major), one `rust_mod_outdated_crates` per program (crates behind at any level).
/// Copies of a program at several paths give one series. The HELP texts do not depend on the
/// program, so one file holds every program checked in one run.
pub fn outdated_prometheus(report: &Report) -> String {
    let mut series: BTreeMap<(&str, &str, &str), &Row> = BTreeMap::new();
    for r in &report.rows {
        series.entry((&r.program, &r.name, &r.version)).or_insert(r);
    }
    let mut counts: BTreeMap<&str, usize> =
        report.programs.iter().map(|p| (p.as_str(), 0)).collect();
    let mut out = String::new();
    out.push_str(
        "# HELP rust_mod_outdated How far the crate version a program was built with is behind the newest release in the registry index: 0 up to date, 1 patch, 2 minor, 3 major (breaking).\n\
         # TYPE rust_mod_outdated gauge\n",
    );
    for ((program, name, version), r) in &series {
        let _ = writeln!(
            out,
            "rust_mod_outdated{{name=\"{}\",newest=\"{}\",newest_compatible=\"{}\",program=\"{}\",version=\"{}\"}} {}",
            label(name),
            label(&r.newest),
            label(&r.newest_compatible),
            label(program),
            label(version),
            r.level.value()
        );
        if r.level != Level::None {
            *counts.entry(program).or_insert(0) += 1;
        }
    }
    out.push_str(
        "# HELP rust_mod_outdated_crates The number of crate versions a program was built with that are behind the newest release in the registry index.\n\
         # TYPE rust_mod_outdated_crates gauge\n",
    );
    for (program, n) in counts {
        let _ = writeln!(
            out,
            "rust_mod_outdated_crates{{program=\"{}\"}} {n}",
            label(program)
        );
    }
    out
}
