//! What the build side leaves in `OUT_DIR`: the two sections, compressed, and the Rust file
//! `build_info!()` includes.

use super::generated_code::{self, Generated, zlib};
use super::script::Script;
use crate::model::{BuildFacts, Graph};

/// Writes the sections and the generated code for `facts` and `graph`.
pub(super) fn write(
    script: &mut Script,
    facts: &BuildFacts,
    graph: &Graph,
    program_override: Option<&str>,
    checksums: bool,
) {
    // Under `cargo auditable` its own `.dep-v0` goes in; a second one would corrupt both.
    let auditable = script.var("CARGO_AUDITABLE_ORIG_ARGS").is_some();
    let dep_v0 = if !auditable && !graph.packages.is_empty() {
        let bytes = zlib(graph.to_dep_v0_json().as_bytes());
        script.write_if_changed("dep-v0.bin", &bytes);
        Some(bytes.len())
    } else {
        None
    };
    let bldinfo = zlib(facts.to_bldinfo_json(graph, checksums).as_bytes());
    script.write_if_changed("bldinfo.bin", &bldinfo);

    // The run-side table, derived once for both the printed consts and the generated code.
    let table = graph.to_table();
    let info = leaked_build_info(facts, &table);
    let source = generated_code::rust_source(&Generated {
        facts,
        program_override,
        table: &table,
        dep_v0,
        bldinfo: bldinfo.len(),
        version: info.short_version(),
        // clap prints its own newline after the long version.
        long_version: info.long_version().trim_end().to_owned(),
        long_version_facts: info.long_version_facts().trim_end().to_owned(),
    });
    script.write_if_changed("build_info.rs", source.as_bytes());
}

/// A `BuildInfo` over leaked copies of the facts, so that the consts are printed by the very
/// code that prints at run time. A build script is short-lived; the leak is a few KiB.
fn leaked_build_info(facts: &BuildFacts, table: &str) -> crate::build_info::BuildInfo {
    let s = |v: &str| -> &'static str { Box::leak(v.to_owned().into_boxed_str()) };
    crate::build_info::BuildInfo::from_parts(crate::build_info::Parts {
        program: s(&facts.program),
        version: s(&facts.version),
        revision: s(&facts.revision),
        revision_label: s(&facts.revision_label()),
        revision_source: s(&facts.revision_source),
        branch: s(&facts.branch),
        tag: s(&facts.tag),
        describe: s(&facts.describe),
        commit_time: s(&facts.commit_time),
        modified: facts.modified,
        build_user: s(&facts.build_user),
        build_date: s(&facts.build_date),
        rust_version: s(&facts.rust_version),
        rust_commit: s(&facts.rust_commit),
        rust_channel: s(&facts.rust_channel),
        host: s(&facts.host),
        target: s(&facts.target),
        profile: s(&facts.profile),
        opt_level: s(&facts.opt_level),
        features: s(&facts.features.join(",")),
        packages: crate::packages::Packages::from_table(s(table)),
    })
}
