//! Hostile text through the one writer, checked by the real `promtool check metrics` (Debian
//! package `prometheus`; the test fails without it): whatever a program name, branch or label
//! value holds, the exposition stays valid and carries exactly the series it should.

use std::borrow::Cow;
use std::process::Command;
use std::time::Duration;

use build_info_collector::{BuildInfoCollector, Family, Layout, RustModInfoLabels, render};

#[path = "support/hostile.rs"]
mod hostile;
use hostile::HOSTILE;

/// `promtool check metrics` on `text`: its exit status and output. Bounded in time so that a
/// hung promtool fails the test instead of stalling it.
fn promtool(text: &str) -> (bool, String) {
    let out = testkit::run_with_input(
        Command::new(testkit::installed("promtool")).args(["check", "metrics"]),
        text.as_bytes(),
        Duration::from_secs(30),
    );
    let report = format!("{}{}", testkit::stdout(&out), testkit::stderr(&out));
    (out.status.success(), report)
}

fn assert_valid(text: &str, samples: usize) {
    let (ok, report) = promtool(text);
    assert!(ok, "promtool rejects the exposition: {report}\n{text}");
    // No value smuggled a line in: exactly one line per sample, and a HELP and a TYPE line per
    // family.
    let sample_lines = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(sample_lines, samples, "{text}");
    assert!(!text.contains("\nevil_total"), "{text}");
}

#[test]
fn promtool_catches_what_the_writer_must_prevent() {
    // The check has teeth: an unescaped newline in a label value fails it.
    let (ok, _) = promtool("# HELP a_info x\n# TYPE a_info gauge\na_info{b=\"a\nb\"} 1\n");
    assert!(!ok);
    let (ok, _) = promtool("# HELP a_info x\n# TYPE a_info gauge\na_info{b=\"a\\tb\"} 1\n");
    assert!(!ok, "\\t is not an escape of the text format");
}

#[test]
fn hostile_label_values_and_help_render_valid() {
    let mut hostile = Family::gauge("hostile_info", HOSTILE.concat());
    for (i, value) in HOSTILE.iter().enumerate() {
        hostile.push(
            [
                ("i", Cow::Owned(i.to_string())),
                ("value", Cow::Borrowed(*value)),
            ],
            1,
        );
    }
    let text = render(&[hostile]).unwrap();
    assert_valid(&text, HOSTILE.len());
}

#[test]
fn hostile_program_names_render_valid_from_the_collector() {
    for (program, layout) in HOSTILE
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| Layout::ALL.map(|l| (p, l)))
    {
        let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
            .program(*program)
            .label("team", *program)
            .layout(layout)
            .build()
            .unwrap();
        let text = collector.exposition();
        // <program>_build_info, rust_build_info and the layout's crate series.
        assert_valid(text, 2 + collector.crate_count());
        assert!(
            text.contains(&format!("# HELP {} A metric", collector.build_info_name())),
            "{text}"
        );
    }
}

/// As cargo-depinfo's textfile output does: several programs, hostile names included, in one
/// exposition, each family once.
#[test]
fn several_hostile_programs_share_one_valid_exposition() {
    let mut families: std::collections::BTreeMap<String, Family<'_>> =
        std::collections::BTreeMap::new();
    let mut mod_info = build_info_collector::rust_mod_info_family();
    let mut samples = 0;
    for program in HOSTILE.iter().filter(|p| !p.is_empty()) {
        let family = build_info_collector::build_info_family(program);
        let entry = families.entry(family.name().to_owned()).or_insert(family);
        let before = entry.len();
        entry.push([("version", *program)], 1);
        entry.sort_series();
        samples += entry.len() - before;
        mod_info.push(
            RustModInfoLabels {
                direct: true,
                name: "serde".into(),
                program: (*program).into(),
                source: "crates.io".into(),
                version: (*program).into(),
            }
            .pairs(),
            1,
        );
    }
    mod_info.sort_series();
    samples += mod_info.len();
    families.insert(mod_info.name().to_owned(), mod_info);
    let text = render(families.values()).unwrap();
    assert_valid(&text, samples);
}
