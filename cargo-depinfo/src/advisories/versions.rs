//! Which versions an advisory affects, by RustSec's rule (what cargo-audit does).
//!
//! Each `patched` and `unaffected` requirement is one range of versions that are safe. A
//! version is affected when it falls in none of them. Ranges compare by SemVer precedence
//! alone, not by Cargo's matching rule: `1.0.0-alpha` is below `1.0.0`, so `>= 1.0.0` does not
//! cover it and it is affected, where Cargo would say a requirement without a pre-release never
//! matches one. The upper end of a caret or tilde range is the lowest pre-release of the next
//! version (`^1.2` covers up to, not including, `2.0.0-0`), and an inclusive bound `<= v` ends
//! just above `v` (`v` with patch + 1 and pre-release `0`, or `v`'s pre-release followed by
//! `.0`). A requirement has at most one lower and one upper bound; `=`, `^` and `~` stand
//! alone; ranges may not overlap; wildcards (`*`, `1.*`, `1.x`, `>= 1.*`, ...) are refused.
//! An advisory that breaks these rules is refused, as RustSec's own reader refuses it; the
//! message quotes the requirement as written.

use semver::{Comparator, Op, Prerelease, Version, VersionReq};

use depinfo_read::text_safety::{quoted, shortened};

/// One end of a range of safe versions.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Bound {
    /// No limit on this side.
    Unbounded,
    /// The version itself is inside.
    Inclusive(Version),
    /// The version itself is outside.
    Exclusive(Version),
}

impl Bound {
    fn version(&self) -> Option<&Version> {
        match self {
            Bound::Unbounded => None,
            Bound::Inclusive(v) | Bound::Exclusive(v) => Some(v),
        }
    }
}

/// Whether a range from `start` to `end` is not empty (RustSec's order of bounds: a start
/// below the end, or both inclusive at the same version).
fn ordered(start: &Bound, end: &Bound) -> bool {
    match (start.version(), end.version()) {
        (None, _) | (_, None) => true,
        (Some(s), Some(e)) if s < e => true,
        (Some(s), Some(e)) => {
            s == e && matches!((start, end), (Bound::Inclusive(_), Bound::Inclusive(_)))
        }
    }
}

/// A range of versions an advisory does not affect: one `patched` or `unaffected` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafeRange {
    start: Bound,
    end: Bound,
    /// The lowest version inside (`None`: no lower limit).
    from: Option<Version>,
    /// The lowest version above the range (`None`: no upper limit).
    until: Option<Version>,
}

/// The lowest version above `v` by SemVer precedence: `1.2.3` gives `1.2.4-0`, `1.2.3-rc.1`
/// gives `1.2.3-rc.1.0`. `None` when there is none (patch at `u64::MAX`). `v` is a
/// comparator's version ([`comparator_version`]), which carries no build metadata.
fn next_after(v: &Version) -> Option<Version> {
    let mut next = v.clone();
    if v.pre.is_empty() {
        next.patch = next.patch.checked_add(1)?;
        next.pre = Prerelease::new("0").ok()?;
    } else {
        next.pre = Prerelease::new(&format!("{}.0", v.pre)).ok()?;
    }
    Some(next)
}

/// The comparator's version, missing parts as 0.
fn comparator_version(c: &Comparator) -> Version {
    Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: semver::BuildMetadata::EMPTY,
    }
}

/// `v` with the lowest pre-release (`-0`): the start of the next incompatible series.
fn lowest_pre(major: u64, minor: u64, patch: u64) -> Version {
    let mut v = Version::new(major, minor, patch);
    v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    v
}

/// Whether the requirement `text` has a wildcard anywhere: `*`, `x` or `X` as the whole
/// requirement or as a part of a comparator's version (`1.*`, `>= 1.x`, `=1.2.*`). semver
/// parses some of these (`>=1.*` as `>=1`) without saying so; RustSec refuses them all.
fn has_wildcard(text: &str) -> bool {
    text.split(',').any(|comparator| {
        let version = comparator
            .trim()
            .trim_start_matches(['=', '>', '<', '^', '~'])
            .trim();
        let core = version.split(['-', '+']).next().unwrap_or("");
        core.split('.')
            .any(|part| matches!(part.trim(), "*" | "x" | "X"))
    })
}

/// Why RustSec refuses an advisory's `patched` or `unaffected` list. A message quotes the
/// requirement as written, escaped and cut to 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// Not a version requirement at all; `reason` is semver's.
    #[error("invalid version requirement {}: {reason}", shown(.requirement))]
    Invalid {
        /// The requirement as written.
        requirement: String,
        /// semver's message.
        reason: String,
    },
    /// A wildcard (`*`, `1.x`): it names no versions.
    #[error(
        "version requirement {}: wildcards are refused (name the versions, as RustSec requires)",
        shown(.requirement)
    )]
    Wildcard {
        /// The requirement as written.
        requirement: String,
    },
    /// A requirement semver reads but RustSec refuses: too many comparators or bounds, an
    /// empty range, `=`/`^`/`~` beside another comparator.
    #[error("version requirement {}: {why}", shown(.requirement))]
    Refused {
        /// The requirement as written.
        requirement: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Two of the ranges share a version.
    #[error("overlapping version ranges in `patched` and `unaffected`")]
    Overlapping,
}

/// A requirement as a message quotes it.
fn shown(text: &str) -> String {
    quoted(&shortened(text, 40))
}

impl SafeRange {
    /// The range the requirement `text` stands for, or why RustSec refuses it.
    pub(crate) fn parse(text: &str) -> Result<SafeRange, RangeError> {
        let requirement = || text.to_owned();
        let req = VersionReq::parse(text).map_err(|e| RangeError::Invalid {
            requirement: requirement(),
            reason: e.to_string(),
        })?;
        if req.comparators.is_empty() || has_wildcard(text) {
            return Err(RangeError::Wildcard {
                requirement: requirement(),
            });
        }
        SafeRange::new(&req).map_err(|why| RangeError::Refused {
            requirement: requirement(),
            why,
        })
    }

    /// The range a requirement stands for, or why RustSec refuses it.
    fn new(req: &VersionReq) -> Result<SafeRange, &'static str> {
        let comparators = &req.comparators;
        if comparators.len() > 2 {
            return Err("more than two comparators");
        }
        let alone = comparators.len() == 1;
        let mut start = Bound::Unbounded;
        let mut end = Bound::Unbounded;
        for c in comparators {
            let v = comparator_version(c);
            let (lower, upper) = match c.op {
                Op::Greater => (Some(Bound::Exclusive(v)), None),
                Op::GreaterEq => (Some(Bound::Inclusive(v)), None),
                Op::Less => (None, Some(Bound::Exclusive(v))),
                Op::LessEq => (None, Some(Bound::Inclusive(v))),
                Op::Exact | Op::Caret | Op::Tilde if !alone => {
                    return Err("`=`, `^` and `~` must stand alone");
                }
                Op::Exact => (Some(Bound::Inclusive(v.clone())), Some(Bound::Inclusive(v))),
                Op::Caret => {
                    let end = match (c.major, c.minor, c.patch) {
                        (0, Some(0), Some(patch)) => {
                            lowest_pre(0, 0, patch.checked_add(1).ok_or("version too large")?)
                        }
                        (0, Some(minor), _) => {
                            lowest_pre(0, minor.checked_add(1).ok_or("version too large")?, 0)
                        }
                        (major, _, _) => {
                            lowest_pre(major.checked_add(1).ok_or("version too large")?, 0, 0)
                        }
                    };
                    (Some(Bound::Inclusive(v)), Some(Bound::Exclusive(end)))
                }
                Op::Tilde => {
                    let end = match c.minor {
                        Some(minor) => {
                            lowest_pre(c.major, minor.checked_add(1).ok_or("version too large")?, 0)
                        }
                        None => {
                            lowest_pre(c.major.checked_add(1).ok_or("version too large")?, 0, 0)
                        }
                    };
                    (Some(Bound::Inclusive(v)), Some(Bound::Exclusive(end)))
                }
                Op::Wildcard => return Err("wildcards are refused"),
                _ => return Err("an operator RustSec does not know"),
            };
            if let Some(lower) = lower {
                if start != Bound::Unbounded {
                    return Err("more than one lower bound");
                }
                start = lower;
            }
            if let Some(upper) = upper {
                if end != Bound::Unbounded {
                    return Err("more than one upper bound");
                }
                end = upper;
            }
        }
        if !ordered(&start, &end) {
            return Err("an empty range: its start is above its end");
        }
        let from = match &start {
            Bound::Unbounded => None,
            Bound::Inclusive(v) => Some(v.clone()),
            // Nothing above the largest version: the range is empty, start it past everything.
            Bound::Exclusive(v) => Some(next_after(v).unwrap_or_else(|| v.clone())),
        };
        let until = match &end {
            Bound::Unbounded => None,
            Bound::Inclusive(v) => next_after(v),
            Bound::Exclusive(v) => Some(v.clone()),
        };
        Ok(SafeRange {
            start,
            end,
            from,
            until,
        })
    }

    /// Whether `version` is inside.
    pub(crate) fn contains(&self, version: &Version) -> bool {
        self.from.as_ref().is_none_or(|from| version >= from)
            && self.until.as_ref().is_none_or(|until| version < until)
    }

    /// Whether the two ranges share a version (RustSec's test, on the bounds as written).
    fn overlaps(&self, other: &SafeRange) -> bool {
        ordered(&self.start, &other.end) && ordered(&other.start, &self.end)
    }
}

/// The safe ranges of an advisory's `patched` and `unaffected` lists, or why RustSec refuses
/// them (a requirement it cannot read, or two ranges that overlap).
pub(crate) fn safe_ranges(
    patched: &[String],
    unaffected: &[String],
) -> Result<Vec<SafeRange>, RangeError> {
    let mut ranges = Vec::with_capacity(patched.len() + unaffected.len());
    for text in unaffected.iter().chain(patched) {
        ranges.push(SafeRange::parse(text)?);
    }
    for (i, a) in ranges.iter().enumerate() {
        if ranges[i + 1..].iter().any(|b| a.overlaps(b)) {
            return Err(RangeError::Overlapping);
        }
    }
    Ok(ranges)
}

/// Whether `version` is affected: inside none of the safe ranges (all versions are affected
/// when there are none, as for an unmaintained crate with `patched = []`).
pub(crate) fn is_affected(ranges: &[SafeRange], version: &Version) -> bool {
    !ranges.iter().any(|r| r.contains(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affected(patched: &[&str], unaffected: &[&str], version: &str) -> bool {
        let own = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let ranges = safe_ranges(&own(patched), &own(unaffected)).unwrap();
        is_affected(&ranges, &Version::parse(version).unwrap())
    }

    #[test]
    fn an_empty_range_is_refused_and_a_single_version_is_not() {
        let range = SafeRange::parse;
        assert!(range(">= 1.0.0, < 1.0.0").is_err());
        assert!(range("> 1.0.0, <= 1.0.0").is_err());
        assert!(range("> 1.0.1, < 1.0.0").is_err());
        assert!(range(">= 1.0.0, <= 1.0.0").is_ok());
        assert!(range(">= 1.0.0, < 1.0.1").is_ok());
    }

    #[test]
    fn the_example_advisory() {
        let patched = [">= 1.2.3, < 1.3.0", ">= 1.3.4"];
        let unaffected = ["<= 0.1.2"];
        for (v, want) in [
            ("0.1.2", false),
            ("0.1.3", true),
            ("1.2.2", true),
            ("1.2.3", false),
            ("1.2.9", false),
            ("1.3.0", true),
            ("1.3.3", true),
            ("1.3.4", false),
            ("9.0.0", false),
        ] {
            assert_eq!(affected(&patched, &unaffected, v), want, "{v}");
        }
    }

    #[test]
    fn pre_releases_compare_by_precedence_not_cargo_rules() {
        // Cargo: `>=1.0.0` never matches `1.0.0-alpha`; RustSec: it is below 1.0.0, affected.
        assert!(affected(&[">= 1.0.0"], &[], "1.0.0-alpha"));
        assert!(!affected(&[">= 1.0.0"], &[], "1.0.1-alpha"));
        // `^1.2` ends at 2.0.0-0: 2.0.0-alpha is past it, affected.
        assert!(affected(&["^1.2"], &[], "2.0.0-alpha"));
        assert!(!affected(&["^1.2"], &[], "1.9.9"));
        // `<= 0.1.2` ends at 0.1.3-0: 0.1.3-alpha is affected.
        assert!(affected(&["> 1.0.0"], &["<= 0.1.2"], "0.1.3-alpha"));
        assert!(!affected(&["> 1.0.0"], &["<= 0.1.2"], "0.1.2"));
        // `> 1.0.0` starts at 1.0.1-0.
        assert!(!affected(&["> 1.0.0"], &[], "1.0.1-0"));
        assert!(affected(&["> 1.0.0"], &[], "1.0.0"));
        // No safe range: everything is affected.
        assert!(affected(&[], &[], "0.0.0"));
    }

    /// The reference, written from RustSec's documented rules rather than from the bounds
    /// above: each comparator is a test by SemVer precedence on the version itself (`> v`,
    /// `>= v`, `< v`, `<= v`, `= v`; `^v` and `~v` from `v` up to, not including, the lowest
    /// pre-release of the next incompatible version), a requirement is all of its
    /// comparators, and a version is affected when no requirement of `patched` and
    /// `unaffected` holds for it. Versions here carry no build metadata (precedence ignores
    /// it, Rust's `Ord` does not).
    fn reference_affected(reqs: &[VersionReq], v: &Version) -> bool {
        let holds = |c: &Comparator| {
            let at = comparator_version(c);
            match c.op {
                Op::Greater => *v > at,
                Op::GreaterEq => *v >= at,
                Op::Less => *v < at,
                Op::LessEq => *v <= at,
                Op::Exact => *v == at,
                Op::Caret | Op::Tilde => {
                    let end = match (c.op, c.major, c.minor, c.patch) {
                        (Op::Caret, 0, Some(0), Some(p)) => lowest_pre(0, 0, p + 1),
                        (Op::Caret, 0, Some(m), _) | (Op::Tilde, _, Some(m), _) => {
                            lowest_pre(c.major, m + 1, 0)
                        }
                        _ => lowest_pre(c.major + 1, 0, 0),
                    };
                    *v >= at && *v < end
                }
                _ => unreachable!("refused before"),
            }
        };
        !reqs.iter().any(|r| r.comparators.iter().all(holds))
    }

    fn version_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (
            0u64..3,
            0u64..3,
            0u64..3,
            prop_oneof![
                Just(""),
                Just("-0"),
                Just("-alpha"),
                Just("-alpha.1"),
                Just("-rc.1"),
                Just("-0.0"),
            ],
        )
            .prop_map(|(a, b, c, pre)| format!("{a}.{b}.{c}{pre}"))
    }

    fn req_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let op = prop_oneof![
            Just(">"),
            Just(">="),
            Just("<"),
            Just("<="),
            Just("="),
            Just("^"),
            Just("~"),
            Just(""),
        ];
        let partial = (
            0u64..3,
            proptest::option::of(0u64..3),
            0u64..3,
            proptest::bool::ANY,
        )
            .prop_map(|(a, b, c, full)| match (b, full) {
                (Some(b), true) => format!("{a}.{b}.{c}"),
                (Some(b), false) => format!("{a}.{b}"),
                (None, _) => format!("{a}"),
            });
        let comparator = (op, partial, version_strategy(), proptest::bool::ANY).prop_map(
            |(op, partial, full, use_full)| {
                format!("{op}{}", if use_full { full } else { partial })
            },
        );
        proptest::collection::vec(comparator, 1..=3).prop_map(|c| c.join(", "))
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        /// RustSec's rule as implemented (bounds with "next version" arithmetic) agrees with
        /// the reference (direct precedence tests) on every advisory it accepts.
        #[test]
        fn matching_agrees_with_the_documented_rules(
            patched in proptest::collection::vec(req_strategy(), 0..3),
            unaffected in proptest::collection::vec(req_strategy(), 0..2),
            versions in proptest::collection::vec(version_strategy(), 1..8),
        ) {
            let Ok(ranges) = safe_ranges(&patched, &unaffected) else {
                return Ok(());
            };
            let reqs: Vec<VersionReq> = unaffected
                .iter()
                .chain(&patched)
                .map(|r| VersionReq::parse(r).unwrap())
                .collect();
            for v in versions {
                let v = Version::parse(&v).unwrap();
                proptest::prop_assert_eq!(
                    is_affected(&ranges, &v),
                    reference_affected(&reqs, &v),
                    "{} with patched {:?} unaffected {:?}", v, patched, unaffected
                );
            }
        }

        /// What is accepted follows RustSec's constraints: at most two comparators, `=`, `^`
        /// and `~` alone, one bound per side, no wildcard, ranges that do not overlap; and no
        /// requirement text, however odd, panics.
        #[test]
        fn acceptance_follows_the_constraints(
            patched in proptest::collection::vec(req_strategy(), 0..3),
            junk in "(.|[<>=^~*, .0-9a-z-]){0,40}",
        ) {
            let _ = safe_ranges(std::slice::from_ref(&junk), &[]);
            let accepted = safe_ranges(&patched, &[]).is_ok();
            let well_formed = patched.iter().all(|r| {
                let req = VersionReq::parse(r).unwrap();
                let c = &req.comparators;
                let alone = c.iter().any(|c| matches!(c.op, Op::Exact | Op::Caret | Op::Tilde));
                let lower = c.iter().filter(|c| matches!(c.op, Op::Greater | Op::GreaterEq)).count();
                let upper = c.iter().filter(|c| matches!(c.op, Op::Less | Op::LessEq)).count();
                c.len() <= 2 && (!alone || c.len() == 1) && lower <= 1 && upper <= 1
            });
            if accepted {
                proptest::prop_assert!(well_formed, "{:?}", patched);
            }
            // Accepted ranges never overlap: no version is in two of them.
            if let Ok(ranges) = safe_ranges(&patched, &[]) {
                for v in ["0.0.0", "0.1.0-alpha", "1.0.0", "1.1.1", "2.0.0-0", "2.2.2"] {
                    let v = Version::parse(v).unwrap();
                    proptest::prop_assert!(ranges.iter().filter(|r| r.contains(&v)).count() <= 1);
                }
            }
        }
    }

    #[test]
    fn what_rustsec_refuses_is_refused() {
        let refused = |p: &[&str]| {
            let own: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
            safe_ranges(&own, &[]).unwrap_err().to_string()
        };
        assert!(refused(&[">= 1.0, >= 2.0"]).contains("more than one lower bound"));
        assert!(refused(&["^1.0, < 1.5"]).contains("stand alone"));
        assert!(refused(&[">= 1.0", ">= 2.0"]).contains("overlapping"));
        assert!(refused(&["> 2.0, < 1.0"]).contains("empty range"));
        assert!(refused(&["banana"]).contains("invalid version requirement"));
    }

    /// Regression (issue 18, item 14): `patched = ["*"]` made every version safe and the run
    /// exited 0, although wildcards are refused.
    #[test]
    fn every_wildcard_form_is_refused_quoting_what_was_written() {
        for text in [
            "*",
            " * ",
            "x",
            "X",
            "1.*",
            "1.x",
            "1.X",
            "1.2.*",
            "1.2.x",
            ">= 1.*",
            ">=1.x",
            "=1.*",
            "^1.*",
            "~1.2.*",
            "< 2.*",
            ">= 1.0.0, < 2.*",
        ] {
            let e = safe_ranges(&[text.to_owned()], &[]).unwrap_err();
            assert!(
                matches!(&e, RangeError::Wildcard { requirement } if requirement == text)
                    || matches!(&e, RangeError::Invalid { requirement, .. } if requirement == text),
                "{text}: {e:?}"
            );
            let e = e.to_string();
            assert!(
                e == format!(
                    "version requirement {}: wildcards are refused (name the versions, as RustSec requires)",
                    quoted(text)
                ) || e.starts_with(&format!("invalid version requirement {}: ", quoted(text))),
                "{text}: {e}"
            );
        }
        // `x` in a pre-release or build metadata is not a wildcard.
        assert!(safe_ranges(&[">= 1.0.0-x.1".to_owned()], &[]).is_ok());
        assert!(safe_ranges(&[">= 1.0.0+x".to_owned()], &[]).is_ok());
    }

    /// Regression (issue 18, item 14): messages printed semver's Debug form
    /// (`VersionReq { comparators: [...] }`); they quote the requirement as written.
    #[test]
    fn messages_quote_the_requirement_as_written() {
        let refused = |p: &str| safe_ranges(&[p.to_owned()], &[]).unwrap_err().to_string();
        assert_eq!(
            refused(">= 1.0, >= 2.0"),
            "version requirement \">= 1.0, >= 2.0\": more than one lower bound"
        );
        assert_eq!(
            refused("^1.0, < 1.5"),
            "version requirement \"^1.0, < 1.5\": `=`, `^` and `~` must stand alone"
        );
        assert_eq!(
            refused("> 2.0, < 1.0"),
            "version requirement \"> 2.0, < 1.0\": an empty range: its start is above its end"
        );
        assert_eq!(
            refused(">1, <2, <3"),
            "version requirement \">1, <2, <3\": more than two comparators"
        );
        let long = format!(">= 1.0, >= 2.0, {}", "<3, ".repeat(40));
        let e = refused(&long);
        assert!(e.len() < 120, "{e}");
        assert!(
            !e.contains("VersionReq") && !e.contains("Comparator"),
            "{e}"
        );
        // What the file says reaches the message escaped.
        let e = refused(">= 1.0\u{1b}[2J");
        assert!(!e.contains('\u{1b}'), "{e}");
    }
}
