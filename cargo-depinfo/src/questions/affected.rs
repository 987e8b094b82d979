//! `cargo depinfo affected`: which programs contain a version of a crate that matches a
//! SemVer requirement (what PromQL cannot compare).

use serde::Serialize;

use crate::observation::Observation;

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
pub(crate) use build_info_collector::same_crate_name as same_crate;

/// Every observation of `name` whose version matches `req`, sorted by location, program and
/// version, each once (two sources may see the same instance). Pre-releases match only when
/// `req` names a pre-release of the same version, as in Cargo.
pub fn affected(observations: &[Observation], name: &str, req: &semver::VersionReq) -> Vec<Hit> {
    let mut hits: Vec<Hit> = observations
        .iter()
        .filter(|o| same_crate(&o.name, name))
        .filter(|o| semver::Version::parse(&o.version).is_ok_and(|v| req.matches(&v)))
        .map(|o| Hit {
            location: o.location().to_owned(),
            observation: o.clone(),
        })
        .collect();
    hits.sort();
    // Two sources may see the same instance, with more or less detail about the program.
    let key = |h: &Hit| {
        let o = &h.observation;
        (
            h.location.clone(),
            o.runner.program.clone(),
            o.name.clone(),
            o.version.clone(),
            o.source.clone(),
            o.kind,
        )
    };
    hits.dedup_by(|a, b| key(a) == key(b));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::affected_text;

    #[test]
    fn matches_by_semver_requirement() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"serde-json","version":"1.0.140","source":"crates.io"}],"format":1}"#;
        let inv = crate::sections::decode_dep_v0(json, std::path::Path::new("bin/app")).unwrap();
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
}
