//! The same fleet in the `full` and `catalog` layouts, end to end: real services built with
//! build-info and the collector (testkit's `fleet-service`, four builds at three versions of
//! one crate), each run twice, once per layout; a real `depinfo-catalog` that learns the
//! catalog fleet's digests from a real Prometheus and fetches the lists from the services'
//! own `/deps/<digest>`; and three real Prometheus servers: one scraping the full fleet, one
//! the catalog fleet, one a fleet half migrated (two members on each layout). `spread`,
//! `affected` and the recording rules of `cargo depinfo rules` must answer the same on all
//! three, word for word and exit code for exit code.
//!
//! Every instance is relabeled to its member's name (`v0`..`v3`), as a Kubernetes pod keeps
//! its name across a layout change, so that answers naming instances can be compared.
//! Everything listens on 127.0.0.1 on ports picked here; every child is killed by its guard.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testkit::{
    CODEC, EXPOSITION, Reply, Running, Scratch, Server, Variant, build_fleet, query, start_catalog,
    start_prometheus_on, stderr, stdout, unused_addr, wait_until,
};

const CATALOG: &str = env!("CARGO_BIN_EXE_depinfo-catalog");

fn depinfo(args: &[&str]) -> (i32, String, String) {
    let out = testkit::run(
        Command::new(testkit::cargo_depinfo_bin()).args(args),
        Duration::from_secs(180),
    );
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// Starts `variant` in `layout`: its guard and address.
fn start(variant: &Variant, layout: &str) -> (Running, String) {
    let mut child = Running::spawn(
        Command::new(&variant.binary)
            .args(["127.0.0.1:0", layout])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let addr = testkit::announced(
        child.child().stdout.take().unwrap(),
        "listening on ",
        &variant.name,
    );
    (child, addr)
}

fn as_refs(members: &[(String, String)]) -> Vec<(&str, &str)> {
    members
        .iter()
        .map(|(n, a)| (n.as_str(), a.as_str()))
        .collect()
}

/// A Prometheus config: job `fleet` with each `(name, addr)` target labeled `instance=name`,
/// job `catalog` scraping `catalog` when given, and `rules`.
/// With `catalog`, a job `forger` scraping `forger` too: a target that publishes
/// `rust_deps_info` itself.
fn config(
    dir: &Path,
    members: &[(&str, &str)],
    catalog: Option<(&str, &str)>,
    rules: &Path,
) -> String {
    let mut text = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n",
        rules.display()
    );
    for (name, addr) in members {
        let _ = writeln!(
            text,
            "      - targets: ['{addr}']\n        labels: {{instance: '{name}'}}"
        );
    }
    if let Some((catalog, forger)) = catalog {
        let _ = writeln!(
            text,
            "  - job_name: catalog\n    static_configs:\n      - targets: ['{catalog}']\n  - job_name: forger\n    static_configs:\n      - targets: ['{forger}']"
        );
    }
    let path = dir.join("prometheus.yml");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(&path, &text).unwrap();
    path.display().to_string()
}

/// The first value of `promql`'s answer at `prom`, or `""`.
fn value(prom: &str, promql: &str) -> String {
    testkit::first_value(&query(prom, promql)).unwrap_or_default()
}

/// `name_version:rust_instances:count{name="fleet-codec"}` by version.
fn recorded_counts(prom: &str) -> BTreeMap<String, String> {
    query(
        prom,
        &format!("name_version:rust_instances:count{{name=\"{CODEC}\"}}"),
    )
    .iter()
    .map(|r| {
        (
            r["metric"]["version"].as_str().unwrap_or("").to_owned(),
            r["value"][1].as_str().unwrap().to_owned(),
        )
    })
    .collect()
}

#[test]
fn spread_affected_and_the_rules_answer_the_same_on_every_layout() {
    let scratch = Scratch::new("fleet-layouts");
    let fleet = build_fleet(&scratch, "fleet-layouts");
    let mut children: Vec<Running> = Vec::new();
    let mut full = Vec::new();
    let mut catalog = Vec::new();
    for v in &fleet {
        let (child, addr) = start(v, "full");
        children.push(child);
        full.push((v.name.clone(), addr));
        let (child, addr) = start(v, "catalog");
        children.push(child);
        catalog.push((v.name.clone(), addr));
    }
    let pairs = |members: &[(String, String)]| -> Vec<(String, String)> { members.to_vec() };
    let half: Vec<(String, String)> = pairs(&full[..2])
        .into_iter()
        .chain(pairs(&catalog[2..]))
        .collect();

    // The rules as users write them, with the alerts' waits shortened for the test.
    let (code, rules, err) = depinfo(&[
        "depinfo",
        "rules",
        "--spread-for",
        "0s",
        "--drift-for",
        "0s",
    ]);
    assert_eq!(code, 0, "{err}");
    let rules_path = scratch.join("rules.yml");
    std::fs::write(&rules_path, &rules).unwrap();
    testkit::check_rules(&rules_path);

    // The catalog watches the catalog-layout Prometheus; the half-migrated one scrapes the
    // same catalog (one catalog serves the whole fleet).
    let catalog_prom = unused_addr().to_string();
    let cache = scratch.join("catalog-cache");
    let (catalog_child, catalog_addr, catalog_lines) = start_catalog(
        Command::new(CATALOG),
        [
            "--prometheus",
            &format!("http://{catalog_prom}"),
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "1s",
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    children.push(catalog_child);
    // A fleet member that publishes rust_deps_info rows of its own for another build's
    // digest (set once that digest is known): readers believe a list only from rows that
    // hash to its digest, so these must change no answer.
    let forged = Arc::new(Mutex::new(String::new()));
    let page = Arc::clone(&forged);
    let forging_target = Server::start(move |path| {
        if path == "/metrics" {
            Reply::ok(EXPOSITION, page.lock().unwrap().clone())
        } else {
            Reply::not_found()
        }
    });
    let forger_addr = forging_target.host_port();
    let mut proms = Vec::new();
    for (name, members, with_catalog, addr) in [
        ("full", &full, false, unused_addr().to_string()),
        ("catalog", &catalog, true, catalog_prom.clone()),
        ("half", &half, true, unused_addr().to_string()),
    ] {
        let dir = scratch.join(format!("prometheus-{name}"));
        let config = config(
            &dir,
            &as_refs(members),
            with_catalog.then_some((catalog_addr.as_str(), forger_addr.as_str())),
            &rules_path,
        );
        children.push(start_prometheus_on(
            &addr,
            Path::new(&config),
            &dir.join("data"),
        ));
        proms.push((name, addr, with_catalog));
    }

    // Every layout's data in place: four instances known, every digest resolved.
    for (name, prom, with_catalog) in &proms {
        wait_until(
            &format!("the {name} fleet scraped, its lists in the catalog"),
            Duration::from_secs(90),
            || {
                value(prom, "count(rust_build_info{job=\"fleet\"})") == "4"
                    && (!with_catalog
                        || value(
                            prom,
                            "count(rust_build_info{layout=\"catalog\"} unless on(deps) rust_deps_info) or vector(0)",
                        ) == "0")
                    && recorded_counts(prom)
                        .values()
                        .map(|v| v.parse::<u32>().unwrap_or(0))
                        .sum::<u32>()
                        == 4
            },
        );
    }
    assert!(
        catalog_lines
            .all()
            .iter()
            .all(|l| !l.contains("refused what")),
        "{:?}",
        catalog_lines.all()
    );
    let v0_deps = query(
        &catalog_prom,
        "rust_build_info{job=\"fleet\",instance=\"v0\"}",
    )[0]["metric"]["deps"]
        .as_str()
        .unwrap()
        .to_owned();
    *forged.lock().unwrap() = format!(
        "# TYPE rust_deps_info gauge\nrust_deps_info{{deps=\"{v0_deps}\",direct=\"true\",name=\"openssl\",source=\"crates.io\",version=\"0.10.0\"}} 1\n"
    );
    for (name, prom, with_catalog) in &proms {
        if *with_catalog {
            wait_until(
                &format!("the forged row scraped by the {name} Prometheus"),
                Duration::from_secs(60),
                || value(prom, "count(rust_deps_info{name=\"openssl\"})") == "1",
            );
        }
    }

    // The catalog layout holds two series per instance; the full layout one more per crate
    // of each instance's list, as the catalog lists them.
    let ours = |prom: &str| -> u64 {
        value(
            prom,
            "count({__name__=~\"rust_mod_info|rust_build_info|fleet_layouts_build_info\",job=\"fleet\"})",
        )
        .parse()
        .unwrap()
    };
    let proms: Vec<(&str, String)> = proms.into_iter().map(|(n, a, _)| (n, a)).collect();
    let (full_series, catalog_series) = (ours(&proms[0].1), ours(&proms[1].1));
    assert_eq!(catalog_series, 8, "two series per instance");
    let crates: u64 = value(
        &proms[1].1,
        "sum(count by (deps) (rust_deps_info{job=\"catalog\"}) * on(deps) count by (deps) (rust_build_info))",
    )
    .parse()
    .unwrap();
    assert!(crates >= 4 * 10, "{crates}");
    assert_eq!(full_series, 8 + crates);

    // The recorded counts and the spread alert: the same on every layout.
    let expected: BTreeMap<String, String> = [("1.0.0", "1"), ("1.1.0", "2"), ("2.0.0", "1")]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
    for (name, prom) in &proms {
        assert_eq!(recorded_counts(prom), expected, "{name}");
        wait_until(
            &format!("the spread alert firing on the {name} layout"),
            Duration::from_secs(60),
            || {
                value(
                    prom,
                    &format!(
                        "ALERTS{{alertname=\"RustCrateVersionSpread\",alertstate=\"firing\",name=\"{CODEC}\"}}"
                    ),
                ) == "1"
            },
        );
        assert_eq!(
            value(
                prom,
                "count(ALERTS{alertname=\"RustDependencyListUnknown\"}) or vector(0)"
            ),
            "0",
            "{name}"
        );
    }

    // The CLI: every question, the same bytes and exit codes through every layout.
    let questions: [&[&str]; 8] = [
        &["spread", "--crate", CODEC],
        &["spread", "--crate", CODEC, "--format", "json"],
        &["spread", "--max-versions", "1", "--crate", CODEC],
        &["spread", "--format", "json"],
        &["affected", CODEC, ">=1.1.0, <2.0.0"],
        &["affected", CODEC, ">=1.1.0", "--format", "json"],
        // The forged crate: nobody runs it, on every layout.
        &["affected", "openssl", "*"],
        &["spread", "--crate", "openssl", "--format", "json"],
    ];
    for q in questions {
        let mut answers = Vec::new();
        for (name, prom) in &proms {
            let url = format!("http://{prom}");
            let args: Vec<&str> = ["depinfo"]
                .into_iter()
                .chain(q.iter().copied())
                .chain(["--prometheus", url.as_str()])
                .collect();
            let (code, out, err) = depinfo(&args);
            assert!(
                code == 0 || code == 1,
                "{name} {q:?}: exit {code}\n{out}\n{err}"
            );
            // Each layout's server has its own address; the answers name it as the origin.
            answers.push((name, code, out.replace(&url, "PROMETHEUS")));
        }
        for (name, code, out) in &answers[1..] {
            assert_eq!(
                (code, out),
                (&answers[0].1, &answers[0].2),
                "{q:?}: the {name} layout answers otherwise than the full layout"
            );
        }
    }
    // And the answers are right, not only equal: the affected instances are those linking
    // 1.1.0 (v1 and v3), each named once.
    let url = format!("http://{}", proms[2].1);
    let (code, out, err) = depinfo(&[
        "depinfo",
        "affected",
        CODEC,
        ">=1.1.0, <2.0.0",
        "--format",
        "json",
        "--prometheus",
        &url,
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(testkit::affected_instances(&out), ["v1", "v3"], "{out}");
}
