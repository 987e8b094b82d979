//! A program's dependency list as one document with a content digest: what the `catalog` and
//! `direct` layouts put in `rust_build_info{deps="<digest>"}`, what a catalog serves as
//! `rust_deps_info`, and what the exporter and
//! [`BuildInfoCollector::deps_document`](crate::BuildInfoCollector::deps_document) serve at
//! `/deps/<digest>`.
//!
//! The document (FORMAT.md, "Dependency lists and their digest") is exactly the crates the `full` layout gives a
//! `rust_mod_info` series, one line each, `name \t version \t source \t direct \n`, sorted by
//! bytes, no line twice. The digest is the first 16 bytes (128 bits) of the SHA-256 of the
//! document, as 32 lowercase hex digits: equal lists give equal digests on every machine, and
//! a reader checks a fetched document against the digest it asked for before believing it.
//!
//! Readers of a fleet treat a `deps` label value as opaque: a value that is not 32 hex digits
//! (another producer, a future digest) still joins `rust_build_info` to `rust_deps_info`; it
//! only cannot be fetched from `/deps/`.

use std::borrow::Cow;
use std::fmt;

/// The path prefix under which a dependency list is served: `/deps/<digest>`.
pub const DEPS_PATH_PREFIX: &str = "/deps/";

/// The media type of a dependency list document.
pub const DEPS_LIST_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The largest document a reader accepts by default: 1 MiB, about 25,000 crates (300 crates
/// take about 9 KB).
pub const MAX_DEPS_LIST_BYTES: usize = 1 << 20;

/// The length of a digest in hex digits (128 bits).
pub const DIGEST_HEX_LEN: usize = 32;

/// The longest version a line may hold, in bytes.
const MAX_VERSION_LEN: usize = 256;
/// The longest crate name a line may hold, in bytes (crates.io allows 64).
const MAX_NAME_LEN: usize = 256;

/// The sources a line may name: the values of `rust_mod_info`'s `source` label.
pub const SOURCES: [&str; 4] = ["crates.io", "git", "local", "registry"];

/// One crate of a dependency list: the labels its `rust_mod_info` series has, less `program`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DepsEntry<'a> {
    /// Crate name as published.
    pub name: Cow<'a, str>,
    /// Crate version.
    pub version: Cow<'a, str>,
    /// `crates.io`, `registry`, `git` or `local`.
    pub source: Cow<'a, str>,
    /// Whether the program's own package names the crate as a dependency.
    pub direct: bool,
}

impl DepsEntry<'_> {
    /// The entry as a line of the document, newline included. Tabs and newlines inside values
    /// (which valid entries never hold) become spaces, so that a line is always one entry.
    fn push_line(&self, out: &mut String) {
        for (i, field) in [
            self.name.as_ref(),
            self.version.as_ref(),
            self.source.as_ref(),
            if self.direct { "true" } else { "false" },
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push('\t');
            }
            out.extend(field.chars().map(|c| match c {
                '\t' | '\n' | '\r' => ' ',
                c => c,
            }));
        }
        out.push('\n');
    }
}

/// A dependency list and its digest.
///
/// ```
/// use build_info_collector::{DepsEntry, DepsList};
///
/// let list = DepsList::from_entries([
///     DepsEntry { name: "serde".into(), version: "1.0.219".into(), source: "crates.io".into(), direct: true },
///     DepsEntry { name: "itoa".into(), version: "1.0.15".into(), source: "crates.io".into(), direct: false },
/// ]);
/// assert_eq!(list.text(), "itoa\t1.0.15\tcrates.io\tfalse\nserde\t1.0.219\tcrates.io\ttrue\n");
/// assert_eq!(list.digest().len(), 32);
/// // A reader checks what it fetched against the digest it asked for.
/// let read = DepsList::verify(list.digest(), list.text().as_bytes(), 1 << 20).unwrap();
/// assert_eq!(read, list);
/// assert_eq!(read.entries().count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepsList {
    text: String,
    digest: String,
}

impl DepsList {
    /// The list of `entries`, sorted and without repeats.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = DepsEntry<'a>>) -> DepsList {
        let mut lines: Vec<String> = entries
            .into_iter()
            .map(|e| {
                let mut line = String::new();
                e.push_line(&mut line);
                line
            })
            .collect();
        lines.sort_unstable();
        lines.dedup();
        let text = lines.concat();
        let digest = digest_of(text.as_bytes());
        DepsList { text, digest }
    }

    /// The document: one line per crate.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The digest: 32 lowercase hex digits.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The path this list is served at: `/deps/<digest>`.
    pub fn path(&self) -> String {
        format!("{DEPS_PATH_PREFIX}{}", self.digest)
    }

    /// How many crates the list holds.
    pub fn len(&self) -> usize {
        self.text.bytes().filter(|&b| b == b'\n').count()
    }

    /// Whether the list holds no crate.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The entries, in document order.
    pub fn entries(&self) -> impl Iterator<Item = DepsEntry<'_>> {
        // Every line was checked (or written) whole: the parse cannot fail.
        self.text.lines().filter_map(|l| parse_line(l).ok())
    }

    /// Reads a document fetched for `digest`: at most `max_bytes`, its digest equal to
    /// `digest`, and in the one form this module writes (every line valid, sorted, none
    /// twice), so that a document never means more than its digest says.
    pub fn verify(digest: &str, bytes: &[u8], max_bytes: usize) -> Result<DepsList, DepsListError> {
        if !is_digest(digest) {
            return Err(DepsListError::NotADigest);
        }
        if bytes.len() > max_bytes {
            return Err(DepsListError::TooLarge {
                size: bytes.len(),
                max: max_bytes,
            });
        }
        let actual = digest_of(bytes);
        if actual != digest {
            return Err(DepsListError::DigestMismatch { actual });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| DepsListError::NotUtf8)?;
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(DepsListError::Line {
                line: text.lines().count(),
                why: "the last line has no newline",
            });
        }
        let mut previous: Option<&str> = None;
        for (i, line) in text.split_terminator('\n').enumerate() {
            parse_line(line).map_err(|why| DepsListError::Line { line: i + 1, why })?;
            if previous.is_some_and(|p| p >= line) {
                return Err(DepsListError::Line {
                    line: i + 1,
                    why: "lines are not sorted, or a line repeats",
                });
            }
            previous = Some(line);
        }
        Ok(DepsList {
            text: text.to_owned(),
            digest: actual,
        })
    }
}

impl fmt::Display for DepsList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.digest)
    }
}

/// Why a fetched document is refused. One line; nothing of the document is repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DepsListError {
    /// The digest asked for is not 32 lowercase hex digits.
    #[error("the digest is not 32 lowercase hex digits")]
    NotADigest,
    /// Larger than the cap.
    #[error("the list is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// The document's digest is another.
    #[error("the list's digest is {actual}, not the one asked for")]
    DigestMismatch {
        /// The digest of what was received.
        actual: String,
    },
    /// Not UTF-8.
    #[error("the list is not UTF-8")]
    NotUtf8,
    /// A line that is not an entry.
    #[error("line {line}: {why}")]
    Line {
        /// 1-based.
        line: usize,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// True for a digest this module writes: 32 lowercase hex digits. Only such values are ever
/// put in a `/deps/` path.
pub fn is_digest(s: &str) -> bool {
    s.len() == DIGEST_HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn parse_line(line: &str) -> Result<DepsEntry<'_>, &'static str> {
    let mut fields = line.split('\t');
    let (Some(name), Some(version), Some(source), Some(direct), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err("a line has four tab-separated fields");
    };
    if name.len() > MAX_NAME_LEN || !buildinfo::model::is_crate_name(name) {
        return Err("the name is not a crate name");
    }
    if version.is_empty()
        || version.len() > MAX_VERSION_LEN
        || !version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
    {
        return Err("the version is not a version");
    }
    if !SOURCES.contains(&source) {
        return Err("the source is not crates.io, git, local or registry");
    }
    let direct = match direct {
        "true" => true,
        "false" => false,
        _ => return Err("direct is neither true nor false"),
    };
    Ok(DepsEntry {
        name: name.into(),
        version: version.into(),
        source: source.into(),
        direct,
    })
}

/// The digest of a document: its SHA-256 cut to 128 bits, in lowercase hex.
pub fn digest_of(document: &[u8]) -> String {
    use fmt::Write as _;
    let hash = sha256(document);
    let mut hex = String::with_capacity(DIGEST_HEX_LEN);
    for b in &hash[..DIGEST_HEX_LEN / 2] {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// SHA-256 (FIPS 180-4). Written here rather than taken from a crate: it runs once per
/// collector at start-up over a few kilobytes, and a hash crate would add its dependency tree
/// to the build of every program that exposes its build info. Checked against the standard's
/// test vectors here and against `ring` in cargo-depinfo's tests.
#[allow(
    clippy::many_single_char_names,
    reason = "a to h, w and the rest are the names FIPS 180-4 gives them"
)]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a_2f98,
        0x7137_4491,
        0xb5c0_fbcf,
        0xe9b5_dba5,
        0x3956_c25b,
        0x59f1_11f1,
        0x923f_82a4,
        0xab1c_5ed5,
        0xd807_aa98,
        0x1283_5b01,
        0x2431_85be,
        0x550c_7dc3,
        0x72be_5d74,
        0x80de_b1fe,
        0x9bdc_06a7,
        0xc19b_f174,
        0xe49b_69c1,
        0xefbe_4786,
        0x0fc1_9dc6,
        0x240c_a1cc,
        0x2de9_2c6f,
        0x4a74_84aa,
        0x5cb0_a9dc,
        0x76f9_88da,
        0x983e_5152,
        0xa831_c66d,
        0xb003_27c8,
        0xbf59_7fc7,
        0xc6e0_0bf3,
        0xd5a7_9147,
        0x06ca_6351,
        0x1429_2967,
        0x27b7_0a85,
        0x2e1b_2138,
        0x4d2c_6dfc,
        0x5338_0d13,
        0x650a_7354,
        0x766a_0abb,
        0x81c2_c92e,
        0x9272_2c85,
        0xa2bf_e8a1,
        0xa81a_664b,
        0xc24b_8b70,
        0xc76c_51a3,
        0xd192_e819,
        0xd699_0624,
        0xf40e_3585,
        0x106a_a070,
        0x19a4_c116,
        0x1e37_6c08,
        0x2748_774c,
        0x34b0_bcb5,
        0x391c_0cb3,
        0x4ed8_aa4a,
        0x5b9c_ca4f,
        0x682e_6ff3,
        0x748f_82ee,
        0x78a5_636f,
        0x84c8_7814,
        0x8cc7_0208,
        0x90be_fffa,
        0xa450_6ceb,
        0xbef9_a3f7,
        0xc671_78f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    // The message, a 0x80 byte, zeros to 56 mod 64, and the length: fed block by block
    // without copying the message.
    let mut tail = [0u8; 128];
    let whole = data.len() - data.len() % 64;
    let rest = &data[whole..];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    tail[tail_len - 8..tail_len].copy_from_slice(&bit_len.to_be_bytes());
    let blocks = data[..whole]
        .chunks_exact(64)
        .chain(tail[..tail_len].chunks_exact(64));
    for block in blocks {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            // `ch` and `maj` read the same with `|` for `^` (their terms never overlap, or
            // agree): cargo-mutants' `^`→`|` mutants here are equivalent.
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        use fmt::Write as _;
        bytes.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex(&sha256(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        );
        assert_eq!(
            hex(&sha256(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        // Every padding boundary: 55, 56, 63, 64 and 65 bytes.
        assert_eq!(
            hex(&sha256(&[b'a'; 55])),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"
        );
        assert_eq!(
            hex(&sha256(&[b'a'; 56])),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"
        );
        assert_eq!(
            hex(&sha256(&[b'a'; 64])),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }

    fn entry(name: &str, version: &str, direct: bool) -> DepsEntry<'static> {
        DepsEntry {
            name: name.to_owned().into(),
            version: version.to_owned().into(),
            source: "crates.io".into(),
            direct,
        }
    }

    #[test]
    fn the_document_is_sorted_without_repeats_and_its_digest_is_fixed() {
        let list = DepsList::from_entries([
            entry("serde", "1.0.219", true),
            entry("itoa", "1.0.15", false),
            entry("serde", "1.0.219", true),
        ]);
        assert_eq!(
            list.text(),
            "itoa\t1.0.15\tcrates.io\tfalse\nserde\t1.0.219\tcrates.io\ttrue\n"
        );
        assert_eq!(list.len(), 2);
        assert!(!list.is_empty());
        // Shown, a list is its digest.
        assert_eq!(list.to_string(), list.digest());
        assert_eq!(list.digest(), digest_of(list.text().as_bytes()));
        assert_eq!(list.digest(), &hex(&sha256(list.text().as_bytes()))[..32]);
        assert_eq!(list.path(), format!("/deps/{}", list.digest()));
        let empty = DepsList::from_entries([]);
        assert!(empty.is_empty());
        assert_eq!(empty.digest(), "e3b0c44298fc1c149afbf4c8996fb924");
    }

    #[test]
    fn verify_refuses_what_its_digest_does_not_say() {
        let list = DepsList::from_entries([entry("serde", "1.0.219", true)]);
        let ok = DepsList::verify(list.digest(), list.text().as_bytes(), 1024).unwrap();
        assert_eq!(
            ok.entries().collect::<Vec<_>>(),
            vec![entry("serde", "1.0.219", true)]
        );
        let other = DepsList::from_entries([entry("serde", "1.0.218", true)]);
        assert!(matches!(
            DepsList::verify(list.digest(), other.text().as_bytes(), 1024),
            Err(DepsListError::DigestMismatch { .. })
        ));
        assert_eq!(
            DepsList::verify("ABC", b"", 1024),
            Err(DepsListError::NotADigest)
        );
        assert_eq!(
            DepsList::verify(list.digest(), list.text().as_bytes(), 10),
            Err(DepsListError::TooLarge { size: 29, max: 10 })
        );
        assert!(DepsList::verify(list.digest(), list.text().as_bytes(), 29).is_ok());
    }

    /// A document whose digest is right but which this module would not write.
    fn refused(text: &str) -> DepsListError {
        DepsList::verify(&digest_of(text.as_bytes()), text.as_bytes(), 1 << 20).unwrap_err()
    }

    #[test]
    fn verify_accepts_only_the_one_written_form() {
        let line = |why| DepsListError::Line { line: 1, why };
        assert_eq!(
            refused("serde\t1.0.0\tcrates.io\ttrue"),
            line("the last line has no newline")
        );
        assert_eq!(
            refused("serde\t1.0.0\tcrates.io\n"),
            line("a line has four tab-separated fields")
        );
        assert_eq!(
            refused("serde\t1.0.0\tcrates.io\ttrue\tx\n"),
            line("a line has four tab-separated fields")
        );
        assert_eq!(
            refused("ser de\t1.0.0\tcrates.io\ttrue\n"),
            line("the name is not a crate name")
        );
        assert_eq!(
            refused("serde\t1.0 0\tcrates.io\ttrue\n"),
            line("the version is not a version")
        );
        assert_eq!(
            refused("serde\t\tcrates.io\ttrue\n"),
            line("the version is not a version")
        );
        assert_eq!(
            refused("serde\t1.0.0\thttps://x\ttrue\n"),
            line("the source is not crates.io, git, local or registry")
        );
        assert_eq!(
            refused("serde\t1.0.0\tcrates.io\tyes\n"),
            line("direct is neither true nor false")
        );
        assert_eq!(
            refused("b\t1.0.0\tgit\ttrue\na\t1.0.0\tgit\ttrue\n"),
            DepsListError::Line {
                line: 2,
                why: "lines are not sorted, or a line repeats"
            }
        );
        assert_eq!(
            refused("a\t1.0.0\tgit\ttrue\na\t1.0.0\tgit\ttrue\n"),
            DepsListError::Line {
                line: 2,
                why: "lines are not sorted, or a line repeats"
            }
        );
        let bad = [0xff, b'\n'];
        assert_eq!(
            DepsList::verify(&digest_of(&bad), &bad, 1 << 20),
            Err(DepsListError::NotUtf8)
        );
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert_eq!(
            refused(&format!("{long}\t1\tgit\ttrue\n")),
            line("the name is not a crate name")
        );
        let name = "a".repeat(MAX_NAME_LEN);
        let version = "1".repeat(MAX_VERSION_LEN);
        let ok = format!("{name}\t{version}\tlocal\tfalse\n");
        assert!(DepsList::verify(&digest_of(ok.as_bytes()), ok.as_bytes(), 1 << 20).is_ok());
        let too_long = format!("{name}\t{version}1\tlocal\tfalse\n");
        assert_eq!(refused(&too_long), line("the version is not a version"));
    }

    #[test]
    fn digests_are_32_lowercase_hex_digits() {
        assert!(is_digest("0123456789abcdef0123456789abcdef"));
        assert!(!is_digest("0123456789ABCDEF0123456789abcdef"));
        assert!(!is_digest("0123456789abcdef0123456789abcde"));
        assert!(!is_digest("0123456789abcdef0123456789abcdef0"));
        assert!(!is_digest("../../../../etc/passwd/aaaaaaaaaa"));
    }
}
