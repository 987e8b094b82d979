//! Instant queries against the Prometheus HTTP API (`POST /api/v1/query`), which Thanos, Mimir,
//! Cortex and VictoriaMetrics serve too. Only vector results are accepted; an error answer
//! (`{"status":"error","errorType":...,"error":...}`), a non-JSON answer (a login page, a
//! proxy's error) or an HTTP error becomes one message.
//!
//! Answers are decoded in one pass as they arrive, never into a tree or a list of all series:
//! the envelope's fields in any order (unknown ones skipped), `data` with `resultType` wherever
//! it stands, and `data.result`, whose samples go one by one to the caller (series of other
//! metrics are dropped by `__name__` while reading); the verdict (status, error, result type)
//! is made at the end. No JSON string longer than [`MAX_JSON_STRING`] bytes is ever held.
//! `warnings` and `infos` come back as [`Annotations`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use depinfo_http::{Body, Client, HttpError, Url};
use depinfo_read::text_safety::blank_controls;

/// One series of an instant vector: its labels (`__name__` included when present).
#[cfg(any(test, feature = "test-util"))]
pub type Series = std::collections::BTreeMap<String, String>;

/// One running sample of an instant vector, as it is decoded: its labels borrowed from the
/// answer's body (copied only when a value holds a JSON escape) and its value.
#[derive(Debug)]
pub struct Sample<'a> {
    labels: &'a [(Cow<'a, str>, Cow<'a, str>)],
    /// The value; `None` when the server left it out (the series then counts).
    pub value: Option<f64>,
}

impl Sample<'_> {
    /// The value of the label `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Whether the sample has a label other than `name` (a `count by (name)` answer has
    /// none).
    pub fn labels_other_than(&self, name: &str) -> bool {
        self.labels.iter().any(|(n, _)| n != name)
    }

    /// Every label, in the answer's order.
    #[cfg(any(test, feature = "test-util"))]
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.labels.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }
}

/// What a success answer says beside its data: `warnings` (Thanos and Mimir partial
/// responses, Prometheus' warnings annotations: the answer may be incomplete) and `infos`
/// (Prometheus' info annotations). Kept in bounded memory: the first `MAX_NOTES` (10) of
/// each, every one cut to 200 characters, with the number the server sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Annotations {
    /// The first warnings, cut short.
    pub warnings: Vec<String>,
    /// How many warnings the answer held.
    pub warning_count: usize,
    /// The first infos, cut short.
    pub infos: Vec<String>,
    /// How many infos the answer held.
    pub info_count: usize,
    /// Series of ours skipped for a label value longer than [`MAX_LABEL_VALUE`].
    pub skipped: usize,
}

/// The most warnings (and infos) of one answer kept for showing.
pub const MAX_NOTES: usize = 10;

/// A `warnings` or `infos` array (or `null`), kept as in [`Annotations`].
#[derive(Default)]
struct Notes {
    kept: Vec<String>,
    count: usize,
}

impl<'de> Deserialize<'de> for Notes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NotesVisitor;
        impl<'de> Visitor<'de> for NotesVisitor {
            type Value = Notes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Notes, E> {
                Ok(Notes::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Notes, E> {
                Ok(Notes::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Notes, D::Error> {
                d.deserialize_seq(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Notes, A::Error> {
                let mut notes = Notes::default();
                while let Some(note) = seq.next_element::<Text<'de>>()? {
                    notes.count += 1;
                    if notes.kept.len() < MAX_NOTES {
                        notes.kept.push(cut(&note.0, MAX_QUOTED));
                    }
                }
                Ok(notes)
            }
        }
        d.deserialize_option(NotesVisitor)
    }
}

/// A JSON string, borrowed from the body unless it holds an escape (serde's own `Cow<str>`
/// always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor)
    }
}

/// The longest label value of a series handed on (4 KiB, as for `/metrics` pages: crate names,
/// versions and program names are far shorter). A series with a longer value is skipped and
/// counted ([`Annotations::skipped`]). (serde_json holds one string at a time while it reads
/// it, within the body's cap.)
pub const MAX_LABEL_VALUE: usize = depinfo_wire::exposition::MAX_LABEL_VALUE;

/// What one pass over an answer found, judged at its end (fields come in any order, and
/// `status` may come last): the first problem with the shape of `data`, and what the result's
/// samples gave.
struct ResultState<'f, 'de> {
    on_sample: &'f mut dyn FnMut(&Sample<'_>),
    keep: &'f dyn Fn(Option<&str>) -> bool,
    /// One label buffer, reused for every sample.
    labels: Vec<(Cow<'de, str>, Cow<'de, str>)>,
    /// The first problem with the shape of `data` (serde's words).
    problem: Option<String>,
    /// Kept series skipped for a label value longer than [`MAX_LABEL_VALUE`].
    skipped: usize,
}

impl ResultState<'_, '_> {
    fn problem(&mut self, unexpected: de::Unexpected<'_>, expected: &str) {
        if self.problem.is_none() {
            let e: serde_json::Error = de::Error::invalid_type(unexpected, &expected);
            self.problem = Some(e.to_string());
        }
    }

    fn problem_text(&mut self, text: String) {
        self.problem.get_or_insert(text);
    }
}

/// The visits of JSON values other than `$($kind)*` for a lenient visitor: each is recorded as
/// a problem (`expected` said what was) and skipped.
macro_rules! other_values {
    (@one scalars) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Signed(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Unsigned(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Float(v)))
        }
    };
    (@one unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Unit))
        }
    };
    (@one str) => {
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(self.other(de::Unexpected::Str(v)))
        }
    };
    (@one seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(self.other(de::Unexpected::Seq))
        }
    };
    (@one map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(self.other(de::Unexpected::Map))
        }
    };
    ($($kind:tt)*) => { $(other_values!(@one $kind);)* };
}

/// A lenient seed over the result's state: the struct; its `other` (a value of any other kind
/// is recorded as a problem, `expected` saying what was, and read as `fallback`, `()` unless
/// given); its `DeserializeSeed`, which hands any JSON value to its visitor; and the visitor,
/// whose `visits` are the caller's, every other kind of value going to `other`.
macro_rules! state_seed {
    (
        $(#[$doc:meta])* $name:ident -> $value:ty, $expected:literal, others($($kind:tt)*);
        $($visits:tt)*
    ) => {
        state_seed! {
            $(#[$doc])* $name -> $value, $expected, else (), others($($kind)*);
            $($visits)*
        }
    };
    (
        $(#[$doc:meta])* $name:ident -> $value:ty, $expected:literal, else $fallback:expr,
        others($($kind:tt)*);
        $($visits:tt)*
    ) => {
        $(#[$doc])*
        struct $name<'s, 'f, 'de> {
            state: &'s mut ResultState<'f, 'de>,
        }

        impl<'de> $name<'_, '_, 'de> {
            #[allow(clippy::unused_unit)]
            fn other(self, unexpected: de::Unexpected<'_>) -> $value {
                self.state.problem(unexpected, $expected);
                $fallback
            }
        }

        impl<'de> DeserializeSeed<'de> for $name<'_, '_, 'de> {
            type Value = $value;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl<'de> Visitor<'de> for $name<'_, '_, 'de> {
            type Value = $value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($expected)
            }
            other_values!($($kind)*);
            $($visits)*
        }
    };
}

/// `data`: an object with `resultType` and `result` in either order; `null` is no data.
struct DataSeed<'s, 'f, 'de> {
    state: &'s mut ResultState<'f, 'de>,
    data: &'s mut Data,
}

/// What `data` held.
#[derive(Default)]
enum Data {
    /// No `data` field, or `"data": null`.
    #[default]
    Missing,
    /// Something else than `null`.
    Seen {
        /// `resultType`, cut to 40 characters.
        result_type: String,
    },
    /// Not an object, or one without a string `resultType` or without `result` (serde's
    /// words).
    Malformed(String),
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl DataSeed<'_, '_, '_> {
    fn other(self, unexpected: de::Unexpected<'_>) {
        let e: serde_json::Error = de::Error::invalid_type(unexpected, &"an object");
        *self.data = Data::Malformed(e.to_string());
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    other_values!(scalars str seq);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        // `null` is no data, as a missing `data` is (`data` comes once: see `TopSeed`).
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // `Err(())`: not a string.
        let mut result_type: Option<Result<String, ()>> = None;
        let mut result = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "resultType" => {
                    // A problem of `data`, not of the result: kept apart.
                    let mut apart = ResultState {
                        on_sample: &mut |_| {},
                        keep: &|_| false,
                        labels: Vec::new(),
                        problem: None,
                        skipped: 0,
                    };
                    let t = map.next_value_seed(StringSeed { state: &mut apart })?;
                    result_type = Some(t.map(|t| cut(&t.0, 40)).ok_or(()));
                }
                "result" => {
                    result = true;
                    let known_other = result_type
                        .as_ref()
                        .is_some_and(|t| t.as_deref() != Ok("vector"));
                    if known_other {
                        map.next_value::<IgnoredAny>()?;
                    } else {
                        map.next_value_seed(ResultSeed {
                            state: &mut *self.state,
                        })?;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        *self.data = match (result_type, result) {
            (Some(Ok(result_type)), true) => Data::Seen { result_type },
            (Some(Err(())), _) => {
                Data::Malformed("invalid type: expected a string for `resultType`".into())
            }
            (None, _) => Data::Malformed("missing field `resultType`".into()),
            (_, false) => Data::Malformed("missing field `result`".into()),
        };
        Ok(())
    }
}

state_seed! {
    /// `data.result`: an array of samples, each handed on as it is decoded.
    ResultSeed -> (), "an array of samples", others(scalars unit str map);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(SampleSeed {
                state: &mut *self.state,
            })?
            .is_some()
        {}
        Ok(())
    }
}

state_seed! {
    /// One sample object `{"metric":{...},"value":[ts,"v"]}` (other fields ignored), handed on
    /// when its value is positive (or absent), its `__name__` kept, and its labels short enough.
    SampleSeed -> (), "a sample object", others(scalars unit str seq);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.state;
        state.labels.clear();
        let mut metric = false;
        // `None`: no `value`.
        let mut value: Option<ValueRead> = None;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "metric" => {
                    if metric {
                        state.problem_text("duplicate field `metric`".into());
                    }
                    metric = true;
                    map.next_value_seed(LabelsSeed { state: &mut *state })?;
                }
                "value" => {
                    if value.is_some() {
                        state.problem_text("duplicate field `value`".into());
                    }
                    value = Some(map.next_value_seed(ValueSeed { state: &mut *state })?);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !metric {
            state.problem_text("missing field `metric`".into());
            return Ok(());
        }
        let value = match value {
            Some(ValueRead::Number(v)) => Some(v),
            _ => None,
        };
        // An info series counts only while its value is positive: a 0 (or NaN, which compares
        // false) is what a program exports for what it no longer runs. A series without a
        // value counts, so that a server leaving it out hides nothing. A malformed label or
        // value has recorded a problem: the answer is refused at its end, nothing more is
        // handed.
        if state.problem.is_some() || !value.is_none_or(|v| v > 0.0) {
            return Ok(());
        }
        let name = state
            .labels
            .iter()
            .find(|(n, _)| n == "__name__")
            .map(|(_, v)| v.as_ref());
        if !(state.keep)(name) {
            return Ok(());
        }
        if state.labels.iter().any(|(_, v)| v.len() > MAX_LABEL_VALUE) {
            state.skipped += 1;
            return Ok(());
        }
        (state.on_sample)(&Sample {
            labels: &state.labels,
            value,
        });
        Ok(())
    }
}

state_seed! {
    /// `metric`: an object of string labels, appended to the state's buffer (a malformed one
    /// records a problem).
    LabelsSeed -> (), "an object of labels", others(scalars unit str seq);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(name) = map.next_key::<Text<'de>>()? {
            // `None`: not a string, recorded as a problem.
            if let Some(value) = map.next_value_seed(StringSeed {
                state: &mut *self.state,
            })? {
                self.state.labels.push((name.0, value.0));
            }
        }
        Ok(())
    }
}

state_seed! {
    /// A JSON string ([`Text`]); anything else is recorded as a problem (`None`).
    StringSeed -> Option<Text<'de>>, "a string", else None, others(scalars unit seq map);
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Text(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Text(Cow::Owned(v.to_owned()))))
    }
}

/// What a sample's `value` held.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ValueRead {
    /// `null`.
    Null,
    /// `[timestamp, "text"]`: the text as a number.
    Number(f64),
    /// Anything else (the problem is recorded).
    Malformed,
}

state_seed! {
    /// `value`: `[timestamp, "text"]` or `null`.
    ValueSeed -> ValueRead, "a [timestamp, value] pair", else ValueRead::Malformed,
    others(scalars str map);
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(ValueRead::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut count = 0;
        let mut value = None;
        while let Some(()) = seq.next_element_seed(PairElement {
            state: &mut *self.state,
            index: count,
            value: &mut value,
        })? {
            count += 1;
        }
        if count != 2 {
            let e: serde_json::Error =
                de::Error::invalid_length(count, &"a [timestamp, value] pair");
            self.state.problem_text(e.to_string());
            return Ok(ValueRead::Malformed);
        }
        Ok(value.map_or(ValueRead::Malformed, ValueRead::Number))
    }
}

/// A sample's value as Prometheus writes it (`"1"`, `"NaN"`, `"+Inf"`); not a number is NaN,
/// which is not positive.
fn number(v: &str) -> f64 {
    v.trim().parse::<f64>().unwrap_or(f64::NAN)
}

/// One element of a `value` pair: the timestamp (anything) or the value's text.
struct PairElement<'s, 'f, 'de> {
    state: &'s mut ResultState<'f, 'de>,
    index: usize,
    /// The value once its text is read; stays `None` when it is not a string.
    value: &'s mut Option<f64>,
}

impl<'de> DeserializeSeed<'de> for PairElement<'_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.index == 1 {
            if let Some(text) = (StringSeed { state: self.state }).deserialize(d)? {
                *self.value = Some(number(&text.0));
            }
        } else {
            IgnoredAny::deserialize(d)?;
        }
        Ok(())
    }
}

/// Why an instant query gave no series. The caller names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The URL is unusable, or the request failed. A TLS failure says that it is the
    /// Prometheus API's (a `/metrics` page's reads the same otherwise).
    #[error("{}", http_failure(.0))]
    Http(#[from] HttpError),
    /// The body is not an API answer (a login page, a proxy's error page).
    #[error(
        "not a Prometheus API answer (HTTP {status}, {}, {detail}): {start:?}",
        content_type.as_deref().unwrap_or("no content type")
    )]
    NotAnAnswer {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type`, when given.
        content_type: Option<String>,
        /// Why the JSON decoder refused it.
        detail: String,
        /// The body's first characters, control characters blanked.
        start: String,
    },
    /// The API answered `"status":"error"`.
    #[error("Prometheus API error (HTTP {status}, {error_type}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// `errorType` (`unknown` when missing), cut to 40 characters.
        error_type: String,
        /// `error` (`no message` when missing), cut to 200 characters.
        message: String,
    },
    /// A string of the answer longer than `MAX_JSON_STRING` (1 MiB) (read as it arrives).
    #[error("the answer holds a string longer than {} KiB (refused)", MAX_JSON_STRING >> 10)]
    LongString,
    /// Series of ours skipped for their size; the others count.
    #[error("{0} series skipped: a label value longer than {max} bytes", max = MAX_LABEL_VALUE)]
    Skipped(usize),
    /// A success answer with an HTTP error status.
    #[error("HTTP {0}")]
    Status(u16),
    /// A success answer without `data`.
    #[error("Prometheus API answer without data")]
    NoData,
    /// A result that is not an instant vector.
    #[error("expected a vector result, got {0:?}")]
    NotVector(String),
}

/// An HTTP failure of an API request as the message says it.
fn http_failure(e: &HttpError) -> String {
    match e {
        HttpError::Tls(why) => format!("Prometheus API: {why}"),
        HttpError::Setup(why) => format!("Prometheus API: {why}"),
        other => other.to_string(),
    }
}

/// Runs the instant query `query` against the API at `base`, handing each running sample
/// whose `__name__` (absent in `count by` answers) `keep` accepts to `on_sample` as it is
/// decoded, while the answer arrives (see [`decode_with`]): memory is one sample's labels and
/// what `on_sample` keeps, whatever the answer's size and the series it holds that are not
/// ours. Returns the answer's annotations. The query is POSTed as a form (`query=...`), as
/// Prometheus' own UI and Grafana do: no URL length limit, and the query stays out of
/// proxies' access logs.
///
/// On an error, the samples already handed are to be dropped.
pub fn query(
    client: &Client,
    base: &str,
    query: &str,
    keep: &dyn Fn(Option<&str>) -> bool,
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Annotations, ApiError> {
    Url::parse(base)?;
    let endpoint = Url::parse(&format!("{}/api/v1/query", base.trim_end_matches('/')))?;
    let response = client.post_form_streamed(&endpoint, &[("query", query)], "application/json")?;
    decode_reader(
        response.status,
        response.content_type.as_deref(),
        response.body,
        keep,
        on_sample,
    )
}

/// The largest answer of [`metric_names`] read (a list of at most as many names as asked).
const MAX_NAMES_ANSWER: u64 = 64 << 10;

/// Which of `names` the server holds series of: `GET /api/v1/label/__name__/values` with
/// one `match[]` per name. The server answers from its index, without reading samples, so
/// that asking whether a metric exists at all costs nothing next to a query over it.
///
/// # Errors
///
/// As [`query`]: the request failed, or the answer is no success.
pub fn metric_names(client: &Client, base: &str, names: &[&str]) -> Result<Vec<String>, ApiError> {
    Url::parse(base)?;
    let matches: Vec<String> = names.iter().map(|n| format!("match%5B%5D={n}")).collect();
    let endpoint = Url::parse(&format!(
        "{}/api/v1/label/__name__/values?{}",
        base.trim_end_matches('/'),
        matches.join("&")
    ))?;
    let response = client.get_limited(&endpoint, "application/json", MAX_NAMES_ANSWER)?;
    decode_names(
        response.status,
        response.content_type.as_deref(),
        &response.body,
        names,
    )
}

/// A label values answer: the values among `wanted` (any other is dropped).
fn decode_names(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    wanted: &[&str],
) -> Result<Vec<String>, ApiError> {
    #[derive(Deserialize)]
    struct Answer {
        status: Option<String>,
        #[serde(rename = "errorType")]
        error_type: Option<String>,
        error: Option<String>,
        data: Option<Vec<String>>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        not_an_answer(
            status,
            content_type,
            &body[..body.len().min(80)],
            e.to_string(),
        )
    })?;
    answered(
        status,
        answer.status.as_deref(),
        answer.error_type,
        answer.error,
    )?;
    let data = answer.data.ok_or(ApiError::NoData)?;
    Ok(data
        .into_iter()
        .filter(|n| wanted.contains(&n.as_str()))
        .collect())
}

/// [`decode_with`] of an answer read as it arrives from `body`, handing only the samples
/// whose `__name__` `keep` accepts. A read error that carries an [`HttpError`] (see
/// `depinfo_http::Body`) is [`ApiError::Http`].
///
/// # Errors
///
/// As [`decode_with`], or the read's error.
pub fn decode_reader(
    status: u16,
    content_type: Option<&str>,
    body: impl std::io::Read,
    keep: &dyn Fn(Option<&str>) -> bool,
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Annotations, ApiError> {
    let mut reader = Recorded::new(body);
    let pass = {
        let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(
            64 << 10,
            &mut reader,
        ));
        one_pass(&mut de, keep, on_sample)
    };
    let pass = match pass {
        Err(e) if e.is_io() => {
            let read = std::io::Error::from(e);
            if read
                .get_ref()
                .is_some_and(<dyn std::error::Error + Send + Sync>::is::<LongString>)
            {
                return Err(ApiError::LongString);
            }
            return Err(ApiError::Http(Body::http_error(read)));
        }
        Err(e) => {
            // An answer cut short is a failed transfer, not a malformed answer: the rest is
            // read, into nothing, to tell them apart.
            if let Err(read) = std::io::copy(&mut reader.inner, &mut std::io::sink()) {
                return Err(ApiError::Http(Body::http_error(read)));
            }
            Err(e.to_string())
        }
        Ok(pass) => Ok(pass),
    };
    judge(status, content_type, &reader.start, pass)
}

/// The longest JSON string of an answer read as it arrives (1 MiB): serde_json holds each
/// string whole while it reads it, so one huge label value (of any series, ours or not) would
/// cost its size. Labels we keep are far shorter ([`MAX_LABEL_VALUE`]); notes are cut to 200
/// characters.
pub const MAX_JSON_STRING: usize = 1 << 20;

/// A reader that keeps the first bytes it gave, to quote them in an error, and refuses a
/// JSON string longer than [`MAX_JSON_STRING`] bytes (as written) before it is held.
struct Recorded<R> {
    inner: R,
    start: Vec<u8>,
    /// Inside a string: its length so far; and whether the last byte was a backslash.
    string: Option<usize>,
    escaped: bool,
}

impl<R> Recorded<R> {
    fn new(inner: R) -> Recorded<R> {
        Recorded {
            inner,
            start: Vec::new(),
            string: None,
            escaped: false,
        }
    }
}

/// The error of a JSON string past [`MAX_JSON_STRING`].
#[derive(Debug, thiserror::Error)]
#[error("a JSON string longer than {} KiB (refused)", MAX_JSON_STRING >> 10)]
struct LongString;

impl<R: std::io::Read> std::io::Read for Recorded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let room = QUOTED_START.saturating_sub(self.start.len());
        self.start.extend_from_slice(&buf[..n.min(room)]);
        // Strings as JSON writes them: `"` opens and closes one, `\` escapes the next byte.
        for &b in &buf[..n] {
            match (&mut self.string, b) {
                (None, b'"') => self.string = Some(0),
                (None, _) => {}
                (Some(_), b'"') if !self.escaped => self.string = None,
                // Every byte as written counts, the escaped one included.
                (Some(len), b) => {
                    self.escaped = !self.escaped && b == b'\\';
                    *len += 1;
                    if *len > MAX_JSON_STRING {
                        return Err(std::io::Error::other(LongString));
                    }
                }
            }
        }
        Ok(n)
    }
}

/// How many bytes of an answer's start a [`ApiError::NotAnAnswer`] quotes.
const QUOTED_START: usize = 60;

/// Decodes an API answer, handing each sample whose value is positive (or absent) to
/// `on_sample` as it is decoded, never holding more than one sample's labels.
///
/// Fields may come in any order and unknown ones (`stats`, ...) are skipped, as Thanos, Mimir,
/// Cortex and VictoriaMetrics answer; the answer is read in one pass (it may be read as it
/// arrives, see `query`) and judged at its end: samples are handed while reading, and are
/// to be dropped unless the answer is a success with a 2xx status and a well-formed vector
/// result. A series with a label value longer than [`MAX_LABEL_VALUE`] is skipped and
/// counted ([`Annotations::skipped`]).
#[cfg(any(test, feature = "test-util"))]
pub fn decode_with(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Annotations, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let pass = one_pass(&mut de, &|_| true, on_sample).map_err(|e| e.to_string());
    judge(
        status,
        content_type,
        &body[..body.len().min(QUOTED_START)],
        pass,
    )
}

/// [`ApiError::NotAnAnswer`]: `detail` says why, `start` is the body's first bytes (quoted on
/// one line, its control characters blanked).
fn not_an_answer(
    status: u16,
    content_type: Option<&str>,
    start: &[u8],
    detail: String,
) -> ApiError {
    ApiError::NotAnAnswer {
        status,
        content_type: content_type.map(|c| cut(c, 60)),
        detail,
        start: blank_controls(String::from_utf8_lossy(start).chars())
            .trim()
            .to_owned(),
    }
}

/// The verdict of an answer's `status` (with its `errorType` and `error`) and of the HTTP
/// status, in this order: anything but `"success"` is refused, then a status outside 2xx is
/// an error.
fn answered(
    status: u16,
    answer_status: Option<&str>,
    error_type: Option<String>,
    error: Option<String>,
) -> Result<(), ApiError> {
    if answer_status != Some("success") {
        return Err(ApiError::Refused {
            status,
            error_type: error_type.map_or_else(|| "unknown".into(), |t| cut(&t, 40)),
            message: error.map_or_else(|| "no message".into(), |m| cut(&m, MAX_QUOTED)),
        });
    }
    if !(200..300).contains(&status) {
        return Err(ApiError::Status(status));
    }
    Ok(())
}

/// What one pass over an answer read: its top-level fields, what `data` was, the first
/// problem with the result's shape and the samples skipped for their size.
struct Pass {
    top: Top,
    problem: Option<String>,
    skipped: usize,
}

/// Reads a whole answer (and checks nothing follows it), handing samples as they come.
fn one_pass<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    keep: &dyn Fn(Option<&str>) -> bool,
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Pass, serde_json::Error> {
    let mut state = ResultState {
        on_sample,
        keep,
        labels: Vec::new(),
        problem: None,
        skipped: 0,
    };
    let top = TopSeed { state: &mut state }.deserialize(&mut *de)?;
    de.end()?;
    Ok(Pass {
        top,
        problem: state.problem,
        skipped: state.skipped,
    })
}

/// The answer's verdict, in this order: malformed JSON or top-level fields, an error answer,
/// an HTTP error status, no data, a malformed `data`, another result type than a vector, a
/// malformed result.
fn judge(
    status: u16,
    content_type: Option<&str>,
    start: &[u8],
    pass: Result<Pass, String>,
) -> Result<Annotations, ApiError> {
    let not_an_answer = |detail: String| not_an_answer(status, content_type, start, detail);
    let pass = pass.map_err(not_an_answer)?;
    let Some(answer_status) = pass.top.status else {
        return Err(not_an_answer("missing field `status`".into()));
    };
    answered(
        status,
        Some(&answer_status),
        pass.top.error_type,
        pass.top.error,
    )?;
    match pass.top.data {
        Data::Missing => return Err(ApiError::NoData),
        Data::Malformed(detail) => return Err(not_an_answer(detail)),
        Data::Seen { result_type } if result_type != "vector" => {
            return Err(ApiError::NotVector(result_type));
        }
        Data::Seen { .. } => {}
    }
    if let Some(problem) = pass.problem {
        return Err(not_an_answer(problem));
    }
    Ok(Annotations {
        warnings: pass.top.warnings.kept,
        warning_count: pass.top.warnings.count,
        infos: pass.top.infos.kept,
        info_count: pass.top.infos.count,
        skipped: pass.skipped,
    })
}

/// The top-level object of an answer.
struct TopSeed<'s, 'f, 'de> {
    state: &'s mut ResultState<'f, 'de>,
}

/// What the top-level object held.
struct Top {
    status: Option<String>,
    error_type: Option<String>,
    error: Option<String>,
    warnings: Notes,
    infos: Notes,
    data: Data,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_, 'de> {
    type Value = Top;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_, 'de> {
    type Value = Top;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an API answer object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut top = Top {
            status: None,
            error_type: None,
            error: None,
            warnings: Notes::default(),
            infos: Notes::default(),
            data: Data::Missing,
        };
        let mut seen = [false; 6];
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let field = ["status", "errorType", "error", "warnings", "infos", "data"]
                .iter()
                .position(|f| *f == key.0);
            let Some(field) = field else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if std::mem::replace(&mut seen[field], true) {
                return Err(de::Error::duplicate_field(
                    ["status", "errorType", "error", "warnings", "infos", "data"][field],
                ));
            }
            match field {
                0 => top.status = Some(map.next_value::<Text<'de>>()?.0.into_owned()),
                1 => {
                    top.error_type = map
                        .next_value::<Option<Text<'de>>>()?
                        .map(|t| cut(&t.0, 40));
                }
                2 => {
                    top.error = map
                        .next_value::<Option<Text<'de>>>()?
                        .map(|t| cut(&t.0, MAX_QUOTED));
                }
                3 => top.warnings = map.next_value()?,
                4 => top.infos = map.next_value()?,
                _ => map.next_value_seed(DataSeed {
                    state: &mut *self.state,
                    data: &mut top.data,
                })?,
            }
        }
        Ok(top)
    }
}

/// Decodes an API answer into the labels of its running series and its annotations: the
/// reference shape for tests (the program itself never holds all series, see
/// [`decode_with`]).
#[cfg(any(test, feature = "test-util"))]
pub fn decode(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Vec<Series>, Annotations), ApiError> {
    let mut series = Vec::new();
    let annotations = decode_with(status, content_type, body, &mut |s| {
        series.push(
            s.labels()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        );
    })?;
    Ok((series, annotations))
}

/// The most characters of a server's text quoted in a message.
const MAX_QUOTED: usize = 200;

/// `text` cut to `max` characters, with `…` when cut (a server may say anything, at length).
fn cut(text: &str, max: usize) -> String {
    depinfo_read::text_safety::shortened(text, max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_answers_are_judged() {
        let wanted = ["rust_mod_info", "rust_build_info"];
        assert_eq!(
            decode_names(
                200,
                None,
                br#"{"status":"success","data":["rust_build_info","up"]}"#,
                &wanted
            )
            .unwrap(),
            ["rust_build_info"]
        );
        assert!(
            decode_names(200, None, br#"{"status":"success","data":[]}"#, &wanted)
                .unwrap()
                .is_empty()
        );
        assert!(matches!(
            decode_names(
                400,
                None,
                br#"{"status":"error","errorType":"bad_data","error":"x"}"#,
                &wanted
            ),
            Err(ApiError::Refused { status: 400, .. })
        ));
        assert!(matches!(
            decode_names(200, Some("text/html"), b"<html>login</html>", &wanted),
            Err(ApiError::NotAnAnswer { .. })
        ));
        assert!(matches!(
            decode_names(200, None, br#"{"status":"success"}"#, &wanted),
            Err(ApiError::NoData)
        ));
    }

    #[test]
    fn decodes_vectors_and_errors() {
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","name":"serde","instance":"a:1"},"value":[1700000000.123,"1"]}]}}"#;
        let (s, _) = decode(200, None, ok).unwrap();
        assert_eq!(s[0]["instance"], "a:1");
        let err =
            br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#;
        assert_eq!(
            decode(400, None, err).unwrap_err().to_string(),
            "Prometheus API error (HTTP 400, bad_data): invalid parameter \"query\""
        );
        let html = decode(200, Some("text/html"), b"<html>\n<body>login</body>")
            .unwrap_err()
            .to_string();
        assert!(
            html.starts_with("not a Prometheus API answer (HTTP 200, text/html, "),
            "{html}"
        );
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(
            decode(200, None, matrix),
            Err(ApiError::NotVector(t)) if t == "matrix"
        ));
    }

    /// `warnings` and `infos`: absent, `null` or arrays; the first ten kept, each cut to 200
    /// characters, with the number the server sent; anything else is not an answer.
    #[test]
    fn annotations_are_kept_bounded_and_counted() {
        let answer = |extra: &str| {
            format!(r#"{{"status":"success",{extra}"data":{{"resultType":"vector","result":[]}}}}"#)
        };
        let (_, none) = decode(200, None, answer("").as_bytes()).unwrap();
        assert_eq!(none, Annotations::default());
        let (_, null) = decode(
            200,
            None,
            answer(r#""warnings":null,"infos":null,"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(null, Annotations::default());
        let long = "w".repeat(500);
        let warnings: Vec<String> = (0..12)
            .map(|n| {
                if n == 0 {
                    long.clone()
                } else {
                    format!("w{n}")
                }
            })
            .collect();
        let extra = format!(
            r#""warnings":{},"infos":["i0","i1"],"#,
            serde_json::to_string(&warnings).unwrap()
        );
        let (_, a) = decode(200, None, answer(&extra).as_bytes()).unwrap();
        assert_eq!((a.warning_count, a.info_count), (12, 2));
        assert_eq!(a.warnings.len(), MAX_NOTES);
        assert_eq!(a.warnings[0], format!("{}…", "w".repeat(MAX_QUOTED)));
        assert_eq!(a.warnings[1..], warnings[1..MAX_NOTES]);
        assert_eq!(a.infos, ["i0", "i1"]);
        for bad in [
            r#""warnings":"one","#,
            r#""infos":[1],"#,
            r#""warnings":{},"#,
        ] {
            assert!(
                matches!(
                    decode(200, None, answer(bad).as_bytes()),
                    Err(ApiError::NotAnAnswer { .. })
                ),
                "{bad}"
            );
        }
    }

    /// A malformed answer says what was expected where, in serde's words with ours.
    #[test]
    fn malformed_answers_name_what_was_expected() {
        let vector = |result: &str| {
            format!(r#"{{"status":"success","data":{{"resultType":"vector","result":{result}}}}}"#)
        };
        for (body, expected) in [
            (
                vector("{}"),
                "invalid type: map, expected an array of samples",
            ),
            (
                vector("[1]"),
                "invalid type: integer `1`, expected a sample object",
            ),
            (
                vector(r#"[{"metric":[]}]"#),
                "invalid type: sequence, expected an object of labels",
            ),
            (
                vector(r#"[{"metric":{"a":1}}]"#),
                "invalid type: integer `1`, expected a string",
            ),
            (
                r#"{"status":"success","warnings":[2],"data":null}"#.to_owned(),
                "invalid type: integer `2`, expected a string",
            ),
            (
                r#"{"status":"success","warnings":7,"data":null}"#.to_owned(),
                "invalid type: integer `7`, expected an array of strings",
            ),
        ] {
            match decode(200, None, body.as_bytes()) {
                Err(ApiError::NotAnAnswer { detail, .. }) => {
                    assert!(detail.starts_with(expected), "{detail:?} for {body}");
                }
                other => panic!("{other:?} for {body}"),
            }
        }
    }

    #[test]
    fn a_sample_gives_each_label_by_name() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"name":"serde","job":"a\"b","version":""},"value":[1,"1"]}]}}"#;
        let mut seen = Vec::new();
        decode_with(200, None, body, &mut |s| {
            let owned = |name: &str| s.label(name).map(str::to_owned);
            seen.push((
                owned("name"),
                owned("job"),
                owned("version"),
                owned("nam"),
                s.value,
            ));
        })
        .unwrap();
        let some = |v: &str| Some(v.to_owned());
        assert_eq!(
            seen,
            [(some("serde"), some("a\"b"), some(""), None, Some(1.0))]
        );
    }

    /// VictoriaMetrics' answers: whole-second timestamps, fields Prometheus does not write
    /// (`isPartial`, and `stats` in newer versions), and its own `errorType` (the HTTP status).
    #[test]
    fn decodes_victoria_metrics_answers() {
        let ok = br#"{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","name":"serde","instance":"a:1"},"value":[1796178824,"1"]}]},"stats":{"seriesFetched":"1","executionTimeMsec":0}}"#;
        let (s, _) = decode(200, Some("application/json"), ok).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0]["name"].as_str(), s[0]["instance"].as_str()),
            ("serde", "a:1")
        );
        // As VictoriaMetrics 1.79 answers a query that does not parse (HTTP 422).
        let err = br#"{"status":"error","errorType":"422","error":"error when executing query=\"rust_mod_info{\" for (time=1796179002600, step=300000): labelFilterExpr: unexpected token \"\"; want \"ident\"; unparsed data: \"\""}"#;
        let message = decode(422, Some("application/json"), err)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(
                r#"Prometheus API error (HTTP 422, 422): error when executing query="rust_mod_info{" for (time="#
            ),
            "{message}"
        );
    }

    #[test]
    fn a_huge_error_answer_is_quoted_cut_short() {
        let body = format!(
            r#"{{"status":"error","errorType":"{}","error":"{}"}}"#,
            "t".repeat(100_000),
            "m".repeat(1_000_000)
        );
        let e = decode(422, Some(&"c".repeat(60_000)), body.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.len() < 400, "{} bytes", e.len());
        assert!(e.ends_with("mmm…"), "{e}");
        let e = decode(200, Some(&"c".repeat(60_000)), &vec![b'<'; 100_000])
            .unwrap_err()
            .to_string();
        assert!(e.len() < 400, "{} bytes", e.len());
    }

    /// A JSON string of exactly `MAX_JSON_STRING` bytes as written is read, one byte more is
    /// refused, escapes counted as written; an escaped quote does not end a string, so a long
    /// string behind one is refused too.
    #[test]
    fn the_json_string_cap_counts_every_byte_to_the_last() {
        let answer = |value: &str| {
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"up","x":"{value}"}},"value":[1,"1"]}},{{"metric":{{"name":"a"}},"value":[1,"1"]}}]}}}}"#
            )
        };
        let read = |body: &str, step: usize| {
            let mut names = Vec::new();
            decode_reader(
                200,
                None,
                testkit::Trickle(body.as_bytes(), step),
                &|_| true,
                &mut |s| names.push(s.label("name").map(str::to_owned)),
            )
            .map(|a| (names, a.skipped))
        };
        for step in [1000, 1 << 20] {
            let at_cap = "x".repeat(MAX_JSON_STRING);
            assert_eq!(
                read(&answer(&at_cap), step).unwrap(),
                (vec![Some("a".to_owned())], 1),
                "reads of {step}"
            );
            // Escapes count as written: `\\` pairs filling the cap are read; one pair more (the
            // cap plus two bytes as written, about half the cap decoded) is refused, and so is
            // one plain byte more.
            let pairs = "\\\\".repeat(MAX_JSON_STRING / 2);
            assert!(read(&answer(&pairs), step).is_ok(), "reads of {step}");
            for refused in [
                "x".repeat(MAX_JSON_STRING + 1),
                format!("\\\"{}", "x".repeat(MAX_JSON_STRING)),
                format!("{pairs}\\\\"),
                format!("x{pairs}"),
            ] {
                assert!(
                    matches!(read(&answer(&refused), step), Err(ApiError::LongString)),
                    "reads of {step}"
                );
            }
        }
    }

    /// Only series whose `__name__` is kept are handed (a series without one is asked about
    /// as `None`); a label value of exactly `MAX_LABEL_VALUE` bytes is handed, one byte more
    /// skips its series, counted.
    #[test]
    fn kept_names_and_the_label_value_cap() {
        let fits = "v".repeat(MAX_LABEL_VALUE);
        let long = "v".repeat(MAX_LABEL_VALUE + 1);
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[
            {{"metric":{{"__name__":"rust_mod_info","name":"a"}},"value":[1,"1"]}},
            {{"metric":{{"name":"rust_mod_info","__name__":"up"}},"value":[1,"1"]}},
            {{"metric":{{"name":"b"}},"value":[1,"1"]}},
            {{"metric":{{"__name__":"rust_mod_info","name":"{fits}"}},"value":[1,"1"]}},
            {{"metric":{{"__name__":"rust_mod_info","name":"{long}"}},"value":[1,"1"]}},
            {{"metric":{{"__name__":"up","name":"{long}"}},"value":[1,"1"]}}]}}}}"#
        );
        let mut names = Vec::new();
        let annotations = decode_reader(
            200,
            None,
            body.as_bytes(),
            &|n| n.is_none_or(|n| n == "rust_mod_info"),
            &mut |s| names.push(s.label("name").unwrap().len()),
        )
        .unwrap();
        assert_eq!(names, [1, 1, MAX_LABEL_VALUE]);
        assert_eq!(annotations.skipped, 1);
    }

    #[test]
    fn series_at_zero_or_nan_are_not_running() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"v":"0"},"value":[1,"0"]},
            {"metric":{"v":"nan"},"value":[1,"NaN"]},
            {"metric":{"v":"neg"},"value":[1,"-1"]},
            {"metric":{"v":"junk"},"value":[1,"x"]},
            {"metric":{"v":"one"},"value":[1,"1"]},
            {"metric":{"v":"none"}}]}}"#;
        let (s, _) = decode(200, None, body).unwrap();
        let kept: Vec<&str> = s.iter().map(|l| l["v"].as_str()).collect();
        assert_eq!(kept, ["one", "none"]);
    }

    /// Regression (issue 18, defect 12): read as it arrives, one huge string (a label of a
    /// series not ours) would be held whole by the JSON reader. Strings past
    /// `MAX_JSON_STRING` are refused while they are read; one at the cap, with escapes, is
    /// read.
    #[test]
    fn a_huge_string_is_refused_before_it_is_held() {
        let answer = |value: &str| {
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"__name__":"up","x":"{value}"}},"value":[1,"1"]}},{{"metric":{{"name":"a\"b","version":"1"}},"value":[1,"1"]}}]}}}}"#
            )
        };
        let read = |body: &str| {
            let mut names = Vec::new();
            decode_reader(200, None, body.as_bytes(), &|_| true, &mut |s| {
                names.push(s.label("name").map(str::to_owned));
            })
            .map(|a| (names, a.skipped))
        };
        let fits = format!("{}\\\"", "x".repeat(MAX_JSON_STRING - 4));
        // Read whole, then skipped for its label past `MAX_LABEL_VALUE`.
        assert_eq!(
            read(&answer(&fits)).unwrap(),
            (vec![Some("a\"b".to_owned())], 1)
        );
        let e = read(&answer(&"x".repeat(MAX_JSON_STRING + 1))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the answer holds a string longer than 1024 KiB (refused)"
        );
    }
}
