//! A second engine: the fleet of `fleet_e2e.rs` (testkit's `build_fleet`) scraped at once by a
//! real Prometheus and a real VictoriaMetrics single node (Debian packages `prometheus` and
//! `victoria-metrics`; the test fails without them), from one scrape configuration. Once both
//! hold every target's series, `cargo depinfo affected` and `spread`, through `--prometheus`,
//! answer the same through both, in every output format, byte for byte once the engine's own
//! URL is replaced by a placeholder.
//!
//! Everything started here listens on 127.0.0.1 on ports chosen here, and is killed by its
//! `Running` guard, also when an assertion fails.

use std::process::Command;
use std::time::Duration;

use testkit::{
    CODEC, Processes, Scratch, build_fleet, first_value, get, query, start_fleet, start_prometheus,
    start_victoria_metrics, stderr, stdout, wait_until,
};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// How long both engines may take to hold every target's series.
const SCRAPED_LIMIT: Duration = Duration::from_secs(90);

/// `cargo depinfo ARGS`: exit code, stdout, stderr.
fn depinfo(args: &[&str]) -> (i32, String, String) {
    let out = testkit::run(Command::new(DEPINFO).args(args), Duration::from_secs(120));
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// What an engine holds, as the numbers the test waits on: targets up, `rust_mod_info` series,
/// `fleet-codec` series, `<program>_build_info` series, `rust_build_info` series.
fn holdings(engine: &str) -> [Option<String>; 5] {
    [
        "sum(up{job=\"fleet\"})".to_owned(),
        "count(rust_mod_info)".to_owned(),
        format!("count(rust_mod_info{{name=\"{CODEC}\"}})"),
        "count({__name__=~\".+_build_info\",rustversion!=\"\"})".to_owned(),
        "count(rust_build_info)".to_owned(),
    ]
    .map(|q| first_value(&query(engine, &q)))
}

#[test]
fn affected_and_spread_agree_through_prometheus_and_victoria_metrics() {
    let scratch = Scratch::new("fleet-victoria");
    let mut procs = Processes::default();
    // A package name of its own: fleet_e2e builds `fleet-app` in the same target directory.
    let mut fleet = build_fleet(&scratch, "fleet-vm");
    start_fleet(&mut fleet, &mut procs);

    // What every member serves: the number of rust_mod_info series both engines must hold.
    let mod_series: usize = fleet
        .iter()
        .map(|v| {
            let page = get(&v.addr, "/metrics").unwrap();
            assert_eq!(page.status, 200, "{}: {}", v.addr, page.body);
            page.body
                .lines()
                .filter(|l| l.starts_with("rust_mod_info{"))
                .count()
        })
        .sum();

    // One scrape configuration for both engines (no rule files: VictoriaMetrics evaluates
    // rules in a separate program).
    let targets: Vec<String> = fleet.iter().map(|v| format!("'{}'", v.addr)).collect();
    let config = scratch.join("scrape.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .unwrap();
    let (child, prom) = start_prometheus(&config, &scratch.join("prometheus-data"));
    procs.insert("prometheus".to_owned(), child);
    let (child, vm) = start_victoria_metrics(&config, &scratch.join("victoria-data"));
    procs.insert("victoria-metrics".to_owned(), child);

    let expected = [
        Some(fleet.len().to_string()),
        Some(mod_series.to_string()),
        Some(fleet.len().to_string()),
        Some(fleet.len().to_string()),
        Some(fleet.len().to_string()),
    ];
    for engine in [&prom, &vm] {
        wait_until(
            &format!("{engine} to hold every target's series ({expected:?})"),
            SCRAPED_LIMIT,
            || holdings(engine) == expected,
        );
    }

    let prom_url = format!("http://{prom}");
    let vm_url = format!("http://{vm}");
    let instances_at = |version: &str| -> Vec<String> {
        let mut v: Vec<String> = fleet
            .iter()
            .filter(|v| v.codec == version)
            .map(|v| v.addr.clone())
            .collect();
        v.sort();
        v
    };
    let questions: &[(&[&str], i32)] = &[
        (&["affected", CODEC, ">=1.1.0, <2.0.0"], 1),
        (
            &["affected", CODEC, ">=1.1.0, <2.0.0", "--format", "json"],
            1,
        ),
        (
            &[
                "affected",
                CODEC,
                ">=1.1.0, <2.0.0",
                "--format",
                "prometheus",
            ],
            1,
        ),
        (&["affected", CODEC, ">=3"], 0),
        (&["affected", CODEC, ">=3", "--format", "json"], 0),
        (&["spread", "--crate", CODEC], 0),
        (&["spread", "--crate", CODEC, "--format", "json"], 0),
        (&["spread", "--crate", CODEC, "--format", "prometheus"], 0),
        (&["spread", "--crate", CODEC, "--max-versions", "2"], 1),
        (&["spread"], 0),
        (&["spread", "--format", "json"], 0),
        (&["spread", "--format", "prometheus"], 0),
    ];
    for (args, code) in questions {
        let through = |url: &str| {
            let args = [args, &["--prometheus", url][..]].concat();
            let (got, out, err) = depinfo(&args);
            assert_eq!(got, *code, "{args:?}: {out}{err}");
            (out.replace(url, "<ENGINE>"), err.replace(url, "<ENGINE>"))
        };
        let (prom_out, prom_err) = through(&prom_url);
        let (vm_out, vm_err) = through(&vm_url);
        assert_eq!(
            prom_out, vm_out,
            "{args:?}: Prometheus (left) and VictoriaMetrics (right) disagree"
        );
        assert_eq!(prom_err, vm_err, "{args:?}: stderr differs");
        // Both say something about the crate, at the versions the fleet runs.
        if args[0] == "spread" && !args.contains(&"--max-versions") {
            testkit::assert_contains(&prom_out, CODEC);
            for version in ["1.0.0", "1.1.0", "2.0.0"] {
                testkit::assert_contains(&prom_out, version);
            }
        }
        if args.ends_with(&["--format", "json"]) && args[0] == "affected" {
            let expect = if *code == 1 {
                instances_at("1.1.0")
            } else {
                Vec::new()
            };
            assert_eq!(testkit::affected_instances(&prom_out), expect, "{prom_out}");
        }
    }
    testkit::assert_contains(
        &depinfo(&[
            "affected",
            CODEC,
            ">=1.1.0, <2.0.0",
            "--prometheus",
            &vm_url,
        ])
        .1,
        &format!("{CODEC} 1.1.0"),
    );
}
