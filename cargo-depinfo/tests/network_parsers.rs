//! Property tests of the parsers of network answers (issue 10): the exposition parser, the
//! Prometheus API decoder and sparse-index files. Inputs are generated (valid answers whose
//! parse is known) and mutated from real pages and answers (the collector's golden pages, our
//! own expositions, the test index). Each case asserts no panic, a peak of live heap memory
//! linear in the input (a counting allocator, per thread, so parallel tests do not mix), and
//! the right classification: the data that went in, or the error that fits.
//!
//! Run with `--features test-util` (the parsers are public only then).
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cargo_depinfo::network_parsers::{
    Annotations, ApiSample, Format, MAX_API_LABEL_VALUE, MAX_LABEL_VALUE, MAX_LINE, Sample,
    decode_prometheus_answer, decode_prometheus_answer_reader, decode_prometheus_answer_with,
    page_observations, parse_exposition, parse_exposition_reader, parse_index_file,
};
use cargo_depinfo::{ApiError, ExpositionError, IndexFileError};
use proptest::prelude::*;
use testkit::mutation::Mutation;

// ---- counting allocator ----------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

use testkit::peak_during;

/// The memory a parse may use: linear in its input (a one-byte label costs a map node).
fn bounded(input: usize) -> usize {
    (64 << 10) + 128 * input
}

// ---- mutation ----------------------------------------------------------------------------

const TOKENS: &[&str] = &[
    "\\",
    "\"",
    "{",
    "}",
    ",",
    "=",
    "\n",
    " ",
    "\t",
    "#",
    "NaN",
    "+Inf",
    "-Inf",
    "1e400",
    "0",
    "\u{0}",
    "\u{1b}",
    "é",
    "\\x",
    "\\n",
    "}}",
    "[",
    "]",
    ":",
    "null",
    "\"NaN\"",
    "\\u0000",
    "\\ud800",
    "9999999999999999999999",
    "\r\n",
    "# EOF",
    "\u{feff}",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    testkit::mutation::mutation(TOKENS.len())
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    testkit::mutation::mutate(seed, mutations, TOKENS)
}

// ---- exposition ---------------------------------------------------------------------------

const PAGES: &[&str] = &[
    include_str!("../../build-info-collector/tests/golden/example.prom"),
    include_str!("../../build-info-collector/tests/golden/odd.prom"),
    include_str!("fleet/affected_metrics.prom"),
    include_str!("fleet/spread.prom"),
    OPEN_METRICS_PAGE,
];

/// An OpenMetrics page as a service using prometheus-client serves it: exemplars, `_created`,
/// units, info and stateset families, `# EOF`.
const OPEN_METRICS_PAGE: &str = "# HELP http_requests Requests.\n# TYPE http_requests counter\n\
    http_requests_total{code=\"200\",path=\"/\"} 1027 # {trace_id=\"KOO5S4vxi0o\"} 1 1.7e9\n\
    http_requests_created{code=\"200\",path=\"/\"} 1.7e9\n\
    # TYPE latency_seconds histogram\n# UNIT latency_seconds seconds\n\
    latency_seconds_bucket{le=\"0.1\"} 8 # {trace_id=\"a\"} 0.05\n\
    latency_seconds_bucket{le=\"+Inf\"} 17\nlatency_seconds_count 17\nlatency_seconds_sum 3.5\n\
    # TYPE rust_mod info\n# HELP rust_mod Crates.\n\
    rust_mod_info{direct=\"true\",name=\"serde\",program=\"shop\",source=\"crates.io\",version=\"1.0.219\"} 1\n\
    # TYPE feature stateset\nfeature{feature=\"a\"} 1\n\
    # TYPE shop_build_info gauge\n\
    shop_build_info{revision=\"3f2c\",rustversion=\"1.95.0\",version=\"1.4.2\"} 1\n# EOF\n";

fn is_metric_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_ours(name: &str) -> bool {
    name == "rust_mod_info" || name.ends_with("_build_info")
}

/// Label values as the format escapes them.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Label values: anything, and often what the format must escape.
fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[\"\\\\\n\r\t\u{1b}\u{0}a-z{},=]{0,12}"]
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Text), Just(Format::OpenMetrics)]
}

type Parsed = (String, BTreeMap<String, String>, f64);

/// A sample, owned.
fn owned(s: &Sample<'_>) -> Parsed {
    let labels = s
        .labels()
        .map(|(k, v)| (k.to_owned(), v.into_owned()))
        .collect();
    (s.name.to_owned(), labels, s.value)
}

/// Every sample `keep` selects, owned.
fn parse_all(
    page: &[u8],
    format: Format,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<Parsed>, ExpositionError> {
    let mut out = Vec::new();
    parse_exposition(page, format, keep, |s| out.push(owned(&s)))?;
    Ok(out)
}

/// The page's lines, as the parser counts them.
fn line_count(page: &[u8]) -> usize {
    page.split(|&b| b == b'\n').count()
}

#[derive(Debug, Clone)]
struct GenSample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
    /// Written only in OpenMetrics.
    exemplar: Option<BTreeMap<String, String>>,
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,10}", label_value(), 0..5)
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(0.0),
        Just(1.0),
        Just(f64::NAN),
        Just(f64::INFINITY)
    ]
}

fn gen_sample() -> impl Strategy<Value = GenSample> {
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        labels(),
        value(),
        proptest::option::of(labels()),
    )
        .prop_map(|(name, labels, value, exemplar)| GenSample {
            name,
            labels,
            value,
            exemplar,
        })
}

fn write_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:?}")
    }
}

fn write_labels(labels: &BTreeMap<String, String>) -> String {
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", labels.join(","))
}

fn sample_line(g: &GenSample, format: Format) -> String {
    let mut s = g.name.clone();
    if !g.labels.is_empty() {
        s.push_str(&write_labels(&g.labels));
    }
    let _ = write!(s, " {}", write_value(g.value));
    if let (Format::OpenMetrics, Some(exemplar)) = (format, &g.exemplar) {
        let _ = write!(s, " # {} 0.5 1700000000.5", write_labels(exemplar));
    }
    s
}

fn render(samples: &[GenSample], format: Format) -> String {
    let mut s = String::from("# HELP x generated\n# TYPE x gauge\n");
    for g in samples {
        s.push_str(&sample_line(g, format));
        s.push('\n');
    }
    if format == Format::OpenMetrics {
        s.push_str("# EOF\n");
    }
    s
}

/// A `rust_mod_info` or `<program>_build_info` series.
fn our_sample() -> impl Strategy<Value = GenSample> {
    let mod_info = (
        label_value(),
        label_value(),
        label_value(),
        label_value(),
        prop_oneof![Just("true"), Just("false")],
        prop_oneof![Just(1.0), Just(0.0), Just(2.5)],
    )
        .prop_map(|(name, version, program, source, direct, value)| {
            let labels = [
                ("direct", direct.to_owned()),
                ("name", name),
                ("program", program),
                ("source", source),
                ("version", version),
            ];
            GenSample {
                name: "rust_mod_info".into(),
                labels: labels.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                value,
                exemplar: None,
            }
        });
    let build_info = ("[a-z][a-z0-9_]{0,8}", labels()).prop_map(|(program, labels)| GenSample {
        name: format!("{program}_build_info"),
        labels,
        value: 1.0,
        exemplar: None,
    });
    prop_oneof![3 => mod_info, 1 => build_info]
}

/// A line of another family: a comment, or a name (never ours) followed by anything that does
/// not continue the name.
fn other_line() -> impl Strategy<Value = String> {
    let name = "[a-z_][a-z0-9_:]{0,15}".prop_filter("not ours", |n| !is_ours(n));
    prop_oneof![
        (name.clone(), "[^\n\ra-zA-Z0-9_:][^\n]{0,40}").prop_map(|(n, tail)| format!("{n}{tail}")),
        (name.clone(), labels(), value(), labels()).prop_map(|(n, l, v, e)| format!(
            "{n}_total{} {} # {} 1",
            write_labels(&l),
            write_value(v),
            write_labels(&e)
        )),
        (name.clone(), "[a-z]{1,8}").prop_map(|(n, t)| format!("# TYPE {n} {t}")),
        (name, "[^\n]{0,30}").prop_map(|(n, h)| format!("# HELP {n} {h}")),
        "# [^\n]{0,30}".prop_filter("not EOF", |c| c.trim_end() != "# EOF"),
    ]
}

/// Our samples interleaved with other lines: the page, and our samples' line numbers.
fn mixed_page(
    ours: &[GenSample],
    others: &[(usize, String)],
    format: Format,
) -> (String, Vec<usize>) {
    let mut lines: Vec<(bool, String)> = ours
        .iter()
        .map(|g| (true, sample_line(g, format)))
        .collect();
    for (at, line) in others {
        let at = at % (lines.len() + 1);
        lines.insert(at, (false, line.clone()));
    }
    let mut page = String::new();
    let mut numbers = Vec::new();
    for (i, (is_ours, line)) in lines.iter().enumerate() {
        if *is_ours {
            numbers.push(i + 1);
        }
        page.push_str(line);
        page.push('\n');
    }
    if format == Format::OpenMetrics {
        page.push_str("# EOF\n");
    }
    (page, numbers)
}

fn same_samples(parsed: &[Parsed], written: &[GenSample]) -> Result<(), TestCaseError> {
    prop_assert_eq!(parsed.len(), written.len());
    for (p, g) in parsed.iter().zip(written) {
        prop_assert_eq!(&p.0, &g.name);
        prop_assert_eq!(&p.1, &g.labels);
        prop_assert!(p.2.to_bits() == g.value.to_bits() || (p.2.is_nan() && g.value.is_nan()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1500))]

    /// Mutated real pages, every line kept: data whose names are valid, or an error on an
    /// existing line.
    #[test]
    fn mutated_pages_parse_or_fail_on_a_line_in_bounded_memory(
        seed in 0..PAGES.len(),
        mutations in proptest::collection::vec(mutation(), 1..8),
        format in format(),
    ) {
        let bytes = mutate(PAGES[seed].as_bytes(), &mutations);
        let (result, peak) = peak_during(|| parse_all(&bytes, format, |_| true));
        prop_assert!(peak <= bounded(bytes.len()), "{peak} bytes for {} bytes", bytes.len());
        match result {
            Ok(samples) => {
                for (name, labels, _) in samples {
                    prop_assert!(is_metric_name(&name), "{:?}", name);
                    prop_assert!(labels.keys().all(|k| is_label_name(k)), "{:?}", labels);
                }
            }
            Err(e) => {
                prop_assert!(e.line >= 1 && e.line <= line_count(&bytes), "{e}");
                prop_assert!(!e.to_string().contains('\n'), "{e}");
                prop_assert!(e.to_string().chars().count() <= 200, "{e}");
            }
        }
    }

}

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// Generated valid pages, every line kept: exactly the samples written, label values byte
    /// for byte, exemplars or not.
    #[test]
    fn generated_pages_parse_to_what_was_written(
        samples in proptest::collection::vec(gen_sample(), 0..20),
        format in format(),
    ) {
        let text = render(&samples, format);
        let (parsed, peak) = peak_during(|| parse_all(text.as_bytes(), format, |_| true));
        prop_assert!(peak <= bounded(text.len()));
        let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        same_samples(&parsed, &samples)?;
    }

    /// Our series among random lines of other families, in both formats: found exactly, in
    /// memory that does not grow with the other lines (nothing is copied).
    #[test]
    fn our_series_among_other_families_are_found_exactly(
        ours in proptest::collection::vec(our_sample(), 0..12),
        others in proptest::collection::vec((any::<usize>(), other_line()), 0..40),
        format in format(),
    ) {
        let (page, _) = mixed_page(&ours, &others, format);
        let (parsed, peak) = peak_during(|| parse_all(page.as_bytes(), format, is_ours));
        prop_assert!(peak <= bounded(page.len()));
        let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{e}\n{page}")))?;
        same_samples(&parsed, &ours)?;
        // The parser itself allocates nothing for a valid page: samples borrow the body.
        let mut found = 0;
        let (result, peak) = peak_during(|| parse_exposition(page.as_bytes(), format, is_ours, |_| found += 1));
        prop_assert!(result.is_ok());
        prop_assert_eq!((found, peak), (ours.len(), 0));

        // And as observations: one per positive rust_mod_info series.
        let observations = page_observations(page.as_bytes(), Some(content_type(format)), "h:1", "u")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{page}")))?;
        let mut got: Vec<(String, String, String)> = observations
            .iter()
            .map(|o| (o.runner.program.clone(), o.name.to_string(), o.version.to_string()))
            .collect();
        let mut want: Vec<(String, String, String)> = ours
            .iter()
            .filter(|g| g.name == "rust_mod_info" && g.value > 0.0)
            .map(|g| (g.labels["program"].clone(), g.labels["name"].clone(), g.labels["version"].clone()))
            .collect();
        got.sort();
        want.sort();
        prop_assert_eq!(got, want);
    }

    /// A line of ours broken in any of the ways the format forbids fails the page, on that line.
    #[test]
    fn broken_lines_of_our_families_are_refused(
        ours in proptest::collection::vec(our_sample(), 1..8),
        others in proptest::collection::vec((any::<usize>(), other_line()), 0..20),
        pick in any::<usize>(),
        breaker in 0..BREAKERS.len(),
        format in format(),
    ) {
        let target = pick % ours.len();
        let mut lines = ours.clone();
        let (page, numbers) = mixed_page(&ours, &others, format);
        let line = sample_line(&lines[target], format);
        let broken = BREAKERS[breaker](&line);
        prop_assume!(broken != line);
        lines.clear();
        let page: Vec<&str> = page.split('\n').collect();
        let mut page: Vec<String> = page.iter().map(|l| (*l).to_owned()).collect();
        page[numbers[target] - 1] = broken;
        let page = page.join("\n");
        let e = parse_all(page.as_bytes(), format, is_ours)
            .map(|_| ())
            .expect_err(&page);
        prop_assert_eq!(e.line, numbers[target], "{}\n{}", e, page);
    }

    /// Lines of other families mutated in any way (after their name) never fail the page, and
    /// our series are still found exactly.
    #[test]
    fn mutated_lines_of_other_families_never_fail_the_page(
        ours in proptest::collection::vec(our_sample(), 0..8),
        others in proptest::collection::vec((any::<usize>(), other_line(), proptest::collection::vec(mutation(), 1..4)), 1..20),
        format in format(),
    ) {
        let others: Vec<(usize, String)> = others
            .into_iter()
            .map(|(at, line, mutations)| {
                let name_end = line
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(line.len());
                // Comments stay comments, names stay names: the rest is anything on one line.
                let keep = if line.starts_with('#') { 1 } else { name_end };
                let mut tail = mutate(&line.as_bytes()[keep..], &mutations);
                for b in &mut tail {
                    if *b == b'\n' {
                        *b = b' ';
                    }
                }
                if tail.first().is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
                    tail.insert(0, b' ');
                }
                let mut bytes = line.as_bytes()[..keep].to_vec();
                bytes.extend(tail);
                (at, String::from_utf8_lossy(&bytes).into_owned())
            })
            .filter(|(_, line)| line.trim_end() != "# EOF" && !(line.starts_with("# TYPE ") && line.contains("_info")))
            .collect();
        let (page, _) = mixed_page(&ours, &others, format);
        let (parsed, peak) = peak_during(|| parse_all(page.as_bytes(), format, is_ours));
        prop_assert!(peak <= bounded(page.len()));
        let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{e}\n{page}")))?;
        same_samples(&parsed, &ours)?;
    }
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        _ => "text/plain; version=0.0.4; charset=utf-8",
    }
}

/// Ways to break a valid line of ours: each is an error in both formats.
const BREAKERS: &[fn(&str) -> String] = &[
    // The value is not a number.
    |l| {
        format!(
            "{} x{}",
            &l[..l.rfind(' ').unwrap()],
            &l[l.rfind(' ').unwrap() + 1..]
        )
    },
    // No value.
    |l| l[..l.rfind(' ').unwrap()].to_owned(),
    // Two timestamps.
    |l| format!("{l} 1 2"),
    // A bad escape at the start of the first label value.
    |l| l.replacen("=\"", "=\"\\q", 1),
    // A label value without its quotes.
    |l| l.replacen("=\"", "=", 1),
    // The label set not closed.
    |l| {
        l.rfind('}')
            .map_or_else(|| l.to_owned(), |i| format!("{}{}", &l[..i], &l[i + 1..]))
    },
    // A label twice.
    |l| l.replacen('{', "{a=\"1\",a=\"2\",", 1),
    // A label name that is not one.
    |l| l.replacen('{', "{1a=\"1\",", 1),
    // An exemplar without its value (a bad timestamp in the classic format).
    |l| format!("{l} # {{a=\"b\"}}"),
];

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// A bad escape in any label value is that error, on that line.
    #[test]
    fn a_bad_escape_is_classified(
        samples in proptest::collection::vec(gen_sample(), 1..10),
        pick in any::<usize>(),
        escape_char in "[a-mo-zA-Z0-9 ]",
    ) {
        let labelled: Vec<usize> = (0..samples.len()).filter(|&i| !samples[i].labels.is_empty()).collect();
        prop_assume!(!labelled.is_empty());
        let target = labelled[pick % labelled.len()];
        let mut samples = samples;
        let first = samples[target].labels.keys().next().unwrap().clone();
        let text = render(&samples, Format::Text);
        // Put `\<c>` at the start of that sample's first label value.
        let line_no = target + 3;
        let lines: Vec<&str> = text.lines().collect();
        let line = lines[line_no - 1];
        let needle = format!("{{{first}=\"");
        let at = line.find(&needle).unwrap() + needle.len();
        let broken = format!("{}\\{escape_char}{}", &line[..at], &line[at..]);
        let mut all: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        all[line_no - 1] = broken;
        let text = all.join("\n");
        samples.clear();
        let e = parse_all(text.as_bytes(), Format::Text, |_| true).unwrap_err();
        prop_assert_eq!(e.line, line_no);
        prop_assert_eq!(
            e.problem.to_string(),
            format!("bad escape \\{escape_char} in label {first}")
        );
    }
}

// ---- Prometheus API answers -------------------------------------------------------------

const ANSWERS: &[&str] = &[
    r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rust_mod_info","direct":"true","instance":"10.0.0.7:8080","job":"shop","name":"serde_json","program":"shop-api","source":"crates.io","version":"1.0.140"},"value":[1763770000.123,"1"]},{"metric":{"__name__":"shop_api_build_info","instance":"10.0.0.7:8080","job":"shop","revision":"3f2c","rustversion":"1.95.0","version":"1.4.2"},"value":[1763770000.123,"1"]}]}}"#,
    r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: unexpected end of input"}"#,
    r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"0"]]}]}}"#,
    r#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial"]}"#,
    "<html><head><title>Sign in</title></head><body>login</body></html>",
    // Thanos: a partial response's warnings; VictoriaMetrics: `stats` first, `status` last.
    r#"{"data":{"result":[{"value":[1763770000,"3"],"metric":{"name":"itoa","version":"1.0.15"}}],"resultType":"vector"},"warnings":["No StoreAPIs matched for this query"],"infos":["PromQL info: metric might not be a counter"],"stats":{"seriesFetched":"1"},"status":"success"}"#,
];

/// An answer's `status`, the rest skipped.
#[derive(serde::Deserialize)]
struct StatusOnly {
    status: String,
}

fn gen_series() -> impl Strategy<Value = (BTreeMap<String, String>, String)> {
    (
        proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,10}", label_value(), 0..6),
        prop_oneof![
            Just("1".to_owned()),
            Just("0".to_owned()),
            Just("NaN".to_owned()),
            Just("-1".to_owned()),
            Just("+Inf".to_owned()),
            Just("2.5e-3".to_owned()),
            Just("banana".to_owned()),
        ],
    )
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1500))]

    /// Mutated real answers: series, or the error that fits what the body is.
    #[test]
    fn mutated_answers_decode_or_fail_as_they_should(
        seed in 0..ANSWERS.len(),
        status in prop_oneof![Just(200u16), Just(400), Just(503)],
        mutations in proptest::collection::vec(mutation(), 0..8),
    ) {
        let body = mutate(ANSWERS[seed].as_bytes(), &mutations);
        let (result, peak) = peak_during(|| decode_prometheus_answer(status, Some("application/json"), &body));
        prop_assert!(peak <= bounded(body.len()), "{peak} bytes for {}", body.len());
        // The oracle reads only `status`, skipping the rest as leniently as the decoder skips
        // what it ignores (unchecked UTF-8, lone surrogates): if the decoder read the answer,
        // so does the oracle.
        let status_field: Option<String> =
            serde_json::from_slice::<StatusOnly>(&body).ok().map(|s| s.status);
        match &result {
            Err(ApiError::NotAnAnswer { start, .. }) => {
                prop_assert!(start.chars().count() <= 60 && !start.chars().any(char::is_control));
            }
            Err(ApiError::Refused { .. }) => {
                prop_assert!(status_field.as_deref().is_some_and(|s| s != "success"));
            }
            Ok(_) | Err(ApiError::Status(_) | ApiError::NoData | ApiError::NotVector(_)) => {
                prop_assert!(status_field.as_deref() == Some("success"), "{result:?}");
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
        if result.is_ok() {
            prop_assert!((200..300).contains(&status));
        }
        if let Err(e) = &result {
            // Whatever the server wrote, the message quotes it cut short.
            prop_assert!(e.to_string().chars().count() <= 600, "{e}");
        }
    }

}

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// Generated answers: exactly the series whose value is positive, labels byte for byte.
    #[test]
    fn generated_answers_keep_the_running_series(series in proptest::collection::vec(gen_series(), 0..20)) {
        let result: Vec<serde_json::Value> = series
            .iter()
            .map(|(labels, value)| serde_json::json!({"metric": labels, "value": [1_700_000_000.5, value]}))
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "status": "success",
            "data": {"resultType": "vector", "result": result},
        }))
        .unwrap();
        let (decoded, peak) = peak_during(|| decode_prometheus_answer(200, None, &body));
        prop_assert!(peak <= bounded(body.len()));
        let want: Vec<&BTreeMap<String, String>> = series
            .iter()
            .filter(|(_, v)| v.parse::<f64>().is_ok_and(|v| v > 0.0))
            .map(|(l, _)| l)
            .collect();
        let (decoded, _) = decoded.unwrap();
        prop_assert_eq!(decoded.iter().collect::<Vec<_>>(), want);
    }
}

// ---- streamed against a reference decode ------------------------------------------------

/// How an answer is classified: its running samples (labels in order, value) and
/// annotations, or the kind of error.
type Classified = Result<(Vec<(Vec<(String, String)>, Option<f64>)>, Notes, Notes), &'static str>;

/// Kept notes (at most 10, each cut to 200 characters with `…`) and how many there were.
type Notes = (Vec<String>, usize);

fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// The same answer read the plain way, through a `serde_json::Value` tree: the rules the
/// streaming decoder must follow, written out.
fn reference(status: u16, body: &[u8]) -> Classified {
    use serde_json::Value;
    let v: Value = serde_json::from_slice(body).map_err(|_| "not an answer")?;
    let top = v.as_object().ok_or("not an answer")?;
    let answer_status = top
        .get("status")
        .and_then(Value::as_str)
        .ok_or("not an answer")?;
    for field in ["errorType", "error"] {
        if !top.get(field).is_none_or(|f| f.is_null() || f.is_string()) {
            return Err("not an answer");
        }
    }
    let notes = |field: &str| -> Result<Notes, &'static str> {
        match top.get(field) {
            None | Some(Value::Null) => Ok((Vec::new(), 0)),
            Some(Value::Array(a)) => {
                let texts: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
                let texts = texts.ok_or("not an answer")?;
                Ok((
                    texts.iter().take(10).map(|t| cut(t, 200)).collect(),
                    texts.len(),
                ))
            }
            Some(_) => Err("not an answer"),
        }
    };
    let (warnings, infos) = (notes("warnings")?, notes("infos")?);
    if answer_status != "success" {
        return Err("refused");
    }
    if !(200..300).contains(&status) {
        return Err("status");
    }
    let data = match top.get("data") {
        None | Some(Value::Null) => return Err("no data"),
        Some(d) => d.as_object().ok_or("not an answer")?,
    };
    let result_type = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or("not an answer")?;
    let result = data.get("result").ok_or("not an answer")?;
    if result_type != "vector" {
        return Err("not a vector");
    }
    let mut samples = Vec::new();
    for sample in result.as_array().ok_or("not an answer")? {
        let sample = sample.as_object().ok_or("not an answer")?;
        let metric = sample
            .get("metric")
            .and_then(Value::as_object)
            .ok_or("not an answer")?;
        let mut labels = Vec::new();
        for (n, v) in metric {
            labels.push((n.clone(), v.as_str().ok_or("not an answer")?.to_owned()));
        }
        let value = match sample.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::Array(pair)) if pair.len() == 2 => {
                let text = pair[1].as_str().ok_or("not an answer")?;
                Some(text.trim().parse::<f64>().unwrap_or(f64::NAN))
            }
            Some(_) => return Err("not an answer"),
        };
        if value.is_none_or(|v| v > 0.0) {
            samples.push((labels, value));
        }
    }
    Ok((samples, warnings, infos))
}

/// The streaming decoder's reading of the answer, in the reference's terms.
fn streamed(status: u16, body: &[u8]) -> Classified {
    classify_streamed(|on_sample| decode_prometheus_answer_with(status, None, body, on_sample))
}

/// What a streaming decoder, called by `decode` with the callback that collects the samples,
/// read, in the reference's terms.
fn classify_streamed(
    decode: impl FnOnce(&mut dyn FnMut(&ApiSample<'_>)) -> Result<Annotations, ApiError>,
) -> Classified {
    let mut samples = Vec::new();
    let answer = decode(&mut |s| {
        samples.push((
            s.labels()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect::<Vec<_>>(),
            s.value,
        ));
    });
    match answer {
        Ok(a) => Ok((
            samples,
            (a.warnings, a.warning_count),
            (a.infos, a.info_count),
        )),
        Err(ApiError::NotAnAnswer { .. }) => Err("not an answer"),
        Err(ApiError::Refused { .. }) => Err("refused"),
        Err(ApiError::Status(_)) => Err("status"),
        Err(ApiError::NoData) => Err("no data"),
        Err(ApiError::NotVector(_)) => Err("not a vector"),
        Err(_) => Err("other"),
    }
}

/// A JSON object with `fields` (raw JSON texts) in the given order.
fn object(fields: &[(&str, String)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::from(*k)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// `fields` in an order given by `order` (a permutation seed).
fn shuffled<'k>(mut fields: Vec<(&'k str, String)>, order: &[usize]) -> Vec<(&'k str, String)> {
    let n = fields.len();
    if n > 1 {
        for (i, o) in order.iter().enumerate() {
            fields.swap(i % n, o % n);
        }
    }
    fields
}

fn gen_note() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("No StoreAPIs matched for this query".to_owned()),
        "[ -~]{0,40}",
        any::<String>(),
        "x{190,230}",
    ]
}

/// A random answer as Prometheus, Thanos, Mimir or VictoriaMetrics could write it: fields in
/// any order, unknown ones among them, warnings and infos, other result types.
fn gen_answer() -> impl Strategy<Value = Vec<u8>> {
    let sample = (
        gen_series(),
        0u8..4,
        any::<bool>(),
        proptest::collection::vec(0usize..4, 4),
    )
        .prop_map(|((labels, value), shape, extra, order)| {
            let mut fields = vec![("metric", serde_json::json!(labels).to_string())];
            match shape {
                0 => {}
                1 => fields.push(("value", "null".to_owned())),
                _ => fields.push((
                    "value",
                    serde_json::json!([1_700_000_000.5, value]).to_string(),
                )),
            }
            if extra {
                fields.push(("histogram", r#"{"count":"1"}"#.to_owned()));
            }
            object(&shuffled(fields, &order))
        });
    (
        proptest::collection::vec(sample, 0..12),
        prop_oneof![
            Just("vector"),
            Just("vector"),
            Just("matrix"),
            Just("scalar")
        ],
        prop_oneof![
            Just(Some("success")),
            Just(Some("success")),
            Just(Some("error")),
            Just(None)
        ],
        proptest::option::of(proptest::collection::vec(gen_note(), 0..14)),
        proptest::option::of(proptest::collection::vec(gen_note(), 0..3)),
        any::<bool>(),
        0u8..3,
        proptest::collection::vec(0usize..8, 8),
    )
        .prop_map(
            |(samples, result_type, status, warnings, infos, stats, data_shape, order)| {
                let result = if result_type == "scalar" {
                    r#"[1700000000.5,"1"]"#.to_owned()
                } else {
                    format!("[{}]", samples.join(","))
                };
                let data = object(&shuffled(
                    vec![
                        ("resultType", format!("{result_type:?}")),
                        ("result", result),
                    ],
                    &order,
                ));
                let mut fields = Vec::new();
                if let Some(status) = status {
                    fields.push(("status", format!("{status:?}")));
                }
                match data_shape {
                    0 => {}
                    1 => fields.push(("data", "null".to_owned())),
                    _ => fields.push(("data", data)),
                }
                if status == Some("error") {
                    fields.push(("errorType", r#""execution""#.to_owned()));
                    fields.push(("error", r#""query timed out""#.to_owned()));
                }
                if let Some(w) = warnings {
                    fields.push(("warnings", serde_json::json!(w).to_string()));
                }
                if let Some(i) = infos {
                    fields.push(("infos", serde_json::json!(i).to_string()));
                }
                if stats {
                    fields.push((
                    "stats",
                    r#"{"timings":{"evalTotalTime":0.1},"samples":{"totalQueryableSamples":3}}"#
                        .to_owned(),
                ));
                }
                object(&shuffled(fields, &order)).into_bytes()
            },
        )
}

proptest! {
    #![proptest_config(testkit::proptest_cases(800))]

    /// Random answers: the streamed samples, annotations and classification are those of a
    /// plain decode through `serde_json::Value`, in memory that does not grow with the
    /// samples.
    #[test]
    fn streamed_answers_equal_a_reference_decode(
        body in gen_answer(),
        status in prop_oneof![Just(200u16), Just(200), Just(503)],
    ) {
        let (got, peak) = peak_during(|| streamed(status, &body));
        let want = reference(status, &body);
        prop_assert_eq!(&got, &want, "{}", String::from_utf8_lossy(&body));
        // The labels the test itself collects aside, the decoder holds one sample at a time.
        let (_, peak_alone) = peak_during(|| decode_prometheus_answer_with(status, None, &body, &mut |_| {}));
        prop_assert!(peak_alone <= 48 << 10, "{peak_alone} bytes (with collecting: {peak})");
    }
}

#[test]
fn a_flood_of_warnings_is_counted_in_bounded_memory() {
    let warning = format!("\"{}\"", "w".repeat(1000));
    let body = format!(
        r#"{{"status":"success","warnings":[{}],"data":{{"resultType":"vector","result":[]}}}}"#,
        vec![warning; 20_000].join(",")
    );
    let (answer, peak) =
        peak_during(|| decode_prometheus_answer_with(200, None, body.as_bytes(), &mut |_| {}));
    let answer = answer.unwrap();
    assert_eq!(answer.warning_count, 20_000);
    assert_eq!(answer.warnings.len(), 10);
    assert!(
        answer
            .warnings
            .iter()
            .all(|w| w.chars().count() == 201 && w.ends_with('…'))
    );
    // 20 MB of warnings; ten kept, cut to 200 characters.
    assert!(peak < 16 << 10, "{peak} bytes");
}

#[test]
fn a_hundred_thousand_samples_stream_in_constant_memory() {
    let mut body = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    for i in 0..100_000 {
        if i > 0 {
            body.push(',');
        }
        let _ = write!(
            body,
            r#"{{"metric":{{"instance":"10.0.{}.{}:8080","job":"fleet","name":"crate-{:03}","program":"p\u00e9","version":"1.0.{}"}},"value":[1700000000.5,"1"]}}"#,
            i / 250 % 250,
            i % 250,
            i % 300,
            i % 7
        );
    }
    body.push_str("]}}");
    let mut count = 0usize;
    let mut bytes = 0usize;
    let (answer, peak) = peak_during(|| {
        decode_prometheus_answer_with(200, None, body.as_bytes(), &mut |s| {
            count += 1;
            bytes += s.label("instance").map_or(0, str::len);
        })
    });
    answer.unwrap();
    assert_eq!(count, 100_000);
    assert!(bytes > 1_000_000);
    // 11 MB of answer; the escaped `program` is the only label copied, one at a time.
    assert!(
        peak < 16 << 10,
        "{peak} bytes for {} bytes of answer",
        body.len()
    );
}

// ---- read as they arrive, bounded expansion (issue 18, defect 12) ------------------------

/// What a page gave, owned: every kept sample, and the skipped count with the first's line;
/// or the error's message.
type PageResult = Result<(Vec<Parsed>, usize, Option<usize>), String>;

fn parsed_whole(page: &[u8], format: Format) -> PageResult {
    let mut out = Vec::new();
    let skipped = parse_exposition(page, format, |_| true, |s| out.push(owned(&s)))
        .map_err(|e| e.to_string())?;
    Ok((out, skipped.count, skipped.first.map(|e| e.line)))
}

fn parsed_streamed(page: &[u8], format: Format, step: usize) -> PageResult {
    let mut out = Vec::new();
    let skipped = parse_exposition_reader(
        testkit::Trickle(page, step),
        format,
        |_| true,
        |s| out.push(owned(&s)),
    )
    .map_err(|e| e.to_string())?;
    Ok((out, skipped.count, skipped.first.map(|e| e.line)))
}

/// A sample of ours whose `name` label is `len` bytes long.
fn long_label_line(len: usize) -> String {
    format!(
        "rust_mod_info{{name=\"{}\",version=\"1.0.0\"}} 1",
        "n".repeat(len)
    )
}

proptest! {
    #![proptest_config(testkit::proptest_cases(600))]

    /// Mutated real pages read as they arrive, in reads of any size: exactly what parsing the
    /// whole body gives (samples, skipped samples, or the same error), and the reader holds
    /// no more than its buffer and one cut line, whatever the page.
    #[test]
    fn pages_read_as_they_arrive_parse_as_the_whole_body(
        seed in 0..PAGES.len(),
        mutations in proptest::collection::vec(mutation(), 0..8),
        format in format(),
        step in prop_oneof![1usize..16, 16usize..70_000],
        long in proptest::option::of((0usize..3, MAX_LABEL_VALUE - 2..MAX_LINE + 10)),
    ) {
        let mut bytes = mutate(PAGES[seed].as_bytes(), &mutations);
        if let Some((at, len)) = long {
            // A sample of ours near the caps, at the start, the middle or the end.
            let line = long_label_line(len);
            let at = [0, bytes.len() / 2, bytes.len()][at];
            let at = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            bytes.splice(at..at, format!("{line}\n").into_bytes());
        }
        let whole = parsed_whole(&bytes, format);
        let streamed = parsed_streamed(&bytes, format, step);
        prop_assert_eq!(&streamed, &whole);
        let (_, peak) = peak_during(|| {
            parse_exposition_reader(testkit::Trickle(&bytes, step), format, |_| true, |_| {})
        });
        prop_assert!(peak <= (256 << 10) + MAX_LINE + 1 + (4 << 10), "{peak} bytes");
    }

    /// A label value of ours is read up to `MAX_LABEL_VALUE` bytes as written; a longer one
    /// skips its sample (counted, with its line), and the page's other samples count.
    #[test]
    fn label_values_past_the_cap_skip_their_sample(
        len in prop_oneof![0usize..64, MAX_LABEL_VALUE - 3..MAX_LABEL_VALUE + 3, MAX_LABEL_VALUE..200_000],
        before in 0usize..3,
        format in format(),
    ) {
        let mut page = String::new();
        for i in 0..before {
            let _ = writeln!(page, "rust_mod_info{{name=\"c{i}\",version=\"1.0.0\"}} 1");
        }
        let _ = writeln!(page, "{}", long_label_line(len));
        page.push_str("rust_mod_info{name=\"last\",version=\"1.0.0\"} 1\n");
        if format == Format::OpenMetrics {
            page.push_str("# EOF\n");
        }
        let (got, peak) = peak_during(|| parsed_streamed(page.as_bytes(), format, 8192));
        let (samples, skipped, first) = got.map_err(TestCaseError::fail)?;
        let kept = len <= MAX_LABEL_VALUE;
        prop_assert_eq!(samples.len(), before + 1 + usize::from(kept));
        prop_assert_eq!(skipped, usize::from(!kept));
        prop_assert_eq!(first, (!kept).then_some(before + 1));
        // Kept label values are copied by this test; a skipped one never is.
        let copied: usize = samples.iter().flat_map(|s| s.1.values()).map(String::len).sum();
        prop_assert!(peak <= (256 << 10) + MAX_LINE + 1 + 64 * copied + (16 << 10), "{peak} bytes");
    }
}

/// A kept line far past `MAX_LINE`, cut by many reads, holds one piece of `MAX_LINE + 1`
/// bytes at most, allocated once (a buffer grown by doubling as pieces arrive would hold
/// twice that), and the rest of the page still counts.
#[test]
fn a_long_line_cut_by_many_reads_holds_one_capped_piece() {
    let page = format!(
        "{}\nrust_mod_info{{name=\"after\",version=\"1.0.0\"}} 1\n",
        long_label_line(4 * MAX_LINE)
    );
    for step in [1000, 4096, 10_000, 65_535] {
        let (got, peak) = peak_during(|| parsed_streamed(page.as_bytes(), Format::Text, step));
        let (samples, skipped, first) = got.unwrap();
        assert_eq!(samples.len(), 1, "reads of {step}");
        assert_eq!((skipped, first), (1, Some(1)), "reads of {step}");
        assert!(
            peak <= (256 << 10) + MAX_LINE + 1 + (4 << 10),
            "{peak} bytes in reads of {step}"
        );
    }
}

/// An answer's samples as [`decode_prometheus_answer_reader`] hands them, read in steps of
/// `step` bytes, in the reference's terms.
fn streamed_from_reader(status: u16, body: &[u8], step: usize) -> Classified {
    classify_streamed(|on_sample| {
        decode_prometheus_answer_reader(
            status,
            None,
            testkit::Trickle(body, step),
            &|_| true,
            on_sample,
        )
    })
}

proptest! {
    #![proptest_config(testkit::proptest_cases(600))]

    /// Random answers read as they arrive, in reads of any size: what the reference decode
    /// gives, holding one read buffer and one sample's labels.
    #[test]
    fn answers_read_as_they_arrive_equal_a_reference_decode(
        body in gen_answer(),
        status in prop_oneof![Just(200u16), Just(503)],
        step in prop_oneof![1usize..16, 16usize..100_000],
    ) {
        let got = streamed_from_reader(status, &body, step);
        prop_assert_eq!(&got, &reference(status, &body), "{}", String::from_utf8_lossy(&body));
        let (_, peak) = peak_during(|| {
            decode_prometheus_answer_reader(status, None, testkit::Trickle(&body, step), &|_| true, &mut |_| {})
        });
        // The read buffer, and one sample's labels (owned when read from a stream).
        prop_assert!(peak <= (64 << 10) + (48 << 10) + 2 * body.len(), "{peak} bytes");
    }

    /// Series of other metrics are dropped as they are read: only ours are handed, in order,
    /// whatever the others hold; a series of ours with a label value past the cap is skipped
    /// and counted.
    #[test]
    fn foreign_series_are_dropped_and_long_values_skipped(
        series in proptest::collection::vec(
            (prop_oneof![Just("rust_mod_info"), Just("up"), Just("http_requests_total")], 0usize..3),
            0..30,
        ),
    ) {
        let long = "v".repeat(MAX_API_LABEL_VALUE + 1);
        let result: Vec<serde_json::Value> = series
            .iter()
            .enumerate()
            .map(|(i, (name, size))| {
                let value = match size {
                    0 => format!("v{i}"),
                    1 => "v".repeat(MAX_API_LABEL_VALUE),
                    _ => long.clone(),
                };
                serde_json::json!({"metric": {"__name__": name, "name": value, "i": i.to_string()}, "value": [1.5, "1"]})
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({
            "status": "success",
            "data": {"resultType": "vector", "result": result},
        }))
        .unwrap();
        let mut handed = Vec::new();
        let keep = |n: Option<&str>| n == Some("rust_mod_info");
        let answer = decode_prometheus_answer_reader(200, None, testkit::Trickle(&body, 4096), &keep, &mut |s| {
            handed.push(s.label("i").unwrap().parse::<usize>().unwrap());
        })
        .unwrap();
        let ours = series.iter().enumerate().filter(|(_, (n, _))| *n == "rust_mod_info");
        let want: Vec<usize> = ours.clone().filter(|(_, (_, size))| *size < 2).map(|(i, _)| i).collect();
        prop_assert_eq!(handed, want);
        prop_assert_eq!(answer.skipped, ours.filter(|(_, (_, size))| *size == 2).count());
    }
}

// ---- sparse index files -----------------------------------------------------------------

const INDEX_FILES: &[&str] = &[
    include_str!("index/3/s/syn"),
    include_str!("index/li/bc/libc"),
    include_str!("index/se/rd/serde"),
];

fn gen_version() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..1000, 0u64..1000, 0u64..1000).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        (0u64..10, 0u64..10, 0u64..10, "[a-z]{1,5}(\\.[0-9]{1,3})?")
            .prop_map(|(a, b, c, p)| format!("{a}.{b}.{c}-{p}")),
        Just("v1.0.5".to_owned()),
        Just("1.0".to_owned()),
        Just(String::new()),
        Just("banana".to_owned()),
        Just("01.0.0".to_owned()),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1500))]

    /// Mutated real index files: releases, or the first bad line when none is usable.
    #[test]
    fn mutated_index_files_parse_or_name_a_line(
        seed in 0..INDEX_FILES.len(),
        mutations in proptest::collection::vec(mutation(), 0..8),
    ) {
        let body = mutate(INDEX_FILES[seed].as_bytes(), &mutations);
        let (result, peak) = peak_during(|| parse_index_file(&body));
        prop_assert!(peak <= bounded(body.len()), "{peak} bytes for {}", body.len());
        match result {
            Ok(releases) => prop_assert!(releases.len() <= body.split(|&b| b == b'\n').count()),
            Err(IndexFileError::NotUtf8(_)) => prop_assert!(std::str::from_utf8(&body).is_err()),
            Err(IndexFileError::Line { line, .. }) => {
                let text = std::str::from_utf8(&body).unwrap();
                prop_assert!(line >= 1 && line <= text.lines().count());
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

}

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// Generated lines: exactly the SemVer versions, with their yanked flags; an error only
    /// when no line is usable.
    #[test]
    fn generated_index_lines_keep_exactly_the_semver_versions(
        lines in proptest::collection::vec((gen_version(), any::<bool>()), 0..30),
    ) {
        let mut body = String::new();
        for (v, yanked) in &lines {
            let line = serde_json::json!({"name": "x", "vers": v, "deps": [], "cksum": "00", "features": {}, "yanked": yanked});
            let _ = writeln!(body, "{line}");
        }
        let want: Vec<(semver::Version, bool)> = lines
            .iter()
            .filter_map(|(v, y)| semver::Version::parse(v).ok().map(|v| (v, *y)))
            .collect();
        match parse_index_file(body.as_bytes()) {
            Ok(releases) => {
                let got: Vec<(semver::Version, bool)> =
                    releases.into_iter().map(|r| (r.version, r.yanked)).collect();
                prop_assert_eq!(got, want);
            }
            Err(IndexFileError::Line { line, .. }) => {
                prop_assert!(want.is_empty() && !lines.is_empty());
                prop_assert!(semver::Version::parse(&lines[line - 1].0).is_err());
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}
