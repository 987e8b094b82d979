//! The prepared data every output path shares: metric families of gauge samples, each sample
//! a list of label name/value pairs and a value. Nothing here knows the text format; the one
//! writer ([`render`](crate::render)) and the registry adapters read these values.

use std::borrow::Cow;
use std::fmt;

/// A label name and value, borrowed where the caller can lend them (the collector borrows from
/// the `'static` build data).
pub(crate) type Label<'a> = (Cow<'a, str>, Cow<'a, str>);

/// One gauge metric family: a name, a HELP text and its samples, ready for
/// [`render`](crate::render).
///
/// Names are checked when the family is rendered, so building one cannot fail. Samples keep
/// the order they were pushed in, and labels the order they were given in;
/// [`sort_series`](Self::sort_series) gives the order `prometheus::Registry::gather` writes.
///
/// ```
/// use build_info_collector::{Family, render};
///
/// let mut versions = Family::gauge("crate_versions", "Distinct versions of a crate.");
/// versions.push([("name", "serde")], 2_usize);
/// versions.push([("name", "itoa")], 1_usize);
/// versions.sort_series();
/// assert_eq!(
///     render(&[versions]).unwrap(),
///     concat!(
///         "# HELP crate_versions Distinct versions of a crate.\n",
///         "# TYPE crate_versions gauge\n",
///         "crate_versions{name=\"itoa\"} 1\n",
///         "crate_versions{name=\"serde\"} 2\n",
///     )
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    pub(crate) name: Cow<'a, str>,
    /// Unescaped: each output path escapes it as its format requires.
    pub(crate) help: Cow<'a, str>,
    pub(crate) samples: Vec<Sample<'a>>,
}

/// One sample of a family: its labels in order, and its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample<'a> {
    pub(crate) labels: Vec<Label<'a>>,
    pub(crate) value: SampleValue,
}

impl<'a> Family<'a> {
    /// An empty gauge family.
    pub fn gauge(name: impl Into<Cow<'a, str>>, help: impl Into<Cow<'a, str>>) -> Family<'a> {
        Family {
            name: name.into(),
            help: help.into(),
            samples: Vec::new(),
        }
    }

    /// Adds a sample with these labels (name, value), in this order, and this value.
    pub fn push<N, V>(
        &mut self,
        labels: impl IntoIterator<Item = (N, V)>,
        value: impl Into<SampleValue>,
    ) where
        N: Into<Cow<'a, str>>,
        V: Into<Cow<'a, str>>,
    {
        let labels = labels
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        self.samples.push(Sample {
            labels,
            value: value.into(),
        });
    }

    /// Sorts the samples by their label values, in label order, and drops exact duplicates:
    /// the order `prometheus::Registry::gather` writes, so that every output path agrees and
    /// a series seen twice (one program found at two paths) is written once.
    pub fn sort_series(&mut self) {
        self.samples.sort_by(|a, b| {
            a.labels
                .iter()
                .map(|l| &l.1)
                .cmp(b.labels.iter().map(|l| &l.1))
                .then_with(|| a.value.0.total_cmp(&b.value.0))
        });
        self.samples.dedup();
    }

    /// The metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The HELP text, unescaped.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True when the family has no samples.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// The value of a sample: a float, as Prometheus stores it. Counts convert without a cast at
/// the call site; integers are written without a fraction (`3`, not `3.0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleValue(pub(crate) f64);

impl SampleValue {
    /// The value as Prometheus stores it.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl From<f64> for SampleValue {
    fn from(value: f64) -> Self {
        SampleValue(value)
    }
}

macro_rules! exact_from {
    ($($t:ty),*) => {$(
        impl From<$t> for SampleValue {
            fn from(value: $t) -> Self {
                SampleValue(f64::from(value))
            }
        }
    )*};
}
exact_from!(u8, u16, u32, i8, i16, i32);

macro_rules! count_from {
    ($($t:ty),*) => {$(
        impl From<$t> for SampleValue {
            // Prometheus stores every value as a float: counts past 2^53 round, there as here.
            #[allow(clippy::cast_precision_loss)]
            fn from(value: $t) -> Self {
                SampleValue(value as f64)
            }
        }
    )*};
}
count_from!(u64, usize, i64);

/// The value as the text format writes it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that
/// reads back as the same float (`1`, `0.25`).
impl fmt::Display for SampleValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str("NaN")
        } else if v.is_infinite() {
            f.write_str(if v.is_sign_positive() { "+Inf" } else { "-Inf" })
        } else {
            write!(f, "{v}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_as_the_text_format_reads_them() {
        let text = |v: SampleValue| v.to_string();
        assert_eq!(text(1_u8.into()), "1");
        assert_eq!(text(300_usize.into()), "300");
        assert_eq!(text((-2_i64).into()), "-2");
        assert_eq!(text(0.25.into()), "0.25");
        assert_eq!(text(f64::NAN.into()), "NaN");
        assert_eq!(text(f64::INFINITY.into()), "+Inf");
        assert_eq!(text(f64::NEG_INFINITY.into()), "-Inf");
        assert!((SampleValue::from(7_u32).get() - 7.0).abs() < f64::EPSILON);
    }

    #[test]
    fn sort_series_orders_by_label_values_then_value_and_drops_duplicates() {
        let mut f = Family::gauge("m", "h");
        f.push([("a", "2"), ("b", "x")], 1);
        f.push([("a", "1"), ("b", "z")], 1);
        f.push([("a", "1"), ("b", "y")], 5);
        f.push([("a", "1"), ("b", "y")], 4);
        f.push([("a", "2"), ("b", "x")], 1);
        f.sort_series();
        let got: Vec<(String, f64)> = f
            .samples
            .iter()
            .map(|s| {
                let values: Vec<&str> = s.labels.iter().map(|l| l.1.as_ref()).collect();
                (values.join(","), s.value.get())
            })
            .collect();
        assert_eq!(
            got,
            [
                ("1,y".to_owned(), 4.0),
                ("1,y".to_owned(), 5.0),
                ("1,z".to_owned(), 1.0),
                ("2,x".to_owned(), 1.0)
            ]
        );
        assert_eq!(f.len(), 4);
        assert!(!f.is_empty());
        assert!(Family::gauge("m", "h").is_empty());
        assert_eq!((f.name(), f.help()), ("m", "h"));
    }
}
