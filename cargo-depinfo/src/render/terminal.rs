//! Text that is safe to show on a terminal. Values come from binaries, `/metrics` pages,
//! Prometheus answers, registry indexes and file names, none of them trusted: a control
//! character in one (ESC, BEL, NUL, CR, LF, DEL, the C1 controls U+0080..U+009F) could clear
//! the screen, set the window title, or forge a report line. Every human-readable output goes
//! through the one escaping here; machine-readable outputs have their own writers.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `value` as a terminal may show it. Unchanged when it holds no control character (the
/// common case, and what keeps ordinary output readable); otherwise quoted the way
/// `go version -m` quotes such strings: in double quotes, with `\"`, `\\`, `\t`, `\n`, `\r`,
/// `\xHH` (other C0 controls and DEL) and `\uHHHH` (C1 controls) escapes, so the quoted form
/// tells every value apart and writes no control character.
#[must_use]
pub fn printable(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(escaped_len(value, true) + 2);
    out.push('"');
    escape_into(&mut out, value, true);
    out.push('"');
    Cow::Owned(out)
}

/// `value` always in double quotes, escaped as [`printable`] escapes: how user input is
/// echoed in an error message, where the quotes show where the input starts and ends.
#[must_use]
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(escaped_len(value, true) + 2);
    out.push('"');
    escape_into(&mut out, value, true);
    out.push('"');
    out
}

/// `text` cut to its first `max` characters, with `…` when something was cut: how any text
/// from an input is quoted in a message (a page, an answer or a flag may hold anything, at
/// length).
#[must_use]
pub fn shortened(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// A whole message line (an error or a warning on stderr) as a terminal may show it: each
/// control character replaced by its escape, without quotes (the line is prose, not a value).
/// A message stays one line whatever its values hold.
#[must_use]
pub fn printable_line(line: &str) -> Cow<'_, str> {
    if !line.chars().any(char::is_control) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(escaped_len(line, false));
    escape_into(&mut out, line, false);
    Cow::Owned(out)
}

/// The length of `s` escaped by [`escape_into`]: one allocation of the exact size, so a
/// hostile value costs at most four times its length (`\xHH` for one byte), never a doubling.
fn escaped_len(s: &str, quoted: bool) -> usize {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => 2,
            '"' | '\\' if quoted => 2,
            c if c.is_control() && u32::from(c) < 0x80 => 4,
            c if c.is_control() => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// The one escaping: control characters (`char::is_control`: C0, DEL and C1) become escapes;
/// inside quotes, `"` and `\` are escaped too so the quoted value reads back unambiguously.
fn escape_into(out: &mut String, s: &str, quoted: bool) {
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' | '\\' if quoted => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() && u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_is_always_in_quotes_and_escaped_like_printable() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted(""), "\"\"");
        for value in ["a\"b\\c\u{1b}[2J\u{85}\n", "x\u{7}y"] {
            assert_eq!(quoted(value), printable(value));
        }
        assert_eq!(quoted(&shortened("abcdef", 3)), "\"abc…\"");
    }

    #[test]
    fn text_is_shortened_on_character_boundaries() {
        assert_eq!(shortened("abc", 3), "abc");
        assert_eq!(shortened("abcd", 3), "abc…");
        assert_eq!(shortened("ééé", 2), "éé…");
        assert_eq!(shortened("", 0), "");
        assert_eq!(shortened("x", 0), "…");
    }

    #[test]
    fn plain_values_are_unchanged_and_not_copied() {
        for s in [
            "serde",
            "1.0.219",
            "crates.io",
            "",
            "a b \"c\" \\d",
            "héllo ✓",
        ] {
            assert!(matches!(printable(s), Cow::Borrowed(x) if x == s), "{s}");
            assert!(
                matches!(printable_line(s), Cow::Borrowed(x) if x == s),
                "{s}"
            );
        }
    }

    #[test]
    fn escape_sequences_bel_and_nul_are_quoted_go_style() {
        assert_eq!(printable("evil\x1b[2J\x07\0"), r#""evil\x1b[2J\x07\x00""#);
        assert_eq!(printable("a\tb\nc\rd"), r#""a\tb\nc\rd""#);
        assert_eq!(printable("del\x7f"), r#""del\x7f""#);
        assert_eq!(printable("c1\u{85}\u{9b}2J"), r#""c1\u0085\u009b2J""#);
        // Inside quotes, quotes and backslashes are escaped: no value can fake a closing quote.
        assert_eq!(printable("\x1b\"\\"), r#""\x1b\"\\""#);
    }

    #[test]
    fn a_message_line_keeps_its_words_and_loses_its_controls() {
        assert_eq!(
            printable_line("cannot read bin/a\x1b]0;pwned\x07: no such file\nerror: forged"),
            r"cannot read bin/a\x1b]0;pwned\x07: no such file\nerror: forged"
        );
    }

    #[test]
    fn no_control_character_survives_any_code_point() {
        let all: String = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .collect();
        assert!(!printable(&all).chars().any(char::is_control));
        assert!(!printable_line(&all).chars().any(char::is_control));
    }

    /// Reads a quoted value back (the inverse of [`printable`] for quoted values).
    fn unquote(q: &str) -> Option<String> {
        let inner = q.strip_prefix('"')?.strip_suffix('"')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let hex = |chars: &mut std::str::Chars<'_>, n: usize| {
                let h: String = chars.take(n).collect();
                u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
            };
            out.push(match chars.next()? {
                't' => '\t',
                'n' => '\n',
                'r' => '\r',
                '"' => '"',
                '\\' => '\\',
                'x' => hex(&mut chars, 2)?,
                'u' => hex(&mut chars, 4)?,
                _ => return None,
            });
        }
        Some(out)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 4000, ..Default::default() })]

        /// Any text, controls included: nothing of it reaches the terminal raw, a value reads
        /// back exactly (two values never look alike), and text without controls is untouched.
        #[test]
        fn any_text_is_shown_without_controls_and_reads_back(
            s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\\\\"])*"
        ) {
            let shown = printable(&s);
            let line = printable_line(&s);
            proptest::prop_assert!(!shown.chars().any(char::is_control), "{:?}", shown);
            proptest::prop_assert!(!line.chars().any(char::is_control), "{:?}", line);
            if s.chars().any(char::is_control) {
                proptest::prop_assert_eq!(shown.len(), escaped_len(&s, true) + 2);
                proptest::prop_assert_eq!(line.len(), escaped_len(&s, false));
                proptest::prop_assert_eq!(unquote(&shown), Some(s.clone()));
            } else {
                proptest::prop_assert_eq!(&*shown, s.as_str());
                proptest::prop_assert_eq!(&*line, s.as_str());
            }
        }
    }
}
