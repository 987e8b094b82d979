//! One function per command: read through the library, ask the question, render the answer
//! in the chosen format (text coloured by the [`Paint`] given). Failed inputs are lines on
//! stderr as they are met, through [`console`] (which `-q` quiets but for errors); the exit
//! code follows from the errors and the answer ([`Outcome::new`]).

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::{
    self as depinfo, Ask, IndexOptions, Inventory, Observation, Paint, SparseIndex,
};

use crate::Outcome;
use crate::cli::{
    AffectedArgs, AuditArgs, AuditFormat, Format, InspectArgs, Inventories, ListArgs, OutdatedArgs,
    ReportArgs, ReportFormat, RulesArgs, SourceFlags, SpreadArgs,
};
use crate::console;

pub(crate) fn list(args: &ListArgs) -> Result<Outcome> {
    let output = args.output()?;
    let inventories = depinfo::list(&args.options(crate::cli::cargo_program()))
        .context("cannot list dependencies")?;
    Ok(Outcome::new(render(output, &inventories, &[])?, &[], false))
}

pub(crate) fn inspect(args: &InspectArgs) -> Result<Outcome> {
    let output = args.output()?;
    let mut progress = console::progress();
    let scan = depinfo::inspect_paths_with(&args.paths, &args.limits.limits(), &mut |e| {
        progress.show(e);
    });
    progress.finish();
    let errors = report(&scan.errors);
    let stdout = render(output, &scan.inventories, &errors)?;
    Ok(Outcome::new(stdout, &errors, false))
}

pub(crate) fn affected(args: &AffectedArgs, paint: Paint) -> Result<Outcome> {
    let format = args.format()?;
    let req = args.req()?;
    let (observations, errors, notes) = collect(
        &args.sources,
        Ask::Instances,
        std::slice::from_ref(&args.name),
    )?;
    let hits = depinfo::affected(&observations, &args.name, &req);
    let unjudged = depinfo::unjudged(&observations, &args.name);
    let stdout = match format {
        Format::Json => {
            depinfo::affected_json(&args.name, &args.req, &hits, &unjudged, &errors, &notes)
        }
        Format::Prometheus => {
            // The exposition has no place for them: say so on stderr (and in the exit code).
            for line in unjudged_lines(&unjudged, Paint::plain()).lines() {
                console::warning(line);
            }
            depinfo::affected_prometheus(&args.name, &args.req, &hits)
        }
        _ => depinfo::affected_text_with(&hits, paint) + &unjudged_lines(&unjudged, paint),
    };
    // Unknown is never clean: an answer that could not judge every version ends like a
    // partial one (exit code 2), even when it also found hits.
    let mut failed = errors;
    if !unjudged.is_empty() {
        let e = format!(
            "{} version(s) of {} are not SemVer and cannot be judged",
            unjudged.len(),
            args.name
        );
        // Quiet, the warnings that explain exit code 2 are gone: one error says it.
        if format == Format::Prometheus && console::quiet() {
            console::error(&e);
        }
        failed.push(e);
    }
    Ok(Outcome::new(stdout, &failed, !hits.is_empty()))
}

/// One line per observation `affected` cannot judge: the hit's text line, marked (the mark
/// in [`depinfo::Tone::Caution`]).
fn unjudged_lines(unjudged: &[depinfo::Hit], paint: Paint) -> String {
    let mut out = String::new();
    for line in depinfo::affected_text(unjudged).lines() {
        out.push_str(line);
        out.push(' ');
        let mark = paint.tone(Some(depinfo::Tone::Caution), "(not SemVer: cannot judge)");
        out.push_str(&mark.to_string());
        out.push('\n');
    }
    out
}

pub(crate) fn spread(args: &SpreadArgs, paint: Paint) -> Result<Outcome> {
    let format = args.format()?;
    let (observations, errors, notes) = collect(&args.sources, Ask::Counts, &args.crates)?;
    let max_versions = args.max_versions;
    let spread = depinfo::Spread::new(observations, &args.crates, max_versions);
    let over = max_versions.is_some() && !spread.is_empty();
    if format == Format::Prometheus {
        let crates: Vec<_> = spread.crates().collect();
        return Ok(Outcome::new(
            depinfo::spread_prometheus(&crates),
            &errors,
            over,
        ));
    }
    // JSON and text are written crate by crate, as they are made.
    let failed = errors.clone();
    let write: crate::Writer = match format {
        Format::Json => Box::new(move |out: &mut dyn std::io::Write| {
            depinfo::write_spread_json(out, &spread, max_versions, &errors, &notes)
        }),
        _ => Box::new(move |out: &mut dyn std::io::Write| {
            depinfo::write_spread_text_with(out, spread.crates(), max_versions, paint)
        }),
    };
    Ok(Outcome::streamed(write, &failed, over))
}

pub(crate) fn rules(args: RulesArgs) -> Result<Outcome> {
    Ok(Outcome::new(depinfo::rules(&args.options())?, &[], false))
}

pub(crate) fn outdated(args: &OutdatedArgs, paint: Paint) -> Result<Outcome> {
    let format = args.format()?;
    let cwd = current_dir()?;
    // The sources are checked first: no source at all is the first thing to say.
    let sources = args.sources.source_args(&cwd)?;
    // One client for the index and the sources: one budget over all their answers.
    let Some(client) = sources.client.clone() else {
        bail!("no HTTP client")
    };
    let index = open_index(
        cwd,
        client,
        args.index.as_ref(),
        args.registry.as_ref(),
        args.offline,
    )?;
    let mut sources = sources;
    sources.ask = Ask::CountsWithSource;
    let (observations, mut errors, notes) = collect_args(&sources);
    let outdated = behind(&index, &observations);
    errors.extend(report(&outdated.errors));
    let stdout = match format {
        Format::Json => depinfo::outdated_json(&outdated, index.url(), &errors, &notes),
        Format::Prometheus => depinfo::outdated_prometheus(&outdated),
        _ => depinfo::outdated_text_with(&outdated, paint),
    };
    let behind = args.threshold().is_some_and(|t| outdated.worst() >= t);
    Ok(Outcome::new(stdout, &errors, behind))
}

/// The registry's index `outdated` and `report --outdated` ask: `--index`, else `--registry`,
/// else cargo's configuration for crates.io; `--offline`: cargo's local cache of it.
fn open_index(
    cwd: std::path::PathBuf,
    client: depinfo::Client,
    index: Option<&String>,
    registry: Option<&String>,
    offline: bool,
) -> Result<SparseIndex> {
    let mut options = IndexOptions::new(cwd, client);
    options.index = index.cloned();
    options.registry = registry.cloned();
    options.offline = offline;
    Ok(SparseIndex::open(&options)?)
}

/// How far the observations' registry crates are behind `index`'s releases: the index files
/// are fetched (with the progress line), then judged.
fn behind(index: &SparseIndex, observations: &[Observation]) -> depinfo::Report {
    let names = depinfo::outdated_crates(observations);
    let mut progress = console::progress();
    let releases = depinfo::fetch_releases(index, &names, &mut |e| progress.show(e));
    progress.finish();
    depinfo::outdated(observations, &releases)
}

/// An inventory rendering. An SBOM (CycloneDX, SPDX) describes exactly one program: a
/// Dependency-Track project takes one BOM, and a later upload replaces it (README, "Output
/// formats").
fn render(output: Inventories, inventories: &[Inventory], errors: &[String]) -> Result<String> {
    let one = |format: &str| match inventories {
        [one] => Ok(Some(one)),
        [] => Ok(None),
        many => Err(anyhow::anyhow!(
            "--format {format} describes one program; {} were found (name one binary or package: one SBOM per program)",
            many.len()
        )),
    };
    Ok(match output {
        Inventories::Plain(Format::Json) => depinfo::json(inventories, errors),
        Inventories::Plain(Format::Prometheus) => depinfo::prometheus(inventories),
        Inventories::Plain(_) => depinfo::text(inventories),
        Inventories::Cyclonedx(version) => {
            one("cyclonedx")?.map_or_else(String::new, |inv| depinfo::cyclonedx(inv, version))
        }
        Inventories::Spdx => one("spdx")?.map_or_else(String::new, |inv| {
            depinfo::spdx(inv, &depinfo::content_digest(inv))
        }),
    })
}

/// Every failed input is a line on stderr, its control characters escaped (a file name or a
/// value in it is not trusted); the messages go into the JSON `errors` as they are (the JSON
/// writer escapes them).
fn report(errors: &[impl std::fmt::Display]) -> Vec<String> {
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    for e in &errors {
        console::error(e);
    }
    errors
}

/// The current directory (where cargo's project and configuration are looked for).
fn current_dir() -> Result<std::path::PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

/// Reads the sources, asking Prometheus APIs `ask` about `crates` (empty: all), with a
/// progress line on stderr when it is a terminal.
fn collect(
    flags: &SourceFlags,
    ask: Ask,
    crates: &[String],
) -> Result<(Vec<Observation>, Vec<String>, Vec<String>)> {
    let mut args = flags.source_args(&current_dir()?)?;
    args.ask = ask;
    crates.clone_into(&mut args.crates);
    Ok(collect_args(&args))
}

/// [`collect`] from checked arguments. Servers' notes are lines on stderr too (`note: `),
/// escaped as errors are.
fn collect_args(args: &depinfo::SourceArgs) -> (Vec<Observation>, Vec<String>, Vec<String>) {
    let mut progress = console::progress();
    let collected = depinfo::collect_with(args, &mut |e| progress.show(e));
    progress.finish();
    for n in &collected.notes {
        console::note(n);
    }
    (
        collected.observations,
        report(&collected.errors),
        collected.notes,
    )
}

/// `cargo depinfo audit`: the database, the programs, the judgement, the answer in the chosen
/// format. Exit code 1 when a vulnerability (or a `--deny`'d informational kind) is found.
pub(crate) fn audit(args: &AuditArgs, paint: Paint) -> Result<Outcome> {
    let (db, db_errors) = load_database(args)?;
    let mut errors = report(&db_errors);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    warn_about_age(&db, args.db_max_age, now);
    let cwd = current_dir()?;
    let config = depinfo::AuditConfig::find(&cwd, depinfo::cargo_home().as_deref())?;
    let programs = read_programs(&args.sources, &cwd, &db)?;
    errors.extend(programs.errors);
    let mut options = audit_options(args, &config, &programs.inventories);
    add_published_verdicts(&args.sources, &cwd, &mut options)?;
    let answer = depinfo::audit(&programs.observations, &db, &options);
    let failed = audit_failures(&answer, errors);
    let stdout = render_audit(args.format, &answer, &db, now, &failed, paint);
    // Not-found findings fail too, unless the user opts out of them.
    let lenient = args.ignore_not_found || config.ignore_not_found;
    let found = answer.vulnerabilities.iter().any(|f| f.fails(lenient))
        || answer
            .informational
            .iter()
            .any(|f| f.fails(lenient) && args.deny.iter().any(|d| d.covers(f.advisory.kind())));
    Ok(Outcome::new(stdout, &failed, found))
}

/// The advisory database at `--db` (else the default path), fetched first with `--fetch`,
/// and the advisories it could not read.
fn load_database(args: &AuditArgs) -> Result<(depinfo::Database, Vec<depinfo::AdvisoryError>)> {
    let path = match &args.db {
        Some(path) => path.clone(),
        None => depinfo::default_db_path()
            .context("no --db, and no CARGO_HOME or HOME to find the default database in")?,
    };
    if args.fetch {
        depinfo::fetch(
            &path,
            &args.db_url,
            std::time::Duration::from_secs(args.fetch_timeout),
        )?;
    }
    Ok(depinfo::Database::load(
        &path,
        depinfo::DbLimits::default(),
    )?)
}

/// The series the fleet path reads: verdicts computed where the binary is.
const PUBLISHED_VERDICTS_QUERY: &str =
    r#"rust_advisory_info{verdict!="",revision!="",program!=""}"#;

/// With `--prometheus`: the verdicts published there (`rust_advisory_info` with `program`,
/// `revision` and `verdict`, as `depinfo-exporter --db` writes them), for the instances of
/// the same program and revision, whose binaries are not at hand. A query that fails is a
/// warning: those instances stay `unknown`.
fn add_published_verdicts(
    flags: &SourceFlags,
    cwd: &std::path::Path,
    options: &mut depinfo::AuditOptions,
) -> Result<()> {
    let source_args = flags.source_args(cwd)?;
    if source_args.prometheus.is_empty() {
        return Ok(());
    }
    let http = depinfo::HttpOptions {
        timeout: source_args.api_timeout,
        ..depinfo::HttpOptions::default()
    };
    let client = match &source_args.client {
        Some(c) => c.clone(),
        None => depinfo::Client::new(&http)?,
    };
    for url in &source_args.prometheus {
        let mut found = Vec::new();
        let answer = depinfo::prometheus_query(
            &client,
            url,
            PUBLISHED_VERDICTS_QUERY,
            &|name| name == Some("rust_advisory_info"),
            &mut |sample| {
                let label = |n: &str| sample.label(n).map(str::to_owned);
                if let (Some(p), Some(r), Some(a), Some(v)) = (
                    label("program"),
                    label("revision"),
                    label("advisory"),
                    label("verdict"),
                ) {
                    found.push((p, r, a, v));
                }
            },
        );
        if let Err(e) = answer {
            console::warning(&format!(
                "{}: the published verdicts could not be read (its instances stay unknown): {e}",
                depinfo::printable_line(&depinfo_http::shown_url(url))
            ));
            continue;
        }
        for (program, revision, advisory, verdict) in found {
            let verdict = match verdict.as_str() {
                "present" => depinfo::Verdict::Present,
                "not-found" => depinfo::Verdict::NotFound,
                _ => depinfo::Verdict::Unknown,
            };
            options.add_published(&program, &revision, &advisory, verdict);
        }
    }
    Ok(())
}

/// A warning on stderr when the database's last commit is older than `max_age` days, or
/// unknown.
fn warn_about_age(db: &depinfo::Database, max_age: u64, now: u64) {
    match db.age_days(now) {
        Some(age) if age > max_age => console::warning(&format!(
            "the advisory database's last commit is {age} days old (more than --db-max-age {max_age}): update it with --fetch"
        )),
        Some(_) => {}
        None => console::warning(&format!(
            "the advisory database at {}: {}: its age is unknown",
            db.path.display(),
            db.commit_unknown
                .as_deref()
                .unwrap_or("its last commit is unknown")
        )),
    }
}

/// What `audit` read: the binaries, every observation (the binaries' own packages included,
/// as cargo-audit checks them), and the inputs that failed.
struct Programs {
    /// The binaries read: they also give each one's platform, which observations do not carry.
    inventories: Vec<Inventory>,
    observations: Vec<Observation>,
    /// One message per failed input, already on stderr.
    errors: Vec<String>,
}

/// Reads the binaries and directories of `sources` (taken out of it: the other sources are
/// read apart), with the progress line: the inventories, and one message per failed input
/// (already on stderr). Their platforms and own packages are what observations lack.
fn scan_binaries(sources: &mut depinfo::SourceArgs) -> (Vec<Inventory>, Vec<String>) {
    let paths = std::mem::take(&mut sources.paths);
    if paths.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut progress = console::progress();
    let scan = depinfo::inspect_paths_with(&paths, &sources.limits, &mut |e| progress.show(e));
    progress.finish();
    (scan.inventories, report(&scan.errors))
}

/// Reads the sources. Binaries are read once, here; Prometheus is asked for the series of the
/// crates the database names, per instance: at 1,000 instances of 300 crates that is the few
/// crates that ever had an advisory, not 300,000 series.
fn read_programs(
    flags: &SourceFlags,
    cwd: &std::path::Path,
    db: &depinfo::Database,
) -> Result<Programs> {
    let mut source_args = flags.source_args(cwd)?;
    source_args.ask = Ask::Instances;
    let mut names: Vec<String> = db
        .advisories()
        .iter()
        .filter(|a| a.withdrawn.is_none())
        .map(|a| a.package.clone())
        .collect();
    names.sort_unstable();
    names.dedup();
    source_args.crates = names;
    let (inventories, mut errors) = scan_binaries(&mut source_args);
    let mut observations = depinfo::from_inventories(&inventories);
    let (others, source_errors, _notes) = collect_args(&source_args);
    observations.extend(others);
    errors.extend(source_errors);
    // A binary without dependencies is audited through its own package.
    let roots = depinfo::root_observations(&inventories, &observations);
    observations.extend(roots);
    Ok(Programs {
        inventories,
        observations,
        errors,
    })
}

/// The ids to ignore (`--ignore`, then `audit.toml`'s) and each binary's platform.
fn audit_options(
    args: &AuditArgs,
    config: &depinfo::AuditConfig,
    inventories: &[Inventory],
) -> depinfo::AuditOptions {
    let mut options = depinfo::AuditOptions::default();
    options.ignore = args.ignore.iter().chain(&config.ignore).cloned().collect();
    options.add_binaries(inventories);
    options
}

/// The answer in `format` (text coloured by `paint`); `prometheus` says which database it
/// used on stderr, having no place for it but a series.
fn render_audit(
    format: AuditFormat,
    answer: &depinfo::Audit<'_>,
    db: &depinfo::Database,
    now: u64,
    failed: &[String],
    paint: Paint,
) -> String {
    match format {
        AuditFormat::Text => depinfo::audit_text_with(answer, db, now, paint),
        AuditFormat::Json => depinfo::audit_json(answer, db, now, failed),
        AuditFormat::Sarif => depinfo::audit_sarif(answer, db, now, crate::VERSION),
        AuditFormat::Prometheus => {
            console::info(&depinfo::database_line(db, now));
            depinfo::audit_prometheus(answer, db)
        }
    }
}

/// `errors`, then what makes the answer incomplete (nothing read; versions that are not
/// SemVer), each also a line on stderr.
fn audit_failures(answer: &depinfo::Audit<'_>, errors: Vec<String>) -> Vec<String> {
    let mut failed = errors;
    if answer.runners.is_empty() {
        let e = "no program was read: name binaries or directories of binaries, --metrics or --prometheus";
        console::error(e);
        failed.push(e.to_owned());
    }
    for o in &answer.unjudged {
        let e = format!(
            "{}: {} runs {} {}, which is not SemVer: its advisories cannot be judged",
            o.location(),
            o.runner.program,
            o.name,
            o.version
        );
        console::error(&e);
        failed.push(e);
    }
    failed
}

/// `cargo depinfo report`: every source read once (each instance's crates, and the exporter's
/// processes by state), then the advisories and the registry when asked, into one model that
/// is written as HTML or JSON. Exit 2 when an input failed (the report says which), else 0: a
/// report is a picture, not a verdict.
pub(crate) fn fleet_report(args: &ReportArgs) -> Result<Outcome> {
    let cwd = current_dir()?;
    let mut sources = args.sources.source_args(&cwd)?;
    sources.ask = Ask::Instances;
    sources.states = true;
    let shown_sources = shown_sources(&sources);
    let (inventories, mut errors) = scan_binaries(&mut sources);
    let mut observations = depinfo::from_inventories(&inventories);
    let mut progress = console::progress();
    let collected = depinfo::collect_with(&sources, &mut |e| progress.show(e));
    progress.finish();
    for n in &collected.notes {
        console::note(n);
    }
    errors.extend(report(&collected.errors));
    observations.extend(collected.observations);
    let mut states = depinfo::ProcessCount::installed(&inventories);
    states.extend(collected.processes);
    let mut picture = depinfo::FleetReport::new(&observations, &states);
    if args.db.is_some() || args.audit {
        let path = match &args.db {
            Some(path) => path.clone(),
            None => depinfo::default_db_path()
                .context("no --db, and no CARGO_HOME or HOME to find the default database in")?,
        };
        let (db, db_errors) = depinfo::Database::load(&path, depinfo::DbLimits::default())?;
        errors.extend(report(&db_errors));
        let config = depinfo::AuditConfig::find(&cwd, depinfo::cargo_home().as_deref())?;
        let mut options = depinfo::AuditOptions::default();
        options.ignore.clone_from(&config.ignore);
        options.add_binaries(&inventories);
        let mut audited = observations.clone();
        audited.extend(depinfo::root_observations(&inventories, &observations));
        let answer = depinfo::audit(&audited, &db, &options);
        picture.add_audit(&answer, &db);
    }
    if args.outdated {
        let Some(client) = sources.client.clone() else {
            bail!("no HTTP client")
        };
        let index = open_index(
            cwd,
            client,
            args.index.as_ref(),
            args.registry.as_ref(),
            args.offline,
        )?;
        let outdated = behind(&index, &observations);
        errors.extend(report(&outdated.errors));
        picture.add_outdated(&outdated, index.url());
    }
    picture.sources = shown_sources;
    picture.errors.clone_from(&errors);
    picture.notes = collected.notes;
    let stdout = match args.format {
        ReportFormat::Json => depinfo::report_json(&picture),
        ReportFormat::Html => depinfo::report_html(&picture),
    };
    Ok(Outcome::new(stdout, &errors, false))
}

/// The inputs as the report names them: paths as given, URLs without credentials.
fn shown_sources(sources: &depinfo::SourceArgs) -> Vec<String> {
    let paths = sources.paths.iter().map(|p| p.display().to_string());
    let urls = sources
        .metrics
        .iter()
        .chain(&sources.prometheus)
        .map(|u| depinfo_http::shown_url(u));
    let workspace = sources.workspace.as_ref().map(|w| {
        w.manifest_path
            .as_ref()
            .map_or_else(|| "cargo workspace".to_owned(), |p| p.display().to_string())
    });
    paths.chain(urls).chain(workspace).collect()
}

/// `cargo depinfo exporter` and `cargo depinfo catalog`: programs of their own now
/// (depinfo-server); says where `command` went, on one line, and fails.
pub(crate) fn moved(command: &str) -> Result<Outcome> {
    bail!(
        "cargo depinfo {command} moved to its own program: depinfo-{command} (cargo install depinfo-server); same flags"
    )
}

/// `cargo depinfo completions SHELL`: the completion script for `cargo-depinfo`.
pub(crate) fn completions(args: &crate::cli::CompletionsArgs) -> Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::cli::binary_command(),
        "cargo-depinfo",
        &mut script,
    );
    let script = String::from_utf8(script).context("the completion script is not UTF-8")?;
    Ok(Outcome::new(script, &[], false))
}

/// `cargo depinfo manpages --out-dir DIR`: `cargo-depinfo.1` and `cargo-depinfo-COMMAND.1`
/// for every command, written into DIR; their names go to stdout, one a line.
pub(crate) fn manpages(args: &crate::cli::ManpagesArgs) -> Result<Outcome> {
    let dir = &args.out_dir;
    let shown = cargo_depinfo::printable_line(&dir.display().to_string()).into_owned();
    std::fs::create_dir_all(dir).with_context(|| format!("--out-dir {shown}"))?;
    clap_mangen::generate_to(crate::cli::binary_command(), dir)
        .with_context(|| format!("writing man pages into {shown}"))?;
    let mut written: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("--out-dir {shown}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cargo-depinfo") && n.ends_with(".1"))
        .collect();
    written.sort();
    let mut text = String::new();
    for name in written {
        text.push_str(&cargo_depinfo::printable_line(
            &dir.join(name).display().to_string(),
        ));
        text.push('\n');
    }
    Ok(Outcome::new(text, &[], false))
}

/// The Grafana dashboard, kept in the crate (`grafana/`, so that it ships with it) and printed
/// as it is: its queries are run against a real Prometheus in `tests/dashboard.rs`.
const DASHBOARD: &str = include_str!("../grafana/cargo-depinfo-fleet.json");

/// `cargo depinfo dashboard`: the Grafana dashboard (JSON).
pub(crate) fn dashboard() -> Outcome {
    Outcome::new(DASHBOARD.to_owned(), &[], false)
}
