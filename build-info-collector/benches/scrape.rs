//! Scrape cost of build_info plus 300 rust_mod_info series, the memory the collector holds, and
//! what each layout costs per instance.
//!
//! `cargo bench -p build-info-collector --all-features --bench scrape` prints ns per scrape:
//! - through `prometheus::TextEncoder` (registry gather + encode): our collector and the same
//!   series as naive `GaugeVec`s;
//! - through `prometheus_client::encoding::text::encode`: our collector and the same series as
//!   naive `Family<Vec<(String, String)>, Gauge>`s;
//! - the pre-rendered text copied into a response buffer, against a plain copy of the same bytes.
//!
//! The memory figure is counted by the allocator: the bytes still allocated after the collector
//! is built, less those allocated before, so it covers everything the collector holds.
//!
//! Then, per layout (full, catalog, direct; 20 of the 300 crates are direct): the exposition
//! bytes and series per instance, the dependency-list document's size, and the time to build
//! the collector (which chooses the crates, writes the list and hashes it once).

use std::hint::black_box;
use std::time::{Duration, Instant};

use build_info_collector::{BuildInfoCollector, Layout};
use buildinfo::{BuildInfo, DependencyKind};

// The fixture builder the tests use; the bench needs only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/support/fixture.rs"]
mod fixture;

use fixture::{Facts, Row, build, facts};

const CRATES: usize = 300;
/// Every fifteenth crate is direct: 20 direct dependencies.
const DIRECT_EVERY: usize = 15;

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

/// A build with `CRATES` runtime dependencies (every fifteenth direct) and its root.
fn build_with_300_crates() -> &'static BuildInfo {
    let names: Vec<(String, String)> = (0..CRATES)
        .map(|i| {
            (
                format!("crate-{i:03}"),
                format!("{}.{}.{}", i % 3, i % 17, i % 101),
            )
        })
        .collect();
    let mut rows: Vec<Row<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, (name, version))| {
            let flags = if i % DIRECT_EVERY == 0 { "RD-" } else { "RT-" };
            (name.as_str(), version.as_str(), "crates.io", flags)
        })
        .collect();
    rows.push(("zz-service", "1.4.2", "local", "RT*"));
    build(
        Facts {
            program: "zz-service",
            ..facts()
        },
        &rows,
    )
}

/// Median ns per call over 7 rounds of about 200 ms each, after a warm-up.
fn ns_per_call(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut warm = 0_u32;
    while start.elapsed() < Duration::from_millis(100) {
        f();
        warm += 1;
    }
    let per_round = (f64::from(warm) * 2.0).max(10.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let iters = per_round as u32;
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() * 1e9 / f64::from(iters)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[3]
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

fn prometheus_naive(info: &'static BuildInfo, deps: &str) -> prometheus::Registry {
    use prometheus::{GaugeVec, Opts};
    let registry = prometheus::Registry::new();
    let build = GaugeVec::new(
        Opts::new(
            "zz_service_build_info",
            "A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which zz-service was built.",
        ),
        &["branch", "features", "profile", "revision", "rustversion", "target", "version"],
    )
    .unwrap();
    build
        .with_label_values(&[
            info.branch(),
            info.features(),
            info.profile(),
            info.revision_label(),
            info.rust_version(),
            info.target(),
            info.version(),
        ])
        .set(1.0);
    let mods = GaugeVec::new(
        Opts::new("rust_mod_info", build_info_collector::RUST_MOD_INFO_HELP),
        &["direct", "name", "program", "source", "version"],
    )
    .unwrap();
    for p in info.packages().dependencies() {
        if p.kind() == DependencyKind::Runtime {
            mods.with_label_values(&[
                if p.is_direct() { "true" } else { "false" },
                p.name(),
                info.program(),
                p.source().as_str(),
                p.version(),
            ])
            .set(1.0);
        }
    }
    let rust_build = GaugeVec::new(
        Opts::new(
            "rust_build_info",
            build_info_collector::RUST_BUILD_INFO_HELP,
        ),
        &["deps", "layout", "program", "revision", "version"],
    )
    .unwrap();
    rust_build
        .with_label_values(&[
            deps,
            "full",
            info.program(),
            info.revision_label(),
            info.version(),
        ])
        .set(1.0);
    registry.register(Box::new(build)).unwrap();
    registry.register(Box::new(rust_build)).unwrap();
    registry.register(Box::new(mods)).unwrap();
    registry
}

fn prometheus_client_naive(
    info: &'static BuildInfo,
    deps: &str,
) -> prometheus_client::registry::Registry {
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::Gauge;
    type Labels = Vec<(String, String)>;
    let pairs = |pairs: &[(&str, &str)]| -> Labels {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    };
    let mut registry = prometheus_client::registry::Registry::default();
    let build = Family::<Labels, Gauge>::default();
    build
        .get_or_create(&pairs(&[
            ("branch", info.branch()),
            ("features", info.features()),
            ("profile", info.profile()),
            ("revision", info.revision_label()),
            ("rustversion", info.rust_version()),
            ("target", info.target()),
            ("version", info.version()),
        ]))
        .set(1);
    let rust_build = Family::<Labels, Gauge>::default();
    rust_build
        .get_or_create(&pairs(&[
            ("deps", deps),
            ("layout", "full"),
            ("program", info.program()),
            ("revision", info.revision_label()),
            ("version", info.version()),
        ]))
        .set(1);
    let mods = Family::<Labels, Gauge>::default();
    for p in info.packages().dependencies() {
        if p.kind() == DependencyKind::Runtime {
            mods.get_or_create(&pairs(&[
                ("direct", if p.is_direct() { "true" } else { "false" }),
                ("name", p.name()),
                ("program", info.program()),
                ("source", p.source().as_str()),
                ("version", p.version()),
            ]))
            .set(1);
        }
    }
    // Registry::register appends the final '.' to the HELP text itself.
    registry.register(
        "zz_service_build_info",
        "A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which zz-service was built",
        build,
    );
    registry.register(
        "rust_build_info",
        build_info_collector::RUST_BUILD_INFO_HELP.trim_end_matches('.'),
        rust_build,
    );
    registry.register(
        "rust_mod_info",
        build_info_collector::RUST_MOD_INFO_HELP.trim_end_matches('.'),
        mods,
    );
    registry
}

fn main() {
    let info = build_with_300_crates();
    let (collector, heap) = testkit::held_after(|| BuildInfoCollector::new(info));
    assert_eq!(collector.crate_count(), CRATES);
    let expected = collector.exposition().to_owned();
    let deps = collector.deps_list().unwrap().digest().to_owned();

    // prometheus: registry gather + TextEncoder, ours and naive.
    let encoder = prometheus::TextEncoder::new();
    let ours = prometheus::Registry::new();
    ours.register(Box::new(collector.clone())).unwrap();
    let naive = prometheus_naive(info, &deps);
    let mut buf = String::with_capacity(expected.len() * 2);
    encoder.encode_utf8(&ours.gather(), &mut buf).unwrap();
    assert!(buf == expected, "the registry gives the pre-rendered text");
    buf.clear();
    encoder.encode_utf8(&naive.gather(), &mut buf).unwrap();
    assert!(buf == expected, "the naive GaugeVecs give the same text");
    let prom_ours = ns_per_call(|| {
        buf.clear();
        encoder.encode_utf8(&ours.gather(), &mut buf).unwrap();
        black_box(&buf);
    });
    let gather_ours = ns_per_call(|| {
        black_box(ours.gather());
    });
    let gather_naive = ns_per_call(|| {
        black_box(naive.gather());
    });
    let prom_naive = ns_per_call(|| {
        buf.clear();
        encoder.encode_utf8(&naive.gather(), &mut buf).unwrap();
        black_box(&buf);
    });

    // prometheus-client: text::encode, ours and naive.
    let mut client_ours = prometheus_client::registry::Registry::default();
    client_ours.register_collector(Box::new(collector.clone()));
    let client_naive = prometheus_client_naive(info, &deps);
    buf.clear();
    prometheus_client::encoding::text::encode(&mut buf, &client_ours).unwrap();
    assert!(
        buf == format!("{expected}# EOF\n"),
        "prometheus-client gives the same text"
    );
    buf.clear();
    prometheus_client::encoding::text::encode(&mut buf, &client_naive).unwrap();
    let with_eof = format!("{expected}# EOF\n");
    let (got, want) = (sorted_lines(&buf), sorted_lines(&with_eof));
    let differ: Vec<_> = got
        .iter()
        .zip(&want)
        .filter(|(a, b)| a != b)
        .take(3)
        .collect();
    assert!(
        got == want,
        "the naive families give the same series (in hash order): {differ:?}"
    );
    let client_ours_ns = ns_per_call(|| {
        buf.clear();
        prometheus_client::encoding::text::encode(&mut buf, &client_ours).unwrap();
        black_box(&buf);
    });
    let client_naive_ns = ns_per_call(|| {
        buf.clear();
        prometheus_client::encoding::text::encode(&mut buf, &client_naive).unwrap();
        black_box(&buf);
    });

    // The pre-rendered text copied into a response buffer, against copying the same bytes.
    let plain: Vec<u8> = expected.clone().into_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(plain.len());
    let pre_rendered = ns_per_call(|| {
        out.clear();
        out.extend_from_slice(black_box(&collector).exposition().as_bytes());
        black_box(&out);
    });
    let memcpy = ns_per_call(|| {
        out.clear();
        out.extend_from_slice(black_box(plain.as_slice()));
        black_box(&out);
    });

    let total = heap + size_of::<BuildInfoCollector>();
    println!(
        "scrape of zz_service_build_info + rust_build_info + {CRATES} rust_mod_info series ({} bytes of text)",
        expected.len()
    );
    println!("  prometheus TextEncoder (gather + encode):");
    println!("    BuildInfoCollector      {prom_ours:>10.0} ns");
    println!(
        "    naive GaugeVec          {prom_naive:>10.0} ns   ({:.2}x ours)",
        prom_naive / prom_ours
    );
    println!("    of which Registry::gather alone:");
    println!("      BuildInfoCollector    {gather_ours:>10.0} ns");
    println!(
        "      naive GaugeVec        {gather_naive:>10.0} ns   ({:.2}x ours)",
        gather_naive / gather_ours
    );
    println!("  prometheus-client text::encode:");
    println!("    BuildInfoCollector      {client_ours_ns:>10.0} ns");
    println!(
        "    naive Family<_, Gauge>  {client_naive_ns:>10.0} ns   ({:.2}x ours)",
        client_naive_ns / client_ours_ns
    );
    println!("  pre-rendered text:");
    println!("    exposition() copied     {pre_rendered:>10.0} ns");
    println!(
        "    plain memcpy            {memcpy:>10.0} ns   (pre-rendered is {:.2}x memcpy)",
        pre_rendered / memcpy
    );
    println!(
        "memory held by the collector for {CRATES} series: {total} bytes (~{:.1} KiB), of which {} bytes pre-rendered text",
        f64::from(u32::try_from(total).unwrap_or(u32::MAX)) / 1024.0,
        expected.len()
    );

    layouts(info);
}

/// Per layout: bytes and series per instance, checked against the layout's definition, and
/// what building the collector costs.
fn layouts(info: &'static BuildInfo) {
    let direct = CRATES.div_ceil(DIRECT_EVERY);
    println!(
        "per instance, {CRATES} crates of which {direct} direct (exposition bytes as scraped, HELP and TYPE lines included):"
    );
    let mut full_bytes = 0;
    for layout in Layout::ALL {
        let collector = BuildInfoCollector::builder(info)
            .layout(layout)
            .build()
            .unwrap();
        let text = collector.exposition();
        let series = text.lines().filter(|l| !l.starts_with('#')).count();
        let crate_series = match layout {
            Layout::Full => CRATES,
            Layout::Catalog => 0,
            _ => direct,
        };
        assert_eq!(series, 2 + crate_series, "{layout}");
        assert_eq!(collector.crate_count(), crate_series, "{layout}");
        // Every layout reads the same list into the same digest.
        let list = collector.deps_list().unwrap();
        assert_eq!(list.len(), CRATES);
        if layout == Layout::Full {
            full_bytes = text.len();
        }
        let build = ns_per_call(|| {
            black_box(
                BuildInfoCollector::builder(info)
                    .layout(layout)
                    .build()
                    .unwrap(),
            );
        });
        #[allow(clippy::cast_precision_loss)]
        let share = text.len() as f64 / full_bytes as f64;
        println!(
            "  {:<8} {series:>4} series  {:>7} bytes  ({:>5.1}% of full)   built in {:>8.0} ns",
            layout.as_str(),
            text.len(),
            share * 100.0,
            build,
        );
    }
    let collector = BuildInfoCollector::new(info);
    let list = collector.deps_list().unwrap();
    let hash = ns_per_call(|| {
        black_box(build_info_collector::digest_of(black_box(
            list.text().as_bytes(),
        )));
    });
    println!(
        "dependency list for {CRATES} crates: {} bytes (served once per distinct build at /deps/<digest>), digest computed in {hash:.0} ns",
        list.text().len()
    );
}
