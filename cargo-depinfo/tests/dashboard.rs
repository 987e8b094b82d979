//! Issue 22: the Grafana dashboard (`grafana/cargo-depinfo-fleet.json`, printed by `cargo
//! depinfo dashboard`).
//!
//! The JSON is checked for the fields of Grafana's dashboard schema that an import needs
//! (panels, their targets and positions, the templating list), and the command's stdout against
//! the file, byte for byte. Then every query of the dashboard, its variables substituted, runs
//! against a real Prometheus (Debian package `prometheus`), once per layout: a fleet served by
//! loopback pages as build-info-collector serves it (`full`, or `catalog` with the catalog's
//! `rust_deps_info` page, one instance on `direct`), the real `depinfo-exporter` on this host watching processes of ours
//! whose binary was deleted, replaced on disk or run from a memfd, the `cargo depinfo audit
//! --format prometheus` textfile served as node_exporter would serve it, and the rules of
//! `cargo depinfo rules --advisories` (checked by promtool) with every `for:` at 0s so that the
//! alerts fire. Each panel must answer the same rows, counted by hand, on both layouts; the
//! variable queries are asked as Grafana asks `label_values` (`/api/v1/label/L/values`).
//!
//! Every process started here listens on 127.0.0.1 (or on nothing) and is stopped by its
//! guard, also when an assertion fails.
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use build_info_collector::{DepsEntry, DepsList};
use serde_json::Value;
use testkit::{
    Processes, Reply, Running, Scratch, Server, auditable_sleeper, first_value, get, query,
    start_prometheus, stderr, stdout, url_encode, wait_exec, wait_until,
};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/grafana/cargo-depinfo-fleet.json"
);
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";
/// How long Prometheus may take to hold every series and fire every alert.
const SCRAPED_LIMIT: Duration = Duration::from_secs(60);
/// The datasource every panel and query variable names: the dashboard's own variable.
const DATASOURCE: &str = r#"{"type":"prometheus","uid":"${datasource}"}"#;

fn dashboard() -> Value {
    let text = std::fs::read_to_string(FILE).unwrap_or_else(|e| panic!("{FILE}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{FILE}: {e}"))
}

/// Every panel target: (panel title, refId, expr).
fn targets(d: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for panel in d["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            out.push((
                panel["title"].as_str().unwrap().to_owned(),
                t["refId"].as_str().unwrap().to_owned(),
                t["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    out
}

/// The query variables: (name, query).
fn query_variables(d: &Value) -> Vec<(String, String)> {
    d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["type"] == "query")
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["query"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `$name` and `${name}` replaced by the values of `vars` (what Grafana sends for a single
/// value, or for "All" with the custom all value `.*`).
fn substitute(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in vars {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    assert!(
        !out.contains('$'),
        "a variable is left after substitution: {out}"
    );
    out
}

/// The `$variables` a text names (Grafana's `$__` globals aside).
fn variables_named(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices('$') {
        let rest = text[i + 1..].trim_start_matches('{');
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.starts_with("__") {
            names.insert(name);
        }
    }
    names
}

/// A panel's place on Grafana's grid (24 columns wide).
struct GridBox<'a> {
    x: u64,
    y: u64,
    w: u64,
    h: u64,
    title: &'a str,
}

impl GridBox<'_> {
    /// Whether the two boxes share no cell.
    fn apart(&self, other: &GridBox<'_>) -> bool {
        self.x + self.w <= other.x
            || other.x + other.w <= self.x
            || self.y + self.h <= other.y
            || other.y + other.h <= self.y
    }
}

/// A panel's `gridPos`: whole numbers, inside the 24 columns, not empty.
fn grid_box<'a>(grid: &Value, title: &'a str) -> GridBox<'a> {
    let n = |k: &str| {
        grid[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{title}: gridPos.{k}"))
    };
    let rect = GridBox {
        x: n("x"),
        y: n("y"),
        w: n("w"),
        h: n("h"),
        title,
    };
    assert!(
        rect.w >= 1 && rect.h >= 1 && rect.x + rect.w <= 24,
        "{title}: {grid}"
    );
    rect
}

#[test]
fn the_command_prints_the_file_and_the_file_has_what_grafana_imports() {
    let out = testkit::run(
        Command::new(DEPINFO).arg("dashboard"),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        out.stdout,
        std::fs::read(FILE).unwrap(),
        "stdout is not {FILE}"
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let d: Value = serde_json::from_slice(&out.stdout).expect("the dashboard is JSON");

    for field in ["uid", "title"] {
        assert!(
            d[field].as_str().is_some_and(|s| !s.is_empty()),
            "no {field}"
        );
    }
    assert!(
        d["uid"].as_str().unwrap().len() <= 40,
        "Grafana's uid limit"
    );
    // Datasource references as objects ({type, uid}) need schema 33 or later.
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 33));
    assert!(
        d["id"].is_null(),
        "an imported dashboard gets its id from Grafana"
    );
    let datasource: Value = serde_json::from_str(DATASOURCE).unwrap();

    let panels = d["panels"].as_array().unwrap();
    assert!(panels.len() >= 5, "{}", panels.len());
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<GridBox<'_>> = Vec::new();
    for p in panels {
        let title = p["title"]
            .as_str()
            .filter(|t| !t.is_empty())
            .expect("a title");
        assert!(
            ids.insert(p["id"].as_u64().expect("an id")),
            "id twice: {title}"
        );
        assert!(
            ["table", "bargauge", "stat", "timeseries"].contains(&p["type"].as_str().unwrap()),
            "{title}: type {}",
            p["type"]
        );
        assert_eq!(p["datasource"], datasource, "{title}");
        let rect = grid_box(&p["gridPos"], title);
        for other in &boxes {
            assert!(rect.apart(other), "{title} overlaps {}", other.title);
        }
        boxes.push(rect);
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title}: no targets");
        let mut refs = BTreeSet::new();
        for t in targets {
            assert!(
                refs.insert(t["refId"].as_str().filter(|r| !r.is_empty()).unwrap()),
                "{title}: refId twice"
            );
            assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()), "{title}");
            assert_eq!(t["datasource"], datasource, "{title}");
        }
    }

    let list = d["templating"]["list"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["datasource", "job", "program", "crate"]);
    assert_eq!(list[0]["type"], "datasource");
    assert_eq!(list[0]["query"], "prometheus");
    for v in &list[1..] {
        let name = v["name"].as_str().unwrap();
        assert_eq!(v["type"], "query", "{name}");
        assert_eq!(v["datasource"], datasource, "{name}");
        let q = v["query"].as_str().unwrap();
        assert!(
            q.starts_with("label_values(") && q.ends_with(')'),
            "{name}: {q}"
        );
        assert_eq!(v["definition"], q, "{name}");
        assert_eq!(v["multi"], true, "{name}");
        assert_eq!(v["includeAll"], true, "{name}");
        assert_eq!(v["allValue"], ".*", "{name}");
    }

    // The import as both READMEs show it, in three lines, starting with this command.
    let root = testkit::workspace_root();
    let import = |file: &Path, heading: &str| -> Vec<String> {
        testkit::fenced_lines(file, heading)
            .into_iter()
            .filter(|(lang, _)| lang == "sh")
            .map(|(_, line)| line)
            .collect()
    };
    let shown = import(&root.join("README.md"), "## A Grafana dashboard");
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(shown[0], "cargo depinfo dashboard > depinfo.json");
    assert!(shown[1].contains("Import"), "{shown:?}");
    assert_eq!(
        import(
            &root.join("cargo-depinfo/README.md"),
            "## Grafana dashboard"
        ),
        shown
    );

    // Every variable a query names exists, and each of job, program and crate is used.
    let defined: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut used = BTreeSet::new();
    for (title, _, expr) in targets(&d) {
        let in_expr = variables_named(&expr);
        assert!(in_expr.is_subset(&defined), "{title}: {in_expr:?}");
        used.extend(in_expr);
    }
    for (_, q) in query_variables(&d) {
        used.extend(variables_named(&q));
    }
    for name in ["job", "program", "crate"] {
        assert!(used.contains(name), "${name} is used nowhere");
    }
}

#[test]
fn the_alerts_panel_names_every_alert_the_rules_write() {
    let out = testkit::run_ok(Command::new(DEPINFO).args(["rules", "--advisories"]));
    let mut written: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(str::to_owned)
        .collect();
    written.sort();
    let alerts = targets(&dashboard())
        .into_iter()
        .find(|(_, _, expr)| expr.starts_with("ALERTS{"))
        .expect("a panel asks ALERTS")
        .2;
    let names = alerts
        .split("alertname=~\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no alertname=~ in {alerts}"));
    let mut shown: Vec<String> = names.split('|').map(str::to_owned).collect();
    shown.sort();
    assert_eq!(shown, written);
}

// ---- The queries against a real Prometheus ----

/// One build of a fleet program: its crates (name, version, direct).
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

/// A program the exporter sees running (its process is started below) that also has a
/// collector of its own: the collector's series win, the exporter's must not count again.
const DASH_CURRENT: Build = Build {
    program: "dash-current",
    version: "0.1.0",
    revision: "dddd000000000000000000000000000000000000",
    crates: &[("itoa", "1.0.15", true)],
};

/// The fleet: instance label, build.
const FLEET: &[(&str, &Build)] = &[
    ("shop-1:8080", &SHOP_OLD),
    ("shop-2:8080", &SHOP_OLD),
    ("shop-3:8080", &SHOP_NEW),
    ("cart-1:8080", &CART),
    ("cart-2:8080", &CART),
    ("cart-worker-1:8080", &CART_WORKER),
    ("dash-current-1:8080", &DASH_CURRENT),
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

    /// What build-info-collector serves for this build in `layout`: `full` (a `rust_mod_info`
    /// per crate), `catalog` (the digest only) or `direct` (the digest, and `rust_mod_info`
    /// for the direct crates only, which must not count twice).
    fn page(&self, layout: &str) -> String {
        let metric = self.program.replace('-', "_");
        let (p, v, r) = (self.program, self.version, self.revision);
        let digest = self.list().digest().to_owned();
        let mut page = format!(
            "# TYPE {metric}_build_info gauge\n\
             {metric}_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"{r}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"{v}\"}} 1\n\
             # TYPE rust_build_info gauge\n\
             rust_build_info{{deps=\"{digest}\",layout=\"{layout}\",program=\"{p}\",revision=\"{r}\",version=\"{v}\"}} 1\n"
        );
        if layout != "catalog" {
            page.push_str("# TYPE rust_mod_info gauge\n");
            for (name, version, direct) in self.crates {
                if layout == "direct" && !direct {
                    continue;
                }
                let _ = writeln!(
                    page,
                    "rust_mod_info{{direct=\"{direct}\",name=\"{name}\",program=\"{p}\",source=\"crates.io\",version=\"{version}\"}} 1"
                );
            }
        }
        page
    }
}

/// The catalog's page: `rust_deps_info` for each distinct list.
fn catalog_page(lists: &[DepsList]) -> String {
    let mut page = String::from("# TYPE rust_deps_info gauge\n");
    let mut seen = BTreeSet::new();
    for list in lists {
        if !seen.insert(list.digest().to_owned()) {
            continue;
        }
        for e in list.entries() {
            let _ = writeln!(
                page,
                "rust_deps_info{{deps=\"{}\",direct=\"{}\",name=\"{}\",source=\"{}\",version=\"{}\"}} 1",
                list.digest(),
                e.direct,
                e.name,
                e.source,
                e.version
            );
        }
    }
    page
}

/// `.dep-v0` JSON: `root` (a local package) at `version`, depending directly on `deps`.
fn dep_v0(root: &str, version: &str, deps: &[(&str, &str)]) -> String {
    let deps: Vec<_> = deps.iter().map(|&(n, v)| (n, v, "crates.io")).collect();
    testkit::dep_v0_json((root, version, "local"), &deps)
}

fn spawn(cmd: &mut Command) -> Running {
    Running::spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// The processes the exporter reports on: cargo-auditable-style copies of `sleep` (the
/// program name is the `.dep-v0` root's), one current, one deleted after it started, one
/// replaced on disk by a build with a patched crate, one run from a memfd.
fn stale_processes(dir: &Path, procs: &mut Processes) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let mut start = |name: &str, path: &Path| {
        let mut p = spawn(Command::new(path).arg("300"));
        wait_exec(&mut p, path);
        procs.insert(name.to_owned(), p);
    };
    let current = bin.join("dash-current");
    auditable_sleeper(
        &current,
        &dep_v0("dash-current", "0.1.0", &[("itoa", "1.0.15")]),
    );
    start("current", &current);

    let stale = bin.join("dash-stale");
    auditable_sleeper(
        &stale,
        &dep_v0("dash-stale", "0.9.0", &[("itoa", "1.0.10")]),
    );
    start("stale", &stale);
    std::fs::remove_file(&stale).unwrap();

    let swap = bin.join("dash-swap");
    auditable_sleeper(
        &swap,
        &dep_v0("dash-swap", "1.0.0", &[("vulncrate", "1.2.0")]),
    );
    start("swap", &swap);
    // A patched build installed the way package managers do: beside it, renamed over it.
    let patched = bin.join("dash-swap.new");
    auditable_sleeper(
        &patched,
        &dep_v0("dash-swap", "1.0.1", &[("vulncrate", "1.2.1")]),
    );
    std::fs::rename(&patched, &swap).unwrap();

    let source = dir.join("dash-memfd");
    auditable_sleeper(
        &source,
        &dep_v0("dash-memfd", "0.2.0", &[("itoa", "1.0.15")]),
    );
    let mut memfd = spawn(Command::new("python3").args([
        "-c",
        "import os,sys; fd=os.memfd_create('dash-memfd'); os.write(fd, open(sys.argv[1],'rb').read()); os.execve(fd, ['dash-memfd','300'], {})",
        source.to_str().unwrap(),
    ]));
    wait_exec(&mut memfd, "/memfd:dash-memfd (deleted)");
    procs.insert("memfd".into(), memfd);
}

/// The exporter's `/metrics` once it reports our four programs: (page).
fn exporter_page(addr: &str) -> String {
    let mut page = String::new();
    wait_until("the exporter to see our programs", SCRAPED_LIMIT, || {
        let Ok(answer) = get(addr, "/metrics") else {
            return false;
        };
        page = answer.body;
        ["dash-current", "dash-stale", "dash-swap", "dash-memfd"]
            .iter()
            .all(|p| page.contains(&format!("origin=\"exporter\",program=\"{p}\"")))
            && page.contains("rust_mod_replaced_info{")
    });
    page
}

/// The dependency lists of our programs in a catalog-layout exporter's page, fetched from it
/// at `/deps/<digest>` as depinfo-catalog fetches them, and checked against their digest.
fn exporter_lists(addr: &str, page: &str) -> Vec<DepsList> {
    page.lines()
        .filter(|l| l.starts_with("rust_build_info{") && l.contains("program=\"dash-"))
        .map(|l| {
            let digest = l
                .split("deps=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no digest in {l}"));
            let answer = get(addr, &format!("/deps/{digest}")).unwrap();
            assert_eq!(answer.status, 200, "/deps/{digest}: {}", answer.body);
            DepsList::verify(digest, answer.body.as_bytes(), 1 << 20).unwrap()
        })
        .collect()
}

/// What one layout's Prometheus scrapes.
struct Scraped<'a> {
    /// The fleet's pages: (instance label, address).
    pages: &'a [(String, String)],
    exporter: &'a str,
    /// The audit's textfile, as node_exporter serves it.
    textfile: &'a str,
    /// The catalog's page (catalog layout only).
    catalog: Option<&'a str>,
}

/// A Prometheus scraping one layout's fleet, the exporter, the audit's textfile and (for the
/// catalog layout) the catalog, with `rules` loaded; its address once every series is in and
/// every alert fires.
fn start_engine(
    scratch: &Scratch,
    name: &str,
    scraped: &Scraped<'_>,
    rules: &Path,
    procs: &mut Processes,
) -> String {
    let Scraped {
        pages,
        exporter,
        textfile,
        catalog,
    } = *scraped;
    let mut config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n",
        rules.display()
    );
    for (instance, addr) in pages {
        let _ = writeln!(
            config,
            "      - targets: ['{addr}']\n        labels: {{instance: '{instance}'}}"
        );
    }
    if let Some(catalog) = catalog {
        let _ = writeln!(
            config,
            "  - job_name: catalog\n    static_configs:\n      - targets: ['{catalog}']"
        );
    }
    // The exporter sees every process on this host, other tests' included: only our programs'
    // series are kept, so that every answer below is this test's own.
    let _ = writeln!(
        config,
        "  - job_name: exporter\n    static_configs:\n      - targets: ['{exporter}']\n    metric_relabel_configs:\n      - source_labels: [__name__, program]\n        regex: '(rust_process_info|rust_mod_replaced_info|rust_build_info|rust_mod_info);dash-.*'\n        action: keep"
    );
    let _ = writeln!(
        config,
        "  - job_name: node\n    static_configs:\n      - targets: ['{textfile}']"
    );
    let path = scratch.join(format!("{name}.yml"));
    std::fs::write(&path, config).unwrap();
    let (child, addr) = start_prometheus(&path, &scratch.join(format!("{name}-data")));
    procs.insert(name.to_owned(), child);
    let mut expected = vec![
        ("count(rust_build_info)", 11),
        ("count(rust_process_info)", 4),
        ("count(rust_mod_replaced_info)", 1),
        ("count(rust_advisory_info)", 1),
        ("count(name_version:rust_instances:count)", 7),
        // Evaluated after every target's first scrape: each instance counted.
        ("sum(name_version:rust_instances:count)", 19),
        ("count(ALERTS{alertstate=\"firing\"})", 5),
    ];
    expected.push(if catalog.is_some() {
        ("count(rust_deps_info)", 11)
    } else {
        ("count(rust_mod_info)", 20)
    });
    wait_until(
        &format!("{name} to hold {expected:?}"),
        SCRAPED_LIMIT,
        || {
            expected.iter().all(|(q, n)| {
                first_value(&query(&addr, q)).as_deref() == Some(n.to_string().as_str())
            })
        },
    );
    addr
}

/// An instant query's result as sorted lines `label=value,... value` (without `__name__`), the
/// exporters' addresses and the scratch directory replaced by `EXPORTER` and `DIR`.
fn rows(result: &[Value], exporters: &[&str], dir: &str) -> Vec<String> {
    let mut out: Vec<String> = result
        .iter()
        .map(|s| {
            let labels: BTreeMap<&str, &str> = s["metric"]
                .as_object()
                .unwrap()
                .iter()
                // ALERTS keeps its name; the other panels' aggregations drop it.
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            let mut line: Vec<String> = labels
                .iter()
                .map(|(k, v)| {
                    let v = if exporters.contains(v) { "EXPORTER" } else { v };
                    format!("{k}={}", v.replace(dir, "DIR"))
                })
                .collect();
            line.sort();
            format!("{} {}", line.join(","), s["value"][1].as_str().unwrap())
        })
        .collect();
    out.sort();
    out
}

/// `label_values(SELECTOR, LABEL)` asked as Grafana asks it: the label's values among the
/// series the selector matches.
fn label_values(engine: &str, variable_query: &str) -> Vec<String> {
    let inner = variable_query
        .strip_prefix("label_values(")
        .and_then(|q| q.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not label_values(...): {variable_query}"));
    let (selector, label) = inner.rsplit_once(',').unwrap();
    let answer = get(
        engine,
        &format!(
            "/api/v1/label/{}/values?match[]={}",
            label.trim(),
            url_encode(selector.trim())
        ),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{variable_query}: {}", answer.body);
    let v: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(v["status"], "success", "{}", answer.body);
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The settings of the variables the panels are asked with: every value ("All"), and two
/// single choices, one on the fleet and one on the exporter's programs.
const ALL: &[(&str, &str)] = &[("job", ".*"), ("program", ".*"), ("crate", ".*")];
const SHOP: &[(&str, &str)] = &[("job", "fleet"), ("program", "shop"), ("crate", "hyper")];
const SWAP: &[(&str, &str)] = &[
    ("job", "exporter"),
    ("program", "dash-swap"),
    ("crate", "vulncrate"),
];

/// What each panel answers for [`ALL`], [`SHOP`] and [`SWAP`], on every layout, counted by
/// hand: seven fleet instances (shop 1.0.0 twice, shop 1.1.0, cart twice, cart-worker sharing
/// cart's list, dash-current) and four programs the exporter sees (one process each), three
/// of them only there: dash-current counts once, through its collector.
fn expected(panel: &str) -> [Vec<&'static str>; 3] {
    match panel {
        "Programs and versions running" => [
            vec![
                "job=exporter,program=dash-memfd,revision=unknown,version=0.2.0 1",
                "job=exporter,program=dash-stale,revision=unknown,version=0.9.0 1",
                "job=exporter,program=dash-swap,revision=unknown,version=1.0.0 1",
                "job=fleet,program=cart,revision=cccc000000000000000000000000000000000000,version=2.0.0 2",
                "job=fleet,program=cart-worker,revision=cccc000000000000000000000000000000000000,version=2.0.0 1",
                "job=fleet,program=dash-current,revision=dddd000000000000000000000000000000000000,version=0.1.0 1",
                "job=fleet,program=shop,revision=aaaa000000000000000000000000000000000000,version=1.0.0 2",
                "job=fleet,program=shop,revision=bbbb000000000000000000000000000000000000,version=1.1.0 1",
            ],
            vec![
                "job=fleet,program=shop,revision=aaaa000000000000000000000000000000000000,version=1.0.0 2",
                "job=fleet,program=shop,revision=bbbb000000000000000000000000000000000000,version=1.1.0 1",
            ],
            vec!["job=exporter,program=dash-swap,revision=unknown,version=1.0.0 1"],
        ],
        "Versions running per crate" => [
            vec![
                "name=hyper 2",
                "name=itoa 2",
                "name=serde 2",
                "name=vulncrate 1",
            ],
            vec!["name=hyper 2"],
            vec!["name=vulncrate 1"],
        ],
        "Instances per crate version" => [
            vec![
                "name=hyper,version=0.14.1 2",
                "name=hyper,version=0.14.12 4",
                "name=itoa,version=1.0.10 1",
                "name=itoa,version=1.0.15 8",
                "name=serde,version=1.0.200 2",
                "name=serde,version=1.0.210 1",
                "name=vulncrate,version=1.2.0 1",
            ],
            vec![
                "name=hyper,version=0.14.1 2",
                "name=hyper,version=0.14.12 1",
            ],
            vec!["name=vulncrate,version=1.2.0 1"],
        ],
        "Instances per vulnerable crate" => [vec!["name=hyper 2"], vec!["name=hyper 2"], vec![]],
        "Advisories affecting running programs" => {
            let row = "advisory=RUSTSEC-2099-0001,kind=vulnerability,name=hyper,program=shop,revision=aaaa000000000000000000000000000000000000,severity=critical,verdict=unknown,version=0.14.1 2";
            [vec![row], vec![row], vec![]]
        }
        "Stale processes" => [
            vec![
                "exe=DIR/bin/dash-stale,instance=EXPORTER,program=dash-stale,state=deleted 1",
                "exe=DIR/bin/dash-swap,instance=EXPORTER,program=dash-swap,state=replaced 1",
                "exe=memfd:dash-memfd,instance=EXPORTER,program=dash-memfd,state=memfd 1",
            ],
            vec![],
            vec!["exe=DIR/bin/dash-swap,instance=EXPORTER,program=dash-swap,state=replaced 1"],
        ],
        "Patched on disk, still running in memory" => {
            let row = "disk_version=1.2.1,exe=DIR/bin/dash-swap,instance=EXPORTER,name=vulncrate,program=dash-swap,running_version=1.2.0 1";
            [vec![row], vec![], vec![row]]
        }
        "Alerts from cargo depinfo rules" => {
            // Not filtered by the variables: the same firing alerts in every setting.
            let alerts = vec![
                "advisory=RUSTSEC-2099-0001,alertname=RustAdvisoryAffectsRunningProgram,alertstate=firing,name=hyper,program=shop,severity=warning 1",
                "alertname=RustCrateVersionSpread,alertstate=firing,name=hyper,severity=warning 1",
                "alertname=RustCrateVersionSpread,alertstate=firing,name=itoa,severity=warning 1",
                "alertname=RustCrateVersionSpread,alertstate=firing,name=serde,severity=warning 1",
                "alertname=RustProgramRevisionDrift,alertstate=firing,program=shop,severity=warning 1",
            ];
            [alerts.clone(), alerts.clone(), alerts]
        }
        other => panic!("no expected answer for the panel {other:?}: add one"),
    }
}

#[test]
fn every_query_answers_on_a_real_prometheus_on_the_full_and_the_catalog_layouts() {
    let scratch = Scratch::new("dashboard");
    // Symbolic links in the temp dir's path would differ from what the kernel reports.
    let dir = scratch.path().canonicalize().unwrap();
    let dir_text = dir.display().to_string();
    let mut procs = Processes::default();
    stale_processes(&dir, &mut procs);

    // The real exporter, once per layout.
    let exporter = |layout: &str| {
        testkit::start_exporter(
            Command::new(testkit::depinfo_exporter_bin()),
            ["--interval", "1", "--layout", layout],
        )
    };
    let (full_exporter, full_exporter_addr) = exporter("full");
    procs.insert("exporter-full".into(), full_exporter);
    let (catalog_exporter, catalog_exporter_addr) = exporter("catalog");
    procs.insert("exporter-catalog".into(), catalog_exporter);
    exporter_page(&full_exporter_addr);
    let page = exporter_page(&catalog_exporter_addr);
    assert!(!page.contains("rust_mod_info{"), "{page}");

    // The fleet's pages in both layouts, and the catalog of every list (the exporter's too).
    let mut servers = Vec::new();
    let mut serve = |layout_of: &dyn Fn(&Build) -> &'static str| -> Vec<(String, String)> {
        FLEET
            .iter()
            .map(|(instance, build)| {
                let server = Server::fixed(Reply::ok(EXPOSITION, build.page(layout_of(build))));
                let addr = server.host_port();
                servers.push(server);
                ((*instance).to_owned(), addr)
            })
            .collect()
    };
    let full_pages = serve(&|_| "full");
    // cart-worker on `direct`, the catalog layout's variant that keeps the direct crates'
    // rust_mod_info: answered through the catalog all the same.
    let catalog_pages = serve(&|b| {
        if b.program == "cart-worker" {
            "direct"
        } else {
            "catalog"
        }
    });
    let mut lists: Vec<DepsList> = FLEET.iter().map(|(_, b)| b.list()).collect();
    let seen = exporter_lists(&catalog_exporter_addr, &page);
    // The exporter's digest of a program is the one its collector publishes.
    let digest = DASH_CURRENT.list().digest().to_owned();
    assert!(seen.iter().any(|l| l.digest() == digest), "{page}");
    lists.extend(seen);
    let catalog = Server::fixed(Reply::ok(EXPOSITION, catalog_page(&lists)));

    // The audit's textfile, written from the fleet's pages, served as node_exporter would.
    let db = scratch.join("advisory-db");
    testkit::advisory_db(&db);
    let home = scratch.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut audit = Command::new(DEPINFO);
    audit
        .current_dir(&home)
        .env("CARGO_HOME", &home)
        .args(["audit", "--format", "prometheus", "--db"])
        .arg(&db);
    for (_, addr) in &full_pages {
        audit.args(["--metrics", addr]);
    }
    let out = testkit::run(&mut audit, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let textfile = Server::fixed(Reply::ok(EXPOSITION, stdout(&out)));

    // The rules, every alert at once.
    let out = testkit::run_ok(Command::new(DEPINFO).args(["rules", "--advisories", "--for", "0s"]));
    let rules = scratch.join("rules.yml");
    std::fs::write(&rules, stdout(&out)).unwrap();
    testkit::check_rules(&rules);

    let textfile_addr = textfile.host_port();
    let full_scraped = Scraped {
        pages: &full_pages,
        exporter: &full_exporter_addr,
        textfile: &textfile_addr,
        catalog: None,
    };
    let full = start_engine(&scratch, "full", &full_scraped, &rules, &mut procs);
    let catalog_addr = catalog.host_port();
    let catalog_scraped = Scraped {
        pages: &catalog_pages,
        exporter: &catalog_exporter_addr,
        textfile: &textfile_addr,
        catalog: Some(&catalog_addr),
    };
    let catalog_engine = start_engine(&scratch, "catalog", &catalog_scraped, &rules, &mut procs);

    let d = dashboard();
    let exporters = [full_exporter_addr.as_str(), catalog_exporter_addr.as_str()];
    let mut failures = Vec::new();
    for (layout, engine) in [("full", &full), ("catalog", &catalog_engine)] {
        for (title, ref_id, expr) in targets(&d) {
            let want = expected(&title);
            for (setting, vars) in [ALL, SHOP, SWAP].iter().enumerate() {
                let promql = substitute(&expr, vars);
                let got = rows(&query(engine, &promql), &exporters, &dir_text);
                if got != want[setting] {
                    failures.push(format!(
                        "{layout}: {title} ({ref_id}) with {vars:?}:\n  want {:#?}\n  got {got:#?}",
                        want[setting]
                    ));
                }
            }
        }

        // The spread panels with every value selected are the recorded series of the rules.
        let instances = targets(&d)
            .into_iter()
            .find(|(t, _, _)| t == "Instances per crate version")
            .unwrap()
            .2;
        let recorded = rows(
            &query(engine, "name_version:rust_instances:count"),
            &exporters,
            &dir_text,
        );
        let answered = rows(
            &query(engine, &substitute(&instances, ALL)),
            &exporters,
            &dir_text,
        );
        if answered != recorded {
            failures.push(format!(
                "{layout}: the instances per crate version differ from the recorded series:\n  recorded {recorded:#?}\n  answered {answered:#?}"
            ));
        }

        // The variables, as Grafana's label_values asks them.
        let vars = query_variables(&d);
        let ask = |name: &str, setting: &[(&str, &str)]| {
            let q = &vars.iter().find(|(n, _)| n == name).unwrap().1;
            label_values(engine, &substitute(q, setting))
        };
        assert_eq!(ask("job", ALL), ["exporter", "fleet"], "{layout}");
        assert_eq!(
            ask("program", ALL),
            [
                "cart",
                "cart-worker",
                "dash-current",
                "dash-memfd",
                "dash-stale",
                "dash-swap",
                "shop"
            ],
            "{layout}"
        );
        assert_eq!(
            ask("program", SHOP),
            ["cart", "cart-worker", "dash-current", "shop"],
            "{layout}"
        );
        assert_eq!(
            ask("program", SWAP),
            ["dash-current", "dash-memfd", "dash-stale", "dash-swap"],
            "{layout}"
        );
        assert_eq!(
            ask("crate", ALL),
            ["hyper", "itoa", "serde", "vulncrate"],
            "{layout}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    drop(servers);
}
