//! An advisory database is someone else's git repository: `cargo depinfo audit` reads it, and
//! `--fetch` updates it, without running anything that the repository, or the user's own git
//! configuration, names.
//!
//! Regression (issue 18, defect 1): `audit --db D` ran `git -C D log`, which honours
//! `D/.git/config`: with `log.showSignature` and `gpg.program` set and a HEAD commit carrying
//! a `gpgsig` header, reading the database ran a program of the database's choosing; with
//! `--fetch`, `git fetch` and `git reset --hard` in D ran `core.fsmonitor` and hooks.
//!
//! Every program a git configuration can name here is a script that writes a marker file:
//! the database's own `.git/config` (and a file it `include`s), its `.git/hooks`, a
//! `core.hooksPath` directory with every hook, the user's `~/.gitconfig`, the XDG git config
//! and attributes, `GIT_CONFIG_SYSTEM`, `GIT_CONFIG_COUNT` and git's program variables
//! (`GIT_PAGER`, `GIT_ASKPASS`, `GIT_EXTERNAL_DIFF`, ...). The repository's tree carries a
//! `.gitattributes` that puts every file through the hostile filter, diff and merge drivers,
//! and its HEAD commit is signed (a `gpgsig` header). The upstream that `--fetch` clones is just
//! as hostile, and so is a repository around the database (the folder it sits in). After each run no marker may exist, and the audit must still find the advisory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use testkit::{Scratch, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// Local files only: a minute means something hangs.
const LIMIT: Duration = Duration::from_secs(60);

/// Every hook git documents (githooks(5)), in `.git/hooks` and in `core.hooksPath`.
const HOOKS: &[&str] = &[
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "pre-push",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
    "pre-auto-gc",
    "post-rewrite",
    "sendemail-validate",
    "fsmonitor-watchman",
    "p4-changelist",
    "p4-prepare-changelist",
    "p4-post-changelist",
    "p4-pre-submit",
    "post-index-change",
];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The test's own git, on repositories it made, with no user or system configuration.
fn git(dir: &Path, args: &[&str], input: Option<&str>, time: u64) -> String {
    try_git(dir, args, input, time).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// [`git`], its stderr when it fails.
fn try_git(dir: &Path, args: &[&str], input: Option<&str>, time: u64) -> Result<String, String> {
    let date = format!("@{time} +0000");
    let mut cmd = testkit::git_command(dir, &date);
    cmd.args(args);
    let out = match input {
        Some(input) => testkit::run_with_input(&mut cmd, input.as_bytes(), LIMIT),
        None => testkit::run(&mut cmd, LIMIT),
    };
    if out.status.success() {
        Ok(stdout(&out).trim().to_owned())
    } else {
        Err(stderr(&out))
    }
}

fn advisory(id: &str, package: &str, patched: &str, title: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"2099-01-02\"\n\n[versions]\npatched = [\"{patched}\"]\n```\n\n# {title}\n"
    )
}

/// Where the scripts live and where they leave their markers.
struct Traps {
    scripts: PathBuf,
    markers: PathBuf,
}

impl Traps {
    fn new(dir: &Path) -> Traps {
        let traps = Traps {
            scripts: dir.join("traps"),
            markers: dir.join("markers"),
        };
        std::fs::create_dir_all(&traps.scripts).unwrap();
        std::fs::create_dir_all(&traps.markers).unwrap();
        traps
    }

    /// An executable that leaves the marker `name` when anything runs it.
    fn script(&self, name: &str) -> String {
        let path = self.scripts.join(name);
        write_script(&path, &self.markers.join(name));
        path.display().to_string()
    }

    /// A directory with every hook, each leaving `<prefix>-<hook>`.
    fn hooks(&self, dir: &Path, prefix: &str) {
        std::fs::create_dir_all(dir).unwrap();
        for hook in HOOKS {
            write_script(
                &dir.join(hook),
                &self.markers.join(format!("{prefix}-{hook}")),
            );
        }
    }

    /// A git configuration that names a program, each leaving `<prefix>-<setting>`, in every
    /// place git takes one from; `insteadof` is the URL it redirects to a program.
    fn config(
        &self,
        prefix: &str,
        hooks_path: &Path,
        include: Option<&Path>,
        insteadof: &str,
    ) -> String {
        let s = |name: &str| self.script(&format!("{prefix}-{name}"));
        let mut text = format!(
            "[core]\n\
             \tfsmonitor = {fsmonitor}\n\
             \tpager = {pager}\n\
             \taskPass = {askpass}\n\
             \thooksPath = {hooks}\n\
             \teditor = {editor}\n\
             \tsshCommand = {ssh}\n\
             \tgitProxy = {proxy}\n\
             \talternateRefsCommand = {alternate}\n\
             \tattributesFile = {attributes}\n\
             [gpg]\n\tprogram = {gpg}\n\
             [gpg \"ssh\"]\n\tprogram = {gpg_ssh}\n\
             [gpg \"x509\"]\n\tprogram = {gpg_x509}\n\
             [log]\n\tshowSignature = true\n\
             [pager]\n\tlog = {pager_log}\n\
             [diff]\n\texternal = {diff_external}\n\
             [diff \"hostile\"]\n\ttextconv = {textconv}\n\tcommand = {diff_command}\n\
             [filter \"hostile\"]\n\tsmudge = {smudge}\n\tclean = {clean}\n\tprocess = {process}\n\
             [merge \"hostile\"]\n\tdriver = {merge}\n\
             [credential]\n\thelper = !{credential}\n\
             [protocol \"ext\"]\n\tallow = always\n\
             [url \"ext::{ext} %S \"]\n\tinsteadOf = {insteadof}\n\
             [remote \"origin\"]\n\turl = {insteadof}\n\tuploadpack = {uploadpack}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
             [gc]\n\tauto = 1\n\tautoDetach = false\n\
             [maintenance]\n\tauto = true\n\
             [sequence]\n\teditor = {sequence_editor}\n",
            fsmonitor = s("fsmonitor"),
            pager = s("pager"),
            askpass = s("askpass"),
            hooks = hooks_path.display(),
            editor = s("editor"),
            ssh = s("ssh-command"),
            proxy = s("git-proxy"),
            alternate = s("alternate-refs"),
            attributes = self.attributes(prefix).display(),
            gpg = s("gpg"),
            gpg_ssh = s("gpg-ssh"),
            gpg_x509 = s("gpg-x509"),
            pager_log = s("pager-log"),
            diff_external = s("diff-external"),
            textconv = s("textconv"),
            diff_command = s("diff-command"),
            smudge = s("smudge"),
            clean = s("clean"),
            process = s("filter-process"),
            merge = s("merge-driver"),
            credential = s("credential-helper"),
            ext = s("ext-transport"),
            uploadpack = s("uploadpack"),
            sequence_editor = s("sequence-editor"),
        );
        if let Some(include) = include {
            let _ = writeln!(text, "[include]\n\tpath = {}", include.display());
        }
        text
    }

    /// A gitattributes file that sends every path through the hostile drivers.
    fn attributes(&self, prefix: &str) -> PathBuf {
        let path = self.scripts.join(format!("{prefix}-attributes"));
        std::fs::write(&path, "* filter=hostile diff=hostile merge=hostile\n").unwrap();
        path
    }

    /// The markers left, sorted.
    fn fired(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.markers)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn write_script(path: &Path, marker: &Path) {
    std::fs::write(
        path,
        format!("#!/bin/sh\n: > '{}'\nexit 0\n", marker.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Commits `files` (under `crates/`, with a `.gitattributes` naming the hostile drivers) as a
/// signed commit dated `time` on `main`; the commit id.
fn commit_signed(dir: &Path, files: &[(&str, String)], time: u64) -> String {
    for (path, text) in files {
        let path = dir.join("crates").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::write(
        dir.join(".gitattributes"),
        "* filter=hostile diff=hostile merge=hostile\n",
    )
    .unwrap();
    if !dir.join(".git").exists() {
        git(dir, &["init", "-q", "-b", "main"], None, time);
    }
    git(dir, &["add", "-A"], None, time);
    let tree = git(dir, &["write-tree"], None, time);
    let parent = try_git(dir, &["rev-parse", "-q", "--verify", "HEAD"], None, time);
    // A commit signed as `git commit -S` signs (the signature need not verify: with
    // `log.showSignature`, git hands any `gpgsig` header to `gpg.program`).
    let mut commit = format!("tree {tree}\n");
    if let Ok(parent) = parent {
        let _ = writeln!(commit, "parent {parent}");
    }
    let _ = write!(
        commit,
        "author t <t@example.invalid> {time} +0000\n\
         committer t <t@example.invalid> {time} +0000\n\
         gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaFAmAAAAAACgkQaaaa\n =AAAA\n -----END PGP SIGNATURE-----\n\
         \n\
         advisories\n"
    );
    let id = git(
        dir,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        Some(&commit),
        time,
    );
    git(dir, &["update-ref", "refs/heads/main", &id], None, time);
    id
}

/// Makes the repository at `dir` hostile: its hooks, a `core.hooksPath` directory and a
/// config (that includes another) naming programs that leave markers `<prefix>-...`.
fn make_hostile(dir: &Path, traps: &Traps, prefix: &str, insteadof: &str) {
    let hooks_path = traps.scripts.join(format!("{prefix}-hooks-path"));
    traps.hooks(&hooks_path, &format!("{prefix}-hooks-path"));
    traps.hooks(&dir.join(".git/hooks"), &format!("{prefix}-hook"));
    let included = traps.scripts.join(format!("{prefix}-included.config"));
    std::fs::write(
        &included,
        traps.config(&format!("{prefix}-included"), &hooks_path, None, insteadof),
    )
    .unwrap();
    let config = dir.join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&traps.config(prefix, &hooks_path, Some(&included), insteadof));
    std::fs::write(&config, text).unwrap();
}

/// The fixture: a hostile database with an advisory about hyper 0.14.1, a hostile upstream
/// with one more, a hostile user configuration, and a binary built on hyper 0.14.1.
struct Fixture {
    dir: Scratch,
    traps: Traps,
    db: PathBuf,
    db_commit: String,
    upstream: PathBuf,
    upstream_commit: String,
    upstream_time: u64,
    home: PathBuf,
    bin: PathBuf,
}

fn fixture(label: &str) -> Fixture {
    let dir = Scratch::new(label);
    let traps = Traps::new(&dir);
    let upstream = dir.join("upstream");
    let db = dir.join("cargo-home/advisory-db");
    std::fs::create_dir_all(&upstream).unwrap();
    let url = upstream.display().to_string();
    let first = (
        "hyper/RUSTSEC-2099-0001.md",
        advisory(
            "RUSTSEC-2099-0001",
            "hyper",
            ">= 0.14.10",
            "Request smuggling in hyper",
        ),
    );
    let db_time = now() - 3 * 86_400;
    commit_signed(&upstream, std::slice::from_ref(&first), db_time);
    // The database: a clone of the upstream as it was, with a signed commit of its own on top.
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    git(
        &dir,
        &["clone", "-q", "--template=", &url, db.to_str().unwrap()],
        None,
        db_time,
    );
    let db_commit = commit_signed(&db, &[first], db_time);
    // The upstream gains an advisory.
    let upstream_time = now() - 86_400;
    let upstream_commit = commit_signed(
        &upstream,
        &[(
            "hyper/RUSTSEC-2099-0006.md",
            advisory(
                "RUSTSEC-2099-0006",
                "hyper",
                ">= 0.14.2",
                "Another hyper bug",
            ),
        )],
        upstream_time,
    );
    // The folder the database is in is a repository too (a project someone else wrote, its
    // database kept inside it): git must not find it from the folder we clone in.
    let around = db.parent().unwrap();
    git(around, &["init", "-q", "-b", "main"], None, db_time);
    // Then all become hostile (the test's own git has run for the last time on them).
    make_hostile(&upstream, &traps, "upstream", &url);
    make_hostile(&db, &traps, "db", &url);
    make_hostile(around, &traps, "around", &url);
    // The user's own configuration, just as hostile.
    let home = dir.join("home");
    let xdg = home.join(".config");
    traps.hooks(&traps.scripts.join("global-hooks"), "global-hooks-path");
    let hooks = traps.scripts.join("global-hooks");
    std::fs::create_dir_all(xdg.join("git")).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        traps.config("home", &hooks, None, &url),
    )
    .unwrap();
    std::fs::write(
        xdg.join("git/config"),
        traps.config("xdg", &hooks, None, &url),
    )
    .unwrap();
    std::fs::write(
        xdg.join("git/attributes"),
        "* filter=hostile diff=hostile merge=hostile\n",
    )
    .unwrap();
    std::fs::write(
        traps.scripts.join("system.config"),
        traps.config("system", &hooks, None, &url),
    )
    .unwrap();
    assert!(
        traps.fired().is_empty(),
        "the fixture ran a trap: {:?}",
        traps.fired()
    );
    let bin = dir.join("shop");
    let json = testkit::dep_v0_json(
        ("shop", "1.0.0", "local"),
        &[("hyper", "0.14.1", "crates.io")],
    );
    std::fs::write(
        &bin,
        testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]),
    )
    .unwrap();
    Fixture {
        dir,
        traps,
        db,
        db_commit,
        upstream,
        upstream_commit,
        upstream_time,
        home,
        bin,
    }
}

/// Whose configuration is hostile besides the database's.
#[derive(Clone, Copy, PartialEq)]
enum User {
    /// An empty home, no git variables: only the database (and the upstream) are hostile.
    Clean,
    /// The user's git configuration and git's program variables name programs too.
    Hostile,
}

/// `cargo depinfo audit --db DB ARGS BIN --format json`.
fn audit(f: &Fixture, user: User, args: &[&str]) -> Output {
    let cargo_home = f.dir.join("empty-cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(f.dir.path())
        .env("CARGO_HOME", &cargo_home)
        .arg("audit")
        .arg("--db")
        .arg(&f.db)
        .args(args)
        .arg(&f.bin)
        .args(["--format", "json"]);
    if user == User::Clean {
        let home = f.dir.join("empty-home");
        std::fs::create_dir_all(&home).unwrap();
        cmd.env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        return testkit::run(&mut cmd, LIMIT);
    }
    let s = |name: &str| f.traps.script(&format!("env-{name}"));
    testkit::run(
        cmd.env("HOME", &f.home)
            .env("XDG_CONFIG_HOME", f.home.join(".config"))
            .env("GIT_CONFIG_SYSTEM", f.traps.scripts.join("system.config"))
            .env("GIT_CONFIG_COUNT", "2")
            .env("GIT_CONFIG_KEY_0", "core.fsmonitor")
            .env("GIT_CONFIG_VALUE_0", s("config-count-fsmonitor"))
            .env("GIT_CONFIG_KEY_1", "gpg.program")
            .env("GIT_CONFIG_VALUE_1", s("config-count-gpg"))
            .env("GIT_PAGER", s("git-pager"))
            .env("PAGER", s("pager"))
            .env("GIT_ASKPASS", s("git-askpass"))
            .env("SSH_ASKPASS", s("ssh-askpass"))
            .env("GIT_EXTERNAL_DIFF", s("git-external-diff"))
            .env("GIT_SSH_COMMAND", s("git-ssh-command"))
            .env("GIT_EDITOR", s("git-editor"))
            .env("GIT_PROXY_COMMAND", s("git-proxy-command")),
        LIMIT,
    )
}

/// The advisory ids found and the database commit, from the JSON answer.
fn answer(out: &Output) -> (Vec<String>, serde_json::Value) {
    let doc: serde_json::Value = serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(out), stderr(out)));
    let ids = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    (ids, doc["database"].clone())
}

/// Reads the hostile database as `user`: nothing runs, and the advisory and the signed
/// commit are found.
fn read_as(user: User, label: &str) {
    let f = fixture(label);
    let out = audit(&f, user, &[]);
    assert_eq!(f.traps.fired(), Vec::<String>::new(), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (ids, db) = answer(&out);
    assert_eq!(ids, ["RUSTSEC-2099-0001"]);
    // The signed commit, read from the files.
    assert_eq!(db["commit"], f.db_commit.as_str(), "{db}");
    assert_eq!(stderr(&out), "");
}

#[test]
fn reading_a_hostile_database_runs_nothing_and_still_audits() {
    read_as(User::Clean, "db-runs-nothing-read");
}

#[test]
fn reading_a_hostile_database_ignores_the_users_git_configuration() {
    read_as(User::Hostile, "db-runs-nothing-read-user");
}

/// `--fetch` over the hostile database from the hostile upstream as `user`: nothing runs, and
/// the database is a fresh clone of the upstream.
fn fetch_as(user: User, label: &str) {
    let f = fixture(label);
    let url = f.upstream.display().to_string();
    let out = audit(&f, user, &["--fetch", "--db-url", &url]);
    assert_eq!(f.traps.fired(), Vec::<String>::new(), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (ids, db) = answer(&out);
    assert_eq!(ids, ["RUSTSEC-2099-0001", "RUSTSEC-2099-0006"]);
    assert_eq!(db["commit"], f.upstream_commit.as_str(), "{db}");
    assert_eq!(db["commit_time"], f.upstream_time, "{db}");
    // A fresh clone of ours: no hooks, none of the old configuration, and nothing left beside
    // it.
    let hooks: Vec<_> = std::fs::read_dir(f.db.join(".git/hooks"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(hooks.is_empty(), "{hooks:?}");
    let config = std::fs::read_to_string(f.db.join(".git/config")).unwrap();
    assert!(!config.contains("traps"), "{config}");
    assert_eq!(beside(&f.db), ["advisory-db"]);
    // Reading the new clone runs nothing either.
    let out = audit(&f, user, &[]);
    assert_eq!(f.traps.fired(), Vec::<String>::new(), "{}", stderr(&out));
    assert_eq!(answer(&out).1["commit"], f.upstream_commit.as_str());
}

/// The names in the database's parent directory (but the `.git` of the repository around).
fn beside(db: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != ".git")
        .collect();
    names.sort();
    names
}

#[test]
fn fetching_over_a_hostile_database_runs_nothing_and_replaces_it() {
    fetch_as(User::Clean, "db-runs-nothing-fetch");
}

#[test]
fn fetching_ignores_the_users_git_configuration() {
    fetch_as(User::Hostile, "db-runs-nothing-fetch-user");
}

#[test]
fn a_failed_fetch_keeps_the_old_database_and_leaves_nothing_behind() {
    let f = fixture("db-runs-nothing-failed");
    let config_before = std::fs::read(f.db.join(".git/config")).unwrap();
    let missing = f.dir.join("no-such-upstream");
    let out = audit(
        &f,
        User::Hostile,
        &["--fetch", "--db-url", missing.to_str().unwrap()],
    );
    assert_eq!(f.traps.fired(), Vec::<String>::new(), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.starts_with(&format!(
            "error: cannot fetch the advisory database into {}: ",
            f.db.display()
        )) && e.lines().count() == 1,
        "{e}"
    );
    // The old database is as it was, and no temporary folder is left beside it.
    assert_eq!(
        std::fs::read(f.db.join(".git/config")).unwrap(),
        config_before
    );
    assert_eq!(beside(&f.db), ["advisory-db"]);
    let out = audit(&f, User::Clean, &[]);
    assert_eq!(answer(&out).1["commit"], f.db_commit.as_str());
}

/// `--fetch` into a database folder that does not exist yet, named relative to the working
/// directory: alone (its parent is the working directory) or under folders that do not exist
/// either. The clone lands there, and no staging folder is left beside it.
#[test]
fn fetching_into_a_new_relative_path_creates_it() {
    let f = fixture("db-runs-nothing-new-path");
    let url = f.upstream.display().to_string();
    let (cargo_home, home) = (f.dir.join("empty-cargo-home"), f.dir.join("empty-home"));
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    for db in ["fresh-db", "new/nested/fresh-db"] {
        let out = testkit::run(
            Command::new(BIN)
                .current_dir(f.dir.path())
                .env("CARGO_HOME", &cargo_home)
                .env("HOME", &home)
                .env_remove("XDG_CONFIG_HOME")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .args(["audit", "--db", db, "--fetch", "--db-url", &url])
                .arg(&f.bin)
                .args(["--format", "json"]),
            LIMIT,
        );
        assert_eq!(f.traps.fired(), Vec::<String>::new(), "{}", stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{db}: {}", stderr(&out));
        let (ids, meta) = answer(&out);
        assert_eq!(ids, ["RUSTSEC-2099-0001", "RUSTSEC-2099-0006"]);
        assert_eq!(meta["commit"], f.upstream_commit.as_str(), "{meta}");
        let path = f.dir.join(db);
        assert!(path.join("crates").is_dir(), "{db}");
        let left: Vec<String> = beside(&path)
            .into_iter()
            .filter(|n| n.contains(".fetch-"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
