//! The exposition text, byte for byte, through both registries and the pre-rendered text.

use build_info_collector::{BuildInfoCollector, Error};
use buildinfo::{BuildInfo, DependencyKind};
use testkit::fixture::{Facts, Row, build, example, facts};

/// The example build's exposition, byte for byte.
const EXAMPLE: &str = include_str!("golden/example.prom");

/// A branch name with every character the format escapes, and non-ASCII text.
const ODD_BRANCH: &str = "feat/\"quoted\"\\back\nslash-ñandú-✓";

/// What the odd build looks like: escaped branch, a crate in two versions, a git crate, a
/// build-only crate left out, the root left out.
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

#[test]
fn pre_rendered_text_is_exact() {
    assert_eq!(BuildInfoCollector::new(example()).exposition(), EXAMPLE);
    assert_eq!(BuildInfoCollector::new(odd_build()).exposition(), ODD);
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
fn no_captured_graph_gives_build_info_only() {
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
        "label \"version\" clashes with a label the collector sets itself (branch, features, profile, revision, rustversion, target, version, direct, name, program, source)"
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
    assert!(text.starts_with("# HELP rust_mod_info "), "{text}");
    assert!(text.contains("\n# HELP zz_top_build_info "), "{text}");
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
    assert_eq!(collected, ["myapp_build_info", "rust_mod_info"]);
}

#[test]
fn debug_names_the_families() {
    assert_eq!(
        format!(
            "{:?}",
            BuildInfoCollector::new(buildinfo::test_util::example())
        ),
        "BuildInfoCollector { build_info: \"myapp_build_info\", rust_mod_info_series: 2, .. }"
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
