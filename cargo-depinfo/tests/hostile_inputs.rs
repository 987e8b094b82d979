//! Configuration from others, given where cargo depinfo reads it, through the real CLI: the
//! `--http.config.file` YAML and every file it names (TLS material, password, credentials and
//! header files), `.cargo/config.toml` and `audit.toml` (issue 18, defects 2, 3, 4, 9, 11).
//!
//! Every run is bounded: killed (and the test failed) after [`LIMIT`], and started under a
//! data-segment cap of [`MEMORY_KIB`] (`ulimit -d`), so that a reader that grows with
//! `/dev/zero` or a 2 GB sparse file (the old readers passed 3 GB) aborts instead of passing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Reply, Scratch, Server, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// A refusal is immediate: a run past this is a hang.
const LIMIT: Duration = Duration::from_secs(20);

/// The data segment each run may have (a run needs tens of MiB).
const MEMORY_KIB: u64 = 256 * 1024;

/// `cargo-depinfo depinfo ARGS` under the memory cap, with no index or cargo home from the
/// test's own environment.
fn depinfo(args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -d {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(BIN)
        .arg("depinfo")
        .args(args)
        .env_remove("CARGO_DEPINFO_INDEX")
        .env_remove("CARGO_REGISTRIES_CRATES_IO_INDEX")
        .env_remove("CARGO_SOURCE_CRATES_IO_REPLACE_WITH");
    cmd
}

fn run(cmd: &mut Command) -> Output {
    testkit::run(cmd, LIMIT)
}

/// The one line of stderr, and the exit code, asserting there is exactly one line.
#[track_caller]
fn one_error(out: &Output) -> (Option<i32>, String) {
    let lines = testkit::stderr_lines(out, 1);
    (out.status.code(), lines[0].clone())
}

/// What a file someone else controls can be instead of a small regular file.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    Fifo,
    DevZero,
    Sparse,
}

const HOSTILE: [Hostile; 3] = [Hostile::Fifo, Hostile::DevZero, Hostile::Sparse];

impl Hostile {
    /// Makes it as `dir/name` (`/dev/zero` itself for that one).
    fn make(self, dir: &Path, name: &str) -> PathBuf {
        match self {
            Hostile::Fifo => {
                let path = dir.join(name);
                mkfifo(&path);
                path
            }
            Hostile::DevZero => PathBuf::from("/dev/zero"),
            Hostile::Sparse => {
                // 2 GB that cost no disk.
                let path = dir.join(name);
                std::fs::File::create(&path)
                    .unwrap()
                    .set_len(2 << 30)
                    .unwrap();
                path
            }
        }
    }

    /// Why the reader refuses it.
    fn reason(self) -> &'static str {
        match self {
            Hostile::Fifo => "is a FIFO, not a regular file",
            Hostile::DevZero => "is a character device, not a regular file",
            Hostile::Sparse => "larger than the limit of 1 MiB",
        }
    }
}

fn mkfifo(path: &Path) {
    let out = run(Command::new("mkfifo").arg(path));
    assert!(out.status.success(), "mkfifo: {}", stderr(&out));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `spread --metrics URL --http.config.file CONFIG`, the URL a loopback port nobody listens
/// on: a config refused at load never gets that far.
fn with_config(config: &Path) -> Output {
    let url = format!("http://{}/", testkit::unused_addr());
    spread_with_config(&[], &url, config)
}

/// `GLOBAL... spread --metrics URL --timeout 2 --http.config.file CONFIG`.
fn spread_with_config(global: &[&str], url: &str, config: &Path) -> Output {
    let spread = [
        "spread",
        "--metrics",
        url,
        "--timeout",
        "2",
        "--http.config.file",
        config.to_str().unwrap(),
    ];
    run(&mut depinfo(&[global, &spread].concat()))
}

/// Regression (issue 18, defect 3): `ca_file`, `cert_file` and `key_file` set to a FIFO,
/// `/dev/zero` or a 2 GB sparse file are refused at once, in one line naming the setting and
/// the file, within the memory cap.
#[test]
fn tls_files_that_are_fifos_devices_or_huge_are_refused_naming_the_setting() {
    let dir = Scratch::new("hostile-tls-files");
    let good = write(dir.path(), "good.pem", "PEM checked later\n");
    for hostile in HOSTILE {
        for key in ["ca_file", "cert_file", "key_file"] {
            let bad = hostile.make(dir.path(), &format!("{key}-{hostile:?}"));
            let (bad_s, good_s) = (bad.display().to_string(), good.display().to_string());
            let tls = match key {
                "ca_file" => format!("  ca_file: {bad_s}\n"),
                "cert_file" => format!("  cert_file: {bad_s}\n  key_file: {good_s}\n"),
                _ => format!("  cert_file: {good_s}\n  key_file: {bad_s}\n"),
            };
            let config = write(
                dir.path(),
                &format!("{key}-{hostile:?}.yml"),
                &format!("tls_config:\n{tls}"),
            );
            let (code, line) = one_error(&with_config(&config));
            assert_eq!(
                (code, line),
                (
                    Some(2),
                    format!(
                        "error: --http.config.file {}: tls_config.{key} {bad_s}: {}",
                        config.display(),
                        hostile.reason()
                    )
                ),
            );
        }
    }
}

/// Regression (issue 18, defect 4): a FIFO (or `/dev/zero`, or a 2 GB sparse file) given as
/// `password_file`, `credentials_file`, an `http_headers` file, or as `--http.config.file`
/// itself is refused at once, naming the setting and the file.
#[test]
fn secret_files_and_the_config_itself_never_block_or_grow() {
    let dir = Scratch::new("hostile-secret-files");
    for hostile in HOSTILE {
        let bad = hostile.make(dir.path(), &format!("secret-{hostile:?}"));
        let bad_s = bad.display().to_string();
        for (key, yaml) in [
            (
                "basic_auth.password_file",
                format!("basic_auth:\n  username: u\n  password_file: {bad_s}\n"),
            ),
            (
                "authorization.credentials_file",
                format!("authorization:\n  credentials_file: {bad_s}\n"),
            ),
            (
                "http_headers.X-Tenant.files",
                format!("http_headers:\n  X-Tenant:\n    values: [a]\n    files: [{bad_s}]\n"),
            ),
        ] {
            let config = write(dir.path(), &format!("{key}-{hostile:?}.yml"), &yaml);
            let (code, line) = one_error(&with_config(&config));
            assert_eq!(
                (code, line),
                (
                    Some(2),
                    format!(
                        "error: --http.config.file {}: {key} {bad_s}: {}",
                        config.display(),
                        hostile.reason()
                    )
                ),
            );
        }
        let (code, line) = one_error(&with_config(&bad));
        assert_eq!(
            (code, line),
            (
                Some(2),
                format!("error: --http.config.file {bad_s}: {}", hostile.reason())
            ),
        );
    }
}

/// `--max-file-kib` sets the cap on configuration files, and says it when refusing.
#[test]
fn max_file_kib_caps_the_config_file() {
    let dir = Scratch::new("hostile-max-file-kib");
    let config = write(
        dir.path(),
        "http.yml",
        &format!("{}follow_redirects: true\n", "# padding\n".repeat(205)),
    );
    assert!(std::fs::metadata(&config).unwrap().len() > 2048);
    let url = format!("http://{}/", testkit::unused_addr());
    let refused = spread_with_config(&["--max-file-kib", "1"], &url, &config);
    assert_eq!(
        one_error(&refused),
        (
            Some(2),
            format!(
                "error: --http.config.file {}: larger than the limit of 1 KiB",
                config.display()
            )
        )
    );
    // With 3 KiB it is read; the run then fails on the unreachable URL, not on the file.
    let read = spread_with_config(&["--max-file-kib", "3"], &url, &config);
    let (_, line) = one_error(&read);
    assert!(line.starts_with(&format!("error: {url}: ")), "{line}");
}

/// Regression (issue 18, defect 2): a billion-laughs file of about 1 MB (one string aliased a
/// hundred thousand times) is refused at once, naming the line, within the memory cap.
#[test]
fn a_billion_laughs_config_is_refused_at_the_file_cap() {
    let dir = Scratch::new("hostile-billion-laughs");
    let config = write(
        dir.path(),
        "laughs.yml",
        &format!(
            "basic_auth:\n  username: u\n  password: &lol \"{}\"\nhttp_headers:\n  X-Lol:\n    values: [{}]\n",
            "lol".repeat(100_000),
            vec!["*lol"; 120_000].join(", ")
        ),
    );
    assert!(std::fs::metadata(&config).unwrap().len() > 900_000);
    let (code, line) = one_error(&with_config(&config));
    assert_eq!(
        (code, line),
        (
            Some(2),
            format!(
                "error: --http.config.file {}: http_headers.X-Lol.values[2]: the config expands past the limit of 1 MiB (YAML aliases repeat what they name; write the values out) at line 3 column 13",
                config.display()
            )
        )
    );
    // 100,000 nested brackets are refused before the parser spends minutes on them.
    let deep = write(
        dir.path(),
        "deep.yml",
        &format!(
            "http_headers: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    );
    let (code, line) = one_error(&with_config(&deep));
    assert_eq!(code, Some(2));
    assert!(
        line.contains(": 100000 flow brackets ([ and {) in 200015 bytes: too many"),
        "{line}"
    );
}

/// Regression (issue 18, defect 9): a marker in every secret field, in wrong-type,
/// wrong-shape and valid-but-refused positions, and in the files secrets come from, never
/// appears in the output; each run fails where it should (so the marker was read).
#[test]
fn secrets_never_appear_in_any_output() {
    let dir = Scratch::new("hostile-secret-marker");
    let d = dir.path();
    let file = |name: &str, bytes: &[u8]| {
        let path = d.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let not_utf8 = file("not-utf8", b"S3CRET-MARKER-f1\xff");
    let control = file("control", b"S3CRET-MARKER-f2\x07tail");
    let header_control = file("header", b"S3CRET-MARKER-f3\r\nX-Injected: 1");
    let cases: Vec<(String, &str)> = vec![
        (
            "authorization: Bearer S3CRET-MARKER-1".into(),
            "authorization: invalid type: string, expected struct Authorization",
        ),
        (
            "authorization: {credentials: [S3CRET-MARKER-2]}".into(),
            "authorization.credentials: invalid type: sequence",
        ),
        (
            "authorization: {credentials: \"a\\u0007S3CRET-MARKER-3\"}".into(),
            "authorization.credentials holds a control character",
        ),
        (
            "tls_config: {insecure_skip_verify: !!int S3CRET-MARKER-4}".into(),
            "tls_config.insecure_skip_verify: invalid value: string, expected an integer",
        ),
        (
            "basic_auth: {username: u, password: {S3CRET-MARKER-5: 1}}".into(),
            "basic_auth.password: invalid type: map, expected a string",
        ),
        (
            "basic_auth: {username: u, S3CRET-MARKER-6}".into(),
            "basic_auth: unknown field (its name is not shown), expected one of",
        ),
        (
            "follow_redirects: !!bool S3CRET-MARKER-7".into(),
            "follow_redirects: invalid value: string, expected a boolean",
        ),
        (
            "http_headers: {X-A: {values: [\"S3CRET-MARKER-8\\n\"]}}".into(),
            "http_headers.X-A holds a control character",
        ),
        (
            "http_headers: {X-A: Bearer S3CRET-MARKER-9}".into(),
            "http_headers.X-A: invalid type: string, expected struct Header",
        ),
        (
            "http_headers: {X-A: {secrets: S3CRET-MARKER-10}}".into(),
            "http_headers.X-A.secrets: invalid type: string, expected a sequence",
        ),
        (
            "http_headers: {\"Bearer S3CRET-MARKER-11\": {values: [x]}}".into(),
            "http_headers: a key is not a header name",
        ),
        (
            "http_headers: {X-A: {secrets: [[S3CRET-MARKER-12]]}}".into(),
            "http_headers.X-A.secrets[0]: invalid type: sequence, expected a string",
        ),
        (
            "tls_config: {insecure_skip_verify: S3CRET-MARKER-13}".into(),
            "tls_config.insecure_skip_verify: invalid type: string, expected a boolean",
        ),
        (
            "follow_redirects: 1234567890123".into(),
            "follow_redirects: invalid type: integer, expected a boolean",
        ),
        (
            "authorization: {credentials: \"S3CRET-MARKER-14".into(),
            "found unexpected end of stream",
        ),
        (
            "authorization: {credentials: S3CRET-MARKER-15, credentials: S3CRET-MARKER-15}".into(),
            "duplicate field `credentials`",
        ),
        (
            format!("basic_auth: {{username: u, password_file: {not_utf8}}}"),
            "basic_auth.password_file",
        ),
        (
            format!("authorization: {{credentials_file: {control}}}"),
            "authorization.credentials holds a control character",
        ),
        (
            format!("http_headers: {{X-A: {{files: [{header_control}]}}}}"),
            "http_headers.X-A holds a control character",
        ),
    ];
    for (n, (yaml, expected)) in cases.iter().enumerate() {
        let config = write(d, &format!("case-{n}.yml"), &format!("{yaml}\n"));
        let out = with_config(&config);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !all.contains("S3CRET") && !all.contains("1234567890123"),
            "{yaml}: {all}"
        );
        let (code, line) = one_error(&out);
        assert_eq!(code, Some(2), "{yaml}: {line}");
        assert!(
            line.starts_with(&format!("error: --http.config.file {}: ", config.display()))
                && line.contains(expected),
            "{yaml}: {line}"
        );
    }
    // Accepted secrets go to the server and nowhere else, also when it refuses them.
    let server = Server::start(|_| Reply::ok("text/plain", "denied S3CRET?").status(401));
    let password = file("password", b"S3CRET-MARKER-20\n");
    let config = write(
        d,
        "accepted.yml",
        &format!(
            "basic_auth: {{username: u, password_file: {password}}}\nhttp_headers: {{X-A: {{secrets: [S3CRET-MARKER-21], files: [{password}]}}}}\n"
        ),
    );
    let out = run(&mut depinfo(&[
        "spread",
        "--metrics",
        &server.url("/metrics"),
        "--http.config.file",
        config.to_str().unwrap(),
        "--header",
        "X-B: S3CRET-MARKER-22",
    ]));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("S3CRET-MARKER"), "{all}");
    assert_eq!(out.status.code(), Some(2), "{all}");
    let heads = server.heads().join("\n");
    for sent in ["S3CRET-MARKER-20", "S3CRET-MARKER-21", "S3CRET-MARKER-22"] {
        assert!(heads.contains(sent), "{sent} not sent: {heads}");
    }
}

/// A loopback sparse index that records what it is asked (and knows nothing).
fn index_server() -> Server {
    Server::start(|_| Reply::not_found())
}

/// A scratch layout for `outdated`: `project/` (the working directory, with `.cargo/`) and
/// `home/` (CARGO_HOME, whose config replaces crates-io with `index`): the registry a skipped
/// project config would fall back to.
fn cargo_layout(label: &str, index: &Server) -> (Scratch, PathBuf, PathBuf) {
    let dir = Scratch::new(label);
    let project = dir.join("project");
    let home = dir.join("home");
    std::fs::create_dir_all(project.join(".cargo")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    write(
        &home,
        "config.toml",
        &format!(
            "[source.crates-io]\nreplace-with = \"fallback\"\n[source.fallback]\nregistry = \"sparse+{}\"\n",
            index.url("/index/")
        ),
    );
    (dir, project, home)
}

fn outdated_in(project: &Path, home: &Path) -> Output {
    // The cargo-depinfo binary itself: it carries its dependency list.
    run(depinfo(&["outdated", BIN, "--timeout", "5"])
        .current_dir(project)
        .env("CARGO_HOME", home))
}

/// Regression (issue 18, defect 11): a `.cargo/config.toml` (or legacy `.cargo/config`) that
/// exists but cannot be read (a FIFO, a directory, a dangling link, a link loop) stops
/// `outdated` with exit 2, naming it, and no registry is asked anything: falling back would
/// send a private workspace's crate names elsewhere.
#[test]
fn an_unreadable_cargo_config_is_an_error_never_a_fallback() {
    let index = index_server();
    // The fallback is really used when the project has no config (the test can fail).
    let (_dir, project, home) = cargo_layout("hostile-cargo-config-none", &index);
    let out = outdated_in(&project, &home);
    assert!(!index.requests().is_empty(), "{}", stderr(&out));

    let index = index_server();
    for (n, kind) in [
        "fifo",
        "directory",
        "dangling",
        "loop",
        "legacy-dir",
        "home-fifo",
    ]
    .into_iter()
    .enumerate()
    {
        let (_dir, project, home) = cargo_layout(&format!("hostile-cargo-config-{n}"), &index);
        let dot_cargo = project.join(".cargo");
        let path = match kind {
            "fifo" => {
                mkfifo(&dot_cargo.join("config.toml"));
                dot_cargo.join("config.toml")
            }
            "directory" => {
                std::fs::create_dir(dot_cargo.join("config.toml")).unwrap();
                dot_cargo.join("config.toml")
            }
            "dangling" => {
                std::os::unix::fs::symlink("nowhere", dot_cargo.join("config.toml")).unwrap();
                dot_cargo.join("config.toml")
            }
            "loop" => {
                std::os::unix::fs::symlink("b", dot_cargo.join("a")).unwrap();
                std::os::unix::fs::symlink("a", dot_cargo.join("b")).unwrap();
                std::os::unix::fs::symlink("a", dot_cargo.join("config.toml")).unwrap();
                dot_cargo.join("config.toml")
            }
            "legacy-dir" => {
                // Cargo prefers `config` to `config.toml`, and fails on a directory there.
                std::fs::create_dir(dot_cargo.join("config")).unwrap();
                write(&dot_cargo, "config.toml", "");
                dot_cargo.join("config")
            }
            _ => {
                std::fs::remove_file(home.join("config.toml")).unwrap();
                mkfifo(&home.join("config.toml"));
                home.join("config.toml")
            }
        };
        let out = outdated_in(&project, &home);
        let (code, line) = one_error(&out);
        assert_eq!(code, Some(2), "{kind}: {line}");
        let prefix = format!(
            "error: {}: cargo's configuration cannot be read: ",
            path.display()
        );
        assert!(
            line.starts_with(&prefix)
                && line.ends_with("(it is never skipped: make it a readable file or remove it)"),
            "{kind}: {line}"
        );
        assert_eq!(index.requests(), Vec::<String>::new(), "{kind}");
    }
}

/// Regression (issue 18, defects 4 and 11): an `audit.toml` that is a FIFO, a directory or a
/// dangling link stops `audit` at once with exit 2, naming it (never skipped: it may hold the
/// list of ignored advisories, or not).
#[test]
fn an_unreadable_audit_toml_is_an_error() {
    let dir = Scratch::new("hostile-audit-toml");
    let db = dir.join("db/crates/hyper");
    std::fs::create_dir_all(&db).unwrap();
    write(
        &db,
        "RUSTSEC-2099-0001.md",
        "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"hyper\"\ndate = \"2099-01-02\"\n[versions]\npatched = [\">= 0.14.10\"]\n```\n\n# Smuggling\n\nDetails.\n",
    );
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    for kind in ["fifo", "directory", "dangling"] {
        let project = dir.join(kind);
        let dot_cargo = project.join(".cargo");
        std::fs::create_dir_all(&dot_cargo).unwrap();
        let path = dot_cargo.join("audit.toml");
        match kind {
            "fifo" => mkfifo(&path),
            "directory" => std::fs::create_dir(&path).unwrap(),
            _ => std::os::unix::fs::symlink("nowhere", &path).unwrap(),
        }
        let out = run(
            depinfo(&["audit", "--db", dir.join("db").to_str().unwrap(), BIN])
                .current_dir(&project)
                .env("CARGO_HOME", &home),
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{kind}: {err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_else(|| panic!("{kind}: no error in {err}"));
        assert!(
            line.starts_with(&format!("error: {}: ", path.display())),
            "{kind}: {line}"
        );
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error: ")).count(),
            1,
            "{err}"
        );
    }
}

/// Regression (issue 18, defect 9): a `.cargo/config.toml` that is not TOML is an error naming
/// it and the line, without quoting the line (it may hold a registry token); nothing is asked.
#[test]
fn a_broken_cargo_config_never_shows_its_tokens() {
    let index = index_server();
    let (_dir, project, home) = cargo_layout("hostile-cargo-config-token", &index);
    let config = write(
        &project.join(".cargo"),
        "config.toml",
        "[registries.private]\ntoken = \"S3CRET-MARKER-30\n",
    );
    let out = outdated_in(&project, &home);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("S3CRET"), "{all}");
    let (code, line) = one_error(&out);
    assert_eq!(code, Some(2), "{line}");
    assert!(
        line.starts_with(&format!("error: {}: not TOML: ", config.display()))
            && line.ends_with(" at line 2 column 26"),
        "{line}"
    );
    assert_eq!(index.requests(), Vec::<String>::new());
}
