//! The bytes the build side embeds: `.dep-v0` (cargo-auditable's format), `.bldinfo` (ours),
//! the run-side package table, and the generated Rust file. FORMAT.md specifies them.

use std::fmt::Write as _;

use super::dependency_graph::Graph;
use super::facts::Facts;
use crate::{DependencyKind, section};

/// zlib level: 9 costs a few milliseconds more than 6 on 300 packages and saves ~5 %.
const ZLIB_LEVEL: u8 = 9;

/// Compresses `data` as one zlib stream (RFC 1950).
pub fn zlib(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, ZLIB_LEVEL)
}

/// Appends `s` as a JSON string literal.
pub(crate) fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_indices(out: &mut String, items: &[usize]) {
    out.push('[');
    for (i, d) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{d}");
    }
    out.push(']');
}

/// The uncompressed JSON of `.dep-v0`, exactly as cargo-auditable's serde model writes it:
/// `{"packages":[{"name","version","source","kind"?,"dependencies"?,"root"?}],"format":1}`,
/// `kind` only when `build`, `dependencies` only when non-empty, `root` only when true.
pub fn dep_v0_json(graph: &Graph) -> String {
    let mut out = String::with_capacity(64 * graph.packages.len() + 32);
    out.push_str("{\"packages\":[");
    for (i, p) in graph.packages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        json_str(&mut out, &p.name);
        out.push_str(",\"version\":");
        json_str(&mut out, &p.version);
        out.push_str(",\"source\":");
        json_str(&mut out, p.source.as_str());
        if p.kind == DependencyKind::Build {
            out.push_str(",\"kind\":\"build\"");
        }
        if !p.dependencies.is_empty() {
            out.push_str(",\"dependencies\":");
            json_indices(&mut out, &p.dependencies);
        }
        if p.root {
            out.push_str(",\"root\":true");
        }
        out.push('}');
    }
    out.push_str("],\"format\":1}");
    out
}

/// The uncompressed JSON of `.bldinfo` (format 1, see FORMAT.md).
pub(crate) fn bldinfo_json(facts: &Facts, graph: &Graph, checksums: bool) -> String {
    let mut out = String::with_capacity(512 + 80 * graph.packages.len());
    let _ = write!(out, "{{\"format\":{}", section::BUILD_INFO_FORMAT);
    for (key, value) in facts.string_fields() {
        let _ = write!(out, ",\"{key}\":");
        json_str(&mut out, value);
    }
    out.push_str(",\"modified\":");
    out.push_str(match facts.modified {
        Some(true) => "true",
        Some(false) => "false",
        None => "null",
    });
    out.push_str(",\"features\":[");
    for (i, f) in facts.features.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(&mut out, f);
    }
    // Only what `.dep-v0` cannot hold, for the packages it applies to: direct dependencies,
    // git origins and (opt-in) checksums, keyed by name and version.
    out.push_str("],\"packages\":[");
    let mut first = true;
    for p in &graph.packages {
        let checksum = p.checksum.as_deref().filter(|_| checksums);
        if !p.direct && p.git.is_none() && checksum.is_none() {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"name\":");
        json_str(&mut out, &p.name);
        out.push_str(",\"version\":");
        json_str(&mut out, &p.version);
        if p.direct {
            out.push_str(",\"direct\":true");
        }
        if let Some(c) = checksum {
            out.push_str(",\"checksum\":");
            json_str(&mut out, c);
        }
        if let Some(g) = &p.git {
            out.push_str(",\"git_url\":");
            json_str(&mut out, &g.url);
            out.push_str(",\"git_commit\":");
            json_str(&mut out, &g.commit);
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The run-side package table (see `packages.rs`).
pub(crate) fn package_table(graph: &Graph) -> String {
    let mut table = String::new();
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    for p in &graph.packages {
        let code = crate::__code(p.source, p.kind, p.direct, p.root);
        let _ = write!(table, "{}\t{}\t{code}", clean(&p.name), clean(&p.version));
        if let Some(g) = &p.git {
            let _ = write!(table, "\t{}\t{}", clean(&g.url), clean(&g.commit));
        }
        table.push('\n');
    }
    table
}

/// What goes into the generated file besides the facts.
pub(crate) struct Generated<'a> {
    pub facts: &'a Facts,
    pub graph: &'a Graph,
    /// Emit the `.dep-v0` static (false under `cargo auditable`).
    pub dep_v0: Option<usize>,
    pub bldinfo: usize,
    pub version: String,
    pub long_version: String,
}

/// The Rust source `build_info!()` includes.
pub(crate) fn rust_source(g: &Generated<'_>) -> String {
    let f = g.facts;
    let mut out = String::with_capacity(4096);
    out.push_str("// @generated by build-info's build side. Do not edit.\n\n");
    out.push_str("/// Everything known about how this program was built.\n");
    out.push_str("#[allow(clippy::all, clippy::pedantic)]\n");
    out.push_str("pub static BUILD_INFO: ::buildinfo::BuildInfo = ::buildinfo::BuildInfo::__from_parts(::buildinfo::__private::Parts {\n");
    match &f.program_override {
        Some(p) => {
            let _ = writeln!(out, "    program: {p:?},");
        }
        None => {
            let _ = writeln!(
                out,
                "    program: match ::core::option_env!(\"CARGO_BIN_NAME\") {{ ::core::option::Option::Some(n) => n, ::core::option::Option::None => {:?} }},",
                f.program
            );
        }
    }
    for (key, value) in f.string_fields() {
        if key != "program" {
            let _ = writeln!(out, "    {key}: {value:?},");
        }
    }
    let _ = writeln!(out, "    revision_label: {:?},", f.revision_label());
    let _ = writeln!(
        out,
        "    modified: ::core::option::Option::{:?},",
        f.modified
    );
    let _ = writeln!(out, "    features: {:?},", f.features.join(","));
    let table = package_table(g.graph);
    let _ = writeln!(
        out,
        "    packages: ::buildinfo::Packages::__from_table({table:?}),"
    );
    out.push_str("});\n\n");
    let _ = writeln!(
        out,
        "/// One line for clap's `version`.\npub const VERSION: &str = {:?};\n",
        g.version
    );
    let _ = writeln!(
        out,
        "/// The long form, dependencies included, for clap's `long_version`.\npub const LONG_VERSION: &str = {:?};\n",
        g.long_version
    );
    if let Some(len) = g.dep_v0 {
        section_static(
            &mut out,
            "__BUILD_INFO_DEP_V0",
            section::DEP_V0,
            "dep-v0.bin",
            len,
        );
    }
    section_static(
        &mut out,
        "__BUILD_INFO_BLDINFO",
        section::BUILD_INFO,
        "bldinfo.bin",
        g.bldinfo,
    );
    out
}

fn section_static(out: &mut String, name: &str, section: &str, file: &str, len: usize) {
    let macho = format!("{},{section}", section::MACHO_SEGMENT);
    let _ = writeln!(
        out,
        "#[used]\n\
         #[allow(unsafe_code)]\n\
         #[cfg_attr(target_vendor = \"apple\", unsafe(link_section = {macho:?}))]\n\
         #[cfg_attr(not(target_vendor = \"apple\"), unsafe(link_section = {section:?}))]\n\
         static {name}: [u8; {len}] = *::core::include_bytes!(::core::concat!(::core::env!(\"OUT_DIR\"), \"/{file}\"));\n"
    );
}
