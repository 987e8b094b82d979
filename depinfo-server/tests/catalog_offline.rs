//! `depinfo-catalog BINARY|DIR...`: the `rust_deps_info` page of binaries read from
//! disk, written atomically for node_exporter's textfile collector (checked byte for byte and
//! by promtool), printed, or served with the lists at `/deps/<digest>`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::{
    Scratch, auditable_binary, dep_v0_json, get, start_catalog, stderr, stdout, terminate,
};

const CATALOG: &str = env!("CARGO_BIN_EXE_depinfo-catalog");

/// The document of the fixture binaries' list (both depend directly on itoa and serde).
const DOCUMENT: &str = "itoa\t1.0.15\tcrates.io\ttrue\nserde\t1.0.219\tcrates.io\ttrue\n";
/// Its digest: the first 128 bits of its SHA-256, in hex.
const DIGEST: &str = "0a761131ad08616c9470cdfed9744ad0";

/// The page, byte for byte.
const PAGE: &str = "# HELP rust_deps_info A metric with a constant '1' value labeled by the digest of a dependency list (deps) and the name, version, source and directness of each crate on it.\n\
# TYPE rust_deps_info gauge\n\
rust_deps_info{deps=\"0a761131ad08616c9470cdfed9744ad0\",direct=\"true\",name=\"itoa\",source=\"crates.io\",version=\"1.0.15\"} 1\n\
rust_deps_info{deps=\"0a761131ad08616c9470cdfed9744ad0\",direct=\"true\",name=\"serde\",source=\"crates.io\",version=\"1.0.219\"} 1\n";

/// Two programs built from one dependency list, and a binary without data, in `dir`.
fn fixture(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let deps = [
        ("itoa", "1.0.15", "crates.io"),
        ("serde", "1.0.219", "crates.io"),
    ];
    auditable_binary(
        &dir.join("app"),
        &dep_v0_json(("app", "0.1.0", "local"), &deps),
    );
    auditable_binary(
        &dir.join("app-cli"),
        &dep_v0_json(("app-cli", "0.1.0", "local"), &deps),
    );
    std::fs::copy(testkit::plain_binary(), dir.join("plain")).unwrap();
}

fn catalog(args: &[&Path]) -> std::process::Output {
    testkit::run(Command::new(CATALOG).args(args), Duration::from_secs(60))
}

#[test]
fn the_textfile_page_is_exact_atomic_and_valid() {
    assert_eq!(build_info_collector::digest_of(DOCUMENT.as_bytes()), DIGEST);
    let scratch = Scratch::new("catalog-offline");
    let bin = scratch.join("bin");
    fixture(&bin);
    let out_dir = scratch.join("textfiles");
    std::fs::create_dir_all(&out_dir).unwrap();
    let file = out_dir.join("deps.prom");

    // Two programs, one list: one set of series. The plain binary, named, is said to have no
    // list and skipped (walking the directory skips it silently, as inspect does).
    let done = catalog(&[&bin, &bin.join("plain"), Path::new("--output"), &file]);
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    assert_eq!(stdout(&done), "");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), PAGE);
    let said = stderr(&done);
    assert!(
        said.lines()
            .any(|l| l.starts_with("note: ") && l.contains("plain") && l.ends_with("skipped")),
        "{said}"
    );
    // Nothing but the page is left in the textfile directory (the temporary file was renamed).
    let names: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["deps.prom"]);
    testkit::check_metrics(PAGE);

    // Without --output: the same page on stdout.
    let done = catalog(&[&bin.join("app")]);
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    assert_eq!(stdout(&done), PAGE);

    // An unreadable input: exit 2, after writing what could be read.
    std::fs::remove_file(&file).unwrap();
    let missing = scratch.join("missing");
    let done = catalog(&[&bin, &missing, Path::new("--output"), &file]);
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), PAGE);
    let errors: Vec<String> = stderr(&done)
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_owned)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    testkit::assert_contains(&errors[0], &missing.display().to_string());
}

#[test]
fn the_offline_page_and_its_lists_are_served() {
    let scratch = Scratch::new("catalog-offline-serve");
    let bin = scratch.join("bin");
    fixture(&bin);
    let (mut child, addr, _lines) = start_catalog(
        Command::new(CATALOG),
        [bin.as_os_str(), "--listen".as_ref(), "127.0.0.1:0".as_ref()],
    );
    let page = get(&addr, "/metrics").unwrap();
    assert_eq!((page.status, page.body.as_str()), (200, PAGE));
    let list = get(&addr, &format!("/deps/{DIGEST}")).unwrap();
    assert_eq!((list.status, list.body.as_str()), (200, DOCUMENT));
    for missing in ["/deps/00000000000000000000000000000000", "/deps", "/"] {
        assert_eq!(get(&addr, missing).unwrap().status, 404, "{missing}");
    }
    // Not a digest: refused before any lookup, as the exporter does.
    for malformed in [
        "/deps/".to_owned(),
        format!("/deps/{}", DIGEST.to_uppercase()),
        format!("/deps/{DIGEST}/"),
        format!("/deps/{DIGEST}0"),
        "/deps/../metrics".to_owned(),
    ] {
        let answer = get(&addr, &malformed).unwrap();
        assert_eq!(answer.status, 400, "{malformed}");
        assert_eq!(
            answer.body, "not a digest: /deps/ takes 32 lowercase hexadecimal digits\n",
            "{malformed}"
        );
    }
    assert!(
        terminate(&mut child),
        "the catalog did not exit 0 on SIGTERM"
    );
}
