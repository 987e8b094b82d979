//! `prometheus-client`'s side: encodes the prepared families straight into the encoder, with
//! HELP texts escaped once, at construction.

use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;

use crate::exposition::escape_help;
use crate::family::{Family, SampleValue};

/// Each family's HELP escaped for the text format: prometheus-client writes HELP as it is
/// given (it escapes label values itself), so a program name with a newline would otherwise
/// start a line of its own.
pub(crate) fn escaped_helps(families: &[Family<'_>]) -> Box<[Box<str>]> {
    families
        .iter()
        .map(|f| escape_help(f.help()).into())
        .collect()
}

/// `families` in exposition order, none empty, with their [`escaped_helps`].
pub(crate) fn encode(
    families: &[Family<'_>],
    helps: &[Box<str>],
    mut encoder: DescriptorEncoder<'_>,
) -> Result<(), std::fmt::Error> {
    for (family, help) in families.iter().zip(helps) {
        let mut metric = encoder.encode_descriptor(family.name(), help, None, MetricType::Gauge)?;
        for sample in &family.samples {
            let mut gauge = metric.encode_family(&sample.labels)?;
            match whole(sample.value) {
                Some(n) => gauge.encode_gauge(&n)?,
                None => gauge.encode_gauge(&sample.value.get())?,
            }
        }
    }
    Ok(())
}

/// The value as an integer when it is one: prometheus-client writes a float `1` as `1.0`,
/// the other paths write `1`.
fn whole(value: SampleValue) -> Option<i64> {
    /// 2^63: every whole float in [-2^63, 2^63) is an i64.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let v = value.get();
    // Whole and in range, so the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    ((-TWO_POW_63..TWO_POW_63).contains(&v) && v.fract() == 0.0).then_some(v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_are_integers() {
        assert_eq!(whole(1_u8.into()), Some(1));
        assert_eq!(whole((-3_i64).into()), Some(-3));
        assert_eq!(whole((-9_223_372_036_854_775_808.0).into()), Some(i64::MIN));
        assert_eq!(whole(9_223_372_036_854_775_808.0.into()), None);
        assert_eq!(whole(0.5.into()), None);
        assert_eq!(whole(f64::NAN.into()), None);
        assert_eq!(whole(f64::INFINITY.into()), None);
    }
}
