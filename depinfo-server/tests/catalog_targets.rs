//! The catalog's parser of Prometheus' target list (`/api/v1/targets?state=active`), the only
//! place it takes addresses from: any answer is read or refused in one line without a panic,
//! within its bounds, and every target lands in the right class.

use depinfo_server::catalog::{
    Health, MAX_TARGET_FIELD, MAX_TARGETS, MAX_TARGETS_BYTES, Target, parse_targets,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// One generated target: its fields, or their absence.
#[derive(Debug, Clone)]
struct Gen {
    instance: Option<String>,
    job: Option<String>,
    scrape_url: Option<String>,
    health: Option<String>,
    labels: bool,
    extra: bool,
}

/// Text as label values may hold it: quotes, backslashes, controls, non-ASCII; sometimes
/// longer than the parser keeps.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "(.|\\PC|[\"\\\\\\x00-\\x1f]){0,40}",
        1 => (MAX_TARGET_FIELD - 2..MAX_TARGET_FIELD + 3).prop_map(|n| "x".repeat(n)),
    ]
}

fn target() -> impl Strategy<Value = Gen> {
    (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(prop_oneof![
            Just("up".to_owned()),
            Just("down".to_owned()),
            Just("unknown".to_owned()),
            "[a-zA-Z]{0,6}",
        ]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(instance, job, scrape_url, health, labels, extra)| Gen {
            instance,
            job,
            scrape_url,
            health,
            labels,
            extra,
        })
}

fn to_json(g: &Gen) -> Value {
    let mut t = serde_json::Map::new();
    if g.labels {
        let mut labels = serde_json::Map::new();
        if let Some(i) = &g.instance {
            labels.insert("instance".into(), json!(i));
        }
        if let Some(j) = &g.job {
            labels.insert("job".into(), json!(j));
        }
        labels.insert("other".into(), json!("x"));
        t.insert("labels".into(), Value::Object(labels));
    }
    if let Some(u) = &g.scrape_url {
        t.insert("scrapeUrl".into(), json!(u));
    }
    if let Some(h) = &g.health {
        t.insert("health".into(), json!(h));
    }
    if g.extra {
        t.insert(
            "discoveredLabels".into(),
            json!({"__address__": "a:1", "__meta": {"deep": [1, 2, {"x": null}]}}),
        );
        t.insert("lastScrapeDuration".into(), json!(0.25));
    }
    Value::Object(t)
}

/// A kept target's fields.
type Fields = (String, String, String, Health);

fn fields(t: &Target) -> Fields {
    (
        t.instance.clone(),
        t.job.clone(),
        t.scrape_url.clone(),
        t.health,
    )
}

/// What the parser must make of a generated target: kept with these fields, or skipped (no
/// scrape URL, or a field longer than the parser keeps).
fn expected(g: &Gen) -> Option<Fields> {
    let (instance, job) = if g.labels {
        (
            g.instance.clone().unwrap_or_default(),
            g.job.clone().unwrap_or_default(),
        )
    } else {
        (String::new(), String::new())
    };
    let scrape_url = g.scrape_url.clone().unwrap_or_default();
    if scrape_url.is_empty()
        || [&instance, &job, &scrape_url]
            .iter()
            .any(|f| f.len() > MAX_TARGET_FIELD)
    {
        return None;
    }
    let health = match g.health.as_deref() {
        Some("up") => Health::Up,
        Some("down") => Health::Down,
        _ => Health::Unknown,
    };
    Some((instance, job, scrape_url, health))
}

const SEED: &str = r#"{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"127.0.0.1:9100"},"labels":{"instance":"127.0.0.1:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://127.0.0.1:9100/metrics","globalUrl":"http://h:9100/metrics","lastError":"","lastScrape":"2026-12-06T23:00:00Z","lastScrapeDuration":0.01,"health":"up","scrapeInterval":"1s","scrapeTimeout":"1s"}],"droppedTargets":[]}}"#;

const TOKENS: &[&str] = &[
    "\"",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "\\u0000",
    "\\ud800",
    "\"health\":\"up\"",
    "\"labels\":{}",
    "9e999",
];

fn check_refusal(e: &str) -> Result<(), TestCaseError> {
    prop_assert!(!e.contains('\n') && !e.contains('\r'), "{e:?}");
    prop_assert!(e.chars().count() <= 400, "{} chars: {e}", e.chars().count());
    Ok(())
}

proptest! {
    #![proptest_config(testkit::proptest_cases(400))]

    /// Generated target lists: every target kept with exactly its fields and health, or
    /// skipped (no scrape URL, a field too long) and counted.
    #[test]
    fn each_target_is_classified(gens in proptest::collection::vec(target(), 0..12)) {
        let body = json!({
            "status": "success",
            "data": {"activeTargets": gens.iter().map(to_json).collect::<Vec<_>>(), "droppedTargets": []}
        })
        .to_string();
        let parsed = parse_targets(body.as_bytes()).unwrap();
        let want: Vec<Fields> = gens.iter().filter_map(expected).collect();
        prop_assert_eq!(parsed.skipped, gens.len() - want.len());
        prop_assert_eq!(parsed.targets.iter().map(fields).collect::<Vec<_>>(), want);
    }

    /// Mutated answers: read within the bounds, or refused in one short line; never a panic.
    #[test]
    fn mutated_answers_are_read_or_refused_in_one_line(
        mutations in proptest::collection::vec(testkit::mutation::mutation(TOKENS.len()), 1..6),
    ) {
        let body = testkit::mutation::mutate(SEED.as_bytes(), &mutations, TOKENS);
        match parse_targets(&body) {
            Ok(t) => {
                prop_assert!(t.targets.len() <= 1);
                for t in &t.targets {
                    prop_assert!(t.instance.len() <= MAX_TARGET_FIELD && t.job.len() <= MAX_TARGET_FIELD);
                    prop_assert!(!t.scrape_url.is_empty() && t.scrape_url.len() <= MAX_TARGET_FIELD);
                }
            }
            Err(e) => check_refusal(&e.to_string())?,
        }
    }

    /// Any bytes: no panic, and a refusal is one line.
    #[test]
    fn any_bytes_are_refused_in_one_line(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Err(e) = parse_targets(&body) {
            check_refusal(&e.to_string())?;
        }
    }

    /// An error answer's message is quoted on one line, cut short.
    #[test]
    fn error_answers_are_one_line(message in "(.|\\PC|[\\x00-\\x1f]){0,600}") {
        let body = json!({"status": "error", "errorType": "bad_data", "error": message}).to_string();
        let e = parse_targets(body.as_bytes()).unwrap_err().to_string();
        check_refusal(&e)?;
        prop_assert!(e.starts_with("Prometheus API error: "));
    }
}

#[test]
fn an_answer_over_the_bound_is_refused_unread() {
    let body = vec![b' '; MAX_TARGETS_BYTES + 1];
    assert_eq!(
        parse_targets(&body).unwrap_err().to_string(),
        format!(
            "the target list is larger than {} MiB",
            MAX_TARGETS_BYTES >> 20
        )
    );
}

#[test]
fn targets_past_the_bound_are_counted_not_kept() {
    let one =
        r#"{"labels":{"instance":"a:1","job":"j"},"scrapeUrl":"http://a:1/metrics","health":"up"}"#;
    let extra = 3;
    let mut body = String::from(r#"{"status":"success","data":{"activeTargets":["#);
    for i in 0..MAX_TARGETS + extra {
        if i > 0 {
            body.push(',');
        }
        body.push_str(one);
    }
    body.push_str("]}}");
    let parsed = parse_targets(body.as_bytes()).unwrap();
    assert_eq!((parsed.targets.len(), parsed.skipped), (MAX_TARGETS, extra));
}
