//! `depinfo-catalog`'s bounds against a hostile fleet member, with a real Prometheus:
//!
//! - a target publishing 300 made-up digests, each a valid list of 1,000 crates (about 48 MB
//!   of lists and page lines in all), meets `--max-cache-mib 1`: each list past the cap is
//!   refused in one line naming the target and the digest and counted, asked for once only;
//!   the honest instance's list is served throughout, and a new honest build takes the
//!   made-up lists' room; the cache directory and the catalog's memory stay within the cap;
//! - digests that leave Prometheus are dropped from the page and the disk after `--retention
//!   2s` (rounds every 500 ms), a line each; the lists still running are recorded as seen on
//!   disk (the file's time) and served again at once by a restart without Prometheus;
//! - a `--retention` shorter than `--interval`, or not a duration, stops the start in one line.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use build_info_collector::{DepsEntry, DepsList};
use testkit::{
    Page, Scratch, fake_instance_with_page, get, query, start_catalog, start_catalog_prometheus,
    terminate, unused_addr, wait_until,
};

const CATALOG: &str = env!("CARGO_BIN_EXE_depinfo-catalog");

const LIMIT: Duration = Duration::from_secs(120);

/// `--max-cache-mib 1`.
const CAP: u64 = 1 << 20;

/// The made-up digests the hostile target publishes, and the crates of each list.
const MADE_UP: usize = 300;
const CRATES: usize = 1000;

fn list(name: &str, crates: usize) -> DepsList {
    DepsList::from_entries((0..crates).map(|i| DepsEntry {
        name: format!("{name}-{i:04}").into(),
        version: "1.0.0".into(),
        source: "crates.io".into(),
        direct: i % 2 == 0,
    }))
}

/// A `/metrics` page with one `rust_build_info` series per digest.
fn build_info(digests: &[&str]) -> String {
    let mut page = String::from("# TYPE rust_build_info gauge\n");
    for (i, deps) in digests.iter().enumerate() {
        let _ = writeln!(
            page,
            "rust_build_info{{deps=\"{deps}\",layout=\"catalog\",program=\"app-{i}\",revision=\"abc\",version=\"1.0.0\"}} 1"
        );
    }
    page
}

fn page(addr: &str) -> String {
    let r = get(addr, "/metrics").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The value of the sample `series` (name and labels as written) on a page.
fn value(page: &str, series: &str) -> u64 {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {series} on the page:\n{page}"))
        .parse()
        .unwrap()
}

/// The names of the files in the cache and their total size.
fn on_disk(dir: &Path) -> (Vec<String>, u64) {
    let mut names = Vec::new();
    let mut bytes = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        // A temporary file may be renamed away between listing and looking.
        if let Ok(m) = e.metadata() {
            bytes += m.len();
            names.push(e.file_name().into_string().unwrap());
        }
    }
    names.sort();
    (names, bytes)
}

/// A figure of `/proc/PID/status` (`VmHWM`, `VmRSS`), in bytes.
fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .parse()
        .unwrap();
    kib << 10
}

/// Lines of the page about one list.
fn list_series(page: &str, digest: &str) -> usize {
    page.lines()
        .filter(|l| l.starts_with(&format!("rust_deps_info{{deps=\"{digest}\"")))
        .count()
}

#[test]
fn a_hostile_target_meets_the_byte_cap_and_lists_that_leave_prometheus_are_dropped() {
    let scratch = Scratch::new("catalog-bounds");
    let cache = scratch.join("cache");
    let made_up: Vec<DepsList> = (0..MADE_UP)
        .map(|i| list(&format!("evil{i:03}"), CRATES))
        .collect();
    let offered: u64 = made_up.iter().map(depinfo_server::catalog::cost).sum();
    // The new build's list costs more than a made-up one: it cannot fit in the room the
    // made-up lists leave, and must take theirs.
    let (old, new) = (list("oldapp", 40), list("newapplication", CRATES));

    let hostile_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let honest_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let hostile_at = hostile_listener.local_addr().unwrap().to_string();
    let honest_at = honest_listener.local_addr().unwrap().to_string();
    let made_up_digests: Vec<&str> = made_up.iter().map(DepsList::digest).collect();
    let hostile_page = Page::new(build_info(&made_up_digests));
    let honest_page = Page::new(build_info(&[old.digest()]));
    let document = |l: &DepsList| (l.digest().to_owned(), l.text().as_bytes().to_vec());
    let hostile = fake_instance_with_page(
        hostile_listener,
        &hostile_page,
        made_up.iter().map(document).collect(),
    );
    let _honest = fake_instance_with_page(
        honest_listener,
        &honest_page,
        vec![document(&old), document(&new)],
    );

    let catalog_addr = unused_addr().to_string();
    let (mut prometheus, prom) =
        start_catalog_prometheus(&scratch, &[&hostile_at, &honest_at], "", &catalog_addr);
    wait_until("the fleet scraped", LIMIT, || {
        query(&prom, "count(rust_build_info)")
            .first()
            .and_then(|s| s["value"][1].as_str()?.parse::<usize>().ok())
            == Some(MADE_UP + 1)
    });

    let args = |listen: &str, retention: &str| {
        [
            "--prometheus",
            &format!("http://{prom}"),
            "--listen",
            listen,
            "--cache",
            &cache.display().to_string(),
            "--interval",
            "500ms",
            "--retention",
            retention,
            "--max-cache-mib",
            "1",
        ]
        .map(str::to_owned)
    };
    let (mut catalog, _, lines) = start_catalog(Command::new(CATALOG), args(&catalog_addr, "2s"));
    let pid = catalog.child().id();

    // Every made-up list is asked for once (16 a round), the cache and the disk staying
    // within the cap all along; the honest list is served throughout.
    let mut largest_on_disk = 0;
    wait_until("every made-up list asked for", LIMIT, || {
        largest_on_disk = largest_on_disk.max(on_disk(&cache).1);
        hostile
            .requests()
            .iter()
            .filter(|r| r.starts_with("/deps/"))
            .count()
            >= MADE_UP
    });
    wait_until("the refusals counted", LIMIT, || {
        let text = page(&catalog_addr);
        value(&text, "cargo_depinfo_catalog_unresolved")
            + value(&text, "cargo_depinfo_catalog_lists")
            == MADE_UP as u64 + 1
    });
    let text = page(&catalog_addr);
    assert_eq!(list_series(&text, old.digest()), 40);
    let served = get(&catalog_addr, &format!("/deps/{}", old.digest())).unwrap();
    assert_eq!((served.status, served.body.as_str()), (200, old.text()));
    let held = value(&text, "cargo_depinfo_catalog_lists");
    let refused = value(
        &text,
        "cargo_depinfo_catalog_refused_total{reason=\"cache_full\"}",
    );
    assert!(held >= 2, "{text}");
    assert_eq!(refused, MADE_UP as u64 + 1 - held);
    assert_eq!(
        value(
            &text,
            "cargo_depinfo_catalog_refused_total{reason=\"invalid\"}"
        ),
        0
    );
    assert!(value(&text, "cargo_depinfo_catalog_cache_bytes") <= CAP);
    assert_eq!(value(&text, "cargo_depinfo_catalog_cache_max_bytes"), CAP);
    testkit::check_metrics(&text);
    let line = lines.wait_for(&["would pass --max-cache-mib", &hostile_at], LIMIT);
    assert!(line.starts_with("cargo-depinfo catalog: deps "), "{line}");
    assert!(made_up_digests.iter().any(|d| line.contains(d)), "{line}");
    // Nothing made up is asked for again while it would not fit.
    let asked = hostile.requests().len();
    std::thread::sleep(Duration::from_secs(2));
    let again: Vec<String> = hostile.requests()[asked..]
        .iter()
        .filter(|r| r.starts_with("/deps/"))
        .cloned()
        .collect();
    assert!(again.is_empty(), "{again:?}");

    // A new honest build takes the room of the retired one and of made-up lists.
    honest_page.set(build_info(&[new.digest()]));
    wait_until("the new build served", LIMIT, || {
        list_series(&page(&catalog_addr), new.digest()) == CRATES
    });
    // The retired list goes first, then made-up ones, a line each.
    lines.wait_for(
        &[old.digest(), "to make room for deps", new.digest()],
        LIMIT,
    );
    let line = lines.wait_for(&["to make room for deps", new.digest()], LIMIT);
    assert!(line.starts_with("cargo-depinfo catalog: deps "), "{line}");
    let text = page(&catalog_addr);
    assert_eq!(list_series(&text, old.digest()), 0);
    assert!(
        value(
            &text,
            "cargo_depinfo_catalog_dropped_total{reason=\"evicted\"}"
        ) >= 2
    );
    assert!(value(&text, "cargo_depinfo_catalog_cache_bytes") <= CAP);
    let served = get(&catalog_addr, &format!("/deps/{}", new.digest())).unwrap();
    assert_eq!((served.status, served.body.as_str()), (200, new.text()));

    // The hostile target stops publishing: its lists go after the retention, a line each.
    let written = std::fs::metadata(cache.join(new.digest()))
        .unwrap()
        .modified()
        .unwrap();
    hostile_page.set("# TYPE up_too gauge\nup_too 1\n".to_owned());
    let stopped = Instant::now();
    wait_until("only the running list left", LIMIT, || {
        let text = page(&catalog_addr);
        value(&text, "cargo_depinfo_catalog_lists") == 1
            && list_series(&text, new.digest()) == CRATES
    });
    // Last seen at the latest round before the change (at most an interval, 500 ms, before
    // it), so dropped no sooner than 1.5 s after it.
    assert!(
        stopped.elapsed() >= Duration::from_millis(1500),
        "dropped before the retention: {:?}",
        stopped.elapsed()
    );
    let line = lines.wait_for(&["longer than --retention 2s: dropped"], LIMIT);
    assert!(made_up_digests.iter().any(|d| line.contains(d)), "{line}");
    let text = page(&catalog_addr);
    assert!(
        value(
            &text,
            "cargo_depinfo_catalog_dropped_total{reason=\"retention\"}"
        ) >= 1
    );
    assert_eq!(value(&text, "cargo_depinfo_catalog_unresolved"), 0);
    testkit::check_metrics(&text);
    assert_eq!(on_disk(&cache).0, [new.digest().to_owned()]);
    // The running list is recorded as seen: its file's time moves on.
    wait_until("the running list recorded as seen", LIMIT, || {
        std::fs::metadata(cache.join(new.digest()))
            .unwrap()
            .modified()
            .unwrap()
            > written + Duration::from_secs(1)
    });

    // The memory for lists stays within the cap: the lists offered cost about 48 MB.
    let peak = status_bytes(pid, "VmHWM");
    eprintln!(
        "made-up lists offered: {MADE_UP}, {offered} bytes with their page lines; held at once: {held}, refused: {refused}; largest cache on disk: {largest_on_disk} bytes; catalog peak RSS {} KiB",
        peak >> 10
    );
    assert!(largest_on_disk <= CAP, "{largest_on_disk}");
    assert!(offered > 40 * CAP, "{offered}");
    // Measured: about 21 MiB here, 16 MiB for an idle catalog; the same run with the cap at
    // 1 GiB (every list held) peaks at about 147 MiB.
    assert!(peak < 64 << 20, "peak RSS {} KiB", peak >> 10);

    // A restart without Prometheus serves the running list at once.
    assert!(
        terminate(&mut catalog),
        "the catalog did not exit 0 on SIGTERM"
    );
    prometheus.kill();
    let (mut again, addr2, _lines2) =
        start_catalog(Command::new(CATALOG), args("127.0.0.1:0", "1h"));
    let text = page(&addr2);
    assert_eq!(list_series(&text, new.digest()), CRATES);
    assert_eq!(value(&text, "cargo_depinfo_catalog_lists"), 1);
    let idle = status_bytes(again.child().id(), "VmHWM");
    eprintln!(
        "restarted catalog (one list, no Prometheus) peak RSS {} KiB",
        idle >> 10
    );
    assert!(
        terminate(&mut again),
        "the catalog did not exit 0 on SIGTERM"
    );
}

#[test]
fn a_retention_shorter_than_the_interval_or_not_a_duration_is_refused_in_one_line() {
    let scratch = Scratch::new("catalog-bounds-flags");
    for (extra, says) in [
        (
            ["--interval", "10s", "--retention", "5s"],
            "--retention 5s is shorter than --interval 10s",
        ),
        (
            ["--interval", "1s", "--retention", "7days"],
            "--retention \"7days\": expected a duration such as 7d, 2w or 12h, from 1s to 10y",
        ),
    ] {
        let out = testkit::run(
            Command::new(CATALOG)
                .args(["--prometheus", "http://127.0.0.1:1"])
                .args(["--listen", "127.0.0.1:0", "--cache"])
                .arg(scratch.join("cache"))
                .args(extra),
            Duration::from_secs(60),
        );
        assert!(!out.status.success(), "{extra:?}");
        let lines = testkit::stderr_lines(&out, 1);
        assert!(lines[0].contains(says), "{extra:?}: {lines:?}");
    }
    // Nothing was started: no cache directory was made.
    assert!(!scratch.join("cache").exists());
}
