//! The fixture advisory database of the `cargo depinfo audit` tests: RustSec's layout, one
//! advisory, committed to a git repository (as `--fetch` clones it and `--db` reads it).

use std::path::Path;

use crate::fixture_project::git_init_commit;

/// The one advisory's id.
const FIXTURE_ADVISORY: &str = "RUSTSEC-2099-0001";

/// Writes the fixture database into `dir` (created) and commits it on branch `main`:
/// `FIXTURE_ADVISORY`, hyper before 0.14.10 is vulnerable, CVSS 9.8 (critical). Returns
/// the commit's sha.
pub fn advisory_db(dir: &Path) -> String {
    let crate_dir = dir.join("crates/hyper");
    std::fs::create_dir_all(&crate_dir).unwrap();
    std::fs::write(
        crate_dir.join(format!("{FIXTURE_ADVISORY}.md")),
        format!(
            "```toml\n[advisory]\nid = \"{FIXTURE_ADVISORY}\"\npackage = \"hyper\"\ndate = \"2099-01-02\"\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n\n[versions]\npatched = [\">= 0.14.10\"]\n```\n\n# Request smuggling in hyper\n\nDetails.\n"
        ),
    )
    .unwrap();
    git_init_commit(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scratch, git};

    #[test]
    fn the_database_is_one_commit_holding_the_advisory() {
        let dir = Scratch::new("advisory-db");
        let db = dir.join("db");
        let sha = advisory_db(&db);
        assert_eq!(git(&db, &["rev-parse", "HEAD"]), sha);
        assert_eq!(
            git(&db, &["ls-files"]),
            format!("crates/hyper/{FIXTURE_ADVISORY}.md")
        );
        assert_eq!(git(&db, &["status", "--porcelain"]), "");
    }
}
