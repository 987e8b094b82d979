//! Package URLs (purl, the package-url specification's `cargo` type) of the packages of an
//! inventory: the identity SBOM consumers match advisories by.

use depinfo_read::inventory::Package;

/// The package URL of a package: `pkg:cargo/NAME@VERSION`; `None` where no purl can be given
/// honestly.
#[expect(
    clippy::unnecessary_wraps,
    reason = "issue 23: packages without an honest identity get none"
)]
pub fn purl(p: &Package) -> Option<String> {
    Some(format!("pkg:cargo/{}@{}", p.name, p.version))
}

/// What an SBOM says about a package's identity beside its purl, `None` when the purl says it
/// all. Issue 23's identities part gives the phrases (path crates, packages whose registry or
/// repository the binary does not carry); until then nothing is said.
pub fn identity_note(_p: &Package) -> Option<&'static str> {
    None
}
