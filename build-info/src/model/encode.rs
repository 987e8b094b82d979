//! The model written out by hand (the build side must stay free of serde): `.dep-v0`
//! (cargo-auditable's JSON), `.bldinfo` (ours) and the run-side package table. FORMAT.md
//! specifies all three.

use std::fmt::Write as _;

use super::facts::BuildFacts;
use super::graph::Graph;
use super::source::{DependencyKind, Source};
use crate::section;

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

/// Writes `items` separated by commas.
fn separated<T>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut String, T),
) {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
}

/// The one-character code of a package in the run-side table: `'@'` plus source index times
/// 8, plus 4 for build-only, 2 for direct, 1 for the root.
pub(crate) fn table_code(source: Source, kind: DependencyKind, direct: bool, root: bool) -> char {
    let s = Source::ALL.iter().position(|x| *x == source).unwrap_or(3);
    let v = u8::try_from(s).unwrap_or(3) * 8
        + if kind == DependencyKind::Build { 4 } else { 0 }
        + if direct { 2 } else { 0 }
        + u8::from(root);
    char::from(b'@' + v)
}

impl Graph {
    /// The uncompressed JSON of `.dep-v0`, byte for byte what auditable-serde's `VersionInfo`
    /// serializes: `{"packages":[{"name","version","source","kind"?,"dependencies"?,"root"?}],
    /// "format":1}`, `kind` only when `build`, `dependencies` only when non-empty, `root` only
    /// when true.
    pub fn to_dep_v0_json(&self) -> String {
        let mut out = String::with_capacity(64 * self.packages.len() + 32);
        out.push_str("{\"packages\":[");
        separated(&mut out, &self.packages, |out, p| {
            out.push_str("{\"name\":");
            json_str(out, &p.name);
            out.push_str(",\"version\":");
            json_str(out, &p.version);
            out.push_str(",\"source\":");
            json_str(out, p.source.as_str());
            if p.kind == DependencyKind::Build {
                out.push_str(",\"kind\":\"build\"");
            }
            if !p.dependencies.is_empty() {
                out.push_str(",\"dependencies\":[");
                separated(out, &p.dependencies, |out, d| {
                    let _ = write!(out, "{d}");
                });
                out.push(']');
            }
            if p.root {
                out.push_str(",\"root\":true");
            }
            out.push('}');
        });
        out.push_str("],\"format\":1}");
        out
    }

    /// The run-side table `BuildInfo::packages()` reads: one line per package,
    /// `name \t version \t code [\t git_url \t git_commit] \n` (FORMAT.md). Tabs and newlines
    /// inside values become spaces.
    ///
    /// ```
    /// use buildinfo::model::{Graph, Package};
    /// use buildinfo::{Packages, Source};
    ///
    /// let mut app = Package::new("app", "0.1.0", Source::Local);
    /// app.root = true;
    /// let graph = Graph { packages: vec![app] };
    /// let table: &'static str = Box::leak(graph.to_table().into_boxed_str());
    /// let packages = Packages::from_table(table);
    /// assert_eq!(packages.root().unwrap().name(), "app");
    /// ```
    pub fn to_table(&self) -> String {
        let mut table = String::new();
        let clean = |s: &str| s.replace(['\t', '\n'], " ");
        for p in &self.packages {
            let code = table_code(p.source, p.kind, p.direct, p.root);
            let _ = write!(table, "{}\t{}\t{code}", clean(&p.name), clean(&p.version));
            if let Some(g) = &p.git {
                let _ = write!(table, "\t{}\t{}", clean(&g.url), clean(&g.commit));
            }
            table.push('\n');
        }
        table
    }
}

impl BuildFacts {
    /// The uncompressed JSON of `.bldinfo` (see FORMAT.md): these facts and, for `graph`'s
    /// packages, only what `.dep-v0` cannot hold (direct, git origin, another registry's URL,
    /// and the checksum when `checksums` is on), keyed by name and version.
    pub fn to_bldinfo_json(&self, graph: &Graph, checksums: bool) -> String {
        let mut out = String::with_capacity(512 + 80 * graph.packages.len());
        let _ = write!(out, "{{\"format\":{}", section::BUILD_INFO_FORMAT);
        for (key, value) in self.string_fields() {
            let _ = write!(out, ",\"{key}\":");
            json_str(&mut out, value);
        }
        out.push_str(",\"modified\":");
        out.push_str(match self.modified {
            Some(true) => "true",
            Some(false) => "false",
            None => "null",
        });
        out.push_str(",\"features\":[");
        separated(&mut out, &self.features, |out, f| json_str(out, f));
        out.push(']');
        if let Some(scope) = self.graph {
            let _ = write!(out, ",\"graph\":\"{}\"", scope.as_str());
        }
        if !self.only_with_other_members.is_empty() {
            out.push_str(",\"only_with_other_members\":[");
            separated(&mut out, &self.only_with_other_members, |out, p| {
                json_str(out, p);
            });
            out.push(']');
        }
        out.push_str(",\"packages\":[");
        let extras = graph.packages.iter().filter_map(|p| {
            let checksum = p.checksum.as_deref().filter(|_| checksums);
            let registry_url = p
                .registry_url
                .as_ref()
                .filter(|_| p.source == Source::Registry);
            (p.direct || p.git.is_some() || checksum.is_some() || registry_url.is_some())
                .then_some((p, checksum, registry_url))
        });
        separated(&mut out, extras, |out, (p, checksum, registry_url)| {
            out.push_str("{\"name\":");
            json_str(out, &p.name);
            out.push_str(",\"version\":");
            json_str(out, &p.version);
            if p.direct {
                out.push_str(",\"direct\":true");
            }
            if let Some(c) = checksum {
                out.push_str(",\"checksum\":");
                json_str(out, c);
            }
            if let Some(g) = &p.git {
                out.push_str(",\"git_url\":");
                json_str(out, &g.url);
                out.push_str(",\"git_commit\":");
                json_str(out, &g.commit);
            }
            if let Some(url) = registry_url {
                out.push_str(",\"registry_url\":");
                json_str(out, url);
            }
            out.push('}');
        });
        out.push_str("]}");
        out
    }
}
