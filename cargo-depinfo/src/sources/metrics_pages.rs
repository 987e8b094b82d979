//! `/metrics` endpoints (`--metrics URL`): one scrape each, asking for OpenMetrics first as
//! Prometheus does, and `rust_mod_info` and `<program>_build_info` read from the page in the
//! format its `Content-Type` names ([`exposition`]).

use std::borrow::Cow;

use build_info_collector::RUST_MOD_INFO;

use super::{ModLabels, ObservationBuilder, SeenAt};
use crate::observation::Observation;
use crate::sources::exposition::{self, ExpositionError, Format, Sample, Skipped, StreamError};
use crate::sources::http::{self, Body, Client, HttpError, Url};

/// The `Accept` header of a scrape, as Prometheus sends it: OpenMetrics 1.0.0 preferred, then
/// OpenMetrics 0.0.1, then the classic text format, then anything.
pub const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
                          application/openmetrics-text;version=0.0.1;q=0.75,\
                          text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

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
    /// The body is not a valid exposition.
    #[error(transparent)]
    Exposition(#[from] ExpositionError),
    /// Series of ours were too large to read and were skipped; the page's others count.
    #[error("{count} series skipped, the first at line {}: {}", .first.line, .first.problem)]
    Skipped {
        /// How many.
        count: usize,
        /// The first, with its line.
        first: ExpositionError,
    },
}

/// Scrapes one `/metrics` endpoint, reading the page as it arrives (memory is what the page
/// holds of ours, not its size): its observations, and the samples of ours skipped for
/// their size.
pub(super) fn scrape(
    client: &Client,
    url: &str,
) -> Result<(Vec<Observation>, Skipped), MetricsPageError> {
    // `host:port` alone is accepted, as in Prometheus' targets.
    let mut parsed = if url.contains("://") {
        Url::parse(url)
    } else {
        Url::parse(&format!("http://{url}"))
    }?;
    if parsed.path == "/" {
        "/metrics".clone_into(&mut parsed.path);
    }
    let response = client.get_streamed(&parsed, ACCEPT)?;
    if response.status != 200 {
        return Err(MetricsPageError::Status(response.status));
    }
    let mut page = PageReader::new(&parsed.host_port(), http::shown_url(url));
    let mut body = response.body;
    let skipped = exposition::parse_reader(
        &mut body,
        Format::from_content_type(response.content_type.as_deref()),
        is_ours,
        |s| page.sample(&s),
    )
    .map_err(|e| match e {
        // A page cut short is a failed transfer, not a malformed page (what the body says
        // before the cut may be anything): the rest is read, into nothing, to tell them apart.
        StreamError::Exposition(e) => match body.drain() {
            Ok(()) => MetricsPageError::Exposition(e),
            Err(read) => MetricsPageError::Http(read),
        },
        StreamError::Read(e) => MetricsPageError::Http(Body::http_error(e)),
    })?;
    Ok((page.finish(), skipped))
}

/// The families a page is read for.
fn is_ours(name: &str) -> bool {
    name == RUST_MOD_INFO || name.ends_with("_build_info")
}

/// The observations one page holds: its `rust_mod_info` series (whatever their value, an
/// info series counts only while positive), joined with the `<program>_build_info` series of
/// their program, for the instance `instance` (`host:port`) read from `origin` (the URL as
/// shown). A page without our series is an empty answer. Samples of ours too large to read
/// (see [`exposition::Skipped`]) are left out.
///
/// # Errors
///
/// A malformed series of ours, or a page that is no exposition (see [`exposition::parse`]).
#[cfg(any(test, feature = "test-util"))]
pub fn page_observations(
    body: &[u8],
    content_type: Option<&str>,
    instance: &str,
    origin: &str,
) -> Result<Vec<Observation>, ExpositionError> {
    let mut page = PageReader::new(instance, origin.to_owned());
    exposition::parse(
        body,
        Format::from_content_type(content_type),
        is_ours,
        |s| {
            page.sample(&s);
        },
    )?;
    Ok(page.finish())
}

/// What a page gave so far: observations, and (in the builder) build_info series to join
/// them with.
struct PageReader {
    instance: String,
    origin: String,
    observations: Vec<Observation>,
    builder: ObservationBuilder,
}

impl PageReader {
    fn new(instance: &str, origin: String) -> PageReader {
        PageReader {
            instance: instance.to_owned(),
            origin,
            observations: Vec::new(),
            builder: ObservationBuilder::default(),
        }
    }

    fn sample(&mut self, s: &Sample<'_>) {
        // 0 (or NaN, which compares false) is what a program exports for what it no
        // longer runs.
        if s.value.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return;
        }
        if s.name == RUST_MOD_INFO {
            let mut fields: [Option<Cow<'_, str>>; 5] = Default::default();
            for (k, v) in s.labels() {
                let slot = match k {
                    "name" => 0,
                    "version" => 1,
                    "source" => 2,
                    "program" => 3,
                    "direct" => 4,
                    _ => continue,
                };
                fields[slot] = Some(v);
            }
            let [name, version, source, program, direct] = &fields;
            let labels = ModLabels {
                name: name.as_deref(),
                version: version.as_deref(),
                source: source.as_deref(),
                program: program.as_deref(),
                direct: direct.as_deref(),
            };
            let at = SeenAt {
                instance: Some(&self.instance),
                job: None,
                instances: 1,
                origin: &self.origin,
            };
            self.observations
                .extend(self.builder.observation_of(&labels, &at));
        } else {
            self.builder.build_info.insert(
                (Some(self.instance.clone()), None, s.name.to_owned()),
                (
                    s.label("version").map(Cow::into_owned),
                    s.label("revision").map(Cow::into_owned),
                ),
            );
        }
    }

    fn finish(mut self) -> Vec<Observation> {
        self.builder.join(&mut self.observations);
        self.observations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_asks_as_prometheus_does() {
        assert_eq!(
            ACCEPT,
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        );
    }

    /// A runner made after its program's build_info series is made joined; one made before
    /// is joined at the end; of two series for one program the last counts.
    #[test]
    fn build_info_joins_whatever_its_place_on_the_page() {
        let page = "a_build_info{version=\"1\",revision=\"r1\"} 1\n\
                    rust_mod_info{name=\"x\",program=\"a\",version=\"1.0.0\"} 1\n\
                    rust_mod_info{name=\"x\",program=\"b\",version=\"1.0.0\"} 1\n\
                    rust_mod_info{name=\"y\",program=\"c\",version=\"1.0.0\"} 1\n\
                    b_build_info{version=\"2\",revision=\"r2\"} 1\n\
                    rust_mod_info{name=\"y\",program=\"b\",version=\"1.0.0\"} 1\n\
                    a_build_info{version=\"3\",revision=\"r3\"} 1\n";
        let o = page_observations(page.as_bytes(), None, "h:1", "u").unwrap();
        let got: Vec<(&str, Option<&str>, Option<&str>)> = o
            .iter()
            .map(|o| {
                (
                    o.runner.program.as_str(),
                    o.runner.program_version.as_deref(),
                    o.runner.revision.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", Some("3"), Some("r3")),
                ("b", Some("2"), Some("r2")),
                ("c", None, None),
                ("b", Some("2"), Some("r2")),
            ]
        );
        // One runner per program, shared by its observations.
        assert!(std::sync::Arc::ptr_eq(&o[1].runner, &o[3].runner));
    }
}
