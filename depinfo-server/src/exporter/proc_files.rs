//! Parsers of the `/proc/PID` files the exporter reads: `stat` and `cgroup`.
//!
//! Pure functions over bytes the caller read with a cap ([`MAX_PROC_FILE`]): no I/O, no
//! panics, output bounded by the input. A process can name itself anything (its `comm` may
//! hold spaces, parentheses and newlines) and a delegated cgroup tree can hold any name, so
//! nothing here trusts the text's shape.

/// The most bytes read from one `/proc/PID` file. `stat` is under 1 KiB; `cgroup` a line per v1 hierarchy (a dozen) of paths of a few hundred bytes.
pub const MAX_PROC_FILE: usize = 16 * 1024;

/// The kernel's `PF_KTHREAD` flag in `/proc/PID/stat`'s `flags` field.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The fields of `/proc/PID/stat` the exporter uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stat {
    /// The state letter (`R`, `S`, `Z`, ...).
    pub state: char,
    /// The parent's PID.
    pub ppid: i64,
    /// The kernel's `PF_*` flags.
    pub flags: u64,
    /// Start time after boot, in clock ticks: with the PID, the process's identity (a reused
    /// PID has a later start time).
    pub start_time: u64,
}

impl Stat {
    /// A kernel thread (no executable image).
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// A zombie: exited, not yet reaped. A thread-group leader in this state while other
    /// threads live is a process whose main thread has exited.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// Why a `/proc` file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcParseError {
    /// No `(comm)` in `stat`.
    #[error("stat: no closing parenthesis after the command name")]
    NoComm,
    /// A `stat` field is missing or not a number.
    #[error("stat: field {field} is missing or malformed")]
    Field {
        /// The field's number, 1-based as in proc(5).
        field: usize,
    },
}

/// Parses `/proc/PID/stat`. The command name is the text between the first `(` and the last
/// `)`: it may contain both, and spaces.
pub fn parse_stat(text: &[u8]) -> Result<Stat, ProcParseError> {
    let close = text
        .iter()
        .rposition(|&b| b == b')')
        .ok_or(ProcParseError::NoComm)?;
    if !text[..close].contains(&b'(') {
        return Err(ProcParseError::NoComm);
    }
    // Fields 3 onwards, separated by single spaces; the last one ends with a newline.
    let rest = &text[close + 1..];
    // At most the 20 fields up to the start time (field 22) are kept.
    let fields: Vec<&[u8]> = rest
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty())
        .take(20)
        .collect();
    let field = |n: usize| {
        fields
            .get(n - 3)
            .copied()
            .ok_or(ProcParseError::Field { field: n })
    };
    let state = match field(3)? {
        [c] if c.is_ascii_alphabetic() => char::from(*c),
        _ => return Err(ProcParseError::Field { field: 3 }),
    };
    let ppid = number::<i64>(field(4)?).ok_or(ProcParseError::Field { field: 4 })?;
    let flags = number::<u64>(field(9)?).ok_or(ProcParseError::Field { field: 9 })?;
    let start_time = number::<u64>(field(22)?).ok_or(ProcParseError::Field { field: 22 })?;
    Ok(Stat {
        state,
        ppid,
        flags,
        start_time,
    })
}

fn number<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// Where a process runs, from its cgroup path: the labels the exporter adds where they exist.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Workload {
    /// The container ID (64 hexadecimal digits for docker, containerd, CRI-O and podman).
    pub container_id: Option<String>,
    /// The Kubernetes pod UID, with dashes.
    pub pod_uid: Option<String>,
    /// The systemd service unit (`nginx.service`), for processes outside containers.
    pub systemd_unit: Option<String>,
}

/// Parses `/proc/PID/cgroup`: lines `hierarchy-ID:controllers:path`. The cgroup v2 line
/// (`0::/path`) wins, then v1's `name=systemd` line, then any other line with a path that
/// names something.
pub fn parse_cgroup(text: &[u8]) -> Workload {
    let mut v2 = None;
    let mut systemd = None;
    let mut other = None;
    for line in text.split(|&b| b == b'\n') {
        let mut parts = line.splitn(3, |&b| b == b':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(path) = std::str::from_utf8(path) else {
            continue;
        };
        if id == b"0" && controllers.is_empty() {
            v2.get_or_insert(path);
        } else if controllers == b"name=systemd" {
            systemd.get_or_insert(path);
        } else if other.is_none() && workload_of_path(path) != Workload::default() {
            other = Some(path);
        }
    }
    // A hybrid host has a v2 line of `/` beside real v1 paths: take the first that names
    // something.
    [v2, systemd, other]
        .into_iter()
        .flatten()
        .map(workload_of_path)
        .find(|w| *w != Workload::default())
        .unwrap_or_default()
}

/// The workload a cgroup path names. Layouts recognised (systemd and cgroupfs drivers):
///
/// - docker: `/docker/<id>`, `/system.slice/docker-<id>.scope`
/// - podman: `/machine.slice/libpod-<id>.scope`, `.../libpod-<id>.scope/container`
/// - Kubernetes (containerd, CRI-O, docker): `/kubepods.slice/kubepods-<qos>.slice/
///   kubepods-<qos>-pod<uid>.slice/cri-containerd-<id>.scope` (`crio-`, `docker-`), and
///   `/kubepods/<qos>/pod<uid>/<id>`
/// - systemd: the last `*.service` component.
pub fn workload_of_path(path: &str) -> Workload {
    let mut workload = Workload::default();
    for component in path.split('/') {
        if let Some(uid) = pod_uid(component) {
            workload.pod_uid = Some(uid);
        } else if let Some(id) = container_id(component) {
            workload.container_id = Some(id.to_owned());
        } else if is_service_unit(component) {
            workload.systemd_unit = Some(component.to_owned());
        }
    }
    // A unit outside the container (the runtime's own `docker.service` above it) is not the
    // process's; inside a container the container is the answer.
    if workload.container_id.is_some() {
        workload.systemd_unit = None;
    }
    workload
}

/// A pod UID from `pod<uid>` or `kubepods-<qos>-pod<uid_with_underscores>.slice`.
fn pod_uid(component: &str) -> Option<String> {
    let component = component.strip_suffix(".slice").unwrap_or(component);
    let at = component.rfind("pod")?;
    let before = &component[..at];
    if !(before.is_empty() || before.starts_with("kubepods") && before.ends_with('-')) {
        return None;
    }
    let uid = component[at + 3..].replace('_', "-");
    let hex = uid.chars().filter(char::is_ascii_hexdigit).count();
    let ok = uid.len() == 36 && hex == 32 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    ok.then_some(uid)
}

/// A container ID: 64 hexadecimal digits, alone or as `<runtime>-<id>.scope`.
fn container_id(component: &str) -> Option<&str> {
    let id = match component.strip_suffix(".scope") {
        Some(scope) => {
            let (runtime, id) = scope.rsplit_once('-')?;
            if !matches!(
                runtime,
                "docker" | "cri-containerd" | "crio" | "libpod" | "containerd"
            ) {
                return None;
            }
            id
        }
        None => component,
    };
    (id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// A systemd service unit name: `name.service`, in systemd's unit-name alphabet.
fn is_service_unit(component: &str) -> bool {
    component.len() <= 256
        && component.len() > ".service".len()
        && component.ends_with(".service")
        && component
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ID: &str = "3f1c2a9e0b7d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6";
    const UID: &str = "0b5d2c1e-7f3a-4e2b-9c1d-5a6b7c8d9e0f";

    #[test]
    fn stat_with_parentheses_and_spaces_in_the_name() {
        let text = b"4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let stat = parse_stat(text).unwrap();
        assert_eq!(
            stat,
            Stat {
                state: 'S',
                ppid: 1,
                flags: 4_194_560,
                start_time: 987_654
            }
        );
        assert!(!stat.is_kernel_thread());
    }

    #[test]
    fn kernel_thread_flag() {
        let text = b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        assert!(parse_stat(text).unwrap().is_kernel_thread());
    }

    #[test]
    fn truncated_stat_names_the_field() {
        assert_eq!(
            parse_stat(b"1 (init) S 0 1 1 0 -1 4194560 1"),
            Err(ProcParseError::Field { field: 22 })
        );
        assert_eq!(parse_stat(b"1 init S"), Err(ProcParseError::NoComm));
    }

    #[test]
    fn zombies_and_state_letters() {
        let stat = |state: &str| {
            parse_stat(
                format!("9 (app) {state} 1 9 9 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 77 0 0\n")
                    .as_bytes(),
            )
        };
        assert!(stat("Z").unwrap().is_zombie());
        assert!(!stat("S").unwrap().is_zombie());
        assert_eq!(stat("Z").unwrap().start_time, 77);
        for bad in ["1", "?", "ZZ"] {
            assert_eq!(stat(bad), Err(ProcParseError::Field { field: 3 }), "{bad}");
        }
    }

    #[test]
    fn cgroup_lines_are_chosen_v2_then_systemd_then_the_first_other() {
        let b = "b".repeat(64);
        let c = "c".repeat(64);
        let container = |text: String| parse_cgroup(text.as_bytes()).container_id;
        let scope = |id: &str| format!("/system.slice/docker-{id}.scope");
        // The v2 line wins over v1's name=systemd line and over the others.
        assert_eq!(
            container(format!("1:name=systemd:/docker/{b}\n0::{}\n", scope(ID))).as_deref(),
            Some(ID)
        );
        // Only `0::` is the v2 line: another hierarchy with no controllers is not.
        assert_eq!(
            container(format!("5::/docker/{b}\n0::{}\n", scope(ID))).as_deref(),
            Some(ID)
        );
        // A hybrid host: v2 at `/` names nothing, so name=systemd decides, before the others.
        assert_eq!(
            container(format!(
                "12:cpu:/docker/{b}\n1:name=systemd:{}\n0::/\n",
                scope(ID)
            ))
            .as_deref(),
            Some(ID)
        );
        // Among the other lines, the first that names something.
        assert_eq!(
            container(format!(
                "3:cpu:/\n4:memory:/docker/{b}\n5:pids:/docker/{c}\n"
            ))
            .as_deref(),
            Some(b.as_str())
        );
    }

    #[test]
    fn service_units_need_a_name_of_at_most_256_bytes() {
        let unit = |name: &str| workload_of_path(&format!("/system.slice/{name}")).systemd_unit;
        assert_eq!(unit("a.service").as_deref(), Some("a.service"));
        assert_eq!(
            unit("getty@tty1.service").as_deref(),
            Some("getty@tty1.service")
        );
        let longest = format!("{}.service", "a".repeat(248));
        assert_eq!(unit(&longest), Some(longest.clone()));
        for not_a_unit in [".service", "a.scope", "a b.service", &format!("a{longest}")] {
            assert_eq!(unit(not_a_unit), None, "{not_a_unit}");
        }
    }

    #[test]
    fn pod_uids_have_the_uuid_shape_after_pod_or_a_kubepods_prefix() {
        let pod = |component: &str| workload_of_path(&format!("/{component}/{ID}")).pod_uid;
        let under = UID.replace('-', "_");
        assert_eq!(pod(&format!("pod{UID}")).as_deref(), Some(UID));
        assert_eq!(
            pod(&format!("kubepods-besteffort-pod{under}.slice")).as_deref(),
            Some(UID)
        );
        for not_a_pod in [
            format!("xpod{UID}"),
            format!("my-pod{UID}"),
            format!("kubepodspod{UID}"),
            format!("pod{}", UID.replacen('-', "a", 1)),
            format!("pod{}", &UID[1..]),
            format!("pod{}", UID.replacen('0', "g", 1)),
        ] {
            assert_eq!(pod(&not_a_pod), None, "{not_a_pod}");
        }
    }

    #[test]
    fn cgroup_layouts() {
        let cases = [
            (
                format!("0::/system.slice/docker-{ID}.scope\n"),
                Some(ID),
                None,
                None,
            ),
            (
                format!("12:pids:/docker/{ID}\n0::/\n"),
                Some(ID),
                None,
                None,
            ),
            (
                format!(
                    "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{}.slice/cri-containerd-{ID}.scope\n",
                    UID.replace('-', "_")
                ),
                Some(ID),
                Some(UID),
                None,
            ),
            (
                format!("0::/kubepods/besteffort/pod{UID}/{ID}\n"),
                Some(ID),
                Some(UID),
                None,
            ),
            (
                format!(
                    "0::/kubepods.slice/kubepods-pod{}.slice/crio-{ID}.scope\n",
                    UID.replace('-', "_")
                ),
                Some(ID),
                Some(UID),
                None,
            ),
            (
                format!("0::/machine.slice/libpod-{ID}.scope/container\n"),
                Some(ID),
                None,
                None,
            ),
            (
                "0::/system.slice/nginx.service\n".to_owned(),
                None,
                None,
                Some("nginx.service"),
            ),
            (
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/my-app@2.service\n"
                    .to_owned(),
                None,
                None,
                Some("my-app@2.service"),
            ),
            (
                "1:name=systemd:/system.slice/cron.service\n2:cpu:/\n0::/\n".to_owned(),
                None,
                None,
                Some("cron.service"),
            ),
            (
                "0::/user.slice/user-1000.slice/session-3.scope\n".to_owned(),
                None,
                None,
                None,
            ),
            ("0::/\n".to_owned(), None, None, None),
        ];
        for (text, id, uid, unit) in cases {
            let w = parse_cgroup(text.as_bytes());
            assert_eq!(
                (
                    w.container_id.as_deref(),
                    w.pod_uid.as_deref(),
                    w.systemd_unit.as_deref()
                ),
                (id, uid, unit),
                "{text}"
            );
        }
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        #[test]
        fn stat_never_panics(text in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_stat(&text);
        }

        #[test]
        fn stat_reads_back_any_name_and_numbers(
            comm in "[ -~\n]{0,16}",
            state in "[RSDZTtXI]",
            ppid in 0i64..4_000_000,
            flags in any::<u32>(),
            start in any::<u64>(),
        ) {
            let text = format!(
                "123 ({comm}) {state} {ppid} 1 1 0 -1 {flags} 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0\n"
            );
            let stat = parse_stat(text.as_bytes()).unwrap();
            prop_assert_eq!(stat.state.to_string(), state);
            prop_assert_eq!((stat.ppid, stat.flags, stat.start_time), (ppid, u64::from(flags), start));
        }

        #[test]
        fn cgroup_output_is_bounded_and_well_formed(text in "[0-9a-z:/._@\\-\n]{0,400}") {
            let w = parse_cgroup(text.as_bytes());
            if let Some(id) = &w.container_id {
                prop_assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()));
                prop_assert!(w.systemd_unit.is_none());
            }
            if let Some(uid) = &w.pod_uid {
                prop_assert_eq!(uid.len(), 36);
            }
            if let Some(unit) = &w.systemd_unit {
                prop_assert!(unit.ends_with(".service") && unit.len() <= 256);
                prop_assert!(text.contains(unit.as_str()));
            }
        }

        #[test]
        fn cgroup_finds_a_container_anywhere(prefix in "(/[a-z]{1,8}(\\.slice)?){0,4}", runtime in "(docker|cri-containerd|crio|libpod)") {
            let text = format!("0::{prefix}/{runtime}-{ID}.scope\n");
            let w = parse_cgroup(text.as_bytes());
            prop_assert_eq!(w.container_id.as_deref(), Some(ID));
        }

        #[test]
        fn cgroup_never_panics(text in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_cgroup(&text);
        }
    }
}
