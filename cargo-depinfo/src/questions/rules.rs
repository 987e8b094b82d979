//! `cargo depinfo rules`: Prometheus alerting rules (YAML) over what build-info-collector
//! exposes: crate version spread on `rust_mod_info`, and build_info revision drift (several
//! revisions of one program running at once, that is, a deploy that has not finished).

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
}

/// The spread alert's default `for:`. A rolling deploy that bumps a crate runs the old and the
/// new version side by side for a few minutes: that is not spread worth a page.
pub const SPREAD_FOR: &str = "15m";
/// The drift alert's default `for:`. Every rolling deploy runs two revisions at once until it
/// has finished; a deploy that is still half done after half an hour is what the alert is for.
pub const DRIFT_FOR: &str = "30m";

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

/// The PromQL of the spread alert: one series per crate running in more than `max_versions`
/// versions, valued by the number of versions.
pub fn spread_expr(max_versions: usize, crates: &[String]) -> Result<String, RulesError> {
    let selector = if crates.is_empty() {
        String::new()
    } else {
        for c in crates {
            if !build_info_collector::is_crate_name(c) {
                return Err(RulesError::CrateName(shorten(c)));
            }
        }
        let mut names: Vec<&str> = crates.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        format!("{{name=~\"{}\"}}", names.join("|"))
    };
    Ok(format!(
        "count by (name) (count by (name, version) (rust_mod_info{selector})) > {max_versions}"
    ))
}

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
    for duration in [&options.spread_for, &options.drift_for] {
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
        "# Prometheus alerting rules written by cargo depinfo {} (`cargo depinfo rules`).",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str(
        "# Series come from build-info-collector: rust_mod_info and <program>_build_info.\n",
    );
    out.push_str("groups:\n");
    let _ = writeln!(out, "  - name: {}", quote(&options.group));
    out.push_str("    rules:\n");
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
        assert_eq!(
            spread_expr(2, &[]).unwrap(),
            "count by (name) (count by (name, version) (rust_mod_info)) > 2"
        );
        assert_eq!(
            spread_expr(1, &["serde".into(), "itoa".into(), "serde".into()]).unwrap(),
            "count by (name) (count by (name, version) (rust_mod_info{name=~\"itoa|serde\"})) > 1"
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
        assert_eq!(fors, ["        for: 15m", "        for: 30m"], "{r}");
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
        fn rules_accept_exactly_the_valid_durations(s in "[0-9]{0,4}[ymwdhs]{0,2}[0-9]{0,2}[ms]{0,2}") {
            let r = rules(&RulesOptions { drift_for: s.clone(), ..RulesOptions::default() });
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
