//! `example-service`: a small HTTP service exposing `/metrics` (its own request counter beside
//! `example_service_build_info`, `rust_build_info` and, as the layout says, `rust_mod_info`),
//! its dependency list at `/deps/<digest>`, and `/healthz`.
//!
//! Exit codes: 0 after a shutdown on SIGTERM or SIGINT (within `--shutdown-timeout`, whatever
//! clients do), 2 when it cannot start.

mod idle_timeout;
mod serve;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use build_info_collector::{BuildInfoCollector, DEPS_LIST_CONTENT_TYPE, Layout};
use clap::Parser;
use prometheus::{IntCounterVec, Opts, Registry, TextEncoder};

buildinfo::build_info!();

/// A small HTTP service that exposes its build information to Prometheus.
#[derive(Debug, Parser)]
#[command(name = "example-service", version = VERSION, long_version = LONG_VERSION)]
struct Cli {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9898")]
    listen: SocketAddr,

    /// Seconds a client may take to send a request's head (request line and headers).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    header_read_timeout: Duration,

    /// Seconds a connection may stay without a byte moving in either direction (a client that
    /// stops sending or stops reading).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    idle_timeout: Duration,

    /// Seconds, after SIGTERM or SIGINT, that open requests get to finish before the
    /// connections are closed and the process exits.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    shutdown_timeout: Duration,

    /// Connections served at once; further clients wait in the listen queue.
    #[arg(long, value_name = "N", default_value = "1024",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,

    /// Which series describe the crates: full (rust_mod_info for every crate), catalog (none:
    /// the fleet's catalog holds them) or direct (rust_mod_info for direct dependencies only).
    /// Default: the environment variable BUILD_INFO_LAYOUT, else full.
    #[arg(long, value_name = "full|catalog|direct")]
    layout: Option<String>,
}

/// The environment variable read when `--layout` is not given.
const LAYOUT_ENV: &str = "BUILD_INFO_LAYOUT";

/// The layout from the flag, else from `BUILD_INFO_LAYOUT` (`env`), else `full`; an unknown
/// value is a one-line error naming where it came from and the value.
fn choose_layout(flag: Option<&str>, env: Option<std::ffi::OsString>) -> Result<Layout, String> {
    match (flag, env) {
        (Some(flag), _) => flag.parse().map_err(|e| format!("--layout: {e}")),
        (None, Some(env)) => match env.to_str() {
            Some(value) => value.parse().map_err(|e| format!("{LAYOUT_ENV}: {e}")),
            None => Err(format!(
                "{LAYOUT_ENV}: not UTF-8: expected full, catalog or direct"
            )),
        },
        (None, None) => Ok(Layout::default()),
    }
}

/// The longest accepted timeout: a day is already longer than any deployment waits, and a bound
/// keeps every deadline far from `Instant` overflow.
const MAX_SECONDS: f64 = 86_400.0;

/// A duration in seconds, fractions allowed, from 0.001 to a day.
fn seconds(value: &str) -> Result<Duration, String> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("not a number of seconds: {value:?}"))?;
    if !(0.001..=MAX_SECONDS).contains(&secs) {
        return Err(format!("must be from 0.001 to {MAX_SECONDS} seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

struct App {
    registry: Registry,
    requests: IntCounterVec,
    /// The collector registered in `registry`, kept for its dependency list.
    collector: BuildInfoCollector,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("example-service: error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let layout = choose_layout(cli.layout.as_deref(), std::env::var_os(LAYOUT_ENV))?;
    let collector = BuildInfoCollector::builder(&BUILD_INFO)
        .layout(layout)
        .build()?;
    let registry = Registry::new();
    registry.register(Box::new(collector.clone()))?;
    let requests = IntCounterVec::new(
        Opts::new(
            "example_http_requests_total",
            "HTTP requests served, by handler.",
        ),
        &["handler"],
    )?;
    registry.register(Box::new(requests.clone()))?;
    let app = Arc::new(App {
        registry,
        requests,
        collector,
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
        eprintln!(
            "example-service {} listening on {} (layout {layout})",
            BUILD_INFO.info(),
            listener.local_addr()?
        );
        let router = Router::new()
            .route("/metrics", get(metrics))
            // On the port Prometheus scrapes: the catalog fetches `<scrape origin>/deps/<digest>`.
            .route("/deps/{digest}", get(deps))
            .route("/healthz", get(healthz))
            .with_state(app);
        let limits = serve::Limits {
            header_read: cli.header_read_timeout,
            idle: cli.idle_timeout,
            shutdown: cli.shutdown_timeout,
            max_connections: usize::try_from(cli.max_connections)?,
        };
        let stopped = serve::serve(listener, router, limits, shutdown_signal()).await;
        if stopped.dropped == 0 {
            eprintln!("example-service: shut down");
        } else {
            eprintln!(
                "example-service: shut down; {} connection(s) closed at the {:?} shutdown deadline",
                stopped.dropped, cli.shutdown_timeout
            );
        }
        Ok(())
    })
}

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    app.requests.with_label_values(&["/metrics"]).inc();
    let mut body = String::new();
    match TextEncoder::new().encode_utf8(&app.registry.gather(), &mut body) {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
            body,
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("cannot encode metrics: {e}\n"),
        ),
    }
}

/// The dependency list whose digest `rust_build_info` carries, at `/deps/<that digest>`;
/// 404 for any other digest.
async fn deps(State(app): State<Arc<App>>, uri: Uri) -> Response {
    app.requests.with_label_values(&["/deps"]).inc();
    match app.collector.deps_document(uri.path()) {
        Some(document) => (
            [(header::CONTENT_TYPE, DEPS_LIST_CONTENT_TYPE)],
            document.to_owned(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such dependency list\n").into_response(),
    }
}

async fn healthz(State(app): State<Arc<App>>) -> &'static str {
    app.requests.with_label_values(&["/healthz"]).inc();
    "ok\n"
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("example-service: cannot listen for SIGINT: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                eprintln!("example-service: cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn the_layout_comes_from_the_flag_then_the_environment() {
        use build_info_collector::Layout;

        use super::choose_layout;
        let env = |v: &str| Some(std::ffi::OsString::from(v));
        assert_eq!(choose_layout(None, None), Ok(Layout::Full));
        assert_eq!(choose_layout(None, env("catalog")), Ok(Layout::Catalog));
        assert_eq!(
            choose_layout(Some("direct"), env("catalog")),
            Ok(Layout::Direct)
        );
        assert_eq!(
            choose_layout(Some("Catalog"), None),
            Err(
                "--layout: unknown layout \"Catalog\": expected full, catalog or direct".to_owned()
            )
        );
        assert_eq!(
            choose_layout(None, env("")),
            Err(
                "BUILD_INFO_LAYOUT: unknown layout \"\": expected full, catalog or direct"
                    .to_owned()
            )
        );
        // The flag wins even over a bad environment value.
        assert_eq!(choose_layout(Some("full"), env("bogus")), Ok(Layout::Full));
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = std::ffi::OsString::from_vec(vec![0xff]);
            assert_eq!(
                choose_layout(None, Some(bad)),
                Err("BUILD_INFO_LAYOUT: not UTF-8: expected full, catalog or direct".to_owned())
            );
        }
    }

    #[test]
    fn timeouts_are_bounded_seconds() {
        use std::time::Duration;
        assert_eq!(super::seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(super::seconds("86400"), Ok(Duration::from_secs(86_400)));
        for bad in ["0", "-1", "NaN", "inf", "1e300", "9.3e18", "", "10s"] {
            assert!(super::seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    mod flag_values {
        use proptest::prelude::*;

        use super::super::{MAX_SECONDS, seconds};

        proptest! {
            #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

            /// Any flag value: no panic, and accepted exactly when it is a number of seconds
            /// in range, giving that duration; a refusal is one line.
            #[test]
            fn any_timeout_flag_is_a_bounded_duration_or_an_error(
                value in prop_oneof![
                    any::<String>(),
                    any::<f64>().prop_map(|f| f.to_string()),
                    "[-+]?[0-9]{0,25}(\\.[0-9]{0,12})?(e[-+]?[0-9]{1,3})?",
                ],
            ) {
                let parsed = value.trim().parse::<f64>().ok();
                match seconds(&value) {
                    Ok(d) => {
                        let secs = parsed.unwrap();
                        prop_assert!((0.001..=MAX_SECONDS).contains(&secs));
                        prop_assert!((d.as_secs_f64() - secs).abs() < 1e-6);
                    }
                    Err(e) => {
                        prop_assert!(
                            parsed.is_none_or(|s| !(0.001..=MAX_SECONDS).contains(&s)),
                            "{value:?} refused: {e}"
                        );
                        prop_assert!(!e.contains('\n'));
                    }
                }
            }
        }
    }
}
