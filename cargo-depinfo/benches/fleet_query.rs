//! `affected` and `spread` over 5,000 `rust_mod_info` series from a Prometheus-API fixture
//! served on loopback: time per query, end to end through the library (HTTP, JSON decoding,
//! the build_info join, the answer). Prints its figures; `cargo bench -p cargo-depinfo --bench
//! fleet_query`.

use std::time::{Duration, Instant};

const INSTANCES: usize = 50;
const CRATES: usize = 100;
const RUNS: usize = 20;

fn main() {
    let (mod_info, build_info) = testkit::fleet_answers(INSTANCES, CRATES, 10);
    let kib = u32::try_from(mod_info.len() >> 10).unwrap_or(u32::MAX);
    let server = testkit::fleet_api(mod_info, build_info);

    let mut args = cargo_depinfo::SourceArgs::default();
    args.prometheus = vec![server.url("")];
    args.timeout = Duration::from_secs(30);
    let req = semver::VersionReq::parse(">=1.2.0, <1.2.2").unwrap();

    let time = |what: &str, f: &mut dyn FnMut() -> usize| {
        let mut times = Vec::with_capacity(RUNS);
        let mut answer = 0;
        for _ in 0..RUNS {
            let start = Instant::now();
            answer = std::hint::black_box(f());
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{what:<11} {} series ({kib} KiB of JSON): median {:.1} ms, min {:.1} ms, max {:.1} ms over {RUNS} runs ({answer} results)",
            INSTANCES * CRATES,
            times[RUNS / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[RUNS - 1].as_secs_f64() * 1e3,
        );
    };
    time("affected", &mut || {
        let (observations, errors) = cargo_depinfo::collect(&args);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(observations.len(), INSTANCES * CRATES);
        cargo_depinfo::affected(&observations, "crate-002", &req).len()
    });
    time("spread", &mut || {
        let (observations, errors) = cargo_depinfo::collect(&args);
        assert!(errors.is_empty(), "{errors:?}");
        cargo_depinfo::spread(&observations, &[], Some(2)).len()
    });
    // Without the network: decoding and answering only.
    let (observations, _) = cargo_depinfo::collect(&args);
    time("spread-only", &mut || {
        cargo_depinfo::spread(&observations, &[], None).len()
    });
}
