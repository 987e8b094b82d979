//! Serving HTTP/1.1 with every wait bounded: the request head, an idle connection, the number
//! of connections, and the shutdown.
//!
//! `axum::serve` offers none of these knobs, so the accept loop is written here on hyper,
//! which axum already runs on. It is the smallest loop that bounds every wait, for a service
//! to copy: it depends on nothing of this workspace but what a user's service would.
//! `cargo depinfo`'s own server (`depinfo-server/src/http_server.rs`) is a different program,
//! not a copy: it shares slots fairly among idle, slow and scraping clients and drops
//! connections on a signal, where this one lets them finish within a deadline.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::idle_timeout::IdleTimeout;

/// The buffer for reading a request head, and so its largest size.
const REQUEST_HEAD_LIMIT: usize = 64 * 1024;

/// How long each wait may last.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From waiting for a request until its head is complete.
    pub header_read: Duration,
    /// Without a byte moving in either direction.
    pub idle: Duration,
    /// From the shutdown signal until the process stops, whatever clients do.
    pub shutdown: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
}

/// How the service stopped.
#[derive(Debug)]
pub struct Stopped {
    /// Connections still open at the shutdown deadline, closed without their consent.
    pub dropped: usize,
}

/// Serves `router` on `listener` until `signal` resolves, then lets open connections finish
/// their current request for at most `limits.shutdown` before dropping them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) -> Stopped {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        // A request head is a few hundred bytes here: 64 KiB is ample, and with the buffer
        // capped too it bounds memory at `max_connections` times that (hyper's default buffer
        // is about 400 KiB, and the head is limited only by it).
        .max_header_size(REQUEST_HEAD_LIMIT)
        .max_buf_size(REQUEST_HEAD_LIMIT);
    // Every connection watches this; sending `true` asks them to finish.
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if connections.len() < limits.max_connections => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and similar: wait instead of spinning.
                        eprintln!("example-service: cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let io = TokioIo::new(IdleTimeout::new(stream, limits.idle));
                let connection = http.serve_connection(io, TowerToHyperService::new(router.clone()));
                let mut stopping = stopping.clone();
                connections.spawn(async move {
                    let mut connection = std::pin::pin!(connection);
                    tokio::select! {
                        // Errors are the client's (reset, timeout, garbage): nothing to report.
                        _ = connection.as_mut() => return,
                        _ = stopping.wait_for(|&stop| stop) => {}
                    }
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                });
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let finished = tokio::time::timeout(limits.shutdown, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    let dropped = if finished.is_ok() {
        0
    } else {
        let left = connections.len();
        connections.shutdown().await;
        left
    };
    Stopped { dropped }
}
