//! `/metrics` endpoints (`--metrics URL`): one scrape each, `rust_mod_info` and
//! `<program>_build_info` read from the text exposition.

use std::collections::BTreeMap;
use std::time::Duration;

use build_info_collector::RUST_MOD_INFO;

use super::{ObservationBuilder, SeenAt, join_build_info};
use crate::observation::Observation;
use crate::sources::exposition::{self, ExpositionError};
use crate::sources::http::{self, HttpError, Url};

/// Why a `/metrics` endpoint gave no observations. The caller names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsPageError {
    /// The URL is unusable, or the request failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The endpoint answered with another status than 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// The body is not UTF-8 (compressed bodies are [`HttpError::Compressed`]).
    #[error("the exposition is not UTF-8")]
    NotUtf8,
    /// The body is not a valid exposition.
    #[error(transparent)]
    Exposition(#[from] ExpositionError),
}

/// Scrapes one `/metrics` endpoint.
pub(super) fn scrape(url: &str, timeout: Duration) -> Result<Vec<Observation>, MetricsPageError> {
    // `host:port` alone is accepted, as in Prometheus' targets.
    let mut parsed = if url.contains("://") {
        Url::parse(url)
    } else {
        Url::parse(&format!("http://{url}"))
    }?;
    if parsed.path == "/" {
        "/metrics".clone_into(&mut parsed.path);
    }
    let response = http::get(&parsed, "text/plain;version=0.0.4;q=1,*/*;q=0.1", timeout)?;
    if response.status != 200 {
        return Err(MetricsPageError::Status(response.status));
    }
    let text = std::str::from_utf8(&response.body).map_err(|_| MetricsPageError::NotUtf8)?;
    let samples = exposition::parse(text, |n| n == RUST_MOD_INFO || n.ends_with("_build_info"))?;
    let instance = Some(parsed.host_port());
    let mut build_info = BTreeMap::new();
    let mut observations = Vec::new();
    let origin = http::shown_url(url);
    let mut builder = ObservationBuilder::default();
    // An info series counts only while its value is positive: 0 (or NaN, which compares
    // false) is what a program exports for what it no longer runs.
    for s in samples.into_iter().filter(|s| s.value > 0.0) {
        if s.name == RUST_MOD_INFO {
            let at = SeenAt {
                instance: instance.as_deref(),
                job: None,
                instances: 1,
                origin: &origin,
            };
            observations.extend(builder.observation(|n| s.labels.get(n).map(String::as_str), &at));
        } else {
            build_info.insert(
                (instance.clone(), None, s.name.clone()),
                (
                    s.labels.get("version").cloned(),
                    s.labels.get("revision").cloned(),
                ),
            );
        }
    }
    join_build_info(&mut observations, &build_info);
    Ok(observations)
}
