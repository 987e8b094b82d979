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
#[error("malformed exposition at line {line}: {message}")]
pub struct ExpositionError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
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
        let err = |message: String| ExpositionError {
            line: i + 1,
            message,
        };
        let sample = parse_line(line).map_err(err)?;
        if keep(&sample.name) {
            out.push(sample);
        }
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("not a metric name at {:?}", snippet(line)));
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = parse_labels(r, &mut labels)?;
    }
    let mut fields = rest.split_ascii_whitespace();
    if rest.trim().is_empty() {
        return Err(format!("{name} has no value"));
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(format!("expected a space before the value of {name}"));
    }
    let value = fields
        .next()
        .ok_or_else(|| format!("{name} has no value"))?;
    let value = parse_value(value).ok_or_else(|| format!("{name}: bad value {value:?}"))?;
    if let Some(ts) = fields.next()
        && ts.parse::<i64>().is_err()
        && ts.parse::<f64>().is_err()
    {
        return Err(format!("{name}: bad timestamp {ts:?}"));
    }
    if let Some(extra) = fields.next() {
        return Err(format!("{name}: unexpected {extra:?} after the value"));
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
) -> Result<&'a str, String> {
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
            return Err(format!("not a label name at {:?}", snippet(rest)));
        }
        rest = rest[end..].trim_start();
        rest = rest
            .strip_prefix('=')
            .ok_or_else(|| format!("expected '=' after label {label}"))?
            .trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("expected '\"' to open the value of label {label}"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let close = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => return Err(format!("bad escape \\{c} in label {label}")),
                    None => return Err(format!("unterminated value of label {label}")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value of label {label}")),
            }
        };
        if labels.insert(label.to_owned(), value).is_some() {
            return Err(format!("label {label} appears twice"));
        }
        rest = rest[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err(format!("expected ',' or '}}' after label {label}"));
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

fn snippet(s: &str) -> String {
    s.chars().take(40).collect()
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
    }
}
