//! One scan of a `/proc` tree: every process, its executable image read once per image, its
//! state on disk and its workload, grouped per image.
//!
//! The steps are in [`Scanner`]'s docs.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::proc_files::{MAX_PROC_FILE, Workload, parse_cgroup, parse_stat};
use crate::binary_reader::{Limits, read_sections_with};
use crate::inventory::Inventory;
use crate::sections::decode;

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
}

impl ExeState {
    /// The `state` label: `current`, `replaced`, `deleted`, `memfd` or `installed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ExeState::Current => "current",
            ExeState::Replaced => "replaced",
            ExeState::Deleted => "deleted",
            ExeState::Memfd => "memfd",
            ExeState::Installed => "installed",
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
    /// The path the processes were started from, as they see it (`memfd:NAME` for memfd).
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
/// 2. `exe` is read as a link (the path the process was started from, ` (deleted)` appended by
///    the kernel once that file is gone, `/memfd:NAME` for an anonymous file) and followed
///    for the image's device and inode. A process whose main thread has exited has no `exe`;
///    one of its live threads' (`task/TID/exe`) is used.
/// 3. The image is read, through `exe`, only when no earlier process (in this scan or a
///    previous one, same device, inode, size and times) had it: a deleted or replaced binary
///    is read as it runs, not as the disk holds it now.
/// 4. The path is resolved through `root` (the process's own filesystem, a container's
///    included) and compared with the image: the same file is `current`, another file
///    `replaced` (that file is read too, for the crates it now carries), no file `deleted`.
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
        let found =
            crate::sources::binaries::inspect_paths(&self.options.paths, &self.options.limits);
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
        let Some((exe_link, target)) = exe_link(dir, stat.is_zombie()) else {
            // No image to read: a zombie, a process that just exited, or one whose link we
            // may not read.
            return match std::fs::read_link(dir.join("exe")) {
                Err(e) if is_denied(&e) => Seen::Unreadable,
                _ => Seen::Exited,
            };
        };
        let key = match std::fs::metadata(&exe_link) {
            Ok(m) => ImageKey::of(&m),
            Err(e) => return gone_or_unreadable(&e),
        };
        let fresh = self.load(key, &exe_link, previous, scan);
        let (exe, state, on_disk) = self.resolve(dir, &target, key, previous, scan);
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
                    Err(crate::ReadError::NotABinary { .. }) => Image::NoData,
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

    /// The label path, the state, and the key of the file now at the path when it differs.
    fn resolve(
        &mut self,
        dir: &Path,
        target: &OsStr,
        key: ImageKey,
        previous: &mut BTreeMap<ImageKey, Image>,
        scan: &mut HostScan,
    ) -> (String, ExeState, Option<ImageKey>) {
        let bytes = target.as_bytes();
        let (path, marked_deleted) = match bytes.strip_suffix(b" (deleted)") {
            Some(path) => (path, true),
            None => (bytes, false),
        };
        let label = String::from_utf8_lossy(path).into_owned();
        if let Some(name) = path.strip_prefix(b"/memfd:") {
            return (
                format!("memfd:{}", String::from_utf8_lossy(name)),
                ExeState::Memfd,
                None,
            );
        }
        // The path as the process sees it: under its own root.
        let relative = Path::new(OsStr::from_bytes(path.strip_prefix(b"/").unwrap_or(path)));
        let on_disk = dir.join("root").join(relative);
        match std::fs::metadata(&on_disk) {
            Ok(m) if ImageKey::of(&m).same_file(&key) => (label, ExeState::Current, None),
            Ok(m) if m.is_file() => {
                let disk_key = ImageKey::of(&m);
                let _ = self.load(disk_key, &on_disk, previous, scan);
                (label, ExeState::Replaced, Some(disk_key))
            }
            Ok(_) => (label, ExeState::Deleted, None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (label, ExeState::Deleted, None),
            // The root is not ours to read: trust the kernel's mark.
            Err(_) if marked_deleted => (label, ExeState::Deleted, None),
            Err(_) => (label, ExeState::Current, None),
        }
    }
}

/// The `exe` link to follow and its target: the process's own, or, when its main thread has
/// exited (a zombie leader), the first live thread's.
fn exe_link(dir: &Path, zombie: bool) -> Option<(PathBuf, std::ffi::OsString)> {
    let own = dir.join("exe");
    if let Ok(target) = std::fs::read_link(&own) {
        return Some((own, target.into_os_string()));
    }
    if !zombie {
        return None;
    }
    // Bounded: a process has at most a few thousand threads, and the first that answers wins.
    let tasks = std::fs::read_dir(dir.join("task")).ok()?;
    tasks.take(4096).flatten().find_map(|task| {
        let link = task.path().join("exe");
        let target = std::fs::read_link(&link).ok()?;
        Some((link, target.into_os_string()))
    })
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
}
