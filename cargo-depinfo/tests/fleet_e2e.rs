//! End to end, the way users run it: a small fleet of services built for real at different
//! versions of one crate, a real Prometheus scraping them with the rules `cargo depinfo rules`
//! wrote, PromQL answers, an alert that fires and resolves, and `cargo depinfo` agreeing.
//!
//! The fleet and the engine come from testkit (`build_fleet`, `start_prometheus`), shared with
//! `fleet_victoria.rs`. Everything started here listens on 127.0.0.1 on ports chosen here, and
//! is killed by its `Running` guard, also when an assertion fails.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use testkit::{
    CODEC, Processes, Reply, Scratch, Server, Variant, build_fleet, get, query, start_fleet,
    start_prometheus, stderr, stdout, wait_until, workspace_root,
};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// `GET path` from `addr`: (status, body).
fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    get(addr, path).map(|r| (r.status, r.body))
}

/// `label value -> sample value` of a `count by (label)` style result.
fn by_label(result: &[Value], label: &str) -> BTreeMap<String, String> {
    result
        .iter()
        .map(|r| {
            (
                r["metric"][label].as_str().unwrap_or("").to_owned(),
                r["value"][1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn depinfo(args: &[&str]) -> (i32, String, String) {
    let out = testkit::run(Command::new(DEPINFO).args(args), Duration::from_secs(120));
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

#[test]
fn a_fleet_at_three_versions_seen_through_a_real_prometheus() {
    let scratch = Scratch::new("fleet");
    let mut procs = Processes::default();
    let mut fleet = build_fleet(&scratch, "fleet-app");
    start_fleet(&mut fleet, &mut procs);

    let readme = ReadmeFleetSection::read();
    // The rule file, from the README's cargo depinfo command, checked by promtool before
    // Prometheus loads it.
    let rules_path = scratch.join("rules.yml");
    let rules_command = readme.command("rules");
    let (redirect, rules_args) = match rules_command.iter().position(|a| a == ">") {
        Some(i) => (true, rules_command[..i].to_vec()),
        None => (false, rules_command.clone()),
    };
    assert!(
        redirect,
        "the README's rules command writes a file: {rules_command:?}"
    );
    let rules_args: Vec<&str> = rules_args.iter().map(String::as_str).collect();
    let (code, rules, err) = depinfo(&rules_args);
    assert_eq!(code, 0, "{err}");
    std::fs::write(&rules_path, &rules).unwrap();
    testkit::check_rules(&rules_path);
    // As written, the README's rules wait out a rolling deploy (minutes) before they fire.
    assert!(
        rules.contains("for: 15m\n") && rules.contains("for: 30m\n"),
        "{rules}"
    );
    // This test cannot wait that long: it runs the README's command, unchanged, with both
    // `for:` shortened to nothing.
    let short = [
        &rules_args[..],
        &["--spread-for", "0s", "--drift-for", "0s"],
    ]
    .concat();
    let (code, rules, err) = depinfo(&short);
    assert_eq!(code, 0, "{err}");
    assert_eq!(rules.matches("for: 0s\n").count(), 2, "{rules}");
    std::fs::write(&rules_path, &rules).unwrap();
    testkit::check_rules(&rules_path);

    let targets: Vec<String> = fleet.iter().map(|v| format!("'{}'", v.addr)).collect();
    let config = scratch.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: [{}]\n",
            rules_path.display(),
            targets.join(", ")
        ),
    )
    .unwrap();
    let (child, prom) = start_prometheus(&config, &scratch.join("prometheus-data"));
    procs.insert("prometheus".to_owned(), child);
    wait_until(
        "every target up with its series",
        Duration::from_secs(60),
        || {
            let up = query(&prom, "sum(up{job=\"fleet\"})");
            let codec = query(&prom, &format!("count(rust_mod_info{{name=\"{CODEC}\"}})"));
            let value = |r: &[Value]| {
                r.first()
                    .map(|s| s["value"][1].as_str().unwrap().to_owned())
            };
            value(&up).as_deref() == Some("4") && value(&codec).as_deref() == Some("4")
        },
    );

    // The README's three PromQL questions, run as written (crate and program substituted).
    let [versions_q, spread_q, revisions_q] = readme.promql.as_slice() else {
        panic!(
            "the README's promql block should hold three queries: {:?}",
            readme.promql
        )
    };
    // Which versions run, and how many of each.
    let versions = by_label(&query(&prom, versions_q), "version");
    let expected: BTreeMap<String, String> = [("1.0.0", "1"), ("1.1.0", "2"), ("2.0.0", "1")]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .into();
    assert_eq!(versions, expected);
    // Too much spread.
    let spread = query(&prom, spread_q);
    assert_eq!(spread.len(), 1);
    assert_eq!(spread[0]["value"][1], "3");
    // Who runs which revision.
    let revisions = by_label(&query(&prom, revisions_q), "revision");
    let built: BTreeMap<String, String> = fleet
        .iter()
        .map(|v| (v.revision.clone(), "1".to_owned()))
        .collect();
    assert_eq!(revisions, built);

    // The spread alert from the generated rules fires for the crate.
    let firing = |prom: &str| -> bool {
        let (_, body) = http_get(prom, "/api/v1/alerts").unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["labels"]["name"] == CODEC && a["state"] == "firing")
    };
    wait_until(
        "the version-spread alert to fire",
        Duration::from_secs(60),
        || firing(&prom),
    );
    // Four revisions of one program run at once: the revision-drift rule fires for it too.
    wait_until(
        "the revision-drift alert to fire",
        Duration::from_secs(60),
        || {
            let (_, body) = http_get(&prom, "/api/v1/alerts").unwrap();
            let v: Value = serde_json::from_str(&body).unwrap();
            v["data"]["alerts"].as_array().unwrap().iter().any(|a| {
                a["labels"]["alertname"] == "RustProgramRevisionDrift"
                    && a["labels"]["program"] == "fleet_app"
                    && a["state"] == "firing"
                    && a["value"].as_str().is_some_and(|x| x.starts_with('4'))
            })
        },
    );

    check_readme_commands(&readme, &prom, &fleet);
    check_depinfo_agrees(&prom, &fleet);
    check_report_in_a_browser(&prom, &fleet, &scratch);

    // Stop the 2.0.0 variant: its series go stale, two versions remain, the alert resolves.
    procs.remove("v2");
    wait_until("the alert to resolve", Duration::from_secs(60), || {
        !firing(&prom)
    });
    let versions = by_label(
        &query(
            &prom,
            &format!("count by (version)(rust_mod_info{{name=\"{CODEC}\"}})"),
        ),
        "version",
    );
    assert_eq!(
        versions.keys().map(String::as_str).collect::<Vec<_>>(),
        ["1.0.0", "1.1.0"]
    );
}

/// Issue 22: `cargo depinfo report` of this fleet through its Prometheus, opened in headless
/// Chromium: the page's totals are the JSON model's (one program, a build per variant, an
/// instance each, the codec crate in three versions), it asks for nothing and logs no error;
/// its screenshot is the one the README shows (written to `CARGO_TARGET_TMPDIR`).
fn check_report_in_a_browser(prom: &str, fleet: &[Variant], scratch: &Scratch) {
    let url = format!("http://{prom}");
    // An advisory database in RustSec's layout with one advisory on a crate every variant
    // links (smallvec before 1.99.0), so that the advisories view has its row.
    let db = scratch.join("advisory-db");
    let dir = db.join("crates/smallvec");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("RUSTSEC-2099-0042.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0042\"\npackage = \"smallvec\"\ndate = \"2099-01-02\"\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N\"\n\n[versions]\npatched = [\">= 1.99.0\"]\n```\n\n# Buffer overflow in SmallVec::insert_many (a fixture)\n",
    )
    .unwrap();
    let db = db.display().to_string();
    let (code, json, err) = depinfo(&[
        "report",
        "--format",
        "json",
        "--prometheus",
        &url,
        "--db",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    let model: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(model["totals"]["advisories"], 1, "{json}");
    assert_eq!(model["advisories"][0]["instances"], fleet.len(), "{json}");
    assert_eq!(model["advisories"][0]["severity"], "high", "{json}");
    assert_eq!(model["totals"]["programs"], 1, "{json}");
    assert_eq!(model["totals"]["builds"], fleet.len(), "{json}");
    assert_eq!(model["totals"]["instances"], fleet.len(), "{json}");
    let codec = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == CODEC)
        .unwrap();
    assert_eq!(codec["versions"].as_array().unwrap().len(), 3, "{codec}");
    // The widest spread comes first: nothing else runs in three versions.
    assert_eq!(model["crates"][0]["name"], CODEC);

    let (code, html, err) = depinfo(&["report", "--prometheus", &url, "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let page = scratch.join("fleet-report.html");
    std::fs::write(&page, html).unwrap();
    let mut browser = testkit::Browser::start(scratch);
    browser.open(&page);
    for (key, value) in model["totals"].as_object().unwrap() {
        if value.is_null() {
            assert_eq!(
                browser.count(&format!("dd[data-total=\"{key}\"]")),
                0,
                "{key}"
            );
            continue;
        }
        let shown = browser.evaluate(&format!(
            "document.querySelector('dd[data-total=\"{key}\"]').textContent.trim()"
        ));
        assert_eq!(shown.as_str(), Some(value.to_string().as_str()), "{key}");
    }
    assert_eq!(
        browser.count("table[data-view=\"builds\"] tbody tr[data-row]"),
        fleet.len()
    );
    assert_eq!(
        browser.count("table[data-view=\"advisories\"] tbody tr[data-row]"),
        1
    );
    assert_eq!(browser.requests(), Vec::<String>::new());
    assert_eq!(browser.errors(), Vec::<String>::new());
    assert_eq!(browser.csp_violations(), Vec::<String>::new());
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-fleet.png");
    browser.screenshot(&shot);
    println!("screenshot of the fleet's report: {}", shot.display());
}

/// `cargo depinfo affected` and `spread`, through the Prometheus API and through the targets'
/// own /metrics, name exactly the instances PromQL names.
fn check_depinfo_agrees(prom: &str, fleet: &[Variant]) {
    let prom_url = format!("http://{prom}");
    let metrics_args: Vec<String> = fleet
        .iter()
        .flat_map(|v| ["--metrics".to_owned(), format!("http://{}/metrics", v.addr)])
        .collect();
    let expect_instances = |pred: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut v: Vec<String> = fleet
            .iter()
            .filter(|v| pred(v.codec))
            .map(|v| v.addr.clone())
            .collect();
        v.sort();
        v
    };
    for source in [
        vec!["--prometheus".to_owned(), prom_url.clone()],
        metrics_args.clone(),
    ] {
        let source: Vec<&str> = source.iter().map(String::as_str).collect();
        // `cargo depinfo ARGS SOURCE`: the exit code, stdout, and stderr after the arguments.
        let ask = |args: &[&str]| {
            let args = [args, &source].concat();
            let (code, out, err) = depinfo(&args);
            (code, out, format!("{args:?}: {err}"))
        };
        // 1.1.0 matches, 1.0.0 and 2.0.0 do not.
        let (code, out, err) = ask(&["affected", CODEC, ">=1.1.0, <2.0.0", "--format", "json"]);
        assert_eq!(code, 1, "{out}{err}");
        assert_eq!(
            testkit::affected_instances(&out),
            expect_instances(&|c| c == "1.1.0"),
            "{out}"
        );
        let (code, out, err) = ask(&["affected", CODEC, ">=3"]);
        assert_eq!(code, 0, "{out}{err}");

        let (code, out, err) = ask(&["spread", "--crate", CODEC, "--format", "json"]);
        assert_eq!(code, 0, "{out}{err}");
        // Through Prometheus, the instances per version are counted by the server (one
        // runner per program and job); through the pages, listed. The same numbers.
        let mut counts = BTreeMap::new();
        for v in fleet {
            *counts.entry(v.codec.to_owned()).or_insert(0) += 1;
        }
        assert_eq!(spread_counts(&out), counts, "{out}");
        if source[0] == "--metrics" {
            let mut expected = BTreeMap::new();
            for v in fleet {
                expected
                    .entry(v.codec.to_owned())
                    .or_insert_with(Vec::new)
                    .push(v.addr.clone());
            }
            for list in expected.values_mut() {
                list.sort();
            }
            assert_eq!(spread_versions(&out), expected, "{out}");
        } else {
            let v: Value = serde_json::from_str(&out).unwrap();
            for running in v["crates"][0]["versions"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|ver| ver["running"].as_array().unwrap())
            {
                assert_eq!(running["program"], "fleet-app", "{out}");
                assert_eq!(running["job"], "fleet", "{out}");
                assert_eq!(running["instance"], Value::Null, "{out}");
            }
        }
        let (code, _, err) = ask(&["spread", "--crate", CODEC, "--max-versions", "2"]);
        assert_eq!(code, 1, "three versions are over a limit of two: {err}");
    }
}

/// `(version, runners)` of the fleet's crate in `spread --format json` output.
fn spread_rows(json: &str) -> Vec<(String, Vec<Value>)> {
    let v: Value = serde_json::from_str(json).unwrap();
    let krate = v["crates"]
        .as_array()
        .unwrap_or_else(|| panic!("no crates array: {json}"))
        .iter()
        .find(|c| c["name"] == CODEC)
        .unwrap_or_else(|| panic!("{CODEC} missing: {json}"));
    krate["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ver| {
            let runners = ver["running"].as_array().unwrap().clone();
            (ver["version"].as_str().unwrap().to_owned(), runners)
        })
        .collect()
}

/// `version -> instances running it` (the sum of the runners' `instances`) for the crate in
/// `spread --format json` output.
fn spread_counts(json: &str) -> BTreeMap<String, u64> {
    spread_rows(json)
        .into_iter()
        .map(|(version, runners)| {
            let n = runners
                .iter()
                .map(|r| r["instances"].as_u64().unwrap())
                .sum();
            (version, n)
        })
        .collect()
}

/// `version -> instances` for the one crate in `spread --format json` output.
fn spread_versions(json: &str) -> BTreeMap<String, Vec<String>> {
    spread_rows(json)
        .into_iter()
        .map(|(version, runners)| {
            let mut who: Vec<String> = runners
                .iter()
                .filter_map(|r| r["instance"].as_str().map(str::to_owned))
                .collect();
            who.sort();
            (version, who)
        })
        .collect()
}

/// The README's "Fleet questions" section: its PromQL and its `cargo depinfo` commands, with
/// the example crate and program replaced by the fleet's.
struct ReadmeFleetSection {
    promql: Vec<String>,
    commands: Vec<Vec<String>>,
}

/// The requirement the README's `affected` example uses, and the one this fleet is asked.
const README_REQ: (&str, &str) = (">=1.0, <1.0.150", ">=1.1.0, <2.0.0");

impl ReadmeFleetSection {
    fn read() -> ReadmeFleetSection {
        let readme = workspace_root().join("README.md");
        let substitute = |l: &str| l.replace("serde_json", CODEC).replace("myapp", "fleet_app");
        let mut promql = Vec::new();
        let mut commands = Vec::new();
        for (lang, line) in testkit::fenced_lines(&readme, "## Fleet questions") {
            match lang.as_str() {
                "promql" if !line.trim().is_empty() => promql.push(substitute(line.trim())),
                "sh" if line.starts_with("cargo depinfo ") => {
                    let words = shell_words(&substitute(&line).replace(README_REQ.0, README_REQ.1));
                    commands.push(words[2..].to_vec());
                }
                _ => {}
            }
        }
        ReadmeFleetSection { promql, commands }
    }

    /// The README's command for `subcommand`, with its addresses still the README's.
    fn command(&self, subcommand: &str) -> Vec<String> {
        self.commands
            .iter()
            .find(|c| c[0] == subcommand)
            .unwrap_or_else(|| panic!("the README shows no `cargo depinfo {subcommand}`"))
            .clone()
    }
}

/// Splits a command line written with single quotes only, as the README writes them.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// A loopback sparse index that knows every crate: each has a release far ahead of anything
/// real, so every crate of the fleet is a major version behind. Stops when dropped.
fn fake_index() -> Server {
    Server::start(|target| {
        let name = target.rsplit('/').next().unwrap_or("");
        let mut body = String::new();
        for v in ["0.0.1", "999.0.0"] {
            let _ = writeln!(
                body,
                "{{\"name\":\"{name}\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false}}",
                "0".repeat(64)
            );
        }
        Reply::ok("text/plain", body)
    })
}

/// The README's `affected`, `spread` and `outdated` commands, pointed at this fleet's
/// Prometheus (and a loopback index), answer what the fleet is.
fn check_readme_commands(readme: &ReadmeFleetSection, prom: &str, fleet: &[Variant]) {
    let index = fake_index();
    let point = |cmd: Vec<String>| -> Vec<String> {
        cmd.into_iter()
            .map(|a| {
                a.replace("http://127.0.0.1:9090", &format!("http://{prom}"))
                    .replace("http://127.0.0.1:8000/", &index.url("/"))
            })
            .collect()
    };
    // affected: exit 1, one line per matching instance, exactly the 1.1.0 ones.
    let args = point(readme.command("affected"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = depinfo(&args);
    assert_eq!(code, 1, "{args:?}: {out}{err}");
    let mut named: Vec<&str> = out.lines().filter_map(|l| l.split(": ").next()).collect();
    named.sort_unstable();
    let mut expected: Vec<&str> = fleet
        .iter()
        .filter(|v| v.codec == "1.1.0")
        .map(|v| v.addr.as_str())
        .collect();
    expected.sort_unstable();
    assert_eq!(named, expected, "{out}");
    assert!(
        out.lines()
            .all(|l| l.contains(&format!("{CODEC} 1.1.0 local"))),
        "{out}"
    );

    // spread with a limit of two: three versions run, exit 1, each version listed.
    let args = point(readme.command("spread"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = depinfo(&args);
    assert_eq!(code, 1, "{args:?}: {out}{err}");
    assert!(out.starts_with(&format!("{CODEC}: 3 versions")), "{out}");
    // Prometheus counted the instances of each version: 1.0.0 once, 1.1.0 twice, 2.0.0 once.
    for (version, n) in [("1.0.0", 1), ("1.1.0", 2), ("2.0.0", 1)] {
        assert_eq!(
            fleet.iter().filter(|v| v.codec == version).count(),
            n,
            "the fleet"
        );
        let line = format!("\t{version}\tfleet-app@http://{prom}\tjob=fleet instances={n}\n");
        assert!(out.contains(&line), "{line:?} in {out}");
    }

    // outdated against the loopback index: every crates.io crate of the fleet is a major
    // version behind, so --fail-on major exits 1 and names them.
    let args = point(readme.command("outdated"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = depinfo(&args);
    assert_eq!(code, 1, "{args:?}: {out}{err}");
    assert!(
        out.contains("prometheus") && out.contains("999.0.0"),
        "{out}"
    );
    drop(index);
}
