//! The advisory database on disk: a clone of RustSec's repository (`crates/NAME/RUSTSEC-YYYY-
//! NNNN.md`), read with limits, its last commit read from the repository's files without
//! running git (`git_files`). `--fetch` is in `fetch`. A file that cannot be read or parsed is
//! an error for that file; the rest of the database is still used. Two files with the same
//! advisory id: the first by path is used, the other is an error naming both.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::advisory::Advisory;
use super::git_files;

/// The official advisory database, the default of `--db-url` (what cargo-audit clones).
pub const DEFAULT_DB_URL: &str = "https://github.com/RustSec/advisory-db.git";

/// How much of the database is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DbLimits {
    /// The largest advisory file read, in bytes (the real database's largest is about
    /// 10 KiB).
    pub max_file_size: u64,
    /// The most advisory files read (the real database has about 1,200).
    pub max_advisories: usize,
    /// The most bytes read from all advisory files together (the real database holds about
    /// 3 MiB).
    pub max_total_size: u64,
}

impl Default for DbLimits {
    fn default() -> Self {
        DbLimits {
            max_file_size: 256 << 10,
            max_advisories: 50_000,
            max_total_size: 256 << 20,
        }
    }
}

/// The database's last commit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Commit {
    /// The commit id (hex).
    pub id: String,
    /// The commit time, in seconds since the Unix epoch.
    pub time: u64,
}

/// A loaded advisory database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Database {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its last commit, when it is a git repository whose commit could be read.
    pub commit: Option<Commit>,
    /// Why the commit is unknown, when it is (`not a git repository`, or what stopped the
    /// reading of the repository's files).
    pub commit_unknown: Option<String>,
    /// The advisories, sorted by id.
    advisories: Vec<Advisory>,
    /// The indices of each crate's advisories.
    by_package: BTreeMap<String, Vec<usize>>,
}

/// Why the database as a whole cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// No `crates` directory: not an advisory database (or not fetched yet).
    #[error(
        "no advisory database at {}: no `crates` directory (fetch it with --fetch, or name one with --db)",
        .0.display()
    )]
    Missing(PathBuf),
    /// A directory could not be listed.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a single advisory could be read.
    #[error("the advisory database at {} holds no readable advisory ({reason})", path.display())]
    Empty {
        /// The database.
        path: PathBuf,
        /// Why: the first files that failed and their errors, or that there is no advisory
        /// file at all.
        reason: String,
    },
    /// More bytes of advisory files than the limit.
    #[error("the advisory database at {} holds more than {} MiB of advisories", path.display(), limit >> 20)]
    TooLarge {
        /// The database.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// More advisory files than the limit.
    #[error("the advisory database at {} holds more than {limit} advisory files", path.display())]
    TooMany {
        /// The database.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// `--fetch` failed.
    #[error("cannot fetch the advisory database into {}: {message}", path.display())]
    Fetch {
        /// The database.
        path: PathBuf,
        /// What git said (its first line), or why it did not finish.
        message: String,
    },
}

/// An advisory file that could not be used (the rest of the database still is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
#[non_exhaustive]
pub struct AdvisoryError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it (one line).
    pub message: String,
}

/// The entries of a directory, sorted by name (the order of `read_dir` varies).
fn sorted_entries(dir: &Path) -> Result<Vec<std::fs::DirEntry>, DatabaseError> {
    let unreadable = |source| DatabaseError::Unreadable {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

/// At most `limit` bytes of a file as text, through the one bounded, non-blocking opener; the
/// error says why, without the path (the caller's error names it).
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<String, String> {
    depinfo_read::untrusted_file::read_text(path, limit).map_err(|e| e.reason.to_string())
}

impl Database {
    /// Reads the database at `path`: every `crates/*/RUSTSEC-*.md` (links are not followed),
    /// with the errors of the files that could not be used. A database without a `crates`
    /// directory, or without one readable advisory, is an error.
    pub fn load(
        path: &Path,
        limits: DbLimits,
    ) -> Result<(Database, Vec<AdvisoryError>), DatabaseError> {
        let crates = path.join("crates");
        if !crates.is_dir() {
            return Err(DatabaseError::Missing(path.to_owned()));
        }
        let mut advisories = Vec::new();
        let mut errors = Vec::new();
        let mut files = 0usize;
        let mut total: u64 = 0;
        for dir in sorted_entries(&crates)? {
            if !dir.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            for file in sorted_entries(&dir.path())? {
                let name = file.file_name();
                let name = name.to_string_lossy();
                let advisory_file = name.starts_with("RUSTSEC-")
                    && name.ends_with(".md")
                    && file.file_type().is_ok_and(|t| t.is_file());
                if !advisory_file {
                    continue;
                }
                files += 1;
                if files > limits.max_advisories {
                    return Err(DatabaseError::TooMany {
                        path: path.to_owned(),
                        limit: limits.max_advisories,
                    });
                }
                let file_path = file.path();
                let text = read_capped(&file_path, limits.max_file_size);
                if let Ok(text) = &text {
                    total += text.len() as u64;
                    if total > limits.max_total_size {
                        return Err(DatabaseError::TooLarge {
                            path: path.to_owned(),
                            limit: limits.max_total_size,
                        });
                    }
                }
                match text.and_then(|t| Advisory::parse(&t).map_err(|e| e.to_string())) {
                    Ok(a) => advisories.push((a, file_path)),
                    Err(message) => errors.push(AdvisoryError {
                        path: file_path,
                        message,
                    }),
                }
            }
        }
        if advisories.is_empty() {
            return Err(DatabaseError::Empty {
                path: path.to_owned(),
                reason: no_advisory_reason(path, &errors),
            });
        }
        // One advisory per id: the first by path (files were read in path order).
        advisories.sort_by(|(a, a_path), (b, b_path)| a.id.cmp(&b.id).then(a_path.cmp(b_path)));
        let mut kept: Vec<(Advisory, PathBuf)> = Vec::with_capacity(advisories.len());
        for (a, file) in advisories {
            match kept.last() {
                Some((first, first_path)) if first.id == a.id => {
                    errors.push(AdvisoryError {
                        message: format!(
                            "the advisory id {} is also in {}, which is used: this file is not",
                            a.id,
                            first_path.display()
                        ),
                        path: file,
                    });
                }
                _ => kept.push((a, file)),
            }
        }
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        let advisories = kept.into_iter().map(|(a, _)| a).collect();
        let mut db = Database::new(path.to_owned(), None, advisories);
        match git_files::last_commit(path) {
            Ok((id, time)) => db.commit = Some(Commit { id, time }),
            Err(unknown) => db.commit_unknown = Some(unknown.to_string()),
        }
        Ok((db, errors))
    }

    /// The id of the last commit of the database at `path`, when it is a git repository whose
    /// commit can be read: what a long-running reader (the exporter) compares with
    /// [`Database::commit`] to know when to load the database again, without reading it.
    pub fn head_commit(path: &Path) -> Option<String> {
        git_files::last_commit(path).ok().map(|(id, _)| id)
    }

    /// A database of these advisories (sorted by id here; of several with one id, the first
    /// is kept).
    pub fn new(path: PathBuf, commit: Option<Commit>, mut advisories: Vec<Advisory>) -> Database {
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        advisories.dedup_by(|later, first| later.id == first.id);
        let commit_unknown = commit
            .is_none()
            .then(|| git_files::Unknown::NotARepository.to_string());
        let mut by_package: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, a) in advisories.iter().enumerate() {
            by_package.entry(a.package.clone()).or_default().push(i);
        }
        Database {
            path,
            commit,
            commit_unknown,
            advisories,
            by_package,
        }
    }

    /// Every advisory, sorted by id.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The advisories about crate `name` (RustSec compares names exactly).
    pub fn for_package<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Advisory> + 'a {
        self.by_package
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.advisories[i])
    }

    /// [`Database::for_package`] with each advisory's index in [`Database::advisories`].
    pub(crate) fn indexed_for_package<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (usize, &'a Advisory)> + 'a {
        self.by_package
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.advisories[i]))
    }

    /// Whole days since the last commit at `now` (seconds since the epoch); `None` when the
    /// commit is unknown.
    pub fn age_days(&self, now: u64) -> Option<u64> {
        self.commit
            .as_ref()
            .map(|c| now.saturating_sub(c.time) / 86_400)
    }
}

/// The reason no advisory could be read: the first failed files (relative to the database)
/// and why, or that there is no advisory file.
fn no_advisory_reason(db: &Path, errors: &[AdvisoryError]) -> String {
    const NAMED: usize = 2;
    // No advisory was read, so every advisory file gave an error: no error means no file.
    if errors.is_empty() {
        return "no crates/*/RUSTSEC-*.md file".to_owned();
    }
    let mut reason = errors
        .iter()
        .take(NAMED)
        .map(|e| {
            let file = e.path.strip_prefix(db).unwrap_or(&e.path);
            format!("{}: {}", file.display(), e.message)
        })
        .collect::<Vec<_>>()
        .join("; ");
    match errors.len().saturating_sub(NAMED) {
        0 => {}
        1 => reason.push_str("; and 1 more file"),
        n => {
            let _ = write!(reason, "; and {n} more files");
        }
    }
    reason
}

/// Cargo's home: `$CARGO_HOME`, else `$HOME/.cargo`.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cargo"))
        })
}

/// Where cargo-audit keeps the database: `$CARGO_HOME/advisory-db`.
pub fn default_db_path() -> Option<PathBuf> {
    cargo_home().map(|h| h.join("advisory-db"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(id: &str) -> String {
        format!(
            "```toml\n[advisory]\nid = \"{id}\"\npackage = \"a\"\ndate = \"2099-01-01\"\n\n[versions]\npatched = []\n```\n\n# {id}\n"
        )
    }

    /// Regression (issue 18, item 14): one id in two files was reported twice.
    #[test]
    fn one_advisory_per_id_the_first_by_path() {
        let dir = testkit::Scratch::new("advisory-db-duplicates");
        for (dir_name, title) in [("b", "second"), ("a", "first")] {
            let file = dir.join(format!("crates/{dir_name}/RUSTSEC-2099-0001.md"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(
                &file,
                advisory("RUSTSEC-2099-0001").replace("# RUSTSEC-2099-0001", &format!("# {title}")),
            )
            .unwrap();
        }
        let (db, errors) = Database::load(&dir, DbLimits::default()).unwrap();
        assert_eq!(db.advisories().len(), 1);
        assert_eq!(db.advisories()[0].title, "first");
        assert_eq!(
            errors,
            [AdvisoryError {
                path: dir.join("crates/b/RUSTSEC-2099-0001.md"),
                message: format!(
                    "the advisory id RUSTSEC-2099-0001 is also in {}, which is used: this file is not",
                    dir.join("crates/a/RUSTSEC-2099-0001.md").display()
                ),
            }]
        );
        // A database made in memory keeps one per id too.
        let one = Advisory::parse(&advisory("RUSTSEC-2099-0001")).unwrap();
        let db = Database::new(dir.to_path_buf(), None, vec![one.clone(), one]);
        assert_eq!(db.advisories().len(), 1);
        assert_eq!(db.for_package("a").count(), 1);
    }

    #[test]
    fn limits_links_and_other_files() {
        let dir = testkit::Scratch::new("advisory-db-limits");
        let crates = dir.join("crates/a");
        std::fs::create_dir_all(&crates).unwrap();
        for n in 1..=3 {
            let id = format!("RUSTSEC-2099-000{n}");
            std::fs::write(crates.join(format!("{id}.md")), advisory(&id)).unwrap();
        }
        // Not advisories: another name, and a link (not followed).
        std::fs::write(crates.join("README.md"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/passwd", crates.join("RUSTSEC-2099-0009.md")).unwrap();
        let (db, errors) = Database::load(&dir, DbLimits::default()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<&str> = db.advisories().iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "RUSTSEC-2099-0001",
                "RUSTSEC-2099-0002",
                "RUSTSEC-2099-0003"
            ]
        );
        assert_eq!(db.for_package("a").count(), 3);
        // Not a git repository of its own (the scratch dir may sit in one): no commit.
        assert_eq!(db.commit, None);
        assert_eq!(db.commit_unknown.as_deref(), Some("not a git repository"));
        assert_eq!(db.age_days(1_000_000), None);

        let limits = DbLimits {
            max_advisories: 2,
            ..DbLimits::default()
        };
        let e = Database::load(&dir, limits).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "the advisory database at {} holds more than 2 advisory files",
                dir.display()
            )
        );
        let mut limits = DbLimits {
            max_total_size: 1 << 20,
            ..DbLimits::default()
        };
        assert!(Database::load(&dir, limits).is_ok());
        limits.max_total_size = 300;
        assert!(matches!(
            Database::load(&dir, limits),
            Err(DatabaseError::TooLarge { .. })
        ));
    }
}
