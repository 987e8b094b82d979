//! One advisory file in RustSec's format: a ```` ```toml ```` fenced front matter block (the
//! `[advisory]`, `[affected]` and `[versions]` tables) followed by Markdown whose first line is
//! the `# ` title. What RustSec's reader refuses, this one refuses too; the fields it does not
//! use (`references`, `related`, `license`, ...) are accepted and dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cvss::{self, CvssError, Severity};
use super::versions::{RangeError, SafeRange, is_affected, safe_ranges};

/// One RustSec advisory: what it says and which versions it affects.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Advisory {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// The crate it is about.
    pub package: String,
    /// The disclosure date (`YYYY-MM-DD`).
    pub date: String,
    /// The title: the Markdown's first heading.
    pub title: String,
    /// Other identifiers (CVE, GHSA).
    pub aliases: Vec<String>,
    /// The CVSS vector, when the advisory has one.
    pub cvss: Option<String>,
    /// The CVSS base score in tenths (`98` for 9.8), when the advisory has a vector.
    #[serde(skip)]
    pub score: Option<u8>,
    /// `unmaintained`, `unsound`, `notice` (or another word) for an informational advisory;
    /// `None` for a vulnerability.
    pub informational: Option<String>,
    /// The date it was withdrawn, if it was.
    pub withdrawn: Option<String>,
    /// RustSec's categories (`memory-corruption`, `denial-of-service`, ...).
    pub categories: Vec<String>,
    /// Free keywords.
    pub keywords: Vec<String>,
    /// The long-form description's address, when given.
    pub url: Option<String>,
    /// The versions with the fix, as written (`>= 1.2.3`).
    pub patched: Vec<String>,
    /// The versions never affected, as written.
    pub unaffected: Vec<String>,
    /// The operating systems it is limited to (all when empty), as Rust's `target_os` names.
    pub os: Vec<String>,
    /// The CPU architectures it is limited to (all when empty), as `target_arch` names.
    pub arch: Vec<String>,
    /// The affected functions (`crate::path::fn`) and the versions each applies to.
    pub functions: BTreeMap<String, Vec<String>>,
    /// The registry it is about when not crates.io (its `source`).
    pub source: Option<String>,
    #[serde(skip)]
    ranges: Vec<SafeRange>,
}

#[derive(Deserialize)]
struct RawFile {
    advisory: RawAdvisory,
    #[serde(default)]
    affected: RawAffected,
    versions: RawVersions,
}

#[derive(Deserialize)]
struct RawAdvisory {
    id: String,
    package: String,
    date: String,
    title: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    cvss: Option<String>,
    informational: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    url: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawAffected {
    #[serde(default)]
    os: Vec<String>,
    #[serde(default)]
    arch: Vec<String>,
    #[serde(default)]
    functions: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct RawVersions {
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Why an advisory file was refused, in one line; the caller names the file. Quoted values are
/// escaped and cut to 40 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The file does not begin with "```toml".
    #[error("does not start with a ```toml front matter block")]
    NoFrontMatter,
    /// No closing fence after the front matter.
    #[error("no end to the ```toml front matter block")]
    UnclosedFrontMatter,
    /// The front matter is not TOML in RustSec's layout, at this line of the file.
    #[error("line {line}: {message}")]
    FrontMatterAt {
        /// The line of the file (1 is the opening fence's).
        line: usize,
        /// The first line of toml's message.
        message: String,
    },
    /// The front matter is not TOML in RustSec's layout, at no particular place.
    #[error("front matter: {message}")]
    FrontMatter {
        /// The first line of toml's message.
        message: String,
    },
    /// No `title` field and no `# ` heading after the front matter.
    #[error("no `# ` title after the front matter")]
    NoTitle,
    /// The id is not `RUSTSEC-...` in printable characters.
    #[error("id {} is not RUSTSEC-YYYY-NNNN", depinfo_read::text_safety::quoted(&short(.0)))]
    Id(String),
    /// The package is not a crate name.
    #[error("package {} is not a crate name", depinfo_read::text_safety::quoted(&short(.0)))]
    Package(String),
    /// A field is longer than 4096 bytes (`MAX_FIELD`).
    #[error("a field is longer than {MAX_FIELD} bytes")]
    FieldTooLong,
    /// The CVSS vector has no score.
    #[error(transparent)]
    Cvss(#[from] CvssError),
    /// The `patched` or `unaffected` ranges are refused.
    #[error(transparent)]
    Versions(#[from] RangeError),
}

/// The longest field value an advisory may hold, in bytes: a title or a vector of a megabyte is
/// not an advisory.
const MAX_FIELD: usize = 4096;

impl Advisory {
    /// Parses one advisory file's text; the error says what is wrong (the caller names the
    /// file).
    pub fn parse(text: &str) -> Result<Advisory, ParseError> {
        let rest = text
            .strip_prefix("```toml")
            .ok_or(ParseError::NoFrontMatter)?;
        let end = rest.find("\n```").ok_or(ParseError::UnclosedFrontMatter)?;
        let front = &rest[..end];
        let markdown = rest[end + 4..].trim_start();
        let raw: RawFile = toml::from_str(front).map_err(|e| {
            // toml's messages span several lines (a snippet of the input): keep the first.
            let message = e.message().lines().next().unwrap_or("").to_owned();
            match e.span() {
                Some(span) => {
                    // `front` starts right after "```toml", on the file's first line.
                    let line = front[..span.start.min(front.len())].matches('\n').count() + 1;
                    ParseError::FrontMatterAt { line, message }
                }
                None => ParseError::FrontMatter { message },
            }
        })?;
        let a = raw.advisory;
        let title = match a.title {
            Some(title) => title,
            None => {
                let heading = markdown.strip_prefix("# ").ok_or(ParseError::NoTitle)?;
                heading.lines().next().unwrap_or("").trim_end().to_owned()
            }
        };
        if !a.id.starts_with("RUSTSEC-") || !is_printable(&a.id) {
            return Err(ParseError::Id(a.id));
        }
        if !buildinfo::model::is_crate_name(&a.package) {
            return Err(ParseError::Package(a.package));
        }
        let all_fields = [&a.id, &a.package, &a.date, &title]
            .into_iter()
            .chain(&a.aliases)
            .chain(&a.categories)
            .chain(&a.keywords)
            .chain(a.cvss.iter())
            .chain(a.informational.iter())
            .chain(a.withdrawn.iter())
            .chain(a.url.iter())
            .chain(&raw.versions.patched)
            .chain(&raw.versions.unaffected)
            .chain(&raw.affected.os)
            .chain(&raw.affected.arch);
        for field in all_fields {
            if field.len() > MAX_FIELD {
                return Err(ParseError::FieldTooLong);
            }
        }
        let score = match &a.cvss {
            Some(vector) => Some(cvss::base_score(vector)?),
            None => None,
        };
        let ranges = safe_ranges(&raw.versions.patched, &raw.versions.unaffected)?;
        Ok(Advisory {
            id: a.id,
            package: a.package,
            date: a.date,
            title,
            aliases: a.aliases,
            cvss: a.cvss,
            score,
            informational: a.informational,
            withdrawn: a.withdrawn,
            categories: a.categories,
            keywords: a.keywords,
            url: a.url,
            patched: raw.versions.patched,
            unaffected: raw.versions.unaffected,
            os: raw.affected.os,
            arch: raw.affected.arch,
            functions: raw.affected.functions,
            source: a.source,
            ranges,
        })
    }

    /// Whether `version` is affected (RustSec's rule: in none of the `patched` and
    /// `unaffected` ranges, by SemVer precedence).
    pub fn affects(&self, version: &semver::Version) -> bool {
        is_affected(&self.ranges, version)
    }

    /// The functions it names that are affected in `version`: those with a requirement in
    /// their version list that `version` meets. A function without a list, or with a
    /// requirement that cannot be read, counts: none is dropped for want of data.
    pub fn functions_in(&self, version: &semver::Version) -> Vec<&str> {
        self.functions
            .iter()
            .filter(|(_, requirements)| {
                requirements.is_empty()
                    || requirements
                        .iter()
                        .any(|r| SafeRange::parse(r).map_or(true, |range| range.contains(version)))
            })
            .map(|(f, _)| f.as_str())
            .collect()
    }

    /// The severity of its CVSS score, when it has one.
    pub fn severity(&self) -> Option<Severity> {
        self.score.map(Severity::of_tenths)
    }

    /// `vulnerability`, or the informational kind (`unmaintained`, `unsound`, `notice`).
    pub fn kind(&self) -> &str {
        self.informational.as_deref().unwrap_or("vulnerability")
    }

    /// Whether it applies to a program built for `os` and `arch` (`None`: unknown, and then it
    /// applies, as cargo-audit does without a target).
    pub fn applies_to(&self, os: Option<&str>, arch: Option<&str>) -> bool {
        let fits = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_none_or(|v| list.iter().any(|l| l == v))
        };
        fits(&self.os, os) && fits(&self.arch, arch)
    }

    /// Whether a binary in `format` can run on one of the operating systems it is limited to
    /// (all when the list is empty): a PE file on Windows, a Mach-O file on Apple's systems,
    /// an ELF file on any other. It decides where the binary's target is not known, as
    /// cargo-audit does for `cargo audit bin` since rustsec#812: a Windows-only advisory is not
    /// about an ELF program.
    ///
    /// A Wasm file runs on the `target_os` of Rust's Wasm targets: `unknown`
    /// (`wasm32-unknown-unknown`), `none` (`wasm32v1-none`), `wasi` (`wasm32-wasip1`,
    /// `wasm32-wasip2`) and `emscripten`. cargo-audit 0.22 admits only `unknown` and `none`
    /// for Wasm, so a WASI-only advisory is reported here and not by `cargo audit bin`: it is
    /// about exactly the programs Wasm files are.
    pub fn runs_on_format(&self, format: depinfo_read::binary_reader::BinaryFormat) -> bool {
        const APPLE: [&str; 5] = ["ios", "macos", "tvos", "visionos", "watchos"];
        const WASM: [&str; 4] = ["emscripten", "none", "unknown", "wasi"];
        self.os.is_empty()
            || self.os.iter().any(|os| match format {
                depinfo_read::binary_reader::BinaryFormat::Pe => os == "windows",
                depinfo_read::binary_reader::BinaryFormat::MachO => APPLE.contains(&os.as_str()),
                depinfo_read::binary_reader::BinaryFormat::Elf => {
                    os != "windows" && !APPLE.contains(&os.as_str())
                }
                depinfo_read::binary_reader::BinaryFormat::Wasm => WASM.contains(&os.as_str()),
                // A format this rule does not know yet: it cannot rule the advisory out.
                _ => true,
            })
    }
}

/// No control characters.
fn is_printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// The first 40 characters of `s`, for a message.
fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    const EXAMPLE: &str = r#"```toml
[advisory]
id = "RUSTSEC-2020-0001"
package = "crate-name"
date = "2020-01-31"
url = "https://example.com"
categories = ["code-execution", "privilege-escalation"]
cvss = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
keywords = ["example", "freeform", "keywords"]
aliases = ["CVE-2020-0001"]
license = "CC0-1.0"

[affected]
arch = ["x86"]
os = ["windows"]

[affected.functions]
"crate_name::MyStruct::vulnerable_fn" = [">= 1.3.0, < 1.3.4"]

[versions]
patched = [">= 1.2.3, < 1.3.0", ">= 1.3.4"]
unaffected = ["<= 0.1.2"]
```

# Advisory Title Goes Here

Text.
"#;

    #[test]
    fn the_readme_example_parses() {
        let a = Advisory::parse(EXAMPLE).unwrap();
        assert_eq!(a.id, "RUSTSEC-2020-0001");
        assert_eq!(a.package, "crate-name");
        assert_eq!(a.title, "Advisory Title Goes Here");
        assert_eq!(a.score, Some(100));
        assert_eq!(a.severity(), Some(Severity::Critical));
        assert_eq!(a.kind(), "vulnerability");
        assert_eq!(a.os, ["windows"]);
        assert_eq!(a.functions.len(), 1);
        assert!(a.affects(&semver::Version::new(1, 3, 0)));
        assert!(!a.affects(&semver::Version::new(1, 3, 4)));
        assert!(a.applies_to(Some("windows"), None));
        assert!(a.applies_to(None, None));
        assert!(!a.applies_to(Some("linux"), Some("x86")));
        assert!(!a.applies_to(Some("windows"), Some("x86_64")));
        assert!(a.runs_on_format(depinfo_read::binary_reader::BinaryFormat::Pe));
        assert!(!a.runs_on_format(depinfo_read::binary_reader::BinaryFormat::Elf));
        assert!(!a.runs_on_format(depinfo_read::binary_reader::BinaryFormat::MachO));
    }

    #[test]
    fn the_binary_format_tells_which_systems_can_run_it() {
        let with_os =
            |os: &str| Advisory::parse(&EXAMPLE.replace("os = [\"windows\"]", os)).unwrap();
        let elf = depinfo_read::binary_reader::BinaryFormat::Elf;
        let macho = depinfo_read::binary_reader::BinaryFormat::MachO;
        let pe = depinfo_read::binary_reader::BinaryFormat::Pe;
        let any = with_os("os = []");
        assert!(any.runs_on_format(elf) && any.runs_on_format(macho) && any.runs_on_format(pe));
        let apple = with_os("os = [\"macos\", \"ios\"]");
        assert!(
            apple.runs_on_format(macho) && !apple.runs_on_format(elf) && !apple.runs_on_format(pe)
        );
        let unix = with_os("os = [\"freebsd\"]");
        assert!(
            unix.runs_on_format(elf) && !unix.runs_on_format(macho) && !unix.runs_on_format(pe)
        );
        let mixed = with_os("os = [\"windows\", \"linux\"]");
        assert!(
            mixed.runs_on_format(elf) && mixed.runs_on_format(pe) && !mixed.runs_on_format(macho)
        );
        // A Wasm file runs on no operating system of a native format, and on the `target_os`
        // of Rust's Wasm targets.
        let wasm = depinfo_read::binary_reader::BinaryFormat::Wasm;
        assert!(any.runs_on_format(wasm));
        for native in [&apple, &unix, &mixed] {
            assert!(!native.runs_on_format(wasm));
        }
        for os in ["unknown", "none", "wasi", "emscripten"] {
            assert!(
                with_os(&format!("os = [\"{os}\"]")).runs_on_format(wasm),
                "{os}"
            );
        }
    }

    #[test]
    fn broken_files_say_what_is_wrong_in_one_line() {
        let whole = [
            ("# Title\n", "does not start with a ```toml"),
            ("```toml\n[advisory]\n", "no end to the ```toml"),
            (
                "```toml\n[advisory]\nid = \"RUSTSEC-1\"\n```\n# T\n",
                "line 2: missing field `package`",
            ),
        ];
        // The example with `from` replaced by `to`.
        let edits = [
            ("# Advisory Title", "Advisory Title", "no `# ` title"),
            ("<= 0.1.2", ">= 0.1.2", "overlapping version ranges"),
            ("S:C/", "", "missing or invalid CVSS metric S"),
            ("\"crate-name\"", "\"a b\"", "not a crate name"),
            (
                "RUSTSEC-2020-0001",
                "GHSA-2020-0001",
                "is not RUSTSEC-YYYY-NNNN",
            ),
            (
                "RUSTSEC-2020-0001",
                "RUSTSEC-2020-\\u001b[2J",
                "is not RUSTSEC-YYYY-NNNN",
            ),
        ];
        let cases = whole
            .map(|(text, want)| (text.to_owned(), want))
            .into_iter()
            .chain(edits.map(|(from, to, want)| (EXAMPLE.replace(from, to), want)));
        for (text, want) in cases {
            let e = Advisory::parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} lacks {want:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }

    /// Callers can tell the failures apart without reading the message.
    #[test]
    fn failures_are_variants() {
        let e = |text: &str| Advisory::parse(text).unwrap_err();
        assert_eq!(e("# Title\n"), ParseError::NoFrontMatter);
        assert_eq!(e("```toml\n[advisory]\n"), ParseError::UnclosedFrontMatter);
        assert!(matches!(
            e("```toml\n[advisory]\nid = \"RUSTSEC-1\"\n```\n# T\n"),
            ParseError::FrontMatterAt { line: 2, .. }
        ));
        assert_eq!(
            e(&EXAMPLE.replace("# Advisory Title", "Advisory Title")),
            ParseError::NoTitle
        );
        assert_eq!(
            e(&EXAMPLE.replace("RUSTSEC-2020-0001", "GHSA-1")),
            ParseError::Id("GHSA-1".into())
        );
        assert_eq!(
            e(&EXAMPLE.replace("\"crate-name\"", "\"a b\"")),
            ParseError::Package("a b".into())
        );
        assert_eq!(
            e(&EXAMPLE.replace("<= 0.1.2", ">= 0.1.2")),
            ParseError::Versions(RangeError::Overlapping)
        );
        assert!(matches!(
            e(&EXAMPLE.replace("S:C/", "")),
            ParseError::Cvss(CvssError::Invalid { metric: "S", .. })
        ));
        assert!(matches!(
            e(&EXAMPLE.replace("CVSS:3.1", "CVSS:2.0")),
            ParseError::Cvss(CvssError::Unsupported { .. })
        ));
        assert!(matches!(
            e(&EXAMPLE.replace("/A:H", "/A:H/A:L")),
            ParseError::Cvss(CvssError::Twice { metric: "A", .. })
        ));
    }

    #[test]
    fn fields_are_refused_past_the_documented_length() {
        let keyword =
            |len: usize| EXAMPLE.replace("\"freeform\"", &format!("\"{}\"", "k".repeat(len)));
        assert!(Advisory::parse(&keyword(MAX_FIELD)).is_ok());
        let e = Advisory::parse(&keyword(MAX_FIELD + 1)).unwrap_err();
        assert_eq!(e, ParseError::FieldTooLong);
        assert_eq!(
            e.to_string(),
            format!("a field is longer than {MAX_FIELD} bytes")
        );
        // A wrong id is quoted in the message, cut to 40 characters.
        let id = |id: &str| {
            Advisory::parse(&EXAMPLE.replace("RUSTSEC-2020-0001", id))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            id("GHSA-2020-0001"),
            "id \"GHSA-2020-0001\" is not RUSTSEC-YYYY-NNNN"
        );
        assert_eq!(
            id(&"X".repeat(100)),
            format!("id \"{}\" is not RUSTSEC-YYYY-NNNN", "X".repeat(40))
        );
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(300))]

        /// Any text is parsed or refused in one line, without a panic; the message does not
        /// grow with the input (it never quotes more than a short piece).
        #[test]
        fn any_text_is_parsed_or_refused_in_one_short_line(
            text in "(```toml\n)?(.|\n|\\[|\\]|=|\"){0,200}",
        ) {
            if let Err(e) = Advisory::parse(&text).map_err(|e| e.to_string()) {
                proptest::prop_assert!(!e.contains('\n'), "{e:?}");
                proptest::prop_assert!(e.len() < 400, "{e:?}");
            }
        }

        /// A cut anywhere in a real advisory is parsed or refused in one line.
        #[test]
        fn a_truncated_advisory_is_refused_in_one_line(cut in 0usize..EXAMPLE.len()) {
            let text = &EXAMPLE[..EXAMPLE.floor_char_boundary(cut)];
            if let Err(e) = Advisory::parse(text).map_err(|e| e.to_string()) {
                proptest::prop_assert!(!e.contains('\n'), "{e:?}");
            }
        }

        /// Generated advisories in the real layout come back with their fields: the right
        /// classification (vulnerability or informational kind, withdrawn or not, severity).
        #[test]
        fn generated_advisories_keep_their_fields(
            year in 2016u32..2100,
            n in 0u32..10_000,
            package in "[a-z][a-z0-9_-]{0,20}",
            kind in proptest::option::of(proptest::sample::select(vec!["unmaintained", "unsound", "notice"])),
            withdrawn in proptest::bool::ANY,
            cvss in proptest::option::of(proptest::sample::select(vec![
                ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Some(Severity::Critical)),
                ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", Some(Severity::High)),
                ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", Some(Severity::Medium)),
                ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", Some(Severity::Critical)),
            ])),
            title in "[A-Za-z0-9 `:,.()-]{1,60}",
            patched_minor in 1u64..50,
        ) {
            let id = format!("RUSTSEC-{year}-{n:04}");
            let mut toml = format!("[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = \"{year}-01-01\"\n");
            if let Some(kind) = kind {
                let _ = writeln!(toml, "informational = \"{kind}\"");
            }
            if withdrawn {
                toml.push_str("withdrawn = \"2100-01-01\"\n");
            }
            if let Some((vector, _)) = cvss {
                let _ = writeln!(toml, "cvss = \"{vector}\"");
            }
            let _ = writeln!(toml, "\n[versions]\npatched = [\">= 1.{patched_minor}.0\"]");
            let text = format!("```toml\n{toml}```\n\n# {}\n\nBody.\n", title.trim_end());
            let a = Advisory::parse(&text)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(&a.id, &id);
            proptest::prop_assert_eq!(&a.package, &package);
            proptest::prop_assert_eq!(a.title.as_str(), title.trim_end());
            proptest::prop_assert_eq!(a.kind(), kind.unwrap_or("vulnerability"));
            proptest::prop_assert_eq!(a.withdrawn.is_some(), withdrawn);
            proptest::prop_assert_eq!(a.severity(), cvss.and_then(|c| c.1));
            proptest::prop_assert!(a.affects(&semver::Version::new(1, patched_minor - 1, 9)));
            proptest::prop_assert!(!a.affects(&semver::Version::new(1, patched_minor, 0)));
        }
    }
}
