//! WebAssembly files through every command that reads binaries (issue 23): `inspect` (one
//! file, a directory scan), `report`, and the real module built by Debian's rustc, whose
//! checked-in bytes must match the provenance its README gives. `audit` on Wasm is compared
//! with `cargo audit bin` in audit_contract.rs; the exporter's `--path` in depinfo-server's
//! tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use testkit::{
    Scratch, WasmPart, elf_with_sections, stderr, stdout, wasm_component,
    wasm_module_with_sections, zlib,
};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const LIMIT: Duration = Duration::from_secs(60);

/// build-info's data as our build.rs writes it for a `wasm32-wasip1` build.
const BLDINFO: &str = r#"{"format":1,"program":"wasm-svc","version":"2.1.0","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","revision_source":"git","branch":"main","tag":"","commit_time":"2026-11-21T23:40:00Z","build_user":"ci@builder-7","build_date":"2026-11-21T23:46:36Z","rust_version":"1.95.0","rust_commit":"59807616e1fa2540724bfbac14d7976d7e4a3860","rust_channel":"stable","host":"x86_64-unknown-linux-gnu","target":"wasm32-wasip1","profile":"release","opt_level":"s","modified":false,"features":[],"graph":"exact","packages":[{"name":"itoa","version":"1.0.15","source":"crates.io","direct":true},{"name":"wasm-svc","version":"2.1.0","source":"local","root":true,"dependencies":[0]}]}"#;

fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), LIMIT)
}

fn fixture_dir() -> PathBuf {
    testkit::workspace_root().join("tests/fixtures/wasm-debian-rustc")
}

/// The real module and its dependency list.
fn real_module() -> (PathBuf, String) {
    let dir = fixture_dir();
    (
        dir.join("wasm-fixture.wasm"),
        std::fs::read_to_string(dir.join("dep-v0.json")).unwrap(),
    )
}

fn sha256(path: &Path) -> String {
    let out = testkit::run(Command::new("sha256sum").arg(path), LIMIT);
    assert!(out.status.success(), "sha256sum: {}", stderr(&out));
    stdout(&out).split_whitespace().next().unwrap().to_owned()
}

#[test]
fn the_real_module_is_what_its_readme_says() {
    let dir = fixture_dir();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for file in [
        "wasm-fixture.wasm",
        "lib.rs",
        "dep-v0.json",
        "dep-v0.json.zlib",
    ] {
        let line = format!("- `{file}`: `{}`", sha256(&dir.join(file)));
        assert!(readme.contains(&line), "README.md lacks {line}");
    }
    // Its `.dep-v0` holds the compressed list, byte for byte, and decodes to the JSON.
    let (module, json) = real_module();
    let raw = depinfo_read::binary_reader::read_sections(&module).unwrap();
    assert_eq!(raw.format, depinfo_read::binary_reader::BinaryFormat::Wasm);
    assert_eq!(raw.dep_v0.as_deref(), Some(json.as_bytes()));
    assert_eq!(raw.bldinfo, None);
    let bytes = std::fs::read(&module).unwrap();
    let compressed = std::fs::read(dir.join("dep-v0.json.zlib")).unwrap();
    let mut section = vec![0x07];
    section.extend_from_slice(b".dep-v0");
    section.extend_from_slice(&compressed);
    assert!(
        bytes.windows(section.len()).any(|w| w == section),
        "the custom section is the name and the zlib stream, nothing else"
    );
}

#[test]
fn inspect_reads_a_wasm_module_and_component_like_an_elf_binary() {
    let dir = Scratch::new("wasm-inspect");
    let (real, json) = real_module();
    let dep = zlib(json.as_bytes());
    std::fs::write(dir.join("app-elf"), elf_with_sections(&[(".dep-v0", &dep)])).unwrap();
    std::fs::copy(&real, dir.join("app-real.wasm")).unwrap();
    std::fs::write(
        dir.join("app-module.wasm"),
        wasm_module_with_sections(&[(".dep-v0", &dep)]),
    )
    .unwrap();
    let inner = wasm_component(&[
        WasmPart::Module(&wasm_module_with_sections(&[])),
        WasmPart::Module(&wasm_module_with_sections(&[(".dep-v0", &dep)])),
    ]);
    std::fs::write(
        dir.join("app-nested.wasm"),
        wasm_component(&[WasmPart::Component(&inner)]),
    )
    .unwrap();
    // An object file (a `linking` section) is not what runs: left out of a scan.
    std::fs::write(
        dir.join("lib.o"),
        wasm_module_with_sections(&[(".dep-v0", &dep), ("linking", b"\x02")]),
    )
    .unwrap();
    let out = run(&["inspect", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out).replace(&dir.display().to_string(), "<DIR>");
    let blocks: Vec<&str> = text.split("<DIR>/").filter(|b| !b.is_empty()).collect();
    let heads: Vec<&str> = blocks.iter().map(|b| b.lines().next().unwrap()).collect();
    assert_eq!(
        heads,
        [
            "app-elf: wasm-fixture 0.1.0",
            "app-module.wasm: wasm-fixture 0.1.0",
            "app-nested.wasm: wasm-fixture 0.1.0",
            "app-real.wasm: wasm-fixture 0.1.0",
        ],
        "{text}"
    );
    let body = |block: &str| block.split_once('\n').unwrap().1.to_owned();
    for block in &blocks[1..] {
        assert_eq!(body(block), body(blocks[0]), "{text}");
    }
    assert!(
        body(blocks[0]).contains("\tdep\titoa\t1.0.18\tcrates.io"),
        "{text}"
    );

    // A module with both sections: the build facts, as for any binary.
    let svc = dir.join("svc.wasm");
    std::fs::write(
        &svc,
        wasm_module_with_sections(&[(".bldinfo", &zlib(BLDINFO.as_bytes()))]),
    )
    .unwrap();
    let out = run(&["inspect", "--format", "json", svc.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let inv = &doc["inventories"][0];
    assert_eq!(inv["program"], "wasm-svc");
    assert_eq!(inv["build"]["target"], "wasm32-wasip1", "{doc}");
}

#[test]
fn hostile_wasm_named_on_the_command_line_is_one_line_naming_it() {
    let dir = Scratch::new("wasm-hostile-cli");
    let lying = dir.join("lying.wasm");
    // A custom section that claims 2 GiB in a 20-byte file.
    let mut bytes = b"\0asm\x01\0\0\0\0\x80\x80\x80\x80\x08\x07.dep-v0".to_vec();
    bytes.push(0);
    std::fs::write(&lying, &bytes).unwrap();
    let good = dir.join("good.wasm");
    std::fs::copy(real_module().0, &good).unwrap();
    let out = run(&["inspect", lying.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: malformed Wasm file: section 0 at offset 8 claims 2147483648 bytes, past the end of the file\n",
            lying.display()
        )
    );
    // The rest of the work goes on.
    assert!(
        stdout(&out).contains("good.wasm: wasm-fixture 0.1.0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn report_takes_wasm_files_like_any_binary() {
    let dir = Scratch::new("wasm-report");
    std::fs::copy(real_module().0, dir.join("real.wasm")).unwrap();
    std::fs::write(
        dir.join("svc.wasm"),
        wasm_component(&[WasmPart::Module(&wasm_module_with_sections(&[(
            ".bldinfo",
            &zlib(BLDINFO.as_bytes()),
        )]))]),
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let out = run(&["report", "--format", "json", d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let model: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let programs: Vec<String> = model["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["program"].as_str().unwrap(), p["states"]))
        .collect();
    assert_eq!(
        programs,
        [
            r#"wasm-fixture {"installed":1}"#,
            r#"wasm-svc {"installed":1}"#
        ],
        "{model}"
    );
    let itoa: Vec<&str> = model["crates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "itoa")
        .flat_map(|c| c["versions"].as_array().unwrap())
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(itoa, ["1.0.15", "1.0.18"], "{model}");
    // And the page renders them.
    let html = run(&["report", d]);
    assert_eq!(html.status.code(), Some(0), "{}", stderr(&html));
    assert!(stdout(&html).contains("wasm-svc"));
}
