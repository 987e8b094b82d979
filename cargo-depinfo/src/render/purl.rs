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
