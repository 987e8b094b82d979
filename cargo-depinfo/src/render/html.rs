//! `cargo depinfo report --format html`: one self-contained file.
//!
//! The page renders [`FleetReport`] and nothing else: every number in it is one of the model's
//! fields (or the length of one of its lists), and the model itself is embedded once, as
//! `report_json`'s document in a `<script type="application/json" id="report-data">`
//! element. Every table is complete in the HTML; the one inline script only sorts, filters
//! and copies them, and the one inline style sheet lays them out. A Content-Security-Policy
//! names the SHA-256 of both and allows nothing else: no request of any kind leaves the page.
//!
//! Every string from the model (crate and program names, label values, advisory titles,
//! errors) is shown as [`printable_line`] shows it on a terminal (control and invisible
//! format characters, bidi controls among them, as visible escapes such as `\u202e`), then
//! escaped for HTML text and attributes (`& < > " '`). In the embedded JSON, `<`, `>`, `&`,
//! `'` and every control or invisible format character are written as `\uXXXX` escapes, so no
//! value can end its script element or hide in it.
//!
//! The page's size is linear in the model's: see [`size_bound`].

use std::fmt::Write as _;

use base64::Engine as _;
use depinfo_read::text_safety::{is_invisible_format, printable_line, shortened};

use crate::questions::{BuildRow, FleetReport, VerdictCounts};

/// The page's style sheet (its SHA-256 is in the CSP).
const STYLE: &str = include_str!("html/report.css");
/// The page's script: sorting, filtering, copying (its SHA-256 is in the CSP).
const SCRIPT: &str = include_str!("html/report.js");

/// How many characters of a build's program, version and revision the crates view shows
/// for each build that runs a crate version: one build is named there once per crate it
/// links, so a long name must not be repeated at length (see [`size_bound`]).
const REFERENCE_CHARS: usize = 48;
/// How many characters of a revision a build's short name shows.
const REVISION_CHARS: usize = 7;

/// The report as one HTML file.
pub fn report_html(report: &FleetReport) -> String {
    // Embedded without indentation: the same document as `report_json`'s, in about half the
    // bytes (the page's largest part at 1,000 instances).
    let json = serde_json::to_string(report).unwrap_or_default();
    let mut page = String::with_capacity(json.len() * 3 + STYLE.len() + SCRIPT.len() + 4096);
    page.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"cargo depinfo report\">\n",
    );
    let _ = writeln!(
        page,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        content_security_policy()
    );
    // An empty icon as a data: URL, so that a browser showing the page from a server does
    // not ask the server for /favicon.ico.
    page.push_str(
        "<link rel=\"icon\" href=\"data:,\">\n<title>cargo depinfo report</title>\n<style>",
    );
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n");
    header(&mut page, report);
    totals(&mut page, report);
    messages(
        &mut page,
        "problems",
        "Errors",
        "The report is partial: these inputs failed.",
        &report.errors,
    );
    messages(
        &mut page,
        "notes",
        "Notes",
        "What servers said for information.",
        &report.notes,
    );
    programs(&mut page, report);
    builds(&mut page, report);
    spread(&mut page, report);
    advisories(&mut page, report);
    outdated(&mut page, report);
    crates(&mut page, report);
    page.push_str("<script type=\"application/json\" id=\"report-data\">");
    push_json(&mut page, &json);
    page.push_str("</script>\n<script>");
    page.push_str(SCRIPT);
    page.push_str("</script>\n</body>\n</html>\n");
    debug_assert!(page.len() <= size_bound(super::json::report_json(report).len()));
    page
}

/// The page's Content-Security-Policy: the inline script and style sheet by hash, images
/// only as `data:` URLs, and nothing else (no `report-uri`: a report would be a request).
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        sha256_source(SCRIPT),
        sha256_source(STYLE)
    )
}

/// `sha256-BASE64`: a CSP hash source for an inline element holding exactly `text`.
fn sha256_source(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// An upper bound of the page's length, linear in the model's size (its JSON document's
/// length): `64 KiB + 160 × json.len()`.
///
/// Why it holds: the fixed parts (style, script, headings) are under 64 KiB. Each string of
/// the model is written at most three times (a cell's text, its `data-value`, the JSON), each
/// time at most 10 bytes for each of its bytes' worth of input (an escape such as `&quot;`
/// is 6 bytes for 1, `\u202e` 6 for 3, `\U000e0001` 10 for 4), while the JSON spends at least
/// 2 bytes of quotes on each string and one byte per character. The one repetition is the
/// crates view, which names each build running a crate version: that name is cut to
/// [`REFERENCE_CHARS`] characters of each part, at most about 1,300 bytes written twice, for
/// a build id that costs at least 8 bytes (a line of indentation and a digit) in the JSON.
/// Numbers are written at most four times (cell, `data-value`, JSON, a bar's label).
#[must_use]
const fn size_bound(json_len: usize) -> usize {
    64 * 1024 + 160 * json_len
}

/// `json` with `<`, `>`, `&`, `'` and every control or invisible format character written as JSON
/// `\uXXXX` escapes (UTF-16 pairs past U+FFFF): the same document, which can neither end its
/// script element nor hide text in it. Those characters only occur inside JSON strings.
fn push_json(out: &mut String, json: &str) {
    for c in json.chars() {
        if matches!(c, '<' | '>' | '&' | '\'')
            || (c.is_control() && c != '\n')
            || is_invisible_format(c)
        {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
}

/// `value` escaped for HTML text and attribute values, control and invisible format
/// characters shown as escapes ([`printable_line`]).
fn push_text(out: &mut String, value: &str) {
    for c in printable_line(value).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn header(out: &mut String, report: &FleetReport) {
    out.push_str("<header>\n<h1>cargo depinfo report</h1>\n");
    if report.sources.is_empty() {
        out.push_str("<p>Sources: none named.</p>\n");
    } else {
        out.push_str("<p>Sources:</p>\n<ul class=\"sources\">");
        for s in &report.sources {
            out.push_str("<li class=\"mono\">");
            push_text(out, s);
            out.push_str("</li>");
        }
        out.push_str("</ul>\n");
    }
    match &report.database {
        Some(db) => {
            let _ = write!(
                out,
                "<p>Advisory database: {} advisor{}",
                db.advisories,
                if db.advisories == 1 { "y" } else { "ies" }
            );
            if let Some(commit) = &db.commit {
                out.push_str(", commit <span class=\"mono\">");
                push_text(out, commit);
                out.push_str("</span>");
            }
            if let Some(time) = db.commit_time {
                let _ = write!(out, " of {}", utc_date(time));
            }
            match &report.advisories {
                Some(rows) if rows.is_empty() => {
                    out.push_str("; none affects a version that runs.</p>\n");
                }
                _ => out.push_str(".</p>\n"),
            }
        }
        None => out.push_str("<p>Advisory database: not read.</p>\n"),
    }
    match &report.registry {
        Some(registry) => {
            out.push_str("<p>Registry asked: <span class=\"mono\">");
            push_text(out, registry);
            out.push_str("</span>");
            match &report.outdated {
                Some(rows) if rows.is_empty() => {
                    out.push_str("; every running version is its newest release.</p>\n");
                }
                _ => out.push_str(".</p>\n"),
            }
        }
        None => out.push_str("<p>Registry: not asked.</p>\n"),
    }
    out.push_str("</header>\n");
}

/// `YYYY-MM-DD HH:MM UTC` of `seconds` since the Unix epoch (a date in the proleptic
/// Gregorian calendar; the commit's own time, formatted, not a clock read).
fn utc_date(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Days to civil date (Howard Hinnant's algorithm), for days since 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3_600,
        rest % 3_600 / 60
    )
}

fn totals(out: &mut String, report: &FleetReport) {
    let t = &report.totals;
    let mut rows = vec![
        ("programs", "Programs", t.programs),
        ("builds", "Builds", t.builds),
        ("instances", "Instances", t.instances),
        ("crates", "Crates", t.crates),
        ("crate_versions", "Crate versions", t.crate_versions),
    ];
    if let Some(n) = t.advisories {
        rows.push(("advisories", "Advisories", n));
    }
    if let Some(n) = t.outdated {
        rows.push(("outdated", "Outdated", n));
    }
    out.push_str("<dl id=\"totals\">\n");
    for (key, label, n) in rows {
        let _ = writeln!(
            out,
            "<div><dt>{label}</dt><dd data-total=\"{key}\">{n}</dd></div>"
        );
    }
    out.push_str("</dl>\n");
}

fn messages(out: &mut String, class: &str, title: &str, what: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<div class=\"{class}\">\n<h2>{title}</h2>\n<p>{what}</p>\n<ul class=\"messages\">"
    );
    for line in lines {
        out.push_str("<li>");
        push_text(out, line);
        out.push_str("</li>");
    }
    out.push_str("</ul>\n</div>\n");
}

/// A column of a view's table: its key, heading, and whether it sorts as numbers.
struct Column {
    key: &'static str,
    heading: &'static str,
    numeric: bool,
}

const fn text(key: &'static str, heading: &'static str) -> Column {
    Column {
        key,
        heading,
        numeric: false,
    }
}

const fn num(key: &'static str, heading: &'static str) -> Column {
    Column {
        key,
        heading,
        numeric: true,
    }
}

/// Opens a view: its section, heading, explanation, filter and copy controls, and the
/// table's head. [`end_view`] closes it.
fn start_view(out: &mut String, view: &str, title: &str, what: &str, columns: &[Column]) {
    let _ = write!(
        out,
        "<section id=\"{view}\">\n<h2>{title}</h2>\n<p>{what}</p>\n\
         <div class=\"tools\"><input type=\"search\" data-filter=\"{view}\" \
         placeholder=\"Filter\" aria-label=\"Filter {view}\">\
         <button type=\"button\" data-copy=\"{view}\">Copy</button>\
         <span class=\"status\" aria-live=\"polite\"></span></div>\n\
         <table data-view=\"{view}\">\n<thead><tr>"
    );
    for c in columns {
        let _ = write!(
            out,
            "<th data-key=\"{}\" data-type=\"{}\" tabindex=\"0\" scope=\"col\">{}</th>",
            c.key,
            if c.numeric { "num" } else { "text" },
            c.heading
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

fn end_view(out: &mut String) {
    out.push_str("</tbody>\n</table>\n</section>\n");
}

/// A numeric cell.
fn cell_num(out: &mut String, n: usize) {
    let _ = write!(out, "<td class=\"num\" data-value=\"{n}\">{n}</td>");
}

/// A text cell showing its value; `—` for an empty one.
fn cell_text(out: &mut String, value: &str) {
    cell_text_class(out, value, "");
}

/// A text cell with a class (`mono`: versions, revisions, addresses).
fn cell_text_class(out: &mut String, value: &str, class: &str) {
    cell(out, class, value, value);
}

/// A cell: its class (none when empty), the raw `value` it sorts and copies by, and the text
/// it shows (`—` for none).
fn cell(out: &mut String, class: &str, value: &str, shown: &str) {
    out.push_str("<td");
    if !class.is_empty() {
        let _ = write!(out, " class=\"{class}\"");
    }
    out.push_str(" data-value=\"");
    push_text(out, value);
    out.push_str("\">");
    if shown.is_empty() {
        out.push_str("<span class=\"none\">—</span>");
    } else {
        push_text(out, shown);
    }
    out.push_str("</td>");
}

/// A text cell listing `values`, comma-separated.
fn cell_list(out: &mut String, values: &[String], class: &str) {
    cell_text_class(out, &values.join(", "), class);
}

/// Process states as words with their counts: `current 3, replaced 1`.
fn states_text(states: &std::collections::BTreeMap<String, usize>) -> String {
    let mut text = String::new();
    for (state, n) in states {
        if !text.is_empty() {
            text.push_str(", ");
        }
        let _ = write!(text, "{state} {n}");
    }
    text
}

fn programs(out: &mut String, report: &FleetReport) {
    start_view(
        out,
        "programs",
        "Programs",
        "Each program: its builds and instances, the versions and revisions running, its \
         jobs, and its processes by state (from the exporter; binaries read from disk are \
         installed).",
        &[
            text("program", "Program"),
            num("builds", "Builds"),
            num("instances", "Instances"),
            text("versions", "Versions"),
            text("revisions", "Revisions"),
            text("jobs", "Jobs"),
            text("states", "States"),
        ],
    );
    for p in &report.programs {
        out.push_str("<tr data-row>");
        cell_text(out, &p.program);
        cell_num(out, p.builds);
        cell_num(out, p.instances);
        cell_list(out, &p.versions, "mono");
        cell_list(out, &p.revisions, "mono");
        cell_list(out, &p.jobs, "");
        cell_text(out, &states_text(&p.states));
        out.push_str("</tr>\n");
    }
    end_view(out);
}

fn builds(out: &mut String, report: &FleetReport) {
    start_view(
        out,
        "builds",
        "Builds",
        "Each build: a program at one version and revision with one list of runtime crates, \
         and where it runs (open a row's instances to list them).",
        &[
            text("program", "Program"),
            text("version", "Version"),
            text("revision", "Revision"),
            num("crates", "Crates"),
            num("instances", "Instances"),
            text("jobs", "Jobs"),
            text("states", "States"),
            text("locations", "Where"),
        ],
    );
    for b in &report.builds {
        out.push_str("<tr data-row>");
        cell_text(out, &b.program);
        cell_text_class(out, b.version.as_deref().unwrap_or_default(), "mono");
        cell_text_class(out, b.revision.as_deref().unwrap_or_default(), "mono");
        cell_num(out, b.crates);
        cell_num(out, b.instances);
        cell_list(out, &b.jobs, "");
        cell_text(out, &states_text(&b.states));
        out.push_str("<td data-value=\"");
        push_text(out, &b.locations.join(" "));
        let _ = write!(
            out,
            "\"><details><summary>{} instance{}</summary><ul>",
            b.instances,
            if b.instances == 1 { "" } else { "s" }
        );
        for l in &b.locations {
            out.push_str("<li class=\"mono\">");
            push_text(out, l);
            out.push_str("</li>");
        }
        out.push_str("</ul></details></td></tr>\n");
    }
    end_view(out);
}

/// The width of the spread chart's bars at most, in SVG units.
const BAR_WIDTH: usize = 160;
/// The height of one bar's line.
const BAR_LINE: usize = 16;

fn spread(out: &mut String, report: &FleetReport) {
    start_view(
        out,
        "spread",
        "Spread",
        "Each runtime crate, the versions of it running and how many instances run each: \
         the widest spread first. A bar's length is its instances out of the fleet's.",
        &[
            text("name", "Crate"),
            num("versions", "Versions"),
            num("instances", "Instances"),
            text("chart", "Instances per version"),
        ],
    );
    let fleet = report.totals.instances.max(1);
    for c in &report.crates {
        out.push_str("<tr data-row>");
        cell_text(out, &c.name);
        cell_num(out, c.versions.len());
        cell_num(out, c.instances);
        let mut raw = String::new();
        for v in &c.versions {
            if !raw.is_empty() {
                raw.push_str(", ");
            }
            let _ = write!(raw, "{} {}", v.version, v.instances);
        }
        out.push_str("<td data-value=\"");
        push_text(out, &raw);
        let height = BAR_LINE * c.versions.len().max(1);
        // No aria-label: the bars' own text labels say the same to a screen reader, and the
        // page's largest views must not say everything twice.
        let _ = write!(
            out,
            "\"><svg class=\"bars\" width=\"420\" height=\"{height}\" viewBox=\"0 0 420 {height}\">"
        );
        for (i, v) in c.versions.iter().enumerate() {
            // At least one unit wide, so a version that runs is never an invisible bar.
            let width = (v.instances.min(fleet) * BAR_WIDTH / fleet).max(1);
            let y = i * BAR_LINE;
            let _ = write!(
                out,
                "<rect y=\"{}\" width=\"{width}\" height=\"{}\"/><text x=\"{}\" y=\"{}\">",
                y + 2,
                BAR_LINE - 4,
                BAR_WIDTH + 6,
                y + BAR_LINE - 4
            );
            push_text(out, &v.version);
            let _ = write!(out, " × {}</text>", v.instances);
        }
        out.push_str("</svg></td></tr>\n");
    }
    end_view(out);
}

/// A severity or level shown as its word, with a class for the known words (weight only:
/// the word carries the meaning).
fn cell_word(out: &mut String, word: &str, known: &[&str], shown: &str) {
    let class = if known.contains(&word) {
        format!("level-{word}")
    } else {
        String::new()
    };
    cell(out, &class, word, shown);
}

fn advisories(out: &mut String, report: &FleetReport) {
    let Some(rows) = report.advisories.as_ref().filter(|r| !r.is_empty()) else {
        return;
    };
    start_view(
        out,
        "advisories",
        "Advisories",
        "Each advisory that a running version is affected by, and its blast radius: the \
         widest first. Look an advisory up by its id in the advisory database; this page \
         fetches nothing.",
        &[
            text("id", "Id"),
            text("package", "Crate"),
            text("title", "Title"),
            text("kind", "Kind"),
            text("severity", "Severity"),
            text("patched", "Patched"),
            text("versions", "Versions running"),
            num("programs", "Programs"),
            num("builds", "Builds"),
            num("instances", "Instances"),
            text("verdicts", "Vulnerable code"),
        ],
    );
    for a in rows {
        out.push_str("<tr data-row><td class=\"mono\" data-value=\"");
        push_text(out, &a.id);
        out.push_str("\">");
        push_text(out, &a.id);
        if !a.aliases.is_empty() {
            out.push_str("<span class=\"aliases\">");
            push_text(out, &a.aliases.join(", "));
            out.push_str("</span>");
        }
        out.push_str("</td>");
        cell_text(out, &a.package);
        cell_text(out, &a.title);
        cell_text(out, &a.kind);
        let severity = a.severity.as_deref().unwrap_or_default();
        let shown = match a.score {
            Some(score) if !severity.is_empty() => {
                format!("{severity} ({}.{})", score / 10, score % 10)
            }
            _ => severity.to_owned(),
        };
        cell_word(
            out,
            severity,
            &["none", "low", "medium", "high", "critical"],
            &shown,
        );
        cell_list(out, &a.patched, "mono");
        cell_list(out, &a.versions, "mono");
        cell_num(out, a.programs);
        cell_num(out, a.builds.len());
        cell_num(out, a.instances);
        cell_text(out, &verdict_words(a.verdicts));
        out.push_str("</tr>\n");
    }
    end_view(out);
}

/// `1 present, 2 unknown, 0 not-found`: how many instances have each verdict on the
/// advisory's functions, in words.
fn verdict_words(v: VerdictCounts) -> String {
    format!(
        "{} present, {} unknown, {} not-found",
        v.present, v.unknown, v.not_found
    )
}

fn outdated(out: &mut String, report: &FleetReport) {
    let Some(rows) = report.outdated.as_ref().filter(|r| !r.is_empty()) else {
        return;
    };
    start_view(
        out,
        "outdated",
        "Outdated",
        "Each crate version running behind the registry's newest release: the furthest \
         behind first (major, minor, patch).",
        &[
            text("name", "Crate"),
            text("version", "Version"),
            text("newest_compatible", "Newest compatible"),
            text("newest", "Newest"),
            text("behind", "Behind"),
            num("builds", "Builds"),
            num("instances", "Instances"),
        ],
    );
    for o in rows {
        out.push_str("<tr data-row>");
        cell_text(out, &o.name);
        cell_text_class(out, &o.version, "mono");
        cell_text_class(out, &o.newest_compatible, "mono");
        cell_text_class(out, &o.newest, "mono");
        let behind = o.behind.as_str();
        cell_word(out, behind, &["patch", "minor", "major"], behind);
        cell_num(out, o.builds.len());
        cell_num(out, o.instances);
        out.push_str("</tr>\n");
    }
    end_view(out);
}

/// A build as the crates view names it: `program version (revision)`, each part cut to
/// [`REFERENCE_CHARS`] characters, the revision to [`REVISION_CHARS`].
fn build_name(b: &BuildRow) -> String {
    let mut name = shortened(&b.program, REFERENCE_CHARS).into_owned();
    if let Some(v) = &b.version {
        name.push(' ');
        name.push_str(&shortened(v, REFERENCE_CHARS));
    }
    if let Some(r) = &b.revision {
        let short: String = r.chars().take(REVISION_CHARS).collect();
        let _ = write!(name, " ({short})");
    }
    name
}

fn crates(out: &mut String, report: &FleetReport) {
    start_view(
        out,
        "crates",
        "Crates",
        "Where is crate X at version Y running? One row per crate version, with the builds \
         that run it. The filter matches the crate's name.",
        &[
            text("name", "Crate"),
            text("version", "Version"),
            text("sources", "Sources"),
            num("instances", "Instances"),
            text("builds", "Builds running it"),
        ],
    );
    let names: Vec<String> = report.builds.iter().map(build_name).collect();
    for c in &report.crates {
        for v in &c.versions {
            // The largest view (a row per crate version): its version and instance cells get
            // their look from the style sheet's column rules, not a class on every cell.
            out.push_str("<tr data-row>");
            cell_text(out, &c.name);
            cell_text(out, &v.version);
            cell_list(out, &v.sources, "");
            let _ = write!(out, "<td data-value=\"{n}\">{n}</td>", n = v.instances);
            let running: Vec<&str> = v
                .builds
                .iter()
                .filter_map(|&id| names.get(id).map(String::as_str))
                .collect();
            out.push_str("<td data-value=\"");
            push_text(out, &running.join(", "));
            out.push_str("\"><ul class=\"cell\">");
            for name in running {
                out.push_str("<li>");
                push_text(out, name);
                out.push_str("</li>");
            }
            out.push_str("</ul></td></tr>\n");
        }
    }
    end_view(out);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;
    use crate::questions::{
        AdvisoryRow, CrateRow, CrateVersionRow, DatabaseInfo, Level, OutdatedRow, ProgramRow,
    };

    /// A model whose strings are taken, in order, from `strings` (cycling), with every view
    /// filled: two programs, three builds, two crates (one in two versions), an advisory, an
    /// outdated version, an error and a note.
    fn model(strings: &[String]) -> FleetReport {
        let mut at = 0;
        let mut s = || {
            let v = strings[at % strings.len()].clone();
            at += 1;
            v
        };
        let mut report = FleetReport::new(&[], &[]);
        report.sources = vec![s(), s()];
        report.programs = vec![
            ProgramRow {
                program: s(),
                builds: 2,
                instances: 3,
                versions: vec![s(), s()],
                revisions: vec![s()],
                jobs: vec![s()],
                states: BTreeMap::from([(s(), 2), (s(), 1)]),
            },
            ProgramRow {
                program: s(),
                builds: 1,
                instances: 1,
                versions: vec![],
                revisions: vec![],
                jobs: vec![],
                states: BTreeMap::new(),
            },
        ];
        report.builds = vec![
            BuildRow {
                id: 0,
                program: s(),
                version: Some(s()),
                revision: Some(s()),
                crates: 2,
                instances: 2,
                jobs: vec![s()],
                locations: vec![s(), s()],
                states: BTreeMap::from([(s(), 2)]),
            },
            BuildRow {
                id: 1,
                program: s(),
                version: Some(s()),
                revision: None,
                crates: 1,
                instances: 1,
                jobs: vec![],
                locations: vec![s()],
                states: BTreeMap::new(),
            },
            BuildRow {
                id: 2,
                program: s(),
                version: None,
                revision: None,
                crates: 1,
                instances: 1,
                jobs: vec![],
                locations: vec![s()],
                states: BTreeMap::new(),
            },
        ];
        report.crates = vec![
            CrateRow {
                name: s(),
                instances: 4,
                versions: vec![
                    CrateVersionRow {
                        version: s(),
                        sources: vec![s()],
                        instances: 3,
                        builds: vec![0, 1],
                    },
                    CrateVersionRow {
                        version: s(),
                        sources: vec![s(), s()],
                        instances: 1,
                        builds: vec![2],
                    },
                ],
            },
            CrateRow {
                name: s(),
                instances: 2,
                versions: vec![CrateVersionRow {
                    version: s(),
                    sources: vec![s()],
                    instances: 2,
                    builds: vec![0],
                }],
            },
        ];
        report.advisories = Some(vec![AdvisoryRow {
            id: s(),
            aliases: vec![s()],
            package: s(),
            title: s(),
            kind: s(),
            severity: Some(s()),
            score: Some(75),
            patched: vec![s()],
            versions: vec![s()],
            programs: 1,
            builds: vec![0, 1],
            instances: 3,
            verdicts: VerdictCounts {
                present: 1,
                unknown: 2,
                not_found: 0,
            },
        }]);
        report.database = Some(DatabaseInfo {
            advisories: 912,
            commit: Some(s()),
            commit_time: Some(1_765_000_000),
        });
        report.outdated = Some(vec![OutdatedRow {
            name: s(),
            version: s(),
            newest_compatible: s(),
            newest: s(),
            behind: Level::Minor,
            builds: vec![0],
            instances: 2,
        }]);
        report.registry = Some(s());
        report.errors = vec![s()];
        report.notes = vec![s()];
        report.totals = crate::questions::Totals {
            programs: 2,
            builds: 3,
            instances: 4,
            crates: 2,
            crate_versions: 3,
            advisories: Some(1),
            outdated: Some(1),
        };
        report
    }

    /// A small report with the names a real fleet has.
    fn small() -> FleetReport {
        let strings: Vec<String> = [
            // Sources.
            "bin/",
            "http://127.0.0.1:9090",
            // Programs: api (versions, revision, job, states), worker.
            "api",
            "1.2.0",
            "1.3.0",
            "4f2a9c1d0e7b",
            "api",
            "current",
            "replaced",
            "worker",
            // Builds: api 1.3.0 on two instances, api 1.2.0 and worker from disk.
            "api",
            "1.3.0",
            "4f2a9c1d0e7b",
            "api",
            "10.0.0.1:9100",
            "10.0.0.2:9100",
            "current",
            "api",
            "1.2.0",
            "bin/api",
            "worker",
            "bin/worker",
            // Crates: serde in two versions, tokio.
            "serde",
            "1.0.219",
            "crates.io",
            "1.0.100",
            "crates.io",
            "git",
            "tokio",
            "1.47.1",
            "crates.io",
            // The advisory.
            "RUSTSEC-2025-0001",
            "CVE-2025-1234",
            "serde",
            "Use after free in <Deserializer> when \"borrowing\" & more",
            "vulnerability",
            "high",
            ">=1.0.220",
            "1.0.219",
            // The database's commit.
            "0123456789abcdef",
            // Outdated: tokio.
            "tokio",
            "1.47.1",
            "1.48.0",
            "2.0.0",
            // Registry, error, note.
            "http://127.0.0.1:8080/index/",
            "bin/broken: not an executable",
            "prometheus: 1 target down",
        ]
        .map(str::to_owned)
        .to_vec();
        model(&strings)
    }

    fn golden(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(name)
    }

    /// The text between the first `open` and the next `close` after it.
    fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
        let start = page.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
        let len = page[start..]
            .find(close)
            .unwrap_or_else(|| panic!("no {close} after {open}"));
        &page[start..start + len]
    }

    /// The embedded model, as the page holds it.
    fn embedded_json(page: &str) -> &str {
        between(
            page,
            "<script type=\"application/json\" id=\"report-data\">",
            "</script>",
        )
    }

    /// The names of the page's tags in order (`/td` for an end tag), and `<` that starts none.
    fn tags(page: &str) -> Vec<String> {
        page.split('<')
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '!'))
                    .collect::<String>()
                    .to_ascii_lowercase()
            })
            .collect()
    }

    #[test]
    fn a_small_report_is_the_reviewed_page() {
        testkit::check_golden(&golden("report.html"), &report_html(&small()));
    }

    #[test]
    fn the_page_holds_every_view_and_the_totals() {
        let page = report_html(&small());
        assert!(page.starts_with(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        ));
        for view in [
            "programs",
            "builds",
            "spread",
            "advisories",
            "outdated",
            "crates",
        ] {
            assert!(page.contains(&format!("<section id=\"{view}\">")), "{view}");
            assert!(
                page.contains(&format!("<table data-view=\"{view}\">")),
                "{view}"
            );
            assert!(
                page.contains(&format!("<input type=\"search\" data-filter=\"{view}\"")),
                "{view}"
            );
            assert!(
                page.contains(&format!(
                    "<button type=\"button\" data-copy=\"{view}\">Copy</button>"
                )),
                "{view}"
            );
        }
        // Rows: 2 programs, 3 builds, 2 crates, 1 advisory, 1 outdated, 3 crate versions.
        assert_eq!(page.matches("<tr data-row>").count(), 2 + 3 + 2 + 1 + 1 + 3);
        for (key, n) in [
            ("programs", 2),
            ("builds", 3),
            ("instances", 4),
            ("crates", 2),
            ("crate_versions", 3),
            ("advisories", 1),
            ("outdated", 1),
        ] {
            assert!(
                page.contains(&format!("<dd data-total=\"{key}\">{n}</dd>")),
                "{key}"
            );
        }
        assert!(page.contains("<summary>2 instances</summary><ul><li class=\"mono\">10.0.0.1:9100</li><li class=\"mono\">10.0.0.2:9100</li></ul>"));
        // The crates view names the builds running a version, revisions cut short.
        assert!(page.contains("<li>api 1.3.0 (4f2a9c1)</li><li>api 1.2.0</li>"));
    }

    #[test]
    fn views_without_rows_are_left_out_and_totals_without_a_value_too() {
        let mut report = small();
        report.advisories = Some(Vec::new());
        report.outdated = None;
        report.registry = None;
        report.totals.advisories = Some(0);
        report.totals.outdated = None;
        let page = report_html(&report);
        assert!(!page.contains("id=\"advisories\""));
        assert!(!page.contains("id=\"outdated\""));
        assert!(page.contains("<dd data-total=\"advisories\">0</dd>"));
        assert!(!page.contains("data-total=\"outdated\""));
        assert!(page.contains("none affects a version that runs"));
        assert!(page.contains("Registry: not asked."));
        // An empty fleet is still a whole page.
        let page = report_html(&FleetReport::new(&[], &[]));
        assert!(page.ends_with("</html>\n"));
        assert_eq!(page.matches("<tr data-row>").count(), 0);
        assert_eq!(page.matches("<section id=").count(), 4);
    }

    /// SHA-256 of the empty string, as every CSP implementation knows it: the hash is
    /// SHA-256 in standard base64 with padding.
    #[test]
    fn hash_sources_are_sha256_in_base64() {
        assert_eq!(
            sha256_source(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    /// The CSP names the SHA-256 of the inline script and style exactly as emitted, checked
    /// with coreutils' `sha256sum` on the bytes between the tags.
    #[test]
    fn the_csp_hashes_are_those_of_the_inline_script_and_style() {
        let page = report_html(&small());
        let csp = between(
            &page,
            "http-equiv=\"Content-Security-Policy\" content=\"",
            "\"",
        );
        let parts: Vec<&str> = csp.split("; ").collect();
        assert_eq!(parts.len(), 6, "{csp}");
        assert_eq!(parts[0], "default-src 'none'");
        assert_eq!(
            parts[3..],
            ["img-src data:", "base-uri 'none'", "form-action 'none'"]
        );
        assert!(!csp.contains("unsafe") && !csp.contains("report-"), "{csp}");
        let script = between(&page, "</script>\n<script>", "</script>");
        let style = between(&page, "<style>", "</style>");
        for (directive, element) in [("script-src", script), ("style-src", style)] {
            let hash = parts
                .iter()
                .find_map(|p| p.strip_prefix(&format!("{directive} 'sha256-")))
                .and_then(|h| h.strip_suffix('\''))
                .unwrap_or_else(|| panic!("no {directive} hash in {csp}"));
            let digest = base64::engine::general_purpose::STANDARD
                .decode(hash)
                .unwrap();
            let hex = digest.iter().fold(String::new(), |mut hex, b| {
                let _ = write!(hex, "{b:02x}");
                hex
            });
            assert_eq!(hex, sha256sum(element.as_bytes()), "{directive}");
        }
        assert_eq!(script, SCRIPT);
        assert_eq!(style, STYLE);
    }

    /// The hex SHA-256 of `bytes` by coreutils' `sha256sum`.
    fn sha256sum(bytes: &[u8]) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sha256sum (coreutils) runs");
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()[..64].to_owned()
    }

    /// The inline script and style can't end early or open a comment: the CSP hashes them
    /// as written.
    #[test]
    fn the_inline_script_and_style_hold_no_end_tag() {
        for text in [SCRIPT, STYLE] {
            let lower = text.to_ascii_lowercase();
            assert!(!lower.contains("</script") && !lower.contains("</style"));
            assert!(!text.contains("<!--"));
        }
    }

    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "</script><script>alert(2)</script>",
        "</SCRIPT >",
        "</style><img src=x onerror=alert(3)>",
        "<!-- comment",
        "x\" onmouseover=\"alert(4)",
        "y' onfocus='alert(5)",
        "a & b &amp; c",
        "safe\u{202e}txt.exe\u{202c}",
        "\u{2066}iso\u{2069}\u{200e}\u{200f}\u{61c}\u{202a}\u{202b}\u{202d}\u{2067}\u{2068}",
        "line\u{2028}para\u{2029}end",
        "nul\0bel\u{7}esc\u{1b}[2Jdel\u{7f}c1\u{85}",
        "tag\u{e0001}\u{e0041}chars",
        "<svg onload=alert(6)>",
        // Harmless as HTML (shown as is), but not to be read back as markup from the JSON.
        "\\u003c/script\\u003e",
    ];

    fn hostile() -> Vec<String> {
        let mut strings: Vec<String> = HOSTILE.iter().map(|&s| s.to_owned()).collect();
        strings.push("</script>".repeat(20_000));
        strings.push("\u{202e}".repeat(20_000));
        strings
    }

    #[test]
    fn hostile_strings_never_appear_raw() {
        let report = model(&hostile());
        let page = report_html(&report);
        for h in hostile().iter().filter(|h| !h.starts_with('\\')) {
            assert!(
                !page.contains(h.as_str()),
                "raw in the page: {}",
                shortened(h, 40)
            );
        }
        // Nothing invisible or controlling reaches the page, anywhere in it.
        let raw = page
            .chars()
            .find(|&c| (c.is_control() && c != '\n') || is_invisible_format(c));
        assert_eq!(raw, None);
        // The elements the page should have, and no more.
        let lower = page.to_ascii_lowercase();
        assert_eq!(lower.matches("<script").count(), 2);
        assert_eq!(lower.matches("</script").count(), 2);
        assert_eq!(lower.matches("<style").count(), 1);
        assert_eq!(lower.matches("</style").count(), 1);
        assert_eq!(lower.matches("<!--").count(), 0);
        assert_eq!(lower.matches("<svg").count(), report.crates.len());
        assert_eq!(lower.matches("<img").count(), 0);
        // The same tags as the page of a model with harmless strings.
        assert_eq!(
            tags(&page),
            tags(&report_html(&model(&harmless(&hostile()))))
        );
        // Shown as text, escaped, with the invisible characters as escapes.
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("x&quot; onmouseover=&quot;alert(4)"));
        assert!(page.contains("y&#39; onfocus=&#39;alert(5)"));
        assert!(page.contains("a &amp; b &amp;amp; c"));
        assert!(page.contains(r"safe\u202etxt.exe\u202c"));
        assert!(page.contains(r"line\u2028para\u2029end"));
        assert!(page.contains(r"nul\x00bel\x07esc\x1b[2Jdel\x7fc1\u0085"));
    }

    /// Each string as harmless text of the same emptiness, keeping distinct strings distinct.
    fn harmless(strings: &[String]) -> Vec<String> {
        strings
            .iter()
            .map(|s| {
                s.chars()
                    .map(|c| format!("{:x}", u32::from(c)))
                    .collect::<Vec<_>>()
                    .join(".")
            })
            .collect()
    }

    /// The embedded document is `report_json`'s: un-escaped back, it is the same value.
    fn assert_embedded_json_is_the_model(page: &str, report: &FleetReport) {
        let embedded = embedded_json(page);
        assert!(!embedded.contains('<') && !embedded.contains('>') && !embedded.contains('&'));
        let expected: Value = serde_json::from_str(&crate::render::report_json(report)).unwrap();
        let unescaped = unescape_markup(embedded);
        assert!(unescaped.len() <= embedded.len());
        assert_eq!(serde_json::from_str::<Value>(&unescaped).unwrap(), expected);
        assert_eq!(serde_json::from_str::<Value>(embedded).unwrap(), expected);
    }

    /// `json` with the escapes of `<`, `>`, `&` and `'` written back as the characters (an
    /// escaped backslash before `u003c` is a backslash, not an escape).
    fn unescape_markup(json: &str) -> String {
        let mut out = String::with_capacity(json.len());
        let mut rest = json;
        while let Some(at) = rest.find('\\') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            let back = [
                ("\\u003c", '<'),
                ("\\u003e", '>'),
                ("\\u0026", '&'),
                ("\\u0027", '\''),
            ]
            .into_iter()
            .find(|(escape, _)| rest.starts_with(escape));
            if let Some((escape, c)) = back {
                out.push(c);
                rest = &rest[escape.len()..];
            } else {
                // Any other escape is two characters before what it escapes, copied whole.
                out.push_str(&rest[..2]);
                rest = &rest[2..];
            }
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn markup_escapes_read_back_and_others_stay() {
        assert_eq!(
            unescape_markup(r#"["\u003c/a\u003e", "\\u003c", "\"\u0026\u0027"]"#),
            r#"["</a>", "\\u003c", "\"&'"]"#
        );
    }

    #[test]
    fn the_embedded_json_is_report_json_and_cannot_end_its_element() {
        let report = model(&hostile());
        let page = report_html(&report);
        assert_embedded_json_is_the_model(&page, &report);
        let embedded = embedded_json(&page);
        assert!(embedded.contains(r"\u003c/script\u003e"));
        assert!(embedded.contains(r"\u2028") && embedded.contains(r"\u2029"));
        // Past U+FFFF: a UTF-16 pair, as JSON writes it.
        assert!(embedded.contains(r"\udb40\udc01"));
        // The model's own text is the JSON's, escapes and all.
        let report = small();
        let page = report_html(&report);
        assert_embedded_json_is_the_model(&page, &report);
        assert!(embedded_json(&page).contains(
            r#""title":"Use after free in \u003cDeserializer\u003e when \"borrowing\" \u0026 more""#
        ));
    }

    /// A fleet as the issue sizes it: 1,000 instances of 20 builds (10 programs, two versions
    /// each) × 300 crates, 100 of them in two versions and 50 in three.
    fn fleet_of_1000() -> FleetReport {
        let mut report = FleetReport::new(&[], &[]);
        report.sources = vec!["http://127.0.0.1:9090".to_owned()];
        for p in 0..10 {
            let program = format!("service-{p:02}");
            report.programs.push(ProgramRow {
                program: program.clone(),
                builds: 2,
                instances: 100,
                versions: vec![format!("1.{p}.0"), format!("1.{p}.1")],
                revisions: vec![format!("{p:02}aa0000ffff"), format!("{p:02}bb0000ffff")],
                jobs: vec![program.clone()],
                states: BTreeMap::from([("current".to_owned(), 95), ("replaced".to_owned(), 5)]),
            });
            for b in 0..2 {
                let id = report.builds.len();
                report.builds.push(BuildRow {
                    id,
                    program: program.clone(),
                    version: Some(format!("1.{p}.{b}")),
                    revision: Some(format!("{p:02}{}0000ffff", ["aa", "bb"][b])),
                    crates: 300,
                    instances: 50,
                    jobs: vec![program.clone()],
                    locations: (0..50).map(|i| format!("10.{p}.{b}.{i}:9100")).collect(),
                    states: BTreeMap::from([("current".to_owned(), 50)]),
                });
            }
        }
        for c in 0..300 {
            let spread = if c < 50 {
                3
            } else if c < 150 {
                2
            } else {
                1
            };
            let versions = (0..spread)
                .map(|v| {
                    let builds: Vec<usize> = (0..20).filter(|b| b % spread == v).collect();
                    CrateVersionRow {
                        version: format!("{}.{v}.{}", c % 4, c % 17),
                        sources: vec!["crates.io".to_owned()],
                        instances: builds.len() * 50,
                        builds,
                    }
                })
                .collect();
            report.crates.push(CrateRow {
                name: format!("crate-number-{c:03}"),
                instances: 1000,
                versions,
            });
        }
        report.totals = crate::questions::Totals {
            programs: 10,
            builds: 20,
            instances: 1000,
            crates: 300,
            crate_versions: 50 * 3 + 100 * 2 + 150,
            advisories: None,
            outdated: None,
        };
        report
    }

    /// The issue's bound: at most 2 MB for 1,000 instances of 20 builds × 300 crates.
    #[test]
    fn a_fleet_of_1000_instances_is_under_2_mb() {
        let report = fleet_of_1000();
        let page = report_html(&report);
        assert!(page.len() < 2_000_000, "{} bytes", page.len());
        assert_eq!(
            page.matches("<tr data-row>").count(),
            10 + 20 + 300 + report.totals.crate_versions
        );
        assert_embedded_json_is_the_model(&page, &report);
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_765_000_000), "2025-12-06 05:46 UTC");
        assert_eq!(utc_date(4_107_542_399), "2100-02-28 23:59 UTC");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any text in every string field: no panic, nothing that ends the JSON's element,
        /// no `<` from the model outside a tag, and a page no longer than the bound.
        #[test]
        fn any_strings_make_a_safe_page_of_bounded_size(
            strings in proptest::collection::vec(
                "(\\PC|[<>&\"'\\\\\\x00-\\x1f\\x7f\\u{85}\\u{2028}\\u{2029}\\u{202e}\\u{2066}\\u{e0001}]|</script|</SCRIPT|<!--|\\]\\]>)*",
                1..64,
            )
        ) {
            let report = model(&strings);
            let page = report_html(&report);
            let json = embedded_json(&page).to_ascii_lowercase();
            proptest::prop_assert!(!json.contains("</script") && !json.contains("<!--"));
            proptest::prop_assert!(!json.contains('<'));
            proptest::prop_assert_eq!(tags(&page), tags(&report_html(&model(&harmless(&strings)))));
            let json_len = crate::render::report_json(&report).len();
            proptest::prop_assert!(page.len() <= size_bound(json_len), "{} > bound of {}", page.len(), json_len);
            assert_embedded_json_is_the_model(&page, &report);
        }
    }
}
