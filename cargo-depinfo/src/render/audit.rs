//! `cargo depinfo audit`'s answer as text, JSON and Prometheus text exposition (SARIF is in
//! `sarif.rs`). Every output states the database's commit and age. The database and the
//! fleet are not trusted: text escapes control characters, JSON and the exposition escape as
//! their formats require.

use std::fmt::Write as _;

use build_info_collector::{Family, render};
use serde::Serialize;

use super::json::{ErrorEntry, JSON_FORMAT_VERSION, error_entries, pretty_json};
use crate::advisories::{Advisory, Database, Severity};
use crate::observation::Runner;
use crate::paint::{Paint, Tone};
use crate::questions::{Audit, Blast, Finding, Verdict};
use depinfo_read::text_safety::{printable, printable_line};

/// The civil date (`YYYY-MM-DD`, UTC) of a Unix time in seconds.
pub(crate) fn civil_date(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let (year, month, day) = buildinfo::model::civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// One line about the database: its path, commit, commit date and age at `now`.
pub fn database_line(db: &Database, now: u64) -> String {
    let mut line = format!(
        "advisory database {}",
        printable(&db.path.display().to_string())
    );
    match &db.commit {
        Some(c) => {
            let _ = write!(
                line,
                ", commit {} of {} ({} days old)",
                c.id,
                civil_date(c.time),
                now.saturating_sub(c.time) / 86_400
            );
        }
        None => {
            let _ = write!(
                line,
                ", commit unknown ({}): age unknown",
                printable_line(db.commit_unknown.as_deref().unwrap_or("unknown"))
            );
        }
    }
    let _ = write!(line, ", {} advisories", db.advisories().len());
    line
}

/// `critical 9.8`, or `no CVSS score`; critical and high in [`Tone::Danger`], medium in
/// [`Tone::Caution`].
fn severity_text(a: &Advisory, paint: Paint) -> String {
    match (a.severity(), a.score) {
        (Some(s), Some(score)) => {
            let tone = match s {
                Severity::Critical | Severity::High => Some(Tone::Danger),
                Severity::Medium => Some(Tone::Caution),
                Severity::Low | Severity::None => None,
            };
            let text = format!("{} {}.{}", s.as_str(), score / 10, score % 10);
            paint.tone(tone, text).to_string()
        }
        _ => "no CVSS score".to_owned(),
    }
}

/// The `severity` label and JSON field: the band of the CVSS score, else `unknown`.
pub fn severity_label(a: &Advisory) -> &'static str {
    a.severity().map_or("unknown", |s| s.as_str())
}

/// `10.0.0.1:8080, 10.0.0.2:8080`.
fn locations(runners: &[std::sync::Arc<Runner>]) -> String {
    runners
        .iter()
        .map(|r| printable(r.location()).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn finding_text(out: &mut String, f: &Finding<'_>, paint: Paint) {
    let a = f.advisory;
    let versions: Vec<String> = f
        .versions()
        .iter()
        .map(|v| printable(v).into_owned())
        .collect();
    let kind = match &a.informational {
        Some(kind) => format!("{kind}, "),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "{} {} ({kind}{}): {}",
        a.id,
        a.package,
        severity_text(a, paint),
        printable(&a.title)
    );
    let _ = writeln!(out, "  running:    {}", versions.join(", "));
    let list = |l: &[String]| {
        if l.is_empty() {
            "none".to_owned()
        } else {
            l.iter()
                .map(|r| printable(r).into_owned())
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let _ = writeln!(out, "  patched:    {}", list(&a.patched));
    if !a.unaffected.is_empty() {
        let _ = writeln!(out, "  unaffected: {}", list(&a.unaffected));
    }
    for b in &f.blasts {
        let versions: Vec<String> = b
            .versions
            .iter()
            .map(|v| printable(v).into_owned())
            .collect();
        let n = b.runners.len();
        let _ = writeln!(
            out,
            "  {}: {} {}: {n} {}: {}: {}",
            printable(&b.program),
            a.package,
            versions.join(", "),
            if n == 1 { "instance" } else { "instances" },
            locations(&b.runners),
            verdict_text(b, paint),
        );
    }
}

/// `present (tar::Archive::unpack: <tar::Archive<R>>::unpack)`, `unknown (why)` or
/// `not-found (not found in the debug information: ...)`; present in [`Tone::Danger`],
/// unknown in [`Tone::Caution`], the word always there.
fn verdict_text(b: &Blast, paint: Paint) -> String {
    let tone = match b.judged.verdict {
        Verdict::Present => Some(Tone::Danger),
        Verdict::Unknown => Some(Tone::Caution),
        Verdict::NotFound => None,
    };
    format!(
        "{} ({})",
        paint.tone(tone, b.judged.verdict.as_str()),
        printable_line(&b.judged.detail)
    )
}

/// Text for people: the database line, then each vulnerability, then each informational
/// advisory, grouped by advisory, each with who runs it by program and version list:
///
/// ```text
/// advisory database DB, commit SHA of 2026-11-30 (2 days old), 1205 advisories
/// 1 vulnerability (1 crate version, 2 instances); 0 informational advisories
///
/// RUSTSEC-2025-0001 hyper (critical 9.8): Request smuggling
///   running:    0.14.1
///   patched:    >= 0.14.10
///   shop: hyper 0.14.1: 2 instances: 10.0.0.1:8080, 10.0.0.2:8080: unknown (the binary is not at hand: read from a /metrics page)
/// ```
///
/// Each program line ends in its verdict: `present`, `unknown` or `not-found`, and the
/// symbol or reason. Findings with a `present` verdict come first.
pub fn audit_text(audit: &Audit<'_>, db: &Database, now: u64) -> String {
    audit_text_with(audit, db, now, Paint::plain())
}

/// [`audit_text`] with colour: the verdict (`1 vulnerability` in [`Tone::Danger`],
/// `0 vulnerabilities` in [`Tone::Clean`], informational advisories found in
/// [`Tone::Caution`]) and each severity (critical and high in [`Tone::Danger`], medium in
/// [`Tone::Caution`], low and none plain). The words are [`audit_text`]'s, and so are the
/// bytes with [`Paint::plain`].
pub fn audit_text_with(audit: &Audit<'_>, db: &Database, now: u64, paint: Paint) -> String {
    let mut out = database_line(db, now);
    out.push('\n');
    let instances: usize = audit.vulnerabilities.iter().map(Finding::instances).sum();
    let n = audit.vulnerabilities.len();
    let verdict = format!(
        "{n} {}",
        if n == 1 {
            "vulnerability"
        } else {
            "vulnerabilities"
        }
    );
    let verdict = paint.tone(
        Some(if n == 0 { Tone::Clean } else { Tone::Danger }),
        verdict,
    );
    let informational = format!(
        "{} informational {}",
        audit.informational.len(),
        if audit.informational.len() == 1 {
            "advisory"
        } else {
            "advisories"
        },
    );
    let informational = paint.tone(
        (!audit.informational.is_empty()).then_some(Tone::Caution),
        informational,
    );
    let _ = writeln!(
        out,
        "{verdict} ({instances} affected {}); {informational} ({} {} read)",
        if instances == 1 {
            "instance"
        } else {
            "instances"
        },
        audit.runners.len(),
        if audit.runners.len() == 1 {
            "target"
        } else {
            "targets"
        },
    );
    for f in &audit.vulnerabilities {
        out.push('\n');
        finding_text(&mut out, f, paint);
    }
    for f in &audit.informational {
        out.push('\n');
        finding_text(&mut out, f, paint);
    }
    out
}

#[derive(Serialize)]
struct DatabaseJson<'a> {
    path: String,
    commit: Option<&'a str>,
    commit_time: Option<u64>,
    commit_date: Option<String>,
    age_days: Option<u64>,
    advisories: usize,
}

fn database_json(db: &Database, now: u64) -> DatabaseJson<'_> {
    DatabaseJson {
        path: db.path.display().to_string(),
        commit: db.commit.as_ref().map(|c| c.id.as_str()),
        commit_time: db.commit.as_ref().map(|c| c.time),
        commit_date: db.commit.as_ref().map(|c| civil_date(c.time)),
        age_days: db.age_days(now),
        advisories: db.advisories().len(),
    }
}

/// What kind of source a runner came from: a binary, a `/metrics` page, or a Prometheus API.
pub(crate) fn source_kind(r: &Runner) -> &'static str {
    if r.path.is_some() {
        "binary"
    } else if r.job.is_some() {
        "prometheus"
    } else {
        "metrics"
    }
}

#[derive(Serialize)]
struct TargetJson<'a> {
    source: &'static str,
    origin: &'a str,
    program: &'a str,
    program_version: Option<&'a str>,
    revision: Option<&'a str>,
    instance: Option<&'a str>,
    job: Option<&'a str>,
    path: Option<&'a str>,
}

#[derive(Serialize)]
struct RunsJson<'a> {
    program: &'a str,
    versions: Vec<&'a str>,
    instances: Vec<&'a str>,
    verdict: &'static str,
    /// The matched symbol (`present`).
    #[serde(skip_serializing_if = "Option::is_none")]
    symbol: Option<&'a str>,
    /// Why (`unknown`, `not-found`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    id: &'a str,
    package: &'a str,
    kind: &'a str,
    title: &'a str,
    date: &'a str,
    aliases: &'a [String],
    url: Option<&'a str>,
    cvss: Option<&'a str>,
    score: Option<f64>,
    severity: &'static str,
    categories: &'a [String],
    patched: &'a [String],
    unaffected: &'a [String],
    os: &'a [String],
    arch: &'a [String],
    functions: Vec<&'a str>,
    verdict: &'static str,
    affected: Vec<RunsJson<'a>>,
}

fn finding_json<'a>(f: &'a Finding<'a>) -> FindingJson<'a> {
    let a = f.advisory;
    FindingJson {
        id: &a.id,
        package: &a.package,
        kind: a.kind(),
        title: &a.title,
        date: &a.date,
        aliases: &a.aliases,
        url: a.url.as_deref(),
        cvss: a.cvss.as_deref(),
        score: a.score.map(|s| f64::from(s) / 10.0),
        severity: severity_label(a),
        categories: &a.categories,
        patched: &a.patched,
        unaffected: &a.unaffected,
        os: &a.os,
        arch: &a.arch,
        functions: a.functions.keys().map(String::as_str).collect(),
        verdict: f.verdict().as_str(),
        affected: f
            .blasts
            .iter()
            .map(|b| {
                let present = b.judged.verdict == Verdict::Present;
                RunsJson {
                    program: &b.program,
                    versions: b.versions.iter().map(|v| &**v).collect(),
                    instances: b.runners.iter().map(|r| r.location()).collect(),
                    verdict: b.judged.verdict.as_str(),
                    symbol: present.then_some(b.judged.detail.as_str()),
                    reason: (!present).then_some(b.judged.detail.as_str()),
                }
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct UnjudgedJson<'a> {
    location: &'a str,
    program: &'a str,
    name: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct AuditDocument<'a> {
    format_version: u32,
    database: DatabaseJson<'a>,
    targets: Vec<TargetJson<'a>>,
    vulnerabilities: Vec<FindingJson<'a>>,
    informational: Vec<FindingJson<'a>>,
    unjudged: Vec<UnjudgedJson<'a>>,
    errors: Vec<ErrorEntry>,
}

/// JSON, one document per run: `{"format_version":1,"database":{path, commit, commit_time,
/// commit_date, age_days, advisories},"targets":[...],"vulnerabilities":[...],
/// "informational":[...],"unjudged":[...],"errors":[...]}`. Each target names its source
/// (`binary`, `metrics` or `prometheus`) and what is known of it; each finding carries the
/// advisory's fields, the `functions` it names, its `verdict` (the first of its entries' in
/// the order present, unknown, not-found) and `affected`: one entry per program, version list
/// and verdict, with its instances, its `verdict`, and the `symbol` that matched
/// (`present`) or the `reason` (`unknown`, `not-found`).
pub fn audit_json(audit: &Audit<'_>, db: &Database, now: u64, errors: &[String]) -> String {
    let doc = AuditDocument {
        format_version: JSON_FORMAT_VERSION,
        database: database_json(db, now),
        targets: audit
            .runners
            .iter()
            .map(|r| TargetJson {
                source: source_kind(r),
                origin: &r.origin,
                program: &r.program,
                program_version: r.program_version.as_deref(),
                revision: r.revision.as_deref(),
                instance: r.instance.as_deref(),
                job: r.job.as_deref(),
                path: r.path.as_deref(),
            })
            .collect(),
        vulnerabilities: audit.vulnerabilities.iter().map(finding_json).collect(),
        informational: audit.informational.iter().map(finding_json).collect(),
        unjudged: audit
            .unjudged
            .iter()
            .map(|o| UnjudgedJson {
                location: o.location(),
                program: &o.runner.program,
                name: &o.name,
                version: &o.version,
            })
            .collect(),
        errors: error_entries(errors),
    };
    pretty_json(&doc)
}

/// Prometheus text exposition for node_exporter's textfile collector:
///
/// ```text
/// rust_advisory_info{advisory="RUSTSEC-2025-0001",kind="vulnerability",name="hyper",program="shop",revision="4b1c0de",severity="critical",verdict="present",version="0.14.1"} 2
/// rust_advisory_database_commit_timestamp_seconds{commit="SHA"} 1787293720
/// ```
///
/// One `rust_advisory_info` series per advisory, crate version, program, revision and verdict,
/// valued by the number of instances (or binaries) running it; `revision` is the program's
/// revision as `<program>_build_info` labels it (`unknown` without build facts), so that a
/// verdict computed where the binary is (in CI, published through node_exporter's textfile
/// collector) answers for the instances of that program and revision that `audit
/// --prometheus` reads, as the exporter's series do; `kind` is `vulnerability` or the
/// informational kind; `severity` the CVSS band or `unknown`; `verdict` is `present`,
/// `unknown` or `not-found` (`sum by (advisory, name, program)` adds the verdicts up). Titles and dates are not labels
/// (they would churn series). The database's commit time is its own family (`time() - it` is
/// the age); absent when the commit is unknown.
pub fn audit_prometheus(audit: &Audit<'_>, db: &Database) -> String {
    let mut info = Family::gauge(
        "rust_advisory_info",
        "The number of instances of a program running a crate version that a RustSec advisory affects.",
    );
    for f in audit.vulnerabilities.iter().chain(&audit.informational) {
        let a = f.advisory;
        let mut counts: std::collections::BTreeMap<(&str, &str, &str, &str), usize> =
            std::collections::BTreeMap::new();
        for b in &f.blasts {
            for r in &b.runners {
                let revision = r.revision.as_deref().unwrap_or(buildinfo::UNKNOWN);
                for v in &b.versions {
                    *counts
                        .entry((&b.program, revision, v, b.judged.verdict.as_str()))
                        .or_insert(0) += 1;
                }
            }
        }
        for ((program, revision, version, verdict), n) in counts {
            info.push(
                [
                    ("advisory", a.id.as_str()),
                    ("kind", a.kind()),
                    ("name", a.package.as_str()),
                    ("program", program),
                    ("revision", revision),
                    ("severity", severity_label(a)),
                    ("verdict", verdict),
                    ("version", version),
                ],
                n,
            );
        }
    }
    info.sort_series();
    let mut families = vec![info];
    if let Some(c) = &db.commit {
        let mut commit = Family::gauge(
            "rust_advisory_database_commit_timestamp_seconds",
            "The commit time of the RustSec advisory database the audit used, in seconds since the Unix epoch.",
        );
        commit.push([("commit", c.id.as_str())], c.time);
        families.push(commit);
    }
    render(&families).unwrap_or_else(|e| unreachable!("constant metric and label names: {e}"))
}

#[cfg(test)]
mod tests {
    use super::civil_date;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_787_293_720), "2026-08-21");
    }
}
