//! FORMAT.md's section "Dependency lists and their digest" cannot rot: its example document is
//! what `DepsList` writes for those crates, and the digests it states are the real ones.

use build_info_collector::{DEPS_LIST_CONTENT_TYPE, DepsList, MAX_DEPS_LIST_BYTES, digest_of};

const FORMAT_MD: &str = include_str!("../../FORMAT.md");

/// The section, from its heading to the next `## ` heading.
fn section() -> &'static str {
    let start = FORMAT_MD
        .find("\n## Dependency lists and their digest\n")
        .expect("FORMAT.md has the section \"Dependency lists and their digest\"");
    let rest = &FORMAT_MD[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    &rest[..end]
}

/// The text between `after` and the next `until`, within `text`.
fn between<'a>(text: &'a str, after: &str, until: &str) -> &'a str {
    let start = text.find(after).unwrap_or_else(|| panic!("no {after:?}")) + after.len();
    let len = text[start..]
        .find(until)
        .unwrap_or_else(|| panic!("no {until:?} after {after:?}"));
    &text[start..start + len]
}

#[test]
fn the_example_list_and_its_digest_are_real() {
    let section = section();
    let example = between(section, "\n### Example\n", "\n### ");
    let document = between(example, "```text\n", "```");
    assert!(document.contains('\t'), "the example's tabs are real tabs");
    // The example is a document a reader accepts, and exactly what the writer writes for it.
    let digest = digest_of(document.as_bytes());
    let read = DepsList::verify(&digest, document.as_bytes(), MAX_DEPS_LIST_BYTES)
        .unwrap_or_else(|e| panic!("FORMAT.md's example is refused: {e}"));
    let rewritten = DepsList::from_entries(read.entries());
    assert_eq!(rewritten.text(), document);
    assert_eq!(read.len(), 5);
    // Each source appears, and both values of direct.
    for field in [
        "\tcrates.io\t",
        "\tgit\t",
        "\tlocal\t",
        "\ttrue\n",
        "\tfalse\n",
    ] {
        assert!(document.contains(field), "{field:?}");
    }
    // The digest and the path the section states.
    let stated = between(example, "has the digest `", "`");
    assert_eq!(stated, digest, "FORMAT.md states another digest");
    assert!(
        example.contains(&format!("is served at `/deps/{digest}`")),
        "{example}"
    );
    assert_eq!(rewritten.path(), format!("/deps/{digest}"));
}

#[test]
fn the_stated_constants_are_the_crates() {
    let section = section();
    let empty = DepsList::from_entries([]);
    assert!(
        section.contains(&format!("The empty list's digest is\n`{}`", empty.digest())),
        "the empty list's digest is stated"
    );
    assert!(section.contains(&format!("the content type `{DEPS_LIST_CONTENT_TYPE}`")));
    assert_eq!(MAX_DEPS_LIST_BYTES, 1 << 20);
    assert!(section.contains("They read at most 1 MiB (`MAX_DEPS_LIST_BYTES`"));
    assert!(section.contains("32 lowercase hex digits"));
}
