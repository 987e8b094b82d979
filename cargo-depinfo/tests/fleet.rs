//! `affected`, `spread` and `rules` over fleet sources: the real `cargo-depinfo` binary against
//! loopback HTTP servers this test starts on ports the OS picks (two /metrics endpoints, one
//! serving malformed exposition, one too slow for `--timeout 1`, a closed port, and Prometheus
//! API fixtures answering in the real API's shape). Output is compared with golden files under
//! `tests/fleet/` (ports replaced by `<A>`, `<B>`; `UPDATE_GOLDEN=1` rewrites them), and
//! checked by the real `promtool` (Debian package `prometheus`; the test fails without it).

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::{Reply, Scratch, Server, check_metrics, check_rules, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What build-info-collector serves for a program with these crates.
fn metrics_page(program: &str, version: &str, revision: &str, crates: &[(&str, &str)]) -> String {
    let metric = program.replace('-', "_");
    let mut s = format!(
        "# HELP {metric}_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which {program} was built.\n\
         # TYPE {metric}_build_info gauge\n\
         {metric}_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"{revision}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"{version}\"}} 1\n\
         # HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n\
         # TYPE rust_mod_info gauge\n"
    );
    for (name, v) in crates {
        let _ = writeln!(
            s,
            "rust_mod_info{{direct=\"true\",name=\"{name}\",program=\"{program}\",source=\"crates.io\",version=\"{v}\"}} 1"
        );
    }
    s.push_str("# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds 9\n");
    s
}

fn metrics_server_on(listener: TcpListener, page: String) -> Server {
    Server::start_on(listener, move |path| {
        if path == "/metrics" {
            Reply::ok(EXPOSITION, page.clone())
        } else {
            Reply::not_found()
        }
    })
}

/// The fleet: alpha on serde_json 1.0.130, beta-svc on 1.0.140; both on itoa 1.0.15. Output
/// is sorted by instance: alpha gets the address that sorts first, so golden files are stable.
fn fleet() -> (Server, Server) {
    let [la, lb] = testkit::sorted_listeners();
    let a = metrics_server_on(
        la,
        metrics_page(
            "alpha",
            "0.1.0",
            "aaaa000000000000000000000000000000000000",
            &[("itoa", "1.0.15"), ("serde_json", "1.0.130")],
        ),
    );
    let b = metrics_server_on(
        lb,
        metrics_page(
            "beta-svc",
            "0.2.0",
            "bbbb000000000000000000000000000000000000",
            &[("itoa", "1.0.15"), ("serde_json", "1.0.140")],
        ),
    );
    (a, b)
}

/// Decoding of a form field (`application/x-www-form-urlencoded`: `%XX`, and `+` for a
/// space).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The crate names a `name=~"a[-_]b|c"` matcher in `query` accepts (`None`: no matcher).
fn matched_names(query: &str) -> Option<Vec<String>> {
    let start = query.find(r#"name=~""#)? + r#"name=~""#.len();
    let end = start + query[start..].find('"')?;
    Some(
        query[start..end]
            .split('|')
            .map(|alt| alt.replace("[-_]", "_"))
            .collect(),
    )
}

/// A Prometheus API answering the queries `cargo depinfo` sends (`rust_mod_info` with or
/// without a name matcher, `count by (program, job, name, version[, source])` over it, the
/// build_info query) with what a real Prometheus scraping `a` and `b` (job `fleet`) would
/// answer; any other query is refused.
fn prometheus_for(a: &Server, b: &Server) -> Server {
    let (ia, ib) = (a.host_port(), b.host_port());
    let mod_info: Vec<[String; 4]> = [
        (&ib, "beta-svc", "serde_json", "1.0.140"),
        (&ia, "alpha", "itoa", "1.0.15"),
        (&ia, "alpha", "serde_json", "1.0.130"),
        (&ib, "beta-svc", "itoa", "1.0.15"),
    ]
    .map(|(i, p, n, v)| [i.clone(), p.to_owned(), n.to_owned(), v.to_owned()])
    .to_vec();
    let build_info = |instance: &str, metric: &str, version: &str, revision: &str| {
        serde_json::json!({
            "metric": {"__name__": metric, "instance": instance, "job": "fleet",
                       "revision": revision, "rustversion": "1.95.0", "version": version},
            "value": [1_763_770_000.123, "1"]
        })
    };
    let build = serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
        build_info(&ia, "alpha_build_info", "0.1.0", "aaaa000000000000000000000000000000000000"),
        build_info(&ib, "beta_svc_build_info", "0.2.0", "bbbb000000000000000000000000000000000000"),
    ]}})
    .to_string();
    let answer = |result: Vec<Value>| {
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": result}})
            .to_string()
    };
    Server::start(move |path| {
        let Some(query) = path.strip_prefix("/api/v1/query?query=") else {
            return Reply::not_found();
        };
        let query = percent_decode(query);
        let names = matched_names(&query);
        let selected = mod_info.iter().filter(|[_, _, n, _]| {
            names
                .as_ref()
                .is_none_or(|names| names.contains(&n.replace('-', "_")))
        });
        let body = if query == r#"{__name__=~".+_build_info",rustversion!=""}"# {
            build.clone()
        } else if query.contains("(rust_build_info)") {
            // Layout detection: a fleet of collectors older than rust_build_info.
            answer(Vec::new())
        } else if query.starts_with("rust_mod_info") {
            answer(
                selected
                    .map(|[i, p, n, v]| {
                        serde_json::json!({
                            "metric": {"__name__": "rust_mod_info", "direct": "true", "instance": i,
                                       "job": "fleet", "name": n, "program": p,
                                       "source": "crates.io", "version": v},
                            "value": [1_763_770_000.123, "1"]
                        })
                    })
                    .collect(),
            )
        } else if let Some(by) = query
            .strip_prefix("count by (")
            .and_then(|q| q.split_once(')'))
            .map(|(by, _)| by.to_owned())
        {
            let mut counts: std::collections::BTreeMap<Vec<(String, String)>, u32> =
                std::collections::BTreeMap::new();
            for [_, p, n, v] in selected {
                let labels = [
                    ("job", "fleet"),
                    ("name", n),
                    ("program", p),
                    ("source", "crates.io"),
                    ("version", v),
                ];
                let key = labels
                    .iter()
                    .filter(|(l, _)| by.split(", ").any(|b| b == *l))
                    .map(|(l, v)| ((*l).to_owned(), (*v).to_owned()))
                    .collect();
                *counts.entry(key).or_default() += 1;
            }
            answer(
                counts
                    .into_iter()
                    .map(|(labels, c)| {
                        let metric: serde_json::Map<String, Value> =
                            labels.into_iter().map(|(l, v)| (l, Value::from(v))).collect();
                        serde_json::json!({"metric": metric, "value": [1_763_770_000.123, c.to_string()]})
                    })
                    .collect(),
            )
        } else {
            r#"{"status":"error","errorType":"bad_data","error":"unexpected query"}"#.to_owned()
        };
        // Real Prometheus answers large results chunked.
        Reply::ok("application/json", body).chunked(1000)
    })
}

/// Bounded: every network source has a timeout, so 30 s means something hangs.
fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), Duration::from_secs(30))
}

/// Compares `actual` (with the servers' addresses replaced) with `tests/fleet/NAME`.
fn golden(name: &str, actual: &str, replace: &[(&str, &str)]) {
    let mut actual = actual.to_owned();
    for (from, to) in replace {
        actual = actual.replace(from, to);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fleet")
        .join(name);
    testkit::check_golden(&path, &actual);
}

/// Like [`golden`], for exposition text, which the real promtool must accept too.
fn golden_exposition(name: &str, actual: &str, replace: &[(&str, &str)]) {
    golden(name, actual, replace);
    check_metrics(actual);
}

/// A port nothing listens on.
fn closed_port() -> String {
    format!("http://{}/metrics", testkit::unused_addr())
}

#[test]
fn affected_over_metrics_endpoints_names_instances_and_exits_1_0() {
    let (a, b) = fleet();
    let (ua, ub) = (a.url("/metrics"), b.url("/metrics"));
    let names = [(a.host_port(), "<A>"), (b.host_port(), "<B>")];
    let names: Vec<(&str, &str)> = names.iter().map(|(h, n)| (h.as_str(), *n)).collect();

    // `affected NAME REQ` over both endpoints, then `extra`.
    let affected = |name: &str, req: &str, extra: &[&str]| {
        let both = ["affected", name, req, "--metrics", &ua, "--metrics", &ub];
        run(&[&both[..], extra].concat())
    };

    let out = affected("serde_json", ">=1.0.135", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    golden("affected_metrics.txt", &stdout(&out), &names);

    let out = affected("serde-json", ">=1.0, <1.0.150", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    golden("affected_metrics.json", &stdout(&out), &names);

    let out = affected("serde_json", "<1.0.100", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");

    let out = affected("itoa", "1", &["--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(1));
    golden_exposition("affected_metrics.prom", &stdout(&out), &names);
    // No match: still valid, with a count of 0.
    let out = affected("itoa", "<1", &["--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out)
            .contains("cargo_depinfo_affected_programs{name=\"itoa\",requirement=\"<1\"} 0\n")
    );
    check_metrics(&stdout(&out));
}

#[test]
fn broken_endpoints_are_one_line_each_and_the_rest_goes_on() {
    let (a, _b) = fleet();
    let malformed = Server::fixed(Reply::ok(
        EXPOSITION,
        "# TYPE rust_mod_info gauge\nrust_mod_info{name=\"serde_json\",version=\"1.0.1\" 1\n",
    ));
    let slow = Server::fixed(Reply::ok(EXPOSITION, "up 1\n").delayed(Duration::from_secs(4)));
    let html = Server::fixed(Reply::ok("text/html", "<html>down</html>").status(503));
    let (ua, um, us, uh, closed) = (
        a.url("/metrics"),
        malformed.url("/metrics"),
        slow.url("/metrics"),
        html.url("/metrics"),
        closed_port(),
    );
    let start = Instant::now();
    let out = run(&[
        "affected",
        "serde_json",
        ">=1",
        "--timeout",
        "1",
        "--metrics",
        &um,
        "--metrics",
        &ua,
        "--metrics",
        &closed,
        "--metrics",
        &us,
        "--metrics",
        &uh,
    ]);
    let took = start.elapsed();
    // The sources are read concurrently: the slow one costs the timeout once.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(out.status.code(), Some(2), "errors win over findings");
    assert_eq!(
        stdout(&out),
        format!(
            "{}: alpha 0.1.0: serde_json 1.0.130 crates.io\n",
            a.host_port()
        )
    );
    let lines = testkit::stderr_lines(&out, 4);
    assert_eq!(
        lines[0],
        format!(
            "error: {um}: malformed exposition at line 2: expected ',' or '}}' after label version"
        )
    );
    assert!(
        lines[1].starts_with(&format!("error: {closed}: ")),
        "{lines:?}"
    );
    assert!(lines[1].contains("refused"), "{lines:?}");
    assert_eq!(
        lines[2],
        format!("error: {us}: no answer within 1s (--timeout)")
    );
    assert_eq!(lines[3], format!("error: {uh}: HTTP 503"));

    // The same failures in JSON.
    let out = run(&[
        "spread",
        "--timeout",
        "1",
        "--metrics",
        &um,
        "--metrics",
        &ua,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
    assert_eq!(v["crates"].as_array().unwrap().len(), 2);
}

#[test]
fn an_invalid_requirement_is_one_line_and_exit_2() {
    let out = run(&[
        "affected",
        "serde",
        "=>1",
        "--metrics",
        "http://127.0.0.1:1/metrics",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: invalid SemVer requirement \"=>1\": "),
        "{err}"
    );
    let out = run(&[
        "spread",
        "--timeout",
        "0",
        "--metrics",
        "http://127.0.0.1:1/",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --timeout must be a positive number of seconds, at most 86400 (one day)\n"
    );
}

#[test]
fn spread_over_metrics_and_prometheus_agree() {
    let (a, b) = fleet();
    let prom = prometheus_for(&a, &b);
    let (ua, ub, up) = (a.url("/metrics"), b.url("/metrics"), prom.url(""));
    let names = [
        (a.host_port(), "<A>"),
        (b.host_port(), "<B>"),
        (prom.host_port(), "<P>"),
    ];
    let names: Vec<(&str, &str)> = names.iter().map(|(h, n)| (h.as_str(), *n)).collect();

    let out = run(&["spread", "--metrics", &ua, "--metrics", &ub]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    golden("spread.txt", &stdout(&out), &names);
    let text = stdout(&out);

    let out = run(&["spread", "--prometheus", &up]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    golden("spread_prometheus.txt", &stdout(&out), &names);
    // Prometheus counts the instances per program and job: the same programs and versions as
    // the instances' own pages say.
    let counted: Vec<String> = stdout(&out)
        .lines()
        .map(|l| l.split('@').next().unwrap_or(l).to_owned())
        .collect();
    let direct: Vec<String> = text
        .lines()
        .map(|l| l.split('@').next().unwrap_or(l).to_owned())
        .collect();
    assert_eq!(counted, direct, "--prometheus agrees with --metrics");
    // What it asked: the count, not the series.
    assert!(
        prom.requests().iter().any(|r| r
            .strip_prefix("/api/v1/query?query=")
            .is_some_and(|q| percent_decode(q)
                == r#"count by (program, job, name, version) (rust_mod_info{origin!="exporter"} > 0) or on(program) count by (program, job, name, version) (rust_mod_info{origin="exporter"} > 0)"#)),
        "{:?}",
        prom.requests()
    );

    // Both at once: a page and the Prometheus counting it are two sources of one instance,
    // which an answer without instances cannot tell apart; the exposition counts both.
    let out = run(&[
        "spread",
        "--prometheus",
        &up,
        "--metrics",
        &ua,
        "--format",
        "prometheus",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    testkit::assert_contains(
        &stdout(&out),
        "cargo_depinfo_crate_version_runners{name=\"itoa\",version=\"1.0.15\"} 3\n",
    );

    let out = run(&["spread", "--prometheus", &up, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    golden("spread_prometheus.json", &stdout(&out), &names);

    let out = run(&["spread", "--prometheus", &up, "--max-versions", "1"]);
    assert_eq!(out.status.code(), Some(1), "serde_json runs in 2 versions");
    assert!(
        stdout(&out).starts_with("serde_json: 2 versions\n"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("itoa"));
    let out = run(&["spread", "--prometheus", &up, "--max-versions", "2"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let out = run(&[
        "spread",
        "--prometheus",
        &up,
        "--crate",
        "itoa",
        "--max-versions",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("itoa: 1 version\n"));

    let out = run(&["spread", "--prometheus", &up, "--format", "prometheus"]);
    golden_exposition("spread.prom", &stdout(&out), &names);

    let out = run(&[
        "affected",
        "serde_json",
        "~1.0.130",
        "--prometheus",
        &up,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    golden("affected_prometheus.json", &stdout(&out), &names);
    // `affected` asks for the crate's series only, either spelling of its name.
    assert!(
        prom.requests().iter().any(|r| r
            .strip_prefix("/api/v1/query?query=")
            .is_some_and(|q| percent_decode(q)
                == r#"rust_mod_info{name=~"serde[-_]json",origin!="exporter"} or on(program) rust_mod_info{name=~"serde[-_]json",origin="exporter"}"#)),
        "{:?}",
        prom.requests()
    );
}

#[test]
fn prometheus_api_errors_are_one_line_naming_the_url() {
    let error = Server::fixed(
        Reply::ok(
            "application/json",
            r#"{"status":"error","errorType":"execution","error":"query timed out in expression evaluation"}"#,
        )
        .status(422),
    );
    let login = Server::fixed(Reply::ok(
        "text/html",
        "<!DOCTYPE html>\n<html><body>Sign in</body></html>",
    ));
    let (ue, ul) = (error.url(""), login.url("/prefix/"));
    let out = run(&[
        "affected",
        "serde",
        "*",
        "--prometheus",
        &ue,
        "--prometheus",
        &ul,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines = testkit::stderr_lines(&out, 2);
    assert_eq!(
        lines[0],
        format!(
            "error: {ue}: Prometheus API error (HTTP 422, execution): query timed out in expression evaluation"
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "error: {ul}: not a Prometheus API answer (HTTP 200, text/html, "
        )),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with(r#": "<!DOCTYPE html> <html><body>Sign in</body></html>""#),
        "{lines:?}"
    );
}

#[test]
fn warnings_make_an_answer_partial_and_infos_are_notes() {
    // A Thanos partial response: fields in another order, `stats` beside them, a warning with
    // a newline and an escape sequence in it, an info annotation.
    let thanos = Server::fixed(Reply::ok(
        "application/json",
        r#"{"data":{"result":[{"metric":{"job":"fleet","name":"itoa","program":"alpha","version":"1.0.15"},"value":[1763770000.1,"2"]}],"resultType":"vector"},"stats":{"seriesFetched":"2"},"warnings":["store 10.0.0.9:10901 unreachable\n\u001b[2Jforged"],"infos":["PromQL info: metric might not be a counter"],"status":"success"}"#,
    ));
    let url = thanos.url("");
    // Told the layout: the one answer is the one query's (no layout detection).
    let out = run(&["spread", "--layout", "full", "--prometheus", &url]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("itoa: 1 version\n\t1.0.15\talpha@{url}\tjob=fleet instances=2\n")
    );
    assert_eq!(
        stderr(&out),
        format!(
            "note: {url}: info from the server: PromQL info: metric might not be a counter\n\
             error: {url}: the answer may be incomplete: 1 warning(s) from the server: store 10.0.0.9:10901 unreachable  [2Jforged\n"
        )
    );
    let out = run(&[
        "spread",
        "--layout",
        "full",
        "--prometheus",
        &url,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        testkit::json_strings(&v["errors"], "message"),
        [format!(
            "{url}: the answer may be incomplete: 1 warning(s) from the server: store 10.0.0.9:10901 unreachable  [2Jforged"
        )]
    );
    assert_eq!(
        testkit::json_strings(&v["notes"], "message"),
        [format!(
            "{url}: info from the server: PromQL info: metric might not be a counter"
        )]
    );
    assert_eq!(v["crates"][0]["versions"][0]["running"][0]["instances"], 2);
}

#[test]
fn rules_pass_promtool_check_rules() {
    let dir = Scratch::new("fleet-rules");
    for (name, args) in [
        ("rules_default.yml", &["rules", "--max-versions", "2"][..]),
        (
            "rules_crates.yml",
            &[
                "rules",
                "--max-versions",
                "1",
                "--crate",
                "serde_json",
                "--crate",
                "itoa",
                "--for",
                "10m",
                "--severity",
                "page",
            ][..],
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        golden(name, &stdout(&out), &[]);
        let file = dir.join(name);
        std::fs::write(&file, &out.stdout).unwrap();
        // Four recording rules, the spread, drift and unknown-list alerts.
        assert!(check_rules(&file).contains("SUCCESS: 7 rules found"));
    }
    // Each alert's `for:` has its own flag; `--for` sets them all.
    let fors = |args: &[&str]| -> Vec<String> {
        let out = run(&[&["rules"], args].concat());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
            .lines()
            .filter_map(|l| l.trim().strip_prefix("for: ").map(str::to_owned))
            .collect()
    };
    assert_eq!(fors(&[]), ["15m", "30m", "10m"]);
    assert_eq!(
        fors(&[
            "--spread-for",
            "5m",
            "--drift-for",
            "1h",
            "--unknown-for",
            "2m"
        ]),
        ["5m", "1h", "2m"]
    );
    assert_eq!(
        fors(&["--for", "0s", "--drift-for", "2h"]),
        ["0s", "2h", "0s"]
    );
    // The full layout reads no catalog: no unknown-list alert.
    assert_eq!(fors(&["--layout", "full"]), ["15m", "30m"]);
    let out = run(&["rules", "--layout", "sideways"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: invalid value 'sideways' for '--layout <LAYOUT>'"),
        "{}",
        stderr(&out)
    );
    for (flag, bad) in [
        ("--unknown-for", "5"),
        ("--unknown-for", "30 m"),
        ("--drift-for", "5"),
        ("--drift-for", "30 m"),
        ("--drift-for", "293y"),
        ("--drift-for", "1m1h"),
    ] {
        let out = run(&["rules", flag, bad]);
        assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: {bad:?} is not a Prometheus duration (for example 0s, 90s, 15m, 1h30m)\n"
            )
        );
    }
    let out = run(&["rules", "--crate", "serde.*"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: \"serde.*\" is not a crate name (letters, digits, '-' and '_')\n"
    );
}

#[test]
fn the_spread_rule_fires_above_the_limit() {
    // `promtool test rules` evaluates the generated rule over series like a fleet's: three
    // versions of one crate fire with --max-versions 2, two do not; two revisions of one
    // program fire the drift alert, each only once its default `for:` has passed.
    let dir = Scratch::new("fleet-fire");
    let out = run(&["rules", "--max-versions", "2"]);
    std::fs::write(dir.join("rules.yml"), &out.stdout).unwrap();
    let test = r#"rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'rust_mod_info{instance="a:1",job="fleet",name="codec",program="app",version="1.0.0"}'
        values: '1x40'
      - series: 'rust_mod_info{instance="b:1",job="fleet",name="codec",program="app",version="1.1.0"}'
        values: '1x40'
      - series: 'rust_mod_info{instance="c:1",job="fleet",name="codec",program="app",version="2.0.0"}'
        values: '1x40'
      - series: 'rust_mod_info{instance="d:1",job="fleet",name="codec",program="app",version="1.1.0"}'
        values: '1x40'
      - series: 'rust_mod_info{instance="a:1",job="fleet",name="itoa",program="app",version="1.0.15"}'
        values: '1x40'
      - series: 'rust_mod_info{instance="b:1",job="fleet",name="itoa",program="app",version="1.0.14"}'
        values: '1x40'
      - series: 'app_build_info{instance="a:1",job="fleet",revision="aaa",rustversion="1.95.0",version="0.1.0"}'
        values: '1x40'
      - series: 'app_build_info{instance="b:1",job="fleet",revision="bbb",rustversion="1.95.0",version="0.1.0"}'
        values: '1x40'
      - series: 'prometheus_build_info{instance="p:1",job="prom",revision="ccc",version="3"}'
        values: '1x40'
      - series: 'prometheus_build_info{instance="q:1",job="prom",revision="ddd",version="3"}'
        values: '1x40'
    alert_rule_test:
      # An ordinary rolling deploy: neither alert fires within its `for:` (15m, 30m).
      - eval_time: 14m
        alertname: RustCrateVersionSpread
        exp_alerts: []
      - eval_time: 29m
        alertname: RustProgramRevisionDrift
        exp_alerts: []
      - eval_time: 16m
        alertname: RustCrateVersionSpread
        exp_alerts:
          - exp_labels: {severity: warning, name: codec}
            exp_annotations:
              summary: 'Crate codec runs in 3 versions'
              description: '3 distinct versions of codec run across the fleet (limit 2). `cargo depinfo spread --crate codec --prometheus URL` lists who runs which.'
      - eval_time: 31m
        alertname: RustProgramRevisionDrift
        exp_alerts:
          - exp_labels: {severity: warning, program: app}
            exp_annotations:
              summary: 'Program app runs 2 revisions'
              description: '2 revisions of app are running at once: a deploy has not finished everywhere. `count by (revision, instance) (app_build_info)` shows who runs which.'
"#;
    std::fs::write(dir.join("test.yml"), test).unwrap();
    testkit::test_rules(&dir, "test.yml");
}
