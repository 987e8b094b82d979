//! The `metrics` facade (feature `metrics`) rendered by the real `metrics-exporter-prometheus`
//! gives the collector's own series: the same families, HELP and TYPE lines, and the same
//! sample lines byte for byte (the exporter writes families and series in hash order, so they
//! are compared as sets), checked by the real `promtool check metrics` (Debian package
//! `prometheus`; the test fails without it). Each test renders through its own local recorder:
//! no global state is shared between tests.
#![cfg(feature = "metrics")]

use std::collections::{BTreeMap, BTreeSet};

use build_info_collector::{BuildInfoCollector, Layout};
use metrics_exporter_prometheus::PrometheusBuilder;
use proptest::prelude::*;

#[path = "support/hostile.rs"]
mod hostile;
use hostile::HOSTILE;

/// The text the exporter renders after `collectors` registered through the facade.
fn through_exporter(collectors: &[&BuildInfoCollector]) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    metrics::with_local_recorder(&recorder, || {
        for c in collectors {
            c.register_metrics();
        }
    });
    recorder.handle().render()
}

/// One family of an exposition: its HELP and TYPE lines, and its sample lines as a set.
#[derive(Debug, Default, PartialEq, Eq)]
struct Lines {
    help: Vec<String>,
    kind: Vec<String>,
    samples: BTreeSet<String>,
}

/// The exposition's lines by family name, without blank lines. Sample lines are kept whole,
/// bytes as written, so that two expositions compare byte for byte per series.
fn families(text: &str) -> BTreeMap<String, Lines> {
    let mut out: BTreeMap<String, Lines> = BTreeMap::new();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            out.entry(name.to_owned())
                .or_default()
                .help
                .push(line.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            out.entry(name.to_owned())
                .or_default()
                .kind
                .push(line.to_owned());
        } else {
            let name = line.split(['{', ' ']).next().unwrap();
            let fresh = out
                .entry(name.to_owned())
                .or_default()
                .samples
                .insert(line.to_owned());
            assert!(fresh, "series written twice: {line}\n{text}");
        }
    }
    out
}

/// `promtool check metrics` passes on `text` (lint remarks fail it too).
fn assert_promtool_valid(text: &str) {
    let remarks = testkit::check_metrics(text);
    assert!(remarks.trim().is_empty(), "promtool: {remarks}\n{text}");
}

/// The exporter's text holds exactly the collector's series, HELP and TYPE lines.
fn assert_same_series(collectors: &[&BuildInfoCollector]) -> String {
    let text = through_exporter(collectors);
    let mut expected: BTreeMap<String, Lines> = BTreeMap::new();
    for c in collectors {
        for (name, lines) in families(c.exposition()) {
            let entry = expected.entry(name).or_default();
            // Several programs share rust_mod_info: one HELP and TYPE line, every series.
            if entry.help.is_empty() {
                entry.help = lines.help;
                entry.kind = lines.kind;
            }
            entry.samples.extend(lines.samples);
        }
    }
    assert_eq!(families(&text), expected, "exporter:\n{text}");
    text
}

#[test]
fn the_example_build_gives_the_collectors_series() {
    let collector = BuildInfoCollector::new(buildinfo::test_util::example());
    let text = assert_same_series(&[&collector]);
    assert_promtool_valid(&text);
    // Exactly: four series, each family with its HELP and TYPE, one blank line after each.
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 4 + 3);
    assert!(text.contains(
        "# HELP myapp_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which myapp was built.\n# TYPE myapp_build_info gauge\nmyapp_build_info{branch=\"main\",features=\"default,tls\",profile=\"release\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"1.4.2\"} 1\n"
    ));
}

/// Every layout through the facade: the collector's own series for that layout, valid for
/// promtool, with `rust_build_info` naming the layout and the list's digest.
#[test]
fn every_layout_gives_the_collectors_series() {
    for layout in Layout::ALL {
        let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
            .layout(layout)
            .label("team", "payments")
            .build()
            .unwrap();
        let text = assert_same_series(&[&collector]);
        assert_promtool_valid(&text);
        let digest = collector.deps_list().unwrap().digest();
        assert!(
            text.contains(&format!(
                "rust_build_info{{deps=\"{digest}\",layout=\"{layout}\",program=\"myapp\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",team=\"payments\",version=\"1.4.2\"}} 1\n"
            )),
            "{text}"
        );
        let mod_info = text
            .lines()
            .filter(|l| l.starts_with("rust_mod_info{"))
            .count();
        assert_eq!(mod_info, collector.crate_count(), "{layout}: {text}");
        assert_eq!(
            mod_info,
            match layout {
                Layout::Full => 2,
                Layout::Catalog => 0,
                _ => 1,
            },
            "{layout}: {text}"
        );
        assert_eq!(
            text.contains("# HELP rust_mod_info "),
            layout != Layout::Catalog,
            "{text}"
        );
    }
}

#[test]
fn options_carry_over() {
    let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
        .program("shop-api")
        .namespace("acme_shop")
        .build_dependencies(true)
        .deny(["itoa"])
        .label("team", "payments")
        .label("a_first", "sorted before every built-in label")
        .build()
        .unwrap();
    let text = assert_same_series(&[&collector]);
    assert_promtool_valid(&text);
    assert!(text.contains("acme_shop_build_info{a_first="), "{text}");
    assert!(!text.contains("itoa"), "{text}");
}

#[test]
fn hostile_program_names_and_labels_give_the_collectors_series() {
    // Without the empty value, which tests/promtool.rs covers.
    for value in HOSTILE.iter().filter(|v| !v.is_empty()) {
        let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
            .program(*value)
            .label("team", *value)
            .build()
            .unwrap();
        let text = assert_same_series(&[&collector]);
        assert_promtool_valid(&text);
        assert!(!text.contains("\nevil_total"), "{text}");
    }
}

#[test]
fn several_programs_share_one_recorder() {
    let mut collectors: Vec<BuildInfoCollector> = ["billing", "shop-api", "ñandú"]
        .into_iter()
        .chain(HOSTILE.iter().copied().filter(|v| !v.is_empty()))
        .map(|program| {
            BuildInfoCollector::builder(buildinfo::test_util::example())
                .program(program)
                .build()
                .unwrap()
        })
        .collect();
    // Programs whose names make the same metric name (`"` and `\\` both give `__build_info`)
    // would describe one family twice with two HELP texts: one of each name is kept.
    let mut names = BTreeSet::new();
    collectors.retain(|c| names.insert(c.build_info_name().to_owned()));
    assert!(collectors.len() > 8);
    let refs: Vec<&BuildInfoCollector> = collectors.iter().collect();
    let text = assert_same_series(&refs);
    assert_promtool_valid(&text);
    assert_eq!(
        text.matches("# HELP rust_mod_info ").count(),
        1,
        "one rust_mod_info family: {text}"
    );
}

#[test]
fn registering_twice_changes_nothing() {
    let collector = BuildInfoCollector::new(buildinfo::test_util::example());
    let once = families(&through_exporter(&[&collector]));
    let twice = families(&through_exporter(&[&collector, &collector]));
    assert_eq!(once, twice);
}

/// The exporter's escaping (0.18) takes a backslash right before `\` or `"` for an escape
/// already written, so such values read back with a backslash fewer; a backslash right before
/// a newline reads back after it. The collector's
/// README and `register_metrics` document this; when this test fails, the exporter changed and
/// the documentation should follow.
#[test]
fn the_exporters_backslash_rule_is_the_documented_one() {
    for (value, ours, exporters) in [
        (r"a\\b", r"a\\\\b", r"a\\b"),
        (r#"a\"b"#, r#"a\\\"b"#, r#"a\"b"#),
        // A backslash before a newline reads back after it.
        ("a\\\nb", r"a\\\nb", r"a\n\\b"),
    ] {
        let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
            .label("team", value)
            .build()
            .unwrap();
        assert!(
            collector.exposition().contains(&format!("team=\"{ours}\"")),
            "{}",
            collector.exposition()
        );
        let text = through_exporter(&[&collector]);
        assert_promtool_valid(&text);
        assert!(text.contains(&format!("team=\"{exporters}\"")), "{text}");
        assert!(!text.contains(&format!("team=\"{ours}\"")), "{text}");
    }
}

proptest! {
    #![proptest_config(testkit::proptest_cases(64))]

    /// Any label value and program name without a backslash before `\`, `"` or a newline
    /// gives, through the facade and the exporter, the collector's own sample lines.
    #[test]
    fn any_text_without_the_backslash_rule_gives_the_same_lines(
        program in "[^\\\\]{1,12}",
        value in "(\\PC|[\"\n\t\\\\ ]){0,16}",
    ) {
        prop_assume!(!value.contains("\\\\") && !value.contains("\\\"") && !value.contains("\\\n"));
        let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
            .program(program)
            .label("team", value)
            .build()
            .unwrap();
        assert_same_series(&[&collector]);
    }
}
