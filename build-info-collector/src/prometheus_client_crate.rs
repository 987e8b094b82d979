//! `prometheus-client`'s `Collector`: encodes the prepared series straight into the
//! encoder, allocating nothing.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;

use crate::collector::BuildInfoCollector;
use crate::exposition::escape_help;
use crate::series::{Family, exposition_order};

#[derive(Clone)]
pub(crate) struct Prepared {
    /// HELP texts, escaped: prometheus-client writes HELP as it is given (it escapes label
    /// values itself).
    help: [String; 2],
}

impl Prepared {
    pub(crate) fn new(families: &[Family; 2]) -> Prepared {
        Prepared {
            help: [
                escape_help(&families[0].help),
                escape_help(&families[1].help),
            ],
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.help.iter().map(String::capacity).sum()
    }
}

impl Collector for BuildInfoCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for i in exposition_order(&self.families) {
            let (family, help) = (&self.families[i], &self.prometheus_client.help[i]);
            if family.series.is_empty() {
                continue;
            }
            let mut metric =
                encoder.encode_descriptor(&family.name, help, None, MetricType::Gauge)?;
            for labels in &family.series {
                metric.encode_family(labels)?.encode_gauge(&1_i64)?;
            }
        }
        Ok(())
    }
}
