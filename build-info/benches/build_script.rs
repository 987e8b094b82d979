//! Build-script cost and embedded size on a generated workspace with 300 locked packages.
//!
//! `cargo bench -p buildinfo --features build --bench build_script` prints:
//! - build-script time when the dependency graph is recomputed (target <= 300 ms, and <= 1.3x
//!   the `cargo tree` it runs, timed alone) and when only the git state is re-read (target
//!   <= 50 ms), medians of several runs;
//! - the fresh-cache case: a workspace of the app and 4 services in an empty cargo home into
//!   which only the app's packages were downloaded (from a sparse registry on loopback), the
//!   build script run under a stand-in cargo whose command line is `cargo build -p bench-app`,
//!   against `cargo tree -p bench-app` alone;
//! - bytes embedded for the 300 packages (target <= 16 KiB): `.dep-v0`, `.bldinfo` and the
//!   run-side table, with and without checksums;
//! - clean compile time of the build side's own dependencies.
//!
//! The 300 packages are a directory source (what `cargo vendor` writes) standing in for
//! crates.io, so Cargo.lock records real checksums and nothing touches the network.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const PACKAGES: usize = 300;
const RUNS: usize = 9;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--as-build-script") {
        // Child mode: behave as the build script cargo would run.
        let checksums = args.get(2).map(String::as_str) != Some("no-checksums");
        buildinfo::build::Builder::new().checksums(checksums).emit();
        return;
    }
    if let Some(app) = std::env::var_os(AS_CARGO) {
        // Stand-in for the cargo that runs the build script: its command line (argv[0]
        // `cargo`, then the build's arguments) is what the build script reads to learn the
        // package selection.
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--as-build-script", "no-checksums"])
            .current_dir(app)
            .env_remove(AS_CARGO)
            .status()
            .unwrap();
        std::process::exit(status.code().unwrap_or(1));
    }
    let work = testkit::Scratch::new("build-info-bench");
    let app = generate_workspace(&work.join("ws"));
    let out_dir = work.join("out");

    let cold = median(RUNS, || {
        let _ = std::fs::remove_dir_all(&out_dir);
        run_build_script(&app, &out_dir, true)
    });
    assert!(
        trace(&out_dir).contains("graph: computed"),
        "{}",
        trace(&out_dir)
    );
    let warm = median(RUNS, || run_build_script(&app, &out_dir, true));
    assert!(
        trace(&out_dir).contains("graph: cached"),
        "{}",
        trace(&out_dir)
    );

    let tree_alone = median(RUNS, || {
        let started = Instant::now();
        testkit::run_ok(
            Command::new(env!("CARGO"))
                .current_dir(&app)
                .args([
                    "tree",
                    "--offline",
                    "--locked",
                    "--workspace",
                    "-e",
                    "normal,build",
                ])
                .args(["--target", &host_triple(), "--charset", "ascii"])
                .args(["--format", "{p}|{f}", "--color", "never"]),
        );
        started.elapsed()
    });
    let fresh = fresh_cache_case(&work.join("fresh"));

    let table_bytes = table_size(&out_dir);
    // The first runs passed checksums(true); now the default.
    let dep_v0 = file_len(&out_dir.join("dep-v0.bin"));
    let bldinfo = file_len(&out_dir.join("bldinfo.bin"));
    let _ = std::fs::remove_dir_all(&out_dir);
    run_build_script(&app, &out_dir, false);
    let bldinfo_plain = file_len(&out_dir.join("bldinfo.bin"));
    let table_plain = table_size(&out_dir);
    assert_eq!(
        table_plain, table_bytes,
        "the run-side table never holds checksums"
    );

    let mut report = String::new();
    let _ = writeln!(
        report,
        "build-info build script, {PACKAGES} locked packages ({RUNS} runs, median)"
    );
    let _ = writeln!(
        report,
        "  graph recomputed:        {:>7.1} ms   (target <= 300 ms)",
        ms(cold)
    );
    let _ = writeln!(
        report,
        "  cargo tree alone:        {:>7.1} ms   (graph recomputed = {:.2}x, target <= 1.3x)",
        ms(tree_alone),
        cold.as_secs_f64() / tree_alone.as_secs_f64()
    );
    let _ = writeln!(
        report,
        "  git state re-read only:  {:>7.1} ms   (target <= 50 ms)",
        ms(warm)
    );
    report.push_str(&fresh);
    let _ = writeln!(report, "embedded data for {PACKAGES} packages");
    let _ = writeln!(report, "  .dep-v0 (zlib JSON):         {dep_v0:>6} B");
    let _ = writeln!(report, "  .bldinfo with checksums:     {bldinfo:>6} B");
    let _ = writeln!(
        report,
        "  .bldinfo without checksums:  {bldinfo_plain:>6} B"
    );
    let _ = writeln!(
        report,
        "  run-side table (never holds checksums): {table_bytes:>6} B"
    );
    let _ = writeln!(
        report,
        "  total, default (checksums off): {:>6} B = {:.1} KiB (target <= 16 KiB)",
        dep_v0 + bldinfo_plain + table_plain,
        kib(dep_v0 + bldinfo_plain + table_plain)
    );
    let _ = writeln!(
        report,
        "  total, checksums(true):         {:>6} B = {:.1} KiB",
        dep_v0 + bldinfo + table_bytes,
        kib(dep_v0 + bldinfo + table_bytes)
    );
    let compile = clean_compile_time(&work.join("probe"));
    let _ = writeln!(
        report,
        "build side clean compile (miniz_oxide, adler2, build-info[build]): {:.1} s",
        compile.as_secs_f64()
    );
    print!("{report}");
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss)]
fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..runs).map(|_| f()).collect();
    times.sort();
    times[runs / 2]
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map_or_else(|e| panic!("{}: {e}", p.display()), |m| m.len())
}

fn trace(out_dir: &Path) -> String {
    std::fs::read_to_string(out_dir.join("build-info-trace.txt")).unwrap_or_default()
}

/// Bytes of the run-side table: the string literal in the generated file, unescaped.
fn table_size(out_dir: &Path) -> u64 {
    let source = std::fs::read_to_string(out_dir.join("build_info.rs")).unwrap();
    let line = source
        .lines()
        .find(|l| l.contains("Packages::from_table("))
        .unwrap();
    let literal = line
        .split("Packages::from_table(\"")
        .nth(1)
        .unwrap()
        .rsplit_once("\"),")
        .unwrap()
        .0;
    literal.replace("\\t", "\t").replace("\\n", "\n").len() as u64
}

fn run_build_script(app: &Path, out_dir: &Path, checksums: bool) -> Duration {
    run_build_script_in(app, out_dir, checksums, None)
}

/// [`run_build_script`] with `CARGO_HOME` set to `home` when given.
fn run_build_script_in(
    app: &Path,
    out_dir: &Path,
    checksums: bool,
    home: Option<&Path>,
) -> Duration {
    run_under(app, out_dir, checksums, home, None)
}

/// Set (to the package's directory) when the bench runs as the cargo that runs the script.
const AS_CARGO: &str = "BUILD_INFO_BENCH_AS_CARGO";

/// Runs the build script for `app`, as a child of a process whose command line is
/// `cargo <invocation>` (run in `workspace`) when given.
fn run_under(
    app: &Path,
    out_dir: &Path,
    checksums: bool,
    home: Option<&Path>,
    invocation: Option<(&Path, &[&str])>,
) -> Duration {
    use std::os::unix::process::CommandExt as _;
    std::fs::create_dir_all(out_dir).unwrap();
    let exe = std::env::current_exe().unwrap();
    let target = host_triple();
    let mut cmd = Command::new(exe);
    if let Some((workspace, args)) = invocation {
        assert!(
            !checksums,
            "the stand-in cargo runs the script without checksums"
        );
        cmd.arg0("cargo")
            .args(args)
            .current_dir(workspace)
            .env(AS_CARGO, app);
    } else {
        cmd.current_dir(app);
    }
    cmd.arg("--as-build-script")
        .arg(if checksums {
            "checksums"
        } else {
            "no-checksums"
        })
        .env("OUT_DIR", out_dir)
        .env("CARGO_MANIFEST_DIR", app)
        .env("CARGO_PKG_NAME", "bench-app")
        .env("CARGO_PKG_VERSION", "1.0.0")
        .env("CARGO", env!("CARGO"))
        .env("RUSTC", "rustc")
        .env("TARGET", &target)
        .env("HOST", &target)
        .env("PROFILE", "release")
        .env("OPT_LEVEL", "3")
        .env("CARGO_CFG_FEATURE", "default")
        .env("SOURCE_DATE_EPOCH", "1790000000");
    if let Some(home) = home {
        cmd.env("CARGO_HOME", home);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let elapsed = started.elapsed();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !printed.contains("cargo:warning"),
        "{printed}"
    );
    elapsed
}

fn host_triple() -> String {
    let out = testkit::run_ok(Command::new("rustc").arg("-vV"));
    testkit::stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .unwrap()
}

/// A deterministic pseudo-random sequence (xorshift), so every run builds the same graph.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    #[allow(clippy::cast_possible_truncation)]
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "serde", "tokio", "http", "proto", "util", "core", "sync", "macro", "derive", "codec", "io",
    "net", "time", "rand", "hash", "log", "trace", "json", "url", "tls",
];

/// Writes `vendor/` (300 crates), `.cargo/config.toml` replacing crates.io with it, and an app
/// that depends on 25 of them; returns the app's directory, a git repository with one commit.
fn generate_workspace(root: &Path) -> PathBuf {
    let vendor = root.join("vendor");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names: Vec<String> = (0..PACKAGES)
        .map(|i| {
            format!(
                "{}-{}{i}",
                WORDS[i % WORDS.len()],
                WORDS[(i / 7) % WORDS.len()]
            )
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        let dir = vendor.join(name);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"1.{}.{}\"\nedition = \"2021\"\n\n[dependencies]\n",
            i % 13,
            i % 29
        );
        // Each group head (every 12th crate, which the app uses) depends on the 11 crates of
        // its group, and every crate on up to 4 crates with a higher index: a shallow DAG in
        // which all 300 are reachable.
        let mut deps = std::collections::BTreeSet::new();
        if i % 12 == 0 {
            deps.extend((i + 1..(i + 12).min(PACKAGES)).collect::<Vec<_>>());
        }
        if i + 1 < PACKAGES {
            for _ in 0..rng.below(5) {
                deps.insert(i + 1 + rng.below(PACKAGES - i - 1));
            }
        }
        for d in deps {
            let _ = writeln!(manifest, "{} = \"=1.{}.{}\"", names[d], d % 13, d % 29);
        }
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        let checksum = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next(),
            rng.next(),
            rng.next(),
            rng.next()
        );
        std::fs::write(
            dir.join(".cargo-checksum.json"),
            format!("{{\"files\":{{}},\"package\":\"{checksum}\"}}"),
        )
        .unwrap();
    }
    std::fs::create_dir_all(root.join(".cargo")).unwrap();
    std::fs::write(
        root.join(".cargo/config.toml"),
        format!(
            "[source.crates-io]\nreplace-with = \"bench-vendor\"\n\n[source.bench-vendor]\ndirectory = \"{}\"\n",
            vendor.display()
        ),
    )
    .unwrap();
    let app = root.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    let mut manifest = "[package]\nname = \"bench-app\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[features]\ndefault = []\n\n[dependencies]\n".to_owned();
    for i in (0..PACKAGES).step_by(12) {
        let _ = writeln!(manifest, "{} = \"=1.{}.{}\"", names[i], i % 13, i % 29);
    }
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(app.join("src/main.rs"), "fn main() {}\n").unwrap();
    testkit::run_ok(
        Command::new(env!("CARGO"))
            .args(["generate-lockfile", "--offline"])
            .current_dir(&app),
    );
    let lock = std::fs::read_to_string(app.join("Cargo.lock")).unwrap();
    let locked = lock.matches("[[package]]").count();
    println!("generated workspace: {locked} locked packages");
    testkit::git_init_commit(&app);
    app
}

/// Wall time of compiling the build side's dependencies from scratch, as every user does on a
/// clean build.
fn clean_compile_time(root: &Path) -> Duration {
    let probe = root.join("compile-probe");
    std::fs::create_dir_all(probe.join("src")).unwrap();
    let build_info = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        probe.join("Cargo.toml"),
        format!(
            "[package]\nname = \"compile-probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[build-dependencies]\nbuildinfo = {{ path = \"{}\", features = [\"build\"] }}\n\n[workspace]\n",
            build_info.display()
        ),
    )
    .unwrap();
    std::fs::write(probe.join("src/lib.rs"), "").unwrap();
    std::fs::write(probe.join("build.rs"), "fn main() {}\n").unwrap();
    let target = root.join("compile-target");
    let started = Instant::now();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet"])
        .current_dir(&probe)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .unwrap();
    assert!(status.success());
    started.elapsed()
}

/// Services beside the app in the fresh-cache workspace, and crates each one alone uses.
const SERVICES: usize = 4;
const SERVICE_CRATES: usize = 10;

/// The fresh-cache case: a workspace of the app and [`SERVICES`] services, its crates served
/// by a sparse registry on loopback, an empty cargo home into which only the app's packages
/// were downloaded (what `cargo build -p bench-app` downloads). Returns the report lines.
fn fresh_cache_case(root: &Path) -> String {
    let crates = generated_crates();
    let registry = registry_of(&root.join("registry"), &crates);
    let home = testkit::FreshHome::new(&registry);
    let ws = root.join("ws");
    let app = ws.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    let mut members = vec!["\"app\"".to_owned()];
    let mut manifest = "[package]\nname = \"bench-app\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[features]\ndefault = []\n\n[dependencies]\n".to_owned();
    for c in crates.iter().filter(|c| c.head) {
        let _ = writeln!(manifest, "{} = \"={}\"", c.name, c.version);
    }
    std::fs::write(app.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(app.join("src/main.rs"), "fn main() {}\n").unwrap();
    for k in 0..SERVICES {
        let dir = ws.join(format!("svc{k}"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"bench-svc{k}\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\n{} = \"={}\"\n",
            crates[0].name, crates[0].version
        );
        for j in 0..SERVICE_CRATES {
            let _ = writeln!(manifest, "svc{k}-only{j} = \"=1.0.0\"");
        }
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        members.push(format!("\"svc{k}\""));
    }
    std::fs::write(
        ws.join("Cargo.toml"),
        format!(
            "[workspace]\nmembers = [{}]\nresolver = \"2\"\n",
            members.join(", ")
        ),
    )
    .unwrap();
    let target = host_triple();
    testkit::run_ok(home.cargo(&ws).arg("generate-lockfile"));
    // What `cargo build -p bench-app` downloads: its packages, for the target and the host.
    testkit::run_ok(home.cargo(&ws).args([
        "tree",
        "-p",
        "bench-app",
        "-e",
        "normal,build",
        "--target",
        &target,
    ]));
    assert!(
        !home.on_disk("svc0-only0", "1.0.0"),
        "the services' crates were downloaded"
    );
    assert!(home.on_disk(&crates[1].name, &crates[1].version));
    testkit::git_init_commit(&ws);
    let locked = std::fs::read_to_string(ws.join("Cargo.lock"))
        .unwrap()
        .matches("[[package]]")
        .count();

    let selection_alone = median(RUNS, || {
        let started = Instant::now();
        testkit::run_ok(
            home.cargo(&ws)
                .args([
                    "tree",
                    "--offline",
                    "--locked",
                    "-p",
                    "bench-app",
                    "-e",
                    "normal,build",
                ])
                .args(["--target", &target, "--charset", "ascii"])
                .args(["--format", "{p}|{f}", "--color", "never"]),
        );
        started.elapsed()
    });
    let out_dir = root.join("out");
    let script = median(RUNS, || {
        let _ = std::fs::remove_dir_all(&out_dir);
        run_under(
            &app,
            &out_dir,
            false,
            Some(home.path()),
            Some((&ws, &["build", "-p", "bench-app"])),
        )
    });
    let trace = trace(&out_dir);
    assert!(
        trace.contains("members not on disk left out: bench-svc0@1.0.0, bench-svc1@1.0.0"),
        "{trace}"
    );
    let mut report = String::new();
    let _ = writeln!(
        report,
        "fresh cargo home, {locked} locked packages, {SERVICES} services whose packages are not on disk ({RUNS} runs, median)"
    );
    let _ = writeln!(
        report,
        "  cargo tree -p app alone: {:>7.1} ms",
        ms(selection_alone)
    );
    let _ = writeln!(
        report,
        "  build script:            {:>7.1} ms   (= {:.2}x; its app tree, {SERVICES} service trees {} at a time, the members on disk)",
        ms(script),
        script.as_secs_f64() / selection_alone.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
    );
    report
}

/// One generated registry crate.
struct GeneratedCrate {
    name: String,
    version: String,
    deps: Vec<usize>,
    /// The app depends on it.
    head: bool,
}

/// The [`PACKAGES`] crates of the app's graph (as [`generate_workspace`] shapes it: group heads
/// with their groups, and a few edges to higher indices), then each service's own crates.
fn generated_crates() -> Vec<GeneratedCrate> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut crates: Vec<GeneratedCrate> = (0..PACKAGES)
        .map(|i| {
            let mut deps = std::collections::BTreeSet::new();
            if i % 12 == 0 {
                deps.extend(i + 1..(i + 12).min(PACKAGES));
            }
            if i + 1 < PACKAGES {
                for _ in 0..rng.below(5) {
                    deps.insert(i + 1 + rng.below(PACKAGES - i - 1));
                }
            }
            GeneratedCrate {
                name: format!(
                    "{}-{}{i}",
                    WORDS[i % WORDS.len()],
                    WORDS[(i / 7) % WORDS.len()]
                ),
                version: format!("1.{}.{}", i % 13, i % 29),
                deps: deps.into_iter().collect(),
                head: i % 12 == 0,
            }
        })
        .collect();
    for k in 0..SERVICES {
        for j in 0..SERVICE_CRATES {
            crates.push(GeneratedCrate {
                name: format!("svc{k}-only{j}"),
                version: "1.0.0".into(),
                deps: Vec::new(),
                head: false,
            });
        }
    }
    crates
}

/// Packs every crate into a `.crate` file (a gzip tar of `name-version/`) with its index
/// line, and serves them.
fn registry_of(dir: &Path, crates: &[GeneratedCrate]) -> testkit::SparseRegistry {
    let sources = dir.join("src");
    let files = dir.join("crates");
    std::fs::create_dir_all(&files).unwrap();
    let mut paths = Vec::new();
    for c in crates {
        let package = format!("{}-{}", c.name, c.version);
        let src = sources.join(&package);
        std::fs::create_dir_all(src.join("src")).unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{}\"\nversion = \"{}\"\nedition = \"2021\"\n\n[dependencies]\n",
            c.name, c.version
        );
        for &d in &c.deps {
            let _ = writeln!(manifest, "{} = \"={}\"", crates[d].name, crates[d].version);
        }
        std::fs::write(src.join("Cargo.toml"), manifest).unwrap();
        std::fs::write(src.join("src/lib.rs"), "").unwrap();
        let file = files.join(format!("{package}.crate"));
        testkit::run_ok(
            Command::new("tar")
                .arg("-czf")
                .arg(&file)
                .arg("-C")
                .arg(&sources)
                .arg(&package),
        );
        paths.push(file);
    }
    let sums = testkit::run_ok(Command::new("sha256sum").arg("--").args(&paths));
    let sums: Vec<String> = testkit::stdout(&sums)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    let packages = crates
        .iter()
        .zip(paths)
        .zip(sums)
        .map(|((c, file), cksum)| {
            let deps: Vec<String> = c
                .deps
                .iter()
                .map(|&d| {
                    format!(
                        "{{\"name\":\"{}\",\"req\":\"={}\",\"features\":[],\"optional\":false,\"default_features\":true,\"target\":null,\"kind\":\"normal\"}}",
                        crates[d].name, crates[d].version
                    )
                })
                .collect();
            let line = format!(
                "{{\"name\":\"{}\",\"vers\":\"{}\",\"deps\":[{}],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}",
                c.name,
                c.version,
                deps.join(",")
            );
            (c.name.clone(), c.version.clone(), line, file)
        })
        .collect();
    testkit::SparseRegistry::from_files(packages)
}
