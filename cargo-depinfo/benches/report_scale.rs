//! The HTML report at the issue's scale: 1,000 instances of 20 builds × 300 crates (10
//! programs at two versions each, crates drawn from a pool of 450 names) with advisories
//! from a database in RustSec's layout, twice: with the spread of versions fleets have (about
//! 1.5 versions per crate), and with the worst one (each build its own crates at versions of
//! its own, about 8 per crate). Built in-process
//! as `cargo depinfo report` builds it: each instance's `/metrics` page text through the page
//! reader, then `FleetReport`, the audit, and `report_html`.
//!
//! Prints the page's size and the time to render it in Rust, then opens it in a real browser
//! (Debian's `chromium-headless-shell`, `testkit::Browser`) five times and prints the medians
//! of the first contentful paint and of the load event, and whether the targets hold (≤ 2 MB,
//! ≤ 1 s to first render). It asserts no timing. It writes the page to
//! `target/report-bench.html` and a full-page screenshot to `target/report-bench.png` (the worst
//! case: `report-bench-wide.*`):
//! `cargo bench -p cargo-depinfo --features test-util --bench report_scale`.

use std::fmt::Write as _;
use std::time::Instant;

use cargo_depinfo::network_parsers::page_observations;
use cargo_depinfo::{AuditOptions, Database, DbLimits, FleetReport, audit, report_html};
use testkit::{Browser, Scratch};

/// Instances in the fleet.
const INSTANCES: usize = 1_000;
/// Programs; each runs at two versions (two builds).
const PROGRAMS: usize = 10;
/// Builds: program `b / 2` at version `1.b%2.0`.
const BUILDS: usize = 2 * PROGRAMS;
/// Crates each build links.
const CRATES: usize = 300;
/// The crate names the builds draw from.
const POOL: usize = 450;
/// Crates with an advisory (the first ones of the pool, which every build links some of).
const ADVISORIES: usize = 6;
/// Renders and page loads measured.
const RUNS: usize = 5;

/// The targets of the issue.
const MAX_BYTES: usize = 2_000_000;
const MAX_FIRST_RENDER_MS: f64 = 1_000.0;

/// How the builds' crate versions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spread {
    /// As fleets are: a program's two builds link the same crates, and a crate runs at one
    /// version in two thirds of the pool, two or three in the rest (about 1.5 versions per
    /// crate).
    Typical,
    /// The worst case: every build links its own window of the pool, at versions of its own
    /// (about 8 versions per crate).
    Wide,
}

/// The crates of build `b`: 300 consecutive names of the pool from an offset of its
/// program's (typical) or its own (wide), at the versions `spread` gives.
fn crates(b: usize, spread: Spread) -> Vec<(String, String)> {
    (0..CRATES)
        .map(|k| match spread {
            Spread::Typical => {
                let c = ((b / 2) * 15 + k) % POOL;
                let versions = if c.is_multiple_of(9) {
                    3
                } else if c.is_multiple_of(3) {
                    2
                } else {
                    1
                };
                (
                    format!("crate-{c:03}"),
                    format!("{}.{}.{}", c % 4, b % versions, c % 17),
                )
            }
            Spread::Wide => {
                let c = (b * 17 + k) % POOL;
                (
                    format!("crate-{c:03}"),
                    format!("1.{}.{}", (c + b / 3) % 5, b % 2),
                )
            }
        })
        .collect()
}

/// The `/metrics` page of build `b`, as the collector serves it.
fn page(b: usize, spread: Spread) -> String {
    let program = b / 2;
    let mut page = String::new();
    let _ = writeln!(page, "# TYPE svc_{program:02}_build_info gauge");
    let _ = writeln!(
        page,
        "svc_{program:02}_build_info{{branch=\"main\",revision=\"{b:040x}\",rustversion=\"1.95.0\",version=\"1.{}.0\"}} 1",
        b % 2
    );
    page.push_str("# TYPE rust_mod_info gauge\n");
    for (name, version) in crates(b, spread) {
        let _ = writeln!(
            page,
            "rust_mod_info{{name=\"{name}\",program=\"svc-{program:02}\",source=\"crates.io\",version=\"{version}\"}} 1"
        );
    }
    page
}

/// A database of [`ADVISORIES`] advisories: `crate-00N` before 1.3.0 is vulnerable.
fn database(dir: &std::path::Path) -> Database {
    for n in 0..ADVISORIES {
        let name = format!("crate-{n:03}");
        let crate_dir = dir.join("crates").join(&name);
        std::fs::create_dir_all(&crate_dir).unwrap();
        let severity = [
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "AV:N/AC:H/PR:L/UI:R/S:U/C:L/I:N/A:N",
        ][n % 2];
        std::fs::write(
            crate_dir.join(format!("RUSTSEC-2099-{:04}.md", n + 1)),
            format!(
                "```toml\n[advisory]\nid = \"RUSTSEC-2099-{:04}\"\npackage = \"{name}\"\ndate = \"2099-01-02\"\ncvss = \"CVSS:3.1/{severity}\"\n\n[versions]\npatched = [\">= 1.3.0\"]\n```\n\n# A flaw in {name}\n\nDetails.\n",
                n + 1
            ),
        )
        .unwrap();
    }
    let (db, errors) = Database::load(dir, DbLimits::default()).expect("the bench's database");
    assert!(errors.is_empty(), "{errors:?}");
    db
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let scratch = Scratch::new("report-bench");
    let db = database(&scratch.join("db"));
    let target = testkit::workspace_root().join("target");
    let mut browser = Browser::start(&scratch);
    for (spread, name) in [
        (Spread::Typical, "report-bench"),
        (Spread::Wide, "report-bench-wide"),
    ] {
        measure(&mut browser, &db, spread, &target.join(name));
    }
}

/// Builds the fleet of `spread`, renders it to `out.html`, opens it [`RUNS`] times and
/// shoots it to `out.png`, printing the figures.
fn measure(browser: &mut Browser, db: &Database, spread: Spread, out: &std::path::Path) {
    println!("== {spread:?} spread");
    let pages: Vec<String> = (0..BUILDS).map(|b| page(b, spread)).collect();
    let started = Instant::now();
    let mut observations = Vec::new();
    for i in 0..INSTANCES {
        let instance = format!("10.{}.{}.{}:8080", i / 65_536, (i / 256) % 256, i % 256);
        let origin = format!("http://{instance}/metrics");
        let found = page_observations(pages[i % BUILDS].as_bytes(), None, &instance, &origin)
            .expect("a valid page");
        observations.extend(found);
    }
    let mut report = FleetReport::new(&observations, &[]);
    let answer = audit(&observations, db, &AuditOptions::default());
    report.add_audit(&answer, db);
    let model_s = started.elapsed().as_secs_f64();
    let t = &report.totals;
    println!(
        "fleet: {} instances, {} programs, {} builds, {} crates, {} crate versions, {} advisories (model in {:.0} ms)",
        t.instances,
        t.programs,
        t.builds,
        t.crates,
        t.crate_versions,
        t.advisories.unwrap_or(0),
        model_s * 1e3
    );
    assert_eq!((t.instances, t.builds), (INSTANCES, BUILDS));

    let mut render_ms = Vec::new();
    let mut html = String::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        html = report_html(&report);
        render_ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let render = median(render_ms);
    let page_path = out.with_extension("html");
    std::fs::write(&page_path, &html).unwrap();
    println!(
        "html: {} bytes ({} KiB), rendered in {render:.1} ms (median of {RUNS}); {}",
        html.len(),
        html.len() / 1024,
        page_path.display()
    );

    let mut fcp = Vec::new();
    let mut load = Vec::new();
    for _ in 0..RUNS {
        browser.open_url("about:blank");
        browser.open(&page_path);
        let timing = browser.timing();
        fcp.push(timing.first_contentful_paint);
        load.push(timing.load);
    }
    let errors = browser.errors();
    let requests = browser.requests();
    let fcp = median(fcp);
    let load = median(load);
    println!(
        "chromium-headless-shell: first contentful paint {fcp:.0} ms, load {load:.0} ms (median of {RUNS}); {} errors, {} requests",
        errors.len(),
        requests.len()
    );
    for e in errors.iter().chain(&requests) {
        println!("  {e}");
    }
    let shot = out.with_extension("png");
    browser.screenshot(&shot);
    println!("screenshot: {}", shot.display());
    let verdict = |ok: bool| if ok { "holds" } else { "MISSED" };
    println!(
        "targets: size ≤ 2 MB {} ({} bytes); first render ≤ 1 s {} ({fcp:.0} ms)",
        verdict(html.len() <= MAX_BYTES),
        html.len(),
        verdict(fcp <= MAX_FIRST_RENDER_MS)
    );
}
