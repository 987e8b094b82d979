//! `depinfo-catalog --prometheus URL --listen ADDR` against a real Prometheus scraping
//! fake instances that publish only `rust_build_info{deps="<digest>"}`:
//!
//! - the catalog fetches each list from a target Prometheus scrapes, and the PromQL join
//!   `rust_build_info and on(deps) rust_deps_info{...}` names the right instances;
//! - a target that serves a modified document, or another digest's document, is refused in one
//!   line, and the list still arrives from an honest target;
//! - a series whose `instance` label names another address (honor_labels) makes the catalog
//!   contact nothing there, and Prometheus' credentials never reach a target;
//! - after a restart, the cache serves the same page before Prometheus answers, and a cache
//!   file that does not match its name is reported and skipped.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use build_info_collector::{DepsEntry, DepsList};
use serde_json::Value;
use testkit::{
    Scratch, fake_instance, get, query, sorted_listeners, start_catalog, start_catalog_prometheus,
    terminate, unused_addr, wait_until,
};

const CATALOG: &str = env!("CARGO_BIN_EXE_depinfo-catalog");

const LIMIT: Duration = Duration::from_secs(90);

fn list(crates: &[(&'static str, &'static str, bool)]) -> DepsList {
    DepsList::from_entries(crates.iter().map(|&(name, version, direct)| DepsEntry {
        name: name.into(),
        version: version.into(),
        source: "crates.io".into(),
        direct,
    }))
}

/// A `/metrics` page with one `rust_build_info` series (and `extra` labels).
fn build_info(deps: &str, program: &str, extra: &str) -> String {
    format!(
        "# TYPE rust_build_info gauge\nrust_build_info{{deps=\"{deps}\",layout=\"catalog\",program=\"{program}\",revision=\"abc\",version=\"1.0.0\"{extra}}} 1\n"
    )
}

/// The `instance` labels of a query's result, sorted.
fn instances(result: &[Value]) -> BTreeSet<String> {
    result
        .iter()
        .map(|s| s["metric"]["instance"].as_str().unwrap().to_owned())
        .collect()
}

/// The catalog's page lines that describe lists (not the per-round figures).
fn list_lines(page: &str) -> Vec<String> {
    page.lines()
        .filter(|l| {
            l.starts_with("rust_deps_info{") || l.starts_with("cargo_depinfo_catalog_lists ")
        })
        .map(str::to_owned)
        .collect()
}

fn page(addr: &str) -> String {
    let r = get(addr, "/metrics").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[test]
fn the_catalog_resolves_the_fleets_lists_through_prometheus_and_refuses_liars() {
    let scratch = Scratch::new("catalog-e2e");
    let cache = scratch.join("cache");
    let a = list(&[("serde", "1.0.0", true), ("itoa", "1.0.15", false)]);
    let b = list(&[("serde", "1.0.1", true), ("ryu", "1.0.20", true)]);
    let c = list(&[("hidden", "0.1.0", true)]);
    let (da, db, dc) = (
        a.digest().to_owned(),
        b.digest().to_owned(),
        c.digest().to_owned(),
    );
    let modified = a.text().replace("1.0.15", "1.0.16");

    // Liars sort first, so the catalog asks them before the honest replica of their build.
    let [l_modified, l_other, l_a, l_b, l_spoof] = sorted_listeners::<5>();
    let addr = |l: &TcpListener| l.local_addr().unwrap().to_string();
    let (liar_modified, liar_other, honest_a, honest_b, spoofer) = (
        addr(&l_modified),
        addr(&l_other),
        addr(&l_a),
        addr(&l_b),
        addr(&l_spoof),
    );
    // Where the spoofer's `instance` label points: a listener that must see no connection.
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    let trap_addr = trap.local_addr().unwrap().to_string();
    let liar_modified_server = fake_instance(
        l_modified,
        build_info(&da, "app-a", ""),
        vec![(da.clone(), modified.into_bytes())],
    );
    let liar_other_server = fake_instance(
        l_other,
        build_info(&db, "app-b", ""),
        vec![(db.clone(), a.text().as_bytes().to_vec())],
    );
    let honest_old_server = fake_instance(
        l_a,
        build_info(&da, "app-a", ""),
        vec![(da.clone(), a.text().as_bytes().to_vec())],
    );
    let honest_new_server = fake_instance(
        l_b,
        build_info(&db, "app-b", ""),
        vec![(db.clone(), b.text().as_bytes().to_vec())],
    );
    let spoof = fake_instance(
        l_spoof,
        build_info(&dc, "app-c", &format!(",instance=\"{trap_addr}\"")),
        vec![(dc.clone(), c.text().as_bytes().to_vec())],
    );

    let catalog_addr = unused_addr().to_string();
    let (mut prometheus, prom) = start_catalog_prometheus(
        &scratch,
        &[&liar_modified, &liar_other, &honest_a, &honest_b],
        &format!(
            "  - job_name: spoof\n    honor_labels: true\n    static_configs:\n      - targets: ['{spoofer}']\n"
        ),
        &catalog_addr,
    );
    // Every instance scraped before the catalog's first round, so that each digest's liar is
    // among its candidates from the start.
    wait_until("the fleet scraped", LIMIT, || {
        query(&prom, "count(rust_build_info)")
            .first()
            .is_some_and(|s| s["value"][1] == "5")
    });
    assert_eq!(
        instances(&query(&prom, &format!("rust_build_info{{deps=\"{dc}\"}}"))),
        BTreeSet::from([trap_addr.clone()])
    );

    let prom_url = format!("http://{prom}");
    let args = |listen: &str| {
        vec![
            "--prometheus".to_owned(),
            prom_url.clone(),
            "--listen".to_owned(),
            listen.to_owned(),
            "--cache".to_owned(),
            cache.display().to_string(),
            "--interval".to_owned(),
            "1s".to_owned(),
            // Prometheus' credentials: they must never reach a target.
            "--header".to_owned(),
            "Authorization: Bearer s3cret-token".to_owned(),
        ]
    };
    let (mut catalog, served_at, lines) = start_catalog(Command::new(CATALOG), args(&catalog_addr));
    assert_eq!(served_at, catalog_addr);

    wait_until("both lists resolved", LIMIT, || {
        page(&catalog_addr).contains("cargo_depinfo_catalog_lists 2\n")
    });
    // Each liar refused in one line naming it and the digest; the honest list kept.
    for (liar, digest) in [(&liar_modified, &da), (&liar_other, &db)] {
        let line = lines.wait_for(&["refused", liar, digest], LIMIT);
        assert!(line.starts_with("cargo-depinfo catalog: "), "{line}");
    }
    let text = page(&catalog_addr);
    testkit::assert_contains(
        &text,
        "cargo_depinfo_catalog_refused_total{reason=\"invalid\"} 2\n",
    );
    // The spoofed digest has no target to ask: unresolved, and nobody was contacted for it.
    testkit::assert_contains(&text, "cargo_depinfo_catalog_unresolved 1\n");
    testkit::check_metrics(&text);
    for (digest, list) in [(&da, &a), (&db, &b)] {
        assert_eq!(
            std::fs::read_to_string(cache.join(digest)).unwrap(),
            list.text()
        );
        let served = get(&catalog_addr, &format!("/deps/{digest}")).unwrap();
        assert_eq!((served.status, served.body.as_str()), (200, list.text()));
    }
    assert_eq!(
        get(&catalog_addr, &format!("/deps/{dc}")).unwrap().status,
        404
    );
    let mut cached: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    cached.sort();
    let mut want = vec![da.clone(), db.clone()];
    want.sort();
    assert_eq!(cached, want);

    // Prometheus scrapes the catalog; the join names the instances of each build.
    wait_until("the catalog scraped", LIMIT, || {
        query(&prom, "count(rust_deps_info)")
            .first()
            .is_some_and(|s| s["value"][1] == "4")
    });
    let join = |selector: &str| {
        instances(&query(
            &prom,
            &format!("rust_build_info and on(deps) rust_deps_info{{{selector}}}"),
        ))
    };
    assert_eq!(
        join("name=\"serde\",version=\"1.0.0\""),
        BTreeSet::from([liar_modified.clone(), honest_a.clone()])
    );
    assert_eq!(
        join("name=\"serde\",version=\"1.0.1\""),
        BTreeSet::from([liar_other.clone(), honest_b.clone()])
    );
    assert_eq!(
        join("name=\"itoa\",version=\"1.0.15\",direct=\"false\""),
        BTreeSet::from([liar_modified.clone(), honest_a.clone()])
    );
    // What the liars claimed never reached the catalog.
    assert!(join("name=\"itoa\",version=\"1.0.16\"").is_empty());
    assert!(join("name=\"hidden\"").is_empty());

    // Each server was asked for its list without Prometheus' credentials.
    for server in [
        &liar_modified_server,
        &liar_other_server,
        &honest_old_server,
        &honest_new_server,
    ] {
        let heads = server.heads();
        assert!(
            heads.iter().any(|h| h.starts_with("GET /deps/")),
            "{heads:?}"
        );
        assert!(heads.iter().all(|h| !h.contains("s3cret")), "{heads:?}");
    }

    // Said once, however many rounds have passed since.
    lines.wait_for(&[&dc, "no active target"], LIMIT);
    let said = lines.all();
    assert_eq!(
        said.iter().filter(|l| l.contains(&dc)).count(),
        1,
        "{said:#?}"
    );

    // Nothing at the address the label named; the spoofer itself was only scraped.
    trap.set_nonblocking(true).unwrap();
    assert_eq!(
        trap.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the catalog connected to an address taken from a label"
    );
    assert!(
        spoof.requests().iter().all(|r| r == "/metrics"),
        "{:?}",
        spoof.requests()
    );

    // A clean stop, then a restart with Prometheus gone: the cache is served at once, and a
    // file that does not match its name is reported and skipped.
    let before = list_lines(&text);
    assert!(
        terminate(&mut catalog),
        "the catalog did not exit 0 on SIGTERM"
    );
    prometheus.kill();
    std::fs::write(cache.join(&dc), a.text()).unwrap();
    let (mut again, addr2, lines2) = start_catalog(Command::new(CATALOG), args("127.0.0.1:0"));
    assert_eq!(list_lines(&page(&addr2)), before);
    let bad = lines2.wait_for(&[&dc, "does not match"], LIMIT);
    assert!(!bad.contains('\n'));
    lines2.wait_for(
        &[
            "Prometheus",
            &prom,
            "did not answer",
            "serving the 2 lists cached",
        ],
        LIMIT,
    );
    assert_eq!(list_lines(&page(&addr2)), before);
    assert!(
        terminate(&mut again),
        "the catalog did not exit 0 on SIGTERM"
    );
}
