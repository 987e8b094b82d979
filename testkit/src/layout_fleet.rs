//! The fleet the scale benches generate (`fleet_scale`, `catalog_scale`): [`INSTANCES`]
//! instances of [`PROGRAMS`] programs, [`CRATES`] crates each, drawn from a pool of [`POOL`]
//! crate names with a few versions per crate across the fleet, and a canary tenth of each
//! program's instances running the next build, one patch ahead on a quarter of its crates. So
//! the fleet runs `2 × PROGRAMS` distinct builds, each with its own dependency list.
//!
//! Only names and numbers live here: a bench turns them into exposition (`catalog_scale` with
//! the collector's own types, `build-info-collector`, which this dev-only crate does not
//! depend on, so the pages are what real collectors serve; `fleet_scale` writes its
//! `rust_mod_info` lines itself).
//!
//! A *generation* is one rollout of the whole fleet: a rolling restart replaces every pod by
//! one with a new address, so the same builds come back under new `instance` label values
//! ([`instance`]; generations `0..=9`).
//!
//! ```
//! use testkit::layout_fleet::{crates, instance, member};
//!
//! let m = member(20);
//! assert_eq!((m.program, m.canary), (0, false));
//! assert_eq!(instance(20, 0), "10.0.0.20:8080");
//! assert_eq!(instance(20, 1), "10.100.0.20:8080");
//! assert_eq!(crates(0, false).len(), testkit::layout_fleet::CRATES);
//! ```

/// Instances in the fleet.
pub const INSTANCES: usize = 1_000;
/// Distinct programs; instance `i` runs program `i % PROGRAMS`.
pub const PROGRAMS: usize = 20;
/// Crates each program is built with.
pub const CRATES: usize = 300;
/// The crate names the programs draw their crates from.
pub const POOL: usize = 450;
/// The `source` label of every crate of the fleet.
pub const SOURCE: &str = "crates.io";
/// How many of a program's crates are direct dependencies (its first ones).
pub const DIRECT: usize = 30;

/// What one instance runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Its index, `0..INSTANCES`.
    pub index: usize,
    /// Its program, `0..PROGRAMS`.
    pub program: usize,
    /// Whether it is one of the program's canaries (every tenth instance of the program),
    /// which run the next build.
    pub canary: bool,
}

/// Instance `index` of the fleet.
pub fn member(index: usize) -> Member {
    let program = index % PROGRAMS;
    Member {
        index,
        program,
        canary: (index / PROGRAMS).is_multiple_of(10),
    }
}

/// The name of program `p`: `program-07`.
pub fn program_name(p: usize) -> String {
    format!("program-{p:02}")
}

/// The scrape job of program `p`'s instances: `svc-07`.
pub fn job(p: usize) -> String {
    format!("svc-{p:02}")
}

/// The `instance` label of instance `index` in `generation` (a pod's address and port):
/// `10.<100 × generation + program>.<index / 250>.<index % 250>:8080`.
///
/// # Panics
///
/// When `generation` is above 9 (the address would not be one).
pub fn instance(index: usize, generation: usize) -> String {
    assert!(generation <= 9, "generation {generation} is above 9");
    let p = index % PROGRAMS;
    format!(
        "10.{}.{}.{}:8080",
        100 * generation + p,
        index / 250,
        index % 250
    )
}

/// A PromQL regular expression (for `instance=~"…"`, already escaped for a PromQL string)
/// that matches the `instance` labels of `generation` and no other.
pub fn instance_regex(generation: usize) -> String {
    assert!(generation <= 9, "generation {generation} is above 9");
    // The second octet is 100 × generation + program, and programs are fewer than 100.
    if generation == 0 {
        r"10\\.[0-9]{1,2}\\..+".to_owned()
    } else {
        format!(r"10\\.{generation}[0-9][0-9]\\..+")
    }
}

/// The version of program `p` its instances run (the canary one patch ahead).
pub fn version(p: usize, canary: bool) -> String {
    format!("2.{p}.{}", usize::from(canary))
}

/// The git revision of program `p`'s build (40 hex digits, a different one for the canary).
pub fn revision(p: usize, canary: bool) -> String {
    let p64 = u64::try_from(p).expect("a program index fits u64");
    let seed = (p64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(canary);
    format!("{seed:016x}{:016x}{:08x}", seed.rotate_left(17), p)
}

/// One crate of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetCrate {
    /// `crate-123`.
    pub name: String,
    /// `1.<minor>.<patch>`.
    pub version: String,
    /// Whether the program names it directly.
    pub direct: bool,
}

/// The crates program `p` is built with, the canary's build when `canary`: [`CRATES`] distinct
/// names of the pool; each program pins one of three minors of a crate, and the canary runs
/// the next patch of every fourth crate of the pool.
pub fn crates(p: usize, canary: bool) -> Vec<FleetCrate> {
    (0..CRATES)
        .map(|k| {
            let c = (p * 7 + k) % POOL;
            let minor = (c + p) % 3;
            let ahead = usize::from(canary && c.is_multiple_of(4));
            FleetCrate {
                name: format!("crate-{c:03}"),
                version: format!("1.{minor}.{}", c % 5 + ahead),
                direct: k < DIRECT,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_distinct_and_names_unique_within_a_build() {
        let mut builds = Vec::new();
        for p in 0..PROGRAMS {
            for canary in [false, true] {
                let list = crates(p, canary);
                let mut names: Vec<&str> = list.iter().map(|c| c.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names.len(), CRATES);
                builds.push(list);
            }
        }
        let all = builds.len();
        builds.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        builds.dedup();
        assert_eq!(builds.len(), all);
    }

    #[test]
    fn a_tenth_are_canaries_and_generations_never_share_an_instance() {
        let canaries = (0..INSTANCES).filter(|&i| member(i).canary).count();
        assert_eq!(canaries, INSTANCES / 10);
        let mut seen: Vec<String> = (0..INSTANCES)
            .flat_map(|i| [instance(i, 0), instance(i, 1)])
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 2 * INSTANCES);
    }

    #[test]
    fn revisions_are_forty_hex_digits_and_differ_per_build() {
        let mut all: Vec<String> = (0..PROGRAMS)
            .flat_map(|p| [revision(p, false), revision(p, true)])
            .collect();
        assert!(
            all.iter()
                .all(|r| r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 2 * PROGRAMS);
    }
}
