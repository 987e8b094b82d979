//! Reading a `/metrics` page of a million series, from the body's bytes to the observations:
//! time per MB, for an OpenMetrics page with exemplars and 3,000 `rust_mod_info` series, and
//! for a classic text page where half the series are `rust_mod_info`. Prints its figures;
//! `cargo bench -p cargo-depinfo --features test-util --bench metrics_page`.

use std::time::Instant;

use cargo_depinfo::network_parsers::{Format, page_observations, parse_exposition};
use testkit::{PageSpec, metrics_page};

const RUNS: usize = 5;

fn main() {
    for (what, spec, content_type) in [
        (
            "OpenMetrics, exemplars, 3,000 rust_mod_info",
            PageSpec {
                series: 1_000_000,
                mod_info: 3_000,
                programs: 10,
                open_metrics: true,
            },
            "application/openmetrics-text; version=1.0.0",
        ),
        (
            "text, 500,000 rust_mod_info of one program",
            PageSpec {
                series: 1_000_000,
                mod_info: 500_000,
                programs: 1,
                open_metrics: false,
            },
            "text/plain; version=0.0.4",
        ),
    ] {
        let page = metrics_page(spec);
        // The parser alone: our samples found and checked, their labels read, nothing kept.
        let format = Format::from_content_type(Some(content_type));
        let mut parse_best = f64::INFINITY;
        for _ in 0..RUNS {
            let start = Instant::now();
            let mut labels = 0;
            parse_exposition(
                page.as_bytes(),
                format,
                |n| n == "rust_mod_info" || n.ends_with("_build_info"),
                |s| labels += s.labels().count(),
            )
            .expect("a valid page");
            parse_best = parse_best.min(start.elapsed().as_secs_f64());
            assert!(labels >= 5 * spec.mod_info);
        }
        let mut best = f64::INFINITY;
        for _ in 0..RUNS {
            let start = Instant::now();
            let observations =
                page_observations(page.as_bytes(), Some(content_type), "10.0.0.7:9100", "u")
                    .expect("a valid page");
            best = best.min(start.elapsed().as_secs_f64());
            assert_eq!(observations.len(), spec.mod_info);
        }
        #[allow(clippy::cast_precision_loss, reason = "a figure to print")]
        let mb = page.len() as f64 / 1e6;
        println!(
            "{what}: {mb:.1} MB in {:.1} ms, {:.2} ms per MB ({:.0} MB/s); parsing alone {:.2} ms per MB",
            best * 1e3,
            best * 1e3 / mb,
            mb / best,
            parse_best * 1e3 / mb,
        );
    }
}
