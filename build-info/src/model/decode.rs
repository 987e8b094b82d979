//! Reading `.dep-v0` and `.bldinfo` JSON back into the model (feature `read`). Every graph
//! that comes out has passed [`Graph::validate`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;

use super::facts::{BuildFacts, REVISION_SOURCE_MAX_LEN, is_revision_source};
use super::graph::{GitOrigin, Graph, Package};
use super::source::{DependencyKind, Source};
use super::validation::ValidationError;
use crate::section;

/// Why a section's JSON was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    section: &'static str,
    problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    Json(String),
    Package {
        index: usize,
        message: String,
    },
    Invalid(ValidationError),
    Format(u32),
    NeedsDepV0,
    /// A `revision_source` that is not a plain name; holds the value's first characters.
    RevisionSource(String),
}

impl DecodeError {
    fn new(section: &'static str, problem: Problem) -> Self {
        DecodeError { section, problem }
    }

    /// The section the JSON came from: [`section::DEP_V0`] or [`section::BUILD_INFO`].
    pub fn section(&self) -> &'static str {
        self.section
    }

    /// The rule the graph broke, when that is the problem.
    pub fn validation(&self) -> Option<&ValidationError> {
        match &self.problem {
            Problem::Invalid(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "section {}: ", self.section)?;
        match &self.problem {
            Problem::Json(e) => write!(f, "not the expected JSON format: {e}"),
            Problem::Package { index, message } => write!(f, "package {index}: {message}"),
            Problem::Invalid(v) => v.fmt(f),
            Problem::Format(n) => write!(
                f,
                "format {n} is not supported (this reader knows format {})",
                section::BUILD_INFO_FORMAT
            ),
            Problem::NeedsDepV0 => f.write_str(
                "package entries without `source` need a .dep-v0 section, and there is none",
            ),
            Problem::RevisionSource(start) => write!(
                f,
                "revision_source {start:?} is not a source name (1 to {REVISION_SOURCE_MAX_LEN} \
                 ASCII letters, digits, '_', '-' or '.')"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

#[derive(Deserialize)]
struct RawDepV0<'a> {
    #[serde(borrow)]
    packages: Vec<RawPackage<'a>>,
    // cargo-auditable reads an unknown format as the highest one it knows below it.
    #[serde(default)]
    #[allow(dead_code)]
    format: u32,
}

// `source` and `kind` are borrowed from the JSON when they hold no escapes: they are only
// compared, never kept.
#[derive(Deserialize)]
struct RawPackage<'a> {
    name: String,
    version: String,
    // Always present in `.dep-v0`; `.bldinfo` entries that only add to `.dep-v0` leave it out.
    #[serde(default, borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
    // `.bldinfo` only.
    #[serde(default)]
    direct: bool,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    git_url: Option<String>,
    #[serde(default)]
    git_commit: Option<String>,
    // Added within format 1: another registry's URL, for `registry` packages only.
    #[serde(default)]
    registry_url: Option<String>,
}

/// `.bldinfo`: its format, its package entries and, flattened beside them, the facts.
#[derive(Deserialize)]
struct RawBldinfo<'a> {
    format: u32,
    #[serde(default, borrow)]
    packages: Vec<RawPackage<'a>>,
    // Keys added after format 1 shipped (`revision_source`, `describe`, `graph`,
    // `only_with_other_members`) are missing from older sections: `BuildFacts`' defaults
    // (unknown, empty) fill them, as they fill every other missing key.
    #[serde(flatten)]
    facts: BuildFacts,
}

fn parse<'a, T: Deserialize<'a>>(json: &'a [u8], section: &'static str) -> Result<T, DecodeError> {
    serde_json::from_slice(json)
        .map_err(|e| DecodeError::new(section, Problem::Json(e.to_string())))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

/// Converts complete package entries (each with `source`) and validates the graph.
fn graph(raw: Vec<RawPackage<'_>>, section: &'static str) -> Result<Graph, DecodeError> {
    let mut packages = Vec::with_capacity(raw.len());
    for (index, p) in raw.into_iter().enumerate() {
        let bad = |message: String| DecodeError::new(section, Problem::Package { index, message });
        let kind = match p.kind.as_deref() {
            None | Some("runtime") => DependencyKind::Runtime,
            Some("build") => DependencyKind::Build,
            Some(other) => return Err(bad(format!("unknown kind {other:?}"))),
        };
        let source = match p.source.as_deref() {
            None => return Err(bad("missing field `source`".into())),
            Some(s) => Source::from_name(s).ok_or_else(|| bad(format!("unknown source {s:?}")))?,
        };
        let mut dependencies = p.dependencies;
        dependencies.sort_unstable();
        dependencies.dedup();
        let git = match (non_empty(p.git_url), non_empty(p.git_commit)) {
            (Some(url), Some(commit)) => Some(GitOrigin { url, commit }),
            _ => None,
        };
        packages.push(Package {
            name: p.name,
            version: p.version,
            source,
            git,
            registry_url: non_empty(p.registry_url).filter(|_| source == Source::Registry),
            checksum: non_empty(p.checksum),
            kind,
            direct: p.direct,
            root: p.root,
            dependencies,
        });
    }
    let graph = Graph { packages };
    graph
        .validate()
        .map_err(|v| DecodeError::new(section, Problem::Invalid(v)))?;
    Ok(graph)
}

/// Decodes `.dep-v0` JSON (cargo-auditable's format). The format has no `direct` flag: the
/// root's own dependencies are marked direct.
pub fn decode_dep_v0(json: &[u8]) -> Result<Graph, DecodeError> {
    let raw: RawDepV0<'_> = parse(json, section::DEP_V0)?;
    let mut graph = graph(raw.packages, section::DEP_V0)?;
    graph.mark_direct_from_root();
    Ok(graph)
}

/// Decodes `.bldinfo` JSON into its facts and the package graph.
///
/// `.bldinfo` as the build side writes it carries only what `.dep-v0` cannot hold (direct,
/// checksum, git origin, keyed by name and version): those entries are merged into
/// `dep_v0`, the graph decoded from the `.dep-v0` beside it. Entries with `source` form a
/// complete graph of their own and need no `.dep-v0`.
pub fn decode_bldinfo(
    json: &[u8],
    dep_v0: Option<Graph>,
) -> Result<(BuildFacts, Graph), DecodeError> {
    const SECTION: &str = section::BUILD_INFO;
    let raw: RawBldinfo<'_> = parse(json, SECTION)?;
    if raw.format == 0 || raw.format > section::BUILD_INFO_FORMAT {
        return Err(DecodeError::new(SECTION, Problem::Format(raw.format)));
    }
    if !is_revision_source(&raw.facts.revision_source) {
        // Enough to recognise the value, never a whole hostile string.
        let start: String = raw
            .facts
            .revision_source
            .chars()
            .take(REVISION_SOURCE_MAX_LEN)
            .collect();
        return Err(DecodeError::new(SECTION, Problem::RevisionSource(start)));
    }
    let complete = raw.packages.iter().all(|p| p.source.is_some());
    let graph = match dep_v0 {
        Some(base) if !complete || raw.packages.is_empty() => overlay(raw.packages, base)?,
        None if !complete => return Err(DecodeError::new(SECTION, Problem::NeedsDepV0)),
        _ => graph(raw.packages, SECTION)?,
    };
    let mut facts = raw.facts;
    facts.features.sort();
    Ok((facts, graph))
}

/// Merges `.bldinfo` entries without `source` into the `.dep-v0` graph.
fn overlay(extras: Vec<RawPackage<'_>>, mut base: Graph) -> Result<Graph, DecodeError> {
    for (index, extra) in extras.into_iter().enumerate() {
        let mut matched = false;
        for p in base
            .packages
            .iter_mut()
            .filter(|p| p.name == extra.name && p.version == extra.version)
        {
            matched = true;
            p.direct |= extra.direct;
            if let Some(c) = non_empty(extra.checksum.clone()) {
                p.checksum = Some(c);
            }
            if let (Some(url), Some(commit)) = (
                non_empty(extra.git_url.clone()),
                non_empty(extra.git_commit.clone()),
            ) {
                p.git = Some(GitOrigin { url, commit });
            }
            // A registry URL says where a `registry` package came from; on any other source
            // it would contradict `.dep-v0`, and is ignored.
            if p.source == Source::Registry
                && let Some(url) = non_empty(extra.registry_url.clone())
            {
                p.registry_url = Some(url);
            }
        }
        if !matched {
            return Err(DecodeError::new(
                section::BUILD_INFO,
                Problem::Package {
                    index,
                    message: format!("{} {} is not in .dep-v0", extra.name, extra.version),
                },
            ));
        }
    }
    Ok(base)
}

/// What a binary's sections say, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sections {
    /// The `.bldinfo` facts, when the binary has that section.
    pub facts: Option<BuildFacts>,
    /// The package graph.
    pub graph: Graph,
}

/// Decodes whichever of the two sections a binary has (`.bldinfo` entries merged into
/// `.dep-v0`, see [`decode_bldinfo`]); `None` when it has neither.
pub fn decode_sections(
    dep_v0: Option<&[u8]>,
    bldinfo: Option<&[u8]>,
) -> Result<Option<Sections>, DecodeError> {
    let graph = dep_v0.map(decode_dep_v0).transpose()?;
    Ok(match bldinfo {
        Some(json) => {
            let (facts, graph) = decode_bldinfo(json, graph)?;
            Some(Sections {
                facts: Some(facts),
                graph,
            })
        }
        None => graph.map(|graph| Sections { facts: None, graph }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GraphScope;

    /// Every key a `.bldinfo` leaves out takes `BuildFacts`' default; `program` and `version`
    /// are read although `Serialize` leaves them out; an unknown scope and a null `modified`
    /// read as not known; features come back sorted.
    #[test]
    fn missing_keys_take_the_defaults_and_present_ones_are_read() {
        let (facts, _) = decode_bldinfo(br#"{"format":1}"#, None).unwrap();
        assert_eq!(facts, BuildFacts::default());
        let json = br#"{"format":1,"program":"app","version":"0.3.0","modified":null,"graph":"sideways","features":["tls","default"],"tag":"v1"}"#;
        let (facts, _) = decode_bldinfo(json, None).unwrap();
        assert_eq!(
            facts,
            BuildFacts {
                program: "app".into(),
                version: "0.3.0".into(),
                tag: "v1".into(),
                features: vec!["default".into(), "tls".into()],
                ..BuildFacts::default()
            }
        );
        let json = br#"{"format":1,"graph":"upper-bound","modified":false}"#;
        let (facts, _) = decode_bldinfo(json, None).unwrap();
        assert_eq!(
            (facts.graph, facts.modified),
            (Some(GraphScope::UpperBound), Some(false))
        );
    }

    #[test]
    fn wrong_types_and_a_missing_format_are_refused() {
        for (json, start) in [
            (
                r#"{"format":1,"revision":5}"#,
                "invalid type: integer `5`, expected a string",
            ),
            (
                r#"{"format":1,"modified":"yes"}"#,
                "invalid type: string \"yes\", expected a boolean",
            ),
            (
                r#"{"format":1,"graph":7}"#,
                "invalid type: integer `7`, expected a string",
            ),
            (
                r#"{"format":1,"packages":5}"#,
                "invalid type: integer `5`, expected a sequence",
            ),
            (r#"{"revision":"abc"}"#, "missing field `format`"),
        ] {
            let err = decode_bldinfo(json.as_bytes(), None)
                .unwrap_err()
                .to_string();
            let want = format!("section .bldinfo: not the expected JSON format: {start}");
            assert!(err.starts_with(&want), "{json}: {err}");
        }
    }

    proptest::proptest! {
        /// Any `registry_url` a `.bldinfo` entry carries: no panic, and it reaches the graph on
        /// a `registry` package only (whatever the entry says, `.dep-v0` classifies).
        #[test]
        fn a_registry_url_lands_on_registry_packages_only(
            source in proptest::sample::select(vec!["crates.io", "registry", "git", "local"]),
            url in "\\PC{0,80}",
            complete in proptest::bool::ANY,
        ) {
            let dep_v0 = format!(
                r#"{{"packages":[{{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true}},{{"name":"x","version":"1.0.0","source":"{source}"}}],"format":1}}"#
            );
            let url_json = serde_json::to_string(&url).unwrap();
            let entries = if complete {
                format!(r#"[{{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true}},{{"name":"x","version":"1.0.0","source":"{source}","registry_url":{url_json}}}]"#)
            } else {
                format!(r#"[{{"name":"x","version":"1.0.0","registry_url":{url_json}}}]"#)
            };
            let bldinfo = format!(r#"{{"format":1,"packages":{entries}}}"#);
            let sections = decode_sections(Some(dep_v0.as_bytes()), Some(bldinfo.as_bytes()))
                .unwrap()
                .unwrap();
            let x = &sections.graph.packages[1];
            let want = (source == "registry" && !url.is_empty()).then_some(url.as_str());
            proptest::prop_assert_eq!(x.registry_url.as_deref(), want);
        }
    }
}
