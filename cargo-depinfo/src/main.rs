//! `cargo depinfo`: see the crate README for the commands, formats and exit codes. This file
//! dispatches to the library and decides exit codes; the clap types are in `cli.rs`.

mod cli;
mod progress_line;

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::{self as depinfo, Inventory, Limits, Observation, SparseIndex};

use crate::cli::{Cli, Command, Format, SourceFlags};
use crate::progress_line::ProgressLine;

buildinfo::build_info!();

/// Exit code: nothing found, everything read.
const EXIT_CLEAN: u8 = 0;
/// Exit code: found what was asked about (`affected`, `spread --max-versions`, `outdated
/// --fail-on`).
const EXIT_FOUND: u8 = 1;
/// Exit code: an error (bad input, unreadable source, failed cargo). Errors win over findings:
/// a partial answer is not a clean one.
const EXIT_ERROR: u8 = 2;

/// What a command printed and how it ended.
struct Outcome {
    stdout: String,
    code: u8,
}

impl Outcome {
    fn new(stdout: String, errors: &[String], found: bool) -> Outcome {
        let code = match (errors.is_empty(), found) {
            (false, _) => EXIT_ERROR,
            (true, true) => EXIT_FOUND,
            (true, false) => EXIT_CLEAN,
        };
        Outcome { stdout, code }
    }
}

fn main() -> ExitCode {
    let Cli::Depinfo(cli) = clap::Parser::parse_from(cli::cargo_args(std::env::args_os()));
    let outcome = match run(cli.command) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(outcome.stdout.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::from(outcome.code),
        // `cargo depinfo inspect dir | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_CLEAN),
        Err(e) => {
            eprintln!("error: writing output: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::List(args) => {
            // cargo sets $CARGO for subcommands: use the same cargo (toolchain) that ran us.
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let inventories =
                depinfo::list(&args.options(cargo)).context("cannot list dependencies")?;
            Ok(Outcome::new(
                render(args.format, &inventories, &[])?,
                &[],
                false,
            ))
        }
        Command::Inspect(args) => {
            let mut progress = ProgressLine::stderr();
            let scan = depinfo::inspect_paths_with(&args.paths, &Limits::default(), &mut |e| {
                progress.show(e);
            });
            progress.finish();
            let errors = report(&scan.errors);
            Ok(Outcome::new(
                render(args.format, &scan.inventories, &errors)?,
                &errors,
                false,
            ))
        }
        Command::Affected(args) => {
            let format = args.format()?;
            let req = semver::VersionReq::parse(&args.req)
                .with_context(|| format!("invalid SemVer requirement {:?}", args.req))?;
            let (observations, errors) = collect(&args.sources)?;
            let hits = depinfo::affected(&observations, &args.name, &req);
            let stdout = match format {
                Format::Json => depinfo::affected_json(&args.name, &args.req, &hits, &errors),
                Format::Prometheus => depinfo::affected_prometheus(&args.name, &args.req, &hits),
                _ => depinfo::affected_text(&hits),
            };
            Ok(Outcome::new(stdout, &errors, !hits.is_empty()))
        }
        Command::Spread(args) => {
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
        Command::Rules(args) => Ok(Outcome::new(depinfo::rules(&args.options())?, &[], false)),
        Command::Outdated(args) => {
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
            let mut report = depinfo::outdated(&observations, &index, &mut |e| progress.show(e));
            progress.finish();
            errors.extend(
                report
                    .errors
                    .iter()
                    .inspect(|e| eprintln!("error: {e}"))
                    .cloned(),
            );
            report.errors = errors;
            let stdout = match format {
                Format::Json => depinfo::outdated_json(&report, index.url()),
                Format::Prometheus => depinfo::outdated_prometheus(&report),
                _ => depinfo::outdated_text(&report),
            };
            let behind = args.threshold().is_some_and(|t| report.worst() >= t);
            Ok(Outcome::new(stdout, &report.errors, behind))
        }
    }
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

/// Every failed input is a line on stderr; the messages go into the JSON `errors` too.
fn report(errors: &[impl std::fmt::Display]) -> Vec<String> {
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for e in &errors {
        eprintln!("error: {e}");
    }
    errors
}

/// Reads the sources with a progress line on stderr when it is a terminal.
fn collect(flags: &SourceFlags) -> Result<(Vec<Observation>, Vec<String>)> {
    let args = flags.source_args()?;
    let mut progress = ProgressLine::stderr();
    let (observations, errors) = depinfo::collect_with(&args, &mut |e| progress.show(e));
    progress.finish();
    Ok((observations, report(&errors)))
}
