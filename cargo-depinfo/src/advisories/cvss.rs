//! CVSS base scores from advisories' vectors and the severity each score names: v3.0 and v3.1
//! (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`) and v4.0, both scored by the `cvss` crate
//! (RustSec's own: the v3 formula, and v4.0's lookup table of macro vectors and their
//! interpolation). What is ours: the severity bands, and messages that quote the vector safely.

use serde::Serialize;

use depinfo_read::text_safety::{quoted, shortened};

/// The qualitative severity of a CVSS score (the specification's bands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// 0.0.
    None,
    /// 0.1 to 3.9.
    Low,
    /// 4.0 to 6.9.
    Medium,
    /// 7.0 to 8.9.
    High,
    /// 9.0 to 10.0.
    Critical,
}

impl Severity {
    /// `none`, `low`, `medium`, `high` or `critical`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The band a score in tenths (0 to 100) falls in.
    pub const fn of_tenths(score: u8) -> Severity {
        match score {
            0 => Severity::None,
            1..=39 => Severity::Low,
            40..=69 => Severity::Medium,
            70..=89 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

/// Why a vector has no score. Each message quotes the vector escaped and cut to 100
/// characters, so that it is one printable line whatever the file holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CvssError {
    /// Not a CVSS 3.0, 3.1 or 4.0 vector.
    #[error("unsupported CVSS vector {}", shown(.vector))]
    Unsupported {
        /// The vector as written.
        vector: String,
    },
    /// A part that is not `NAME:VALUE`.
    #[error("malformed CVSS metric {} in {}", quoted(&shortened(.part, 20)), shown(.vector))]
    Malformed {
        /// The part as written.
        part: String,
        /// The vector as written.
        vector: String,
    },
    /// A metric given twice.
    #[error("CVSS metric {metric} given twice in {}", shown(.vector))]
    Twice {
        /// The metric's abbreviation (`AV`).
        metric: &'static str,
        /// The vector as written.
        vector: String,
    },
    /// A base metric that is missing, or a metric whose value is not one of its own.
    #[error("missing or invalid CVSS metric {metric} in {}", shown(.vector))]
    Invalid {
        /// The metric's abbreviation (`AV`).
        metric: &'static str,
        /// The vector as written.
        vector: String,
    },
    /// A metric name CVSS v3 does not have.
    #[error("unknown CVSS metric {} in {}", quoted(&shortened(.metric, 20)), shown(.vector))]
    Unknown {
        /// The name as written.
        metric: String,
        /// The vector as written.
        vector: String,
    },
    /// A v4.0 vector the `cvss` crate refuses, with its reason.
    #[error("invalid CVSS vector {}: {reason}", shown(.vector))]
    V4 {
        /// The vector as written.
        vector: String,
        /// The crate's message.
        reason: String,
    },
}

/// A vector as a message quotes it: in quotes, escaped, cut to 100 characters.
fn shown(vector: &str) -> String {
    quoted(&shortened(vector, 100))
}

/// The base score of a CVSS v3 or v4 vector, in tenths (`98` for 9.8); an error for anything
/// else, a vector without each base metric exactly once, or one the `cvss` crate refuses.
pub(crate) fn base_score(vector: &str) -> Result<u8, CvssError> {
    let owned = || vector.to_owned();
    let score = match vector.split('/').next() {
        Some("CVSS:3.0" | "CVSS:3.1") => v3_vector(vector)?.base_score().value(),
        Some("CVSS:4.0") => vector
            .parse::<::cvss::v4::Vector>()
            .map_err(|e| CvssError::V4 {
                vector: owned(),
                reason: e.to_string(),
            })?
            .score()
            .value(),
        _ => return Err(CvssError::Unsupported { vector: owned() }),
    };
    // Scores are 0.0 to 10.0 with one decimal.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "0 <= score <= 10"
    )]
    let tenths = (score * 10.0).round().clamp(0.0, 100.0) as u8;
    Ok(tenths)
}

/// A v3.0 or v3.1 vector parsed by the `cvss` crate, with each of the eight base metrics
/// present (the crate scores a missing one as its lowest value; an advisory's score must not
/// rest on a metric it does not give).
fn v3_vector(vector: &str) -> Result<::cvss::v3::Vector, CvssError> {
    use ::cvss::Error;
    let owned = || vector.to_owned();
    let parsed: ::cvss::v3::Vector = vector.parse().map_err(|e| match e {
        Error::InvalidComponent { component } => CvssError::Malformed {
            part: component,
            vector: owned(),
        },
        Error::DuplicateMetricV3 { metric_type } => CvssError::Twice {
            metric: metric_type.name(),
            vector: owned(),
        },
        Error::InvalidMetricV3 { metric_type, .. } => CvssError::Invalid {
            metric: metric_type.name(),
            vector: owned(),
        },
        Error::UnknownMetric { name } => CvssError::Unknown {
            metric: name,
            vector: owned(),
        },
        // The prefix and version were checked by the caller.
        _ => CvssError::Unsupported { vector: owned() },
    })?;
    let present = [
        ("AV", parsed.av.is_some()),
        ("AC", parsed.ac.is_some()),
        ("PR", parsed.pr.is_some()),
        ("UI", parsed.ui.is_some()),
        ("S", parsed.s.is_some()),
        ("C", parsed.c.is_some()),
        ("I", parsed.i.is_some()),
        ("A", parsed.a.is_some()),
    ];
    match present.iter().find(|(_, there)| !there) {
        Some((metric, _)) => Err(CvssError::Invalid {
            metric,
            vector: owned(),
        }),
        None => Ok(parsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_score_as_the_specification_says() {
        // Figures from the NVD calculator.
        for (vector, tenths) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75),
            ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 59),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", 54),
            ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 16),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N/E:P/RL:O", 53),
        ] {
            assert_eq!(base_score(vector), Ok(tenths), "{vector}");
        }
        assert_eq!(Severity::of_tenths(98), Severity::Critical);
        assert_eq!(Severity::of_tenths(75), Severity::High);
        assert_eq!(Severity::of_tenths(59), Severity::Medium);
        assert_eq!(Severity::of_tenths(16), Severity::Low);
    }

    #[test]
    fn v4_is_scored_and_nonsense_refused() {
        // Figures from FIRST's CVSS v4.0 calculator.
        for (vector, tenths) in [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                93,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
                87,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                85,
            ),
        ] {
            assert_eq!(base_score(vector), Ok(tenths), "{vector}");
        }
        assert!(base_score("CVSS:4.0/AV:N").is_err());
        for bad in [
            "",
            "CVSS:2.0/AV:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AVN",
        ] {
            assert!(base_score(bad).is_err(), "{bad}");
        }
    }

    /// The `cvss` crate's reading, which RustSec's own reader shares: names and values in any
    /// case, and a metric CVSS v3 does not define refused (the formula written here before
    /// refused the first and skipped the second).
    #[test]
    fn v3_vectors_are_read_as_the_cvss_crate_reads_them() {
        assert_eq!(
            base_score("CVSS:3.1/av:n/ac:l/pr:n/ui:n/s:u/c:h/i:h/a:h"),
            Ok(98)
        );
        let unknown = base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1").unwrap_err();
        assert!(
            matches!(&unknown, CvssError::Unknown { metric, .. } if metric == "ZZ"),
            "{unknown:?}"
        );
        assert_eq!(
            unknown.to_string(),
            "unknown CVSS metric \"ZZ\" in \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1\""
        );
        let bad_temporal =
            base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:Q").unwrap_err();
        assert!(
            matches!(bad_temporal, CvssError::Invalid { metric: "E", .. }),
            "{bad_temporal:?}"
        );
    }

    /// Every one of the 2,592 CVSS v3 base vectors scores the same as v3.0 and v3.1, and the
    /// scores are those the formula written here before the `cvss` crate computed (the same
    /// for all 5,184 vectors when it was replaced): their sum and a hash of them in order, so
    /// that a change in the crate's scoring or rounding is seen.
    #[test]
    fn every_v3_base_vector_keeps_its_score() {
        let (mut sum, mut hash, mut checked) = (0u64, 0xcbf2_9ce4_8422_2325u64, 0);
        for av in ["N", "A", "L", "P"] {
            for ac in ["L", "H"] {
                for pr in ["N", "L", "H"] {
                    for ui in ["N", "R"] {
                        for s in ["U", "C"] {
                            for c in ["H", "L", "N"] {
                                for i in ["H", "L", "N"] {
                                    for a in ["H", "L", "N"] {
                                        let metrics = format!(
                                            "AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{s}/C:{c}/I:{i}/A:{a}"
                                        );
                                        let v31 = base_score(&format!("CVSS:3.1/{metrics}"));
                                        let v30 = base_score(&format!("CVSS:3.0/{metrics}"));
                                        assert_eq!(v30, v31, "{metrics}");
                                        let tenths = v31.unwrap();
                                        sum += u64::from(tenths);
                                        hash = (hash ^ u64::from(tenths))
                                            .wrapping_mul(0x0100_0000_01b3);
                                        checked += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 2592);
        assert_eq!(
            (sum, hash),
            (142_706, 16_615_685_435_724_361_481),
            "sum and hash of the scores"
        );
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(500))]

        /// A vector from an advisory file is scored or refused, never a panic: mutated real
        /// vectors (metrics dropped, doubled, swapped or changed) and any text. A score is at
        /// most 10.0, only a CVSS 3.x or 4.0 vector has one, and a refusal prints no control
        /// character.
        #[test]
        fn any_vector_is_scored_or_refused(
            base in proptest::sample::select(vec![
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:L",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            ]),
            edits in proptest::collection::vec((0usize..16, "[A-Z:/0-9.]{0,6}"), 0..4),
            noise in "(?s).{0,40}",
        ) {
            let mut parts: Vec<String> = base.split('/').map(str::to_owned).collect();
            for (at, text) in edits {
                let at = at % (parts.len() + 1);
                if text.is_empty() && at < parts.len() {
                    parts.remove(at);
                } else {
                    parts.insert(at, text);
                }
            }
            for vector in [parts.join("/"), noise] {
                match base_score(&vector) {
                    Ok(tenths) => {
                        proptest::prop_assert!(tenths <= 100);
                        proptest::prop_assert!(vector.starts_with("CVSS:"), "{vector}");
                    }
                    // Quoted escaped: a message holds no control character from the file.
                    Err(e) => proptest::prop_assert!(
                        !e.to_string().is_empty() && !e.to_string().chars().any(char::is_control),
                        "{e:?}"
                    ),
                }
            }
        }
    }
}
