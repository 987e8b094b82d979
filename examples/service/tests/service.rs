//! Runs the real `example-service` binary on a loopback port, checks its /metrics with the real
//! `promtool`, compares the series with the build data the binary prints for `--version`, and
//! stops it with SIGTERM.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_example-service");
const DEADLINE: Duration = Duration::from_secs(20);

/// Kills the service if the test fails before stopping it.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `GET path` over HTTP/1.1 with `Connection: close`: the status code and the body.
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("an HTTP response has a blank line after its head");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    Ok((status, body.to_owned()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
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
    let out = Command::new(BIN).arg("--version").output().unwrap();
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
    let port = free_port();
    let child = Command::new(BIN)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start example-service");
    let mut service = Service(child);

    // Wait for the listener.
    let start = Instant::now();
    loop {
        match get(port, "/healthz") {
            Ok((200, body)) => {
                assert_eq!(body, "ok\n");
                break;
            }
            _ if start.elapsed() < DEADLINE => {
                assert_eq!(service.0.try_wait().unwrap(), None, "service exited early");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("service not ready after {DEADLINE:?}: {other:?}"),
        }
    }

    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{metrics}");

    // promtool must be there: a missing checker fails the test instead of skipping it.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool not found: install it with `apt-get install -y prometheus`");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success() && checked.stdout.is_empty() && checked.stderr.is_empty(),
        "promtool check metrics failed: {}{}\n{metrics}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
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
    assert_eq!(
        names,
        [
            "branch",
            "features",
            "profile",
            "revision",
            "rustversion",
            "target",
            "version"
        ]
    );
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
    let pid = service.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = service.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no exit {DEADLINE:?} after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");
}

#[test]
fn an_address_in_use_is_an_error_with_exit_code_2() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let child = Command::new(BIN)
        .args(["--listen", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut service = Service(child);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = service.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < DEADLINE, "still running on a taken port");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2));
    let mut stderr = String::new();
    service
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}
