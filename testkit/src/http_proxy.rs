//! A loopback HTTP proxy for tests: `CONNECT host:port` tunnels and absolute-form requests
//! (`GET http://host:port/path`), to loopback targets only; what went through is recorded;
//! stopped on drop.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::relay::Acceptor;

/// How long a proxied connection may stay silent before the proxy closes it.
const IDLE_LIMIT: Duration = Duration::from_secs(10);

/// A loopback HTTP proxy on a thread of its own; stopped and joined on drop.
pub struct Proxy {
    acceptor: Acceptor,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// Listens on `127.0.0.1`, on a port the OS picks.
    pub fn start() -> Proxy {
        let log = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::clone(&log);
        let acceptor = Acceptor::start(move |conn| {
            let requests = Arc::clone(&requests);
            std::thread::spawn(move || relay(&conn, &requests));
        });
        Proxy { acceptor, log }
    }

    /// `http://127.0.0.1:PORT`, for `HTTP_PROXY` or `proxy_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.acceptor.addr())
    }

    /// What went through, in order: `CONNECT host:port` or `GET http://host:port/path`.
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One client connection: read the head, connect to the target, then copy both ways.
fn relay(client: &TcpStream, log: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(IDLE_LIMIT));
    let mut reader = BufReader::new(client);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => headers.push(line),
        }
    }
    let mut parts = request.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(format!("{method} {target}"));
    let (authority, path) = if method.eq_ignore_ascii_case("CONNECT") {
        (target.to_owned(), None)
    } else if let Some(rest) = target.strip_prefix("http://") {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        (authority.to_owned(), Some(path.to_owned()))
    } else {
        let _ = (&*client).write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        return;
    };
    let authority = if authority.contains(':') {
        authority
    } else {
        format!("{authority}:80")
    };
    // Loopback targets only: a test proxy must never reach out.
    let upstream = authority
        .parse::<SocketAddr>()
        .ok()
        .filter(|a| a.ip().is_loopback())
        .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok());
    let Some(upstream) = upstream else {
        let _ = (&*client).write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
        return;
    };
    let _ = upstream.set_read_timeout(Some(IDLE_LIMIT));
    match path {
        None => {
            if (&*client)
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .is_err()
            {
                return;
            }
        }
        Some(path) => {
            let version = parts.next().unwrap_or("HTTP/1.1");
            let mut head = format!("{method} {path} {version}\r\n");
            for h in &headers {
                if !h.to_ascii_lowercase().starts_with("proxy-") {
                    head.push_str(h);
                }
            }
            head.push_str("\r\n");
            if (&upstream).write_all(head.as_bytes()).is_err() {
                return;
            }
        }
    }
    // What the reader already buffered belongs to the target.
    let buffered = reader.buffer().to_vec();
    if (&upstream).write_all(&buffered).is_err() {
        return;
    }
    crate::relay::both_ways(client, &upstream);
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::http_server::{Reply, Server};

    #[test]
    fn absolute_form_and_connect_reach_the_target_and_are_recorded() {
        let server = Server::fixed(Reply::ok("text/plain", "up 1\n"));
        let proxy = Proxy::start();
        let mut s = TcpStream::connect(proxy.acceptor.addr()).unwrap();
        write!(
            s,
            "GET http://{}/metrics HTTP/1.1\r\nHost: x\r\nProxy-Authorization: y\r\n\r\n",
            server.host_port()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.ends_with("up 1\n"), "{answer}");
        let mut s = TcpStream::connect(proxy.acceptor.addr()).unwrap();
        write!(s, "CONNECT {} HTTP/1.1\r\n\r\n", server.host_port()).unwrap();
        write!(s, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK"));
        assert_eq!(
            proxy.requests(),
            [
                format!("GET http://{}/metrics", server.host_port()),
                format!("CONNECT {}", server.host_port())
            ]
        );
        assert_eq!(server.requests(), ["/metrics", "/other"]);
        assert!(!server.heads()[0].contains("Proxy-Authorization"));
    }
}
