//! The exporter's HTTP side: scans in a background thread, `/metrics` hands out the text of
//! the last scan (rendered once per scan, so a scrape costs a reference count), `/healthz`
//! says whether scans still complete.
//!
//! Every wait is bounded, as in the example service: the request head must arrive within
//! `header_read_timeout`, a connection lives at most `connection_lifetime` (a keep-alive
//! scraper reconnects; a client that stops reading is dropped), at most `max_connections`
//! are served at once (more wait in the listen queue), and the request head is capped at
//! 16 KiB. SIGTERM or SIGINT stops the server: open connections are dropped, an ongoing scan
//! is abandoned with the process.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use build_info_collector::Family;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::task::JoinSet;

use super::discovery::{ScanOptions, Scanner};
use super::series::render_scan;

/// The largest request head (request line and headers) read.
const REQUEST_HEAD_LIMIT: usize = 16 * 1024;

/// How the exporter runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Time between the start of one scan and the next (a longer scan is followed at once).
    pub interval: Duration,
    /// What to scan.
    pub scan: ScanOptions,
    /// The exporter's own `<program>_build_info` family.
    pub own_build_info: Option<Family<'static>>,
    /// From waiting for a request until its head is complete.
    pub header_read_timeout: Duration,
    /// The longest a connection stays open.
    pub connection_lifetime: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl ServeOptions {
    /// Listens on `listen`, scans `scan` every `interval`; 10 s for a request head, 5 minutes
    /// per connection, 64 connections.
    pub fn new(listen: SocketAddr, interval: Duration, scan: ScanOptions) -> ServeOptions {
        ServeOptions {
            listen,
            interval,
            scan,
            own_build_info: None,
            header_read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(300),
            max_connections: 64,
        }
    }
}

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The runtime, the signal handlers or the scan thread could not be set up.
    #[error("cannot start the exporter: {0}")]
    Start(std::io::Error),
}

/// The last scan, as served.
struct Shared {
    metrics: Mutex<Bytes>,
    last_scan: Mutex<Instant>,
    /// Scans older than this make `/healthz` fail.
    stale_after: Duration,
}

/// Scans once, then serves until SIGTERM or SIGINT, scanning every `interval` in a thread.
/// `on_listening` is told the bound address (port 0 picks one) once requests are answered.
pub fn serve(
    options: &ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let mut scanner = Scanner::new(options.scan.clone());
    let own = options.own_build_info.clone();
    let render = move |scanner: &mut Scanner| {
        let scan = scanner.scan();
        for e in &scan.errors {
            eprintln!("cargo-depinfo exporter: {}", crate::printable_line(e));
        }
        Bytes::from(render_scan(&scan, own.as_ref()))
    };
    let shared = Arc::new(Shared {
        metrics: Mutex::new(render(&mut scanner)),
        last_scan: Mutex::new(Instant::now()),
        stale_after: options.interval * 3 + Duration::from_secs(60),
    });
    let (stop, stopped) = channel::<()>();
    let scans = Arc::clone(&shared);
    let interval = options.interval;
    std::thread::Builder::new()
        .name("scan".into())
        .spawn(move || {
            let mut next = Instant::now() + interval;
            loop {
                match stopped.recv_timeout(next.saturating_duration_since(Instant::now())) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                next = Instant::now() + interval;
                let text = render(&mut scanner);
                *scans.metrics.lock().unwrap_or_else(PoisonError::into_inner) = text;
                *scans
                    .last_scan
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Instant::now();
            }
        })
        .map_err(ServeError::Start)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServeError::Start)?;
    let result = runtime.block_on(accept_loop(options, shared, on_listening));
    let _ = stop.send(());
    result
}

async fn accept_loop(
    options: &ServeOptions,
    shared: Arc<Shared>,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: options.listen,
            source,
        })?;
    let mut term = signal(SignalKind::terminate()).map_err(ServeError::Start)?;
    let mut int = signal(SignalKind::interrupt()).map_err(ServeError::Start)?;
    on_listening(listener.local_addr().map_err(ServeError::Start)?);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(REQUEST_HEAD_LIMIT);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if connections.len() < options.max_connections => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        eprintln!("cargo-depinfo exporter: cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let shared = Arc::clone(&shared);
                let service = service_fn(move |request| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, Infallible>(answer(&request, &shared)) }
                });
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let lifetime = options.connection_lifetime;
                connections.spawn(async move {
                    // Errors are the client's (reset, timeout, garbage): nothing to report.
                    let _ = tokio::time::timeout(lifetime, connection).await;
                });
            }
        }
    }
    connections.shutdown().await;
    Ok(())
}

fn answer(request: &Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &'static str, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        response
    };
    let text = "text/plain; charset=utf-8";
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            text,
            Bytes::from_static(b"only GET and HEAD\n"),
        );
        response.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return response;
    }
    match request.uri().path() {
        "/metrics" => {
            let body = shared
                .metrics
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            reply(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                body,
            )
        }
        "/healthz" => {
            let age = shared
                .last_scan
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .elapsed();
            if age <= shared.stale_after {
                reply(StatusCode::OK, text, Bytes::from_static(b"ok\n"))
            } else {
                reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    text,
                    Bytes::from(format!("the last scan finished {} s ago\n", age.as_secs())),
                )
            }
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            text,
            Bytes::from_static(b"not found: try /metrics or /healthz\n"),
        ),
    }
}
