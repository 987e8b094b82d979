//! Which revision was built: the package's git repository first, then CI variables, then
//! the `.cargo_vcs_info.json` of a packaged crate; and which of them said so
//! (`revision_source`).

mod git_state;

use std::path::{Path, PathBuf};

use self::git_state::{GitLookup, VcsFacts};
use super::script::Script;
use crate::model::BuildFacts;
use crate::model::UNKNOWN;
use crate::model::rfc3339_utc;

/// `revision_source` of a revision read from a git repository: the package's own, or
/// cargo's checkout of a git dependency.
const FROM_GIT: &str = "git";
/// `revision_source` of a revision read from a packaged crate's `.cargo_vcs_info.json`.
const FROM_CARGO_VCS_INFO: &str = "cargo_vcs_info";

/// Fills revision (and where it came from), branch, tag, describe, commit time and dirty
/// state.
pub(super) fn capture(script: &mut Script, manifest_dir: &Path, facts: &mut BuildFacts) {
    let vcs_info = manifest_dir.join(".cargo_vcs_info.json");
    let git = script.var("BUILD_INFO_GIT").unwrap_or_else(|| "git".into());
    let mut found: Option<VcsFacts> = None;
    // Where `found.revision` came from, once there is one.
    let mut source = FROM_GIT;
    if let Some(checkout) = cargo_git_checkout(script, manifest_dir) {
        found = from_cargo_checkout(script, Path::new(&git), manifest_dir, &checkout);
        return apply(found, source, facts);
    }
    // A packaged crate (crates.io tarball, `cargo vendor`, registry source) is not part of
    // whatever repository happens to contain it.
    let packaged = vcs_info.is_file()
        || manifest_dir.join(".cargo-checksum.json").is_file()
        || manifest_dir.join("Cargo.toml.orig").is_file()
        || script.under_cargo_home(manifest_dir);
    if packaged {
        script.note("vcs: packaged crate, repository not consulted");
    } else {
        let mut tracked = true;
        match git_state::read(Path::new(&git), manifest_dir) {
            GitLookup::Found(state) => {
                for path in state.watch {
                    script.watch(path);
                }
                found = Some(state.facts);
            }
            GitLookup::NoRepository => script.note("vcs: not in a git repository"),
            GitLookup::NotTracked { top, watch } => {
                for path in watch {
                    script.watch(path);
                }
                // CI variables name the enclosing repository's commit too: no fallback.
                tracked = false;
                script.problem(format!(
                    "vcs: {} is not tracked by the git repository at {} (ignored or never \
                     added), whose revision is not this package's",
                    manifest_dir.join("Cargo.toml").display(),
                    top.display()
                ));
            }
            GitLookup::Failed(e) => script.problem(format!("git: {e}")),
        }
        if tracked && found.as_ref().is_none_or(|f| f.revision.is_none()) {
            let mut var = |name: &str| script.var(name);
            if let Some((variable, ci)) = git_state::from_ci(&mut var) {
                // Keep the branch git knew (a repository with no commits yet has one).
                let branch = found.and_then(|f| f.branch);
                found = Some(VcsFacts {
                    branch: ci.branch.or(branch),
                    ..ci
                });
                source = variable;
            }
        }
    }
    if found.as_ref().is_none_or(|f| f.revision.is_none()) && vcs_info.is_file() {
        script.watch(vcs_info.clone());
        if let Some(v) = read_bounded(&vcs_info).and_then(|t| git_state::from_cargo_vcs_info(&t)) {
            found = Some(v);
            source = FROM_CARGO_VCS_INFO;
        }
    }
    apply(found, source, facts);
}

/// `cargo package` writes a few hundred bytes; more than this is not its file.
const VCS_INFO_LIMIT: u64 = 64 * 1024;

/// The text of a `.cargo_vcs_info.json`, or `None` when unreadable or over the limit.
fn read_bounded(path: &Path) -> Option<String> {
    super::bounded::read_regular_file(path, VCS_INFO_LIMIT)
}

/// Copies what is known into `facts`, leaving the rest `unknown`; `source` names where a
/// known revision came from.
fn apply(found: Option<VcsFacts>, source: &str, facts: &mut BuildFacts) {
    let Some(f) = found else { return };
    if let Some(r) = f.revision {
        facts.revision = r;
        source.clone_into(&mut facts.revision_source);
    }
    if let Some(b) = f.branch {
        facts.branch = b;
    }
    facts.tag = f.tag.unwrap_or_default();
    if let Some(t) = f.commit_time {
        facts.commit_time = rfc3339_utc(t);
    }
    facts.modified = f.modified;
    if let Some(d) = f.describe {
        facts.describe = d;
    }
}

/// Whether `manifest_dir` lies in one of cargo's git checkouts (`cargo install --git`, a git
/// dependency): its package, and every path package of the same checkout, came from git.
pub(super) fn in_cargo_checkout(script: &mut Script, manifest_dir: &Path) -> bool {
    cargo_git_checkout(script, manifest_dir).is_some()
}

/// The checkout directory (`CARGO_HOME/git/checkouts/NAME-HASH/REV`) holding `manifest_dir`,
/// when cargo builds a git dependency or `cargo install --git` from there.
fn cargo_git_checkout(script: &mut Script, manifest_dir: &Path) -> Option<PathBuf> {
    let checkouts = script.cargo_home()?.join("git").join("checkouts");
    // Either path may go through a symbolic link (a relocated CARGO_HOME): compare both as
    // given and resolved.
    let resolved = (
        checkouts.canonicalize().ok(),
        manifest_dir.canonicalize().ok(),
    );
    let pairs = [
        Some((checkouts.as_path(), manifest_dir)),
        resolved.0.as_deref().zip(resolved.1.as_deref()),
    ];
    pairs
        .into_iter()
        .flatten()
        .find_map(|(checkouts, dir)| checkout_root(checkouts, dir))
}

/// `checkouts/NAME-HASH/REV` when `dir` is that directory or below it.
fn checkout_root(checkouts: &Path, dir: &Path) -> Option<PathBuf> {
    let mut below = dir.strip_prefix(checkouts).ok()?.components();
    let (Some(repo), Some(rev)) = (below.next(), below.next()) else {
        return None;
    };
    Some(checkouts.join(repo).join(rev))
}

/// The facts of a cargo git checkout, read from its own `.git`: cargo checks out the exact
/// commit it resolved. Its branch is cargo's bookkeeping, not the ref that was asked for, so
/// it stays unknown. A repository found anywhere else (a CARGO_HOME kept in git, say) is
/// not the package's and is ignored.
fn from_cargo_checkout(
    script: &mut Script,
    git: &Path,
    manifest_dir: &Path,
    checkout: &Path,
) -> Option<VcsFacts> {
    let same_dir = |a: &Path, b: &Path| {
        a == b
            || a.canonicalize()
                .ok()
                .is_some_and(|a| b.canonicalize().ok() == Some(a))
    };
    match git_state::read(git, manifest_dir) {
        GitLookup::Found(state) if same_dir(&state.top, checkout) => {
            script.note("vcs: cargo git checkout");
            // Cargo never changes a checkout once made, but a user may: watch it as any
            // repository.
            for path in state.watch {
                script.watch(path);
            }
            Some(VcsFacts {
                branch: None,
                ..state.facts
            })
        }
        GitLookup::Failed(e) => {
            script.problem(format!("git: {e}"));
            None
        }
        _ => {
            script.note("vcs: cargo git checkout without its own repository");
            None
        }
    }
}

/// Completes `describe` once the other facts (overrides included) are final: without git's
/// answer it is the tag at the commit, else the short revision; `-modified` marks a dirty
/// tree, as `git describe --dirty=-modified` would.
pub(super) fn finish_describe(facts: &mut BuildFacts, from_git: bool) {
    if !from_git || facts.describe == UNKNOWN {
        facts.describe = if !facts.tag.is_empty() {
            facts.tag.clone()
        } else if facts.revision == UNKNOWN {
            return;
        } else {
            facts
                .revision
                .get(..12)
                .unwrap_or(&facts.revision)
                .to_owned()
        };
    }
    if facts.modified == Some(true) {
        facts.describe.push_str("-modified");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(
        describe: &str,
        tag: &str,
        revision: &str,
        modified: Option<bool>,
        git: bool,
    ) -> String {
        let mut f = BuildFacts {
            describe: describe.into(),
            tag: tag.into(),
            revision: revision.into(),
            modified,
            ..BuildFacts::default()
        };
        finish_describe(&mut f, git);
        f.describe
    }

    #[test]
    fn a_checkout_is_two_levels_below_the_checkouts_directory() {
        let checkouts = Path::new("/h/git/checkouts");
        let root = Some(PathBuf::from("/h/git/checkouts/tool-0123/abc1234"));
        assert_eq!(
            checkout_root(checkouts, Path::new("/h/git/checkouts/tool-0123/abc1234")),
            root
        );
        // A workspace member inside the checkout.
        assert_eq!(
            checkout_root(
                checkouts,
                Path::new("/h/git/checkouts/tool-0123/abc1234/crates/cli")
            ),
            root
        );
        assert_eq!(
            checkout_root(checkouts, Path::new("/h/git/checkouts/tool-0123")),
            None
        );
        assert_eq!(
            checkout_root(checkouts, Path::new("/h/git/db/tool-0123/x")),
            None
        );
        assert_eq!(checkout_root(checkouts, Path::new("/elsewhere/tool")), None);
    }

    #[test]
    fn an_oversized_cargo_vcs_info_is_not_read() {
        let dir = testkit::Scratch::new("buildinfo-vcs-info");
        let path = dir.join(".cargo_vcs_info.json");
        let real = "{\"git\":{\"sha1\":\"0123456789abcdef0123456789abcdef01234567\"}}";
        std::fs::write(&path, real).unwrap();
        assert_eq!(read_bounded(&path).as_deref(), Some(real));
        let padded = format!(
            "{real}{}",
            " ".repeat(usize::try_from(VCS_INFO_LIMIT).unwrap())
        );
        std::fs::write(&path, padded).unwrap();
        assert_eq!(read_bounded(&path), None);
        assert_eq!(read_bounded(&dir.join("missing")), None);
    }

    #[test]
    fn describe_falls_back_to_the_tag_then_the_short_revision() {
        let rev = "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a";
        assert_eq!(
            describe("v1-2-gabc", "", rev, Some(false), true),
            "v1-2-gabc"
        );
        assert_eq!(
            describe("v1-2-gabc", "", rev, Some(true), true),
            "v1-2-gabc-modified"
        );
        assert_eq!(describe("unknown", "v2", rev, None, true), "v2");
        assert_eq!(
            describe("stale", "", rev, Some(true), false),
            "3f2c1a9e0b7d-modified"
        );
        assert_eq!(describe("unknown", "", "abc", None, false), "abc");
        assert_eq!(describe("unknown", "", UNKNOWN, Some(true), false), UNKNOWN);
    }
}
