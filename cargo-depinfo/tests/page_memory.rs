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
