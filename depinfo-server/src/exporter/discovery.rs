//! One scan of a `/proc` tree: every process, its executable image read once per image, its
//! state on disk and its workload, grouped per image.
//!
//! The steps are in [`Scanner`]'s docs.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::proc_files::{MAX_PROC_FILE, Workload, parse_cgroup, parse_stat};
use depinfo_read::binary_reader::{Limits, read_sections_with};
use depinfo_read::inventory::Inventory;
use depinfo_read::sections::decode;

/// What the path a process was started from holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ExeState {
    /// The path holds the running image.
    Current,
    /// The path holds another file (a newer build, installed by rename).
    Replaced,
    /// Nothing is at the path any more.
    Deleted,
    /// The image is an anonymous memory file (`memfd_create`): it never had a path.
    Memfd,
    /// Not running: a binary found under `--path`.
    Installed,
    /// The image runs, still linked on disk, but what its path holds now could not be
    /// checked (a path longer than `PATH_MAX`, a directory the exporter may not search).
    Unknown,
}

impl ExeState {
    /// The `state` label: `current`, `replaced`, `deleted`, `memfd`, `installed` or
    /// `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExeState::Current => "current",
            ExeState::Replaced => "replaced",
            ExeState::Deleted => "deleted",
            ExeState::Memfd => "memfd",
            ExeState::Installed => "installed",
            ExeState::Unknown => "unknown",
        }
    }
}

/// One executable image as it runs, in one state and one workload, and how many processes
/// run it. The series unit: PID churn changes `processes`, never the set of groups.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessGroup {
    /// The image's data.
    pub image: Arc<Inventory>,
    /// The path the processes were started from, as they see it (`memfd:NAME` for memfd;
    /// `(path longer than PATH_MAX: device M:N, inode I)` when the kernel cannot name it).
    pub exe: String,
    /// What the path holds now.
    pub state: ExeState,
    /// The container, pod or unit.
    pub workload: Workload,
    /// Processes running it (0 for an installed binary that is not running).
    pub processes: u64,
    /// For [`ExeState::Replaced`]: the data of the file now at the path, when it has some.
    pub on_disk: Option<Arc<Inventory>>,
}

/// What one scan counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counts {
    /// Processes running a binary with build-info or cargo-auditable data.
    pub rust: u64,
    /// Processes running other binaries.
    pub other: u64,
    /// Kernel threads (skipped).
    pub kernel_threads: u64,
    /// Processes that could not be read (permissions, `hidepid`).
    pub unreadable: u64,
    /// Processes that exited, or whose PID was reused, while they were read.
    pub exited: u64,
    /// Distinct images running, with data.
    pub rust_images: u64,
    /// Distinct images running, without data.
    pub other_images: u64,
    /// Distinct images whose data could not be read (broken, hostile, over the limits).
    pub broken_images: u64,
    /// Images read in this scan (the others came from earlier scans).
    pub images_read: u64,
}

/// The outcome of one scan.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct HostScan {
    /// One group per image, path, state and workload, sorted.
    pub groups: Vec<ProcessGroup>,
    /// The counts.
    pub counts: Counts,
    /// How long the scan took.
    pub duration: Duration,
    /// The first few problems met (broken images, unparsable files), one line each.
    pub errors: Vec<String>,
}

/// The most problems a scan keeps as text (the rest are only counted).
const MAX_ERRORS: usize = 20;

/// What identifies a file's contents between scans: an inode is reused once its file is gone,
/// so size and change times go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ImageKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl ImageKey {
    fn of(m: &std::fs::Metadata) -> ImageKey {
        ImageKey {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    fn same_file(&self, other: &ImageKey) -> bool {
        (self.dev, self.ino) == (other.dev, other.ino)
    }
}

/// A read image: its data, none, or why it could not be read.
#[derive(Debug, Clone)]
enum Image {
    Data(Arc<Inventory>),
    NoData,
    Broken,
}

/// Where and how to scan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScanOptions {
    /// The `/proc` tree.
    pub proc_root: PathBuf,
    /// Limits for reading each image.
    pub limits: Limits,
    /// A PID left out (the exporter itself, which reports its own build info).
    pub skip_pid: Option<u32>,
    /// Directories (or files) of installed binaries, reported when not running.
    pub paths: Vec<PathBuf>,
}

impl ScanOptions {
    /// Scans `proc_root` with the default limits, skipping nothing, no `--path`.
    pub fn new(proc_root: impl Into<PathBuf>) -> ScanOptions {
        ScanOptions {
            proc_root: proc_root.into(),
            limits: Limits::default(),
            skip_pid: None,
            paths: Vec::new(),
        }
    }
}

/// Scans again and again, keeping what it read of each image between scans (only images
/// still running stay: the memory follows the host, not its history).
///
/// The root is a parameter (`/proc` in production, a directory laid out like it in the
/// benchmark). For each numeric entry:
///
/// 1. `stat` gives the start time (the process's identity with the PID) and the kernel-thread
///    flag: kernel threads have no image and are skipped.
/// 2. `exe` is followed for the image's device, inode and link count (this works whatever
///    the path's length), and read as a link for a label only: the path the process was
///    started from, ` (deleted)` appended by the kernel once that name is gone, `/memfd:NAME`
///    for an anonymous file; the kernel cannot name a path longer than `PATH_MAX`. A process
///    whose main thread has exited has no `exe`; one of its live threads' (`task/TID/exe`)
///    is used.
/// 3. The image is read, through `exe`, only when no earlier process (in this scan or a
///    previous one, same device, inode, size and times) had it: a deleted or replaced binary
///    is read as it runs, not as the disk holds it now.
/// 4. The state comes from inodes, never from the link's text (`judge`): an image on the
///    device of memory files is `memfd`; otherwise the path is looked up inside `root` (the
///    process's own filesystem, a container's included; links resolve inside it, as the
///    process resolves them) and compared with the image: the same
///    file is `current`, another file `replaced` (that file is read too, for the crates it now
///    carries), no file `deleted`; an image with no links left is never `current`; one still
///    linked whose path cannot be looked up is `unknown`.
/// 5. `cgroup` names the container, pod or systemd unit.
/// 6. When its image was read for this process, `stat` and `exe` are read again: a different
///    start time means the PID was reused during the reads, a different image that the
///    process exec'd another program; either way what was read may belong to another image
///    than its key says, so it is dropped and the process counts as exited. (A known image
///    needs no check: the key was taken from the process and the data from an earlier read.)
///
/// Permission errors (another user's process, `hidepid`) count the process as unreadable; a
/// process that exits during the scan counts as exited. Nothing here fails the whole scan.
#[derive(Debug)]
pub struct Scanner {
    options: ScanOptions,
    images: BTreeMap<ImageKey, Image>,
    /// The devices memory files live on (the kernel's internal mounts), learnt from memfds of
    /// our own; None when we could not make one (then the link's text decides, see
    /// [`judge`]).
    memfd_devices: Option<Vec<u64>>,
    /// Called with the process's directory between the reads and the identity check, so
    /// that a test can reuse the PID or exec another image at exactly that moment.
    #[cfg(test)]
    between_reads: Option<fn(&Path)>,
}

/// A process running an image: where the scan groups it.
struct SeenImage {
    group: GroupKey,
    on_disk: Option<ImageKey>,
}

/// Processes with the same image, path, state and workload are one group.
type GroupKey = (ImageKey, String, ExeState, Workload);

/// What the scan saw of one process.
enum Seen {
    Image(Box<SeenImage>),
    KernelThread,
    Unreadable,
    Exited,
}

impl Scanner {
    /// A scanner with nothing read yet.
    pub fn new(options: ScanOptions) -> Scanner {
        Scanner {
            options,
            images: BTreeMap::new(),
            memfd_devices: memfd_devices(),
            #[cfg(test)]
            between_reads: None,
        }
    }

    /// Scans the `/proc` tree once (see the module docs).
    pub fn scan(&mut self) -> HostScan {
        let started = Instant::now();
        let mut scan = HostScan::default();
        let mut previous = std::mem::take(&mut self.images);
        let mut groups: BTreeMap<GroupKey, (u64, Option<ImageKey>)> = BTreeMap::new();
        let entries = match std::fs::read_dir(&self.options.proc_root) {
            Ok(entries) => entries,
            Err(e) => {
                scan.errors.push(format!(
                    "{}: cannot list processes: {e}",
                    self.options.proc_root.display()
                ));
                scan.duration = started.elapsed();
                return scan;
            }
        };
        let mut pids: Vec<u32> = entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid| Some(*pid) != self.options.skip_pid)
            .collect();
        pids.sort_unstable();
        for pid in pids {
            let dir = self.options.proc_root.join(pid.to_string());
            match self.process(&dir, &mut previous, &mut scan) {
                Seen::Image(seen) => {
                    let SeenImage { group, on_disk } = *seen;
                    let entry = groups.entry(group).or_default();
                    entry.0 += 1;
                    entry.1 = entry.1.or(on_disk);
                }
                Seen::KernelThread => scan.counts.kernel_threads += 1,
                Seen::Unreadable => scan.counts.unreadable += 1,
                Seen::Exited => scan.counts.exited += 1,
            }
        }
        let mut running = std::collections::BTreeSet::new();
        for ((key, exe, state, workload), (processes, on_disk)) in groups {
            let first = running.insert((key.dev, key.ino));
            let image = match self.images.get(&key) {
                Some(Image::Data(inv)) => Arc::clone(inv),
                other => {
                    scan.counts.other += processes;
                    if first {
                        if matches!(other, Some(Image::Broken)) {
                            scan.counts.broken_images += 1;
                        } else {
                            scan.counts.other_images += 1;
                        }
                    }
                    continue;
                }
            };
            scan.counts.rust += processes;
            if first {
                scan.counts.rust_images += 1;
            }
            let on_disk = on_disk.and_then(|k| match self.images.get(&k) {
                Some(Image::Data(inv)) => Some(Arc::clone(inv)),
                _ => None,
            });
            scan.groups.push(ProcessGroup {
                image,
                exe,
                state,
                workload,
                processes,
                on_disk,
            });
        }
        self.installed(&running, &mut scan);
        scan.duration = started.elapsed();
        scan
    }

    /// Binaries under `--path` that no process runs, as groups of 0 processes.
    fn installed(&self, running: &std::collections::BTreeSet<(u64, u64)>, scan: &mut HostScan) {
        if self.options.paths.is_empty() {
            return;
        }
        let found = cargo_depinfo::inspect_paths(&self.options.paths, &self.options.limits);
        for e in found.errors {
            note(scan, e.to_string());
        }
        for inv in found.inventories {
            let Ok(m) = std::fs::metadata(&inv.path) else {
                continue;
            };
            if running.contains(&(m.dev(), m.ino())) {
                continue;
            }
            scan.groups.push(ProcessGroup {
                exe: inv.path.clone(),
                image: Arc::new(inv),
                state: ExeState::Installed,
                workload: Workload::default(),
                processes: 0,
                on_disk: None,
            });
        }
    }

    fn process(
        &mut self,
        dir: &Path,
        previous: &mut BTreeMap<ImageKey, Image>,
        scan: &mut HostScan,
    ) -> Seen {
        let stat = match read_capped(&dir.join("stat")) {
            Ok(text) => match parse_stat(&text) {
                Ok(stat) => stat,
                Err(e) => {
                    note(scan, format!("{}: {e}", dir.display()));
                    return Seen::Unreadable;
                }
            },
            Err(e) => return gone_or_unreadable(&e),
        };
        if stat.is_kernel_thread() {
            return Seen::KernelThread;
        }
        let (exe_link, image, target) = match exe_link(dir, stat.is_zombie()) {
            Ok(found) => found,
            // No image to read: a zombie, a process that just exited, or one whose link we
            // may not follow.
            Err(e) => return gone_or_unreadable(&e),
        };
        let key = ImageKey::of(&image);
        let fresh = self.load(key, &exe_link, previous, scan);
        let (exe, state, on_disk) = self.resolve(dir, target.as_deref(), &image, previous, scan);
        let workload = read_capped(&dir.join("cgroup"))
            .map(|text| parse_cgroup(&text))
            .unwrap_or_default();
        #[cfg(test)]
        if let Some(hook) = self.between_reads {
            hook(dir);
        }
        // The same process and image throughout the read? A reused PID has a later start
        // time; an exec keeps the PID and the start time but not the image.
        if fresh {
            let same_process = matches!(
                read_capped(&dir.join("stat")).map(|t| parse_stat(&t)),
                Ok(Ok(again)) if again.start_time == stat.start_time
            );
            let same_image = std::fs::metadata(&exe_link).is_ok_and(|m| ImageKey::of(&m) == key);
            if !(same_process && same_image) {
                self.images.remove(&key);
                return Seen::Exited;
            }
        }
        Seen::Image(Box::new(SeenImage {
            group: (key, exe, state, workload),
            on_disk,
        }))
    }

    /// Reads an image unless this scan or the previous one did; true when it read it now.
    fn load(
        &mut self,
        key: ImageKey,
        path: &Path,
        previous: &mut BTreeMap<ImageKey, Image>,
        scan: &mut HostScan,
    ) -> bool {
        if self.images.contains_key(&key) {
            return false;
        }
        let mut fresh = false;
        let image = match previous.remove(&key) {
            Some(image) => image,
            None => {
                fresh = true;
                scan.counts.images_read += 1;
                match read_sections_with(path, &self.options.limits) {
                    Ok(raw) => match decode(&raw, path) {
                        Ok(Some(inv)) => Image::Data(Arc::new(inv)),
                        Ok(None) => Image::NoData,
                        Err(e) => {
                            note(scan, e.to_string());
                            Image::Broken
                        }
                    },
                    Err(depinfo_read::binary_reader::ReadError::NotABinary { .. }) => Image::NoData,
                    Err(e) => {
                        note(scan, e.to_string());
                        Image::Broken
                    }
                }
            }
        };
        self.images.insert(key, image);
        fresh
    }

    /// The label, the state, and the key of the file now at the path when it differs.
    fn resolve(
        &mut self,
        dir: &Path,
        target: Option<&OsStr>,
        image: &std::fs::Metadata,
        previous: &mut BTreeMap<ImageKey, Image>,
        scan: &mut HostScan,
    ) -> (String, ExeState, Option<ImageKey>) {
        let key = ImageKey::of(image);
        let memfd = self
            .memfd_devices
            .as_ref()
            .map(|devices| devices.contains(&key.dev));
        let root = ProcessRoot::open(&dir.join("root"));
        let (label, state, on_disk) = judge(
            image.nlink(),
            memfd,
            target.map(OsStrExt::as_bytes),
            |path| root.at(path, &key).0,
        );
        if let (Some(disk), Label::Path(path)) = (on_disk, label) {
            // Read through what was found (the path may change meanwhile): the file is
            // opened again by its descriptor, and only if it is still the file judged.
            if let (AtPath::OtherFile(found), Some(file)) = root.at(path, &key)
                && found == disk
            {
                let _ = self.load(disk, &file.path(), previous, scan);
            }
        }
        let label = match label {
            Label::Path(path) => String::from_utf8_lossy(path).into_owned(),
            Label::Memfd(name) => format!("memfd:{}", String::from_utf8_lossy(name)),
            Label::Unnamed => format!(
                "(path longer than PATH_MAX: device {}:{}, inode {})",
                rustix::fs::major(key.dev),
                rustix::fs::minor(key.dev),
                key.ino
            ),
        };
        (label, state, on_disk)
    }
}

/// The label of a process's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label<'a> {
    /// The path, as the link's text gives it (the kernel's ` (deleted)` taken off).
    Path(&'a [u8]),
    /// The name of a memory file.
    Memfd(&'a [u8]),
    /// The kernel cannot name the path (longer than `PATH_MAX`).
    Unnamed,
}

/// `path` (absolute) relative to a root directory.
fn relative(path: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(path.strip_prefix(b"/").unwrap_or(path)))
}

/// What a path holds now, seen through the process's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AtPath {
    /// The running image itself.
    Image,
    /// Another regular file.
    OtherFile(ImageKey),
    /// Something that is not a regular file (a directory, a device).
    NotAFile,
    /// Nothing.
    Nothing,
    /// Cannot tell: not ours to look at, or too long to look up.
    Unknown,
}

/// A process's root directory (`/proc/PID/root`), where the paths it sees are looked up.
///
/// Symbolic links met on the way are resolved inside that root (`openat2` with
/// `RESOLVE_IN_ROOT`), as the process itself would resolve them: a container's `/usr/bin/app`
/// made a link to `/etc/shadow` names the container's file, never the host's. Kernels without
/// `openat2` (before 5.6) get the plain lookup through `/proc/PID/root`, where an absolute link
/// resolves from the exporter's root.
struct ProcessRoot {
    path: PathBuf,
    dir: Option<rustix::fd::OwnedFd>,
}

impl ProcessRoot {
    fn open(path: &Path) -> ProcessRoot {
        use rustix::fs::{Mode, OFlags};

        let dir = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok();
        ProcessRoot {
            path: path.to_owned(),
            dir,
        }
    }

    /// What `path` (the kernel's text, absolute) holds, compared with `image`; for a regular
    /// file, a path to read it by that reopens the very file found (`/proc/self/fd/N`) while
    /// the returned handle lives.
    fn at(&self, path: &[u8], image: &ImageKey) -> (AtPath, Option<FoundFile>) {
        use rustix::fs::{Mode, OFlags, ResolveFlags};

        if !path.starts_with(b"/") {
            return (AtPath::Unknown, None);
        }
        let found = match &self.dir {
            Some(dir) => match rustix::fs::openat2(
                dir,
                relative(path),
                // O_PATH: nothing is opened for reading here (a FIFO or a device stays shut).
                OFlags::PATH | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
            ) {
                Ok(fd) => {
                    let file = std::fs::File::from(fd);
                    file.metadata().map(|m| (m, Some(file)))
                }
                Err(rustix::io::Errno::NOSYS) => {
                    std::fs::metadata(self.path.join(relative(path))).map(|m| (m, None))
                }
                Err(e) => Err(e.into()),
            },
            None => std::fs::metadata(self.path.join(relative(path))).map(|m| (m, None)),
        };
        match found {
            Ok((m, _)) if ImageKey::of(&m).same_file(image) => (AtPath::Image, None),
            Ok((m, file)) if m.is_file() => {
                let reopen = match file {
                    Some(file) => FoundFile::Open(file),
                    None => FoundFile::Path(self.path.join(relative(path))),
                };
                (AtPath::OtherFile(ImageKey::of(&m)), Some(reopen))
            }
            Ok(_) => (AtPath::NotAFile, None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (AtPath::Nothing, None),
            // ENOTDIR: a component is now a file; nothing is at the path.
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => (AtPath::Nothing, None),
            Err(_) => (AtPath::Unknown, None),
        }
    }
}

/// A regular file found at a process's path, to be read.
enum FoundFile {
    /// Held open (`O_PATH`): read through `/proc/self/fd/N`, which reopens this very file.
    Open(std::fs::File),
    /// Found by a plain lookup (no `openat2`): read by the same path.
    Path(PathBuf),
}

impl FoundFile {
    /// The path to read it by.
    fn path(&self) -> PathBuf {
        use std::os::fd::AsRawFd as _;
        match self {
            FoundFile::Open(file) => PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())),
            FoundFile::Path(path) => path.clone(),
        }
    }
}

/// The kernel's mark on the link of an image whose name was unlinked.
const DELETED_MARK: &[u8] = b" (deleted)";

/// The label and state of an image, decided from its inode: `nlink`, its link count;
/// `memfd`, whether it lies on the memory files' device (None when that is unknown); `text`,
/// the link's text (None when the kernel cannot give it); `at`, what a path holds now.
///
/// The text names the path; it never decides the state alone, since a file can be named
/// `app (deleted)` or `/memfd:x`:
///
/// - on the memory files' device: `memfd` (without that device known: an image with no links
///   whose text starts with `/memfd:`);
/// - no text: `deleted` when the image has no links left, else `unknown`;
/// - a linked image whose text's path holds it: `current`, whatever the name;
/// - otherwise the path is the text less a ` (deleted)` at its end: for an image with no
///   links the kernel added it, and for a linked one whose text's path does not hold it the
///   kernel did too (that name was unlinked; the image lives on under another). What the path
///   holds then decides: another regular file is `replaced`, the image (linked again)
///   `current`, nothing or something else `deleted`;
/// - a path that cannot be looked up (not ours to search, too long): `deleted` when the image
///   has no links, else `unknown`. An image with no links is never `current`.
fn judge(
    nlink: u64,
    memfd: Option<bool>,
    text: Option<&[u8]>,
    mut at: impl FnMut(&[u8]) -> AtPath,
) -> (Label<'_>, ExeState, Option<ImageKey>) {
    let memfd_text = text.and_then(|t| t.strip_prefix(b"/memfd:"));
    if memfd.unwrap_or(nlink == 0 && memfd_text.is_some()) {
        let name = memfd_text.map_or(&b""[..], |n| n.strip_suffix(DELETED_MARK).unwrap_or(n));
        return (Label::Memfd(name), ExeState::Memfd, None);
    }
    let Some(text) = text else {
        let state = if nlink == 0 {
            ExeState::Deleted
        } else {
            ExeState::Unknown
        };
        return (Label::Unnamed, state, None);
    };
    let stripped = text.strip_suffix(DELETED_MARK);
    let (path, now) = match (nlink, stripped) {
        (0, _) => {
            let path = stripped.unwrap_or(text);
            (path, at(path))
        }
        (_, None) => (text, at(text)),
        (_, Some(path)) => match at(text) {
            found @ (AtPath::Image | AtPath::Unknown) => (text, found),
            _ => (path, at(path)),
        },
    };
    let state = match now {
        AtPath::OtherFile(disk) => return (Label::Path(path), ExeState::Replaced, Some(disk)),
        AtPath::Image if nlink > 0 => ExeState::Current,
        AtPath::Unknown if nlink > 0 => ExeState::Unknown,
        AtPath::Image | AtPath::Unknown | AtPath::NotAFile | AtPath::Nothing => ExeState::Deleted,
    };
    (Label::Path(path), state, None)
}

/// The devices of memory files (`memfd_create`, plain and on huge pages): those of memfds of
/// our own. None when a plain one cannot be made (a seccomp filter, say).
fn memfd_devices() -> Option<Vec<u64>> {
    use rustix::fs::{MemfdFlags, memfd_create};

    let device = |flags: MemfdFlags| {
        let fd = memfd_create("cargo-depinfo-probe", flags | MemfdFlags::CLOEXEC).ok()?;
        std::fs::File::from(fd).metadata().ok().map(|m| m.dev())
    };
    let mut devices = vec![device(MemfdFlags::empty())?];
    // Each huge page size has a mount of its own; hosts without huge pages refuse these.
    for huge in [
        MemfdFlags::HUGETLB,
        MemfdFlags::HUGETLB | MemfdFlags::HUGE_2MB,
        MemfdFlags::HUGETLB | MemfdFlags::HUGE_1GB,
    ] {
        devices.extend(device(huge));
    }
    Some(devices)
}

/// The `exe` link to follow, the image's metadata through it, and the link's text (None when
/// the kernel cannot give it: a path longer than `PATH_MAX`). The process's own link, or, when
/// its main thread has exited (a zombie leader), the first live thread's.
fn exe_link(
    dir: &Path,
    zombie: bool,
) -> std::io::Result<(PathBuf, std::fs::Metadata, Option<std::ffi::OsString>)> {
    let follow = |link: PathBuf| -> std::io::Result<_> {
        // Following the link works whatever the path's length; reading it does not.
        let image = std::fs::metadata(&link)?;
        let text = match std::fs::read_link(&link) {
            Ok(text) => Some(text.into_os_string()),
            Err(e) if e.raw_os_error() == Some(libc::ENAMETOOLONG) => None,
            Err(e) => return Err(e),
        };
        Ok((link, image, text))
    };
    let own = follow(dir.join("exe"));
    if own.is_ok() || !zombie {
        return own;
    }
    // Bounded: a process has at most a few thousand threads, and the first that answers wins.
    let tasks = std::fs::read_dir(dir.join("task"))?;
    tasks
        .take(4096)
        .flatten()
        .find_map(|task| follow(task.path().join("exe")).ok())
        .ok_or(
            own.err()
                .unwrap_or_else(|| std::io::ErrorKind::NotFound.into()),
        )
}

/// A failed read of a process's file: it exited, or we may not read it.
fn gone_or_unreadable(e: &std::io::Error) -> Seen {
    if is_denied(e) {
        Seen::Unreadable
    } else {
        Seen::Exited
    }
}

fn is_denied(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
}

/// Reads at most [`MAX_PROC_FILE`] bytes of a file.
fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_PROC_FILE as u64)
        .read_to_end(&mut out)?;
    Ok(out)
}

fn note(scan: &mut HostScan, message: String) {
    if scan.errors.len() < MAX_ERRORS {
        scan.errors.push(message);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use proptest::prelude::*;
    use testkit::{Scratch, dep_v0_json, elf_with_sections, zlib};

    use super::*;

    const START: u64 = 4242;

    fn stat_line(start_time: u64) -> String {
        format!("7 (app) S 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 {start_time} 0 0\n")
    }

    fn image(dir: &Path, name: &str, program: &str) -> PathBuf {
        let json = dep_v0_json((program, "1.0.0", "local"), &[]);
        let path = dir.join(name);
        std::fs::write(
            &path,
            elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]),
        )
        .unwrap();
        path
    }

    /// `proc/7` running `images/a` (the same file at its path under `root`), and `images/b`.
    fn host() -> (Scratch, PathBuf) {
        let scratch = Scratch::new("discovery-identity");
        let images = scratch.join("images");
        std::fs::create_dir_all(&images).unwrap();
        let a = image(&images, "a", "app-a");
        image(&images, "b", "app-b");
        let root = scratch.join("root");
        std::fs::create_dir_all(root.join(a.parent().unwrap().strip_prefix("/").unwrap())).unwrap();
        std::fs::hard_link(&a, root.join(a.strip_prefix("/").unwrap())).unwrap();
        let proc_root = scratch.join("proc");
        let dir = proc_root.join("7");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stat"), stat_line(START)).unwrap();
        symlink(&a, dir.join("exe")).unwrap();
        symlink(&root, dir.join("root")).unwrap();
        std::fs::write(dir.join("cgroup"), "0::/\n").unwrap();
        (scratch, proc_root)
    }

    fn programs(scan: &HostScan) -> Vec<String> {
        scan.groups
            .iter()
            .filter_map(|g| {
                g.image
                    .packages
                    .iter()
                    .find(|p| p.root)
                    .map(|p| p.name.clone())
            })
            .collect()
    }

    /// Another process took PID 7 while its image was read: a later start time.
    fn reuse_pid(dir: &Path) {
        std::fs::write(dir.join("stat"), stat_line(START + 1)).unwrap();
    }

    /// PID 7 exec'd another program while its image was read: same start time, new image.
    fn exec_other(dir: &Path) {
        let b = std::fs::read_link(dir.join("exe"))
            .unwrap()
            .with_file_name("b");
        std::fs::remove_file(dir.join("exe")).unwrap();
        symlink(b, dir.join("exe")).unwrap();
    }

    fn nothing(_: &Path) {}

    #[test]
    fn proc_files_are_read_whole_up_to_16_kib_and_cut_there() {
        let scratch = Scratch::new("discovery-capped");
        // A cgroup v1 file with a dozen hierarchies of long delegated paths: about 12 KiB.
        let line = format!("3:cpu,cpuacct:/{}\n", "d".repeat(1000));
        let cgroup = line.repeat(12);
        std::fs::write(scratch.join("cgroup"), &cgroup).unwrap();
        assert_eq!(
            read_capped(&scratch.join("cgroup")).unwrap(),
            cgroup.as_bytes()
        );
        std::fs::write(scratch.join("big"), vec![b'x'; 100 << 10]).unwrap();
        assert_eq!(read_capped(&scratch.join("big")).unwrap().len(), 16 << 10);
    }

    #[test]
    fn a_process_unchanged_during_the_reads_counts_with_its_image() {
        let (_scratch, proc_root) = host();
        let mut scanner = Scanner::new(ScanOptions::new(&proc_root));
        scanner.between_reads = Some(nothing);
        let scan = scanner.scan();
        assert_eq!(programs(&scan), ["app-a"]);
        assert_eq!(scan.groups[0].state, ExeState::Current);
        assert_eq!((scan.counts.rust, scan.counts.exited), (1, 0));
    }

    #[test]
    fn a_pid_reused_or_an_exec_during_the_reads_drops_what_was_read() {
        for hook in [reuse_pid as fn(&Path), exec_other] {
            let (_scratch, proc_root) = host();
            let mut scanner = Scanner::new(ScanOptions::new(&proc_root));
            scanner.between_reads = Some(hook);
            let scan = scanner.scan();
            assert!(scan.groups.is_empty(), "{:?}", programs(&scan));
            assert_eq!((scan.counts.rust, scan.counts.exited), (0, 1));
            assert_eq!(scan.counts.images_read, 1);
            // What was read is not kept under the old key: the next scan reads the process
            // as it is now, with no hook.
            scanner.between_reads = None;
            let again = scanner.scan();
            assert_eq!(again.counts.exited, 0);
            assert_eq!(again.counts.rust, 1);
        }
    }

    #[test]
    fn a_known_image_needs_no_second_look() {
        let (_scratch, proc_root) = host();
        let mut scanner = Scanner::new(ScanOptions::new(&proc_root));
        assert_eq!(programs(&scanner.scan()), ["app-a"]);
        // The image came from the previous scan: what it holds cannot have changed under its
        // key, so the process counts even though its stat now says otherwise.
        scanner.between_reads = Some(reuse_pid);
        let scan = scanner.scan();
        assert_eq!(programs(&scan), ["app-a"]);
        assert_eq!((scan.counts.images_read, scan.counts.exited), (0, 0));
    }

    /// A filesystem of `(path, what it holds)`; any other path holds nothing.
    fn fs<'a>(entries: &'a [(&'a str, AtPath)]) -> impl FnMut(&[u8]) -> AtPath + 'a {
        move |path| {
            entries
                .iter()
                .find(|(p, _)| p.as_bytes() == path)
                .map_or(AtPath::Nothing, |(_, at)| *at)
        }
    }

    fn judged(
        nlink: u64,
        memfd: Option<bool>,
        text: Option<&str>,
        entries: &[(&str, AtPath)],
    ) -> (String, ExeState) {
        let (label, state, _) = judge(nlink, memfd, text.map(str::as_bytes), fs(entries));
        let label = match label {
            Label::Path(p) => String::from_utf8_lossy(p).into_owned(),
            Label::Memfd(n) => format!("memfd:{}", String::from_utf8_lossy(n)),
            Label::Unnamed => "(unnamed)".to_owned(),
        };
        (label, state)
    }

    const OTHER: AtPath = AtPath::OtherFile(ImageKey {
        dev: 1,
        ino: 99,
        size: 0,
        mtime: (0, 0),
        ctime: (0, 0),
    });

    /// Regression (issue 18, defect 8): a file really named `app (deleted)` was reported as
    /// deleted with `exe=…/app`, and as replaced (compared with that file) when another file
    /// sat at `app`. The inode decides: the path in the text holds the image, so it is current.
    #[test]
    fn a_file_named_like_the_kernels_mark_is_current_under_its_own_name() {
        let text = Some("/srv/app (deleted)");
        for entries in [
            &[("/srv/app (deleted)", AtPath::Image), ("/srv/app", OTHER)][..],
            &[("/srv/app (deleted)", AtPath::Image)][..],
        ] {
            assert_eq!(
                judged(1, Some(false), text, entries),
                ("/srv/app (deleted)".to_owned(), ExeState::Current)
            );
        }
        // Deleted for real, once named `app (deleted)`: the kernel marks it a second time.
        assert_eq!(
            judged(0, Some(false), Some("/srv/app (deleted) (deleted)"), &[]),
            ("/srv/app (deleted)".to_owned(), ExeState::Deleted)
        );
    }

    /// Link count, link text, the filesystem, and the label and state expected.
    type Case<'a> = (u64, &'a str, &'a [(&'a str, AtPath)], &'a str, ExeState);

    #[test]
    fn states_come_from_the_link_count_and_what_the_path_holds() {
        let cases: [Case<'_>; 9] = [
            (
                1,
                "/a/app",
                &[("/a/app", AtPath::Image)],
                "/a/app",
                ExeState::Current,
            ),
            // Renamed over by a newer build: the old inode has no links left.
            (
                0,
                "/a/app (deleted)",
                &[("/a/app", OTHER)],
                "/a/app",
                ExeState::Replaced,
            ),
            (0, "/a/app (deleted)", &[], "/a/app", ExeState::Deleted),
            // No links, whatever the path now holds, is never current.
            (
                0,
                "/a/app (deleted)",
                &[("/a/app", AtPath::Image)],
                "/a/app",
                ExeState::Deleted,
            ),
            (
                0,
                "/a/app (deleted)",
                &[("/a/app", AtPath::Unknown)],
                "/a/app",
                ExeState::Deleted,
            ),
            // Unlinked at this name, alive under another (a hard link kept elsewhere).
            (
                1,
                "/a/app (deleted)",
                &[("/a/app", OTHER)],
                "/a/app",
                ExeState::Replaced,
            ),
            (1, "/a/app (deleted)", &[], "/a/app", ExeState::Deleted),
            // Still linked, but its directory may not be searched: nothing to judge by.
            (
                1,
                "/a/app",
                &[("/a/app", AtPath::Unknown)],
                "/a/app",
                ExeState::Unknown,
            ),
            // A mount over the path: it holds another file.
            (
                1,
                "/a/app",
                &[("/a/app", OTHER)],
                "/a/app",
                ExeState::Replaced,
            ),
        ];
        for (nlink, text, entries, label, state) in cases {
            assert_eq!(
                judged(nlink, Some(false), Some(text), entries),
                (label.to_owned(), state),
                "{nlink} {text} {entries:?}"
            );
        }
    }

    /// Regression (issue 18, defect 7): the kernel cannot name a path longer than PATH_MAX;
    /// such a process was counted as exited. Now it is judged by its inode.
    #[test]
    fn an_image_without_a_name_is_judged_by_its_inode() {
        assert_eq!(
            judged(1, Some(false), None, &[]),
            ("(unnamed)".to_owned(), ExeState::Unknown)
        );
        assert_eq!(
            judged(0, Some(false), None, &[]),
            ("(unnamed)".to_owned(), ExeState::Deleted)
        );
    }

    /// Regression (issue 18, defect 8): a memory file is told by its device, not by a text
    /// that a deleted file at `/memfd:x` also gives.
    #[test]
    fn memfd_is_decided_by_the_device_and_by_the_text_only_without_it() {
        let text = Some("/memfd:x (deleted)");
        assert_eq!(
            judged(0, Some(true), text, &[]),
            ("memfd:x".to_owned(), ExeState::Memfd)
        );
        assert_eq!(
            judged(0, Some(false), text, &[]),
            ("/memfd:x".to_owned(), ExeState::Deleted)
        );
        assert_eq!(
            judged(
                1,
                Some(false),
                text,
                &[("/memfd:x (deleted)", AtPath::Image)]
            ),
            ("/memfd:x (deleted)".to_owned(), ExeState::Current)
        );
        // Device unknown (no memfd of our own): the text and no links.
        assert_eq!(
            judged(0, None, text, &[]),
            ("memfd:x".to_owned(), ExeState::Memfd)
        );
        assert_eq!(
            judged(1, None, text, &[("/memfd:x (deleted)", AtPath::Image)]).1,
            ExeState::Current
        );
    }

    #[test]
    fn the_memfd_device_is_learnt_and_a_real_memfd_lies_on_it() {
        let devices = memfd_devices().expect("this host makes memfds");
        let fd = rustix::fs::memfd_create("probe-test", rustix::fs::MemfdFlags::CLOEXEC).unwrap();
        let dev = std::fs::File::from(fd).metadata().unwrap().dev();
        assert!(devices.contains(&dev), "{dev} not in {devices:?}");
        // A regular file is not on it.
        let scratch = Scratch::new("memfd-device");
        std::fs::write(scratch.join("f"), b"x").unwrap();
        let regular = std::fs::metadata(scratch.join("f")).unwrap().dev();
        assert!(!devices.contains(&regular));
    }

    /// A root directory for `ProcessRoot::at`, and the key of an image that lies in it.
    fn root_with_image() -> (Scratch, PathBuf, ImageKey) {
        let scratch = Scratch::new("process-root-at");
        let root = scratch.path().canonicalize().unwrap().join("root");
        std::fs::create_dir_all(root.join("srv")).unwrap();
        std::fs::write(root.join("srv/app"), b"image").unwrap();
        let key = ImageKey::of(&std::fs::metadata(root.join("srv/app")).unwrap());
        (scratch, root, key)
    }

    fn at_in(root: &Path, path: &str, key: &ImageKey) -> AtPath {
        ProcessRoot::open(root).at(path.as_bytes(), key).0
    }

    /// What a path holds is told apart on a real filesystem: the image, another regular file
    /// (readable by the path returned, which is that very file), a directory, nothing (also
    /// when a component is a file), and what cannot be looked up (a name too long, a relative
    /// text) is unknown, never nothing.
    #[test]
    fn a_path_in_a_process_root_is_looked_up_for_what_it_holds() {
        let (_scratch, root, key) = root_with_image();
        assert_eq!(at_in(&root, "/srv/app", &key), AtPath::Image);
        std::fs::write(root.join("srv/other"), b"another build").unwrap();
        let other = ImageKey::of(&std::fs::metadata(root.join("srv/other")).unwrap());
        let (found, file) = ProcessRoot::open(&root).at(b"/srv/other", &key);
        assert_eq!(found, AtPath::OtherFile(other));
        assert_eq!(
            std::fs::read(file.expect("a file to read").path()).unwrap(),
            b"another build"
        );
        assert_eq!(at_in(&root, "/srv", &key), AtPath::NotAFile);
        assert_eq!(at_in(&root, "/srv/gone", &key), AtPath::Nothing);
        // A component that is now a file (ENOTDIR): nothing is at the path.
        assert_eq!(at_in(&root, "/srv/app/inner", &key), AtPath::Nothing);
        // A name longer than a filesystem takes (ENAMETOOLONG): cannot tell.
        let long = format!("/srv/{}", "n".repeat(300));
        assert_eq!(at_in(&root, &long, &key), AtPath::Unknown);
        assert_eq!(at_in(&root, "srv/app", &key), AtPath::Unknown);
    }

    /// A FIFO at a process's path is looked at without being opened (an open for reading
    /// would wait for a writer forever and hang the scan).
    #[test]
    fn a_fifo_at_the_path_is_not_a_file_and_never_blocks_the_lookup() {
        let (_scratch, root, key) = root_with_image();
        let fifo = root.join("srv/fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo failed");
        let (tx, rx) = std::sync::mpsc::channel();
        let looking = root.clone();
        std::thread::spawn(move || {
            let _ = tx.send(at_in(&looking, "/srv/fifo", &key));
        });
        let found = rx.recv_timeout(std::time::Duration::from_secs(10));
        if found.is_err() {
            // Let the blocked lookup go before failing.
            let _ = rustix::fs::open(
                &fifo,
                rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::NONBLOCK,
                rustix::fs::Mode::empty(),
            );
        }
        assert_eq!(found, Ok(AtPath::NotAFile));
    }

    /// Magic links (`/proc/PID/fd/N`, `/proc/PID/exe`) are not followed from a process's
    /// path: a file a process holds open is not what its path holds.
    #[test]
    fn a_magic_link_on_the_path_is_not_followed() {
        let (_scratch, root, key) = root_with_image();
        let held = std::fs::File::open(root.join("srv/app")).unwrap();
        let magic = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&held));
        // Seen from the real root, where /proc is mounted.
        let found = ProcessRoot::open(Path::new("/proc/self/root")).at(magic.as_bytes(), &key);
        assert_eq!(found.0, AtPath::Unknown);
        drop(held);
    }

    /// Memory files on huge pages lie on devices of their own (one per page size): every one
    /// this host makes is known, so that a program run from one counts as `memfd`, never
    /// `deleted`.
    #[test]
    fn every_memfd_device_this_host_makes_is_learnt() {
        use rustix::fs::{MemfdFlags, memfd_create};

        let devices = memfd_devices().expect("this host makes memfds");
        for flags in [
            MemfdFlags::empty(),
            MemfdFlags::HUGETLB,
            MemfdFlags::HUGETLB | MemfdFlags::HUGE_2MB,
            MemfdFlags::HUGETLB | MemfdFlags::HUGE_1GB,
        ] {
            // A host without huge pages refuses these: it has no such device to learn.
            let Ok(fd) = memfd_create("probe-test", flags | MemfdFlags::CLOEXEC) else {
                eprintln!("this host makes no memfd with {flags:?}: not checked");
                continue;
            };
            let dev = std::fs::File::from(fd).metadata().unwrap().dev();
            assert!(
                devices.contains(&dev),
                "{flags:?}: {dev} not in {devices:?}"
            );
        }
    }

    /// A process's image is followed through its own `exe` link; only a zombie leader (its
    /// main thread gone, its link with it) is followed through a live thread's link instead.
    #[test]
    fn a_zombie_leader_is_followed_through_a_live_thread() {
        let scratch = Scratch::new("exe-link");
        let a = image(scratch.path(), "a", "app-a");
        let b = image(scratch.path(), "b", "app-b");
        let live = scratch.join("live");
        std::fs::create_dir_all(&live).unwrap();
        symlink(&a, live.join("exe")).unwrap();
        let (link, _, text) = exe_link(&live, false).unwrap();
        assert_eq!(
            (link, text),
            (live.join("exe"), Some(a.clone().into_os_string()))
        );
        // A zombie leader: no link of its own; its thread 8 runs b.
        let zombie = scratch.join("zombie");
        std::fs::create_dir_all(zombie.join("task/8")).unwrap();
        symlink(&b, zombie.join("task/8/exe")).unwrap();
        let (link, _, text) = exe_link(&zombie, true).unwrap();
        assert_eq!(
            (link, text),
            (zombie.join("task/8/exe"), Some(b.into_os_string()))
        );
        // Not a zombie: a missing link means the process is gone, whatever its threads say.
        assert!(exe_link(&zombie, false).is_err());
    }

    fn at_path_strategy() -> impl Strategy<Value = AtPath> {
        prop_oneof![
            Just(AtPath::Image),
            Just(OTHER),
            Just(AtPath::NotAFile),
            Just(AtPath::Nothing),
            Just(AtPath::Unknown),
        ]
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        /// Whatever the text and the filesystem: the label is the text or the text less one
        /// mark; an image with no links is never current or unknown; one whose text's path
        /// holds it (linked, not a memfd) is current under the full text; `replaced` comes with
        /// the file that replaced it, and nothing else does.
        #[test]
        fn judge_follows_the_inodes(
            nlink in 0u64..3,
            memfd in proptest::option::of(any::<bool>()),
            text in proptest::option::of(proptest::collection::vec(
                prop_oneof![Just(b"/memfd:".to_vec()), Just(b" (deleted)".to_vec()), Just(b"/a".to_vec()), Just(vec![0x1b]), proptest::collection::vec(any::<u8>(), 0..4)],
                0..5,
            ).prop_map(|parts| parts.concat())),
            at_text in at_path_strategy(),
            at_stripped in at_path_strategy(),
        ) {
            let text_bytes = text.clone();
            let stripped = text_bytes.as_deref().and_then(|t| t.strip_suffix(DELETED_MARK));
            let (label, state, disk) = judge(nlink, memfd, text.as_deref(), |p| {
                if Some(p) == text_bytes.as_deref() { at_text } else if Some(p) == stripped { at_stripped } else { AtPath::Nothing }
            });
            prop_assert_eq!(disk.is_some(), state == ExeState::Replaced);
            if nlink == 0 {
                prop_assert!(!matches!(state, ExeState::Current | ExeState::Unknown));
            }
            match label {
                Label::Path(p) => {
                    let t = text.as_deref().unwrap();
                    prop_assert!(p == t || Some(p) == t.strip_suffix(DELETED_MARK));
                    prop_assert!(state != ExeState::Memfd);
                }
                Label::Memfd(_) => prop_assert_eq!(state, ExeState::Memfd),
                Label::Unnamed => prop_assert!(text.is_none()),
            }
            if state == ExeState::Memfd {
                prop_assert!(memfd == Some(true) || (memfd.is_none() && nlink == 0));
            }
            if nlink > 0 && memfd == Some(false) && at_text == AtPath::Image && text.is_some() {
                prop_assert_eq!((label, state), (Label::Path(text.as_deref().unwrap()), ExeState::Current));
            }
        }
    }
}
