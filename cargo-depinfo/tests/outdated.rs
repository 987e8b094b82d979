//! `cargo depinfo outdated` against a sparse-index HTTP server the tests start on 127.0.0.1,
//! serving the fixture files under `tests/index/` in the real sparse layout (`1/a`, `2/cc`,
//! `3/s/syn`, `it/oa/itoa`, …); never a public registry. The binaries checked are copies of a
//! system binary given a `.dep-v0` section (cargo-auditable's format) with `objcopy`, and the
//! cargo-depinfo binary itself.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Reply, Scratch, Server, auditable_binary, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// The fixture index (tests/index) knows these versions:
/// itoa 1.0.10, 1.0.11, 1.0.12 (yanked); serde 1.0.100, 1.0.219, 1.2.0, 2.0.0-alpha.1;
/// rand 0.7.3, 0.7.4 (yanked), 0.8.5, 0.9.0, 0.9.1 (yanked); libc 0.2.149, 0.2.150;
/// cc 1.0.0, 1.0.1; Inflector 0.11.3, 0.11.4; syn 2.0.1, 2.0.100; a 0.1.0.
const APP_MAJOR: &str = r#"{"packages":[{"name":"app-major","version":"1.0.0","source":"local","dependencies":[1,2,3,4,5,6,7,8,9,10],"root":true},{"name":"Inflector","version":"0.11.3","source":"crates.io"},{"name":"a","version":"0.1.0","source":"crates.io"},{"name":"cc","version":"1.0.1","source":"crates.io","kind":"build"},{"name":"gitdep","version":"0.2.0","source":"git"},{"name":"itoa","version":"1.0.10","source":"crates.io"},{"name":"libc","version":"0.2.150","source":"crates.io"},{"name":"localdep","version":"0.1.0","source":"local"},{"name":"rand","version":"0.7.3","source":"crates.io"},{"name":"serde","version":"1.0.100","source":"crates.io"},{"name":"syn","version":"2.0.1","source":"crates.io","kind":"build"}],"format":1}"#;

/// Behind at most by a minor release.
const APP_MINOR: &str = r#"{"packages":[{"name":"app-minor","version":"0.2.0","source":"local","dependencies":[1,2,3],"root":true},{"name":"cc","version":"1.0.0","source":"crates.io"},{"name":"itoa","version":"1.0.11","source":"crates.io"},{"name":"serde","version":"1.0.219","source":"crates.io"}],"format":1}"#;

/// Uses a crate the index does not know.
const APP_MISSING: &str = r#"{"packages":[{"name":"app-missing","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"itoa","version":"1.0.11","source":"crates.io"},{"name":"no-such-crate","version":"1.0.0","source":"crates.io"}],"format":1}"#;

/// Every index source has a timeout: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// A loopback sparse index: serves `tests/index/PATH` at `/index/PATH` (chunked for serde's
/// file, with Content-Length for the others) and 404 for anything else; the server records
/// every path requested.
struct IndexServer {
    url: String,
    server: Server,
}

impl IndexServer {
    fn start() -> IndexServer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/index");
        let server = Server::start(move |target| {
            let file = target
                .strip_prefix("/index/")
                .filter(|p| !p.contains(".."))
                .map(|p| root.join(p))
                .filter(|p| p.is_file());
            let Some(file) = file else {
                return Reply::not_found();
            };
            let body = std::fs::read(&file).unwrap();
            let half = body.len().div_ceil(2);
            let reply = Reply::ok("text/plain", body);
            if target.contains("serde") {
                reply.chunked(half)
            } else {
                reply
            }
        });
        IndexServer {
            url: server.url("/index/"),
            server,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.server.requests()
    }
}

fn depinfo() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("CARGO_DEPINFO_INDEX")
        .env_remove("CARGO_REGISTRIES_CRATES_IO_INDEX");
    cmd
}

fn run(args: &[&str]) -> Output {
    testkit::run(depinfo().args(args), LIMIT)
}

/// Two programs, and a copy of one of them under another file name.
const MAJOR_MINOR_AND_COPY: &[(&str, &str)] = &[
    ("app-major", APP_MAJOR),
    ("app-minor", APP_MINOR),
    ("app-minor-copy", APP_MINOR),
];

/// A scratch directory holding a cargo-auditable binary for each `(file name, .dep-v0 JSON)`.
fn binaries(label: &str, apps: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::new(label);
    for (name, json) in apps {
        auditable_binary(&dir.join(name), json);
    }
    dir
}

/// `outdated WHAT --index INDEX`, then `extra`.
fn outdated(what: &str, index: &str, extra: &[&str]) -> Output {
    run(&[&["outdated", what, "--index", index][..], extra].concat())
}

fn json_rows(out: &Output) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)));
    assert_eq!(v["format_version"], 1);
    v["crates"].as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], program: &str, name: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["program"] == program && r["name"] == name)
        .unwrap_or_else(|| panic!("no row {program} {name} in {rows:#?}"))
}

#[test]
fn newest_compatible_and_newest_overall_ignore_yanked_releases() {
    let server = IndexServer::start();
    let dir = binaries("outdated-levels", &[("app-major", APP_MAJOR)]);
    let bin = dir.join("app-major");
    let b = bin.to_str().unwrap();

    let out = outdated(b, &server.url, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let rows = json_rows(&out);
    let facts = |name: &str| {
        let r = row(&rows, "app-major", name);
        assert_eq!(r["location"], b);
        (
            r["version"].as_str().unwrap().to_owned(),
            r["newest_compatible"].as_str().unwrap().to_owned(),
            r["newest"].as_str().unwrap().to_owned(),
            r["level"].as_str().unwrap().to_owned(),
        )
    };
    let f = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    // 1.0.12 is yanked.
    assert_eq!(facts("itoa"), f("1.0.10", "1.0.11", "1.0.11", "patch"));
    // 2.0.0-alpha.1 is a pre-release: not offered to a 1.x user.
    assert_eq!(facts("serde"), f("1.0.100", "1.2.0", "1.2.0", "minor"));
    // 0.7.4 and 0.9.1 are yanked; 0.8 and 0.9 are breaking for 0.7.
    assert_eq!(facts("rand"), f("0.7.3", "0.7.3", "0.9.0", "major"));
    assert_eq!(facts("libc"), f("0.2.150", "0.2.150", "0.2.150", "none"));
    assert_eq!(facts("Inflector"), f("0.11.3", "0.11.4", "0.11.4", "patch"));
    assert_eq!(facts("syn"), f("2.0.1", "2.0.100", "2.0.100", "patch"));
    assert_eq!(facts("a"), f("0.1.0", "0.1.0", "0.1.0", "none"));
    assert_eq!(facts("cc"), f("1.0.1", "1.0.1", "1.0.1", "none"));
    // git and local packages are not looked up.
    assert_eq!(rows.len(), 8, "{rows:#?}");

    // Every layout: 1/, 2/, 3/x/, ab/cd/, names in lowercase.
    let mut requested = server.requests();
    requested.sort();
    assert_eq!(
        requested,
        [
            "/index/1/a",
            "/index/2/cc",
            "/index/3/s/syn",
            "/index/in/fl/inflector",
            "/index/it/oa/itoa",
            "/index/li/bc/libc",
            "/index/ra/nd/rand",
            "/index/se/rd/serde",
        ]
    );

    let text = outdated(b, &server.url, &[]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_eq!(
        stdout(&text),
        "PROGRAM    CRATE      VERSION  COMPATIBLE  NEWEST   BEHIND\n\
         app-major  Inflector  0.11.3   0.11.4      0.11.4   patch\n\
         app-major  itoa       1.0.10   1.0.11      1.0.11   patch\n\
         app-major  rand       0.7.3    0.7.3       0.9.0    major\n\
         app-major  serde      1.0.100  1.2.0       1.2.0    minor\n\
         app-major  syn        2.0.1    2.0.100     2.0.100  patch\n"
    );
}

#[test]
fn each_index_file_is_fetched_once_per_run() {
    let server = IndexServer::start();
    let dir = binaries("outdated-cache", MAJOR_MINOR_AND_COPY);
    let out = outdated(dir.to_str().unwrap(), &server.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requested = server.requests();
    let mut unique = requested.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(requested.len(), unique.len(), "{requested:?}");
    assert_eq!(unique.len(), 8);
    // The copy adds no line: same program, crate and version.
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("app-minor "))
            .count(),
        2,
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_crate_missing_from_the_index_is_one_line_and_the_rest_goes_on() {
    let server = IndexServer::start();
    let dir = binaries(
        "outdated-missing",
        &[("app-major", APP_MAJOR), ("app-missing", APP_MISSING)],
    );
    let out = outdated(
        dir.to_str().unwrap(),
        &format!("sparse+{}", server.url),
        &["--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: no-such-crate: not in the index ({}no/-s/no-such-crate: HTTP 404)\n",
            server.url
        )
    );
    let rows = json_rows(&out);
    assert_eq!(row(&rows, "app-missing", "itoa")["level"], "none");
    assert_eq!(row(&rows, "app-major", "rand")["level"], "major");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
    assert_eq!(v["index"], server.url);
}

#[test]
fn fail_on_sets_the_exit_code() {
    let server = IndexServer::start();
    let dir = Scratch::new("outdated-fail-on");
    let major = dir.join("app-major");
    let minor = dir.join("app-minor");
    auditable_binary(&major, APP_MAJOR);
    auditable_binary(&minor, APP_MINOR);
    for (bin, level, code) in [
        (&minor, None, 0),
        (&minor, Some("none"), 0),
        (&minor, Some("major"), 0),
        (&minor, Some("minor"), 1),
        (&minor, Some("patch"), 1),
        (&major, Some("major"), 1),
    ] {
        let mut args = vec![
            "outdated",
            bin.to_str().unwrap(),
            "--index",
            server.url.as_str(),
        ];
        if let Some(level) = level {
            args.extend(["--fail-on", level]);
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    }
    let out = outdated(major.to_str().unwrap(), &server.url, &["--fail-on", "big"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_index_comes_from_the_flag_or_the_environment() {
    let server = IndexServer::start();
    let dir = binaries("outdated-env", &[("app-minor", APP_MINOR)]);
    let bin = dir.join("app-minor");
    // Without either, crates.io's index (tests/registry.rs: offline, so nothing is fetched).
    let home = Scratch::new("outdated-env-home");
    let out = testkit::run(
        depinfo()
            .args(["outdated", bin.to_str().unwrap(), "--offline"])
            .env("CARGO_HOME", home.path()),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2));
    let default = cargo_depinfo::CRATES_IO_INDEX.trim_start_matches("sparse+");
    testkit::assert_contains(
        &stderr(&out),
        &format!("error: index {default}: cargo has no cache of it in "),
    );
    for var in ["CARGO_DEPINFO_INDEX", "CARGO_REGISTRIES_CRATES_IO_INDEX"] {
        let out = testkit::run(
            depinfo()
                .args(["outdated", bin.to_str().unwrap(), "--fail-on", "minor"])
                .env("CARGO_HOME", home.path())
                .env(var, format!("sparse+{}", server.url)),
            LIMIT,
        );
        assert_eq!(out.status.code(), Some(1), "{var}: {}", stderr(&out));
        assert!(stdout(&out).contains("app-minor  serde  1.0.219  1.2.0"));
    }
}

#[test]
fn an_unreachable_index_is_one_line_per_crate() {
    let addr = testkit::unused_addr();
    let dir = binaries("outdated-unreachable", &[("app-minor", APP_MINOR)]);
    let bin = dir.join("app-minor");
    let url = format!("http://{addr}/");
    let out = outdated(bin.to_str().unwrap(), &url, &["--timeout", "2"]);
    assert_eq!(out.status.code(), Some(2));
    let lines = testkit::stderr_lines(&out, 3);
    assert!(
        lines[0].starts_with(&format!("error: cc: cannot fetch {url}2/cc: ")),
        "{lines:?}"
    );
}

#[test]
fn the_cargo_depinfo_binary_itself_is_checked() {
    let server = IndexServer::start();
    let out = outdated(BIN, &server.url, &["--format", "json"]);
    // The fixture index knows only a few of its crates: the rest are one line each.
    assert_eq!(out.status.code(), Some(2));
    let rows = json_rows(&out);
    let serde = row(&rows, "cargo-depinfo", "serde");
    assert_eq!(serde["newest"], "1.2.0");
    let err = stderr(&out);
    assert!(err.lines().count() > 10, "{err}");
    for line in err.lines() {
        assert!(
            line.starts_with("error: ") && line.contains(": not in the index ("),
            "{line}"
        );
    }
    // Its own package and build-info (local) are not looked up.
    assert!(!err.contains("error: cargo-depinfo:") && !err.contains("error: buildinfo:"));
}

#[test]
fn prometheus_output_passes_promtool_with_several_programs() {
    let server = IndexServer::start();
    let dir = binaries("outdated-prometheus", MAJOR_MINOR_AND_COPY);
    let out = outdated(
        dir.to_str().unwrap(),
        &server.url,
        &["--format", "prometheus"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The answer's names, then the deprecated aliases kept for one release: the same series.
    let (answer, alias) = text
        .split_once("# HELP rust_mod_outdated ")
        .unwrap_or_else(|| panic!("no deprecated alias: {text}"));
    assert!(answer.contains(
        "cargo_depinfo_outdated{name=\"rand\",newest=\"0.9.0\",newest_compatible=\"0.7.3\",program=\"app-major\",version=\"0.7.3\"} 3\n"
    ), "{text}");
    assert!(answer.contains(
        "cargo_depinfo_outdated{name=\"libc\",newest=\"0.2.150\",newest_compatible=\"0.2.150\",program=\"app-major\",version=\"0.2.150\"} 0\n"
    ), "{text}");
    assert!(answer.ends_with(
        "cargo_depinfo_outdated_crates{program=\"app-major\"} 5\ncargo_depinfo_outdated_crates{program=\"app-minor\"} 2\n"
    ), "{text}");
    let series = |text: &str, prefix: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter(|l| l.starts_with(['{', '_']))
            .map(str::to_owned)
            .collect()
    };
    let alias = format!("# HELP rust_mod_outdated {alias}");
    assert!(
        alias.starts_with("# HELP rust_mod_outdated Deprecated alias of cargo_depinfo_outdated "),
        "{alias}"
    );
    assert!(
        alias.contains(
            "# HELP rust_mod_outdated_crates Deprecated alias of cargo_depinfo_outdated_crates "
        ),
        "{alias}"
    );
    assert_eq!(
        series(&alias, "rust_mod_outdated"),
        series(answer, "cargo_depinfo_outdated")
    );
    assert!(series(answer, "cargo_depinfo_outdated").len() > 2, "{text}");
    assert_eq!(text.matches("# TYPE ").count(), 4);

    testkit::check_metrics(&text);
}

#[test]
fn fleet_sources_are_checked_too() {
    let server = IndexServer::start();
    let endpoint = Server::fixed(Reply::ok(
        "text/plain; version=0.0.4",
        "# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n\
         # TYPE rust_mod_info gauge\n\
         rust_mod_info{direct=\"true\",name=\"rand\",program=\"svc\",source=\"crates.io\",version=\"0.8.5\"} 1\n\
         rust_mod_info{direct=\"true\",name=\"gitdep\",program=\"svc\",source=\"git\",version=\"0.2.0\"} 1\n",
    ));
    let metrics = endpoint.url("/metrics");
    let out = run(&[
        "outdated",
        "--metrics",
        &metrics,
        "--index",
        &server.url,
        "--format",
        "json",
        "--fail-on",
        "major",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let rows = json_rows(&out);
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let rand = row(&rows, "svc", "rand");
    assert_eq!(rand["newest_compatible"], "0.8.5");
    assert_eq!(rand["newest"], "0.9.0");
    assert_eq!(
        rand["location"],
        metrics
            .trim_start_matches("http://")
            .trim_end_matches("/metrics")
    );
}
