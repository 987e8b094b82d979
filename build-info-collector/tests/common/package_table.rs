//! Package tables for the tests and the benchmark, in the form build-info's generated code
//! writes (one line per package: name, version, one-character code), leaked to get the
//! `'static` the run side wants.

use std::fmt::Write as _;

use buildinfo::{DependencyKind, Packages, Source};

/// `(name, version, source, flags)`; flags: `R`/`B` (runtime, build-only), `D`/`T` (direct,
/// transitive), `*`/`-` (root or not).
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

pub fn packages(rows: &[Row<'_>]) -> Packages {
    let mut table = String::new();
    for &(name, version, source, flags) in rows {
        let flags = flags.as_bytes();
        let code = buildinfo::__code(
            Source::from_name(source).expect("a known source"),
            if flags[0] == b'B' {
                DependencyKind::Build
            } else {
                DependencyKind::Runtime
            },
            flags[1] == b'D',
            flags[2] == b'*',
        );
        let _ = writeln!(table, "{name}\t{version}\t{code}");
    }
    Packages::__from_table(Box::leak(table.into_boxed_str()))
}
