//! Hostile network answers and hostile flags (issue 10): the real `cargo-depinfo` binary, and
//! the library, against loopback servers that answer raw bytes (chunk sizes near `u64::MAX`,
//! compressed bodies, info series at 0 or NaN, versions that are not SemVer), URLs with
//! credentials, a `--timeout` near `u64::MAX` seconds and a 120 KB requirement. Each test is
//! named after what it guards.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::Duration;

use cargo_depinfo::{SourceArgs, SourceError, collect};
use testkit::{Reply, Server, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// A loopback server answering every request with `answer`, as is; returns `host:port`. The
/// thread lives as long as the test binary (it only ever blocks in `accept`).
fn raw_server(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            // Read the request head, then answer and close.
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = stream.write_all(&answer);
        }
    });
    addr
}

fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), Duration::from_secs(60))
}

fn metrics_args(url: String) -> SourceArgs {
    let mut args = SourceArgs::default();
    args.metrics = vec![url];
    args.timeout = Duration::from_secs(10);
    args
}

fn one_error(args: &SourceArgs) -> SourceError {
    let (observations, mut errors) = collect(args);
    assert!(observations.is_empty(), "{observations:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.remove(0)
}

const PAGE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n";

#[test]
fn a_chunk_size_of_u64_max_is_a_truncated_answer_not_an_overflow() {
    // The client never allocates what a chunk size claims: it reads what comes, and the
    // connection closes long before.
    for size in ["ffffffffffffffff", "fffffffffffffff0", "10000001"] {
        let answer = format!(
            "{PAGE_HEAD}Transfer-Encoding: chunked\r\n\r\n4\r\nup 1\r\n{size}\r\nxxxx\r\n0\r\n\r\n"
        );
        let addr = raw_server(answer.into_bytes());
        let e = one_error(&metrics_args(format!("http://{addr}/metrics")));
        assert_eq!(
            e.to_string(),
            format!(
                "http://{addr}/metrics: malformed HTTP answer: connection closed before the answer was complete"
            ),
            "chunk size {size}"
        );
    }
}

#[test]
fn a_broken_or_undeclared_gzip_body_is_an_error_not_misread_as_text() {
    let gzip_magic = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff];
    // Declared: inflated, and a truncated stream is named.
    let mut answer =
        format!("{PAGE_HEAD}Content-Encoding: gzip\r\nContent-Length: 10\r\n\r\n").into_bytes();
    answer.extend_from_slice(&gzip_magic);
    let addr = raw_server(answer);
    let e = one_error(&metrics_args(format!("http://{addr}/metrics")));
    assert_eq!(
        e.to_string(),
        format!("http://{addr}/metrics: malformed HTTP answer: gzip body ends early")
    );
    // Undeclared (only the magic bytes): never read as text.
    let mut answer = format!("{PAGE_HEAD}Content-Length: 10\r\n\r\n").into_bytes();
    answer.extend_from_slice(&gzip_magic);
    let addr = raw_server(answer.clone());
    let e = one_error(&metrics_args(format!("http://{addr}/metrics")));
    assert_eq!(
        e.to_string(),
        format!("http://{addr}/metrics: gzip (undeclared)-compressed body (not supported)")
    );
    let addr = raw_server(answer);
    let mut args = SourceArgs::default();
    args.prometheus = vec![format!("http://{addr}")];
    let e = one_error(&args);
    assert_eq!(
        e.to_string(),
        format!("http://{addr}: gzip (undeclared)-compressed body (not supported)")
    );
    // Another encoding is named as sent.
    let addr = raw_server(
        format!("{PAGE_HEAD}Content-Encoding: br\r\nContent-Length: 4\r\n\r\nup 1").into_bytes(),
    );
    let e = one_error(&metrics_args(format!("http://{addr}/metrics")));
    assert!(
        e.to_string()
            .ends_with(": br-compressed body (not supported)"),
        "{e}"
    );
}

#[test]
fn credentials_in_urls_are_sent_as_basic_auth_and_never_appear_in_errors_or_json() {
    // A server that refuses everything: the credentials reach it, and nothing prints them.
    let server = Server::fixed(Reply::ok("text/plain", "forbidden\n").status(403));
    let host = server.host_port();
    let metrics = format!("http://user:secret@{host}/metrics");
    let prometheus = format!("http://admin:hunter2@{host}/");
    let token = format!("http://tok3n@{host}/");
    let out = run(&[
        "affected",
        "serde",
        "*",
        "--format",
        "json",
        "--metrics",
        &metrics,
        "--prometheus",
        &prometheus,
        "--prometheus",
        &token,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let (out, err) = (stdout(&out), stderr(&out));
    for secret in ["secret", "hunter2", "tok3n"] {
        assert!(!out.contains(secret), "{secret} in stdout: {out}");
        assert!(!err.contains(secret), "{secret} in stderr: {err}");
    }
    assert_eq!(err.lines().count(), 3, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut messages: Vec<&str> = testkit::json_strings(&json["errors"], "message");
    messages.sort_unstable();
    let refused = "not a Prometheus API answer (HTTP 403, text/plain, expected ident at line 1 column 2): \"forbidden\"";
    assert_eq!(
        messages,
        [
            format!("http://***@{host}/: {refused}"),
            format!("http://admin:***@{host}/: {refused}"),
            format!("http://user:***@{host}/metrics: HTTP 403"),
        ]
    );
    // Each went as basic auth (base64 of user:secret, admin:hunter2, tok3n:), never in the
    // request line.
    let mut auth: Vec<String> = server
        .heads()
        .iter()
        .flat_map(|h| {
            h.lines()
                .filter(|l| l.starts_with("authorization: ") || l.starts_with("Authorization: "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    auth.sort_unstable();
    auth.dedup();
    assert_eq!(
        auth,
        [
            "authorization: Basic YWRtaW46aHVudGVyMg==",
            "authorization: Basic dG9rM246",
            "authorization: Basic dXNlcjpzZWNyZXQ=",
        ]
    );
    assert!(
        server
            .heads()
            .iter()
            .all(|h| !h.contains("secret") && !h.contains('@'))
    );
}

#[test]
fn credentials_in_an_index_url_are_redacted() {
    // One crate to look up, at an index that refuses connections.
    let page =
        "rust_mod_info{name=\"itoa\",program=\"a\",source=\"crates.io\",version=\"1.0.0\"} 1\n";
    let server = Server::fixed(Reply::ok("text/plain", page));
    let out = run(&[
        "outdated",
        "--format",
        "json",
        "--index",
        "sparse+http://user:secret@127.0.0.1:1/index/",
        "--metrics",
        &server.url("/metrics"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let (out, err) = (stdout(&out), stderr(&out));
    assert!(
        !err.contains("secret") && !out.contains("secret"),
        "{err}{out}"
    );
    assert!(err.contains("user:***@127.0.0.1:1"), "{err}");
    assert!(out.contains("user:***@127.0.0.1:1"), "{out}");
}

#[test]
fn a_timeout_near_u64_max_seconds_is_refused_not_a_panic() {
    for timeout in ["9.3e18", "18446744073709551615", "1e308"] {
        let out = run(&[
            "spread",
            "--timeout",
            timeout,
            "--metrics",
            "http://127.0.0.1:1/",
        ]);
        assert_eq!(out.status.code(), Some(2), "{timeout}");
        assert_eq!(
            stderr(&out),
            "error: --timeout must be a positive number of seconds, at most 86400 (one day)\n"
        );
    }
}

#[test]
fn the_library_bounds_a_huge_timeout_instead_of_panicking() {
    let server = Server::fixed(Reply::ok("text/plain", "up 1\n"));
    let mut args = metrics_args(server.url("/metrics"));
    args.timeout = Duration::MAX;
    args.api_timeout = Duration::MAX;
    let (observations, errors) = collect(&args);
    // A page with none of our series is no data (issue 19), not a failed fetch.
    assert!(observations.is_empty(), "{observations:?}");
    assert!(
        matches!(
            errors.as_slice(),
            [SourceError::MetricsPage {
                error: cargo_depinfo::MetricsPageError::NoData,
                ..
            }]
        ),
        "{errors:?}"
    );
    // The page was really fetched (not skipped for want of a deadline).
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
    args.prometheus = vec![server.url("/")];
    args.metrics.clear();
    let e = one_error(&args);
    assert!(
        matches!(e, SourceError::PrometheusApi { .. }),
        "{e}: an API error, not a panic"
    );
}

#[test]
fn info_series_at_zero_or_nan_do_not_count_as_running() {
    let page = "rust_mod_info{name=\"serde\",program=\"a\",source=\"crates.io\",version=\"1.0.1\"} 0\n\
                rust_mod_info{name=\"serde\",program=\"a\",source=\"crates.io\",version=\"1.0.2\"} NaN\n\
                rust_mod_info{name=\"serde\",program=\"a\",source=\"crates.io\",version=\"1.0.3\"} -1\n\
                rust_mod_info{name=\"serde\",program=\"a\",source=\"crates.io\",version=\"1.0.4\"} 1\n";
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", page));
    let (observations, errors) = collect(&metrics_args(server.url("/metrics")));
    assert!(errors.is_empty(), "{errors:?}");
    let versions: Vec<&str> = observations.iter().map(|o| &*o.version).collect();
    assert_eq!(versions, ["1.0.4"]);

    let series = |version: &str, value: &str| {
        format!(
            r#"{{"metric":{{"__name__":"rust_mod_info","instance":"a:1","name":"serde","program":"a","version":"{version}"}},"value":[1700000000.1,"{value}"]}}"#
        )
    };
    let answer = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{},{},{},{}]}}}}"#,
        series("1.0.1", "0"),
        series("1.0.2", "NaN"),
        series("1.0.3", "-Inf"),
        series("1.0.4", "1"),
    );
    let server = Server::fixed(Reply::ok("application/json", answer));
    let mut args = SourceArgs::default();
    args.prometheus = vec![server.url("/")];
    let (observations, errors) = collect(&args);
    assert!(errors.is_empty(), "{errors:?}");
    let versions: Vec<&str> = observations.iter().map(|o| &*o.version).collect();
    assert_eq!(versions, ["1.0.4"]);
}

#[test]
fn versions_that_are_not_semver_make_affected_unclean() {
    let mut page = String::new();
    for (i, version) in ["v1.0.5", "1.0", "", "banana", "1.0.0-alpha"]
        .iter()
        .enumerate()
    {
        let _ = writeln!(
            page,
            "rust_mod_info{{name=\"serde\",program=\"p{i}\",source=\"crates.io\",version=\"{version}\"}} 1"
        );
    }
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", page));
    let url = server.url("/metrics");
    let out = run(&["affected", "serde", "<1.0.5", "--metrics", &url]);
    assert_eq!(out.status.code(), Some(2), "unknown is never clean");
    let text = stdout(&out);
    let host = server.host_port();
    assert_eq!(
        text,
        format!(
            "{host}: p4: serde 1.0.0-alpha crates.io\n\
             {host}: p0: serde v1.0.5 crates.io (not SemVer: cannot judge)\n\
             {host}: p1: serde 1.0 crates.io (not SemVer: cannot judge)\n\
             {host}: p2: serde  crates.io (not SemVer: cannot judge)\n\
             {host}: p3: serde banana crates.io (not SemVer: cannot judge)\n"
        )
    );
    let out = run(&[
        "affected",
        "serde",
        "<1.0.5",
        "--metrics",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["affected"].as_array().unwrap().len(), 1);
    let unjudged: Vec<&str> = testkit::json_strings(&json["unjudged"], "version");
    assert_eq!(unjudged, ["v1.0.5", "1.0", "", "banana"]);
    assert_eq!(json["errors"], serde_json::json!([]));
    // Without a hit, the answer is still not clean.
    let out = run(&[
        "affected",
        "serde",
        "<0.1",
        "--metrics",
        &url,
        "--format",
        "prometheus",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 4, "{}", stderr(&out));
    assert!(stderr(&out).starts_with("warning: "), "{}", stderr(&out));
}

#[test]
fn spread_keeps_versions_that_are_not_semver() {
    let page = "rust_mod_info{name=\"serde\",program=\"a\",source=\"crates.io\",version=\"banana\"} 1\n\
                rust_mod_info{name=\"serde\",program=\"b\",source=\"crates.io\",version=\"1.0.1\"} 1\n";
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", page));
    let out = run(&["spread", "--metrics", &server.url("/metrics")]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("serde: 2 versions\n"), "{text}");
    assert!(text.contains("\tbanana\t"), "{text}");
}

#[test]
fn a_120_kb_requirement_is_echoed_cut_short_and_escaped() {
    let req = format!("\u{1b}]0;pwned\u{7}{}", "x".repeat(120_000));
    let out = run(&[
        "affected",
        "serde",
        &req,
        "--metrics",
        "http://127.0.0.1:1/",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.len() < 400, "{} bytes", err.len());
    assert!(
        err.starts_with("error: invalid SemVer requirement \"\\x1b]0;pwned\\x07xxx"),
        "{err}"
    );
    assert!(err.contains("xx…\""), "{err}");
    assert!(!err.trim_end().chars().any(char::is_control), "{err}");
}
