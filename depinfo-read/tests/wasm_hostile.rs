//! WebAssembly written by an attacker: lying LEB128 sizes, sections past the end, huge claimed
//! custom sections and deep component nesting, as property tests of the Wasm reader. Each
//! case must end in data or one clear error about the file's contents (malformed, too large,
//! not inflatable), naming the file in one line, with the memory the read allocates counted
//! by a counting global allocator (per thread: the cases run in parallel).

use std::path::{Path, PathBuf};

use depinfo_read::binary_reader::{
    BinaryFormat, Limits, MAX_WASM_NESTING, RawSections, ReadError, read_sections,
};
use proptest::prelude::*;
use testkit::mutation::{mutate, mutation};
use testkit::{WasmPart, leb128, wasm_component, wasm_module_with_sections, zlib};

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

const DEP_V0: &str = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1],"root":true},{"name":"itoa","version":"1.0.18","source":"crates.io"}],"format":1}"#;

/// Everything a small Wasm file may cost: an 8 KiB read buffer, the path in messages, and at
/// most its own bytes twice over (a section's compressed copy) before inflating.
const SMALL_FILE_BOUND: u64 = 64 << 10;

/// A file the cases rewrite, one per label and thread, under cargo's scratch directory.
fn scratch_file(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasm_hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let thread = format!("{:?}", std::thread::current().id())
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    dir.join(format!("{label}-{thread}.wasm"))
}

/// The seeds the mutations start from: a module, and a component with a module and a
/// component nested in it, each with `.dep-v0`.
fn seeds() -> [Vec<u8>; 2] {
    let dep = zlib(DEP_V0.as_bytes());
    let module = wasm_module_with_sections(&[("producers", b"\0"), (".dep-v0", &dep)]);
    let inner = wasm_component(&[
        WasmPart::Custom(".bldinfo", &zlib(br#"{"format":1}"#)),
        WasmPart::Module(&module),
    ]);
    let component = wasm_component(&[
        WasmPart::Module(&wasm_module_with_sections(&[])),
        WasmPart::Component(&inner),
    ]);
    [module, component]
}

/// Tokens that reach the reader's branches: LEB128 numbers that overflow, run on or claim
/// 2 GiB, section ids, nested headers and our custom section names.
fn tokens() -> Vec<Vec<u8>> {
    vec![
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0xff, 0xff, 0xff, 0xff, 0x7f],
        vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
        leb128(2 << 30),
        vec![0, 0x80, 0x80, 0x80, 0x80, 0x08, 7],
        b"\0asm\x01\0\0\0".to_vec(),
        b"\0asm\x0d\0\x01\0".to_vec(),
        b"\x07.dep-v0".to_vec(),
        b"\x08.bldinfo".to_vec(),
        vec![4, 8],
        vec![1, 8],
    ]
}

/// What a read may end in: data no larger than the limits, or one of the errors about the
/// contents, in one line starting with the path. `wasm`: the file starts with the Wasm magic.
fn check_read(path: &Path, wasm: bool, result: &Result<RawSections, ReadError>) {
    let limits = Limits::default();
    match result {
        Ok(raw) => {
            assert_eq!(raw.format, BinaryFormat::Wasm);
            for section in [&raw.bldinfo, &raw.dep_v0].into_iter().flatten() {
                assert!(section.len() <= limits.max_decompressed_size);
            }
        }
        Err(e) => {
            if wasm {
                assert!(
                    matches!(
                        e,
                        ReadError::Malformed {
                            format: BinaryFormat::Wasm,
                            ..
                        } | ReadError::TooLarge { .. }
                            | ReadError::Decompress { .. }
                    ),
                    "{e:?}"
                );
            } else {
                assert!(
                    matches!(
                        e,
                        ReadError::NotABinary { .. } | ReadError::Malformed { .. }
                    ),
                    "{e:?}"
                );
            }
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("{}: ", path.display())),
                "{message}"
            );
            assert!(!message.contains('\n'), "{message}");
        }
    }
}

/// One forged section: an id, the size it claims, the bytes really there.
#[derive(Debug, Clone)]
struct Forged {
    id: u8,
    claimed: u32,
    name: Option<&'static str>,
    body: usize,
}

fn forged() -> impl Strategy<Value = Forged> {
    (
        prop_oneof![Just(0u8), Just(1), Just(4), 0u8..16],
        prop_oneof![0u32..64, Just(u32::MAX), Just(2 << 30), any::<u32>(),],
        prop_oneof![
            Just(None),
            Just(Some(".dep-v0")),
            Just(Some(".bldinfo")),
            Just(Some("linking")),
        ],
        0usize..64,
    )
        .prop_map(|(id, claimed, name, body)| Forged {
            id,
            claimed,
            name,
            body,
        })
}

proptest! {
    #![proptest_config(testkit::proptest_cases(800))]

    /// Mutated modules and components: no panic, the right kind of answer, and memory bounded
    /// by the file, not by what it claims.
    #[test]
    fn mutated_wasm_reads_as_data_or_a_content_error(
        seed in 0..2usize,
        mutations in prop::collection::vec(mutation(11), 1..6),
    ) {
        let bytes = mutate(&seeds()[seed], &mutations, &tokens());
        let path = scratch_file("mutated");
        std::fs::write(&path, &bytes).unwrap();
        let (result, peak) = testkit::peak_during(|| read_sections(&path));
        check_read(&path, bytes.starts_with(b"\0asm"), &result);
        // Only inflating can produce more than the file holds.
        let inflated: usize = result.as_ref().map_or(0, |r| {
            r.bldinfo.as_ref().map_or(0, Vec::len) + r.dep_v0.as_ref().map_or(0, Vec::len)
        });
        prop_assert!(
            (peak as u64) <= SMALL_FILE_BOUND + 2 * inflated as u64 + 2 * bytes.len() as u64,
            "{peak} bytes for a {} byte file", bytes.len()
        );
    }

    /// Sections whose claimed sizes lie: past the end is malformed, and nothing is allocated
    /// for a claim.
    #[test]
    fn forged_section_sizes_are_malformed_not_allocated(
        component in any::<bool>(),
        sections in prop::collection::vec(forged(), 1..6),
    ) {
        let mut bytes = if component {
            b"\0asm\x0d\0\x01\0".to_vec()
        } else {
            b"\0asm\x01\0\0\0".to_vec()
        };
        let mut lies = false;
        for s in &sections {
            let mut body = Vec::new();
            if let Some(name) = s.name {
                body.extend(leb128(name.len() as u64));
                body.extend_from_slice(name.as_bytes());
            }
            body.resize(body.len() + s.body, 0x5a);
            bytes.push(s.id);
            bytes.extend(leb128(u64::from(s.claimed)));
            lies |= u64::from(s.claimed) != body.len() as u64;
            bytes.extend(body);
        }
        let path = scratch_file("forged");
        std::fs::write(&path, &bytes).unwrap();
        let (result, peak) = testkit::peak_during(|| read_sections(&path));
        if let Err(ReadError::NotABinary { .. }) = &result {
            // A core module with a `linking` custom section of its own is an object file:
            // the one case a Wasm file is not a binary.
            prop_assert!(
                !component && sections.iter().any(|s| s.id == 0 && s.name == Some("linking")),
                "{result:?}"
            );
        } else {
            check_read(&path, true, &result);
        }
        prop_assert!((peak as u64) <= SMALL_FILE_BOUND, "{peak} bytes");
        // A claim past the end of the file is always caught.
        let first_claim_past_end = {
            let mut pos = 8u64;
            let mut past = false;
            for s in &sections {
                let header = 1 + leb128(u64::from(s.claimed)).len() as u64;
                if pos + header + u64::from(s.claimed) > bytes.len() as u64 {
                    past = true;
                    break;
                }
                let real = s.name.map_or(0, |n| 1 + n.len()) + s.body;
                pos += header + real as u64;
                if u64::from(s.claimed) != real as u64 {
                    // The walk is out of step from here on: anything may follow.
                    break;
                }
            }
            past
        };
        if first_claim_past_end {
            prop_assert!(result.is_err(), "{result:?}");
        }
        // Well-formed custom sections of another name (in a component, where `linking` means
        // nothing) are no data, not an error. (An unnamed one is not well formed: its first
        // byte is read as its name's length.)
        if component && !lies && sections.iter().all(|s| s.id == 0 && s.name == Some("linking")) {
            prop_assert!(result.unwrap().is_empty());
        }
    }
}

#[test]
fn ten_thousand_nested_components_are_one_error_in_little_memory() {
    let mut bytes = wasm_component(&[WasmPart::Custom(".dep-v0", &zlib(DEP_V0.as_bytes()))]);
    for _ in 0..10_000 {
        bytes = wasm_component(&[WasmPart::Component(&bytes)]);
    }
    let path = scratch_file("deep");
    std::fs::write(&path, &bytes).unwrap();
    let (result, peak) = testkit::peak_during(|| read_sections(&path));
    let err = result.unwrap_err();
    assert!(matches!(err, ReadError::Malformed { .. }), "{err}");
    assert!(
        err.to_string().ends_with(&format!(
            "is nested {} levels deep, over the limit of {MAX_WASM_NESTING}",
            MAX_WASM_NESTING + 1
        )),
        "{err}"
    );
    assert!((peak as u64) < SMALL_FILE_BOUND, "{peak} bytes");
}

#[test]
fn a_2_gib_custom_section_that_is_really_there_is_refused_before_it_is_read() {
    let dir = testkit::Scratch::new("wasm-2gib");
    // A component whose nested module claims, and holds (sparse), a 2 GiB `.dep-v0`.
    let claim: u64 = 2 << 30;
    let mut module = b"\0asm\x01\0\0\0\0".to_vec();
    module.extend(leb128(claim + 8));
    module.extend_from_slice(b"\x07.dep-v0");
    let mut bytes = b"\0asm\x0d\0\x01\0\x01".to_vec();
    bytes.extend(leb128(module.len() as u64 + claim));
    bytes.extend(&module);
    let path = dir.join("huge.wasm");
    std::fs::write(&path, &bytes).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(bytes.len() as u64 + claim).unwrap();
    drop(file);
    let started = std::time::Instant::now();
    let (result, peak) = testkit::peak_during(|| read_sections(&path));
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: section .dep-v0 is 2147483648 bytes, over the limit of 1048576",
            path.display()
        )
    );
    assert!((peak as u64) < SMALL_FILE_BOUND, "{peak} bytes");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
