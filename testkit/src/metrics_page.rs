//! Large `/metrics` pages as busy services serve them, for the memory and speed tests of
//! scrapers: histograms (with exemplars in OpenMetrics), counters with `_created`, and
//! `rust_mod_info` and `<program>_build_info` series among them.

use std::fmt::Write as _;

/// What a generated page holds.
#[derive(Debug, Clone, Copy)]
pub struct PageSpec {
    /// Series in all (each sample line is one series), at least `mod_info + programs`.
    pub series: usize,
    /// How many of them are `rust_mod_info` series, all distinct and at value 1.
    pub mod_info: usize,
    /// Programs the `rust_mod_info` series are shared among (`svc-0`, `svc-1`, …), each with
    /// one `svc_N_build_info` series.
    pub programs: usize,
    /// The OpenMetrics text format (`# TYPE` of every family, exemplars on a third of the
    /// histogram buckets, `_created` series, `# EOF`) rather than the classic text format.
    pub open_metrics: bool,
}

/// The buckets of every histogram.
const BUCKETS: [&str; 11] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf",
];

/// The page `spec` describes; `rust_mod_info{program="svc-P",name="crate-N",version=…}` for
/// every `N < spec.mod_info`, P = N % programs.
pub fn metrics_page(spec: PageSpec) -> String {
    let mut page = String::with_capacity(spec.series * 130);
    let mut left = spec.series.saturating_sub(spec.mod_info + spec.programs);
    let om = spec.open_metrics;
    let programs = spec.programs.max(1);
    // Families of other exporters first, our families in the middle, more after them.
    let before = left / 2;
    left -= before;
    other_families(&mut page, before, om, 0);
    for p in 0..spec.programs {
        let _ = writeln!(page, "# HELP svc_{p}_build_info Build.");
        let _ = writeln!(page, "# TYPE svc_{p}_build_info gauge");
        let _ = writeln!(
            page,
            "svc_{p}_build_info{{branch=\"main\",revision=\"{p:040x}\",rustversion=\"1.95.0\",version=\"2.{p}.0\"}} 1"
        );
    }
    if spec.mod_info > 0 {
        if om {
            page.push_str("# TYPE rust_mod info\n# HELP rust_mod Crates.\n");
        } else {
            page.push_str("# HELP rust_mod_info Crates.\n# TYPE rust_mod_info gauge\n");
        }
    }
    for n in 0..spec.mod_info {
        let _ = writeln!(
            page,
            "rust_mod_info{{direct=\"{}\",name=\"crate-{n}\",program=\"svc-{}\",source=\"crates.io\",version=\"1.{}.{}\"}} 1",
            n % 3 == 0,
            n % programs,
            n % 40,
            n % 7
        );
    }
    other_families(&mut page, left, om, 1);
    if om {
        page.push_str("# EOF\n");
    }
    page
}

/// `count` series of histograms and counters, named apart by `part`.
fn other_families(page: &mut String, count: usize, om: bool, part: usize) {
    let mut written = 0;
    let mut family = 0;
    while written < count {
        let name = format!("http_server_p{part}_f{family}");
        family += 1;
        if family % 4 == 0 {
            // A counter: per route, `_total` (and `_created` in OpenMetrics).
            let _ = writeln!(page, "# HELP {name}_requests Requests served.");
            let _ = writeln!(page, "# TYPE {name}_requests counter");
            for route in 0..50 {
                if written >= count {
                    break;
                }
                let labels = format!("method=\"GET\",route=\"/api/v1/items/{route}\",code=\"200\"");
                let _ = writeln!(page, "{name}_requests_total{{{labels}}} {}", 1000 + route);
                written += 1;
                if om && written < count {
                    let _ = writeln!(page, "{name}_requests_created{{{labels}}} 1.7e9");
                    written += 1;
                }
            }
            continue;
        }
        let _ = writeln!(page, "# HELP {name}_duration_seconds Latency.");
        let _ = writeln!(page, "# TYPE {name}_duration_seconds histogram");
        if om {
            let _ = writeln!(page, "# UNIT {name}_duration_seconds seconds");
        }
        for route in 0..8 {
            let labels = format!("method=\"POST\",route=\"/api/v1/orders/{route}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                if written >= count {
                    return;
                }
                let _ = write!(
                    page,
                    "{name}_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    i * 17 + route
                );
                if om && i % 3 == 0 {
                    let _ = write!(
                        page,
                        " # {{trace_id=\"{:032x}\"}} 0.0{i} 1.7e9",
                        written * 7919
                    );
                }
                page.push('\n');
                written += 1;
            }
            for suffix in ["sum 12.5", "count 200"] {
                if written >= count {
                    return;
                }
                let (kind, value) = suffix.split_once(' ').unwrap_or((suffix, "0"));
                let _ = writeln!(page, "{name}_duration_seconds_{kind}{{{labels}}} {value}");
                written += 1;
            }
        }
    }
}
