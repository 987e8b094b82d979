//! `cargo depinfo report --format html` in a real browser (Debian's `chromium-headless-shell`,
//! driven by `testkit::Browser`), against `report --format json` of the same input.
//!
//! The input is real: binaries with cargo-auditable's section (hostile program and crate
//! names among them), `/metrics` pages served on loopback (a hostile page, and testkit's
//! generated busy pages), an advisory database in RustSec's layout whose title is hostile, and
//! a sparse registry index on loopback (the crates behind it fill the outdated view; the
//! hostile crate names it is not asked about make the report partial, with errors to show).
//! The page must be the report's DOM contract (see `cargo-depinfo/src/render/html.rs`): its
//! counts and rows are the JSON's, it makes no request, logs no error, breaks no CSP rule,
//! sorts and filters as a person uses it, holds the same rows with scripts off, and shows
//! every hostile name as text. Each check is shown to fail on a page of the test's own that
//! breaks it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Browser, PageSpec, Reply, Scratch, Server, auditable_binary, dep_v0_json, metrics_page, stderr,
    stdout,
};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// Local files and loopback only: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// A program name that is markup.
const PROGRAM_SCRIPT: &str = "<script>alert(1)</script>";
/// A crate name that ends a script element and starts an element with a handler.
const CRATE_END_SCRIPT: &str = "</script><img src=x onerror=alert(2)>";
/// A program name with every character HTML escapes.
const PROGRAM_QUOTES: &str = "api\"'&<b>x</b>";
/// A crate name with bidi controls that would reorder the line.
const CRATE_BIDI: &str = "safe\u{202e}txet\u{2066}x\u{2069}\u{200f}";
/// A crate name with the separators that end a line (and a JavaScript string, in old engines).
const CRATE_SEPARATORS: &str = "line\u{2028}sep\u{2029}end";
/// An advisory title that ends a script and reverses text.
const TITLE: &str = "Smuggling </script><script>alert(3)</script> \u{202e}evil & \"quoted\"";

/// The views every report has, and those it has because the database and the registry were
/// read.
const VIEWS: [&str; 6] = [
    "programs",
    "builds",
    "spread",
    "advisories",
    "outdated",
    "crates",
];

/// The input of both reports.
struct Input {
    scratch: Scratch,
    _servers: Vec<Server>,
    args: Vec<String>,
}

/// `text` as a JSON string's contents (for the JSON the fixtures are written in).
fn json_text(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `text` as a label value of the exposition format.
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One advisory file in RustSec's layout.
fn advisory(id: &str, package: &str, extra: &str, patched: &str, title: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-02\"\n{extra}\n[versions]\npatched = [{patched}]\n```\n\n# {title}\n\nDetails.\n"
    )
}

fn input(label_: &str) -> Input {
    let scratch = Scratch::new(label_);
    let bins = scratch.join("bins");
    std::fs::create_dir_all(&bins).unwrap();
    let deps_old = [
        ("hyper", "0.14.9", "crates.io"),
        ("serde", "1.0.100", "crates.io"),
        (&json_text(CRATE_END_SCRIPT) as &str, "0.1.0", "crates.io"),
    ];
    let cart = dep_v0_json((&json_text(PROGRAM_SCRIPT), "1.0.0", "local"), &deps_old);
    auditable_binary(&bins.join("cart-a"), &cart);
    auditable_binary(&bins.join("cart-b"), &cart);
    let shop = dep_v0_json(
        // Capitalised: localeCompare puts it after "api…", byte order before.
        ("Shop", "2.3.0", "local"),
        &[
            ("hyper", "0.14.20", "crates.io"),
            ("serde", "1.0.200", "crates.io"),
        ],
    );
    auditable_binary(&bins.join("shop"), &shop);

    // A hostile page, served by two instances of one build.
    let program = label(PROGRAM_QUOTES);
    let mut page = String::from("# TYPE rust_mod_info gauge\n");
    for (name, version) in [
        ("hyper", "0.14.9"),
        ("serde", "1.0.150"),
        (CRATE_BIDI, "3.0.0"),
        (CRATE_SEPARATORS, "0.0.1"),
    ] {
        let _ = writeln!(
            page,
            "rust_mod_info{{program=\"{program}\",name=\"{}\",version=\"{version}\",source=\"crates.io\"}} 1",
            label(name)
        );
    }
    let mut pages = vec![Server::metrics(page.clone()), Server::metrics(page)];
    // Busy pages as services serve them (histograms, counters, exemplars among our series).
    for open_metrics in [false, true] {
        pages.push(Server::metrics(metrics_page(PageSpec {
            series: 300,
            mod_info: 40,
            programs: 3,
            open_metrics,
        })));
    }

    let db = scratch.join("db");
    testkit::advisory_db(&db);
    let crates = db.join("crates");
    std::fs::write(
        crates.join("hyper/RUSTSEC-2099-0001.md"),
        advisory(
            "RUSTSEC-2099-0001",
            "hyper",
            "cvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"",
            "\">= 0.14.10\"",
            TITLE,
        ),
    )
    .unwrap();
    std::fs::create_dir_all(crates.join("serde")).unwrap();
    std::fs::write(
        crates.join("serde/RUSTSEC-2099-0002.md"),
        advisory(
            "RUSTSEC-2099-0002",
            "serde",
            "informational = \"unmaintained\"",
            "\">= 1.0.180\"",
            "serde before 1.0.180 is unmaintained",
        ),
    )
    .unwrap();

    let mut args: Vec<String> = vec!["depinfo".into(), "report".into()];
    args.push(bins.display().to_string());
    for p in &pages {
        args.push("--metrics".into());
        args.push(p.url("/metrics"));
    }
    args.push("--db".into());
    args.push(db.display().to_string());
    // The registry: a sparse index on loopback that knows every crate a valid name gives
    // (the hostile names are refused before any request).
    let index = Server::start(|target| {
        let name = target.rsplit('/').next().unwrap_or_default();
        let body = index_file(name);
        if body.is_empty() {
            Reply::not_found()
        } else {
            Reply::ok("text/plain", body)
        }
    });
    args.push("--outdated".into());
    args.push("--index".into());
    args.push(index.url("/index/"));
    pages.push(index);
    Input {
        scratch,
        _servers: pages,
        args,
    }
}

/// The sparse-index file of crate `name`: hyper and serde with releases past the fleet's,
/// and testkit's generated `crate-N` at the version the pages run (`1.{N % 40}.{N % 7}`),
/// one patch or one minor release behind for two thirds of them. Empty for other names.
fn index_file(name: &str) -> String {
    let versions: Vec<String> = match name {
        "hyper" => ["0.14.9", "0.14.20", "0.14.32", "1.6.0"]
            .map(String::from)
            .to_vec(),
        "serde" => ["1.0.100", "1.0.150", "1.0.200", "1.0.219"]
            .map(String::from)
            .to_vec(),
        _ => match name
            .strip_prefix("crate-")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) => {
                let (minor, patch) = (n % 40, n % 7);
                let mut v = vec![format!("1.{minor}.{patch}")];
                match n % 3 {
                    0 => v.push(format!("1.{minor}.{}", patch + 1)),
                    1 => v.push(format!("1.{}.0", minor + 1)),
                    _ => {}
                }
                v
            }
            None => Vec::new(),
        },
    };
    let mut file = String::new();
    for v in versions {
        let _ = writeln!(
            file,
            "{{\"name\":\"{name}\",\"vers\":\"{v}\",\"deps\":[],\"cksum\":\"{}\",\"features\":{{}},\"yanked\":false,\"v\":2}}",
            "0".repeat(64)
        );
    }
    file
}

/// `cargo depinfo report … --format FORMAT`'s stdout, and whether it said the report is
/// partial (exit code 2: some input failed); panics on any other failure.
fn report(input: &Input, format: &str) -> (String, bool) {
    let out = testkit::run(
        Command::new(BIN)
            .args(&input.args)
            .args(["--format", format])
            .current_dir(input.scratch.path())
            .env("CARGO_HOME", input.scratch.join("cargo-home"))
            .env_remove("CARGO_DEPINFO_INDEX")
            .env_remove("CARGO_REGISTRIES_CRATES_IO_INDEX"),
        LIMIT,
    );
    let partial = out.status.code() == Some(2);
    assert!(
        out.status.success() || partial,
        "report --format {format} failed ({}):\n{}",
        out.status,
        stderr(&out)
    );
    (stdout(&out), partial)
}

/// One table of the page, as the DOM holds it.
#[derive(Debug)]
struct Table {
    /// Each header cell's `data-key`, `data-type` and `aria-sort`.
    keys: Vec<String>,
    types: Vec<String>,
    sorts: Vec<Option<String>>,
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    hidden: bool,
    /// Each cell's `data-value`.
    values: Vec<Option<String>>,
    text: String,
}

/// Reads a table of the page (`null` in JS when there is none).
const READ_TABLE: &str = "((view) => { \
    const t = document.querySelector(`table[data-view=\"${view}\"]`); \
    if (!t) return null; \
    const ths = [...t.querySelectorAll('thead th')]; \
    return { keys: ths.map(th => th.getAttribute('data-key')), \
             types: ths.map(th => th.getAttribute('data-type')), \
             sorts: ths.map(th => th.getAttribute('aria-sort')), \
             rows: [...t.querySelectorAll('tbody tr[data-row]')].map(tr => ({ \
                hidden: tr.hidden, text: tr.textContent, \
                values: [...tr.children].map(td => td.getAttribute('data-value')) })) }; })";

fn table(browser: &mut Browser, view: &str) -> Table {
    let t = browser.evaluate(&format!("{READ_TABLE}({})", json!(view)));
    assert!(
        t.is_object(),
        "no <table data-view=\"{view}\"> in the report"
    );
    let strings = |v: &Value| -> Vec<Option<String>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let table = Table {
        keys: strings(&t["keys"])
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        types: strings(&t["types"])
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect(),
        sorts: strings(&t["sorts"]),
        rows: t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Row {
                hidden: r["hidden"] == json!(true),
                values: strings(&r["values"]),
                text: r["text"].as_str().unwrap_or_default().to_owned(),
            })
            .collect(),
    };
    for (i, row) in table.rows.iter().enumerate() {
        assert_eq!(
            row.values.len(),
            table.keys.len(),
            "{view} row {i} has {} cells for {} header cells {:?}",
            row.values.len(),
            table.keys.len(),
            table.keys
        );
        assert!(
            row.values.iter().all(Option::is_some),
            "{view} row {i}: a cell without data-value: {:?}",
            row.values
        );
    }
    for (key, kind) in table.keys.iter().zip(&table.types) {
        assert!(
            !key.is_empty() && (kind == "num" || kind == "text"),
            "{view}: a header cell with data-key {key:?} data-type {kind:?}"
        );
    }
    table
}

impl Table {
    /// The column whose key is one of `keys` (the first found); panics naming the keys there
    /// are.
    fn column(&self, view: &str, keys: &[&str]) -> usize {
        keys.iter()
            .find_map(|k| self.keys.iter().position(|have| have == k))
            .unwrap_or_else(|| panic!("{view}: no column {keys:?} among {:?}", self.keys))
    }

    /// The `data-value`s of column `col`, visible rows only.
    fn values(&self, col: usize) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| !r.hidden)
            .map(|r| r.values[col].clone().unwrap_or_default())
            .collect()
    }

    fn visible(&self) -> usize {
        self.rows.iter().filter(|r| !r.hidden).count()
    }
}

/// The numbers `field` of the items of `array`, as the page's `data-value`s write them.
fn numbers(array: &Value, field: &str) -> Vec<String> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_u64().unwrap().to_string())
        .collect()
}

/// What the page's rows of each view must be: (view, count).
fn row_counts(model: &Value) -> Vec<(&'static str, usize)> {
    let len = |k: &str| model[k].as_array().map_or(0, Vec::len);
    let versions: usize = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["versions"].as_array().unwrap().len())
        .sum();
    vec![
        ("programs", len("programs")),
        ("builds", len("builds")),
        ("spread", len("crates")),
        ("advisories", len("advisories")),
        ("outdated", len("outdated")),
        ("crates", versions),
    ]
}

/// Asserts the page made no request, logged no error and broke no CSP rule.
fn assert_self_contained(browser: &mut Browser, what: &str) {
    // Let late work (timers, images) finish before reading the logs.
    browser.evaluate("new Promise((done) => setTimeout(done, 100))");
    let mut problems = Vec::new();
    let requests = browser.requests();
    if !requests.is_empty() {
        problems.push(format!("{what} made requests: {requests:?}"));
    }
    let errors = browser.errors();
    if !errors.is_empty() {
        problems.push(format!("{what} logged errors: {errors:?}"));
    }
    let violations = browser.csp_violations();
    if !violations.is_empty() {
        problems.push(format!(
            "{what} broke its Content-Security-Policy: {violations:?}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// How a hostile `name` may show in the page: as it is when it holds nothing invisible,
/// else escaped visibly as the terminal output escapes it (quoted or as a line).
fn shown_forms(name: &str) -> Vec<String> {
    let mut forms = vec![
        cargo_depinfo::printable(name).into_owned(),
        cargo_depinfo::printable_line(name).into_owned(),
    ];
    forms.dedup();
    forms
}

/// Text of the page outside script and style elements, with its control and format
/// characters: what a person sees.
const SHOWN_TEXT: &str = "(() => { const out = []; \
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); \
    while (walk.nextNode()) { const p = walk.currentNode.parentElement; \
      if (!p.closest('script, style')) out.push(walk.currentNode.data); } \
    return out.join('\\n'); })()";

#[test]
fn the_html_report_in_a_browser_is_the_json_report() {
    let input = input("report-browser");
    let (json_out, partial) = report(&input, "json");
    let model: Value = serde_json::from_str(&json_out).unwrap();
    let (html, html_partial) = report(&input, "html");
    // The registry is not asked about the three crates whose names are not crate names: the
    // report is partial, and says so naming them.
    assert!(partial && html_partial, "{model}");
    let errors = testkit::json_strings(&model["errors"], "message");
    assert_eq!(errors.len(), 3, "{errors:?}");
    for (error, name) in errors
        .iter()
        .zip([CRATE_END_SCRIPT, CRATE_SEPARATORS, CRATE_BIDI])
    {
        assert!(
            error.starts_with(name) && error.ends_with("not a valid crate name"),
            "{errors:?}"
        );
    }
    eprintln!(
        "DEBUG {}",
        serde_json::to_string(&model["outdated"]).unwrap()
    );
    eprintln!("DEBUG {} {}", model["errors"], model["notes"]);
    let page = input.scratch.join("report.html");
    std::fs::write(&page, &html).unwrap();
    // The input gives every view rows, and the model holds the hostile names.
    assert!(
        model["advisories"].as_array().unwrap().len() == 2,
        "{model}"
    );
    assert!(!model["outdated"].as_array().unwrap().is_empty(), "{model}");
    for (view, rows) in row_counts(&model) {
        assert!(rows > 0, "the input gives no {view} rows: {model}");
    }
    let json_text = model.to_string();
    for name in [
        PROGRAM_SCRIPT,
        CRATE_END_SCRIPT,
        PROGRAM_QUOTES,
        CRATE_BIDI,
        CRATE_SEPARATORS,
        TITLE,
    ] {
        assert!(
            json_text.contains(&json!(name).to_string()),
            "{name:?} is not in the model"
        );
    }

    let mut browser = Browser::start(&input.scratch);
    browser.open(&page);
    assert_self_contained(&mut browser, "the report");

    // The model is embedded once, as report --format json prints it.
    let embedded = browser.evaluate(
        "(() => { const e = document.getElementById('report-data'); return e ? JSON.parse(e.textContent) : 'no #report-data element'; })()",
    );
    assert!(
        embedded == model,
        "the embedded model is not the JSON report: {:.400}",
        embedded.to_string()
    );
    assert_eq!(browser.count("script[type=\"application/json\"]"), 1);
    assert_eq!(
        browser.count("script"),
        2,
        "one data and one executable script"
    );
    assert_eq!(browser.count("style"), 1);
    // No element that loads or links anything but data: URLs and the page's own anchors,
    // and none the names could have injected.
    let loading = browser.evaluate(
        "[...document.querySelectorAll('[src], [href], [srcset], [data], [action], [formaction], [poster]')]\
         .filter(e => ['src', 'href', 'srcset', 'data', 'action', 'formaction', 'poster']\
           .some(a => e.hasAttribute(a) && !e.getAttribute(a).startsWith('data:') \
                 && !(e.tagName === 'A' && e.getAttribute(a).startsWith('#'))))\
         .map(e => e.outerHTML.slice(0, 120))",
    );
    assert_eq!(loading, json!([]), "elements that load or link something");
    assert_eq!(
        browser.count("iframe, object, embed, img"),
        0,
        "an element that loads something"
    );
    let injected = browser
        .evaluate("[...document.querySelectorAll('b')].filter(b => b.textContent === 'x').length");
    assert_eq!(
        injected,
        json!(0),
        "the <b> of a program name became an element"
    );
    let handlers = browser.evaluate(
        "[...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length",
    );
    assert_eq!(handlers, json!(0), "elements with event handler attributes");
    let csp = browser.evaluate(
        "document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content ?? null",
    );
    let csp = csp
        .as_str()
        .expect("no Content-Security-Policy meta element");
    for part in [
        "default-src 'none'",
        "script-src 'sha256-",
        "style-src 'sha256-",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(part), "{part:?} not in the CSP {csp:?}");
    }
    for banned in ["unsafe-inline", "report-uri", "report-to", "http"] {
        assert!(!csp.contains(banned), "{banned:?} in the CSP {csp:?}");
    }

    // Totals: one dd per key of the model's totals that is not null, holding its number.
    let totals = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#totals dd[data-total]')].map(d => [d.dataset.total, d.textContent.trim()]))",
    );
    let expected: serde_json::Map<String, Value> = model["totals"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), json!(v.to_string())))
        .collect();
    assert_eq!(totals, Value::Object(expected), "the totals");

    // Each view's rows, in the model's order.
    for (view, rows) in row_counts(&model) {
        assert_eq!(
            browser.count(&format!("section#{view} table[data-view=\"{view}\"]")),
            1,
            "section {view}"
        );
        let t = table(&mut browser, view);
        assert_eq!(t.rows.len(), rows, "{view} rows");
        assert_eq!(t.visible(), rows, "{view} rows shown before any filter");
        assert_eq!(
            browser.count(&format!("input[type=\"search\"][data-filter=\"{view}\"]")),
            1,
            "{view} filter"
        );
        assert_eq!(
            browser.count(&format!("button[type=\"button\"][data-copy=\"{view}\"]")),
            1,
            "{view} copy button"
        );
    }
    // The totals are the rows they count.
    let totals = &model["totals"];
    for (view, key) in [
        ("programs", "programs"),
        ("builds", "builds"),
        ("spread", "crates"),
        ("crates", "crate_versions"),
        ("advisories", "advisories"),
        ("outdated", "outdated"),
    ] {
        let rows = browser.count(&format!("table[data-view=\"{view}\"] tbody tr[data-row]"));
        assert_eq!(
            totals[key],
            json!(rows),
            "total {key} against the {view} rows"
        );
    }
    let programs = table(&mut browser, "programs");
    let col = programs.column("programs", &["instances"]);
    assert_eq!(
        programs.values(col),
        numbers(&model["programs"], "instances")
    );
    let builds = table(&mut browser, "builds");
    let col = builds.column("builds", &["instances"]);
    assert_eq!(builds.values(col), numbers(&model["builds"], "instances"));
    let sum: u64 = builds
        .values(col)
        .iter()
        .map(|v| v.parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        totals["instances"],
        json!(sum),
        "total instances against the builds rows"
    );
    // The instances of each build, on demand.
    let listed = browser.evaluate(
        "[...document.querySelectorAll('table[data-view=\"builds\"] tbody tr[data-row]')].map(tr => [tr.querySelector('details summary')?.textContent.trim(), tr.querySelectorAll('details li').length])",
    );
    let expected: Vec<Value> = model["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = b["locations"].as_array().unwrap().len();
            let count = b["instances"].as_u64().unwrap();
            json!([format!("{count} instances"), n])
        })
        .collect();
    // "1 instance" is the same summary, said well.
    let listed = Value::Array(
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| match pair[0].as_str() {
                Some("1 instance") => json!(["1 instances", pair[1]]),
                _ => pair.clone(),
            })
            .collect(),
    );
    assert_eq!(listed, Value::Array(expected), "each build's instances");
    let spread = table(&mut browser, "spread");
    let col = spread.column("spread", &["instances"]);
    assert_eq!(spread.values(col), numbers(&model["crates"], "instances"));
    // Each spread row has its chart, and each version with its count shows as text.
    for (row, krate) in spread.rows.iter().zip(model["crates"].as_array().unwrap()) {
        for v in krate["versions"].as_array().unwrap() {
            let version = v["version"].as_str().unwrap();
            assert!(
                row.text.contains(version),
                "spread of {}: no {version} in {:?}",
                krate["name"],
                row.text
            );
        }
    }
    assert_eq!(
        browser.count("table[data-view=\"spread\"] tbody tr[data-row] svg"),
        spread.rows.len(),
        "one chart per spread row"
    );
    let advisories = table(&mut browser, "advisories");
    let col = advisories.column("advisories", &["id"]);
    assert_eq!(
        advisories.values(col),
        testkit::json_strings(&model["advisories"], "id")
    );
    // The verdicts on the vulnerable code, as words, are the model's counts.
    let col = advisories.column("advisories", &["verdicts"]);
    let words: Vec<String> = model["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let v = &a["verdicts"];
            format!(
                "{} present, {} unknown, {} not-found",
                v["present"], v["unknown"], v["not_found"]
            )
        })
        .collect();
    assert_eq!(advisories.values(col), words);
    assert!(
        words.iter().all(|w| !w.starts_with("null")),
        "every advisory row has verdict counts: {words:?}"
    );
    assert_eq!(
        browser.count("table[data-view=\"advisories\"] a"),
        0,
        "an advisory link"
    );
    let crates = table(&mut browser, "crates");
    let col = crates.column("crates", &["instances"]);
    let per_version: Vec<String> = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| numbers(&c["versions"], "instances"))
        .collect();
    let mut shown = crates.values(col);
    let mut want = per_version.clone();
    shown.sort();
    want.sort();
    assert_eq!(shown, want, "the crates view's instances per version");

    // Every hostile name shows as text, visibly escaped where it holds invisible characters,
    // and nothing it holds reaches the page raw.
    for (name, views) in [
        (PROGRAM_SCRIPT, &["programs", "builds"][..]),
        (PROGRAM_QUOTES, &["programs", "builds"]),
        (CRATE_END_SCRIPT, &["spread", "crates"]),
        (CRATE_BIDI, &["spread", "crates"]),
        (CRATE_SEPARATORS, &["spread", "crates"]),
        (TITLE, &["advisories"]),
    ] {
        let forms = shown_forms(name);
        for view in views {
            let t = table(&mut browser, view);
            assert!(
                t.rows
                    .iter()
                    .any(|r| forms.iter().any(|f| r.text.contains(f.as_str()))),
                "{name:?} is not shown in the {view} view as any of {forms:?}"
            );
        }
    }
    let text = browser.evaluate(SHOWN_TEXT);
    let text = text.as_str().unwrap();
    // The errors too (the report is partial: a reader must know which inputs failed).
    for error in &errors {
        let shown = cargo_depinfo::printable_line(error);
        assert!(
            text.contains(shown.as_ref()),
            "the error {shown:?} is not shown"
        );
    }
    let invisible = |c: char| {
        c.is_control() && c != '\n' && c != '\t'
            || matches!(c, '\u{61c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    let raw: Vec<char> = text.chars().filter(|&c| invisible(c)).collect();
    assert!(raw.is_empty(), "invisible characters shown raw: {raw:?}");

    // Sorting: a numeric column, then back; then a text column.
    check_sorting(&mut browser, &model);
    // Filtering as a person types.
    check_filtering(&mut browser, &model);
    // Copying what is shown.
    check_copy(&mut browser);
    assert_self_contained(&mut browser, "the report after sorting and filtering");

    // The page as it opens, for the eye (kept under target/tmp: the scratch dir goes).
    browser.open(&page);
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser.png");
    browser.screenshot(&shot);
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"));
    println!("screenshot of the report: {}", shot.display());

    // Scripts off: the same tables and rows, as the HTML holds them.
    let with_scripts: Vec<String> = VIEWS
        .iter()
        .map(|v| browser.outer_html(&format!("table[data-view=\"{v}\"] tbody")))
        .collect();
    browser.set_scripts_disabled(true);
    browser.open(&page);
    for ((view, rows), html) in row_counts(&model).into_iter().zip(&with_scripts) {
        assert_eq!(
            browser.count(&format!("table[data-view=\"{view}\"] tbody tr[data-row]")),
            rows,
            "{view} rows with scripts off"
        );
        assert_eq!(
            &browser.outer_html(&format!("table[data-view=\"{view}\"] tbody")),
            html,
            "{view}: scripts changed the rows before anyone asked"
        );
    }
    assert_eq!(
        browser.count("#totals dd[data-total]"),
        with_scripts_totals(&model)
    );
}

fn with_scripts_totals(model: &Value) -> usize {
    model["totals"]
        .as_object()
        .unwrap()
        .values()
        .filter(|v| !v.is_null())
        .count()
}

/// Clicks the header `key` of `view` twice: the first click sorts the column one way (the
/// `aria-sort` it sets says which), the second reverses it. `ascending` is the column's values
/// sorted as the test expects; returns the table after the second click.
fn click_twice(browser: &mut Browser, view: &str, key: &str, ascending: &[String]) -> Table {
    let th = format!("table[data-view=\"{view}\"] th[data-key=\"{key}\"]");
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    let mut first = None;
    for click in 0..2 {
        browser.click(&th);
        let t = table(browser, view);
        let col = t.column(view, &[key]);
        let sort = t.sorts[col].clone();
        let want = match sort.as_deref() {
            Some("ascending") => ascending,
            Some("descending") => &descending,
            other => panic!("{view}: aria-sort {other:?} after a click on {key}"),
        };
        assert_eq!(t.values(col), want, "{view} sorted by {key} ({sort:?})");
        let others: Vec<&Option<String>> = t
            .sorts
            .iter()
            .enumerate()
            .filter(|&(i, s)| i != col && s.is_some())
            .map(|(_, s)| s)
            .collect();
        assert!(
            others.is_empty(),
            "{view}: aria-sort left on other headers: {:?}",
            t.sorts
        );
        if click == 0 {
            first = sort;
        } else {
            assert_ne!(
                sort, first,
                "{view}: a second click on {key} did not reverse"
            );
            return t;
        }
    }
    unreachable!()
}

fn check_sorting(browser: &mut Browser, model: &Value) {
    // The spread view by instances, as the JSON sorted here.
    let mut ascending: Vec<u64> = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["instances"].as_u64().unwrap())
        .collect();
    ascending.sort_unstable();
    let ascending: Vec<String> = ascending.iter().map(u64::to_string).collect();
    let spread = table(browser, "spread");
    let col = spread.column("spread", &["instances"]);
    let key = spread.keys[col].clone();
    let spread_sort = click_twice(browser, "spread", &key, &ascending).sorts[col].clone();

    // The builds view by crate count: 13 and 14 after 2, 3 and 4 (numbers, not text).
    let mut ascending: Vec<u64> = model["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["crates"].as_u64().unwrap())
        .collect();
    ascending.sort_unstable();
    let mut as_text: Vec<String> = ascending.iter().map(u64::to_string).collect();
    as_text.sort();
    let ascending: Vec<String> = ascending.iter().map(u64::to_string).collect();
    assert_ne!(
        as_text, ascending,
        "crate counts that sort the same as text: no test"
    );
    click_twice(browser, "builds", "crates", &ascending);

    // The programs view by program name: localeCompare's order, as the browser's own
    // collation sorts the JSON's names; the instances column moves with its rows.
    let programs = table(browser, "programs");
    let name_col = programs.column("programs", &["program"]);
    let inst_col = programs.column("programs", &["instances"]);
    let before: Vec<(String, String)> = programs
        .rows
        .iter()
        .map(|r| {
            (
                r.values[name_col].clone().unwrap(),
                r.values[inst_col].clone().unwrap(),
            )
        })
        .collect();
    let names: Vec<String> = before.iter().map(|(n, _)| n.clone()).collect();
    let sorted = browser.evaluate(&format!(
        "{}.sort((a, b) => a.localeCompare(b))",
        json!(names)
    ));
    let sorted: Vec<String> = serde_json::from_value(sorted).unwrap();
    assert_ne!(
        sorted, names,
        "the model's order is already the sorted one: no test"
    );
    let t = click_twice(browser, "programs", "program", &sorted);
    for row in &t.rows {
        let pair = (
            row.values[name_col].clone().unwrap(),
            row.values[inst_col].clone().unwrap(),
        );
        assert!(
            before.contains(&pair),
            "a row's cells were separated: {pair:?}"
        );
    }
    // Each table sorts on its own: the spread view's header kept its state.
    assert_eq!(table(browser, "spread").sorts[col], spread_sort);
    // Another column of the same table takes aria-sort away from the first (checked in
    // click_twice), and sorts numerically.
    let mut want = numbers(&model["programs"], "instances");
    want.sort_by_key(|n| n.parse::<u64>().unwrap());
    let key = t.keys[inst_col].clone();
    click_twice(browser, "programs", &key, &want);
}

/// Types `text` into the filter of `view` and checks that exactly the rows whose text holds
/// it (case-insensitively) are shown; returns how many.
fn filter_rows(browser: &mut Browser, view: &str, text: &str) -> usize {
    let input = format!("input[data-filter=\"{view}\"]");
    browser.clear_text(&input);
    browser.type_text(&input, text);
    let t = table(browser, view);
    let needle = text.to_lowercase();
    for row in &t.rows {
        assert_eq!(
            row.hidden,
            !row.text.to_lowercase().contains(&needle),
            "{view} filtered by {text:?}: row {:?}",
            row.text
        );
    }
    t.visible()
}

fn check_filtering(browser: &mut Browser, model: &Value) {
    // The crates view filters on the crate name: the crate versions of the JSON whose
    // crate's name holds the text.
    let versions_of = |needle: &str| -> usize {
        model["crates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["name"].as_str().unwrap().to_lowercase().contains(needle))
            .map(|c| c["versions"].as_array().unwrap().len())
            .sum()
    };
    for typed in ["HYP", "crate-1", "zzz-none"] {
        let input = "input[data-filter=\"crates\"]";
        browser.clear_text(input);
        browser.type_text(input, typed);
        let t = table(browser, "crates");
        let want = versions_of(&typed.to_lowercase());
        assert_eq!(t.visible(), want, "crates filtered by {typed:?}");
        let col = t.column("crates", &["crate", "name"]);
        for row in t.rows.iter().filter(|r| !r.hidden) {
            let name = row.values[col].as_deref().unwrap().to_lowercase();
            assert!(
                name.contains(&typed.to_lowercase()),
                "{name:?} shown for {typed:?}"
            );
        }
    }
    assert!(versions_of("hyp") == 2 && versions_of("crate-1") > 2);
    // The programs view: "svc-" is only in the generated pages' program names.
    let svc = model["programs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["program"].as_str().unwrap().contains("svc-"))
        .count();
    assert_eq!(filter_rows(browser, "programs", "SVC-"), svc);
    assert!(svc > 0 && svc < model["programs"].as_array().unwrap().len());
    // Typing on narrows; clearing shows every row again.
    assert_eq!(filter_rows(browser, "programs", "svc-1"), 1);
    browser.clear_text("input[data-filter=\"programs\"]");
    assert_eq!(
        table(browser, "programs").visible(),
        model["programs"].as_array().unwrap().len()
    );
    assert_eq!(filter_rows(browser, "advisories", "unmaintained"), 1);
    let major = model["outdated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["behind"] == "major")
        .count();
    assert_eq!(filter_rows(browser, "outdated", "Major"), major);
    assert!(major > 0);
}

/// The Copy button of the programs view, with a filter on: the header and the rows shown,
/// tab-separated, reach the clipboard.
fn check_copy(browser: &mut Browser) {
    browser.grant_clipboard();
    let shown = filter_rows(browser, "programs", "svc-");
    let t = table(browser, "programs");
    browser.click("button[data-copy=\"programs\"]");
    let copied = browser.evaluate(
        "new Promise((done) => setTimeout(done, 100)).then(() => navigator.clipboard.readText())",
    );
    let copied = copied.as_str().unwrap();
    let lines: Vec<&str> = copied.lines().collect();
    assert_eq!(lines.len(), 1 + shown, "copied: {copied:?}");
    for line in &lines {
        assert_eq!(
            line.split('\t').count(),
            t.keys.len(),
            "copied line {line:?}"
        );
    }
    let name_col = t.column("programs", &["program"]);
    let copied_names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split('\t').nth(name_col).unwrap())
        .collect();
    assert_eq!(copied_names, t.values(name_col), "copied rows");
    browser.clear_text("input[data-filter=\"programs\"]");
}

/// The checks above catch a page that breaks them: the same checks on pages of the test's
/// own that make a request, log an error, and break their CSP.
#[test]
fn the_checks_fail_on_pages_that_break_the_contract() {
    let scratch = Scratch::new("report-browser-checks");
    let server = Server::fixed(Reply::ok("image/png", "x"));
    let mut browser = Browser::start(&scratch);
    let pages: [(&str, String); 3] = [
        (
            "made requests",
            format!("<!doctype html><p>x</p><img src=\"{}\" alt=\"\">", server.url("/x")),
        ),
        (
            "logged errors",
            "<!doctype html><p>x</p><script>console.error('broken')</script>".to_owned(),
        ),
        (
            "broke its Content-Security-Policy",
            "<!doctype html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"><p>x</p><style>p{color:red}</style>".to_owned(),
        ),
    ];
    for (i, (failure, html)) in pages.iter().enumerate() {
        let path: PathBuf = scratch.join(format!("page-{i}.html"));
        std::fs::write(&path, html).unwrap();
        browser.open(&path);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_self_contained(&mut browser, "the page");
        }));
        let message = caught
            .expect_err("the check passed a page that breaks it")
            .downcast::<String>()
            .map(|m| *m)
            .unwrap_or_default();
        assert!(message.contains(failure), "{failure:?} not in {message:?}");
    }
    // The image's request reached the server: the network log saw a real request.
    assert_eq!(server.requests().len(), 1);
}
