//! Runs the real `cargo-depinfo` binary on binaries made by the tests: itself (built with
//! build-info), a system binary without data, and copies of it given a `.dep-v0` (cargo-auditable's
//! format) or `.bldinfo` section with `objcopy`. Text and JSON output are compared with golden
//! files under `tests/golden/` (set `UPDATE_GOLDEN=1` to rewrite them).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Scratch, check_golden, plain_binary, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
/// This package's manifest: `list` describes the cargo-depinfo workspace itself.
const MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

/// A fixture written in cargo-auditable's format, as `cargo auditable` would embed it.
const DEP_V0: &str = r#"{"packages":[{"name":"auditable-app","version":"0.3.1","source":"local","dependencies":[1,2,3],"root":true},{"name":"itoa","version":"1.0.15","source":"crates.io"},{"name":"serde","version":"1.0.219","source":"crates.io","dependencies":[3]},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"}],"format":1}"#;

/// A fixture in build-info's `.bldinfo` format 1 (FORMAT.md).
const BLDINFO: &str = r#"{"format":1,"program":"myapp","version":"1.4.2","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","revision_source":"BUILD_INFO_REVISION","branch":"main","tag":"v1.4.2","commit_time":"2026-11-21T23:40:00Z","build_user":"ci@builder-7","build_date":"2026-11-21T23:46:36Z","rust_version":"1.95.0","rust_commit":"59807616e1fa2540724bfbac14d7976d7e4a3860","rust_channel":"stable","host":"x86_64-unknown-linux-gnu","target":"x86_64-unknown-linux-gnu","profile":"release","opt_level":"3","modified":false,"features":["default","tls"],"graph":"upper-bound","only_with_other_members":["itoa@1.0.15"],"packages":[{"name":"gitdep","version":"0.2.0","source":"git","git_url":"https://example.invalid/gitdep","git_commit":"0123456789abcdef0123456789abcdef01234567"},{"name":"itoa","version":"1.0.15","source":"crates.io","direct":true,"checksum":"4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c"},{"name":"myapp","version":"1.4.2","source":"local","root":true,"dependencies":[0,1,3]},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build","direct":true}]}"#;

/// Local files only: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), LIMIT)
}

/// A copy of the plain binary whose section `section` holds `json`, compressed.
fn with_section(out: &Path, section: &str, json: &[u8]) {
    testkit::with_sections(out, &[(section, &zlib(json))]);
}

/// Compares `actual` with `tests/golden/NAME`, after replacing `dir` with `<DIR>`; with
/// `UPDATE_GOLDEN=1` a changed file is rewritten and the test still fails until it is stable.
fn golden(name: &str, actual: &str, dir: &Path) {
    let actual = actual.replace(&dir.display().to_string(), "<DIR>");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    check_golden(&path, &actual);
}

#[test]
fn inspect_reads_itself() {
    let out = run(&["inspect", BIN]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("{BIN}: cargo-depinfo {}", env!("CARGO_PKG_VERSION"))
    );
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("\tbuild\t"))
        .map(|l| l.split('=').next().unwrap())
        .collect();
    for key in [
        "revision",
        "modified",
        "branch",
        "rust_version",
        "target",
        "profile",
    ] {
        assert!(keys.contains(&key), "no build line {key}:\n{text}");
    }
    assert!(
        text.contains("\tmod\tcargo-depinfo\t0.1.0\tlocal\n"),
        "{text}"
    );
    assert!(text.contains("\tdep\tbuildinfo\t0.1.0\tlocal\n"), "{text}");
    assert!(text.contains("\tdep\tclap\t"), "{text}");
    assert!(text.contains("\tbuild-dep\tclap_derive\t"), "{text}");
}

#[test]
fn list_shows_what_build_info_embedded_less_what_other_members_add() {
    let listed = run(&["list", "--manifest-path", MANIFEST, "--format", "json"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let inspected = run(&["inspect", BIN, "--format", "json"]);
    assert_eq!(inspected.status.code(), Some(0), "{}", stderr(&inspected));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let inspected: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(listed["format_version"], 1);
    assert_eq!(listed["inventories"][0]["origin"], "workspace");
    assert_eq!(listed["inventories"][0]["program"], "cargo-depinfo");
    // Checksums are embedded only when the build asks for them; everything else must agree.
    let without_checksums = |v: &serde_json::Value| {
        let mut packages = v["inventories"][0]["packages"].as_array().unwrap().clone();
        for p in &mut packages {
            p.as_object_mut().unwrap().remove("checksum");
        }
        packages
    };
    assert!(without_checksums(&listed).len() > 20);
    // The binary embeds what it links however the workspace is built (FORMAT.md): its
    // graph in the whole workspace's resolution. `list` resolves cargo-depinfo alone.
    // Indices differ between the two graphs; every package's own facts must agree.
    let build = &inspected["inventories"][0]["build"];
    let only: Vec<&str> = build["only_with_other_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let rows = |packages: Vec<serde_json::Value>| -> BTreeSet<String> {
        packages
            .iter()
            .filter(|p| {
                let id = format!(
                    "{}@{}",
                    p["name"].as_str().unwrap(),
                    p["version"].as_str().unwrap()
                );
                !only.contains(&id.as_str())
            })
            .map(|p| {
                format!(
                    "{} {} {} {} direct={} root={}",
                    p["name"], p["version"], p["source"], p["kind"], p["direct"], p["root"]
                )
            })
            .collect()
    };
    let (listed, embedded) = (
        rows(without_checksums(&listed)),
        rows(without_checksums(&inspected)),
    );
    if build["graph"] == "upper-bound" {
        // Built with fewer members than the workspace (`cargo test -p cargo-depinfo`): the
        // packages only a build with more members links are named, and the rest is exactly
        // what cargo-depinfo alone links.
        assert!(!only.is_empty());
        assert_eq!(listed, embedded);
    } else {
        // Built with every member (`cargo test --workspace`): exact for that build, which
        // links everything cargo-depinfo alone links and what other members' features add.
        assert_eq!(build["graph"], "exact");
        assert!(
            listed.is_subset(&embedded),
            "{:?}",
            listed.difference(&embedded).collect::<Vec<_>>()
        );
    }
}

#[test]
fn list_names_an_unknown_package() {
    let out = run(&["list", "--manifest-path", MANIFEST, "-p", "no-such-crate"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: cannot list dependencies: package `no-such-crate` is not a member of the workspace\n"
    );
}

#[test]
fn a_plain_binary_named_explicitly_is_an_error() {
    let plain = plain_binary();
    let out = run(&["inspect", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: no build-info or cargo-auditable data (no .bldinfo or .dep-v0 section)\n",
            plain.display()
        )
    );
}

#[test]
fn a_cargo_auditable_binary_is_shown() {
    let dir = Scratch::new("cli-auditable");
    let bin = dir.join("auditable-app");
    with_section(&bin, ".dep-v0", DEP_V0.as_bytes());
    let text = run(&["inspect", bin.to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    golden("dep_v0_only.txt", &stdout(&text), &dir);
    let json = run(&["inspect", "--format", "json", bin.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    golden("dep_v0_only.json", &stdout(&json), &dir);
}

#[test]
fn mach_o_and_pe_binaries_are_read_like_elf() {
    let dir = Scratch::new("cli-formats");
    let sections: &[(&str, &[u8])] = &[
        (".bldinfo", &zlib(BLDINFO.as_bytes())),
        (".dep-v0", &zlib(DEP_V0.as_bytes())),
    ];
    let elf = dir.join("app-elf");
    std::fs::write(&elf, testkit::elf_with_sections(sections)).unwrap();
    std::fs::write(
        dir.join("app-mach-o"),
        testkit::mach_o_with_sections(sections),
    )
    .unwrap();
    std::fs::write(dir.join("app-pe.exe"), testkit::pe_with_sections(sections)).unwrap();
    let out = run(&["inspect", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One binary per format, the same data: the same lines under each header.
    let text = stdout(&out).replace(&dir.display().to_string(), "<DIR>");
    let blocks: Vec<&str> = text.split("<DIR>/").filter(|b| !b.is_empty()).collect();
    assert_eq!(blocks.len(), 3, "{text}");
    let body = |block: &str| block.split_once('\n').unwrap().1.to_owned();
    assert!(blocks[0].starts_with("app-elf: myapp 1.4.2\n"), "{text}");
    assert!(blocks[1].starts_with("app-mach-o: myapp 1.4.2\n"), "{text}");
    assert!(blocks[2].starts_with("app-pe.exe: myapp 1.4.2\n"), "{text}");
    assert_eq!(body(blocks[0]), body(blocks[1]));
    assert_eq!(body(blocks[0]), body(blocks[2]));
    assert!(
        body(blocks[0]).contains("\tdep\titoa\t1.0.15\tcrates.io\t"),
        "{text}"
    );
}

#[test]
fn a_build_info_binary_shows_its_build_facts() {
    let dir = Scratch::new("cli-bldinfo");
    let bin = dir.join("myapp");
    with_section(&bin, ".bldinfo", BLDINFO.as_bytes());
    for (format, file) in [
        ("text", "bldinfo.txt"),
        ("json", "bldinfo.json"),
        ("cyclonedx", "bldinfo.cdx.json"),
    ] {
        let out = run(&["inspect", "--format", format, bin.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        golden(file, &stdout(&out), &dir);
    }
}

/// The SBOM forms not covered above (CycloneDX 1.5, SPDX 2.3), of a build-info binary and of
/// a cargo-auditable one, byte for byte (tests/sbom_validation.rs validates these files).
#[test]
fn sboms_match_their_golden_files() {
    let dir = Scratch::new("cli-sboms");
    // SPDX's documentNamespace is the digest of the embedded data, so it is the same on every
    // machine whatever the binary around the sections.
    let myapp = dir.join("myapp");
    let elf = |json: &str| testkit::elf_with_sections(&[(".bldinfo", &zlib(json.as_bytes()))]);
    std::fs::write(&myapp, elf(BLDINFO)).unwrap();
    let auditable = dir.join("auditable-app");
    std::fs::write(
        &auditable,
        testkit::elf_with_sections(&[(".dep-v0", &zlib(DEP_V0.as_bytes()))]),
    )
    .unwrap();
    let cdx15: &[&str] = &["--format", "cyclonedx", "--spec-version", "1.5"];
    let spdx: &[&str] = &["--format", "spdx"];
    for (bin, args, file) in [
        (&myapp, cdx15, "bldinfo.cdx-1.5.json"),
        (&myapp, spdx, "bldinfo.spdx.json"),
        (&auditable, spdx, "dep_v0_only.spdx.json"),
    ] {
        let mut all = vec!["inspect", bin.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        golden(file, &stdout(&out), &dir);
    }
}

/// `report --format html` embeds `report --format json`'s document for the same inputs, and
/// its totals and rows are the model's.
#[test]
fn the_html_report_embeds_the_json_report_of_the_same_inputs() {
    let dir = Scratch::new("cli-report");
    with_section(&dir.join("auditable-app"), ".dep-v0", DEP_V0.as_bytes());
    with_section(&dir.join("myapp"), ".bldinfo", BLDINFO.as_bytes());
    let d = dir.to_str().unwrap();
    let json = run(&["report", "--format", "json", d]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let html = run(&["report", d]);
    assert_eq!(html.status.code(), Some(0), "{}", stderr(&html));
    let model: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let page = stdout(&html);
    assert!(page.starts_with("<!doctype html>\n"), "{page}");
    let embedded = page
        .split_once("<script type=\"application/json\" id=\"report-data\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or_else(|| panic!("no embedded model in {page}"), |(json, _)| json);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(embedded).unwrap(),
        model
    );
    assert_eq!(model["totals"]["programs"], 2, "{model}");
    for (key, n) in model["totals"].as_object().unwrap() {
        let total = format!("<dd data-total=\"{key}\">{n}</dd>");
        assert_eq!(page.contains(&total), !n.is_null(), "{total}");
    }
    let len = |v: &serde_json::Value| v.as_array().unwrap().len();
    let crate_versions: usize = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| len(&c["versions"]))
        .sum();
    assert_eq!(
        page.matches("<tr data-row>").count(),
        len(&model["programs"]) + len(&model["builds"]) + len(&model["crates"]) + crate_versions
    );
    assert!(page.contains("<td data-value=\"myapp\">myapp</td>"));
}

#[test]
fn a_directory_scan_skips_non_binaries_and_carries_on_after_bad_ones() {
    let dir = Scratch::new("cli-scan");
    std::fs::create_dir_all(dir.join("nested/deeper")).unwrap();
    with_section(&dir.join("a-auditable"), ".dep-v0", DEP_V0.as_bytes());
    with_section(
        &dir.join("nested/deeper/myapp"),
        ".bldinfo",
        BLDINFO.as_bytes(),
    );
    std::fs::copy(plain_binary(), dir.join("plain")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a binary\n").unwrap();
    let whole = std::fs::read(plain_binary()).unwrap();
    std::fs::write(dir.join("nested/truncated"), &whole[..100]).unwrap();
    with_section(&dir.join("nested/zz-bomb"), ".dep-v0", &vec![b' '; 9 << 20]);
    with_section(
        &dir.join("nested/zz-notjson"),
        ".dep-v0",
        b"{\"hello\":\"world\"}",
    );

    let out = run(&["inspect", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let inventories = stdout(&out).replace(&dir.display().to_string(), "<DIR>");
    let headers: Vec<&str> = inventories
        .lines()
        .filter(|l| !l.starts_with('\t'))
        .collect();
    let expected = "<DIR>/a-auditable: auditable-app 0.3.1\n<DIR>/nested/deeper/myapp: myapp 1.4.2";
    assert_eq!(headers.join("\n"), expected);
    let d = dir.display();
    let lines = testkit::stderr_lines(&out, 3);
    assert!(
        lines[0].starts_with(&format!(
            "error: {d}/nested/truncated: malformed ELF file: "
        )),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        format!(
            "error: {d}/nested/zz-bomb: section .dep-v0: decompresses to more than 2097152 bytes (the limit)"
        )
    );
    assert!(
        lines[2].starts_with(&format!(
            "error: {d}/nested/zz-notjson: section .dep-v0: not the expected JSON format: missing field `packages`"
        )),
        "{lines:?}"
    );

    // The JSON output lists the same failures.
    let out = run(&["inspect", "--format", "json", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inventories"].as_array().unwrap().len(), 2);
    assert_eq!(v["errors"].as_array().unwrap().len(), 3);
}

#[test]
fn a_clean_directory_scan_exits_zero() {
    let dir = Scratch::new("cli-clean");
    with_section(&dir.join("app"), ".dep-v0", DEP_V0.as_bytes());
    std::fs::copy(plain_binary(), dir.join("plain")).unwrap();
    std::fs::write(dir.join("README"), "text").unwrap();
    let out = run(&["inspect", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn cyclonedx_wants_one_program() {
    let dir = Scratch::new("cli-cdx-many");
    with_section(&dir.join("a"), ".dep-v0", DEP_V0.as_bytes());
    with_section(&dir.join("b"), ".dep-v0", DEP_V0.as_bytes());
    let out = run(&["inspect", "--format", "cyclonedx", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: --format cyclonedx describes one program; 2 were found")
    );
}

#[test]
fn affected_exits_one_when_a_binary_matches() {
    let dir = Scratch::new("cli-affected");
    with_section(&dir.join("app"), ".dep-v0", DEP_V0.as_bytes());
    with_section(&dir.join("myapp"), ".bldinfo", BLDINFO.as_bytes());
    let d = dir.to_str().unwrap();
    let out = run(&["affected", "itoa", ">=1.0, <1.0.16", d]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "{d}/app: auditable-app 0.3.1: itoa 1.0.15 crates.io\n{d}/myapp: myapp 1.4.2: itoa 1.0.15 crates.io\n"
        )
    );
    let out = run(&["affected", "itoa", "<1.0.15", d]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let out = run(&["affected", "serde-derive", "1.0.219", d, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["affected"][0]["kind"], "build");
}

#[test]
fn an_invalid_requirement_is_one_clear_line() {
    let out = run(&["affected", "itoa", ">=1.0 <<2", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: invalid SemVer requirement \">=1.0 <<2\": "),
        "{err}"
    );
}

#[test]
fn runs_as_cargo_depinfo_and_as_cargo_subcommand() {
    let direct = run(&["--version"]);
    let via_cargo = run(&["depinfo", "--version"]);
    assert_eq!(direct.status.code(), Some(0));
    assert_eq!(stdout(&direct), stdout(&via_cargo));
    assert!(
        stdout(&direct).starts_with("cargo-depinfo 0.1.0 ("),
        "{}",
        stdout(&direct)
    );
}

#[test]
fn only_headers_and_the_two_sections_are_read() {
    let raw = cargo_depinfo::read_sections(Path::new(BIN)).unwrap();
    let size = std::fs::metadata(BIN).unwrap().len();
    assert!(raw.bldinfo.is_some() && raw.dep_v0.is_some());
    assert!(
        raw.bytes_read * 20 < size,
        "read {} of {size} bytes",
        raw.bytes_read
    );
}

#[test]
fn inspect_writes_a_textfile_exposition_that_promtool_accepts() {
    let dir = Scratch::new("cli-textfile");
    with_section(&dir.join("myapp"), ".bldinfo", BLDINFO.as_bytes());
    with_section(&dir.join("auditable-app"), ".dep-v0", DEP_V0.as_bytes());
    std::fs::copy(BIN, dir.join("cargo-depinfo")).unwrap();
    let out = run(&["inspect", dir.to_str().unwrap(), "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Exactly the families the collector serves, each once, whatever the number of programs.
    assert_eq!(
        text.matches("# TYPE rust_mod_info gauge").count(),
        1,
        "{text}"
    );
    assert!(text.contains("myapp_build_info{branch=\"main\",features=\"default,tls\",profile=\"release\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"1.4.2\"} 1\n"), "{text}");
    assert!(text.contains("rust_mod_info{direct=\"true\",name=\"itoa\",program=\"myapp\",source=\"crates.io\",version=\"1.0.15\"} 1\n"), "{text}");
    assert!(text.contains("rust_mod_info{direct=\"true\",name=\"serde\",program=\"auditable-app\",source=\"crates.io\",version=\"1.0.219\"} 1\n"), "{text}");
    assert!(text.contains("cargo_depinfo_build_info{"), "{text}");
    assert!(
        !text.contains("serde_derive"),
        "build-only crates are not rust_mod_info series: {text}"
    );
    assert!(
        !text.contains(dir.to_str().unwrap()),
        "no paths in labels: {text}"
    );
    testkit::check_metrics(&text);
}

/// A program name is text from someone else's binary: in the textfile output it goes only
/// through the collector's writer, so a newline in it cannot start a forged series.
#[test]
fn a_hostile_program_name_cannot_inject_series_into_the_textfile() {
    let dir = Scratch::new("cli-hostile-program");
    let hostile = BLDINFO.replace(
        r#""program":"myapp""#,
        r#""program":"evil\nforged_series{x=\"1\"} 1\n# HELP x \\""#,
    );
    with_section(&dir.join("evil"), ".bldinfo", hostile.as_bytes());
    let out = run(&["inspect", dir.to_str().unwrap(), "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        !text.lines().any(|l| l.starts_with("forged_series")),
        "{text}"
    );
    assert!(
        text.contains("# HELP evil_forged_series_x__1___1___HELP_x___build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which evil\\nforged_series{x=\"1\"} 1\\n# HELP x \\\\ was built.\n"),
        "{text}"
    );
    testkit::check_metrics(&text);
}

/// The reader's limits are flags: a section the default accepts is refused under a smaller
/// `--max-decompressed-kib`, with the limit named, and accepted again under the default.
#[test]
fn the_reader_limits_are_adjustable_by_flags() {
    let dir = Scratch::new("cli-limit-flags");
    let bin = dir.join("myapp");
    with_section(&bin, ".bldinfo", BLDINFO.as_bytes());
    let path = bin.to_str().unwrap();
    let ok = run(&["inspect", path]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    // The fixture's JSON is over 1 KiB once inflated.
    assert!(BLDINFO.len() > 1024);
    let small = run(&["inspect", path, "--max-decompressed-kib", "1"]);
    assert_eq!(small.status.code(), Some(2));
    let lines = testkit::stderr_lines(&small, 1);
    assert_eq!(
        lines[0],
        format!(
            "error: {path}: section .bldinfo: decompresses to more than 1024 bytes (the limit)"
        )
    );
    // The fleet commands take the same flags for the binaries they read.
    let fleet = run(&["affected", "itoa", "*", path, "--max-decompressed-kib", "1"]);
    assert_eq!(fleet.status.code(), Some(2));
    testkit::assert_contains(&stderr(&fleet), "decompresses to more than 1024 bytes");
    // A compressed section over --max-section-kib is refused by its size.
    let noisy = dir.join("noisy");
    testkit::with_sections(&noisy, &[(".bldinfo", &testkit::noise(1, 2048))]);
    let noisy = noisy.to_str().unwrap();
    let big = run(&["inspect", noisy, "--max-section-kib", "1"]);
    assert_eq!(big.status.code(), Some(2));
    let lines = testkit::stderr_lines(&big, 1);
    assert_eq!(
        lines[0],
        format!("error: {noisy}: section .bldinfo is 2048 bytes, over the limit of 1024")
    );
    // The plain binary's section header table is over 1 KiB.
    let headers = run(&["inspect", path, "--max-header-kib", "1"]);
    assert_eq!(headers.status.code(), Some(2));
    testkit::assert_contains(&stderr(&headers), "section header table is ");
    testkit::assert_contains(&stderr(&headers), "over the limit of 1024");
    // Out of range: clap's own one-line error.
    let refused = run(&["inspect", path, "--max-section-kib", "0"]);
    assert_eq!(refused.status.code(), Some(2));
    testkit::assert_contains(&stderr(&refused), "--max-section-kib");
}

/// A scan does not follow links to directories (README, trust section): a link to the
/// directory itself ends neither in a loop nor in the binary being read twice.
#[test]
fn a_directory_scan_does_not_follow_a_link_back_to_itself() {
    let dir = Scratch::new("cli-symlink-loop");
    with_section(&dir.join("myapp"), ".bldinfo", BLDINFO.as_bytes());
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    std::os::unix::fs::symlink(&*dir, dir.join("again")).unwrap();
    let out = run(&["inspect", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let programs: Vec<String> = stdout(&out)
        .lines()
        .filter(|l| !l.starts_with('\t'))
        .map(str::to_owned)
        .collect();
    assert_eq!(programs, [format!("{}/myapp: myapp 1.4.2", dir.display())]);
}

#[test]
fn a_revision_source_that_is_not_a_name_is_refused_in_one_line_naming_the_binary() {
    let dir = Scratch::new("cli-revision-source");
    let bin = dir.join("myapp");
    // A terminal escape where a source name belongs.
    let hostile = BLDINFO.replace(
        r#""revision_source":"BUILD_INFO_REVISION""#,
        r#""revision_source":"git\u001b[2J""#,
    );
    assert_ne!(hostile, BLDINFO);
    with_section(&bin, ".bldinfo", hostile.as_bytes());
    let out = run(&["inspect", bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: section .bldinfo: revision_source \"git\\u{{1b}}[2J\" is not a source \
             name (1 to 64 ASCII letters, digits, '_', '-' or '.')\n",
            bin.display()
        )
    );
}

/// The exporter and the catalog are programs of their own (depinfo-server): their old command
/// lines, flags and all, are still recognised, and say where each went on one stderr line,
/// write nothing on stdout, start no server and exit 2.
#[test]
fn the_exporter_and_the_catalog_say_where_they_went() {
    for (command, flags) in [
        (
            "exporter",
            &["--listen", "127.0.0.1:0", "--interval", "1"][..],
        ),
        ("exporter", &["--layout", "flat", "--help"][..]),
        ("exporter", &[][..]),
        (
            "catalog",
            &["--prometheus", "http://p:9090", "--listen", "127.0.0.1:0"][..],
        ),
        ("catalog", &["bin/", "--output", "deps.prom"][..]),
        ("catalog", &[][..]),
    ] {
        for prefix in [&["depinfo"][..], &[][..]] {
            let args: Vec<&str> = prefix
                .iter()
                .chain([&command])
                .chain(flags)
                .copied()
                .collect();
            let out = run(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
            assert_eq!(stdout(&out), "", "{args:?}");
            assert_eq!(
                stderr(&out),
                format!(
                    "error: cargo depinfo {command} moved to its own program: depinfo-{command} (cargo install depinfo-server); same flags\n"
                ),
                "{args:?}"
            );
        }
    }
}

/// The commands `cargo depinfo --help` lists (its "Commands:" section), `help` left out.
fn listed_commands() -> Vec<String> {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let section = help.split("Commands:").nth(1).unwrap();
    let commands: Vec<String> = section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    assert!(commands.len() >= 9, "{help}");
    commands
}

#[test]
fn completions_name_every_command_and_bash_reads_them() {
    let commands = listed_commands();
    assert!(commands.iter().any(|c| c == "completions"), "{commands:?}");
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for command in &commands {
            assert!(
                script.contains(command.as_str()),
                "{shell}: {command} missing"
            );
        }
        // The flags of a command are completed too.
        assert!(script.contains("max-file-kib"), "{shell}");
    }
    // bash parses the script it would source.
    let out = run(&["completions", "bash"]);
    let scratch = testkit::Scratch::new("completions");
    let file = scratch.join("cargo-depinfo.bash");
    std::fs::write(&file, &out.stdout).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // An unknown shell is refused by the parser.
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_pages_are_written_for_every_command_and_groff_renders_them() {
    let scratch = testkit::Scratch::new("manpages");
    let dir = scratch.join("man").join("man1");
    let out = run(&["manpages", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8(out.stdout).unwrap();
    let mut pages = vec!["cargo-depinfo.1".to_owned()];
    pages.extend(
        listed_commands()
            .iter()
            .map(|c| format!("cargo-depinfo-{c}.1")),
    );
    for page in &pages {
        let path = dir.join(page);
        assert!(
            listed.contains(&path.display().to_string()),
            "{page} not listed: {listed}"
        );
        let roff = std::fs::read_to_string(&path).unwrap();
        assert!(roff.contains(".TH ") && roff.contains(".SH NAME"), "{page}");
        let rendered = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{page}");
        assert!(
            rendered.stderr.is_empty(),
            "{page}: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    }
    // The inspect page documents its flags.
    let inspect = std::fs::read_to_string(dir.join("cargo-depinfo-inspect.1")).unwrap();
    assert!(inspect.contains("format"), "{inspect}");
}
