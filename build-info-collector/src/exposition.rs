//! The Prometheus text exposition format: metric names, escaping, and rendering prepared
//! families once at construction.

use crate::series::{Family, exposition_order};

/// The name of the per-crate family. Fixed for every program, like Go's `go_mod_info`, so that
/// one query covers every service.
pub const RUST_MOD_INFO: &str = "rust_mod_info";

/// HELP of [`RUST_MOD_INFO`], the same for every program so that several programs in one
/// exposition stay valid.
pub const RUST_MOD_INFO_HELP: &str = "A metric with a constant '1' value labeled by the name, version and source of each crate a program was built with.";

/// HELP of `<program>_build_info`; `{program}` stands for the program name.
pub const BUILD_INFO_HELP_TEMPLATE: &str = "A metric with a constant '1' value labeled by version, revision, branch, rustversion, target, profile and features from which {program} was built.";

/// `name` made a valid metric name: every character outside `[a-zA-Z0-9_:]` becomes `_`, and
/// a leading digit gets a `_` in front.
///
/// ```
/// assert_eq!(build_info_collector::metric_name("my-app"), "my_app");
/// assert_eq!(build_info_collector::metric_name("2fa.svc"), "_2fa_svc");
/// assert_eq!(build_info_collector::metric_name("café"), "caf_");
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

/// HELP text escaped as the text format requires: `\` → `\\`, newline → `\n`.
pub(crate) fn escape_help(help: &str) -> String {
    let mut out = String::with_capacity(help.len());
    push_escaped(&mut out, help, false);
    out
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

/// The families as text, exactly as `prometheus::TextEncoder` writes them from a registry
/// holding only this collector. Families without series are left out.
pub(crate) fn render(families: &[Family; 2]) -> String {
    let mut out = String::new();
    for family in exposition_order(families)
        .map(|i| &families[i])
        .iter()
        .filter(|f| !f.series.is_empty())
    {
        out.push_str("# HELP ");
        out.push_str(&family.name);
        out.push(' ');
        out.push_str(&escape_help(&family.help));
        out.push_str("\n# TYPE ");
        out.push_str(&family.name);
        out.push_str(" gauge\n");
        for series in &family.series {
            out.push_str(&family.name);
            let mut separator = '{';
            for (name, value) in series {
                out.push(separator);
                out.push_str(name);
                out.push_str("=\"");
                push_label_value(&mut out, value);
                out.push('"');
                separator = ',';
            }
            if separator == ',' {
                out.push('}');
            }
            out.push_str(" 1\n");
        }
    }
    out.shrink_to_fit();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        let mut out = String::new();
        push_label_value(&mut out, "a\\b\"c\nd\té→");
        assert_eq!(out, "a\\\\b\\\"c\\nd\té→");
    }

    #[test]
    fn help_keeps_quotes() {
        assert_eq!(escape_help("a \"b\"\\\n"), "a \"b\"\\\\\\n");
    }

    #[test]
    fn names() {
        assert!(is_metric_name("a:b_c9"));
        assert!(!is_metric_name("9a"));
        assert!(!is_metric_name(""));
        assert!(is_label_name("_team"));
        assert!(!is_label_name("te:am"));
        assert!(!is_label_name("té"));
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("my-app"), "my_app");
    }
}
