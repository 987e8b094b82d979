//! CVSS base scores from advisories' vectors and the severity each score names: v3.0 and v3.1
//! (`CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`) by the specification's formula, computed
//! here; v4.0 by the `cvss` crate (its score comes from the specification's lookup table of
//! macro vectors and their interpolation, not a formula).

use serde::Serialize;

use crate::text_safety::{quoted, shortened};

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

/// A vector as a message quotes it: in quotes, escaped, cut to 100 characters.
fn shown(vector: &str) -> String {
    quoted(&shortened(vector, 100))
}

/// The base score of a CVSS v3 or v4 vector, in tenths (`98` for 9.8); an error for anything
/// else or a vector without each base metric exactly once.
pub(crate) fn base_score(vector: &str) -> Result<u8, String> {
    // AV, AC, PR, UI, S, C, I, A.
    const NAMES: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    let mut parts = vector.split('/');
    let shown = shown(vector);
    match parts.next() {
        Some("CVSS:3.0" | "CVSS:3.1") => {}
        Some("CVSS:4.0") => return v4_score(vector),
        _ => return Err(format!("unsupported CVSS vector {shown}")),
    }
    let mut values: [Option<&str>; 8] = [None; 8];
    for part in parts {
        let (name, value) = part.split_once(':').ok_or_else(|| {
            format!(
                "malformed CVSS metric {} in {shown}",
                quoted(&shortened(part, 20))
            )
        })?;
        if let Some(i) = NAMES.iter().position(|n| *n == name)
            && values[i].replace(value).is_some()
        {
            return Err(format!("CVSS metric {name} given twice in {shown}"));
        }
        // Temporal and environmental metrics do not change the base score.
    }
    let bad = |i: usize| format!("missing or invalid CVSS metric {} in {shown}", NAMES[i]);
    let get = |i: usize| values[i].ok_or_else(|| bad(i));
    let changed = match get(4)? {
        "U" => false,
        "C" => true,
        _ => return Err(bad(4)),
    };
    let av = match get(0)? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return Err(bad(0)),
    };
    let ac = match get(1)? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return Err(bad(1)),
    };
    let pr = match (get(2)?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return Err(bad(2)),
    };
    let ui = match get(3)? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return Err(bad(3)),
    };
    let mut cia = [0.0; 3];
    for (slot, i) in cia.iter_mut().zip(5..8) {
        *slot = match get(i)? {
            "H" => 0.56,
            "L" => 0.22,
            "N" => 0.0,
            _ => return Err(bad(i)),
        };
    }
    let iss: f64 = 1.0 - (1.0 - cia[0]) * (1.0 - cia[1]) * (1.0 - cia[2]);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let score = if impact <= 0.0 {
        0.0
    } else if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Ok(round_up_tenths(score))
}

/// A CVSS v4.0 base score in tenths, from the `cvss` crate.
fn v4_score(vector: &str) -> Result<u8, String> {
    let parsed: ::cvss::v4::Vector = vector
        .parse()
        .map_err(|e| format!("invalid CVSS vector {}: {e}", shown(vector)))?;
    // Scores are 0.0 to 10.0 with one decimal.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "0 <= score <= 10"
    )]
    let tenths = (parsed.score().value() * 10.0).round().clamp(0.0, 100.0) as u8;
    Ok(tenths)
}

/// The specification's Roundup (v3.1, appendix A): the smallest number of tenths at or above
/// `x`, computed on integers so that 4.000000000000001 gives 4.0, not 4.1.
fn round_up_tenths(x: f64) -> u8 {
    // x is in 0..=10: these conversions are exact for the values the formula gives.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "0 <= x <= 10"
    )]
    let int = (x * 100_000.0).round() as u64;
    let tenths = if int.is_multiple_of(10_000) {
        int / 10_000
    } else {
        int / 10_000 + 1
    };
    u8::try_from(tenths.min(100)).unwrap_or(100)
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

    /// Every one of the 2,592 CVSS v3.1 base vectors (and the same as v3.0) scores as the
    /// `cvss` crate computes it.
    #[test]
    fn every_v3_base_vector_agrees_with_the_reference() {
        let mut checked = 0;
        for av in ["N", "A", "L", "P"] {
            for ac in ["L", "H"] {
                for pr in ["N", "L", "H"] {
                    for ui in ["N", "R"] {
                        for s in ["U", "C"] {
                            for c in ["H", "L", "N"] {
                                for i in ["H", "L", "N"] {
                                    for a in ["H", "L", "N"] {
                                        let vector = format!(
                                            "CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{s}/C:{c}/I:{i}/A:{a}"
                                        );
                                        let reference: ::cvss::v3::Vector = vector.parse().unwrap();
                                        let want = reference.score().value();
                                        let got = base_score(&vector).unwrap();
                                        assert!(
                                            (f64::from(got) / 10.0 - want).abs() < 1e-9,
                                            "{vector}: {got} tenths, reference {want}"
                                        );
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
                        !e.is_empty() && !e.chars().any(char::is_control),
                        "{e:?}"
                    ),
                }
            }
        }
    }
}
