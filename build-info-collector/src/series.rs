//! Choosing the crates and preparing the families and the dependency list from the checked
//! options, once, at construction.

use std::borrow::Cow;

use buildinfo::{DependencyKind, Package};

use crate::deps_list::{DepsEntry, DepsList};
use crate::family::{Family, Label};
use crate::options::Checked;
use crate::schema::{
    BuildInfoLabels, RustBuildInfoLabels, RustModInfoLabels, build_info_family_in,
    rust_build_info_family, rust_mod_info_family,
};
use buildinfo::model::normalize_crate_name;

/// What a collector publishes, prepared once.
pub(crate) struct Prepared {
    /// In the order every output path writes them: sorted by name (the order
    /// `prometheus::Registry::gather` writes). A family without samples (`rust_mod_info` with
    /// no captured graph, or in the `catalog` layout) is left out, as the registry leaves it
    /// out.
    pub(crate) families: Vec<Family<'static>>,
    /// The name of `<namespace>_build_info`.
    pub(crate) build_info_name: String,
    /// The list `rust_build_info`'s `deps` label is the digest of; `None` without a captured
    /// graph.
    pub(crate) deps: Option<DepsList>,
}

pub(crate) fn prepare(opts: &Checked) -> Prepared {
    // The list holds exactly the crates the `full` layout gives a `rust_mod_info` series: both
    // come from `chosen_crates`, so the two cannot disagree.
    let deps = (!opts.info.packages().is_empty()).then(|| {
        DepsList::from_entries(chosen_crates(opts).map(|p| DepsEntry {
            name: p.name().into(),
            version: p.version().into(),
            source: p.source().as_str().into(),
            direct: p.is_direct(),
        }))
    });
    let build_info = build_info(opts);
    let build_info_name = build_info.name().to_owned();
    let mut families = vec![
        build_info,
        rust_build_info(opts, deps.as_ref()),
        rust_mod_info(opts),
    ];
    families.retain(|f| !f.is_empty());
    families.sort_by(|a, b| a.name().cmp(b.name()));
    families.shrink_to_fit();
    Prepared {
        families,
        build_info_name,
        deps,
    }
}

/// The crates the `full` layout gives a `rust_mod_info` series, with these options: every
/// package but the root, runtime only unless build dependencies are asked for, direct only
/// when asked, the allow list (when not empty) and then the deny list. The one choice the
/// series and the dependency list are made from.
fn chosen_crates(opts: &Checked) -> impl Iterator<Item = Package> + '_ {
    opts.info
        .packages()
        .iter()
        .filter(|p| !p.is_root())
        .filter(|p| opts.build_dependencies || p.kind() == DependencyKind::Runtime)
        .filter(|p| !opts.direct_only || p.is_direct())
        .filter(|p| {
            let name = normalize_crate_name(p.name());
            (opts.allow.is_empty() || opts.allow.contains(&name)) && !opts.deny.contains(&name)
        })
}

fn build_info(opts: &Checked) -> Family<'static> {
    let labels = BuildInfoLabels::of(opts.info);
    let mut family = build_info_family_in(&opts.namespace, &opts.program);
    family.push(with_extra_labels(labels.pairs(), opts), 1);
    family
}

fn rust_build_info(opts: &Checked, deps: Option<&DepsList>) -> Family<'static> {
    let labels = RustBuildInfoLabels {
        deps: deps.map_or(Cow::Borrowed(""), |d| Cow::Owned(d.digest().to_owned())),
        layout: opts.layout,
        program: opts.program.clone(),
        // As `<namespace>_build_info` has it.
        revision: BuildInfoLabels::of(opts.info).revision,
        version: opts.info.version().into(),
    };
    let mut family = rust_build_info_family();
    family.push(with_extra_labels(labels.pairs(), opts), 1);
    family
}

fn rust_mod_info(opts: &Checked) -> Family<'static> {
    let mut family = rust_mod_info_family();
    for p in chosen_crates(opts).filter(|p| opts.layout.has_mod_info(p.is_direct())) {
        let labels = RustModInfoLabels {
            direct: p.is_direct(),
            name: p.name().into(),
            program: opts.program.clone(),
            source: p.source().as_str().into(),
            version: p.version().into(),
        };
        family.push(with_extra_labels(labels.pairs(), opts), 1);
    }
    // A crate that appears twice with identical labels would be a duplicate series.
    family.sort_series();
    family.samples.shrink_to_fit();
    family
}

/// The labels plus the extra constant labels, sorted by name.
fn with_extra_labels(
    labels: impl IntoIterator<Item = (&'static str, Cow<'static, str>)>,
    opts: &Checked,
) -> Vec<Label<'static>> {
    let mut all: Vec<Label<'static>> = labels
        .into_iter()
        .map(|(name, value)| (Cow::Borrowed(name), value))
        .chain(opts.labels.iter().cloned())
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all.shrink_to_fit();
    all
}
