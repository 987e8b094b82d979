//! One function per command: read through the library, ask the question, render the answer
//! in the chosen format. Failed inputs are lines on stderr as they are met; the exit code
//! follows from the errors and the answer ([`Outcome::new`]).

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::{self as depinfo, Inventory, Observation, SparseIndex};

use crate::Outcome;
use crate::cli::{
    AffectedArgs, Format, InspectArgs, ListArgs, OutdatedArgs, RulesArgs, SourceFlags, SpreadArgs,
};
use crate::progress_line::ProgressLine;

pub(crate) fn list(args: &ListArgs) -> Result<Outcome> {
    // cargo sets $CARGO for subcommands: use the same cargo (toolchain) that ran us.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let inventories = depinfo::list(&args.options(cargo)).context("cannot list dependencies")?;
    Ok(Outcome::new(
        render(args.format, &inventories, &[])?,
        &[],
        false,
    ))
}

pub(crate) fn inspect(args: &InspectArgs) -> Result<Outcome> {
    let mut progress = ProgressLine::stderr();
    let scan = depinfo::inspect_paths_with(&args.paths, &args.limits.limits(), &mut |e| {
        progress.show(e);
    });
    progress.finish();
    let errors = report(&scan.errors);
    let stdout = render(args.format, &scan.inventories, &errors)?;
    Ok(Outcome::new(stdout, &errors, false))
}

pub(crate) fn affected(args: &AffectedArgs) -> Result<Outcome> {
    let format = args.format()?;
    let req = args.req()?;
    let (observations, errors) = collect(&args.sources)?;
    let hits = depinfo::affected(&observations, &args.name, &req);
    let unjudged = depinfo::unjudged(&observations, &args.name);
    let stdout = match format {
        Format::Json => depinfo::affected_json(&args.name, &args.req, &hits, &unjudged, &errors),
        Format::Prometheus => {
            // The exposition has no place for them: say so on stderr (and in the exit code).
            eprint!("{}", unjudged_lines("warning: ", &unjudged));
            depinfo::affected_prometheus(&args.name, &args.req, &hits)
        }
        _ => depinfo::affected_text(&hits) + &unjudged_lines("", &unjudged),
    };
    // Unknown is never clean: an answer that could not judge every version ends like a
    // partial one (exit code 2), even when it also found hits.
    let mut failed = errors;
    if !unjudged.is_empty() {
        failed.push(format!(
            "{} version(s) of {} are not SemVer and cannot be judged",
            unjudged.len(),
            args.name
        ));
    }
    Ok(Outcome::new(stdout, &failed, !hits.is_empty()))
}

/// One line per observation `affected` cannot judge: the hit's text line, marked.
fn unjudged_lines(prefix: &str, unjudged: &[depinfo::Hit]) -> String {
    let mut out = String::new();
    for line in depinfo::affected_text(unjudged).lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push_str(" (not SemVer: cannot judge)\n");
    }
    out
}

pub(crate) fn spread(args: &SpreadArgs) -> Result<Outcome> {
    let format = args.format()?;
    let (observations, errors) = collect(&args.sources)?;
    let crates = depinfo::spread(&observations, &args.crates, args.max_versions);
    let stdout = match format {
        Format::Json => depinfo::spread_json(&crates, args.max_versions, &errors),
        Format::Prometheus => depinfo::spread_prometheus(&crates),
        _ => depinfo::spread_text(&crates),
    };
    let over = args.max_versions.is_some() && !crates.is_empty();
    Ok(Outcome::new(stdout, &errors, over))
}

pub(crate) fn rules(args: RulesArgs) -> Result<Outcome> {
    Ok(Outcome::new(depinfo::rules(&args.options())?, &[], false))
}

pub(crate) fn outdated(args: &OutdatedArgs) -> Result<Outcome> {
    let format = args.format()?;
    let timeout = args.sources.timeout()?;
    let index = match &args.index {
        Some(url) => SparseIndex::new(url, timeout)?,
        None => match SparseIndex::from_env(timeout) {
            Some(index) => index?,
            None => bail!(
                "no registry index: pass --index URL or set {}",
                depinfo::INDEX_ENV.join(" or ")
            ),
        },
    };
    let (observations, mut errors) = collect(&args.sources)?;
    let mut progress = ProgressLine::stderr();
    let outdated = depinfo::outdated(&observations, &index, &mut |e| progress.show(e));
    progress.finish();
    errors.extend(report(&outdated.errors));
    let stdout = match format {
        Format::Json => depinfo::outdated_json(&outdated, index.url(), &errors),
        Format::Prometheus => depinfo::outdated_prometheus(&outdated),
        _ => depinfo::outdated_text(&outdated),
    };
    let behind = args.threshold().is_some_and(|t| outdated.worst() >= t);
    Ok(Outcome::new(stdout, &errors, behind))
}

/// An inventory rendering; CycloneDX describes exactly one program.
fn render(format: Format, inventories: &[Inventory], errors: &[String]) -> Result<String> {
    Ok(match format {
        Format::Text => depinfo::text(inventories),
        Format::Json => depinfo::json(inventories, errors),
        Format::Prometheus => depinfo::prometheus(inventories),
        Format::Cyclonedx => match inventories {
            [one] => depinfo::cyclonedx(one),
            [] => String::new(),
            many => bail!(
                "--format cyclonedx describes one program; {} were found (name one binary or package)",
                many.len()
            ),
        },
    })
}

/// Every failed input is a line on stderr, its control characters escaped (a file name or a
/// value in it is not trusted); the messages go into the JSON `errors` as they are (the JSON
/// writer escapes them).
fn report(errors: &[impl std::fmt::Display]) -> Vec<String> {
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for e in &errors {
        eprintln!("error: {}", depinfo::printable_line(e));
    }
    errors
}

/// Reads the sources, with a progress line on stderr when it is a terminal.
fn collect(flags: &SourceFlags) -> Result<(Vec<Observation>, Vec<String>)> {
    let args = flags.source_args()?;
    let mut progress = ProgressLine::stderr();
    let (observations, errors) = depinfo::collect_with(&args, &mut |e| progress.show(e));
    progress.finish();
    Ok((observations, report(&errors)))
}

/// Serves until SIGTERM or SIGINT; the exporter's own build info comes from this binary.
#[cfg(target_os = "linux")]
pub(crate) fn exporter(args: &crate::cli::ExporterArgs) -> Result<Outcome> {
    use build_info_collector::{BuildInfoLabels, build_info_family};
    use cargo_depinfo::exporter::{ScanOptions, ServeOptions, serve};

    let info = &crate::BUILD_INFO;
    let mut own = build_info_family(info.program());
    let labels = BuildInfoLabels {
        branch: info.branch().into(),
        features: info.features().into(),
        profile: info.profile().into(),
        revision: info.revision_label().into(),
        rustversion: info.rust_version().into(),
        target: info.target().into(),
        version: info.version().into(),
    };
    own.push(labels.pairs(), 1);
    let mut scan = ScanOptions::new(&args.proc_root);
    scan.limits = args.limits.limits();
    scan.paths.clone_from(&args.paths);
    // This process reports its own build info above, as a program with a collector would:
    // leave it out of the scan. `self` in the proc tree is this process's PID as that tree's
    // PID namespace numbers it (a host /proc mounted in a container with hostPID included).
    scan.skip_pid = std::fs::read_link(args.proc_root.join("self"))
        .ok()
        .and_then(|pid| pid.to_str()?.parse().ok());
    let mut options = ServeOptions::new(
        args.listen,
        std::time::Duration::from_secs(args.interval),
        scan,
    );
    options.own_build_info = Some(own);
    options.max_connections = usize::try_from(args.max_connections).unwrap_or(usize::MAX);
    options.header_read_timeout = std::time::Duration::from_secs(args.header_read_timeout);
    serve(&options, |addr| {
        eprintln!("cargo-depinfo exporter listening on {addr}");
    })?;
    Ok(Outcome::new(String::new(), &[], false))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn exporter(_: &crate::cli::ExporterArgs) -> Result<Outcome> {
    bail!("the exporter reads /proc: it runs on Linux only")
}
