//! `cargo depinfo`: see the crate README for the commands, formats and exit codes.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::{
    FeatureSelection, Inventory, Level, Limits, ListOptions, Progress, SparseIndex,
};
use clap::{Args, Parser, Subcommand, ValueEnum};

buildinfo::build_info!();

/// Exit code: nothing found, everything read.
const EXIT_CLEAN: u8 = 0;
/// Exit code: found what was asked about (`affected`).
const EXIT_FOUND: u8 = 1;
/// Exit code: an error (bad input, unreadable file, failed cargo).
const EXIT_ERROR: u8 = 2;

/// The cargo-subcommand shape: `cargo depinfo ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", version = VERSION, long_version = LONG_VERSION)]
enum Cli {
    Depinfo(Depinfo),
}

/// The dependency inventory of workspaces and binaries (build-info and cargo-auditable data).
///
/// Exit codes: 0 clean, 1 found what was asked about, 2 error.
#[derive(Debug, Args)]
#[command(version = VERSION, long_version = LONG_VERSION)]
struct Depinfo {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The dependency inventory of a package or workspace from source: exactly what build-info
    /// would embed. Works offline.
    List(ListArgs),
    /// Read the embedded data of binaries and directories of binaries (recursive).
    Inspect(InspectArgs),
    /// Which programs (binaries, instances) run a version of CRATE matching the SemVer
    /// requirement REQ. Exits 1 when any does.
    Affected(AffectedArgs),
    /// For each crate, the distinct versions running and who runs each. With --max-versions,
    /// only the crates over the limit, and exit 1 when there are any.
    Spread(SpreadArgs),
    /// Prometheus alerting rules (YAML) for crate version spread and build revision drift.
    Rules(RulesArgs),
    /// How far each crate is behind the newest release in a registry's sparse index. Exits 1
    /// when one is behind at the --fail-on level or more.
    Outdated(OutdatedArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Text modelled on `go version -m`.
    Text,
    /// JSON with a `format_version` (see the README).
    Json,
    /// CycloneDX 1.5 JSON (one program per BOM).
    Cyclonedx,
    /// Prometheus text exposition for node_exporter's textfile collector:
    /// `<program>_build_info` and `rust_mod_info`, as build-info-collector serves them.
    Prometheus,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Package to list (repeatable; `NAME` or `NAME@VERSION`).
    #[arg(short, long = "package", value_name = "SPEC")]
    packages: Vec<String>,
    /// List every workspace member.
    #[arg(long, conflicts_with = "packages")]
    workspace: bool,
    /// Features to activate (comma- or space-separated, repeatable).
    #[arg(short = 'F', long, value_name = "FEATURES")]
    features: Vec<String>,
    /// Activate all features.
    #[arg(long)]
    all_features: bool,
    /// Do not activate the `default` feature.
    #[arg(long)]
    no_default_features: bool,
    /// Resolve for this target triple (default: the host).
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

#[derive(Debug, Args)]
struct InspectArgs {
    /// Binaries and directories of binaries.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
}

/// Where `affected` and `spread` look: binaries, /metrics endpoints, Prometheus APIs.
#[derive(Debug, Args)]
struct SourceFlags {
    /// Binaries and directories of binaries (default: the current directory, when no
    /// --metrics or --prometheus is given).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A /metrics endpoint to scrape (`http://host:port[/path]`; repeatable).
    #[arg(long = "metrics", value_name = "URL")]
    metrics: Vec<String>,
    /// A Prometheus HTTP API (Prometheus, Thanos, Mimir) to query for rust_mod_info
    /// (`http://host:9090[/prefix]`; repeatable).
    #[arg(long = "prometheus", value_name = "URL")]
    prometheus: Vec<String>,
    /// Seconds allowed for each network source.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    timeout: f64,
}

impl SourceFlags {
    fn source_args(&self) -> Result<cargo_depinfo::SourceArgs> {
        let mut args = cargo_depinfo::SourceArgs::default();
        args.paths.clone_from(&self.paths);
        args.metrics.clone_from(&self.metrics);
        args.prometheus.clone_from(&self.prometheus);
        args.timeout = Duration::try_from_secs_f64(self.timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .context("--timeout must be a positive number of seconds")?;
        Ok(args)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FleetFormat {
    /// Readable text.
    Text,
    /// JSON with a `format_version` (see the README).
    Json,
    /// Prometheus text exposition for node_exporter's textfile collector.
    Prometheus,
}

#[derive(Debug, Args)]
struct AffectedArgs {
    /// Crate name.
    #[arg(value_name = "CRATE")]
    name: String,
    /// SemVer requirement, for example '>=1.0, <1.0.150'.
    #[arg(value_name = "REQ")]
    req: String,
    #[command(flatten)]
    sources: SourceFlags,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    format: FleetFormat,
}

#[derive(Debug, Args)]
struct SpreadArgs {
    #[command(flatten)]
    sources: SourceFlags,
    /// Only this crate (repeatable).
    #[arg(long = "crate", value_name = "NAME")]
    crates: Vec<String>,
    /// Report only crates running in more versions than this; exit 1 when there are any.
    #[arg(long, value_name = "N")]
    max_versions: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    format: FleetFormat,
}

#[derive(Debug, Args)]
struct RulesArgs {
    /// The spread alert fires when a crate runs in more versions than this.
    #[arg(long, value_name = "N", default_value_t = 1)]
    max_versions: usize,
    /// Restrict the spread alert to this crate (repeatable).
    #[arg(long = "crate", value_name = "NAME")]
    crates: Vec<String>,
    /// How long a condition must hold before the alert fires (a Prometheus duration).
    #[arg(long = "for", value_name = "DURATION", default_value = "0s")]
    for_duration: String,
    /// The alerts' severity label.
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    severity: String,
}

#[derive(Debug, Args)]
struct OutdatedArgs {
    #[command(flatten)]
    sources: SourceFlags,
    /// The registry's sparse index (`http://`, `https://`, `sparse+` prefix allowed). Default:
    /// $CARGO_DEPINFO_INDEX, else $CARGO_REGISTRIES_CRATES_IO_INDEX.
    #[arg(long, value_name = "URL")]
    index: Option<String>,
    /// Exit 1 when a crate is behind at this level or more.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::None)]
    fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutdatedFormat::Text)]
    format: OutdatedFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// A breaking release (outside the caret range).
    Major,
    /// A compatible release with a higher minor number, or a breaking one.
    Minor,
    /// Any newer release.
    Patch,
    /// Never (exit 0 unless something failed).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutdatedFormat {
    /// A table of the crates that are behind.
    Text,
    /// JSON with a `format_version` (see the README).
    Json,
    /// Prometheus text exposition for node_exporter's textfile collector.
    Prometheus,
}

/// The arguments in the cargo-subcommand shape. Run by cargo as `cargo depinfo ...`, argv[1]
/// is `depinfo` already; run directly as `cargo-depinfo ...` it is missing, so it is added.
fn cargo_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let program = OsString::from("cargo");
    if args.is_empty() {
        return vec![program, "depinfo".into()];
    }
    args[0] = program;
    if args.get(1).is_none_or(|a| a != "depinfo") {
        args.insert(1, "depinfo".into());
    }
    args
}

/// What a command printed and how it ended.
struct Outcome {
    stdout: String,
    code: u8,
}

fn main() -> ExitCode {
    let Cli::Depinfo(cli) = Cli::parse_from(cargo_args(std::env::args_os()));
    match run(cli) {
        Ok(outcome) => {
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
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Depinfo) -> Result<Outcome> {
    match cli.command {
        Command::List(args) => list(args),
        Command::Inspect(args) => inspect(&args),
        Command::Affected(args) => affected(&args),
        Command::Spread(args) => spread(&args),
        Command::Rules(args) => rules(args),
        Command::Outdated(args) => outdated(&args),
    }
}

fn render(format: OutputFormat, inventories: &[Inventory], errors: &[String]) -> Result<String> {
    Ok(match format {
        OutputFormat::Text => cargo_depinfo::text(inventories),
        OutputFormat::Json => cargo_depinfo::json(inventories, errors),
        OutputFormat::Prometheus => cargo_depinfo::prometheus(inventories),
        OutputFormat::Cyclonedx => match inventories {
            [one] => cargo_depinfo::cyclonedx(one),
            [] => String::new(),
            many => bail!(
                "--format cyclonedx describes one program; {} were found (name one binary or package)",
                many.len()
            ),
        },
    })
}

fn list(args: ListArgs) -> Result<Outcome> {
    // cargo sets $CARGO for subcommands: use the same cargo (toolchain) that ran us.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut options = ListOptions::new(cargo);
    options.manifest_path = args.manifest_path;
    options.packages = args.packages;
    options.workspace = args.workspace;
    options.target = args.target;
    options.features = FeatureSelection::Cli {
        features: args
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        all_features: args.all_features,
        no_default_features: args.no_default_features,
    };
    let inventories = cargo_depinfo::list(&options).context("cannot list dependencies")?;
    Ok(Outcome {
        stdout: render(args.format, &inventories, &[])?,
        code: EXIT_CLEAN,
    })
}

/// Scans with a progress line on stderr when it is a terminal.
fn scan_with_progress(paths: &[PathBuf]) -> cargo_depinfo::Scan {
    let mut progress = Progress::stderr();
    let scan = cargo_depinfo::inspect_paths_with(paths, &Limits::default(), &mut |n, path| {
        progress.update("scanning", n, None, &path.display().to_string());
    });
    progress.finish();
    scan
}

fn inspect(args: &InspectArgs) -> Result<Outcome> {
    let scan = scan_with_progress(&args.paths);
    let errors: Vec<String> = scan.errors.iter().map(ToString::to_string).collect();
    for e in &errors {
        eprintln!("error: {e}");
    }
    let stdout = render(args.format, &scan.inventories, &errors)?;
    Ok(Outcome {
        stdout,
        code: if errors.is_empty() {
            EXIT_CLEAN
        } else {
            EXIT_ERROR
        },
    })
}

/// Reads the sources; every failed one is a line on stderr.
///
/// Binaries are scanned here, with a progress line when stderr is a terminal; the network
/// sources by `cargo_depinfo::collect`. The order is the same: binaries first.
fn collect(flags: &SourceFlags) -> Result<(Vec<cargo_depinfo::Observation>, Vec<String>)> {
    let mut args = flags.source_args()?;
    let mut paths = std::mem::take(&mut args.paths);
    let network = !args.metrics.is_empty() || !args.prometheus.is_empty();
    if paths.is_empty() && !network {
        paths.push(PathBuf::from("."));
    }
    let mut observations = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    if !paths.is_empty() {
        let scan = scan_with_progress(&paths);
        observations.extend(cargo_depinfo::from_inventories(&scan.inventories));
        errors.extend(scan.errors.iter().map(ToString::to_string));
    }
    if network {
        let (o, e) = cargo_depinfo::collect(&args);
        observations.extend(o);
        errors.extend(e.iter().map(ToString::to_string));
    }
    for e in &errors {
        eprintln!("error: {e}");
    }
    Ok((observations, errors))
}

/// Errors win over findings: a partial answer is not a clean one.
fn exit_code(errors: &[String], found: bool) -> u8 {
    if !errors.is_empty() {
        EXIT_ERROR
    } else if found {
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    }
}

fn affected(args: &AffectedArgs) -> Result<Outcome> {
    let req = semver::VersionReq::parse(&args.req)
        .with_context(|| format!("invalid SemVer requirement {:?}", args.req))?;
    let (observations, errors) = collect(&args.sources)?;
    let hits = cargo_depinfo::affected(&observations, &args.name, &req);
    let stdout = match args.format {
        FleetFormat::Text => cargo_depinfo::affected_text(&hits),
        FleetFormat::Json => cargo_depinfo::affected_json(&args.name, &args.req, &hits, &errors),
        FleetFormat::Prometheus => cargo_depinfo::affected_prometheus(&args.name, &args.req, &hits),
    };
    Ok(Outcome {
        stdout,
        code: exit_code(&errors, !hits.is_empty()),
    })
}

fn spread(args: &SpreadArgs) -> Result<Outcome> {
    let (observations, errors) = collect(&args.sources)?;
    let crates = cargo_depinfo::spread(&observations, &args.crates, args.max_versions);
    let stdout = match args.format {
        FleetFormat::Text => cargo_depinfo::spread_text(&crates),
        FleetFormat::Json => cargo_depinfo::spread_json(&crates, args.max_versions, &errors),
        FleetFormat::Prometheus => cargo_depinfo::spread_prometheus(&crates),
    };
    let over = args.max_versions.is_some() && !crates.is_empty();
    Ok(Outcome {
        stdout,
        code: exit_code(&errors, over),
    })
}

fn rules(args: RulesArgs) -> Result<Outcome> {
    let mut options = cargo_depinfo::RulesOptions::default();
    options.max_versions = args.max_versions;
    options.crates = args.crates;
    options.for_duration = args.for_duration;
    options.severity = args.severity;
    Ok(Outcome {
        stdout: cargo_depinfo::rules(&options)?,
        code: EXIT_CLEAN,
    })
}

fn outdated(args: &OutdatedArgs) -> Result<Outcome> {
    let timeout = args.sources.source_args()?.timeout;
    let index = match &args.index {
        Some(url) => SparseIndex::new(url, timeout)?,
        None => match SparseIndex::from_env(timeout) {
            Some(index) => index?,
            None => bail!(
                "no registry index: pass --index URL or set {}",
                cargo_depinfo::INDEX_ENV.join(" or ")
            ),
        },
    };
    let (observations, mut errors) = collect(&args.sources)?;
    // Only crates from the registry are in its index (not git, local or other registries).
    let uses: Vec<cargo_depinfo::Use> = observations
        .iter()
        .filter(|o| o.source == "crates.io")
        .map(|o| cargo_depinfo::Use::new(&o.program, o.location(), &o.name, &o.version))
        .collect();
    let programs: Vec<String> = observations.iter().map(|o| o.program.clone()).collect();
    let mut progress = Progress::stderr();
    let mut report = cargo_depinfo::check(&uses, &programs, &index, &mut |done, total| {
        progress.update(
            "checking",
            done as u64,
            Some(total as u64),
            "crates in the index",
        );
    });
    progress.finish();
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    errors.append(&mut report.errors);
    report.errors = errors;
    let stdout = match args.format {
        OutdatedFormat::Text => cargo_depinfo::outdated_text(&report),
        OutdatedFormat::Json => cargo_depinfo::outdated_json(&report, index.url()),
        OutdatedFormat::Prometheus => cargo_depinfo::outdated_prometheus(&report),
    };
    let threshold = match args.fail_on {
        FailOn::Major => Some(Level::Major),
        FailOn::Minor => Some(Level::Minor),
        FailOn::Patch => Some(Level::Patch),
        FailOn::None => None,
    };
    let code = if !report.errors.is_empty() {
        EXIT_ERROR
    } else if threshold.is_some_and(|t| report.worst() >= t) {
        EXIT_FOUND
    } else {
        EXIT_CLEAN
    };
    Ok(Outcome { stdout, code })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn argv_takes_the_cargo_subcommand_shape() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            cargo_args(os(&["/x/cargo-depinfo", "depinfo", "list"])),
            os(&["cargo", "depinfo", "list"])
        );
        assert_eq!(
            cargo_args(os(&["cargo-depinfo", "inspect", "a"])),
            os(&["cargo", "depinfo", "inspect", "a"])
        );
        assert_eq!(cargo_args(os(&[])), os(&["cargo", "depinfo"]));
        let Cli::Depinfo(d) = Cli::try_parse_from(cargo_args(os(&[
            "cargo-depinfo",
            "list",
            "-p",
            "a",
            "--features",
            "x,y",
        ])))
        .unwrap();
        assert!(
            matches!(d.command, Command::List(ListArgs { ref packages, .. }) if packages == &["a"])
        );
    }
}
