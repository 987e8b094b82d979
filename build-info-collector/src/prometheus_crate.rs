//! The `prometheus` crate's side: descriptors and metric families built once from the prepared
//! families; a scrape clones them (the trait hands out owned families).

use prometheus::core::Desc;
use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};

use crate::family::{Family, Sample};

#[derive(Clone)]
pub(crate) struct Prepared {
    descs: Vec<Desc>,
    families: Vec<MetricFamily>,
}

impl Prepared {
    /// `families` in exposition order, none empty: the registry sorts by name too, and leaves
    /// empty families out.
    pub(crate) fn new(families: &[Family<'_>]) -> Prepared {
        Prepared {
            descs: families.iter().map(desc).collect(),
            families: families.iter().map(metric_family).collect(),
        }
    }

    pub(crate) fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    pub(crate) fn collect(&self) -> Vec<MetricFamily> {
        self.families.clone()
    }
}

/// The descriptor: the variable labels are the first sample's label names (every sample of the
/// collector's families has the same label names).
fn desc(family: &Family<'_>) -> Desc {
    let labels = family.samples.first().map_or_else(Vec::new, |s| {
        s.labels.iter().map(|(name, _)| name.to_string()).collect()
    });
    // The one writer rendered these families before, and checked every name. No constant
    // labels (an empty map: nothing to order).
    Desc::new(
        family.name().to_owned(),
        family.help().to_owned(),
        labels,
        std::iter::empty().collect(),
    )
    .unwrap_or_else(|e| unreachable!("checked names rejected: {e}"))
}

fn metric_family(family: &Family<'_>) -> MetricFamily {
    let mut mf = MetricFamily::default();
    mf.set_name(family.name().to_owned());
    mf.set_help(family.help().to_owned());
    mf.set_field_type(MetricType::GAUGE);
    mf.set_metric(family.samples.iter().map(metric).collect());
    mf
}

fn metric(sample: &Sample<'_>) -> Metric {
    let mut m = Metric::default();
    m.set_label(
        sample
            .labels
            .iter()
            .map(|(name, value)| {
                let mut pair = LabelPair::default();
                pair.set_name(name.to_string());
                pair.set_value(value.to_string());
                pair
            })
            .collect(),
    );
    let mut gauge = Gauge::default();
    gauge.set_value(sample.value.get());
    m.set_gauge(gauge);
    m
}
