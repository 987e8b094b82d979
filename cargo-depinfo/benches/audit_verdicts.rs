//! What verdicts cost (issue 24): `cargo depinfo audit --db DB --format json DIR` over 1,000
//! binaries on disk, with and without advisories that name functions.
//!
//! The binaries are the real builds of `tests/fixtures/symbols` (a program that calls
//! `tarlike::Archive::unpack` and never calls `tarlike::checksum`), in the `release` profile
//! (symbols, no DWARF) and the `dev` profile (symbols and DWARF), each given a `.dep-v0` that
//! says `tarlike 0.1.0` came from crates.io (objcopy, as `tests/audit_verdicts.rs` does), then
//! copied to 1,000 files per profile. Making them is set-up, not timed. The cases:
//!
//! 1. advisories on `tarlike` that name no functions: no symbol may be read (today's cost);
//! 2. the same plus advisories naming `tarlike::Archive::unpack` and `tarlike::checksum`, on
//!    the release binaries: symbols read (and DWARF looked for, and not there);
//! 3. the same on the dev binaries: symbols and DWARF read;
//! 4. advisories on a crate the binaries don't link: nothing matches (the floor).
//!
//! Cases 1 and 4 run on both sets of binaries. For each case: the real binary's wall time
//! (median and min of several runs) and peak RSS; the same work in-process through the
//! library (`inspect_paths`, then `audit_with`, as `cargo depinfo audit` does), with the time of
//! each step, the peak heap, and how many times the symbol reader was called (a counting hook
//! around `function_verdicts`, the reader `audit` passes to `audit_with`). In cases 1, 2 and
//! 4 the real binary runs once more under strace: where no symbol may be read (1 and 4) it
//! opens each binary once, for its sections, and never again; in case 2 (the control) it
//! opens each again for its symbols. Both counts are asserted, with the verdicts: that is the
//! proof that case 1 reads no symbols.
//!
//! `cargo bench -p cargo-depinfo --bench audit_verdicts` (some 4.5 GiB of scratch files while
//! it runs: the dev binaries; strace must be installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use depinfo_read::binary_reader::symbols::function_verdicts;
use serde_json::Value;
use testkit::{CountingAllocator, Scratch, peak_during, stderr, zlib};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// The fixture's package name: its own, so that no test's build writes the same file.
const NAME: &str = "symbols-bench";

const BINARIES: usize = 1_000;

/// Timed runs of the real binary per case; fewer where each takes seconds (case 3).
const RUNS: usize = 5;
const SLOW_RUNS: usize = 3;

const LIMIT: Duration = Duration::from_secs(600);

/// One advisory in RustSec's format on `package`, naming `functions` (TOML lines).
fn advisory(id: &str, package: &str, functions: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-02\"\n{functions}\n[versions]\npatched = [\">= 0.2.0\"]\n```\n\n# {id}\n\nDetails.\n"
    )
}

const NO_FUNCTIONS: &str = "";
const UNPACK_AND_CHECKSUM: &str = "[affected.functions]\n\"tarlike::Archive::unpack\" = [\"< 0.2.0\"]\n\"tarlike::checksum\" = [\"< 0.2.0\"]";
const CHECKSUM: &str = "[affected.functions]\n\"tarlike::checksum\" = [\"< 0.2.0\"]";
const OTHER_FUNCTION: &str = "[affected.functions]\n\"otherlike::parse\" = [\"< 0.2.0\"]";

/// A database at `db` of `advisories` (id, package, functions).
fn write_db(db: &Path, advisories: &[(&str, &str, &str)]) -> PathBuf {
    for (id, package, functions) in advisories {
        let dir = db.join("crates").join(package);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{id}.md")),
            advisory(id, package, functions),
        )
        .unwrap();
    }
    db.to_path_buf()
}

/// Builds the fixture in `profile` and writes `BINARIES` copies of its binary, with a
/// `.dep-v0` naming `tarlike 0.1.0` from crates.io, into `dir`. The size of one.
fn binaries(project: &Path, profile: &str, scratch: &Path, dir: &Path) -> u64 {
    testkit::run_ok(testkit::cargo(project).args([
        "build",
        "--offline",
        "--quiet",
        "--profile",
        profile,
    ]));
    let profile_dir = if profile == "dev" { "debug" } else { profile };
    let json = testkit::dep_v0_json(
        (NAME, "0.1.0", "local"),
        &[("tarlike", "0.1.0", "crates.io")],
    );
    let base = scratch.join(format!("base-{profile}"));
    testkit::with_sections_on(
        &testkit::binary(profile_dir, NAME),
        &base,
        &[(".dep-v0", &zlib(json.as_bytes()))],
    );
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..BINARIES {
        std::fs::copy(&base, dir.join(format!("{NAME}-{i:04}"))).unwrap();
    }
    std::fs::metadata(&base).unwrap().len()
}

/// Present, unknown and not-found binaries per advisory id.
type Tally = BTreeMap<String, [usize; 3]>;

/// What one case does in-process: the time of each step, the peak heap, the calls of the
/// symbol reader and the verdicts.
struct InProcess {
    inspect: Duration,
    audit: Duration,
    peak: usize,
    reads: usize,
    tally: Tally,
}

/// `inspect_paths` on `dir`, then `audit_with` and the reader `audit` uses, counted.
fn in_process(db: &cargo_depinfo::Database, dir: &Path) -> InProcess {
    let mut reads = 0;
    let mut times = (Duration::ZERO, Duration::ZERO);
    let (tally, peak) = peak_during(|| {
        let start = Instant::now();
        let scan =
            cargo_depinfo::inspect_paths(&[dir.to_path_buf()], &cargo_depinfo::Limits::default());
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        assert_eq!(scan.inventories.len(), BINARIES);
        let mut observations = cargo_depinfo::from_inventories(&scan.inventories);
        let roots = cargo_depinfo::root_observations(&scan.inventories, &observations);
        observations.extend(roots);
        times.0 = start.elapsed();
        let start = Instant::now();
        let mut options = cargo_depinfo::AuditOptions::default();
        options.add_binaries(&scan.inventories);
        let answer =
            cargo_depinfo::audit_with(&observations, db, &options, &mut |path, functions| {
                reads += 1;
                function_verdicts(path, functions)
            });
        times.1 = start.elapsed();
        answer
            .vulnerabilities
            .iter()
            .map(|f| (f.advisory.id.clone(), f.verdict_counts()))
            .collect::<Tally>()
    });
    InProcess {
        inspect: times.0,
        audit: times.1,
        peak,
        reads,
        tally,
    }
}

/// `cargo-depinfo audit --db DB --format json DIR` from `scratch` with an empty cargo home.
fn command_line(scratch: &Path, db: &Path, dir: &Path) -> Vec<String> {
    [
        "env",
        "-C",
        &scratch.display().to_string(),
        &format!("CARGO_HOME={}", scratch.join("cargo-home").display()),
        BIN,
        "audit",
        "--db",
        &db.display().to_string(),
        "--format",
        "json",
        &dir.display().to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The verdicts of the JSON answer, counted as [`in_process`] counts them.
fn json_tally(json: &str) -> Tally {
    let doc: Value = serde_json::from_str(json).unwrap();
    let mut tally = Tally::new();
    for finding in doc["vulnerabilities"].as_array().unwrap() {
        let counts = tally
            .entry(finding["id"].as_str().unwrap().to_owned())
            .or_default();
        for blast in finding["affected"].as_array().unwrap() {
            let slot = match blast["verdict"].as_str().unwrap() {
                "present" => 0,
                "unknown" => 1,
                "not-found" => 2,
                other => panic!("verdict {other}"),
            };
            counts[slot] += blast["instances"].as_array().unwrap().len();
        }
    }
    tally
}

/// The real binary once under strace: its verdicts and how many times it opened a file of
/// `dir` (the directory itself not counted).
fn traced(scratch: &Path, db: &Path, dir: &Path) -> (Tally, usize) {
    let trace = scratch.join("trace");
    let out = testkit::run(
        Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=openat,open", "-o"])
            .arg(&trace)
            .args(command_line(scratch, db, dir)),
        LIMIT,
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "strace cargo-depinfo audit: {}",
        stderr(&out)
    );
    let prefix = format!("\"{}/", dir.display());
    let opens = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.contains(&prefix) && !l.contains("O_DIRECTORY"))
        .count();
    (json_tally(&String::from_utf8_lossy(&out.stdout)), opens)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `d` over the binaries, in milliseconds.
fn per_binary(d: Duration) -> f64 {
    // Display only.
    #[allow(clippy::cast_precision_loss, reason = "a figure to print")]
    let n = BINARIES as f64;
    ms(d) / n
}

fn mib(bytes: u64) -> f64 {
    // Display only.
    #[allow(clippy::cast_precision_loss, reason = "a figure to print")]
    let b = bytes as f64;
    b / f64::from(1 << 20)
}

fn main() {
    testkit::answer_measure_request();
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "strace: not found or not working; this bench counts the binary's opens with it (apt-get install strace)"
    );
    let scratch = Scratch::new("audit-verdicts-bench");
    std::fs::create_dir_all(scratch.join("cargo-home")).unwrap();
    let project = scratch.join("project");
    testkit::copy_fixture("symbols", &project, NAME, &[]);
    let start = Instant::now();
    let release = scratch.join("release");
    let dev = scratch.join("dev");
    let release_size = binaries(&project, "release", &scratch, &release);
    let dev_size = binaries(&project, "dev", &scratch, &dev);
    println!(
        "set-up      {BINARIES} release binaries of {:.2} MiB ({:.0} MiB) and {BINARIES} dev binaries of {:.2} MiB ({:.0} MiB), built and copied in {:.0} s",
        mib(release_size),
        mib(release_size * BINARIES as u64),
        mib(dev_size),
        mib(dev_size * BINARIES as u64),
        start.elapsed().as_secs_f64()
    );

    let plain = write_db(
        &scratch.join("db-plain"),
        &[
            ("RUSTSEC-2099-0103", "tarlike", NO_FUNCTIONS),
            ("RUSTSEC-2099-0104", "tarlike", NO_FUNCTIONS),
        ],
    );
    let functions = write_db(
        &scratch.join("db-functions"),
        &[
            ("RUSTSEC-2099-0101", "tarlike", UNPACK_AND_CHECKSUM),
            ("RUSTSEC-2099-0102", "tarlike", CHECKSUM),
            ("RUSTSEC-2099-0103", "tarlike", NO_FUNCTIONS),
            ("RUSTSEC-2099-0104", "tarlike", NO_FUNCTIONS),
        ],
    );
    let other = write_db(
        &scratch.join("db-other"),
        &[
            ("RUSTSEC-2099-0201", "otherlike", OTHER_FUNCTION),
            ("RUSTSEC-2099-0202", "otherlike", NO_FUNCTIONS),
        ],
    );
    // Each case: what it reads, and the verdicts it must give for its figures to mean what
    // they say (binaries present, unknown, not-found per advisory).
    let n = BINARIES;
    let no_functions = [
        ("RUSTSEC-2099-0103", [0, n, 0]),
        ("RUSTSEC-2099-0104", [0, n, 0]),
    ];
    let cases: [Case<'_>; 6] = [
        Case {
            label: "1 no function named, release binaries",
            runs: RUNS,
            trace: true,
            db: &plain,
            dir: &release,
            reads: 0,
            verdicts: no_functions.to_vec(),
        },
        Case {
            label: "1 no function named, dev binaries",
            runs: RUNS,
            trace: true,
            db: &plain,
            dir: &dev,
            reads: 0,
            verdicts: no_functions.to_vec(),
        },
        Case {
            label: "2 functions named, release binaries (symbols read)",
            runs: RUNS,
            trace: true,
            db: &functions,
            dir: &release,
            reads: n,
            verdicts: [
                ("RUSTSEC-2099-0101", [n, 0, 0]),
                ("RUSTSEC-2099-0102", [0, n, 0]),
            ]
            .into_iter()
            .chain(no_functions)
            .collect(),
        },
        Case {
            label: "3 functions named, dev binaries (symbols and DWARF read)",
            runs: SLOW_RUNS,
            // Under strace it would cost another 20 s; case 2 shows the symbol reads.
            trace: false,
            db: &functions,
            dir: &dev,
            reads: n,
            verdicts: [
                ("RUSTSEC-2099-0101", [n, 0, 0]),
                ("RUSTSEC-2099-0102", [0, 0, n]),
            ]
            .into_iter()
            .chain(no_functions)
            .collect(),
        },
        Case {
            label: "4 another crate, release binaries",
            runs: RUNS,
            trace: true,
            db: &other,
            dir: &release,
            reads: 0,
            verdicts: Vec::new(),
        },
        Case {
            label: "4 another crate, dev binaries",
            runs: RUNS,
            trace: true,
            db: &other,
            dir: &dev,
            reads: 0,
            verdicts: Vec::new(),
        },
    ];
    for case in cases {
        run(&scratch, &case);
    }
}

/// One case of the bench.
struct Case<'a> {
    label: &'static str,
    /// Timed runs of the real binary.
    runs: usize,
    /// Whether the binary runs once more under strace, counting its opens of the binaries.
    trace: bool,
    db: &'a Path,
    dir: &'a Path,
    /// Calls of the symbol reader.
    reads: usize,
    verdicts: Vec<(&'static str, [usize; 3])>,
}

/// Times `case` through the binary and in-process, prints the figures, and checks the work
/// done. With `trace`, also counts the binary's opens of the binaries under strace: one each
/// (for their sections) where no symbol may be read, more where symbols are read.
fn run(scratch: &Path, case: &Case<'_>) {
    let label = case.label;
    let (db, errors) =
        cargo_depinfo::Database::load(case.db, cargo_depinfo::DbLimits::default()).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    let mut walls = Vec::new();
    let mut rss = 0;
    for _ in 0..case.runs {
        let m = testkit::measured(&command_line(scratch, case.db, case.dir));
        assert!(matches!(m.code, 0 | 1), "{label}: {}", m.stderr);
        walls.push(m.wall);
        rss = rss.max(m.peak_rss_kib);
    }
    walls.sort();
    let inner = in_process(&db, case.dir);
    let median = walls[case.runs / 2];
    println!("case {label}");
    println!(
        "    cargo-depinfo audit  median {:.0} ms, min {:.0} ms over {} runs ({:.3} ms per binary), peak RSS {:.1} MiB",
        ms(median),
        ms(walls[0]),
        case.runs,
        per_binary(median),
        mib(rss << 10),
    );
    println!(
        "    in-process           inspect {:.0} ms, audit {:.0} ms ({:.3} ms per binary), peak heap {:.1} MiB; symbol reader called {} times",
        ms(inner.inspect),
        ms(inner.audit),
        per_binary(inner.audit),
        mib(inner.peak as u64),
        inner.reads,
    );
    let verdicts: Vec<String> = inner
        .tally
        .iter()
        .map(|(id, [p, u, n])| format!("{id} {p}/{u}/{n}"))
        .collect();
    println!(
        "    verdicts (binaries present/unknown/not-found)  {}",
        if verdicts.is_empty() {
            "no findings".to_owned()
        } else {
            verdicts.join(", ")
        }
    );
    assert_eq!(
        inner.reads, case.reads,
        "{label}: calls of the symbol reader"
    );
    let expected: Tally = case
        .verdicts
        .iter()
        .map(|(id, c)| ((*id).to_owned(), *c))
        .collect();
    assert_eq!(inner.tally, expected, "{label}");
    if case.trace {
        let (tally, opens) = traced(scratch, case.db, case.dir);
        println!("    under strace         {opens} opens of the {BINARIES} binaries");
        assert_eq!(tally, expected, "{label}: the binary's verdicts");
        // Once each for its sections; reading symbols opens a binary again.
        if case.reads == 0 {
            assert_eq!(opens, BINARIES, "{label}: opens of the binaries");
        } else {
            assert!(
                opens >= 2 * BINARIES,
                "{label}: {opens} opens of the binaries"
            );
        }
    }
}
