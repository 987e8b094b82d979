//! A loopback HTTP/1.1 server for tests: fixed answers or a closure, one connection at a
//! time, stopped on drop.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the server waits for a request's head: a client that connects and says nothing
/// must not keep the server (and the test dropping it) waiting.
const READ_LIMIT: Duration = Duration::from_secs(2);

/// The content type of the Prometheus text format, as exporters serve it.
pub const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One canned HTTP answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    delay: Duration,
    chunk: Option<usize>,
    headers: Vec<(String, String)>,
}

impl Reply {
    /// `200 OK` with this body.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            content_type: content_type.to_owned(),
            body: body.into(),
            delay: Duration::ZERO,
            chunk: None,
            headers: Vec::new(),
        }
    }

    /// A redirect (`status` 301, 302, 303, 307 or 308) to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::ok("text/plain", "moved\n")
            .status(status)
            .header("Location", location)
    }

    /// The same answer with one more header (`Content-Encoding: gzip`, `Location`, ...).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `404 Not Found`, with a plain-text body.
    pub fn not_found() -> Reply {
        Reply::ok("text/plain", "not found\n").status(404)
    }

    /// The same answer with another status code.
    #[must_use]
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// The same answer, sent only after `delay` (a slow endpoint). Stopping the server cuts
    /// the wait short.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// The same answer with `Transfer-Encoding: chunked`, in chunks of at most `size` bytes,
    /// as real servers send large answers.
    #[must_use]
    pub fn chunked(mut self, size: usize) -> Reply {
        self.chunk = Some(size.max(1));
        self
    }
}

type Handler = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A loopback HTTP server on a thread of its own; stopped and joined on drop.
///
/// The handler gets the request target (path and query, as sent) and answers one
/// [`Reply`]. A form sent by `POST` (`application/x-www-form-urlencoded`) reaches the handler
/// as the query of the target, as a `GET` would have sent it, so that one handler serves both.
/// Every answer closes its connection. The targets asked for are recorded in order
/// ([`Server::requests`]), and so are the request heads ([`Server::heads`]).
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    heads: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler(target)` on `127.0.0.1`, on a port the OS picks.
    pub fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_on(loopback_listener(), handler)
    }

    /// Serves `page` at `/metrics` as the Prometheus text format ([`EXPOSITION`]), and 404
    /// everywhere else.
    pub fn metrics(page: impl Into<Vec<u8>>) -> Server {
        let page = page.into();
        Server::start(move |path| {
            if path == "/metrics" {
                Reply::ok(EXPOSITION, page.clone())
            } else {
                Reply::not_found()
            }
        })
    }

    /// Answers `reply` to every request.
    pub fn fixed(reply: Reply) -> Server {
        Server::start(move |_| reply.clone())
    }

    /// Serves `handler` on a listener the caller bound (to choose the address order, see
    /// [`sorted_listeners`]).
    pub fn start_on(
        listener: TcpListener,
        handler: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let handler: Handler = Arc::new(handler);
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (stopped, log) = (Arc::clone(&stop), Arc::clone(&requests));
        let head_log = Arc::clone(&heads);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    serve(&conn, &handler, &stopped, &log, &head_log);
                }
            }
        });
        Server {
            addr,
            stop,
            requests,
            heads,
            thread: Some(thread),
        }
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `127.0.0.1:PORT`, as Prometheus names an instance.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The request heads served so far, in order: the request line and the header lines,
    /// each ending with `\r\n`, as sent.
    pub fn heads(&self) -> Vec<String> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The request targets served so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // The accept loop sleeps in `accept`: one connection wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0")
}

/// `N` loopback listeners sorted by address, for output that lists servers in address order
/// to stay stable from run to run.
pub fn sorted_listeners<const N: usize>() -> [TcpListener; N] {
    let mut listeners: [TcpListener; N] = std::array::from_fn(|_| loopback_listener());
    listeners.sort_by_key(|l| l.local_addr().map(|a| a.to_string()).unwrap_or_default());
    listeners
}

/// A loopback address nothing listens on (bound, then closed): connecting is refused.
pub fn unused_addr() -> SocketAddr {
    loopback_listener()
        .local_addr()
        .expect("a bound listener has an address")
}

/// The largest request body read (a form).
const MAX_REQUEST_BODY: u64 = 1 << 20;

fn serve(
    conn: &TcpStream,
    handler: &Handler,
    stop: &AtomicBool,
    log: &Mutex<Vec<String>>,
    heads: &Mutex<Vec<String>>,
) {
    let _ = conn.set_read_timeout(Some(READ_LIMIT));
    let _ = conn.set_write_timeout(Some(READ_LIMIT));
    let mut reader = BufReader::new(conn);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() || request.is_empty() {
        return;
    }
    let mut head = request.clone();
    let mut length = 0;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse::<u64>()
                .unwrap_or(0)
                .min(MAX_REQUEST_BODY);
        }
        head.push_str(&line);
    }
    heads
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(head);
    let mut target = request.split(' ').nth(1).unwrap_or("/").to_owned();
    if length > 0 {
        let mut body = String::new();
        if std::io::Read::read_to_string(&mut std::io::Read::take(&mut reader, length), &mut body)
            .is_ok()
            && !body.is_empty()
        {
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&body);
        }
    }
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(target.clone());
    let reply = handler(&target);
    // Sleep in small steps so that stopping the server is never slow.
    let until = Instant::now() + reply.delay;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = write_reply(conn, &reply);
}

fn write_reply(mut out: &TcpStream, reply: &Reply) -> std::io::Result<()> {
    let reason = match reply.status {
        200 => "OK",
        404 => "Not Found",
        _ => "Error",
    };
    write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nConnection: close\r\n",
        reply.status, reply.content_type
    )?;
    for (name, value) in &reply.headers {
        write!(out, "{name}: {value}\r\n")?;
    }
    match reply.chunk {
        Some(size) => {
            write!(out, "Transfer-Encoding: chunked\r\n\r\n")?;
            for chunk in reply.body.chunks(size) {
                write!(out, "{:x}\r\n", chunk.len())?;
                out.write_all(chunk)?;
                out.write_all(b"\r\n")?;
            }
            out.write_all(b"0\r\n\r\n")?;
        }
        None => {
            write!(out, "Content-Length: {}\r\n\r\n", reply.body.len())?;
            out.write_all(&reply.body)?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client::get;

    #[test]
    fn a_closure_answers_each_target_and_the_targets_are_recorded() {
        let server = Server::start(|target| match target {
            "/metrics" => Reply::ok("text/plain", "up 1\n"),
            _ => Reply::not_found(),
        });
        let ok = get(&server.host_port(), "/metrics").unwrap();
        assert_eq!(
            (ok.status, ok.body.as_str(), ok.chunked),
            (200, "up 1\n", false)
        );
        let missing = get(&server.host_port(), "/other?x=1").unwrap();
        assert_eq!(
            (missing.status, missing.body.as_str()),
            (404, "not found\n")
        );
        assert_eq!(server.requests(), ["/metrics", "/other?x=1"]);
        assert!(server.url("/a").starts_with("http://127.0.0.1:"));
    }

    #[test]
    fn a_chunked_answer_arrives_whole() {
        let body = "x".repeat(2500);
        let server = Server::fixed(Reply::ok("application/json", body.clone()).chunked(1000));
        let answer = get(&server.host_port(), "/").unwrap();
        assert!(answer.chunked);
        assert_eq!(answer.body, body);
    }

    #[test]
    fn dropping_a_server_cuts_a_delay_short_and_frees_the_port() {
        let server =
            Server::fixed(Reply::ok("text/plain", "late").delayed(Duration::from_secs(60)));
        let addr = server.addr();
        let client = std::thread::spawn(move || get(&addr.to_string(), "/"));
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        drop(server);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // The waiting client gets the answer (or a closed connection), never a hang.
        let _ = client.join().unwrap();
        assert!(
            TcpStream::connect(addr).is_err(),
            "nothing listens after drop"
        );
    }

    #[test]
    fn listeners_come_sorted_and_an_unused_address_refuses() {
        let [a, b, c] = sorted_listeners::<3>();
        let names = [a, b, c].map(|l| l.local_addr().unwrap().to_string());
        assert!(names.is_sorted(), "{names:?}");
        assert!(TcpStream::connect(unused_addr()).is_err());
    }

    #[test]
    fn a_status_other_than_200_is_sent() {
        let server = Server::fixed(Reply::ok("text/html", "<html>down</html>").status(503));
        let answer = get(&server.host_port(), "/metrics").unwrap();
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (503, "<html>down</html>")
        );
    }
}
