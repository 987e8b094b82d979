//! A small HTTP/1.1 client over `std::net::TcpStream`: `GET` only, one request per
//! connection, one deadline for the whole exchange (connect, send, headers and body), a bound
//! on the body size. Enough for `/metrics` endpoints, the Prometheus HTTP API and sparse
//! registry indexes. `https://` goes through the `curl` program (as cargo itself relies on
//! libcurl), so the binary carries no TLS stack; every network source takes the same path.

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::sources::child_process::{ChildError, output_within};

/// The largest body we read (a Prometheus answer for 100,000 series is about 30 MiB).
pub const MAX_BODY: u64 = 256 << 20;

/// The longest time one exchange may take, whatever the caller asks for (`--timeout` is
/// bounded to it too): a deadline further away than this would only risk overflowing the
/// clock's arithmetic.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The most characters of a URL shown in a message (a URL is user input: it may be huge).
const MAX_SHOWN_URL: usize = 200;

/// Why a request failed. The caller names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL is not `http://host[:port][/path]`.
    #[error("not an http:// URL ({0})")]
    Url(String),
    /// The URL holds credentials (`user:secret@`): refused, and never echoed (the caller
    /// names the URL redacted).
    #[error("credentials in URLs are not supported")]
    Credentials,
    /// Name resolution, connect, send or receive failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The deadline passed.
    #[error("no answer within {}s (--timeout)", .0.as_secs_f64())]
    Timeout(Duration),
    /// The answer is not HTTP.
    #[error("malformed HTTP answer: {0}")]
    Protocol(String),
    /// The body is larger than 256 MiB.
    #[error("answer larger than {} MiB", MAX_BODY >> 20)]
    TooLarge,
    /// The body is compressed (`Content-Encoding`, or gzip's magic bytes): we ask for none.
    #[error("{0}-compressed body (not supported)")]
    Compressed(String),
}

/// `url` as it may be shown in a message: credentials (`user:secret@`) replaced by
/// `user:***@`, control characters escaped, and cut to [`MAX_SHOWN_URL`] characters with `…`.
pub(crate) fn shown_url(url: &str) -> String {
    let redacted = redact_credentials(url);
    let mut out = String::new();
    for (n, c) in redacted.chars().enumerate() {
        if n == MAX_SHOWN_URL {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `scheme://user:password@host/…` with the password (or a lone user name, which may be a
/// token) replaced by `***`.
fn redact_credentials(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user = match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    format!("{}{user}{}", &url[..start], &rest[at..])
}

/// A parsed `http://` or `https://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// True for `https://` (fetched through `curl`).
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80, or 443 for https, when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses `http[s]://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Url, HttpError> {
        let bad = || HttpError::Url(shown_url(url));
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (None, Some(rest)) => (true, rest),
            (None, None) => return Err(bad()),
        };
        let default_port = if tls { 443 } else { 80 };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return Err(HttpError::Credentials);
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (h.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad())?),
                None => (authority.to_owned(), default_port),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Url {
            tls,
            host,
            port,
            path,
        })
    }

    /// The URL again, normalised (`scheme://host:port/path`).
    pub fn to_url_string(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.host_port(), self.path)
    }

    /// `host:port` (IPv6 in brackets), as Prometheus writes the `instance` label.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// `Content-Encoding` other than `identity`, when sent.
    pub content_encoding: Option<String>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// `GET url` with `Accept: accept`, all within `timeout` (at most [`MAX_TIMEOUT`]).
pub fn get(url: &Url, accept: &str, timeout: Duration) -> Result<Response, HttpError> {
    let timeout = timeout.min(MAX_TIMEOUT);
    let response = if url.tls {
        get_with_curl(url, accept, timeout)
    } else {
        get_plain(url, accept, timeout)
    }?;
    // We send no Accept-Encoding; a server compressing anyway must not be read as text.
    if let Some(encoding) = &response.content_encoding {
        return Err(HttpError::Compressed(encoding.clone()));
    }
    if response.body.starts_with(&[0x1f, 0x8b]) {
        return Err(HttpError::Compressed("gzip".into()));
    }
    Ok(response)
}

/// The `https://` path: the `curl` program, bounded by `--max-time` and `--max-filesize`, and
/// killed if it outlives the deadline anyway.
fn get_with_curl(url: &Url, accept: &str, timeout: Duration) -> Result<Response, HttpError> {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--location", "--globoff"])
        .arg("--max-time")
        .arg(format!("{:.3}", timeout.as_secs_f64().max(0.001)))
        .arg("--max-filesize")
        .arg(MAX_BODY.to_string())
        .arg("--header")
        .arg(format!("Accept: {accept}"))
        .arg("--user-agent")
        .arg(format!("cargo-depinfo/{}", env!("CARGO_PKG_VERSION")))
        // The body, then a last line with the status and the content type.
        .args([
            "--output",
            "-",
            "--write-out",
            "\n%{http_code} %{content_type}",
        ])
        .arg(url.to_url_string());
    // curl's own --max-time should end it first; the margin is for a curl that hangs anyway.
    let output = output_within(&mut cmd, timeout.saturating_add(Duration::from_secs(2))).map_err(
        |e| match e {
            ChildError::Timeout { .. } => HttpError::Timeout(timeout),
            ChildError::Spawn { source, .. } => HttpError::Io(std::io::Error::other(format!(
                "https needs the curl program: {source}"
            ))),
        },
    )?;
    let mut out = output.stdout;
    if !output.status.success() {
        // curl's exit code 28 is its own timeout.
        if output.status.code() == Some(28) {
            return Err(HttpError::Timeout(timeout));
        }
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(HttpError::Io(std::io::Error::other(format!(
            "curl: {}",
            err.lines().next().unwrap_or("failed").trim()
        ))));
    }
    let nl = out
        .iter()
        .rposition(|&b| b == b'\n')
        .ok_or_else(|| HttpError::Protocol("curl gave no status".into()))?;
    let trailer = String::from_utf8_lossy(&out[nl + 1..]).into_owned();
    out.truncate(nl);
    let (code, content_type) = trailer.split_once(' ').unwrap_or((trailer.as_str(), ""));
    let status = code
        .trim()
        .parse::<u16>()
        .map_err(|_| HttpError::Protocol(format!("curl gave status {code:?}")))?;
    if out.len() as u64 > MAX_BODY {
        return Err(HttpError::TooLarge);
    }
    Ok(Response {
        status,
        content_type: Some(content_type.trim().to_owned()).filter(|c| !c.is_empty()),
        // No Accept-Encoding is sent (no --compressed, so no gzip bomb is inflated by curl);
        // a server compressing anyway is caught by the gzip magic check in `get`.
        content_encoding: None,
        body: out,
    })
}

fn get_plain(url: &Url, accept: &str, timeout: Duration) -> Result<Response, HttpError> {
    // `get` bounds the timeout; an unrepresentable deadline is an immediate timeout anyway.
    let deadline = Instant::now()
        .checked_add(timeout)
        .ok_or(HttpError::Timeout(timeout))?;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or(HttpError::Timeout(timeout))
    };
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            HttpError::Timeout(timeout)
        }
        _ => HttpError::Io(e),
    };
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(HttpError::Io)?
        .collect();
    let mut last = None;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let stream = match (stream, last) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(io(e)),
        (None, None) => {
            return Err(HttpError::Io(std::io::Error::other(format!(
                "{} resolves to no address",
                url.host
            ))));
        }
    };
    stream.set_write_timeout(Some(left()?)).map_err(io)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nUser-Agent: cargo-depinfo/{}\r\nConnection: close\r\n\r\n",
        url.path,
        url.host_port(),
        env!("CARGO_PKG_VERSION"),
    );
    (&stream).write_all(request.as_bytes()).map_err(io)?;
    let mut reader = BufReader::new(Deadline {
        stream,
        until: deadline,
        timeout,
    });
    let mut line = String::new();
    read_line(&mut reader, &mut line).map_err(io)?;
    let status = line
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| HttpError::Protocol(format!("status line {:?}", line.trim_end())))?;
    let mut content_type = None;
    let mut length = None;
    let mut chunked = false;
    let mut content_encoding = None;
    loop {
        line.clear();
        read_line(&mut reader, &mut line).map_err(io)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            return Err(HttpError::Protocol(format!("header {header:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| HttpError::Protocol(format!("Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("content-encoding") {
            if !value.is_empty() && !value.eq_ignore_ascii_case("identity") {
                content_encoding = Some(
                    value
                        .chars()
                        .take(40)
                        .flat_map(char::escape_debug)
                        .collect(),
                );
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            read_line(&mut reader, &mut line).map_err(io)?;
            let size = line.trim_end().split(';').next().unwrap_or_default();
            let size = u64::from_str_radix(size.trim(), 16)
                .map_err(|_| HttpError::Protocol(format!("chunk size {:?}", line.trim_end())))?;
            if size == 0 {
                break;
            }
            // Checked: a chunk size near u64::MAX must not wrap around the cap.
            if (body.len() as u64)
                .checked_add(size)
                .is_none_or(|total| total > MAX_BODY)
            {
                return Err(HttpError::TooLarge);
            }
            let start = body.len();
            (&mut reader)
                .take(size)
                .read_to_end(&mut body)
                .map_err(io)?;
            if (body.len() - start) as u64 != size {
                return Err(HttpError::Protocol("truncated chunk".into()));
            }
            line.clear();
            read_line(&mut reader, &mut line).map_err(io)?;
            if !line.trim_end_matches(['\r', '\n']).is_empty() {
                return Err(HttpError::Protocol(
                    "chunk longer than its size (no CRLF after it)".into(),
                ));
            }
        }
    } else {
        let limit = length.unwrap_or(MAX_BODY + 1).min(MAX_BODY + 1);
        (&mut reader)
            .take(limit)
            .read_to_end(&mut body)
            .map_err(io)?;
        if body.len() as u64 > MAX_BODY {
            return Err(HttpError::TooLarge);
        }
        if let Some(n) = length
            && body.len() as u64 != n
        {
            return Err(HttpError::Protocol(format!(
                "body of {} bytes, Content-Length {n}",
                body.len()
            )));
        }
    }
    Ok(Response {
        status,
        content_type,
        content_encoding,
        body,
    })
}

/// Reads one line of at most 64 KiB (headers, chunk sizes).
fn read_line(reader: &mut impl std::io::BufRead, line: &mut String) -> std::io::Result<()> {
    let n = reader.take(64 << 10).read_line(line)?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the answer was complete",
        ));
    }
    Ok(())
}

/// A stream whose reads time out at one deadline, not per read.
struct Deadline {
    stream: TcpStream,
    until: Instant,
    timeout: Duration,
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {:?}", self.timeout),
                )
            })?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let u = Url::parse("http://127.0.0.1:9090").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 9090, "/")
        );
        let u = Url::parse("http://[::1]:8080/metrics?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 8080, "/metrics?x=1")
        );
        assert_eq!(u.host_port(), "[::1]:8080");
        let u = Url::parse("http://example.invalid?q").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/?q"));
        let u = Url::parse("https://example.invalid/prometheus").unwrap();
        assert_eq!(
            (u.tls, u.port, u.to_url_string().as_str()),
            (true, 443, "https://example.invalid:443/prometheus")
        );
        assert!(Url::parse("ftp://x").is_err());
        assert!(Url::parse("http://:80").is_err());
        assert!(Url::parse("http://u:p@x/").is_err());
        assert!(Url::parse("http://x:port/").is_err());
    }

    #[test]
    fn shown_urls_redact_credentials_escape_and_cut() {
        for (url, shown) in [
            ("http://user:secret@host:1/p", "http://user:***@host:1/p"),
            ("https://tok3n@host/p@q", "https://***@host/p@q"),
            ("sparse+https://u:p:q@h/", "sparse+https://u:***@h/"),
            ("http://host/a@b", "http://host/a@b"),
            ("user:pw@host:9100", "user:***@host:9100"),
            ("http://h/\x1b[2J", "http://h/\\u{1b}[2J"),
        ] {
            assert_eq!(shown_url(url), shown, "{url}");
        }
        let long = format!("http://h/{}", "a".repeat(100_000));
        let shown = shown_url(&long);
        assert_eq!(shown.chars().count(), MAX_SHOWN_URL + 1);
        assert!(shown.ends_with("a…"));
        assert!(matches!(
            Url::parse("http://user:secret@x/"),
            Err(HttpError::Credentials)
        ));
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(1000))]

        /// A password never shows; the user name does, and so does the rest of the URL.
        #[test]
        fn shown_urls_never_hold_the_password(
            scheme in "(http|https|sparse\\+https)://",
            user in "[a-zA-Z0-9._~-]{1,12}",
            password in "[a-zA-Z0-9._~!$&'()*+,;=%:-]{12,24}",
            rest in "[a-z0-9.]{1,12}(:[0-9]{1,5})?(/[a-z0-9@:/]{0,20})?",
        ) {
            let url = format!("{scheme}{user}:{password}@{rest}");
            let shown = shown_url(&url);
            proptest::prop_assert!(!shown.contains(&password), "{shown}");
            proptest::prop_assert_eq!(shown, format!("{scheme}{user}:***@{rest}"));
            let err = Url::parse(&url).unwrap_err().to_string();
            proptest::prop_assert!(!err.contains(&password), "{err}");
        }
    }

    /// A loopback server answering each connection with the next answer sent on the channel,
    /// as raw bytes, then closing it; returns the port.
    fn raw_answers() -> (u16, std::sync::mpsc::Sender<Vec<u8>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(answer) = rx.recv() else { break };
                let Ok(mut s) = stream else { continue };
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(&answer);
            }
        });
        (port, tx)
    }

    fn chunked_answer(chunks: &[(Vec<u8>, Option<u64>, bool)]) -> Vec<u8> {
        let mut a =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                .to_vec();
        for (data, lie, extension) in chunks {
            let size = lie.unwrap_or(data.len() as u64);
            a.extend_from_slice(format!("{size:x}").as_bytes());
            if *extension {
                a.extend_from_slice(b";name=value");
            }
            a.extend_from_slice(b"\r\n");
            a.extend_from_slice(data);
            a.extend_from_slice(b"\r\n");
        }
        a.extend_from_slice(b"0\r\n\r\n");
        a
    }

    fn chunk() -> impl proptest::strategy::Strategy<Value = (Vec<u8>, Option<u64>, bool)> {
        use proptest::prelude::*;
        (
            proptest::collection::vec(1u8.., 1..200),
            prop_oneof![
                8 => Just(None),
                1 => Just(Some(u64::MAX)),
                1 => (MAX_BODY - 10..=u64::MAX).prop_map(Some),
                1 => (0u64..400).prop_map(Some),
            ],
            any::<bool>(),
        )
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(300))]

        /// Chunked answers: exactly the data when every size is honest; a size that would pass
        /// the body cap (`ffffffffffffffff` included) is `TooLarge`, never a wrap-around or a
        /// panic; another lie is a protocol or I/O error.
        #[test]
        fn chunked_answers_decode_or_fail_without_overflow(
            chunks in proptest::collection::vec(chunk(), 0..6),
        ) {
            let (port, tx) = raw_answers();
            tx.send(chunked_answer(&chunks)).unwrap();
            let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
            let result = get_plain(&url, "*/*", Duration::from_secs(10));
            let first_lie = chunks.iter().position(|(d, lie, _)| lie.is_some_and(|l| l != d.len() as u64));
            let before: u64 = chunks[..first_lie.unwrap_or(chunks.len())]
                .iter()
                .map(|(d, _, _)| d.len() as u64)
                .sum();
            match first_lie {
                None => {
                    let want: Vec<u8> = chunks.iter().flat_map(|(d, _, _)| d.clone()).collect();
                    proptest::prop_assert_eq!(result.unwrap().body, want);
                }
                Some(i) => {
                    let lie = chunks[i].1.unwrap();
                    if before.checked_add(lie).is_none_or(|t| t > MAX_BODY) {
                        proptest::prop_assert!(matches!(result, Err(HttpError::TooLarge)), "{result:?}");
                    } else {
                        proptest::prop_assert!(
                            // After a lie, the rest is read as whatever it looks like.
                            matches!(result, Err(HttpError::Protocol(_) | HttpError::Io(_) | HttpError::TooLarge) | Ok(_)),
                            "{result:?}"
                        );
                        if let Ok(r) = result {
                            proptest::prop_assert!(r.body.len() as u64 <= MAX_BODY);
                        }
                    }
                }
            }
        }

        /// Any answer at all: no panic, an answer within the cap or one of the errors.
        #[test]
        fn any_answer_is_read_or_refused(
            head in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just("HTTP/1.1 200 OK".to_owned()),
                proptest::strategy::Just("HTTP/1.0 404 Not Found".to_owned()),
                proptest::strategy::Just("Content-Length: 5".to_owned()),
                proptest::strategy::Just("Content-Length: 99999999999999999999".to_owned()),
                proptest::strategy::Just("Content-Length: -1".to_owned()),
                proptest::strategy::Just("Transfer-Encoding: chunked".to_owned()),
                proptest::strategy::Just("Content-Encoding: gzip".to_owned()),
                proptest::strategy::Just("ffffffffffffffff".to_owned()),
                proptest::strategy::Just("no colon".to_owned()),
                proptest::strategy::Just(String::new()),
                "[ -~]{0,40}",
            ], 0..8),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        ) {
            let (port, tx) = raw_answers();
            let mut answer = head.join("\r\n").into_bytes();
            answer.extend_from_slice(b"\r\n\r\n");
            answer.extend_from_slice(&body);
            let answer_len = answer.len();
            tx.send(answer).unwrap();
            let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
            match get(&url, "*/*", Duration::from_secs(10)) {
                Ok(r) => {
                    proptest::prop_assert!(head.first().is_some_and(|l| l.starts_with("HTTP/1.")));
                    proptest::prop_assert!(r.body.len() <= answer_len);
                    proptest::prop_assert!(!r.body.starts_with(&[0x1f, 0x8b]));
                }
                Err(HttpError::Timeout(_)) => proptest::prop_assert!(false, "a closed connection is no timeout"),
                Err(_) => {}
            }
        }
    }

    /// One canned answer on a loopback port; returns the port.
    fn serve_once(answer: &'static str) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(answer.as_bytes());
            }
        });
        port
    }

    #[test]
    fn the_curl_path_reads_status_content_type_and_body() {
        // The https path minus TLS: the same curl invocation and parsing, over plain HTTP.
        let port = serve_once(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 11\r\nConnection: close\r\n\r\nno\nsuch\nkey",
        );
        let url = Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let r =
            get_with_curl(&url, "*/*", Duration::from_secs(10)).expect("curl must be installed");
        assert_eq!(r.status, 404);
        assert_eq!(r.content_type.as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(r.body, b"no\nsuch\nkey");
    }

    #[test]
    fn the_curl_path_times_out_on_a_silent_server() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let started = Instant::now();
        let r = get_with_curl(&url, "*/*", Duration::from_millis(500));
        assert!(matches!(r, Err(HttpError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(listener);
    }
}
