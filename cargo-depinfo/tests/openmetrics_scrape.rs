//! `--metrics` against real loopback servers speaking OpenMetrics: the page prometheus-client
//! serves (exemplars on other families, `# TYPE … info`, `_created`, `# EOF`) is read by its
//! `Content-Type`, a cut-short OpenMetrics page is an error, and the scrape asks for
//! OpenMetrics first, as Prometheus does.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_depinfo::{SourceArgs, collect};
use testkit::{Reply, Server, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A service's OpenMetrics page: our families among a counter and a histogram with exemplars.
const PAGE: &str = "# HELP http_requests Requests.\n# TYPE http_requests counter\n\
    http_requests_total{code=\"200\"} 1027 # {trace_id=\"KOO5S4vxi0o\"} 1 1.7e9\n\
    http_requests_created{code=\"200\"} 1.7e9\n\
    # TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\n\
    latency_seconds_bucket{le=\"0.1\"} 8 # {trace_id=\"oHg5SJYRHA0\"} 0.05 1.7e9\n\
    latency_seconds_bucket{le=\"+Inf\"} 17\nlatency_seconds_count 17\nlatency_seconds_sum 3.5\n\
    # HELP shop_build_info Build.\n# TYPE shop_build_info gauge\n\
    shop_build_info{branch=\"main\",revision=\"3f2c\",rustversion=\"1.95.0\",version=\"1.4.2\"} 1\n\
    # TYPE rust_mod info\n# HELP rust_mod Crates.\n\
    rust_mod_info{direct=\"true\",name=\"serde\",program=\"shop\",source=\"crates.io\",version=\"1.0.219\"} 1\n\
    rust_mod_info{direct=\"false\",name=\"itoa\",program=\"shop\",source=\"crates.io\",version=\"1.0.15\"} 1\n\
    # EOF\n";

fn metrics_args(url: String) -> SourceArgs {
    let mut args = SourceArgs::default();
    args.metrics = vec![url];
    args.timeout = Duration::from_secs(10);
    args
}

#[test]
fn an_openmetrics_page_with_exemplars_is_read_by_its_content_type() {
    // Behind a redirect, as a service moved behind a path prefix answers.
    let server = Server::start(|path| match path {
        "/metrics" => Reply::ok(OPEN_METRICS, PAGE),
        "/old/metrics" => Reply::redirect(302, "/metrics"),
        _ => Reply::not_found(),
    });
    let (observations, errors) = collect(&metrics_args(server.url("/old/metrics")));
    assert!(errors.is_empty(), "{errors:?}");
    let host = server.host_port();
    let seen: Vec<String> = observations
        .iter()
        .map(|o| {
            format!(
                "{} {} {:?} {:?} {} {} {} {:?}",
                o.location(),
                o.runner.program,
                o.runner.program_version,
                o.runner.revision,
                o.name,
                o.version,
                o.source,
                o.direct
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            format!(
                "{host} shop Some(\"1.4.2\") Some(\"3f2c\") serde 1.0.219 crates.io Some(true)"
            ),
            format!("{host} shop Some(\"1.4.2\") Some(\"3f2c\") itoa 1.0.15 crates.io Some(false)"),
        ]
    );

    let url = server.url("/metrics");
    let out = testkit::run(
        Command::new(BIN).args(["affected", "serde", "<1.0.220", "--metrics", &url]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    testkit::assert_contains(&stdout(&out), &format!("{host}: shop 1.4.2: serde 1.0.219"));
}

#[test]
fn an_openmetrics_page_cut_short_is_an_error_and_a_text_page_needs_no_eof() {
    let cut = PAGE.strip_suffix("# EOF\n").unwrap();
    let server = Server::fixed(Reply::ok(OPEN_METRICS, cut));
    let (observations, errors) = collect(&metrics_args(server.url("/metrics")));
    assert!(observations.is_empty(), "{observations:?}");
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [format!(
            "{}: malformed exposition at line 17: the OpenMetrics page does not end with '# EOF'",
            server.url("/metrics")
        )]
    );
    // The same lines served as the classic text format (no EOF there; exemplars only on
    // families that are not ours, which are skipped).
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", cut));
    let (observations, errors) = collect(&metrics_args(server.url("/metrics")));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(observations.len(), 2);
}

#[test]
fn the_scrape_asks_for_openmetrics_first_as_prometheus_does() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        // Bounded: a client that never comes fails the test instead of hanging it.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("no request within 20s: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut head = Vec::new();
        let mut reader = BufReader::new(&stream);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            head.push(line.trim_end().to_owned());
            line.clear();
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {OPEN_METRICS}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        );
        stream.write_all(answer.as_bytes()).unwrap();
        head
    });
    let (observations, errors) = collect(&metrics_args(format!("http://{addr}/metrics")));
    let head = server.join().unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(observations.len(), 2);
    // Header names are case-insensitive (HTTP/1.1 clients may send them in lower case).
    let accept: Vec<String> = head
        .iter()
        .filter_map(|h| h.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("accept"))
        .map(|(_, value)| format!("Accept:{value}"))
        .collect();
    assert_eq!(
        accept,
        [
            "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ],
        "{head:?}"
    );
}

/// What build-info-collector registered in prometheus-client serves: its families as gauges
/// (`# TYPE rust_mod_info gauge`) in an OpenMetrics page ending in `# EOF`, byte for byte as
/// build-info-collector's own test asserts.
#[test]
fn the_collector_through_prometheus_client_is_read_as_openmetrics() {
    let page = format!(
        "{}# EOF\n",
        include_str!("../../build-info-collector/tests/golden/example.prom")
    );
    let server = Server::fixed(Reply::ok(OPEN_METRICS, page));
    let (observations, errors) = collect(&metrics_args(server.url("/metrics")));
    assert!(errors.is_empty(), "{errors:?}");
    let seen: Vec<String> = observations
        .iter()
        .map(|o| {
            format!(
                "{} {:?} {} {} {:?}",
                o.runner.program, o.runner.program_version, o.name, o.version, o.direct
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "myapp Some(\"1.4.2\") itoa 1.0.15 Some(false)",
            "myapp Some(\"1.4.2\") serde_json 1.0.140 Some(true)",
        ]
    );
}
