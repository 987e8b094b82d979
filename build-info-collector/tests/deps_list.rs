//! `DepsList::verify`, the reader of documents fetched from others, under arbitrary input: it
//! never panics, accepts exactly the documents `from_entries` writes (checked against a
//! reading of the grammar written here, apart from the crate's own), refuses any changed byte,
//! reads back what was written, and holds no more memory than about twice its input, with the
//! size cap checked before anything else is done with the bytes.

use build_info_collector::{
    DepsEntry, DepsList, DepsListError, MAX_DEPS_LIST_BYTES, SOURCES, digest_of, is_digest,
};
use proptest::prelude::*;

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

/// The grammar of FORMAT.md ("Dependency lists and their digest"), read independently of the
/// crate: the entries when `text` is one line per entry, each line valid; `None` otherwise.
fn lines_of_the_grammar(text: &str) -> Option<Vec<DepsEntry<'_>>> {
    if !text.is_empty() && !text.ends_with('\n') {
        return None;
    }
    let mut entries = Vec::new();
    for line in text.split_terminator('\n') {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, version, source, direct] = fields[..] else {
            return None;
        };
        let name_ok = (1..=256).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let version_ok = (1..=256).contains(&version.len())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c));
        let direct = match direct {
            "true" => true,
            "false" => false,
            _ => return None,
        };
        if !name_ok || !version_ok || !SOURCES.contains(&source) {
            return None;
        }
        entries.push(DepsEntry {
            name: name.into(),
            version: version.into(),
            source: source.into(),
            direct,
        });
    }
    Some(entries)
}

/// Canonical: the grammar's lines, and exactly the bytes `from_entries` writes for them (sorted,
/// no line twice).
fn is_canonical(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| {
            lines_of_the_grammar(text).map(|e| DepsList::from_entries(e).text() == text)
        })
        .unwrap_or(false)
}

fn entry() -> impl Strategy<Value = DepsEntry<'static>> {
    (
        "[A-Za-z0-9_-]{1,64}",
        "[0-9a-z.+-]{1,30}",
        prop::sample::select(SOURCES.to_vec()),
        any::<bool>(),
    )
        .prop_map(|(name, version, source, direct)| DepsEntry {
            name: name.into(),
            version: version.into(),
            source: source.into(),
            direct,
        })
}

fn valid_document() -> impl Strategy<Value = String> {
    prop::collection::vec(entry(), 0..20).prop_map(|e| DepsList::from_entries(e).text().to_owned())
}

/// Inputs near the grammar as well as arbitrary bytes: valid documents, valid documents with
/// lines swapped, repeated or cut, and lines of the grammar's own characters.
fn candidate_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        valid_document().prop_map(String::into_bytes),
        (valid_document(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(d, at, b)| {
            let mut bytes = d.into_bytes();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes
        }),
        (valid_document(), any::<prop::sample::Index>()).prop_map(|(d, at)| {
            // Cut anywhere, or repeat the first line at the end, or reverse the lines.
            let lines: Vec<&str> = d.split_inclusive('\n').collect();
            match at.index(3) {
                0 => d[..at.index(d.len() + 1)].to_owned().into_bytes(),
                1 => format!("{d}{}", lines.first().unwrap_or(&"")).into_bytes(),
                _ => lines.iter().rev().copied().collect::<String>().into_bytes(),
            }
        }),
        "([a-z0-9.+_-]{0,6}\t){0,5}(true|false|x)?\n?".prop_map(String::into_bytes),
        prop::collection::vec(
            "[ab]\t[01]\t(git|local|crates\\.io|registry|GIT)\t(true|false)\n",
            0..6
        )
        .prop_map(|lines| lines.concat().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(testkit::proptest_cases(512))]

    /// Any bytes checked against their own digest: accepted exactly when canonical, and then
    /// read back as the same document; refused otherwise, with a one-line reason. Never a
    /// panic.
    #[test]
    fn any_bytes_are_accepted_exactly_when_canonical(bytes in candidate_bytes()) {
        let digest = digest_of(&bytes);
        let verdict = DepsList::verify(&digest, &bytes, MAX_DEPS_LIST_BYTES);
        match &verdict {
            Ok(list) => {
                prop_assert!(is_canonical(&bytes), "accepted {:?}", String::from_utf8_lossy(&bytes));
                prop_assert_eq!(list.text().as_bytes(), &bytes[..]);
                prop_assert_eq!(list.digest(), digest.as_str());
                let rewritten = DepsList::from_entries(list.entries());
                prop_assert_eq!(&rewritten, list);
            }
            Err(e) => {
                prop_assert!(!is_canonical(&bytes), "refused {:?}: {e}", String::from_utf8_lossy(&bytes));
                prop_assert!(!e.to_string().contains('\n'));
                prop_assert!(
                    !matches!(e, DepsListError::DigestMismatch { .. } | DepsListError::NotADigest | DepsListError::TooLarge { .. }),
                    "{e}"
                );
            }
        }
    }

    /// Any digest text with any bytes: no panic, and never accepted unless it is the bytes'
    /// own digest.
    #[test]
    fn any_digest_is_refused_unless_it_is_the_documents(
        digest in prop_oneof!["[0-9a-f]{32}", "\\PC{0,40}", "[0-9a-fA-F/.]{30,34}"],
        bytes in candidate_bytes(),
    ) {
        let verdict = DepsList::verify(&digest, &bytes, MAX_DEPS_LIST_BYTES);
        if !is_digest(&digest) {
            prop_assert_eq!(verdict, Err(DepsListError::NotADigest));
        } else if digest != digest_of(&bytes) {
            let mismatch = matches!(verdict, Err(DepsListError::DigestMismatch { .. }));
            prop_assert!(mismatch, "{:?}", verdict);
        }
    }

    /// A valid list with any one byte changed is refused for its digest, before anything else.
    #[test]
    fn one_changed_byte_is_a_digest_mismatch(
        entries in prop::collection::vec(entry(), 1..20),
        at in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let list = DepsList::from_entries(entries);
        let mut bytes = list.text().as_bytes().to_vec();
        let i = at.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        let verdict = DepsList::verify(list.digest(), &bytes, MAX_DEPS_LIST_BYTES);
        prop_assert_eq!(
            verdict,
            Err(DepsListError::DigestMismatch { actual: digest_of(&bytes) })
        );
    }

    /// Entries → document → verify → the same entries, sorted and without repeats.
    #[test]
    fn valid_entries_round_trip(entries in prop::collection::vec(entry(), 0..40)) {
        let list = DepsList::from_entries(entries.clone());
        let read = DepsList::verify(list.digest(), list.text().as_bytes(), MAX_DEPS_LIST_BYTES)
            .unwrap();
        prop_assert_eq!(&read, &list);
        let mut expected = entries;
        // The document's order: by line bytes, which for these characters is the order of
        // the fields joined by tabs.
        expected.sort_by_key(|e| format!("{}\t{}\t{}\t{}", e.name, e.version, e.source, e.direct));
        expected.dedup();
        let got: Vec<DepsEntry<'_>> = read.entries().collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(read.len(), read.entries().count());
    }

    /// Whatever it is given, verify holds at most about twice the input at any moment (the
    /// document it returns is one copy).
    #[test]
    fn verify_holds_at_most_twice_its_input(bytes in candidate_bytes()) {
        let digest = digest_of(&bytes);
        let (verdict, peak) = testkit::peak_during(|| {
            DepsList::verify(&digest, &bytes, MAX_DEPS_LIST_BYTES)
        });
        drop(verdict);
        prop_assert!(peak <= 2 * bytes.len() + 1024, "{peak} bytes for {} input bytes", bytes.len());
    }
}

/// A large valid document, near the cap: still bounded to about one copy.
#[test]
fn a_large_document_is_read_with_one_copy() {
    let entries = (0..20_000).map(|i| DepsEntry {
        name: format!("crate-{i:05}").into(),
        version: format!("1.{}.{}", i % 97, i % 13).into(),
        source: "crates.io".into(),
        direct: i % 50 == 0,
    });
    let list = DepsList::from_entries(entries);
    let size = list.text().len();
    assert!(
        size > MAX_DEPS_LIST_BYTES / 2 && size < MAX_DEPS_LIST_BYTES,
        "{size}"
    );
    let (read, peak) = testkit::peak_during(|| {
        DepsList::verify(list.digest(), list.text().as_bytes(), MAX_DEPS_LIST_BYTES)
    });
    assert_eq!(read.unwrap(), list);
    assert!(peak <= 2 * size, "{peak} bytes for {size}");
}

/// The size cap comes first: an input over it is refused as too large, even with a digest
/// that does not match, so that an oversized answer is never hashed, parsed or copied.
#[test]
fn the_size_cap_is_checked_before_the_digest() {
    let big = vec![b'a'; 4 * MAX_DEPS_LIST_BYTES];
    let wrong = "0123456789abcdef0123456789abcdef";
    let (verdict, peak) =
        testkit::peak_during(|| DepsList::verify(wrong, &big, MAX_DEPS_LIST_BYTES));
    assert_eq!(
        verdict,
        Err(DepsListError::TooLarge {
            size: big.len(),
            max: MAX_DEPS_LIST_BYTES
        })
    );
    assert!(peak < 1024, "{peak}");
    assert_eq!(
        verdict.unwrap_err().to_string(),
        "the list is 4194304 bytes, more than the 1048576-byte limit"
    );
    // At the cap exactly, the same bytes are hashed and refused for their digest.
    let at_cap = &big[..MAX_DEPS_LIST_BYTES];
    assert!(matches!(
        DepsList::verify(wrong, at_cap, MAX_DEPS_LIST_BYTES),
        Err(DepsListError::DigestMismatch { .. })
    ));
    // And a wrong digest never gets as far as the lines.
    assert_eq!(
        DepsList::verify(wrong, b"not a list", MAX_DEPS_LIST_BYTES),
        Err(DepsListError::DigestMismatch {
            actual: digest_of(b"not a list")
        })
    );
}
