//! `inspect` over a directory of 1,000 binaries and 10,000 other files: files per second and
//! bytes read per binary. Prints figures (`cargo bench -p cargo-depinfo --bench inspect_scan`).
//!
//! The binaries are copies of `/bin/true` given the `.bldinfo` and `.dep-v0` sections of the
//! cargo-depinfo binary itself (real build-info data, about a hundred packages) with objcopy.
//! The other files are text, scripts, empty files and random bytes, some named like libraries.
//!
//! Bytes read are counted two ways: the reader's own count (`Scan::bytes_read`, what the
//! binary reader asked for) and the process's `rchar` from `/proc/self/io` (every byte any
//! `read` returned, so also the non-binaries' first bytes), both from a warm page cache.

#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    reason = "counts of a few thousand, converted for printing rates"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cargo_depinfo::{Limits, inspect_paths, read_sections};
use testkit::{Scratch, noise, zlib};

const BINARIES: usize = 1_000;
const OTHER_FILES: usize = 10_000;
const RUNS: usize = 5;

fn rchar() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
}

/// One binary with our sections, made once; the others are copies.
fn template(dir: &Path) -> PathBuf {
    let me = Path::new(env!("CARGO_BIN_EXE_cargo-depinfo"));
    let raw = read_sections(me).expect("cargo-depinfo has build-info data");
    let (Some(bldinfo), Some(dep_v0)) = (&raw.bldinfo, &raw.dep_v0) else {
        panic!("cargo-depinfo embeds both sections");
    };
    let out = dir.join("template");
    testkit::with_sections(
        &out,
        &[(".bldinfo", &zlib(bldinfo)), (".dep-v0", &zlib(dep_v0))],
    );
    out
}

fn main() {
    let root = Scratch::new("inspect-bench");
    let tree = root.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let template = template(&root);
    let binary_size = std::fs::metadata(&template).unwrap().len();
    let setup = Instant::now();
    for i in 0..BINARIES {
        let sub = tree.join(format!("bin{:02}", i % 50));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(&template, sub.join(format!("app-{i:04}"))).unwrap();
    }
    for i in 0..OTHER_FILES {
        let sub = tree.join(format!("other{:02}", i % 100));
        std::fs::create_dir_all(&sub).unwrap();
        let (name, contents): (String, Vec<u8>) = match i % 5 {
            0 => (format!("notes-{i}.txt"), b"plain text\n".repeat(20)),
            1 => (format!("empty-{i}"), Vec::new()),
            2 => (format!("run-{i}.sh"), b"#!/bin/sh\nexit 0\n".to_vec()),
            3 => (format!("libfake-{i}.so"), noise(i, 8192)),
            _ => (format!("data-{i}.json"), noise(i, 512)),
        };
        std::fs::write(sub.join(name), contents).unwrap();
    }
    println!(
        "inspect_scan: {BINARIES} binaries ({binary_size} bytes each: /bin/true + cargo-depinfo's sections) and {OTHER_FILES} other files (setup {:.1?})",
        setup.elapsed()
    );

    let paths = [tree.clone()];
    let limits = Limits::default();
    // Warm the page cache and check the result once.
    let scan = inspect_paths(&paths, &limits);
    assert_eq!(scan.inventories.len(), BINARIES);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let packages = scan.inventories[0].packages.len();

    let mut best = Duration::MAX;
    let mut rchar_per_run = None;
    let mut reader_bytes = 0;
    for _ in 0..RUNS {
        let before = rchar();
        let started = Instant::now();
        let scan = inspect_paths(&paths, &limits);
        let elapsed = started.elapsed();
        if let (Some(a), Some(b)) = (before, rchar()) {
            rchar_per_run = Some(b - a);
        }
        reader_bytes = scan.bytes_read;
        best = best.min(elapsed);
        assert_eq!(scan.files as usize, BINARIES + OTHER_FILES);
    }
    let files = (BINARIES + OTHER_FILES) as f64;
    println!(
        "  library inspect_paths, best of {RUNS}: {best:.1?} for {} files = {:.0} files/s ({:.0} binaries/s with {packages} packages each)",
        BINARIES + OTHER_FILES,
        files / best.as_secs_f64(),
        BINARIES as f64 / best.as_secs_f64()
    );
    println!(
        "  bytes read per binary (reader's count): {} of {binary_size} ({:.1}%)",
        reader_bytes / BINARIES as u64,
        reader_bytes as f64 / BINARIES as f64 * 100.0 / binary_size as f64
    );
    if let Some(r) = rchar_per_run {
        println!(
            "  bytes read by the process per scan (/proc/self/io rchar): {r} = {:.0} per file on average",
            r as f64 / files
        );
    }

    let me = Path::new(env!("CARGO_BIN_EXE_cargo-depinfo"));
    let own = read_sections(me).unwrap().bytes_read;
    let own_size = std::fs::metadata(me).unwrap().len();
    println!(
        "  bytes read from the cargo-depinfo binary itself: {own} of {own_size} ({:.2}%)",
        own as f64 * 100.0 / own_size as f64
    );

    // The real command, end to end (walk, read, decode, render text).
    let mut best_cli = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let out = testkit::run(
            Command::new(env!("CARGO_BIN_EXE_cargo-depinfo"))
                .arg("inspect")
                .arg(&tree),
            Duration::from_secs(300),
        );
        best_cli = best_cli.min(started.elapsed());
        assert_eq!(out.status.code(), Some(0));
    }
    println!(
        "  cargo-depinfo inspect DIR (process, text output), best of 3: {best_cli:.1?} = {:.0} files/s",
        files / best_cli.as_secs_f64()
    );
}
