//! Choosing the crates and preparing both families from the checked options, once, at
//! construction.

use std::borrow::Cow;

use buildinfo::DependencyKind;

use crate::crate_name::normalize_crate_name;
use crate::family::{Family, Label};
use crate::options::Checked;
use crate::schema::{
    BuildInfoLabels, RustModInfoLabels, build_info_family_in, rust_mod_info_family,
};

/// The families to expose, in the order every output path writes them: sorted by name (the
/// order `prometheus::Registry::gather` writes; `rust_mod_info` comes first for a program named
/// `s…` or later). A family without samples (no captured graph) is left out, as the registry
/// leaves it out.
pub(crate) fn prepare(opts: &Checked) -> Vec<Family<'static>> {
    let mut families = vec![build_info(opts), rust_mod_info(opts)];
    families.retain(|f| !f.is_empty());
    families.sort_by(|a, b| a.name().cmp(b.name()));
    families.shrink_to_fit();
    families
}

fn build_info(opts: &Checked) -> Family<'static> {
    let labels = BuildInfoLabels::of(opts.info);
    let mut family = build_info_family_in(&opts.namespace, &opts.program);
    family.push(with_extra_labels(labels.pairs(), opts), 1);
    family
}

fn rust_mod_info(opts: &Checked) -> Family<'static> {
    let mut family = rust_mod_info_family();
    for p in opts
        .info
        .packages()
        .iter()
        .filter(|p| !p.is_root())
        .filter(|p| opts.build_dependencies || p.kind() == DependencyKind::Runtime)
        .filter(|p| !opts.direct_only || p.is_direct())
        .filter(|p| {
            let name = normalize_crate_name(p.name());
            (opts.allow.is_empty() || opts.allow.contains(&name)) && !opts.deny.contains(&name)
        })
    {
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
