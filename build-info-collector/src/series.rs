//! Choosing the crates and preparing every series' labels, once, at construction.

use std::borrow::Cow;

use buildinfo::DependencyKind;

use crate::exposition::{BUILD_INFO_HELP_TEMPLATE, RUST_MOD_INFO, RUST_MOD_INFO_HELP};
use crate::options::{Checked, normalize_crate_name};

/// A label name and value. Most are borrowed from the `'static` build data.
pub(crate) type Label = (Cow<'static, str>, Cow<'static, str>);

/// Every label the collector sets itself, over both families.
pub(crate) const BUILTIN_LABELS: &[&str] = &[
    "branch",
    "features",
    "profile",
    "revision",
    "rustversion",
    "target",
    "version",
    "direct",
    "name",
    "program",
    "source",
];

/// One metric family, ready to hand out: gauges of value 1, labels sorted by name, series
/// sorted by their label values (the order `prometheus::Registry::gather` sorts into).
#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) name: String,
    /// Unescaped HELP text.
    pub(crate) help: String,
    pub(crate) series: Vec<Vec<Label>>,
}

/// `<namespace>_build_info` and `rust_mod_info`, in that order.
pub(crate) fn prepare(opts: &Checked) -> [Family; 2] {
    [build_info_family(opts), rust_mod_info_family(opts)]
}

/// Indices of the families sorted by name: the order `prometheus::Registry::gather` writes
/// them in, which every output path follows (`rust_mod_info` comes first for a program named
/// `s…` or later).
pub(crate) fn exposition_order(families: &[Family; 2]) -> [usize; 2] {
    if families[0].name <= families[1].name {
        [0, 1]
    } else {
        [1, 0]
    }
}

fn build_info_family(opts: &Checked) -> Family {
    let info = opts.info;
    let labels = [
        ("branch", info.branch()),
        ("features", info.features()),
        ("profile", info.profile()),
        ("revision", info.revision_label()),
        ("rustversion", info.rust_version()),
        ("target", info.target()),
        ("version", info.version()),
    ];
    let series = with_extra_labels(
        labels
            .iter()
            .map(|&(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v))),
        opts,
    );
    Family {
        name: format!("{}_build_info", opts.namespace),
        help: BUILD_INFO_HELP_TEMPLATE.replace("{program}", &opts.program),
        series: vec![series],
    }
}

fn rust_mod_info_family(opts: &Checked) -> Family {
    let packages = opts.info.packages();
    let mut series: Vec<Vec<Label>> = packages
        .iter()
        .filter(|p| !p.is_root())
        .filter(|p| opts.build_dependencies || p.kind() == DependencyKind::Runtime)
        .filter(|p| !opts.direct_only || p.is_direct())
        .filter(|p| {
            let name = normalize_crate_name(p.name());
            (opts.allow.is_empty() || opts.allow.contains(&name)) && !opts.deny.contains(&name)
        })
        .map(|p| {
            let labels = [
                ("direct", if p.is_direct() { "true" } else { "false" }),
                ("name", p.name()),
                ("program", ""),
                ("source", p.source().as_str()),
                ("version", p.version()),
            ];
            with_extra_labels(
                labels.iter().map(|&(n, v)| {
                    let value = if n == "program" {
                        opts.program.clone()
                    } else {
                        Cow::Borrowed(v)
                    };
                    (Cow::Borrowed(n), value)
                }),
                opts,
            )
        })
        .collect();
    // The order Registry::gather sorts into, so that every output path agrees; a crate that
    // appears twice with identical labels would be a duplicate series.
    series.sort_by(|a, b| a.iter().map(|l| &l.1).cmp(b.iter().map(|l| &l.1)));
    series.dedup();
    series.shrink_to_fit();
    Family {
        name: RUST_MOD_INFO.to_owned(),
        help: RUST_MOD_INFO_HELP.to_owned(),
        series,
    }
}

/// The labels plus the extra constant labels, sorted by name.
fn with_extra_labels(labels: impl Iterator<Item = Label>, opts: &Checked) -> Vec<Label> {
    let mut all: Vec<Label> = labels.chain(opts.labels.iter().cloned()).collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.shrink_to_fit();
    all
}
