//! Issue 23: the right package URL for every kind of source, on a fixture built for real.
//!
//! `tests/fixtures/identities` links a crate from crates.io (a loopback copy of it), a path
//! crate, a git dependency pinned to a commit (a local bare repository reached by `file://`)
//! and a crate from a second registry (another loopback registry). Its SBOM is compared byte
//! for byte with a golden file, and its purls are then matched the way the purl specification
//! says two purls name the same package (equal canonical forms) against the crates.io
//! advisories' `pkg:cargo/NAME`: only the crates.io crate matches. The matcher below
//! implements the specification's parsing and canonical building, and is itself checked on the
//! specification's own examples (tests/purl-spec/examples.json, source and commit named there).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::{FreshHome, Scratch, SparseRegistry, copy_fixture, git, run_ok, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

// ---------------------------------------------------------------------------------------
// The purl specification's parsing and canonical form (docs/specification/how-to-parse.md and
// how-to-build.md of package-url/purl-spec), as a purl-matching scanner applies them.

/// A parsed purl: every component percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Purl {
    kind: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: BTreeMap<String, String>,
    subpath: Option<String>,
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~:".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Parses right to left, as the specification's how-to-parse does; `None` for what it
/// rejects (no scheme, no type, a bad type or qualifier key, no name).
fn parse(purl: &str) -> Option<Purl> {
    let (rest, subpath) = match purl.rsplit_once('#') {
        Some((r, s)) => {
            let segments: Vec<String> = s
                .split('/')
                .map(decode)
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .filter(|s| !s.is_empty() && s != "." && s != "..")
                .collect();
            (r, (!segments.is_empty()).then(|| segments.join("/")))
        }
        None => (purl, None),
    };
    let (rest, qualifiers) = match rest.rsplit_once('?') {
        Some((r, q)) => {
            let mut map = BTreeMap::new();
            for pair in q.split('&') {
                let (key, value) = pair.split_once('=')?;
                let key = key.to_ascii_lowercase();
                let key_ok = key.starts_with(|c: char| c.is_ascii_alphabetic())
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
                if !key_ok {
                    return None;
                }
                let value = decode(value)?;
                if !value.is_empty() {
                    map.insert(key, value);
                }
            }
            (r, map)
        }
        None => (rest, BTreeMap::new()),
    };
    let (scheme, rest) = rest.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("pkg") {
        return None;
    }
    let (kind, rest) = rest.trim_start_matches('/').split_once('/')?;
    let kind = kind.to_ascii_lowercase();
    let kind_ok = kind.starts_with(|c: char| c.is_ascii_alphabetic())
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
    if !kind_ok {
        return None;
    }
    let (rest, version) = match rest.rsplit_once('@') {
        Some((r, v)) => (r, Some(decode(v)?)),
        None => (rest, None),
    };
    let rest = rest.trim_end_matches('/');
    let (namespace, name) = match rest.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, rest),
    };
    let name = decode(name)?;
    if name.is_empty() {
        return None;
    }
    let namespace = match namespace {
        Some(ns) => {
            let segments: Vec<String> = ns
                .split('/')
                .filter(|s| !s.is_empty())
                .map(decode)
                .collect::<Option<_>>()?;
            (!segments.is_empty()).then(|| segments.join("/"))
        }
        None => None,
    };
    Some(Purl {
        kind,
        namespace,
        name,
        version: version.filter(|v| !v.is_empty()),
        qualifiers,
        subpath,
    })
}

/// The canonical string (how-to-build): lowercase type, encoded components, qualifiers sorted
/// by key.
fn canonical(p: &Purl) -> String {
    let mut out = format!("pkg:{}/", p.kind);
    if let Some(ns) = &p.namespace {
        for segment in ns.split('/') {
            out.push_str(&encode(segment));
            out.push('/');
        }
    }
    out.push_str(&encode(&p.name));
    if let Some(v) = &p.version {
        out.push('@');
        out.push_str(&encode(v));
    }
    if !p.qualifiers.is_empty() {
        let pairs: Vec<String> = p
            .qualifiers
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    if let Some(s) = &p.subpath {
        out.push('#');
        let segments: Vec<String> = s.split('/').map(encode).collect();
        out.push_str(&segments.join("/"));
    }
    out
}

/// Whether a component's purl names the package an advisory's purl names, by the
/// specification's rule (the same canonical form), the advisory's purl naming no version
/// (advisories give versions as ranges, apart from the purl): everything but the version must
/// be equal. A `cargo` purl without `repository_url` is at the type's default repository,
/// crates.io; that is what an advisory of crates.io says too.
fn same_package(component: &str, advisory: &str) -> bool {
    let (Some(mut c), Some(a)) = (parse(component), parse(advisory)) else {
        return false;
    };
    c.version = None;
    canonical(&c) == canonical(&a)
}

fn spec_examples() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/purl-spec/examples.json");
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["tests"].as_array().unwrap().clone()
}

fn components_of(expected: &serde_json::Value) -> Purl {
    let text = |key: &str| expected[key].as_str().map(str::to_owned);
    let qualifiers = expected["qualifiers"]
        .as_object()
        .map(|q| {
            q.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Purl {
        kind: text("type").unwrap(),
        namespace: text("namespace"),
        name: text("name").unwrap(),
        version: text("version"),
        qualifiers,
        subpath: text("subpath"),
    }
}

/// The matcher parses and canonicalizes the way the specification's own examples say.
#[test]
fn the_matcher_follows_the_specifications_examples() {
    let mut checked = 0;
    for t in spec_examples() {
        let fails = t["expected_failure"] == true;
        match t["test_type"].as_str().unwrap() {
            "parse" => {
                let got = parse(t["input"].as_str().unwrap());
                if fails {
                    assert_eq!(got, None, "{t}");
                } else {
                    assert_eq!(got, Some(components_of(&t["expected_output"])), "{t}");
                }
            }
            "validate" => {
                let got = parse(t["input"].as_str().unwrap()).map(|p| canonical(&p));
                assert_eq!(got.as_deref(), t["expected_output"].as_str(), "{t}");
            }
            "build" if !fails => {
                let got = canonical(&components_of(&t["input"]));
                assert_eq!(got, t["expected_output"].as_str().unwrap(), "{t}");
            }
            _ => continue,
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} examples checked");

    // Two spellings of one package are the same package; another registry or a git source
    // is another package, whatever the name.
    assert!(same_package("pkg:cargo/rand@0.7.2", "pkg:cargo/rand"));
    assert!(same_package("PKG:Cargo/rand@0.7.2", "pkg:cargo/rand"));
    assert!(!same_package("pkg:cargo/rand@0.7.2", "pkg:cargo/rand_core"));
    assert!(!same_package(
        "pkg:cargo/rand@0.7.2?repository_url=https:%2F%2Fexample.invalid%2F",
        "pkg:cargo/rand"
    ));
    assert!(!same_package(
        "pkg:cargo/rand@0.7.2?vcs_url=git%2Bhttps:%2F%2Fexample.invalid%2Fr%40abc",
        "pkg:cargo/rand"
    ));
    assert!(!same_package("not a purl", "pkg:cargo/rand"));
}

// ---------------------------------------------------------------------------------------
// The fixture, built for real.

/// Packs `tests/fixtures/identities-registry` into a `.crate` file and serves it as the only
/// package of a second loopback registry.
fn second_registry(scratch: &Path) -> SparseRegistry {
    let (name, version) = ("smallvec", "0.6.9");
    let package = format!("{name}-{version}");
    let sources = scratch.join("registry-src");
    copy_fixture("identities-registry", &sources.join(&package), name, &[]);
    let file = scratch.join(format!("{package}.crate"));
    run_ok(
        Command::new("tar")
            .args([
                "--sort=name",
                "--owner=0",
                "--group=0",
                "--mtime=@0",
                "-czf",
            ])
            .arg(&file)
            .arg("-C")
            .arg(&sources)
            .arg(&package),
    );
    let sum = stdout(&run_ok(Command::new("sha256sum").arg("--").arg(&file)));
    let cksum = sum.split_whitespace().next().unwrap();
    let line = format!(
        "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"{cksum}\",\"features\":{{}},\"yanked\":false}}"
    );
    SparseRegistry::from_files(vec![(name.into(), version.into(), line, file)])
}

/// A bare repository holding `tests/fixtures/identities-git` in one commit (fixed author and
/// date, so the commit is the same on every machine), and that commit.
fn git_repository(scratch: &Path) -> (PathBuf, String) {
    let work = scratch.join("hyper-work");
    copy_fixture("identities-git", &work, "hyper", &[]);
    let commit = testkit::git_init_commit(&work);
    let bare = scratch.join("hyper.git");
    git(
        scratch,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    (bare, commit)
}

/// The fixture's binary and the port of its second registry (which its purl names). The
/// second registry is named with a user name in its URL, which never reaches the binary.
fn build_fixture(scratch: &Path, name: &str) -> (PathBuf, u16) {
    // crates.io's packages at this workspace's locked versions (itoa, and buildinfo's own
    // miniz_oxide and adler2), so that the SBOM names the same versions on every machine.
    let crates_io = SparseRegistry::from_lockfile(&testkit::workspace_root().join("Cargo.lock"));
    let second = second_registry(scratch);
    let (repo, commit) = git_repository(scratch);
    let index = second.index_url();
    let port: u16 = index
        .rsplit_once(':')
        .and_then(|(_, p)| p.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {index}"));
    let ws = scratch.join("ws");
    copy_fixture(
        "identities",
        &ws,
        name,
        &[
            ("@GIT_URL@", &format!("file://{}", repo.display())),
            ("@GIT_REV@", &commit),
            // A user name in the URL, as a registry's token may be given (cargo refuses a
            // password there): Cargo.lock keeps it, the binary must not.
            ("@SECOND_INDEX@", &index.replace("http://", "http://user@")),
        ],
    );
    let home = FreshHome::new(&crates_io);
    // Everything is fetched from the loopback registries and the local repository first; the
    // build itself (and its build script's cargo tree) then runs offline.
    run_ok(home.cargo(&ws).arg("fetch"));
    run_ok(home.cargo(&ws).args(["build", "--offline"]));
    drop((crates_io, second));
    let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains(&format!("sparse+http://user@127.0.0.1:{port}/index/")),
        "{lock}"
    );
    (testkit::binary("debug", name), port)
}

fn inspect_cyclonedx(binary: &Path) -> String {
    inspect_sbom(binary, &["--format", "cyclonedx"])
}

/// `inspect` of `binary` with the SBOM format `args`.
fn inspect_sbom(binary: &Path, args: &[&str]) -> String {
    let out = run_ok(Command::new(BIN).arg("inspect").args(args).arg(binary));
    stdout(&out)
}

/// `document` as its golden file holds it: what changes from run to run is replaced. The
/// second registry's port is `PORT`; in SPDX, the build date (`created`: the fixture is built
/// anew) is 2000-01-01T00:00:00Z (still a date, for the validators), and the namespace's
/// digest of the embedded data (which holds both) is `DIGEST`.
fn as_golden(document: &str, port: u16) -> String {
    let mut shown = document.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    if let Some(at) = shown.find("\"created\": \"") {
        let start = at + "\"created\": \"".len();
        let end = start + shown[start..].find('"').unwrap();
        let date = &shown[start..end];
        // SPDX's form, seconds and a Z: 2026-12-07T05:35:47Z.
        assert!(
            date.len() == 20 && date.ends_with('Z') && date.as_bytes()[10] == b'T',
            "{date}"
        );
        shown = format!("{}2000-01-01T00:00:00Z{}", &shown[..start], &shown[end..]);
    }
    match shown.find("\"documentNamespace\": \"") {
        Some(at) => {
            let start = at + "\"documentNamespace\": \"".len();
            let end = start + shown[start..].find('"').unwrap();
            let namespace = &shown[start..end];
            let cut = namespace.rfind('-').unwrap() + 1;
            let digest = &namespace[cut..];
            assert!(
                digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
                "{namespace}"
            );
            format!(
                "{}{}DIGEST{}",
                &shown[..start],
                &namespace[..cut],
                &shown[end..]
            )
        }
        None => shown,
    }
}

#[test]
fn every_kind_of_source_gets_its_own_identity() {
    let name = "fx_identities";
    let scratch = Scratch::new(name);
    let (binary, port) = build_fixture(&scratch, name);
    let bom = inspect_cyclonedx(&binary);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    testkit::check_golden(&golden.join("identities.cdx.json"), &as_golden(&bom, port));
    // The same identities in CycloneDX 1.5 and SPDX 2.3 (sbom_validation.rs validates all
    // three golden files with the official tools).
    for (file, args) in [
        (
            "identities.cdx-1.5.json",
            &["--format", "cyclonedx", "--spec-version", "1.5"][..],
        ),
        ("identities.spdx.json", &["--format", "spdx"][..]),
    ] {
        let document = inspect_sbom(&binary, args);
        testkit::check_golden(&golden.join(file), &as_golden(&document, port));
    }

    let v: serde_json::Value = serde_json::from_str(&bom).unwrap();
    let mut components: Vec<&serde_json::Value> =
        v["components"].as_array().unwrap().iter().collect();
    components.push(&v["metadata"]["component"]);
    let property = |c: &serde_json::Value, key: &str| {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == key)
            .map(|p| p["value"].as_str().unwrap().to_owned())
    };
    let mut seen = BTreeMap::new();
    for c in components {
        let name = c["name"].as_str().unwrap();
        let source = property(c, "cargo:source").unwrap();
        let purl = c["purl"].as_str();
        // Each purl is canonical: what the specification's parser and builder make of it.
        if let Some(purl) = purl {
            assert_eq!(parse(purl).map(|p| canonical(&p)).as_deref(), Some(purl));
        }
        // The advisories of crates.io's crate of this name name it `pkg:cargo/NAME`.
        let advisory = format!("pkg:cargo/{}", encode(name));
        let matched = purl.is_some_and(|p| same_package(p, &advisory));
        assert_eq!(
            matched,
            source == "crates.io",
            "{name} ({source}): {purl:?}"
        );
        seen.insert(
            name.to_owned(),
            (
                source,
                purl.map(str::to_owned),
                property(c, "cargo:identity"),
            ),
        );
    }
    let at = |n: &str| {
        seen.get(n)
            .unwrap_or_else(|| panic!("{n} missing: {seen:?}"))
    };
    assert_eq!(at("itoa").1.as_deref(), Some("pkg:cargo/itoa@1.0.18"));
    assert_eq!(
        (at("time").0.as_str(), at("time").1.as_deref()),
        ("local", None)
    );
    assert!(at("time").2.as_deref().unwrap().starts_with("path crate"));
    assert_eq!(at(name).1, None, "the program itself is a path crate");
    let hyper = at("hyper").1.as_deref().unwrap();
    assert!(
        hyper.starts_with("pkg:cargo/hyper@0.14.9?vcs_url=git%2Bfile:%2F%2Fhyper.git%40"),
        "{hyper}"
    );
    let smallvec = at("smallvec").1.as_deref().unwrap();
    assert_eq!(
        smallvec,
        format!(
            "pkg:cargo/smallvec@0.6.9?repository_url=sparse%2Bhttp:%2F%2F127.0.0.1:{port}%2Findex%2F"
        )
    );
    // No path of the build machine anywhere in the SBOM, and no user name from a URL.
    assert!(!bom.contains(scratch.to_str().unwrap()), "{bom}");
    assert!(!bom.contains("user@"), "{bom}");
}

/// A plain cargo-auditable binary knows each package's source kind only: its git and other
/// registry packages get no purl (never a crates.io one), and the SBOM says what is missing.
#[test]
fn a_cargo_auditable_binary_gives_no_crates_io_purl_to_what_is_not_from_crates_io() {
    let dir = Scratch::new("identities-auditable");
    let bin = dir.join("app");
    let json = testkit::dep_v0_json(
        ("app", "0.1.0", "local"),
        &[
            ("itoa", "1.0.18", "crates.io"),
            ("time", "0.1.45", "local"),
            ("hyper", "0.14.9", "git"),
            ("smallvec", "0.6.9", "registry"),
        ],
    );
    testkit::auditable_binary(&bin, &json);
    let v: serde_json::Value = serde_json::from_str(&inspect_cyclonedx(&bin)).unwrap();
    let mut got: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for c in v["components"]
        .as_array()
        .unwrap()
        .iter()
        .chain([&v["metadata"]["component"]])
    {
        let identity = c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "cargo:identity")
            .map(|p| p["value"].as_str().unwrap().to_owned());
        let purl = c["purl"].as_str().map(str::to_owned);
        let name = c["name"].as_str().unwrap().to_owned();
        let advisory = format!("pkg:cargo/{name}");
        assert_eq!(
            purl.as_deref().is_some_and(|p| same_package(p, &advisory)),
            name == "itoa",
            "{name}: {purl:?}"
        );
        got.push((name, purl, identity));
    }
    let path = "path crate (a workspace member or path dependency): no public identity, no purl";
    let want = [
        (
            "hyper",
            None,
            Some("git dependency, repository and commit not recorded: no purl"),
        ),
        ("itoa", Some("pkg:cargo/itoa@1.0.18"), None),
        (
            "smallvec",
            None,
            Some("registry other than crates.io, its URL not recorded: no purl"),
        ),
        ("time", None, Some(path)),
        ("app", None, Some(path)),
    ];
    let want: Vec<(String, Option<String>, Option<String>)> = want
        .iter()
        .map(|(n, p, i)| ((*n).to_owned(), p.map(str::to_owned), i.map(str::to_owned)))
        .collect();
    assert_eq!(got, want);
}
