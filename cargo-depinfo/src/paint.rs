//! Colour for the text answers: which words a terminal shows in colour, and whether it does.
//! Colour only repeats what the words already say (a severity, a verdict): the text renderers
//! write the same words with or without it, and [`Paint::plain`] adds no byte at all.
//!
//! Whether to colour follows cargo: `--color auto|always|never`, else `CARGO_TERM_COLOR`, else
//! auto; auto colours only a terminal that is not `dumb`, and only when `NO_COLOR` is unset or
//! empty (<https://no-color.org>). An explicit `always` (the flag or `CARGO_TERM_COLOR`) wins
//! over `NO_COLOR`.

use std::ffi::OsStr;
use std::fmt;

use anstyle::{AnsiColor, Style};
use depinfo_read::text_safety::{quoted, shortened};

/// The most characters of `CARGO_TERM_COLOR` echoed in its error.
const MAX_ECHOED: usize = 40;

/// What a word says, and so how it is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tone {
    /// Found: a vulnerability, a critical or high severity, an affected program, a major
    /// release behind, a crate over `--max-versions`. Bold red.
    Danger,
    /// Worth a look: a medium severity, a minor release behind, a crate in several versions,
    /// a version that cannot be judged. Yellow.
    Caution,
    /// Clean: nothing found. Green.
    Clean,
}

impl Tone {
    /// The SGR style of the tone.
    fn style(self) -> Style {
        match self {
            Tone::Danger => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            Tone::Caution => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            Tone::Clean => Style::new().fg_color(Some(AnsiColor::Green.into())),
        }
    }
}

/// How text renderers write coloured words: plain (no byte added) or with ANSI SGR escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Paint {
    ansi: bool,
}

impl Paint {
    /// No colour: the words alone.
    #[must_use]
    pub const fn plain() -> Paint {
        Paint { ansi: false }
    }

    /// Colour by ANSI SGR escapes: each coloured word is preceded by its style and followed by
    /// the reset, `ESC[0m`.
    #[must_use]
    pub const fn ansi() -> Paint {
        Paint { ansi: true }
    }

    /// Whether escapes are written.
    #[must_use]
    pub const fn is_ansi(self) -> bool {
        self.ansi
    }

    /// `text` in `tone`: a value to format (`{}`), escapes around it only with [`Paint::ansi`].
    #[must_use]
    pub fn tone<T: fmt::Display>(self, tone: Option<Tone>, text: T) -> Painted<T> {
        let style = match tone {
            Some(t) if self.ansi => t.style(),
            _ => Style::new(),
        };
        Painted { style, text }
    }

    /// The paint for a stream: `when` (the flag, else `CARGO_TERM_COLOR` as `env` gives it,
    /// else auto); auto colours when `is_terminal`, `TERM` is not `dumb` and `NO_COLOR` is
    /// unset or empty. `env` reads a variable (`std::env::var_os` in the binary).
    ///
    /// # Errors
    ///
    /// `CARGO_TERM_COLOR` (read only without a flag) is none of `auto`, `always`, `never`.
    pub fn choose(
        when: Option<When>,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
        is_terminal: bool,
    ) -> Result<Paint, PaintError> {
        let when = match when {
            Some(w) => w,
            None => match env("CARGO_TERM_COLOR") {
                None => When::Auto,
                Some(v) => When::parse(&v).ok_or_else(|| {
                    let v = v.to_string_lossy();
                    PaintError::CargoTermColor(quoted(&shortened(&v, MAX_ECHOED)))
                })?,
            },
        };
        let ansi = match when {
            When::Always => true,
            When::Never => false,
            When::Auto => {
                let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
                let dumb = env("TERM").is_some_and(|t| t == "dumb");
                is_terminal && !no_color && !dumb
            }
        };
        Ok(Paint { ansi })
    }
}

/// [`Paint::tone`]'s answer: the text with its escapes, when there are any.
#[derive(Debug, Clone, Copy)]
pub struct Painted<T> {
    style: Style,
    text: T,
}

impl<T: fmt::Display> fmt::Display for Painted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An empty style writes nothing, its reset nothing either.
        write!(
            f,
            "{}{}{}",
            self.style,
            self.text,
            self.style.render_reset()
        )
    }
}

/// When to colour: `--color` and `CARGO_TERM_COLOR`'s values, as cargo takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum When {
    /// Colour when writing to a terminal that is not `dumb`, unless `NO_COLOR` is set.
    Auto,
    /// Always colour, even into a pipe or a file, and even with `NO_COLOR` set.
    Always,
    /// Never colour.
    Never,
}

impl When {
    /// `auto`, `always` or `never`, exactly (as cargo reads `CARGO_TERM_COLOR`).
    fn parse(value: &OsStr) -> Option<When> {
        match value.to_str()? {
            "auto" => Some(When::Auto),
            "always" => Some(When::Always),
            "never" => Some(When::Never),
            _ => None,
        }
    }
}

/// A colour setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaintError {
    /// `CARGO_TERM_COLOR` holds something else than `auto`, `always` or `never` (quoted,
    /// escaped).
    #[error("CARGO_TERM_COLOR={0} is not one of auto, always, never")]
    CargoTermColor(String),
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;

    /// An environment holding only `vars`.
    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn colours(when: Option<When>, vars: &[(&str, &str)], terminal: bool) -> bool {
        Paint::choose(when, env(vars), terminal).unwrap().is_ansi()
    }

    #[test]
    fn plain_adds_no_byte_and_ansi_wraps_the_word_in_its_style_and_a_reset() {
        for tone in [
            Some(Tone::Danger),
            Some(Tone::Caution),
            Some(Tone::Clean),
            None,
        ] {
            assert_eq!(Paint::plain().tone(tone, "high").to_string(), "high");
        }
        let ansi = Paint::ansi();
        assert_eq!(
            ansi.tone(Some(Tone::Danger), "critical").to_string(),
            "\x1b[1m\x1b[31mcritical\x1b[0m"
        );
        assert_eq!(
            ansi.tone(Some(Tone::Caution), "medium").to_string(),
            "\x1b[33mmedium\x1b[0m"
        );
        assert_eq!(
            ansi.tone(Some(Tone::Clean), "0 vulnerabilities")
                .to_string(),
            "\x1b[32m0 vulnerabilities\x1b[0m"
        );
        // No tone: the word alone, even with colour on.
        assert_eq!(ansi.tone(None, "low").to_string(), "low");
        // Any displayable value; the width of a padded cell is the text's.
        assert_eq!(
            ansi.tone(Some(Tone::Caution), 3).to_string(),
            "\x1b[33m3\x1b[0m"
        );
    }

    #[test]
    fn auto_colours_only_a_terminal_that_is_not_dumb_without_no_color() {
        assert!(colours(None, &[("TERM", "xterm")], true));
        assert!(colours(None, &[], true));
        assert!(!colours(None, &[("TERM", "xterm")], false));
        assert!(!colours(None, &[("TERM", "dumb")], true));
        // no-color.org: any non-empty value disables colour, an empty one does not.
        assert!(!colours(None, &[("NO_COLOR", "1")], true));
        assert!(!colours(None, &[("NO_COLOR", "false")], true));
        assert!(colours(None, &[("NO_COLOR", "")], true));
        assert!(!colours(Some(When::Auto), &[("NO_COLOR", "1")], true));
    }

    #[test]
    fn the_flag_wins_over_cargo_term_color_and_always_over_no_color() {
        let bogus = [("CARGO_TERM_COLOR", "bogus")];
        assert!(colours(Some(When::Always), &[("NO_COLOR", "1")], false));
        assert!(colours(Some(When::Always), &[("TERM", "dumb")], false));
        assert!(!colours(Some(When::Never), &[("TERM", "xterm")], true));
        // A flag is used without reading CARGO_TERM_COLOR: a bad value there is no error.
        assert!(!colours(Some(When::Never), &bogus, true));
        assert!(colours(None, &[("CARGO_TERM_COLOR", "always")], false));
        assert!(!colours(None, &[("CARGO_TERM_COLOR", "never")], true));
        assert!(colours(None, &[("CARGO_TERM_COLOR", "auto")], true));
        // `CARGO_TERM_COLOR=always` is as explicit as the flag: NO_COLOR does not undo it.
        assert!(colours(
            None,
            &[("CARGO_TERM_COLOR", "always"), ("NO_COLOR", "1")],
            false
        ));
    }

    #[test]
    fn a_bad_cargo_term_color_is_an_error_naming_it() {
        for (value, shown) in [
            ("bogus", "\"bogus\""),
            ("Always", "\"Always\""),
            ("", "\"\""),
            ("\x1b[2J", "\"\\x1b[2J\""),
        ] {
            let e = Paint::choose(None, env(&[("CARGO_TERM_COLOR", value)]), true).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("CARGO_TERM_COLOR={shown} is not one of auto, always, never")
            );
        }
    }
}
