//! Instant queries against the Prometheus HTTP API (`POST /api/v1/query`), which Thanos and
//! Mimir serve too. Only vector results are accepted; an error answer
//! (`{"status":"error","errorType":...,"error":...}`), a non-JSON answer (a login page, a
//! proxy's error) or an HTTP error becomes one message.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sources::http::{Client, HttpError, Url};

/// One series of an instant vector: its labels (`__name__` included when present).
pub type Series = BTreeMap<String, String>;

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<VectorSample>,
}

#[derive(Deserialize)]
struct VectorSample {
    metric: Series,
    /// `[timestamp, "value"]`; absent only from non-conforming servers.
    #[serde(default)]
    value: Option<(serde::de::IgnoredAny, String)>,
}

impl VectorSample {
    /// An info series counts only while its value is positive: a 0 (or NaN, which compares
    /// false) is what a program exports for what it no longer runs. A series without a value
    /// counts, so that a server leaving it out hides nothing.
    fn counts(&self) -> bool {
        self.value
            .as_ref()
            .is_none_or(|(_, v)| v.trim().parse::<f64>().is_ok_and(|v| v > 0.0))
    }
}

/// Why an instant query gave no series. The caller names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The URL is unusable, or the request failed.
    #[error(transparent)]
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

/// Runs the instant query `query` against the API at `base` and returns the series. The
/// query is POSTed as a form (`query=...`), as Prometheus' own UI and Grafana do: no URL
/// length limit, and the query stays out of proxies' access logs.
pub fn query(client: &Client, base: &str, query: &str) -> Result<Vec<Series>, ApiError> {
    Url::parse(base)?;
    let endpoint = Url::parse(&format!("{}/api/v1/query", base.trim_end_matches('/')))?;
    let response = client.post_form(&endpoint, &[("query", query)], "application/json")?;
    decode(
        response.status,
        response.content_type.as_deref(),
        &response.body,
    )
}

/// Decodes an API answer: the labels of the series whose value is positive.
pub fn decode(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<Series>, ApiError> {
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => {
            let start: String = String::from_utf8_lossy(&body[..body.len().min(60)])
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(ApiError::NotAnAnswer {
                status,
                content_type: content_type.map(|c| cut(c, 60)),
                detail: e.to_string(),
                start: start.trim().to_owned(),
            });
        }
    };
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
    if data.result_type != "vector" {
        return Err(ApiError::NotVector(data.result_type));
    }
    Ok(data
        .result
        .into_iter()
        .filter(VectorSample::counts)
        .map(|s| s.metric)
        .collect())
}

/// The most characters of a server's text quoted in a message.
const MAX_QUOTED: usize = 200;

/// `text` cut to `max` characters, with `…` when cut (a server may say anything, at length).
fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_vectors_and_errors() {
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","name":"serde","instance":"a:1"},"value":[1700000000.123,"1"]}]}}"#;
        let s = decode(200, None, ok).unwrap();
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

    /// VictoriaMetrics' answers: whole-second timestamps, fields Prometheus does not write
    /// (`isPartial`, and `stats` in newer versions), and its own `errorType` (the HTTP status).
    #[test]
    fn decodes_victoria_metrics_answers() {
        let ok = br#"{"status":"success","isPartial":false,"data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","name":"serde","instance":"a:1"},"value":[1796178824,"1"]}]},"stats":{"seriesFetched":"1","executionTimeMsec":0}}"#;
        let s = decode(200, Some("application/json"), ok).unwrap();
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
        let s = decode(200, None, body).unwrap();
        let kept: Vec<&str> = s.iter().map(|l| l["v"].as_str()).collect();
        assert_eq!(kept, ["one", "none"]);
    }
}
