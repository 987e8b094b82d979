//! Names of the sections the build side embeds in the binary.

/// cargo-auditable's dependency section (ELF, PE and Wasm). Its format is cargo-auditable's.
pub const DEP_V0: &str = ".dep-v0";
/// Our build-metadata section (ELF, PE and Wasm): at most 8 bytes, as PE requires.
pub const BUILD_INFO: &str = ".bldinfo";
/// The Mach-O segment both sections live in.
pub const MACHO_SEGMENT: &str = "__DATA";
/// Version of the JSON inside [`BUILD_INFO`]; readers reject a newer major format.
pub const BUILD_INFO_FORMAT: u32 = 1;
