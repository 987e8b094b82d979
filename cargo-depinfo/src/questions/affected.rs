//! `cargo depinfo affected`: which programs contain a version of a crate that matches a
//! SemVer requirement (what PromQL cannot compare).

use serde::Serialize;

use crate::observation::Observation;
use depinfo_read::inventory::Kind;

/// One program (binary or instance) running a matching version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct Hit {
    /// Where it runs: the instance (`host:port`), else the binary's path, else the input.
    pub location: String,
    /// Who runs which version of the crate.
    #[serde(flatten)]
    pub observation: Observation,
}

/// Crate names are unique up to `-`/`_` on crates.io; match them that way.
pub(crate) use buildinfo::model::same_crate_name as same_crate;

/// Every observation of `name` whose version matches `req`, sorted by location, program and
/// version, each once (two sources may see the same instance).
///
/// The pre-release rule is safe for advisories: a version matches when Cargo's rule matches
/// it, when the same version without its pre-release matches, or, for a requirement made only
/// of range comparators (`<`, `<=`, `>`, `>=`, `=`), when SemVer precedence puts it inside
/// every range. So `1.0.0-alpha` and `1.0.5-rc.1` are affected by `<1.0.5` (Cargo alone would
/// say no: a requirement without a pre-release never matches one). Versions that are not
/// SemVer are never hits: see [`unjudged`].
pub fn affected(observations: &[Observation], name: &str, req: &semver::VersionReq) -> Vec<Hit> {
    hits(observations, name, |v| {
        semver::Version::parse(v).is_ok_and(|v| matches_for_advisory(req, &v))
    })
}

/// Every observation of `name` whose version is not SemVer (`v1.0.5`, `1.0`, `""`): what
/// [`affected`] cannot judge, so an answer with any is not clean. Sorted and deduplicated as
/// [`affected`]'s hits.
pub fn unjudged(observations: &[Observation], name: &str) -> Vec<Hit> {
    hits(observations, name, |v| semver::Version::parse(v).is_err())
}

/// Cargo's rule, the rule on the version with its pre-release stripped, or SemVer precedence
/// against a requirement of ranges.
fn matches_for_advisory(req: &semver::VersionReq, version: &semver::Version) -> bool {
    req.matches(version)
        || (!version.pre.is_empty()
            && (req.matches(&semver::Version::new(
                version.major,
                version.minor,
                version.patch,
            )) || within_ranges(req, version)))
}

/// Whether SemVer precedence puts `version` inside every comparator of `req`, when all of them
/// are ranges over a whole version (`<1.2` counts as `<1.2.0`, `>=1.2` as `>=1.2.0`); `false`
/// for any other requirement (carets, tildes, wildcards, partial `<=`/`>`/`=`), where Cargo's
/// rule and the stripped version decide.
fn within_ranges(req: &semver::VersionReq, version: &semver::Version) -> bool {
    use semver::Op;
    !req.comparators.is_empty()
        && req.comparators.iter().all(|c| {
            let full = c.minor.is_some() && c.patch.is_some();
            let bound = semver::Version {
                major: c.major,
                minor: c.minor.unwrap_or(0),
                patch: c.patch.unwrap_or(0),
                pre: c.pre.clone(),
                build: semver::BuildMetadata::EMPTY,
            };
            let order = semver::Version {
                build: semver::BuildMetadata::EMPTY,
                ..version.clone()
            }
            .cmp(&bound);
            match c.op {
                Op::Less => order.is_lt(),
                Op::GreaterEq => order.is_ge(),
                Op::LessEq if full => order.is_le(),
                Op::Greater if full => order.is_gt(),
                Op::Exact if full => order.is_eq(),
                _ => false,
            }
        })
}

/// The observations of `name` whose version passes `keep`, sorted and each once.
fn hits(observations: &[Observation], name: &str, keep: impl Fn(&str) -> bool) -> Vec<Hit> {
    let mut hits: Vec<Hit> = observations
        .iter()
        .filter(|o| same_crate(&o.name, name) && keep(&o.version))
        .map(|o| Hit {
            location: o.location().to_owned(),
            observation: o.clone(),
        })
        .collect();
    // Two sources may see the same instance, with more or less detail about the program: sort
    // by what identifies a hit, the most detailed first (`Some` sorts after `None`), and keep
    // that one of each run.
    hits.sort_by(|a, b| hit_key(a).cmp(&hit_key(b)).then_with(|| b.cmp(a)));
    hits.dedup_by(|a, b| hit_key(a) == hit_key(b));
    hits
}

/// What identifies a hit: where, which program, which crate version from which source.
fn hit_key(h: &Hit) -> (&str, &str, &str, &str, &str, Kind) {
    let o = &h.observation;
    (
        &h.location,
        &o.runner.program,
        &o.name,
        &o.version,
        &o.source,
        o.kind,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observation::Runner;
    use crate::render::affected_text;

    #[test]
    fn matches_by_semver_requirement() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"serde-json","version":"1.0.140","source":"crates.io"}],"format":1}"#;
        let inv =
            depinfo_read::sections::decode_dep_v0(json, std::path::Path::new("bin/app")).unwrap();
        let req = |r: &str| semver::VersionReq::parse(r).unwrap();
        let inventories = crate::observation::from_inventories(&[inv]);
        assert_eq!(
            affected(&inventories, "serde_json", &req(">=1.0, <1.0.150")).len(),
            1
        );
        assert!(affected(&inventories, "serde_json", &req("<1.0.140")).is_empty());
        assert!(affected(&inventories, "serde", &req("*")).is_empty());
        assert_eq!(
            affected_text(&affected(&inventories, "serde_json", &req("^1"))),
            "bin/app: app 0.1.0: serde-json 1.0.140 crates.io\n"
        );
    }

    /// One instance per version, as a `/metrics` page or Prometheus would report it (their
    /// label values are not checked as a binary's data is).
    fn observations(versions: &[&str]) -> Vec<Observation> {
        versions
            .iter()
            .enumerate()
            .map(|(i, version)| Observation {
                runner: std::sync::Arc::new(crate::observation::Runner {
                    program: "app".into(),
                    program_version: None,
                    revision: None,
                    instance: Some(format!("10.0.0.{i}:8080").into()),
                    job: None,
                    path: None,
                    origin: "http://prometheus:9090".into(),
                    instances: 1,
                }),
                name: "serde_json".into(),
                version: (*version).into(),
                source: "crates.io".into(),
                kind: depinfo_read::inventory::Kind::Runtime,
                direct: Some(true),
            })
            .collect()
    }

    #[test]
    fn versions_that_are_not_semver_are_unjudged_not_clean() {
        let o = observations(&["v1.0.5", "1.0", "", "banana", "1.0.4"]);
        let req = semver::VersionReq::parse("<1.0.5").unwrap();
        let hits = affected(&o, "serde_json", &req);
        assert_eq!(hits.len(), 1);
        assert_eq!(&*hits[0].observation.version, "1.0.4");
        let mut versions: Vec<String> = unjudged(&o, "serde-json")
            .into_iter()
            .map(|h| h.observation.version.to_string())
            .collect();
        versions.sort();
        assert_eq!(versions, ["", "1.0", "banana", "v1.0.5"]);
    }

    /// One instance seen through a `/metrics` page and through Prometheus (with its job),
    /// running two matching versions: each version counts once, with the most detail.
    #[test]
    fn an_instance_seen_through_two_sources_counts_once_per_version() {
        let mut seen = Vec::new();
        for (job, origin) in [
            (None, "http://10.0.0.1:8080/metrics"),
            (Some("shop"), "http://prom:9090"),
        ] {
            for version in ["0.7.3", "0.8.5"] {
                seen.push(Observation {
                    runner: std::sync::Arc::new(Runner {
                        program: "shop".into(),
                        program_version: None,
                        revision: None,
                        instance: Some("10.0.0.1:8080".into()),
                        job: job.map(str::to_owned),
                        path: None,
                        origin: origin.into(),
                        instances: 1,
                    }),
                    name: "rand".into(),
                    version: version.into(),
                    source: "crates.io".into(),
                    kind: Kind::Runtime,
                    direct: Some(true),
                });
            }
        }
        let req = semver::VersionReq::parse("<0.9").unwrap();
        let hits = affected(&seen, "rand", &req);
        let got: Vec<(&str, Option<&str>)> = hits
            .iter()
            .map(|h| (&*h.observation.version, h.observation.runner.job.as_deref()))
            .collect();
        assert_eq!(got, [("0.7.3", Some("shop")), ("0.8.5", Some("shop"))]);
        // One program at one place, whatever the number of its matching versions.
        let text = crate::render::affected_prometheus("rand", "<0.9", &hits);
        assert!(
            text.ends_with(
                "cargo_depinfo_affected_programs{name=\"rand\",requirement=\"<0.9\"} 1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_pre_release_of_an_affected_version_matches() {
        let o = observations(&["1.0.0-alpha", "1.0.5-rc.1", "1.0.5", "1.0.4+build.7"]);
        let req = semver::VersionReq::parse("<1.0.5").unwrap();
        let versions: Vec<String> = affected(&o, "serde_json", &req)
            .into_iter()
            .map(|h| h.observation.version.to_string())
            .collect();
        assert_eq!(versions, ["1.0.0-alpha", "1.0.5-rc.1", "1.0.4+build.7"]);
        // Precedence only adds ranges a pre-release really lies in; the stripped version still
        // counts (the safe side: `1.0.5-rc.1` may already carry a bug `1.0.5` has).
        for (req, affected_versions) in [
            (">=1.0.5, <2", vec!["1.0.5", "1.0.5-rc.1"]),
            ("<=1.0.4", vec!["1.0.0-alpha", "1.0.4+build.7"]),
            ("^1.0.5", vec!["1.0.5", "1.0.5-rc.1"]),
            ("<1.0.5-rc.1", vec!["1.0.0-alpha", "1.0.4+build.7"]),
        ] {
            let req = semver::VersionReq::parse(req).unwrap();
            let mut versions: Vec<String> = affected(&o, "serde_json", &req)
                .into_iter()
                .map(|h| h.observation.version.to_string())
                .collect();
            versions.sort();
            assert_eq!(versions, affected_versions, "{req}");
        }
        // Cargo's own rule still applies: a requirement naming a pre-release matches it.
        let req = semver::VersionReq::parse(">=1.0.5-rc.1, <1.0.5").unwrap();
        let versions: Vec<String> = affected(&o, "serde_json", &req)
            .into_iter()
            .map(|h| h.observation.version.to_string())
            .collect();
        assert_eq!(versions, ["1.0.5-rc.1"]);
        assert!(unjudged(&o, "serde_json").is_empty());
    }

    /// Real requirements, as advisories and users write them, to mutate.
    const REQS: &[&str] = &[
        ">=1.0, <1.0.150",
        "^1",
        "~1.2.3-alpha.1",
        "=1.0.0",
        "*",
        "<1.0.5",
        ">=0.3.0, <0.3.14",
        "1.2.*",
    ];

    fn mutated_req() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            0..REQS.len(),
            proptest::collection::vec((any::<usize>(), "[-+.,<>=^~*0-9a-z ]{0,3}"), 0..4),
        )
            .prop_map(|(seed, edits)| {
                let mut r: Vec<char> = REQS[seed].chars().collect();
                for (at, text) in edits {
                    let at = at % (r.len() + 1);
                    let end = (at + 1).min(r.len());
                    r.splice(at..end, text.chars());
                }
                r.into_iter().collect()
            })
    }

    fn version() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..3, 0u64..4, 0u64..200).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
            (0u64..3, 0u64..4, 0u64..200, "(alpha|beta|rc)(\\.[0-9])?")
                .prop_map(|(a, b, c, p)| format!("{a}.{b}.{c}-{p}")),
            "[v0-9.a-z+-]{0,10}",
            ".{0,8}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(500))]

        /// Every observation is a hit, unjudged, or judged clean: never lost, never both; and
        /// a pre-release of a matching version is a hit.
        #[test]
        fn every_version_is_judged_or_reported(
            req in mutated_req(),
            versions in proptest::collection::vec(version(), 0..12),
        ) {
            let Ok(req) = semver::VersionReq::parse(&req) else {
                return Ok(());
            };
            let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
            let o = observations(&refs);
            let hits = affected(&o, "serde_json", &req);
            let unjudged = unjudged(&o, "serde_json");
            for (i, v) in versions.iter().enumerate() {
                let location = format!("10.0.0.{i}:8080");
                let hit = hits.iter().any(|h| h.location == location);
                let unknown = unjudged.iter().any(|h| h.location == location);
                match semver::Version::parse(v) {
                    Err(_) => proptest::prop_assert!(unknown && !hit, "{v:?}"),
                    Ok(parsed) => {
                        proptest::prop_assert!(!unknown, "{v:?}");
                        let stripped = semver::Version::new(parsed.major, parsed.minor, parsed.patch);
                        // Precedence, written out: a pre-release lies just below its release.
                        let ranged = !parsed.pre.is_empty()
                            && !req.comparators.is_empty()
                            && req.comparators.iter().all(|c| {
                                let key = |major, minor, patch, pre: &semver::Prerelease| {
                                    (major, minor, patch, pre.is_empty(), pre.clone())
                                };
                                let ours = key(parsed.major, parsed.minor, parsed.patch, &parsed.pre);
                                let theirs = key(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0), &c.pre);
                                let full = c.minor.is_some() && c.patch.is_some();
                                match c.op {
                                    semver::Op::Less => ours < theirs,
                                    semver::Op::GreaterEq => ours >= theirs,
                                    semver::Op::LessEq if full => ours <= theirs,
                                    semver::Op::Greater if full => ours > theirs,
                                    semver::Op::Exact if full => ours == theirs,
                                    _ => false,
                                }
                            });
                        proptest::prop_assert_eq!(
                            hit,
                            req.matches(&parsed) || req.matches(&stripped) || ranged,
                            "{:?} against {}", v, req
                        );
                    }
                }
            }
        }
    }
}
