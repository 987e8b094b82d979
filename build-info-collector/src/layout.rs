//! Which series a collector publishes about its crates: the one option every producer (the
//! collector, its `metrics` facade path, `depinfo-exporter`) takes.

use std::fmt;
use std::str::FromStr;

/// The series layout (README, "Layouts"). Every layout publishes `<program>_build_info` and
/// `rust_build_info{deps="<digest>",layout,program,revision,version}`; they differ in the
/// per-crate series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Layout {
    /// One `rust_mod_info` series per crate: about 300 series per instance. The default: it
    /// answers every question with no other component running, and it is what dashboards and
    /// alerts written before the catalog existed select.
    #[default]
    Full,
    /// No per-crate series: the crates are looked up by digest in `rust_deps_info`, served once
    /// for the fleet by `depinfo-catalog`. Two series per instance.
    Catalog,
    /// The digest, plus `rust_mod_info` for direct dependencies only.
    Direct,
}

impl Layout {
    /// Every layout, in documentation order.
    pub const ALL: [Layout; 3] = [Layout::Full, Layout::Catalog, Layout::Direct];

    /// The name used in options and in the `layout` label: `full`, `catalog` or `direct`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Layout::Full => "full",
            Layout::Catalog => "catalog",
            Layout::Direct => "direct",
        }
    }

    /// Whether the layout has a `rust_mod_info` series for `direct`-ness `direct`.
    pub const fn has_mod_info(self, direct: bool) -> bool {
        match self {
            Layout::Full => true,
            Layout::Catalog => false,
            Layout::Direct => direct,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A layout name that is none of `full`, `catalog`, `direct`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layout {0:?}: expected full, catalog or direct")]
pub struct UnknownLayout(pub String);

impl FromStr for Layout {
    type Err = UnknownLayout;

    fn from_str(s: &str) -> Result<Layout, UnknownLayout> {
        Layout::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownLayout(s.chars().take(64).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for l in Layout::ALL {
            assert_eq!(l.as_str().parse::<Layout>(), Ok(l));
        }
        assert_eq!(
            "Full".parse::<Layout>().unwrap_err().to_string(),
            "unknown layout \"Full\": expected full, catalog or direct"
        );
        assert_eq!(Layout::default(), Layout::Full);
        assert!(Layout::Direct.has_mod_info(true) && !Layout::Direct.has_mod_info(false));
        assert!(!Layout::Catalog.has_mod_info(true));
        assert!(Layout::Full.has_mod_info(false));
    }
}
