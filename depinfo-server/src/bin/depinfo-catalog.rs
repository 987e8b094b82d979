//! `depinfo-catalog`: the fleet's dependency catalog (see the README's catalog section).
//! Parses its flags, runs online or offline, and turns the outcome into an exit code.

// The flags' doc comments are their `--help` text, shown as written (`/deps/<digest>`), not
// HTML.
#![allow(rustdoc::invalid_html_tags)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use cargo_depinfo::flags::{FileFlags, HttpFlags, LimitFlags, checked_timeout};
use clap::Parser;
use depinfo_server::flags::ServerFlags;

buildinfo::build_info!();

/// Exit code: an error, or a binary whose list could not be read (bad flags are clap's own 2
/// as well).
const EXIT_ERROR: u8 = 2;

/// The fleet's dependency catalog: `rust_deps_info` for every list whose digest a
/// `rust_build_info` series carries. Online (--prometheus, --listen): fetched from the targets
/// Prometheus scrapes, verified, cached on disk, and served until SIGTERM or SIGINT. Offline
/// (BINARY|DIR...): the page for these binaries, to --output (a textfile) or stdout, or served
/// with --listen.
///
/// Exit codes: 0 done (or stopped by a signal), 2 error or a binary that could not be read.
#[derive(Debug, Parser)]
#[command(name = "depinfo-catalog", version = VERSION, long_version = LONG_VERSION)]
struct CatalogArgs {
    /// Offline: binaries and directories of binaries whose lists make the page.
    #[arg(
        value_name = "PATH",
        conflicts_with = "prometheus",
        required_unless_present = "prometheus"
    )]
    paths: Vec<PathBuf>,
    /// Online: the Prometheus HTTP API that scrapes the fleet (`http://host:9090[/prefix]`).
    #[arg(long, value_name = "URL", requires = "listen")]
    prometheus: Option<String>,
    /// Serve /metrics and /deps/<digest> on this address (port 0 picks a free port; the
    /// address is printed on stderr). Required online.
    #[arg(long, value_name = "ADDR", conflicts_with = "output")]
    listen: Option<std::net::SocketAddr>,
    /// Offline: write the page to FILE (through a temporary file and a rename, for
    /// node_exporter's textfile collector) instead of stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "prometheus")]
    output: Option<PathBuf>,
    /// Online: the directory of verified lists, one file per digest (default:
    /// $XDG_CACHE_HOME/cargo-depinfo/catalog, else $HOME/.cache/cargo-depinfo/catalog).
    #[arg(long, value_name = "DIR", requires = "prometheus")]
    cache: Option<PathBuf>,
    /// Online: time between rounds (30s, 1m, 500ms...; the first round runs at once).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30s",
        requires = "prometheus"
    )]
    interval: String,
    /// Online: the most MiB the lists held may take, counting each list's document and its
    /// rust_deps_info lines on /metrics (together about 5 times the document). A list that would pass
    /// it is not kept, unless lists carried only by targets that publish more digests can
    /// make room.
    #[arg(long, value_name = "MIB", default_value_t = depinfo_server::catalog::DEFAULT_MAX_CACHE_BYTES >> 20,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20), requires = "prometheus")]
    max_cache_mib: u64,
    /// Online: how long a list is served (and kept on disk) after its digest was last seen
    /// in Prometheus' rust_build_info (7d, 12h, 1h30m...; at least --interval).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "7d",
        requires = "prometheus"
    )]
    retention: String,
    /// Seconds allowed for each answer of Prometheus (more than 0, at most 86400). Lists are
    /// fetched from targets within the smaller of this and 5 seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    timeout: f64,
    #[command(flatten)]
    server: ServerFlags,
    #[command(flatten)]
    http: HttpFlags,
    #[command(flatten)]
    limits: LimitFlags,
    #[command(flatten)]
    files: FileFlags,
}

impl CatalogArgs {
    /// The `--timeout`, checked.
    fn timeout(&self) -> Result<Duration> {
        Ok(checked_timeout(self.timeout)?)
    }
}

fn main() -> ExitCode {
    let args = CatalogArgs::parse();
    args.files.apply();
    let (page, failed) = match run(args) {
        Ok(outcome) => outcome,
        Err(e) => {
            cargo_depinfo::eprint_error(&format!("{e:#}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(page.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) if failed => ExitCode::from(EXIT_ERROR),
        Ok(()) => ExitCode::SUCCESS,
        // `depinfo-catalog bin/ | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            cargo_depinfo::eprint_error(&format!("writing output: {e}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Online (--prometheus) serves until SIGTERM or SIGINT; offline writes or serves the page of
/// the binaries read. Returns what goes to stdout, and whether an input failed.
#[cfg(unix)]
fn run(args: CatalogArgs) -> Result<(String, bool)> {
    use depinfo_server::catalog;

    let timeout = args.timeout()?;
    let mut serve = args.listen.map(catalog::ServeOptions::new);
    if let Some(s) = &mut serve {
        s.max_connections = args.server.max_connections();
        s.header_read_timeout = args.server.header_read_timeout();
    }
    let listening = |addr| eprintln!("cargo-depinfo catalog listening on {addr}");
    if let Some(prometheus) = args.prometheus {
        let Some(serve) = serve else {
            bail!("--prometheus needs --listen ADDR")
        };
        let interval = catalog::parse_interval(&args.interval).map_err(anyhow::Error::msg)?;
        let retention = catalog::parse_retention(&args.retention).map_err(anyhow::Error::msg)?;
        if retention < interval {
            bail!(
                "--retention {} is shorter than --interval {}: every list would be dropped between two rounds",
                args.retention,
                args.interval
            );
        }
        let bounds = catalog::Bounds::new(args.max_cache_mib << 20, retention);
        let dir = match args.cache {
            Some(dir) => dir,
            None => catalog::default_cache_dir().context(
                "no --cache, and neither XDG_CACHE_HOME nor HOME gives the default cache directory",
            )?,
        };
        // Checked once here (a bad --http.config.file stops the start); made again each round.
        args.http.client(timeout)?;
        let http = args.http;
        let client = Box::new(move || http.client(timeout).map_err(|e| e.to_string()));
        // The URL is checked before the cache directory is made.
        let mut watcher = catalog::Watcher::new(
            prometheus,
            client,
            timeout.min(Duration::from_secs(5)),
            catalog::Cache::in_memory(),
        )
        .map_err(anyhow::Error::msg)?;
        watcher.cache = catalog::open_cache(&dir, bounds, std::time::SystemTime::now())
            .map_err(anyhow::Error::msg)?;
        catalog::run(catalog::Options::new(watcher, interval, serve), listening)
            .map_err(anyhow::Error::msg)?;
        return Ok((String::new(), false));
    }
    let mut progress = cargo_depinfo::progress_line::ProgressLine::stderr();
    let scan = cargo_depinfo::inspect_paths_with(&args.paths, &args.limits.limits(), &mut |e| {
        progress.show(e);
    });
    progress.finish();
    // A binary without data has no list: named and skipped, as one without a graph.
    let (skipped, failed): (Vec<_>, Vec<_>) = scan
        .errors
        .into_iter()
        .partition(|e| matches!(e, cargo_depinfo::InspectError::NoData { .. }));
    // Every failed input is a line on stderr, its control characters escaped.
    for e in &failed {
        cargo_depinfo::eprint_error(&e.to_string());
    }
    let mut lists = std::collections::BTreeMap::new();
    for e in &skipped {
        eprintln!(
            "note: {}: skipped",
            cargo_depinfo::printable_line(&e.to_string())
        );
    }
    for inventory in &scan.inventories {
        match inventory.deps_list() {
            Some(list) => {
                lists.insert(list.digest().to_owned(), list);
            }
            None => eprintln!(
                "note: {}: no dependency graph: skipped",
                cargo_depinfo::printable_line(&inventory.path)
            ),
        }
    }
    let failed = !failed.is_empty();
    if let Some(serve) = serve {
        catalog::serve_lists(lists.values(), &serve, listening).map_err(anyhow::Error::msg)?;
        return Ok((String::new(), failed));
    }
    let page = catalog::deps_page(lists.values());
    match &args.output {
        Some(file) => {
            catalog::write_atomically(file, page.as_bytes()).map_err(anyhow::Error::msg)?;
            Ok((String::new(), failed))
        }
        None => Ok((page, failed)),
    }
}

#[cfg(not(unix))]
fn run(_: CatalogArgs) -> Result<(String, bool)> {
    bail!("the catalog runs on Unix only")
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::CommandFactory as _;

    fn parse(v: &[&str]) -> Result<CatalogArgs, clap::Error> {
        CatalogArgs::try_parse_from(["depinfo-catalog"].iter().chain(v))
    }

    #[test]
    fn the_cli_definition_is_valid() {
        CatalogArgs::command().debug_assert();
    }

    #[test]
    fn the_catalog_is_online_or_offline_never_both() {
        let online = parse(&["--prometheus", "http://p:9090", "--listen", "127.0.0.1:0"]).unwrap();
        assert_eq!(online.prometheus.as_deref(), Some("http://p:9090"));
        assert_eq!((online.interval.as_str(), online.timeout), ("30s", 30.0));
        assert_eq!(
            (online.max_cache_mib, online.retention.as_str()),
            (256, "7d")
        );
        let bounded = parse(&[
            "--prometheus",
            "http://p:9090",
            "--listen",
            "127.0.0.1:0",
            "--max-cache-mib",
            "1",
            "--retention",
            "2s",
        ])
        .unwrap();
        assert_eq!(
            (bounded.max_cache_mib, bounded.retention.as_str()),
            (1, "2s")
        );
        assert!(online.paths.is_empty() && online.cache.is_none());
        let offline = parse(&["bin/", "--output", "deps.prom"]).unwrap();
        assert_eq!(offline.paths, [PathBuf::from("bin/")]);
        assert_eq!(offline.output, Some(PathBuf::from("deps.prom")));
        for bad in [
            &[][..],
            &["--prometheus", "http://p:9090"],
            &[
                "bin/",
                "--prometheus",
                "http://p:9090",
                "--listen",
                "127.0.0.1:0",
            ],
            &["bin/", "--cache", "c"],
            &["bin/", "--interval", "1m"],
            &["bin/", "--max-cache-mib", "1"],
            &["bin/", "--retention", "1d"],
            &[
                "--prometheus",
                "http://p",
                "--listen",
                "127.0.0.1:0",
                "--max-cache-mib",
                "0",
            ],
            &["bin/", "--output", "f", "--listen", "127.0.0.1:0"],
            &[
                "--prometheus",
                "http://p",
                "--listen",
                "127.0.0.1:0",
                "--output",
                "f",
            ],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
