//! Reading a `/metrics` page of a million series, from the body's bytes to the observations:
//! time per MB, for an OpenMetrics page with exemplars and 3,000 `rust_mod_info` series, and
//! for a classic text page where half the series are `rust_mod_info`. Prints its figures;
//! `cargo bench -p cargo-depinfo --features test-util --bench metrics_page`.

use std::time::Instant;

use cargo_depinfo::network_parsers::page_observations;
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
            "{what}: {mb:.1} MB in {:.1} ms, {:.2} ms per MB ({:.0} MB/s)",
            best * 1e3,
            best * 1e3 / mb,
            mb / best
        );
    }
}
