//! `spread` and `affected` against a real Prometheus holding a large fleet (testkit's
//! `layout_fleet`, the one `catalog_scale` measures too): 1,000 instances of 20 programs, 300
//! crates each (300,000 `rust_mod_info` series), a few versions per crate and a canary tenth
//! of each program one patch ahead. Prints, from one run, what the server
//! itself takes (curl to /dev/null) for the `count by` query `spread` sends and for the raw
//! `rust_mod_info` answer, the naive path (curl the raw answer, then `jq` parses it), and the
//! release `cargo-depinfo` end to end (wall time, and peak RSS from `wait4`): `spread`,
//! `affected`, and `audit` against a generated database of 1,000 advisories.
//!
//! `spread` asks `count by (program, job, name, version) (rust_mod_info > 0)`: the server does
//! the counting (its `> 0` is the rule that a series at 0 does not run), and the answer is one
//! series per program, job and version (under 1 MiB here) instead of 300,000 (60 MiB),
//! so `spread` costs about the server's own evaluation of that query, which this prints.
//!
//! `cargo bench -p cargo-depinfo --bench fleet_scale`. Fails loudly when prometheus, curl or
//! jq is missing (scripts/test-all.sh installs them). The fleet is one page served from
//! 127.0.0.1 and scraped with `honor_labels: true`, so its `instance` labels stand.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::layout_fleet::{self as fleet, CRATES, INSTANCES};
use testkit::{Reply, Scratch, Server, installed, measured, url_encode};

const RUNS: usize = 3;
const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// The fleet's exposition (testkit's `layout_fleet`, every instance in generation 0): what
/// 1,000 instances' build-info-collector would serve of `rust_mod_info`, each series with its
/// `instance` and `job` labels.
fn fleet_page() -> String {
    // Each program's two builds (the canary's second), made once.
    let builds: Vec<[Vec<fleet::FleetCrate>; 2]> = (0..fleet::PROGRAMS)
        .map(|p| [fleet::crates(p, false), fleet::crates(p, true)])
        .collect();
    let mut page = String::with_capacity(INSTANCES * CRATES * 170);
    page.push_str("# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n# TYPE rust_mod_info gauge\n");
    for i in 0..INSTANCES {
        let member = fleet::member(i);
        let instance = fleet::instance(i, 0);
        let job = fleet::job(member.program);
        let program = fleet::program_name(member.program);
        for c in &builds[member.program][usize::from(member.canary)] {
            let _ = writeln!(
                page,
                "rust_mod_info{{direct=\"{}\",instance=\"{instance}\",job=\"{job}\",name=\"{}\",program=\"{program}\",source=\"{}\",version=\"{}\"}} 1",
                c.direct,
                c.name,
                fleet::SOURCE,
                c.version
            );
        }
    }
    page
}

/// 1,000 advisories in RustSec's layout over 600 crate names, every tenth of them one of the
/// fleet's pool (`crate-NNN`), the rest crates the fleet does not run.
fn write_db(db: &std::path::Path) {
    for a in 0..1_000 {
        let n = a % 600;
        let package = if n % 10 == 0 {
            format!("crate-{:03}", n * 3 / 4)
        } else {
            format!("other-{n:03}")
        };
        let dir = db.join("crates").join(&package);
        std::fs::create_dir_all(&dir).unwrap();
        let id = format!("RUSTSEC-2099-{a:04}");
        let kind = if a % 3 == 0 {
            "informational = \"unmaintained\"\n"
        } else {
            "cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n"
        };
        let text = format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-01\"\n{kind}\n[versions]\npatched = [\">= 1.{}.3\"]\n```\n\n# Advisory {a}\n\nText.\n",
            a % 3
        );
        std::fs::write(dir.join(format!("{id}.md")), text).unwrap();
    }
}

/// The median of `RUNS` timings of `f`.
fn median(mut f: impl FnMut() -> Duration) -> Duration {
    let mut t: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
    t.sort();
    t[RUNS / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // Measured commands run from a fresh copy of this bench: Linux counts in a child's peak
    // RSS the pages of the process it was forked from, and this one holds the fleet's page.
    testkit::answer_measure_request();
    installed("prometheus");
    let (curl, jq) = (installed("curl"), installed("jq"));
    let page = fleet_page();
    let page_mib = page.len() >> 20;
    let fleet = Server::start(move |path| {
        if path == "/metrics" {
            Reply::ok("text/plain; version=0.0.4; charset=utf-8", page.as_bytes())
        } else {
            Reply::not_found()
        }
    });
    let scratch = Scratch::new("fleet-scale");
    let config = scratch.join("prometheus.yml");
    // One scrape a minute: the first lands within a minute, later ones disturb little.
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 60s\n  scrape_timeout: 50s\nscrape_configs:\n  - job_name: fleet\n    honor_labels: true\n    static_configs:\n      - targets: ['{}']\n",
            fleet.host_port()
        ),
    )
    .unwrap();
    let (mut server, addr) = testkit::start_prometheus(&config, &scratch.join("data"));
    let base = format!("http://{addr}");
    let url = |q: &str| format!("{base}/api/v1/query?query={}", url_encode(q));
    let count_all = url("count(rust_mod_info)");
    let started = Instant::now();
    loop {
        let out = Command::new(&curl)
            .args(["-s", "--max-time", "10", &count_all])
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        if body.contains(&format!("\"{}\"", INSTANCES * CRATES)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "Prometheus did not scrape the fleet within 3 minutes: {body}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    println!(
        "fleet: {INSTANCES} instances x {CRATES} crates = {} series ({page_mib} MiB page), scraped in {:.0} s",
        INSTANCES * CRATES,
        started.elapsed().as_secs_f64()
    );

    let curl_to = |target: &str, out: &str| {
        let start = Instant::now();
        let ok = Command::new(&curl)
            .args(["-sf", "--compressed", "-o", out, target])
            .status()
            .unwrap()
            .success();
        assert!(ok, "curl {target}");
        start.elapsed()
    };
    let counted = url("count by (program, job, name, version) (rust_mod_info > 0)");
    let raw = url("rust_mod_info");
    let t_count = median(|| curl_to(&counted, "/dev/null"));
    let counted_file = scratch.join("counted.json");
    curl_to(&counted, &counted_file.display().to_string());
    let counted_kib = std::fs::metadata(&counted_file).map_or(0, |m| m.len() >> 10);
    // What the `> 0` filter (the value>0 rule, done by the server) costs.
    let unfiltered = url("count by (program, job, name, version) (rust_mod_info)");
    let t_unfiltered = median(|| curl_to(&unfiltered, "/dev/null"));
    let t_raw = median(|| curl_to(&raw, "/dev/null"));
    let answer = scratch.join("answer.json");
    let answer_s = answer.display().to_string();
    let t_naive_curl = median(|| curl_to(&raw, &answer_s));
    let raw_mib = std::fs::metadata(&answer).map_or(0, |m| m.len() >> 20);
    let t_jq = median(|| {
        let start = Instant::now();
        let out = Command::new(&jq)
            .args(["-r", ".data.result | length"])
            .arg(&answer)
            .output()
            .unwrap();
        assert!(out.status.success(), "jq");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            (INSTANCES * CRATES).to_string()
        );
        start.elapsed()
    });
    let naive = t_naive_curl + t_jq;
    println!(
        "server, count by (program, job, name, version) (rust_mod_info > 0) to /dev/null: {} ({counted_kib} KiB answer)",
        ms(t_count)
    );
    println!("server, the same without `> 0`: {}", ms(t_unfiltered));
    println!(
        "server, rust_mod_info ({raw_mib} MiB) to /dev/null: {}",
        ms(t_raw)
    );
    println!(
        "naive: curl rust_mod_info to a file {} + jq '.data.result | length' {} = {}",
        ms(t_naive_curl),
        ms(t_jq),
        ms(naive)
    );

    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let m = measured(&[DEPINFO, "spread", "--timeout", "120", "--prometheus", &base]);
        assert_eq!(m.code, 0, "spread: {}", m.stderr);
        runs.push((m.wall, m.peak_rss_kib));
    }
    runs.sort();
    let (spread_t, spread_rss) = runs[RUNS / 2];
    let spread_peak = runs.iter().map(|r| r.1).max().unwrap_or(0);
    println!(
        "cargo-depinfo spread --prometheus URL: {} wall ({:.2} x naive), peak RSS {} MiB (max of {RUNS} runs {} MiB)",
        ms(spread_t),
        spread_t.as_secs_f64() / naive.as_secs_f64(),
        spread_rss >> 10,
        spread_peak >> 10
    );
    let m = measured(&[
        DEPINFO,
        "affected",
        "crate-004",
        ">=1.1.0, <1.1.5",
        "--timeout",
        "120",
        "--prometheus",
        &base,
    ]);
    assert!(m.code == 0 || m.code == 1, "affected: {}", m.stderr);
    println!(
        "cargo-depinfo affected crate-004 '>=1.1.0, <1.1.5' --prometheus URL: {} wall, peak RSS {} MiB (exit {})",
        ms(m.wall),
        m.peak_rss_kib >> 10,
        m.code
    );
    // `audit` of the whole fleet against 1,000 advisories over 600 crates, 60 of which the
    // fleet runs (a real fleet's 300 crates meet a few dozen of the real database's ~600).
    let db = scratch.join("advisory-db");
    write_db(&db);
    let mut audits = Vec::new();
    for _ in 0..RUNS {
        let m = measured(&[
            DEPINFO,
            "audit",
            "--db",
            &db.display().to_string(),
            "--timeout",
            "120",
            "--prometheus",
            &base,
        ]);
        assert!(m.code == 0 || m.code == 1, "audit: {}", m.stderr);
        audits.push((m.wall, m.peak_rss_kib));
    }
    audits.sort();
    println!(
        "cargo-depinfo audit --db (1,000 advisories) --prometheus URL: {} wall, peak RSS {} MiB (median of {RUNS})",
        ms(audits[RUNS / 2].0),
        audits[RUNS / 2].1 >> 10
    );
    let verdict = spread_t.as_secs_f64() <= 0.4 * naive.as_secs_f64() && spread_peak >> 10 <= 150;
    println!(
        "target spread <= 0.4 x naive and peak <= 150 MiB: {}",
        if verdict { "met" } else { "NOT met" }
    );
    server.kill();
}
