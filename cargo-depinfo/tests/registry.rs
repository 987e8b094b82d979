//! Which registry `outdated` reads, and what the fleet commands read when no source is given,
//! checked against a real cargo: a scratch `CARGO_HOME` whose config replaces crates-io with
//! a loopback sparse registry (the fixture files under `tests/index/` and a `config.json`),
//! so that cargo itself (`cargo generate-lockfile`) fills its index cache; then `outdated
//! --offline` answers from that cache with the server stopped, exactly as it answered online.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Reply, Scratch, Server, assert_contains, auditable_binary, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// Every run is bounded: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// Uses every crate of the fixture index but `a` (see tests/outdated.rs for its versions).
const APP: &str = r#"{"packages":[{"name":"app","version":"1.0.0","source":"local","dependencies":[1,2,3,4,5,6,7],"root":true},{"name":"Inflector","version":"0.11.3","source":"crates.io"},{"name":"cc","version":"1.0.1","source":"crates.io","kind":"build"},{"name":"itoa","version":"1.0.10","source":"crates.io"},{"name":"libc","version":"0.2.150","source":"crates.io"},{"name":"rand","version":"0.7.3","source":"crates.io"},{"name":"serde","version":"1.0.100","source":"crates.io"},{"name":"syn","version":"2.0.1","source":"crates.io","kind":"build"}],"format":1}"#;

/// Uses a crate cargo never asked the registry about (`a`), and one the index does not know.
const APP_UNCACHED: &str = r#"{"packages":[{"name":"app-uncached","version":"0.1.0","source":"local","dependencies":[1,2,3],"root":true},{"name":"a","version":"0.1.0","source":"crates.io"},{"name":"itoa","version":"1.0.11","source":"crates.io"},{"name":"no-such-crate","version":"1.0.0","source":"crates.io"}],"format":1}"#;

/// The manifest cargo resolves: every crate of [`APP`].
const FIXTURE_MANIFEST: &str = r#"[package]
name = "registry-fixture"
version = "0.1.0"
edition = "2021"

[dependencies]
Inflector = "0.11"
cc = "1"
itoa = "1"
libc = "0.2"
rand = "0.7"
serde = "1"
syn = "2"
"#;

/// A loopback sparse registry at `/index/`: the fixture files, its `config.json`, 404 for
/// anything else; it records every path requested.
fn registry_server() -> Server {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/index");
    Server::start(move |target| {
        if target == "/index/config.json" {
            return Reply::ok(
                "application/json",
                r#"{"dl":"http://127.0.0.1:1/dl/{crate}/{version}","api":null}"#,
            );
        }
        let file = target
            .strip_prefix("/index/")
            .filter(|p| !p.contains(".."))
            .map(|p| root.join(p))
            .filter(|p| p.is_file());
        match file {
            Some(file) => Reply::ok("text/plain", std::fs::read(file).unwrap()),
            None => Reply::not_found(),
        }
    })
}

/// A command with no cargo variable of the test's own environment, `CARGO_HOME` set to
/// `home`, run in `dir`.
fn scrubbed(program: &str, home: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(|k| k.starts_with("CARGO_")) {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(dir)
        .env("CARGO_HOME", home)
        .env("CARGO", env!("CARGO"))
        .env("CARGO_TERM_COLOR", "never");
    cmd
}

fn depinfo(home: &Path, dir: &Path, args: &[&str]) -> Output {
    testkit::run(scrubbed(BIN, home, dir).args(args), LIMIT)
}

/// The scratch layout: `home/` (CARGO_HOME, with `config`), `project/` (the fixture
/// manifest), `bin/` (the binaries checked).
struct Setup {
    dir: Scratch,
}

impl Setup {
    fn new(label: &str, home_config: &str) -> Setup {
        let dir = Scratch::new(label);
        for sub in ["home", "project/src", "bin", "elsewhere"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::write(dir.join("home/config.toml"), home_config).unwrap();
        std::fs::write(dir.join("project/Cargo.toml"), FIXTURE_MANIFEST).unwrap();
        std::fs::write(dir.join("project/src/lib.rs"), "").unwrap();
        auditable_binary(&dir.join("bin/app"), APP);
        auditable_binary(&dir.join("bin/app-uncached"), APP_UNCACHED);
        Setup { dir }
    }

    fn home(&self) -> std::path::PathBuf {
        self.dir.join("home")
    }

    /// `cargo depinfo ARGS` run in `elsewhere/` (no cargo config or project there).
    fn depinfo(&self, args: &[&str]) -> Output {
        depinfo(&self.home(), &self.dir.join("elsewhere"), args)
    }

    fn bin(&self, name: &str) -> String {
        self.dir.join("bin").join(name).to_str().unwrap().to_owned()
    }

    /// A real cargo resolves the fixture manifest through the configured registry.
    fn cargo_generate_lockfile(&self) {
        let out = testkit::run(
            scrubbed(env!("CARGO"), &self.home(), &self.dir.join("project"))
                .args(["generate-lockfile"]),
            LIMIT,
        );
        assert!(out.status.success(), "cargo: {}", stderr(&out));
    }
}

fn replacing_crates_io(server: &Server) -> String {
    format!(
        "[source.crates-io]\nreplace-with = \"fixture-mirror\"\n\n[source.fixture-mirror]\nregistry = \"sparse+{}\"\n",
        server.url("/index/")
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn offline_answers_from_cargos_cache_exactly_as_online() {
    let server = registry_server();
    let setup = Setup::new("registry-offline", &replacing_crates_io(&server));
    setup.cargo_generate_lockfile();
    let cargo_saw = server.requests();
    assert!(
        cargo_saw.iter().any(|r| r.ends_with("/se/rd/serde")),
        "{cargo_saw:?}"
    );
    // Online, through the source replacement in CARGO_HOME's config.
    let online = setup.depinfo(&["outdated", &setup.bin("app"), "--format", "json"]);
    assert_eq!(online.status.code(), Some(0), "{}", stderr(&online));
    let seen = server.requests();
    assert!(seen.len() >= cargo_saw.len() + 7, "{seen:?}");
    assert!(
        seen[cargo_saw.len()..]
            .iter()
            .any(|r| r.ends_with("/it/oa/itoa"))
    );
    let url = server.url("/index/");
    drop(server);

    let offline = setup.depinfo(&[
        "outdated",
        &setup.bin("app"),
        "--format",
        "json",
        "--offline",
    ]);
    assert_eq!(offline.status.code(), Some(0), "{}", stderr(&offline));
    assert_eq!(stdout(&offline), stdout(&online));
    let doc = json(&offline);
    assert_eq!(doc["index"], url);
    assert_eq!(doc["crates"].as_array().unwrap().len(), 7);
    let serde = doc["crates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "serde")
        .unwrap();
    assert_eq!(serde["newest"], "1.2.0");
    assert_eq!(serde["level"], "minor");

    // The same from cargo's own offline switch.
    let offline = testkit::run(
        scrubbed(BIN, &setup.home(), &setup.dir.join("elsewhere"))
            .args(["outdated", &setup.bin("app"), "--format", "json"])
            .env("CARGO_NET_OFFLINE", "true"),
        LIMIT,
    );
    assert_eq!(stdout(&offline), stdout(&online), "{}", stderr(&offline));
}

#[test]
fn offline_crates_missing_from_the_cache_are_errors_not_up_to_date() {
    let server = registry_server();
    let setup = Setup::new("registry-uncached", &replacing_crates_io(&server));
    setup.cargo_generate_lockfile();
    let url = server.url("/index/");
    drop(server);
    let out = setup.depinfo(&["outdated", &setup.bin("app-uncached"), "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: a: not in cargo's index cache for {url} (offline: cannot check)\n\
             error: no-such-crate: not in cargo's index cache for {url} (offline: cannot check)\n"
        )
    );
    // itoa is cached, up to date within its compatible range but for a yanked release.
    assert_eq!(stdout(&out), "");
    let out = setup.depinfo(&[
        "outdated",
        &setup.bin("app-uncached"),
        "--offline",
        "--format",
        "json",
    ]);
    let doc = json(&out);
    let names: Vec<&str> = doc["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["itoa"]);
    assert_eq!(doc["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn offline_without_any_cache_names_the_default_index() {
    let setup = Setup::new("registry-nocache", "");
    let out = setup.depinfo(&["outdated", &setup.bin("app"), "--offline"]);
    assert_eq!(out.status.code(), Some(2));
    let index_dir = setup.home().join("registry/index");
    assert_eq!(
        stderr(&out),
        format!(
            "error: index {}: cargo has no cache of it in {}: run a cargo command that reads it (cargo update) without --offline first\n",
            cargo_depinfo::CRATES_IO_INDEX.trim_start_matches("sparse+"),
            index_dir.display()
        )
    );
}

#[test]
fn named_registries_come_from_the_config_or_the_environment() {
    let server = registry_server();
    let config = format!(
        "[registries.fixture]\nindex = \"sparse+{}\"\n",
        server.url("/index/")
    );
    let setup = Setup::new("registry-named", &config);
    let out = setup.depinfo(&[
        "outdated",
        &setup.bin("app"),
        "--registry",
        "fixture",
        "--fail-on",
        "major",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_contains(
        &stdout(&out),
        "app      rand       0.7.3    0.7.3       0.9.0    major\n",
    );
    assert!(server.requests().iter().any(|r| r == "/index/ra/nd/rand"));

    // The environment names it too (and wins over the file).
    let before = server.requests().len();
    let out = testkit::run(
        scrubbed(BIN, &setup.home(), &setup.dir.join("elsewhere"))
            .args(["outdated", &setup.bin("app"), "--registry", "other"])
            .env(
                "CARGO_REGISTRIES_OTHER_INDEX",
                format!("sparse+{}", server.url("/index/")),
            ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(server.requests().len() >= before + 7);

    let out = setup.depinfo(&["outdated", &setup.bin("app"), "--registry", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: registry `nope` has no index: set [registries.nope] index in cargo's config or CARGO_REGISTRIES_<NAME>_INDEX\n"
    );
}

#[test]
fn project_config_wins_and_git_indexes_are_named_errors() {
    let server = registry_server();
    // CARGO_HOME's config points at a git index; the project's .cargo/config.toml (nearer)
    // replaces crates-io with the loopback registry.
    let setup = Setup::new(
        "registry-project",
        "[source.crates-io]\nreplace-with = \"git-mirror\"\n[source.git-mirror]\nregistry = \"https://git.invalid/index\"\n",
    );
    let out = setup.depinfo(&["outdated", &setup.bin("app")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: source `git-mirror` is a git index (https://git.invalid/index): only sparse indexes (sparse+http(s)://) can be read; pass --index with one\n"
    );
    std::fs::create_dir_all(setup.dir.join("elsewhere/.cargo")).unwrap();
    std::fs::write(
        setup.dir.join("elsewhere/.cargo/config"),
        replacing_crates_io(&server),
    )
    .unwrap();
    let out = setup.depinfo(&["outdated", &setup.bin("app")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(server.requests().iter().any(|r| r == "/index/li/bc/libc"));
    // --index wins over every configuration.
    let out = setup.depinfo(&[
        "outdated",
        &setup.bin("app"),
        "--index",
        "http://127.0.0.1:1/x/",
        "--offline",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &stderr(&out),
        "error: index http://127.0.0.1:1/x/: cargo has no cache of it",
    );
}

// ---- no source given -----------------------------------------------------------------------

/// A project with a path dependency, and a cargo-auditable binary planted where cargo puts
/// test binaries (and one where it puts the real binary).
fn project_with_target(label: &str) -> Scratch {
    let dir = Scratch::new(label);
    std::fs::create_dir_all(dir.join("app/src")).unwrap();
    std::fs::create_dir_all(dir.join("helper/src")).unwrap();
    std::fs::write(
        dir.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n[dependencies]\nhelper = { path = \"../helper\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("app/src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        dir.join("helper/Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.7.1\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("helper/src/lib.rs"), "").unwrap();
    let profile = dir.join("app/target/debug");
    for sub in ["deps", ".fingerprint", "build", "incremental"] {
        std::fs::create_dir_all(profile.join(sub)).unwrap();
    }
    let test_bin = r#"{"packages":[{"name":"app-tests","version":"0.3.0","source":"local","dependencies":[1],"root":true},{"name":"testonly","version":"9.9.9","source":"crates.io"}],"format":1}"#;
    auditable_binary(&profile.join("deps/app-0123456789abcdef"), test_bin);
    auditable_binary(&profile.join("build/app-0123456789abcdef"), test_bin);
    let real = r#"{"packages":[{"name":"app","version":"0.3.0","source":"local","dependencies":[1],"root":true},{"name":"helper","version":"0.7.1","source":"local"}],"format":1}"#;
    auditable_binary(&profile.join("app"), real);
    let out = testkit::run(
        scrubbed(env!("CARGO"), &dir.join("home"), &dir.join("app"))
            .args(["generate-lockfile", "--offline"]),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

fn spread_names(out: &Output) -> Vec<String> {
    let doc = json(out);
    let mut names: Vec<String> = doc["crates"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn no_source_in_a_project_reads_the_workspace_never_target() {
    let dir = project_with_target("registry-project-default");
    let home = dir.join("home");
    // From the package's directory and from a subdirectory of it.
    for cwd in [dir.join("app"), dir.join("app/src")] {
        let out = depinfo(&home, &cwd, &["spread", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(spread_names(&out), ["helper"]);
    }
    // --manifest-path from anywhere.
    let manifest = dir.join("app/Cargo.toml");
    let out = depinfo(
        &home,
        &dir,
        &[
            "affected",
            "helper",
            "^0.7",
            "--manifest-path",
            manifest.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_contains(&stdout(&out), "helper");
    assert!(!stdout(&out).contains("testonly"));
    // An explicit scan of the project reads target/debug/app but not cargo's deps/ or build/.
    let out = depinfo(&home, &dir, &["spread", "app", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(spread_names(&out), ["helper"]);
    // Named explicitly, deps/ is read.
    let deps = dir.join("app/target/debug/deps");
    let out = depinfo(
        &home,
        &dir,
        &["spread", deps.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(spread_names(&out), ["testonly"]);
}

#[test]
fn no_source_outside_a_project_is_an_error_with_a_hint() {
    let dir = Scratch::new("registry-empty");
    for args in [
        &["spread"][..],
        &["affected", "x", "^1"],
        &["outdated", "--offline"],
    ] {
        let out = depinfo(&dir.join("home"), &dir, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: no source: give binaries or directories (PATH), --metrics URL or --prometheus URL, or run in a cargo project (or pass --manifest-path)\n",
            "{args:?}"
        );
        assert_eq!(stdout(&out), "");
    }
}

/// Copies `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn local_registries_are_read_from_disk_and_directories_are_named_errors() {
    let server = registry_server();
    let setup = Setup::new("registry-local", "");
    let online = setup.depinfo(&[
        "outdated",
        &setup.bin("app"),
        "--index",
        &server.url("/index/"),
    ]);
    assert_eq!(online.status.code(), Some(0), "{}", stderr(&online));
    drop(server);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/index"),
        &setup.dir.join("elsewhere/vendor/reg/index"),
    );
    let config = setup.dir.join("elsewhere/.cargo/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "[source.crates-io]\nreplace-with = \"local\"\n[source.local]\nlocal-registry = \"vendor/reg\"\n",
    )
    .unwrap();
    let out = setup.depinfo(&["outdated", &setup.bin("app")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&online));
    // A crate the local registry lacks is an error naming its file.
    let out = setup.depinfo(&["outdated", &setup.bin("app-uncached")]);
    assert_eq!(out.status.code(), Some(2));
    let missing = setup
        .dir
        .join("elsewhere/vendor/reg/index/no/-s/no-such-crate");
    assert_eq!(
        stderr(&out),
        format!(
            "error: no-such-crate: {}: not in the local registry\n",
            missing.display()
        )
    );
    std::fs::write(
        &config,
        "[source.crates-io]\nreplace-with = \"vendored\"\n[source.vendored]\ndirectory = \"vendor\"\n",
    )
    .unwrap();
    let out = setup.depinfo(&["outdated", &setup.bin("app")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: source `vendored` is a directory of vendored crates ({}): it has no index of releases; pass --index or --registry\n",
            setup.dir.join("elsewhere/vendor").display()
        )
    );
}
