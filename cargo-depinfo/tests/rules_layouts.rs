//! `cargo depinfo rules` on every layout, evaluated by the real `promtool test rules`
//! (Debian package `prometheus`; the test fails without it) over one fleet written out in
//! each layout: every collector on `full` (one of them an older collector without
//! `rust_build_info`), every one on `catalog` (the catalog served by two replicas under their
//! own `instance` labels), a fleet half migrated, every one on `direct`, and the catalog
//! missing a list. Three programs share one list (several binaries of one package), and a
//! host's exporter reports a program its collector reports too (`origin="exporter"`).
//!
//! The expected values below are counted by hand from the fleet (see [`FLEET`]), written once,
//! and the same for every layout: that is the claim. Mutation checks then break the rules on
//! purpose (the catalog replicas' dedup, the direct layout's `unless`, the origin rule, a
//! `group_right` join) and assert that promtool reports the difference, so these tests can
//! fail. The README's PromQL one-liners and their catalog twins are run the same way, and
//! VictoriaMetrics (Debian package `victoria-metrics`, on 127.0.0.1, stopped by its guard)
//! answers the recording rules' expressions over the half-migrated fleet alike.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::{Scratch, check_rules, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// One crate on a dependency list: name, version, source, direct.
type Entry = (&'static str, &'static str, &'static str, bool);

/// The dependency lists of the fleet, by digest (opaque join keys to the rules). The last is
/// in the catalog, but no instance runs it any more (the catalog keeps what it fetched).
const LISTS: [(&str, &[Entry]); 4] = [
    (
        "0d1e2f30415263748596a7b8c9daebfc",
        &[
            ("codec", "1.0.0", "crates.io", true),
            ("itoa", "1.0.10", "crates.io", false),
            ("serde_json", "1.0.100", "crates.io", true),
        ],
    ),
    (
        "7c6b5a49382716051f0e1d2c3b4a5968",
        &[
            ("codec", "1.1.0", "crates.io", true),
            ("itoa", "1.0.10", "crates.io", false),
            ("serde_json", "1.0.120", "crates.io", true),
        ],
    ),
    (
        "e5d4c3b2a1908f7e6d5c4b3a29181706",
        &[
            ("codec", "1.1.0", "crates.io", true),
            // One crate version from two sources: its instance still counts once.
            ("itoa", "1.0.11", "crates.io", false),
            ("itoa", "1.0.11", "git", false),
            ("serde_json", "1.0.140", "crates.io", true),
        ],
    ),
    (
        "99887766554433221100ffeeddccbbaa",
        &[
            ("codec", "0.9.0", "crates.io", true),
            ("serde_json", "1.0.90", "crates.io", true),
        ],
    ),
];

/// Every list the catalog serves when it is complete.
const SERVED: [usize; 4] = [0, 1, 2, 3];

/// One producer of series: (instance, job, program, list index, revision, from the exporter).
type Member = (
    &'static str,
    &'static str,
    &'static str,
    usize,
    &'static str,
    bool,
);

/// The fleet. myapp runs lists 0 and 1 (a rolling deploy: two revisions), worker and cron
/// are two more binaries of the package whose list 1 myapp's new revision shares, and the
/// exporter on host h reports myapp (whose collector reports it already: not counted again)
/// and legacy (no collector: counted through the exporter).
///
/// Counted by hand, one per instance (a, b, c, w1, w2, k, and legacy on h):
/// list 0: a, b (2); list 1: c, w1, w2, k (4); list 2: legacy (1). So
/// codec 1.0.0: 2, codec 1.1.0: 4 + 1 = 5, itoa 1.0.10: 2 + 4 = 6, itoa 1.0.11: 1 (two
/// sources, one instance), serde_json 1.0.100: 2, 1.0.120: 4, 1.0.140: 1; versions: codec 2,
/// itoa 2, serde_json 3 (over the spread limit 2); myapp runs 2 revisions (drift).
const FLEET: [Member; 8] = [
    ("a:1", "app", "myapp", 0, "r1", false),
    ("b:1", "app", "myapp", 0, "r1", false),
    ("c:1", "app", "myapp", 1, "r2", false),
    ("w:1", "app", "worker", 1, "r7", false),
    ("w:2", "app", "worker", 1, "r7", false),
    ("k:1", "app", "cron", 1, "r7", false),
    ("h:9", "exporter", "myapp", 0, "r1", true),
    ("h:9", "exporter", "legacy", 2, "r0", true),
];

/// The series a member publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `rust_mod_info` for every crate, and `rust_build_info{layout="full"}`.
    Full,
    /// `rust_build_info{layout="catalog"}` only.
    Catalog,
    /// `rust_build_info{layout="direct"}` and `rust_mod_info` for direct dependencies.
    Direct,
    /// An older collector: `rust_mod_info` for every crate, no `rust_build_info`.
    Old,
}

/// The input series of `members` shaped by `shape` (member index -> shape), and the catalog
/// serving `served` lists from each of `replicas`, as promtool's `input_series`.
fn input_series(
    shape: &dyn Fn(usize) -> Shape,
    replicas: &[&str],
    served: &[usize],
    members: &[Member],
) -> String {
    let mut out = String::new();
    let mut series = |s: String| {
        let _ = writeln!(out, "      - series: '{s}'\n        values: '1x60'");
    };
    for (i, &(instance, job, program, list, revision, exporter)) in members.iter().enumerate() {
        let origin = if exporter { ",origin=\"exporter\"" } else { "" };
        let (deps, entries) = LISTS[list];
        let common = format!("instance=\"{instance}\",job=\"{job}\"{origin}");
        series(format!(
            "{program}_build_info{{{common},revision=\"{revision}\",rustversion=\"1.95.0\",version=\"0.1.0\"}}"
        ));
        let shape = shape(i);
        let layout = match shape {
            Shape::Full => Some("full"),
            Shape::Catalog => Some("catalog"),
            Shape::Direct => Some("direct"),
            Shape::Old => None,
        };
        if let Some(layout) = layout {
            series(format!(
                "rust_build_info{{{common},deps=\"{deps}\",layout=\"{layout}\",program=\"{program}\",revision=\"{revision}\",version=\"0.1.0\"}}"
            ));
        }
        for &(name, version, source, direct) in entries {
            let published = match shape {
                Shape::Full | Shape::Old => true,
                Shape::Direct => direct,
                Shape::Catalog => false,
            };
            if published {
                series(format!(
                    "rust_mod_info{{{common},direct=\"{direct}\",name=\"{name}\",program=\"{program}\",source=\"{source}\",version=\"{version}\"}}"
                ));
            }
        }
    }
    for replica in replicas {
        for &list in served {
            let (deps, entries) = LISTS[list];
            for &(name, version, source, direct) in entries {
                series(format!(
                    "rust_deps_info{{instance=\"{replica}\",job=\"rust-catalog\",deps=\"{deps}\",direct=\"{direct}\",name=\"{name}\",source=\"{source}\",version=\"{version}\"}}"
                ));
            }
        }
    }
    out
}

const REPLICAS: [&str; 2] = ["catalog-a:9", "catalog-b:9"];

/// `name_version:rust_instances:count` and `name:rust_versions:count` for [`FLEET`], by hand.
const COUNTS: &str = r#"      - expr: name_version:rust_instances:count
        eval_time: 5m
        exp_samples:
          - {labels: 'name_version:rust_instances:count{name="codec",version="1.0.0"}', value: 2}
          - {labels: 'name_version:rust_instances:count{name="codec",version="1.1.0"}', value: 5}
          - {labels: 'name_version:rust_instances:count{name="itoa",version="1.0.10"}', value: 6}
          - {labels: 'name_version:rust_instances:count{name="itoa",version="1.0.11"}', value: 1}
          - {labels: 'name_version:rust_instances:count{name="serde_json",version="1.0.100"}', value: 2}
          - {labels: 'name_version:rust_instances:count{name="serde_json",version="1.0.120"}', value: 4}
          - {labels: 'name_version:rust_instances:count{name="serde_json",version="1.0.140"}', value: 1}
      - expr: name:rust_versions:count
        eval_time: 5m
        exp_samples:
          - {labels: 'name:rust_versions:count{name="codec"}', value: 2}
          - {labels: 'name:rust_versions:count{name="itoa"}', value: 2}
          - {labels: 'name:rust_versions:count{name="serde_json"}', value: 3}
"#;

/// The alerts over [`FLEET`] with `--max-versions 2`, the same on every layout: serde_json's
/// three versions after 15 minutes, myapp's two revisions after 30, no unknown list.
const ALERTS: &str = r"    alert_rule_test:
      - eval_time: 14m
        alertname: RustCrateVersionSpread
        exp_alerts: []
      - eval_time: 16m
        alertname: RustCrateVersionSpread
        exp_alerts:
          - exp_labels: {severity: warning, name: serde_json}
            exp_annotations:
              summary: 'Crate serde_json runs in 3 versions'
              description: '3 distinct versions of serde_json run across the fleet (limit 2). `cargo depinfo spread --crate serde_json --prometheus URL` lists who runs which.'
      - eval_time: 31m
        alertname: RustProgramRevisionDrift
        exp_alerts:
          - exp_labels: {severity: warning, program: myapp}
            exp_annotations:
              summary: 'Program myapp runs 2 revisions'
              description: '2 revisions of myapp are running at once: a deploy has not finished everywhere. `count by (revision, instance) (myapp_build_info)` shows who runs which.'
      - eval_time: 31m
        alertname: RustDependencyListUnknown
        exp_alerts: []
";

/// `program_deps:rust_build_info:count` and `deps:rust_build_info:count` expected: the
/// instances answered through the catalog, per (program, list index) and per list index.
fn catalog_counts(per_program: &[(&str, usize, u32)], per_list: &[(usize, u32)]) -> String {
    let mut out = String::from(
        "      - expr: program_deps:rust_build_info:count\n        eval_time: 5m\n        exp_samples:\n",
    );
    for &(program, list, n) in per_program {
        let _ = writeln!(
            out,
            "          - {{labels: 'program_deps:rust_build_info:count{{deps=\"{}\",program=\"{program}\"}}', value: {n}}}",
            LISTS[list].0
        );
    }
    out.push_str(
        "      - expr: deps:rust_build_info:count\n        eval_time: 5m\n        exp_samples:\n",
    );
    for &(list, n) in per_list {
        let _ = writeln!(
            out,
            "          - {{labels: 'deps:rust_build_info:count{{deps=\"{}\"}}', value: {n}}}",
            LISTS[list].0
        );
    }
    out
}

/// One `tests:` entry: a fleet, what the rules must record, and the alerts.
fn test_case(name: &str, input: &str, exprs: &str, alerts: &str) -> String {
    format!(
        "  # {name}\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n{exprs}{alerts}"
    )
}

/// A promtool test file of `cases` ([`test_case`]s) over `rules.yml`.
fn test_file(cases: &str) -> String {
    format!("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n{cases}")
}

/// [`catalog_counts`] of [`FLEET`] when every producer is answered through the catalog.
fn all_through_catalog() -> String {
    catalog_counts(
        &[
            ("cron", 1, 1),
            ("legacy", 2, 1),
            ("myapp", 0, 2),
            ("myapp", 1, 1),
            ("worker", 1, 2),
        ],
        &[(0, 2), (1, 4), (2, 1)],
    )
}

/// [`FLEET`] half migrated: a full, b catalog, c direct, w1 catalog, w2 full, k an older
/// collector, the exporter on catalog.
const HALF_MIGRATED: [Shape; 8] = [
    Shape::Full,
    Shape::Catalog,
    Shape::Direct,
    Shape::Catalog,
    Shape::Full,
    Shape::Old,
    Shape::Catalog,
    Shape::Catalog,
];

/// Every fleet of the module docs, with what the default (`auto`) rules must say of it.
fn auto_test_file() -> String {
    let all = SERVED;
    let shared = all_through_catalog();
    let mut cases = Vec::new();
    // Every collector on full, k:1 an older collector, the exporter on full; no catalog at
    // all: nothing is answered through it.
    cases.push(test_case(
        "full only, no catalog",
        &input_series(
            &|i| if i == 5 { Shape::Old } else { Shape::Full },
            &[],
            &[],
            &FLEET,
        ),
        &format!("{COUNTS}{}", catalog_counts(&[], &[])),
        ALERTS,
    ));
    // Every producer on catalog, two catalog replicas serving every list.
    cases.push(test_case(
        "catalog only, two replicas",
        &input_series(&|_| Shape::Catalog, &REPLICAS, &all, &FLEET),
        &format!("{COUNTS}{shared}"),
        ALERTS,
    ));
    // Every producer on direct: its own rust_mod_info must not count again.
    cases.push(test_case(
        "direct everywhere",
        &input_series(&|_| Shape::Direct, &REPLICAS, &all, &FLEET),
        &format!("{COUNTS}{shared}"),
        ALERTS,
    ));
    // Half migrated. The catalog serves every list, the full instances' too: they still count
    // once. Through the catalog: b (myapp, 0), c (myapp, 1), w1 (worker, 1), legacy (2);
    // myapp's exporter copy is not (its collector reports myapp).
    cases.push(test_case(
        "half migrated",
        &input_series(&|i| HALF_MIGRATED[i], &REPLICAS[..1], &all, &FLEET),
        &format!(
            "{COUNTS}{}",
            catalog_counts(
                &[
                    ("legacy", 2, 1),
                    ("myapp", 0, 1),
                    ("myapp", 1, 1),
                    ("worker", 1, 1)
                ],
                &[(0, 1), (1, 2), (2, 1)],
            )
        ),
        ALERTS,
    ));
    // Every collector on catalog, the exporter still on full: its copy of myapp must not
    // count (myapp's collectors publish no rust_mod_info, only rust_build_info), legacy
    // counts through the exporter's rust_mod_info.
    cases.push(test_case(
        "catalog collectors, exporter on full",
        &input_series(
            &|i| if i >= 6 { Shape::Full } else { Shape::Catalog },
            &REPLICAS,
            &all,
            &FLEET,
        ),
        &format!(
            "{COUNTS}{}",
            catalog_counts(
                &[
                    ("cron", 1, 1),
                    ("myapp", 0, 2),
                    ("myapp", 1, 1),
                    ("worker", 1, 2)
                ],
                &[(0, 2), (1, 4)],
            )
        ),
        ALERTS,
    ));
    // The catalog lacks legacy's list: legacy is unknown (the alert), and missing from the
    // counts, never counted as clean: serde_json drops to two versions.
    cases.push(test_case(
        "catalog without list 2",
        &input_series(&|_| Shape::Catalog, &REPLICAS, &[0, 1, 3], &FLEET),
        &format!(
            r#"      - expr: name:rust_versions:count
        eval_time: 5m
        exp_samples:
          - {{labels: 'name:rust_versions:count{{name="codec"}}', value: 2}}
          - {{labels: 'name:rust_versions:count{{name="itoa"}}', value: 1}}
          - {{labels: 'name:rust_versions:count{{name="serde_json"}}', value: 2}}
{shared}"#
        ),
        &format!(
            r"    alert_rule_test:
      - eval_time: 16m
        alertname: RustCrateVersionSpread
        exp_alerts: []
      - eval_time: 9m
        alertname: RustDependencyListUnknown
        exp_alerts: []
      - eval_time: 11m
        alertname: RustDependencyListUnknown
        exp_alerts:
          - exp_labels: {{severity: warning, program: legacy, deps: '{}'}}
            exp_annotations:
              summary: 'The catalog lacks the dependency list of legacy'
              description: '1 instance(s) of legacy run a build whose dependency list ({}) no rust_deps_info series holds: they are missing from the crate counts and the spread alert until it does. Is `depinfo-catalog` up, and scraped by this Prometheus?'
",
            LISTS[2].0, LISTS[2].0
        ),
    ));
    test_file(&cases.concat())
}

/// `cargo depinfo ARGS`: its stdout, after asserting exit 0.
fn depinfo(args: &[&str]) -> String {
    let out = testkit::run(Command::new(BIN).args(args), Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `promtool test rules FILE` in `dir`: (passed, what it printed).
fn promtool_test(dir: &Path, file: &str) -> (bool, String) {
    let out = testkit::run(
        Command::new(testkit::installed("promtool"))
            .current_dir(dir)
            .args(["test", "rules", file]),
        Duration::from_secs(60),
    );
    (
        out.status.success(),
        format!("{}{}", stdout(&out), stderr(&out)),
    )
}

/// Writes `rules` and `test` into `dir` and runs promtool on them.
fn evaluate(dir: &Path, rules: &str, test: &str) -> (bool, String) {
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    std::fs::write(dir.join("test.yml"), test).unwrap();
    promtool_test(dir, "test.yml")
}

#[test]
fn the_default_rules_count_each_instance_once_on_every_layout() {
    let dir = Scratch::new("rules-layouts");
    let rules = depinfo(&["rules", "--max-versions", "2"]);
    std::fs::write(dir.join("rules.yml"), &rules).unwrap();
    assert!(check_rules(&dir.join("rules.yml")).contains("SUCCESS: 7 rules found"));
    let test = auto_test_file();
    let (passed, said) = evaluate(&dir, &rules, &test);
    assert!(passed, "promtool test rules:\n{said}\n--- test.yml\n{test}");
    // `--layout direct` is the catalog's rules.
    assert_eq!(
        depinfo(&["rules", "--layout", "direct"]),
        depinfo(&["rules", "--layout", "catalog"])
    );
}

/// The default rules with `from` replaced by `to` (asserting `from` is in them).
fn mutated(rules: &str, from: &str, to: &str) -> String {
    assert!(
        rules.contains(from),
        "{from:?} is not in the rules:\n{rules}"
    );
    rules.replace(from, to)
}

#[test]
fn the_fleets_catch_each_part_of_the_rules_removed() {
    let dir = Scratch::new("rules-mutants");
    let rules = depinfo(&["rules", "--max-versions", "2"]);
    let test = auto_test_file();
    // promtool prints the samples it got as `{__name__="…", name="…", version="…"} 4E+00`.
    for (what, from, to, symptom) in [
        (
            "the catalog replicas' dedup",
            "max by (deps, name, version) (rust_deps_info)",
            "rust_deps_info",
            // Two replicas double serde_json 1.0.100's two instances.
            r#"name="serde_json", version="1.0.100"} 4E+00"#,
        ),
        (
            "the catalog's dedup of one crate version from two sources",
            "max by (deps, name, version) (rust_deps_info)",
            "max by (deps, name, version, source) (rust_deps_info)",
            r#"name="itoa", version="1.0.11"} 2E+00"#,
        ),
        (
            "the catalog side's layout filter",
            r#"rust_build_info{deps!="",layout!="full",origin!="exporter"} or"#,
            r#"rust_build_info{deps!="",origin!="exporter"} or"#,
            // Half migrated: a:1 (full) counts through the catalog too.
            r#"name="serde_json", version="1.0.100"} 3E+00"#,
        ),
        (
            "the direct layout's unless",
            r#" unless on(instance, job) rust_build_info{deps!="",layout!="full"}"#,
            "",
            // c:1's direct serde_json counts again beside the catalog's.
            r#"name="serde_json", version="1.0.120"} 5E+00"#,
        ),
        (
            "the origin rule on the catalog side",
            r#" unless on(program) (rust_build_info{origin!="exporter"} or rust_mod_info{origin!="exporter"})"#,
            "",
            // The exporter's copy of a:1 counts as a third myapp instance on list 0.
            r#"name="serde_json", version="1.0.100"} 3E+00"#,
        ),
        (
            "the exporter's rust_mod_info dropped where a collector publishes rust_build_info",
            r#" unless on(program) rust_build_info{origin!="exporter"})"#,
            ")",
            r#"name="serde_json", version="1.0.100"} 3E+00"#,
        ),
        (
            "the origin rule on the full side",
            r#"rust_mod_info{origin!="exporter"} or on(program) ("#,
            "rust_mod_info or on(program) (",
            r#"name="serde_json", version="1.0.100"} 3E+00"#,
        ),
        (
            "the group by that counts an instance once per crate version",
            "group by (instance, job, program, name, version) (",
            "sum by (instance, job, program, name, version, source) (",
            r#"name="itoa", version="1.0.11"} 2E+00"#,
        ),
    ] {
        let broken = mutated(&rules, from, to);
        let (passed, said) = evaluate(&dir, &broken, &test);
        assert!(!passed, "without {what}, promtool test rules still passes");
        assert!(
            said.contains(symptom),
            "without {what}, promtool should report {symptom}:\n{said}"
        );
    }
}

#[test]
fn a_group_right_join_fails_where_programs_share_a_list_and_the_rules_do_not() {
    // The join the issue warns about, on the catalog fleet where myapp, worker and cron
    // share list 1: promtool reports the many-to-many failure. The rules' own join, from
    // `deps:rust_build_info:count` (one per digest), evaluates on the same series.
    let dir = Scratch::new("rules-many-to-many");
    let rules = depinfo(&["rules"]);
    let input = input_series(&|_| Shape::Catalog, &REPLICAS, &SERVED, &FLEET);
    let test = |expr: &str, samples: &str| {
        test_file(&test_case(
            "many-to-many",
            &input,
            &format!(
                "      - expr: '{expr}'\n        eval_time: 5m\n        exp_samples:\n{samples}"
            ),
            "",
        ))
    };
    let group_right = "count by (program, deps) (rust_build_info) * on(deps) group_right(program) max by (deps, name, version) (rust_deps_info{name=\"codec\"})";
    let (passed, said) = evaluate(
        &dir,
        &rules,
        &test(group_right, "          - {labels: '{}', value: 1}\n"),
    );
    assert!(!passed, "{said}");
    assert!(said.contains("many-to-many matching not allowed"), "{said}");
    let (passed, said) = evaluate(
        &dir,
        &rules,
        &test(
            r#"name_version:rust_instances:count{name="codec"}"#,
            "          - {labels: 'name_version:rust_instances:count{name=\"codec\",version=\"1.0.0\"}', value: 2}\n          - {labels: 'name_version:rust_instances:count{name=\"codec\",version=\"1.1.0\"}', value: 5}\n",
        ),
    );
    assert!(passed, "{said}");
}

#[test]
fn the_full_and_catalog_layouts_rules_agree_with_auto_on_their_own_fleets() {
    // `--layout full` (rust_mod_info only) on the full fleet, `--layout catalog` (the catalog
    // only) on the catalog fleet: the same counts and alerts as `auto`.
    let dir = Scratch::new("rules-fixed-layouts");
    for (layout, shape, replicas, catalog) in [
        ("full", Shape::Full, &[][..], String::new()),
        (
            "catalog",
            Shape::Catalog,
            &REPLICAS[..],
            all_through_catalog(),
        ),
    ] {
        let rules = depinfo(&["rules", "--max-versions", "2", "--layout", layout]);
        std::fs::write(dir.join("rules.yml"), &rules).unwrap();
        check_rules(&dir.join("rules.yml"));
        let served: &[usize] = if replicas.is_empty() { &[] } else { &SERVED };
        let alerts = if layout == "full" {
            // No unknown-list alert on the full layout: nothing is read from the catalog.
            ALERTS
                .split("      - eval_time: 31m\n        alertname: RustDependencyListUnknown")
                .next()
                .unwrap()
                .to_owned()
        } else {
            ALERTS.to_owned()
        };
        let test = test_file(&test_case(
            layout,
            &input_series(&|_| shape, replicas, served, &FLEET),
            &format!("{COUNTS}{catalog}"),
            &alerts,
        ));
        let (passed, said) = evaluate(&dir, &rules, &test);
        assert!(passed, "--layout {layout}:\n{said}\n--- test.yml\n{test}");
    }
}

/// The README's "Fleet questions" PromQL: the full layout's lines (blocks `promql` and
/// `promql full`) and their catalog twins (blocks `promql catalog`), in order.
fn readme_promql() -> (Vec<String>, Vec<String>) {
    let readme = testkit::workspace_root().join("README.md");
    let (mut full, mut catalog) = (Vec::new(), Vec::new());
    for (lang, line) in testkit::fenced_lines(&readme, "## Fleet questions") {
        match lang.as_str() {
            "promql" | "promql full" => full.push(line.trim().to_owned()),
            "promql catalog" => catalog.push(line.trim().to_owned()),
            _ => {}
        }
    }
    (full, catalog)
}

/// The fleet the README's one-liners are asked of: [`FLEET`]'s collectors only (the
/// one-liners leave the exporter's origin rule to the recording rules), and legacy with a
/// collector of its own.
fn readme_fleet() -> Vec<Member> {
    let mut fleet: Vec<Member> = FLEET.into_iter().filter(|m| !m.5).collect();
    fleet.push(("l:1", "app", "legacy", 2, "r0", false));
    fleet
}

/// What each README line answers on [`readme_fleet`], counted by hand (lists: a, b run 0;
/// c, w:1, w:2, k:1 run 1; l:1 runs 2; nobody runs 3).
const README_ANSWERS: [&[(&str, u32)]; 7] = [
    // serde_json's versions and their instances.
    &[
        (r#"{version="1.0.100"}"#, 2),
        (r#"{version="1.0.120"}"#, 4),
        (r#"{version="1.0.140"}"#, 1),
    ],
    // Three versions of serde_json run (1.0.90 is only in the catalog).
    &[("{}", 3)],
    // myapp's revisions.
    &[(r#"{revision="r1"}"#, 2), (r#"{revision="r2"}"#, 1)],
    // Who runs serde_json 1.0.100 to 1.0.129: everybody but l:1.
    &[
        (r#"{instance="a:1",program="myapp"}"#, 1),
        (r#"{instance="b:1",program="myapp"}"#, 1),
        (r#"{instance="c:1",program="myapp"}"#, 1),
        (r#"{instance="k:1",program="cron"}"#, 1),
        (r#"{instance="w:1",program="worker"}"#, 1),
        (r#"{instance="w:2",program="worker"}"#, 1),
    ],
    // The same, per program.
    &[
        (r#"{program="cron"}"#, 1),
        (r#"{program="myapp"}"#, 3),
        (r#"{program="worker"}"#, 2),
    ],
    // Versions per crate.
    &[
        (r#"{name="codec"}"#, 2),
        (r#"{name="itoa"}"#, 2),
        (r#"{name="serde_json"}"#, 3),
    ],
    // Instances of each program running serde_json.
    &[
        (r#"{program="cron"}"#, 1),
        (r#"{program="legacy"}"#, 1),
        (r#"{program="myapp"}"#, 3),
        (r#"{program="worker"}"#, 2),
    ],
];

#[test]
fn the_readme_one_liners_and_their_catalog_twins_give_the_same_answers() {
    let (full, catalog) = readme_promql();
    assert_eq!(
        (full.len(), catalog.len()),
        (README_ANSWERS.len(), README_ANSWERS.len()),
        "each README one-liner has its catalog twin and its answer here:\n{full:#?}\n{catalog:#?}"
    );
    let dir = Scratch::new("rules-readme");
    let fleet = readme_fleet();
    let case =
        |name: &str, shape: Shape, replicas: &[&str], served: &[usize], queries: &[String]| {
            let mut exprs = String::new();
            for (query, answer) in queries.iter().zip(README_ANSWERS) {
                let _ = writeln!(
                    exprs,
                    "      - expr: '{}'\n        eval_time: 5m\n        exp_samples:",
                    query.replace('\'', "''")
                );
                for (labels, value) in answer {
                    let _ = writeln!(exprs, "          - {{labels: '{labels}', value: {value}}}");
                }
            }
            test_case(
                name,
                &input_series(&|_| shape, replicas, served, &fleet),
                &exprs,
                "",
            )
        };
    let test = test_file(&format!(
        "{}{}",
        case("full", Shape::Full, &[], &[], &full),
        case("catalog", Shape::Catalog, &REPLICAS, &SERVED, &catalog),
    ));
    let (passed, said) = evaluate(&dir, &depinfo(&["rules"]), &test);
    assert!(passed, "promtool test rules:\n{said}\n--- test.yml\n{test}");
}

/// `name` replaced by `(by)` in `expr` wherever it stands as a whole metric name.
fn inline(expr: &str, name: &str, by: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut out = String::new();
    let mut rest = expr;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(name);
        } else {
            let _ = write!(out, "({by})");
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

/// The recording rules of a rules file, each with the records it reads written in place
/// (for an engine queried without a ruler): (record, expr).
fn inlined_records(rules: &str) -> Vec<(String, String)> {
    let mut records: Vec<(String, String)> = Vec::new();
    let mut lines = rules.lines();
    while let Some(line) = lines.next() {
        let Some(record) = line.trim().strip_prefix("- record: ") else {
            continue;
        };
        let expr = lines.next().unwrap().trim();
        let expr = expr
            .strip_prefix("expr: '")
            .and_then(|e| e.strip_suffix('\''))
            .unwrap_or_else(|| panic!("not a quoted expr: {expr}"))
            .replace("''", "'");
        let expr = records
            .iter()
            .fold(expr, |e, (name, by)| inline(&e, name, by));
        records.push((record.to_owned(), expr));
    }
    records
}

#[test]
fn the_recording_rules_hold_in_victoria_metrics_too() {
    // VictoriaMetrics (MetricsQL) scrapes the half-migrated fleet from one page (honor_labels
    // keeps each series' own instance and job), and answers every recording rule's expression,
    // the records it reads written in place, as promtool does for Prometheus.
    assert_eq!(inline("a:b + xa:b + a:bc", "a:b", "1"), "(1) + xa:b + a:bc");
    let scratch = Scratch::new("rules-victoria");
    let mut page = String::new();
    for selector in input_series(&|i| HALF_MIGRATED[i], &REPLICAS, &SERVED, &FLEET)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- series: '"))
    {
        let _ = writeln!(page, "{} 1", selector.trim_end_matches('\''));
    }
    let series = page.lines().count();
    let server = testkit::Server::metrics(page);
    let config = scratch.join("scrape.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: page\n    honor_labels: true\n    static_configs:\n      - targets: ['{}']\n",
            server.host_port()
        ),
    )
    .unwrap();
    let (_vm_process, vm) = testkit::start_victoria_metrics(&config, &scratch.join("vm-data"));
    testkit::wait_until(
        "VictoriaMetrics to hold the fleet's series",
        Duration::from_secs(60),
        || {
            testkit::first_value(&testkit::query(
                &vm,
                r#"count({__name__=~"rust_.+|.+_build_info"})"#,
            ))
            .is_some_and(|n| n == series.to_string())
        },
    );
    let digest = |list: usize| LISTS[list].0;
    let expected: [(&str, Vec<(String, &str)>); 4] = [
        (
            "program_deps:rust_build_info:count",
            vec![
                (format!("deps={},program=legacy", digest(2)), "1"),
                (format!("deps={},program=myapp", digest(0)), "1"),
                (format!("deps={},program=myapp", digest(1)), "1"),
                (format!("deps={},program=worker", digest(1)), "1"),
            ],
        ),
        (
            "deps:rust_build_info:count",
            vec![
                (format!("deps={}", digest(0)), "1"),
                (format!("deps={}", digest(1)), "2"),
                (format!("deps={}", digest(2)), "1"),
            ],
        ),
        (
            "name_version:rust_instances:count",
            [
                ("codec", "1.0.0", "2"),
                ("codec", "1.1.0", "5"),
                ("itoa", "1.0.10", "6"),
                ("itoa", "1.0.11", "1"),
                ("serde_json", "1.0.100", "2"),
                ("serde_json", "1.0.120", "4"),
                ("serde_json", "1.0.140", "1"),
            ]
            .map(|(n, v, c)| (format!("name={n},version={v}"), c))
            .to_vec(),
        ),
        (
            "name:rust_versions:count",
            vec![
                ("name=codec".to_owned(), "2"),
                ("name=itoa".to_owned(), "2"),
                ("name=serde_json".to_owned(), "3"),
            ],
        ),
    ];
    let records = inlined_records(&depinfo(&["rules"]));
    assert_eq!(
        records.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(),
        expected.iter().map(|(r, _)| *r).collect::<Vec<_>>()
    );
    for ((record, expr), (_, want)) in records.iter().zip(&expected) {
        let mut got: Vec<(String, String)> = testkit::query(&vm, expr)
            .iter()
            .map(|s| {
                let labels = s["metric"].as_object().unwrap();
                let labels: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                    .collect();
                (labels.join(","), s["value"][1].as_str().unwrap().to_owned())
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(l, v)| (l.clone(), (*v).to_owned()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{record}: {expr}");
    }
}
