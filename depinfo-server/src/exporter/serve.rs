//! The exporter's HTTP side: scans in a background thread, `/metrics` hands out the text of
//! the last scan (rendered once per scan, so a scrape costs a reference count), `/healthz`
//! says whether scans still complete, and `/deps/<digest>` hands out the dependency list of
//! an image of the last scan (for `depinfo-catalog`). Only the last scan's lists are
//! kept: a list goes with the last process of its image, and the path is only ever looked up
//! in that map (a path that is not a digest is refused with 400 before anything else).
//! Anything else is 404.
//!
//! The server is the crate's one HTTP server (`http_server`), shared with the catalog: it
//! bounds every wait (a 16 KiB request head within `header_read_timeout`, connections that
//! live at most `connection_lifetime`), shares `max_connections` slots fairly (a newcomer
//! takes the slot of the connection waiting longest for a request head, else of an answer
//! that stalled or is late, so idle and slow clients cannot hold every slot; issue 18,
//! defect 6), and stops on SIGTERM or SIGINT: open connections are dropped, an ongoing scan
//! is abandoned with the process.

use std::net::SocketAddr;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use build_info_collector::{Family, Layout};
use bytes::Bytes;
use hyper::StatusCode;

use super::advisories::Advisories;
use super::discovery::{ScanOptions, Scanner};
use super::series::render_scan;
use crate::http_server::{self, Answer, Bounds, Served, StartError, TEXT, not_found, reply};

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
    /// Which crate series `/metrics` has ([`Layout`]; `full` by default).
    pub layout: Layout,
    /// The exporter's own `<program>_build_info` family.
    pub own_build_info: Option<Family<'static>>,
    /// The advisory database (`--db`), loaded: with it, each scan publishes
    /// `rust_advisory_info` with a verdict per running program (see the `advisories` module).
    pub advisories: Option<Arc<Mutex<Advisories>>>,
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
    /// Listens on `listen`, scans `scan` every `interval`; 10 s for a request head, 5 minutes
    /// per connection, 64 connections.
    pub fn new(listen: SocketAddr, interval: Duration, scan: ScanOptions) -> ServeOptions {
        ServeOptions {
            listen,
            interval,
            scan,
            layout: Layout::Full,
            own_build_info: None,
            advisories: None,
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
    served: Mutex<Arc<Served>>,
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
    let layout = options.layout;
    let advisories = options.advisories.clone();
    let render = move |scanner: &mut Scanner| {
        let scan = scanner.scan();
        for e in &scan.errors {
            eprintln!(
                "cargo-depinfo exporter: {}",
                depinfo_read::text_safety::printable_line(e)
            );
        }
        let mut page = render_scan(&scan, own.as_ref(), layout);
        if let Some(advisories) = &advisories {
            let families = advisories
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .families(&scan);
            let families: Vec<_> = families.into_iter().filter(|f| !f.is_empty()).collect();
            page.metrics.push_str(
                &build_info_collector::render(&families).unwrap_or_else(|e| {
                    unreachable!("constant names, not among the scan's families: {e}")
                }),
            );
        }
        Arc::new(Served {
            metrics: Bytes::from(page.metrics),
            lists: page
                .lists
                .into_iter()
                .map(|(digest, list)| (digest, Bytes::from(list.text().to_owned())))
                .collect(),
        })
    };
    let shared = Arc::new(Shared {
        served: Mutex::new(render(&mut scanner)),
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
                let served = render(&mut scanner);
                *scans.served.lock().unwrap_or_else(PoisonError::into_inner) = served;
                *scans
                    .last_scan
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Instant::now();
            }
        })
        .map_err(ServeError::Start)?;
    let bounds = Bounds {
        listen: options.listen,
        header_read_timeout: options.header_read_timeout,
        connection_lifetime: options.connection_lifetime,
        max_connections: options.max_connections,
    };
    let result = http_server::run(
        "exporter",
        &bounds,
        move |path| answer(path, &shared),
        on_listening,
    );
    let _ = stop.send(());
    result.map_err(|e| match e {
        StartError::Listen(source) => ServeError::Listen {
            addr: options.listen,
            source,
        },
        StartError::Start(e) => ServeError::Start(e),
    })
}

/// The exporter's routes: `/healthz`, then the last scan's page and lists.
fn answer(path: &str, shared: &Shared) -> Answer {
    if path == "/healthz" {
        let age = shared
            .last_scan
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed();
        return if age <= shared.stale_after {
            reply(StatusCode::OK, TEXT, Bytes::from_static(b"ok\n"))
        } else {
            reply(
                StatusCode::SERVICE_UNAVAILABLE,
                TEXT,
                Bytes::from(format!("the last scan finished {} s ago\n", age.as_secs())),
            )
        };
    }
    let served = Arc::clone(&shared.served.lock().unwrap_or_else(PoisonError::into_inner));
    served
        .answer(
            path,
            "no image of the last scan has a dependency list with this digest\n",
        )
        .unwrap_or_else(|| not_found("not found: try /metrics, /healthz or /deps/<digest>\n"))
}
