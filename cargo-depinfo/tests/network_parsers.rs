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
    decode_prometheus_answer, parse_exposition, parse_index_file,
};
use cargo_depinfo::{ApiError, IndexFileError};
use proptest::prelude::*;

// ---- counting allocator ----------------------------------------------------------------

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

use testkit::peak_during;

/// The memory a parse may use: linear in its input (a one-byte label costs a map node).
fn bounded(input: usize) -> usize {
    (64 << 10) + 128 * input
}

// ---- mutation ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
    Token(usize, usize),
}

/// Fragments that matter to these formats.
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
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::Flip(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), 1usize..256).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, t)| Mutation::Token(at, t)),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for m in mutations {
        let len = b.len().max(1);
        match m {
            Mutation::Flip(at, x) => {
                if !b.is_empty() {
                    let i = at % b.len();
                    b[i] ^= x | 1;
                }
            }
            Mutation::Delete(at, n) => {
                let i = at % len;
                let end = (i + n).min(b.len());
                if i < end {
                    b.drain(i..end);
                }
            }
            Mutation::Insert(at, bytes) => {
                let i = at % (b.len() + 1);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Duplicate(at, n) => {
                let i = at % len;
                let end = (i + n).min(b.len());
                if i < end {
                    let copy = b[i..end].to_vec();
                    b.splice(end..end, copy);
                }
            }
            Mutation::Token(at, t) => {
                let i = at % (b.len() + 1);
                b.splice(i..i, TOKENS[*t].bytes());
            }
        }
    }
    b
}

// ---- exposition ---------------------------------------------------------------------------

const PAGES: &[&str] = &[
    include_str!("../../build-info-collector/tests/golden/example.prom"),
    include_str!("../../build-info-collector/tests/golden/odd.prom"),
    include_str!("fleet/affected_metrics.prom"),
    include_str!("fleet/spread.prom"),
];

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

#[derive(Debug, Clone)]
struct GenSample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn gen_sample() -> impl Strategy<Value = GenSample> {
    (
        "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}",
        proptest::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,10}", label_value(), 0..5),
        prop_oneof![
            any::<f64>(),
            Just(0.0),
            Just(1.0),
            Just(f64::NAN),
            Just(f64::INFINITY)
        ],
    )
        .prop_map(|(name, labels, value)| GenSample {
            name,
            labels,
            value,
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

fn render(samples: &[GenSample]) -> String {
    let mut s = String::from("# HELP x generated\n# TYPE x gauge\n");
    for g in samples {
        s.push_str(&g.name);
        if !g.labels.is_empty() {
            let labels: Vec<String> = g
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(s, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(s, " {}", write_value(g.value));
    }
    s
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1500))]

    /// Mutated real pages: data whose names are valid, or an error on an existing line.
    #[test]
    fn mutated_pages_parse_or_fail_on_a_line_in_bounded_memory(
        seed in 0..PAGES.len(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        let bytes = mutate(PAGES[seed].as_bytes(), &mutations);
        let text = String::from_utf8_lossy(&bytes);
        let (result, peak) = peak_during(|| parse_exposition(&text, |_| true));
        prop_assert!(peak <= bounded(text.len()), "{peak} bytes for {} bytes", text.len());
        match result {
            Ok(samples) => {
                for s in samples {
                    prop_assert!(is_metric_name(&s.name), "{:?}", s.name);
                    prop_assert!(s.labels.keys().all(|k| is_label_name(k)), "{:?}", s.labels);
                }
            }
            Err(e) => {
                prop_assert!(e.line >= 1 && e.line <= text.lines().count(), "{e}");
                prop_assert!(!e.to_string().contains('\n'), "{e}");
                prop_assert!(e.to_string().chars().count() <= 200, "{e}");
            }
        }
    }

}

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// Generated valid pages: exactly the samples written, label values byte for byte.
    #[test]
    fn generated_pages_parse_to_what_was_written(samples in proptest::collection::vec(gen_sample(), 0..20)) {
        let text = render(&samples);
        let (parsed, peak) = peak_during(|| parse_exposition(&text, |_| true));
        prop_assert!(peak <= bounded(text.len()));
        let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(parsed.len(), samples.len());
        for (p, g) in parsed.iter().zip(&samples) {
            prop_assert_eq!(&p.name, &g.name);
            prop_assert_eq!(&p.labels, &g.labels);
            prop_assert!(p.value.to_bits() == g.value.to_bits() || (p.value.is_nan() && g.value.is_nan()));
        }
    }

}

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
        let text = render(&samples);
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
        let e = parse_exposition(&text, |_| true).unwrap_err();
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
