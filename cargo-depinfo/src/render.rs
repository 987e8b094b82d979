//! Rendering: every answer as text, JSON, Prometheus text exposition, CycloneDX or SPDX.
//! Renderers take the questions' answers and never read a source. Text for a terminal is
//! escaped by [`depinfo_read::text_safety`].

mod audit;
mod cyclonedx;
mod html;
mod json;
pub(crate) mod prometheus;
pub(crate) mod purl;
mod sarif;
mod spdx;
mod text;

pub use self::audit::{
    audit_json, audit_prometheus, audit_text, audit_text_with, database_line, severity_label,
};
pub use self::cyclonedx::{CycloneDxVersion, cyclonedx};
pub use self::html::report_html;
pub use self::json::{
    affected_json, json, outdated_json, report_json, spread_json, write_spread_json,
};
pub use self::prometheus::{
    affected_prometheus, outdated_prometheus, prometheus, spread_prometheus,
};
pub use self::sarif::audit_sarif;
pub use self::spdx::{content_digest, spdx};
pub use self::text::{
    affected_text, affected_text_with, outdated_text, outdated_text_with, spread_text,
    spread_text_with, text, write_spread_text, write_spread_text_with,
};

/// `base`, or the first of `base{sep}2`, `base{sep}3`, ... that `taken` does not hold; it is
/// then taken. The SBOMs' identifiers must be unique even when two packages' names and
/// versions are the same (two sources) or collide once made safe.
fn first_free(base: String, sep: char, taken: &mut std::collections::BTreeSet<String>) -> String {
    if taken.insert(base.clone()) {
        return base;
    }
    let mut candidate = base.clone();
    let mut n = 1;
    while taken.contains(&candidate) {
        n += 1;
        candidate = format!("{base}{sep}{n}");
    }
    taken.insert(candidate.clone());
    candidate
}

/// One binary's inventory: an app with a runtime and a build-only dependency.
#[cfg(test)]
fn sample() -> depinfo_read::inventory::Inventory {
    let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},{"name":"serde","version":"1.0.219","source":"crates.io"},{"name":"serde_derive","version":"1.0.219","source":"crates.io","kind":"build"}],"format":1}"#;
    depinfo_read::sections::decode_dep_v0(json, std::path::Path::new("bin/app")).unwrap()
}

/// A program with build facts as `.bldinfo` alone carries it: named `program` (JSON string
/// text, escapes allowed), a runtime and a build-only crate, a modified tree, two features.
#[cfg(test)]
pub(crate) fn sample_with_facts(program: &str) -> depinfo_read::inventory::Inventory {
    let json = testkit::bldinfo_json_with_facts(program);
    depinfo_read::sections::decode_bldinfo(json.as_bytes(), std::path::Path::new("bin/svc"))
        .unwrap()
}
