//! A `/metrics` page in the catalog layout names the dependency lists its programs run, and
//! each costs a request to its target: a page that names thousands (a hostile one) gets at
//! most `MAX_LISTS_PER_PAGE` requests, names at most `MAX_UNREAD_SHOWN` programs one line
//! each, counts the rest in one line, and is never clean (exit 2).

use std::fmt::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use build_info_collector::{DepsEntry, DepsList};
use testkit::{EXPOSITION, Reply, Server, stderr, stdout};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// The list of program `i`: one crate at a version of its own, so every digest differs.
fn list(i: usize) -> DepsList {
    DepsList::from_entries([DepsEntry {
        name: "hyper".into(),
        version: format!("0.14.{i}").into(),
        source: "crates.io".into(),
        direct: true,
    }])
}

/// A page of `programs` catalog-layout programs, each with a list of its own; the target
/// answers the lists of the first `answered` programs and counts the list requests.
fn target(programs: usize, answered: usize) -> (Server, Arc<AtomicUsize>) {
    let mut page = String::from("# TYPE rust_build_info gauge\n");
    for i in 0..programs {
        let _ = writeln!(
            page,
            "rust_build_info{{deps=\"{}\",layout=\"catalog\",program=\"p{i}\",revision=\"r\",version=\"1.0.0\"}} 1",
            list(i).digest()
        );
    }
    let documents: Vec<(String, String)> = (0..answered)
        .map(|i| (list(i).path(), list(i).text().to_owned()))
        .collect();
    let asked = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&asked);
    let server = Server::start(move |path| {
        if path == "/metrics" {
            return Reply::ok(EXPOSITION, page.clone());
        }
        counted.fetch_add(1, Ordering::SeqCst);
        match documents.iter().find(|(p, _)| p == path) {
            Some((_, text)) => {
                Reply::ok(build_info_collector::DEPS_LIST_CONTENT_TYPE, text.clone())
            }
            None => Reply::not_found(),
        }
    });
    (server, asked)
}

fn spread(url: &str) -> (i32, String, String) {
    let out = testkit::run(
        Command::new(DEPINFO).args(["depinfo", "spread", "--crate", "hyper", "--metrics", url]),
        Duration::from_secs(120),
    );
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

#[test]
fn a_page_naming_many_lists_costs_a_bounded_number_of_requests() {
    let max = cargo_depinfo::MAX_LISTS_PER_PAGE;
    let shown = cargo_depinfo::MAX_UNREAD_SHOWN;
    // Every list readable, one past the bound: 64 programs answered, one unknown.
    let (server, asked) = target(max + 1, max + 1);
    let (code, out, err) = spread(&server.url("/metrics"));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(asked.load(Ordering::SeqCst), max);
    assert!(out.starts_with(&format!("hyper: {max} versions")), "{out}");
    assert!(
        err.contains(&format!(
            ": 1 more programs whose dependency lists were not read (at most {max} distinct lists are asked of one page); their crates are unknown"
        )),
        "{err}"
    );

    // Within the bound, every list read: a clean answer, no line.
    let (server, asked) = target(3, 3);
    let (code, out, err) = spread(&server.url("/metrics"));
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    assert!(out.starts_with("hyper: 3 versions"), "{out}");

    // Thousands of lists, none served: 64 requests, 16 programs named, the rest counted.
    let (server, asked) = target(5_000, 0);
    let (code, out, err) = spread(&server.url("/metrics"));
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(asked.load(Ordering::SeqCst), max);
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("could not be read from"))
            .count(),
        shown,
        "{err}"
    );
    assert!(
        err.contains(&format!(": {} more programs whose", 5_000 - shown)),
        "{err}"
    );
    // Each named line names the program and its digest.
    assert!(
        err.contains(&format!(
            ": p0: its dependency list {} could not be read from",
            list(0).digest()
        )),
        "{err}"
    );
    assert!(err.lines().count() < shown + 8, "{err}");
}
