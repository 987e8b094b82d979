//! The catalog's content-addressed cache on disk: one file per list, named by its digest,
//! holding the document. Written to a temporary file in the same directory and renamed, so a
//! reader (or a crash) never sees half a list. Read back through the crate's one bounded
//! opener, each file verified against its name: a file that does not match is reported and
//! skipped, never served.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use build_info_collector::{DepsList, MAX_DEPS_LIST_BYTES, is_digest};

use crate::untrusted_file;

/// The most lists the catalog holds (and serves): at 300 crates a list, 30 million
/// `rust_deps_info` series, past what one Prometheus scrape should carry. A fleet has one list
/// per distinct build, usually a few hundred.
pub const MAX_LISTS: usize = 100_000;

/// The lists known, by digest, and the directory that keeps them.
#[derive(Debug)]
pub struct Cache {
    dir: Option<PathBuf>,
    lists: BTreeMap<String, DepsList>,
}

impl Cache {
    /// A cache in memory only (the offline catalog).
    pub fn in_memory() -> Cache {
        Cache {
            dir: None,
            lists: BTreeMap::new(),
        }
    }

    /// Opens the cache in `dir` (created when missing) and loads every list in it, verified
    /// against its file name. Each file that cannot be used is one line in the returned
    /// errors, and is skipped. Files whose names start with `.` (temporary files) are
    /// ignored.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or listed.
    pub fn open(dir: &Path) -> Result<(Cache, Vec<String>), String> {
        let shown = || crate::printable_line(&dir.display().to_string()).into_owned();
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the cache directory {}: {e}", shown()))?;
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot list the cache directory {}: {e}", shown()))?;
        let mut names: Vec<std::ffi::OsString> = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| format!("cannot list the cache directory {}: {e}", shown()))?;
            names.push(entry.file_name());
        }
        names.sort();
        let mut cache = Cache {
            dir: Some(dir.to_owned()),
            lists: BTreeMap::new(),
        };
        let mut errors = Vec::new();
        for name in names {
            let path = dir.join(&name);
            let shown_path = crate::printable_line(&path.display().to_string()).into_owned();
            let Some(digest) = name.to_str().filter(|n| is_digest(n)) else {
                if !name.to_string_lossy().starts_with('.') {
                    errors.push(format!(
                        "cache file {shown_path}: its name is not a digest (skipped)"
                    ));
                }
                continue;
            };
            if cache.lists.len() >= MAX_LISTS {
                errors.push(format!(
                    "cache file {shown_path}: the catalog holds {MAX_LISTS} lists already (skipped)"
                ));
                continue;
            }
            let bytes = match untrusted_file::read(&path, MAX_DEPS_LIST_BYTES as u64) {
                Ok(bytes) => bytes,
                Err(e) => {
                    errors.push(format!(
                        "cache file {}: skipped",
                        crate::printable_line(&e.to_string())
                    ));
                    continue;
                }
            };
            match DepsList::verify(digest, &bytes, MAX_DEPS_LIST_BYTES) {
                Ok(list) => {
                    cache.lists.insert(digest.to_owned(), list);
                }
                Err(e) => errors.push(format!(
                    "cache file {shown_path}: does not match its name: {e} (skipped)"
                )),
            }
        }
        Ok((cache, errors))
    }

    /// The lists, by digest.
    pub fn lists(&self) -> &BTreeMap<String, DepsList> {
        &self.lists
    }

    /// Whether `digest` is known.
    pub fn contains(&self, digest: &str) -> bool {
        self.lists.contains_key(digest)
    }

    /// Whether the cache holds [`MAX_LISTS`] lists.
    pub fn is_full(&self) -> bool {
        self.lists.len() >= MAX_LISTS
    }

    /// Adds a verified list, and writes it to disk (temporary file, then rename). The list is
    /// served even when the write fails (the error says so).
    ///
    /// # Errors
    ///
    /// The file could not be written: one line naming it.
    pub fn insert(&mut self, list: DepsList) -> Result<(), String> {
        let written = match &self.dir {
            Some(dir) => write_atomically(&dir.join(list.digest()), list.text().as_bytes()),
            None => Ok(()),
        };
        if !self.is_full() {
            self.lists.insert(list.digest().to_owned(), list);
        }
        written
    }
}

/// Writes `bytes` to `path` through a temporary file beside it (`.NAME.PID.tmp`) and a rename:
/// readers see the old file or the new one, never a part.
///
/// # Errors
///
/// One line naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let shown = || crate::printable_line(&path.display().to_string()).into_owned();
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", shown()))?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    write_then_rename(&temp, path, bytes).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", shown())
    })
}

fn write_then_rename(temp: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use build_info_collector::DepsEntry;

    fn list(name: &str) -> DepsList {
        DepsList::from_entries([DepsEntry {
            name: name.to_owned().into(),
            version: "1.0.0".into(),
            source: "crates.io".into(),
            direct: true,
        }])
    }

    #[test]
    fn lists_survive_a_reopen_and_bad_files_are_skipped_in_one_line() {
        let dir = std::env::temp_dir().join(format!("depinfo-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut cache, errors) = Cache::open(&dir).unwrap();
        assert!(errors.is_empty() && cache.lists().is_empty());
        let (a, b) = (list("a"), list("b"));
        cache.insert(a.clone()).unwrap();
        // A file named by b's digest holding a's document: refused on load.
        std::fs::write(dir.join(b.digest()), a.text()).unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        std::fs::write(dir.join(".a.1.tmp"), "half").unwrap();
        let (cache, errors) = Cache::open(&dir).unwrap();
        assert_eq!(cache.lists().keys().collect::<Vec<_>>(), [a.digest()]);
        assert_eq!(cache.lists()[a.digest()], a);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|e| !e.contains('\n')));
        assert!(
            errors
                .iter()
                .any(|e| e.contains(b.digest()) && e.contains("does not match"))
        );
        assert!(errors.iter().any(|e| e.contains("notes.txt")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
