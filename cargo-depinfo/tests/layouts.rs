//! Issue 19: `spread`, `affected` and `audit` through `--prometheus` answer the same, byte for
//! byte and exit code for exit code, whatever layout the fleet publishes its crates in.
//!
//! One fleet (two builds of `shop`, and `cart` and `cart-worker` sharing one dependency list)
//! is served by loopback servers as build-info-collector would serve it in each layout, and
//! scraped by real engines (Debian packages `prometheus` and `victoria-metrics`): all `full`
//! (one instance from an older collector without `rust_build_info`), all `catalog` with two
//! replicas of the catalog target (`rust_deps_info`), half migrated (`shop` full, `cart`
//! catalog, `cart-worker` direct), and the catalog layout in VictoriaMetrics. Every target
//! gets the same `instance` label in every engine, so answers compare whole once the
//! engine's URL is a placeholder. Then the contracts: a fleet whose catalog is not deployed is
//! unknown (exit 2 and one line), an empty Prometheus is no data (exit 2 and one line), and a
//! Prometheus API that holds its answer fails on `--timeout`.
//!
//! Every process started here listens on 127.0.0.1 and is stopped by its guard, also when an
//! assertion fails.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use build_info_collector::{
    DepsEntry, DepsList, Layout, RustBuildInfoLabels, RustModInfoLabels, render,
    rust_build_info_family, rust_deps_info_family, rust_deps_info_pairs, rust_mod_info_family,
};
use testkit::{
    Processes, Reply, Scratch, Server, first_value, query, start_prometheus,
    start_victoria_metrics, stderr, stdout, wait_until,
};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";
/// How long an engine may take to hold every target's series.
const SCRAPED_LIMIT: Duration = Duration::from_secs(90);

/// One build of a program: its crates (name, version, direct).
struct Build {
    program: &'static str,
    version: &'static str,
    revision: &'static str,
    crates: &'static [(&'static str, &'static str, bool)],
}

const SHOP_OLD: Build = Build {
    program: "shop",
    version: "1.0.0",
    revision: "aaaa000000000000000000000000000000000000",
    crates: &[
        ("hyper", "0.14.1", true),
        ("itoa", "1.0.15", false),
        ("serde", "1.0.200", true),
    ],
};
const SHOP_NEW: Build = Build {
    program: "shop",
    version: "1.1.0",
    revision: "bbbb000000000000000000000000000000000000",
    crates: &[
        ("hyper", "0.14.12", true),
        ("itoa", "1.0.15", false),
        ("serde", "1.0.210", true),
    ],
};
/// `cart` and `cart-worker`: two binaries of one package, one list.
const CART: Build = Build {
    program: "cart",
    version: "2.0.0",
    revision: "cccc000000000000000000000000000000000000",
    crates: &[("hyper", "0.14.12", true), ("itoa", "1.0.15", false)],
};
const CART_WORKER: Build = Build {
    program: "cart-worker",
    ..CART
};

/// The fleet: instance label, build.
const FLEET: &[(&str, &Build)] = &[
    ("shop-1:8080", &SHOP_OLD),
    ("shop-2:8080", &SHOP_OLD),
    ("shop-3:8080", &SHOP_NEW),
    ("cart-1:8080", &CART),
    ("cart-2:8080", &CART),
    ("cart-worker-1:8080", &CART_WORKER),
];

impl Build {
    fn list(&self) -> DepsList {
        DepsList::from_entries(
            self.crates
                .iter()
                .map(|&(name, version, direct)| DepsEntry {
                    name: name.into(),
                    version: version.into(),
                    source: "crates.io".into(),
                    direct,
                }),
        )
    }

    /// What build-info-collector serves for this build in `layout`; `rust_build_info` left
    /// out for an older collector (`None`).
    fn page(&self, layout: Option<Layout>) -> String {
        let metric = self.program.replace('-', "_");
        let mut page = format!(
            "# HELP {metric}_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which {p} was built.\n\
             # TYPE {metric}_build_info gauge\n\
             {metric}_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"{r}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"{v}\"}} 1\n",
            p = self.program,
            r = self.revision,
            v = self.version,
        );
        let list = self.list();
        let mut families = Vec::new();
        if let Some(layout) = layout {
            let mut build = rust_build_info_family();
            build.push(
                RustBuildInfoLabels {
                    deps: list.digest().into(),
                    layout,
                    program: self.program.into(),
                    revision: self.revision.into(),
                    version: self.version.into(),
                }
                .pairs(),
                1,
            );
            families.push(build);
        }
        let layout = layout.unwrap_or(Layout::Full);
        let mut mods = rust_mod_info_family();
        for e in list.entries() {
            if layout.has_mod_info(e.direct) {
                mods.push(
                    RustModInfoLabels {
                        direct: e.direct,
                        name: e.name.clone(),
                        program: self.program.into(),
                        source: e.source.clone(),
                        version: e.version.clone(),
                    }
                    .pairs(),
                    1,
                );
            }
        }
        if !mods.is_empty() {
            families.push(mods);
        }
        page.push_str(&render(&families).unwrap());
        page.push_str("# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds 9\n");
        page
    }
}

/// The catalog's page: `rust_deps_info` for every distinct list of the fleet.
fn catalog_page() -> String {
    let mut lists: Vec<DepsList> = Vec::new();
    for (_, b) in FLEET {
        let list = b.list();
        if !lists.iter().any(|l| l.digest() == list.digest()) {
            lists.push(list);
        }
    }
    let mut family = rust_deps_info_family();
    let entries: Vec<(String, Vec<DepsEntry<'static>>)> = lists
        .iter()
        .map(|l| {
            (
                l.digest().to_owned(),
                l.entries()
                    .map(|e| DepsEntry {
                        name: Cow::Owned(e.name.into_owned()),
                        version: Cow::Owned(e.version.into_owned()),
                        source: Cow::Owned(e.source.into_owned()),
                        direct: e.direct,
                    })
                    .collect(),
            )
        })
        .collect();
    for (digest, list) in &entries {
        for e in list {
            family.push(rust_deps_info_pairs(digest, e), 1);
        }
    }
    render([&family]).unwrap()
}

/// The servers of one engine's fleet, and its scrape configuration.
struct Served {
    /// Kept to be served until dropped.
    _servers: Vec<Server>,
    config: String,
}

/// Serves every instance in the layout `layout_of` gives it, and `catalogs` replicas of the
/// catalog; each instance is labelled with its fleet name, whatever its port.
fn serve(layout_of: impl Fn(&Build) -> Option<Layout>, catalogs: usize) -> Served {
    let mut servers = Vec::new();
    let mut config = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n",
    );
    for (instance, build) in FLEET {
        let server = Server::fixed(Reply::ok(EXPOSITION, build.page(layout_of(build))));
        let _ = writeln!(
            config,
            "      - targets: ['{}']\n        labels: {{instance: '{instance}'}}",
            server.host_port()
        );
        servers.push(server);
    }
    if catalogs > 0 {
        config.push_str("  - job_name: catalog\n    static_configs:\n");
        for _ in 0..catalogs {
            let server = Server::fixed(Reply::ok(EXPOSITION, catalog_page()));
            let _ = writeln!(config, "      - targets: ['{}']", server.host_port());
            servers.push(server);
        }
    }
    Served {
        _servers: servers,
        config,
    }
}

/// An engine started on `served`'s configuration.
fn start(
    scratch: &Scratch,
    name: &str,
    served: &Served,
    procs: &mut Processes,
    victoria: bool,
) -> String {
    let config = scratch.join(format!("{name}.yml"));
    std::fs::write(&config, &served.config).unwrap();
    let data = scratch.join(format!("{name}-data"));
    let (child, addr) = if victoria {
        start_victoria_metrics(&config, &data)
    } else {
        start_prometheus(&config, &data)
    };
    procs.insert(name.to_owned(), child);
    addr
}

/// Waits until `engine` holds `expected` for each query.
fn wait_for(engine: &str, expected: &[(&str, usize)]) {
    wait_until(
        &format!("{engine} to hold {expected:?}"),
        SCRAPED_LIMIT,
        || {
            expected.iter().all(|(q, n)| {
                first_value(&query(engine, q)).as_deref() == Some(n.to_string().as_str())
            })
        },
    );
}

/// `cargo depinfo ARGS` with an empty cargo home: exit code, stdout, stderr.
fn depinfo(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = testkit::run(
        Command::new(DEPINFO)
            .current_dir(home)
            .env("CARGO_HOME", home)
            .args(args),
        Duration::from_secs(120),
    );
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

/// The questions asked of every engine, with the exit code the fleet gives.
fn questions(db: &str) -> Vec<(Vec<String>, i32)> {
    let q = |args: &[&str], code: i32| (args.iter().map(|a| (*a).to_owned()).collect(), code);
    vec![
        q(&["spread"], 0),
        q(&["spread", "--format", "json"], 0),
        q(&["spread", "--format", "prometheus"], 0),
        q(&["spread", "--crate", "hyper"], 0),
        q(&["spread", "--crate", "serde", "--format", "json"], 0),
        q(&["spread", "--max-versions", "1"], 1),
        q(&["affected", "hyper", "<0.14.10"], 1),
        q(&["affected", "hyper", "<0.14.10", "--format", "json"], 1),
        q(&["affected", "itoa", ">=1.0.0", "--format", "json"], 1),
        q(&["affected", "hyper", ">=9"], 0),
        q(&["affected", "hyper", ">=9", "--format", "json"], 0),
        q(&["audit", "--db", db], 1),
        q(&["audit", "--db", db, "--format", "json"], 1),
        // Issue 22: the report's model is the same picture on every layout.
        q(&["report", "--format", "json", "--db", db], 0),
    ]
}

#[test]
fn spread_affected_and_audit_answer_the_same_on_every_layout_and_engine() {
    let scratch = Scratch::new("layouts");
    let home = scratch.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let db = scratch.join("advisory-db");
    testkit::advisory_db(&db);
    let mut procs = Processes::default();

    // All full: one instance from a collector older than rust_build_info.
    let full = serve(|b| (b.program != "cart-worker").then_some(Layout::Full), 0);
    // All catalog, the catalog served twice (two replicas, their own instance labels).
    let catalog = serve(|_| Some(Layout::Catalog), 2);
    // Half migrated: shop full, cart catalog, cart-worker direct (its direct crates'
    // rust_mod_info must not count).
    let mixed = serve(
        |b| {
            Some(match b.program {
                "shop" => Layout::Full,
                "cart" => Layout::Catalog,
                _ => Layout::Direct,
            })
        },
        1,
    );
    let full_engine = start(&scratch, "full", &full, &mut procs, false);
    let catalog_engine = start(&scratch, "catalog", &catalog, &mut procs, false);
    let mixed_engine = start(&scratch, "mixed", &mixed, &mut procs, false);
    let victoria_engine = start(&scratch, "victoria", &catalog, &mut procs, true);

    let instances = FLEET.len();
    let crates: usize = FLEET.iter().map(|(_, b)| b.crates.len()).sum();
    let catalog_rows = {
        let page = catalog_page();
        page.lines()
            .filter(|l| l.starts_with("rust_deps_info{"))
            .count()
    };
    assert_eq!(catalog_rows, 8, "three distinct lists: {}", catalog_page());
    wait_for(
        &full_engine,
        &[
            ("count(rust_mod_info)", crates),
            ("count(rust_build_info)", instances - 1),
        ],
    );
    for engine in [&catalog_engine, &victoria_engine] {
        wait_for(
            engine,
            &[
                ("count(rust_build_info)", instances),
                ("count(rust_deps_info)", 2 * catalog_rows),
                ("count(up == 1)", instances + 2),
            ],
        );
    }
    assert!(query(&catalog_engine, "rust_mod_info").is_empty());
    // shop's 3 instances × 3 crates, and cart-worker's direct crate.
    wait_for(
        &mixed_engine,
        &[
            ("count(rust_build_info)", instances),
            ("count(rust_mod_info)", 3 * 3 + 1),
            ("count(rust_deps_info)", catalog_rows),
        ],
    );

    let db = db.display().to_string();
    for (args, code) in questions(&db) {
        let through = |engine: &str| {
            let url = format!("http://{engine}");
            let args: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .chain(["--prometheus", url.as_str()])
                .collect();
            let (got, out, err) = depinfo(&home, &args);
            assert_eq!(got, code, "{args:?}: {out}{err}");
            (out.replace(&url, "<ENGINE>"), err.replace(&url, "<ENGINE>"))
        };
        let (full_out, full_err) = through(&full_engine);
        for (name, engine) in [
            ("catalog", &catalog_engine),
            ("mixed", &mixed_engine),
            ("VictoriaMetrics catalog", &victoria_engine),
        ] {
            let (out, err) = through(engine);
            assert_eq!(
                full_out, out,
                "{args:?}: the full layout (left) and the {name} layout (right) disagree"
            );
            assert_eq!(full_err, err, "{args:?}: stderr differs on {name}");
        }
        // The answers are about the fleet, not empty ones that agree.
        if args[0] == "affected" && code == 1 {
            assert!(full_out.contains("shop"), "{args:?}: {full_out}");
        }
        if args == ["affected", "hyper", "<0.14.10", "--format", "json"] {
            assert_eq!(
                testkit::affected_instances(&full_out),
                ["shop-1:8080", "shop-2:8080"]
            );
            assert!(full_out.contains("aaaa000000000000000000000000000000000000"));
        }
        if args == ["affected", "itoa", ">=1.0.0", "--format", "json"] {
            // Every instance once: cart and cart-worker share a list, shop's builds do not.
            let mut all: Vec<&str> = FLEET.iter().map(|(i, _)| *i).collect();
            all.sort_unstable();
            assert_eq!(testkit::affected_instances(&full_out), all);
        }
        if args == ["spread", "--format", "json"] {
            assert!(full_out.contains("\"cart-worker\""), "{full_out}");
        }
        if args[0] == "report" {
            check_report(&full_out);
        }
    }
    drop(full);
    drop(catalog);
    drop(mixed);
}

/// The report of [`FLEET`]: its totals, each build with its instances, and the advisory
/// database's hyper advisory over shop's old build.
fn check_report(json: &str) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        v["totals"],
        serde_json::json!({"programs": 3, "builds": 4, "instances": 6, "crates": 3,
            "crate_versions": 5, "advisories": 1, "outdated": null}),
        "{json}"
    );
    let builds: Vec<String> = v["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{} {} {} {} {}",
                b["program"].as_str().unwrap(),
                b["version"].as_str().unwrap_or("?"),
                &b["revision"].as_str().unwrap_or("?")[..4],
                b["instances"],
                b["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    assert_eq!(
        builds,
        [
            "cart 2.0.0 cccc 2 cart-1:8080,cart-2:8080",
            "cart-worker 2.0.0 cccc 1 cart-worker-1:8080",
            "shop 1.0.0 aaaa 2 shop-1:8080,shop-2:8080",
            "shop 1.1.0 bbbb 1 shop-3:8080",
        ],
        "{json}"
    );
    let advisory = &v["advisories"][0];
    assert_eq!(
        (
            &advisory["package"],
            &advisory["builds"],
            &advisory["instances"]
        ),
        (
            &serde_json::json!("hyper"),
            &serde_json::json!([2]),
            &serde_json::json!(2)
        ),
        "{json}"
    );
    assert_eq!(v["sources"], serde_json::json!(["<ENGINE>"]));
}

/// Regression (issue 19): a fleet in the catalog layout whose catalog is not deployed is
/// unknown, never clean: one line naming the engine, how many instances and builds, and exit
/// 2, whatever else is found; `--layout full` would not see it at all, but is told so.
#[test]
fn digests_the_catalog_does_not_hold_are_unknown_and_exit_2() {
    let scratch = Scratch::new("layouts-unresolved");
    let home = scratch.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut procs = Processes::default();
    let served = serve(|_| Some(Layout::Catalog), 0);
    let engine = start(&scratch, "prometheus", &served, &mut procs, false);
    wait_for(&engine, &[("count(rust_build_info)", FLEET.len())]);
    let url = format!("http://{engine}");
    let line = format!(
        "error: {url}: 6 instances (3 builds) run a dependency list the catalog does not hold (rust_deps_info); their crates are unknown\n"
    );
    for args in [
        &["affected", "hyper", "<0.14.10"][..],
        &["affected", "hyper", ">=9", "--format", "json"],
        &["spread"],
        &["spread", "--crate", "hyper", "--layout", "catalog"],
    ] {
        let args: Vec<&str> = args.iter().copied().chain(["--prometheus", &url]).collect();
        let (code, out, err) = depinfo(&home, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err, line, "{args:?}");
        if args.contains(&"json") {
            testkit::assert_contains(&out, "the catalog does not hold");
        }
    }
    // Counted, the instances of each build add up the same way.
    let (code, _, err) = depinfo(&home, &["spread", "--format", "json", "--prometheus", &url]);
    assert_eq!((code, err), (2, line));
    // Told `full`, a catalog-only fleet holds no data of that layout: never a clean answer.
    let (code, out, err) = depinfo(
        &home,
        &[
            "affected",
            "hyper",
            "<0.14.10",
            "--layout",
            "full",
            "--prometheus",
            &url,
        ],
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(
        err,
        format!(
            "error: {url}: no rust_mod_info (--layout full) series: is this the right server or tenant?\n"
        )
    );
    drop(served);
}

/// Regression (issue 19): `affected` against a Prometheus holding none of our series printed
/// `"affected": []` and exited 0 with nothing on stderr. It is no data now: one line naming
/// the URL, and exit 2, for every question and every `--layout`.
#[test]
fn an_empty_prometheus_is_no_data_not_a_clean_answer() {
    let scratch = Scratch::new("layouts-empty");
    let home = scratch.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let db = scratch.join("advisory-db");
    testkit::advisory_db(&db);
    let db = db.display().to_string();
    let mut procs = Processes::default();
    let empty = Served {
        _servers: Vec::new(),
        config: "global:\n  scrape_interval: 1s\n".to_owned(),
    };
    let engine = start(&scratch, "prometheus", &empty, &mut procs, false);
    let url = format!("http://{engine}");
    let line = format!(
        "error: {url}: no rust_mod_info or rust_build_info series: is this the right server or tenant?\n"
    );
    let told = |layout: &str| {
        format!(
            "error: {url}: no {} (--layout {layout}) series: is this the right server or tenant?\n",
            if layout == "full" {
                "rust_mod_info"
            } else {
                "rust_build_info"
            }
        )
    };
    for (args, line) in [
        (&["affected", "serde", ">=1", "--format", "json"][..], &line),
        (&["affected", "serde", ">=1"], &line),
        (
            &["affected", "serde", ">=1", "--layout", "full"],
            &told("full"),
        ),
        (
            &["affected", "serde", ">=1", "--layout", "catalog"],
            &told("catalog"),
        ),
        (&["spread"], &line),
        (&["spread", "--format", "json"], &line),
        (&["audit", "--db", &db], &line),
    ] {
        let args: Vec<&str> = args.iter().copied().chain(["--prometheus", &url]).collect();
        let (code, out, err) = depinfo(&home, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(line.as_str()), "{args:?}: {err}");
        if args.contains(&"json") && args[0] == "affected" {
            testkit::assert_contains(&out, "is this the right server or tenant?");
        }
    }
}

/// A Prometheus API that holds its answer fails on an explicit `--timeout`, in one line naming
/// it, long before the 120 s default of Prometheus APIs.
#[test]
fn a_prometheus_that_holds_its_answer_fails_on_the_timeout_given() {
    let held = Server::start(|_| {
        std::thread::sleep(Duration::from_secs(5));
        Reply::ok(
            "application/json",
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
    });
    let url = held.url("");
    let home = Scratch::new("layouts-timeout");
    let started = Instant::now();
    let (code, out, err) = depinfo(
        home.path(),
        &["spread", "--timeout", "0.5", "--prometheus", &url],
    );
    assert!(started.elapsed() < Duration::from_secs(4), "{err}");
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!("error: {url}: no answer within 0.5s (--timeout)\n")
    );
}

/// The defaults of each kind of source are what `--help` says.
#[test]
fn the_help_gives_each_kind_of_source_its_default_timeout() {
    let home = Scratch::new("layouts-help");
    let (code, out, _) = depinfo(home.path(), &["spread", "--help"]);
    assert_eq!(code, 0);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    testkit::assert_contains(
        &flat,
        "Default: 5 for a /metrics page (a dead target fails fast), 120 for a Prometheus API",
    );
    testkit::assert_contains(
        &flat,
        "- auto: Detect the layouts in use - full: rust_mod_info only - catalog: rust_build_info and the catalog only [default: auto]",
    );
}

/// A target in the catalog layout, as a service with the collector's helper serves it: its
/// page, and its list at `/deps/<digest>` (`list` replaces the true list's bytes when given).
fn catalog_target(build: &'static Build, list: Option<String>) -> Server {
    let page = build.page(Some(Layout::Catalog));
    let true_list = build.list();
    let path = true_list.path();
    let body = list.unwrap_or_else(|| true_list.text().to_owned());
    Server::start(move |p| {
        if p == "/metrics" {
            Reply::ok(EXPOSITION, page.clone())
        } else if p == path {
            Reply::ok(build_info_collector::DEPS_LIST_CONTENT_TYPE, body.clone())
        } else {
            Reply::not_found()
        }
    })
}

/// Issue 19 on `--metrics`: a page in the catalog (or direct) layout is answered from the list
/// its target serves at `/deps/<digest>`, checked against the digest, and answers as the full
/// page does; a list that cannot be read (missing, or not the one the digest names) leaves the
/// crates unknown (exit 2, one line); a page with none of our series is no data (exit 2).
#[test]
fn metrics_pages_in_the_catalog_layout_read_their_list_from_the_target() {
    let home = Scratch::new("layouts-pages");
    let full = Server::fixed(Reply::ok(EXPOSITION, SHOP_OLD.page(Some(Layout::Full))));
    let catalog = catalog_target(&SHOP_OLD, None);
    let direct = {
        let page = SHOP_OLD.page(Some(Layout::Direct));
        let list = SHOP_OLD.list();
        let (path, text) = (list.path(), list.text().to_owned());
        Server::start(move |p| {
            if p == "/metrics" {
                Reply::ok(EXPOSITION, page.clone())
            } else if p == path {
                Reply::ok(build_info_collector::DEPS_LIST_CONTENT_TYPE, text.clone())
            } else {
                Reply::not_found()
            }
        })
    };
    let full_url = full.url("/metrics");
    for (args, code) in [
        (&["affected", "hyper", "<0.14.10"][..], 1),
        (&["affected", "itoa", ">=1", "--format", "json"], 1),
        (&["spread"], 0),
        (&["spread", "--format", "json"], 0),
    ] {
        let run = |url: &str| {
            let args: Vec<&str> = args.iter().copied().chain(["--metrics", url]).collect();
            let (got, out, err) = depinfo(home.path(), &args);
            assert_eq!(got, code, "{args:?}: {out}{err}");
            (out, err)
        };
        let (want, want_err) = run(&full_url);
        assert!(want.contains("shop"), "{want}");
        for other in [&catalog, &direct] {
            let (out, err) = run(&other.url("/metrics"));
            let out = out.replace(&other.host_port(), &full.host_port());
            assert_eq!(want, out, "{args:?}");
            assert_eq!(want_err, err, "{args:?}");
        }
    }

    // The list is missing, or is another build's (a lying target): unknown, never clean.
    let digest = SHOP_OLD.list().digest().to_owned();
    for (list, why) in [
        (Some(String::new()), "the list's digest is"),
        (
            Some(SHOP_NEW.list().text().to_owned()),
            "the list's digest is",
        ),
    ] {
        let target = catalog_target(&SHOP_OLD, list);
        let url = target.url("/metrics");
        let (code, out, err) = depinfo(
            home.path(),
            &["affected", "hyper", "<0.14.10", "--metrics", &url],
        );
        assert_eq!(code, 2, "{out}{err}");
        assert_eq!(
            out, "",
            "no crate is read from a list that is not its digest's"
        );
        let head = format!(
            "error: {url}: shop: its dependency list {digest} could not be read from {}: {why}",
            target.url(&format!("/deps/{digest}"))
        );
        assert!(err.starts_with(&head), "{err}");
        assert!(err.ends_with("; its crates are unknown\n"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let missing = Server::start({
        let page = SHOP_OLD.page(Some(Layout::Catalog));
        move |p| {
            if p == "/metrics" {
                Reply::ok(EXPOSITION, page.clone())
            } else {
                Reply::not_found()
            }
        }
    });
    let url = missing.url("/metrics");
    let (code, _, err) = depinfo(home.path(), &["spread", "--metrics", &url]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err,
        format!(
            "error: {url}: shop: its dependency list {digest} could not be read from {}: HTTP 404; its crates are unknown\n",
            missing.url(&format!("/deps/{digest}"))
        )
    );

    // Not one of ours: a page of another exporter.
    let other = Server::fixed(Reply::ok(
        EXPOSITION,
        "# TYPE node_exporter_build_info gauge\nnode_exporter_build_info{goversion=\"go1.22\",version=\"1.8.0\"} 1\n",
    ));
    let url = other.url("/metrics");
    let (code, out, err) = depinfo(
        home.path(),
        &[
            "affected",
            "serde",
            ">=1",
            "--format",
            "json",
            "--metrics",
            &url,
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "error: {url}: no rust_mod_info or rust_build_info series: is this the right page?\n"
        )
    );
}

/// The progress line on a real terminal (a pseudo-terminal from util-linux's `script`): while
/// a Prometheus API holds its answer, the line names it, what was asked, and how long of the
/// 120 s default; it is erased before the answer's lines.
#[test]
fn the_progress_line_says_what_it_waits_for_on_a_terminal() {
    let held = Server::start(|path| {
        if path.starts_with("/api/v1/label/") {
            return Reply::ok("application/json", r#"{"status":"success","data":[]}"#);
        }
        std::thread::sleep(Duration::from_millis(1500));
        Reply::ok(
            "application/json",
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        )
    });
    let url = held.url("");
    let home = Scratch::new("layouts-progress");
    // `report` over a large fleet waits the same way (issue 22), for every instance's series.
    for (command, asked) in [
        ("spread", "count by over rust_mod_info"),
        ("report --format json", "rust_mod_info series"),
    ] {
        let command = format!("{DEPINFO} {command} --layout full --prometheus {url}");
        let out = testkit::run(
            Command::new("script")
                .args(["-q", "-e", "-c", &command, "/dev/null"])
                .env("TERM", "xterm")
                .env_remove("NO_COLOR")
                .current_dir(home.path()),
            Duration::from_secs(60),
        );
        let shown = stdout(&out);
        testkit::assert_contains(
            &shown,
            &format!("\rwaiting for {url} ({asked}), 1 s of 120 s\x1b[K"),
        );
        // The server holds none of our series: said once the line is gone.
        testkit::assert_contains(
            &shown,
            &format!("\r\x1b[Kerror: {url}: no rust_mod_info (--layout full) series"),
        );
    }
}
