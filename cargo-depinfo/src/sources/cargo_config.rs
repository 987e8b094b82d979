//! Which registry index `outdated` reads, decided the way cargo decides it from its
//! configuration: `--index URL` first, then `$CARGO_DEPINFO_INDEX`, then the registry cargo
//! would use, following source replacement.
//!
//! Configuration comes from cargo's files (`.cargo/config.toml` in the current directory and
//! each parent, nearest first, then `$CARGO_HOME/config.toml`; the legacy name `config`, which
//! cargo prefers when both exist) and from cargo's environment variables
//! (`CARGO_REGISTRIES_<NAME>_INDEX`, `CARGO_SOURCE_<NAME>_REPLACE_WITH`, …), which win over
//! the files. Relative paths in a file are relative to the directory holding its `.cargo`
//! (for `$CARGO_HOME/config.toml`, `$CARGO_HOME`'s parent), as cargo has them.
//!
//! A file that exists in any form (a FIFO, a directory, a dangling or looping link) but cannot
//! be read as a regular file, under the file cap, is an error naming it: never skipped, since
//! skipping it would fall back to another registry (crates.io), and send it a private
//! workspace's crate names. Cargo itself fails on a directory and hangs on a FIFO; it skips
//! dangling links, which here are errors too.
//!
//! The chain starts at `crates-io` (or at `--registry NAME`, which must be in
//! `[registries]`), follows `[source.NAME] replace-with` and ends at a source that is a
//! sparse index (`registry = "sparse+https://…"` or `[registries.NAME] index`), a
//! `local-registry` (its `index/` read from disk), or an error: a git index, a `directory`
//! (vendored crates have no index), a cycle, an unknown name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates.io sparse index: cargo's `crates-io` when nothing replaces it.
pub const CRATES_IO_INDEX: &str = "sparse+https://index.crates.io/";

/// The environment variable naming an index directly (as `--index` does).
pub const DEPINFO_INDEX_ENV: &str = "CARGO_DEPINFO_INDEX";

/// Cargo's name for the default registry.
const CRATES_IO: &str = "crates-io";

/// The longest chain of source replacements followed (cargo's are a few links long).
const MAX_REPLACEMENTS: usize = 32;

/// Why cargo's configuration gives no usable index. Every message names the file, the
/// source or the URL, on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("{}: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A configuration file is not TOML.
    #[error("{}: not TOML: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, on one line.
        message: String,
    },
    /// A key holds a value of the wrong type.
    #[error("{origin}: `{key}` is not a {expected}")]
    WrongType {
        /// The key (`source.crates-io.replace-with`).
        key: String,
        /// The file.
        origin: String,
        /// `string` or `boolean`.
        expected: &'static str,
    },
    /// `--registry NAME` names no `[registries.NAME] index`.
    #[error(
        "registry `{0}` has no index: set [registries.{0}] index in cargo's config or CARGO_REGISTRIES_<NAME>_INDEX"
    )]
    UnknownRegistry(String),
    /// A replacement names a source that is not defined.
    #[error("source `{0}` is not defined in cargo's config ([source.{0}] or [registries.{0}])")]
    UnknownSource(String),
    /// Replacements lead back to a source already met.
    #[error("source replacement loops: {}", .0.join(" -> "))]
    Cycle(Vec<String>),
    /// The source is a git index.
    #[error(
        "source `{name}` is a git index ({url}): only sparse indexes (sparse+http(s)://) can be read; pass --index with one"
    )]
    GitIndex {
        /// The source.
        name: String,
        /// Its URL, credentials redacted.
        url: String,
    },
    /// The source is a directory of vendored crates, which has no index.
    #[error(
        "source `{name}` is a directory of vendored crates ({}): it has no index of releases; pass --index or --registry",
        path.display()
    )]
    Directory {
        /// The source.
        name: String,
        /// The directory.
        path: PathBuf,
    },
    /// The source has none of `registry`, `local-registry`, `directory` (or is a git
    /// repository source).
    #[error("source `{0}` has no registry index (registry, local-registry) in cargo's config")]
    NoIndex(String),
}

/// Where the chosen registry's index is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexLocation {
    /// A sparse index over HTTP(S); the URL as configured (with its `sparse+` prefix or not).
    Sparse(String),
    /// A local registry: its index is the `index/` directory under this path.
    LocalRegistry(PathBuf),
}

/// The registry the configuration selects: its source name (after replacement) and index.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selected {
    /// The source's name (`crates-io`, or the one replacing it).
    pub name: String,
    /// Where its index is.
    pub index: IndexLocation,
}

/// One configuration file, parsed.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    table: toml::Table,
}

impl ConfigFile {
    /// Parses `text`, the contents of the file at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                message: parse_message(text, &e),
            })?;
        Ok(ConfigFile {
            path: path.to_owned(),
            table,
        })
    }

    /// Reads and parses the file at `path`.
    fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let fail = |message: String| ConfigError::Read {
            path: path.to_owned(),
            message,
        };
        let text = depinfo_read::untrusted_file::read_small_text(path).map_err(|e| {
            fail(format!(
                "cargo's configuration cannot be read: {} (it is never skipped: make it a readable file or remove it)",
                e.reason
            ))
        })?;
        ConfigFile::parse(path, &text)
    }

    /// The directory relative paths in this file start from: the parent of the directory
    /// holding it (`.cargo`'s parent, or `$CARGO_HOME`'s).
    fn base(&self) -> PathBuf {
        self.path
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    fn get(&self, key: &[&str]) -> Option<&toml::Value> {
        let (last, tables) = key.split_last()?;
        let mut table = &self.table;
        for k in tables {
            table = table.get(*k)?.as_table()?;
        }
        table.get(*last)
    }
}

/// A configuration value and where relative paths in it start.
struct Found {
    value: String,
    base: PathBuf,
}

/// Cargo's configuration: its files (nearest first) and environment.
#[derive(Debug, Clone, Default)]
pub struct CargoConfig {
    files: Vec<ConfigFile>,
    env: BTreeMap<String, String>,
    cwd: PathBuf,
    cargo_home: PathBuf,
}

impl CargoConfig {
    /// The configuration cargo would read in `cwd`, with this process's environment.
    pub fn load(cwd: &Path) -> Result<CargoConfig, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("CARGO_"))
            .collect();
        let cargo_home = cargo_home(cwd, env.get("CARGO_HOME").map(String::as_str));
        let mut dirs: Vec<PathBuf> = cwd.ancestors().map(|d| d.join(".cargo")).collect();
        dirs.push(cargo_home.clone());
        let mut files = Vec::new();
        let mut seen = Vec::new();
        for dir in dirs {
            // Cargo reads `config` when both exist (and warns). A name that exists in any form
            // (a FIFO, a directory, a dangling link or a loop, as well as a file) is the file:
            // it is read, or the run stops naming it. Skipping it would fall back to another
            // registry (crates.io) and send it a private workspace's crate names. (Cargo itself
            // fails on a directory and hangs on a FIFO.)
            let Some(path) = ["config", "config.toml"]
                .iter()
                .map(|n| dir.join(n))
                .find(|p| std::fs::symlink_metadata(p).is_ok())
            else {
                continue;
            };
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen.contains(&canonical) {
                continue;
            }
            seen.push(canonical);
            files.push(ConfigFile::read(&path)?);
        }
        Ok(CargoConfig {
            files,
            env,
            cwd: cwd.to_owned(),
            cargo_home,
        })
    }

    /// A configuration from parsed files (nearest first) and environment variables, for
    /// tests; `CARGO_HOME` is taken from `env` (else `cwd/.cargo-home`).
    pub fn from_parts(files: Vec<ConfigFile>, env: BTreeMap<String, String>, cwd: &Path) -> Self {
        let cargo_home = env
            .get("CARGO_HOME")
            .map_or_else(|| cwd.join(".cargo-home"), |h| cwd.join(h));
        CargoConfig {
            files,
            env,
            cwd: cwd.to_owned(),
            cargo_home,
        }
    }

    /// Cargo's home directory: `$CARGO_HOME`, else `~/.cargo`.
    pub fn cargo_home(&self) -> &Path {
        &self.cargo_home
    }

    /// Whether cargo is configured offline (`net.offline`, `CARGO_NET_OFFLINE`).
    pub fn offline(&self) -> Result<bool, ConfigError> {
        let key = ["net", "offline"];
        if let Some(v) = self.env.get(&env_name(&key)) {
            return Ok(v == "true");
        }
        for file in &self.files {
            if let Some(v) = file.get(&key) {
                return v.as_bool().ok_or_else(|| ConfigError::WrongType {
                    key: key.join("."),
                    origin: file.path.display().to_string(),
                    expected: "boolean",
                });
            }
        }
        Ok(false)
    }

    /// A string value: the environment variable first, then the nearest file.
    fn string(&self, key: &[&str]) -> Result<Option<Found>, ConfigError> {
        let var = env_name(key);
        if let Some(v) = self.env.get(&var) {
            return Ok(Some(Found {
                value: v.clone(),
                base: self.cwd.clone(),
            }));
        }
        for file in &self.files {
            if let Some(v) = file.get(key) {
                let Some(s) = v.as_str() else {
                    return Err(ConfigError::WrongType {
                        key: key.join("."),
                        origin: file.path.display().to_string(),
                        expected: "string",
                    });
                };
                return Ok(Some(Found {
                    value: s.to_owned(),
                    base: file.base(),
                }));
            }
        }
        Ok(None)
    }

    /// The registry cargo would read for `crates-io`, or for `--registry NAME`, following
    /// source replacement (see the module docs).
    pub fn select(&self, registry: Option<&str>) -> Result<Selected, ConfigError> {
        let mut name = registry.unwrap_or(CRATES_IO).to_owned();
        if name != CRATES_IO && self.string(&["registries", &name, "index"])?.is_none() {
            return Err(ConfigError::UnknownRegistry(name));
        }
        let mut chain = vec![name.clone()];
        while let Some(next) = self.string(&["source", &name, "replace-with"])? {
            name = next.value;
            let looped = chain.contains(&name);
            chain.push(name.clone());
            if looped || chain.len() > MAX_REPLACEMENTS {
                return Err(ConfigError::Cycle(chain));
            }
        }
        let index = self.index_of(&name)?;
        Ok(Selected { name, index })
    }

    /// The index of the source `name` (the end of the replacement chain).
    fn index_of(&self, name: &str) -> Result<IndexLocation, ConfigError> {
        if let Some(url) = self.string(&["source", name, "registry"])? {
            return registry_url(name, &url.value);
        }
        if let Some(path) = self.string(&["source", name, "local-registry"])? {
            return Ok(IndexLocation::LocalRegistry(path.base.join(path.value)));
        }
        if let Some(path) = self.string(&["source", name, "directory"])? {
            return Err(ConfigError::Directory {
                name: name.to_owned(),
                path: path.base.join(path.value),
            });
        }
        if let Some(url) = self.string(&["registries", name, "index"])? {
            return registry_url(name, &url.value);
        }
        if name == CRATES_IO {
            if self
                .string(&["registries", CRATES_IO, "protocol"])?
                .is_some_and(|p| p.value == "git")
            {
                return Err(ConfigError::GitIndex {
                    name: name.to_owned(),
                    url: "registries.crates-io.protocol = \"git\"".into(),
                });
            }
            return Ok(IndexLocation::Sparse(CRATES_IO_INDEX.to_owned()));
        }
        let defined = self
            .files
            .iter()
            .any(|f| f.get(&["source", name]).is_some());
        Err(if defined {
            ConfigError::NoIndex(name.to_owned())
        } else {
            ConfigError::UnknownSource(name.to_owned())
        })
    }
}

/// A registry URL from the configuration: sparse with cargo's `sparse+` prefix, else git.
fn registry_url(name: &str, url: &str) -> Result<IndexLocation, ConfigError> {
    if url.starts_with("sparse+http://") || url.starts_with("sparse+https://") {
        Ok(IndexLocation::Sparse(url.to_owned()))
    } else {
        Err(ConfigError::GitIndex {
            name: name.to_owned(),
            url: depinfo_http::shown_url(url),
        })
    }
}

/// The environment variable cargo reads for a key: `CARGO_`, the parts upper-cased, `-` and
/// `.` made `_` (`source.crates-io.replace-with` is `CARGO_SOURCE_CRATES_IO_REPLACE_WITH`).
fn env_name(key: &[&str]) -> String {
    let mut name = String::from("CARGO");
    for part in key {
        name.push('_');
        name.extend(part.chars().map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        }));
    }
    name
}

/// `$CARGO_HOME` (relative to `cwd` if relative), else `.cargo` in the home directory.
fn cargo_home(cwd: &Path, var: Option<&str>) -> PathBuf {
    if let Some(home) = var.filter(|h| !h.is_empty()) {
        return cwd.join(home);
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map_or_else(|| cwd.to_owned(), PathBuf::from);
    home.join(".cargo")
}

/// A TOML error as shown: the parser's message and where, never the line it quotes in its
/// own display (cargo's configuration holds registry tokens and proxy credentials).
fn parse_message(text: &str, e: &toml::de::Error) -> String {
    let mut message = one_line(e.message());
    if let Some(span) = e.span() {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        let _ = write!(message, " at line {line} column {column}");
    }
    message
}

fn one_line(message: &str) -> String {
    let joined = message
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    depinfo_read::text_safety::blank_controls(joined.chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[(&str, &str)], env: &[(&str, &str)]) -> CargoConfig {
        let files = files
            .iter()
            .map(|(path, text)| ConfigFile::parse(Path::new(path), text).unwrap())
            .collect();
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        CargoConfig::from_parts(files, env, Path::new("/work/app"))
    }

    fn sparse(url: &str) -> IndexLocation {
        IndexLocation::Sparse(url.into())
    }

    #[test]
    fn crates_io_is_the_default() {
        let s = config(&[], &[]).select(None).unwrap();
        assert_eq!(s.name, "crates-io");
        assert_eq!(s.index, sparse(CRATES_IO_INDEX));
    }

    #[test]
    fn replacement_chains_to_a_sparse_registry_nearest_file_first() {
        let near = (
            "/work/app/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"mirror\"\n",
        );
        let home = (
            "/home/u/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"other\"\n[source.mirror]\nreplace-with = \"inner\"\n[source.inner]\nregistry = \"sparse+http://m/index/\"\n",
        );
        let s = config(&[near, home], &[]).select(None).unwrap();
        assert_eq!(s.name, "inner");
        assert_eq!(s.index, sparse("sparse+http://m/index/"));
        // The environment wins over the files.
        let s = config(
            &[near, home],
            &[("CARGO_SOURCE_CRATES_IO_REPLACE_WITH", "inner")],
        )
        .select(None)
        .unwrap();
        assert_eq!(s.name, "inner");
    }

    #[test]
    fn named_registries_come_from_files_or_the_environment() {
        let file = (
            "/work/app/.cargo/config",
            "[registries.my-reg]\nindex = \"sparse+https://r.example/\"\n",
        );
        let s = config(&[file], &[]).select(Some("my-reg")).unwrap();
        assert_eq!(s.index, sparse("sparse+https://r.example/"));
        let s = config(
            &[file],
            &[("CARGO_REGISTRIES_MY_REG_INDEX", "sparse+http://e/")],
        )
        .select(Some("my-reg"))
        .unwrap();
        assert_eq!(s.index, sparse("sparse+http://e/"));
        assert_eq!(
            config(&[], &[]).select(Some("nope")).unwrap_err(),
            ConfigError::UnknownRegistry("nope".into())
        );
    }

    #[test]
    fn local_registries_are_relative_to_the_dot_cargo_parent() {
        let file = (
            "/work/app/.cargo/config.toml",
            "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\nlocal-registry = \"vendor/reg\"\n",
        );
        let s = config(&[file], &[]).select(None).unwrap();
        assert_eq!(
            s.index,
            IndexLocation::LocalRegistry(PathBuf::from("/work/app/vendor/reg"))
        );
    }

    #[test]
    fn git_directories_cycles_and_unknowns_are_named_errors() {
        let file = |text: &str| config(&[("/w/.cargo/config.toml", text)], &[]);
        let e = file("[source.crates-io]\nreplace-with = \"g\"\n[source.g]\nregistry = \"https://u:pw@git.example/index\"\n")
            .select(None)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "source `g` is a git index (https://u:***@git.example/index): only sparse indexes (sparse+http(s)://) can be read; pass --index with one"
        );
        let e =
            file("[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"vendor\"\n")
                .select(None)
                .unwrap_err();
        assert!(matches!(e, ConfigError::Directory { .. }), "{e}");
        let e = file(
            "[source.crates-io]\nreplace-with = \"a\"\n[source.a]\nreplace-with = \"crates-io\"\n",
        )
        .select(None)
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "source replacement loops: crates-io -> a -> crates-io"
        );
        let e = file("[source.crates-io]\nreplace-with = \"x\"\n")
            .select(None)
            .unwrap_err();
        assert_eq!(e, ConfigError::UnknownSource("x".into()));
        let e = file("[source.crates-io]\nreplace-with = 3\n")
            .select(None)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/w/.cargo/config.toml: `source.crates-io.replace-with` is not a string"
        );
        let e = ConfigFile::parse(Path::new("/w/.cargo/config.toml"), "[x\ny = ").unwrap_err();
        assert!(!e.to_string().contains('\n'), "{e}");
        // Regression (issue 18, defect 9): a syntax error never quotes the line, which may
        // hold a registry token.
        let e = ConfigFile::parse(
            Path::new("/w/.cargo/config.toml"),
            "[registries.r]\ntoken = \"S3CRET-MARKER\ntoken2 = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("/w/.cargo/config.toml: not TOML: ")
                && e.ends_with(" at line 2 column 23"),
            "{e}"
        );
        assert!(!e.contains("S3CRET"), "{e}");
    }

    #[test]
    fn offline_follows_net_offline() {
        assert!(!config(&[], &[]).offline().unwrap());
        let f = ("/w/.cargo/config.toml", "[net]\noffline = true\n");
        assert!(config(&[f], &[]).offline().unwrap());
        assert!(
            !config(&[f], &[("CARGO_NET_OFFLINE", "false")])
                .offline()
                .unwrap()
        );
    }
}
