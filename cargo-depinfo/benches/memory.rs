//! The peak RSS of the whole `cargo-depinfo` command (from `wait4`, output to `/dev/null`)
//! against hostile or huge answers served from loopback (issue 18, defect 12):
//!
//! - a `/metrics` page of 1,000,000 distinct `rust_mod_info` series, read by `spread
//!   --metrics URL --format json`, and the same series as a Prometheus API `count by` answer
//!   (`spread --prometheus URL --format json`): goal ≤ 2 × the page's size;
//! - a page whose one `rust_mod_info` series carries a 200 MB label;
//! - Prometheus API answers holding 0, 100,000 and 500,000 series that are not ours (another
//!   `__name__`) beside 1,000 of ours: goal flat in the number of foreign series;
//! - 2,000 `/metrics` sources that accept and never answer, with `--timeout 1`;
//! - beyond the goals: a page where every series names another program, with its
//!   build_info series (one runner per program is what the answer needs).
//!
//! `cargo bench -p cargo-depinfo --bench memory -- page` (or `label`, `foreign`, `silent`,
//! `programs`) runs one case.
//!
//! Prints, for each: the input's size, the peak RSS, their ratio, the wall time and the exit
//! code. `cargo bench -p cargo-depinfo --bench memory` (release; a few minutes, several GB of
//! generated input held by the bench, not by the measured command).

use std::fmt::Write as _;
use std::net::TcpListener;

use testkit::{Measured, PageSpec, Reply, Server, measured, metrics_page};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const JSON: &str = "application/json";

#[allow(clippy::cast_precision_loss, reason = "figures to print")]
fn report(what: &str, input_bytes: usize, m: &Measured) {
    let rss = m.peak_rss_bytes() as f64;
    let ratio = if input_bytes == 0 {
        String::from("-")
    } else {
        format!("{:.2}", rss / input_bytes as f64)
    };
    println!(
        "{what}: input {:.1} MB, peak RSS {:.1} MB (x{ratio} the input), {:.2} s, exit {}",
        input_bytes as f64 / 1e6,
        rss / 1e6,
        m.wall.as_secs_f64(),
        m.code,
    );
    let stderr: Vec<&str> = m.stderr.lines().take(3).collect();
    if !stderr.is_empty() {
        println!("    stderr: {}", stderr.join(" | "));
    }
}

/// Reports what `spread SOURCE URL --format json` costs over `body`, served from a loopback
/// server as a `/metrics` page (`--metrics`) or as an answer of Prometheus' API
/// (`--prometheus`).
fn report_served(what: &str, source: &str, body: String) {
    let size = body.len();
    let (content_type, path) = if source == "--metrics" {
        (TEXT, "/metrics")
    } else {
        (JSON, "")
    };
    let server = Server::fixed(Reply::ok(content_type, body));
    let m = measured(&[
        DEPINFO,
        "spread",
        source,
        &server.url(path),
        "--format",
        "json",
    ]);
    report(what, size, &m);
}

/// A `count by (program, job, name, version)` answer for the `rust_mod_info` series of
/// `spec`'s page, as Prometheus would give it for one job.
fn count_answer(mod_info: usize, programs: usize) -> String {
    let mut out = String::with_capacity(mod_info * 120);
    out.push_str(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    for n in 0..mod_info {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"metric":{{"job":"svc","name":"crate-{n}","program":"svc-{}","version":"1.{}.{}"}},"value":[1763770000.123,"1"]}}"#,
            n % programs,
            n % 40,
            n % 7
        );
    }
    out.push_str("]}}");
    out
}

/// An instant-vector answer with `foreign` series of other metrics (each with `name` and
/// `version` labels, as a careless or hostile server could send) and 1,000 of ours, counted.
fn foreign_answer(foreign: usize) -> String {
    testkit::answer_with_foreign(
        foreign,
        (0..1_000).map(|n| {
            format!(
                r#"{{"metric":{{"job":"svc","name":"crate-{n}","program":"svc-{}","version":"1.{}.0"}},"value":[1763770000.123,"3"]}}"#,
                n % 10,
                n % 4
            )
        }),
    )
}

fn main() {
    testkit::answer_measure_request();
    let args: Vec<String> = std::env::args().collect();
    let only = |name: &str| {
        args.iter().skip(1).all(|a| a.starts_with('-')) || args.iter().any(|a| a == name)
    };

    if only("page") {
        let spec = PageSpec {
            series: 1_000_000,
            mod_info: 1_000_000,
            programs: 10,
            open_metrics: false,
        };
        report_served(
            "1M distinct rust_mod_info series, spread --metrics --format json",
            "--metrics",
            metrics_page(spec),
        );
        report_served(
            "1M distinct series counted, spread --prometheus --format json",
            "--prometheus",
            count_answer(spec.mod_info, spec.programs),
        );
    }

    if only("programs") {
        // Beyond the goal: every series names another program, each with its build_info
        // series (a runner per program is what the answer needs).
        let spec = PageSpec {
            series: 1_000_000,
            mod_info: 500_000,
            programs: 500_000,
            open_metrics: false,
        };
        report_served(
            "500,000 programs with one series and a build_info each, spread --metrics --format json",
            "--metrics",
            metrics_page(spec),
        );
    }

    if only("label") {
        let big = "a".repeat(200_000_000);
        let page = format!(
            "# TYPE rust_mod_info gauge\n\
             rust_mod_info{{name=\"{big}\",program=\"svc\",version=\"1.0.0\"}} 1\n\
             rust_mod_info{{name=\"serde\",program=\"svc\",version=\"1.0.0\"}} 1\n"
        );
        drop(big);
        report_served(
            "one 200 MB label, spread --metrics --format json",
            "--metrics",
            page,
        );
    }

    if only("foreign") {
        for foreign in [0, 100_000, 500_000] {
            report_served(
                &format!(
                    "{foreign} foreign series + 1,000 ours, spread --prometheus --format json"
                ),
                "--prometheus",
                foreign_answer(foreign),
            );
        }
    }

    if only("silent") {
        // Listeners that never accept: the kernel completes each connection in the backlog,
        // and the request is never answered.
        let listeners: Vec<TcpListener> = (0..2_000)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
            .collect();
        let urls: Vec<String> = listeners
            .iter()
            .map(|l| format!("http://{}/metrics", l.local_addr().expect("bound")))
            .collect();
        let mut cmd: Vec<&str> = vec![DEPINFO, "spread", "--format", "json", "--timeout", "1"];
        for url in &urls {
            cmd.push("--metrics");
            cmd.push(url);
        }
        let m = measured(&cmd);
        report("2,000 silent sources, --timeout 1", 0, &m);
        drop(listeners);
    }
}
