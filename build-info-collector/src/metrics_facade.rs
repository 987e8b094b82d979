//! The `metrics` facade's side: each prepared family described once and each of its samples
//! set as a gauge, on whatever recorder is installed (global, or local to the caller's thread).
//!
//! The names, HELP texts, label names and values are the prepared families' own, unescaped:
//! the recorder escapes them for its format.

use metrics::Label;

use crate::family::Family;

/// Describes every family and sets every sample's gauge to its value.
pub(crate) fn register(families: &[Family<'static>]) {
    for family in families {
        metrics::describe_gauge!(family.name.clone(), family.help.clone());
        for sample in &family.samples {
            let labels: Vec<Label> = sample
                .labels
                .iter()
                .map(|(name, value)| Label::new(name.clone(), value.clone()))
                .collect();
            metrics::gauge!(family.name.clone(), labels).set(sample.value.get());
        }
    }
}
