//! Binaries and directories of binaries (`inspect`, and the paths of `affected`, `spread`,
//! `outdated`): the binary reader finds the sections, [`depinfo_read::sections`] decodes them.
//!
//! A file named on the command line must be a binary with data: anything else is an error
//! naming it. A directory is walked recursively in name order (deterministic output); what is
//! not positively a binary (text, a Java class file, an `MZ` file without a PE header, an
//! object file), binaries without data, and FIFOs, devices and sockets are skipped; a broken
//! binary is reported and the walk goes on. Special files are never opened for reading in a
//! way that waits. Symbolic links to files are followed, links to directories are not (no
//! loops).
//!
//! In a cargo profile directory met during a walk (`target/debug`, `target/release`: a
//! directory holding both `.fingerprint` and `deps`), cargo's own working directories
//! `deps`, `build`, `incremental` and `.fingerprint` are skipped: they hold test binaries,
//! build scripts and hashed copies of the binaries beside them. A directory named on the
//! command line is always read, `target/debug/deps` too.

use std::path::{Path, PathBuf};

use crate::progress::Progress;
use depinfo_read::binary_reader::{Limits, ReadError, read_sections_with};
use depinfo_read::inventory::Inventory;
use depinfo_read::sections::{FormatError, decode};

/// Why one input could not be inspected. Every message names the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectError {
    /// The file could not be read as a binary.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A section did not hold the expected format.
    #[error("{error}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (the message names the file and the section).
        error: FormatError,
    },
    /// A binary named explicitly has neither section.
    #[error(
        "{}: no build-info or cargo-auditable data (no .bldinfo or .dep-v0 section)",
        path.display()
    )]
    NoData {
        /// The file.
        path: PathBuf,
    },
    /// A directory could not be listed.
    #[error("{}: {source}", path.display())]
    Walk {
        /// The directory or entry.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The result of a scan: what was found and what failed, each in path order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Scan {
    /// One inventory per binary with data.
    pub inventories: Vec<Inventory>,
    /// One error per input that failed.
    pub errors: Vec<InspectError>,
    /// Files looked at.
    pub files: u64,
    /// Bytes read from binaries.
    pub bytes_read: u64,
}

impl InspectError {
    /// The file or directory the error is about.
    pub fn path(&self) -> &Path {
        match self {
            InspectError::Read(e) => e.path(),
            InspectError::Format { path, .. }
            | InspectError::NoData { path }
            | InspectError::Walk { path, .. } => path,
        }
    }
}

/// Inspects files and directories (see the module docs).
pub fn inspect_paths(paths: &[PathBuf], limits: &Limits) -> Scan {
    inspect_paths_with(paths, limits, &mut |_| {})
}

/// [`inspect_paths`], reporting [`Progress::Scanning`] before each file is read.
pub fn inspect_paths_with(
    paths: &[PathBuf],
    limits: &Limits,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Scan {
    let mut scan = Scan::default();
    for path in paths {
        if path.is_dir() {
            walk(path, limits, &mut scan, on_progress);
        } else {
            // A file named on the command line must hold data.
            match read_file(path, limits, &mut scan, on_progress) {
                Ok(Some(inv)) => scan.inventories.push(inv),
                Ok(None) => scan
                    .errors
                    .push(InspectError::NoData { path: path.clone() }),
                Err(e) => scan.errors.push(e),
            }
        }
    }
    scan
}

/// Reads and decodes one file, counting it and its bytes.
fn read_file(
    path: &Path,
    limits: &Limits,
    scan: &mut Scan,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Option<Inventory>, InspectError> {
    scan.files += 1;
    on_progress(Progress::Scanning {
        files: scan.files,
        path,
    });
    let raw = read_sections_with(path, limits)?;
    scan.bytes_read += raw.bytes_read;
    decode(&raw, path).map_err(|error| InspectError::Format {
        path: path.to_owned(),
        error,
    })
}

/// Cargo's working directories in a profile directory, skipped by a walk.
const CARGO_WORK_DIRS: [&str; 4] = ["deps", "build", "incremental", ".fingerprint"];

/// Whether `dir` is a cargo profile directory (`target/debug`): it holds `.fingerprint` and
/// `deps`.
fn is_cargo_profile_dir(dir: &Path) -> bool {
    dir.join(".fingerprint").is_dir() && dir.join("deps").is_dir()
}

fn walk(dir: &Path, limits: &Limits, scan: &mut Scan, on_progress: &mut dyn FnMut(Progress<'_>)) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            scan.errors.push(InspectError::Walk {
                path: dir.to_owned(),
                source,
            });
            return;
        }
    };
    let mut list = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => list.push(e),
            Err(source) => scan.errors.push(InspectError::Walk {
                path: dir.to_owned(),
                source,
            }),
        }
    }
    list.sort_by_key(std::fs::DirEntry::file_name);
    let profile_dir = is_cargo_profile_dir(dir);
    for entry in list {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !(profile_dir && CARGO_WORK_DIRS.iter().any(|d| entry.file_name() == *d)) {
                walk(&path, limits, scan, on_progress);
            }
            continue;
        }
        // Follow links to files only.
        if !(kind.is_file() || kind.is_symlink() && path.is_file()) {
            continue;
        }
        // In a directory, files without data and files that are not binaries are skipped.
        match read_file(&path, limits, scan, on_progress) {
            Ok(Some(inv)) => scan.inventories.push(inv),
            // A file that became a FIFO or a device since it was listed is skipped too.
            Ok(None)
            | Err(InspectError::Read(ReadError::NotABinary { .. } | ReadError::NotAFile { .. })) => {
            }
            Err(e) => scan.errors.push(e),
        }
    }
}
