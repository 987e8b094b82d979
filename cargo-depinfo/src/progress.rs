//! Progress of long operations, reported through a callback so that the library never writes
//! to the terminal: the binary draws its progress line from these events.

use std::path::Path;
use std::time::Duration;

/// What a long operation is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// About to read the `files`-th file of a scan of binaries.
    Scanning {
        /// Files looked at so far, this one included.
        files: u64,
        /// The file.
        path: &'a Path,
    },
    /// `done` of `total` crates looked up in a registry's index.
    Checking {
        /// Crates looked up so far.
        done: usize,
        /// Crates to look up.
        total: usize,
    },
    /// Waiting for a network source's answer (the one waited for longest, when several are).
    Waiting {
        /// The source, as shown (credentials redacted).
        source: &'a str,
        /// What was asked of it (`count by over rust_mod_info`).
        what: &'a str,
        /// How long it has been waited for.
        elapsed: Duration,
        /// Its timeout.
        limit: Duration,
    },
}
