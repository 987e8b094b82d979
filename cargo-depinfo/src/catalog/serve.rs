//! The catalog's HTTP side: `GET /metrics` hands out the page rendered after the last change,
//! `GET /deps/<digest>` a list from the cache (so that catalogs can chain), anything else is
//! 404. Bounded as the exporter's server is: a 16 KiB request head that must arrive within
//! `header_read_timeout`, connections that live at most `connection_lifetime`, and at most
//! `max_connections` open at once; when all are taken, the connection whose last request (or
//! accept) is oldest is closed for the newcomer (a scraper reconnects), so idle clients cannot
//! hold the catalog. SIGTERM or SIGINT stops it.
//!
//! This is a smaller copy of the exporter's policy (`exporter/serve.rs`, which also weighs
//! answers in progress); the two should become one server with routes of their own.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use build_info_collector::{DEPS_LIST_CONTENT_TYPE, DEPS_PATH_PREFIX, is_digest};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::task::{AbortHandle, JoinSet};

/// The largest request head read.
const REQUEST_HEAD_LIMIT: usize = 16 * 1024;

/// What is served: replaced whole after each change.
#[derive(Debug, Default)]
pub struct Served {
    /// The `/metrics` page.
    pub metrics: Bytes,
    /// The documents, by digest.
    pub lists: BTreeMap<String, Bytes>,
}

/// What is served now, shared with the thread that updates it.
pub type Shared = Arc<Mutex<Arc<Served>>>;

/// How the catalog serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// From waiting for a request until its head is complete.
    pub header_read_timeout: Duration,
    /// The longest a connection stays open.
    pub connection_lifetime: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl ServeOptions {
    /// 10 s for a request head, 5 minutes per connection, 64 connections.
    pub fn new(listen: SocketAddr) -> ServeOptions {
        ServeOptions {
            listen,
            header_read_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(300),
            max_connections: 64,
        }
    }
}

/// Serves `shared` until SIGTERM or SIGINT; `on_listening` is told the bound address.
///
/// # Errors
///
/// The address cannot be bound, or the runtime or signal handlers cannot be set up: one
/// line.
pub fn serve(
    options: &ServeOptions,
    shared: &Shared,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the catalog's server: {e}"))?;
    runtime.block_on(accept_loop(options, shared, on_listening))
}

async fn accept_loop(
    options: &ServeOptions,
    shared: &Shared,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let signals = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
    let mut term = signals(SignalKind::terminate())?;
    let mut int = signals(SignalKind::interrupt())?;
    on_listening(
        listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?,
    );
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(REQUEST_HEAD_LIMIT);
    let mut connections = JoinSet::new();
    // Each open connection's last sign of life: accepted, or a request head read.
    let mut open: BTreeMap<tokio::task::Id, (Arc<Mutex<Instant>>, AbortHandle)> = BTreeMap::new();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(done) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                open.remove(&id);
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if open.len() >= options.max_connections.max(1) {
                        let oldest = open
                            .iter()
                            .min_by_key(|(_, (t, _))| *t.lock().unwrap_or_else(PoisonError::into_inner))
                            .map(|(id, _)| *id);
                        if let Some((_, handle)) = oldest.and_then(|id| open.remove(&id)) {
                            handle.abort();
                        }
                    }
                    let shared = Arc::clone(shared);
                    let active = Arc::new(Mutex::new(Instant::now()));
                    let alive = Arc::clone(&active);
                    let service = service_fn(move |request| {
                        *alive.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
                        let served = Arc::clone(&shared.lock().unwrap_or_else(PoisonError::into_inner));
                        let response = answer(&request, &served);
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let lifetime = options.connection_lifetime;
                    let handle = connections.spawn(async move {
                        // Errors are the client's (reset, timeout, garbage): nothing to report.
                        let _ = tokio::time::timeout(lifetime, connection).await;
                    });
                    open.insert(handle.id(), (active, handle));
                }
                Err(e) => {
                    eprintln!("cargo-depinfo catalog: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    connections.shutdown().await;
    Ok(())
}

fn answer(request: &Request<Incoming>, served: &Served) -> Response<Full<Bytes>> {
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
    let path = request.uri().path();
    if path == "/metrics" {
        return reply(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            served.metrics.clone(),
        );
    }
    if let Some(digest) = path.strip_prefix(DEPS_PATH_PREFIX)
        && is_digest(digest)
        && let Some(list) = served.lists.get(digest)
    {
        return reply(StatusCode::OK, DEPS_LIST_CONTENT_TYPE, list.clone());
    }
    reply(
        StatusCode::NOT_FOUND,
        text,
        Bytes::from_static(b"not found: try /metrics or /deps/<digest>\n"),
    )
}
