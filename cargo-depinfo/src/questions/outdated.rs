//! `cargo depinfo outdated`: how far each crate a program was built with is behind the newest
//! release in a registry's sparse index, the SemVer way: the newest compatible release (what
//! `cargo update` would pick under a caret requirement) and the newest overall, yanked
//! releases ignored.

use std::collections::BTreeSet;

use semver::Version;
use serde::Serialize;

use crate::observation::Observation;
use crate::sources::sparse_index::{IndexError, Releases};
use depinfo_wire::index_files::Release;

/// How far behind a crate is, from nothing to a breaking release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Up to date (or newer than anything in the index).
    None,
    /// A newer compatible release differing in the patch number (or only in pre-release).
    Patch,
    /// A newer compatible release with a higher minor number.
    Minor,
    /// A newer release outside the caret range: a breaking upgrade (another major, or
    /// another minor when the major is 0, or another patch when both are 0).
    Major,
}

impl Level {
    /// `none`, `patch`, `minor` or `major`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        }
    }

    /// The gauge value in the Prometheus output: 0 none, 1 patch, 2 minor, 3 major.
    pub const fn value(self) -> u8 {
        match self {
            Level::None => 0,
            Level::Patch => 1,
            Level::Minor => 2,
            Level::Major => 3,
        }
    }
}

/// Cargo's caret compatibility: same major; same minor when the major is 0; same patch
/// when both are 0.
pub fn compatible(a: &Version, b: &Version) -> bool {
    if a.major != b.major {
        false
    } else if a.major != 0 {
        true
    } else if a.minor != b.minor {
        false
    } else {
        a.minor != 0 || a.patch == b.patch
    }
}

/// The verdict for one version against a crate's releases.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// The newest compatible release that is not yanked (the current version when none is
    /// newer).
    pub newest_compatible: Version,
    /// The newest release that is not yanked (the current version when none is newer).
    pub newest: Version,
    /// How far behind `newest` the current version is.
    pub level: Level,
}

/// Compares `current` with the releases. Pre-releases count only when `current` is one (as
/// cargo picks them only when asked).
pub fn compare(current: &Version, releases: &[Release]) -> Verdict {
    let candidates = releases
        .iter()
        .filter(|r| !r.yanked)
        .map(|r| &r.version)
        .filter(|v| current.pre.is_empty() == v.pre.is_empty() || v.pre.is_empty());
    let mut newest = current.clone();
    let mut newest_compatible = current.clone();
    for v in candidates {
        if v > &newest {
            newest = v.clone();
        }
        if v > &newest_compatible && compatible(current, v) {
            newest_compatible = v.clone();
        }
    }
    let level = if newest <= *current {
        Level::None
    } else if !compatible(current, &newest) {
        Level::Major
    } else if newest.minor != current.minor {
        Level::Minor
    } else {
        Level::Patch
    };
    Verdict {
        newest_compatible,
        newest,
        level,
    }
}

/// One crate a program uses, to be checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Use {
    /// The program.
    pub program: String,
    /// Where it was found: a binary's path, or an instance for fleet sources.
    pub location: String,
    /// The crate.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Use {
    /// A use of `name` `version` by `program` at `location`.
    pub fn new(program: &str, location: &str, name: &str, version: &str) -> Use {
        Use {
            program: program.to_owned(),
            location: location.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
        }
    }
}

/// One checked crate of one program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Row {
    /// The program.
    pub program: String,
    /// The binary's path (or the instance).
    pub location: String,
    /// The crate.
    pub name: String,
    /// The version the program was built with.
    pub version: String,
    /// The newest compatible release.
    pub newest_compatible: String,
    /// The newest release.
    pub newest: String,
    /// How far behind.
    pub level: Level,
}

/// The result of a check: one row per program and crate version, sorted; the programs seen
/// (also those with nothing to check); and one error per crate that could not be checked.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// The rows, sorted by program, location, crate and version.
    pub rows: Vec<Row>,
    /// Every program seen, sorted.
    pub programs: Vec<String>,
    /// One per crate that could not be checked.
    pub errors: Vec<OutdatedError>,
}

/// Why a crate could not be checked. Every message names the crate.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OutdatedError {
    /// Its index file could not be fetched or read.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The version a program runs is not SemVer, so it cannot be compared.
    #[error("{location}: version {version:?} of {name} is not SemVer")]
    NotSemver {
        /// Where it runs (instance, binary or input).
        location: String,
        /// The crate.
        name: String,
        /// The version as observed.
        version: String,
    },
}

impl Report {
    /// The highest level of any row.
    pub fn worst(&self) -> Level {
        self.rows
            .iter()
            .map(|r| r.level)
            .max()
            .unwrap_or(Level::None)
    }
}

/// The uses `outdated` judges: only crates whose source is `crates.io` (git, local and
/// other-registry packages are not in its index).
fn registry_uses(observations: &[Observation]) -> Vec<Use> {
    observations
        .iter()
        .filter(|o| &*o.source == buildinfo::Source::CratesIo.as_str())
        .map(|o| Use::new(&o.runner.program, o.location(), &o.name, &o.version))
        .collect()
}

/// The crates [`outdated`] needs the releases of (once each, sorted): every `crates.io`
/// crate the programs run. The sources fetch them (`fetch_releases`).
pub fn outdated_crates(observations: &[Observation]) -> Vec<String> {
    registry_uses(observations)
        .into_iter()
        .map(|u| u.name)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Judges every registry crate the programs run against the releases fetched for
/// [`outdated_crates`]; programs with nothing to look up still get a count.
pub fn outdated(observations: &[Observation], releases: &Releases) -> Report {
    let uses = registry_uses(observations);
    let programs: Vec<String> = observations
        .iter()
        .map(|o| o.runner.program.clone())
        .collect();
    check(&uses, &programs, releases)
}

/// Judges the uses against `fetched`, the releases of each crate they name (or why its
/// index file could not be used). `programs` names programs with nothing to check, so they
/// still get a count.
pub fn check(uses: &[Use], programs: &[String], fetched: &Releases) -> Report {
    let mut report = Report {
        programs: programs
            .iter()
            .cloned()
            .chain(uses.iter().map(|u| u.program.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Report::default()
    };
    let mut seen = BTreeSet::new();
    for u in uses.iter().collect::<BTreeSet<_>>() {
        let Some(Ok(releases)) = fetched.get(u.name.as_str()) else {
            continue;
        };
        let Ok(current) = Version::parse(&u.version) else {
            if seen.insert((u.name.clone(), u.version.clone())) {
                report.errors.push(OutdatedError::NotSemver {
                    location: u.location.clone(),
                    name: u.name.clone(),
                    version: u.version.clone(),
                });
            }
            continue;
        };
        let v = compare(&current, releases);
        report.rows.push(Row {
            program: u.program.clone(),
            location: u.location.clone(),
            name: u.name.clone(),
            version: u.version.clone(),
            newest_compatible: v.newest_compatible.to_string(),
            newest: v.newest.to_string(),
            level: v.level,
        });
    }
    for result in fetched.values() {
        if let Err(e) = result {
            report.errors.push(e.clone().into());
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use crate::render::{outdated_prometheus, outdated_text};

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn releases(list: &[(&str, bool)]) -> Vec<Release> {
        let mut body = String::new();
        for (vers, yanked) in list {
            let _ = writeln!(body, "{{\"vers\":\"{vers}\",\"yanked\":{yanked}}}");
        }
        depinfo_wire::index_files::parse_index_file(body.as_bytes()).unwrap()
    }

    #[test]
    fn caret_compatibility_is_cargos() {
        assert!(compatible(&v("1.2.3"), &v("1.9.0")));
        assert!(!compatible(&v("1.2.3"), &v("2.0.0")));
        assert!(compatible(&v("0.2.3"), &v("0.2.9")));
        assert!(!compatible(&v("0.2.3"), &v("0.3.0")));
        assert!(!compatible(&v("0.0.3"), &v("0.0.4")));
        assert!(compatible(&v("0.0.3"), &v("0.0.3")));
    }

    #[test]
    fn newest_compatible_and_overall_ignore_yanked_and_pre_releases() {
        let r = releases(&[
            ("0.7.3", false),
            ("0.7.4", true),
            ("0.8.5", false),
            ("0.9.0", false),
            ("0.9.1", true),
            ("0.10.0-rc.1", false),
        ]);
        let verdict = compare(&v("0.7.3"), &r);
        assert_eq!(verdict.newest_compatible, v("0.7.3"));
        assert_eq!(verdict.newest, v("0.9.0"));
        assert_eq!(verdict.level, Level::Major);
        let r = releases(&[("1.0.0", false), ("1.2.0", false), ("1.2.1", true)]);
        assert_eq!(compare(&v("1.0.0"), &r).level, Level::Minor);
        assert_eq!(compare(&v("1.2.0"), &r).level, Level::None);
        assert_eq!(compare(&v("1.3.0"), &r).newest, v("1.3.0"));
        let r = releases(&[("0.1.2", false), ("0.1.5", false)]);
        assert_eq!(compare(&v("0.1.2"), &r).level, Level::Patch);
        // A pre-release user sees pre-releases.
        let r = releases(&[("2.0.0-rc.1", false), ("2.0.0-rc.2", false)]);
        assert_eq!(compare(&v("2.0.0-rc.1"), &r).newest, v("2.0.0-rc.2"));
    }

    #[test]
    fn prometheus_output_counts_per_program() {
        let row = |program: &str, name: &str, level| Row {
            program: program.into(),
            location: format!("bin/{program}"),
            name: name.into(),
            version: "1.0.0".into(),
            newest_compatible: "1.0.1".into(),
            newest: "1.0.1".into(),
            level,
        };
        let report = Report {
            rows: vec![
                row("a", "x", Level::Patch),
                row("a", "y", Level::None),
                row("b\"q", "x", Level::Patch),
            ],
            programs: vec!["a".into(), "b\"q".into(), "c".into()],
            errors: vec![],
        };
        let text = outdated_prometheus(&report);
        // The answer, then its deprecated alias with the same series.
        for (outdated, crates) in [
            ("cargo_depinfo_outdated", "cargo_depinfo_outdated_crates"),
            ("rust_mod_outdated", "rust_mod_outdated_crates"),
        ] {
            assert!(text.contains(&format!(
                "{outdated}{{name=\"x\",newest=\"1.0.1\",newest_compatible=\"1.0.1\",program=\"b\\\"q\",version=\"1.0.0\"}} 1\n"
            )));
            assert!(text.contains(&format!(
                "{crates}{{program=\"a\"}} 1\n{crates}{{program=\"b\\\"q\"}} 1\n{crates}{{program=\"c\"}} 0\n"
            )));
        }
        assert_eq!(
            outdated_text(&report),
            "PROGRAM  CRATE  VERSION  COMPATIBLE  NEWEST  BEHIND\n\
             a        x      1.0.0    1.0.1       1.0.1   patch\n\
             b\"q      x      1.0.0    1.0.1       1.0.1   patch\n"
        );
    }
}
