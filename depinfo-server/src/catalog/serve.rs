//! The catalog's HTTP side: `GET /metrics` hands out the page rendered after the last change,
//! `GET /deps/<digest>` a list from the cache (so that catalogs can chain), with the
//! exporter's answers: 404 for a digest the catalog has no list for, 400 for a path under
//! `/deps/` that is not a digest (refused before any lookup). Anything else is 404.
//!
//! The server is the crate's one HTTP server (`http_server`), shared with the exporter, with
//! the same bounds and slot policy: a 16 KiB request head that must arrive within
//! `header_read_timeout`, connections that live at most `connection_lifetime`, at most
//! `max_connections` open at once, and when all are taken a newcomer takes the slot of the
//! connection waiting longest for a request head, else of an answer that stalled or is late,
//! so idle and slow clients cannot hold the catalog. SIGTERM or SIGINT stops it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::http_server::{self, Answer, Bounds, StartError, not_found};

pub use crate::http_server::Served;

/// What is served now, shared with the thread that updates it.
pub type Shared = Arc<Mutex<Arc<Served>>>;

/// How the catalog serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// From waiting for a request until its head is complete. Also how long a client may take
    /// to take its answer before its slot may go to a newcomer (when all are taken).
    pub header_read_timeout: Duration,
    /// The longest a connection stays open.
    pub connection_lifetime: Duration,
    /// Connections open at once. When all are taken, a newcomer takes the slot of the
    /// connection that has waited longest for a request head, else of one whose answer has
    /// stalled or taken longer than `header_read_timeout` (see the module docs).
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
    let bounds = Bounds {
        listen: options.listen,
        header_read_timeout: options.header_read_timeout,
        connection_lifetime: options.connection_lifetime,
        max_connections: options.max_connections,
    };
    let shared = Arc::clone(shared);
    http_server::run(
        "catalog",
        &bounds,
        move |path| answer(path, &shared),
        on_listening,
    )
    .map_err(|e| match e {
        StartError::Listen(e) => format!("cannot listen on {}: {e}", options.listen),
        StartError::Start(e) => format!("cannot start the catalog's server: {e}"),
    })
}

/// The catalog's routes: its page and its lists.
fn answer(path: &str, shared: &Shared) -> Answer {
    let served = Arc::clone(&shared.lock().unwrap_or_else(PoisonError::into_inner));
    served
        .answer(
            path,
            "the catalog has no dependency list with this digest\n",
        )
        .unwrap_or_else(|| not_found("not found: try /metrics or /deps/<digest>\n"))
}
