//! Issue 18's contract, "one way to open a file someone else controls": every reader of a file
//! goes through `untrusted_file` (non-blocking, regular files only, a size cap, one line naming
//! the file), so that a new reader cannot forget. This test reads the sources of the crates
//! that read such files (this one and depinfo-server, the exporter and the catalog) and fails
//! on any other way of opening a file outside the tests, naming the file and line.

use std::path::{Path, PathBuf};

/// Calls that open or read a file by path.
const OPENERS: &[&str] = &[
    "File::open(",
    "fs::read(",
    "fs::read_to_string(",
    "OpenOptions::new(",
    "pem_file_iter(",
    "from_pem_file(",
    "read_to_string(&",
];

/// The library code that reads what others made, relative to the workspace root.
const LIBRARIES: &[&str] = &[
    "cargo-depinfo/src",
    "depinfo-http/src",
    "depinfo-read/src",
    "depinfo-server/src",
    "depinfo-wire/src",
];

/// The places allowed to open files themselves, each with its reason.
const ALLOWED: &[(&str, &str)] = &[
    (
        "depinfo-read/src/untrusted_file.rs",
        "the one opener: everything else goes through it",
    ),
    (
        "depinfo-server/src/exporter/discovery.rs",
        "read_capped: the kernel's own /proc/PID/stat and cgroup files, never a FIFO or a device, read up to MAX_PROC_FILE",
    ),
];

/// The `.rs` files under `dir`, sorted.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `text` before its unit tests (`#[cfg(test)]` on a line of its own, followed by a
/// `mod`), with their numbers.
fn library_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod "))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .enumerate()
        .map(|(i, l)| (i + 1, *l))
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .collect()
}

/// Every opener call in the libraries' code under the workspace root `root` outside the
/// allowed files: `path:line: text`, the path from `root`.
fn stray_openers(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for library in LIBRARIES {
        sources(&root.join(library), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.iter().any(|(allowed, _)| *allowed == relative) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in library_lines(&text) {
            if OPENERS.iter().any(|o| line.contains(o)) {
                found.push(format!("{relative}:{number}: {}", line.trim()));
            }
        }
    }
    found
}

#[test]
fn every_file_from_others_is_opened_through_untrusted_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let stray = stray_openers(root);
    assert!(
        stray.is_empty(),
        "files opened outside untrusted_file (use cargo_depinfo::untrusted_file, or add the \
         place to ALLOWED with its reason):\n{}",
        stray.join("\n")
    );
    // The allowed places exist and really open files (the list stays true).
    for (allowed, _) in ALLOWED {
        let text = std::fs::read_to_string(root.join(allowed)).unwrap();
        assert!(
            library_lines(&text)
                .iter()
                .any(|(_, l)| OPENERS.iter().any(|o| l.contains(o))),
            "{allowed} no longer opens a file: remove it from ALLOWED"
        );
    }
}

/// The check itself: a reader added anywhere in a library file is found, one in its unit tests
/// or in a comment is not.
#[test]
fn the_check_finds_a_stray_reader_and_ignores_tests_and_comments() {
    let scratch = testkit::Scratch::new("one-opener-check");
    let src = scratch.join("cargo-depinfo/src/sources");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(scratch.join("depinfo-read/src")).unwrap();
    std::fs::create_dir_all(scratch.join("depinfo-http/src")).unwrap();
    std::fs::create_dir_all(scratch.join("depinfo-wire/src")).unwrap();
    std::fs::create_dir_all(scratch.join("depinfo-server/src")).unwrap();
    std::fs::write(
        src.join("new_reader.rs"),
        "//! A reader.\n\n// std::fs::read(path) in a comment is fine.\npub fn load(p: &std::path::Path) -> Vec<u8> {\n    std::fs::read(p).unwrap()\n}\n\n#[cfg(test)]\nmod tests {\n    fn t() { let _ = std::fs::File::open(\"x\"); }\n}\n",
    )
    .unwrap();
    std::fs::write(
        scratch.join("depinfo-read/src/untrusted_file.rs"),
        "pub fn open() { let _ = std::fs::OpenOptions::new(); }\n",
    )
    .unwrap();
    // An allowed place is allowed by its path from the workspace root.
    assert_eq!(
        stray_openers(scratch.path()),
        ["cargo-depinfo/src/sources/new_reader.rs:5: std::fs::read(p).unwrap()"]
    );
}
