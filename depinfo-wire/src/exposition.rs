//! A parser for what `/metrics` pages serve: the Prometheus text format (`text/plain;
//! version=0.0.4`) and the OpenMetrics text format (`application/openmetrics-text`), read
//! straight from the body's bytes.
//!
//! Only the samples the caller keeps are parsed strictly (every sample line is `name{labels}
//! value [timestamp]`, label values use the format's escapes `\\`, `\"`, `\n`; in OpenMetrics
//! an exemplar ` # {labels} value [timestamp]` may follow): a page is one scrape of many
//! exporters' families, and one odd line elsewhere (an exemplar on a counter, a newer syntax)
//! must not hide ours. Every other line only needs to start with a metric name (or be a
//! comment), so that an HTML login page is still an error and not an empty answer.
//!
//! OpenMetrics pages end with `# EOF` and hold nothing after it. There, a family declared
//! `# TYPE X info` exposes its samples as `X_info`: a family `rust_mod` gives the usual
//! `rust_mod_info` samples, and a family `rust_mod_info` of type info gives `rust_mod_info_info`,
//! which is read as `rust_mod_info`.
//!
//! Nothing is copied: [`Sample`]s borrow the body (or, read as it arrives with
//! [`parse_reader`], the read buffer), and label values are unescaped only when they hold an
//! escape. Expansion is bounded too: a kept sample whose label value passes
//! [`MAX_LABEL_VALUE`], or whose line passes [`MAX_LINE`], is skipped and counted
//! ([`Skipped`]), never copied, and the page's other samples still count.

use std::borrow::Cow;

/// The most labels a kept sample may carry (our families have fewer than ten); the bound keeps
/// the duplicate-label check cheap on a hostile line.
pub const MAX_LABELS: usize = 64;

/// Which text format a page is in, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text format, version 0.0.4 (also what a missing or unknown
    /// `Content-Type` means, as Prometheus falls back to it).
    Text,
    /// The OpenMetrics text format (1.0.0 or 0.0.1).
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` names: `application/openmetrics-text` (any version) is
    /// OpenMetrics, anything else (or nothing) the classic text format.
    pub fn from_content_type(content_type: Option<&str>) -> Format {
        let media_type = content_type
            .and_then(|c| c.split(';').next())
            .unwrap_or("")
            .trim();
        if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}

/// One kept sample, borrowed from the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    /// Metric name (`rust_mod_info` also for an OpenMetrics `rust_mod_info_info` sample).
    pub name: &'a str,
    /// The text between `{` and `}`, already checked.
    labels: &'a str,
    /// The value.
    pub value: f64,
}

impl<'a> Sample<'a> {
    /// The labels in page order, values unescaped.
    pub fn labels(&self) -> Labels<'a> {
        Labels { rest: self.labels }
    }

    /// The value of label `name`, unescaped.
    pub fn label(&self, name: &str) -> Option<Cow<'a, str>> {
        self.labels().find(|(k, _)| *k == name).map(|(_, v)| v)
    }
}

/// The labels of a [`Sample`]: `(name, value)` in page order.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Labels<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        // The text was checked by `check_labels`; anything unexpected ends the iteration.
        let rest = self.rest.trim_start();
        let name_end = rest.find(|c: char| !is_label_char(c)).unwrap_or(rest.len());
        if name_end == 0 {
            self.rest = "";
            return None;
        }
        let name = &rest[..name_end];
        let after = rest[name_end..]
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let Some(quoted) = after.strip_prefix('"') else {
            self.rest = "";
            return None;
        };
        let close = closing_quote(quoted)?;
        let raw = &quoted[..close];
        let tail = quoted[close + 1..].trim_start();
        self.rest = tail.strip_prefix(',').unwrap_or(tail);
        Some((name, unescape(raw)))
    }
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
    /// More than [`MAX_LABELS`] labels on one sample.
    #[error("{0} has more than {max} labels", max = MAX_LABELS)]
    TooManyLabels(String),
    /// A kept sample whose line is not UTF-8.
    #[error("{0}: the line is not UTF-8")]
    NotUtf8(String),
    /// A kept sample written with a quoted name (`{"name", …}`), which we do not read.
    #[error("quoted metric name {0:?} (not supported)")]
    QuotedName(String),
    /// An OpenMetrics exemplar (` # {labels} value [timestamp]`) that is malformed.
    #[error("{0}: malformed exemplar")]
    BadExemplar(String),
    /// An OpenMetrics page that does not end with `# EOF` (cut short?).
    #[error("the OpenMetrics page does not end with '# EOF'")]
    NoEof,
    /// Content after an OpenMetrics page's `# EOF`.
    #[error("content after '# EOF'")]
    AfterEof,
    /// A label value of a kept sample longer than `MAX_LABEL_VALUE` (4 KiB) (the sample is
    /// skipped).
    #[error("the value of label {label} is longer than {max} bytes", max = MAX_LABEL_VALUE)]
    ValueTooLong {
        /// The label.
        label: String,
    },
    /// A kept sample on a line longer than `MAX_LINE` (64 KiB) (the sample is skipped).
    #[error("{0}: the line is longer than {max} bytes", max = MAX_LINE)]
    LineTooLong(String),
}

/// The longest label value of a kept sample, in bytes as written (4 KiB: crate names are at
/// most 64 characters, versions, sources and program names a few dozen; a branch name or a
/// revision is far below it). A sample with a longer value is skipped and counted, never
/// copied: see [`Skipped`].
pub const MAX_LABEL_VALUE: usize = 4 << 10;

/// The longest line of a kept sample, in bytes (64 KiB: our samples take a few hundred). When
/// a page is read as it arrives ([`parse_reader`]), no more of any line is held; a kept
/// sample on a longer line is skipped and counted.
pub const MAX_LINE: usize = 64 << 10;

/// The kept samples a page held that were skipped for their size (a label value longer than
/// [`MAX_LABEL_VALUE`], a line longer than [`MAX_LINE`]): the rest of the page still counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// How many kept samples were skipped.
    pub count: usize,
    /// The first of them: its line and why.
    pub first: Option<ExpositionError>,
}

/// Parses a page in `format` and calls `each` with every sample whose metric name `keep`
/// selects, in page order. Kept samples are checked strictly; other lines only need to start
/// with a metric name. Uses no memory beyond the error and the unescaped label values the
/// caller asks for. Kept samples too large to read are skipped and counted in the answer.
///
/// # Errors
///
/// The first malformed kept sample, a line that is neither a comment nor starts with a metric
/// name, or (OpenMetrics) a missing `# EOF` or content after it.
#[cfg(any(test, feature = "test-util"))]
pub fn parse<'a>(
    body: &'a [u8],
    format: Format,
    keep: impl Fn(&str) -> bool,
    mut each: impl FnMut(Sample<'a>),
) -> Result<Skipped, ExpositionError> {
    let mut parser = Parser::new(format);
    let mut pos = 0;
    while pos < body.len() {
        let end = memchr::memchr(b'\n', &body[pos..]).map_or(body.len(), |i| pos + i);
        parser.line(&body[pos..end], &keep, &mut each)?;
        pos = end + 1;
    }
    parser.finish()
}

/// Why a page read as it arrives gave no samples.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// Reading failed (the reader's error, as it came).
    #[error(transparent)]
    Read(std::io::Error),
    /// The page is malformed.
    #[error(transparent)]
    Exposition(#[from] ExpositionError),
}

/// [`parse`] over a page read as it arrives: memory is one read buffer and at most
/// [`MAX_LINE`] bytes of a line cut by it, whatever the page's size and its lines' length.
///
/// # Errors
///
/// As [`parse`], or the reader's error.
pub fn parse_reader(
    mut reader: impl std::io::Read,
    format: Format,
    keep: impl Fn(&str) -> bool,
    mut each: impl FnMut(Sample<'_>),
) -> Result<Skipped, StreamError> {
    let mut parser = Parser::new(format);
    let mut chunk = vec![0u8; 256 << 10];
    // The start of a line cut by the end of a read, at most `MAX_LINE + 1` bytes of it (one
    // more than allowed says "too long").
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StreamError::Read(e)),
        };
        let mut data = &chunk[..n];
        while let Some(i) = memchr::memchr(b'\n', data) {
            let piece = &data[..i];
            data = &data[i + 1..];
            if carry.is_empty() {
                parser.line(piece, &keep, &mut each)?;
            } else {
                push_bounded(&mut carry, piece);
                parser.line(&carry, &keep, &mut each)?;
                carry.clear();
            }
        }
        push_bounded(&mut carry, data);
    }
    if !carry.is_empty() {
        parser.line(&carry, &keep, &mut each)?;
    }
    Ok(parser.finish()?)
}

/// Appends to a cut line no more than makes it one byte longer than [`MAX_LINE`].
fn push_bounded(carry: &mut Vec<u8>, piece: &[u8]) {
    let room = (MAX_LINE + 1).saturating_sub(carry.len());
    let take = piece.len().min(room);
    if carry.capacity() < carry.len() + take {
        // Once, for the run: no growth by doubling past the cap.
        carry.reserve_exact(MAX_LINE + 1 - carry.len());
    }
    carry.extend_from_slice(&piece[..take]);
}

/// The state of a page read line by line.
struct Parser {
    open_metrics: bool,
    /// The family of the last `# TYPE X info` line (OpenMetrics), whose samples are `X_info`.
    info_family: Vec<u8>,
    eof_seen: bool,
    line_no: usize,
    skipped: Skipped,
}

impl Parser {
    fn new(format: Format) -> Parser {
        Parser {
            open_metrics: format == Format::OpenMetrics,
            info_family: Vec::new(),
            eof_seen: false,
            line_no: 0,
            skipped: Skipped::default(),
        }
    }

    /// One line, without its `\n`; a line longer than [`MAX_LINE`] may have been cut after
    /// `MAX_LINE + 1` bytes.
    fn line<'l>(
        &mut self,
        line: &'l [u8],
        keep: &impl Fn(&str) -> bool,
        each: &mut impl FnMut(Sample<'l>),
    ) -> Result<(), ExpositionError> {
        self.line_no += 1;
        let line_no = self.line_no;
        let fail = |problem| ExpositionError {
            line: line_no,
            problem,
        };
        let too_long = line.len() > MAX_LINE;
        let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii_start();
        if line.is_empty() {
            return Ok(());
        }
        if self.eof_seen {
            return Err(fail(LineError::AfterEof));
        }
        if line[0] == b'#' {
            if self.open_metrics && !too_long {
                let comment = line.trim_ascii_end();
                if comment == b"# EOF" {
                    self.eof_seen = true;
                } else if let Some(rest) = comment.strip_prefix(b"# TYPE ") {
                    let mut fields = rest
                        .split(u8::is_ascii_whitespace)
                        .filter(|f| !f.is_empty());
                    let family = fields.next().unwrap_or_default();
                    self.info_family.clear();
                    if fields.next() == Some(b"info") {
                        self.info_family.extend_from_slice(family);
                    }
                }
            }
            return Ok(());
        }
        let name_end = line
            .iter()
            .position(|&b| !is_name_byte(b))
            .unwrap_or(line.len());
        if name_end == 0 || line[0].is_ascii_digit() {
            if let Some(quoted) = quoted_name(line) {
                if keep(&quoted) {
                    return Err(fail(LineError::QuotedName(snippet(&quoted))));
                }
                return Ok(());
            }
            return Err(fail(LineError::NotAMetricName(lossy_snippet(line))));
        }
        let written = &line[..name_end];
        // `X_info` of a family `X_info` declared info is the series `X_info`.
        let info_family = self.info_family.as_slice();
        let name = if self.open_metrics
            && info_family.ends_with(b"_info")
            && written.strip_suffix(b"_info") == Some(info_family)
        {
            &line[..info_family.len()]
        } else {
            written
        };
        // Name bytes are ASCII.
        let name = std::str::from_utf8(name).unwrap_or_default();
        if !keep(name) {
            return Ok(());
        }
        if too_long {
            self.skip(fail(LineError::LineTooLong(snippet(name))));
            return Ok(());
        }
        let text =
            std::str::from_utf8(line).map_err(|_| fail(LineError::NotUtf8(snippet(name))))?;
        match parse_sample(text, name_end, name, self.open_metrics) {
            Ok(sample) => each(sample),
            Err(problem @ LineError::ValueTooLong { .. }) => self.skip(fail(problem)),
            Err(problem) => return Err(fail(problem)),
        }
        Ok(())
    }

    fn skip(&mut self, error: ExpositionError) {
        self.skipped.count += 1;
        self.skipped.first.get_or_insert(error);
    }

    fn finish(self) -> Result<Skipped, ExpositionError> {
        if self.open_metrics && !self.eof_seen {
            return Err(ExpositionError {
                line: self.line_no.max(1),
                problem: LineError::NoEof,
            });
        }
        Ok(self.skipped)
    }
}

/// One kept sample line (without its end of line), the metric name `name_end` bytes long.
fn parse_sample<'a>(
    line: &'a str,
    name_end: usize,
    name: &'a str,
    open_metrics: bool,
) -> Result<Sample<'a>, LineError> {
    let metric = || snippet(&line[..name_end]);
    let mut rest = &line[name_end..];
    let mut labels = "";
    if let Some(r) = rest.strip_prefix('{') {
        (labels, rest) = check_labels(r)?;
    }
    if rest.trim().is_empty() {
        return Err(LineError::NoValue(metric()));
    }
    if !rest.starts_with([' ', '\t']) {
        return Err(LineError::NoSpaceBeforeValue(metric()));
    }
    let (value, rest) = field(rest);
    let value = parse_value(value).ok_or_else(|| LineError::BadValue {
        metric: metric(),
        value: snippet(value),
    })?;
    let (next, after) = field(rest);
    let rest = if next.is_empty() || (open_metrics && next == "#") {
        rest
    } else if is_timestamp(next) {
        after
    } else {
        return Err(LineError::BadTimestamp {
            metric: metric(),
            timestamp: snippet(next),
        });
    };
    let (next, after) = field(rest);
    if next.is_empty() {
        return Ok(Sample {
            name,
            labels,
            value,
        });
    }
    if !(open_metrics && next == "#") {
        return Err(LineError::Trailing {
            metric: metric(),
            extra: snippet(next),
        });
    }
    check_exemplar(after).map_err(|e| e.unwrap_or_else(|| LineError::BadExemplar(metric())))?;
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// An exemplar after its `#`: `{labels} value [timestamp]`. `Err(None)` for a malformed one,
/// `Err(Some)` for a malformed label set.
fn check_exemplar(rest: &str) -> Result<(), Option<LineError>> {
    let rest = rest.trim_start().strip_prefix('{').ok_or(None)?;
    let (_, rest) = check_labels(rest).map_err(Some)?;
    if !rest.starts_with([' ', '\t']) {
        return Err(None);
    }
    let (value, rest) = field(rest);
    parse_value(value).ok_or(None)?;
    let (ts, rest) = field(rest);
    if !ts.is_empty() && !is_timestamp(ts) {
        return Err(None);
    }
    if field(rest).0.is_empty() {
        Ok(())
    } else {
        Err(None)
    }
}

/// The next whitespace-separated field (empty at the end) and what follows it.
fn field(s: &str) -> (&str, &str) {
    let s = s.trim_start_matches([' ', '\t']);
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Checks `name="value",...}` and returns the text before the `}` and what follows it.
fn check_labels(text: &str) -> Result<(&str, &str), LineError> {
    let mut seen: [&str; MAX_LABELS] = [""; MAX_LABELS];
    let mut count = 0;
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            let inner = &text[..text.len() - rest.len()];
            return Ok((inner, r));
        }
        let end = rest.find(|c: char| !is_label_char(c)).unwrap_or(rest.len());
        let label = &rest[..end];
        if label.is_empty() || label.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(LineError::NotALabelName(snippet(rest)));
        }
        if seen[..count].contains(&label) {
            return Err(LineError::DuplicateLabel(snippet(label)));
        }
        if count == MAX_LABELS {
            return Err(LineError::TooManyLabels(snippet(label)));
        }
        seen[count] = label;
        count += 1;
        rest = rest[end..].trim_start();
        rest = rest
            .strip_prefix('=')
            .ok_or_else(|| LineError::NoEquals(snippet(label)))?
            .trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| LineError::NoOpeningQuote(snippet(label)))?;
        let mut chars = rest.char_indices();
        let close = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\' | '"' | 'n')) => {}
                    Some((_, c)) => {
                        return Err(LineError::BadEscape {
                            label: snippet(label),
                            escape: c,
                        });
                    }
                    None => return Err(LineError::Unterminated(snippet(label))),
                },
                Some(_) => {}
                None => return Err(LineError::Unterminated(snippet(label))),
            }
        };
        if close > MAX_LABEL_VALUE {
            return Err(LineError::ValueTooLong {
                label: snippet(label),
            });
        }
        rest = rest[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else if !rest.starts_with('}') {
            return Err(LineError::NoSeparator(snippet(label)));
        }
    }
}

/// The index of the `"` closing a label value (`s` starts after the opening one).
fn closing_quote(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Some(i),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// A checked label value with its escapes resolved; borrowed when it has none.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The name of a line written `{"name", …}` (the quoted-name syntax of newer exporters).
fn quoted_name(line: &[u8]) -> Option<Cow<'_, str>> {
    let rest = line
        .strip_prefix(b"{")?
        .trim_ascii_start()
        .strip_prefix(b"\"")?;
    let text = std::str::from_utf8(rest).ok()?;
    let close = closing_quote(text)?;
    Some(unescape(&text[..close]))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_timestamp(s: &str) -> bool {
    s.parse::<i64>().is_ok() || s.parse::<f64>().is_ok()
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
    depinfo_read::text_safety::shortened(s, 40).into_owned()
}

/// [`snippet`] of bytes that may not be UTF-8.
fn lossy_snippet(b: &[u8]) -> String {
    let cut = &b[..b.len().min(160)];
    let text = String::from_utf8_lossy(cut);
    let mut out = snippet(&text);
    if cut.len() < b.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kept sample, owned: name, labels in page order, value.
    type Owned = (String, Vec<(String, String)>, f64);

    /// `(name, labels, value)` of every kept sample, or the error's message.
    fn all(text: &str, format: Format) -> Result<Vec<Owned>, String> {
        let mut out = Vec::new();
        parse(
            text.as_bytes(),
            format,
            |_| true,
            |s| {
                let labels = s
                    .labels()
                    .map(|(k, v)| (k.to_owned(), v.into_owned()))
                    .collect();
                out.push((s.name.to_owned(), labels, s.value));
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn ours(text: &str, format: Format) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        parse(
            text.as_bytes(),
            format,
            |n| n == "rust_mod_info" || n.ends_with("_build_info"),
            |s| {
                out.push(format!("{} {:?} {}", s.name, s.label("name"), s.value));
            },
        )
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn parses_samples_with_escaped_labels() {
        let text = "# HELP rust_mod_info x\n# TYPE rust_mod_info gauge\n\
                    rust_mod_info{direct=\"true\",name=\"serde\",program=\"my-app\",source=\"crates.io\",version=\"1.0.219\"} 1\n\
                    myapp_build_info{branch=\"a\\\"b\\\\c\\nd\",revision=\"x\"} 1 1700000000000\n\
                    up 1\n# EOF\n";
        let s = all(text, Format::Text).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].1[2], ("program".to_owned(), "my-app".to_owned()));
        assert_eq!(s[1].1[0], ("branch".to_owned(), "a\"b\\c\nd".to_owned()));
        assert!((s[1].2 - 1.0).abs() < f64::EPSILON);
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
            ("a 1 # {} 1\n", "bad timestamp \"#\""),
        ] {
            let e = all(text, Format::Text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        assert_eq!(
            all("a{b=\"\\x\"} 1\n", Format::Text).unwrap_err(),
            "malformed exposition at line 1: bad escape \\x in label b"
        );
        let mut many = String::new();
        for i in 0..=MAX_LABELS {
            many.push('l');
            many.push_str(&i.to_string());
            many.push_str("=\"\",");
        }
        assert_eq!(
            all(&format!("a{{{many}}} 1\n"), Format::Text).unwrap_err(),
            "malformed exposition at line 1: l64 has more than 64 labels"
        );
    }

    #[test]
    fn a_huge_name_or_value_is_quoted_cut_short() {
        // Long, but within `MAX_LINE` (longer kept lines are skipped, see below).
        let name = "a".repeat(MAX_LINE / 2);
        for text in [
            format!("{name}\n"),
            format!("x {name}\n"),
            format!("x{{{name}=\"1\" 1\n"),
            format!("x 1 {name}\n"),
            format!("<{name}\n"),
        ] {
            let e = all(&text, Format::Text).unwrap_err();
            assert!(e.len() < 200, "{} bytes: {}", e.len(), &e[..200]);
            assert!(e.contains("aaa…"), "{e}");
        }
    }

    /// Regression (issue 18, defect 12): one 200 MB label value cost 1 GB. A kept sample with
    /// a label value past `MAX_LABEL_VALUE`, or on a line past `MAX_LINE`, is skipped and
    /// counted; the page's other samples still count.
    #[test]
    fn oversized_samples_of_ours_are_skipped_and_counted() {
        let long_value = "v".repeat(MAX_LABEL_VALUE + 1);
        let fits = "v".repeat(MAX_LABEL_VALUE);
        let long_line = format!("rust_mod_info{{{}}} 1", "a=\"1\",".repeat(MAX_LINE / 6));
        let page = format!(
            "rust_mod_info{{name=\"{long_value}\"}} 1\n\
             rust_mod_info{{name=\"serde\"}} 1\n\
             other{{x=\"{long_value}\"}} 1\n\
             {long_line}\n\
             rust_mod_info{{name=\"{fits}\"}} 1\n"
        );
        let mut names = Vec::new();
        let skipped = parse(
            page.as_bytes(),
            Format::Text,
            |n| n == "rust_mod_info",
            |s| names.push(s.label("name").unwrap().len()),
        )
        .unwrap();
        assert_eq!(names, [5, MAX_LABEL_VALUE]);
        assert_eq!(skipped.count, 2);
        assert_eq!(
            skipped.first.unwrap().to_string(),
            "malformed exposition at line 1: the value of label name is longer than 4096 bytes"
        );
        // Read as it arrives, in reads of any size: the same answer, and the long line is
        // never held whole.
        for step in [1, 7, 4096, 1 << 20] {
            let mut names = Vec::new();
            let skipped = parse_reader(
                testkit::Trickle(page.as_bytes(), step),
                Format::Text,
                |n| n == "rust_mod_info",
                |s| names.push(s.label("name").unwrap().len()),
            )
            .unwrap();
            assert_eq!(names, [5, MAX_LABEL_VALUE], "reads of {step}");
            assert_eq!(skipped.count, 2);
            assert_eq!(skipped.first.unwrap().line, 1, "reads of {step}");
        }
        let e = parse(
            format!("{long_line}\n").as_bytes(),
            Format::Text,
            |_| true,
            |_| {},
        )
        .unwrap()
        .first
        .unwrap();
        assert!(
            e.to_string()
                .ends_with("rust_mod_info: the line is longer than 65536 bytes"),
            "{e}"
        );
    }

    /// A reader that fails with `Interrupted` before each read that gives data (as a read cut
    /// by a signal does), and gives at most `step` bytes a time.
    struct Interrupting<'a> {
        data: &'a [u8],
        step: usize,
        interrupt: bool,
    }

    impl std::io::Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt && !self.data.is_empty() {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = self.data.len().min(self.step).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// A reader that gives `.0`, then fails with a reset connection on every read; it panics
    /// when read again and again after failing (a failure retried forever).
    struct FailingAfter<'a>(&'a [u8], usize);

    impl std::io::Read for FailingAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                self.1 += 1;
                assert!(self.1 < 100, "a failed read was retried {} times", self.1);
                return Err(std::io::ErrorKind::ConnectionReset.into());
            }
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// A read cut by a signal is read again (the page is whole); a failed read fails the page
    /// with the reader's error, at once.
    #[test]
    fn interrupted_reads_are_retried_and_failed_reads_fail_the_page() {
        let page = "rust_mod_info{name=\"a\"} 1\nup 1\nrust_mod_info{name=\"b\"} 1";
        for step in [1, 5, 1 << 20] {
            let mut names = Vec::new();
            let skipped = parse_reader(
                Interrupting {
                    data: page.as_bytes(),
                    step,
                    interrupt: false,
                },
                Format::Text,
                |n| n == "rust_mod_info",
                |s| names.push(s.label("name").unwrap().into_owned()),
            )
            .unwrap();
            assert_eq!(names, ["a", "b"], "reads of {step}");
            assert_eq!(skipped, Skipped::default());
        }
        let mut names = Vec::new();
        let e = parse_reader(
            FailingAfter(b"rust_mod_info{name=\"a\"} 1\nrust_mod_info{name=", 0),
            Format::Text,
            |n| n == "rust_mod_info",
            |s| names.push(s.label("name").unwrap().into_owned()),
        )
        .unwrap_err();
        assert!(
            matches!(&e, StreamError::Read(r) if r.kind() == std::io::ErrorKind::ConnectionReset),
            "{e}"
        );
        assert_eq!(names, ["a"]);
    }

    /// A kept sample `len` bytes long: many labels, none past `MAX_LABEL_VALUE`, the last,
    /// `z`, filling it to the byte.
    fn line_of(len: usize) -> String {
        use std::fmt::Write as _;
        let mut line = String::from("rust_mod_info{");
        let mut i = 0;
        // `z=""} 1` takes 7 bytes.
        while len - line.len() - 7 > MAX_LABEL_VALUE {
            let _ = write!(line, "l{i}=\"{}\",", "v".repeat(MAX_LABEL_VALUE - 8));
            i += 1;
        }
        let fill = len - line.len() - 7;
        let _ = write!(line, "z=\"{}\"}} 1", "z".repeat(fill));
        assert_eq!(line.len(), len);
        line
    }

    /// A kept sample on a line of exactly `MAX_LINE` bytes is read, whole or cut by reads of
    /// any size (the cut piece held is complete); one byte more and it is skipped and counted.
    #[test]
    fn a_kept_line_of_max_line_bytes_is_read_and_one_byte_more_is_skipped() {
        for (len, kept) in [
            (MAX_LINE - 1, true),
            (MAX_LINE, true),
            (MAX_LINE + 1, false),
        ] {
            let line = line_of(len);
            let z = len - line.find("z=\"").unwrap() - 7;
            let page = format!("{line}\nrust_mod_info{{z=\"after\"}} 1\n");
            let expect: Vec<usize> = if kept { vec![z, 5] } else { vec![5] };
            let mut zs = Vec::new();
            let skipped = parse(
                page.as_bytes(),
                Format::Text,
                |n| n == "rust_mod_info",
                |s| zs.push(s.label("z").unwrap().len()),
            )
            .unwrap();
            assert_eq!(zs, expect, "a line of {len} bytes");
            assert_eq!(skipped.count, usize::from(!kept), "a line of {len} bytes");
            for step in [
                1,
                1000,
                MAX_LINE - 1,
                MAX_LINE,
                MAX_LINE + 1,
                MAX_LINE + 2,
                1 << 20,
            ] {
                let mut zs = Vec::new();
                let streamed = parse_reader(
                    testkit::Trickle(page.as_bytes(), step),
                    Format::Text,
                    |n| n == "rust_mod_info",
                    |s| zs.push(s.label("z").unwrap().len()),
                )
                .unwrap();
                assert_eq!(zs, expect, "a line of {len} bytes in reads of {step}");
                assert_eq!(
                    streamed, skipped,
                    "a line of {len} bytes in reads of {step}"
                );
            }
        }
    }

    #[test]
    fn content_types_pick_the_format() {
        for (content_type, format) in [
            (
                Some("application/openmetrics-text; version=1.0.0; charset=utf-8"),
                Format::OpenMetrics,
            ),
            (
                Some("Application/OpenMetrics-Text;version=0.0.1"),
                Format::OpenMetrics,
            ),
            (
                Some("text/plain; version=0.0.4; charset=utf-8"),
                Format::Text,
            ),
            (Some("text/html"), Format::Text),
            (Some(""), Format::Text),
            (None, Format::Text),
        ] {
            assert_eq!(
                Format::from_content_type(content_type),
                format,
                "{content_type:?}"
            );
        }
    }

    #[test]
    fn other_families_are_skipped_whatever_they_hold() {
        let text = "# HELP http_requests Requests.\n# TYPE http_requests counter\n\
                    http_requests_total{code=\"200\"} 1027 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1.6e9\n\
                    http_requests_created{code=\"200\"} 1.6e9\n\
                    rust_mod_info{name=\"serde\",version=\"1.0.1\"} 1\n\
                    weird{a=\"\\q\" 1 2 3 4\n\
                    rpc_duration_seconds_bucket{le=\"+Inf\"} 17 # {} 0.1\n\
                    {\"my.dotted\",a=\"b\"} 1\n\
                    myapp_build_info{version=\"2\"} 1\n";
        let want = vec![
            "rust_mod_info Some(\"serde\") 1".to_owned(),
            "myapp_build_info None 1".to_owned(),
        ];
        assert_eq!(ours(text, Format::Text).unwrap(), want);
        assert_eq!(
            ours(&format!("{text}# EOF\n"), Format::OpenMetrics).unwrap(),
            want
        );
        // Other lines must still start with a metric name.
        assert_eq!(
            ours("<html><body>sign in</body></html>\n", Format::Text).unwrap_err(),
            "malformed exposition at line 1: not a metric name at \"<html><body>sign in</body></html>\""
        );
        assert_eq!(ours("", Format::Text).unwrap(), Vec::<String>::new());
        // Ours are strict, quoted or not.
        assert_eq!(
            ours(
                "a_total 1 # {} 1\nrust_mod_info{name=\"x\"} 1 # {} 1\n",
                Format::Text
            )
            .unwrap_err(),
            "malformed exposition at line 2: rust_mod_info: bad timestamp \"#\""
        );
        assert_eq!(
            ours("{\"rust_mod_info\",name=\"x\"} 1\n", Format::Text).unwrap_err(),
            "malformed exposition at line 1: quoted metric name \"rust_mod_info\" (not supported)"
        );
        let mut bytes = b"x\xff 1\nrust_mod_info{name=\"".to_vec();
        bytes.extend_from_slice(b"\xff\"} 1\n");
        let e = parse(&bytes, Format::Text, |n| n == "rust_mod_info", |_| {}).unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed exposition at line 2: rust_mod_info: the line is not UTF-8"
        );
    }

    #[test]
    fn open_metrics_exemplars_eof_and_info_families() {
        let text = "# TYPE rust_mod info\n# HELP rust_mod Crates.\n\
                    rust_mod_info{name=\"a\",version=\"1\"} 1\n\
                    # TYPE rust_mod_info info\n\
                    rust_mod_info_info{name=\"b\",version=\"2\"} 1\n\
                    # TYPE myapp_build info\n\
                    myapp_build_info{version=\"3\"} 1.0 1.7e9 # {trace_id=\"a b\"} 1 1.7e9\n\
                    # TYPE svc_build_info info\n\
                    svc_build_info_info{version=\"4\"} 1\n\
                    # TYPE rust_mod_info_x gauge\n\
                    rust_mod_info_info{name=\"c\"} 1\n\
                    # EOF\n";
        assert_eq!(
            ours(text, Format::OpenMetrics).unwrap(),
            [
                "rust_mod_info Some(\"a\") 1",
                "rust_mod_info Some(\"b\") 1",
                "myapp_build_info None 1",
                "svc_build_info None 1",
            ]
        );
        for (page, want) in [
            (
                "a 1\n",
                "line 1: the OpenMetrics page does not end with '# EOF'",
            ),
            ("", "line 1: the OpenMetrics page does not end with '# EOF'"),
            ("a 1\n# EOF\nb 1\n", "line 3: content after '# EOF'"),
            ("a 1\n# EOF\n# EOF\n", "line 3: content after '# EOF'"),
            (
                "rust_mod_info{} 1 # {a=\"1\"}\n# EOF\n",
                "line 1: rust_mod_info: malformed exemplar",
            ),
            (
                "rust_mod_info{} 1 # {a=\"1\"} 1 2 3\n# EOF\n",
                "line 1: rust_mod_info: malformed exemplar",
            ),
            (
                "rust_mod_info{} 1 # {a=\"\\x\"} 1\n# EOF\n",
                "line 1: bad escape \\x in label a",
            ),
            (
                "rust_mod_info{} 1 #\n# EOF\n",
                "line 1: rust_mod_info: malformed exemplar",
            ),
        ] {
            let e = ours(page, Format::OpenMetrics).unwrap_err();
            assert!(e.ends_with(want), "{page:?}: {e}");
        }
        assert_eq!(
            ours("rust_mod_info{} 1\r\n# EOF\r\n\n", Format::OpenMetrics).unwrap(),
            ["rust_mod_info None 1"]
        );
        // In the classic format `# EOF` is a comment like any other.
        assert_eq!(
            ours("# EOF\nrust_mod_info{} 1\n", Format::Text).unwrap(),
            ["rust_mod_info None 1"]
        );
    }
}
