//! Text that is safe to show on a terminal, below every layer that shows or quotes untrusted
//! text (sources, advisories, questions, renderers, the catalog and the exporter). Values come from binaries, `/metrics` pages,
//! Prometheus answers, registry indexes, advisory databases and file names, none of them
//! trusted: a control character in one (ESC, BEL, NUL, CR, LF, DEL, the C1 controls
//! U+0080..U+009F) could clear the screen, set the window title, or forge a report line, and
//! an invisible format character could make a line read other than it is. Every
//! human-readable output goes through the one escaping here; machine-readable outputs have
//! their own writers.
//!
//! Escaped: every control character (`char::is_control`), and every invisible format
//! character ([`is_invisible_format`]): the bidirectional controls (U+061C, U+200E, U+200F,
//! U+202A..U+202E, U+2066..U+2069, which reorder what follows them: "Trojan Source"), the
//! line and paragraph separators (U+2028, U+2029), the zero-width characters (U+200B..U+200D,
//! U+2060..U+2064, U+FEFF), the soft hyphen, the tag characters (U+E0001, U+E0020..U+E007F,
//! which can carry hidden text), and the rest of Unicode's `Cf` category. Variation selectors
//! and combining marks are not escaped: they change how one character looks, not the order
//! or the visible content of the line.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is an invisible format character: Unicode's `Cf` category (as of Unicode 16)
/// and the line and paragraph separators (`Zl`, `Zp`).
#[must_use]
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// Whether `c` is escaped: a control character or an invisible format character.
fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// `value` as a terminal may show it. Unchanged when it holds no control or invisible format
/// character (the common case, and what keeps ordinary output readable); otherwise quoted the
/// way `go version -m` quotes such strings: in double quotes, with `\"`, `\\`, `\t`, `\n`,
/// `\r`, `\xHH` (other C0 controls and DEL), `\uHHHH` (C1 controls and format characters
/// such as U+202E, `\u202e`) and `\UHHHHHHHH` (format characters past U+FFFF) escapes, so the
/// quoted form tells every value apart and writes no such character.
#[must_use]
pub fn printable(value: &str) -> Cow<'_, str> {
    if !value.chars().any(needs_escape) {
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
/// control and invisible format character replaced by its escape, without quotes (the line is
/// prose, not a value). A message stays one line whatever its values hold.
#[must_use]
pub fn printable_line(line: &str) -> Cow<'_, str> {
    if !line.chars().any(needs_escape) {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(escaped_len(line, false));
    escape_into(&mut out, line, false);
    Cow::Owned(out)
}

/// The characters of `text` with every control character (`char::is_control`: C0, DEL and C1)
/// blanked to a space: how the start of a server's answer or a parser's message is quoted in
/// an error, on one line, where escapes would only add noise. Nothing else is changed; the
/// caller bounds the length (`chars().take(n)`) and trims.
pub fn blank_controls(text: impl IntoIterator<Item = char>) -> String {
    text.into_iter()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The length of `s` escaped by [`escape_into`]: one allocation of the exact size, so a
/// hostile value costs at most four times its length (`\xHH` for one byte; `\uHHHH` for two
/// or three bytes, `\UHHHHHHHH` for four), never a doubling.
fn escaped_len(s: &str, quoted: bool) -> usize {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => 2,
            '"' | '\\' if quoted => 2,
            c if needs_escape(c) && u32::from(c) < 0x80 => 4,
            c if needs_escape(c) && u32::from(c) <= 0xffff => 6,
            c if needs_escape(c) => 10,
            c => c.len_utf8(),
        })
        .sum()
}

/// The one escaping: control characters (`char::is_control`: C0, DEL and C1) and invisible
/// format characters ([`is_invisible_format`]) become escapes; inside quotes, `"` and `\` are
/// escaped too so the quoted value reads back unambiguously.
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
            c if needs_escape(c) && u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) && u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
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

    /// The escape's form changes at U+0080 (`\xHH` to `\uHHHH`) and at U+10000 (to
    /// `\UHHHHHHHH`), and its length is what was reserved for it.
    #[test]
    fn escapes_change_form_at_u0080_and_u10000() {
        for (c, escape) in [
            ('\u{1}', "\\x01"),
            ('\u{7f}', "\\x7f"),
            ('\u{80}', "\\u0080"),
            ('\u{9f}', "\\u009f"),
            ('\u{fffb}', "\\ufffb"),
            ('\u{110bd}', "\\U000110bd"),
            ('\u{e007f}', "\\U000e007f"),
        ] {
            let value = format!("a{c}b");
            assert_eq!(printable(&value), format!("\"a{escape}b\""));
            assert_eq!(printable_line(&value), format!("a{escape}b"));
            assert_eq!(escaped_len(&value, true), escape.len() + 2);
            assert_eq!(escaped_len(&value, false), escape.len() + 2);
        }
        // Quotes and backslashes: escaped inside quotes only.
        assert_eq!(escaped_len("\"\\", true), 4);
        assert_eq!(escaped_len("\"\\", false), 2);
    }

    #[test]
    fn control_characters_are_blanked_and_nothing_else_changes() {
        assert_eq!(
            blank_controls("a\nb\r\tc\x1b[2J\x7f\u{85}d".chars()),
            "a b  c [2J  d"
        );
        // Invisible format characters are not controls: blanking is for one-line messages,
        // escaping (printable_line) for what must not be misread.
        assert_eq!(blank_controls("x\u{202e}y é ✓".chars()), "x\u{202e}y é ✓");
        assert_eq!(blank_controls("abc\ndef".chars().take(4)), "abc ");
        assert_eq!(blank_controls("".chars()), "");
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
        assert!(!printable(&all).chars().any(needs_escape));
        assert!(!printable_line(&all).chars().any(needs_escape));
        assert_eq!(unquote(&printable(&all)).as_deref(), Some(all.as_str()));
    }

    /// Regression (issue 18, item 14): U+202E and the other bidirectional controls in an
    /// advisory's title reached the terminal raw, reordering the line.
    #[test]
    fn bidi_controls_and_invisible_characters_are_escaped() {
        let title = "Safe \u{202e}gnirts\u{202c} in \u{2066}crate\u{2069}";
        assert_eq!(
            printable(title),
            r#""Safe \u202egnirts\u202c in \u2066crate\u2069""#
        );
        assert_eq!(
            printable_line(title),
            r"Safe \u202egnirts\u202c in \u2066crate\u2069"
        );
        for (c, shown) in [
            ('\u{61c}', r"\u061c"),
            ('\u{200b}', r"\u200b"),
            ('\u{200d}', r"\u200d"),
            ('\u{200e}', r"\u200e"),
            ('\u{200f}', r"\u200f"),
            ('\u{202a}', r"\u202a"),
            ('\u{202b}', r"\u202b"),
            ('\u{202d}', r"\u202d"),
            ('\u{2028}', r"\u2028"),
            ('\u{2029}', r"\u2029"),
            ('\u{2060}', r"\u2060"),
            ('\u{2067}', r"\u2067"),
            ('\u{2068}', r"\u2068"),
            ('\u{feff}', r"\ufeff"),
            ('\u{ad}', r"\u00ad"),
            ('\u{e0001}', r"\U000e0001"),
            ('\u{e0041}', r"\U000e0041"),
        ] {
            assert_eq!(
                printable_line(&format!("a{c}b")),
                format!("a{shown}b"),
                "{c:?}"
            );
            assert_eq!(quoted(&c.to_string()), format!("\"{shown}\""), "{c:?}");
        }
        // Visible text of every script, and emoji without joiners, is untouched.
        for s in ["héllo", "日本語", "עברית", "العربية", "✓ 🦀"] {
            assert!(matches!(printable(s), Cow::Borrowed(_)), "{s}");
        }
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
                'U' => hex(&mut chars, 8)?,
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
            s in "(\\PC|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}\\\\\"\\u{ad}\\u{61c}\\u{200b}-\\u{200f}\\u{2028}-\\u{202e}\\u{2060}-\\u{206f}\\u{feff}\\u{e0001}\\u{e0020}-\\u{e007f}])*"
        ) {
            let shown = printable(&s);
            let line = printable_line(&s);
            proptest::prop_assert!(!shown.chars().any(needs_escape), "{:?}", shown);
            proptest::prop_assert!(!line.chars().any(needs_escape), "{:?}", line);
            if s.chars().any(needs_escape) {
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
