//! The one HTTP server of the commands that serve (`depinfo-exporter` and
//! `depinfo-catalog`): it owns the accept loop, the connection slots and their policy,
//! the timeouts and the stop on signals; each command passes its routes, a function from a
//! request path to an answer that reads the command's current state. Only `GET` and `HEAD`
//! reach the routes; any other method is answered 405 here.
//!
//! Every wait is bounded: the request head (request line and headers, at most 16 KiB) must
//! arrive within `header_read_timeout`, and a connection lives at most `connection_lifetime`
//! (a keep-alive scraper reconnects; a client that stops reading is dropped). SIGTERM or
//! SIGINT stops the server: open connections are dropped.
//!
//! Slots are shared fairly: at most `max_connections` are open, and the accept loop keeps
//! accepting. When every slot is taken, the newcomer gets the slot of the connection that has
//! waited longest for a request head (a silent client, a keep-alive connection between
//! requests, a client dripping its head byte by byte); failing that, of the one answering
//! longest among those whose client has taken none of its answer for a second
//! ([`STALLED_ANSWER`]) or that have answered for longer than `header_read_timeout`. A
//! connection whose answer moves on in time keeps its slot, and the newcomer is held (the next
//! ones wait in the listen queue) until a slot can be given. So idle and slow clients cannot
//! hold every slot: a scrape is answered whatever they do (issue 18, defect 6).
//!
//! Both commands hand out a page at `/metrics` and dependency lists at `/deps/<digest>`
//! ([`Served`]), with the same answers: 200 with the document, 404 for a digest they have no
//! list for, 400 for a path under `/deps/` that is not a digest (refused before any lookup).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use build_info_collector::{DEPS_LIST_CONTENT_TYPE, DEPS_PATH_PREFIX, is_digest};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinSet};

/// The largest request head (request line and headers) read.
const REQUEST_HEAD_LIMIT: usize = 16 * 1024;

/// The content type of plain-text answers (errors, `/healthz`).
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
/// The content type of a `/metrics` page.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An answer, as routes give it.
pub(crate) type Answer = Response<Full<Bytes>>;

/// How the server is bounded.
#[derive(Debug, Clone)]
pub(crate) struct Bounds {
    /// Address to listen on.
    pub(crate) listen: SocketAddr,
    /// From waiting for a request until its head is complete. Also how long an answer may
    /// take before its slot may go to a newcomer (when all are taken).
    pub(crate) header_read_timeout: Duration,
    /// The longest a connection stays open.
    pub(crate) connection_lifetime: Duration,
    /// Connections open at once (at least one).
    pub(crate) max_connections: usize,
}

/// Why the server could not start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// The address could not be bound.
    Listen(std::io::Error),
    /// The runtime or the signal handlers could not be set up.
    Start(std::io::Error),
}

/// Serves `routes` within `bounds` until SIGTERM or SIGINT; `on_listening` is told the bound
/// address (port 0 picks one) once requests are answered. `name` (`exporter`, `catalog`)
/// starts the lines said on stderr.
pub(crate) fn run(
    name: &'static str,
    bounds: &Bounds,
    routes: impl Fn(&str) -> Answer + Send + Sync + 'static,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(StartError::Start)?;
    runtime.block_on(accept_loop(name, bounds, Arc::new(routes), on_listening))
}

async fn accept_loop<R: Fn(&str) -> Answer + Send + Sync + 'static>(
    name: &'static str,
    bounds: &Bounds,
    routes: Arc<R>,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listener = tokio::net::TcpListener::bind(bounds.listen)
        .await
        .map_err(StartError::Listen)?;
    let mut term = signal(SignalKind::terminate()).map_err(StartError::Start)?;
    let mut int = signal(SignalKind::interrupt()).map_err(StartError::Start)?;
    on_listening(listener.local_addr().map_err(StartError::Start)?);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(bounds.header_read_timeout)
        .max_buf_size(REQUEST_HEAD_LIMIT);
    let max_connections = bounds.max_connections.max(1);
    let mut connections = JoinSet::new();
    let mut slots = Slots::new();
    // Told when a connection finishes an answer or its answer stalls: its slot may now be
    // given away.
    let freed = Arc::new(Notify::new());
    let grace = bounds.header_read_timeout;
    // A newcomer accepted while no slot could be given: it waits here (the next ones in the
    // listen queue) until one can.
    let mut newcomer: Option<tokio::net::TcpStream> = None;
    loop {
        if newcomer.is_some() {
            let now = Instant::now();
            let placed = slots.len() < max_connections
                || victim(phases(&slots), now, grace).is_some_and(|id| {
                    if let Some((_, handle)) = slots.remove(&id) {
                        handle.abort();
                    }
                    true
                });
            if let Some(stream) = newcomer.take_if(|_| placed) {
                let slot = Arc::new(Slot::new(Arc::clone(&freed)));
                let handle = connections.spawn(serve_connection(
                    &http,
                    stream,
                    Arc::clone(&routes),
                    Arc::clone(&slot),
                    bounds.connection_lifetime,
                ));
                slots.insert(handle.id(), (slot, handle));
                // Let the new connection read its head before the next accept: a burst of
                // connections must not push a client out before it had a chance to ask.
                tokio::task::yield_now().await;
            }
        }
        // Still waiting: look again when the first answer in progress may be given away, or
        // when one finishes or stalls. (A newcomer waits only while every slot is answering
        // in time, so that moment exists whenever there is a slot.)
        let recheck = newcomer.as_ref().and_then(|_| {
            phases(&slots)
                .filter_map(|(_, p)| p.evictable_from(grace))
                .min()
        });
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(done) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                slots.remove(&id);
            }
            () = freed.notified(), if newcomer.is_some() => {}
            () = tokio::time::sleep_until(recheck.unwrap_or_else(Instant::now).into()), if recheck.is_some() => {}
            accepted = listener.accept(), if newcomer.is_none() => match accepted {
                Ok((stream, _)) => newcomer = Some(stream),
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    eprintln!("cargo-depinfo {name}: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// Serves one connection in its slot, for at most `lifetime`.
fn serve_connection<R: Fn(&str) -> Answer + Send + Sync + 'static>(
    http: &http1::Builder,
    stream: tokio::net::TcpStream,
    routes: Arc<R>,
    slot: Arc<Slot>,
    lifetime: Duration,
) -> impl Future<Output = ()> + Send + 'static {
    let answering = Arc::clone(&slot);
    let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        answering.answering();
        let response = if matches!(*request.method(), Method::GET | Method::HEAD) {
            routes(request.uri().path())
        } else {
            let mut response = reply(
                StatusCode::METHOD_NOT_ALLOWED,
                TEXT,
                Bytes::from_static(b"only GET and HEAD\n"),
            );
            response.headers_mut().insert(
                hyper::header::ALLOW,
                hyper::header::HeaderValue::from_static("GET, HEAD"),
            );
            response
        };
        let body = TrackedAnswer {
            response,
            slot: Arc::clone(&answering),
        };
        async move { Ok::<_, Infallible>(body.into_response()) }
    });
    let io = Tracked {
        io: TokioIo::new(stream),
        slot,
    };
    let connection = http.serve_connection(io, service);
    async move {
        // Errors are the client's (reset, timeout, garbage): nothing to report.
        let _ = tokio::time::timeout(lifetime, connection).await;
    }
}

/// The open connections and their slots.
type Slots = BTreeMap<tokio::task::Id, (Arc<Slot>, AbortHandle)>;

fn phases(slots: &Slots) -> impl Iterator<Item = (tokio::task::Id, Phase)> + '_ {
    slots.iter().map(|(id, (slot, _))| (*id, slot.phase()))
}

/// How long an answer may make no progress (the client takes none of it) before its slot may
/// be given away. A client that reads frees room in its socket within a round trip.
const STALLED_ANSWER: Duration = Duration::from_secs(1);

/// What a connection is doing, as the slot policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request head, or reading one, since then: a fresh connection, a
    /// keep-alive connection between requests, a client dripping its head.
    Waiting(Instant),
    /// Answering since `since`: from a complete request head until the answer is written;
    /// `stalled` since the socket last took none of it.
    Answering {
        since: Instant,
        stalled: Option<Instant>,
    },
}

impl Phase {
    /// When an answer in progress may be given away: `grace` after it began, or
    /// [`STALLED_ANSWER`] after the client stopped taking it. None for a waiting connection
    /// (it may always be).
    fn evictable_from(self, grace: Duration) -> Option<Instant> {
        match self {
            Phase::Waiting(_) => None,
            Phase::Answering { since, stalled } => {
                let late = since + grace;
                Some(stalled.map_or(late, |t| late.min(t + STALLED_ANSWER)))
            }
        }
    }
}

/// The connection to close so that a newcomer gets its slot: the one waiting longest for a
/// request head; failing that, the one answering longest among those past their grace or
/// stalled (a client that does not take its answer). None when every connection is answering
/// in time.
fn victim<K>(phases: impl Iterator<Item = (K, Phase)>, now: Instant, grace: Duration) -> Option<K> {
    let mut waiting: Option<(Instant, K)> = None;
    let mut slow: Option<(Instant, K)> = None;
    for (key, phase) in phases {
        let (best, since) = match phase {
            Phase::Waiting(since) => (&mut waiting, since),
            Phase::Answering { since, .. }
                if phase.evictable_from(grace).is_some_and(|t| t <= now) =>
            {
                (&mut slow, since)
            }
            Phase::Answering { .. } => continue,
        };
        if best.as_ref().is_none_or(|(t, _)| since < *t) {
            *best = Some((since, key));
        }
    }
    waiting.or(slow).map(|(_, key)| key)
}

/// One connection's slot: its phase, shared by the accept loop, the service and the I/O.
#[derive(Debug)]
struct Slot {
    phase: Mutex<Phase>,
    /// The answer's body has been handed to hyper: the next flush that completes means the
    /// answer is written.
    body_taken: AtomicBool,
    /// The accept loop's bell.
    freed: Arc<Notify>,
}

impl Slot {
    fn new(freed: Arc<Notify>) -> Slot {
        Slot {
            phase: Mutex::new(Phase::Waiting(Instant::now())),
            body_taken: AtomicBool::new(false),
            freed,
        }
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(PoisonError::into_inner) = phase;
    }

    /// A request head is complete.
    fn answering(&self) {
        self.body_taken.store(false, Ordering::Relaxed);
        self.set(Phase::Answering {
            since: Instant::now(),
            stalled: None,
        });
    }

    /// A write to the socket took nothing (`false`) or something (`true`).
    fn wrote(&self, moved: bool) {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if let Phase::Answering { stalled, .. } = &mut *phase {
            match (moved, *stalled) {
                (true, _) => *stalled = None,
                (false, None) => {
                    *stalled = Some(Instant::now());
                    drop(phase);
                    // The accept loop sets its timer from this.
                    self.freed.notify_one();
                }
                (false, Some(_)) => {}
            }
        }
    }

    /// hyper dropped the answer's body: written to its buffer, maybe not yet to the socket.
    fn body_done(&self) {
        self.body_taken.store(true, Ordering::Relaxed);
    }

    /// hyper's buffer reached the socket. hyper flushes the socket only once its own buffer
    /// is empty, so after the body is done this means the whole answer is written.
    fn flushed(&self) {
        if self.body_taken.swap(false, Ordering::Relaxed) {
            self.set(Phase::Waiting(Instant::now()));
            self.freed.notify_one();
        }
    }
}

/// An answer whose body tells its slot when hyper is done with it.
struct TrackedAnswer {
    response: Answer,
    slot: Arc<Slot>,
}

impl TrackedAnswer {
    fn into_response(self) -> Response<TrackedBody> {
        let (parts, body) = self.response.into_parts();
        Response::from_parts(
            parts,
            TrackedBody {
                body,
                slot: self.slot,
            },
        )
    }
}

/// A body that marks its slot when dropped (hyper drops it once it has its last bytes, or
/// without polling it for `HEAD`).
struct TrackedBody {
    body: Full<Bytes>,
    slot: Arc<Slot>,
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.slot.body_done();
    }
}

/// The connection's socket, telling its slot when an answer has been written.
struct Tracked<T> {
    io: T,
    slot: Arc<Slot>,
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for Tracked<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.progress(&written);
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if matches!(flushed, Poll::Ready(Ok(()))) {
            self.slot.flushed();
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.progress(&written);
        written
    }
}

impl<T> Tracked<T> {
    /// Tells the slot whether a write moved the answer on.
    fn progress(&self, written: &Poll<std::io::Result<usize>>) {
        match written {
            Poll::Pending => self.slot.wrote(false),
            Poll::Ready(Ok(n)) if *n > 0 => self.slot.wrote(true),
            Poll::Ready(_) => {}
        }
    }
}

/// An answer with `status`, `content_type` and `body`.
pub(crate) fn reply(status: StatusCode, content_type: &'static str, body: Bytes) -> Answer {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

/// 404, with `body` saying what there is.
pub(crate) fn not_found(body: &'static str) -> Answer {
    reply(
        StatusCode::NOT_FOUND,
        TEXT,
        Bytes::from_static(body.as_bytes()),
    )
}

/// What a command hands out at `/metrics` and `/deps/<digest>`: replaced whole after each
/// change, so that an answer costs a reference count.
#[derive(Debug, Default)]
pub struct Served {
    /// The `/metrics` page.
    pub metrics: Bytes,
    /// The dependency lists, by digest.
    pub lists: BTreeMap<String, Bytes>,
}

impl Served {
    /// The answer to `path` if it is `/metrics` or under `/deps/`: the page; a list (its
    /// digest unknown: 404 with `unknown` as the body); 400 for a path under `/deps/` that is
    /// not a digest. None for any other path.
    pub(crate) fn answer(&self, path: &str, unknown: &'static str) -> Option<Answer> {
        if path == "/metrics" {
            return Some(reply(
                StatusCode::OK,
                METRICS_CONTENT_TYPE,
                self.metrics.clone(),
            ));
        }
        Some(match deps_request(path) {
            DepsRequest::Malformed => reply(
                StatusCode::BAD_REQUEST,
                TEXT,
                Bytes::from_static(b"not a digest: /deps/ takes 32 lowercase hexadecimal digits\n"),
            ),
            DepsRequest::Digest(digest) => match self.lists.get(digest) {
                Some(list) => reply(StatusCode::OK, DEPS_LIST_CONTENT_TYPE, list.clone()),
                None => not_found(unknown),
            },
            DepsRequest::Other => return None,
        })
    }
}

/// What a request path asks of `/deps/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DepsRequest<'a> {
    /// `/deps/<digest>`: the list with that digest.
    Digest(&'a str),
    /// Under `/deps/`, but not a digest (too short or long, upper case, a slash, `..`, an
    /// escape): refused before any lookup.
    Malformed,
    /// Not under `/deps/`.
    Other,
}

/// Classifies a request path (without its query): only `/deps/` and 32 lowercase hexadecimal
/// digits ask for a list.
fn deps_request(path: &str) -> DepsRequest<'_> {
    match path.strip_prefix(DEPS_PATH_PREFIX) {
        Some(digest) if is_digest(digest) => DepsRequest::Digest(digest),
        Some(_) => DepsRequest::Malformed,
        None => DepsRequest::Other,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const GRACE: Duration = Duration::from_secs(10);

    fn at(base: Instant, secs: u64) -> Instant {
        base + Duration::from_secs(secs)
    }

    fn answering(since: Instant, stalled: Option<Instant>) -> Phase {
        Phase::Answering { since, stalled }
    }

    fn since(phase: Phase) -> Instant {
        match phase {
            Phase::Waiting(t) | Phase::Answering { since: t, .. } => t,
        }
    }

    #[test]
    fn the_longest_waiting_connection_goes_first_then_a_slow_reader() {
        let t0 = Instant::now();
        let now = at(t0, 100);
        // Waiting beats answering, however long the answer has taken.
        let phases = [
            ("answering-long", answering(at(t0, 0), Some(at(t0, 1)))),
            ("waiting-new", Phase::Waiting(at(t0, 99))),
            ("waiting-old", Phase::Waiting(at(t0, 50))),
        ];
        assert_eq!(victim(phases.into_iter(), now, GRACE), Some("waiting-old"));
        // No one waiting: the answer that has taken longest, once past the grace.
        let phases = [
            ("answering-fresh", answering(at(t0, 95), None)),
            ("answering-slow", answering(at(t0, 80), None)),
            ("answering-slower", answering(at(t0, 70), None)),
        ];
        assert_eq!(
            victim(phases.into_iter(), now, GRACE),
            Some("answering-slower")
        );
        // An answer the client has taken nothing of for a second, however young.
        let phases = [
            ("answering-fresh", answering(at(t0, 95), None)),
            ("stalled", answering(at(t0, 97), Some(at(t0, 98)))),
            ("stalled-just-now", answering(at(t0, 96), Some(at(t0, 100)))),
        ];
        assert_eq!(victim(phases.into_iter(), now, GRACE), Some("stalled"));
        // Every answer moving and within its grace: nobody is closed.
        let phases = [
            ("a", answering(at(t0, 91), None)),
            ("b", answering(at(t0, 100), Some(at(t0, 100)))),
        ];
        assert_eq!(victim(phases.into_iter(), now, GRACE), None);
        assert_eq!(victim(std::iter::empty::<((), Phase)>(), now, GRACE), None);
    }

    fn phase_strategy(t0: Instant) -> impl Strategy<Value = Phase> {
        prop_oneof![
            (0u64..1000).prop_map(move |s| Phase::Waiting(at(t0, s))),
            (0u64..1000, proptest::option::of(0u64..1000)).prop_map(move |(s, stalled)| {
                answering(at(t0, s), stalled.map(|d| at(t0, s.max(d))))
            }),
        ]
    }

    #[test]
    fn only_deps_and_a_digest_ask_for_a_list() {
        let d = "0123456789abcdef0123456789abcdef";
        assert_eq!(deps_request(&format!("/deps/{d}")), DepsRequest::Digest(d));
        for malformed in [
            "/deps/".to_owned(),
            format!("/deps/{}", d.to_ascii_uppercase()),
            format!("/deps/{d}/"),
            format!("/deps/{d}0"),
            format!("/deps//{d}"),
            "/deps/../metrics".to_owned(),
            "/deps/%2e%2e%2fetc%2fpasswd".to_owned(),
        ] {
            assert_eq!(
                deps_request(&malformed),
                DepsRequest::Malformed,
                "{malformed}"
            );
        }
        for other in ["/deps", "/metrics", "/", "", "/x/deps/0", "deps/0"] {
            assert_eq!(deps_request(other), DepsRequest::Other, "{other}");
        }
    }

    /// The whole body of an answer (a `Full` body is one frame, ready at once).
    fn body_of(answer: Answer) -> Bytes {
        let mut body = answer.into_body();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
            _ => Bytes::new(),
        }
    }

    /// A status, content type and body expected (None: not these routes).
    type Expected<'a> = Option<(u16, &'a str, &'a [u8])>;

    /// The answers both commands give: the page, a known list, 404 for an unknown digest
    /// (with the command's words), 400 for a malformed one, and nothing for other paths.
    #[test]
    fn the_page_and_the_lists_are_answered_alike() {
        let d = "0123456789abcdef0123456789abcdef";
        let list: &[u8] = b"a\t1\tx\ttrue\n";
        let served = Served {
            metrics: Bytes::from_static(b"up 1\n"),
            lists: BTreeMap::from([(d.to_owned(), Bytes::from_static(list))]),
        };
        let malformed: &[u8] = b"not a digest: /deps/ takes 32 lowercase hexadecimal digits\n";
        let cases: Vec<(String, Expected<'_>)> = vec![
            (
                "/metrics".into(),
                Some((200, METRICS_CONTENT_TYPE, b"up 1\n")),
            ),
            (
                format!("/deps/{d}"),
                Some((200, DEPS_LIST_CONTENT_TYPE, list)),
            ),
            (
                format!("/deps/{}", "f".repeat(32)),
                Some((404, TEXT, b"unknown\n")),
            ),
            (
                format!("/deps/{}", d.to_ascii_uppercase()),
                Some((400, TEXT, malformed)),
            ),
            ("/deps/".into(), Some((400, TEXT, malformed))),
            ("/deps".into(), None),
            ("/healthz".into(), None),
            ("/".into(), None),
        ];
        for (path, expected) in cases {
            let got = served.answer(&path, "unknown\n").map(|answer| {
                let status = answer.status().as_u16();
                let content_type = answer.headers()[hyper::header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .to_owned();
                (status, content_type, body_of(answer))
            });
            let expected = expected.map(|(s, c, b)| (s, c.to_owned(), Bytes::from_static(b)));
            assert_eq!(got, expected, "{path}");
        }
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(2000))]

        /// Whatever the path: no panic; a list is asked for exactly when the path is `/deps/`
        /// and 32 lowercase hexadecimal digits, and that digest is what is looked up.
        #[test]
        fn deps_paths_are_classified_exactly(
            path in prop_oneof![
                any::<String>(),
                "/deps/[0-9a-fA-F./%]{0,40}",
                "/deps/[0-9a-f]{32}",
                "/(deps|metrics)?",
            ],
        ) {
            let expected = match path.strip_prefix("/deps/") {
                None => DepsRequest::Other,
                Some(rest)
                    if rest.len() == 32
                        && rest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
                {
                    DepsRequest::Digest(rest)
                }
                Some(_) => DepsRequest::Malformed,
            };
            prop_assert_eq!(deps_request(&path), expected);
        }
    }

    proptest! {
        #![proptest_config(testkit::proptest_cases(512))]

        /// Whatever the slots hold: a waiting connection is chosen when there is one (the
        /// oldest), else the oldest answer past its grace or stalled for a second, and never
        /// an answer in time.
        #[test]
        fn victim_follows_the_policy(
            phases in proptest::collection::vec(phase_strategy(Instant::now()), 0..80),
        ) {
            let now = phases.iter().map(|p| since(*p)).max().unwrap_or_else(Instant::now);
            let keyed: Vec<(usize, Phase)> = phases.iter().copied().enumerate().collect();
            let chosen = victim(keyed.iter().copied(), now, GRACE);
            let oldest = |keep: &dyn Fn(&Phase) -> bool| {
                phases.iter().filter(|p| keep(p)).map(|p| since(*p)).min()
            };
            let late = |p: &Phase| match *p {
                Phase::Answering { since, stalled } => {
                    now.duration_since(since) >= GRACE
                        || stalled.is_some_and(|t| now.duration_since(t) >= STALLED_ANSWER)
                }
                Phase::Waiting(_) => false,
            };
            let waiting = oldest(&|p| matches!(p, Phase::Waiting(_)));
            let slow = oldest(&late);
            match (waiting, slow, chosen) {
                (Some(t), _, Some(i)) => {
                    prop_assert!(matches!(phases[i], Phase::Waiting(_)));
                    prop_assert_eq!(since(phases[i]), t);
                }
                (None, Some(t), Some(i)) => {
                    prop_assert!(late(&phases[i]));
                    prop_assert_eq!(since(phases[i]), t);
                }
                (None, None, None) => {}
                other => prop_assert!(false, "wrong choice: {:?}", other.2),
            }
        }
    }

    /// Whether the accept loop's bell was rung since the last look (a stored permit).
    fn rung(freed: &Notify) -> bool {
        let mut notified = std::pin::pin!(freed.notified());
        notified
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
            .is_ready()
    }

    /// A slot as the I/O sees it: a fresh connection waits; a complete head starts an answer;
    /// a write that takes nothing marks it stalled (once, ringing the bell so that the accept
    /// loop sets its timer), one that takes bytes clears that; the answer ends (the slot
    /// waits again, and the bell rings) only at the first flush after hyper dropped the body.
    #[test]
    fn a_slot_follows_its_connection_from_head_to_written_answer() {
        let freed = Arc::new(Notify::new());
        let slot = Arc::new(Slot::new(Arc::clone(&freed)));
        let io = Tracked {
            io: (),
            slot: Arc::clone(&slot),
        };
        assert!(matches!(slot.phase(), Phase::Waiting(_)));
        // Flushes and writes between requests change nothing.
        io.progress(&Poll::Pending);
        slot.flushed();
        assert!(matches!(slot.phase(), Phase::Waiting(_)));
        assert!(!rung(&freed));

        let before = Instant::now();
        slot.answering();
        let Phase::Answering { since, stalled } = slot.phase() else {
            panic!("not answering: {:?}", slot.phase());
        };
        assert!(since >= before && stalled.is_none());
        io.progress(&Poll::Ready(Ok(10)));
        assert_eq!(
            slot.phase(),
            Phase::Answering {
                since,
                stalled: None
            }
        );
        assert!(!rung(&freed));
        // The socket takes nothing: stalled from now, and the bell rings once.
        io.progress(&Poll::Pending);
        let Phase::Answering {
            stalled: Some(from),
            ..
        } = slot.phase()
        else {
            panic!("not stalled: {:?}", slot.phase());
        };
        assert!(rung(&freed));
        // Still nothing taken, a write of no bytes or a failed one: stalled since then.
        io.progress(&Poll::Pending);
        io.progress(&Poll::Ready(Ok(0)));
        io.progress(&Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())));
        assert_eq!(
            slot.phase(),
            Phase::Answering {
                since,
                stalled: Some(from)
            }
        );
        assert!(!rung(&freed));
        // It takes some again: moving.
        io.progress(&Poll::Ready(Ok(1)));
        assert_eq!(
            slot.phase(),
            Phase::Answering {
                since,
                stalled: None
            }
        );

        // A flush before the body is done is only part of the answer.
        slot.flushed();
        assert!(matches!(slot.phase(), Phase::Answering { .. }));
        assert!(!rung(&freed));
        // The body dropped, then flushed: written; the slot waits for the next head.
        drop(TrackedBody {
            body: Full::new(Bytes::from_static(b"ok\n")),
            slot: Arc::clone(&slot),
        });
        assert!(matches!(slot.phase(), Phase::Answering { .. }));
        slot.flushed();
        assert!(matches!(slot.phase(), Phase::Waiting(_)));
        assert!(rung(&freed));
        // A new request starts afresh: the old body's mark does not end it at the first flush.
        slot.answering();
        slot.flushed();
        assert!(matches!(slot.phase(), Phase::Answering { .. }));
    }

    /// A socket that takes `room` bytes more, then nothing (a client that stopped reading).
    struct Sink {
        room: usize,
        flushes: usize,
    }

    impl hyper::rt::Write for Sink {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            let n = buf.len().min(self.room);
            if n == 0 {
                return Poll::Pending;
            }
            self.room -= n;
            Poll::Ready(Ok(n))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// The socket's writes reach the slot, whichever way hyper writes, and pass on what the
    /// socket did.
    #[test]
    fn writes_through_the_tracked_socket_mark_the_slot() {
        let freed = Arc::new(Notify::new());
        let slot = Arc::new(Slot::new(Arc::clone(&freed)));
        slot.answering();
        let mut io = Tracked {
            io: Sink {
                room: 4,
                flushes: 0,
            },
            slot: Arc::clone(&slot),
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let wrote = hyper::rt::Write::poll_write(Pin::new(&mut io), &mut cx, b"12345678");
        assert!(matches!(wrote, Poll::Ready(Ok(4))), "{wrote:?}");
        let wrote = hyper::rt::Write::poll_write(Pin::new(&mut io), &mut cx, b"5678");
        assert!(wrote.is_pending(), "{wrote:?}");
        assert!(rung(&freed));
        io.io.room = 3;
        let more = [std::io::IoSlice::new(b"5678")];
        let wrote = hyper::rt::Write::poll_write_vectored(Pin::new(&mut io), &mut cx, &more);
        assert!(matches!(wrote, Poll::Ready(Ok(3))), "{wrote:?}");
        assert!(matches!(
            slot.phase(),
            Phase::Answering { stalled: None, .. }
        ));
        let wrote = hyper::rt::Write::poll_write_vectored(Pin::new(&mut io), &mut cx, &more);
        assert!(wrote.is_pending(), "{wrote:?}");
        assert!(matches!(
            slot.phase(),
            Phase::Answering {
                stalled: Some(_),
                ..
            }
        ));
        // The body done and the buffer flushed: the answer is written.
        slot.body_done();
        let flushed = hyper::rt::Write::poll_flush(Pin::new(&mut io), &mut cx);
        assert!(matches!(flushed, Poll::Ready(Ok(()))), "{flushed:?}");
        assert_eq!(io.io.flushes, 1);
        assert!(matches!(slot.phase(), Phase::Waiting(_)));
    }
}
