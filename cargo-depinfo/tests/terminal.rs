//! Terminal injection (issue 10, item 4): text from a binary, a fleet member's labels or a
//! file name reaches a person's terminal. The real `cargo-depinfo` binary is run on hostile
//! inputs (`.bldinfo` values, `/metrics` labels, Prometheus answers and file names holding
//! ESC sequences, BEL, NUL, CR, LF, DEL and C1 controls) and no raw control character may
//! reach stdout or stderr in a human-readable format: the values are quoted with escapes.
//! A counting allocator checks that escaping and the `rules` flags cost bounded memory.

use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Reply, Scratch, Server, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

use testkit::peak_during;

/// Clear screen, ring, NUL, then a forged report line after a carriage return and a newline.
const HOSTILE: &str = "evil\u{1b}[2J\u{7}\u{0}\r\n\tdep\tforged\t6.6.6\tcrates.io\u{7f}\u{9b}31m";
/// [`HOSTILE`] as a JSON string's contents.
const HOSTILE_JSON: &str =
    r"evil\u001b[2J\u0007\u0000\r\n\tdep\tforged\t6.6.6\tcrates.io\u007f\u009b31m";
/// [`HOSTILE`] as the text output shows it: quoted, escaped.
const HOSTILE_SHOWN: &str =
    r#""evil\x1b[2J\x07\x00\r\n\tdep\tforged\t6.6.6\tcrates.io\x7f\u009b31m""#;

fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), Duration::from_secs(60))
}

/// Panics if `text` holds a control character other than those listed (the format's own tabs
/// and newlines).
fn assert_no_control(what: &str, text: &str, allowed: &[char]) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !allowed.contains(c))
    {
        panic!("{what} holds the control character {c:?}:\n{text:?}");
    }
}

/// A `.bldinfo` whose program, branch, version and package names are hostile.
fn hostile_bldinfo() -> String {
    format!(
        r#"{{"format":1,"program":"{HOSTILE_JSON}","version":"1.0.0{HOSTILE_JSON}","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","branch":"{HOSTILE_JSON}","rust_version":"1.95.0","target":"x86_64-unknown-linux-gnu","profile":"release","features":["{HOSTILE_JSON}"],"packages":[{{"name":"{HOSTILE_JSON}","version":"1.0.0","source":"local","root":true,"dependencies":[1]}},{{"name":"itoa{HOSTILE_JSON}","version":"1.0.15","source":"crates.io"}}]}}"#
    )
}

#[test]
fn inspect_text_escapes_control_characters_from_a_binary() {
    let dir = Scratch::new("terminal-bldinfo");
    let bin = dir.join("app");
    testkit::with_sections(&bin, &[(".bldinfo", &zlib(hostile_bldinfo().as_bytes()))]);
    let out = run(&["inspect", bin.to_str().unwrap()]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_no_control("inspect's text", &text, &['\t', '\n']);
    assert_no_control("inspect's stderr", &err, &['\n']);
    // The data was read and shown, escaped (not dropped or refused).
    assert_eq!(out.status.code(), Some(0), "{err}");
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        format!(
            "{}: {HOSTILE_SHOWN} {}",
            bin.display(),
            HOSTILE_SHOWN.replacen("\"evil", "\"1.0.0evil", 1)
        )
    );
    assert!(
        text.contains(&format!("\tbuild\tbranch={HOSTILE_SHOWN}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\tmod\t{HOSTILE_SHOWN}\t1.0.0\tlocal\n")),
        "{text}"
    );
    // No forged line: every line is the header or starts with the format's tab.
    assert!(text.lines().skip(1).all(|l| l.starts_with('\t')), "{text}");
    assert!(!text.contains("\tdep\tforged"), "{text}");
}

#[test]
fn stderr_escapes_values_quoted_from_a_rejected_binary() {
    // A package version that is not SemVer: the error quotes it and the package name.
    let dir = Scratch::new("terminal-rejected");
    let bin = dir.join("app");
    let bldinfo = hostile_bldinfo().replace(
        r#""version":"1.0.15""#,
        &format!(r#""version":"1.0.15{HOSTILE_JSON}""#),
    );
    testkit::with_sections(&bin, &[(".bldinfo", &zlib(bldinfo.as_bytes()))]);
    let out = run(&["inspect", bin.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("inspect's stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not SemVer"), "{err}");
}

#[test]
fn stderr_escapes_control_characters_in_file_names() {
    let dir = Scratch::new("terminal-names");
    // An explicit path that does not exist.
    let missing = dir.join("missing\u{1b}]0;pwned\u{7}\r\nerror: forged");
    let out = run(&["inspect", missing.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "one line per error: {err}");
    assert!(
        err.contains(r"missing\x1b]0;pwned\x07\r\nerror: forged"),
        "{err}"
    );

    // A binary in a scanned directory whose section is broken: the error names the file.
    let scan = dir.join("scan");
    std::fs::create_dir(&scan).unwrap();
    let broken = scan.join("broken\u{1b}[2J\u{7}\u{9b}");
    testkit::with_sections(&broken, &[(".bldinfo", b"not zlib at all")]);
    let out = run(&["inspect", scan.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert!(err.contains(r"broken\x1b[2J\x07\u009b"), "{err}");
    assert_no_control("stdout", &stdout(&out), &['\t', '\n']);
}

/// What build-info-collector would serve for a program whose labels are hostile.
fn hostile_page() -> String {
    // In the exposition, a label value escapes only `\`, `"` and newline: ESC, BEL, NUL, CR
    // and the rest arrive raw.
    let h = HOSTILE.replace('\n', r"\n");
    format!(
        "# TYPE app_build_info gauge\n\
         app_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"r{h}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"0.1.0{h}\"}} 1\n\
         # TYPE rust_mod_info gauge\n\
         rust_mod_info{{direct=\"true\",name=\"serde\",program=\"{h}\",source=\"crates.io{h}\",version=\"1.0.1\"}} 1\n\
         rust_mod_info{{direct=\"true\",name=\"serde\",program=\"{h}\",source=\"crates.io\",version=\"1.0.2\"}} 1\n"
    )
}

/// A Prometheus API answering `rust_mod_info` with a hostile instance and program, and the
/// `count by` queries with the same program and job.
fn hostile_prometheus() -> Server {
    let series =
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "rust_mod_info", "instance": HOSTILE, "job": HOSTILE,
                        "name": "serde", "program": HOSTILE, "source": "crates.io",
                        "version": "1.0.3"},
             "value": [1_763_770_000.123, "1"]}
        ]}})
        .to_string();
    let counted =
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"job": HOSTILE, "name": "serde", "program": HOSTILE, "version": "1.0.3"},
             "value": [1_763_770_000.123, "1"]}
        ]}})
        .to_string();
    Server::start(move |path| {
        if path.starts_with("/api/v1/query?query=count") {
            Reply::ok("application/json", counted.clone())
        } else if path.starts_with("/api/v1/query") {
            Reply::ok("application/json", series.clone())
        } else {
            Reply::not_found()
        }
    })
}

#[test]
fn affected_and_spread_text_escape_control_characters_from_labels() {
    let page = hostile_page();
    let metrics = Server::start(move |path| {
        if path == "/metrics" {
            Reply::ok("text/plain; version=0.0.4", page.clone())
        } else {
            Reply::not_found()
        }
    });
    let prometheus = hostile_prometheus();
    let (m, p) = (metrics.url("/metrics"), prometheus.url("/"));
    let sources = ["--metrics", m.as_str(), "--prometheus", p.as_str()];

    let out = run(&[&["affected", "serde", ">=1.0.0"], &sources[..]].concat());
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_no_control("affected's text", &text, &['\n']);
    assert_no_control("affected's stderr", &err, &['\n']);
    assert_eq!(
        text.lines().count(),
        3,
        "one line per hit, none forged:\n{text}"
    );
    assert!(
        text.contains(&format!(": {HOSTILE_SHOWN}: serde 1.0.3 crates.io\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{HOSTILE_SHOWN}: {HOSTILE_SHOWN}")),
        "{text}"
    );

    let out = run(&[&["spread", "--crate", "serde"], &sources[..]].concat());
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_no_control("spread's text", &text, &['\t', '\n']);
    assert_no_control("spread's stderr", &err, &['\n']);
    assert!(text.starts_with("serde: 3 versions\n"), "{text}");
    assert!(
        text.contains(&format!(
            "\t1.0.3\t{HOSTILE_SHOWN}@{p}\tjob={HOSTILE_SHOWN} instances=1\n"
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn a_hostile_error_from_a_page_is_one_escaped_line() {
    // A page whose exposition is malformed at a line holding control characters: whatever
    // the parser quotes from it reaches stderr escaped.
    let metrics = Server::fixed(Reply::ok(
        "text/plain; version=0.0.4",
        "rust_mod_info{name=\"serde\u{1b}[2J\u{7}\" 1\n",
    ));
    let out = run(&["spread", "--metrics", &metrics.url("/metrics\u{1b}[2J")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn escaping_a_hostile_value_costs_at_most_four_times_its_size() {
    let mib = 1 << 20;
    let escapes = "\u{1b}".repeat(mib);
    let (shown, peak) = peak_during(|| cargo_depinfo::printable(&escapes).len());
    assert_eq!(shown, 4 * mib + 2);
    assert!(peak <= 4 * mib + 2, "{peak} bytes for {mib}");
    let c1 = "\u{9b}".repeat(mib / 2);
    let (shown, peak) = peak_during(|| cargo_depinfo::printable_line(&c1).len());
    assert_eq!(shown, 3 * mib);
    assert!(peak <= 3 * mib, "{peak} bytes for {mib}");
    // Text without controls is shown as it is, without a copy.
    let plain = "a".repeat(mib);
    let (_, peak) = peak_during(|| cargo_depinfo::printable(&plain).len());
    assert_eq!(peak, 0);
}

#[test]
fn a_huge_rules_flag_costs_a_short_error() {
    let mut options = cargo_depinfo::RulesOptions::default();
    options.drift_for = "9".repeat(8 << 20) + "m";
    let (err, peak) = peak_during(|| cargo_depinfo::rules(&options).unwrap_err().to_string());
    assert!(err.len() < 200, "{err}");
    assert!(peak < 64 << 10, "{peak} bytes for an 8 MiB flag");
}
