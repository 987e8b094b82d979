//! Runs the real `example-service` binary on a loopback port, checks its /metrics with the real
//! `promtool`, compares the series with the build data the binary prints for `--version`, and
//! stops it with SIGTERM.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

#[test]
fn metrics_pass_promtool_and_match_the_embedded_build_info() {
    let port = testkit::unused_addr().port();
    let mut service = Running::spawn(
        Command::new(BIN)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );

    // Wait for the listener.
    let start = Instant::now();
    loop {
        match get(port, "/healthz") {
            Ok((200, body)) => {
                assert_eq!(body, "ok\n");
                break;
            }
            _ if start.elapsed() < DEADLINE => {
                assert_eq!(service.try_status(), None, "service exited early");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("service not ready after {DEADLINE:?}: {other:?}"),
        }
    }

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

    // SIGTERM: a clean exit, in bounded time.
    let pid = service.child().id().to_string();
    let killed = testkit::run(Command::new("kill").args(["-TERM", &pid]), DEADLINE);
    assert!(killed.status.success());
    let status = service.wait(DEADLINE);
    assert!(status.success(), "exit after SIGTERM: {status}");
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
