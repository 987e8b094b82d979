//! `depinfo-exporter` against real processes: a build-info service replaced by a newer
//! build after it started, cargo-auditable-style binaries (a copy of `/bin/sleep` with a
//! `.dep-v0` section added by objcopy, since `cargo auditable` is not installed here), one
//! deleted after start, one replaced by a build with a patched crate, one run from a memfd.
//! The exporter's /metrics must report each with its state, pass promtool, and drop a
//! process's series once it exits. Every process is stopped by the test (guards kill them).
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use build_info_collector::Layout;
use serde_json::Value;
use testkit::{
    Running, Scratch, assert_contains, auditable_sleeper, copy_fixture, installed, query, run_ok,
    wait_exec, wait_exec_inode, wait_until, workspace_root, zlib,
};

const EXPORTER: &str = env!("CARGO_BIN_EXE_depinfo-exporter");

/// `.dep-v0` JSON: `root` (a local package) at `version`, depending directly on each of
/// `deps` (from crates.io).
fn dep_v0(root: &str, version: &str, deps: &[(&str, &str)]) -> String {
    let deps: Vec<_> = deps.iter().map(|&(n, v)| (n, v, "crates.io")).collect();
    testkit::dep_v0_json((root, version, "local"), &deps)
}

/// Builds the exporter-service fixture as package `name` at `version`; returns a copy of the
/// binary. Each test uses its own name: the target directory is shared.
fn build_service(scratch: &Path, name: &str, version: &str) -> PathBuf {
    let repo = scratch.join(format!("{name}-src"));
    let collector = workspace_root().join("build-info-collector");
    copy_fixture(
        "exporter-service",
        &repo,
        name,
        &[
            ("@COLLECTOR@", &collector.display().to_string()),
            ("@VERSION@", version),
        ],
    );
    run_ok(testkit::cargo(&repo).args(["build", "--quiet"]));
    let copy = scratch.join(format!("{name}-{version}"));
    std::fs::copy(testkit::binary("debug", name), &copy).unwrap();
    copy
}

/// Puts `new` at `path` the way package managers do: a copy beside it, renamed over it.
fn replace(path: &Path, new: &Path) {
    let tmp = path.with_extension("new");
    std::fs::copy(new, &tmp).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn spawn(cmd: &mut Command) -> Running {
    Running::spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Starts the exporter on a free port; returns it and its address.
fn start_exporter(args: &[&str]) -> (Running, String) {
    testkit::start_exporter(
        Command::new(EXPORTER),
        ["--interval", "1"].iter().chain(args),
    )
}

fn metrics(addr: &str) -> String {
    let answer = testkit::get(addr, "/metrics").unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The lines of `family` whose labels mention `exe`.
fn lines_for<'a>(text: &'a str, family: &str, exe: &str) -> Vec<&'a str> {
    let exe = format!("exe=\"{exe}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{family}{{")) && l.contains(&exe))
        .collect()
}

/// The workload labels every child of this test has: its cgroup is the test's.
fn workload_labels() -> (String, String, String) {
    let text = std::fs::read("/proc/self/cgroup").unwrap();
    let w = depinfo_server::exporter::parse_cgroup(&text);
    (
        w.container_id.unwrap_or_default(),
        w.pod_uid.unwrap_or_default(),
        w.systemd_unit.unwrap_or_default(),
    )
}

fn process_line(exe: &str, program: &str, state: &str, version: &str, n: u32) -> String {
    let (container, pod, unit) = workload_labels();
    format!(
        "rust_process_info{{container_id=\"{container}\",exe=\"{exe}\",pod_uid=\"{pod}\",program=\"{program}\",revision=\"unknown\",state=\"{state}\",systemd_unit=\"{unit}\",version=\"{version}\"}} {n}"
    )
}

#[test]
fn exporter_reports_current_deleted_replaced_and_memfd_processes() {
    let scratch = Scratch::new("exporter");
    // Symbolic links in the temp dir's path would differ from what the kernel reports.
    let dir = scratch.path().canonicalize().unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let s = |p: &Path| p.display().to_string();

    // A build-info service, replaced on disk by a newer build after it started.
    let v1 = build_service(&dir, "exporter-app", "1.0.0");
    let v2 = build_service(&dir, "exporter-app", "1.1.0");
    let service = bin.join("exporter-app");
    std::fs::copy(&v1, &service).unwrap();
    let mut svc = Running::spawn(
        Command::new(&service)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_exec(&mut svc, &service);
    replace(&service, &v2);

    // Two processes of one cargo-auditable-style image: one series, value 2.
    let audit = bin.join("audit-only");
    auditable_sleeper(&audit, &dep_v0("audit-only", "0.3.0", &[("itoa", "1.0.0")]));
    let mut audit_a = spawn(Command::new(&audit).arg("300"));
    let mut audit_b = spawn(Command::new(&audit).arg("300"));
    wait_exec(&mut audit_a, &audit);
    wait_exec(&mut audit_b, &audit);

    // Deleted after start.
    let gone = bin.join("gone-app");
    auditable_sleeper(&gone, &dep_v0("gone-app", "0.1.0", &[("itoa", "1.0.0")]));
    let mut gone_proc = spawn(Command::new(&gone).arg("300"));
    wait_exec(&mut gone_proc, &gone);
    std::fs::remove_file(&gone).unwrap();

    // Replaced by a build with a patched crate: 1.2.0 still runs, the file carries 1.2.1.
    let swap = bin.join("swap-app");
    auditable_sleeper(
        &swap,
        &dep_v0(
            "swap-app",
            "1.0.0",
            &[("itoa", "1.0.0"), ("vulncrate", "1.2.0")],
        ),
    );
    let patched = dir.join("swap-app-patched");
    auditable_sleeper(
        &patched,
        &dep_v0(
            "swap-app",
            "1.0.1",
            &[("itoa", "1.0.0"), ("vulncrate", "1.2.1")],
        ),
    );
    let mut swap_proc = spawn(Command::new(&swap).arg("300"));
    wait_exec(&mut swap_proc, &swap);
    replace(&swap, &patched);

    // Run from an anonymous memory file (fexecve of a memfd).
    let memfd_source = dir.join("memfd-app");
    auditable_sleeper(&memfd_source, &dep_v0("memfd-app", "0.2.0", &[]));
    let mut memfd_proc = spawn(Command::new("python3").args([
        "-c",
        "import os,sys; fd=os.memfd_create('memfd-app'); os.write(fd, open(sys.argv[1],'rb').read()); os.execve(fd, ['memfd-app','300'], {})",
        &s(&memfd_source),
    ]));
    wait_exec(&mut memfd_proc, "/memfd:memfd-app (deleted)");

    let (mut exporter, addr) = start_exporter(&[]);
    let text = metrics(&addr);
    testkit::check_metrics(&text);

    let svc_lines = lines_for(&text, "rust_process_info", &s(&service));
    assert_eq!(svc_lines.len(), 1, "{text}");
    for part in [
        "program=\"exporter-app\"",
        "state=\"replaced\"",
        "version=\"1.0.0\"",
    ] {
        assert_contains(svc_lines[0], part);
    }
    assert!(svc_lines[0].ends_with(" 1"), "{}", svc_lines[0]);
    // The service's build facts, marked as the exporter's.
    assert!(
        text.lines()
            .any(|l| l.starts_with("exporter_app_build_info{")
                && l.contains("origin=\"exporter\"")
                && l.contains("version=\"1.0.0\"")),
        "{text}"
    );
    // Same crates on disk and in memory: nothing still vulnerable.
    assert_eq!(
        lines_for(&text, "rust_mod_replaced_info", &s(&service)),
        Vec::<&str>::new()
    );

    assert_eq!(
        lines_for(&text, "rust_process_info", &s(&audit)),
        [process_line(
            &s(&audit),
            "audit-only",
            "current",
            "0.3.0",
            2
        )]
    );
    assert_eq!(
        lines_for(&text, "rust_process_info", &s(&gone)),
        [process_line(&s(&gone), "gone-app", "deleted", "0.1.0", 1)]
    );
    assert_eq!(
        lines_for(&text, "rust_process_info", &s(&swap)),
        [process_line(&s(&swap), "swap-app", "replaced", "1.0.0", 1)]
    );
    assert_eq!(
        lines_for(&text, "rust_process_info", "memfd:memfd-app"),
        [process_line(
            "memfd:memfd-app",
            "memfd-app",
            "memfd",
            "0.2.0",
            1
        )]
    );
    assert_eq!(
        lines_for(&text, "rust_mod_replaced_info", &s(&swap)),
        [format!(
            "rust_mod_replaced_info{{disk_version=\"1.2.1\",exe=\"{}\",name=\"vulncrate\",program=\"swap-app\",running_version=\"1.2.0\"}} 1",
            s(&swap)
        )]
    );
    // The crates of what runs (1.2.0), with the collector's labels and the exporter's origin.
    assert_contains(
        &text,
        "rust_mod_info{direct=\"true\",name=\"vulncrate\",origin=\"exporter\",program=\"swap-app\",source=\"crates.io\",version=\"1.2.0\"} 1\n",
    );
    assert!(
        !text.contains("program=\"swap-app\",source=\"crates.io\",version=\"1.2.1\""),
        "{text}"
    );
    assert_contains(&text, "depinfo_exporter_build_info{");
    assert_contains(
        &text,
        "# TYPE cargo_depinfo_exporter_scan_duration_seconds gauge\n",
    );

    // Nothing lingers: once the deleted binary's process exits, its series go.
    gone_proc.kill();
    let started = Instant::now();
    while !lines_for(&metrics(&addr), "rust_process_info", &s(&gone)).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the exited process's series stayed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let health = testkit::get(&addr, "/healthz").unwrap();
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    assert_eq!(testkit::get(&addr, "/nothing").unwrap().status, 404);

    // SIGTERM stops it, cleanly.
    run_ok(Command::new("kill").args(["-TERM", &exporter.child().id().to_string()]));
    let status = exporter.wait(Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

/// The sample values of a result, as Prometheus prints them.
fn values(result: &[Value]) -> Vec<String> {
    result
        .iter()
        .map(|r| r["value"][1].as_str().unwrap().to_owned())
        .collect()
}

/// The PromQL line after the comment line starting with `comment` in the crate README's
/// exporter section.
fn readme_query(comment: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Exporter: what actually runs on a Linux host")
        .nth(1)
        .expect("the README has the exporter section");
    let mut lines = section.lines();
    lines
        .find(|l| l.starts_with(comment))
        .unwrap_or_else(|| panic!("no {comment:?} in the README's exporter section"));
    lines.next().unwrap().to_owned()
}

#[test]
fn prometheus_counts_a_program_once_and_finds_who_runs_a_stale_binary() {
    let scratch = Scratch::new("exporter-prom");
    let dir = scratch.path().canonicalize().unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();

    // A service with its own collector: seen by Prometheus directly and by the exporter.
    let service = bin.join("exporter-svc");
    std::fs::copy(build_service(&dir, "exporter-svc", "3.0.0"), &service).unwrap();
    let mut svc = Running::spawn(
        Command::new(&service)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let svc_addr = testkit::announced(
        svc.child().stdout.take().unwrap(),
        "listening on ",
        "the service",
    );

    // A cargo-auditable-style program deleted after it started.
    let stale = bin.join("stale-app");
    auditable_sleeper(&stale, &dep_v0("stale-app", "0.9.0", &[("itoa", "1.0.0")]));
    let mut stale_proc = spawn(Command::new(&stale).arg("300"));
    wait_exec(&mut stale_proc, &stale);
    std::fs::remove_file(&stale).unwrap();

    let (_exporter, exporter_addr) = start_exporter(&[]);

    let prom = testkit::unused_addr().to_string();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: service\n    static_configs:\n      - targets: ['{svc_addr}']\n  - job_name: exporter\n    static_configs:\n      - targets: ['{exporter_addr}']\n"
        ),
    )
    .unwrap();
    let _prometheus = testkit::start_prometheus_on(&prom, &config, &dir.join("data"));
    wait_until("Prometheus ready", Duration::from_secs(60), || {
        testkit::get(&prom, "/-/ready").is_ok_and(|r| r.status == 200)
    });
    let both = "count(rust_mod_info{name=\"prometheus\",program=\"exporter-svc\"})";
    wait_until("both targets scraped", Duration::from_secs(60), || {
        values(&query(&prom, both)) == ["2"]
            && !query(&prom, "rust_process_info{program=\"stale-app\"}").is_empty()
    });

    // The README's query, as written: who still runs a deleted or replaced binary.
    let who = readme_query("# Who still runs a deleted or replaced binary");
    let result = query(&prom, &who);
    let stale_rows: Vec<&Value> = result
        .iter()
        .filter(|r| r["metric"]["exe"] == stale.display().to_string().as_str())
        .collect();
    assert_eq!(stale_rows.len(), 1, "{who}: {result:?}");
    assert_eq!(stale_rows[0]["metric"]["state"], "deleted");
    assert_eq!(stale_rows[0]["metric"]["program"], "stale-app");
    assert_eq!(stale_rows[0]["metric"]["instance"], exporter_addr.as_str());
    assert_eq!(stale_rows[0]["value"][1], "1");
    assert!(
        !result
            .iter()
            .any(|r| r["metric"]["program"] == "exporter-svc"),
        "the service runs its current binary: {result:?}"
    );

    // The README's rule counts the service once (its collector wins), and a program only
    // the exporter sees still counts.
    let count = readme_query("# Which versions of a crate run, each program counted once");
    let ours = |crate_name: &str, program: &str| {
        count.replace(
            "name=\"serde_json\"",
            &format!("name=\"{crate_name}\",program=\"{program}\""),
        )
    };
    assert_eq!(
        values(&query(&prom, &ours("prometheus", "exporter-svc"))),
        ["1"]
    );
    // The series that remains is the collector's, not the exporter's.
    let union = ours("prometheus", "exporter-svc");
    let union = union
        .strip_prefix("count by (version) (")
        .and_then(|q| q.strip_suffix(')'))
        .unwrap_or_else(|| panic!("the README's count is `count by (version) (...)`: {union}"));
    let kept = query(&prom, union);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["metric"]["job"], "service", "{kept:?}");
    assert!(kept[0]["metric"].get("origin").is_none(), "{kept:?}");
    assert_eq!(values(&query(&prom, &ours("itoa", "stale-app"))), ["1"]);
    let revisions = readme_query("# Who has not deployed: revisions of one program, counted once")
        .replace("myapp_build_info", "exporter_svc_build_info");
    assert_eq!(values(&query(&prom, &revisions)), ["1"]);
    assert_eq!(
        values(&query(&prom, "count(exporter_svc_build_info)")),
        ["2"]
    );

    // cargo depinfo asks with the same rule: the service once (through its collector, job
    // `service`), and the program only the exporter sees through the exporter.
    let base = format!("http://{prom}");
    // `cargo depinfo ARGS --prometheus BASE --format json`: its answer.
    let ask = |args: &[&str]| -> Value {
        let out = testkit::run(
            Command::new(testkit::cargo_depinfo_bin()).args(args).args([
                "--prometheus",
                &base,
                "--format",
                "json",
            ]),
            Duration::from_secs(60),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let answer = ask(&["affected", "prometheus", "*"]);
    // The exporter sees every process on the host, other tests' programs included: only
    // this test's are judged.
    let runners: Vec<(&str, &str)> = answer["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["program"].as_str().unwrap(), h["job"].as_str().unwrap()))
        .filter(|(program, _)| ["exporter-svc", "stale-app"].contains(program))
        .collect();
    assert_eq!(runners, [("exporter-svc", "service")], "{answer}");
    let answer = ask(&["spread", "--crate", "itoa"]);
    let mut programs: Vec<(String, String, u64)> = answer["crates"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| v["running"].as_array().unwrap().iter())
        .map(|r| {
            (
                r["program"].as_str().unwrap().to_owned(),
                r["job"].as_str().unwrap().to_owned(),
                r["instances"].as_u64().unwrap(),
            )
        })
        .collect();
    programs.sort();
    assert!(
        programs.contains(&("stale-app".into(), "exporter".into(), 1))
            && programs.iter().filter(|p| p.0 == "exporter-svc").count() <= 1
            && programs
                .iter()
                .all(|p| p.0 != "exporter-svc" || p.1 == "service"),
        "{answer}"
    );
}

/// The exporter's `cargo_depinfo_exporter_processes{result="..."}` value.
fn processes_counted(text: &str, result: &str) -> u64 {
    let prefix = format!("cargo_depinfo_exporter_processes{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in:\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn without_privileges_other_users_processes_count_as_unreadable() {
    // As root, drop to nobody (util-linux's setpriv); otherwise this test runs unprivileged
    // already and needs a process of another user (pid 1 in any container or host).
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    if !root {
        let denied = std::fs::read_link("/proc/1/exe")
            .is_err_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied);
        assert!(
            denied,
            "this test needs root (to drop to nobody) or a process of another user"
        );
    }
    let cmd = if root {
        let mut cmd = Command::new(installed("setpriv"));
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        cmd.arg(EXPORTER);
        cmd
    } else {
        Command::new(EXPORTER)
    };
    // A process of ours that the exporter may not read.
    let mut sleeping = spawn(Command::new("sleep").arg("300"));
    let (_exporter, addr) = testkit::start_exporter(cmd, ["--interval", "60"]);
    let text = metrics(&addr);
    testkit::check_metrics(&text);
    assert!(processes_counted(&text, "unreadable") >= 1, "{text}");
    sleeping.kill();
}

/// A fake process directory: `stat` with `state` and `flags`, `exe` and `root` links, `cgroup`.
fn fake_process(
    proc_root: &Path,
    pid: u32,
    state: char,
    flags: u32,
    exe: Option<&Path>,
    root: &Path,
    cgroup: &str,
) -> PathBuf {
    let dir = proc_root.join(pid.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("stat"),
        format!("{pid} (fake {pid}) {state} 1 {pid} {pid} 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {} 0 0\n", 500 + pid),
    )
    .unwrap();
    if let Some(exe) = exe {
        std::os::unix::fs::symlink(exe, dir.join("exe")).unwrap();
    }
    std::os::unix::fs::symlink(root, dir.join("root")).unwrap();
    std::fs::write(dir.join("cgroup"), cgroup).unwrap();
    dir
}

/// `root` holding, at the path `image` has on the host, `file` (hard-linked: the same inode).
fn rootfs_with(root: &Path, image: &Path, file: Option<&Path>, link: bool) {
    let at = root.join(image.strip_prefix("/").unwrap());
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    match file {
        Some(file) if link => std::fs::hard_link(file, &at).unwrap(),
        Some(file) => {
            std::fs::copy(file, &at).unwrap();
        }
        None => {}
    }
}

#[test]
fn scanner_on_a_fake_proc_tree_groups_images_and_reads_each_once() {
    use depinfo_server::exporter::{ExeState, ScanOptions, Scanner, render_scan};

    let scratch = Scratch::new("fake-proc");
    let dir = scratch.path().canonicalize().unwrap();
    let images = dir.join("images");
    let other = dir.join("other");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let elf = |json: &str| testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]);
    let old = elf(&dep_v0("a-app", "1.0.0", &[("itoa", "1.0.0")]));
    let a1 = images.join("a1");
    let a2 = images.join("a2");
    let a3 = images.join("a3");
    for a in [&a1, &a2, &a3] {
        std::fs::write(a, &old).unwrap();
    }
    let b = other.join("b");
    std::fs::write(&b, elf(&dep_v0("a-app", "1.1.0", &[("itoa", "1.0.1")]))).unwrap();
    let broken = images.join("broken");
    std::fs::write(
        &broken,
        testkit::elf_with_sections(&[(".dep-v0", b"not zlib")]),
    )
    .unwrap();
    let plain = images.join("plain");
    std::fs::write(&plain, testkit::elf_with_sections(&[])).unwrap();
    let idle = images.join("idle");
    std::fs::write(&idle, elf(&dep_v0("idle-app", "0.1.0", &[]))).unwrap();

    let (current, replaced, empty) = (
        dir.join("root-current"),
        dir.join("root-replaced"),
        dir.join("root-empty"),
    );
    rootfs_with(&current, &a1, Some(&a1), true);
    rootfs_with(&replaced, &a2, Some(&b), false);
    std::fs::create_dir_all(&empty).unwrap();

    let proc_root = dir.join("proc");
    let id = "ab".repeat(32);
    let docker = format!("0::/system.slice/docker-{id}.scope\n");
    let unit = "0::/system.slice/a-app.service\n";
    fake_process(&proc_root, 10, 'S', 0x40_0100, Some(&a1), &current, &docker);
    fake_process(&proc_root, 11, 'S', 0x40_0100, Some(&a1), &current, &docker);
    // A dead main thread: no `exe` of its own, a live thread's instead.
    let zombie = fake_process(&proc_root, 50, 'Z', 0x40_0100, None, &current, &docker);
    std::fs::create_dir_all(zombie.join("task/51")).unwrap();
    std::os::unix::fs::symlink(&a1, zombie.join("task/51/exe")).unwrap();
    fake_process(&proc_root, 20, 'S', 0x40_0100, Some(&a2), &replaced, unit);
    fake_process(&proc_root, 30, 'S', 0x40_0100, Some(&a3), &empty, unit);
    fake_process(
        &proc_root,
        40,
        'S',
        0x20_8040,
        None,
        Path::new("/"),
        "0::/\n",
    );
    fake_process(
        &proc_root,
        60,
        'S',
        0x40_0100,
        Some(&broken),
        Path::new("/"),
        "0::/\n",
    );
    fake_process(
        &proc_root,
        70,
        'S',
        0x40_0100,
        Some(&plain),
        Path::new("/"),
        "0::/\n",
    );
    let garbled = proc_root.join("80");
    std::fs::create_dir_all(&garbled).unwrap();
    std::fs::write(garbled.join("stat"), "80 no parenthesis\n").unwrap();
    std::fs::create_dir_all(proc_root.join("self")).unwrap();

    let mut options = ScanOptions::new(&proc_root);
    options.paths = vec![images.clone()];
    let mut scanner = Scanner::new(options);
    let scan = scanner.scan();
    let c = scan.counts;
    assert_eq!(
        (c.rust, c.other, c.kernel_threads, c.unreadable, c.exited),
        (5, 2, 1, 1, 0),
        "{c:?}"
    );
    assert_eq!(
        (c.rust_images, c.other_images, c.broken_images),
        (3, 1, 1),
        "{c:?}"
    );
    // a1, a2, a3, broken, plain, and b (what replaced a2 on disk): each once.
    assert_eq!(c.images_read, 6, "{c:?}");
    let states: Vec<(String, ExeState, u64)> = {
        let mut v: Vec<_> = scan
            .groups
            .iter()
            .map(|g| (g.exe.clone(), g.state, g.processes))
            .collect();
        v.sort();
        v
    };
    let p = |p: &Path| p.display().to_string();
    assert_eq!(
        states,
        [
            (p(&a1), ExeState::Current, 3),
            (p(&a2), ExeState::Replaced, 1),
            (p(&a3), ExeState::Deleted, 1),
            (p(&idle), ExeState::Installed, 0),
        ]
    );
    let text = render_scan(&scan, None, Layout::Full).metrics;
    testkit::check_metrics(&text);
    assert_contains(
        &text,
        &format!(
            "rust_process_info{{container_id=\"{id}\",exe=\"{}\",pod_uid=\"\",program=\"a-app\",revision=\"unknown\",state=\"current\",systemd_unit=\"\",version=\"1.0.0\"}} 3\n",
            p(&a1)
        ),
    );
    assert_contains(
        &text,
        &format!(
            "rust_process_info{{container_id=\"\",exe=\"{}\",pod_uid=\"\",program=\"a-app\",revision=\"unknown\",state=\"replaced\",systemd_unit=\"a-app.service\",version=\"1.0.0\"}} 1\n",
            p(&a2)
        ),
    );
    assert_contains(
        &text,
        &format!(
            "rust_mod_replaced_info{{disk_version=\"1.0.1\",exe=\"{}\",name=\"itoa\",program=\"a-app\",running_version=\"1.0.0\"}} 1\n",
            p(&a2)
        ),
    );
    assert_contains(
        &text,
        &format!(
            "rust_process_info{{container_id=\"\",exe=\"{}\",pod_uid=\"\",program=\"idle-app\",revision=\"unknown\",state=\"installed\",systemd_unit=\"\",version=\"0.1.0\"}} 0\n",
            p(&idle)
        ),
    );
    // Installed binaries are not running: none of their crates are.
    assert!(!text.contains("program=\"idle-app\",source"), "{text}");
    assert_contains(
        &text,
        "cargo_depinfo_exporter_images{result=\"broken\"} 1\n",
    );

    // The next scan reads nothing again; once a process exits, its group goes (the file,
    // under --path, is now an installed binary that does not run).
    std::fs::remove_dir_all(proc_root.join("30")).unwrap();
    let again = scanner.scan();
    assert_eq!(again.counts.images_read, 0, "{:?}", again.counts);
    let a3_groups: Vec<_> = again
        .groups
        .iter()
        .filter(|g| g.exe == p(&a3))
        .map(|g| (g.state, g.processes))
        .collect();
    assert_eq!(a3_groups, [(ExeState::Installed, 0)]);
    assert!(
        !render_scan(&again, None, Layout::Full)
            .metrics
            .contains("state=\"deleted\"")
    );
}

/// A newline in a path is a control character like the others: escaped as `\n` in the label
/// value (so `\\n` in the exposition text), never a raw newline in the value.
#[test]
fn odd_paths_are_escaped_and_pass_promtool() {
    use depinfo_server::exporter::{ScanOptions, Scanner, render_scan};

    let scratch = Scratch::new("fake-proc-odd");
    let dir = scratch.path().canonicalize().unwrap();
    let odd = dir.join("we\"ird\\ na\nme");
    std::fs::write(
        &odd,
        testkit::elf_with_sections(&[(
            ".dep-v0",
            &zlib(dep_v0("odd-app", "1.0.0", &[]).as_bytes()),
        )]),
    )
    .unwrap();
    let proc_root = dir.join("proc");
    fake_process(
        &proc_root,
        7,
        'S',
        0x40_0100,
        Some(&odd),
        Path::new("/"),
        "0::/system.slice/odd\\x2dapp.service\n",
    );
    let text = render_scan(
        &Scanner::new(ScanOptions::new(&proc_root)).scan(),
        None,
        Layout::Full,
    )
    .metrics;
    testkit::check_metrics(&text);
    assert_contains(
        &text,
        &format!(
            "exe=\"{}/we\\\"ird\\\\ na\\\\nme\",pod_uid=\"\",program=\"odd-app\",revision=\"unknown\",state=\"current\",systemd_unit=\"odd\\\\x2dapp.service\"",
            dir.display()
        ),
    );
}

proptest::proptest! {
    #![proptest_config(testkit::proptest_cases(64))]

    /// Whatever a process's `stat` and `cgroup` hold, a scan finishes, counts the process
    /// once, and renders without a panic.
    #[test]
    fn scanner_never_panics_on_garbage_proc_files(
        stat in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        cgroup in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        use depinfo_server::exporter::{ScanOptions, Scanner, render_scan};

        let scratch = Scratch::new("fake-proc-garbage");
        let image = scratch.join("image");
        std::fs::write(&image, testkit::elf_with_sections(&[(".dep-v0", &zlib(dep_v0("g", "1.0.0", &[]).as_bytes()))])).unwrap();
        let dir = fake_process(&scratch.join("proc"), 9, 'S', 0x40_0100, Some(&image), Path::new("/"), "");
        std::fs::write(dir.join("stat"), &stat).unwrap();
        std::fs::write(dir.join("cgroup"), &cgroup).unwrap();
        let scan = Scanner::new(ScanOptions::new(scratch.join("proc"))).scan();
        let c = scan.counts;
        proptest::prop_assert_eq!(c.rust + c.other + c.kernel_threads + c.unreadable + c.exited, 1);
        let _ = render_scan(&scan, None, Layout::Full).metrics;
    }
}

#[test]
fn a_silent_client_is_closed_after_the_header_read_timeout() {
    use std::io::Read as _;

    let (mut exporter, addr) =
        start_exporter(&["--header-read-timeout", "1", "--proc-root", "/nonexistent"]);
    // Half a request head, then silence: closed after the header read timeout, even with
    // slots to spare. (That a newcomer takes its slot at once when none is free is in
    // tests/exporter_fairness.rs.)
    let mut silent = testkit::half_request_client(&addr);
    let started = Instant::now();
    let answer = testkit::get(&addr, "/metrics").unwrap();
    assert_eq!(answer.status, 200);
    assert_contains(
        &answer.body,
        "cargo_depinfo_exporter_processes{result=\"rust\"} 0\n",
    );
    // Closed (end of stream or an error, not a hang), about the 1 s timeout.
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        (Duration::from_millis(500)..Duration::from_secs(5)).contains(&waited),
        "{waited:?}"
    );
    exporter.kill();
}

/// The `rust_process_info` lines of `program`.
fn process_lines<'a>(text: &'a str, program: &str) -> Vec<&'a str> {
    let program = format!("program=\"{program}\"");
    text.lines()
        .filter(|l| l.starts_with("rust_process_info{") && l.contains(&program))
        .collect()
}

/// Scrapes until `check` holds for the text (the exporter scans every second), at most 15 s;
/// returns that text.
fn metrics_when(addr: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let text = metrics(addr);
        if check(&text) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{what}, in:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Regression (issue 18, defect 8): a binary really named `app (deleted)`, running while
/// another file sits at `app`, was reported as deleted (or replaced, compared with that other
/// file) with `exe=…/app`. The inodes decide: it is current, under its own name. One named
/// like that and deleted for real is deleted, under its own name.
#[test]
fn a_binary_named_like_a_deleted_one_is_judged_by_its_inode() {
    let scratch = Scratch::new("exporter-spoof");
    let dir = scratch.path().canonicalize().unwrap();
    let s = |p: &Path| p.display().to_string();

    let named = dir.join("spoof-app (deleted)");
    auditable_sleeper(&named, &dep_v0("spoof-app", "1.0.0", &[("itoa", "1.0.0")]));
    // The file the old code compared it with: another program at `spoof-app`.
    auditable_sleeper(
        &dir.join("spoof-app"),
        &dep_v0("spoof-app", "2.0.0", &[("itoa", "1.0.1")]),
    );
    let mut running = spawn(Command::new(&named).arg("300"));
    wait_exec(&mut running, &named);

    let twice = dir.join("twice-app (deleted)");
    auditable_sleeper(&twice, &dep_v0("twice-app", "1.0.0", &[]));
    let mut gone = spawn(Command::new(&twice).arg("300"));
    wait_exec(&mut gone, &twice);
    std::fs::remove_file(&twice).unwrap();
    // A file at the name the old code took off the mark: it must not be compared with it.
    auditable_sleeper(&dir.join("twice-app"), &dep_v0("twice-app", "9.0.0", &[]));

    let (mut exporter, addr) = start_exporter(&[]);
    let text = metrics(&addr);
    testkit::check_metrics(&text);
    assert_eq!(
        process_lines(&text, "spoof-app"),
        [process_line(&s(&named), "spoof-app", "current", "1.0.0", 1)]
    );
    assert_eq!(
        process_lines(&text, "twice-app"),
        [process_line(&s(&twice), "twice-app", "deleted", "1.0.0", 1)]
    );
    assert!(!text.contains("rust_mod_replaced_info{"), "{text}");
    exporter.kill();
}

/// A chain of directories whose full path is longer than `PATH_MAX`, made one step at a time
/// through `/proc/self/fd` (a path that long cannot be given to `mkdir`), and removed the same
/// way, deepest first, when dropped.
struct DeepTree {
    /// Each level's name and an open handle on it, top first.
    levels: Vec<(String, std::fs::File)>,
    top: std::fs::File,
    files: Vec<String>,
}

impl DeepTree {
    fn new(top: &Path, depth: usize) -> DeepTree {
        let mut tree = DeepTree {
            levels: Vec::new(),
            top: std::fs::File::open(top).unwrap(),
            files: Vec::new(),
        };
        for i in 0..depth {
            let name = format!("{i:03}{}", "d".repeat(200));
            let at = tree.path_of(&name);
            std::fs::create_dir(&at).unwrap();
            let handle = std::fs::File::open(&at).unwrap();
            tree.levels.push((name, handle));
        }
        tree
    }

    /// A short path to `name` in the deepest directory so far.
    fn path_of(&self, name: &str) -> PathBuf {
        use std::os::fd::AsRawFd as _;
        let fd = self.levels.last().map_or(&self.top, |(_, f)| f).as_raw_fd();
        PathBuf::from(format!("/proc/self/fd/{fd}/{name}"))
    }

    /// The full path's length.
    fn full_len(&self, top: &Path) -> usize {
        top.as_os_str().len() + self.levels.iter().map(|(n, _)| n.len() + 1).sum::<usize>()
    }
}

impl Drop for DeepTree {
    fn drop(&mut self) {
        for file in std::mem::take(&mut self.files) {
            let _ = std::fs::remove_file(self.path_of(&file));
        }
        while let Some((name, handle)) = self.levels.pop() {
            drop(handle);
            let _ = std::fs::remove_dir(self.path_of(&name));
        }
    }
}

/// Regression (issue 18, defect 7): the kernel cannot name a path longer than `PATH_MAX`
/// (reading the `exe` link fails), and the exporter counted such a process as exited: any
/// user could hide a program from it. The link is followed instead (that works at any
/// length): the process has its series, labelled with its device and inode, state unknown
/// (the image is linked, but its path cannot be looked up).
#[test]
fn a_program_run_from_a_path_longer_than_path_max_has_its_series() {
    use std::os::unix::fs::MetadataExt as _;

    let scratch = Scratch::new("exporter-deep");
    let dir = scratch.path().canonicalize().unwrap();
    let source = dir.join("deep-app");
    auditable_sleeper(&source, &dep_v0("deep-app", "4.0.0", &[("itoa", "1.0.0")]));
    let mut tree = DeepTree::new(&dir, 25);
    assert!(tree.full_len(&dir) > 4096, "{}", tree.full_len(&dir));
    let app = tree.path_of("deep-app");
    std::fs::copy(&source, &app).unwrap();
    tree.files.push("deep-app".into());
    std::fs::remove_file(&source).unwrap();
    let image = std::fs::metadata(&app).unwrap();

    // Started through the short path; the kernel records the real one.
    let mut deep = spawn(Command::new(&app).arg("300").current_dir("/"));
    wait_exec_inode(&mut deep, &app);
    let link = format!("/proc/{}/exe", deep.child().id());
    assert!(
        std::fs::read_link(&link).is_err(),
        "the kernel named a path of {} bytes",
        tree.full_len(&dir)
    );

    let (mut exporter, addr) = start_exporter(&[]);
    let text = metrics(&addr);
    testkit::check_metrics(&text);
    let label = format!(
        "(path longer than PATH_MAX: device {}:{}, inode {})",
        rustix_major(image.dev()),
        rustix_minor(image.dev()),
        image.ino()
    );
    assert_eq!(
        process_lines(&text, "deep-app"),
        [process_line(&label, "deep-app", "unknown", "4.0.0", 1)]
    );
    assert_contains(
        &text,
        "rust_mod_info{direct=\"true\",name=\"itoa\",origin=\"exporter\",program=\"deep-app\",source=\"crates.io\",version=\"1.0.0\"} 1\n",
    );
    // Deleted at its deep path: judged by the inode alone, it is deleted.
    std::fs::remove_file(&app).unwrap();
    tree.files.clear();
    metrics_when(&addr, "the deep program reported deleted", |text| {
        process_lines(text, "deep-app") == [process_line(&label, "deep-app", "deleted", "4.0.0", 1)]
    });
    deep.kill();
    exporter.kill();
    drop(tree);
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "the deep tree was removed"
    );
}

/// glibc's `major` and `minor` of a device number (what the label shows).
fn rustix_major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0x0000_0fff)
}

fn rustix_minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0x0000_00ff)
}

/// Whether `text` holds a control character other than the newlines ending its lines: C0,
/// DEL or C1.
fn raw_control(text: &str) -> Option<(usize, char)> {
    text.char_indices()
        .find(|&(_, c)| c != '\n' && c.is_control())
}

/// `.bldinfo` JSON for `program` 1.0.0: this binary's own build facts, with `branch` put in.
fn bldinfo_json(program: &str, branch: &str) -> Vec<u8> {
    let raw = cargo_depinfo::read_sections(Path::new(EXPORTER)).unwrap();
    let mut facts: Value = serde_json::from_slice(raw.bldinfo.as_deref().unwrap()).unwrap();
    facts["program"] = program.into();
    facts["version"] = "1.0.0".into();
    facts["branch"] = branch.into();
    // Its crates must be those of the `.dep-v0` beside it: none listed here.
    facts["packages"] = Value::Array(Vec::new());
    facts["only_with_other_members"] = Value::Array(Vec::new());
    serde_json::to_vec(&facts).unwrap()
}

/// Regression (issue 18, defect 14): raw ESC and other control characters from a path and
/// from a binary's data reached the exporter's label values (and the HELP text of the
/// program's build-info family). They are escaped as the rest of the tool escapes them.
#[test]
fn control_characters_from_processes_are_escaped_in_every_label() {
    let scratch = Scratch::new("exporter-controls");
    let dir = scratch.path().canonicalize().unwrap();
    // ESC sequences, BEL, DEL, and C1's CSI and NEL (U+009B, U+0085) in the path; ESC in the
    // program's name, a crate's name and the branch.
    let path = dir.join("ctl\u{1b}[31mred\u{7}bell\u{7f}\u{9b}2J\u{85}app");
    let program = "ctl\u{1b}]0;app";
    // JSON escapes the controls (testkit::dep_v0_json writes names as they are).
    let json = serde_json::json!({
        "packages": [
            {"name": program, "version": "1.0.0", "source": "local", "root": true, "dependencies": [1]},
            {"name": "evil\u{1b}[2Jcrate", "version": "1.0.0", "source": "crates.io"},
        ],
        "format": 1,
    })
    .to_string();
    testkit::with_sections_on(
        &testkit::sleep_binary(),
        &path,
        &[
            (".dep-v0", &zlib(json.as_bytes())),
            (
                ".bldinfo",
                &zlib(&bldinfo_json(program, "main\u{1b}[2J\u{9b}x")),
            ),
        ],
    );
    let mut running = spawn(Command::new(&path).arg("300"));
    wait_exec(&mut running, &path);

    let (mut exporter, addr) = start_exporter(&[]);
    // In the exposition text, the escapes' backslashes are escaped once more.
    let escaped_program = "ctl\\\\x1b]0;app";
    let text = metrics(&addr);
    testkit::check_metrics(&text);
    assert_eq!(raw_control(&text), None, "{text:?}");
    let exe = format!(
        "{}/ctl\\\\x1b[31mred\\\\x07bell\\\\x7f\\\\u009b2J\\\\u0085app",
        dir.display()
    );
    let lines = process_lines(&text, escaped_program);
    assert_eq!(lines.len(), 1, "{text}");
    for part in [
        format!("exe=\"{exe}\""),
        "state=\"current\"".to_owned(),
        "version=\"1.0.0\"".to_owned(),
    ] {
        assert_contains(lines[0], &part);
    }
    assert_contains(
        &text,
        &format!(
            "rust_mod_info{{direct=\"true\",name=\"evil\\\\x1b[2Jcrate\",origin=\"exporter\",program=\"{escaped_program}\",source=\"crates.io\",version=\"1.0.0\"}} 1\n"
        ),
    );
    let build_info = text
        .lines()
        .find(|l| l.starts_with("ctl_x1b_0_app_build_info{"))
        .unwrap_or_else(|| panic!("no build info family in {text}"));
    assert_contains(build_info, "branch=\"main\\\\x1b[2J\\\\u009bx\"");
    assert_contains(
        &text,
        "# HELP ctl_x1b_0_app_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which ctl\\\\x1b]0;app was built.\n",
    );
    exporter.kill();
}

/// Found beyond the list (issue 18): a process's root is a directory its owner
/// controls (a container's filesystem). Its paths were looked up through `/proc/PID/root`,
/// where an absolute symbolic link resolves from the exporter's root: a container could make
/// the exporter read a host file as the file that "replaced" its binary, and publish that
/// file's crates. Links are now resolved inside the process's root, as the process resolves
/// them.
#[test]
fn links_in_a_process_root_resolve_inside_that_root() {
    use depinfo_server::exporter::{ExeState, ScanOptions, Scanner, render_scan};

    let scratch = Scratch::new("fake-proc-links");
    let dir = scratch.path().canonicalize().unwrap();
    let elf = |json: &str| testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]);
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let escape = images.join("escape-app");
    std::fs::write(
        &escape,
        elf(&dep_v0("escape-app", "1.0.0", &[("itoa", "1.0.0")])),
    )
    .unwrap();
    let inside = images.join("inside-app");
    std::fs::write(&inside, elf(&dep_v0("inside-app", "1.0.0", &[]))).unwrap();
    // A host file the container must not get read: a binary whose crates would show.
    let host = dir.join("host-secret");
    std::fs::write(
        &host,
        elf(&dep_v0("host-secret", "9.9.9", &[("itoa", "9.9.9")])),
    )
    .unwrap();

    let root = dir.join("root");
    let at = |p: &Path| root.join(p.strip_prefix("/").unwrap());
    std::fs::create_dir_all(at(&images)).unwrap();
    // In the container, the escaping binary's path is a link to the host file's path.
    std::os::unix::fs::symlink(&host, at(&escape)).unwrap();
    // And the other's is a link to /opt/inside-app, which holds the running image.
    std::fs::create_dir_all(root.join("opt")).unwrap();
    std::fs::hard_link(&inside, root.join("opt/inside-app")).unwrap();
    std::os::unix::fs::symlink("/opt/inside-app", at(&inside)).unwrap();

    let proc_root = dir.join("proc");
    fake_process(
        &proc_root,
        7,
        'S',
        0x40_0100,
        Some(&escape),
        &root,
        "0::/\n",
    );
    fake_process(
        &proc_root,
        8,
        'S',
        0x40_0100,
        Some(&inside),
        &root,
        "0::/\n",
    );
    let scan = Scanner::new(ScanOptions::new(&proc_root)).scan();
    let mut states: Vec<(String, ExeState)> = scan
        .groups
        .iter()
        .map(|g| (g.exe.clone(), g.state))
        .collect();
    states.sort();
    let p = |p: &Path| p.display().to_string();
    assert_eq!(
        states,
        [
            (p(&escape), ExeState::Deleted),
            (p(&inside), ExeState::Current)
        ]
    );
    // The host file was neither read nor reported.
    assert_eq!(scan.counts.images_read, 2, "{:?}", scan.counts);
    let text = render_scan(&scan, None, Layout::Full).metrics;
    assert!(!text.contains("9.9.9"), "{text}");
    assert!(!text.contains("rust_mod_replaced_info{"), "{text}");
}

/// WebAssembly files under `--path` (issue 23): the real module built by Debian's rustc and a
/// component with build-info's data are installed binaries like any other, and a hostile one
/// stops none of the rest.
#[test]
fn wasm_files_under_path_are_installed_binaries() {
    use testkit::{WasmPart, wasm_component, wasm_module_with_sections};

    let scratch = Scratch::new("exporter-wasm");
    let dir = scratch.path().canonicalize().unwrap();
    let bin = dir.join("wasm");
    std::fs::create_dir_all(&bin).unwrap();
    let real = bin.join("fixture.wasm");
    std::fs::copy(
        workspace_root().join("tests/fixtures/wasm-debian-rustc/wasm-fixture.wasm"),
        &real,
    )
    .unwrap();
    let component = bin.join("svc.wasm");
    std::fs::write(
        &component,
        wasm_component(&[WasmPart::Module(&wasm_module_with_sections(&[(
            ".bldinfo",
            &zlib(&bldinfo_json("wasm-svc", "main")),
        )]))]),
    )
    .unwrap();
    // Claims a 2 GiB section in a few bytes.
    std::fs::write(
        bin.join("lying.wasm"),
        b"\0asm\x01\0\0\0\0\x80\x80\x80\x80\x08\x07.dep-v0",
    )
    .unwrap();
    let (_exporter, addr) = start_exporter(&["--path", bin.to_str().unwrap()]);
    let text = metrics_when(&addr, "the Wasm files", |t| t.contains("svc.wasm"));
    let p = |path: &Path| path.display().to_string();
    assert_contains(
        &text,
        &format!(
            "rust_process_info{{container_id=\"\",exe=\"{}\",pod_uid=\"\",program=\"wasm-fixture\",revision=\"unknown\",state=\"installed\",systemd_unit=\"\",version=\"0.1.0\"}} 0\n",
            p(&real)
        ),
    );
    let svc = lines_for(&text, "rust_process_info", &p(&component));
    assert_eq!(svc.len(), 1, "{text}");
    for part in [
        "program=\"wasm-svc\"",
        "state=\"installed\"",
        "version=\"1.0.0\"",
    ] {
        assert!(svc[0].contains(part), "{part}: {}", svc[0]);
    }
    assert!(svc[0].ends_with("} 0"), "{}", svc[0]);
    // The hostile file has no series, and did not stop the others.
    assert!(!text.contains("lying.wasm"), "{text}");
    testkit::check_metrics(&text);
}
