//! A `/metrics` page of a million series, from the body's bytes to the observations, in at
//! most twice the page's size (the body included): the parser copies nothing and keeps only
//! our series. Its own test binary, since it installs the counting allocator. Prints the
//! figures (time per MB is for reading, not asserted; `--release` for real speed).
//!
//! Run with `--features test-util` (the page parser is public only then).
#![allow(missing_docs)]

use std::time::Instant;

use cargo_depinfo::network_parsers::page_observations;
use testkit::{PageSpec, metrics_page, peak_during};

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

/// Parses `page` from a fresh copy of its bytes (the body the client returns) and checks the
/// observations and the peak.
fn check(what: &str, spec: PageSpec, content_type: &str) {
    let page = metrics_page(spec);
    let lines = page.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(lines, spec.series, "the generator's count");
    let start = Instant::now();
    let (result, peak) = peak_during(|| {
        let body = page.as_bytes().to_vec();
        let observations = page_observations(&body, Some(content_type), "10.0.0.7:9100", "u");
        // The observations outlive the body, as they do in a scrape.
        drop(body);
        observations
    });
    let elapsed = start.elapsed();
    let observations = result.unwrap();
    #[allow(clippy::cast_precision_loss, reason = "figures to print")]
    let (mb, peak_mb, ratio) = (
        page.len() as f64 / 1e6,
        peak as f64 / 1e6,
        peak as f64 / page.len() as f64,
    );
    println!(
        "{what}: {} series, {mb:.1} MB page, {} observations, peak {:.1} MB ({:.2} x the page), {:.1} ms per MB",
        spec.series,
        observations.len(),
        peak_mb,
        ratio,
        elapsed.as_secs_f64() * 1e3 / mb,
    );
    assert_eq!(observations.len(), spec.mod_info);
    let o = observations.iter().find(|o| &*o.name == "crate-7").unwrap();
    assert_eq!(
        (
            o.runner.program.as_str(),
            o.runner.program_version.as_deref(),
            &*o.version,
            o.direct
        ),
        (
            format!("svc-{}", 7 % spec.programs).as_str(),
            Some(format!("2.{}.0", 7 % spec.programs).as_str()),
            "1.7.0",
            Some(false)
        )
    );
    assert!(
        peak <= 2 * page.len(),
        "{peak} bytes for a {} byte page",
        page.len()
    );
}

#[test]
fn a_million_series_open_metrics_page_with_exemplars_parses_within_twice_its_size() {
    check(
        "OpenMetrics",
        PageSpec {
            series: 1_000_000,
            mod_info: 3_000,
            programs: 10,
            open_metrics: true,
        },
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
}

#[test]
fn a_million_series_page_half_rust_mod_info_of_one_program_parses_within_twice_its_size() {
    check(
        "text, half rust_mod_info",
        PageSpec {
            series: 1_000_000,
            mod_info: 500_000,
            programs: 1,
            open_metrics: false,
        },
        "text/plain; version=0.0.4; charset=utf-8",
    );
}

// ---- the whole path: the server's answer to the question's output (issue 18) ----------

use cargo_depinfo::{SourceArgs, Spread, collect, write_spread_json};
use testkit::{Reply, Server};

/// Reads `args` as `spread --format json` does (sources, then the answer written as it is
/// made, here to nowhere) on this thread, and returns the peak of live heap bytes. One
/// source is read on the calling thread, so the counting allocator sees all of it.
fn spread_peak(args: &SourceArgs) -> (usize, usize, Vec<String>) {
    let ((observations, errors, written), peak) = peak_during(|| {
        let (observations, errors) = collect(args);
        let count = observations.len();
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let spread = Spread::new(observations, &[], None);
        let mut out = Counted(0);
        write_spread_json(&mut out, &spread, None, &errors, &[]).unwrap();
        (count, errors, out.0)
    });
    assert!(written > 0);
    (observations, peak, errors)
}

/// A writer that only counts.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Regression (issue 18, defect 12): a page of a million distinct `rust_mod_info` series
/// (85 MB) took 1.26 GB. The page is parsed as it arrives, the answer is made one crate at a
/// time and written as it is made: the whole path, from the socket to the JSON, stays within
/// twice the page (here 250,000 distinct series, for a debug build's time; the bench
/// `memory` measures the million, as the peak RSS of the command).
#[test]
fn a_page_of_distinct_series_is_answered_within_twice_its_size() {
    let spec = PageSpec {
        series: 250_000,
        mod_info: 250_000,
        programs: 10,
        open_metrics: false,
    };
    let page = metrics_page(spec);
    let size = page.len();
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", page));
    let mut args = SourceArgs::default();
    args.metrics.push(server.url("/metrics"));
    // A debug build, beside other tests.
    args.timeout = std::time::Duration::from_secs(120);
    let (observations, peak, errors) = spread_peak(&args);
    assert_eq!(
        (observations, errors),
        (spec.mod_info, Vec::<String>::new())
    );
    println!("{size} byte page: peak {peak} bytes");
    assert!(peak <= 2 * size, "{peak} bytes for a {size} byte page");
}

/// Regression (issue 18, defect 12): one 200 MB label took 1.0 GB. A series of ours with a
/// label value over the cap is skipped and counted (an error naming the page), the page's
/// other series count, and the page is never held: a 20 MB label costs the read buffer.
#[test]
fn a_huge_label_is_skipped_without_being_held() {
    let big = "n".repeat(20 << 20);
    let page = format!(
        "rust_mod_info{{name=\"{big}\",program=\"svc\",version=\"1.0.0\"}} 1\n\
         rust_mod_info{{name=\"serde\",program=\"svc\",version=\"1.0.219\"}} 1\n"
    );
    drop(big);
    let server = Server::fixed(Reply::ok("text/plain; version=0.0.4", page).chunked(1 << 20));
    let mut args = SourceArgs::default();
    args.metrics.push(server.url("/metrics"));
    // A debug build, beside other tests.
    args.timeout = std::time::Duration::from_secs(120);
    let (observations, peak, errors) = spread_peak(&args);
    assert_eq!(observations, 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].ends_with(
            "/metrics: 1 series skipped, the first at line 1: rust_mod_info: the line is longer than 65536 bytes"
        ),
        "{errors:?}"
    );
    assert!(peak < 2 << 20, "{peak} bytes for a 20 MB label");
}

/// An instant-vector answer: `foreign` series of another metric (each with `name` and
/// `version` labels) and ten of ours.
fn answer_with_foreign(foreign: usize) -> String {
    testkit::answer_with_foreign(
        foreign,
        (0..10).map(|n| {
            format!(
                r#"{{"metric":{{"__name__":"rust_mod_info","instance":"10.1.0.{n}:80","job":"svc","name":"crate-{n}","program":"svc","version":"1.0.0"}},"value":[1763770000.1,"1"]}}"#
            )
        }),
    )
}

/// Regression (issue 18, defect 12): an API answer of 500,000 series that are not ours took
/// 681 MB, every series kept whatever its name. Series of other metrics are dropped while the
/// answer is read, and the answer is never held: the peak does not grow with them.
#[test]
fn foreign_series_in_an_api_answer_cost_nothing() {
    let mut peaks = Vec::new();
    for foreign in [0, 100_000] {
        let server = Server::fixed(Reply::ok("application/json", answer_with_foreign(foreign)));
        let mut args = SourceArgs::default();
        args.prometheus.push(server.url(""));
        args.timeout = std::time::Duration::from_secs(120);
        let (observations, peak, errors) = spread_peak(&args);
        assert_eq!((observations, errors), (10, Vec::<String>::new()));
        peaks.push(peak);
    }
    println!("peaks with 0 and 100,000 foreign series: {peaks:?}");
    assert!(
        peaks[1] <= peaks[0] + (256 << 10),
        "{peaks:?}: the peak grows with series that are not ours"
    );
}
