//! `cargo depinfo spread`: for each crate, the distinct versions running and who runs each.
//! Only runtime crates count (what `rust_mod_info` exposes), so binaries and `/metrics`
//! endpoints give the same answer as Prometheus.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Serialize;

use crate::observation::{Observation, Runner};
use crate::questions::affected::same_crate;
use depinfo_read::inventory::Kind;

/// A program (instance or binary, or the instances of a program in a job as a Prometheus API
/// counted them: see [`Runner::instances`]) running one version; ordered by program, then
/// location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Running {
    /// Where it runs: the instance, else the binary's path, else the input.
    pub location: String,
    /// Who runs it.
    #[serde(flatten)]
    pub runner: Arc<Runner>,
}

impl Ord for Running {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.runner.program, &self.location, &self.runner).cmp(&(
            &other.runner.program,
            &other.location,
            &other.runner,
        ))
    }
}

impl PartialOrd for Running {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One version of a crate and who runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VersionRunners {
    /// The version.
    pub version: String,
    /// Who runs it, sorted by program and location.
    pub running: Vec<Running>,
}

impl VersionRunners {
    /// How many instances and binaries run it (counted runners stand for several).
    pub fn instances(&self) -> usize {
        self.running.iter().map(|r| r.runner.instances).sum()
    }
}

/// The versions of one crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CrateSpread {
    /// Crate name.
    pub name: String,
    /// Number of distinct versions.
    pub version_count: usize,
    /// The versions, in SemVer order.
    pub versions: Vec<VersionRunners>,
}

/// The spread of every runtime crate (or of `crates` when not empty, matched up to `-`/`_`),
/// sorted by name; with `max_versions`, only the crates running more versions than that.
pub fn spread(
    observations: &[Observation],
    crates: &[String],
    max_versions: Option<usize>,
) -> Vec<CrateSpread> {
    let order = order_of(observations, crates);
    crates_of(observations, &order, max_versions).collect()
}

/// [`spread`]'s answer, made one crate at a time: what a question over a million series
/// holds is the observations and one index each, never every crate's answer at once (the
/// JSON of a million crates is written as it is made).
#[derive(Debug)]
pub struct Spread {
    observations: Vec<Observation>,
    order: Vec<usize>,
    max_versions: Option<usize>,
}

impl Spread {
    /// The spread of `observations`, as [`spread`] computes it.
    pub fn new(
        observations: Vec<Observation>,
        crates: &[String],
        max_versions: Option<usize>,
    ) -> Spread {
        let order = order_of(&observations, crates);
        Spread {
            observations,
            order,
            max_versions,
        }
    }

    /// The crates, sorted by name, each made when it is reached.
    pub fn crates(&self) -> impl Iterator<Item = CrateSpread> + '_ {
        crates_of(&self.observations, &self.order, self.max_versions)
    }

    /// Whether no crate is in the answer (with `max_versions`: none runs more versions).
    pub fn is_empty(&self) -> bool {
        let o = &self.observations;
        !self
            .order
            .chunk_by(|&a, &b| o[a].name == o[b].name)
            .any(|group| {
                let versions = group
                    .chunk_by(|&a, &b| o[a].version == o[b].version)
                    .count();
                self.max_versions.is_none_or(|max| versions > max)
            })
    }
}

/// The observations that count (runtime crates, of `crates` when not empty), by crate name
/// and version text.
fn order_of(observations: &[Observation], crates: &[String]) -> Vec<usize> {
    let mut order: Vec<usize> = observations
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            o.kind == Kind::Runtime
                && (crates.is_empty() || crates.iter().any(|c| same_crate(c, &o.name)))
        })
        .map(|(i, _)| i)
        .collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (&observations[a], &observations[b]);
        (&*a.name, &*a.version).cmp(&(&*b.name, &*b.version))
    });
    order
}

/// The crates of `order` (see [`order_of`]), one at a time.
fn crates_of<'a>(
    o: &'a [Observation],
    order: &'a [usize],
    max_versions: Option<usize>,
) -> impl Iterator<Item = CrateSpread> + 'a {
    order
        .chunk_by(|&a, &b| o[a].name == o[b].name)
        .filter_map(move |group| crate_spread(o, group, max_versions))
}

/// One crate's spread from its observations (sorted by version text).
fn crate_spread(
    o: &[Observation],
    group: &[usize],
    max_versions: Option<usize>,
) -> Option<CrateSpread> {
    let by_version = group.chunk_by(|&a, &b| o[a].version == o[b].version);
    if max_versions.is_some_and(|max| by_version.clone().count() <= max) {
        return None;
    }
    let mut versions: Vec<VersionRunners> = by_version
        .map(|same| {
            let runners: BTreeSet<Running> = same
                .iter()
                .map(|&i| Running {
                    location: o[i].location().to_owned(),
                    runner: o[i].runner.clone(),
                })
                .collect();
            let mut runners: Vec<Running> = runners.into_iter().collect();
            // Two sources may report the same instance with different detail; counted
            // runners of one API differ by job.
            runners.dedup_by(|a, b| {
                a.runner.program == b.runner.program
                    && a.location == b.location
                    && (!a.runner.is_counted() || a.runner.job == b.runner.job)
            });
            VersionRunners {
                version: o[same[0]].version.to_string(),
                running: runners,
            }
        })
        .collect();
    versions.sort_by(|a, b| {
        match (
            semver::Version::parse(&a.version),
            semver::Version::parse(&b.version),
        ) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.version.cmp(&b.version),
        }
    });
    Some(CrateSpread {
        name: o[group[0]].name.to_string(),
        version_count: versions.len(),
        versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{spread_prometheus, spread_text};

    fn obs(program: &str, instance: &str, name: &str, version: &str) -> Observation {
        let dep = format!(
            r#"{{"packages":[{{"name":"{program}","version":"0.1.0","source":"local","dependencies":[1],"root":true}},{{"name":"{name}","version":"{version}","source":"crates.io"}}],"format":1}}"#
        );
        let inv =
            depinfo_read::sections::decode_dep_v0(dep.as_bytes(), std::path::Path::new(instance))
                .unwrap();
        crate::observation::from_inventories(&[inv]).remove(0)
    }

    /// The streamed answer is the listed one, crate by crate, for every filter; it is empty
    /// exactly when the list is (with `max_versions`: when no crate runs more versions).
    #[test]
    fn the_streamed_spread_is_the_listed_one() {
        let o = vec![
            obs("a", "bin/a", "serde", "1.0.9"),
            obs("b", "bin/b", "serde", "1.0.10"),
            obs("c", "bin/c", "serde", "1.0.10"),
            obs("c", "bin/c", "itoa", "1.0.15"),
            obs("d", "bin/d", "libc", "0.2.1"),
            obs("e", "bin/e", "libc", "0.2.2"),
            obs("f", "bin/f", "libc", "0.2.3"),
        ];
        let mut empty = 0;
        for crates in [vec![], vec!["itoa".to_owned()], vec!["serde".to_owned()]] {
            for max in [None, Some(0), Some(1), Some(2), Some(3)] {
                let listed = spread(&o, &crates, max);
                let streamed = Spread::new(o.clone(), &crates, max);
                assert_eq!(
                    streamed.crates().collect::<Vec<_>>(),
                    listed,
                    "{crates:?} {max:?}"
                );
                assert_eq!(streamed.is_empty(), listed.is_empty(), "{crates:?} {max:?}");
                empty += usize::from(listed.is_empty());
            }
        }
        // Both answers occur: empty and not.
        assert!((1..15).contains(&empty), "{empty}");
        assert!(Spread::new(Vec::new(), &[], None).is_empty());
    }

    #[test]
    fn groups_versions_in_semver_order() {
        let o = [
            obs("a", "bin/a", "serde", "1.0.9"),
            obs("b", "bin/b", "serde", "1.0.10"),
            obs("c", "bin/c", "serde", "1.0.10"),
            obs("c", "bin/c", "itoa", "1.0.15"),
        ];
        let s = spread(&o, &[], None);
        assert_eq!(
            spread_text(&s),
            "itoa: 1 version\n\t1.0.15\tc@bin/c\n\
             serde: 2 versions\n\t1.0.9\ta@bin/a\n\t1.0.10\tb@bin/b\n\t1.0.10\tc@bin/c\n"
        );
        assert_eq!(spread(&o, &[], Some(1)).len(), 1);
        assert!(spread(&o, &[], Some(2)).is_empty());
        assert_eq!(spread(&o, &["itoa".into()], None)[0].name, "itoa");
        assert_eq!(
            spread_prometheus(&spread(&o, &["itoa".into()], None)),
            "# HELP cargo_depinfo_crate_versions Distinct versions of a crate that the programs read by cargo depinfo run.\n\
             # TYPE cargo_depinfo_crate_versions gauge\n\
             cargo_depinfo_crate_versions{name=\"itoa\"} 1\n\
             # HELP cargo_depinfo_crate_version_runners Programs (instances or binaries) running one version of a crate.\n\
             # TYPE cargo_depinfo_crate_version_runners gauge\n\
             cargo_depinfo_crate_version_runners{name=\"itoa\",version=\"1.0.15\"} 1\n"
        );
    }
}
