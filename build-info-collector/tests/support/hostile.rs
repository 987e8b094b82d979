//! The hostile label values of build-info-collector's format tests (`tests/promtool.rs`,
//! `tests/metrics_facade.rs` include this file).

/// Every character the format escapes (with or without a backslash before it), control
/// characters it passes through, non-ASCII text, attempts to close the label set and start a
/// new series, and, last, the empty value.
pub const HOSTILE: &[&str] = &[
    "line\nbreak",
    "q\"uote",
    "back\\slash",
    "literal \\n, not a newline",
    "trailing\\",
    "\"",
    "\n",
    "\\",
    "tab\tcr\rnul\0esc\x1bdel\x7fbell\x07",
    "ñandú ✓",
    "x\"} 1\n# HELP evil_total Injected.\nevil_total 1\nx{a=\"",
    "",
];
