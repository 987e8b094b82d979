//! `depinfo-exporter`: /metrics about every Rust process running on this Linux host (see
//! the README's exporter section). Parses its flags, serves until SIGTERM or SIGINT, and
//! turns errors into exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use cargo_depinfo::flags::{FileFlags, LimitFlags};
use clap::Parser;
use depinfo_server::flags::ServerFlags;

buildinfo::build_info!();

/// Exit code: an error (bad flags are clap's own 2 as well).
const EXIT_ERROR: u8 = 2;

/// Serve /metrics about every Rust process running on this Linux host, binaries deleted or
/// replaced since they started included (see the README's exporter section). Runs until
/// SIGTERM or SIGINT.
///
/// Exit codes: 0 stopped by a signal, 2 error.
#[derive(Debug, Parser)]
#[command(name = "depinfo-exporter", version = VERSION, long_version = LONG_VERSION)]
struct ExporterArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9899")]
    listen: std::net::SocketAddr,
    /// Seconds between scans of the processes, from 1 to 86400.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    interval: u64,
    /// Also report binaries under this directory (or this file) that are installed and not
    /// running (repeatable).
    #[arg(long = "path", value_name = "DIR")]
    paths: Vec<PathBuf>,
    /// The proc filesystem to read (a container sees the host's when it is mounted there).
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    proc_root: PathBuf,
    /// Which series describe each program's crates: `full`, a rust_mod_info series per crate;
    /// `catalog`, none (rust_build_info's deps digest joins the catalog's rust_deps_info);
    /// `direct`, rust_mod_info for direct dependencies only. rust_build_info,
    /// rust_process_info and rust_mod_replaced_info are there in every layout.
    #[arg(long, value_name = "LAYOUT", default_value = "full",
          value_parser = clap::builder::TypedValueParser::try_map(
              clap::builder::PossibleValuesParser::new(
                  build_info_collector::Layout::ALL.map(build_info_collector::Layout::as_str),
              ),
              |s| s.parse::<build_info_collector::Layout>(),
          ))]
    layout: build_info_collector::Layout,
    /// Publish rust_advisory_info for the running programs, from the RustSec advisory
    /// database at PATH (a clone of its repository, as `cargo depinfo audit --db` reads it),
    /// with a verdict per program and revision: whether the functions an advisory names are in
    /// the running binary. Loaded again on a scan when its last commit changes.
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Warn when the database's last commit is older than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 90, requires = "db")]
    db_max_age: u64,
    #[command(flatten)]
    server: ServerFlags,
    #[command(flatten)]
    limits: LimitFlags,
    #[command(flatten)]
    files: FileFlags,
}

fn main() -> ExitCode {
    let args = ExporterArgs::parse();
    args.files.apply();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            cargo_depinfo::eprint_error(&format!("{e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Serves until SIGTERM or SIGINT; the exporter's own build info comes from this binary.
#[cfg(target_os = "linux")]
fn run(args: &ExporterArgs) -> Result<()> {
    use build_info_collector::{BuildInfoLabels, build_info_family};
    use depinfo_server::exporter::{Advisories, AdvisoryOptions, ScanOptions, ServeOptions, serve};

    let info = &BUILD_INFO;
    let mut own = build_info_family(info.program());
    own.push(BuildInfoLabels::of(info).pairs(), 1);
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
    if let Some(db) = &args.db {
        let advisories = Advisories::open(AdvisoryOptions::new(db, args.db_max_age))?;
        options.advisories = Some(std::sync::Arc::new(std::sync::Mutex::new(advisories)));
    }
    options.layout = args.layout;
    options.max_connections = args.server.max_connections();
    options.header_read_timeout = args.server.header_read_timeout();
    serve(&options, |addr| {
        eprintln!("cargo-depinfo exporter listening on {addr}");
    })?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn run(_: &ExporterArgs) -> Result<()> {
    anyhow::bail!("the exporter reads /proc: it runs on Linux only")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_cli_definition_is_valid() {
        ExporterArgs::command().debug_assert();
    }
}
