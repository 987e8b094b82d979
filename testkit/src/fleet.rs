//! A small fleet for end-to-end tests: four builds of the `fleet-service` fixture that differ in
//! the version of one crate they link and in their git revision, started on loopback, and the
//! real engines that scrape them (Prometheus, VictoriaMetrics), with the instant queries and
//! bounded waits the tests ask them.
//!
//! Every child is a [`Running`]: killed when its guard drops, also when an assertion fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::child::{Running, run_ok};
use crate::fixture_project::{binary, cargo, copy_fixture, git, workspace_root};
use crate::http_client::get;
use crate::http_server::unused_addr;
use crate::promtool::installed;

/// The crate the fleet's members link at different versions.
pub const CODEC: &str = "fleet-codec";

/// The `fleet-codec` version of each member, in member order.
pub const CODEC_VERSIONS: [&str; 4] = ["1.0.0", "1.1.0", "2.0.0", "1.1.0"];

/// How long an engine may take to start answering.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// Children by name; each is killed when removed or dropped.
pub type Processes = BTreeMap<String, Running>;

/// One member of the fleet.
#[derive(Debug, Clone)]
pub struct Variant {
    /// `v0` to `v3`.
    pub name: String,
    /// The `fleet-codec` version it links.
    pub codec: &'static str,
    /// The git revision it was built from.
    pub revision: String,
    /// Its binary, copied out of the shared target directory.
    pub binary: PathBuf,
    /// `127.0.0.1:PORT` once started, empty before.
    pub addr: String,
}

/// Builds the fleet in `scratch`: `fleet-codec` 1.0.0, 1.1.0 and 2.0.0 as local crates, and the
/// `fleet-service` fixture named `package` committed and built once per member (each build
/// from a clean tree of its own commit). Give each test its own `package`: the binaries of
/// every fixture build share one target directory.
pub fn build_fleet(scratch: &Path, package: &str) -> Vec<Variant> {
    for version in ["1.0.0", "1.1.0", "2.0.0"] {
        let dir = scratch.join(format!("codec-{version}"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"{CODEC}\"\nversion = \"{version}\"\nedition = \"2021\"\n"),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "pub const VERSION: &str = env!(\"CARGO_PKG_VERSION\");\n",
        )
        .unwrap();
    }
    let repo = scratch.join(package);
    let collector = workspace_root().join("build-info-collector");
    let mut variants = Vec::new();
    for (i, codec) in CODEC_VERSIONS.into_iter().enumerate() {
        let codec_dir = scratch.join(format!("codec-{codec}"));
        copy_fixture(
            "fleet-service",
            &repo,
            package,
            &[
                ("@COLLECTOR@", &collector.display().to_string()),
                ("@CODEC@", &codec_dir.display().to_string()),
            ],
        );
        if i == 0 {
            git(&repo, &["init", "-q", "-b", "main"]);
        }
        std::fs::write(repo.join("DEPLOY"), format!("variant {i}\n")).unwrap();
        // Commit the lock file too, so that every build is of a clean tree.
        run_ok(cargo(&repo).args(["generate-lockfile", "--quiet"]));
        git(&repo, &["add", "-A"]);
        git(
            &repo,
            &[
                "commit",
                "-q",
                "-m",
                &format!("variant {i}: {CODEC} {codec}"),
            ],
        );
        let revision = git(&repo, &["rev-parse", "HEAD"]);
        run_ok(cargo(&repo).args(["build", "--quiet"]));
        let copy = scratch.join(format!("{package}-{i}"));
        std::fs::copy(binary("debug", package), &copy).unwrap();
        variants.push(Variant {
            name: format!("v{i}"),
            codec,
            revision,
            binary: copy,
            addr: String::new(),
        });
    }
    variants
}

/// Starts every member on a port it picks, records its address, and adds it to `procs` under
/// its name.
pub fn start_fleet(variants: &mut [Variant], procs: &mut Processes) {
    for v in variants.iter_mut() {
        let mut child = Running::spawn(
            Command::new(&v.binary)
                .arg("127.0.0.1:0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        v.addr = crate::child::announced(
            child.child().stdout.take().unwrap(),
            "listening on ",
            &v.name,
        );
        procs.insert(v.name.clone(), child);
    }
}

/// A Prometheus (`prometheus` from the Debian package of that name) on a free loopback port
/// with `config` and its data in `data`, once it answers `/-/ready`: its guard and address.
pub fn start_prometheus(config: &Path, data: &Path) -> (Running, String) {
    let addr = unused_addr().to_string();
    let child = start_prometheus_on(&addr, config, data);
    (child, addr)
}

/// [`start_prometheus`] on `addr` (for a test that must know the address first: rules or
/// commands that name it).
pub fn start_prometheus_on(addr: &str, config: &Path, data: &Path) -> Running {
    let child = Running::spawn(
        Command::new(installed("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_until("Prometheus ready", READY_LIMIT, || {
        get(addr, "/-/ready").is_ok_and(|r| r.status == 200)
    });
    child
}

/// A VictoriaMetrics single node (`victoria-metrics` from the Debian package of that name) on
/// a free loopback port, scraping with the Prometheus scrape configuration `config`, its data
/// in `data`, once it answers `/health`: its guard and address.
///
/// Samples are visible to queries as soon as they are stored (`-search.latencyOffset=0s`; the
/// default hides the last 30 s), and answers are never served from its cache.
pub fn start_victoria_metrics(config: &Path, data: &Path) -> (Running, String) {
    let addr = unused_addr().to_string();
    let child = Running::spawn(
        Command::new(installed("victoria-metrics"))
            .arg(format!("-promscrape.config={}", config.display()))
            .arg(format!("-storageDataPath={}", data.display()))
            .arg(format!("-httpListenAddr={addr}"))
            .arg("-search.latencyOffset=0s")
            .arg("-search.disableCache")
            .arg("-loggerLevel=ERROR")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_until("VictoriaMetrics ready", READY_LIMIT, || {
        get(&addr, "/health").is_ok_and(|r| r.status == 200)
    });
    (child, addr)
}

/// Percent-encodes everything but unreserved characters, for a query string.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An instant query's result vector from the Prometheus API at `addr`; panics unless the
/// answer is a success.
pub fn query(addr: &str, promql: &str) -> Vec<Value> {
    let r = get(addr, &format!("/api/v1/query?query={}", url_encode(promql))).unwrap();
    assert_eq!(r.status, 200, "{promql}: {}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["status"], "success", "{}", r.body);
    v["data"]["result"].as_array().unwrap().clone()
}

/// The value of the first sample of an instant query's result, as the API wrote it.
pub fn first_value(result: &[Value]) -> Option<String> {
    result
        .first()
        .and_then(|s| s["value"][1].as_str())
        .map(str::to_owned)
}

/// Polls `check` every 250 ms until it holds; panics naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The instances named in `cargo depinfo affected --format json` output, sorted, once each.
pub fn affected_instances(json: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(json).unwrap();
    let mut out: Vec<String> = v["affected"]
        .as_array()
        .unwrap_or_else(|| panic!("no affected array: {json}"))
        .iter()
        .filter_map(|m| m["instance"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}
