//! The `full` and `catalog` layouts side by side in two real Prometheus servers, one run: the
//! same fleet (testkit's `layout_fleet`: 1,000 instances of 20 programs × 300 crates, a canary
//! tenth of each program one patch ahead, so 40 distinct builds), its pages made with the
//! collector's own types and digests (`build_info_collector`), as real collectors serve them:
//!
//! - `full`: per instance `<program>_build_info`, `rust_build_info{layout="full"}` and 300
//!   `rust_mod_info`;
//! - `catalog`: per instance `<program>_build_info` and `rust_build_info{layout="catalog"}`,
//!   plus one catalog page of `rust_deps_info`, one series per crate per distinct list (the
//!   page `depinfo-catalog` serves), scraped as a target of its own.
//!
//! Each layout's fleet is one page served from 127.0.0.1 and scraped with `honor_labels:
//! true` (so its `instance` and `job` labels stand) every 15 s by its own Prometheus, which
//! also scrapes itself and evaluates the rules `cargo depinfo rules` prints. Printed, in the
//! order measured:
//!
//! 1. `prometheus_tsdb_head_series` of each server after the same number of scrapes
//!    (Prometheus's own series and the rules' included), ours alone, and the ratio
//!    catalog / full against the target ≤ 0.1;
//! 2. each server's resident memory (VmRSS) at that point;
//! 3. `cargo depinfo spread --prometheus URL` with default flags on both layouts (wall time
//!    and peak RSS, median of 3; whether the answers MATCH), and the naive path on `full`
//!    (curl of the raw `rust_mod_info` query, then jq), with the ratio catalog spread / naive
//!    against ≤ 0.2. When a layout gets no answer the bench says NO ANSWER with spread's last
//!    word, and the full answer compared is then taken once with `--timeout 120`;
//! 4. a rolling restart of every instance (each pod replaced by one with a new address: the
//!    same builds under new `instance` labels): head series added per restarted instance,
//!    ours alone against the target ≤ 2 for `catalog`. Last, because the full server's head
//!    then holds the fleet twice until its next compaction.
//!
//! `cargo bench -p cargo-depinfo --bench catalog_scale` (about 5 minutes on 2 cores, 4 GiB
//! of memory for the full layout's server). It needs prometheus, promtool, curl and jq, and
//! fails loudly when one is missing (scripts/test-all.sh installs them). It prints PASS/FAIL
//! against the targets and asserts only that each server holds the whole fleet; timings are
//! figures, not assertions. Every process it starts is stopped when it ends or fails.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use build_info_collector::{
    BuildInfoLabels, DepsEntry, DepsList, Family, Layout, RustBuildInfoLabels, RustModInfoLabels,
    build_info_family, render, rust_build_info_family, rust_deps_info_family, rust_deps_info_pairs,
    rust_mod_info_family,
};
use testkit::layout_fleet::{self as fleet, INSTANCES};
use testkit::{EXPOSITION, Reply, Running, Scratch, Server, installed, measured};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
/// The scrape (and rule evaluation) interval of both servers. Not 5 s: on 2 cores a scrape of
/// the full page takes about 2.7 s, so at 5 s the full server would parse most of the time
/// and the naive path measured against it would look three times slower than it is.
const INTERVAL: Duration = Duration::from_secs(15);
/// The scrape timeout.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);
/// Successful scrapes of the fleet before the first figures.
const SCRAPES: u64 = 6;
/// Successful scrapes of the restarted fleet before the restart's figures.
const SCRAPES_AFTER_RESTART: u64 = 2;
/// Timed runs of each command; the median is printed.
const RUNS: usize = 3;
/// The longest wait for a count of scrapes.
const SCRAPE_LIMIT: Duration = Duration::from_secs(240);
/// Our series: the fixed-name families and every `<program>_build_info` (less Prometheus's own
/// `prometheus_build_info`, from its scrape of itself).
const OURS: &str = r#"{__name__=~"rust_.*|.+_build_info",job!="prometheus"}"#;
/// What rules make: recorded series (by convention `level:metric:operation`) and alerts.
const RULE_MADE: &str = r#"{__name__=~".+:.+|ALERTS|ALERTS_FOR_STATE"}"#;
/// The targets of the issue.
const HEAD_RATIO_TARGET: f64 = 0.1;
const CHURN_TARGET: f64 = 2.0;
const SPREAD_RATIO_TARGET: f64 = 0.2;

/// One distinct build of the fleet, with its dependency list as the collector computes it.
struct Build {
    program: String,
    job: String,
    version: String,
    revision: String,
    crates: Vec<fleet::FleetCrate>,
    list: DepsList,
}

/// The fleet's 40 builds, by `(program, canary)`.
fn builds() -> BTreeMap<(usize, bool), Build> {
    let mut out = BTreeMap::new();
    for p in 0..fleet::PROGRAMS {
        for canary in [false, true] {
            let crates = fleet::crates(p, canary);
            let list = DepsList::from_entries(crates.iter().map(|c| DepsEntry {
                name: c.name.as_str().into(),
                version: c.version.as_str().into(),
                source: fleet::SOURCE.into(),
                direct: c.direct,
            }));
            out.insert(
                (p, canary),
                Build {
                    program: fleet::program_name(p),
                    job: fleet::job(p),
                    version: fleet::version(p, canary),
                    revision: fleet::revision(p, canary),
                    crates,
                    list,
                },
            );
        }
    }
    out
}

/// Appends `family` as the collector renders it; without its HELP and TYPE lines unless
/// `header`, so that one family can be written in parts (the text format wants a family's
/// samples together, and 300,000 samples at once would hold a few hundred MB of labels).
fn append(page: &mut String, family: &Family<'_>, header: bool) {
    let text = render([family]).expect("the collector's families render");
    let body = if header {
        text.as_str()
    } else {
        let mut rest = text.as_str();
        for _ in 0..2 {
            assert!(rest.starts_with("# "), "render wrote no header: {rest:.80}");
            rest = rest.split_once('\n').map_or("", |(_, r)| r);
        }
        rest
    };
    page.push_str(body);
}

/// The labels a scrape with `honor_labels` keeps: the instance's own address and job.
fn target<'a>(instance: &'a str, job: &'a str) -> [(&'static str, Cow<'a, str>); 2] {
    [
        ("instance", Cow::Borrowed(instance)),
        ("job", Cow::Borrowed(job)),
    ]
}

/// The page of every instance of `generation` in `layout`: what 1,000 collectors serve, each
/// series with its `instance` and `job` labels.
fn fleet_page(
    layout: Layout,
    builds: &BTreeMap<(usize, bool), Build>,
    generation: usize,
) -> String {
    let instances: Vec<String> = (0..INSTANCES)
        .map(|i| fleet::instance(i, generation))
        .collect();
    let build_of = |i: usize| {
        let m = fleet::member(i);
        &builds[&(m.program, m.canary)]
    };
    let mut page = String::with_capacity(if layout == Layout::Full {
        INSTANCES * fleet::CRATES * 150
    } else {
        INSTANCES * 600
    });
    for p in 0..fleet::PROGRAMS {
        let mut family = build_info_family(&fleet::program_name(p));
        for i in (p..INSTANCES).step_by(fleet::PROGRAMS) {
            let b = build_of(i);
            let labels = BuildInfoLabels {
                branch: "main".into(),
                features: "default".into(),
                profile: "release".into(),
                revision: b.revision.as_str().into(),
                rustversion: "1.89.0".into(),
                target: "x86_64-unknown-linux-gnu".into(),
                version: b.version.as_str().into(),
            };
            family.push(
                labels
                    .pairs()
                    .into_iter()
                    .chain(target(&instances[i], &b.job)),
                1,
            );
        }
        append(&mut page, &family, true);
    }
    let mut family = rust_build_info_family();
    for (i, instance) in instances.iter().enumerate() {
        let b = build_of(i);
        let labels = RustBuildInfoLabels {
            deps: b.list.digest().into(),
            layout,
            program: b.program.as_str().into(),
            revision: b.revision.as_str().into(),
            version: b.version.as_str().into(),
        };
        family.push(
            labels.pairs().into_iter().chain(target(instance, &b.job)),
            1,
        );
    }
    append(&mut page, &family, true);
    // The crate series, one instance at a time, for the layouts that have them.
    let mut header = true;
    for (i, instance) in instances.iter().enumerate() {
        let b = build_of(i);
        let mut family = rust_mod_info_family();
        for c in b.crates.iter().filter(|c| layout.has_mod_info(c.direct)) {
            let labels = RustModInfoLabels {
                direct: c.direct,
                name: c.name.as_str().into(),
                program: b.program.as_str().into(),
                source: fleet::SOURCE.into(),
                version: c.version.as_str().into(),
            };
            family.push(
                labels.pairs().into_iter().chain(target(instance, &b.job)),
                1,
            );
        }
        if !family.is_empty() {
            append(&mut page, &family, header);
            header = false;
        }
    }
    page
}

/// The catalog's page: `rust_deps_info`, one series per crate per distinct list.
fn catalog_page(builds: &BTreeMap<(usize, bool), Build>) -> (String, usize) {
    let lists: BTreeMap<&str, &DepsList> = builds
        .values()
        .map(|b| (b.list.digest(), &b.list))
        .collect();
    let mut family = rust_deps_info_family();
    for (digest, list) in &lists {
        for entry in list.entries() {
            family.push(rust_deps_info_pairs(digest, &entry), 1);
        }
    }
    family.sort_series();
    let mut page = String::new();
    append(&mut page, &family, true);
    (page, lists.len())
}

/// The samples of an exposition: its lines that are not comments.
fn series_in(page: &[u8]) -> usize {
    page.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .count()
}

/// One layout's Prometheus and what the bench knows of it.
struct Engine {
    layout: Layout,
    server: Running,
    addr: String,
    pid: u32,
}

impl Engine {
    fn name(&self) -> &'static str {
        self.layout.as_str()
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The value of an instant query that yields one sample (0 when it yields none), asked
    /// with curl (a query over 600,000 series may take longer than testkit's 10 s reads).
    fn scalar(&self, curl: &Path, promql: &str) -> f64 {
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base(),
            testkit::url_encode(promql)
        );
        let out = Command::new(curl)
            .args(["-sS", "--max-time", "120", &url])
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{} Prometheus, {promql}: {e}: {body:.200}", self.name()));
        assert_eq!(v["status"], "success", "{promql}: {body:.200}");
        v["data"]["result"][0]["value"][1]
            .as_str()
            .map_or(0.0, |s| s.parse().unwrap())
    }

    /// The count an instant query yields (0 when it yields no sample).
    fn count(&self, curl: &Path, promql: &str) -> u64 {
        whole(self.scalar(curl, promql))
    }

    /// `name` on the server's own /metrics (its value now, not as last scraped).
    fn own_metric(&self, name: &str) -> f64 {
        let page = testkit::get(&self.addr, "/metrics").unwrap().body;
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} on {}/metrics", self.addr))
    }

    /// `prometheus_tsdb_head_series`: every series in the head, Prometheus's own included.
    fn head_series(&self) -> u64 {
        whole(self.own_metric("prometheus_tsdb_head_series"))
    }

    /// VmRSS of the server, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in /proc/{}/status", self.pid))
    }

    /// Successful scrapes of the fleet's page so far.
    fn fleet_scrapes(&self, curl: &Path) -> u64 {
        self.count(curl, r#"sum_over_time(up{job="fleet"}[1h])"#)
    }

    fn snapshot(&self, curl: &Path) -> Snapshot {
        Snapshot {
            scrapes: self.fleet_scrapes(curl),
            attempts: self.count(curl, r#"count_over_time(up{job="fleet"}[1h])"#),
            scrape_s: self.scalar(curl, r#"scrape_duration_seconds{job="fleet"}"#),
            head: self.head_series(),
            ours_live: self.count(curl, &format!("count({OURS})")),
            // Series that had a sample in the last hour, stale ones included: what the head
            // holds of ours.
            ours_held: self.count(curl, &format!("count(last_over_time({OURS}[1h]))")),
            rule_made: self.count(curl, &format!("count({RULE_MADE})")),
            rss_kib: self.rss_kib(),
            heap_inuse: whole(self.own_metric("go_memstats_heap_inuse_bytes")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Snapshot {
    scrapes: u64,
    attempts: u64,
    scrape_s: f64,
    head: u64,
    ours_live: u64,
    ours_held: u64,
    rule_made: u64,
    rss_kib: u64,
    heap_inuse: u64,
}

/// Polls every server until `ready(engine)`, taking each one's snapshot as soon as it is:
/// every server is measured at the same point of its own scrapes.
fn snapshots_when(
    engines: &[Engine],
    curl: &Path,
    what: &str,
    mut ready: impl FnMut(&Engine) -> bool,
) -> Vec<Snapshot> {
    let started = Instant::now();
    let mut taken: Vec<Option<Snapshot>> = vec![None; engines.len()];
    while taken.iter().any(Option::is_none) {
        for (e, slot) in engines.iter().zip(&mut taken) {
            if slot.is_none() && ready(e) {
                *slot = Some(e.snapshot(curl));
            }
        }
        assert!(
            started.elapsed() < SCRAPE_LIMIT,
            "timed out after {SCRAPE_LIMIT:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    taken.into_iter().map(Option::unwrap).collect()
}

fn mib(kib: u64) -> String {
    format!("{} MiB", (kib + 512) >> 10)
}

/// A count Prometheus wrote as a float.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "counts of series, samples and bytes: whole, not negative, exact in a float"
)]
fn whole(v: f64) -> u64 {
    v.round() as u64
}

/// `a / b` of two counts.
#[allow(
    clippy::cast_precision_loss,
    reason = "counts far below 2^52, for a printed ratio"
)]
fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b as f64
}

/// `after - before` of two counts, which may be negative.
fn delta(after: u64, before: u64) -> i64 {
    i64::try_from(after).unwrap() - i64::try_from(before).unwrap()
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// The median of `RUNS` values.
fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort_unstable();
    v[v.len() / 2]
}

/// What `spread` did on one layout: the median of the timed runs and one captured answer.
struct SpreadRun {
    code: i32,
    wall: Duration,
    peak_kib: u64,
    stdout: String,
    stderr: String,
}

impl SpreadRun {
    /// Whether it answered: exit 0 or 1 (spread found, or not) with something printed (this
    /// fleet has spread, so an empty answer is none).
    fn answered(&self) -> bool {
        (self.code == 0 || self.code == 1) && !self.stdout.trim().is_empty()
    }

    /// What it said, in a few words.
    fn said(&self) -> String {
        if self.answered() {
            format!("{} lines of answer", self.stdout.lines().count())
        } else {
            format!(
                "NO ANSWER: {}",
                self.stderr
                    .lines()
                    .last()
                    .unwrap_or("nothing on stdout or stderr")
            )
        }
    }
}

/// `cargo depinfo spread --prometheus URL` on `engine` with `extra` flags: `runs` timed runs
/// from a fresh copy of the bench (wall time, peak RSS), then one whose answer is kept.
fn spread(engine: &Engine, extra: &[&str], runs: usize) -> SpreadRun {
    let base = engine.base();
    let mut cmd = vec![DEPINFO, "spread", "--prometheus", base.as_str()];
    cmd.extend_from_slice(extra);
    let timed: Vec<testkit::Measured> = (0..runs).map(|_| measured(&cmd)).collect();
    let out = testkit::run(
        Command::new(DEPINFO).args(&cmd[1..]),
        Duration::from_secs(600),
    );
    let code = out.status.code().unwrap_or(-1);
    let codes: Vec<i32> = timed.iter().map(|m| m.code).collect();
    assert!(
        codes.iter().all(|&c| c == code),
        "spread on {}: exit codes {codes:?}, then {code}",
        engine.name()
    );
    SpreadRun {
        code,
        wall: median(timed.iter().map(|m| m.wall).collect()),
        peak_kib: median(timed.iter().map(|m| m.peak_rss_kib).collect()),
        stdout: testkit::stdout(&out),
        stderr: testkit::stderr(&out),
    }
}

/// The first line where `a` and `b` differ: its number and both versions.
fn first_difference(a: &str, b: &str) -> Option<(usize, String, String)> {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return None,
            (x, y) if x == y => {}
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end of output)".to_owned(), str::to_owned);
                return Some((n, show(x), show(y)));
            }
        }
    }
    None
}

/// The rules `cargo depinfo rules` prints, written to `path` and checked with promtool, and
/// how many recording and alerting rules they hold; `None` when the command fails.
fn depinfo_rules(path: &Path) -> Option<(usize, usize)> {
    let out = testkit::run(Command::new(DEPINFO).arg("rules"), Duration::from_secs(60));
    if !out.status.success() {
        println!(
            "rules: `cargo depinfo rules` failed ({}): none loaded",
            testkit::stderr(&out).lines().next().unwrap_or("")
        );
        return None;
    }
    let text = testkit::stdout(&out);
    std::fs::write(path, &text).unwrap();
    testkit::check_rules(path);
    let count = |key: &str| {
        text.lines()
            .filter(|l| l.trim_start().trim_start_matches("- ").starts_with(key))
            .count()
    };
    Some((count("record:"), count("alert:")))
}

fn config(
    scratch: &Path,
    layout: Layout,
    self_addr: &str,
    page: &str,
    rules: Option<&Path>,
) -> PathBuf {
    let (secs, timeout) = (INTERVAL.as_secs(), SCRAPE_TIMEOUT.as_secs());
    let mut yaml = format!(
        "global:\n  scrape_interval: {secs}s\n  scrape_timeout: {timeout}s\n  evaluation_interval: {secs}s\n"
    );
    if let Some(rules) = rules {
        let _ = writeln!(yaml, "rule_files: ['{}']", rules.display());
    }
    let _ = write!(
        yaml,
        "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['{self_addr}']\n  - job_name: fleet\n    honor_labels: true\n    static_configs:\n      - targets: ['{page}']\n"
    );
    if layout == Layout::Catalog {
        let _ = write!(
            yaml,
            "  - job_name: catalog\n    metrics_path: /catalog\n    static_configs:\n      - targets: ['{page}']\n"
        );
    }
    let path = scratch.join(format!("prometheus-{}.yml", layout.as_str()));
    std::fs::write(&path, yaml).unwrap();
    path
}

/// The series each layout's Prometheus must hold of ours once the fleet is scraped.
fn expected_series(layout: Layout, catalog_series: usize) -> u64 {
    let per_instance = if layout == Layout::Full {
        2 + fleet::CRATES
    } else {
        2
    };
    let catalog = if layout == Layout::Catalog {
        catalog_series
    } else {
        0
    };
    u64::try_from(INSTANCES * per_instance + catalog).unwrap()
}

/// 1 and 2: head series and memory of both servers after the same number of scrapes.
fn head_and_memory(engines: &[Engine], curl: &Path, catalog_series: usize, since: Instant) {
    let first = snapshots_when(engines, curl, "the first scrapes", |e| {
        e.fleet_scrapes(curl) >= SCRAPES
    });
    println!(
        "\n1. head series after {SCRAPES} scrapes of the fleet, one every {}s ({:.0} s after the servers started):",
        INTERVAL.as_secs(),
        since.elapsed().as_secs_f64()
    );
    for (e, s) in engines.iter().zip(&first) {
        println!(
            "  {:<7} {} scrapes of {} attempts succeeded; the last took {:.2} s",
            e.name(),
            s.scrapes,
            s.attempts,
            s.scrape_s
        );
    }
    for (e, s) in engines.iter().zip(&first) {
        assert_eq!(
            s.ours_live,
            expected_series(e.layout, catalog_series),
            "{} Prometheus holds {} of our series, not the whole fleet",
            e.name(),
            s.ours_live
        );
        println!(
            "  {:<7} prometheus_tsdb_head_series {:>7} = ours {:>6} + Prometheus's own and the rules' {:>5} (rule-made: {})",
            e.name(),
            s.head,
            s.ours_live,
            delta(s.head, s.ours_live),
            s.rule_made
        );
    }
    let head_ratio = ratio(first[1].head, first[0].head);
    let ours_ratio = ratio(first[1].ours_live, first[0].ours_live);
    println!(
        "  catalog / full: {head_ratio:.4} of head series (ours alone {ours_ratio:.4}); target <= {HEAD_RATIO_TARGET}: {}",
        verdict(head_ratio <= HEAD_RATIO_TARGET)
    );
    println!("\n2. resident memory at that point (VmRSS; Go heap in use in brackets):");
    for (e, s) in engines.iter().zip(&first) {
        println!(
            "  {:<7} {} ({} MiB)",
            e.name(),
            mib(s.rss_kib),
            s.heap_inuse >> 20
        );
    }
    println!(
        "  catalog / full: {:.3} of VmRSS",
        ratio(first[1].rss_kib, first[0].rss_kib)
    );
}

/// 3: `spread` with default flags on both layouts, the answers compared, and the naive path
/// on `full`.
fn spread_and_naive(engines: &[Engine], curl: &Path, jq: &Path, scratch: &Scratch) {
    println!(
        "\n3. cargo depinfo spread --prometheus URL with default flags, median of {RUNS} (the servers keep scraping):"
    );
    let runs: Vec<SpreadRun> = engines.iter().map(|e| spread(e, &[], RUNS)).collect();
    for (e, r) in engines.iter().zip(&runs) {
        println!(
            "  {:<7} {} wall, peak RSS {}, exit {} ({})",
            e.name(),
            ms(r.wall),
            mib(r.peak_kib),
            r.code,
            r.said()
        );
    }
    if !runs[1].answered() {
        println!(
            "  catalog: spread gives NO ANSWER on the catalog layout (exit {}): this build's spread does not read rust_build_info and rust_deps_info",
            runs[1].code
        );
    }
    // The answers compared: full's taken with a longer timeout when the default gave none.
    let full_answer = if runs[0].answered() {
        None
    } else {
        let r = spread(&engines[0], &["--timeout", "120"], 1);
        println!(
            "  full with --timeout 120 (one run, for the comparison): {} wall, peak RSS {}, exit {} ({})",
            ms(r.wall),
            mib(r.peak_kib),
            r.code,
            r.said()
        );
        Some(r)
    };
    let full = full_answer.as_ref().unwrap_or(&runs[0]);
    let catalog = &runs[1];
    // Each layout has its own server: the answers name different URLs for the same fleet.
    let (full_text, catalog_text) = (
        full.stdout.replace(&engines[0].base(), "PROMETHEUS"),
        catalog.stdout.replace(&engines[1].base(), "PROMETHEUS"),
    );
    match first_difference(&full_text, &catalog_text) {
        None if full.code == catalog.code && full.answered() => println!(
            "  answers full vs catalog (each server's URL read as PROMETHEUS): MATCH ({} lines, exit {})",
            full.stdout.lines().count(),
            full.code
        ),
        None => println!(
            "  answers full vs catalog: DIFFER: same output, exit {} vs {}",
            full.code, catalog.code
        ),
        Some((n, a, b)) => println!(
            "  answers full vs catalog (each server's URL read as PROMETHEUS): DIFFER (exit {} vs {}), first at line {n}:\n    full:    {a}\n    catalog: {b}",
            full.code, catalog.code
        ),
    }

    let raw = format!(
        "{}/api/v1/query?query={}",
        engines[0].base(),
        testkit::url_encode("rust_mod_info")
    );
    let answer = scratch.join("answer.json");
    let mut curls = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let ok = Command::new(curl)
            .args(["-sf", "--compressed", "-o"])
            .arg(&answer)
            .arg(&raw)
            .status()
            .unwrap()
            .success();
        assert!(ok, "curl {raw}");
        curls.push(start.elapsed());
    }
    let raw_mib = std::fs::metadata(&answer).map_or(0, |m| m.len() >> 20);
    let jq_run = |program: &str| {
        let start = Instant::now();
        let out = Command::new(jq)
            .args(["-r", program])
            .arg(&answer)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "jq {program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            start.elapsed(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // fleet_scale's naive path: the answer parsed and its series counted.
    let length = ".data.result | length";
    // The naive spread itself: the crates of each program in more than one version.
    let versions = "[.data.result[].metric | {program, name, version}] | group_by([.program, .name]) | map(select((map(.version) | unique | length) > 1)) | length";
    let mut lengths = Vec::new();
    let mut spreads = Vec::new();
    let mut spread_count = String::new();
    for _ in 0..RUNS {
        let (t, out) = jq_run(length);
        assert_eq!(out.trim(), (INSTANCES * fleet::CRATES).to_string());
        lengths.push(t);
        let (t, out) = jq_run(versions);
        out.trim().clone_into(&mut spread_count);
        spreads.push(t);
    }
    let (t_curl, t_length, t_versions) = (median(curls), median(lengths), median(spreads));
    let naive = t_curl + t_length;
    println!(
        "  naive on full: curl rust_mod_info ({raw_mib} MiB) {} + jq '{length}' {} = {} (median of {RUNS})",
        ms(t_curl),
        ms(t_length),
        ms(naive)
    );
    println!(
        "  (with jq counting versions per program and crate instead, {spread_count} of them in several versions: {} + {} = {})",
        ms(t_curl),
        ms(t_versions),
        ms(t_curl + t_versions)
    );
    for (e, r) in engines.iter().zip(&runs) {
        println!(
            "  {:<7} spread / naive: {:.3}{}",
            e.name(),
            r.wall.as_secs_f64() / naive.as_secs_f64(),
            if r.answered() { "" } else { " (no answer)" }
        );
    }
    let ratio = catalog.wall.as_secs_f64() / naive.as_secs_f64();
    println!(
        "  catalog spread / naive: {ratio:.3}{}; target <= {SPREAD_RATIO_TARGET}: {}",
        if catalog.answered() {
            ""
        } else {
            " without an answer"
        },
        verdict(catalog.answered() && ratio <= SPREAD_RATIO_TARGET)
    );
}

/// 4: every instance replaced by one with a new address (generation 1): the series this adds
/// to each head.
fn rolling_restart(engines: &[Engine], curl: &Path, generation: &AtomicUsize) {
    let held = format!("count(last_over_time({OURS}[1h]))");
    let before: Vec<(u64, u64, u64)> = engines
        .iter()
        .map(|e| (e.head_series(), e.count(curl, &held), e.fleet_scrapes(curl)))
        .collect();
    generation.store(1, Ordering::SeqCst);
    let count_of = |g: usize| {
        format!(
            r#"count(rust_build_info{{instance=~"{}"}})"#,
            fleet::instance_regex(g)
        )
    };
    let (restarted, gone) = (count_of(1), count_of(0));
    let after = snapshots_when(engines, curl, "the restarted fleet's scrapes", |e| {
        let i = usize::from(e.layout == Layout::Catalog);
        e.fleet_scrapes(curl) >= before[i].2 + SCRAPES_AFTER_RESTART
            && e.count(curl, &restarted) == u64::try_from(INSTANCES).unwrap()
            && e.count(curl, &gone) == 0
    });
    println!(
        "\n4. rolling restart of all {INSTANCES} instances (the same builds under new instance labels), after {SCRAPES_AFTER_RESTART} scrapes of the restarted fleet:"
    );
    println!(
        "  (the fleet is one scraped page, so Prometheus has no per-instance up/scrape_* series here: in production each pod is a target whose restart adds 5 of Prometheus's own, not ours)"
    );
    let mut churn = [0.0; 2];
    for (i, (e, s)) in engines.iter().zip(&after).enumerate() {
        let head_added = delta(s.head, before[i].0);
        let ours_added = delta(s.ours_held, before[i].1);
        churn[i] = ratio(ours_added.unsigned_abs(), u64::try_from(INSTANCES).unwrap())
            * if ours_added < 0 { -1.0 } else { 1.0 };
        println!(
            "  {:<7} head series {} -> {} ({head_added:+}): ours {ours_added:+} = {:.2} per restarted instance, Prometheus's own and the rules' {:+}; VmRSS now {}",
            e.name(),
            before[i].0,
            s.head,
            churn[i],
            head_added - ours_added,
            mib(s.rss_kib)
        );
    }
    println!(
        "  catalog: {:.2} of our series per restarted instance; target <= {CHURN_TARGET}: {}",
        churn[1],
        verdict(churn[1] <= CHURN_TARGET)
    );
}

fn main() {
    // Measured commands run from a fresh copy of this bench: Linux counts in a child's peak
    // RSS the pages of the process it was forked from, and this one holds the fleet's pages.
    testkit::answer_measure_request();
    let (curl, jq) = (installed("curl"), installed("jq"));
    installed("prometheus");
    installed("promtool");
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    println!("machine: {cores} cores, MemTotal {mem_total}");

    let started = Instant::now();
    let builds = builds();
    let layouts = [Layout::Full, Layout::Catalog];
    // pages[layout][generation]
    let pages: Vec<Arc<[Vec<u8>; 2]>> = layouts
        .iter()
        .map(|&l| Arc::new([0, 1].map(|g| fleet_page(l, &builds, g).into_bytes())))
        .collect();
    let (catalog, lists) = catalog_page(&builds);
    let catalog_series = series_in(catalog.as_bytes());
    println!(
        "fleet: {INSTANCES} instances of {} programs x {} crates, {lists} distinct lists; pages made in {:.1} s",
        fleet::PROGRAMS,
        fleet::CRATES,
        started.elapsed().as_secs_f64()
    );
    for (l, p) in layouts.iter().zip(&pages) {
        println!(
            "  {:<7} fleet page: {} series, {:.1} MiB ({} bytes per instance)",
            l.as_str(),
            series_in(&p[0]),
            ratio(u64::try_from(p[0].len()).unwrap(), 1 << 20),
            p[0].len() / INSTANCES
        );
    }
    println!(
        "  catalog's own page: {catalog_series} series of rust_deps_info, {} KiB",
        catalog.len() >> 10
    );
    // promtool reads the catalog layout's pages as it reads a collector's (the full page,
    // 42 MiB, is the same families with rust_mod_info added, as the collector's tests check).
    testkit::check_metrics(&String::from_utf8_lossy(&pages[1][0]));
    testkit::check_metrics(&catalog);

    // Both fleets switch to generation 1 at once: the rolling restart.
    let generation = Arc::new(AtomicUsize::new(0));
    let page_servers: Vec<Server> = layouts
        .iter()
        .zip(&pages)
        .map(|(&layout, p)| {
            let (p, g, catalog) = (Arc::clone(p), Arc::clone(&generation), catalog.clone());
            Server::start(move |path| match path {
                "/metrics" => Reply::ok(EXPOSITION, p[g.load(Ordering::SeqCst)].as_slice()),
                "/catalog" if layout == Layout::Catalog => {
                    Reply::ok(EXPOSITION, catalog.as_bytes())
                }
                _ => Reply::not_found(),
            })
        })
        .collect();

    let scratch = Scratch::new("catalog-scale");
    let rules_path = scratch.join("rules.yml");
    let rules = depinfo_rules(&rules_path);
    if let Some((record, alert)) = rules {
        println!(
            "rules: `cargo depinfo rules` with defaults, {record} recording and {alert} alerting rules, evaluated every {}s by both servers",
            INTERVAL.as_secs()
        );
    }
    let mut engines: Vec<Engine> = layouts
        .iter()
        .zip(&page_servers)
        .map(|(&layout, page)| {
            let addr = testkit::unused_addr().to_string();
            let config = config(
                scratch.path(),
                layout,
                &addr,
                &page.host_port(),
                rules.map(|_| rules_path.as_path()),
            );
            let data = scratch.join(format!("data-{}", layout.as_str()));
            let mut server = testkit::start_prometheus_on(&addr, &config, &data);
            let pid = server.child().id();
            Engine {
                layout,
                server,
                addr,
                pid,
            }
        })
        .collect();

    head_and_memory(&engines, &curl, catalog_series, Instant::now());
    // Before the restart: afterwards the full server's head holds the fleet twice (the old
    // series stay until the next head compaction), which would slow the naive path.
    spread_and_naive(&engines, &curl, &jq, &scratch);
    rolling_restart(&engines, &curl, &generation);
    println!("\ntotal {:.0} s", started.elapsed().as_secs_f64());
    for e in &mut engines {
        e.server.kill();
    }
}
