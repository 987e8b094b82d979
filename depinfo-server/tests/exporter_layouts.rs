//! `depinfo-exporter --layout full|catalog|direct` against real processes: the digest
//! in its `rust_build_info` is the one the program's own collector publishes (the example
//! service, built for real) and the one `inspect` shows for the file; each layout publishes
//! the crate series it promises; `/deps/<digest>` serves the lists of the running images only,
//! refuses what is not a digest, and forgets a list once its last process exits. Every
//! process is stopped by the test (guards kill them).
#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use build_info_collector::{
    DEPS_LIST_CONTENT_TYPE, DepsEntry, DepsList, MAX_DEPS_LIST_BYTES, is_digest,
};
use testkit::{
    Running, Scratch, announced, auditable_sleeper, run, stderr, stdout, wait_exec, workspace_root,
};

const EXPORTER: &str = env!("CARGO_BIN_EXE_depinfo-exporter");

/// The program name the example service is built with here: other tests (and other
/// checkouts on the machine) may run an `example-service` of another build.
const SERVICE: &str = "layouts-example-service";

/// One sample's labels, unescaped.
type Labels = BTreeMap<String, String>;

/// The samples of `family` in an exposition page (a strict reader of what the exporter and the
/// collector write: every label quoted, `\\`, `\"` and `\n` escapes).
fn samples(page: &str, family: &str) -> Vec<Labels> {
    page.lines()
        .filter_map(|l| l.strip_prefix(family)?.strip_prefix('{'))
        .map(|rest| {
            let mut labels = Labels::new();
            let mut rest = rest;
            while !rest.starts_with('}') {
                let (name, value) = rest
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("no label in {rest:?}"));
                let mut unescaped = String::new();
                let mut chars = value.char_indices();
                let end = loop {
                    match chars.next().expect("unterminated label value") {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().expect("escape at the end").1 {
                            'n' => unescaped.push('\n'),
                            c => unescaped.push(c),
                        },
                        (_, c) => unescaped.push(c),
                    }
                };
                labels.insert(name.to_owned(), unescaped);
                rest = value[end + 1..].trim_start_matches(',');
            }
            labels
        })
        .collect()
}

fn label<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels.get(name).map_or("", String::as_str)
}

/// The `rust_mod_info` samples of `program` (only the exporter's when `exporter`), as the
/// entries of a dependency list.
fn mod_info_entries(page: &str, program: &str, exporter: bool) -> Vec<DepsEntry<'static>> {
    samples(page, "rust_mod_info")
        .into_iter()
        .filter(|l| {
            label(l, "program") == program && (label(l, "origin") == "exporter") == exporter
        })
        .map(|l| DepsEntry {
            name: label(&l, "name").to_owned().into(),
            version: label(&l, "version").to_owned().into(),
            source: label(&l, "source").to_owned().into(),
            direct: label(&l, "direct") == "true",
        })
        .collect()
}

/// The exporter's `rust_build_info` samples of `program`.
fn build_info_of(page: &str, program: &str) -> Vec<Labels> {
    samples(page, "rust_build_info")
        .into_iter()
        .filter(|l| label(l, "program") == program)
        .collect()
}

/// An HTTP answer: status, content type, body.
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// `GET target` from `addr`, one request per connection, with its content type.
fn get(addr: &str, target: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    assert!(
        !head.to_ascii_lowercase().contains("transfer-encoding"),
        "{head}"
    );
    Answer {
        status,
        content_type,
        body: raw[split + 4..].to_vec(),
    }
}

fn metrics(addr: &str) -> String {
    let answer = get(addr, "/metrics");
    assert_eq!(answer.status, 200);
    String::from_utf8(answer.body).unwrap()
}

fn start_exporter(args: &[&str]) -> (Running, String) {
    testkit::start_exporter(Command::new(EXPORTER), args)
}

/// The example service (examples/service) built for real, under the program name
/// [`SERVICE`]; returns a copy of the binary.
fn build_example_service(dir: &Path) -> PathBuf {
    testkit::run_ok(
        testkit::cargo(&workspace_root())
            .env("BUILD_INFO_PROGRAM", SERVICE)
            .args([
                "build",
                "--quiet",
                "--locked",
                "-p",
                "build-info-example-service",
            ]),
    );
    let copy = dir.join(SERVICE);
    std::fs::copy(testkit::binary("debug", "example-service"), &copy).unwrap();
    copy
}

#[test]
fn the_exporters_digest_is_the_collectors_and_inspects_in_every_layout() {
    let scratch = Scratch::new("exporter-layouts");
    let dir = scratch.path().canonicalize().unwrap();
    let binary = build_example_service(&dir);
    let mut service = Running::spawn(
        Command::new(&binary)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let announced = announced(
        service.child().stderr.take().unwrap(),
        "example-service ",
        "the example service",
    );
    let service_addr = announced
        .rsplit_once(" listening on ")
        .expect("the service says its address")
        .1
        .split_whitespace()
        .next()
        .expect("an address after \"listening on\"")
        .to_owned();

    let (_full, full_addr) = start_exporter(&["--interval", "60", "--layout", "full"]);
    let (_catalog, catalog_addr) = start_exporter(&["--interval", "60", "--layout", "catalog"]);
    let (_direct, direct_addr) = start_exporter(&["--interval", "60", "--layout", "direct"]);
    let full = metrics(&full_addr);
    let catalog = metrics(&catalog_addr);
    let direct = metrics(&direct_addr);
    for page in [&full, &catalog, &direct] {
        testkit::check_metrics(page);
    }

    // Full: one rust_build_info for the image, its digest that of the crates it publishes.
    let ours = build_info_of(&full, SERVICE);
    assert_eq!(ours.len(), 1, "{ours:?}");
    let digest = label(&ours[0], "deps").to_owned();
    assert!(is_digest(&digest), "{digest:?}");
    assert_eq!(
        (label(&ours[0], "layout"), label(&ours[0], "origin")),
        ("full", "exporter")
    );
    let exporter_entries = mod_info_entries(&full, SERVICE, true);
    assert!(exporter_entries.len() > 20, "{exporter_entries:?}");
    let from_page = DepsList::from_entries(exporter_entries.iter().cloned());
    assert_eq!(from_page.digest(), digest);

    // The service's own collector, default options: the same crates, the same digest.
    let own = String::from_utf8(get(&service_addr, "/metrics").body).unwrap();
    let own_list = DepsList::from_entries(mod_info_entries(&own, SERVICE, false));
    assert_eq!(own_list.text(), from_page.text());
    match build_info_of(&own, SERVICE).as_slice() {
        // A collector that publishes rust_build_info: its deps label is the exporter's.
        [own_build] => assert_eq!(label(own_build, "deps"), digest, "{own_build:?}"),
        [] => eprintln!("the service's collector publishes no rust_build_info yet"),
        more => panic!("more than one rust_build_info from one service: {more:?}"),
    }

    // inspect on the file: the same digest, in text and JSON.
    let text = run(
        Command::new(testkit::cargo_depinfo_bin())
            .args(["depinfo", "inspect"])
            .arg(&binary),
        Duration::from_secs(60),
    );
    assert!(text.status.success(), "{}", stderr(&text));
    testkit::assert_contains(&stdout(&text), &format!("\n\tdeps\t{digest}\n"));
    let json = run(
        Command::new(testkit::cargo_depinfo_bin())
            .args(["depinfo", "inspect", "--format", "json"])
            .arg(&binary),
        Duration::from_secs(60),
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(json["inventories"][0]["deps_digest"], digest.as_str());

    // The list itself, from every exporter: what its digest says.
    for addr in [&full_addr, &catalog_addr, &direct_addr] {
        let answer = get(addr, &format!("/deps/{digest}"));
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type, DEPS_LIST_CONTENT_TYPE);
        let list = DepsList::verify(&digest, &answer.body, MAX_DEPS_LIST_BYTES).unwrap();
        assert_eq!(list, from_page);
    }

    // Catalog: no crate series at all, the same digest.
    assert!(
        !catalog.lines().any(|l| l.starts_with("rust_mod_info")),
        "{catalog}"
    );
    let ours = build_info_of(&catalog, SERVICE);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(
        (label(&ours[0], "deps"), label(&ours[0], "layout")),
        (digest.as_str(), "catalog")
    );
    assert!(
        samples(&catalog, "rust_process_info")
            .iter()
            .any(|l| label(l, "program") == SERVICE),
        "{catalog}"
    );

    // Direct: the direct crates only, exactly those of full.
    let ours = build_info_of(&direct, SERVICE);
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(
        (label(&ours[0], "deps"), label(&ours[0], "layout")),
        (digest.as_str(), "direct")
    );
    let direct_entries: BTreeSet<_> = mod_info_entries(&direct, SERVICE, true)
        .into_iter()
        .collect();
    let expected: BTreeSet<_> = exporter_entries.into_iter().filter(|e| e.direct).collect();
    assert!(expected.len() >= 5, "{expected:?}");
    assert_eq!(direct_entries, expected);
    assert!(
        samples(&direct, "rust_mod_info")
            .iter()
            .all(|l| label(l, "direct") == "true"),
        "{direct}"
    );
}

/// `.dep-v0` JSON: `root` at 0.1.0 (local), depending directly on `deps` (crates.io).
fn dep_v0(root: &str, deps: &[(&str, &str)]) -> String {
    let deps: Vec<_> = deps.iter().map(|&(n, v)| (n, v, "crates.io")).collect();
    testkit::dep_v0_json((root, "0.1.0", "local"), &deps)
}

/// The list of direct crates.io crates `deps`.
fn list_of(deps: &[(&str, &str)]) -> DepsList {
    DepsList::from_entries(deps.iter().map(|&(name, version)| DepsEntry {
        name: name.into(),
        version: version.into(),
        source: "crates.io".into(),
        direct: true,
    }))
}

#[test]
fn deps_paths_serve_running_images_only_and_refuse_what_is_not_a_digest() {
    let scratch = Scratch::new("exporter-deps-path");
    let dir = scratch.path().canonicalize().unwrap();
    let a_deps = [("itoa", "1.0.0"), ("ryu", "1.0.20")];
    let b_deps = [("itoa", "1.0.1")];
    let (a_bin, b_bin) = (dir.join("deps-path-a"), dir.join("deps-path-b"));
    auditable_sleeper(&a_bin, &dep_v0("deps-path-a", &a_deps));
    auditable_sleeper(&b_bin, &dep_v0("deps-path-b", &b_deps));
    let spawn = |bin: &Path| {
        Running::spawn(
            Command::new(bin)
                .arg("300")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )
    };
    let mut a = spawn(&a_bin);
    let mut b = spawn(&b_bin);
    wait_exec(&mut a, &a_bin);
    wait_exec(&mut b, &b_bin);
    let (a_list, b_list) = (list_of(&a_deps), list_of(&b_deps));

    let (_exporter, addr) = start_exporter(&["--interval", "1", "--layout", "catalog"]);
    let page = metrics(&addr);
    for (program, list) in [("deps-path-a", &a_list), ("deps-path-b", &b_list)] {
        let ours = build_info_of(&page, program);
        assert_eq!(ours.len(), 1, "{page}");
        assert_eq!(label(&ours[0], "deps"), list.digest());
        let answer = get(&addr, &list.path());
        assert_eq!(answer.status, 200, "{program}");
        assert_eq!(answer.content_type, DEPS_LIST_CONTENT_TYPE);
        assert_eq!(answer.body, list.text().as_bytes());
        DepsList::verify(list.digest(), &answer.body, MAX_DEPS_LIST_BYTES).unwrap();
    }
    // A query string is not part of the path.
    assert_eq!(get(&addr, &format!("{}?x=1", a_list.path())).status, 200);

    // A digest no running image has: not found.
    assert_eq!(get(&addr, &format!("/deps/{}", "0".repeat(32))).status, 404);
    assert_eq!(get(&addr, "/deps").status, 404);
    // Not a digest: refused before anything is looked up.
    let d = a_list.digest();
    for target in [
        "/deps/".to_owned(),
        "/deps/abc".to_owned(),
        format!("/deps/{}", d.to_ascii_uppercase()),
        format!("/deps/{d}/"),
        format!("/deps/{d}0"),
        format!("/deps/{}", &d[1..]),
        format!("/deps/{d}%00"),
        "/deps/../metrics".to_owned(),
        "/deps/..%2f..%2fetc%2fpasswd".to_owned(),
        "/deps//etc/passwd".to_owned(),
        format!("/deps/{}", "g".repeat(32)),
    ] {
        let answer = get(&addr, &target);
        assert_eq!(answer.status, 400, "{target}");
        assert_eq!(answer.content_type, "text/plain; charset=utf-8", "{target}");
    }

    // Once a's process exits, its list goes with the next scan; b's stays.
    a.kill();
    let started = Instant::now();
    while get(&addr, &a_list.path()).status != 404 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the exited image's list stayed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(build_info_of(&metrics(&addr), "deps-path-a").is_empty());
    assert_eq!(get(&addr, &b_list.path()).status, 200);
}

#[test]
fn an_unknown_layout_is_a_usage_error_naming_it() {
    let out = run(
        Command::new(EXPORTER).args(["--layout", "flat"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    for part in ["'flat'", "--layout", "full", "catalog", "direct"] {
        testkit::assert_contains(&err, part);
    }
}
