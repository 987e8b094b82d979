//! `--fetch`: a fresh clone of the advisory database, renamed into place.
//!
//! git always reads `$GIT_DIR/config`, so no flag makes running it in someone else's clone
//! safe: the database already on disk is never updated in place. Instead git clones into a
//! folder this module creates next to the database (same parent, so the rename stays on one
//! file system), and the clone replaces the old database: the old one is moved aside, the new
//! one renamed in, then the old one removed. When anything fails, the old database stays as it
//! was and the temporary folder is removed.
//!
//! git runs with an explicit environment and configuration, so that neither the user's git
//! configuration nor the cloned repository can make it run a program:
//!
//! - `env_clear()`, then `PATH`; `HOME` an empty folder of ours (git reads
//!   `~/.config/git/attributes` and more from it); `LANG`/`LC_ALL=C` (the error line we
//!   quote is git's English); `GIT_CONFIG_NOSYSTEM=1`, `GIT_CONFIG_SYSTEM` and
//!   `GIT_CONFIG_GLOBAL` the null device, `GIT_ATTR_NOSYSTEM=1`, `GIT_TERMINAL_PROMPT=0`,
//!   `GIT_CEILING_DIRECTORIES` above our folder; no `GIT_ASKPASS`, `SSH_ASKPASS`, pager,
//!   editor or `GIT_CONFIG_COUNT`;
//! - passed through, because a user behind a proxy or with private roots must still be able
//!   to fetch: the proxy variables (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`, in
//!   lower and upper case), `SSL_CERT_FILE` and `SSL_CERT_DIR` (where TLS roots are), and
//!   `SSH_AUTH_SOCK` (an ssh agent, for an `ssh://` mirror). None of them names a program;
//! - `--template=` (no sample hooks), and [`SETTINGS`] on the command line: hooks, fsmonitor,
//!   pager, askpass, credential helpers, attributes files, symbolic links and automatic gc
//!   off, and only the http(s), ssh, git and file transports (never `ext::`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::database::DatabaseError;
use crate::child_process::output_within;

/// The null device: git's configuration files that must be empty.
#[cfg(unix)]
const NULL_DEVICE: &str = "/dev/null";
#[cfg(windows)]
const NULL_DEVICE: &str = "NUL";

/// `-c` settings for every git command: together with the environment, nothing that git
/// could start on its own.
pub(crate) const SETTINGS: &[(&str, &str)] = &[
    ("core.hooksPath", NULL_DEVICE),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("core.askPass", ""),
    ("core.editor", ":"),
    ("core.attributesFile", NULL_DEVICE),
    ("core.symlinks", "false"),
    ("core.sshCommand", "ssh"),
    ("credential.helper", ""),
    ("init.templateDir", ""),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("submodule.recurse", "false"),
    ("fetch.recurseSubmodules", "false"),
    ("advice.detachedHead", "false"),
    ("protocol.allow", "never"),
    ("protocol.https.allow", "always"),
    ("protocol.http.allow", "always"),
    ("protocol.ssh.allow", "always"),
    ("protocol.git.allow", "always"),
    ("protocol.file.allow", "always"),
];

/// The variables passed through from our environment (none names a program).
const PASSED: &[&str] = &[
    "PATH",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SSH_AUTH_SOCK",
];

/// A folder of ours next to the database, removed with everything in it when dropped.
struct Staging {
    path: PathBuf,
}

impl Staging {
    /// `<parent>/.<name>.fetch-<pid>-<n>`, created here (never one that was already there).
    fn create(parent: &Path, name: &std::ffi::OsStr) -> std::io::Result<Staging> {
        let mut last = None;
        for n in 0..100u32 {
            let mut dir = OsString::from(".");
            dir.push(name);
            dir.push(format!(".fetch-{}-{n}", std::process::id()));
            let path = parent.join(dir);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Staging { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Links inside are removed, not followed.
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The git command that clones `url` into `into`, run from `cwd` with `home` as its home.
fn clone_command(url: &str, into: &Path, cwd: &Path, home: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.env_clear();
    for var in PASSED {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd.env("HOME", home)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_SYSTEM", NULL_DEVICE)
        .env("GIT_CONFIG_GLOBAL", NULL_DEVICE)
        .env("GIT_ATTR_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .current_dir(cwd);
    if let Some(parent) = cwd.parent() {
        cmd.env("GIT_CEILING_DIRECTORIES", parent);
    }
    cmd.arg("--no-pager");
    for (key, value) in SETTINGS {
        cmd.arg("-c").arg(format!("{key}={value}"));
    }
    cmd.args([
        "clone",
        "--quiet",
        "--depth",
        "1",
        "--no-tags",
        "--template=",
        "--",
        url,
    ])
    .arg(into);
    cmd
}

/// The first line of a failed git's stderr, else its exit status.
fn git_failure(output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("warning: "))
        .map_or_else(
            || format!("git exited with {}", output.status),
            str::to_owned,
        )
}

/// Whether what is at `path` may be replaced by a fresh clone: nothing, an empty folder, or a
/// git clone with a `crates` folder (an advisory database). Anything else is kept.
fn replaceable(path: &Path) -> Result<(), String> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    if !metadata.is_dir() {
        return Err("it exists and is not a folder: move it away or name another --db".to_owned());
    }
    let empty = std::fs::read_dir(path)
        .map_err(|e| e.to_string())?
        .next()
        .is_none();
    let database = path.join(".git").exists() && path.join("crates").is_dir();
    if empty || database {
        Ok(())
    } else {
        Err("it exists and is not an advisory database (no .git and crates): --fetch replaces the database, so move it away or name another --db".to_owned())
    }
}

/// Clones `url` (`--depth 1`) into a folder next to `path` and renames the clone into place,
/// replacing the database that was there (its local changes are discarded, as cargo-audit
/// does). The clone is bounded by `timeout`. No git command runs in the existing database.
pub fn fetch(path: &Path, url: &str, timeout: Duration) -> Result<(), DatabaseError> {
    let fail = |message: String| DatabaseError::Fetch {
        path: path.to_owned(),
        message,
    };
    replaceable(path).map_err(fail)?;
    // A database reached through a link is replaced where it really is.
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(_) => path.to_owned(),
    };
    let name = target
        .file_name()
        .ok_or_else(|| fail("the path has no folder name to clone into".to_owned()))?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| fail(format!("{}: {e}", parent.display())))?;
    // Absolute, so that `GIT_CEILING_DIRECTORIES` (which git reads only as absolute paths)
    // keeps git from looking for a repository around our folder.
    let parent =
        std::fs::canonicalize(&parent).map_err(|e| fail(format!("{}: {e}", parent.display())))?;
    let staging = Staging::create(&parent, name).map_err(|e| {
        fail(format!(
            "cannot create a folder in {}: {e}",
            parent.display()
        ))
    })?;
    let home = staging.path.join("home");
    std::fs::create_dir(&home).map_err(|e| fail(e.to_string()))?;
    let fresh = staging.path.join("db");
    let output = output_within(
        &mut clone_command(url, &fresh, &staging.path, &home),
        timeout,
    )
    .map_err(|e| fail(e.to_string()))?;
    if !output.status.success() {
        return Err(fail(git_failure(&output)));
    }
    if !fresh.join("crates").is_dir() {
        return Err(fail(
            "the clone has no `crates` folder: not an advisory database (the old one is kept)"
                .to_owned(),
        ));
    }
    let old = staging.path.join("old");
    let had_old = match std::fs::symlink_metadata(&target) {
        Ok(_) => {
            std::fs::rename(&target, &old)
                .map_err(|e| fail(format!("cannot move the old database aside: {e}")))?;
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(fail(e.to_string())),
    };
    if let Err(e) = std::fs::rename(&fresh, &target) {
        if had_old {
            let _ = std::fs::rename(&old, &target);
        }
        return Err(fail(format!("cannot rename the new clone into place: {e}")));
    }
    // `staging` (the old database in it) is removed on drop.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nothing_an_empty_folder_or_a_database_is_replaced() {
        let dir = testkit::Scratch::new("fetch-replaceable");
        assert_eq!(replaceable(&dir.join("missing")), Ok(()));
        let empty = dir.join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert_eq!(replaceable(&empty), Ok(()));
        let db = dir.join("db");
        std::fs::create_dir_all(db.join(".git")).unwrap();
        std::fs::create_dir_all(db.join("crates")).unwrap();
        assert_eq!(replaceable(&db), Ok(()));
        // A home folder, a project, a file: kept, with a message that says what to do.
        let other = dir.join("project");
        std::fs::create_dir_all(other.join(".git")).unwrap();
        std::fs::write(other.join("Cargo.toml"), "").unwrap();
        let e = replaceable(&other).unwrap_err();
        assert!(e.contains("not an advisory database"), "{e}");
        let file = dir.join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(replaceable(&file).unwrap_err().contains("not a folder"));
        // A path that cannot be looked at (under a file) is not "nothing there".
        assert!(replaceable(&file.join("db")).is_err());
        // A `crates` folder without `.git`, or `crates` as a file: kept.
        let crates_only = dir.join("crates-only");
        std::fs::create_dir_all(crates_only.join("crates")).unwrap();
        assert!(replaceable(&crates_only).is_err());
        let crates_file = dir.join("crates-file");
        std::fs::create_dir_all(crates_file.join(".git")).unwrap();
        std::fs::write(crates_file.join("crates"), "").unwrap();
        assert!(replaceable(&crates_file).is_err());
        let e = fetch(&other, "/nonexistent", Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("not an advisory database"), "{e}");
        assert!(other.join("Cargo.toml").exists());
    }

    /// The staging folder is a new one (a name already taken is skipped, never reused) and
    /// goes with everything in it when dropped.
    #[test]
    fn staging_takes_a_free_name_and_is_removed_with_its_content() {
        let dir = testkit::Scratch::new("fetch-staging");
        let taken = dir.join(format!(".db.fetch-{}-0", std::process::id()));
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("theirs"), "x").unwrap();
        let staging = Staging::create(&dir, std::ffi::OsStr::new("db")).unwrap();
        assert_eq!(
            staging.path,
            dir.join(format!(".db.fetch-{}-1", std::process::id()))
        );
        std::fs::create_dir_all(staging.path.join("db/crates")).unwrap();
        let path = staging.path.clone();
        drop(staging);
        assert!(!path.exists());
        assert!(taken.join("theirs").exists());
        // A parent that is not a folder: the error at once.
        let file = dir.join("file");
        std::fs::write(&file, "").unwrap();
        assert!(Staging::create(&file, std::ffi::OsStr::new("db")).is_err());
    }

    /// A failed clone is told by the first line of git's stderr that is not a warning, else
    /// by its exit status.
    #[test]
    fn a_failed_clone_is_told_by_its_first_error_line() {
        use std::os::unix::process::ExitStatusExt as _;
        let output = |stderr: &str| std::process::Output {
            status: std::process::ExitStatus::from_raw(128 << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        assert_eq!(
            git_failure(&output(
                "warning: a\n\n  fatal: no such repository  \nmore\n"
            )),
            "fatal: no such repository"
        );
        assert_eq!(
            git_failure(&output("\nwarning: only warnings\n")),
            "git exited with exit status: 128"
        );
    }

    #[test]
    fn the_clone_runs_with_an_explicit_environment() {
        let cmd = clone_command(
            "https://example.invalid/db.git",
            Path::new("/x/.db.fetch-1-0/db"),
            Path::new("/x/.db.fetch-1-0"),
            Path::new("/x/.db.fetch-1-0/home"),
        );
        let envs: Vec<(String, Option<String>)> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let names: Vec<&str> = envs.iter().map(|(k, _)| k.as_str()).collect();
        for &name in &names {
            assert!(
                PASSED.contains(&name)
                    || [
                        "HOME",
                        "LANG",
                        "LC_ALL",
                        "GIT_CONFIG_NOSYSTEM",
                        "GIT_CONFIG_SYSTEM",
                        "GIT_CONFIG_GLOBAL",
                        "GIT_ATTR_NOSYSTEM",
                        "GIT_TERMINAL_PROMPT",
                        "GIT_CEILING_DIRECTORIES",
                    ]
                    .contains(&name),
                "{name}"
            );
        }
        let get = |k: &str| {
            envs.iter()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.clone())
        };
        assert_eq!(get("HOME").as_deref(), Some("/x/.db.fetch-1-0/home"));
        assert_eq!(get("GIT_CONFIG_GLOBAL").as_deref(), Some(NULL_DEVICE));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"core.hooksPath=/dev/null".to_owned()),
            "{args:?}"
        );
        assert!(args.contains(&"--template=".to_owned()), "{args:?}");
        assert!(
            args.contains(&"protocol.allow=never".to_owned()),
            "{args:?}"
        );
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/x/.db.fetch-1-0")));
    }
}
