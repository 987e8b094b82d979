//! The HTTP client of every network source (`/metrics` pages, the Prometheus API, sparse
//! registry indexes): ureq over rustls (ring), built once from [`HttpOptions`] into a
//! [`Client`] that the sources share.
//!
//! - **Deadline**: one per exchange (`--timeout`), covering connect, TLS, redirects, headers
//!   and body.
//! - **Memory**: a cap per body ([`MAX_BODY`], counted after gzip inflation, so a gzip bomb
//!   stops there) and a budget over all bodies of the run together (`--max-total-mib`): every
//!   body draws from one counter shared by the concurrent sources; the source that would pass
//!   it fails, the others are still read.
//!   A caller may lower the cap for one request ([`Client::get_limited`]: sparse-index
//!   files), and may read a body as it arrives ([`Body`]) instead of holding it: the caps are
//!   checked while reading either way.
//! - **Compression**: `Accept-Encoding: gzip`; gzip bodies are inflated as they are read.
//!   Other encodings are refused.
//! - **Redirects**: followed on `http://` and `https://` alike, at most [`MAX_REDIRECTS`]
//!   (unless the config file says `follow_redirects: false`); a redirect from `https://` to
//!   `http://` is refused. Credentials (`Authorization`, `--header` and config headers) go
//!   only to the host and port first asked for.
//! - **Proxies**: see the `proxy` module. **TLS**: see `tls` and [`TlsError`]. **Config file**:
//!   see [`HttpConfig`].
//! - **Secrets**: a `user:password@` in a URL becomes basic auth and is stripped from the
//!   request; URLs are shown with [`shown_url`] (`user:***@`); header values are never shown.

mod config;
mod proxy;
mod shown;
mod tls;

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    ConnectProxyConnector, Connector as _, SocksConnector, TcpConnector,
};

pub use self::config::{ConfigError, HttpConfig};
use depinfo_read::text_safety::printable_line;

use self::proxy::ProxyRules;
pub use self::shown::shown_url;
use self::tls::TlsConnector;
pub use self::tls::TlsError;

/// The largest body we read, after inflation (a Prometheus answer for 100,000 series is about
/// 30 MiB).
pub const MAX_BODY: u64 = 256 << 20;

/// The default budget over all bodies of one run (`--max-total-mib`).
pub const DEFAULT_MAX_TOTAL: u64 = 1 << 30;

/// The longest time one exchange may take, whatever the caller asks for (`--timeout` is
/// bounded to it too): a deadline further away than this would only risk overflowing the
/// clock's arithmetic.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The most redirects followed in one exchange.
pub const MAX_REDIRECTS: u32 = 5;

/// Why a request failed. The caller names the URL (redacted); no variant holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The URL is not `http[s]://host[:port][/path]`.
    #[error("not an http:// or https:// URL ({0})")]
    Url(String),
    /// Name resolution, connect, send or receive failed.
    #[error(transparent)]
    Io(IoError),
    /// The TLS handshake failed: certificate not trusted, wrong host name, ...
    #[error(transparent)]
    Tls(TlsError),
    /// No client could be set up (the TLS settings or a proxy cannot be used).
    #[error(transparent)]
    Setup(ClientError),
    /// The deadline passed.
    #[error("no answer within {}s (--timeout)", .0.as_secs_f64())]
    Timeout(Duration),
    /// The answer is not HTTP.
    #[error("malformed HTTP answer: {0}")]
    Protocol(String),
    /// The body is larger than the cap per body.
    #[error("answer larger than {} MiB", .0 >> 20)]
    TooLarge(u64),
    /// The gzip body inflates past the cap per body (a gzip bomb).
    #[error("gzip answer inflates past {} MiB (refused)", .0 >> 20)]
    InflatesTooLarge(u64),
    /// All sources together read more than `--max-total-mib`.
    #[error("the answers of all sources together pass --max-total-mib {} (this source is not read)", .0 >> 20)]
    TotalTooLarge(u64),
    /// The body is compressed in an encoding we did not ask for.
    #[error("{0}-compressed body (not supported)")]
    Compressed(String),
    /// More redirects than [`MAX_REDIRECTS`].
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// A redirect that is not followed: to another scheme, from https to http, or unreadable.
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// A proxy URL that cannot be used.
    #[error("proxy {0}: not a usable proxy URL")]
    Proxy(String),
}

/// A network failure below HTTP: no address, no connection, or an I/O error on the way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The host name has no address.
    #[error("host not found")]
    HostNotFound,
    /// The host name has no IPv4 address, and the SOCKS4 proxy in use carries IPv4 only.
    #[error(
        "host not found: no IPv4 address for it, and a SOCKS4 proxy carries IPv4 only (use socks5:// or socks5h://)"
    )]
    NoIpv4ForSocks4,
    /// No address of the host accepted the connection.
    #[error("connection failed")]
    ConnectionFailed,
    /// Reading the body failed with an error that says no more.
    #[error("read failed")]
    ReadFailed,
    /// The system's I/O error, as it words it.
    #[error("{message}")]
    Io {
        /// Its kind.
        kind: std::io::ErrorKind,
        /// The system's words.
        message: String,
    },
    /// Another failure of the HTTP library, as it words it.
    #[error("{0}")]
    Other(String),
}

impl From<&std::io::Error> for IoError {
    fn from(e: &std::io::Error) -> IoError {
        IoError::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Why a [`Client`] could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The TLS settings cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A proxy (from the config file or the environment) that this client cannot use: it is
    /// refused rather than bypassed.
    #[error("{from} {url}: {reason}")]
    Proxy {
        /// The variable or config key it came from (`HTTPS_PROXY`, `proxy_url`).
        from: &'static str,
        /// The proxy's URL as shown (credentials redacted).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A parsed `http://` or `https://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    /// True for `https://`.
    pub tls: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (80, or 443 for https, when not given).
    pub port: u16,
    /// Path and query, starting with `/` (a fragment is dropped).
    pub path: String,
    /// `user:password@` of the URL, percent-decoded: sent as basic auth. Secret.
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        write!(f, "Url({})", self.to_url_string())
    }
}

impl Url {
    /// Parses `http[s]://[user[:password]@]host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Url, HttpError> {
        let bad = || HttpError::Url(shown_url(url));
        let (tls, rest) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(rest), _) => (false, rest),
            (None, Some(rest)) => (true, rest),
            (None, None) => return Err(bad()),
        };
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let default_port = if tls { 443 } else { 80 };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        if path.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad());
        }
        let (credentials, authority) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let decode = |s: &str| percent_decode(s).ok_or_else(bad);
                (Some((decode(user)?, decode(password)?)), host)
            }
            None => (None, authority),
        };
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
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:%~".contains(c))
        {
            return Err(bad());
        }
        Ok(Url {
            tls,
            host,
            port,
            path,
            credentials,
        })
    }

    /// The URL again, normalised and without credentials (`scheme://host:port/path`).
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

    /// Whether `other` is the same host and port (where credentials may go).
    fn same_origin(&self, other: &Url) -> bool {
        self.host.eq_ignore_ascii_case(&other.host) && self.port == other.port
    }

    /// A `Location` header's target, relative to this URL.
    fn join(&self, location: &str) -> Result<Url, HttpError> {
        let shown = || shown_url(location);
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location).map_err(|_| HttpError::Redirect(shown()));
        }
        if location.contains("://") || location.starts_with("//") {
            return Err(HttpError::Redirect(format!(
                "{}: only http:// and https:// are followed",
                shown()
            )));
        }
        let mut next = self.clone();
        next.credentials = None;
        next.path = if location.starts_with('/') {
            location.to_owned()
        } else if location.starts_with('?') {
            let base = self.path.split('?').next().unwrap_or("/");
            format!("{base}{location}")
        } else {
            let base = self.path.split('?').next().unwrap_or("/");
            let dir = &base[..=base.rfind('/').unwrap_or(0)];
            format!("{dir}{location}")
        };
        let next = next.to_url_string();
        Url::parse(&next).map_err(|_| HttpError::Redirect(shown()))
    }
}

/// Where a redirect from `url` to `location` goes: refused when it leaves http(s) or goes down
/// from `https://` to `http://`.
fn redirect_target(url: &Url, location: &str) -> Result<Url, HttpError> {
    let next = url.join(location)?;
    if url.tls && !next.tls {
        return Err(HttpError::Redirect(format!(
            "from https to http ({})",
            shown_url(&next.to_url_string())
        )));
    }
    Ok(next)
}

/// `%XX` sequences decoded; `None` for a bad sequence or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    // The crate passes a `%` without two hex digits through as text: such a URL is refused.
    let bytes = s.as_bytes();
    let well_formed = bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets: only their names.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpOptions")
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("max_total", &self.max_total)
            .field("headers", &names)
            .field("config", &self.config)
            .finish()
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// The body, de-chunked and inflated, within the caps.
    pub body: Vec<u8>,
}

/// An HTTP answer whose body is read as it arrives.
#[non_exhaustive]
pub struct Streamed {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, when sent.
    pub content_type: Option<String>,
    /// The body, de-chunked and inflated as it is read, within the caps.
    pub body: Body,
}

impl Streamed {
    /// The same answer with a smaller cap for its body (never a larger one than the client's).
    #[must_use]
    pub fn limit(mut self, max_body: u64) -> Streamed {
        self.body.cap = self.body.cap.min(max_body);
        self
    }

    /// Reads the whole body (within the caps) into a [`Response`].
    ///
    /// # Errors
    ///
    /// What reading the body met (see [`Body::read_chunk`]).
    pub fn read_all(mut self) -> Result<Response, HttpError> {
        let max_body = usize::try_from(self.body.cap).unwrap_or(usize::MAX);
        let mut body: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = self.body.read_chunk(&mut buf)?;
            if n == 0 {
                break;
            }
            if body.capacity() < body.len() + n {
                // Grow by doubling, but never past the cap: memory stays within it.
                let want = (body.capacity() * 2).max(body.len() + n).min(max_body);
                body.reserve_exact(want - body.len());
            }
            body.extend_from_slice(&buf[..n]);
        }
        Ok(Response {
            status: self.status,
            content_type: self.content_type,
            body,
        })
    }
}

/// A body being read: de-chunked and inflated, every byte counted against the cap per body
/// and the budget of the run (which keeps what was read: the budget bounds what all sources
/// read together). As a [`std::io::Read`], its errors carry the [`HttpError`] (see
/// [`Body::http_error`]).
pub struct Body {
    client: Client,
    reader: Box<dyn std::io::Read>,
    gzip: bool,
    /// The cap of this body.
    cap: u64,
    /// Bytes read so far.
    read: u64,
    /// The first two bytes: a gzip body without `Content-Encoding` is refused.
    start: [u8; 2],
}

impl Body {
    /// Reads the next bytes into `buf`; 0 at the end of the body.
    ///
    /// # Errors
    ///
    /// A body past its cap or the run's budget, a gzip body that is malformed, cut short or
    /// undeclared, or a failed read. What this body read is given back to the budget.
    pub fn read_chunk(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let result = self.next_chunk(buf);
        if result.is_err() {
            self.client.release(self.read);
            self.read = 0;
        }
        result
    }

    fn next_chunk(&mut self, buf: &mut [u8]) -> Result<usize, HttpError> {
        let n = loop {
            match self.reader.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        };
        if n == 0 {
            return Ok(0);
        }
        let len = self.read + n as u64;
        if len > self.cap {
            return Err(if self.gzip {
                HttpError::InflatesTooLarge(self.cap)
            } else {
                HttpError::TooLarge(self.cap)
            });
        }
        if !self.client.reserve(n as u64) {
            return Err(HttpError::TotalTooLarge(self.client.0.max_total));
        }
        for (i, &b) in buf[..n].iter().enumerate() {
            let Ok(at) = usize::try_from(self.read + i as u64) else {
                break;
            };
            if at >= 2 {
                break;
            }
            self.start[at] = b;
        }
        self.read = len;
        if !self.gzip && self.read >= 2 && self.start == [0x1f, 0x8b] {
            // A gzip body without `Content-Encoding`: it must not be read as text.
            return Err(HttpError::Compressed("gzip (undeclared)".into()));
        }
        Ok(n)
    }

    fn read_error(&self, e: std::io::Error) -> HttpError {
        match ureq::Error::from(e) {
            ureq::Error::Io(io)
                if self.gzip
                    && matches!(
                        io.kind(),
                        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
                    ) =>
            {
                HttpError::Protocol(format!("bad gzip body: {io}"))
            }
            ureq::Error::Io(io) if self.gzip && io.kind() == std::io::ErrorKind::UnexpectedEof => {
                HttpError::Protocol("gzip body ends early".into())
            }
            other => self.client.error(other),
        }
    }

    /// Reads the rest of the body into nothing (within the caps and the deadline), to learn
    /// whether it arrives whole.
    ///
    /// # Errors
    ///
    /// As [`read_chunk`](Self::read_chunk).
    pub fn drain(&mut self) -> Result<(), HttpError> {
        let mut buf = vec![0u8; 64 << 10];
        while self.read_chunk(&mut buf)? > 0 {}
        Ok(())
    }

    /// The [`HttpError`] an error of this body's [`std::io::Read`] carries (any other
    /// error as [`HttpError::Io`]).
    pub fn http_error(e: std::io::Error) -> HttpError {
        type Inner = dyn std::error::Error + Send + Sync;
        if e.get_ref().is_some_and(Inner::is::<HttpError>) {
            if let Some(Ok(inner)) = e.into_inner().map(Inner::downcast::<HttpError>) {
                return *inner;
            }
            return HttpError::Io(IoError::ReadFailed);
        }
        HttpError::Io(IoError::from(&e))
    }
}

impl std::io::Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read_chunk(buf).map_err(std::io::Error::other)
    }
}

/// How to build a [`Client`].
#[derive(Clone)]
pub struct HttpOptions {
    /// The deadline of each exchange (bounded to one day).
    pub timeout: Duration,
    /// The cap per body, after inflation.
    pub max_body: u64,
    /// The budget over all bodies of the run.
    pub max_total: u64,
    /// `--header 'Name: value'` pairs, sent with every request. Secret.
    pub headers: Vec<(String, String)>,
    /// `--http.config.file`, read.
    pub config: HttpConfig,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(5),
            max_body: MAX_BODY,
            max_total: DEFAULT_MAX_TOTAL,
            headers: Vec::new(),
            config: HttpConfig::none(),
        }
    }
}

impl HttpOptions {
    /// Parses a `--header` argument (`Name: value`). The error never holds the value, nor a
    /// name that is not a header name (`--header 'Bearer tok: x'` is a secret put in the wrong
    /// place).
    pub fn parse_header(arg: &str) -> Result<(String, String), String> {
        let Some((name, value)) = arg.split_once(':') else {
            return Err("--header must be 'Name: value'".into());
        };
        let name = name.trim();
        if !config::is_header_name(name) {
            return Err(
                "--header: the text before ':' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only; it is not shown)"
                    .into(),
            );
        }
        if config::is_framing_header(name) {
            return Err(format!(
                "--header: setting header {name:?} is not allowed (it frames the request; the client sets it)"
            ));
        }
        let value = value.trim();
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(format!(
                "--header {name}: the value holds a control character"
            ));
        }
        Ok((name.to_owned(), value.to_owned()))
    }
}

/// The client: built once, shared by every source (cheap to clone).
#[derive(Clone)]
pub struct Client(Arc<Inner>);

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

/// An agent that goes through one proxy.
struct Proxied {
    /// The proxy URL as given (secret: never shown as is).
    url: String,
    agent: Agent,
    /// SOCKS4 or SOCKS4a: IPv4 targets only.
    ipv4_only: bool,
}

struct Inner {
    /// Without proxy.
    direct: Agent,
    /// One per proxy URL the rules may choose.
    proxied: Vec<Proxied>,
    proxy: ProxyRules,
    timeout: Duration,
    max_body: u64,
    max_total: u64,
    /// Bytes of the budget still free (shared with the clients made by
    /// [`Client::with_timeout`]).
    budget_left: Arc<AtomicU64>,
    authorization: Option<String>,
    headers: Vec<(String, String)>,
    follow_redirects: bool,
    /// Whether `tls_config` gives a client certificate (for the TLS error messages).
    client_cert: bool,
}

impl Client {
    /// Builds the client. Errors (an unreadable CA file, a bad proxy URL) fit on one line.
    pub fn new(options: &HttpOptions) -> Result<Client, ClientError> {
        let timeout = options.timeout.min(MAX_TIMEOUT);
        let tls = Arc::new(TlsConnector::new(&options.config.tls)?);
        let agent = |proxy: Option<ureq::Proxy>| {
            // SOCKS4 carries IPv4 addresses only: the target's name resolves to those.
            let family = match proxy.as_ref().map(ureq::Proxy::protocol) {
                Some(ureq::ProxyProtocol::Socks4 | ureq::ProxyProtocol::Socks4A) => {
                    ureq::config::IpFamily::Ipv4Only
                }
                _ => ureq::config::IpFamily::Any,
            };
            let config = Agent::config_builder()
                .http_status_as_error(false)
                // Redirects are followed here, to check each hop.
                .max_redirects(0)
                .timeout_global(Some(timeout))
                .user_agent(format!("cargo-depinfo/{}", env!("CARGO_PKG_VERSION")))
                .ip_family(family)
                .proxy(proxy)
                .build();
            // A SOCKS proxy or a CONNECT tunnel opens the connection; only without a proxy
            // does the TCP step open one (`NeverDirect` makes sure of it); TLS goes over it.
            let connector =
                ().chain(SocksStep(SocksConnector::default()))
                    .chain(ConnectProxyConnector::default())
                    .chain(NeverDirect)
                    .chain(TcpConnector::default())
                    .chain(SharedTls(Arc::clone(&tls)));
            Agent::with_parts(config, connector, DefaultResolver::default())
        };
        let proxy = match &options.config.proxy_url {
            Some((url, no_proxy)) => ProxyRules::fixed(url, no_proxy),
            None => ProxyRules::from_env(),
        };
        let mut proxied = Vec::new();
        for setting in proxy.proxies() {
            let url = &setting.url;
            if proxied.iter().any(|p: &Proxied| p.url == *url) {
                continue;
            }
            // A scheme we do not speak is refused here, before any connection: never bypassed.
            let refused = |why: &str| ClientError::Proxy {
                from: setting.from,
                url: shown_url(url),
                reason: why.to_owned(),
            };
            let checked = proxy::check_proxy_url(url).map_err(|e| refused(&e))?;
            let p = ureq::Proxy::new(&checked).map_err(|_| refused("not a usable proxy URL"))?;
            let ipv4_only = matches!(
                p.protocol(),
                ureq::ProxyProtocol::Socks4 | ureq::ProxyProtocol::Socks4A
            );
            proxied.push(Proxied {
                url: url.clone(),
                agent: agent(Some(p)),
                ipv4_only,
            });
        }
        let mut headers = options.config.headers.clone();
        headers.extend(options.headers.iter().cloned());
        Ok(Client(Arc::new(Inner {
            direct: agent(None),
            proxied,
            proxy,
            timeout,
            max_body: options.max_body,
            max_total: options.max_total,
            budget_left: Arc::new(AtomicU64::new(options.max_total)),
            authorization: options.config.authorization.clone(),
            headers,
            follow_redirects: options.config.follow_redirects,
            client_cert: options.config.tls.cert_file.is_some(),
        })))
    }

    /// The same client with another deadline for each exchange, sharing this one's budget of
    /// bytes (a Prometheus API is given longer than a `/metrics` page).
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        let inner = &self.0;
        Client(Arc::new(Inner {
            direct: inner.direct.clone(),
            proxied: inner
                .proxied
                .iter()
                .map(|p| Proxied {
                    url: p.url.clone(),
                    agent: p.agent.clone(),
                    ipv4_only: p.ipv4_only,
                })
                .collect(),
            proxy: inner.proxy.clone(),
            timeout: timeout.min(MAX_TIMEOUT),
            max_body: inner.max_body,
            max_total: inner.max_total,
            budget_left: Arc::clone(&inner.budget_left),
            authorization: inner.authorization.clone(),
            headers: inner.headers.clone(),
            follow_redirects: inner.follow_redirects,
            client_cert: inner.client_cert,
        }))
    }

    /// The deadline of each exchange.
    pub fn timeout(&self) -> Duration {
        self.0.timeout
    }

    /// `GET url` with `Accept: accept`.
    pub fn get(&self, url: &Url, accept: &str) -> Result<Response, HttpError> {
        self.get_limited(url, accept, self.0.max_body)
    }

    /// [`get`](Self::get) with a smaller cap for this body (the client's cap still applies):
    /// checked while reading, so no more than `max_body` bytes are ever read.
    pub fn get_limited(
        &self,
        url: &Url,
        accept: &str,
        max_body: u64,
    ) -> Result<Response, HttpError> {
        self.get_streamed(url, accept)?.limit(max_body).read_all()
    }

    /// `POST url` with the form `fields` (`application/x-www-form-urlencoded`).
    pub fn post_form(
        &self,
        url: &Url,
        fields: &[(&str, &str)],
        accept: &str,
    ) -> Result<Response, HttpError> {
        self.post_form_streamed(url, fields, accept)?.read_all()
    }

    /// [`get`](Self::get), the body left to be read as it arrives (a `Body`), within the
    /// same caps: for a source that parses while reading and keeps less than the body.
    pub fn get_streamed(&self, url: &Url, accept: &str) -> Result<Streamed, HttpError> {
        self.exchange(url, None, accept)
    }

    /// [`post_form`](Self::post_form), the body left to be read as it arrives.
    pub fn post_form_streamed(
        &self,
        url: &Url,
        fields: &[(&str, &str)],
        accept: &str,
    ) -> Result<Streamed, HttpError> {
        self.exchange(url, Some(fields), accept)
    }

    /// The agent for `url` (through its proxy, if any), and whether that proxy carries IPv4
    /// addresses only (SOCKS4).
    fn agent_for(&self, url: &Url) -> (&Agent, bool) {
        let inner = &self.0;
        inner
            .proxy
            .proxy_for(url.tls, &url.host, url.port)
            .and_then(|p| inner.proxied.iter().find(|x| x.url == p))
            .map_or((&inner.direct, false), |p| (&p.agent, p.ipv4_only))
    }

    fn exchange(
        &self,
        first: &Url,
        mut form: Option<&[(&str, &str)]>,
        accept: &str,
    ) -> Result<Streamed, HttpError> {
        let inner = &self.0;
        let timeout = inner.timeout;
        let started = Instant::now();
        let mut url = first.clone();
        let mut hops = 0;
        loop {
            let left = timeout
                .checked_sub(started.elapsed())
                .filter(|d| !d.is_zero())
                .ok_or(HttpError::Timeout(timeout))?;
            let (agent, ipv4_only) = self.agent_for(&url);
            let target = url.to_url_string();
            let credentials = url.same_origin(first);
            let mut headers: Vec<(&str, String)> = vec![
                ("Accept", accept.to_owned()),
                ("Accept-Encoding", "gzip".to_owned()),
            ];
            if credentials {
                if let Some((user, password)) = &first.credentials {
                    headers.push(("Authorization", config::basic(user, password)));
                } else if let Some(auth) = &inner.authorization {
                    headers.push(("Authorization", auth.clone()));
                }
                for (name, value) in &inner.headers {
                    headers.push((name, value.clone()));
                }
            }
            let result = match form {
                Some(fields) => {
                    let mut request = agent.post(&target);
                    for (name, value) in &headers {
                        request = request.header(*name, value);
                    }
                    request
                        .config()
                        .timeout_global(Some(left))
                        .build()
                        .send_form(fields.iter().copied())
                }
                None => {
                    let mut request = agent.get(&target);
                    for (name, value) in &headers {
                        request = request.header(*name, value);
                    }
                    request.config().timeout_global(Some(left)).build().call()
                }
            };
            let response = result.map_err(|e| match self.error(e) {
                HttpError::Io(IoError::HostNotFound) if ipv4_only => {
                    HttpError::Io(IoError::NoIpv4ForSocks4)
                }
                other => other,
            })?;
            let status = response.status().as_u16();
            if inner.follow_redirects
                && matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = response.headers().get("location")
            {
                {
                    if hops == MAX_REDIRECTS {
                        return Err(HttpError::TooManyRedirects);
                    }
                    hops += 1;
                    let location = String::from_utf8_lossy(location.as_bytes()).into_owned();
                    let next = redirect_target(&url, location.trim())?;
                    // As browsers and Go do: 303, and 301/302 after a POST, become a GET.
                    if status == 303 || (form.is_some() && matches!(status, 301 | 302)) {
                        form = None;
                    }
                    url = next;
                    continue;
                }
            }
            return self.open(response, status);
        }
    }

    /// The answer, its body not read yet: checked as it is read ([`Body`]).
    fn open(
        &self,
        response: ureq::http::Response<ureq::Body>,
        status: u16,
    ) -> Result<Streamed, HttpError> {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
        };
        let content_type = header("content-type").filter(|c| !c.is_empty());
        let encoding = header("content-encoding").unwrap_or_default();
        let gzip = match encoding.to_ascii_lowercase().as_str() {
            "" | "identity" => false,
            "gzip" | "x-gzip" => true,
            other => {
                return Err(HttpError::Compressed(
                    other
                        .chars()
                        .take(40)
                        .flat_map(char::escape_debug)
                        .collect(),
                ));
            }
        };
        let raw = response.into_body().into_reader();
        // Several gzip members in a row are one body (RFC 1952), as curl and Go read them.
        let reader: Box<dyn std::io::Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(raw))
        } else {
            Box::new(raw)
        };
        Ok(Streamed {
            status,
            content_type,
            body: Body {
                client: self.clone(),
                reader,
                gzip,
                cap: self.0.max_body,
                read: 0,
                start: [0; 2],
            },
        })
    }

    /// ureq's error as ours (see [`error`]).
    fn error(&self, e: ureq::Error) -> HttpError {
        error(e, self.0.timeout, self.0.client_cert)
    }

    /// Takes `n` bytes from the shared budget; false (and nothing taken) when it has not
    /// that much left.
    fn reserve(&self, n: u64) -> bool {
        self.0
            .budget_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    /// Gives back `n` bytes of a body that was refused (it is not kept).
    fn release(&self, n: u64) {
        self.0.budget_left.fetch_add(n, Ordering::SeqCst);
    }
}

/// ureq's error as ours: TLS failures described, timeouts named, no secret (ureq's messages
/// hold no header values). `client_cert`: whether we offer a client certificate.
fn error(e: ureq::Error, timeout: Duration, client_cert: bool) -> HttpError {
    // rustls' error travels inside an io::Error (whose `source` skips it).
    if let ureq::Error::Io(io) = &e
        && let Some(tls) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return HttpError::Tls(TlsError::of(tls, client_cert));
    }
    if let ureq::Error::Io(io) = &e
        && let Some(closed) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<tls::HandshakeClosed>())
    {
        return HttpError::Tls(TlsError::from(closed));
    }
    match e {
        ureq::Error::Timeout(_) => HttpError::Timeout(timeout),
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            HttpError::Timeout(timeout)
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            HttpError::Protocol("connection closed before the answer was complete".into())
        }
        ureq::Error::Io(io) => HttpError::Io(IoError::from(&io)),
        ureq::Error::Protocol(p) => HttpError::Protocol(p.to_string()),
        ureq::Error::HostNotFound => HttpError::Io(IoError::HostNotFound),
        ureq::Error::ConnectionFailed => HttpError::Io(IoError::ConnectionFailed),
        ureq::Error::BodyExceedsLimit(n) => HttpError::TooLarge(n),
        ureq::Error::InvalidProxyUrl => HttpError::Proxy("(invalid)".into()),
        other => HttpError::Io(IoError::Other(other.to_string())),
    }
}

/// ureq's SOCKS step, its handshake errors named as the proxy's (they would read like the
/// target's: "connection refused" is the proxy's answer about the target).
#[derive(Debug)]
struct SocksStep(SocksConnector);

impl<In: ureq::unversioned::transport::Transport> ureq::unversioned::transport::Connector<In>
    for SocksStep
{
    type Out = <SocksConnector as ureq::unversioned::transport::Connector<In>>::Out;

    fn connect(
        &self,
        details: &ureq::unversioned::transport::ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0
            .connect(details, chained)
            .map_err(|e| match (e, details.config.proxy()) {
                (ureq::Error::Io(io), Some(proxy))
                    if !matches!(
                        io.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    ) =>
                {
                    // The proxy's host and port only: its URL may hold a password.
                    let host = proxy.host().trim_start_matches('[').trim_end_matches(']');
                    let at = if host.contains(':') {
                        format!("[{host}]:{}", proxy.port())
                    } else {
                        format!("{host}:{}", proxy.port())
                    };
                    ureq::Error::Io(std::io::Error::new(
                        io.kind(),
                        format!("SOCKS proxy {}: {io}", printable_line(&at)),
                    ))
                }
                (e, _) => e,
            })
    }
}

/// The step before the TCP step: with a proxy set, a connection must come from it (a SOCKS
/// proxy or a CONNECT tunnel); a direct connection is refused, never made.
#[derive(Debug)]
struct NeverDirect;

impl<In: ureq::unversioned::transport::Transport> ureq::unversioned::transport::Connector<In>
    for NeverDirect
{
    type Out = In;

    fn connect(
        &self,
        details: &ureq::unversioned::transport::ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<In>, ureq::Error> {
        if chained.is_none() && details.config.proxy().is_some() {
            return Err(ureq::Error::Io(std::io::Error::other(
                "the proxy opened no connection (a direct one is never made instead)",
            )));
        }
        Ok(chained)
    }
}

/// The shared TLS connector in the chain (one rustls configuration for every agent).
#[derive(Debug)]
struct SharedTls(Arc<TlsConnector>);

impl<In: ureq::unversioned::transport::Transport> ureq::unversioned::transport::Connector<In>
    for SharedTls
{
    type Out = <TlsConnector as ureq::unversioned::transport::Connector<In>>::Out;

    fn connect(
        &self,
        details: &ureq::unversioned::transport::ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0.connect(details, chained)
    }
}

#[cfg(test)]
mod tests;
