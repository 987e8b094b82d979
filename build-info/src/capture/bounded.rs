//! Reading a file the build does not control (a lock file, a packaged crate's VCS record)
//! without blocking or holding more than a limit: only a regular file is opened (a FIFO or a
//! device could block or never end), and no more than `limit` bytes are kept.

use std::io::Read as _;
use std::path::Path;

/// The text of the regular file at `path` when it holds at most `limit` bytes of UTF-8;
/// `None` otherwise (missing, not a regular file, too big, unreadable).
pub(crate) fn read_regular_file(path: &Path, limit: u64) -> Option<String> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= limit) {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(limit.saturating_add(1))
        .read_to_string(&mut text)
        .ok()?;
    (text.len() as u64 <= limit).then_some(text)
}
