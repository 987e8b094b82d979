//! Revision, branch, tag, commit time and dirty state of the package's own repository,
//! read with the `git` CLI, plus the files whose change must re-run the build script.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::capture::process::{self, RunError};

/// Facts about the source revision; `None` is unknown.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct VcsFacts {
    pub revision: Option<String>,
    pub branch: Option<String>,
    pub tag: Option<String>,
    /// `git describe --tags --always` output (without the dirty suffix).
    pub describe: Option<String>,
    /// Seconds since the Unix epoch.
    pub commit_time: Option<i64>,
    pub modified: Option<bool>,
}

/// What reading the repository gave.
pub(crate) struct GitState {
    /// The repository's top-level directory, as git resolves it.
    pub top: PathBuf,
    pub facts: VcsFacts,
    /// Files and directories to declare with `rerun-if-changed`.
    pub watch: Vec<PathBuf>,
}

/// The outcome of looking for the package's repository.
pub(crate) enum GitLookup {
    Found(GitState),
    /// The package is not in a repository (a quiet, ordinary case).
    NoRepository,
    /// The repository at `top` does not track the package's `Cargo.toml` (it is ignored or
    /// was never added): its revision is some other project's. `watch` holds what changes
    /// when the package gets added.
    NotTracked {
        top: PathBuf,
        watch: Vec<PathBuf>,
    },
    /// git failed; the message says how.
    Failed(String),
}

const LIMIT: Duration = Duration::from_secs(20);
/// Above this many tracked files only those under the package directory are watched.
const WATCH_ALL_TRACKED_UP_TO: usize = 20_000;

fn git(program: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg("-C").arg(dir);
    // Read the package's repository, not one a surrounding hook points at, never take
    // optional locks (git status would otherwise refresh the index), never prompt.
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
    cmd
}

fn run_git(program: &Path, dir: &Path, args: &[&str]) -> Result<process::Output, String> {
    process::run(git(program, dir).args(args), LIMIT).map_err(|e| match e {
        RunError::Spawn(_) => format!("git ({}) {e}", program.display()),
        RunError::TimedOut(_) => format!("git {} {e}", args.join(" ")),
    })
}

/// Reads the repository containing `package_dir` with the git at `program`.
pub(crate) fn read(program: &Path, package_dir: &Path) -> GitLookup {
    let located = match run_git(
        program,
        package_dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-dir",
            "--git-common-dir",
        ],
    ) {
        Ok(out) => out,
        Err(e) => return GitLookup::Failed(e),
    };
    if !located.success {
        if located.stderr.contains("not a git repository") {
            return GitLookup::NoRepository;
        }
        return GitLookup::Failed(first_line(&located.stderr));
    }
    let mut lines = located.stdout.lines();
    let (Some(top), Some(git_dir), Some(common_dir)) = (lines.next(), lines.next(), lines.next())
    else {
        return GitLookup::Failed(format!(
            "unexpected git rev-parse output {:?}",
            located.stdout
        ));
    };
    let (top, git_dir, common_dir) = (
        PathBuf::from(top),
        PathBuf::from(git_dir),
        PathBuf::from(common_dir),
    );

    // The remaining queries are independent: run them side by side.
    let queries: [&[&str]; 5] = [
        &[
            "log",
            "-1",
            "--format=%H %ct %(describe:tags=true,abbrev=12)",
            "--no-show-signature",
            "HEAD",
        ],
        &["symbolic-ref", "-q", "--short", "HEAD"],
        &["tag", "--points-at", "HEAD", "--sort=-version:refname"],
        &[
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--ignore-submodules=dirty",
        ],
        &["ls-files", "-z", "--full-name", "--", ":/"],
    ];
    let results: Vec<Result<process::Output, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = queries
            .iter()
            .map(|args| s.spawn(|| run_git(program, &top, args)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("git query thread panicked".into()))
            })
            .collect()
    });
    let mut results = results.into_iter();
    let mut next = || {
        results
            .next()
            .unwrap_or_else(|| Err("missing result".into()))
    };
    let (log, branch, tags, status, files) = (next(), next(), next(), next(), next());

    let mut facts = VcsFacts::default();
    let log = match log {
        Ok(out) => out,
        Err(e) => return GitLookup::Failed(e),
    };
    // Fails only in a repository with no commits yet: then only the branch is known.
    let has_commits = log.success;
    if has_commits {
        let mut parts = log.stdout.split_whitespace();
        facts.revision = parts.next().map(str::to_owned);
        facts.commit_time = parts.next().and_then(|t| t.parse().ok());
        // Empty when no tag is reachable; printed as is by a git older than 2.35, which does
        // not know the placeholder.
        facts.describe = parts
            .next()
            .filter(|d| !d.starts_with("%("))
            .map(str::to_owned);
    }
    facts.branch = match branch {
        Ok(out) if out.success => non_empty(out.stdout.trim()),
        // symbolic-ref fails on a detached HEAD; git's own word for it is HEAD.
        Ok(_) if has_commits => Some("HEAD".to_owned()),
        Ok(_) => None,
        Err(e) => return GitLookup::Failed(e),
    };
    if has_commits {
        facts.tag = tags
            .ok()
            .filter(|o| o.success)
            .and_then(|o| o.stdout.lines().next().and_then(non_empty));
        facts.modified = match status {
            Ok(out) if out.success => Some(!out.stdout.trim().is_empty()),
            _ => None,
        };
    }

    let mut watch = vec![git_dir.join("HEAD")];
    for dir in ["refs/heads", "refs/tags"] {
        let p = common_dir.join(dir);
        if p.is_dir() {
            watch.push(p);
        }
    }
    let packed = common_dir.join("packed-refs");
    if packed.is_file() {
        watch.push(packed);
    }
    if let Ok(out) = files
        && out.success
    {
        let tracked: Vec<&str> = out.stdout.split('\0').filter(|f| !f.is_empty()).collect();
        // Without commits there is no revision to misattribute, and the branch is where the
        // package's first commit will go.
        if has_commits && manifest_is_tracked(&tracked, &top, package_dir) == Some(false) {
            // `git add` changes the index, `git commit` the refs: either re-runs the script.
            watch.push(git_dir.join("index"));
            return GitLookup::NotTracked { top, watch };
        }
        watch.extend(tracked_to_watch(
            &tracked,
            &top,
            package_dir,
            WATCH_ALL_TRACKED_UP_TO,
        ));
    }
    GitLookup::Found(GitState { top, facts, watch })
}

/// Whether `package_dir/Cargo.toml` is among the `tracked` paths (relative to `top`, as
/// `git ls-files --full-name` lists them); `None` when the package cannot be placed inside
/// `top`. Untracked covers both an ignored directory and a package never added.
fn manifest_is_tracked(tracked: &[&str], top: &Path, package_dir: &Path) -> Option<bool> {
    // git resolves symbolic links in the top-level path; the package path may still hold some.
    let resolved = package_dir.canonicalize().ok();
    let relative = package_dir
        .strip_prefix(top)
        .ok()
        .or_else(|| resolved.as_deref()?.strip_prefix(top).ok())?;
    let mut manifest = String::new();
    for part in relative.components() {
        manifest.push_str(part.as_os_str().to_str()?);
        manifest.push('/');
    }
    manifest.push_str("Cargo.toml");
    Some(tracked.contains(&manifest.as_str()))
}

/// The tracked files to watch: all of them up to `limit`, beyond it only those under the
/// package directory. A deleted tracked file is a modification; cargo treats a missing path
/// as changed, which re-runs us until it is restored or committed.
fn tracked_to_watch(
    tracked: &[&str],
    top: &Path,
    package_dir: &Path,
    limit: usize,
) -> Vec<PathBuf> {
    let relative_package = package_dir.strip_prefix(top).ok();
    let keep_all = tracked.len() <= limit;
    tracked
        .iter()
        .filter(|file| keep_all || relative_package.is_some_and(|p| Path::new(file).starts_with(p)))
        .map(|file| top.join(file))
        .collect()
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed without a message")
        .trim()
        .to_owned()
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        None
    } else {
        Some(s.to_owned())
    }
}

/// Reads `.cargo_vcs_info.json` (written by `cargo package` into every published crate):
/// `{"git":{"sha1":"…","dirty":true},"path_in_vcs":""}`.
pub(crate) fn from_cargo_vcs_info(text: &str) -> Option<VcsFacts> {
    let sha = json_string_field(text, "sha1")?;
    if sha.len() < 7 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let dirty = text.split_once("\"dirty\"").map(|(_, rest)| {
        rest.trim_start()
            .trim_start_matches(':')
            .trim_start()
            .starts_with("true")
    });
    Some(VcsFacts {
        revision: Some(sha),
        modified: Some(dirty.unwrap_or(false)),
        ..VcsFacts::default()
    })
}

/// The string value of `"key": "value"` in a small, trusted JSON text.
fn json_string_field(text: &str, key: &str) -> Option<String> {
    let (_, rest) = text.split_once(&format!("\"{key}\""))?;
    let rest = rest
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

/// Revision and branch from well-known CI variables, first match wins, with the name of the
/// variable that held the revision (what `revision_source` records).
pub(crate) fn from_ci(
    var: &mut impl FnMut(&str) -> Option<String>,
) -> Option<(&'static str, VcsFacts)> {
    // (revision variable, branch variables, tag variable)
    const SYSTEMS: &[(&str, &[&str], &str)] = &[
        ("GITHUB_SHA", &["GITHUB_HEAD_REF", "GITHUB_REF_NAME"], ""),
        (
            "CI_COMMIT_SHA",
            &["CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME"],
            "CI_COMMIT_TAG",
        ),
        ("BUILDKITE_COMMIT", &["BUILDKITE_BRANCH"], "BUILDKITE_TAG"),
        ("CIRCLE_SHA1", &["CIRCLE_BRANCH"], "CIRCLE_TAG"),
        ("TRAVIS_COMMIT", &["TRAVIS_BRANCH"], "TRAVIS_TAG"),
        ("DRONE_COMMIT_SHA", &["DRONE_BRANCH"], "DRONE_TAG"),
        ("BITBUCKET_COMMIT", &["BITBUCKET_BRANCH"], "BITBUCKET_TAG"),
        ("BUILD_SOURCEVERSION", &["BUILD_SOURCEBRANCHNAME"], ""),
        ("GIT_COMMIT", &["GIT_BRANCH"], ""),
    ];
    for (rev, branches, tag) in SYSTEMS {
        let Some(revision) = var(rev).and_then(|v| non_empty(&v)) else {
            continue;
        };
        let branch = branches
            .iter()
            .find_map(|b| var(b).and_then(|v| non_empty(&v)));
        let tag = if tag.is_empty() {
            None
        } else {
            var(tag).and_then(|v| non_empty(&v))
        };
        return Some((
            rev,
            VcsFacts {
                revision: Some(revision),
                branch,
                tag,
                ..VcsFacts::default()
            },
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use testkit::Scratch;

    fn sh_git(dir: &Path, args: &[&str]) -> String {
        let out = git(Path::new("git"), dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn found(dir: &Path) -> GitState {
        match read(Path::new("git"), dir) {
            GitLookup::Found(state) => state,
            GitLookup::NoRepository => panic!("no repository"),
            GitLookup::NotTracked { top, .. } => panic!("not tracked by {}", top.display()),
            GitLookup::Failed(e) => panic!("{e}"),
        }
    }

    #[test]
    fn reads_a_real_repository_through_its_states() {
        let scratch = Scratch::new("buildinfo-git-state-states");
        let repo = scratch.0.join("repo");
        let pkg = repo.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        sh_git(&repo, &["init", "-q", "-b", "trunk"]);

        // No commits yet: only the branch.
        let empty = found(&pkg);
        assert_eq!(
            empty.facts,
            VcsFacts {
                branch: Some("trunk".into()),
                ..VcsFacts::default()
            }
        );

        std::fs::write(pkg.join("a.txt"), "1").unwrap();
        std::fs::write(pkg.join("Cargo.toml"), "[package]\n").unwrap();
        sh_git(&repo, &["add", "."]);
        sh_git(&repo, &["commit", "-q", "-m", "one"]);
        sh_git(&repo, &["tag", "v1.0.0"]);
        let head = sh_git(&repo, &["rev-parse", "HEAD"]);
        let state = found(&pkg);
        assert_eq!(
            state.facts,
            VcsFacts {
                revision: Some(head.clone()),
                branch: Some("trunk".into()),
                tag: Some("v1.0.0".into()),
                describe: Some("v1.0.0".into()),
                commit_time: Some(1_767_323_045),
                modified: Some(false),
            }
        );
        assert!(state.watch.contains(&pkg.join("a.txt")));
        assert!(state.watch.iter().any(|p| p.ends_with("HEAD")));
        assert!(state.watch.iter().any(|p| p.ends_with("refs/tags")));

        // A second commit, a dirty file, and a detached HEAD.
        std::fs::write(pkg.join("a.txt"), "2").unwrap();
        sh_git(&repo, &["commit", "-q", "-am", "two"]);
        std::fs::write(pkg.join("a.txt"), "3").unwrap();
        sh_git(&repo, &["checkout", "-q", "--detach"]);
        let state = found(&pkg);
        let short = &sh_git(&repo, &["rev-parse", "HEAD"])[..12];
        assert_eq!(state.facts.branch.as_deref(), Some("HEAD"));
        assert_eq!(state.facts.tag, None);
        assert_eq!(state.facts.describe, Some(format!("v1.0.0-1-g{short}")));
        assert_eq!(state.facts.modified, Some(true));
        sh_git(&repo, &["pack-refs", "--all"]);
        assert!(found(&pkg).watch.iter().any(|p| p.ends_with("packed-refs")));
    }

    #[test]
    fn outside_a_repository_or_without_git_says_so() {
        let scratch = Scratch::new("buildinfo-git-state-none");
        assert!(matches!(
            read(Path::new("git"), &scratch.0),
            GitLookup::NoRepository
        ));
        match read(Path::new("/nonexistent/git"), &scratch.0) {
            GitLookup::Failed(e) => assert_eq!(e, "git (/nonexistent/git) not found"),
            _ => panic!("a missing git is a failure"),
        }
        match read(Path::new("false"), &scratch.0) {
            GitLookup::Failed(e) => assert_eq!(e, "git failed without a message"),
            _ => panic!("a failing git is a failure"),
        }
    }

    /// A stand-in git that finds a repository at `top`, answers `log` with `log` (failing
    /// when `None`) and fails every other query.
    fn fake_git(dir: &Path, top: &Path, log: Option<&str>) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let log = log.map_or_else(|| "exit 128".to_owned(), |l| format!("echo '{l}'"));
        let script = format!(
            "#!/bin/sh\nshift 2\ncase \"$1\" in\n  rev-parse) printf '%s\\n' '{t}' '{t}/.git' '{t}/.git' ;;\n  log) {log} ;;\n  *) exit 1 ;;\nesac\n",
            t = top.display()
        );
        let path = dir.join(format!("git-{}", log.len()));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn failed_queries_leave_their_facts_unknown() {
        let scratch = Scratch::new("buildinfo-git-state-fake");
        // No commits and no branch: nothing is known, not even `HEAD`.
        let git = fake_git(&scratch.0, &scratch.0, None);
        let GitLookup::Found(state) = read(&git, &scratch.0) else {
            panic!("the fake finds a repository")
        };
        assert_eq!(state.facts, VcsFacts::default());
        // A commit but every other query failing: detached, dirty state unknown; a git too
        // old for `%(describe)` prints the placeholder, which is not a description.
        let git = fake_git(
            &scratch.0,
            &scratch.0,
            Some("abc123 100 %(describe:tags=true,abbrev=12)"),
        );
        let GitLookup::Found(state) = read(&git, &scratch.0) else {
            panic!("the fake finds a repository")
        };
        assert_eq!(
            state.facts,
            VcsFacts {
                revision: Some("abc123".into()),
                branch: Some("HEAD".into()),
                commit_time: Some(100),
                ..VcsFacts::default()
            }
        );
    }

    #[test]
    fn the_watch_list_narrows_to_the_package_above_the_limit() {
        let top = Path::new("/r");
        let files = ["pkg/a.rs", "other/b.rs", "pkg2/c.rs"];
        let all = tracked_to_watch(&files, top, Path::new("/r/pkg"), 3);
        assert_eq!(all.len(), 3);
        let narrowed = tracked_to_watch(&files, top, Path::new("/r/pkg"), 2);
        assert_eq!(narrowed, [PathBuf::from("/r/pkg/a.rs")]);
        assert!(tracked_to_watch(&files, top, Path::new("/elsewhere"), 2).is_empty());
    }

    #[test]
    fn the_manifest_must_be_listed_among_the_tracked_files() {
        let top = Path::new("/r");
        let files = ["Cargo.toml", "crates/a/Cargo.toml", "crates/a/src/lib.rs"];
        let tracked = |dir: &str| manifest_is_tracked(&files, top, Path::new(dir));
        assert_eq!(tracked("/r"), Some(true));
        assert_eq!(tracked("/r/crates/a"), Some(true));
        assert_eq!(tracked("/r/crates/b"), Some(false));
        // A prefix of a tracked path is not the manifest.
        assert_eq!(tracked("/r/crates"), Some(false));
        assert_eq!(tracked("/elsewhere/pkg"), None);
    }

    #[test]
    fn a_package_its_repository_ignores_or_never_added_is_not_tracked() {
        let scratch = Scratch::new("buildinfo-git-state-untracked");
        let repo = scratch.0.join("repo");
        std::fs::create_dir_all(repo.join("scratchpad/pkg")).unwrap();
        std::fs::create_dir_all(repo.join("new")).unwrap();
        std::fs::write(repo.join(".gitignore"), "/scratchpad/\n").unwrap();
        std::fs::write(repo.join("Cargo.toml"), "[workspace]\n").unwrap();
        sh_git(&repo, &["init", "-q", "-b", "main"]);
        sh_git(&repo, &["add", "."]);
        sh_git(&repo, &["commit", "-q", "-m", "one"]);
        std::fs::write(repo.join("scratchpad/pkg/Cargo.toml"), "[package]\n").unwrap();
        std::fs::write(repo.join("new/Cargo.toml"), "[package]\n").unwrap();
        for pkg in [repo.join("scratchpad/pkg"), repo.join("new")] {
            match read(Path::new("git"), &pkg) {
                GitLookup::NotTracked { top, watch } => {
                    assert_eq!(top, repo.canonicalize().unwrap());
                    assert!(watch.iter().any(|p| p.ends_with("index")), "{watch:?}");
                }
                _ => panic!("{} reported as tracked", pkg.display()),
            }
        }
        // Once added, the package is the repository's.
        sh_git(&repo, &["add", "new"]);
        assert!(found(&repo.join("new")).facts.revision.is_some());
        assert!(found(&repo).facts.revision.is_some());
    }

    #[test]
    fn first_line_skips_blank_lines() {
        assert_eq!(first_line("\n  \n fatal: x \nmore"), "fatal: x");
        assert_eq!(first_line(" \n"), "git failed without a message");
        assert_eq!(non_empty("  "), None);
        assert_eq!(non_empty(" a "), Some("a".into()));
    }

    #[test]
    fn cargo_vcs_info_needs_a_plausible_hash() {
        assert!(from_cargo_vcs_info("{\"git\":{\"sha1\":\"abcdef\"}}").is_none());
        assert!(from_cargo_vcs_info("{\"git\":{\"sha1\":\"abcdefg1\"}}").is_none());
        let seven = from_cargo_vcs_info("{\"git\":{\"sha1\": \"abcdef1\"}}").unwrap();
        assert_eq!(seven.revision.as_deref(), Some("abcdef1"));
        assert_eq!(seven.modified, Some(false));
        let clean =
            from_cargo_vcs_info("{\"git\":{\"sha1\":\"abcdef12\",\"dirty\": false}}").unwrap();
        assert_eq!(clean.modified, Some(false));
    }

    #[test]
    fn reads_cargo_vcs_info() {
        let text = "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\",\n    \"dirty\": true\n  },\n  \"path_in_vcs\": \"crates/x\"\n}";
        let f = from_cargo_vcs_info(text).unwrap();
        assert_eq!(
            f.revision.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert_eq!(f.modified, Some(true));
        assert_eq!(f.branch, None);
        assert!(from_cargo_vcs_info("{\"path_in_vcs\":\"\"}").is_none());
    }

    /// A `.cargo_vcs_info.json` as `cargo package` writes it.
    const REAL_VCS_INFO: &str = "{\n  \"git\": {\n    \"sha1\": \"0123456789abcdef0123456789abcdef01234567\",\n    \"dirty\": true\n  },\n  \"path_in_vcs\": \"crates/x\"\n}";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Whatever the text, reading never panics, and a revision is only ever a plausible
        /// hash taken from the text.
        #[test]
        fn cargo_vcs_info_classifies_any_text(
            text in proptest::prelude::any::<String>(),
        ) {
            if let Some(f) = from_cargo_vcs_info(&text) {
                let rev = f.revision.unwrap();
                proptest::prop_assert!(rev.len() >= 7 && rev.bytes().all(|b| b.is_ascii_hexdigit()));
                proptest::prop_assert!(text.contains(&rev));
                proptest::prop_assert!(f.modified.is_some());
            }
        }

        /// The real file mutated (a byte replaced, cut short): no panic, and any revision is a
        /// plausible hash present in the mutated text.
        #[test]
        fn mutated_cargo_vcs_info_never_panics(
            at in 0..REAL_VCS_INFO.len(),
            cut in 0..=REAL_VCS_INFO.len(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut bytes = REAL_VCS_INFO.as_bytes().to_vec();
            bytes[at] = byte;
            bytes.truncate(cut);
            let text = String::from_utf8_lossy(&bytes);
            if let Some(f) = from_cargo_vcs_info(&text) {
                let rev = f.revision.unwrap();
                proptest::prop_assert!(rev.len() >= 7 && text.contains(&rev));
            }
        }

        /// Every well-formed file is read exactly.
        #[test]
        fn well_formed_cargo_vcs_info_is_read_exactly(
            sha in "[0-9a-f]{7,40}",
            dirty in proptest::option::of(proptest::prelude::any::<bool>()),
            path in "[a-z/]{0,20}",
        ) {
            let dirty_field = dirty.map_or(String::new(), |d| format!(",\n    \"dirty\": {d}"));
            let text = format!(
                "{{\n  \"git\": {{\n    \"sha1\": \"{sha}\"{dirty_field}\n  }},\n  \"path_in_vcs\": \"{path}\"\n}}"
            );
            let f = from_cargo_vcs_info(&text).unwrap();
            proptest::prop_assert_eq!(f.revision.as_deref(), Some(sha.as_str()));
            proptest::prop_assert_eq!(f.modified, Some(dirty.unwrap_or(false)));
        }
    }

    #[test]
    fn reads_the_first_ci_system_that_names_a_revision() {
        let vars = [
            ("CI_COMMIT_SHA", "abc1234"),
            ("CI_COMMIT_REF_NAME", "release"),
            ("CI_COMMIT_TAG", "v2"),
        ];
        let mut var = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        let (variable, f) = from_ci(&mut var).unwrap();
        assert_eq!(variable, "CI_COMMIT_SHA");
        assert_eq!(
            (f.revision.as_deref(), f.branch.as_deref(), f.tag.as_deref()),
            (Some("abc1234"), Some("release"), Some("v2"))
        );
        assert!(from_ci(&mut |_: &str| None).is_none());
        // An empty variable names nothing: the next system's is used.
        let mut var = |k: &str| match k {
            "GITHUB_SHA" => Some(String::new()),
            "BUILDKITE_COMMIT" => Some("def5678".to_owned()),
            _ => None,
        };
        let (variable, f) = from_ci(&mut var).unwrap();
        assert_eq!(
            (variable, f.revision.as_deref()),
            ("BUILDKITE_COMMIT", Some("def5678"))
        );
    }
}
