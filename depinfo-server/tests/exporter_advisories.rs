//! `depinfo-exporter --db`: the advisories of the running programs with a verdict each, on a
//! real build of `tests/fixtures/symbols` (a program that calls `tarlike::Archive::unpack` and
//! never calls `tarlike::checksum`), built by cargo offline in the dev profile.
//!
//! As in cargo-depinfo's `tests/audit_verdicts.rs`, the built binary gets a `.dep-v0` section
//! (objcopy) saying `tarlike 0.1.0` came from crates.io (the fixture's is a path dependency:
//! no test may reach a registry), and the advisory database is written by the test in
//! RustSec's layout and committed with git.
//!
//! The program exits at once when let go: it is kept running blocked on its first write, to a
//! pipe the test filled. The exporter's `rust_advisory_info` must be the verdicts `cargo
//! depinfo audit --format prometheus` gives for the same file, keyed by program and revision
//! and counting processes; it must pass promtool and be scraped by a real Prometheus; and a
//! later scan must not read the symbols again. Every process is stopped by the test.
#![cfg(target_os = "linux")]

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::{Running, Scratch, query, stderr, stdout, wait_exec, wait_until, zlib};

const EXPORTER: &str = env!("CARGO_BIN_EXE_depinfo-exporter");

/// The fixture's package name (shared with cargo-depinfo's test: one build in the shared
/// target directory).
const NAME: &str = "symbols-exporter";

/// The program its `.dep-v0` names: only this test's processes carry it.
const PROGRAM: &str = "exporter-verdicts";

const LIMIT: Duration = Duration::from_secs(60);

/// One advisory on `tarlike` in RustSec's format, naming `functions` (TOML lines).
fn advisory(id: &str, functions: &str, title: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"tarlike\"\ndate = \"2099-01-02\"\n{functions}\n[versions]\npatched = [\">= 0.2.0\"]\n```\n\n# {title}\n\nDetails.\n"
    )
}

/// Runs git in `db` at a fixed date.
fn git(db: &Path, args: &[&str]) -> String {
    let out = testkit::run(
        testkit::git_command(db, "@4102444800 +0000").args(args),
        LIMIT,
    );
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// A database with three advisories on `tarlike 0.1.0`: one naming the called
/// `Archive::unpack` (and the never-called `checksum`), one naming only `checksum`, one
/// naming no functions. Committed with git.
fn write_db(db: &Path) {
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
    git(db, &["init", "-q", "-b", "main"]);
    git(db, &["add", "-A"]);
    git(db, &["commit", "-q", "-m", "advisories"]);
}

/// Builds the fixture (dev profile, offline) and writes to `out` its binary with a `.dep-v0`
/// naming program `PROGRAM` and `tarlike 0.1.0` from crates.io.
fn build(project: &Path, out: &Path) {
    testkit::run_ok(testkit::cargo(project).args(["build", "--offline", "--quiet"]));
    let json = testkit::dep_v0_json(
        (PROGRAM, "0.1.0", "local"),
        &[("tarlike", "0.1.0", "crates.io")],
    );
    testkit::with_sections_on(
        &testkit::binary("debug", NAME),
        out,
        &[
            (".dep-v0", &zlib(json.as_bytes())),
            (".bldinfo", &zlib(&bldinfo_json())),
        ],
    );
}

/// The revision the test's build says it was built from: this run's own (the process id and
/// the time, 40 hex digits), so that the exporter, which sees every process of the host,
/// never counts another run's copies of the program as this one's.
fn revision() -> &'static str {
    static REVISION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    REVISION.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{:08x}{:032x}", std::process::id(), nanos)
    })
}

/// `.bldinfo` JSON for `PROGRAM` 0.1.0 at [`revision`]: the exporter's own build facts with
/// those put in, and no crates (they are the `.dep-v0`'s).
fn bldinfo_json() -> Vec<u8> {
    let raw = cargo_depinfo::read_sections(Path::new(EXPORTER)).unwrap();
    let mut facts: serde_json::Value =
        serde_json::from_slice(raw.bldinfo.as_deref().unwrap()).unwrap();
    facts["program"] = PROGRAM.into();
    facts["version"] = "0.1.0".into();
    facts["revision"] = revision().into();
    facts["modified"] = false.into();
    facts["packages"] = serde_json::Value::Array(Vec::new());
    facts["only_with_other_members"] = serde_json::Value::Array(Vec::new());
    serde_json::to_vec(&facts).unwrap()
}

/// Starts `bin`, kept running: its stdout is a pipe already full, so its first `println!`
/// blocks until the guard kills it.
fn start_blocked(bin: &Path) -> Running {
    let (reader, mut writer) = std::io::pipe().unwrap();
    rustix::fs::fcntl_setfl(&writer, rustix::fs::OFlags::NONBLOCK).unwrap();
    let chunk = [b'x'; 4096];
    loop {
        match writer.write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the pipe: {e}"),
        }
    }
    // The child shares the open file: blocking again, or its write would fail at once.
    rustix::fs::fcntl_setfl(&writer, rustix::fs::OFlags::empty()).unwrap();
    let mut child = Running::spawn(
        Command::new(bin)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::null()),
    );
    wait_exec(&mut child, bin);
    // The reader stays open (the child's write would fail, not block, without one): it lives
    // as long as the test's process, which outlives the child.
    std::mem::forget(reader);
    child
}

fn metrics(addr: &str) -> String {
    let answer = testkit::get(addr, "/metrics").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The sample lines of `family` that name the test's program.
fn ours<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    let program = format!("program=\"{PROGRAM}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) && l.contains(&program))
        // This run's revision, where the series has one (`audit`'s own output has none).
        .filter(|l| {
            !l.contains(",revision=\"") || l.contains(&format!(",revision=\"{}\"", revision()))
        })
        .collect()
}

/// The value of an unlabelled sample.
fn plain_value(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// `(advisory, verdict)` of each line, sorted.
fn verdicts(lines: &[&str]) -> Vec<(String, String)> {
    let label = |l: &str, name: &str| {
        let start = l.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        l[start..][..l[start..].find('"').unwrap()].to_owned()
    };
    let mut out: Vec<_> = lines
        .iter()
        .map(|l| (label(l, "advisory"), label(l, "verdict")))
        .collect();
    out.sort();
    out
}

#[test]
fn the_exporter_publishes_each_running_programs_verdicts_and_reads_symbols_once() {
    let revision = revision();
    let scratch = Scratch::new("exporter-verdicts");
    let dir = scratch.path().canonicalize().unwrap();
    let project = dir.join("project");
    testkit::copy_fixture("symbols", &project, NAME, &[]);
    let bin = dir.join(PROGRAM);
    build(&project, &bin);
    let db = dir.join("db");
    write_db(&db);

    // What `cargo depinfo audit` says where the binary is: the verdicts to publish.
    let home = dir.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    let audit = testkit::run(
        Command::new(testkit::cargo_depinfo_bin())
            .current_dir(&dir)
            .env("CARGO_HOME", &home)
            .args(["audit", "--format", "prometheus", "--db"])
            .arg(&db)
            .arg(&bin),
        LIMIT,
    );
    let audit = stdout(&audit);
    let expected = verdicts(&ours(&audit, "rust_advisory_info"));
    assert_eq!(expected.len(), 3, "{audit}");
    assert!(
        expected.contains(&("RUSTSEC-2099-0101".into(), "present".into()))
            && expected.contains(&("RUSTSEC-2099-0103".into(), "unknown".into())),
        "{audit}"
    );

    let _first = start_blocked(&bin);
    let _second = start_blocked(&bin);
    let (_exporter, addr) = testkit::start_exporter(
        Command::new(EXPORTER),
        [
            "--interval".as_ref(),
            "1".as_ref(),
            "--db".as_ref(),
            db.as_os_str(),
        ],
    );
    let page = metrics(&addr);
    let lines = ours(&page, "rust_advisory_info");
    assert_eq!(verdicts(&lines), expected, "{page}");
    // Both processes, one program and revision: one series per advisory and verdict.
    for l in &lines {
        assert!(
            l.contains(&format!(",revision=\"{revision}\",")) && l.ends_with("} 2"),
            "{l}"
        );
    }
    let present = lines
        .iter()
        .find(|l| l.contains("RUSTSEC-2099-0101"))
        .unwrap();
    assert_eq!(
        *present,
        format!(
            "rust_advisory_info{{advisory=\"RUSTSEC-2099-0101\",kind=\"vulnerability\",name=\"tarlike\",program=\"{PROGRAM}\",revision=\"{revision}\",severity=\"unknown\",verdict=\"present\",version=\"0.1.0\"}} 2"
        )
    );
    testkit::check_metrics(&page);

    // The first scan read the image's symbols; the next ones, with the same processes, know
    // its verdicts already (no other program on this host has the test's tarlike findings).
    assert!(plain_value(&page, "cargo_depinfo_exporter_symbol_reads").is_some_and(|n| n >= 1));
    let mut later = String::new();
    wait_until("a later scan", LIMIT, || {
        later = metrics(&addr);
        later != page && !ours(&later, "rust_advisory_info").is_empty()
    });
    assert_eq!(
        plain_value(&later, "cargo_depinfo_exporter_symbol_reads"),
        Some(0),
        "{later}"
    );
    assert_eq!(verdicts(&ours(&later, "rust_advisory_info")), expected);

    // A new commit of the database is loaded on a scan: its new advisory shows.
    std::fs::write(
        db.join("crates/tarlike/RUSTSEC-2099-0104.md"),
        advisory("RUSTSEC-2099-0104", "", "Another one"),
    )
    .unwrap();
    git(&db, &["add", "-A"]);
    git(&db, &["commit", "-q", "-m", "one more"]);
    wait_until("the new advisory", LIMIT, || {
        metrics(&addr).contains("rust_advisory_info{advisory=\"RUSTSEC-2099-0104\"")
    });

    // Scraped by a real Prometheus: the verdict label as published.
    let prom = testkit::unused_addr().to_string();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    )
    .unwrap();
    let _prometheus = testkit::start_prometheus_on(&prom, &config, &dir.join("data"));
    let present_query = format!(
        "rust_advisory_info{{program=\"{PROGRAM}\",revision=\"{revision}\",advisory=\"RUSTSEC-2099-0101\"}}"
    );
    wait_until("Prometheus scraped the exporter", LIMIT, || {
        testkit::get(&prom, "/-/ready").is_ok_and(|r| r.status == 200)
            && !query(&prom, &present_query).is_empty()
    });
    let result = query(&prom, &present_query);
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0]["metric"]["verdict"], "present", "{result:?}");
    assert_eq!(result[0]["value"][1], "2", "{result:?}");

    // The fleet path: `audit --prometheus` has no binary, and uses the verdicts published for
    // the same program and revision.
    let fleet = testkit::run(
        Command::new(testkit::cargo_depinfo_bin())
            .current_dir(&dir)
            .env("CARGO_HOME", &home)
            .args(["audit", "--format", "prometheus", "--db"])
            .arg(&db)
            .args(["--prometheus", &format!("http://{prom}")]),
        LIMIT,
    );
    let fleet_text = stdout(&fleet);
    let mut wanted = expected.clone();
    wanted.push(("RUSTSEC-2099-0104".into(), "unknown".into()));
    wanted.sort();
    assert_eq!(
        verdicts(&ours(&fleet_text, "rust_advisory_info")),
        wanted,
        "{fleet_text}{}",
        stderr(&fleet)
    );
}
