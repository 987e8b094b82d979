//! The `prometheus` crate's `Collector`: descriptors and metric families built once; a
//! scrape clones them (the trait hands out owned families).

use std::collections::BTreeMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Gauge, LabelPair, Metric, MetricFamily, MetricType};

use crate::collector::BuildInfoCollector;
use crate::series::{Family, exposition_order};

#[derive(Clone)]
pub(crate) struct Prepared {
    descs: Vec<Desc>,
    families: Vec<MetricFamily>,
}

impl Prepared {
    pub(crate) fn new(families: &[Family; 2]) -> Prepared {
        let families: Vec<&Family> = exposition_order(families)
            .iter()
            .map(|&i| &families[i])
            .filter(|f| !f.series.is_empty())
            .collect();
        let descs = families
            .iter()
            .map(|f| {
                let labels = f.series[0].iter().map(|(n, _)| n.to_string()).collect();
                // Names and labels were checked by the builder, the help is never empty.
                Desc::new(
                    f.name.clone(),
                    f.help.clone(),
                    labels,
                    BTreeMap::new().into_iter().collect(),
                )
                .unwrap_or_else(|e| unreachable!("checked names rejected: {e}"))
            })
            .collect();
        let families = families
            .iter()
            .map(|f| {
                let mut mf = MetricFamily::default();
                mf.set_name(f.name.clone());
                mf.set_help(f.help.clone());
                mf.set_field_type(MetricType::GAUGE);
                let metrics = f
                    .series
                    .iter()
                    .map(|labels| {
                        let mut m = Metric::default();
                        m.set_label(
                            labels
                                .iter()
                                .map(|(n, v)| {
                                    let mut lp = LabelPair::default();
                                    lp.set_name(n.to_string());
                                    lp.set_value(v.to_string());
                                    lp
                                })
                                .collect(),
                        );
                        let mut g = Gauge::default();
                        g.set_value(1.0);
                        m.set_gauge(g);
                        m
                    })
                    .collect();
                mf.set_metric(metrics);
                mf
            })
            .collect();
        Prepared { descs, families }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let mut bytes = self.descs.capacity() * size_of::<Desc>();
        for d in &self.descs {
            bytes += d.fq_name.capacity() + d.help.capacity();
            bytes += d
                .variable_labels
                .iter()
                .map(String::capacity)
                .sum::<usize>();
        }
        bytes += self.families.capacity() * size_of::<MetricFamily>();
        for mf in &self.families {
            bytes += mf.name().len() + mf.help().len();
            bytes += size_of_val(mf.get_metric());
            for m in mf.get_metric() {
                bytes += size_of_val(m.get_label());
                for lp in m.get_label() {
                    bytes += lp.name().len() + lp.value().len();
                }
            }
        }
        bytes
    }
}

impl Collector for BuildInfoCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.prometheus.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.prometheus.families.clone()
    }
}
