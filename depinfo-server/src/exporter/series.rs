//! A scan as Prometheus text: the families the exporter serves, built fresh from each scan so
//! that nothing outlives the processes it describes.
//!
//! - `rust_process_info{container_id,exe,pod_uid,program,revision,state,systemd_unit,version}
//!   N`: one series per image, path, state and workload, N its processes. The workload labels
//!   are empty where the process has none (Prometheus drops empty labels).
//! - `rust_build_info{deps,layout,origin="exporter",program,revision,version} 1`: once per
//!   running image with a dependency graph, `deps` the digest of its dependency list
//!   ([`Inventory::deps_list`], the list its own collector publishes with default options).
//! - `rust_mod_info{direct,name,origin="exporter",program,source,version} 1`: the collector's
//!   labels for the runtime crates of every running program, plus `origin`, which tells them
//!   from a program's own collector (see the README's rule against double counting). The
//!   layout decides which: every crate (`full`), none (`catalog`), direct ones (`direct`).
//! - `<program>_build_info{...,origin="exporter"} 1` for running binaries with build facts.
//! - `rust_mod_replaced_info{disk_version,exe,name,program,running_version} N`: for a
//!   replaced binary, each crate version that runs although the file now at its path does
//!   not carry it (`disk_version` lists what the file carries, `none` when it lacks the
//!   crate); N processes.
//! - The exporter's own `depinfo_exporter_build_info` (from its caller) and its scan figures.
//!
//! Every label value that comes from a process or a binary (paths, names, versions, build
//! facts) has its control characters escaped the way the rest of the tool prints them
//! (`\x1b`, `\n`, `\u0085`): a path or a branch can hold ESC and friends, and a label value
//! ends up on terminals, dashboards and alerts (issue 18, defect 14).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use build_info_collector::{
    DepsList, Family, Layout, RustBuildInfoLabels, render, rust_build_info_family,
    rust_mod_info_family,
};

use super::discovery::{ExeState, HostScan};
use cargo_depinfo::{LabelStyle, push_program};
use depinfo_read::inventory::Inventory;

/// The `origin` label value of every series the exporter derives from a binary.
pub const ORIGIN: &str = "exporter";

/// The label names of `rust_process_info`, sorted.
const PROCESS_LABELS: [&str; 8] = [
    "container_id",
    "exe",
    "pod_uid",
    "program",
    "revision",
    "state",
    "systemd_unit",
    "version",
];

/// The label names of `rust_mod_replaced_info`, sorted.
const REPLACED_LABELS: [&str; 5] = ["disk_version", "exe", "name", "program", "running_version"];

/// What one scan gives the HTTP side: the page `/metrics` serves and the dependency lists
/// `/deps/<digest>` serves, by digest. Both describe only the images of this scan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanPage {
    /// The Prometheus text.
    pub metrics: String,
    /// The dependency list of every running image that has a dependency graph, by digest
    /// (images with equal lists share one entry).
    pub lists: BTreeMap<String, DepsList>,
}

/// The scan as the text `/metrics` serves, in `layout`, and the dependency lists of its
/// running images. `own_build_info` is the exporter's own `<program>_build_info` family (from
/// its embedded build info), written as it is.
pub fn render_scan(
    scan: &HostScan,
    own_build_info: Option<&Family<'static>>,
    layout: Layout,
) -> ScanPage {
    let mut families: BTreeMap<String, Family<'_>> = BTreeMap::new();
    let mut lists: BTreeMap<String, DepsList> = BTreeMap::new();
    if let Some(own) = own_build_info {
        families.insert(own.name().to_owned(), own.clone());
    }
    // Two groups can give one label set (one image run from two mount namespaces at the
    // same path, say): their counts add up, so the series are summed here before pushing.
    let mut process_counts: BTreeMap<[String; 8], u64> = BTreeMap::new();
    let mut images_done = BTreeSet::new();
    let mut replaced_counts: BTreeMap<[String; 5], u64> = BTreeMap::new();
    let mut processes = Family::gauge(
        "rust_process_info",
        "Processes running one executable image with build-info or cargo-auditable data, by path, state (current, replaced, deleted, memfd; installed for a binary under --path that does not run) and workload.",
    );
    let mut mod_info = rust_mod_info_family();
    let mut build_info = rust_build_info_family();
    // Every value escaped, and `origin="exporter"` on every series derived from a binary.
    let style = LabelStyle {
        value: |value| label(value),
        origin: Some(ORIGIN),
    };
    let mut replaced = Family::gauge(
        "rust_mod_replaced_info",
        "Processes still running a crate version that the file now at their executable's path no longer carries (patched on disk, still running in memory).",
    );
    for group in &scan.groups {
        let inv: &Inventory = &group.image;
        let revision = inv.build.as_ref().map_or_else(
            || buildinfo::UNKNOWN.to_owned(),
            |b| buildinfo::revision_label(&b.revision, b.modified),
        );
        let w = &group.workload;
        *process_counts
            .entry(
                [
                    w.container_id.as_deref().unwrap_or(""),
                    group.exe.as_str(),
                    w.pod_uid.as_deref().unwrap_or(""),
                    inv.program.as_str(),
                    revision.as_str(),
                    group.state.as_str(),
                    w.systemd_unit.as_deref().unwrap_or(""),
                    inv.version.as_str(),
                ]
                .map(|v| label(v).into_owned()),
            )
            .or_default() += group.processes;
        if let (ExeState::Replaced, Some(disk)) = (group.state, &group.on_disk) {
            let on_disk: BTreeSet<(&str, &str)> = disk
                .runtime_crates()
                .map(|p| (p.name.as_str(), p.version.as_str()))
                .collect();
            for p in inv.runtime_crates() {
                if on_disk.contains(&(p.name.as_str(), p.version.as_str())) {
                    continue;
                }
                let disk_versions: Vec<&str> = on_disk
                    .iter()
                    .filter(|(name, _)| *name == p.name)
                    .map(|(_, version)| *version)
                    .collect();
                let disk_version = if disk_versions.is_empty() {
                    "none".to_owned()
                } else {
                    disk_versions.join(",")
                };
                *replaced_counts
                    .entry(
                        [
                            disk_version.as_str(),
                            group.exe.as_str(),
                            p.name.as_str(),
                            inv.program.as_str(),
                            p.version.as_str(),
                        ]
                        .map(|v| label(v).into_owned()),
                    )
                    .or_default() += group.processes;
            }
        }
        // An image's crates and build facts once, however many paths, states and workloads
        // it runs in (160 groups of 20 images would push every crate eight times).
        if group.state == ExeState::Installed || !images_done.insert(Arc::as_ptr(&group.image)) {
            continue;
        }
        // The program names its `_build_info` family and shows in its HELP text: escaped
        // there too.
        push_program(
            inv,
            style,
            |direct| layout.has_mod_info(direct),
            &mut families,
            &mut mod_info,
        );
        if let Some(list) = inv.deps_list() {
            let labels = RustBuildInfoLabels {
                // The family outlives this image's locals: these two are copied.
                deps: Cow::Owned(list.digest().to_owned()),
                layout,
                program: inv.program.as_str().into(),
                revision: Cow::Owned(revision.clone()),
                version: inv.version.as_str().into(),
            };
            build_info.push(style.pairs(labels.pairs()), 1);
            lists.entry(list.digest().to_owned()).or_insert(list);
        }
    }
    for (values, n) in process_counts {
        processes.push(PROCESS_LABELS.into_iter().zip(values), n);
    }
    for (values, n) in replaced_counts {
        replaced.push(REPLACED_LABELS.into_iter().zip(values), n);
    }
    for family in [processes, build_info, mod_info, replaced] {
        families.insert(family.name().to_owned(), family);
    }
    for family in families.values_mut() {
        family.sort_series();
    }
    families.retain(|_, f| !f.is_empty());
    families.extend(scan_figures(scan).map(|f| (f.name().to_owned(), f)));
    let metrics = render(families.values()).unwrap_or_else(|e| {
        unreachable!("names from metric_name and constants, no duplicate families: {e}")
    });
    ScanPage { metrics, lists }
}

/// A label value from a process or a binary, with its control characters escaped as the rest
/// of the tool prints them ([`cargo_depinfo::printable_line`]); unchanged (not copied) when it has none.
fn label<'a>(value: impl Into<Cow<'a, str>>) -> Cow<'a, str> {
    let value = value.into();
    let escaped = match depinfo_read::text_safety::printable_line(&value) {
        Cow::Borrowed(_) => None,
        Cow::Owned(escaped) => Some(escaped),
    };
    escaped.map_or(value, Cow::Owned)
}

/// The exporter's figures about its last scan.
fn scan_figures(scan: &HostScan) -> impl Iterator<Item = Family<'static>> {
    let c = &scan.counts;
    let mut duration = Family::gauge(
        "cargo_depinfo_exporter_scan_duration_seconds",
        "How long the last scan of the processes took.",
    );
    duration.push(
        std::iter::empty::<(&str, &str)>(),
        scan.duration.as_secs_f64(),
    );
    let mut processes = Family::gauge(
        "cargo_depinfo_exporter_processes",
        "Processes the last scan found, by result: rust (a binary with build-info or cargo-auditable data), other, kernel_thread, unreadable (permissions, hidepid), exited (during the scan).",
    );
    for (result, n) in [
        ("exited", c.exited),
        ("kernel_thread", c.kernel_threads),
        ("other", c.other),
        ("rust", c.rust),
        ("unreadable", c.unreadable),
    ] {
        processes.push([("result", result)], n);
    }
    let mut images = Family::gauge(
        "cargo_depinfo_exporter_images",
        "Distinct executable images the running processes had in the last scan, by result: rust, other, broken (unreadable data, over the limits).",
    );
    for (result, n) in [
        ("broken", c.broken_images),
        ("other", c.other_images),
        ("rust", c.rust_images),
    ] {
        images.push([("result", result)], n);
    }
    let mut read = Family::gauge(
        "cargo_depinfo_exporter_images_read",
        "Images the last scan read (the others were known from earlier scans).",
    );
    read.push(std::iter::empty::<(&str, &str)>(), c.images_read);
    [duration, images, read, processes].into_iter()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A scan of `app` (serde direct, itoa through serde, serde_derive build-only) running
    /// in two groups (two paths), `other` sharing its list, and `bare` without a graph.
    fn scan() -> HostScan {
        use crate::exporter::{Counts, ProcessGroup, Workload};
        let inventory = |name: &str, json: &str| {
            Arc::new(depinfo_read::sections::decode_dep_v0(json.as_bytes(), name.as_ref()).unwrap())
        };
        let crates = r#"{"name":"serde","version":"1.0.219","source":"crates.io","dependencies":[2]},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"},{"name":"itoa","version":"1.0.15","source":"crates.io"}"#;
        let with_root = |root: &str| {
            format!(
                r#"{{"packages":[{{"name":"{root}","version":"0.1.0","source":"local","dependencies":[1,2],"root":true}},{crates}],"format":1}}"#
            )
        };
        let app = inventory("/bin/app", &with_root("app"));
        let other = inventory("/bin/other", &with_root("other"));
        let mut bare = (*app).clone();
        bare.program = "bare".into();
        bare.packages.clear();
        let group = |image: &Arc<Inventory>, exe: &str| ProcessGroup {
            image: Arc::clone(image),
            exe: exe.into(),
            state: ExeState::Current,
            workload: Workload::default(),
            processes: 1,
            on_disk: None,
        };
        HostScan {
            groups: vec![
                group(&app, "/bin/app"),
                group(&app, "/opt/app"),
                group(&Arc::new(bare), "/bin/bare"),
                group(&other, "/bin/other"),
            ],
            counts: Counts::default(),
            duration: std::time::Duration::ZERO,
            errors: Vec::new(),
        }
    }

    fn sample_lines<'a>(page: &'a ScanPage, family: &str) -> Vec<&'a str> {
        page.metrics
            .lines()
            .filter(|l| l.strip_prefix(family).is_some_and(|r| r.starts_with('{')))
            .collect()
    }

    /// Every layout: one rust_build_info per image with a graph, with the digest of its list
    /// and the layout; the lists by digest (two programs sharing one); rust_mod_info as the
    /// layout says; rust_process_info the same in each.
    #[test]
    fn each_layout_publishes_the_digest_and_its_own_crate_series() {
        let scan = scan();
        let full = render_scan(&scan, None, Layout::Full);
        let list = scan.groups[0].image.deps_list().unwrap();
        assert_eq!(
            list.text(),
            "itoa\t1.0.15\tcrates.io\tfalse\nserde\t1.0.219\tcrates.io\ttrue\n"
        );
        assert_eq!(
            full.lists.keys().collect::<Vec<_>>(),
            [list.digest()],
            "app and other share one list; bare has none"
        );
        let d = list.digest();
        for layout in Layout::ALL {
            let page = render_scan(&scan, None, layout);
            let l = layout.as_str();
            assert_eq!(
                sample_lines(&page, "rust_build_info"),
                [
                    format!(
                        "rust_build_info{{deps=\"{d}\",layout=\"{l}\",origin=\"exporter\",program=\"app\",revision=\"unknown\",version=\"0.1.0\"}} 1"
                    ),
                    format!(
                        "rust_build_info{{deps=\"{d}\",layout=\"{l}\",origin=\"exporter\",program=\"other\",revision=\"unknown\",version=\"0.1.0\"}} 1"
                    ),
                ],
                "{layout}"
            );
            assert_eq!(page.lists, full.lists);
            assert_eq!(
                sample_lines(&page, "rust_process_info"),
                sample_lines(&full, "rust_process_info")
            );
            let mods = sample_lines(&page, "rust_mod_info");
            let expected: Vec<&str> = sample_lines(&full, "rust_mod_info")
                .into_iter()
                .filter(|m| layout.has_mod_info(m.starts_with("rust_mod_info{direct=\"true\"")))
                .collect();
            assert_eq!(mods, expected, "{layout}");
            testkit::check_metrics(&page.metrics);
        }
        // full: every runtime crate of each program, once however many paths it runs from.
        assert_eq!(sample_lines(&full, "rust_mod_info").len(), 4);
        assert!(!full.metrics.contains("serde_derive"));
        let catalog = render_scan(&scan, None, Layout::Catalog);
        assert!(
            !catalog.metrics.contains("rust_mod_info"),
            "{}",
            catalog.metrics
        );
        assert_eq!(
            sample_lines(&render_scan(&scan, None, Layout::Direct), "rust_mod_info").len(),
            2
        );
    }

    /// A running program with build facts and a control character in its name: its
    /// `_build_info` family (named and described with the name escaped), its crates, its
    /// processes, every series with `origin`.
    #[test]
    fn a_program_with_build_facts_byte_for_byte() {
        use crate::exporter::{Counts, ProcessGroup, Workload};
        let json = testkit::bldinfo_json_with_facts(r"my-svc\u001b");
        let image = Arc::new(
            cargo_depinfo::decode_bldinfo(json.as_bytes(), std::path::Path::new("bin/svc"))
                .unwrap(),
        );
        let scan = HostScan {
            groups: vec![ProcessGroup {
                image,
                exe: "/srv/my-svc".into(),
                state: ExeState::Current,
                workload: Workload::default(),
                processes: 2,
                on_disk: None,
            }],
            counts: Counts::default(),
            duration: std::time::Duration::ZERO,
            errors: Vec::new(),
        };
        let page = render_scan(&scan, None, Layout::Full);
        assert_eq!(
            page.metrics,
            concat!(
                "# HELP cargo_depinfo_exporter_images Distinct executable images the running processes had in the last scan, by result: rust, other, broken (unreadable data, over the limits).\n",
                "# TYPE cargo_depinfo_exporter_images gauge\n",
                "cargo_depinfo_exporter_images{result=\"broken\"} 0\n",
                "cargo_depinfo_exporter_images{result=\"other\"} 0\n",
                "cargo_depinfo_exporter_images{result=\"rust\"} 0\n",
                "# HELP cargo_depinfo_exporter_images_read Images the last scan read (the others were known from earlier scans).\n",
                "# TYPE cargo_depinfo_exporter_images_read gauge\n",
                "cargo_depinfo_exporter_images_read 0\n",
                "# HELP cargo_depinfo_exporter_processes Processes the last scan found, by result: rust (a binary with build-info or cargo-auditable data), other, kernel_thread, unreadable (permissions, hidepid), exited (during the scan).\n",
                "# TYPE cargo_depinfo_exporter_processes gauge\n",
                "cargo_depinfo_exporter_processes{result=\"exited\"} 0\n",
                "cargo_depinfo_exporter_processes{result=\"kernel_thread\"} 0\n",
                "cargo_depinfo_exporter_processes{result=\"other\"} 0\n",
                "cargo_depinfo_exporter_processes{result=\"rust\"} 0\n",
                "cargo_depinfo_exporter_processes{result=\"unreadable\"} 0\n",
                "# HELP cargo_depinfo_exporter_scan_duration_seconds How long the last scan of the processes took.\n",
                "# TYPE cargo_depinfo_exporter_scan_duration_seconds gauge\n",
                "cargo_depinfo_exporter_scan_duration_seconds 0\n",
                "# HELP my_svc_x1b_build_info A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which my-svc\\\\x1b was built.\n",
                "# TYPE my_svc_x1b_build_info gauge\n",
                "my_svc_x1b_build_info{branch=\"main\",features=\"default,tls\",origin=\"exporter\",profile=\"unknown\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified\",rustversion=\"unknown\",target=\"unknown\",version=\"1.4.2\"} 1\n",
                "# HELP rust_build_info A metric with a constant '1' value labeled by the program, its version and revision, the digest of its dependency list (deps) and the layout of its crate series.\n",
                "# TYPE rust_build_info gauge\n",
                "rust_build_info{deps=\"1441446d975ccb135ffefb4475dcc909\",layout=\"full\",origin=\"exporter\",program=\"my-svc\\\\x1b\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified\",version=\"1.4.2\"} 1\n",
                "# HELP rust_mod_info A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.\n",
                "# TYPE rust_mod_info gauge\n",
                "rust_mod_info{direct=\"true\",name=\"itoa\",origin=\"exporter\",program=\"my-svc\\\\x1b\",source=\"crates.io\",version=\"1.0.15\"} 1\n",
                "# HELP rust_process_info Processes running one executable image with build-info or cargo-auditable data, by path, state (current, replaced, deleted, memfd; installed for a binary under --path that does not run) and workload.\n",
                "# TYPE rust_process_info gauge\n",
                "rust_process_info{container_id=\"\",exe=\"/srv/my-svc\",pod_uid=\"\",program=\"my-svc\\\\x1b\",revision=\"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a-modified\",state=\"current\",systemd_unit=\"\",version=\"1.4.2\"} 2\n",
            )
        );
    }

    #[test]
    fn control_characters_become_the_tools_escapes() {
        assert_eq!(
            label("/tmp/a\u{1b}[31m\u{7}\u{7f}\u{9b}\n\tb"),
            "/tmp/a\\x1b[31m\\x07\\x7f\\u009b\\n\\tb"
        );
        assert!(matches!(label("/usr/bin/app \"x\" \\"), Cow::Borrowed(_)));
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        /// Whatever a path or a name holds: no control or invisible format character (a bidi
        /// override, U+2028) is left, a value without one is kept as it is, and the escaped
        /// value is at most six bytes per character more.
        #[test]
        fn label_values_carry_no_control_characters(value in any::<String>()) {
            use depinfo_read::text_safety::is_invisible_format;
            let hidden = |c: char| c.is_control() || is_invisible_format(c);
            let escaped = label(value.as_str());
            prop_assert!(!escaped.chars().any(hidden), "{:?}", escaped);
            if !value.chars().any(hidden) {
                prop_assert_eq!(&*escaped, value.as_str());
            }
            prop_assert!(escaped.len() <= 6 * value.chars().count().max(1) + value.len());
        }
    }
}
