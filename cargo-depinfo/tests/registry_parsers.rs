//! Property tests of what `outdated` reads from disk: cargo's index cache files and cargo's
//! configuration. Each case asserts no panic, a peak of live heap memory linear in the input
//! (a counting allocator, per thread), and the right classification: the releases that went
//! in, the error that fits, or the registry a model of cargo's source replacement picks.
//!
//! Run with `--features test-util` (the cache parser is public only then).
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cargo_depinfo::network_parsers::parse_cache_file;
use cargo_depinfo::{CacheFileError, CargoConfig, ConfigError, ConfigFile, IndexLocation};
use proptest::prelude::*;
use testkit::mutation::Mutation;

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

use testkit::peak_during;

/// The memory a parse may use: linear in its input.
fn bounded(input: usize) -> usize {
    (64 << 10) + 64 * input
}

/// A cache file in cargo's format (version 3, index schema 2) for these records.
fn cache_file(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![3];
    out.extend(2u32.to_le_bytes());
    out.extend(b"etag: W/\"1234\"\0");
    for (version, json) in records {
        out.extend(version.as_bytes());
        out.push(0);
        out.extend(json);
        out.push(0);
    }
    out
}

/// The fixture index files made cache files, as cargo would write them.
fn fixture_cache_files() -> Vec<Vec<u8>> {
    [
        include_str!("index/3/s/syn"),
        include_str!("index/ra/nd/rand"),
        include_str!("index/se/rd/serde"),
    ]
    .iter()
    .map(|file| {
        let records: Vec<(String, Vec<u8>)> = file
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    v["vers"].as_str().unwrap().to_owned(),
                    line.as_bytes().to_vec(),
                )
            })
            .collect();
        cache_file(&records)
    })
    .collect()
}

/// What cache files are made of: a version byte, the header, a field name.
const TOKENS: &[&[u8]] = &[&[0], &[3, 2, 0, 0, 0], b"\"yanked\":true"];

fn mutation() -> impl Strategy<Value = Mutation> {
    testkit::mutation::mutation(TOKENS.len())
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    testkit::mutation::mutate(seed, mutations, TOKENS)
}

fn gen_version() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..1000, 0u64..1000, 0u64..1000).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        (0u64..10, 0u64..10, 0u64..10, "[a-z]{1,5}(\\.[0-9]{1,3})?")
            .prop_map(|(a, b, c, p)| format!("{a}.{b}.{c}-{p}")),
        Just("1.0".to_owned()),
        Just(String::new()),
        "[^\u{0}]{0,12}",
    ]
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1500))]

    /// Mutated cache files of the fixture index: releases, or an error that fits the bytes.
    #[test]
    fn mutated_cache_files_parse_or_say_why(
        seed in 0..3usize,
        mutations in proptest::collection::vec(mutation(), 0..8),
    ) {
        let data = mutate(&fixture_cache_files()[seed], &mutations);
        let (result, peak) = peak_during(|| parse_cache_file(&data));
        prop_assert!(peak <= bounded(data.len()), "{peak} bytes for {}", data.len());
        match result {
            Ok(releases) => prop_assert!(releases.len() <= data.split(|b| *b == 0).count()),
            Err(CacheFileError::Truncated(n)) => prop_assert!(n < 5 && n == data.len()),
            Err(CacheFileError::CacheVersion(v)) => prop_assert_eq!(Some(&v), data.first()),
            Err(CacheFileError::SchemaVersion(v)) => {
                prop_assert_eq!(&v.to_le_bytes()[..], &data[1..5]);
                prop_assert_ne!(v, 2);
            }
            Err(e @ (CacheFileError::MissingRecord(_) | CacheFileError::Record { .. })) => {
                prop_assert!(!e.to_string().contains('\n'), "{e}");
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    /// Arbitrary bytes: never a panic, bounded memory.
    #[test]
    fn any_bytes_are_a_cache_file_or_an_error(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let (_, peak) = peak_during(|| parse_cache_file(&data));
        prop_assert!(peak <= bounded(data.len()));
    }
}

proptest! {
    #![proptest_config(testkit::proptest_cases(300))]

    /// Generated records: exactly the SemVer versions, each with its record's yanked flag; an
    /// error only when no record is usable.
    #[test]
    fn generated_cache_files_keep_exactly_the_semver_versions(
        records in proptest::collection::vec((gen_version(), any::<bool>()), 0..30),
    ) {
        let file = cache_file(
            &records
                .iter()
                .map(|(v, yanked)| {
                    let line = serde_json::json!({"name": "x", "vers": v, "deps": [], "cksum": "00", "features": {}, "yanked": yanked});
                    (v.clone(), line.to_string().into_bytes())
                })
                .collect::<Vec<_>>(),
        );
        let want: Vec<(semver::Version, bool)> = records
            .iter()
            .filter_map(|(v, y)| semver::Version::parse(v).ok().map(|v| (v, *y)))
            .collect();
        match parse_cache_file(&file) {
            Ok(releases) => {
                let got: Vec<(semver::Version, bool)> =
                    releases.into_iter().map(|r| (r.version, r.yanked)).collect();
                prop_assert_eq!(got, want);
            }
            Err(CacheFileError::Record { record, .. }) => {
                prop_assert!(want.is_empty() && !records.is_empty());
                prop_assert!(semver::Version::parse(&records[record - 1].0).is_err());
            }
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }
}

// ---- cargo's configuration -----------------------------------------------------------------

const NAMES: [&str; 4] = ["crates-io", "a", "b", "my-reg"];

/// What one source of the generated configuration is.
#[derive(Debug, Clone)]
enum Kind {
    Nothing,
    Sparse,
    Git,
    Local,
    Directory,
    RegistriesIndex,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Nothing),
        Just(Kind::Sparse),
        Just(Kind::Git),
        Just(Kind::Local),
        Just(Kind::Directory),
        Just(Kind::RegistriesIndex),
    ]
}

/// What the model expects `select` to give.
#[derive(Debug, PartialEq)]
enum Expected {
    Sparse(String),
    Local(PathBuf),
    Git,
    Directory,
    Cycle,
    Unknown,
    UnknownRegistry,
}

/// The configuration text for each source: an optional replacement and a kind.
fn config_text(sources: &[(Option<usize>, Kind)]) -> String {
    let mut text = String::new();
    for (i, (replace, kind)) in sources.iter().enumerate() {
        let name = NAMES[i];
        let mut keys = Vec::new();
        if let Some(r) = replace {
            keys.push(format!("replace-with = \"{}\"", NAMES[*r]));
        }
        match kind {
            Kind::Sparse => keys.push(format!("registry = \"sparse+http://{name}.test/\"")),
            Kind::Git => keys.push(format!("registry = \"https://{name}.test/git\"")),
            Kind::Local => keys.push(format!("local-registry = \"reg/{name}\"")),
            Kind::Directory => keys.push(format!("directory = \"vendor/{name}\"")),
            Kind::Nothing | Kind::RegistriesIndex => {}
        }
        if !keys.is_empty() {
            let _ = writeln!(text, "[source.{name}]\n{}", keys.join("\n"));
        }
        if let Kind::RegistriesIndex = kind {
            let _ = writeln!(
                text,
                "[registries.{name}]\nindex = \"sparse+https://{name}.idx/\""
            );
        }
    }
    text
}

/// Cargo's rules, as the README states them, on the generated sources.
fn model(sources: &[(Option<usize>, Kind)], start: usize) -> Expected {
    if start != 0 && !matches!(sources[start].1, Kind::RegistriesIndex) {
        return Expected::UnknownRegistry;
    }
    let mut seen = vec![start];
    let mut at = start;
    while let Some(next) = sources[at].0 {
        if seen.contains(&next) {
            return Expected::Cycle;
        }
        seen.push(next);
        at = next;
    }
    let name = NAMES[at];
    match sources[at].1 {
        Kind::Sparse => Expected::Sparse(format!("sparse+http://{name}.test/")),
        Kind::Git => Expected::Git,
        Kind::Local => Expected::Local(Path::new("/p").join(format!("reg/{name}"))),
        Kind::Directory => Expected::Directory,
        Kind::RegistriesIndex => Expected::Sparse(format!("sparse+https://{name}.idx/")),
        Kind::Nothing if at == 0 => Expected::Sparse(cargo_depinfo::CRATES_IO_INDEX.into()),
        Kind::Nothing => Expected::Unknown,
    }
}

proptest! {
    #![proptest_config(testkit::proptest_cases(1000))]

    /// Generated replacement chains: the registry or the error a model of cargo's rules picks.
    #[test]
    fn replacement_chains_end_where_cargo_would(
        sources in proptest::collection::vec((proptest::option::of(0..NAMES.len()), kind()), NAMES.len()),
        start in 0..NAMES.len(),
    ) {
        let text = config_text(&sources);
        let file = ConfigFile::parse(Path::new("/p/.cargo/config.toml"), &text).unwrap();
        let config = CargoConfig::from_parts(vec![file], BTreeMap::new(), Path::new("/p"));
        let registry = (start != 0).then_some(NAMES[start]);
        let got = match config.select(registry) {
            Ok(s) => match s.index {
                IndexLocation::Sparse(url) => Expected::Sparse(url),
                IndexLocation::LocalRegistry(path) => Expected::Local(path),
                other => panic!("unexpected {other:?}"),
            },
            Err(ConfigError::GitIndex { .. }) => Expected::Git,
            Err(ConfigError::Directory { .. }) => Expected::Directory,
            Err(ConfigError::Cycle(_)) => Expected::Cycle,
            Err(ConfigError::UnknownSource(_) | ConfigError::NoIndex(_)) => Expected::Unknown,
            Err(ConfigError::UnknownRegistry(_)) => Expected::UnknownRegistry,
            Err(e) => panic!("unexpected {e}"),
        };
        prop_assert_eq!(got, model(&sources, start), "{}", text);
    }

    /// Any text as a configuration file: parsed, or one line naming the file; selecting from
    /// what parsed never panics and stays within bounded memory.
    #[test]
    fn any_config_text_parses_or_names_the_file(
        text in prop_oneof![
            "(\\[source\\.[a-z-]{1,8}\\]\n|replace-with = \"[a-z-]{0,8}\"\n|registry = \"[ -~]{0,20}\"\n|local-registry = [0-9\"]{1,4}\n|[ -~]{0,12}\n){0,12}",
            "\\PC{0,200}",
        ],
    ) {
        let (parsed, peak) = peak_during(|| ConfigFile::parse(Path::new("/p/.cargo/config.toml"), &text));
        prop_assert!(peak <= bounded(text.len()) * 8, "{peak} bytes for {}", text.len());
        match parsed {
            Ok(file) => {
                let config = CargoConfig::from_parts(vec![file], BTreeMap::new(), Path::new("/p"));
                if let Err(e) = config.select(None) {
                    prop_assert!(!e.to_string().contains('\n'), "{e}");
                }
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("/p/.cargo/config.toml: not TOML: "), "{message}");
                prop_assert!(!message.chars().any(char::is_control), "{message}");
            }
        }
    }
}
