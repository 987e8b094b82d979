//! The one model of what a binary carries: build facts, packages and their edges.
//!
//! The build side fills a [`BuildFacts`] and a [`Graph`] and writes them by hand
//! ([`Graph::to_dep_v0_json`], [`BuildFacts::to_bldinfo_json`], [`Graph::to_table`]), so it
//! needs no serde. Readers decode the sections back into the same types with the `read`
//! feature ([`decode_sections`]). [`Graph::validate`] holds the rules both sides obey, and
//! [`is_crate_name`] and [`same_crate_name`] the crate-name rule every reader of names shares.
//! FORMAT.md specifies the bytes.

mod crate_name;
#[cfg(feature = "read")]
mod decode;
mod encode;
mod facts;
mod graph;
mod source;
mod time_format;
mod validation;

pub use self::crate_name::{is_crate_name, normalize_crate_name, same_crate_name};
#[cfg(feature = "read")]
pub use self::decode::{DecodeError, Sections, decode_bldinfo, decode_dep_v0, decode_sections};
#[cfg(test)]
pub(crate) use self::encode::table_code;
pub use self::facts::{
    BuildFacts, GraphScope, REVISION_SOURCE_MAX_LEN, UNKNOWN, is_revision_source, revision_label,
};
pub use self::graph::{GitOrigin, Graph, Package};
pub use self::source::{DependencyKind, Source};
pub use self::time_format::{civil_from_days, rfc3339_utc};
pub use self::validation::ValidationError;

#[cfg(all(test, feature = "read"))]
mod tests {
    use super::*;

    /// A graph that uses every field: sources, kinds, direct flags, git, checksums, edges.
    fn sample() -> Graph {
        let mut packages = vec![
            Package {
                root: true,
                dependencies: vec![1, 2, 3],
                ..Package::new("app", "0.3.0", Source::Local)
            },
            Package {
                direct: true,
                checksum: Some("ab".repeat(32)),
                dependencies: vec![4],
                ..Package::new("itoa", "1.0.15", Source::CratesIo)
            },
            Package {
                direct: true,
                kind: DependencyKind::Build,
                registry_url: Some("sparse+https://example.invalid/index/".into()),
                ..Package::new("mac\"ro", "0.1.0-rc.1+meta", Source::Registry)
            },
            Package {
                direct: true,
                git: Some(GitOrigin {
                    url: "https://example.invalid/z.git".into(),
                    commit: "0123456789abcdef0123456789abcdef01234567".into(),
                }),
                ..Package::new("zoned", "0.2.0", Source::Git)
            },
            Package::new("zz\ttab", "2.0.0", Source::CratesIo),
        ];
        packages[4].checksum = Some("cd".repeat(32));
        Graph { packages }
    }

    fn facts() -> BuildFacts {
        BuildFacts {
            program: "app".into(),
            version: "0.3.0".into(),
            revision: "3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a".into(),
            revision_source: "GITHUB_SHA".into(),
            tag: "v0.3.0".into(),
            describe: "v0.3.0-2-g3f2c1a9e0b7d-modified".into(),
            modified: Some(true),
            features: vec!["default".into(), "tls".into()],
            graph: Some(GraphScope::UpperBound),
            only_with_other_members: vec!["itoa@1.0.15".into()],
            ..BuildFacts::default()
        }
    }

    #[test]
    fn the_model_round_trips_through_both_sections() {
        let graph = sample();
        graph.validate().unwrap();
        let dep_v0 = graph.to_dep_v0_json();
        let bldinfo = facts().to_bldinfo_json(&graph, true);
        let back = decode_sections(Some(dep_v0.as_bytes()), Some(bldinfo.as_bytes()))
            .unwrap()
            .unwrap();
        assert_eq!(back.graph, graph);
        assert_eq!(back.facts, Some(facts()));

        // Without checksums the rest still round-trips.
        let bldinfo = facts().to_bldinfo_json(&graph, false);
        let back = decode_sections(Some(dep_v0.as_bytes()), Some(bldinfo.as_bytes()))
            .unwrap()
            .unwrap();
        let mut expected = graph.clone();
        for p in &mut expected.packages {
            p.checksum = None;
        }
        assert_eq!(back.graph, expected);
    }

    #[test]
    fn dep_v0_alone_derives_direct_from_the_root() {
        let mut graph = sample();
        let back = decode_dep_v0(graph.to_dep_v0_json().as_bytes()).unwrap();
        for p in &mut graph.packages {
            p.checksum = None;
            p.git = None;
            p.registry_url = None;
        }
        assert_eq!(back, graph);
    }

    #[test]
    fn our_dep_v0_is_byte_for_byte_what_auditable_serde_writes() {
        for graph in [sample(), Graph::default()] {
            let ours = graph.to_dep_v0_json();
            let theirs: auditable_serde::VersionInfo = serde_json::from_str(&ours).unwrap();
            assert_eq!(serde_json::to_string(&theirs).unwrap(), ours);
            // And what auditable-serde reads is the same graph.
            assert_eq!(theirs.packages.len(), graph.packages.len());
            for (t, o) in theirs.packages.iter().zip(&graph.packages) {
                assert_eq!((t.name.as_str(), t.root), (o.name.as_str(), o.root));
                assert_eq!(t.dependencies, o.dependencies);
                assert_eq!(String::from(t.source.clone()), o.source.as_str());
            }
        }
    }

    /// The top-level keys of a JSON object, in the order they are written.
    fn top_level_keys(json: &str) -> Vec<String> {
        let (mut keys, mut depth, mut string, mut escaped) = (Vec::new(), 0, None, false);
        for (i, c) in json.char_indices() {
            match (string, c) {
                (Some(_), _) if escaped => escaped = false,
                (Some(_), '\\') => escaped = true,
                (Some(start), '"') => {
                    string = None;
                    if depth == 1 && json[i + 1..].starts_with(':') {
                        keys.push(json[start..i].to_owned());
                    }
                }
                (None, '"') => string = Some(i + 1),
                (None, '{' | '[') => depth += 1,
                (None, '}' | ']') => depth -= 1,
                _ => {}
            }
        }
        keys
    }

    #[test]
    fn format_md_lists_the_bldinfo_keys_in_the_order_they_are_written() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../FORMAT.md");
        let format = std::fs::read_to_string(path).unwrap();
        let section = format
            .split("\n## ")
            .find(|s| s.starts_with("`.bldinfo`"))
            .expect("FORMAT.md has a .bldinfo section");
        let table: Vec<String> = section
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`'))
            .map(|(key, _)| key.to_owned())
            .collect();
        // Every key the writer can emit: a scope with the packages only other members add.
        let written = top_level_keys(&facts().to_bldinfo_json(&sample(), true));
        assert_eq!(written, table);
        // The example shows them in that order too (an `exact` graph names no other members).
        let example = section
            .split("```json\n")
            .nth(1)
            .and_then(|s| s.split("\n```").next())
            .expect("FORMAT.md's .bldinfo section has an example");
        let shown = top_level_keys(example);
        let without: Vec<&String> = table
            .iter()
            .filter(|k| *k != "only_with_other_members")
            .collect();
        assert_eq!(shown.iter().collect::<Vec<_>>(), without);
    }

    #[test]
    fn old_bldinfo_without_describe_reads_as_unknown() {
        let json = br#"{"format":1,"program":"a","version":"1.0.0","revision":"abc"}"#;
        let (facts, graph) = decode_bldinfo(json, None).unwrap();
        assert_eq!(facts.describe, "unknown");
        assert_eq!(facts.revision, "abc");
        assert_eq!(facts.revision_source, "unknown");
        assert_eq!(facts.graph, None);
        assert!(facts.only_with_other_members.is_empty());
        assert!(graph.packages.is_empty());
    }

    #[test]
    fn decoding_rejects_graphs_that_break_the_rules() {
        for (json, want) in [
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true,"dependencies":[0]}]}"#,
                "section .dep-v0: package 0: depends on itself",
            ),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true,"dependencies":[1]},{"name":"b","version":"1.0.0","source":"local","dependencies":[0]}]}"#,
                "section .dep-v0: package 0: is on a dependency cycle",
            ),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local"}]}"#,
                "section .dep-v0: no package is marked as the root",
            ),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"svn","root":true}]}"#,
                "section .dep-v0: package 0: unknown source \"svn\"",
            ),
            (
                r#"{"packages":[{"name":"a","version":"1.0.0","source":"local","root":true,"kind":"dev"}]}"#,
                "section .dep-v0: package 0: unknown kind \"dev\"",
            ),
        ] {
            let err = decode_dep_v0(json.as_bytes()).unwrap_err();
            assert_eq!(err.to_string(), want);
            assert_eq!(err.section(), ".dep-v0");
        }
        // `revision_source` is a name, bounded: free text, control characters and long values
        // are refused, and the message shows at most the first 64 characters, escaped.
        let long = format!("\"{}\"", "A".repeat(70));
        let long_shown = format!("\"{}\"", "A".repeat(64));
        for (source, shown) in [
            (r#""""#, r#""""#),
            (r#""from git""#, r#""from git""#),
            (r#""git\u001b[2J""#, r#""git\u{1b}[2J""#),
            (long.as_str(), long_shown.as_str()),
        ] {
            let json = format!(r#"{{"format":1,"revision":"abc","revision_source":{source}}}"#);
            let err = decode_bldinfo(json.as_bytes(), None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "section .bldinfo: revision_source {shown} is not a source name (1 to 64 \
                     ASCII letters, digits, '_', '-' or '.')"
                )
            );
        }
        let json = br#"{"format":1,"revision":"abc","revision_source":"BUILD_INFO_REVISION"}"#;
        let (facts, _) = decode_bldinfo(json, None).unwrap();
        assert_eq!(facts.revision_source, "BUILD_INFO_REVISION");
        let err = decode_bldinfo(br#"{"format":2}"#, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "section .bldinfo: format 2 is not supported (this reader knows format 1)"
        );
        assert!(err.validation().is_none());
    }
}
