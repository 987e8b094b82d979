//! JSON documents: our format (`format_version` 1, see the README) for inventories and for
//! each question's answer, pretty-printed, ending in a newline, keys in a fixed order.

use serde::Serialize;

use crate::questions::{CrateSpread, Hit, Report, Row, Spread};
use depinfo_read::inventory::Inventory;

/// Version of the JSON output format (`"format_version"`). Fields may be added within a
/// version; removing or changing one bumps it.
pub const JSON_FORMAT_VERSION: u32 = 1;

/// An input that failed, for the `errors` list of the JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    /// The one-line message (it names the input).
    pub message: String,
}

/// What a server said for information, for the `notes` list of the JSON answers.
pub type NoteEntry = ErrorEntry;

/// The `errors` array every JSON document carries (and the `notes` array of answers).
pub(crate) fn error_entries(errors: &[String]) -> Vec<ErrorEntry> {
    errors
        .iter()
        .map(|m| ErrorEntry { message: m.clone() })
        .collect()
}

/// A JSON document, pretty-printed, ending in a newline.
pub(crate) fn pretty_json(doc: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    format_version: u32,
    inventories: Vec<InventoryJson<'a>>,
    errors: Vec<ErrorEntry>,
}

/// An inventory with the digest of its dependency list ([`Inventory::deps_list`]; `null`
/// without a dependency graph), after its own fields.
#[derive(Serialize)]
struct InventoryJson<'a> {
    #[serde(flatten)]
    inventory: &'a Inventory,
    deps_digest: Option<String>,
}

/// Our JSON format (see the README): `{"format_version":1,"inventories":[...],"errors":[...]}`,
/// pretty-printed, ending in a newline.
pub fn json(inventories: &[Inventory], errors: &[String]) -> String {
    let doc = JsonDocument {
        format_version: JSON_FORMAT_VERSION,
        inventories: inventories
            .iter()
            .map(|inventory| InventoryJson {
                inventory,
                deps_digest: inventory.deps_list().map(|l| l.digest().to_owned()),
            })
            .collect(),
        errors: error_entries(errors),
    };
    pretty_json(&doc)
}

#[derive(Serialize)]
struct AffectedDocument<'a> {
    format_version: u32,
    name: &'a str,
    requirement: &'a str,
    affected: &'a [Hit],
    unjudged: &'a [Hit],
    errors: Vec<ErrorEntry>,
    notes: Vec<NoteEntry>,
}

/// JSON: `{"format_version":1,"name","requirement","affected":[...],"unjudged":[...],
/// "errors":[...],"notes":[...]}`; each hit, and each observation whose version is not SemVer (`unjudged`),
/// has the fields of [`Hit`] (`null` when unknown).
pub fn affected_json(
    name: &str,
    requirement: &str,
    hits: &[Hit],
    unjudged: &[Hit],
    errors: &[String],
    notes: &[String],
) -> String {
    let doc = AffectedDocument {
        format_version: JSON_FORMAT_VERSION,
        name,
        requirement,
        affected: hits,
        unjudged,
        errors: error_entries(errors),
        notes: error_entries(notes),
    };
    pretty_json(&doc)
}

#[derive(Serialize)]
struct SpreadDocument<C> {
    format_version: u32,
    max_versions: Option<usize>,
    crates: C,
    errors: Vec<ErrorEntry>,
    notes: Vec<NoteEntry>,
}

/// The crates of a [`Spread`], serialized one at a time as they are made.
struct CratesOf<'a>(&'a Spread);

impl Serialize for CratesOf<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.crates())
    }
}

/// [`spread_json`] of a [`Spread`], written to `out` as it is made (byte for byte the same
/// document): memory is one crate's answer, whatever the number of crates.
///
/// # Errors
///
/// Writing failed.
pub fn write_spread_json(
    out: &mut dyn std::io::Write,
    spread: &Spread,
    max_versions: Option<usize>,
    errors: &[String],
    notes: &[String],
) -> std::io::Result<()> {
    let doc = SpreadDocument {
        format_version: JSON_FORMAT_VERSION,
        max_versions,
        crates: CratesOf(spread),
        errors: error_entries(errors),
        notes: error_entries(notes),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// JSON: `{"format_version":1,"max_versions":N|null,"crates":[{"name","version_count",
/// "versions":[{"version","running":[{"location","program","program_version","revision","instance",
/// "job","path","origin","instances"}]}]}],"errors":[{"message"}],"notes":[{"message"}]}`.
/// `notes` are what servers said for information (Prometheus' info annotations).
pub fn spread_json(
    crates: &[CrateSpread],
    max_versions: Option<usize>,
    errors: &[String],
    notes: &[String],
) -> String {
    let doc = SpreadDocument {
        format_version: JSON_FORMAT_VERSION,
        max_versions,
        crates,
        errors: error_entries(errors),
        notes: error_entries(notes),
    };
    pretty_json(&doc)
}

#[derive(Serialize)]
struct OutdatedDocument<'a> {
    format_version: u32,
    index: &'a str,
    crates: &'a [Row],
    errors: Vec<ErrorEntry>,
    notes: Vec<NoteEntry>,
}

/// JSON: `{"format_version":1,"index","crates":[{"program","location","name","version",
/// "newest_compatible","newest","level"}],"errors":[{"message"}],"notes":[{"message"}]}`; every checked crate, also
/// those up to date (`level` `none`). `errors` are the sources' and the report's.
pub fn outdated_json(report: &Report, index: &str, errors: &[String], notes: &[String]) -> String {
    let doc = OutdatedDocument {
        format_version: JSON_FORMAT_VERSION,
        index,
        crates: &report.rows,
        errors: error_entries(errors),
        notes: error_entries(notes),
    };
    pretty_json(&doc)
}

/// `cargo depinfo report --format json`: the report's model as it is
/// ([`FleetReport`](crate::questions::FleetReport), `format_version` first), pretty-printed,
/// ending in a newline. The HTML report embeds the same document.
pub fn report_json(report: &crate::questions::FleetReport) -> String {
    pretty_json(report)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::render::sample;
    use depinfo_read::inventory::Origin;

    #[test]
    fn json_carries_its_format_version() {
        let v: Value = serde_json::from_str(&json(&[sample()], &["x: broken".into()])).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["inventories"][0]["origin"], Origin::DepV0.as_str());
        assert_eq!(v["inventories"][0]["packages"][2]["kind"], "build");
        assert_eq!(v["errors"][0]["message"], "x: broken");
        // The digest of the runtime crates but the root: serde alone.
        let serde =
            build_info_collector::DepsList::from_entries([build_info_collector::DepsEntry {
                name: "serde".into(),
                version: "1.0.219".into(),
                source: "crates.io".into(),
                direct: true,
            }]);
        assert_eq!(v["inventories"][0]["deps_digest"], serde.digest());
        let mut bare = sample();
        bare.packages.clear();
        let v: Value = serde_json::from_str(&json(&[bare], &[])).unwrap();
        assert_eq!(v["inventories"][0]["deps_digest"], Value::Null);
    }
}
