//! JSON documents checked against a JSON schema by Python's `jsonschema`, the reference
//! implementation that the formats' own tooling uses.

use std::process::{Command, Output};
use std::time::Duration;

use crate::child::run_with_input;

/// What every check does once its `setup` has defined `validator` and `label`.
const REPORT: &str = r#"
doc = json.load(sys.stdin)
errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
print(f"{label}{len(errors)} error(s)")
sys.exit(1 if errors else 0)
"#;

/// Runs `python3` on `document` (within `limit`): the Python `setup` imports `json` and `sys`
/// and defines `validator` (a `jsonschema` validator) and `label` (a string); the document is
/// then validated, each violation printed as `path: message`, then `{label}N error(s)`, and
/// the exit code is 1 when there is any violation.
pub fn python_schema_check(setup: &str, document: &[u8], limit: Duration) -> Output {
    let script = format!("{setup}{REPORT}");
    run_with_input(
        Command::new("python3").args(["-c", &script]),
        document,
        limit,
    )
}
