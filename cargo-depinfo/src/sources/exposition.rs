//! A parser for the Prometheus text exposition format (what `/metrics` serves), strict enough
//! to reject what Prometheus would reject: every sample line is `name{labels} value
//! [timestamp]`, label values use the format's escapes (`\\`, `\"`, `\n`). `# HELP`, `# TYPE`,
//! other comments and OpenMetrics' `# EOF` are skipped.

use std::collections::BTreeMap;

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Labels, sorted by name.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// Why an exposition is malformed: the line (1-based) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed exposition at line {line}: {problem}")]
pub struct ExpositionError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub problem: LineError,
}

/// What is wrong with one line of an exposition. Metric and label names, values and any
/// other text quoted from the page are cut to 40 characters (a page may hold anything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// The line does not start with a metric name.
    #[error("not a metric name at {0:?}")]
    NotAMetricName(String),
    /// A sample without a value.
    #[error("{0} has no value")]
    NoValue(String),
    /// The value is not separated from the name or labels.
    #[error("expected a space before the value of {0}")]
    NoSpaceBeforeValue(String),
    /// The value is not a number.
    #[error("{metric}: bad value {value:?}")]
    BadValue {
        /// The metric.
        metric: String,
        /// The value as written.
        value: String,
    },
    /// The timestamp is not a number.
    #[error("{metric}: bad timestamp {timestamp:?}")]
    BadTimestamp {
        /// The metric.
        metric: String,
        /// The timestamp as written.
        timestamp: String,
    },
    /// Something after the value and timestamp.
    #[error("{metric}: unexpected {extra:?} after the value")]
    Trailing {
        /// The metric.
        metric: String,
        /// The first extra field.
        extra: String,
    },
    /// A label set entry that does not start with a label name.
    #[error("not a label name at {0:?}")]
    NotALabelName(String),
    /// A label name not followed by `=`.
    #[error("expected '=' after label {0}")]
    NoEquals(String),
    /// A label value that does not start with `"`.
    #[error("expected '\"' to open the value of label {0}")]
    NoOpeningQuote(String),
    /// An escape other than `\\`, `\"` and `\n`.
    #[error("bad escape \\{escape} in label {label}")]
    BadEscape {
        /// The label.
        label: String,
        /// The character after the backslash.
        escape: char,
    },
    /// A label value without its closing `"`.
    #[error("unterminated value of label {0}")]
    Unterminated(String),
    /// A label given twice in one sample.
    #[error("label {0} appears twice")]
    DuplicateLabel(String),
    /// A label value followed by neither `,` nor `}`.
    #[error("expected ',' or '}}' after label {0}")]
    NoSeparator(String),
}

/// Parses a whole exposition. `keep` selects the metric names to return (others are still
/// checked for syntax, so a malformed page is an error whatever it holds).
pub fn parse(text: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<Sample>, ExpositionError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sample = parse_line(line).map_err(|problem| ExpositionError {
            line: i + 1,
            problem,
        })?;
        if keep(&sample.name) {
            out.push(sample);
        }
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<Sample, LineError> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(LineError::NotAMetricName(snippet(line)));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = parse_labels(r, &mut labels)?;
    }
    let mut fields = rest.split_ascii_whitespace();
    if rest.trim().is_empty() {
        return Err(LineError::NoValue(snippet(name)));
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(LineError::NoSpaceBeforeValue(snippet(name)));
    }
    let value = fields
        .next()
        .ok_or_else(|| LineError::NoValue(snippet(name)))?;
    let value = parse_value(value).ok_or_else(|| LineError::BadValue {
        metric: snippet(name),
        value: snippet(value),
    })?;
    if let Some(ts) = fields.next()
        && ts.parse::<i64>().is_err()
        && ts.parse::<f64>().is_err()
    {
        return Err(LineError::BadTimestamp {
            metric: snippet(name),
            timestamp: snippet(ts),
        });
    }
    if let Some(extra) = fields.next() {
        return Err(LineError::Trailing {
            metric: snippet(name),
            extra: snippet(extra),
        });
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Parses `name="value",...}` and returns what follows the `}`.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, LineError> {
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            return Ok(r);
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let label = &rest[..end];
        if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(LineError::NotALabelName(snippet(rest)));
        }
        rest = rest[end..].trim_start();
        rest = rest
            .strip_prefix('=')
            .ok_or_else(|| LineError::NoEquals(snippet(label)))?
            .trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| LineError::NoOpeningQuote(snippet(label)))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let close = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => {
                        return Err(LineError::BadEscape {
                            label: snippet(label),
                            escape: c,
                        });
                    }
                    None => return Err(LineError::Unterminated(snippet(label))),
                },
                Some((_, c)) => value.push(c),
                None => return Err(LineError::Unterminated(snippet(label))),
            }
        };
        if labels.insert(label.to_owned(), value).is_some() {
            return Err(LineError::DuplicateLabel(snippet(label)));
        }
        rest = rest[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err(LineError::NoSeparator(snippet(label)));
        }
    }
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Text from the page as quoted in an error: at most 40 characters, then `…`.
fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samples_with_escaped_labels() {
        let text = "# HELP rust_mod_info x\n# TYPE rust_mod_info gauge\n\
                    rust_mod_info{direct=\"true\",name=\"serde\",program=\"my-app\",source=\"crates.io\",version=\"1.0.219\"} 1\n\
                    myapp_build_info{branch=\"a\\\"b\\\\c\\nd\",revision=\"x\"} 1 1700000000000\n\
                    up 1\n# EOF\n";
        let s = parse(text, |n| n != "up").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels["program"], "my-app");
        assert_eq!(s[1].labels["branch"], "a\"b\\c\nd");
        assert!((s[1].value - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn rejects_malformed_lines_with_their_number() {
        for (text, want) in [
            ("ok 1\nrust_mod_info{name=\"x\" 1\n", "line 2:"),
            ("rust_mod_info{name=x} 1\n", "expected '\"'"),
            ("rust_mod_info{name=\"x\"}\n", "has no value"),
            ("rust_mod_info{name=\"x\"} one\n", "bad value"),
            ("<html>\n", "not a metric name"),
            ("a{b=\"1\",b=\"2\"} 1\n", "appears twice"),
            ("a 1 2 3\n", "unexpected"),
        ] {
            let e = parse(text, |_| true).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        assert_eq!(
            parse("ok 1\na{b=\"\\x\"} 1\n", |_| true).unwrap_err(),
            ExpositionError {
                line: 2,
                problem: LineError::BadEscape {
                    label: "b".into(),
                    escape: 'x',
                },
            }
        );
        assert_eq!(
            parse("a{b=\"\\x\"} 1\n", |_| true).unwrap_err().to_string(),
            "malformed exposition at line 1: bad escape \\x in label b"
        );
    }

    #[test]
    fn a_huge_name_or_value_is_quoted_cut_short() {
        let name = "a".repeat(100_000);
        for text in [
            format!("{name}\n"),
            format!("x {name}\n"),
            format!("x{{{name}=\"1\" 1\n"),
            format!("x 1 {name}\n"),
        ] {
            let e = parse(&text, |_| true).unwrap_err().to_string();
            assert!(e.len() < 200, "{} bytes: {}", e.len(), &e[..200]);
            assert!(e.contains("aaa…"), "{e}");
        }
    }
}
