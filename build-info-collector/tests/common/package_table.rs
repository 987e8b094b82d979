//! Package tables for the tests and the benchmark, leaked to get the `'static` the run side
//! wants, in whichever form build-info's hidden `Packages::__from_table` takes: `(table,
//! offsets)` with eight-field lines, or `(table)` with one-character codes. build-info is
//! changing that internal format while this crate is written; the arity picks the encoding
//! (the way axum's `Handler` impls pick by arity), so the tests hold on either side.

use std::fmt::Write as _;

use build_info::Packages;

/// `(name, version, source, flags)`; flags: `R`/`B` (runtime, build-only), `D`/`T` (direct,
/// transitive), `*`/`-` (root or not).
pub type Row<'a> = (&'a str, &'a str, &'a str, &'a str);

pub fn packages<A, F: FromTable<A>>(from_table: F, rows: &[Row<'_>]) -> Packages {
    from_table.packages(rows)
}

pub trait FromTable<A> {
    fn packages(self, rows: &[Row<'_>]) -> Packages;
}

impl<F: FnOnce(&'static str) -> Packages> FromTable<(&'static str,)> for F {
    fn packages(self, rows: &[Row<'_>]) -> Packages {
        let mut table = String::new();
        for &(name, version, source, flags) in rows {
            let source = match source {
                "crates.io" => 0,
                "registry" => 1,
                "git" => 2,
                _ => 3,
            };
            let flags = flags.as_bytes();
            let code = b'@'
                + source * 8
                + if flags[0] == b'B' { 4 } else { 0 }
                + if flags[1] == b'D' { 2 } else { 0 }
                + u8::from(flags[2] == b'*');
            let _ = writeln!(table, "{name}\t{version}\t{}", char::from(code));
        }
        self(Box::leak(table.into_boxed_str()))
    }
}

impl<F: FnOnce(&'static str, &'static [u32]) -> Packages> FromTable<(&'static str, &'static [u32])>
    for F
{
    fn packages(self, rows: &[Row<'_>]) -> Packages {
        let mut table = String::new();
        let mut offsets = vec![0_u32];
        for &(name, version, source, flags) in rows {
            let _ = writeln!(table, "{name}\t{version}\t{source}\t{flags}\t\t\t\t");
            offsets.push(u32::try_from(table.len()).expect("small table"));
        }
        self(
            Box::leak(table.into_boxed_str()),
            Box::leak(offsets.into_boxed_slice()),
        )
    }
}
