//! `cargo depinfo rules`: Prometheus recording and alerting rules (YAML) over what
//! build-info-collector and `depinfo-catalog` expose.
//!
//! The recording rules turn both layouts into the same ready series, each instance counted
//! once: instances whose `rust_build_info` says `layout="full"` (or that have no
//! `rust_build_info`: older collectors) through their `rust_mod_info`, the others through the
//! catalog (`rust_deps_info`, joined on `deps`), and a program's exporter series
//! (`origin="exporter"`) only when no collector reports that program. The alerts read them:
//! crate version spread, build_info revision drift (several revisions of one program running
//! at once, that is, a deploy that has not finished), dependency lists the catalog cannot
//! resolve, and optionally advisories.
//!
//! Two programs can share one list (several binaries of one package), so the catalog join
//! never puts `program` on the side that must be unique: PromQL arithmetic is one-to-one or
//! one-to-many, and the per-program answer for one crate is a set operation (`and on(deps)`),
//! which the README shows instead of a rule.

use std::fmt::Write as _;

/// What the rules say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RulesOptions {
    /// The spread alert fires when a crate runs in more versions than this.
    pub max_versions: usize,
    /// Restrict the spread alert to these crates (all when empty).
    pub crates: Vec<String>,
    /// The spread alert's `for:` (a Prometheus duration): how long a crate must run in too
    /// many versions before the alert fires. Default `15m`.
    pub spread_for: String,
    /// The drift alert's `for:` (a Prometheus duration): how long several revisions of a
    /// program must run at once before the alert fires. Default `30m`.
    pub drift_for: String,
    /// The `severity` label.
    pub severity: String,
    /// The rule group's name.
    pub group: String,
    /// Add the advisory alert on `rust_advisory_info` (`cargo depinfo audit --format
    /// prometheus` written for node_exporter's textfile collector).
    pub advisories: bool,
    /// Which series the rules read.
    pub layout: RulesLayout,
    /// The unknown-list alert's `for:` (a Prometheus duration): how long instances may run a
    /// build whose list the catalog does not hold before the alert fires. Default `10m`.
    pub unknown_for: String,
}

/// Which series the rules read, that is, which layouts the fleet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RulesLayout {
    /// Any mix of layouts, a fleet half migrated included: `full` instances (and older
    /// collectors without `rust_build_info`) through `rust_mod_info`, the others through the
    /// catalog.
    #[default]
    Auto,
    /// Every instance on the `full` layout: `rust_mod_info` only, the cheapest rules (no
    /// `rust_build_info`, no catalog).
    Full,
    /// Every instance publishes `rust_build_info` with its digest: the catalog only
    /// (`rust_mod_info` is not read; an instance without `rust_build_info` is not counted).
    Catalog,
}

impl RulesLayout {
    /// The name the `--layout` flag takes.
    pub fn as_str(self) -> &'static str {
        match self {
            RulesLayout::Auto => "auto",
            RulesLayout::Full => "full",
            RulesLayout::Catalog => "catalog",
        }
    }
}

/// The spread alert's default `for:`. A rolling deploy that bumps a crate runs the old and the
/// new version side by side for a few minutes: that is not spread worth a page.
pub const SPREAD_FOR: &str = "15m";
/// The drift alert's default `for:`. Every rolling deploy runs two revisions at once until it
/// has finished; a deploy that is still half done after half an hour is what the alert is for.
pub const DRIFT_FOR: &str = "30m";
/// The unknown-list alert's default `for:`. The catalog fetches a new build's list within a
/// scrape or two of its first instance; ten minutes later it is missing for a reason (the
/// catalog is down, not scraped, or cannot reach the instance).
pub const UNKNOWN_FOR: &str = "10m";

impl Default for RulesOptions {
    fn default() -> Self {
        RulesOptions {
            max_versions: 1,
            crates: Vec::new(),
            spread_for: SPREAD_FOR.into(),
            drift_for: DRIFT_FOR.into(),
            severity: "warning".into(),
            group: "rust-dependencies".into(),
            advisories: false,
            layout: RulesLayout::Auto,
            unknown_for: UNKNOWN_FOR.into(),
        }
    }
}

/// The longest flag value an error repeats, in characters.
const ECHO: usize = 64;

/// `value` as an error repeats it: whole up to [`ECHO`] characters, else its start and `…`,
/// so a megabyte passed as a flag makes a one-line message, not a megabyte of stderr.
fn shorten(value: &str) -> String {
    match value.char_indices().nth(ECHO) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

/// Why the options cannot make valid rules. Each names the value (its first 64 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// A `--crate` that is not a crate name.
    #[error("{0:?} is not a crate name (letters, digits, '-' and '_')")]
    CrateName(String),
    /// A `for:` (`--spread-for`, `--drift-for`) that is not a Prometheus duration.
    #[error("{0:?} is not a Prometheus duration (for example 0s, 90s, 15m, 1h30m)")]
    Duration(String),
    /// A label value that would not survive YAML and PromQL.
    #[error("{0:?} is not a valid {1}")]
    Value(String, &'static str),
}

/// The advisory alert's name.
pub const ADVISORY_ALERT: &str = "RustAdvisoryAffectsRunningProgram";

/// The PromQL of the advisory alert: one series per advisory, crate and program with at least
/// one affected instance (vulnerabilities only: informational advisories do not page),
/// valued by the number of instances. The series' own `severity` (the CVSS band) is summed
/// away: the alert's `severity` label is the rule's.
pub const ADVISORY_EXPR: &str =
    r#"sum by (advisory, name, program) (rust_advisory_info{kind="vulnerability"}) > 0"#;

/// The spread alert's name.
pub const SPREAD_ALERT: &str = "RustCrateVersionSpread";
/// The revision drift alert's name.
pub const DRIFT_ALERT: &str = "RustProgramRevisionDrift";
/// The unknown-list alert's name.
pub const UNKNOWN_ALERT: &str = "RustDependencyListUnknown";

/// Recorded: per program and digest, the instances answered through the catalog.
pub const PROGRAM_DEPS_COUNT: &str = "program_deps:rust_build_info:count";
/// Recorded: per digest, the instances answered through the catalog (every program).
pub const DEPS_COUNT: &str = "deps:rust_build_info:count";
/// Recorded: per crate and version, the instances running it, over every layout.
pub const NAME_VERSION_INSTANCES: &str = "name_version:rust_instances:count";
/// Recorded: per crate, the number of versions running, over every layout.
pub const NAME_VERSIONS: &str = "name:rust_versions:count";

/// The `rust_mod_info` series that answer for their instances in the `auto` layout: the
/// exporter's only for programs no collector reports (neither `rust_mod_info` nor
/// `rust_build_info`), and none from an instance that publishes a digest with another layout
/// than `full` (the `direct` layout's own series: that instance is answered by the catalog).
const FULL_ROWS_AUTO: &str = r#"(rust_mod_info{origin!="exporter"} or on(program) (rust_mod_info{origin="exporter"} unless on(program) rust_build_info{origin!="exporter"})) unless on(instance, job) rust_build_info{deps!="",layout!="full"}"#;
/// The `rust_mod_info` series that answer in the `full` layout: the origin rule only.
const FULL_ROWS_FULL: &str =
    r#"rust_mod_info{origin!="exporter"} or on(program) rust_mod_info{origin="exporter"}"#;
/// The `rust_build_info` series answered through the catalog in the `auto` layout: a digest
/// and a layout other than `full`; the exporter's only for programs no collector reports.
const CATALOG_ROWS_AUTO: &str = r#"rust_build_info{deps!="",layout!="full",origin!="exporter"} or (rust_build_info{deps!="",layout!="full",origin="exporter"} unless on(program) (rust_build_info{origin!="exporter"} or rust_mod_info{origin!="exporter"}))"#;
/// The `rust_build_info` series answered through the catalog in the `catalog` layout: every
/// one with a digest, whatever its layout.
const CATALOG_ROWS_CATALOG: &str = r#"rust_build_info{deps!="",origin!="exporter"} or (rust_build_info{deps!="",origin="exporter"} unless on(program) rust_build_info{origin!="exporter"})"#;

/// The catalog side of [`NAME_VERSION_INSTANCES`]: one row per digest, crate and version,
/// valued by the instances running that digest. `max by` drops the catalog replicas' own
/// `instance` and `job` and keeps one row where several replicas serve the same list; the
/// join is one-to-many (one [`DEPS_COUNT`] per digest), so it holds when several programs
/// share a list.
fn catalog_join() -> String {
    format!("max by (deps, name, version) (rust_deps_info) * on(deps) group_left() {DEPS_COUNT}")
}

/// The recording rules for `layout`, in evaluation order (each may read the ones before it):
/// (record, expr).
pub fn recording_rules(layout: RulesLayout) -> Vec<(&'static str, String)> {
    // One row per instance, program, crate and version: a crate on a list twice (two
    // sources) counts its instance once.
    let per_instance =
        |rows: &str| format!("group by (instance, job, program, name, version) ({rows})");
    let mut rules = Vec::new();
    let catalog_rows = match layout {
        RulesLayout::Auto => Some(CATALOG_ROWS_AUTO),
        RulesLayout::Catalog => Some(CATALOG_ROWS_CATALOG),
        RulesLayout::Full => None,
    };
    if let Some(rows) = catalog_rows {
        rules.push((
            PROGRAM_DEPS_COUNT,
            format!("count by (program, deps) ({rows})"),
        ));
        rules.push((DEPS_COUNT, format!("sum by (deps) ({PROGRAM_DEPS_COUNT})")));
    }
    let instances = match layout {
        // The two sides' rows never share a label set (the first carry `instance`, the
        // second `deps`), so `or` keeps them all and `sum by` adds them up.
        RulesLayout::Auto => format!(
            "sum by (name, version) ({} or {})",
            per_instance(FULL_ROWS_AUTO),
            catalog_join()
        ),
        RulesLayout::Full => format!(
            "count by (name, version) ({})",
            per_instance(FULL_ROWS_FULL)
        ),
        RulesLayout::Catalog => format!("sum by (name, version) ({})", catalog_join()),
    };
    rules.push((NAME_VERSION_INSTANCES, instances));
    rules.push((
        NAME_VERSIONS,
        format!("count by (name) ({NAME_VERSION_INSTANCES})"),
    ));
    rules
}

/// The PromQL of the spread alert: one series per crate running in more than `max_versions`
/// versions, valued by the number of versions (read from the recorded [`NAME_VERSIONS`], the
/// same on every layout).
pub fn spread_expr(max_versions: usize, crates: &[String]) -> Result<String, RulesError> {
    let selector = if crates.is_empty() {
        String::new()
    } else {
        for c in crates {
            if !buildinfo::model::is_crate_name(c) {
                return Err(RulesError::CrateName(shorten(c)));
            }
        }
        let mut names: Vec<&str> = crates.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        format!("{{name=~\"{}\"}}", names.join("|"))
    };
    Ok(format!("{NAME_VERSIONS}{selector} > {max_versions}"))
}

/// The PromQL of the unknown-list alert: one series per program and digest answered through
/// the catalog that no `rust_deps_info` resolves, valued by its instances. Those instances are
/// missing from every count until the catalog serves their list: unknown, never clean.
pub const UNKNOWN_EXPR: &str = "program_deps:rust_build_info:count unless on(deps) rust_deps_info";

/// The PromQL of the drift alert: one series per program (build-info programs only: they
/// carry `rustversion`) running more than one revision, valued by the number of revisions.
pub const DRIFT_EXPR: &str = r#"count by (program) (count by (program, revision) (label_replace({__name__=~".+_build_info",rustversion!=""}, "program", "$1", "__name__", "(.+)_build_info"))) > 1"#;

/// Whether `s` is a duration Prometheus accepts: its syntax and its range (at most
/// `i64::MAX` nanoseconds, as Prometheus stores it).
fn is_duration(s: &str) -> bool {
    /// `i64::MAX` nanoseconds, in whole milliseconds.
    const MAX_MS: u64 = 9_223_372_036_854;
    duration_ms(s).is_some_and(|ms| ms <= MAX_MS)
}

/// A Prometheus duration in milliseconds:
/// `((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?`, not empty; `None` for
/// anything else, or a value beyond `u64` milliseconds.
fn duration_ms(s: &str) -> Option<u64> {
    // Matched in this order ("ms" before "m"); the rank is the Prometheus order.
    let units: [(&str, u8, u64); 7] = [
        ("y", 1, 365 * 24 * 3_600_000),
        ("w", 2, 7 * 24 * 3_600_000),
        ("d", 3, 24 * 3_600_000),
        ("h", 4, 3_600_000),
        ("ms", 7, 1),
        ("m", 5, 60_000),
        ("s", 6, 1000),
    ];
    let mut rest = s;
    let mut last = 0;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, rank, ms) = units.iter().find(|(u, _, _)| rest.starts_with(u))?;
        // Units come in order, each at most once.
        if *rank <= last {
            return None;
        }
        last = *rank;
        total = total.checked_add(n.checked_mul(*ms)?)?;
        rest = &rest[unit.len()..];
    }
    Some(total)
}

/// A YAML single-quoted scalar (only `'` needs escaping, by doubling).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The rules file.
pub fn rules(options: &RulesOptions) -> Result<String, RulesError> {
    for duration in [
        &options.spread_for,
        &options.drift_for,
        &options.unknown_for,
    ] {
        if !is_duration(duration) {
            return Err(RulesError::Duration(shorten(duration)));
        }
    }
    for (value, what) in [
        (&options.severity, "severity"),
        (&options.group, "group name"),
    ] {
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(RulesError::Value(shorten(value), what));
        }
    }
    let spread = spread_expr(options.max_versions, &options.crates)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Prometheus recording and alerting rules written by cargo depinfo {} (`cargo depinfo rules --layout {}`).",
        env!("CARGO_PKG_VERSION"),
        options.layout.as_str()
    );
    out.push_str(match options.layout {
        RulesLayout::Auto => "# Series come from build-info-collector (rust_mod_info, rust_build_info, <program>_build_info)\n# and depinfo-catalog (rust_deps_info), on any mix of layouts; each instance counts once.\n",
        RulesLayout::Full => "# Series come from build-info-collector on the full layout: rust_mod_info and <program>_build_info.\n",
        RulesLayout::Catalog => "# Series come from build-info-collector (rust_build_info, <program>_build_info) and cargo depinfo\n# catalog (rust_deps_info); rust_mod_info is not read.\n",
    });
    out.push_str(
        "# The recording rules come first and in this order: each reads the ones before it, and\n# the alerts read them. Evaluate the group where rust_deps_info and rust_build_info are both\n# in scope (Thanos Ruler or Mimir's ruler over several Prometheus servers).\n",
    );
    out.push_str("groups:\n");
    let _ = writeln!(out, "  - name: {}", quote(&options.group));
    out.push_str("    rules:\n");
    for (record, expr) in recording_rules(options.layout) {
        let _ = writeln!(out, "      - record: {record}");
        let _ = writeln!(out, "        expr: {}", quote(&expr));
    }
    let rule = |out: &mut String,
                alert: &str,
                expr: &str,
                for_duration: &str,
                summary: &str,
                description: &str| {
        let _ = writeln!(out, "      - alert: {alert}");
        let _ = writeln!(out, "        expr: {}", quote(expr));
        let _ = writeln!(out, "        for: {for_duration}");
        out.push_str("        labels:\n");
        let _ = writeln!(out, "          severity: {}", quote(&options.severity));
        out.push_str("        annotations:\n");
        let _ = writeln!(out, "          summary: {}", quote(summary));
        let _ = writeln!(out, "          description: {}", quote(description));
    };
    rule(
        &mut out,
        SPREAD_ALERT,
        &spread,
        &options.spread_for,
        "Crate {{ $labels.name }} runs in {{ $value }} versions",
        &format!(
            "{{{{ $value }}}} distinct versions of {{{{ $labels.name }}}} run across the fleet (limit {}). `cargo depinfo spread --crate {{{{ $labels.name }}}} --prometheus URL` lists who runs which.",
            options.max_versions
        ),
    );
    rule(
        &mut out,
        DRIFT_ALERT,
        DRIFT_EXPR,
        &options.drift_for,
        "Program {{ $labels.program }} runs {{ $value }} revisions",
        "{{ $value }} revisions of {{ $labels.program }} are running at once: a deploy has not finished everywhere. `count by (revision, instance) ({{ $labels.program }}_build_info)` shows who runs which.",
    );
    if options.layout != RulesLayout::Full {
        rule(
            &mut out,
            UNKNOWN_ALERT,
            UNKNOWN_EXPR,
            &options.unknown_for,
            "The catalog lacks the dependency list of {{ $labels.program }}",
            "{{ $value }} instance(s) of {{ $labels.program }} run a build whose dependency list ({{ $labels.deps }}) no rust_deps_info series holds: they are missing from the crate counts and the spread alert until it does. Is `depinfo-catalog` up, and scraped by this Prometheus?",
        );
    }
    if options.advisories {
        // No `for:` beyond a scrape or two: the finding does not come and go with a deploy,
        // it is there until the program is upgraded or stopped.
        rule(
            &mut out,
            ADVISORY_ALERT,
            ADVISORY_EXPR,
            "0s",
            "{{ $labels.program }} runs {{ $labels.name }} affected by {{ $labels.advisory }}",
            "{{ $value }} instance(s) of {{ $labels.program }} run a version of {{ $labels.name }} that {{ $labels.advisory }} affects. `cargo depinfo audit --prometheus URL` lists them with the advisory's patched versions.",
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_expr_fires_above_the_limit() {
        assert_eq!(spread_expr(2, &[]).unwrap(), "name:rust_versions:count > 2");
        assert_eq!(
            spread_expr(1, &["serde".into(), "itoa".into(), "serde".into()]).unwrap(),
            "name:rust_versions:count{name=~\"itoa|serde\"} > 1"
        );
        assert!(spread_expr(1, &["a.*".into()]).is_err());
    }

    #[test]
    fn durations_follow_prometheus() {
        for ok in ["0s", "90s", "5m", "1h30m", "1d", "100ms", "1m30s500ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "", "5", "m", "5x", "30s1m", "1.5m", "5m5m", "-5m", " 5m", "5m ",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
        assert_eq!(duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(duration_ms("1y1w1d1h1m1s1ms"), Some(32_230_861_001));
    }

    #[test]
    fn durations_beyond_what_prometheus_stores_are_refused() {
        // Prometheus keeps a duration as i64 nanoseconds: about 292 years.
        assert!(is_duration("292y"));
        assert!(!is_duration("293y"));
        assert!(!is_duration("99999999999999999999s"));
        assert!(!is_duration("18446744073709551615y"));
        assert_eq!(duration_ms("18446744073709551615y"), None);
    }

    #[test]
    fn the_default_for_durations_outlast_a_rolling_deploy() {
        let r = rules(&RulesOptions::default()).unwrap();
        let fors: Vec<&str> = r
            .lines()
            .filter(|l| l.trim_start().starts_with("for:"))
            .collect();
        assert_eq!(
            fors,
            ["        for: 15m", "        for: 30m", "        for: 10m"],
            "{r}"
        );
        assert!(!r.contains("for: 0s"), "{r}");
        let short = rules(&RulesOptions {
            spread_for: "0s".into(),
            drift_for: "1h".into(),
            ..RulesOptions::default()
        })
        .unwrap();
        assert!(
            short.contains("for: 0s\n") && short.contains("for: 1h\n"),
            "{short}"
        );
    }

    #[test]
    fn a_huge_flag_value_is_echoed_shortened() {
        let huge = "9".repeat(1 << 20) + "s";
        let Err(RulesError::Duration(echoed)) = rules(&RulesOptions {
            spread_for: huge,
            ..RulesOptions::default()
        }) else {
            panic!("a duration out of range was accepted");
        };
        assert_eq!(echoed, format!("{}…", "9".repeat(ECHO)));
        assert_eq!(shorten("15m"), "15m");
        assert_eq!(shorten(&"é".repeat(ECHO)), "é".repeat(ECHO));
    }

    #[test]
    fn each_for_duration_is_validated() {
        for options in [
            RulesOptions {
                spread_for: "soon".into(),
                ..RulesOptions::default()
            },
            RulesOptions {
                drift_for: "30 m".into(),
                ..RulesOptions::default()
            },
            RulesOptions {
                unknown_for: "10".into(),
                ..RulesOptions::default()
            },
        ] {
            assert!(matches!(rules(&options), Err(RulesError::Duration(_))));
        }
    }

    #[test]
    fn yaml_quotes_single_quotes() {
        assert_eq!(quote("it's"), "'it''s'");
        let r = rules(&RulesOptions {
            severity: "page'r".into(),
            ..RulesOptions::default()
        })
        .unwrap();
        assert!(r.contains("severity: 'page''r'"), "{r}");
    }

    #[test]
    fn each_layout_records_the_same_series_for_the_alerts() {
        let records = |layout| -> Vec<&str> {
            recording_rules(layout)
                .into_iter()
                .map(|(r, _)| r)
                .collect()
        };
        assert_eq!(
            records(RulesLayout::Auto),
            [
                PROGRAM_DEPS_COUNT,
                DEPS_COUNT,
                NAME_VERSION_INSTANCES,
                NAME_VERSIONS
            ]
        );
        assert_eq!(records(RulesLayout::Catalog), records(RulesLayout::Auto));
        assert_eq!(
            records(RulesLayout::Full),
            [NAME_VERSION_INSTANCES, NAME_VERSIONS]
        );
        // Full reads neither rust_build_info nor the catalog; catalog never reads rust_mod_info.
        let exprs = |layout| -> String {
            recording_rules(layout)
                .into_iter()
                .map(|(_, e)| e)
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(!exprs(RulesLayout::Full).contains("rust_build_info"));
        assert!(!exprs(RulesLayout::Full).contains("rust_deps_info"));
        assert!(!exprs(RulesLayout::Catalog).contains("rust_mod_info"));
        // The unknown-list alert reads what the full layout does not record.
        let full = rules(&RulesOptions {
            layout: RulesLayout::Full,
            ..RulesOptions::default()
        })
        .unwrap();
        assert!(!full.contains(UNKNOWN_ALERT), "{full}");
        assert!(
            rules(&RulesOptions::default())
                .unwrap()
                .contains(UNKNOWN_ALERT)
        );
    }

    #[test]
    fn every_record_is_defined_before_it_is_read() {
        for layout in [RulesLayout::Auto, RulesLayout::Full, RulesLayout::Catalog] {
            let rules = recording_rules(layout);
            // The metric names an expression reads (and its other words).
            let names = |expr: &str| -> Vec<String> {
                expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .map(str::to_owned)
                    .collect()
            };
            for (i, (_, expr)) in rules.iter().enumerate() {
                for (later, _) in &rules[i..] {
                    let later = (*later).to_owned();
                    assert!(
                        !names(expr).contains(&later),
                        "{layout:?}: {expr} reads {later}"
                    );
                }
            }
            // Every record is read by a later one or by the spread alert.
            let spread = spread_expr(1, &[]).unwrap();
            for (i, (record, _)) in rules.iter().enumerate() {
                let read = rules[i + 1..]
                    .iter()
                    .map(|(_, e)| e.as_str())
                    .chain([spread.as_str()])
                    .any(|e| names(e).contains(&(*record).to_owned()));
                assert!(read, "{layout:?}: {record} is never read");
            }
        }
    }

    /// An oracle written another way: cut into digit runs and unit runs first, then check
    /// each unit is known and the units come in Prometheus' order.
    fn oracle_ms(s: &str) -> Option<u64> {
        let order = ["y", "w", "d", "h", "m", "s", "ms"];
        let ms = [
            31_536_000_000_u64,
            604_800_000,
            86_400_000,
            3_600_000,
            60_000,
            1000,
            1,
        ];
        let mut tokens: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let digit = c.is_ascii_digit();
            match tokens.last_mut() {
                Some((d, t)) if *d == digit => t.push(c),
                _ => tokens.push((digit, c.to_string())),
            }
        }
        if tokens.is_empty() || !tokens.len().is_multiple_of(2) {
            return None;
        }
        let mut total = 0_u64;
        let mut next = 0;
        for pair in tokens.chunks(2) {
            let [(true, n), (false, unit)] = pair else {
                return None;
            };
            let i = order.iter().position(|u| u == unit)?;
            if i < next {
                return None;
            }
            next = i + 1;
            total = total.checked_add(n.parse::<u64>().ok()?.checked_mul(ms[i])?)?;
        }
        Some(total)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        /// Every duration in Prometheus' syntax (units in order, each at most once) is read
        /// with its value.
        #[test]
        fn generated_durations_are_read_with_their_value(
            parts in proptest::collection::vec(proptest::option::of(0_u64..1_000_000), 7)
        ) {
            let units = [("y", 31_536_000_000_u64), ("w", 604_800_000), ("d", 86_400_000),
                ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)];
            let mut text = String::new();
            let mut total = 0;
            for (n, (unit, ms)) in parts.iter().zip(units) {
                if let Some(n) = n {
                    let _ = write!(text, "{n}{unit}");
                    total += n * ms;
                }
            }
            proptest::prop_assume!(!text.is_empty());
            proptest::prop_assert_eq!(duration_ms(&text), Some(total));
            // Within Prometheus' range (i64 nanoseconds) exactly.
            proptest::prop_assert_eq!(is_duration(&text), total <= 9_223_372_036_854);
        }

        /// Any text, and mutations of real durations: no panic, and the same verdict and value
        /// as the oracle.
        #[test]
        fn any_text_is_classified_as_the_oracle_does(
            s in "[0-9ymwdhs]{0,12}|[0-9]{0,25}[ymwdhs]{1,3}|\\PC{0,16}"
        ) {
            proptest::prop_assert_eq!(duration_ms(&s), oracle_ms(&s), "{:?}", s);
        }

        /// A duration used in `rules` gives a rule file, anything else one error naming it.
        #[test]
        fn rules_accept_exactly_the_valid_durations(
            s in "[0-9]{0,4}[ymwdhs]{0,2}[0-9]{0,2}[ms]{0,2}",
            unknown in proptest::bool::ANY,
        ) {
            let r = if unknown {
                rules(&RulesOptions { unknown_for: s.clone(), ..RulesOptions::default() })
            } else {
                rules(&RulesOptions { drift_for: s.clone(), ..RulesOptions::default() })
            };
            if is_duration(&s) {
                let text = r.unwrap();
                let expected = format!("for: {s}\n");
                proptest::prop_assert!(text.contains(&expected));
            } else {
                proptest::prop_assert_eq!(r, Err(RulesError::Duration(shorten(&s))));
            }
        }
    }
}
