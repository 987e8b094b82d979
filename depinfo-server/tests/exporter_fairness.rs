//! The exporter's connection slots are shared fairly: idle and slow clients cannot hold them
//! all. An attacker keeps 300 connections open against the real exporter (silent ones, ones
//! that sent half a request head, slow-loris ones dripping a byte a second), reconnecting each
//! one the exporter closes; scrapes and health checks must still be answered, each well within
//! the header read timeout, and the exporter must never hold more connections than its limit.
//! The catalog runs the same server (`src/http_server.rs`): the same attack against the real
//! catalog must leave its page and its lists answered too.
//! Latency figures belong to the bench (`benches/exporter.rs`), not here.
#![cfg(target_os = "linux")]

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use testkit::Running;

const EXPORTER: &str = env!("CARGO_BIN_EXE_depinfo-exporter");
const CATALOG: &str = env!("CARGO_BIN_EXE_depinfo-catalog");

/// Starts the exporter on a free port with `args`; returns it and its address.
fn start_exporter(args: &[&str]) -> (Running, String) {
    testkit::start_exporter(Command::new(EXPORTER), args)
}

/// How an attacking connection behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Connects and sends nothing.
    Silent,
    /// Sends half a request head, then nothing.
    HalfHead,
    /// Sends a request head one byte a second, never finishing it.
    Drip,
}

const HEAD: &[u8] =
    b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\nAccept: */*\r\nX-Pad: ";

/// One attacking connection.
struct Held {
    kind: Kind,
    stream: TcpStream,
    sent: usize,
}

impl Held {
    fn open(addr: &str, kind: Kind) -> Option<Held> {
        // Bounded: a server whose listen queue is full leaves a connect waiting for minutes.
        let addr = addr.parse().ok()?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
        if kind == Kind::HalfHead {
            stream.write_all(&HEAD[..HEAD.len() / 2]).ok()?;
        }
        stream.set_nonblocking(true).ok()?;
        Some(Held {
            kind,
            stream,
            sent: 0,
        })
    }

    /// Whether the exporter closed it (end of stream or a reset).
    fn closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != ErrorKind::WouldBlock,
        }
    }
}

/// Keeps `silent`, `half` and `drip` connections open until stopped, reconnecting each one
/// the exporter closes; counts the closes.
struct Attacker {
    stop: Arc<AtomicBool>,
    closed: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Attacker {
    fn start(addr: &str, silent: usize, half: usize, drip: usize) -> Attacker {
        let stop = Arc::new(AtomicBool::new(false));
        let closed = Arc::new(AtomicU64::new(0));
        let kinds: Vec<Kind> = std::iter::repeat_n(Kind::Silent, silent)
            .chain(std::iter::repeat_n(Kind::HalfHead, half))
            .chain(std::iter::repeat_n(Kind::Drip, drip))
            .collect();
        // All open before the first scrape.
        let mut held: Vec<Option<Held>> = kinds.iter().map(|&k| Held::open(addr, k)).collect();
        assert!(
            held.iter().all(Option::is_some),
            "could not open the attacking connections"
        );
        let thread = {
            let (stop, closed, addr) = (Arc::clone(&stop), Arc::clone(&closed), addr.to_owned());
            std::thread::spawn(move || {
                let mut last_drip = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let drip_now = last_drip.elapsed() >= Duration::from_secs(1);
                    if drip_now {
                        last_drip = Instant::now();
                    }
                    for (slot, &kind) in held.iter_mut().zip(&kinds) {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let gone = match slot {
                            Some(h) => h.closed(),
                            None => true,
                        };
                        if gone {
                            if slot.is_some() {
                                closed.fetch_add(1, Ordering::Relaxed);
                            }
                            *slot = Held::open(&addr, kind);
                            continue;
                        }
                        if let Some(h) = slot.as_mut().filter(|h| h.kind == Kind::Drip && drip_now)
                        {
                            // The head's last byte is never sent.
                            let at = h.sent % (HEAD.len() - 1);
                            let _ = h.stream.write(&HEAD[at..=at]);
                            h.sent += 1;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Attacker {
            stop,
            closed,
            thread: Some(thread),
        }
    }

    fn closed(&self) -> u64 {
        self.closed.load(Ordering::Relaxed)
    }
}

impl Drop for Attacker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The server's open sockets.
fn sockets(server: &mut Running) -> usize {
    let dir = format!("/proc/{}/fd", server.child().id());
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
        })
        .count()
}

/// `GET target`: its status and how long it took.
fn timed_get(addr: &str, target: &str) -> (u16, Duration) {
    let started = Instant::now();
    let status = testkit::get(addr, target).map_or(0, |r| r.status);
    (status, started.elapsed())
}

/// The exporter with `max` connection slots, a header read timeout of 60 s and a scan every
/// second: its guard and address.
fn exporter_with_slots(max: usize) -> (Running, String) {
    start_exporter(&[
        "--interval",
        "1",
        "--max-connections",
        &max.to_string(),
        "--header-read-timeout",
        "60",
    ])
}

/// The exporter with one connection slot, a header read timeout of 60 s and no processes to
/// scan: its guard and address.
fn exporter_with_one_slot() -> (Running, String) {
    start_exporter(&[
        "--max-connections",
        "1",
        "--header-read-timeout",
        "60",
        "--proc-root",
        "/nonexistent",
    ])
}

/// While 300 idle and slow connections are held against `server`'s `max` slots: 15 rounds of
/// `GET` of each of `targets`, each answered 200 within 5 s (`check` sees each target's body),
/// never more connections open than the limit; then the idle connections closed to make room
/// were at least one per answered request, and the 236 that never fit.
fn answered_under_attack(
    server: &mut Running,
    addr: &str,
    max: usize,
    targets: &[&str],
    check: impl Fn(&str, &str),
) {
    let idle = sockets(server);
    let attacker = Attacker::start(addr, 260, 20, 20);
    let limit = Duration::from_secs(5);
    let mut answered = 0;
    // A request whose connection the server took as the one waiting longest for its head,
    // and closed before reading it (a race of a few milliseconds against 260 reconnecting
    // clients), is sent again at once, as a scraper would at its next attempt; the answer
    // must still come within the limit, and such retries stay rare.
    let mut retried = 0;
    for round in 0..15 {
        for target in targets {
            let started = Instant::now();
            let mut answer = testkit::get(addr, target);
            if answer.is_err() {
                retried += 1;
                answer = testkit::get(addr, target);
            }
            let took = started.elapsed();
            let (status, body) = answer.map_or((0, String::new()), |r| (r.status, r.body));
            assert_eq!(status, 200, "{target}, round {round}, after {took:?}");
            assert!(took < limit, "{target}, round {round}: {took:?}");
            check(target, &body);
            answered += 1;
        }
        // Never more connections than the limit, whatever the attacker does (give or take one
        // closed connection whose task has not been dropped yet).
        let open = sockets(server) - idle;
        assert!(open <= max + 1, "{open} connections open, limit {max}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        retried <= 2,
        "{retried} of {answered} requests needed a second attempt"
    );
    let closed = attacker.closed();
    assert!(
        closed >= answered + 236,
        "only {closed} idle connections closed"
    );
}

/// Regression (issue 18, defect 6): 300 connections held open (and reopened as soon as they
/// are closed) made every scrape and health check time out, and 70 made a scrape wait 10 s
/// for the header read timeout. Now the newcomer takes the slot of the connection that has
/// waited longest for a request head.
#[test]
fn scrapes_and_health_checks_are_answered_while_300_idle_connections_are_held() {
    // A header read timeout of 60 s: an answer that came only once an idle client timed out
    // would take a minute; the bound below is 5 s.
    let max = 64;
    let (mut exporter, addr) = exporter_with_slots(max);
    // The listening socket and the runtime's own (its signal driver's socket pair) are
    // counted before the attack.
    answered_under_attack(
        &mut exporter,
        &addr,
        max,
        &["/metrics", "/healthz"],
        |_, _| {},
    );
    exporter.kill();
}

/// Regression (issue 18, defect 6): with the only slot held by a client that sent half a
/// request head, a scrape waited for the header read timeout. Now it takes that slot at once,
/// and the client that held it is closed.
#[test]
fn a_half_sent_request_gives_its_slot_to_a_scrape_at_once() {
    let (mut exporter, addr) = exporter_with_one_slot();
    let mut silent = testkit::half_request_client(&addr);
    // The exporter has accepted it and holds it (no answer, no close).
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = timed_get(&addr, "/metrics");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Closed without an answer: end of stream or a reset, well before the 60 s timeout.
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = silent.read_to_end(&mut rest);
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(started.elapsed() < Duration::from_secs(5));
    exporter.kill();
}

/// A keep-alive client between two requests is waiting for a request head too: its slot goes
/// to a newcomer, and its next request finds the connection closed.
#[test]
fn an_idle_keep_alive_connection_gives_its_slot_to_a_newcomer() {
    let (mut exporter, addr) = exporter_with_one_slot();
    let mut keep = TcpStream::connect(&addr).unwrap();
    keep.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    keep.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut answer = [0u8; 512];
    let n = keep.read(&mut answer).unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 200"), "{n}");
    // Now idle between requests: a scrape takes its slot at once.
    let (status, took) = timed_get(&addr, "/healthz");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let mut rest = Vec::new();
    let _ = keep.read_to_end(&mut rest);
    assert!(rest.is_empty());
    exporter.kill();
}

/// Clients that pipeline requests and never read the answers: once the socket is full, their
/// answers stall, and a stalled answer gives its slot away after a second (not after the
/// header read timeout, 60 s here, nor the connection's lifetime).
#[test]
fn clients_that_never_read_their_answers_give_their_slots_away() {
    let max = 8;
    let (mut exporter, addr) = exporter_with_slots(max);
    let pipelined = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
    let mut readers: Vec<TcpStream> = (0..max)
        .map(|_| {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    // Requests as fast as the exporter takes them, answers never read: for two seconds, so
    // that the sockets fill and the answers stall (and have stalled for over a second).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) {
        for s in &mut readers {
            let _ = s.write(&pipelined);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Every slot is busy with an answer its client does not take.
    for target in ["/metrics", "/healthz", "/metrics"] {
        let (status, took) = timed_get(&addr, target);
        assert_eq!(status, 200, "{target} after {took:?}");
        assert!(took < Duration::from_secs(5), "{target}: {took:?}");
    }
    drop(readers);
    exporter.kill();
}

/// The catalog serves through the exporter's server: with 300 idle and slow connections held
/// against its 64 slots (a server without the slot policy would hold a scrape behind the 236
/// queued ones, each waiting out the 10 s header read timeout), its page and its lists are
/// answered, each within 5 s, and it never holds more connections than its limit.
#[test]
fn the_catalog_answers_scrapes_while_300_idle_connections_are_held() {
    let scratch = testkit::Scratch::new("catalog-fairness");
    let deps = [("itoa", "1.0.15", "crates.io")];
    let app = scratch.join("app");
    testkit::auditable_binary(
        &app,
        &testkit::dep_v0_json(("app", "0.1.0", "local"), &deps),
    );
    let document = "itoa\t1.0.15\tcrates.io\ttrue\n";
    let list = format!(
        "/deps/{}",
        build_info_collector::digest_of(document.as_bytes())
    );
    let max = 64;
    let (mut catalog, addr, _lines) = testkit::start_catalog(
        Command::new(CATALOG),
        [
            app.as_os_str(),
            "--listen".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--max-connections".as_ref(),
            max.to_string().as_ref(),
        ],
    );
    answered_under_attack(
        &mut catalog,
        &addr,
        max,
        &["/metrics", list.as_str()],
        |target, body| {
            if target == list {
                assert_eq!(body, document);
            }
        },
    );
    assert!(
        testkit::terminate(&mut catalog),
        "the catalog did not exit 0 on SIGTERM"
    );
}
