//! A loopback sparse registry made of what this machine's cargo home already holds, and empty
//! cargo homes that use it: fixture builds "in a fresh container" without the network.
//!
//! [`SparseRegistry`] serves, on `127.0.0.1` and a port the OS picks, the sparse protocol cargo
//! speaks to a registry: `config.json`, one index file per crate, and the `.crate` files. Its
//! packages come from the machine's cargo home (`$CARGO_HOME`, else `$HOME/.cargo`): the
//! `.crate` files under `registry/cache/*/` and, for each, its index line from cargo's index
//! cache (`registry/index/*/.cache/`), checked against the file's SHA-256. Every download is
//! recorded, so a test can say which packages cargo really fetched.
//!
//! [`FreshHome`] is an empty `CARGO_HOME` whose only file is a `config.toml` replacing the
//! crates-io source by the loopback registry: cargo resolves against it and downloads what the
//! build needs, as in a fresh container, and [`FreshHome::on_disk`] tells afterwards what is
//! on disk.
//!
//! ```no_run
//! let registry = testkit::SparseRegistry::from_cache(&["itoa"]);
//! let home = testkit::FreshHome::new(&registry);
//! let dir = std::path::Path::new("some/fixture");
//! testkit::run_ok(home.cargo(dir).args(["build", "-p", "app"]));
//! // What cargo downloaded (`name-version`), and what is on disk in the fresh home.
//! println!("{:?} {:?}", registry.downloads(), home.packages_on_disk());
//! ```
//!
//! What the registry cannot do is listed on [`SparseRegistry`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::child::{PROXY_VARIABLES, run, stderr};
use crate::fixture_project::cargo;
use crate::http_server::{Reply, Server};
use crate::scratch::Scratch;

/// The name the replacement source has in a [`FreshHome`]'s `config.toml`.
const SOURCE_NAME: &str = "loopback";

/// How long `sha256sum` may take over every `.crate` file of a registry.
const HASH_LIMIT: Duration = Duration::from_secs(60);

/// One served version of a crate.
#[derive(Clone, Debug)]
struct Cached {
    version: String,
    /// Its index line, as the registry wrote it (one JSON object, no newline).
    line: String,
    /// The `.crate` file.
    file: PathBuf,
}

/// A sparse registry on `127.0.0.1`, serving packages from this machine's cargo cache;
/// stopped on drop.
///
/// Limits:
/// - Only crates and versions this machine has downloaded before can be served; a test names
///   them ([`SparseRegistry::from_cache`]) or takes them from a lockfile
///   ([`SparseRegistry::from_lockfile`]). Cargo resolves a project without a lockfile to the
///   newest *cached* version, which need not be the newest published one.
/// - A crate's index file lists only its cached versions, and dependencies outside the served
///   set are answered `404`: cargo fails to resolve whatever needs them, naming the crate.
/// - Plain HTTP, no authentication, no publishing API (`"api": null`), no ETag or
///   `Last-Modified` (cargo asks for every index file again on its next online run).
/// - One connection at a time ([`Server`]): cargo's parallel requests wait in the listen
///   queue, each answered quickly and its connection closed (a `cargo fetch` of this
///   workspace's 228 packages takes a few seconds).
/// - Cargo extracts the sources under `registry/src/127.0.0.1-<hash of the URL>/`, so each
///   registry (each port) gives them another path: in the shared target directory, the
///   registry crates (and what depends on them) are compiled again by the first build in
///   each [`FreshHome`] (cargo's fingerprint sees `PathToSourceChanged`).
pub struct SparseRegistry {
    server: Server,
    /// `name-version`, in the order cargo downloaded them.
    downloads: Arc<Mutex<Vec<String>>>,
    /// `name-version` of every package served.
    packages: BTreeSet<String>,
}

impl SparseRegistry {
    /// Serves every version of each crate in `crates` that the machine's cargo cache holds
    /// (a `.crate` file and its index line). Panics naming the crate when there is none, or
    /// when a file's checksum differs from its index line's `cksum`.
    pub fn from_cache(crates: &[&str]) -> SparseRegistry {
        let home = machine_cargo_home();
        let mut wanted = Vec::new();
        for &name in crates {
            let cached = cached_versions(&home, name);
            assert!(
                !cached.is_empty(),
                "no version of crate {name:?} is cached under {} (a .crate file in \
                 registry/cache/*/ with its line in registry/index/*/.cache/)",
                home.display()
            );
            wanted.extend(cached);
        }
        SparseRegistry::serve(wanted)
    }

    /// Serves exactly the registry packages of the lockfile at `path` (every `[[package]]`
    /// whose `source` is a registry), each at its locked version. Panics naming the first
    /// package the machine's cargo cache lacks.
    pub fn from_lockfile(path: &Path) -> SparseRegistry {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read lockfile {}: {e}", path.display()));
        let home = machine_cargo_home();
        let mut wanted = Vec::new();
        for (name, version) in registry_packages(&text) {
            let found = cached_versions(&home, &name)
                .into_iter()
                .find(|(_, v)| v.version == version)
                .unwrap_or_else(|| {
                    panic!(
                        "{name} {version} (locked in {}) is not cached under {}",
                        path.display(),
                        home.display()
                    )
                });
            wanted.push(found);
        }
        SparseRegistry::serve(wanted)
    }

    /// Serves packages made elsewhere (a benchmark's generated crates): for each, its name,
    /// version, index line (one JSON object whose `cksum` is the file's SHA-256) and `.crate`
    /// file. Panics on a checksum that differs, as [`from_cache`](Self::from_cache) does.
    pub fn from_files(packages: Vec<(String, String, String, PathBuf)>) -> SparseRegistry {
        SparseRegistry::serve(
            packages
                .into_iter()
                .map(|(name, version, line, file)| {
                    (
                        name,
                        Cached {
                            version,
                            line,
                            file,
                        },
                    )
                })
                .collect(),
        )
    }

    fn serve(versions: Vec<(String, Cached)>) -> SparseRegistry {
        verify_checksums(&versions);
        let packages = versions
            .iter()
            .map(|(name, v)| format!("{name}-{}", v.version))
            .collect();
        let mut crates: BTreeMap<String, (String, Vec<Cached>)> = BTreeMap::new();
        for (name, version) in versions {
            crates
                .entry(name.to_lowercase())
                .or_insert_with(|| (name.clone(), Vec::new()))
                .1
                .push(version);
        }
        // The port must be known before the first answer: `config.json` names it.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("a bound listener").port();
        let config = format!(
            "{{\"dl\":\"http://127.0.0.1:{port}/dl/{{crate}}/{{version}}.crate\",\"api\":null}}"
        );
        let downloads = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&downloads);
        let server = Server::start_on(listener, move |target| {
            answer(target, &config, &crates, &log)
        });
        SparseRegistry {
            server,
            downloads,
            packages,
        }
    }

    /// `sparse+http://127.0.0.1:PORT/index/`: the registry as cargo's configuration names it.
    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.server.url("/index/"))
    }

    /// `name-version` of every package served, sorted.
    pub fn packages(&self) -> Vec<String> {
        self.packages.iter().cloned().collect()
    }

    /// `name-version` of every `.crate` file downloaded so far, in order.
    pub fn downloads(&self) -> Vec<String> {
        self.downloads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every request target so far, in order (index files, `config.json`, downloads, and
    /// what was answered `404`): for failure messages.
    pub fn requests(&self) -> Vec<String> {
        self.server.requests()
    }
}

/// The answer to one request of the sparse protocol.
fn answer(
    target: &str,
    config: &str,
    crates: &BTreeMap<String, (String, Vec<Cached>)>,
    downloads: &Mutex<Vec<String>>,
) -> Reply {
    if target == "/index/config.json" {
        return Reply::ok("application/json", config);
    }
    if let Some(path) = target.strip_prefix("/index/") {
        let Some((prefix, name)) = path.rsplit_once('/') else {
            return Reply::not_found();
        };
        return match crates.get(name) {
            Some((_, versions)) if index_prefix(name) == prefix => {
                let mut body = String::new();
                for v in versions {
                    body.push_str(&v.line);
                    body.push('\n');
                }
                Reply::ok("text/plain", body)
            }
            _ => Reply::not_found(),
        };
    }
    if let Some(path) = target.strip_prefix("/dl/")
        && let Some((name, file)) = path.split_once('/')
        && let Some(version) = file.strip_suffix(".crate")
        && let Some((canonical, versions)) = crates.get(&name.to_lowercase())
        && let Some(v) = versions.iter().find(|v| v.version == version)
    {
        return match std::fs::read(&v.file) {
            Ok(bytes) => {
                downloads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(format!("{canonical}-{version}"));
                Reply::ok("application/octet-stream", bytes)
            }
            Err(e) => Reply::ok("text/plain", format!("{}: {e}\n", v.file.display())).status(500),
        };
    }
    Reply::not_found()
}

/// The directory of a crate's index file, as cargo lays out an index: `1`, `2`,
/// `3/<first char>`, else `<first two>/<next two>`, lower-cased.
fn index_prefix(name: &str) -> String {
    let name = name.to_lowercase();
    match name.len() {
        1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", &name[..1]),
        _ => format!("{}/{}", &name[..2], &name[2..4]),
    }
}

/// `$CARGO_HOME`, else `$HOME/.cargo`: the machine's cargo home, whose caches are served.
fn machine_cargo_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return PathBuf::from(home);
    }
    let home = std::env::var_os("HOME").expect("neither CARGO_HOME nor HOME is set");
    Path::new(&home).join(".cargo")
}

/// The subdirectories of `dir`, sorted (none when it does not exist).
fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every version of `name` with a `.crate` file in `home`'s cache and its line in an index
/// cache, the first index (in name order) that has the version winning.
fn cached_versions(home: &Path, name: &str) -> Vec<(String, Cached)> {
    let caches = subdirectories(&home.join("registry").join("cache"));
    let mut found: BTreeMap<String, Cached> = BTreeMap::new();
    for index in subdirectories(&home.join("registry").join("index")) {
        let file = index
            .join(".cache")
            .join(index_prefix(name))
            .join(name.to_lowercase());
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for (version, line) in index_cache_entries(&bytes, &file) {
            let crate_name = format!("{name}-{version}.crate");
            let Some(crate_file) = caches
                .iter()
                .map(|dir| dir.join(&crate_name))
                .find(|f| f.is_file())
            else {
                continue;
            };
            found.entry(version.clone()).or_insert(Cached {
                version,
                line,
                file: crate_file,
            });
        }
    }
    found.into_values().map(|v| (name.to_owned(), v)).collect()
}

/// The `(version, index line)` pairs of one of cargo's index cache files: one byte of cache
/// version (3), the index format version (u32, little-endian), the index revision and a NUL,
/// then `version NUL line NUL` repeated. Panics naming `file` on anything else.
fn index_cache_entries(bytes: &[u8], file: &Path) -> Vec<(String, String)> {
    assert!(
        bytes.len() >= 5 && bytes[0] == 3,
        "{}: not a cargo index cache of version 3 (first byte {:?})",
        file.display(),
        bytes.first()
    );
    let mut fields = bytes[5..].split(|&b| b == 0);
    let _revision = fields.next();
    let mut entries = Vec::new();
    while let (Some(version), Some(line)) = (fields.next(), fields.next()) {
        let text = |field: &[u8]| {
            String::from_utf8(field.to_vec())
                .unwrap_or_else(|_| panic!("{}: an entry is not UTF-8", file.display()))
        };
        entries.push((text(version), text(line)));
    }
    entries
}

/// The `(name, version)` of every registry package of a lockfile, in its order.
fn registry_packages(lock: &str) -> Vec<(String, String)> {
    let mut packages = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                let value = l.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_owned())
            })
        };
        if let (Some(name), Some(version), Some(source)) =
            (field("name"), field("version"), field("source"))
            && (source.starts_with("registry+") || source.starts_with("sparse+"))
        {
            packages.push((name, version));
        }
    }
    packages
}

/// Checks each `.crate` file against the `cksum` of its index line, with one `sha256sum` run.
fn verify_checksums(versions: &[(String, Cached)]) {
    if versions.is_empty() {
        return;
    }
    let out = run(
        Command::new("sha256sum")
            .arg("--")
            .args(versions.iter().map(|(_, v)| &v.file)),
        HASH_LIMIT,
    );
    assert!(out.status.success(), "sha256sum failed: {}", stderr(&out));
    let sums = String::from_utf8_lossy(&out.stdout);
    let mut sums = sums.lines();
    for (name, v) in versions {
        let sum = sums
            .next()
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("sha256sum printed no sum for {}", v.file.display()));
        let line: serde_json::Value = serde_json::from_str(&v.line)
            .unwrap_or_else(|e| panic!("{name} {}: the index line is not JSON ({e})", v.version));
        let cksum = line["cksum"].as_str().unwrap_or_default();
        assert_eq!(
            cksum,
            sum,
            "{name} {}: {} does not match its index line's cksum",
            v.version,
            v.file.display()
        );
    }
}

/// An empty cargo home whose `config.toml` replaces the crates-io source by a
/// [`SparseRegistry`]; removed (with all cargo put in it) on drop.
pub struct FreshHome {
    dir: Scratch,
}

impl FreshHome {
    /// A fresh home using `registry`.
    pub fn new(registry: &SparseRegistry) -> FreshHome {
        let dir = Scratch::new("cargo-home");
        let config = format!(
            "[source.crates-io]\nreplace-with = \"{SOURCE_NAME}\"\n\n\
             [source.{SOURCE_NAME}]\nregistry = \"{}\"\n",
            registry.index_url()
        );
        std::fs::write(dir.join("config.toml"), config)
            .unwrap_or_else(|e| panic!("cannot write {}/config.toml: {e}", dir.display()));
        FreshHome { dir }
    }

    /// The home directory (`CARGO_HOME`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// [`cargo`] in `dir` (the shared target directory, a clean environment) with this
    /// `CARGO_HOME` and no proxy variables.
    pub fn cargo(&self, dir: &Path) -> Command {
        let mut cmd = cargo(dir);
        cmd.env("CARGO_HOME", self.path());
        for var in PROXY_VARIABLES {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Whether package `name` `version` is on disk in this home: its sources extracted
    /// (`registry/src/*/name-version`) or its `.crate` file (`registry/cache/*/`).
    pub fn on_disk(&self, name: &str, version: &str) -> bool {
        let package = format!("{name}-{version}");
        let registry = self.path().join("registry");
        subdirectories(&registry.join("src"))
            .iter()
            .any(|d| d.join(&package).is_dir())
            || subdirectories(&registry.join("cache"))
                .iter()
                .any(|d| d.join(format!("{package}.crate")).is_file())
    }

    /// `name-version` of every package on disk in this home (extracted or as a `.crate`
    /// file), sorted.
    pub fn packages_on_disk(&self) -> Vec<String> {
        let registry = self.path().join("registry");
        let mut packages = BTreeSet::new();
        for dir in subdirectories(&registry.join("src")) {
            packages.extend(subdirectories(&dir).iter().filter_map(|p| file_name(p)));
        }
        for dir in subdirectories(&registry.join("cache")) {
            let files = std::fs::read_dir(&dir).into_iter().flatten().flatten();
            packages.extend(files.filter_map(|e| {
                let name = file_name(&e.path())?;
                name.strip_suffix(".crate").map(str::to_owned)
            }));
        }
        packages.into_iter().collect()
    }
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_prefixes_follow_cargos_layout() {
        assert_eq!(index_prefix("a"), "1");
        assert_eq!(index_prefix("ab"), "2");
        assert_eq!(index_prefix("Syn"), "3/s");
        assert_eq!(index_prefix("itoa"), "it/oa");
        assert_eq!(index_prefix("Miniz_Oxide"), "mi/ni");
    }

    #[test]
    fn an_index_cache_file_is_read_as_version_and_line_pairs() {
        let mut bytes = vec![3, 2, 0, 0, 0];
        bytes.extend_from_slice(b"rev\0");
        bytes.extend_from_slice(b"1.0.0\0{\"vers\":\"1.0.0\"}\0");
        bytes.extend_from_slice(b"1.1.0-rc.1\0{\"vers\":\"1.1.0-rc.1\"}\0");
        assert_eq!(
            index_cache_entries(&bytes, Path::new("x")),
            [
                ("1.0.0".to_owned(), "{\"vers\":\"1.0.0\"}".to_owned()),
                (
                    "1.1.0-rc.1".to_owned(),
                    "{\"vers\":\"1.1.0-rc.1\"}".to_owned()
                ),
            ]
        );
    }

    #[test]
    #[should_panic(expected = "x: not a cargo index cache of version 3")]
    fn another_cache_version_is_refused_naming_the_file() {
        index_cache_entries(&[1, 2, 0, 0, 0, 0], Path::new("x"));
    }

    #[test]
    fn a_lockfiles_registry_packages_are_its_registry_sources_only() {
        let lock = "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\
                    dependencies = [\"itoa\"]\n\n[[package]]\nname = \"itoa\"\n\
                    version = \"1.0.15\"\nsource = \"registry+https://example.invalid/index\"\n\
                    checksum = \"00\"\n\n[[package]]\nname = \"dep\"\nversion = \"0.2.0\"\n\
                    source = \"git+https://example.invalid/dep#abc\"\n";
        assert_eq!(
            registry_packages(lock),
            [("itoa".to_owned(), "1.0.15".to_owned())]
        );
    }

    #[test]
    fn a_crate_file_must_match_its_index_lines_checksum() {
        let dir = Scratch::new("cksum");
        let file = dir.join("x-1.0.0.crate");
        std::fs::write(&file, "abc").unwrap();
        let with = |cksum: &str| {
            vec![(
                "x".to_owned(),
                Cached {
                    version: "1.0.0".to_owned(),
                    line: format!("{{\"name\":\"x\",\"vers\":\"1.0.0\",\"cksum\":\"{cksum}\"}}"),
                    file: file.clone(),
                },
            )]
        };
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let right = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        verify_checksums(&with(right));
        let wrong = right.replace("ba78", "ba79");
        let refused = std::panic::catch_unwind(|| verify_checksums(&with(&wrong)))
            .expect_err("a wrong cksum is refused");
        let message = refused.downcast_ref::<String>().unwrap();
        assert!(
            message.contains("x 1.0.0:") && message.contains("does not match"),
            "{message}"
        );
    }

    #[test]
    #[should_panic(expected = "no version of crate \"no-such-crate-here\" is cached")]
    fn a_crate_not_in_the_cache_is_named() {
        let _ = SparseRegistry::from_cache(&["no-such-crate-here"]);
    }

    #[test]
    fn the_protocol_answers_config_index_files_and_downloads() {
        let registry = SparseRegistry::from_cache(&["itoa"]);
        let packages = registry.packages();
        let package = packages.first().expect("a cached itoa").clone();
        let version = package.strip_prefix("itoa-").unwrap();
        let host = registry.server.host_port();

        let config = crate::http_client::get(&host, "/index/config.json").unwrap();
        let config: serde_json::Value = serde_json::from_str(&config.body).unwrap();
        assert_eq!(
            config["dl"],
            format!("http://{host}/dl/{{crate}}/{{version}}.crate")
        );
        assert!(config["api"].is_null());

        let index = crate::http_client::get(&host, "/index/it/oa/itoa").unwrap();
        assert_eq!(index.status, 200);
        assert!(index.body.ends_with('\n'), "{}", index.body);
        let versions: Vec<String> = index
            .body
            .lines()
            .map(|l| {
                let line: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(line["name"], "itoa");
                format!("itoa-{}", line["vers"].as_str().unwrap())
            })
            .collect();
        assert_eq!(versions, packages);

        // A wrong prefix and an unknown crate are not found, and nothing counts as a download.
        assert_eq!(
            crate::http_client::get(&host, "/index/it/ob/itoa")
                .unwrap()
                .status,
            404
        );
        assert_eq!(
            crate::http_client::get(&host, "/index/se/rd/serde")
                .unwrap()
                .status,
            404
        );
        assert_eq!(
            crate::http_client::get(&host, "/dl/itoa/0.0.0.crate")
                .unwrap()
                .status,
            404
        );
        assert!(registry.downloads().is_empty());

        let dl = crate::http_client::get(&host, &format!("/dl/itoa/{version}.crate")).unwrap();
        assert_eq!(dl.status, 200);
        assert_eq!(registry.downloads(), [package]);
    }
}
