//! `example-service`: a small HTTP service exposing `/metrics` (its own request counter beside
//! `example_service_build_info` and `rust_mod_info`) and `/healthz`.
//!
//! Exit codes: 0 after a clean shutdown on SIGTERM or SIGINT, 2 when it cannot start.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use build_info_collector::BuildInfoCollector;
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
}

struct App {
    registry: Registry,
    requests: IntCounterVec,
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
    let registry = Registry::new();
    registry.register(Box::new(BuildInfoCollector::new(&BUILD_INFO)))?;
    let requests = IntCounterVec::new(
        Opts::new(
            "example_http_requests_total",
            "HTTP requests served, by handler.",
        ),
        &["handler"],
    )?;
    registry.register(Box::new(requests.clone()))?;
    let app = Arc::new(App { registry, requests });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(cli.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", cli.listen))?;
        eprintln!(
            "example-service {} listening on {}",
            BUILD_INFO.info(),
            listener.local_addr()?
        );
        let router = Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .with_state(app);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        eprintln!("example-service: shut down");
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
}
