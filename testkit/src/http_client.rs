//! A minimal HTTP/1.1 `GET` for loopback servers the tests start (a service's /metrics, a
//! real Prometheus): one request, `Connection: close`, bounded by socket timeouts.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// How long one read or write may block.
const IO_LIMIT: Duration = Duration::from_secs(10);

/// An HTTP answer, its body already de-chunked.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status code (0 when the status line could not be read).
    pub status: u16,
    /// Whether the server sent `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// `GET target` from `addr` (`host:port`).
pub fn get(addr: &str, target: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_LIMIT))?;
    stream.set_write_timeout(Some(IO_LIMIT))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("\r\ntransfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Response {
        status,
        chunked,
        body,
    })
}

/// Joins the chunks of a chunked body; stops at the last chunk or at anything malformed.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or("").trim();
        let Ok(n) = usize::from_str_radix(size, 16) else {
            break;
        };
        if n == 0 || rest.len() < n || !rest.is_char_boundary(n) {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].strip_prefix("\r\n").unwrap_or(&rest[n..]);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_are_joined_and_a_malformed_rest_is_dropped() {
        for (chunked, joined) in [
            ("3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", "abcde"),
            ("3\r\nabc\r\nzz\r\nnope", "abc"),
            ("9\r\nshort", ""),
        ] {
            assert_eq!(super::dechunk(chunked), joined, "{chunked:?}");
        }
    }
}
