//! Instant queries against the Prometheus HTTP API (`GET /api/v1/query`), which Thanos and
//! Mimir serve too. Only vector results are accepted; an error answer
//! (`{"status":"error","errorType":...,"error":...}`), a non-JSON answer (a login page, a
//! proxy's error) or an HTTP error becomes one message.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Deserialize;

use crate::http::{self, Url};

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
}

/// `base` (for example `http://prometheus:9090` or Mimir's `http://mimir/prometheus`) joined
/// with `/api/v1/query?query=...`.
pub fn query_url(base: &str, query: &str) -> String {
    format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        percent_encode(query)
    )
}

/// Runs the instant query `query` against the API at `base` and returns the series. The error
/// is one line (the caller names the URL).
pub fn query(base: &str, query: &str, timeout: Duration) -> Result<Vec<Series>, String> {
    Url::parse(base).map_err(|e| e.to_string())?;
    let full = Url::parse(&query_url(base, query)).map_err(|e| e.to_string())?;
    let response = http::get(&full, "application/json", timeout).map_err(|e| e.to_string())?;
    decode(
        response.status,
        response.content_type.as_deref(),
        &response.body,
    )
}

/// Decodes an API answer (exposed for tests and the benchmark).
pub fn decode(status: u16, content_type: Option<&str>, body: &[u8]) -> Result<Vec<Series>, String> {
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(a) => a,
        Err(e) => {
            let start: String = String::from_utf8_lossy(&body[..body.len().min(60)])
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            return Err(format!(
                "not a Prometheus API answer (HTTP {status}, {}, {e}): {:?}",
                content_type.unwrap_or("no content type"),
                start.trim()
            ));
        }
    };
    if answer.status != "success" {
        return Err(format!(
            "Prometheus API error (HTTP {status}, {}): {}",
            answer.error_type.as_deref().unwrap_or("unknown"),
            answer.error.as_deref().unwrap_or("no message")
        ));
    }
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}"));
    }
    let data = answer
        .data
        .ok_or_else(|| "Prometheus API answer without data".to_owned())?;
    if data.result_type != "vector" {
        return Err(format!(
            "expected a vector result, got {:?}",
            data.result_type
        ));
    }
    Ok(data.result.into_iter().map(|s| s.metric).collect())
}

/// RFC 3986 percent-encoding of a query parameter value.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_query_urls() {
        assert_eq!(
            query_url("http://p:9090/", "{__name__=~\".+_build_info\"}"),
            "http://p:9090/api/v1/query?query=%7B__name__%3D~%22.%2B_build_info%22%7D"
        );
    }

    #[test]
    fn decodes_vectors_and_errors() {
        let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","name":"serde","instance":"a:1"},"value":[1700000000.123,"1"]}]}}"#;
        let s = decode(200, None, ok).unwrap();
        assert_eq!(s[0]["instance"], "a:1");
        let err =
            br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#;
        assert_eq!(
            decode(400, None, err).unwrap_err(),
            "Prometheus API error (HTTP 400, bad_data): invalid parameter \"query\""
        );
        let html = decode(200, Some("text/html"), b"<html>\n<body>login</body>").unwrap_err();
        assert!(
            html.starts_with("not a Prometheus API answer (HTTP 200, text/html, "),
            "{html}"
        );
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(decode(200, None, matrix).unwrap_err().contains("matrix"));
    }
}
