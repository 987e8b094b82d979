//! `audit` at fleet size: a generated advisory database of 1,000 advisories in RustSec's
//! layout (loading it is timed on its own), and 1,000 instances x 300 crates read from a
//! Prometheus-API fixture on loopback (reading is timed on its own too), then matched. Prints
//! time and peak heap (counting allocator) of each step; `cargo bench -p cargo-depinfo --bench
//! audit`. With `AUDIT_BENCH_DB=PATH` (a clone of the real database), loading that one is timed
//! as well.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use testkit::{CountingAllocator, peak_during};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const ADVISORIES: usize = 1_000;
const INSTANCES: usize = 1_000;
const CRATES: usize = 300;

/// Writes `ADVISORIES` advisories over 600 crate names, half of them crates the fleet runs:
/// vulnerabilities with a CVSS vector, `patched` and `unaffected` ranges, and informational
/// ones, as the real database mixes them.
fn write_db(db: &Path) {
    for a in 0..ADVISORIES {
        let package = format!("crate-{:03}", a % 600);
        let dir = db.join("crates").join(&package);
        std::fs::create_dir_all(&dir).unwrap();
        let id = format!("RUSTSEC-2099-{a:04}");
        let mut toml = format!(
            "[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\nurl = \"https://example.invalid/{id}\"\ncategories = [\"memory-corruption\"]\nkeywords = [\"bench\"]\naliases = [\"CVE-2099-{a:04}\"]\n"
        );
        if a % 3 == 0 {
            toml.push_str("informational = \"unmaintained\"\n");
        } else {
            toml.push_str("cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n");
        }
        let _ = write!(
            toml,
            "\n[versions]\npatched = [\">= 1.{}.2\"]\nunaffected = [\"< 1.0.0\"]\n",
            a % 4
        );
        let text = format!(
            "```toml\n{toml}```\n\n# Advisory {a}\n\nA description of a few lines, as real advisories have.\n\nMore text.\n"
        );
        std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
    }
}

fn mib(bytes: usize) -> f64 {
    // Display only.
    #[allow(clippy::cast_precision_loss, reason = "a figure to print")]
    let b = bytes as f64;
    b / f64::from(1 << 20)
}

fn main() {
    let dir = testkit::Scratch::new("audit-bench");
    let db_path = dir.join("db");
    write_db(&db_path);
    let start = Instant::now();
    let ((db, errors), db_peak) = peak_during(|| {
        cargo_depinfo::Database::load(&db_path, cargo_depinfo::DbLimits::default()).unwrap()
    });
    let load = start.elapsed();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(db.advisories().len(), ADVISORIES);
    println!(
        "load        {ADVISORIES} generated advisories: {:.1} ms, peak heap {:.1} MiB",
        load.as_secs_f64() * 1e3,
        mib(db_peak)
    );
    if let Some(real) = std::env::var_os("AUDIT_BENCH_DB") {
        let start = Instant::now();
        let ((real_db, errors), peak) = peak_during(|| {
            cargo_depinfo::Database::load(Path::new(&real), cargo_depinfo::DbLimits::default())
                .unwrap()
        });
        println!(
            "load        the real database ({} advisories, {} refused): {:.1} ms, peak heap {:.1} MiB",
            real_db.advisories().len(),
            errors.len(),
            start.elapsed().as_secs_f64() * 1e3,
            mib(peak)
        );
    }

    let (mod_info, build_info) = testkit::fleet_answers(INSTANCES, CRATES, 20);
    let body_mib = mib(mod_info.len());
    let server = testkit::fleet_api(mod_info, build_info);
    let mut args = cargo_depinfo::SourceArgs::default();
    args.prometheus = vec![server.url("")];
    args.timeout = Duration::from_secs(120);
    let start = Instant::now();
    let ((observations, errors), read_peak) = peak_during(|| cargo_depinfo::collect(&args));
    let read = start.elapsed();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(observations.len(), INSTANCES * CRATES);
    println!(
        "read        {} series ({body_mib:.0} MiB of JSON) from a loopback Prometheus API: {:.0} ms, peak heap {:.1} MiB",
        observations.len(),
        read.as_secs_f64() * 1e3,
        mib(read_peak)
    );

    let options = cargo_depinfo::AuditOptions::default();
    let mut match_times = Vec::new();
    let mut render_times = Vec::new();
    let mut peak = 0;
    let mut found = (0, 0, 0);
    for _ in 0..5 {
        let ((), p) = peak_during(|| {
            let start = Instant::now();
            let answer = cargo_depinfo::audit(&observations, &db, &options);
            match_times.push(start.elapsed());
            let start = Instant::now();
            let json = cargo_depinfo::audit_json(&answer, &db, 0, &[]);
            render_times.push(start.elapsed());
            found = (
                answer.vulnerabilities.len(),
                answer.informational.len(),
                json.len(),
            );
        });
        peak = peak.max(p);
    }
    match_times.sort();
    render_times.sort();
    println!(
        "match       {INSTANCES} instances x {CRATES} crates against {ADVISORIES} advisories: median {:.0} ms, max {:.0} ms over 5 runs ({} vulnerabilities, {} informational)",
        match_times[2].as_secs_f64() * 1e3,
        match_times[4].as_secs_f64() * 1e3,
        found.0,
        found.1
    );
    println!(
        "render      JSON of that answer ({:.1} MiB): median {:.0} ms; peak heap of match and render {:.1} MiB",
        mib(found.2),
        render_times[2].as_secs_f64() * 1e3,
        mib(peak)
    );
    let times = &match_times;
    println!(
        "total       load + read + match: {:.0} ms",
        (load + read + times[2]).as_secs_f64() * 1e3
    );
}
