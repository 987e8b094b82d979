//! The one way cargo depinfo opens a file that someone else controls: configuration
//! (`--http.config.file`, `.cargo/config.toml`, `audit.toml`), secrets (`password_file`,
//! `credentials_file`, header files), TLS material (`ca_file`, `cert_file`, `key_file`),
//! advisory files and binaries.
//!
//! Every such file is
//!
//! - opened without blocking (`O_NONBLOCK`, `O_NOCTTY`): a FIFO without a writer, a terminal
//!   or a device never makes the tool wait;
//! - checked to be a regular file, both by path before opening and on the open descriptor
//!   (the path may change in between): FIFOs, sockets, devices and directories are refused;
//! - read under a size cap, checked against the file's size first and enforced while reading
//!   (a file that grows, or lies about its size as `/proc` and `/sys` files do, stops at the
//!   cap plus one byte);
//! - refused in one line that names it, and never quotes its content.
//!
//! Symbolic links are followed (Kubernetes mounts secrets through them); a loop is refused by
//! the kernel and reported as any other open error.
//!
//! The cap for small files (configuration, secrets, TLS material) is [`SMALL_FILE_LIMIT`] by
//! default; `--max-file-kib` changes it for the whole run ([`set_small_file_limit`]).
//! Advisory files and binaries keep the limits of their own flags.

use std::fs::{File, Metadata};
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The default cap on a configuration, secret or TLS file: 1 MiB (they are a few lines; a
/// CA bundle of every public root is about 220 KiB).
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// The cap in force for small files (set once from `--max-file-kib`).
static SMALL_LIMIT: AtomicU64 = AtomicU64::new(SMALL_FILE_LIMIT);

/// Sets the cap on configuration, secret and TLS files for the rest of the run (at least one
/// byte).
pub fn set_small_file_limit(bytes: u64) {
    SMALL_LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// The cap in force on configuration, secret and TLS files.
pub fn small_file_limit() -> u64 {
    SMALL_LIMIT.load(Ordering::Relaxed)
}

/// Why a file was not read. Its `Display` is one line: the path, then the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
#[non_exhaustive]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What stopped the read.
    pub reason: FileRefusal,
}

/// What stopped a read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileRefusal {
    /// It could not be opened, or reading failed (missing, denied, a link loop, ...).
    #[error("{0}")]
    Io(io::Error),
    /// It is not a regular file.
    #[error("is a {0}, not a regular file")]
    NotRegular(&'static str),
    /// It is larger than the cap.
    #[error("larger than the limit of {}", size_words(*.0))]
    TooLarge(u64),
    /// Text was expected and it is not UTF-8.
    #[error("not UTF-8")]
    NotUtf8,
}

/// `1 MiB`, `256 KiB`, `100 bytes`: a limit in the unit that says it exactly.
pub fn size_words(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else if bytes == 1 {
        "1 byte".to_owned()
    } else {
        format!("{bytes} bytes")
    }
}

/// What a non-regular file is, in words; `None` for a regular file.
pub(crate) fn special_kind(metadata: &Metadata) -> Option<&'static str> {
    let t = metadata.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("FIFO");
        }
        if t.is_socket() {
            return Some("socket");
        }
        if t.is_char_device() {
            return Some("character device");
        }
        if t.is_block_device() {
            return Some("block device");
        }
    }
    Some("special file")
}

/// Opens `path` for reading without waiting on it, and makes sure it is a regular file:
/// checked by path before opening (opening a device can have effects of its own) and again on
/// the open descriptor. Returns the file and its metadata.
pub fn open(path: &Path) -> Result<(File, Metadata), FileError> {
    let fail = |reason| FileError {
        path: path.to_owned(),
        reason,
    };
    let before = std::fs::metadata(path).map_err(|e| fail(FileRefusal::Io(e)))?;
    if let Some(kind) = special_kind(&before) {
        return Err(fail(FileRefusal::NotRegular(kind)));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path).map_err(|e| fail(FileRefusal::Io(e)))?;
    let metadata = file.metadata().map_err(|e| fail(FileRefusal::Io(e)))?;
    if let Some(kind) = special_kind(&metadata) {
        return Err(fail(FileRefusal::NotRegular(kind)));
    }
    Ok((file, metadata))
}

/// The bytes of the regular file at `path`, at most `limit` of them: a larger file is
/// refused (by its size before reading, and by what was read, should it grow or lie).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let fail = |reason| FileError {
        path: path.to_owned(),
        reason,
    };
    let (file, metadata) = open(path)?;
    if metadata.len() > limit {
        return Err(fail(FileRefusal::TooLarge(limit)));
    }
    // The size is a hint only: the buffer grows with what is really there.
    let hint = usize::try_from(metadata.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(hint.saturating_add(1));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(FileRefusal::Io(e)))?;
    if bytes.len() as u64 > limit {
        return Err(fail(FileRefusal::TooLarge(limit)));
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, FileError> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).map_err(|_| FileError {
        path: path.to_owned(),
        reason: FileRefusal::NotUtf8,
    })
}

/// [`read`] under the cap for configuration, secret and TLS files ([`small_file_limit`]).
pub fn read_small(path: &Path) -> Result<Vec<u8>, FileError> {
    read(path, small_file_limit())
}

/// [`read_text`] under the cap for configuration, secret and TLS files.
pub fn read_small_text(path: &Path) -> Result<String, FileError> {
    read_text(path, small_file_limit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_its_cap_and_refused_past_it() {
        let dir = testkit::Scratch::new("untrusted-file-cap");
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read(&path, 10).unwrap(), b"0123456789");
        assert_eq!(read(&path, 11).unwrap(), b"0123456789");
        let e = read(&path, 9).unwrap_err();
        assert!(matches!(e.reason, FileRefusal::TooLarge(9)), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("{}: larger than the limit of 9 bytes", path.display())
        );
        assert_eq!(read_text(&path, 10).unwrap(), "0123456789");
        std::fs::write(&path, b"\xff\xfe").unwrap();
        assert_eq!(
            read_text(&path, 10).unwrap_err().to_string(),
            format!("{}: not UTF-8", path.display())
        );
    }

    #[test]
    fn sizes_are_said_in_the_unit_that_is_exact() {
        assert_eq!(size_words(1 << 20), "1 MiB");
        assert_eq!(size_words(3 << 20), "3 MiB");
        assert_eq!(size_words(256 << 10), "256 KiB");
        assert_eq!(size_words((1 << 20) + 1024), "1025 KiB");
        assert_eq!(size_words(1025), "1025 bytes");
        assert_eq!(size_words(1024), "1 KiB");
        assert_eq!(size_words(1), "1 byte");
        assert_eq!(size_words(0), "0 bytes");
    }

    /// `/proc` files say they are empty and are not: the cap holds on what is read.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_lies_about_its_size_stops_at_the_cap() {
        let path = Path::new("/proc/self/maps");
        let e = read(path, 16).unwrap_err();
        assert!(matches!(e.reason, FileRefusal::TooLarge(16)), "{e:?}");
        assert!(read(path, 16 << 20).unwrap().len() > 16);
    }

    #[cfg(unix)]
    #[test]
    fn fifos_devices_directories_and_loops_are_refused_at_once() {
        let dir = testkit::Scratch::new("untrusted-file-special");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let start = std::time::Instant::now();
        for (path, kind) in [
            (fifo.as_path(), "FIFO"),
            (Path::new("/dev/zero"), "character device"),
            (Path::new("/dev/null"), "character device"),
            (dir.path(), "directory"),
        ] {
            let e = read(path, 1 << 20).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("{}: is a {kind}, not a regular file", path.display())
            );
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        let a = dir.join("a");
        let b = dir.join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let e = read(&a, 1 << 20).unwrap_err();
        assert!(matches!(e.reason, FileRefusal::Io(_)), "{e:?}");
        assert!(e.to_string().starts_with(&a.display().to_string()), "{e}");
        // A link to a regular file is followed.
        let target = dir.join("target");
        std::fs::write(&target, "x").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, 1).unwrap(), b"x");
        let e = read(&dir.join("missing"), 1).unwrap_err();
        assert!(matches!(e.reason, FileRefusal::Io(_)), "{e:?}");
    }

    /// A regular file under another process's write lease makes a blocking open wait until
    /// the lease is given up (45 s by default): the open does not wait, it is refused at once.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_leased_file_is_refused_at_once_not_waited_for() {
        const HOLD: &str = "import fcntl, os, signal, sys, time\n\
            signal.signal(signal.SIGIO, signal.SIG_IGN)\n\
            fd = os.open(sys.argv[1], os.O_RDONLY)\n\
            fcntl.fcntl(fd, 1024, fcntl.F_WRLCK)  # F_SETLEASE\n\
            print('leased', flush=True)\n\
            time.sleep(120)\n";
        let dir = testkit::Scratch::new("untrusted-file-lease");
        let path = dir.join("leased");
        std::fs::write(&path, "x").unwrap();
        let mut holder = testkit::Running::spawn(
            std::process::Command::new("python3")
                .args(["-c", HOLD])
                .arg(&path)
                .stdout(std::process::Stdio::piped()),
        );
        let out = holder.child().stdout.take().unwrap();
        testkit::announced(out, "leased", "python3 holding a lease");
        let start = std::time::Instant::now();
        let e = read(&path, 1 << 20).unwrap_err();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(
            matches!(&e.reason, FileRefusal::Io(io) if io.kind() == io::ErrorKind::WouldBlock),
            "{e}"
        );
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
        holder.kill();
        assert_eq!(read(&path, 1 << 20).unwrap(), b"x");
    }

    #[test]
    fn the_small_file_cap_defaults_to_one_mib() {
        assert_eq!(SMALL_FILE_LIMIT, 1 << 20);
        let dir = testkit::Scratch::new("untrusted-file-small");
        let path = dir.join("f");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        // The default holds (other tests of this process do not change it).
        assert_eq!(read_small(&path).unwrap().len(), 2048);
        assert_eq!(read_small_text(&path).unwrap().len(), 2048);
    }
}
