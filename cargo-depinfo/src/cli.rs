//! The command line: clap types in the cargo-subcommand shape (`cargo depinfo ...`), and their
//! translation into the library's options. Parsing and checks only; nothing runs here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::flags::{FileFlags, HttpFlags, LimitFlags, checked_timeout};
use cargo_depinfo::{LayoutChoice, Level, ListOptions, SourceArgs};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{LONG_VERSION, VERSION};

/// The cargo-subcommand shape: `cargo depinfo ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", version = VERSION, long_version = LONG_VERSION)]
pub(crate) enum Cli {
    Depinfo(Depinfo),
}

/// The dependency inventory of workspaces and binaries (build-info and cargo-auditable data).
///
/// Exit codes: 0 clean, 1 found what was asked about, 2 error or could not judge (unknown is
/// never clean).
#[derive(Debug, Args)]
#[command(version = VERSION, long_version = LONG_VERSION)]
pub(crate) struct Depinfo {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) files: FileFlags,
    #[command(flatten)]
    pub(crate) output: OutputFlags,
}

/// How the answer and the messages around it are shown: `--color` and `-q`, before or after
/// the command, as cargo takes them.
#[derive(Debug, Args)]
pub(crate) struct OutputFlags {
    /// Colour in the text answers: auto (only on a terminal that is not TERM=dumb, and only
    /// when NO_COLOR is unset or empty), always (even in a pipe, even with NO_COLOR set) or
    /// never. Default: $CARGO_TERM_COLOR, else auto.
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub(crate) color: Option<cargo_depinfo::When>,
    /// Print only the answer: no progress line, no `warning:` or `note:` lines on stderr
    /// (`error:` lines still are: they explain exit code 2).
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

impl OutputFlags {
    /// The colour of stdout: the flag, else `CARGO_TERM_COLOR`, else auto.
    pub(crate) fn paint(&self) -> Result<cargo_depinfo::Paint> {
        use std::io::IsTerminal as _;
        Ok(cargo_depinfo::Paint::choose(
            self.color,
            |name| std::env::var_os(name),
            std::io::stdout().is_terminal(),
        )?)
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// The dependency inventory of a package or workspace from source: what each selected
    /// package links when built on its own with these flags (build-info's resolution; its
    /// binaries also list what other workspace members' features can add). Works offline.
    List(ListArgs),
    /// Read the embedded data of binaries and directories of binaries (recursive).
    Inspect(InspectArgs),
    /// Which programs (binaries, instances) run a version of CRATE matching the SemVer
    /// requirement REQ. Exits 1 when any does.
    Affected(AffectedArgs),
    /// For each crate, the distinct versions running and who runs each. With --max-versions,
    /// only the crates over the limit, and exit 1 when there are any.
    Spread(SpreadArgs),
    /// Prometheus recording and alerting rules (YAML): instances per crate version on every
    /// layout, crate version spread, build revision drift, lists the catalog lacks.
    Rules(RulesArgs),
    /// How far each crate is behind the newest release in a registry's sparse index. Exits 1
    /// when one is behind at the --fail-on level or more.
    Outdated(OutdatedArgs),
    /// Which programs, and which instances of them, run a crate version that a RustSec
    /// advisory affects (cargo-audit's rules, over binaries and whole fleets). Exits 1 when
    /// any does (informational advisories only with --deny).
    Audit(AuditArgs),
    /// One self-contained HTML file (or its JSON model) of everything read: programs and their
    /// builds, crate version spread, advisories with their blast radius (--db), crates behind
    /// the registry (--outdated), where each crate version runs. Works offline.
    Report(ReportArgs),
    /// Moved to its own program: `depinfo-exporter` (cargo install depinfo-server), same
    /// flags. Prints where it went and exits 2.
    Exporter(MovedArgs),
    /// Moved to its own program: `depinfo-catalog` (cargo install depinfo-server), same
    /// flags. Prints where it went and exits 2.
    Catalog(MovedArgs),
    /// Shell completions for `cargo-depinfo` (what `cargo depinfo` runs), generated from these
    /// definitions: `cargo depinfo completions bash > ~/.local/share/bash-completion/completions/cargo-depinfo`.
    Completions(CompletionsArgs),
    /// Man pages (roff), one for `cargo-depinfo` and one per command, generated from these
    /// definitions into DIR: `cargo depinfo manpages --out-dir man/man1`.
    Manpages(ManpagesArgs),
    /// The Grafana dashboard (JSON) over the fleet's series, on the full and catalog layouts:
    /// `cargo depinfo dashboard > depinfo.json`, then Grafana, Dashboards, New, Import.
    Dashboard,
}

/// `cargo depinfo report`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) sources: SourceFlags,
    /// Add the advisories of the RustSec database at PATH (a clone of the advisory-db
    /// repository, as `audit --db` reads it; `audit --fetch` updates it).
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    /// Add the advisories of the database where cargo-audit keeps it ($CARGO_HOME/advisory-db).
    #[arg(long, conflicts_with = "db")]
    pub(crate) audit: bool,
    /// Add how far each crate is behind the registry's newest release (asks the registry's
    /// sparse index, as `outdated` does; with --offline, cargo's local index cache).
    #[arg(long)]
    pub(crate) outdated: bool,
    /// The registry's sparse index for --outdated (as `outdated --index`).
    #[arg(long, value_name = "URL", requires = "outdated")]
    pub(crate) index: Option<String>,
    /// The registry of cargo's configuration for --outdated (as `outdated --registry`).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "index",
        requires = "outdated"
    )]
    pub(crate) registry: Option<String>,
    /// For --outdated: cargo's local index cache only, without the network.
    #[arg(long, requires = "outdated")]
    pub(crate) offline: bool,
    /// Output format: html (one self-contained file) or json (the same model as data).
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub(crate) format: ReportFormat,
}

/// What `report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One HTML file: inline CSS, script and SVG, the model embedded once as JSON, a
    /// Content-Security-Policy that forbids every request.
    Html,
    /// The report's model (`format_version` 1).
    Json,
}

/// `cargo depinfo completions`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// `cargo depinfo manpages`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct ManpagesArgs {
    /// The directory the pages are written to (made when missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: PathBuf,
}

/// The command as its own binary sees it (`cargo-depinfo COMMAND ...`), for what is generated
/// from the definitions: completions and man pages.
pub(crate) fn binary_command() -> clap::Command {
    <Depinfo as Args>::augment_args(
        clap::Command::new("cargo-depinfo")
            .version(VERSION)
            .about("The dependency inventory of workspaces and binaries (build-info and cargo-auditable data)."),
    )
}

/// A command that moved to a program of its own: its old command lines are still recognised,
/// whatever flags they carry, so that the message says where it went.
#[derive(Debug, Args)]
pub(crate) struct MovedArgs {
    /// The flags of the old command line, taken as they are.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub(crate) args: Vec<OsString>,
}

/// The output formats. Each command accepts those that describe its answer
/// ([`Format::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Text: `go version -m`'s shape for inventories, a short form for answers.
    Text,
    /// JSON with a `format_version` (see the README).
    Json,
    /// CycloneDX JSON, 1.6 unless --spec-version says 1.5; one program per BOM (`list` and
    /// `inspect`).
    Cyclonedx,
    /// SPDX 2.3 JSON, one program per document (`list` and `inspect`).
    Spdx,
    /// Prometheus text exposition for node_exporter's textfile collector.
    Prometheus,
}

/// What the fleet questions can be rendered as (an answer is not a bill of materials).
const ANSWER_FORMATS: &[Format] = &[Format::Text, Format::Json, Format::Prometheus];

impl Format {
    /// The format if `command` can render it, else an error naming the ones it can.
    pub(crate) fn check(self, command: &str, allowed: &[Format]) -> Result<Format> {
        if allowed.contains(&self) {
            return Ok(self);
        }
        let names: Vec<String> = allowed.iter().map(|f| f.name()).collect();
        bail!(
            "`{command}` cannot write --format {}; choose one of: {}",
            self.name(),
            names.join(", ")
        )
    }

    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// The CycloneDX specification version `--format cyclonedx` writes (`--spec-version`, the
/// name cyclonedx-rust-cargo and cyclonedx-python give the flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum SpecVersion {
    /// CycloneDX 1.6.
    #[default]
    #[value(name = "1.6")]
    V1_6,
    /// CycloneDX 1.5, for consumers that read no later version.
    #[value(name = "1.5")]
    V1_5,
}

/// What `list` and `inspect` write: a format and, for CycloneDX, its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inventories {
    /// Text, JSON or Prometheus text.
    Plain(Format),
    /// A CycloneDX BOM of this version.
    Cyclonedx(cargo_depinfo::CycloneDxVersion),
    /// An SPDX 2.3 document.
    Spdx,
}

/// `--format` and `--spec-version` of `list` and `inspect`, checked together: the version
/// belongs to CycloneDX only.
fn inventories(format: Format, spec_version: Option<SpecVersion>) -> Result<Inventories> {
    Ok(match (format, spec_version) {
        (Format::Cyclonedx, None | Some(SpecVersion::V1_6)) => {
            Inventories::Cyclonedx(cargo_depinfo::CycloneDxVersion::V1_6)
        }
        (Format::Cyclonedx, Some(SpecVersion::V1_5)) => {
            Inventories::Cyclonedx(cargo_depinfo::CycloneDxVersion::V1_5)
        }
        (Format::Spdx, None) => Inventories::Spdx,
        (other, Some(_)) => bail!(
            "--spec-version is the CycloneDX version; --format {} takes none",
            other.name()
        ),
        (other, None) => Inventories::Plain(other),
    })
}

/// Cargo's package selection flags, shared by `list` and the fleet commands (which read the
/// workspace when no other source is given).
#[derive(Debug, Args)]
pub(crate) struct WorkspaceFlags {
    #[command(flatten)]
    manifest: clap_cargo::Manifest,
    #[command(flatten)]
    workspace: clap_cargo::Workspace,
    #[command(flatten)]
    features: clap_cargo::Features,
    /// Resolve for this target triple (default: the host).
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
}

impl WorkspaceFlags {
    /// The library's options; `cargo` is the cargo to run.
    pub(crate) fn options(&self, cargo: impl Into<PathBuf>) -> ListOptions {
        let mut options = ListOptions::new(cargo);
        options
            .manifest_path
            .clone_from(&self.manifest.manifest_path);
        options.packages.clone_from(&self.workspace.package);
        options.workspace = self.workspace.workspace || self.workspace.all;
        options.exclude.clone_from(&self.workspace.exclude);
        options.features = self
            .features
            .features
            .iter()
            .flat_map(|f| f.split([',', ' ']))
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        options.all_features = self.features.all_features;
        options.no_default_features = self.features.no_default_features;
        options.target.clone_from(&self.target);
        options
    }

    /// Whether any flag was given (then the workspace is read even beside other sources).
    fn any(&self) -> bool {
        self.manifest.manifest_path.is_some()
            || !self.workspace.package.is_empty()
            || self.workspace.workspace
            || self.workspace.all
            || !self.workspace.exclude.is_empty()
            || !self.features.features.is_empty()
            || self.features.all_features
            || self.features.no_default_features
            || self.target.is_some()
    }
}

/// The `Cargo.toml` in `dir` or its nearest parent that has one.
fn find_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join("Cargo.toml"))
        .find(|m| m.is_file())
}

/// The cargo to run: cargo sets `$CARGO` for subcommands (the same toolchain that ran us).
pub(crate) fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    cargo: WorkspaceFlags,
    /// Require Cargo.lock to be up to date (the graph is always read with --locked).
    #[arg(long)]
    locked: bool,
    /// Run without accessing the network (always the case: accepted for cargo's sake).
    #[arg(long)]
    offline: bool,
    /// Both --locked and --offline.
    #[arg(long)]
    frozen: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The CycloneDX version of --format cyclonedx: 1.6 (the default) or 1.5.
    #[arg(long, value_enum, value_name = "VERSION")]
    spec_version: Option<SpecVersion>,
}

impl ListArgs {
    /// What to write, `--format` and `--spec-version` checked together.
    pub(crate) fn output(&self) -> Result<Inventories> {
        inventories(self.format, self.spec_version)
    }

    /// The library's options; `cargo` is the cargo to run.
    pub(crate) fn options(&self, cargo: impl Into<PathBuf>) -> ListOptions {
        let mut options = self.cargo.options(cargo);
        options.locked = self.locked;
        options.frozen = self.frozen;
        options
    }
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Binaries and directories of binaries.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The CycloneDX version of --format cyclonedx: 1.6 (the default) or 1.5.
    #[arg(long, value_enum, value_name = "VERSION")]
    spec_version: Option<SpecVersion>,
    #[command(flatten)]
    pub(crate) limits: LimitFlags,
}

impl InspectArgs {
    /// What to write, `--format` and `--spec-version` checked together.
    pub(crate) fn output(&self) -> Result<Inventories> {
        inventories(self.format, self.spec_version)
    }
}

/// Where `affected`, `spread` and `outdated` look: binaries, /metrics endpoints, Prometheus
/// APIs, the cargo workspace.
#[derive(Debug, Args)]
pub(crate) struct SourceFlags {
    /// Binaries and directories of binaries. With no PATH, --metrics or --prometheus: the
    /// cargo workspace around the current directory (or --manifest-path), as `list` reads it.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// A /metrics endpoint to scrape (`http://host:port[/path]`; repeatable).
    #[arg(long = "metrics", value_name = "URL")]
    metrics: Vec<String>,
    /// A Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics) to query for
    /// rust_mod_info, or rust_build_info and the catalog's rust_deps_info
    /// (`http://host:9090[/prefix]`; repeatable).
    #[arg(long = "prometheus", value_name = "URL")]
    prometheus: Vec<String>,
    /// Seconds allowed for each network request (more than 0, at most 86400: one day).
    /// Default: 5 for a /metrics page (a dead target fails fast), 120 for a Prometheus API
    /// (Prometheus' own query timeout: a count over a large fleet takes seconds). Given, it
    /// applies to every source.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Which series layouts to read through --prometheus: auto asks which the fleet uses
    /// (one small query) and reads each instance in its own; full reads rust_mod_info only
    /// (the queries of fleets that have no catalog); catalog reads rust_build_info joined with
    /// the catalog's rust_deps_info only.
    #[arg(long, value_enum, value_name = "LAYOUT", default_value_t = LayoutFlag::Auto)]
    layout: LayoutFlag,
    /// How many network sources are read at once (sources that never answer each hold one
    /// worker for at most --timeout).
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: u16,
    #[command(flatten)]
    pub(crate) http: HttpFlags,
    #[command(flatten)]
    limits: LimitFlags,
    /// The workspace, when read: its packages are selected as `list` selects them.
    #[command(
        flatten,
        next_help_heading = "Workspace (when no other source is given)"
    )]
    cargo: WorkspaceFlags,
}

/// `--layout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LayoutFlag {
    /// Detect the layouts in use.
    Auto,
    /// rust_mod_info only.
    Full,
    /// rust_build_info and the catalog only.
    Catalog,
}

/// The error when no source is given outside a cargo project.
pub(crate) const NO_SOURCE_HINT: &str = "no source: give binaries or directories (PATH), --metrics URL or --prometheus URL, or run in a cargo project (or pass --manifest-path)";

/// The most characters of user input echoed in a message.
const MAX_ECHOED: usize = 80;

/// User input as echoed in a message: in quotes, control characters escaped, cut to
/// [`MAX_ECHOED`] characters followed by `…`.
fn echoed(input: &str) -> String {
    cargo_depinfo::quoted(&cargo_depinfo::shortened(input, MAX_ECHOED))
}

impl SourceFlags {
    /// The `--timeout` of `/metrics` pages and of Prometheus APIs: each kind's default
    /// ([`cargo_depinfo::DEFAULT_PAGE_TIMEOUT`], [`cargo_depinfo::DEFAULT_API_TIMEOUT`]), or
    /// the one given, checked, for both.
    pub(crate) fn timeouts(&self) -> Result<(Duration, Duration)> {
        match self.timeout {
            None => Ok((
                cargo_depinfo::DEFAULT_PAGE_TIMEOUT,
                cargo_depinfo::DEFAULT_API_TIMEOUT,
            )),
            Some(t) => {
                let t = checked_timeout(t)?;
                Ok((t, t))
            }
        }
    }

    /// The library's source arguments. The workspace is read when a workspace flag is given,
    /// or when no other source is and `cwd` is in a cargo project; with no source at all, an
    /// error with a hint.
    pub(crate) fn source_args(&self, cwd: &Path) -> Result<SourceArgs> {
        let mut args = SourceArgs::default();
        args.paths.clone_from(&self.paths);
        args.metrics.clone_from(&self.metrics);
        args.prometheus.clone_from(&self.prometheus);
        (args.timeout, args.api_timeout) = self.timeouts()?;
        args.layout = match self.layout {
            LayoutFlag::Auto => LayoutChoice::Auto,
            LayoutFlag::Full => LayoutChoice::Full,
            LayoutFlag::Catalog => LayoutChoice::Catalog,
        };
        args.workers = usize::from(self.jobs);
        args.client = Some(self.http.client(args.timeout)?);
        args.limits = self.limits.limits();
        if args.is_empty() || self.cargo.any() {
            let mut options = self.cargo.options(cargo_program());
            if options.manifest_path.is_none() {
                options.manifest_path = Some(find_manifest(cwd).context(NO_SOURCE_HINT)?);
            }
            args.workspace = Some(options);
        }
        Ok(args)
    }
}

#[derive(Debug, Args)]
pub(crate) struct AffectedArgs {
    /// Crate name.
    #[arg(value_name = "CRATE")]
    pub(crate) name: String,
    /// SemVer requirement, for example '>=1.0, <1.0.150'.
    #[arg(value_name = "REQ")]
    pub(crate) req: String,
    #[command(flatten)]
    pub(crate) sources: SourceFlags,
    /// Output format: text, json or prometheus.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

impl AffectedArgs {
    /// REQ, parsed; the message quotes it escaped and cut short (it may be anything).
    pub(crate) fn req(&self) -> Result<semver::VersionReq> {
        semver::VersionReq::parse(&self.req)
            .with_context(|| format!("invalid SemVer requirement {}", echoed(&self.req)))
    }

    pub(crate) fn format(&self) -> Result<Format> {
        self.format.check("affected", ANSWER_FORMATS)
    }
}

#[derive(Debug, Args)]
pub(crate) struct SpreadArgs {
    #[command(flatten)]
    pub(crate) sources: SourceFlags,
    /// Only this crate (repeatable).
    #[arg(long = "crate", value_name = "NAME")]
    pub(crate) crates: Vec<String>,
    /// Report only crates running in more versions than this; exit 1 when there are any.
    #[arg(long, value_name = "N")]
    pub(crate) max_versions: Option<usize>,
    /// Output format: text, json or prometheus.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

impl SpreadArgs {
    pub(crate) fn format(&self) -> Result<Format> {
        self.format.check("spread", ANSWER_FORMATS)
    }
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// The spread alert fires when a crate runs in more versions than this.
    #[arg(long, value_name = "N", default_value_t = 1)]
    max_versions: usize,
    /// Restrict the spread alert to this crate (repeatable).
    #[arg(long = "crate", value_name = "NAME")]
    crates: Vec<String>,
    /// How long a crate must run in too many versions before the spread alert fires (a
    /// Prometheus duration; default 15m: a rolling deploy that bumps a crate does not fire).
    #[arg(long, value_name = "DURATION")]
    spread_for: Option<String>,
    /// How long several revisions of a program must run at once before the drift alert fires
    /// (a Prometheus duration; default 30m: an ordinary rolling deploy does not fire).
    #[arg(long, value_name = "DURATION")]
    drift_for: Option<String>,
    /// How long instances may run a build whose dependency list the catalog lacks before the
    /// unknown-list alert fires (a Prometheus duration; default 10m).
    #[arg(long, value_name = "DURATION")]
    unknown_for: Option<String>,
    /// Every alert's `for:` at once (--spread-for, --drift-for and --unknown-for override it).
    #[arg(long = "for", value_name = "DURATION")]
    for_duration: Option<String>,
    /// The layouts the fleet runs: auto (any mix, a fleet half migrated included: each
    /// instance through rust_mod_info or through the catalog, counted once), full (only
    /// rust_mod_info: the cheapest rules) or catalog (only rust_build_info and the catalog;
    /// `direct` is taken as catalog).
    #[arg(long, value_enum, value_name = "LAYOUT", default_value_t = RulesLayoutArg::Auto)]
    layout: RulesLayoutArg,
    /// The alerts' severity label.
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    severity: String,
    /// Add an alert on `rust_advisory_info` (`cargo depinfo audit --format prometheus` in
    /// node_exporter's textfile directory): a program runs a crate version that an advisory
    /// affects.
    #[arg(long)]
    advisories: bool,
}

impl RulesArgs {
    pub(crate) fn options(self) -> cargo_depinfo::RulesOptions {
        let mut options = cargo_depinfo::RulesOptions::default();
        options.max_versions = self.max_versions;
        options.crates = self.crates;
        if let Some(spread_for) = self.spread_for.or_else(|| self.for_duration.clone()) {
            options.spread_for = spread_for;
        }
        if let Some(drift_for) = self.drift_for.or_else(|| self.for_duration.clone()) {
            options.drift_for = drift_for;
        }
        if let Some(unknown_for) = self.unknown_for.or(self.for_duration) {
            options.unknown_for = unknown_for;
        }
        options.severity = self.severity;
        options.advisories = self.advisories;
        options.layout = match self.layout {
            RulesLayoutArg::Auto => cargo_depinfo::RulesLayout::Auto,
            RulesLayoutArg::Full => cargo_depinfo::RulesLayout::Full,
            RulesLayoutArg::Catalog => cargo_depinfo::RulesLayout::Catalog,
        };
        options
    }
}

/// `rules --layout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RulesLayoutArg {
    /// Any mix of layouts.
    Auto,
    /// Every instance on the full layout.
    Full,
    /// Every instance publishes rust_build_info with its digest.
    #[value(alias = "direct")]
    Catalog,
}

#[derive(Debug, Args)]
pub(crate) struct OutdatedArgs {
    #[command(flatten)]
    pub(crate) sources: SourceFlags,
    /// The registry's sparse index (`http://`, `https://`, `sparse+` prefix allowed). Default:
    /// $CARGO_DEPINFO_INDEX, else the registry cargo's configuration gives for crates.io
    /// (source replacement followed), else crates.io's sparse index.
    #[arg(long, value_name = "URL")]
    pub(crate) index: Option<String>,
    /// Check against this registry of cargo's configuration ([registries.NAME] index, or
    /// CARGO_REGISTRIES_<NAME>_INDEX) instead of crates.io.
    #[arg(long, value_name = "NAME", conflicts_with = "index")]
    pub(crate) registry: Option<String>,
    /// Answer from cargo's local index cache in $CARGO_HOME, without the network (crates
    /// missing from the cache are errors, never up to date).
    #[arg(long)]
    pub(crate) offline: bool,
    /// Exit 1 when a crate is behind at this level or more.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::None)]
    fail_on: FailOn,
    /// Output format: text (a table of the crates that are behind), json or prometheus.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

impl OutdatedArgs {
    pub(crate) fn format(&self) -> Result<Format> {
        self.format.check("outdated", ANSWER_FORMATS)
    }

    /// The level at which the command exits 1, if any.
    pub(crate) fn threshold(&self) -> Option<Level> {
        match self.fail_on {
            FailOn::Major => Some(Level::Major),
            FailOn::Minor => Some(Level::Minor),
            FailOn::Patch => Some(Level::Patch),
            FailOn::None => None,
        }
    }
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

/// `cargo depinfo audit`'s output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// Text, grouped by advisory.
    Text,
    /// JSON with a `format_version`: one document per run (see the README).
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// Prometheus text exposition (`rust_advisory_info`) for node_exporter's textfile
    /// collector.
    Prometheus,
}

/// Informational advisories that make `audit` exit 1, as cargo-audit's `--deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Deny {
    /// Every informational advisory (unmaintained, unsound, notice).
    Warnings,
    /// Unmaintained crates.
    Unmaintained,
    /// Unsound crates.
    Unsound,
}

impl Deny {
    /// Whether an informational advisory of `kind` fails the run under this flag.
    pub(crate) fn covers(self, kind: &str) -> bool {
        match self {
            Deny::Warnings => true,
            Deny::Unmaintained => kind == "unmaintained",
            Deny::Unsound => kind == "unsound",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) sources: SourceFlags,
    /// The advisory database: a clone of RustSec's repository (default:
    /// $CARGO_HOME/advisory-db, where cargo-audit keeps it).
    #[arg(long, value_name = "PATH")]
    pub(crate) db: Option<PathBuf>,
    /// Clone the database, or update it, with git before the audit (nothing is fetched
    /// otherwise).
    #[arg(long)]
    pub(crate) fetch: bool,
    /// The repository --fetch clones.
    #[arg(long, value_name = "URL", default_value = cargo_depinfo::DEFAULT_DB_URL)]
    pub(crate) db_url: String,
    /// Seconds each git command of --fetch may take.
    #[arg(long, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) fetch_timeout: u64,
    /// Warn when the database's last commit is older than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub(crate) db_max_age: u64,
    /// Leave this advisory out (repeatable; audit.toml's `[advisories] ignore` too).
    #[arg(long, value_name = "RUSTSEC-ID")]
    pub(crate) ignore: Vec<String>,
    /// Exit 1 on informational advisories of this kind too (repeatable): warnings (all),
    /// unmaintained or unsound.
    #[arg(long, short = 'D', value_enum, value_name = "KIND")]
    pub(crate) deny: Vec<Deny>,
    /// Exit 0 on findings whose every binary answered `not-found` (not found in the debug
    /// information): they are still printed (depinfo.toml's `[audit] ignore-not-found` too).
    #[arg(long)]
    pub(crate) ignore_not_found: bool,
    /// Output format: text, json, sarif or prometheus.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub(crate) format: AuditFormat,
}

/// The arguments in the cargo-subcommand shape. Run by cargo as `cargo depinfo ...`, argv[1]
/// is `depinfo` already; run directly as `cargo-depinfo ...` it is missing, so it is added.
pub(crate) fn cargo_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn parse(v: &[&str]) -> Command {
        let Cli::Depinfo(d) = Cli::try_parse_from(cargo_args(os(v))).unwrap();
        d.command
    }

    #[test]
    fn the_cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn argv_takes_the_cargo_subcommand_shape() {
        assert_eq!(
            cargo_args(os(&["/x/cargo-depinfo", "depinfo", "list"])),
            os(&["cargo", "depinfo", "list"])
        );
        assert_eq!(
            cargo_args(os(&["cargo-depinfo", "inspect", "a"])),
            os(&["cargo", "depinfo", "inspect", "a"])
        );
        assert_eq!(cargo_args(os(&[])), os(&["cargo", "depinfo"]));
    }

    #[test]
    fn list_takes_cargos_flags() {
        let Command::List(args) = parse(&[
            "cargo-depinfo",
            "list",
            "--manifest-path",
            "x/Cargo.toml",
            "-p",
            "a",
            "--package",
            "b@1.2.3",
            "--exclude",
            "c",
            "--features",
            "x,y",
            "-F",
            "z",
            "--no-default-features",
            "--locked",
            "--offline",
            "--frozen",
        ]) else {
            panic!("not list");
        };
        let o = args.options("cargo");
        assert_eq!(o.manifest_path, Some(PathBuf::from("x/Cargo.toml")));
        assert_eq!(o.packages, ["a", "b@1.2.3"]);
        assert_eq!(o.exclude, ["c"]);
        assert_eq!(o.features, ["x", "y", "z"]);
        assert!(o.no_default_features && !o.all_features && !o.workspace);
        assert!(o.locked && o.frozen);
        let Command::List(args) =
            parse(&["cargo-depinfo", "list", "--workspace", "--all-features"])
        else {
            panic!("not list");
        };
        let o = args.options("cargo");
        assert!(o.workspace && o.all_features);
    }

    #[test]
    fn fleet_commands_take_the_workspace_and_registry_flags() {
        let Command::Outdated(o) = parse(&[
            "cargo-depinfo",
            "outdated",
            "--registry",
            "mine",
            "--offline",
            "-p",
            "app",
            "--features",
            "a,b",
        ]) else {
            panic!("not outdated");
        };
        assert_eq!(o.registry.as_deref(), Some("mine"));
        assert!(o.offline && o.index.is_none());
        // A workspace flag reads the workspace; outside a project that is the hint.
        let e = o.sources.source_args(Path::new("/")).unwrap_err();
        assert_eq!(e.to_string(), NO_SOURCE_HINT);
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let args = o.sources.source_args(&here).unwrap();
        let w = args.workspace.unwrap();
        assert_eq!(
            w.manifest_path,
            Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        );
        assert_eq!(w.packages, ["app"]);
        assert_eq!(w.features, ["a", "b"]);
        // Paths alone: no workspace.
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "bin/"]) else {
            panic!("not spread");
        };
        assert!(s.sources.source_args(&here).unwrap().workspace.is_none());
        assert!(
            Cli::try_parse_from(cargo_args(os(&[
                "x",
                "outdated",
                "--index",
                "http://a/",
                "--registry",
                "b"
            ])))
            .is_err()
        );
    }

    #[test]
    fn each_command_checks_its_format() {
        let Command::Affected(a) = parse(&[
            "cargo-depinfo",
            "affected",
            "x",
            "^1",
            "--format",
            "cyclonedx",
        ]) else {
            panic!("not affected");
        };
        assert_eq!(
            a.format().unwrap_err().to_string(),
            "`affected` cannot write --format cyclonedx; choose one of: text, json, prometheus"
        );
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--format", "prometheus"])
        else {
            panic!("not spread");
        };
        assert_eq!(s.format().unwrap(), Format::Prometheus);
        let Command::Outdated(o) = parse(&["cargo-depinfo", "outdated", "--format", "cyclonedx"])
        else {
            panic!("not outdated");
        };
        assert!(o.format().is_err());
    }

    #[test]
    fn sbom_formats_and_the_cyclonedx_version_are_checked_together() {
        use cargo_depinfo::CycloneDxVersion;
        let inspect = |extra: &[&str]| {
            let mut v = vec!["cargo-depinfo", "inspect", "bin"];
            v.extend_from_slice(extra);
            let Command::Inspect(i) = parse(&v) else {
                panic!("not inspect");
            };
            i.output()
        };
        assert_eq!(
            inspect(&["--format", "cyclonedx"]).unwrap(),
            Inventories::Cyclonedx(CycloneDxVersion::V1_6)
        );
        assert_eq!(
            inspect(&["--format", "cyclonedx", "--spec-version", "1.6"]).unwrap(),
            Inventories::Cyclonedx(CycloneDxVersion::V1_6)
        );
        assert_eq!(
            inspect(&["--format", "cyclonedx", "--spec-version", "1.5"]).unwrap(),
            Inventories::Cyclonedx(CycloneDxVersion::V1_5)
        );
        assert_eq!(inspect(&["--format", "spdx"]).unwrap(), Inventories::Spdx);
        assert_eq!(inspect(&[]).unwrap(), Inventories::Plain(Format::Text));
        assert_eq!(
            inspect(&["--spec-version", "1.5"]).unwrap_err().to_string(),
            "--spec-version is the CycloneDX version; --format text takes none"
        );
        let Command::List(l) = parse(&["cargo-depinfo", "list", "--format", "spdx"]) else {
            panic!("not list");
        };
        assert_eq!(l.output().unwrap(), Inventories::Spdx);
        for bad in ["1.4", "1.7", "2.3"] {
            assert!(
                Cli::try_parse_from(cargo_args(os(&[
                    "cargo-depinfo",
                    "inspect",
                    "bin",
                    "--spec-version",
                    bad
                ])))
                .is_err(),
                "{bad}"
            );
        }
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--format", "spdx"]) else {
            panic!("not spread");
        };
        assert!(s.format().is_err());
    }

    #[test]
    fn audit_takes_cargo_audit_like_flags() {
        let Command::Audit(a) = parse(&["cargo-depinfo", "audit", "bin"]) else {
            panic!("not audit");
        };
        assert_eq!(a.db_url, cargo_depinfo::DEFAULT_DB_URL);
        assert_eq!((a.db_max_age, a.fetch_timeout, a.fetch), (90, 300, false));
        assert_eq!(a.format, AuditFormat::Text);
        assert!(!a.ignore_not_found);
        let Command::Audit(a) = parse(&[
            "cargo-depinfo",
            "audit",
            "--ignore-not-found",
            "--db",
            "/db",
            "--ignore",
            "RUSTSEC-2099-0001",
            "--ignore=RUSTSEC-2099-0002",
            "-D",
            "unsound",
            "--deny",
            "warnings",
            "--format",
            "sarif",
        ]) else {
            panic!("not audit");
        };
        assert_eq!(a.db.as_deref(), Some(std::path::Path::new("/db")));
        assert_eq!(a.ignore, ["RUSTSEC-2099-0001", "RUSTSEC-2099-0002"]);
        assert_eq!(a.deny, [Deny::Unsound, Deny::Warnings]);
        assert_eq!(a.format, AuditFormat::Sarif);
        assert!(a.ignore_not_found);
        assert!(Deny::Warnings.covers("notice") && Deny::Unsound.covers("unsound"));
        assert!(!Deny::Unmaintained.covers("unsound"));
        for bad in [["--deny", "yanked"], ["--fetch-timeout", "0"]] {
            let args = [&["cargo-depinfo", "audit"][..], &bad[..]].concat();
            assert!(Cli::try_parse_from(cargo_args(args.iter().map(OsString::from))).is_err());
        }
    }

    /// `--color` and `-q` go before or after the command, as cargo's own do.
    #[test]
    fn color_and_quiet_are_global_flags() {
        let output = |v: &[&str]| {
            let Cli::Depinfo(d) = Cli::try_parse_from(cargo_args(os(v))).unwrap();
            (d.output.color, d.output.quiet)
        };
        assert_eq!(output(&["cargo-depinfo", "spread"]), (None, false));
        assert_eq!(
            output(&["cargo-depinfo", "--color", "always", "-q", "spread"]),
            (Some(cargo_depinfo::When::Always), true)
        );
        assert_eq!(
            output(&["cargo-depinfo", "audit", "--quiet", "--color=never", "bin"]),
            (Some(cargo_depinfo::When::Never), true)
        );
        assert_eq!(
            output(&["cargo-depinfo", "outdated", "--color", "auto"]),
            (Some(cargo_depinfo::When::Auto), false)
        );
        for bad in ["sometimes", "ALWAYS", ""] {
            let flag = format!("--color={bad}");
            assert!(
                Cli::try_parse_from(cargo_args(os(&["cargo-depinfo", "spread", &flag]))).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_huge_timeout_is_refused_not_a_panic() {
        for bad in ["9.3e18", "1e300", "86400.5", "0", "-1", "NaN", "inf"] {
            let flag = format!("--timeout={bad}");
            let Command::Spread(s) = parse(&["cargo-depinfo", "spread", &flag]) else {
                panic!("not spread");
            };
            let e = s.sources.timeouts().unwrap_err().to_string();
            assert!(e.contains("at most 86400"), "{bad}: {e}");
        }
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--timeout", "86400"]) else {
            panic!("not spread");
        };
        let day = Duration::from_secs(86_400);
        assert_eq!(s.sources.timeouts().unwrap(), (day, day));
    }

    /// Issue 19: a /metrics page keeps failing fast, a Prometheus API gets Prometheus' own
    /// query timeout; `--timeout` given applies to both.
    #[test]
    fn each_kind_of_source_has_its_default_timeout() {
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread"]) else {
            panic!("not spread");
        };
        assert_eq!(
            s.sources.timeouts().unwrap(),
            (Duration::from_secs(5), Duration::from_secs(120))
        );
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--timeout", "7"]) else {
            panic!("not spread");
        };
        let seven = Duration::from_secs(7);
        assert_eq!(s.sources.timeouts().unwrap(), (seven, seven));
        assert_eq!(s.sources.layout, LayoutFlag::Auto);
        for (given, expected) in [("full", LayoutFlag::Full), ("catalog", LayoutFlag::Catalog)] {
            let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--layout", given]) else {
                panic!("not spread");
            };
            assert_eq!(s.sources.layout, expected);
        }
        assert!(
            Cli::try_parse_from(cargo_args(os(&[
                "cargo-depinfo",
                "spread",
                "--layout",
                "direct"
            ])))
            .is_err()
        );
    }

    #[test]
    fn jobs_bound_the_sources_read_at_once() {
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread"]) else {
            panic!("not spread");
        };
        assert_eq!(usize::from(s.sources.jobs), cargo_depinfo::DEFAULT_WORKERS);
        let Command::Spread(s) = parse(&["cargo-depinfo", "spread", "--jobs", "4"]) else {
            panic!("not spread");
        };
        assert_eq!(s.sources.jobs, 4);
        for bad in ["0", "1025", "-1", "many"] {
            let flag = format!("--jobs={bad}");
            assert!(
                Cli::try_parse_from(cargo_args(os(&["cargo-depinfo", "spread", &flag]))).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_huge_req_is_echoed_cut_short_and_escaped() {
        let req = format!("\x1b]0;owned\x07{}", "9".repeat(120_000));
        let Command::Affected(a) = parse(&["cargo-depinfo", "affected", "x", &req]) else {
            panic!("not affected");
        };
        let e = format!("{:#}", a.req().unwrap_err());
        assert!(e.len() < 400, "{} bytes", e.len());
        assert!(
            e.starts_with("invalid SemVer requirement \"\\x1b]0;owned\\x07999"),
            "{e}"
        );
        assert!(e.contains("…\""), "{e}");
        assert!(!e.chars().any(char::is_control), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(500))]

        /// Whatever REQ holds, it is accepted or refused in one short line without control
        /// characters (the message quotes it cut short and escaped).
        #[test]
        fn any_req_is_accepted_or_refused_in_one_short_line(req in "(.|\\PC|[\\x00-\\x1f]){0,300}") {
            let Command::Affected(a) = parse(&["cargo-depinfo", "affected", "x", "--", &req]) else {
                panic!("not affected");
            };
            match a.req() {
                Ok(_) => proptest::prop_assert!(semver::VersionReq::parse(&req).is_ok()),
                Err(e) => {
                    let e = format!("{e:#}");
                    proptest::prop_assert!(!e.chars().any(char::is_control), "{e}");
                    // 80 characters of at most 10 (`\u{10ffff}`) each, the words, the quotes.
                    proptest::prop_assert!(e.chars().count() <= 80 * 10 + 200, "{e}");
                }
            }
        }
    }
}
