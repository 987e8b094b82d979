//! The README's "Which services are vulnerable right now?" commands, run as written against a
//! real Prometheus scraping a fleet of three `/metrics` endpoints (loopback servers serving
//! what build-info-collector serves), where one variant runs a crate version that the fixture
//! advisory database (RustSec's layout, a git repository made here) says is vulnerable. The
//! audit's exposition is served as node_exporter's textfile collector would serve it, so the
//! alert from `cargo depinfo rules --advisories` fires; stopping the variant clears the finding
//! and resolves the alert.
//!
//! Only the addresses change: the README's Prometheus URL becomes the one started here, its
//! `target/release` the fixture binaries, and `--fetch` clones the fixture repository
//! (`--db-url`, added) into `$CARGO_HOME/advisory-db` of a scratch cargo home. Every process
//! started here listens on 127.0.0.1 and is killed by its guard, also when an assertion fails.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use testkit::{Reply, Scratch, Server, get, query, stderr, stdout, wait_until, workspace_root};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const LIMIT: Duration = Duration::from_secs(60);
const README_PROMETHEUS: &str = "http://prometheus:9090";

/// What build-info-collector serves for `shop` linking hyper at `hyper`.
fn page(hyper: &str) -> String {
    format!(
        "# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n\
         # TYPE rust_mod_info gauge\n\
         rust_mod_info{{direct=\"true\",name=\"hyper\",program=\"shop\",source=\"crates.io\",version=\"{hyper}\"}} 1\n\
         rust_mod_info{{direct=\"true\",name=\"itoa\",program=\"shop\",source=\"crates.io\",version=\"1.0.15\"}} 1\n"
    )
}

/// The `cargo depinfo` commands of the README's section, split into words (`> FILE` kept).
fn readme_commands() -> Vec<Vec<String>> {
    let path = workspace_root().join("cargo-depinfo/README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("### Which services are vulnerable right now?")
        .nth(1)
        .expect("the README has the section");
    let block = section.split("```sh\n").nth(1).unwrap();
    let block = block.split("```").next().unwrap();
    block
        .lines()
        .filter(|l| l.starts_with("cargo depinfo "))
        .map(|l| l.split_whitespace().skip(2).map(str::to_owned).collect())
        .collect()
}

struct Env<'a> {
    home: &'a Path,
    cwd: &'a Path,
    prom: &'a str,
    bins: &'a Path,
    db_url: &'a Path,
}

/// Runs one README command as written, pointed at this test's addresses; returns (code,
/// stdout, stderr), stdout being also written to the file a `>` names.
fn run_readme(env: &Env<'_>, words: &[String]) -> (i32, String, String) {
    let (args, file) = match words.iter().position(|w| w == ">") {
        Some(i) => (&words[..i], Some(&words[i + 1])),
        None => (words, None),
    };
    let mut args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace(README_PROMETHEUS, &format!("http://{}", env.prom))
                .replace("target/release", &env.bins.display().to_string())
        })
        .collect();
    if args.iter().any(|a| a == "--fetch") {
        args.push("--db-url".into());
        args.push(env.db_url.display().to_string());
    }
    let out = testkit::run(
        Command::new(DEPINFO)
            .current_dir(env.cwd)
            .env("CARGO_HOME", env.home)
            .args(&args),
        LIMIT,
    );
    if let Some(file) = file {
        std::fs::write(env.cwd.join(file), stdout(&out)).unwrap();
    }
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

#[test]
fn the_readme_finds_the_vulnerable_variant_through_a_real_prometheus_and_forgets_it_once_stopped() {
    let scratch = Scratch::new("audit-e2e");
    let upstream = scratch.join("upstream-db");
    testkit::advisory_db(&upstream);
    let home = scratch.join("cargo-home");
    let cwd = scratch.join("work");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    // `target/release` of the README: a binary on the vulnerable hyper.
    let bins = scratch.join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    let dep_v0 = r#"{"packages":[{"name":"shop","version":"1.0.0","source":"local","root":true,"dependencies":[1]},{"name":"hyper","version":"0.14.1","source":"crates.io"}],"format":1}"#;
    std::fs::write(
        bins.join("shop"),
        testkit::elf_with_sections(&[(".dep-v0", &testkit::zlib(dep_v0.as_bytes()))]),
    )
    .unwrap();

    // The fleet: two instances on the patched hyper, one variant on the vulnerable one.
    let patched_a = Server::fixed(Reply::ok("text/plain; version=0.0.4", page("0.14.12")));
    let patched_b = Server::fixed(Reply::ok("text/plain; version=0.0.4", page("0.14.12")));
    let variant = Server::fixed(Reply::ok("text/plain; version=0.0.4", page("0.14.1")));
    let variant_addr = variant.host_port();
    // node_exporter's textfile collector: whatever the audit last wrote.
    let textfile = Arc::new(Mutex::new(String::new()));
    let served = Arc::clone(&textfile);
    let exporter = Server::start(move |_| {
        Reply::ok("text/plain; version=0.0.4", served.lock().unwrap().clone())
    });

    let commands = readme_commands();
    let find = |needle: &str| -> &Vec<String> {
        commands
            .iter()
            .find(|c| c.join(" ").contains(needle))
            .unwrap_or_else(|| panic!("no README command with {needle:?}: {commands:?}"))
    };
    // The rules, written first: Prometheus loads them at start.
    let prom = testkit::unused_addr().to_string();
    let env = Env {
        home: &home,
        cwd: &cwd,
        prom: &prom,
        bins: &bins,
        db_url: &upstream,
    };
    let rules_command = find("rules --advisories");
    let (code, _, err) = run_readme(&env, rules_command);
    assert_eq!(code, 0, "{err}");
    let rules_file = cwd.join(rules_command.last().unwrap());
    testkit::check_rules(&rules_file);

    let config = scratch.join("prometheus.yml");
    let fleet: Vec<String> = [&patched_a, &patched_b, &variant]
        .iter()
        .map(|s| format!("'{}'", s.host_port()))
        .collect();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: [{}]\n  - job_name: node\n    static_configs:\n      - targets: ['{}']\n",
            rules_file.display(),
            fleet.join(", "),
            exporter.host_port()
        ),
    )
    .unwrap();
    let _prometheus = testkit::start_prometheus_on(&prom, &config, &scratch.join("data"));
    wait_until("the fleet scraped", LIMIT, || {
        get(&prom, "/-/ready").is_ok_and(|r| r.status == 200)
            && query(&prom, "count(rust_mod_info{name=\"hyper\"})")
                .first()
                .is_some_and(|r| r["value"][1] == "3")
    });

    // 1. --fetch clones the database into the cargo home, and answers.
    let (code, out, err) = run_readme(&env, find("--fetch"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(home.join("advisory-db/crates/hyper").is_dir());
    // 2. Every program, every instance: exactly the variant.
    let plain = commands
        .iter()
        .find(|c| c.len() == 3 && c[0] == "audit" && c[1] == "--prometheus")
        .expect("the README's plain audit command");
    let (code, out, err) = run_readme(&env, plain);
    assert_eq!(code, 1, "{out}{err}");
    testkit::assert_contains(
        &out,
        &format!(
            "  shop: hyper 0.14.1: 1 instance: {variant_addr}: unknown (the advisory names no functions)\n"
        ),
    );
    testkit::assert_contains(
        &out,
        "RUSTSEC-2099-0001 hyper (critical 9.8): Request smuggling in hyper\n",
    );
    // 3. Binaries on disk as SARIF.
    let (code, _, err) = run_readme(&env, find("--format sarif"));
    assert_eq!(code, 1, "{err}");
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("audit.sarif")).unwrap()).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["fingerprints"]["cargo-depinfo/v1"],
        "RUSTSEC-2099-0001:hyper:0.14.1:shop"
    );
    // 4. The exposition, served as the textfile collector would: the alert fires.
    let exposition_command = find("--format prometheus");
    let exposition_file = cwd.join(exposition_command.last().unwrap());
    let (code, _, err) = run_readme(&env, exposition_command);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&exposition_file).unwrap();
    testkit::check_metrics(&text);
    testkit::assert_contains(
        &text,
        "rust_advisory_info{advisory=\"RUSTSEC-2099-0001\",kind=\"vulnerability\",name=\"hyper\",program=\"shop\",revision=\"unknown\",severity=\"critical\",verdict=\"unknown\",version=\"0.14.1\"} 1\n",
    );
    *textfile.lock().unwrap() = text;
    let firing = |prom: &str| {
        query(
            prom,
            "ALERTS{alertname=\"RustAdvisoryAffectsRunningProgram\",alertstate=\"firing\"}",
        )
    };
    wait_until("the advisory alert firing", LIMIT, || {
        firing(&prom).first().is_some_and(|a| {
            a["metric"]["advisory"] == "RUSTSEC-2099-0001" && a["metric"]["program"] == "shop"
        })
    });

    // Stopping the variant clears the finding, and the alert resolves.
    drop(variant);
    wait_until("the variant's series gone", LIMIT, || {
        query(&prom, "count(rust_mod_info{name=\"hyper\"})")
            .first()
            .is_some_and(|r| r["value"][1] == "2")
    });
    let (code, out, err) = run_readme(&env, plain);
    assert_eq!(code, 0, "{out}{err}");
    testkit::assert_contains(&out, "0 vulnerabilities (0 affected instances)");
    let (code, _, err) = run_readme(&env, exposition_command);
    assert_eq!(code, 0, "{err}");
    *textfile.lock().unwrap() = std::fs::read_to_string(&exposition_file).unwrap();
    wait_until("the advisory alert resolved", LIMIT, || {
        firing(&prom).is_empty()
    });
}
