//! The one writer of the Prometheus text exposition format (`text/plain; version=0.0.4`):
//! metric and label names, escaping, and rendering any families. The collector's own text and
//! cargo-depinfo's textfile output both come from [`render`].

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::family::Family;

/// A family [`render`] refuses: the text would not be a valid exposition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// Not a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
    #[error("invalid metric name {name:?}: a metric name matches [a-zA-Z_:][a-zA-Z0-9_:]*")]
    MetricName {
        /// The name as given.
        name: String,
    },
    /// Not a label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
    #[error("invalid label name {name:?} in {metric}: a label name matches [a-zA-Z_][a-zA-Z0-9_]*")]
    LabelName {
        /// The family.
        metric: String,
        /// The label name as given.
        name: String,
    },
    /// One sample names the same label twice.
    #[error("label {name:?} is given twice in a sample of {metric}")]
    DuplicateLabel {
        /// The family.
        metric: String,
        /// The label name.
        name: String,
    },
    /// Two families have the same name: a second HELP and TYPE line would make the text invalid.
    #[error("metric family {name:?} is given twice")]
    DuplicateFamily {
        /// The family name.
        name: String,
    },
}

/// The families as text, in the order given, each with its HELP (escaped) and TYPE lines and
/// its samples in their order; a family without samples still gets its HELP and TYPE lines.
/// Every name is checked first, so the text is either valid or not written at all.
///
/// Label values are escaped (`\` → `\\`, `"` → `\"`, newline → `\n`); everything else, other
/// control characters and non-ASCII text included, goes through as it is, as the format
/// allows. HELP escapes `\` and newline only.
///
/// ```
/// use build_info_collector::{Family, render};
///
/// let mut f = Family::gauge("app_info", "Built from\na \\ branch.");
/// f.push([("branch", "fix \"x\"\nmain")], 1);
/// assert_eq!(
///     render(&[f]).unwrap(),
///     concat!(
///         "# HELP app_info Built from\\na \\\\ branch.\n",
///         "# TYPE app_info gauge\n",
///         "app_info{branch=\"fix \\\"x\\\"\\nmain\"} 1\n",
///     )
/// );
/// ```
pub fn render<'f, 'a: 'f>(
    families: impl IntoIterator<Item = &'f Family<'a>> + Clone,
) -> Result<String, RenderError> {
    check(families.clone())?;
    let mut out = String::new();
    for family in families {
        write_family(&mut out, family);
    }
    Ok(out)
}

fn check<'f, 'a: 'f>(
    families: impl IntoIterator<Item = &'f Family<'a>>,
) -> Result<(), RenderError> {
    let mut names = BTreeSet::new();
    for family in families {
        let metric = family.name();
        if !is_metric_name(metric) {
            return Err(RenderError::MetricName {
                name: metric.to_owned(),
            });
        }
        if !names.insert(metric) {
            return Err(RenderError::DuplicateFamily {
                name: metric.to_owned(),
            });
        }
        for sample in &family.samples {
            for (i, (name, _)) in sample.labels.iter().enumerate() {
                if !is_label_name(name) {
                    return Err(RenderError::LabelName {
                        metric: metric.to_owned(),
                        name: name.to_string(),
                    });
                }
                // Samples carry a handful of labels: a quadratic scan beats a set here.
                if sample.labels[..i].iter().any(|(seen, _)| seen == name) {
                    return Err(RenderError::DuplicateLabel {
                        metric: metric.to_owned(),
                        name: name.to_string(),
                    });
                }
            }
        }
    }
    Ok(())
}

fn write_family(out: &mut String, family: &Family<'_>) {
    out.push_str("# HELP ");
    out.push_str(family.name());
    out.push(' ');
    out.push_str(&escape_help(family.help()));
    out.push_str("\n# TYPE ");
    out.push_str(family.name());
    out.push_str(" gauge\n");
    for sample in &family.samples {
        out.push_str(family.name());
        let mut separator = '{';
        for (name, value) in &sample.labels {
            out.push(separator);
            out.push_str(name);
            out.push_str("=\"");
            push_label_value(out, value);
            out.push('"');
            separator = ',';
        }
        if separator == ',' {
            out.push('}');
        }
        out.push(' ');
        let _ = write!(out, "{}", sample.value);
        out.push('\n');
    }
}

/// `name` made a valid metric name: every character outside `[a-zA-Z0-9_:]` becomes `_`, and
/// a leading digit gets a `_` in front.
///
/// ```
/// assert_eq!(build_info_collector::metric_name("my-app"), "my_app");
/// assert_eq!(build_info_collector::metric_name("2fa.svc"), "_2fa_svc");
/// assert_eq!(build_info_collector::metric_name("café"), "caf_");
/// assert_eq!(build_info_collector::metric_name("acme:shop"), "acme:shop");
/// ```
pub fn metric_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.starts_with(|c: char| c.is_ascii_digit()) || name.is_empty() {
        out.push('_');
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// True for a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// True for a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Appends a label value escaped as the text format requires: `\` → `\\`, `"` → `\"`,
/// newline → `\n`. Everything else, non-ASCII text included, goes through as it is.
///
/// ```
/// let mut out = String::new();
/// build_info_collector::push_label_value(&mut out, "fix \"a\\b\"\nmain");
/// assert_eq!(out, r#"fix \"a\\b\"\nmain"#);
/// ```
pub fn push_label_value(out: &mut String, value: &str) {
    push_escaped(out, value, true);
}

/// HELP text escaped as the text format requires: `\` → `\\`, newline → `\n`. Borrowed when
/// there is nothing to escape, so that an adapter writing HELP at scrape time allocates
/// nothing for ordinary text.
pub(crate) fn escape_help(help: &str) -> Cow<'_, str> {
    if help.contains(['\\', '\n']) {
        let mut out = String::with_capacity(help.len() + 8);
        push_escaped(&mut out, help, false);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(help)
    }
}

fn push_escaped(out: &mut String, value: &str, quote: bool) {
    let mut last = 0;
    for (i, b) in value.bytes().enumerate() {
        let escaped = match b {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        out.push_str(&value[last..i]);
        out.push_str(escaped);
        last = i + 1;
    }
    out.push_str(&value[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        let mut out = String::new();
        push_label_value(&mut out, "a\\b\"c\nd\té→\r\0");
        assert_eq!(out, "a\\\\b\\\"c\\nd\té→\r\0");
    }

    #[test]
    fn help_keeps_quotes() {
        assert_eq!(escape_help("a \"b\"\\\n"), "a \"b\"\\\\\\n");
        assert!(matches!(escape_help("plain \"x\""), Cow::Borrowed(_)));
        assert!(matches!(escape_help("a\\"), Cow::Owned(_)));
        assert!(matches!(escape_help("a\n"), Cow::Owned(_)));
    }

    #[test]
    fn names() {
        for good in ["a:b_c9", ":a", "_", "Z"] {
            assert!(is_metric_name(good), "{good}");
        }
        for bad in ["9a", "a-b", "-a", ""] {
            assert!(!is_metric_name(bad), "{bad}");
        }
        for good in ["_team", "Team9"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["te:am", ":team", "9team", "té", ""] {
            assert!(!is_label_name(bad), "{bad}");
        }
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("9"), "_9");
        assert_eq!(metric_name("my-app"), "my_app");
        assert_eq!(metric_name("a:b_C9"), "a:b_C9");
    }

    fn family(name: &str, labels: &[(&'static str, &'static str)]) -> Family<'static> {
        let mut f = Family::gauge(name.to_owned(), "h");
        f.push(labels.iter().copied(), 1);
        f
    }

    #[test]
    fn render_writes_every_family_in_order_with_its_values() {
        let mut b = Family::gauge("b", "Counts.");
        b.push([("x", "1")], 3_usize);
        b.push(std::iter::empty::<(&str, &str)>(), 0.5);
        let a = Family::gauge("a:total", "Nothing yet.");
        assert_eq!(
            render(&[b, a]).unwrap(),
            "# HELP b Counts.\n# TYPE b gauge\nb{x=\"1\"} 3\nb 0.5\n\
             # HELP a:total Nothing yet.\n# TYPE a:total gauge\n"
        );
        assert_eq!(render(&[]).unwrap(), "");
    }

    #[test]
    fn render_refuses_invalid_names_and_duplicates() {
        assert_eq!(
            render(&[family("my-app", &[])]),
            Err(RenderError::MetricName {
                name: "my-app".into()
            })
        );
        assert_eq!(
            render(&[family("m", &[("a", "1"), ("te-am", "x")])]),
            Err(RenderError::LabelName {
                metric: "m".into(),
                name: "te-am".into()
            })
        );
        assert_eq!(
            render(&[family("m", &[("a", "1"), ("b", "2"), ("a", "3")])]),
            Err(RenderError::DuplicateLabel {
                metric: "m".into(),
                name: "a".into()
            })
        );
        assert_eq!(
            render(&[family("m", &[]), family("n", &[]), family("m", &[])]),
            Err(RenderError::DuplicateFamily { name: "m".into() })
        );
        assert_eq!(
            RenderError::LabelName {
                metric: "m".into(),
                name: "te-am".into()
            }
            .to_string(),
            "invalid label name \"te-am\" in m: a label name matches [a-zA-Z_][a-zA-Z0-9_]*"
        );
        assert!(render(&[family("m:x", &[("a", "1"), ("b", "1")]), family("n", &[])]).is_ok());
    }
}
