//! Prometheus' list of the targets it scrapes (`GET /api/v1/targets?state=active`): the only
//! place the catalog takes an address from. Of each active target only `labels.instance`,
//! `labels.job`, `scrapeUrl` and `health` are read; every other field (discovered labels,
//! errors, durations) is skipped as it is parsed, never held.
//!
//! Bounded: the answer is at most [`MAX_TARGETS_BYTES`], at most [`MAX_TARGETS`] targets are
//! kept, and a target whose kept fields pass [`MAX_TARGET_FIELD`] bytes is skipped and
//! counted. Errors are one line and never quote the answer beyond its first characters.

use serde::Deserialize;
use serde::de::IgnoredAny;

use depinfo_read::text_safety::blank_controls;

/// The largest target list read, in bytes (about 100,000 targets with their discovered
/// labels).
pub const MAX_TARGETS_BYTES: usize = 64 << 20;

/// The most targets kept from one answer.
pub const MAX_TARGETS: usize = 100_000;

/// The longest `instance`, `job` or `scrapeUrl` kept, in bytes.
pub const MAX_TARGET_FIELD: usize = 2048;

/// What Prometheus last saw of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Health {
    /// The last scrape succeeded.
    Up,
    /// Not scraped yet, or a value this parser does not know.
    Unknown,
    /// The last scrape failed.
    Down,
}

/// One active target, as far as the catalog needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Target {
    /// Its `instance` label (empty when it has none).
    pub instance: String,
    /// Its `job` label (empty when it has none).
    pub job: String,
    /// The URL Prometheus scrapes.
    pub scrape_url: String,
    /// The last scrape's outcome.
    pub health: Health,
}

/// The targets an answer gave, and how many were left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Targets {
    /// Kept targets, in the answer's order.
    pub targets: Vec<Target>,
    /// Targets skipped: a field longer than [`MAX_TARGET_FIELD`], or past [`MAX_TARGETS`].
    pub skipped: usize,
}

/// Why a target list was not read. One line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetsError {
    /// Larger than [`MAX_TARGETS_BYTES`].
    #[error("the target list is larger than {} MiB", MAX_TARGETS_BYTES >> 20)]
    TooLarge,
    /// Not the API's JSON (a login page, a proxy's error, a cut answer).
    #[error("not a Prometheus target list ({detail}): {start:?}")]
    NotAnAnswer {
        /// Why the decoder refused it.
        detail: String,
        /// The first characters, control characters blanked.
        start: String,
    },
    /// `"status":"error"`.
    #[error("Prometheus API error: {0}")]
    Refused(String),
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "activeTargets", default)]
    active: Option<Vec<Raw>>,
    #[serde(rename = "droppedTargets", default)]
    _dropped: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    labels: Option<RawLabels>,
    #[serde(rename = "scrapeUrl", default)]
    scrape_url: Option<String>,
    #[serde(default)]
    health: Option<String>,
}

#[derive(Deserialize)]
struct RawLabels {
    #[serde(default)]
    instance: Option<String>,
    #[serde(default)]
    job: Option<String>,
}

/// How many characters of a refused answer an error quotes.
const QUOTED: usize = 60;

/// The longest error message of the API quoted.
const MAX_QUOTED_ERROR: usize = 200;

/// Reads a `/api/v1/targets` answer.
///
/// # Errors
///
/// An answer over [`MAX_TARGETS_BYTES`], one that is not the API's JSON, a `status` other than
/// `success`, or a success without `data.activeTargets`.
pub fn parse_targets(body: &[u8]) -> Result<Targets, TargetsError> {
    if body.len() > MAX_TARGETS_BYTES {
        return Err(TargetsError::TooLarge);
    }
    let not_an_answer = |detail: String| TargetsError::NotAnAnswer {
        detail,
        start: blank_controls(String::from_utf8_lossy(&body[..body.len().min(QUOTED)]).chars())
            .trim()
            .to_owned(),
    };
    let answer: Answer = serde_json::from_slice(body).map_err(|e| not_an_answer(e.to_string()))?;
    if answer.status != "success" {
        let message = answer
            .error
            .unwrap_or_else(|| format!("status {}", answer.status));
        let message = blank_controls(message.chars().take(MAX_QUOTED_ERROR));
        return Err(TargetsError::Refused(message));
    }
    let Some(raw) = answer.data.and_then(|d| d.active) else {
        return Err(not_an_answer("no data.activeTargets".into()));
    };
    let mut out = Targets::default();
    for t in raw {
        let (instance, job) = t
            .labels
            .map(|l| (l.instance.unwrap_or_default(), l.job.unwrap_or_default()))
            .unwrap_or_default();
        let scrape_url = t.scrape_url.unwrap_or_default();
        if out.targets.len() >= MAX_TARGETS
            || scrape_url.is_empty()
            || [&instance, &job, &scrape_url]
                .iter()
                .any(|f| f.len() > MAX_TARGET_FIELD)
        {
            out.skipped += 1;
            continue;
        }
        let health = match t.health.as_deref() {
            Some("up") => Health::Up,
            Some("down") => Health::Down,
            _ => Health::Unknown,
        };
        out.targets.push(Target {
            instance,
            job,
            scrape_url,
            health,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_fields_it_needs_and_skips_the_rest() {
        let body = br#"{"status":"success","data":{"activeTargets":[
            {"discoveredLabels":{"__address__":"a:1"},"labels":{"instance":"a:1","job":"x"},
             "scrapePool":"x","scrapeUrl":"http://a:1/metrics","globalUrl":"http://a:1/metrics",
             "lastError":"","lastScrape":"2026-01-01T00:00:00Z","health":"up"},
            {"labels":{"job":"y"},"scrapeUrl":"https://b:2/m?x=1","health":"down"},
            {"labels":{"instance":"c","job":"z"},"health":"up"},
            {"labels":{"instance":"d","job":"z"},"scrapeUrl":"http://d/","health":"weird"}
        ],"droppedTargets":[]}}"#;
        let t = parse_targets(body).unwrap();
        assert_eq!(t.skipped, 1);
        assert_eq!(
            t.targets,
            [
                Target {
                    instance: "a:1".into(),
                    job: "x".into(),
                    scrape_url: "http://a:1/metrics".into(),
                    health: Health::Up
                },
                Target {
                    instance: String::new(),
                    job: "y".into(),
                    scrape_url: "https://b:2/m?x=1".into(),
                    health: Health::Down
                },
                Target {
                    instance: "d".into(),
                    job: "z".into(),
                    scrape_url: "http://d/".into(),
                    health: Health::Unknown
                },
            ]
        );
    }

    #[test]
    fn the_size_bound_is_inclusive() {
        let at = vec![b' '; MAX_TARGETS_BYTES];
        assert!(matches!(
            parse_targets(&at),
            Err(TargetsError::NotAnAnswer { .. })
        ));
        let over = vec![b' '; MAX_TARGETS_BYTES + 1];
        assert!(matches!(parse_targets(&over), Err(TargetsError::TooLarge)));
    }

    #[test]
    fn errors_are_one_line() {
        let e = parse_targets(b"<html>\nlogin\n</html>")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("not a Prometheus target list"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = parse_targets(br#"{"status":"error","errorType":"bad","error":"no\nway"}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "Prometheus API error: no way");
        let e = parse_targets(br#"{"status":"success","data":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no data.activeTargets"), "{e}");
    }
}
