//! The exposition text, byte for byte, in every layout, through both registries and the
//! pre-rendered text; and the dependency list's digest against the series it stands for.

use std::path::PathBuf;

use build_info_collector::{BuildInfoCollector, DepsEntry, DepsList, Error, Layout};
use buildinfo::{BuildInfo, DependencyKind};

#[path = "support/fixture.rs"]
mod fixture;

use fixture::{Facts, Row, build, example, facts};

/// The example build's exposition in the `full` layout, byte for byte.
const EXAMPLE: &str = include_str!("golden/example.prom");

/// A branch name with every character the format escapes, and non-ASCII text.
const ODD_BRANCH: &str = "feat/\"quoted\"\\back\nslash-ñandú-✓";

/// What the odd build looks like in the `full` layout: escaped branch, a crate in two
/// versions, a git crate, a build-only crate left out, the root left out.
const ODD: &str = include_str!("golden/odd.prom");

const ODD_ROWS: &[Row<'_>] = &[
    ("cc", "1.2.0", "crates.io", "BT-"),
    ("my-svc", "2.0.0-rc.1", "local", "RT*"),
    ("rand", "0.8.5", "crates.io", "RT-"),
    ("rand", "0.9.1", "crates.io", "RD-"),
    ("tokio", "1.47.0", "git", "RD-"),
    ("vendored-zlib", "0.3.0", "local", "RD-"),
];

/// A dirty debug build of a pre-release on an oddly named branch, for another target.
fn odd_facts() -> Facts {
    Facts {
        program: "my-svc",
        version: "2.0.0-rc.1",
        revision: "0123456789abcdef0123456789abcdef01234567",
        revision_label: "0123456789abcdef0123456789abcdef01234567-modified",
        branch: ODD_BRANCH,
        tag: "",
        modified: Some(true),
        build_user: "dev@laptop",
        rust_version: "1.89.0",
        rust_commit: "unknown",
        target: "aarch64-unknown-linux-gnu",
        profile: "debug",
        opt_level: "0",
        features: "",
        ..facts()
    }
}

fn odd_build() -> &'static BuildInfo {
    build(odd_facts(), ODD_ROWS)
}

/// The two builds the golden files show, by the golden files' name.
fn builds() -> [(&'static str, &'static BuildInfo); 2] {
    [("example", example()), ("odd", odd_build())]
}

fn with_layout(info: &'static BuildInfo, layout: Layout) -> BuildInfoCollector {
    BuildInfoCollector::builder(info)
        .layout(layout)
        .build()
        .unwrap()
}

/// `tests/golden/<build>.prom` for `full` (the files older than the layouts), else
/// `tests/golden/<build>-<layout>.prom`.
fn golden(build: &str, layout: Layout) -> PathBuf {
    let file = match layout {
        Layout::Full => format!("{build}.prom"),
        other => format!("{build}-{other}.prom"),
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file)
}

#[test]
fn pre_rendered_text_is_exact() {
    for (name, info) in builds() {
        for layout in Layout::ALL {
            testkit::check_golden(
                &golden(name, layout),
                with_layout(info, layout).exposition(),
            );
        }
    }
    // The default is the full layout.
    assert_eq!(BuildInfoCollector::new(example()).exposition(), EXAMPLE);
    assert_eq!(BuildInfoCollector::new(odd_build()).exposition(), ODD);
}

/// The golden files themselves: the layouts differ in the crate series only.
#[test]
fn the_layouts_differ_in_the_crate_series_only() {
    for (name, info) in builds() {
        let read = |layout| std::fs::read_to_string(golden(name, layout)).unwrap();
        let (full, catalog, direct) = (
            read(Layout::Full),
            read(Layout::Catalog),
            read(Layout::Direct),
        );
        // Without the crate series and with the layout label set to catalog's, every layout
        // gives the catalog layout's bytes.
        let without_mod_info = |text: &str| -> String {
            let mut out = String::new();
            for line in text.lines().filter(|l| !l.contains("rust_mod_info")) {
                let line = line.replace("layout=\"full\"", "layout=\"catalog\"");
                out.push_str(&line.replace("layout=\"direct\"", "layout=\"catalog\""));
                out.push('\n');
            }
            out
        };
        assert_eq!(without_mod_info(&full), catalog, "{name}");
        assert_eq!(without_mod_info(&direct), catalog, "{name}");
        assert!(!catalog.contains("rust_mod_info"), "{name}");
        // direct: the full layout's direct series, nothing else.
        let direct_of_full: Vec<_> = mod_info_series(&full).into_iter().filter(|s| s.3).collect();
        assert!(!direct_of_full.is_empty(), "{name}");
        assert_eq!(mod_info_series(&direct), direct_of_full, "{name}");
        assert!(
            mod_info_series(&full).len() > direct_of_full.len(),
            "{name}: the example has indirect crates"
        );
        let collector = with_layout(info, Layout::Direct);
        assert_eq!(collector.crate_count(), direct_of_full.len());
    }
}

#[cfg(feature = "prometheus")]
fn through_prometheus(collector: BuildInfoCollector) -> String {
    let registry = prometheus::Registry::new();
    registry.register(Box::new(collector)).unwrap();
    prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap()
}

#[cfg(feature = "prometheus-client")]
fn through_prometheus_client(collector: BuildInfoCollector) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(collector));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    text
}

#[cfg(feature = "prometheus")]
#[test]
fn prometheus_text_encoder_output_is_exact() {
    assert_eq!(
        through_prometheus(BuildInfoCollector::new(example())),
        EXAMPLE
    );
    assert_eq!(
        through_prometheus(BuildInfoCollector::new(odd_build())),
        ODD
    );
    for (name, info) in builds() {
        for layout in Layout::ALL {
            testkit::check_golden(
                &golden(name, layout),
                &through_prometheus(with_layout(info, layout)),
            );
        }
    }
}

#[cfg(feature = "prometheus-client")]
#[test]
fn prometheus_client_text_output_is_exact() {
    assert_eq!(
        through_prometheus_client(BuildInfoCollector::new(example())),
        format!("{EXAMPLE}# EOF\n")
    );
    assert_eq!(
        through_prometheus_client(BuildInfoCollector::new(odd_build())),
        format!("{ODD}# EOF\n")
    );
    for (name, info) in builds() {
        for layout in Layout::ALL {
            let text = through_prometheus_client(with_layout(info, layout));
            let text = text
                .strip_suffix("# EOF\n")
                .unwrap_or_else(|| panic!("no # EOF line: {text}"));
            testkit::check_golden(&golden(name, layout), text);
        }
    }
}

/// `(name, version, source, direct)` of every `rust_mod_info` line, unescaping nothing (crate
/// names and versions hold nothing to escape).
fn mod_info_series(text: &str) -> Vec<(String, String, String, bool)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("rust_mod_info{"))
        .map(|l| {
            let labels = l.strip_suffix("} 1").unwrap();
            let get = |key: &str| {
                let start = labels.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
                let end = start + labels[start..].find('"').unwrap();
                labels[start..end].to_owned()
            };
            (
                get("name"),
                get("version"),
                get("source"),
                get("direct") == "true",
            )
        })
        .collect()
}

#[test]
fn rust_mod_info_series_equal_the_embedded_runtime_dependencies() {
    for info in [example(), odd_build()] {
        let mut embedded: Vec<_> = info
            .packages()
            .dependencies()
            .filter(|p| p.kind() == DependencyKind::Runtime)
            .map(|p| {
                (
                    p.name().to_owned(),
                    p.version().to_owned(),
                    p.source().as_str().to_owned(),
                    p.is_direct(),
                )
            })
            .collect();
        embedded.sort();
        let mut exposed = mod_info_series(BuildInfoCollector::new(info).exposition());
        exposed.sort();
        assert_eq!(exposed, embedded, "{}", info.program());
    }
}

#[test]
fn options_select_crates_and_add_labels() {
    let collector = BuildInfoCollector::builder(odd_build())
        .program("svc")
        .namespace("acme:svc")
        .build_dependencies(true)
        .deny(["vendored_zlib"])
        .label("team", "pay\"ments")
        .build()
        .unwrap();
    assert_eq!(collector.build_info_name(), "acme:svc_build_info");
    assert_eq!(collector.crate_count(), 4);
    let text = collector.exposition();
    assert!(text.contains("which svc was built.\n"), "{text}");
    assert!(
        text.contains(r#"acme:svc_build_info{branch="feat/\"quoted\"\\back\nslash-ñandú-✓",features="",profile="debug",revision="0123456789abcdef0123456789abcdef01234567-modified",rustversion="1.89.0",target="aarch64-unknown-linux-gnu",team="pay\"ments",version="2.0.0-rc.1"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rust_mod_info{direct="false",name="cc",program="svc",source="crates.io",team="pay\"ments",version="1.2.0"} 1"#),
        "{text}"
    );
    assert!(!text.contains("vendored-zlib"), "{text}");

    let direct = BuildInfoCollector::builder(odd_build())
        .direct_only(true)
        .allow(["rand", "vendored-zlib"])
        .build()
        .unwrap();
    let names: Vec<_> = mod_info_series(direct.exposition())
        .into_iter()
        .map(|(n, v, _, _)| format!("{n} {v}"))
        .collect();
    assert_eq!(names, ["rand 0.9.1", "vendored-zlib 0.3.0"]);
}

#[cfg(feature = "prometheus")]
#[test]
fn extra_labels_are_exact_through_the_prometheus_registry_too() {
    let collector = BuildInfoCollector::builder(example())
        .label("team", "payments")
        .label("a_first", "x")
        .build()
        .unwrap();
    let text = collector.exposition().to_owned();
    assert!(text.contains(r#"{a_first="x",direct="false",name="itoa",program="myapp",source="crates.io",team="payments",version="1.0.15"} 1"#));
    assert_eq!(through_prometheus(collector), text);
}

#[test]
fn no_captured_graph_gives_no_crate_series() {
    let info = build(odd_facts(), &[]);
    let collector = BuildInfoCollector::new(info);
    assert_eq!(collector.crate_count(), 0);
    assert!(!collector.exposition().contains("rust_mod_info"));
    #[cfg(feature = "prometheus")]
    assert_eq!(
        through_prometheus(collector),
        BuildInfoCollector::new(info).exposition()
    );
}

#[test]
fn invalid_options_are_rejected_at_construction() {
    let info = example();
    let err = BuildInfoCollector::builder(info)
        .label("version", "x")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::BuiltinLabel { ref name, .. } if name == "version"));
    assert_eq!(
        err.to_string(),
        "label \"version\" clashes with a label the collector sets itself (branch, features, profile, revision, rustversion, target, version, direct, name, program, source, deps, layout)"
    );
    for name in ["deps", "layout"] {
        let err = BuildInfoCollector::builder(info)
            .label(name, "x")
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::BuiltinLabel { .. }), "{name}: {err}");
    }
    assert_eq!(
        BuildInfoCollector::builder(info)
            .namespace("rust")
            .build()
            .unwrap_err()
            .to_string(),
        "namespace \"rust\" is reserved: rust_build_info is the rust_build_info series every program publishes"
    );
    assert!(matches!(
        BuildInfoCollector::builder(info)
            .label("team.name", "x")
            .build(),
        Err(Error::InvalidLabelName { .. })
    ));
    assert!(matches!(
        BuildInfoCollector::builder(info).namespace("").build(),
        Err(Error::InvalidNamespace { .. })
    ));
}

/// Registry::gather writes families sorted by name; so do the other paths.
#[test]
fn families_come_in_name_order_on_every_path() {
    let collector = BuildInfoCollector::builder(example())
        .program("zz-top")
        .build()
        .unwrap();
    let text = collector.exposition().to_owned();
    assert!(text.starts_with("# HELP rust_build_info "), "{text}");
    let at = |family: &str| text.find(&format!("# HELP {family} ")).unwrap();
    assert!(at("rust_build_info") < at("rust_mod_info"), "{text}");
    assert!(at("rust_mod_info") < at("zz_top_build_info"), "{text}");
    #[cfg(feature = "prometheus")]
    assert_eq!(through_prometheus(collector.clone()), text);
    #[cfg(feature = "prometheus-client")]
    assert_eq!(
        through_prometheus_client(collector),
        format!("{text}# EOF\n")
    );
}

#[test]
fn the_expected_texts_pass_promtool() {
    for text in [EXAMPLE, ODD] {
        testkit::check_metrics(text);
    }
    for (name, _) in builds() {
        for layout in Layout::ALL {
            let path = golden(name, layout);
            let text = std::fs::read_to_string(&path).unwrap();
            let remarks = testkit::check_metrics(&text);
            assert!(remarks.is_empty(), "{}: {remarks}", path.display());
        }
    }
}

/// The registry checks descriptors against what `collect` hands out; they must describe
/// exactly the exposed families.
#[cfg(feature = "prometheus")]
#[test]
fn descriptors_describe_the_exposed_families() {
    use prometheus::core::Collector as _;

    let collector = BuildInfoCollector::builder(buildinfo::test_util::example())
        .label("team", "payments")
        .build()
        .unwrap();
    let descs: Vec<(String, String, Vec<String>)> = collector
        .desc()
        .into_iter()
        .map(|d| (d.fq_name.clone(), d.help.clone(), d.variable_labels.clone()))
        .collect();
    let labels = |names: &str| names.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        descs,
        [
            (
                "myapp_build_info".to_owned(),
                build_info_collector::BUILD_INFO_HELP_TEMPLATE.replace("{program}", "myapp"),
                labels("branch features profile revision rustversion target team version")
            ),
            (
                "rust_build_info".to_owned(),
                build_info_collector::RUST_BUILD_INFO_HELP.to_owned(),
                labels("deps layout program revision team version")
            ),
            (
                "rust_mod_info".to_owned(),
                build_info_collector::RUST_MOD_INFO_HELP.to_owned(),
                labels("direct name program source team version")
            ),
        ]
    );
    let collected: Vec<String> = collector
        .collect()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(
        collected,
        ["myapp_build_info", "rust_build_info", "rust_mod_info"]
    );
}

#[test]
fn debug_names_the_families() {
    assert_eq!(
        format!(
            "{:?}",
            BuildInfoCollector::new(buildinfo::test_util::example())
        ),
        "BuildInfoCollector { build_info: \"myapp_build_info\", layout: Full, deps: Some(\"c67432200965955d0a4de0010a497df9\"), rust_mod_info_series: 2, .. }"
    );
}

/// A program name is text from the build: through both registries a newline in it stays
/// inside the escaped HELP line and cannot start a forged series.
#[cfg(all(feature = "prometheus", feature = "prometheus-client"))]
#[test]
fn a_hostile_program_name_cannot_forge_series_through_either_registry() {
    let hostile = || {
        build(
            Facts {
                program: "evil\nforged_series 1\n",
                ..facts()
            },
            &[],
        )
    };
    let help = "# HELP evil_forged_series_1__build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which evil\\nforged_series 1\\n was built.\n";
    for text in [
        through_prometheus(BuildInfoCollector::new(hostile())),
        through_prometheus_client(BuildInfoCollector::new(hostile())),
    ] {
        assert!(text.starts_with(help), "{text}");
        assert!(
            !text.lines().any(|l| l.starts_with("forged_series")),
            "{text}"
        );
    }
}

/// The value of `label` in the one `rust_build_info` line of `text` (absent: empty).
fn rust_build_info_label(text: &str, label: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("rust_build_info{"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let key = format!("{label}=\"");
    lines[0].find(&key).map_or_else(String::new, |start| {
        let rest = &lines[0][start + key.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    })
}

/// Options applied to a builder.
type Options = fn(build_info_collector::Builder) -> build_info_collector::Builder;

/// Options that change which crates the `full` layout shows, and so the list.
fn option_sets() -> Vec<(&'static str, Options)> {
    vec![
        ("defaults", |b| b),
        ("build dependencies", |b| b.build_dependencies(true)),
        ("direct only", |b| b.direct_only(true)),
        ("allow", |b| b.allow(["rand", "cc"])),
        ("deny", |b| b.deny(["tokio"])),
        ("everything", |b| {
            b.build_dependencies(true)
                .allow(["cc", "rand", "tokio"])
                .deny(["tokio"])
                .label("team", "payments")
        }),
    ]
}

/// The digest is computed over the full layout's `rust_mod_info` series, read back from its
/// text: whatever the options and the layout, `rust_build_info` carries the digest of exactly
/// those crates, so the layouts cannot disagree.
#[test]
fn the_digest_is_the_full_layouts_rust_mod_info_series() {
    for (name, info) in builds() {
        for (what, options) in option_sets() {
            let full = options(BuildInfoCollector::builder(info))
                .layout(Layout::Full)
                .build()
                .unwrap();
            let from_series =
                DepsList::from_entries(mod_info_series(full.exposition()).into_iter().map(
                    |(name, version, source, direct)| DepsEntry {
                        name: name.into(),
                        version: version.into(),
                        source: source.into(),
                        direct,
                    },
                ));
            assert_eq!(full.deps_list(), Some(&from_series), "{name}, {what}");
            for layout in Layout::ALL {
                let collector = options(BuildInfoCollector::builder(info))
                    .layout(layout)
                    .build()
                    .unwrap();
                assert_eq!(collector.layout(), layout);
                assert_eq!(collector.deps_list(), Some(&from_series), "{name}, {what}");
                let text = collector.exposition();
                assert_eq!(
                    rust_build_info_label(text, "deps"),
                    from_series.digest(),
                    "{name}, {what}, {layout}"
                );
                assert_eq!(rust_build_info_label(text, "layout"), layout.as_str());
            }
        }
    }
}

#[test]
fn the_digest_ignores_the_program_and_the_labels_and_follows_the_filters() {
    let digest =
        |collector: &BuildInfoCollector| collector.deps_list().unwrap().digest().to_owned();
    let plain = BuildInfoCollector::new(odd_build());
    let renamed = BuildInfoCollector::builder(odd_build())
        .program("another-program")
        .namespace("acme")
        .label("team", "payments")
        .layout(Layout::Catalog)
        .build()
        .unwrap();
    assert_eq!(digest(&plain), digest(&renamed));
    // Another program built with the same crates: the same list.
    let other_build = build(
        Facts {
            program: "other",
            version: "9.9.9",
            ..odd_facts()
        },
        ODD_ROWS,
    );
    assert_eq!(
        digest(&plain),
        digest(&BuildInfoCollector::new(other_build))
    );
    // Every filter that changes the crates changes the digest, each to its own.
    let mut seen = std::collections::BTreeSet::from([digest(&plain)]);
    for (what, options) in option_sets().into_iter().skip(1) {
        let filtered = options(BuildInfoCollector::builder(odd_build()))
            .build()
            .unwrap();
        assert!(
            seen.insert(digest(&filtered)),
            "{what}: a digest seen before"
        );
    }
    // A filter that removes nothing changes nothing.
    let no_op = BuildInfoCollector::builder(odd_build())
        .deny(["not-a-dependency"])
        .build()
        .unwrap();
    assert_eq!(digest(&plain), digest(&no_op));
}

#[test]
fn rust_build_info_carries_the_programs_revision_and_version() {
    let collector = BuildInfoCollector::builder(odd_build())
        .program("svc")
        .namespace("acme")
        .label("team", "payments")
        .build()
        .unwrap();
    let text = collector.exposition();
    assert!(
        text.contains(&format!(
            "\nrust_build_info{{deps=\"{}\",layout=\"full\",program=\"svc\",revision=\"0123456789abcdef0123456789abcdef01234567-modified\",team=\"payments\",version=\"2.0.0-rc.1\"}} 1\n",
            collector.deps_list().unwrap().digest()
        )),
        "{text}"
    );
    // The revision is the one acme_build_info has.
    assert!(
        text.contains(
            "revision=\"0123456789abcdef0123456789abcdef01234567-modified\",rustversion="
        ),
        "{text}"
    );
}

#[test]
fn no_captured_graph_gives_no_list_and_an_empty_deps_label() {
    for layout in Layout::ALL {
        let collector = with_layout(build(odd_facts(), &[]), layout);
        assert_eq!(collector.deps_list(), None);
        assert_eq!(
            collector.deps_document("/deps/e3b0c44298fc1c149afbf4c8996fb924"),
            None
        );
        let text = collector.exposition();
        assert!(
            text.contains("\nrust_build_info{deps=\"\",layout="),
            "{text}"
        );
        assert!(!text.contains("rust_mod_info"), "{text}");
        testkit::check_metrics(text);
    }
    // A graph whose crates are all filtered out is a list: the empty one.
    let none_left = BuildInfoCollector::builder(example())
        .allow(["not-a-dependency"])
        .build()
        .unwrap();
    let list = none_left.deps_list().unwrap();
    assert!(list.is_empty());
    assert_eq!(list.digest(), "e3b0c44298fc1c149afbf4c8996fb924");
    assert_eq!(
        none_left.deps_document("/deps/e3b0c44298fc1c149afbf4c8996fb924"),
        Some("")
    );
}

#[test]
fn deps_document_answers_its_own_digest_path_only() {
    let collector = with_layout(odd_build(), Layout::Catalog);
    let list = collector.deps_list().unwrap();
    let digest = list.digest();
    assert_eq!(
        collector.deps_document(&format!("/deps/{digest}")),
        Some(list.text())
    );
    assert_eq!(collector.deps_document(&list.path()), Some(list.text()));
    let other = BuildInfoCollector::new(example());
    let other_digest = other.deps_list().unwrap().digest();
    assert_ne!(digest, other_digest);
    for path in [
        format!("/deps/{other_digest}"),
        format!("/deps/{digest}/"),
        format!("/deps/{digest}?x=1"),
        format!("/deps//{digest}"),
        format!("/deps/{}", digest.to_uppercase()),
        format!("/deps/{}", &digest[..31]),
        format!("deps/{digest}"),
        format!("/x/deps/{digest}"),
        "/deps/".to_owned(),
        "/metrics".to_owned(),
        String::new(),
    ] {
        assert_eq!(collector.deps_document(&path), None, "{path}");
    }
    // What is served is what a reader accepts for that digest.
    let served = collector.deps_document(&list.path()).unwrap();
    let read = DepsList::verify(
        digest,
        served.as_bytes(),
        build_info_collector::MAX_DEPS_LIST_BYTES,
    )
    .unwrap();
    assert_eq!(&read, list);
}
