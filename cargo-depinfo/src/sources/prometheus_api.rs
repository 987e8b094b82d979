//! Instant queries against the Prometheus HTTP API (`POST /api/v1/query`), which Thanos, Mimir,
//! Cortex and VictoriaMetrics serve too. Only vector results are accepted; an error answer
//! (`{"status":"error","errorType":...,"error":...}`), a non-JSON answer (a login page, a
//! proxy's error) or an HTTP error becomes one message.
//!
//! Answers are decoded in passes over the body, never into a tree or a list of all series:
//! the envelope first (its fields in any order, unknown ones skipped, `data` kept as a slice),
//! then `data` (`resultType` wherever it stands), then `data.result`, whose samples go one by
//! one to the caller with their labels borrowed from the body. `warnings` and `infos` come
//! back as [`Annotations`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::sources::http::{Client, HttpError, Url};

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
}

/// The most warnings (and infos) of one answer kept for showing.
pub const MAX_NOTES: usize = 10;

/// The answer's envelope: every top-level field that matters, in any order, `data` as a
/// borrowed slice of the body (read only once the status says it is an answer).
#[derive(Deserialize)]
struct Envelope<'a> {
    status: Cow<'a, str>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, rename = "errorType")]
    error_type: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Cow<'a, str>>,
    #[serde(default)]
    warnings: Notes,
    #[serde(default)]
    infos: Notes,
}

/// `data`, `result` left as a slice until `resultType` (wherever it stands) is known.
#[derive(Deserialize)]
struct DataEnvelope<'a> {
    #[serde(rename = "resultType")]
    result_type: Cow<'a, str>,
    #[serde(borrow)]
    result: &'a RawValue,
}

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

/// `data.result` of a vector answer: each sample handed to `on_sample` as it is decoded, one
/// label buffer reused for all of them.
struct VectorSeed<'f, 'de> {
    on_sample: &'f mut dyn FnMut(&Sample<'_>),
    labels: Vec<(Cow<'de, str>, Cow<'de, str>)>,
}

impl<'de> DeserializeSeed<'de> for VectorSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VectorSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of samples")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(SampleSeed {
            labels: &mut self.labels,
        })? {
            // An info series counts only while its value is positive: a 0 (or NaN, which
            // compares false) is what a program exports for what it no longer runs. A series
            // without a value counts, so that a server leaving it out hides nothing.
            if value.is_none_or(|v| v > 0.0) {
                (self.on_sample)(&Sample {
                    labels: &self.labels,
                    value,
                });
            }
        }
        Ok(())
    }
}

/// One sample object `{"metric":{...},"value":[ts,"v"]}` (other fields ignored): fills
/// `labels`, gives the value (`None` when absent or `null`; not a number counts as not
/// positive).
struct SampleSeed<'b, 'de> {
    labels: &'b mut Vec<(Cow<'de, str>, Cow<'de, str>)>,
}

impl<'de> DeserializeSeed<'de> for SampleSeed<'_, 'de> {
    type Value = Option<f64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<f64>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SampleSeed<'_, 'de> {
    type Value = Option<f64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sample object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<f64>, A::Error> {
        self.labels.clear();
        let mut metric = false;
        let mut value: Option<Option<f64>> = None;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match key.0.as_ref() {
                "metric" => {
                    if metric {
                        return Err(de::Error::duplicate_field("metric"));
                    }
                    metric = true;
                    map.next_value_seed(LabelsSeed {
                        labels: &mut *self.labels,
                    })?;
                }
                "value" => {
                    if value.is_some() {
                        return Err(de::Error::duplicate_field("value"));
                    }
                    value = Some(
                        map.next_value::<Option<(IgnoredAny, Text<'de>)>>()?
                            .map(|(_, v)| number(&v.0)),
                    );
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !metric {
            return Err(de::Error::missing_field("metric"));
        }
        Ok(value.flatten())
    }
}

/// A sample's value as Prometheus writes it (`"1"`, `"NaN"`, `"+Inf"`); not a number is NaN,
/// which is not positive.
fn number(v: &str) -> f64 {
    v.trim().parse::<f64>().unwrap_or(f64::NAN)
}

/// `metric`: an object of string labels, appended to `labels`.
struct LabelsSeed<'b, 'de> {
    labels: &'b mut Vec<(Cow<'de, str>, Cow<'de, str>)>,
}

impl<'de> DeserializeSeed<'de> for LabelsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LabelsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of labels")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some((name, value)) = map.next_entry::<Text<'de>, Text<'de>>()? {
            self.labels.push((name.0, value.0));
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
        other => other.to_string(),
    }
}

/// Runs the instant query `query` against the API at `base`, handing each running sample to
/// `on_sample` as it is decoded (see [`decode_with`]); returns the answer's annotations. The
/// query is POSTed as a form (`query=...`), as Prometheus' own UI and Grafana do: no URL
/// length limit, and the query stays out of proxies' access logs.
pub fn query(
    client: &Client,
    base: &str,
    query: &str,
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Annotations, ApiError> {
    Url::parse(base)?;
    let endpoint = Url::parse(&format!("{}/api/v1/query", base.trim_end_matches('/')))?;
    let response = client.post_form(&endpoint, &[("query", query)], "application/json")?;
    decode_with(
        response.status,
        response.content_type.as_deref(),
        &response.body,
        on_sample,
    )
}

/// Decodes an API answer, handing each sample whose value is positive (or absent) to
/// `on_sample` as it is decoded, never holding more than one sample's labels.
///
/// Fields may come in any order and unknown ones (`stats`, ...) are skipped, as Thanos, Mimir,
/// Cortex and VictoriaMetrics answer. The envelope is read first (`data` kept as a slice of
/// the body), so samples are handed only from a success answer with a 2xx status and a vector
/// result; an answer found malformed among its samples is [`ApiError::NotAnAnswer`], and the
/// samples already handed are to be dropped.
pub fn decode_with(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    on_sample: &mut dyn FnMut(&Sample<'_>),
) -> Result<Annotations, ApiError> {
    let not_an_answer = |e: &serde_json::Error| {
        let start: String = String::from_utf8_lossy(&body[..body.len().min(60)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        ApiError::NotAnAnswer {
            status,
            content_type: content_type.map(|c| cut(c, 60)),
            detail: e.to_string(),
            start: start.trim().to_owned(),
        }
    };
    let answer: Envelope<'_> = serde_json::from_slice(body).map_err(|e| not_an_answer(&e))?;
    if answer.status != "success" {
        return Err(ApiError::Refused {
            status,
            error_type: answer
                .error_type
                .map_or_else(|| "unknown".into(), |t| cut(&t, 40)),
            message: answer
                .error
                .map_or_else(|| "no message".into(), |m| cut(&m, MAX_QUOTED)),
        });
    }
    if !(200..300).contains(&status) {
        return Err(ApiError::Status(status));
    }
    let data = answer.data.ok_or(ApiError::NoData)?;
    let data: DataEnvelope<'_> = serde_json::from_str(data.get()).map_err(|e| not_an_answer(&e))?;
    if data.result_type != "vector" {
        return Err(ApiError::NotVector(cut(&data.result_type, 40)));
    }
    let mut result = serde_json::Deserializer::from_str(data.result.get());
    VectorSeed {
        on_sample,
        labels: Vec::new(),
    }
    .deserialize(&mut result)
    .and_then(|()| result.end())
    .map_err(|e| not_an_answer(&e))?;
    Ok(Annotations {
        warnings: answer.warnings.kept,
        warning_count: answer.warnings.count,
        infos: answer.infos.kept,
        info_count: answer.infos.count,
    })
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
    crate::render::terminal::shortened(text, max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
