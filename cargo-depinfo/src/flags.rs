//! The flags of the commands that read binaries or the network, shared by `cargo depinfo`
//! and the servers (`depinfo-exporter`, `depinfo-catalog`): parsing and checks only.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use depinfo_http::{Client, HttpConfig, HttpOptions};
use depinfo_read::binary_reader::Limits;

/// What the flags' values make impossible, in one line naming the flag or the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FlagError {
    /// A `--header` that is not `Name: value`.
    #[error("{0}")]
    Header(String),
    /// `--http.config.file` could not be read or is not a valid configuration.
    #[error("--http.config.file {0}")]
    ConfigFile(String),
    /// The HTTP client could not be set up.
    #[error("cannot set up HTTP: {0}")]
    Client(String),
    /// A `--timeout` out of range.
    #[error("--timeout must be a positive number of seconds, at most {MAX_TIMEOUT_SECS} (one day)")]
    Timeout,
}

/// The bound on the small files read whole (configurations, secrets, certificates), for the
/// whole process.
#[derive(Debug, Args)]
pub struct FileFlags {
    /// Largest configuration, secret or TLS file read (--http.config.file and the files it
    /// names, .cargo/config.toml, audit.toml), in KiB, from 1 KiB to 1 GiB. FIFOs, devices and
    /// directories are refused whatever the size.
    #[arg(long = "max-file-kib", value_name = "KIB", global = true,
          default_value_t = depinfo_read::untrusted_file::SMALL_FILE_LIMIT >> 10,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    max_file_kib: u64,
}

impl FileFlags {
    /// Sets the bound for every file the process reads through
    /// [`untrusted_file`](depinfo_read::untrusted_file) from now on.
    pub fn apply(&self) {
        depinfo_read::untrusted_file::set_small_file_limit(self.max_file_kib << 10);
    }
}

/// The most one binary may make cargo depinfo read and hold (see the README's trust section).
/// Each flag is a size in KiB, from 1 KiB to 1 GiB.
#[derive(Debug, Args)]
pub struct LimitFlags {
    /// Largest compressed `.dep-v0` or `.bldinfo` section read from a binary, in KiB.
    #[arg(long = "max-section-kib", value_name = "KIB", default_value_t = Limits::default().max_section_size >> 10,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    section: u64,
    /// Largest decompressed section, in KiB: a zlib bomb stops here.
    #[arg(long = "max-decompressed-kib", value_name = "KIB", default_value_t = (Limits::default().max_decompressed_size >> 10) as u64,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    decompressed: u64,
    /// Largest header table (ELF section headers and name table, Mach-O load commands, PE
    /// section table) read from a binary, in KiB.
    #[arg(long = "max-header-kib", value_name = "KIB", default_value_t = Limits::default().max_header_size >> 10,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    header: u64,
}

impl LimitFlags {
    /// The reader's limits these flags give.
    // `Limits` is `#[non_exhaustive]` for the users of this library: no struct expression.
    #[allow(clippy::field_reassign_with_default)]
    pub fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        limits.max_section_size = self.section << 10;
        limits.max_decompressed_size =
            usize::try_from(self.decompressed << 10).unwrap_or(usize::MAX);
        limits.max_header_size = self.header << 10;
        limits
    }
}

/// How network sources are reached: credentials, TLS, proxies, headers, memory.
#[derive(Debug, Args)]
pub struct HttpFlags {
    /// Prometheus' HTTP client configuration file (YAML: basic_auth, authorization,
    /// tls_config, proxy_url, http_headers, follow_redirects), for every network source.
    #[arg(long = "http.config.file", value_name = "FILE")]
    config_file: Option<PathBuf>,
    /// A header sent with every request, 'Name: value' (repeatable; for example a tenant,
    /// 'X-Scope-OrgID: team-a'). Values are never printed.
    #[arg(long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// The most MiB all network answers together may take (a source that would pass it fails,
    /// the others are still read).
    #[arg(long = "max-total-mib", value_name = "MIB", default_value_t = depinfo_http::DEFAULT_MAX_TOTAL >> 20,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    max_total_mib: u64,
}

impl HttpFlags {
    /// The HTTP client these flags describe.
    ///
    /// # Errors
    ///
    /// A header that is not `Name: value`, an unreadable or invalid `--http.config.file`, or
    /// a client that cannot be set up: one line each.
    // `HttpOptions` is `#[non_exhaustive]` for the users of this library: no struct
    // expression.
    #[allow(clippy::field_reassign_with_default)]
    pub fn client(&self, timeout: Duration) -> Result<Client, FlagError> {
        let mut options = HttpOptions::default();
        options.timeout = timeout;
        options.max_total = self.max_total_mib << 20;
        for h in &self.headers {
            options
                .headers
                .push(HttpOptions::parse_header(h).map_err(FlagError::Header)?);
        }
        if let Some(file) = &self.config_file {
            options.config =
                HttpConfig::load(file).map_err(|e| FlagError::ConfigFile(e.to_string()))?;
        }
        Client::new(&options).map_err(|e| FlagError::Client(e.to_string()))
    }
}

/// The largest `--timeout`, in seconds (one day): beyond it a deadline only risks overflowing
/// the clock's arithmetic.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// A `--timeout` in seconds, checked: more than 0, at most one day.
///
/// # Errors
///
/// [`FlagError::Timeout`] otherwise.
pub fn checked_timeout(secs: f64) -> Result<Duration, FlagError> {
    Some(secs)
        .filter(|t| *t <= MAX_TIMEOUT_SECS)
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .filter(|t| !t.is_zero())
        .ok_or(FlagError::Timeout)
}
