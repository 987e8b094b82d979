//! Runs the real `example-service` binary on a loopback port, checks its /metrics with the real
//! `promtool`, compares the series with the build data the binary prints for `--version`,
//! fetches its dependency list from `/deps/<digest>` in each layout, and stops it with SIGTERM.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use build_info_collector::{
    DEPS_LIST_CONTENT_TYPE, DepsEntry, DepsList, MAX_DEPS_LIST_BYTES, is_digest,
};
use testkit::Running;

const BIN: &str = env!("CARGO_BIN_EXE_example-service");
const DEADLINE: Duration = Duration::from_secs(20);

/// `GET path` from the service: the status code and the body, which must not be chunked.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let answer = testkit::get(&format!("127.0.0.1:{port}"), path)?;
    assert!(!answer.chunked, "{path}: a chunked answer");
    Ok((answer.status, answer.body))
}

/// Label values of one sample line, unescaped.
fn labels(line: &str) -> Vec<(String, String)> {
    let inner = &line[line.find('{').unwrap() + 1..line.rfind('}').unwrap()];
    let mut out = Vec::new();
    let mut chars = inner.chars();
    loop {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if name.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => panic!("dangling escape in {line}"),
                },
                c => value.push(c),
            }
        }
        out.push((name.trim_start_matches(',').to_owned(), value));
    }
    out
}

fn label<'a>(labels: &'a [(String, String)], name: &str) -> &'a str {
    &labels.iter().find(|(n, _)| n == name).unwrap().1
}

/// The `--version` block, parsed.
struct LongVersion {
    /// `example-service VERSION (branch: B, revision: R)`.
    head: String,
    /// `(key, value)` of the `  key:   value` rows.
    fields: Vec<(String, String)>,
    /// `(name, version)` of the dependency rows.
    deps: BTreeSet<(String, String)>,
}

fn long_version() -> LongVersion {
    let out = testkit::run(Command::new(BIN).arg("--version"), DEADLINE);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap().to_owned();
    let mut fields = Vec::new();
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in lines.filter(|l| !l.is_empty()) {
        if line == "  dependencies:" {
            in_deps = true;
        } else if in_deps {
            let mut parts = line.split_whitespace();
            let (name, version) = (parts.next().unwrap(), parts.next().unwrap());
            deps.insert((name.to_owned(), version.to_owned()));
        } else {
            let (key, value) = line.trim_start().split_once(':').unwrap();
            fields.push((key.to_owned(), value.trim().to_owned()));
        }
    }
    LongVersion { head, fields, deps }
}

/// The service on a free loopback port with `args` and `BUILD_INFO_LAYOUT` set to `layout_env`
/// (removed when `None`), once it answers `/healthz`.
fn start(args: &[&str], layout_env: Option<&str>) -> (Running, u16) {
    let port = testkit::unused_addr().port();
    let mut command = Command::new(BIN);
    command
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    match layout_env {
        Some(value) => command.env("BUILD_INFO_LAYOUT", value),
        None => command.env_remove("BUILD_INFO_LAYOUT"),
    };
    let mut service = Running::spawn(&mut command);
    let start = Instant::now();
    loop {
        match get(port, "/healthz") {
            Ok((200, body)) => {
                assert_eq!(body, "ok\n");
                return (service, port);
            }
            _ if start.elapsed() < DEADLINE => {
                assert_eq!(service.try_status(), None, "service exited early");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("service not ready after {DEADLINE:?}: {other:?}"),
        }
    }
}

/// SIGTERM: a clean exit, in bounded time.
fn stop(mut service: Running) {
    let pid = service.child().id().to_string();
    let killed = testkit::run(Command::new("kill").args(["-TERM", &pid]), DEADLINE);
    assert!(killed.status.success());
    let status = service.wait(DEADLINE);
    assert!(status.success(), "exit after SIGTERM: {status}");
}

/// The `Content-Type` of the answer to `GET path`.
fn content_type(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let head = &raw[..raw.find("\r\n\r\n").unwrap()];
    head.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// The one `rust_build_info` sample's labels.
fn rust_build_info(metrics: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("rust_build_info{"))
        .collect();
    assert_eq!(lines.len(), 1, "{metrics}");
    assert!(lines[0].ends_with("} 1"), "{metrics}");
    labels(lines[0])
}

/// `rust_mod_info` series as list entries.
fn mod_info_entries(metrics: &str) -> Vec<DepsEntry<'static>> {
    metrics
        .lines()
        .filter(|l| l.starts_with("rust_mod_info{"))
        .map(|line| {
            let l = labels(line);
            DepsEntry {
                name: label(&l, "name").to_owned().into(),
                version: label(&l, "version").to_owned().into(),
                source: label(&l, "source").to_owned().into(),
                direct: label(&l, "direct") == "true",
            }
        })
        .collect()
}

/// `GET /deps/<digest>`: 200, the list's content type, and a document that verifies against
/// the digest.
fn fetch_list(port: u16, digest: &str) -> DepsList {
    assert!(is_digest(digest), "{digest:?}");
    let path = format!("/deps/{digest}");
    let (status, body) = get(port, &path).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(content_type(port, &path), DEPS_LIST_CONTENT_TYPE);
    DepsList::verify(digest, body.as_bytes(), MAX_DEPS_LIST_BYTES)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn metrics_pass_promtool_and_match_the_embedded_build_info() {
    let (service, port) = start(&[], None);

    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");

    // promtool must be there: a missing checker fails the test instead of skipping it. Not
    // even a lint remark is accepted.
    let remarks = testkit::check_metrics(&metrics);
    assert!(
        remarks.is_empty(),
        "promtool check metrics: {remarks}\n{metrics}"
    );

    // The request counter sits beside the build metrics.
    assert!(
        metrics.contains("\nexample_http_requests_total{handler=\"/healthz\"} 1\n"),
        "{metrics}"
    );

    // build_info: one series, labeled with what --version prints.
    let LongVersion { head, fields, deps } = long_version();
    let field = |key: &str| &fields.iter().find(|(k, _)| k == key).unwrap().1;
    let build: Vec<_> = metrics
        .lines()
        .filter(|l| l.starts_with("example_service_build_info{"))
        .collect();
    assert_eq!(build.len(), 1, "{metrics}");
    assert!(build[0].ends_with("} 1"));
    let b = labels(build[0]);
    let names: Vec<_> = b.iter().map(|(n, _)| n.as_str()).collect();
    // In name order, as the registry writes them.
    let expected = "branch features profile revision rustversion target version";
    assert_eq!(names.join(" "), expected);
    assert_eq!(
        head,
        format!(
            "example-service {} (branch: {}, revision: {})",
            label(&b, "version"),
            label(&b, "branch"),
            label(&b, "revision")
        )
    );
    assert_eq!(label(&b, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(label(&b, "rustversion"), field("rust version"));
    assert_eq!(label(&b, "target"), field("platform"));
    assert_eq!(label(&b, "features"), field("features"));

    // rust_mod_info: exactly the runtime dependencies --version lists, one program.
    let mut served = BTreeSet::new();
    for line in metrics.lines().filter(|l| l.starts_with("rust_mod_info{")) {
        let l = labels(line);
        assert_eq!(label(&l, "program"), "example-service");
        assert!(["true", "false"].contains(&label(&l, "direct")));
        assert!(["crates.io", "local", "git", "registry"].contains(&label(&l, "source")));
        served.insert((
            label(&l, "name").to_owned(),
            label(&l, "version").to_owned(),
        ));
    }
    assert!(served.len() > 20, "{metrics}");
    assert_eq!(served, deps);
    for direct in [
        "axum",
        "build-info-collector",
        "clap",
        "prometheus",
        "tokio",
    ] {
        assert!(
            metrics.contains(&format!(
                "rust_mod_info{{direct=\"true\",name=\"{direct}\","
            )),
            "{direct} is a direct dependency:\n{metrics}"
        );
    }

    // rust_build_info: the full layout, and the digest of exactly the rust_mod_info series.
    let r = rust_build_info(&metrics);
    let names: Vec<_> = r.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.join(" "), "deps layout program revision version");
    assert_eq!(label(&r, "layout"), "full");
    assert_eq!(label(&r, "program"), "example-service");
    assert_eq!(label(&r, "revision"), label(&b, "revision"));
    assert_eq!(label(&r, "version"), label(&b, "version"));
    let from_series = DepsList::from_entries(mod_info_entries(&metrics));
    assert_eq!(label(&r, "deps"), from_series.digest());
    // Served in the full layout too, the same list.
    assert_eq!(fetch_list(port, label(&r, "deps")), from_series);

    stop(service);
}

#[test]
fn the_catalog_layout_publishes_the_digest_and_serves_its_list() {
    let (service, port) = start(&["--layout", "catalog"], Some("direct"));
    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let remarks = testkit::check_metrics(&metrics);
    assert!(remarks.is_empty(), "promtool: {remarks}\n{metrics}");
    assert!(!metrics.contains("rust_mod_info"), "{metrics}");
    assert!(
        metrics.contains("\nexample_service_build_info{"),
        "{metrics}"
    );
    let r = rust_build_info(&metrics);
    assert_eq!(
        label(&r, "layout"),
        "catalog",
        "the flag wins over the environment"
    );
    assert_eq!(label(&r, "program"), "example-service");
    let digest = label(&r, "deps");

    // The list behind the digest: exactly the runtime dependencies --version lists.
    let list = fetch_list(port, digest);
    let listed: BTreeSet<(String, String)> = list
        .entries()
        .map(|e| (e.name.into_owned(), e.version.into_owned()))
        .collect();
    assert_eq!(listed, long_version().deps);
    assert!(
        list.entries()
            .any(|e| e.name == "build-info-collector" && e.direct),
        "{}",
        list.text()
    );

    // Any other digest, or anything else under /deps/, is not found.
    let other = if digest.starts_with('0') {
        "1".repeat(32)
    } else {
        "0".repeat(32)
    };
    for path in [
        format!("/deps/{other}"),
        format!("/deps/{}", digest.to_uppercase()),
        format!("/deps/{digest}0"),
        "/deps/".to_owned(),
        "/deps/../metrics".to_owned(),
    ] {
        let (status, body) = get(port, &path).unwrap();
        assert_eq!(status, 404, "{path}: {body}");
    }
    stop(service);
}

#[test]
fn the_direct_layout_from_the_environment_keeps_the_direct_crates() {
    let (service, port) = start(&[], Some("direct"));
    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");
    let remarks = testkit::check_metrics(&metrics);
    assert!(remarks.is_empty(), "promtool: {remarks}\n{metrics}");
    let r = rust_build_info(&metrics);
    assert_eq!(label(&r, "layout"), "direct");
    let list = fetch_list(port, label(&r, "deps"));
    let direct: Vec<DepsEntry<'_>> = list.entries().filter(|e| e.direct).collect();
    assert!(direct.len() >= 5, "{}", list.text());
    let mut served = mod_info_entries(&metrics);
    served.sort();
    assert_eq!(served, direct, "rust_mod_info holds the direct crates only");
    assert!(list.len() > direct.len());
    stop(service);
}

#[test]
fn an_unknown_layout_is_refused_in_one_line_with_exit_code_2() {
    for (args, env, names) in [
        (
            &["--layout", "bogus"][..],
            None,
            "--layout: unknown layout \"bogus\"",
        ),
        (
            &[][..],
            Some("Full"),
            "BUILD_INFO_LAYOUT: unknown layout \"Full\"",
        ),
    ] {
        let mut command = Command::new(BIN);
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        if let Some(value) = env {
            command.env("BUILD_INFO_LAYOUT", value);
        }
        let out = testkit::run(&mut command, DEADLINE);
        assert_eq!(out.status.code(), Some(2));
        let stderr = testkit::stderr(&out);
        assert_eq!(
            stderr,
            format!("example-service: error: {names}: expected full, catalog or direct\n")
        );
    }
}

#[test]
fn an_address_in_use_is_an_error_with_exit_code_2() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = testkit::run(Command::new(BIN).args(["--listen", &addr]), DEADLINE);
    assert_eq!(out.status.code(), Some(2));
    let stderr = testkit::stderr(&out);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}
