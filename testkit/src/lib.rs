//! What the tests and benches of this workspace share, written once.
//!
//! A dev-only crate (`publish = false`): every crate lists it under `[dev-dependencies]`, so
//! nothing here reaches a user's build. Each helper is bounded in time, because a test that
//! hangs tells nobody what broke:
//!
//! - [`Server`]: a loopback HTTP server on a port the OS picks, answering with fixed
//!   [`Reply`]s or a closure, stopped on drop; [`get`] is the matching client.
//! - [`Proxy`]: a loopback HTTP proxy (CONNECT and absolute-form requests) that records what
//!   went through it; [`SocksProxy`]: a loopback SOCKS4/4a/5 proxy that records what each
//!   client asked for and how it authenticated.
//! - [`Certificates`], [`TlsPages`]: a CA and a server certificate made by `openssl`, and an
//!   HTTPS page server (`openssl s_server -WWW`), killed on drop; [`openssl`] runs it,
//!   [`guide_certificate`] makes the self-signed certificate of Prometheus' TLS guide,
//!   [`self_signed_p256`] any self-signed P-256 certificate.
//! - [`run`], [`run_ok`], [`run_with_input`] and [`Running`]: child processes with a time
//!   limit, killed when the limit passes or the guard drops, output captured;
//!   [`run_with_proxy_env`] with only the proxy variables a test gives; [`wait_exec`] until
//!   a child has exec'd.
//! - [`check_metrics`], [`check_rules`], [`test_rules`]: the real `promtool`, never skipped.
//! - [`elf_with_sections`], [`mach_o_with_sections`], [`pe_with_sections`]: small linked
//!   binaries with chosen sections, written byte by byte; [`with_sections`] adds sections to a
//!   real system binary with `objcopy`; [`wasm_module_with_sections`] and [`wasm_component`]:
//!   WebAssembly modules and components assembled with `wasm-encoder` (re-exported as
//!   [`wasm_encoder`]).
//! - [`Scratch`], [`copy_fixture`], [`cargo`], [`git`]: fixture projects under
//!   `tests/fixtures`, built for real in a shared target directory.
//! - [`build_fleet`], [`start_fleet`], [`start_prometheus`], [`start_victoria_metrics`],
//!   [`query`], [`wait_until`]: a fleet of fixture services at different versions of one
//!   crate, and the real engines that scrape it.
//! - [`SparseRegistry`], [`FreshHome`]: a loopback sparse registry serving what this machine's
//!   cargo cache holds, and an empty cargo home that resolves and downloads from it (fixture
//!   builds as in a fresh container, without the network), recording what cargo downloaded.
//! - [`check_golden`]: output compared with a file, rewritten on request.
//! - [`fenced_lines`]: the code blocks of a README section, for tests that run what it shows.
//! - [`Trickle`]: a reader giving a few bytes at a time.
//! - [`mutation`]: byte-level mutations of valid inputs for parsers' property tests.
//! - [`metrics_page()`]: large `/metrics` pages with our series among histograms and counters.
//! - [`answer_with_foreign`]: a Prometheus API answer with series not ours before ours.
//! - [`layout_fleet`]: the 1,000-instance fleet of the scale benches, as names and numbers.
//! - [`start_exporter`]: the real exporter on a port it picks, and the address it announced;
//!   [`half_request_client`], a client that sends half a request head and waits.
//! - [`start_catalog`], [`fake_instance`], [`terminate`]: the real catalog with its stderr
//!   [`Lines`], instances that serve (or lie about) their lists (on a [`Page`] that may
//!   change: [`fake_instance_with_page`]), a SIGTERM stop, and the Prometheus that scrapes
//!   them and the catalog ([`start_catalog_prometheus`]).
//! - [`Browser`]: a headless Chromium (Debian's `chromium-headless-shell`) driven over the
//!   DevTools protocol: open a file, evaluate, click, type, and the page's requests, errors,
//!   CSP violations, timing and a screenshot.
//! - [`advisory_db()`]: the fixture advisory database (RustSec's layout, one git commit).
//! - [`python_schema_check`]: a JSON document checked against a schema by Python's
//!   `jsonschema`, in the tests' virtual environment ([`python`], [`python_ready`]);
//!   [`python_script`] runs another validator there.
//! - [`measured`]: the wall time and peak RSS of a whole command, for memory benches.
//!
//! ```
//! let server = testkit::Server::fixed(testkit::Reply::ok("text/plain", "up 1\n"));
//! let answer = testkit::get(&server.host_port(), "/metrics").unwrap();
//! assert_eq!((answer.status, answer.body.as_str()), (200, "up 1\n"));
//! ```
//!
//! testkit depends on no crate of this workspace: buildinfo's own tests use it, so a
//! dependency on buildinfo would make a crate cycle. Fixture `BuildInfo` values are built in
//! build-info-collector's `tests/support/fixture.rs`, beside the tests that use them.

mod advisory_db;
mod api_answers;
mod binaries;
mod browser;
mod catalog_fleet;
mod child;
mod counting_alloc;
mod exporter;
mod fixture_project;
mod fleet;
mod golden;
mod http_client;
mod http_proxy;
mod http_server;
pub mod layout_fleet;
mod markdown;
mod metrics_page;
pub mod mutation;
mod peak_rss;
mod promtool;
mod registry;
mod relay;
mod schema_check;
mod scratch;
mod socks_proxy;
mod tls;
mod trickle;
mod zlib;

pub use advisory_db::advisory_db;
pub use api_answers::{answer_with_foreign, fleet_answers, fleet_api};
pub use binaries::{
    WasmPart, auditable_binary, auditable_sleeper, bldinfo_json_with_facts, dep_v0_json,
    elf_with_sections, leb128, mach_o_with_sections, noise, pe_with_sections, plain_binary,
    sleep_binary, wasm_component, wasm_module_with_sections, with_sections, with_sections_on,
};
pub use browser::{Browser, Timing, chromium_path, file_url};
pub use catalog_fleet::{
    Lines, Page, fake_instance, fake_instance_with_page, start_catalog, start_catalog_prometheus,
    terminate,
};
pub use child::{
    Running, announced, run, run_ok, run_with_input, run_with_proxy_env, stderr, stderr_lines,
    stdout, wait_exec, wait_exec_inode,
};
pub use counting_alloc::{CountingAllocator, held_after, peak_during};
pub use exporter::{cargo_depinfo_bin, depinfo_exporter_bin, half_request_client, start_exporter};
pub use fixture_project::{
    binary, cargo, copy_fixture, git, git_command, git_init_commit, target_dir, workspace_root,
};
pub use fleet::{
    CODEC, CODEC_VERSIONS, Processes, Variant, affected_instances, build_fleet, first_value, query,
    start_fleet, start_prometheus, start_prometheus_on, start_victoria_metrics, url_encode,
    wait_until,
};
pub use golden::check_golden;
pub use http_client::{Response, get};
pub use http_proxy::Proxy;
pub use http_server::{EXPOSITION, Reply, Server, sorted_listeners, unused_addr};
pub use markdown::fenced_lines;
pub use metrics_page::{PageSpec, metrics_page};
pub use peak_rss::{Measured, answer_measure_request, measured};
pub use promtool::{check_metrics, check_rules, installed, test_rules};
pub use registry::{FreshHome, SparseRegistry};
pub use schema_check::{python, python_ready, python_schema_check, python_script};
pub use scratch::Scratch;
pub use socks_proxy::{SocksAuth, SocksOptions, SocksProxy, SocksRequest};
pub use tls::{
    Certificates, TlsPages, guide_certificate, openssl, self_signed_p256, wait_for_port,
};
pub use trickle::Trickle;
/// The encoder the Wasm helpers use, for tests that assemble other shapes.
pub use wasm_encoder;
pub use zlib::{inflate, zlib};

/// Asserts that `text` contains `part`, printing the whole text when it does not.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "expected {part:?} in:\n{text}");
}

/// The string `field` of every item of the JSON array `array` (a test fails on anything else).
#[track_caller]
pub fn json_strings<'a>(array: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    let items = array
        .as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {array}"));
    items
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field:?} in {item}"))
        })
        .collect()
}

/// The configuration of a property test: `cases` cases and no regression files (CI runs
/// every case from scratch, within its time budget).
pub fn proptest_cases(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
