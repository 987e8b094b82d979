//! Text for people: inventories modelled on `go version -m`, and one short form per question.
//! Deterministic: inventories come in input order, packages in index order.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::paint::{Paint, Tone};
use crate::questions::{CrateSpread, Hit, Level, Report};
use depinfo_read::inventory::{Inventory, Kind, Package};
use depinfo_read::text_safety::printable;

/// Text in the shape of `go version -m`:
///
/// ```text
/// PATH: PROGRAM VERSION
/// <TAB>build<TAB>KEY=VALUE            (one per build fact, .bldinfo only)
/// <TAB>graph<TAB>WORDS                (what `graph=` means for the list, .bldinfo only)
/// <TAB>deps<TAB>DIGEST                (the dependency list's digest, when there is a graph)
/// <TAB>mod<TAB>NAME<TAB>VERSION<TAB>SOURCE   (the root package)
/// <TAB>dep<TAB>NAME<TAB>VERSION<TAB>SOURCE[<TAB>PROVENANCE]
/// <TAB>build-dep<TAB>NAME<TAB>VERSION<TAB>SOURCE[<TAB>PROVENANCE]
/// ```
///
/// DIGEST is [`Inventory::deps_list`]'s: what the program's own collector puts in
/// `rust_build_info{deps=...}` and the exporter serves at `/deps/DIGEST`.
/// PROVENANCE is `sha256:HEX` (the Cargo.lock checksum) or `URL#COMMIT` for git packages.
/// Every value is embedded data or a file name, not trusted: one with a control character
/// (tab and newline included, which would break the line format) is quoted with escapes
/// ([`depinfo_read::text_safety::printable`]).
pub fn text(inventories: &[Inventory]) -> String {
    let mut out = String::new();
    for inv in inventories {
        let _ = writeln!(
            out,
            "{}: {} {}",
            printable(&inv.path),
            printable(&inv.program),
            printable(&inv.version)
        );
        if let Some(build) = &inv.build {
            for (key, value) in build.pairs() {
                let _ = writeln!(out, "\tbuild\t{key}={}", printable(&value));
            }
            let meaning = build.graph.map_or(
                "the binary does not say how its list relates to what was linked",
                buildinfo::model::GraphScope::meaning,
            );
            let _ = writeln!(out, "\tgraph\t{meaning}");
        }
        if let Some(list) = inv.deps_list() {
            // 32 hex digits computed here: nothing to escape.
            let _ = writeln!(out, "\tdeps\t{}", list.digest());
        }
        let line = |out: &mut String, tag: &str, pkg: &Package| {
            let _ = write!(
                out,
                "\t{tag}\t{}\t{}\t{}",
                printable(&pkg.name),
                printable(&pkg.version),
                printable(&pkg.source)
            );
            if let Some(c) = &pkg.checksum {
                let _ = write!(out, "\tsha256:{}", printable(c));
            } else if let (Some(url), Some(commit)) = (&pkg.git_url, &pkg.git_commit) {
                let _ = write!(out, "\t{}#{}", printable(url), printable(commit));
            }
            out.push('\n');
        };
        if let Some(root) = inv.root() {
            line(&mut out, "mod", root);
        }
        for p in inv.packages.iter().filter(|p| !p.root) {
            let tag = match p.kind {
                Kind::Runtime => "dep",
                Kind::Build => "build-dep",
            };
            line(&mut out, tag, p);
        }
    }
    out
}

/// One line per hit: `LOCATION: PROGRAM[ PROGRAM_VERSION]: NAME VERSION SOURCE[ (build)]`.
/// Values come from fleet members' labels: quoted with escapes when they hold a control
/// character.
pub fn affected_text(hits: &[Hit]) -> String {
    affected_text_with(hits, Paint::plain())
}

/// [`affected_text`] with each hit's `NAME VERSION` in [`Tone::Danger`]: what was found.
/// The words are [`affected_text`]'s, and so are the bytes with [`Paint::plain`].
pub fn affected_text_with(hits: &[Hit], paint: Paint) -> String {
    let mut out = String::new();
    for h in hits {
        let _ = write!(
            out,
            "{}: {}",
            printable(&h.location),
            printable(&h.observation.runner.program)
        );
        if let Some(v) = &h.observation.runner.program_version {
            let _ = write!(out, " {}", printable(v));
        }
        let found = format!(
            "{} {}",
            printable(&h.observation.name),
            printable(&h.observation.version)
        );
        let _ = write!(
            out,
            ": {} {}",
            paint.tone(Some(Tone::Danger), found),
            printable(&h.observation.source)
        );
        if h.observation.kind == Kind::Build {
            out.push_str(" (build)");
        }
        out.push('\n');
    }
    out
}

/// Text: a header per crate, then one line per version and runner:
///
/// ```text
/// NAME: N versions
/// <TAB>VERSION<TAB>PROGRAM@LOCATION
/// <TAB>VERSION<TAB>PROGRAM@PROMETHEUS_URL<TAB>job=JOB instances=N
/// ```
///
/// The second form is the instances of a program in a job as a Prometheus API counted them.
///
/// Values come from fleet members' labels: quoted with escapes when they hold a control
/// character.
pub fn spread_text(crates: &[CrateSpread]) -> String {
    spread_text_with(crates, None, Paint::plain())
}

/// [`spread_text`] with colour in each crate's header line (`NAME: N versions`): in
/// [`Tone::Danger`] when the crate runs in more than `max_versions` versions (the limit of
/// `spread --max-versions`), else in [`Tone::Caution`] when it runs in more than one. The
/// words are [`spread_text`]'s, and so are the bytes with [`Paint::plain`].
pub fn spread_text_with(
    crates: &[CrateSpread],
    max_versions: Option<usize>,
    paint: Paint,
) -> String {
    let mut out = String::new();
    for c in crates {
        spread_text_crate(&mut out, c, max_versions, paint);
    }
    out
}

/// [`spread_text`] of crates made one at a time, written to `out` as they come.
///
/// # Errors
///
/// Writing failed.
pub fn write_spread_text(
    out: &mut dyn std::io::Write,
    crates: impl Iterator<Item = CrateSpread>,
) -> std::io::Result<()> {
    write_spread_text_with(out, crates, None, Paint::plain())
}

/// [`spread_text_with`] of crates made one at a time, written to `out` as they come.
///
/// # Errors
///
/// Writing failed.
pub fn write_spread_text_with(
    out: &mut dyn std::io::Write,
    crates: impl Iterator<Item = CrateSpread>,
    max_versions: Option<usize>,
    paint: Paint,
) -> std::io::Result<()> {
    let mut text = String::new();
    for c in crates {
        text.clear();
        spread_text_crate(&mut text, &c, max_versions, paint);
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// One crate's lines of [`spread_text_with`].
fn spread_text_crate(out: &mut String, c: &CrateSpread, max_versions: Option<usize>, paint: Paint) {
    let plural = if c.version_count == 1 { "" } else { "s" };
    let tone = if max_versions.is_some_and(|max| c.version_count > max) {
        Some(Tone::Danger)
    } else if c.version_count > 1 {
        Some(Tone::Caution)
    } else {
        None
    };
    let header = format!(
        "{}: {} version{plural}",
        printable(&c.name),
        c.version_count
    );
    let _ = writeln!(out, "{}", paint.tone(tone, header));
    for v in &c.versions {
        for r in &v.running {
            let _ = write!(
                out,
                "\t{}\t{}@{}",
                printable(&v.version),
                printable(&r.runner.program),
                printable(&r.location)
            );
            if r.runner.is_counted() {
                let job = r.runner.job.as_deref().unwrap_or("");
                let _ = write!(
                    out,
                    "\tjob={} instances={}",
                    printable(job),
                    r.runner.instances
                );
            }
            out.push('\n');
        }
    }
}

/// A table of the crates that are behind, sorted by program and crate:
/// `PROGRAM CRATE VERSION COMPATIBLE NEWEST BEHIND`. Empty when nothing is behind.
pub fn outdated_text(report: &Report) -> String {
    outdated_text_with(report, Paint::plain())
}

/// [`outdated_text`] with the `BEHIND` cell coloured: `major` in [`Tone::Danger`], `minor`
/// in [`Tone::Caution`], `patch` plain. The words and the columns are [`outdated_text`]'s
/// (the cell is the last one: nothing is padded after it), and so are the bytes with
/// [`Paint::plain`].
pub fn outdated_text_with(report: &Report, paint: Paint) -> String {
    let mut rows: Vec<[Cow<'_, str>; 6]> = Vec::new();
    let mut seen = BTreeSet::new();
    for r in report.rows.iter().filter(|r| r.level != Level::None) {
        if seen.insert((&r.program, &r.name, &r.version)) {
            // Programs and versions come from the sources, versions also from the index.
            rows.push([
                printable(&r.program),
                printable(&r.name),
                printable(&r.version),
                printable(&r.newest_compatible),
                printable(&r.newest),
                Cow::Borrowed(r.level.as_str()),
            ]);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let header = [
        "PROGRAM",
        "CRATE",
        "VERSION",
        "COMPATIBLE",
        "NEWEST",
        "BEHIND",
    ]
    .map(Cow::Borrowed);
    let mut widths = header.each_ref().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    for (r, row) in std::iter::once(&header).chain(&rows).enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                let tone = match cell.as_ref() {
                    _ if r == 0 => None,
                    "major" => Some(Tone::Danger),
                    "minor" => Some(Tone::Caution),
                    _ => None,
                };
                let _ = write!(line, "{}", paint.tone(tone, cell));
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sample;

    /// The digest of a list of one direct crates.io crate.
    fn digest_of_one(name: &str, version: &str) -> String {
        build_info_collector::DepsList::from_entries([build_info_collector::DepsEntry {
            name: name.into(),
            version: version.into(),
            source: "crates.io".into(),
            direct: true,
        }])
        .digest()
        .to_owned()
    }

    #[test]
    fn values_with_control_characters_are_quoted_and_lines_stay_whole() {
        let mut inv = sample();
        inv.path = "bin/\x1b[2Japp".into();
        inv.program = "app\nforged: x 1".into();
        inv.packages[1].name = "serde\tdep\x07".into();
        // The digest is of the list as the collector has it; the document itself turns
        // the tab into a space (see `DepsList`).
        let digest = digest_of_one("serde\tdep\x07", "1.0.219");
        assert_eq!(
            text(&[inv]),
            format!(
                "\"bin/\\x1b[2Japp\": \"app\\nforged: x 1\" 0.1.0\n\
             \tdeps\t{digest}\n\
             \tmod\tapp\t0.1.0\tlocal\n\
             \tdep\t\"serde\\tdep\\x07\"\t1.0.219\tcrates.io\n\
             \tbuild-dep\tserde_derive\t1.0.219\tcrates.io\n"
            )
        );
    }

    /// `PROGRAM` at `bin/PROGRAM` running each `(crate, version)`.
    fn runs(program: &str, crates: &[(&str, &str)]) -> Vec<crate::observation::Observation> {
        let deps: Vec<_> = crates.iter().map(|&(n, v)| (n, v, "crates.io")).collect();
        let json = testkit::dep_v0_json((program, "0.1.0", "local"), &deps);
        let path = format!("bin/{program}");
        let inv = depinfo_read::sections::decode_dep_v0(json.as_bytes(), path.as_ref()).unwrap();
        crate::observation::from_inventories(&[inv])
    }

    /// `a` and `b` run serde in two versions, and itoa in one.
    fn two_serdes() -> Vec<crate::observation::Observation> {
        let mut o = runs("a", &[("itoa", "1.0.15"), ("serde", "1.0.219")]);
        o.extend(runs("b", &[("itoa", "1.0.15"), ("serde", "1.0.220")]));
        o
    }

    #[test]
    fn a_spread_header_is_coloured_by_its_count_and_plain_is_spread_text() {
        let o = two_serdes();
        let all = crate::questions::spread(&o, &[], None);
        let plain = spread_text_with(&all, None, Paint::plain());
        assert_eq!(plain, spread_text(&all));
        assert_eq!(
            plain,
            "itoa: 1 version\n\t1.0.15\ta@bin/a\n\t1.0.15\tb@bin/b\n\
             serde: 2 versions\n\t1.0.219\ta@bin/a\n\t1.0.220\tb@bin/b\n"
        );
        // More than one version: yellow; one: plain; the lines under it: plain.
        assert_eq!(
            spread_text_with(&all, None, Paint::ansi()),
            "itoa: 1 version\n\t1.0.15\ta@bin/a\n\t1.0.15\tb@bin/b\n\
             \x1b[33mserde: 2 versions\x1b[0m\n\t1.0.219\ta@bin/a\n\t1.0.220\tb@bin/b\n"
        );
        // Over --max-versions: bold red, the same words (`--max-versions 0` shows every crate).
        let over = crate::questions::spread(&o, &[], Some(0));
        let mut streamed = Vec::new();
        write_spread_text_with(
            &mut streamed,
            over.clone().into_iter(),
            Some(0),
            Paint::ansi(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            "\x1b[1m\x1b[31mitoa: 1 version\x1b[0m\n\t1.0.15\ta@bin/a\n\t1.0.15\tb@bin/b\n\
             \x1b[1m\x1b[31mserde: 2 versions\x1b[0m\n\t1.0.219\ta@bin/a\n\t1.0.220\tb@bin/b\n"
        );
        let mut streamed = Vec::new();
        write_spread_text_with(
            &mut streamed,
            over.clone().into_iter(),
            Some(0),
            Paint::plain(),
        )
        .unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), spread_text(&over));
    }

    #[test]
    fn an_affected_hit_shows_what_was_found_in_red() {
        let o = two_serdes();
        let hits = crate::questions::affected(&o, "serde", &"^1".parse().unwrap());
        assert_eq!(
            affected_text_with(&hits, Paint::plain()),
            affected_text(&hits)
        );
        assert_eq!(
            affected_text_with(&hits, Paint::ansi()),
            "bin/a: a 0.1.0: \x1b[1m\x1b[31mserde 1.0.219\x1b[0m crates.io\n\
             bin/b: b 0.1.0: \x1b[1m\x1b[31mserde 1.0.220\x1b[0m crates.io\n"
        );
    }

    #[test]
    fn behind_is_coloured_by_level_and_the_columns_stay_aligned() {
        let row = |name: &str, level| crate::questions::Row {
            program: "app".into(),
            location: "bin/app".into(),
            name: name.into(),
            version: "1.0.0".into(),
            newest_compatible: "1.0.1".into(),
            newest: "2.0.0".into(),
            level,
        };
        let report = Report {
            rows: vec![
                row("a", Level::Major),
                row("bb", Level::Minor),
                row("c", Level::Patch),
                row("d", Level::None),
            ],
            programs: vec!["app".into()],
            errors: vec![],
        };
        let plain = "PROGRAM  CRATE  VERSION  COMPATIBLE  NEWEST  BEHIND\n\
                     app      a      1.0.0    1.0.1       2.0.0   major\n\
                     app      bb     1.0.0    1.0.1       2.0.0   minor\n\
                     app      c      1.0.0    1.0.1       2.0.0   patch\n";
        assert_eq!(outdated_text(&report), plain);
        assert_eq!(outdated_text_with(&report, Paint::plain()), plain);
        assert_eq!(
            outdated_text_with(&report, Paint::ansi()),
            "PROGRAM  CRATE  VERSION  COMPATIBLE  NEWEST  BEHIND\n\
             app      a      1.0.0    1.0.1       2.0.0   \x1b[1m\x1b[31mmajor\x1b[0m\n\
             app      bb     1.0.0    1.0.1       2.0.0   \x1b[33mminor\x1b[0m\n\
             app      c      1.0.0    1.0.1       2.0.0   patch\n"
        );
    }

    #[test]
    fn text_is_go_version_m_shaped() {
        let digest = digest_of_one("serde", "1.0.219");
        assert_eq!(
            text(&[sample()]),
            format!(
                "bin/app: app 0.1.0\n\
                 \tdeps\t{digest}\n\
                 \tmod\tapp\t0.1.0\tlocal\n\
                 \tdep\tserde\t1.0.219\tcrates.io\n\
                 \tbuild-dep\tserde_derive\t1.0.219\tcrates.io\n"
            )
        );
        // Without a dependency graph, no deps line.
        let mut bare = sample();
        bare.packages.clear();
        assert_eq!(text(&[bare]), "bin/app: app 0.1.0\n");
    }
}
