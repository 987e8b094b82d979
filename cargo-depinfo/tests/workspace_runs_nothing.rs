//! A workspace cloned from someone else names programs in its `.cargo/config.toml`
//! (`build.rustc`, `build.rustc-wrapper`, `build.rustc-workspace-wrapper`), and `cargo
//! metadata` and `cargo tree` run them to learn the target's facts. `cargo depinfo list` reads
//! such a workspace through both commands and must run none of them (issue 18: a security
//! tool runs nothing it reads).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use testkit::{Scratch, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const LIMIT: Duration = Duration::from_secs(120);

/// A workspace of one package without dependencies whose cargo config names three programs,
/// each of which leaves a marker file when run (and then runs the real rustc, so that a
/// command that runs them still succeeds).
fn trapped_workspace(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"trapped\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    let mut config = String::from("[build]\n");
    for key in ["rustc", "rustc-wrapper", "rustc-workspace-wrapper"] {
        let script = dir.join(format!("{key}.sh"));
        let marker = dir.join(format!("{key}.ran"));
        // As rustc, "$1" is the first argument; as a wrapper, it is rustc itself.
        let body = if key == "rustc" {
            format!(
                "#!/bin/sh\ntouch '{}'\nexec rustc \"$@\"\n",
                marker.display()
            )
        } else {
            format!("#!/bin/sh\ntouch '{}'\nexec \"$@\"\n", marker.display())
        };
        std::fs::write(&script, body).unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).unwrap();
        writeln!(config, "{key} = '{}'", script.display()).unwrap();
    }
    std::fs::write(dir.join(".cargo/config.toml"), config).unwrap();
}

/// The markers the traps left.
fn markers(dir: &Path) -> Vec<String> {
    let mut ran: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            Path::new(&name)
                .extension()
                .is_some_and(|e| e == "ran")
                .then_some(name)
        })
        .collect();
    ran.sort();
    ran
}

#[test]
fn listing_a_workspace_runs_no_program_its_cargo_config_names() {
    let scratch = Scratch::new("workspace-runs-nothing");
    let dir = scratch.join("ws");
    trapped_workspace(&dir);
    let manifest = dir.join("Cargo.toml");
    // The traps' markers must not be mistaken for the test's own leftovers.
    assert_eq!(markers(&dir), Vec::<String>::new());

    // The traps are real: cargo itself runs them for `cargo metadata`.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let plain = testkit::run(
        Command::new(&cargo)
            .args([
                "metadata",
                "--offline",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(&manifest)
            .current_dir(&dir)
            .env_remove("RUSTC")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER"),
        LIMIT,
    );
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert_eq!(
        markers(&dir),
        [
            "rustc-workspace-wrapper.ran",
            "rustc-wrapper.ran",
            "rustc.ran"
        ]
    );
    for marker in markers(&dir) {
        std::fs::remove_file(dir.join(marker)).unwrap();
    }

    // cargo depinfo reads the same workspace (cargo metadata, then cargo tree), run from inside
    // it as users do (cargo finds config files from the current directory), and runs none.
    let out = testkit::run(
        Command::new(BIN)
            .args(["depinfo", "list", "--format", "json"])
            .current_dir(&dir)
            .env("CARGO", &cargo)
            .env_remove("RUSTC")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER"),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        doc.to_string().contains("\"trapped\""),
        "the workspace was listed: {doc}"
    );
    assert_eq!(markers(&dir), Vec::<String>::new(), "{}", stderr(&out));
}
