//! `cargo depinfo report --format json`, the model the HTML report renders, from each kind of
//! source: an exporter's `/metrics` page read directly and through a real Prometheus (the
//! processes by state come with it), binaries on disk (`installed`), a registry index
//! (`--outdated`), and inputs that fail (the report still comes, and says which failed).
//!
//! Every server started here listens on 127.0.0.1 on a port the test picks and is stopped by
//! its guard, also when an assertion fails.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Processes, Reply, Scratch, Server, auditable_binary, dep_v0_json, query, start_prometheus,
    stderr, stdout, wait_until,
};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

fn depinfo(args: &[&str]) -> (i32, Value, String) {
    let out = testkit::run(Command::new(DEPINFO).args(args), Duration::from_secs(120));
    let text = stdout(&out);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code().unwrap_or(-1), value, stderr(&out))
}

/// What one exporter serves for a host running `svc` (two processes of the current image,
/// one whose executable was deleted since it started, both of one build) and `tool` (one
/// process whose file was replaced), as depinfo-exporter writes it.
const EXPORTER_PAGE: &str = concat!(
    "# HELP svc_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which svc was built.\n",
    "# TYPE svc_build_info gauge\n",
    "svc_build_info{branch=\"main\",features=\"\",origin=\"exporter\",profile=\"release\",revision=\"aaaa\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"1.2.0\"} 1\n",
    "# HELP tool_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which tool was built.\n",
    "# TYPE tool_build_info gauge\n",
    "tool_build_info{branch=\"main\",features=\"\",origin=\"exporter\",profile=\"release\",revision=\"bbbb\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"0.3.0\"} 1\n",
    "# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n",
    "# TYPE rust_mod_info gauge\n",
    "rust_mod_info{direct=\"true\",name=\"hyper\",origin=\"exporter\",program=\"svc\",source=\"crates.io\",version=\"0.14.1\"} 1\n",
    "rust_mod_info{direct=\"false\",name=\"itoa\",origin=\"exporter\",program=\"svc\",source=\"crates.io\",version=\"1.0.15\"} 1\n",
    "rust_mod_info{direct=\"true\",name=\"itoa\",origin=\"exporter\",program=\"tool\",source=\"crates.io\",version=\"1.0.11\"} 1\n",
    "# HELP rust_process_info Processes running one executable image with build-info or cargo-auditable data, by path, state (current, replaced, deleted, memfd; installed for a binary under --path that does not run) and workload.\n",
    "# TYPE rust_process_info gauge\n",
    "rust_process_info{container_id=\"\",exe=\"/srv/svc\",pod_uid=\"\",program=\"svc\",revision=\"aaaa\",state=\"current\",systemd_unit=\"svc.service\",version=\"1.2.0\"} 2\n",
    "rust_process_info{container_id=\"\",exe=\"/srv/svc (deleted)\",pod_uid=\"\",program=\"svc\",revision=\"aaaa\",state=\"deleted\",systemd_unit=\"svc-old.service\",version=\"1.2.0\"} 1\n",
    "rust_process_info{container_id=\"\",exe=\"/usr/bin/tool\",pod_uid=\"\",program=\"tool\",revision=\"bbbb\",state=\"replaced\",systemd_unit=\"\",version=\"0.3.0\"} 1\n",
    // Not a process: a zero is what no longer runs.
    "rust_process_info{container_id=\"\",exe=\"/usr/bin/gone\",pod_uid=\"\",program=\"tool\",revision=\"bbbb\",state=\"memfd\",systemd_unit=\"\",version=\"0.3.0\"} 0\n",
);

/// `program: state=count,...` of every program row.
fn program_states(report: &Value) -> Vec<String> {
    report["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let states: Vec<String> = p["states"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{}: {}", p["program"].as_str().unwrap(), states.join(","))
        })
        .collect()
}

#[test]
fn an_exporter_gives_its_processes_by_state_read_directly_and_through_prometheus() {
    let scratch = Scratch::new("report-exporter");
    let exporter = Server::metrics(EXPORTER_PAGE);
    let (code, direct, err) = depinfo(&[
        "report",
        "--format",
        "json",
        "--metrics",
        &exporter.url("/metrics"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        program_states(&direct),
        ["svc: current=2,deleted=1", "tool: replaced=1"]
    );
    assert_eq!(
        direct["builds"][0]["states"],
        json!({"current": 2, "deleted": 1})
    );
    assert_eq!(
        direct["totals"],
        json!({"programs": 2, "builds": 2, "instances": 2, "crates": 2, "crate_versions": 3,
            "advisories": null, "outdated": null})
    );

    let config = scratch.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: host\n    static_configs:\n      - targets: ['{}']\n",
            exporter.host_port()
        ),
    )
    .unwrap();
    let mut procs = Processes::default();
    let (child, prom) = start_prometheus(&config, &scratch.join("data"));
    procs.insert("prometheus".to_owned(), child);
    wait_until("the exporter scraped", Duration::from_secs(60), || {
        !query(&prom, "rust_process_info").is_empty() && !query(&prom, "rust_mod_info").is_empty()
    });
    let url = format!("http://{prom}");
    let (code, through, err) = depinfo(&["report", "--format", "json", "--prometheus", &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(program_states(&through), program_states(&direct));
    // The same picture: only the input differs (and the job Prometheus gave).
    for key in ["totals", "crates"] {
        assert_eq!(through[key], direct[key], "{key}");
    }
    assert_eq!(through["builds"][0]["jobs"], json!(["host"]));
    assert_eq!(through["sources"], json!([url]));
}

#[test]
fn binaries_are_installed_and_a_failed_input_is_named_with_the_rest_reported() {
    let scratch = Scratch::new("report-binaries");
    let bin = scratch.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let app = |name: &str, serde: &str| {
        dep_v0_json(
            (name, "1.0.0", "local"),
            &[
                ("serde", serde, "crates.io"),
                ("itoa", "1.0.11", "crates.io"),
            ],
        )
    };
    auditable_binary(&bin.join("one"), &app("one", "1.0.100"));
    auditable_binary(&bin.join("two"), &app("two", "1.0.219"));
    auditable_binary(&bin.join("two-copy"), &app("two", "1.0.219"));
    let missing = scratch.join("no-such-binary");
    let (code, report, err) = depinfo(&[
        "report",
        "--format",
        "json",
        bin.to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "a failed input makes the report partial: {err}");
    assert!(err.contains("no-such-binary"), "{err}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-binary")
    );
    assert_eq!(
        program_states(&report),
        ["one: installed=1", "two: installed=2"]
    );
    let serde = report["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "serde")
        .unwrap();
    assert_eq!(
        serde["versions"],
        json!([
            {"version": "1.0.100", "sources": ["crates.io"], "instances": 1, "builds": [0]},
            {"version": "1.0.219", "sources": ["crates.io"], "instances": 2, "builds": [1]},
        ])
    );
    // The widest spread first.
    assert_eq!(report["crates"][0]["name"], "serde");
    assert_eq!(
        report["builds"][1]["locations"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn outdated_rows_come_from_the_registry_when_asked() {
    let scratch = Scratch::new("report-outdated");
    let bin = scratch.join("app");
    auditable_binary(
        &bin,
        &dep_v0_json(
            ("app", "1.0.0", "local"),
            &[
                ("serde", "1.0.100", "crates.io"),
                ("itoa", "1.0.11", "crates.io"),
            ],
        ),
    );
    // Every crate has 1.0.999 (a patch for both) and serde also 2.0.0 (a major).
    let index = Server::start(|target| {
        let name = target.rsplit('/').next().unwrap_or("");
        let mut versions = vec!["1.0.999"];
        if name == "serde" {
            versions.push("2.0.0");
        }
        let mut body = String::new();
        for v in versions {
            let _ = writeln!(
                body,
                "{{\"name\":\"{name}\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}",
                "0".repeat(64)
            );
        }
        Reply::ok("text/plain", body)
    });
    let index_url = index.url("/index/");
    let (code, report, err) = depinfo(&[
        "report",
        "--format",
        "json",
        "--outdated",
        "--index",
        &index_url,
        bin.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<String> = report["outdated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["name"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
                r["behind"].as_str().unwrap(),
                r["newest"].as_str().unwrap(),
                r["instances"]
            )
        })
        .collect();
    assert_eq!(
        rows,
        ["serde 1.0.100 major 2.0.0 1", "itoa 1.0.11 patch 1.0.999 1"]
    );
    assert_eq!(report["totals"]["outdated"], 2);
    assert!(
        report["registry"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    // Not asked: not there, rather than empty.
    let (_, plain, _) = depinfo(&["report", "--format", "json", bin.to_str().unwrap()]);
    assert!(plain["outdated"].is_null() && plain["registry"].is_null());
}

#[test]
fn registry_flags_need_outdated() {
    let out = testkit::run(
        Command::new(DEPINFO).args(["report", "--index", "http://127.0.0.1:1/", "."]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--outdated"), "{}", stderr(&out));
}
