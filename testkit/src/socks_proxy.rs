//! A loopback SOCKS proxy for tests: SOCKS4, SOCKS4a and SOCKS5 (RFC 1928, with the
//! user/password method of RFC 1929 when asked to require it), `CONNECT` only. It records what
//! each client asked for (the target as sent: a name or an address, and the port) and how it
//! authenticated, then relays to the target: to [`SocksOptions::relay_to`] when set (so that a
//! name that resolves nowhere, `*.invalid`, still reaches a test server), else to the address
//! asked for when it is a loopback one (`localhost` counts as `127.0.0.1`). Stopped on drop.

use std::io::{Read, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::relay::Acceptor;

/// How long a client may stay silent before the proxy closes its connection.
const IDLE_LIMIT: Duration = Duration::from_secs(10);

/// What one client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocksRequest {
    /// 4 or 5.
    pub version: u8,
    /// The target as the client sent it: a host name (SOCKS4a, SOCKS5 with a name) or an
    /// address written as text (`127.0.0.1`, `::1`).
    pub host: String,
    /// The target's port.
    pub port: u16,
    /// Whether the host was sent as a name (the proxy resolves it) rather than an address.
    pub by_name: bool,
    /// How the client authenticated.
    pub auth: SocksAuth,
}

/// How a client authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksAuth {
    /// SOCKS5 without authentication, or SOCKS4 with an empty user id.
    None,
    /// SOCKS5 user and password (RFC 1929).
    Password {
        /// The user name sent.
        user: String,
        /// The password sent.
        password: String,
    },
    /// A SOCKS4 user id that was not empty.
    UserId(String),
}

/// How the proxy behaves.
#[derive(Debug, Clone, Default)]
pub struct SocksOptions {
    /// SOCKS5 clients must authenticate with this user and password (others are refused).
    pub password: Option<(String, String)>,
    /// Every connection goes here, whatever was asked (a loopback address).
    pub relay_to: Option<SocketAddr>,
}

/// A loopback SOCKS proxy on a thread of its own; stopped and joined on drop.
pub struct SocksProxy {
    acceptor: Acceptor,
    log: Arc<Mutex<Vec<SocksRequest>>>,
    connections: Arc<AtomicUsize>,
}

impl SocksProxy {
    /// Without authentication, relaying to loopback targets as asked.
    pub fn start() -> SocksProxy {
        SocksProxy::with(SocksOptions::default())
    }

    /// Listens on `127.0.0.1`, on a port the OS picks.
    pub fn with(options: SocksOptions) -> SocksProxy {
        if let Some(to) = options.relay_to {
            assert!(to.ip().is_loopback(), "relay_to {to} is not loopback");
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (requests, count) = (Arc::clone(&log), Arc::clone(&connections));
        let options = Arc::new(options);
        let acceptor = Acceptor::start(move |conn| {
            count.fetch_add(1, Ordering::SeqCst);
            let (requests, options) = (Arc::clone(&requests), Arc::clone(&options));
            std::thread::spawn(move || serve(&conn, &options, &requests));
        });
        SocksProxy {
            acceptor,
            log,
            connections,
        }
    }

    /// `scheme://127.0.0.1:PORT` (`socks5`, `socks5h`, `socks4`, ...).
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.acceptor.addr())
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.acceptor.addr()
    }

    /// What clients asked for, in order (refused authentications are not requests).
    pub fn requests(&self) -> Vec<SocksRequest> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many connections the proxy accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn read_byte(s: &mut TcpStream) -> Option<u8> {
    let mut b = [0u8; 1];
    s.read_exact(&mut b).ok()?;
    Some(b[0])
}

fn read_vec(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut v = vec![0u8; n];
    s.read_exact(&mut v).ok()?;
    Some(v)
}

/// Bytes up to a NUL (at most 255 of them).
fn read_nul_terminated(s: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    loop {
        match read_byte(s)? {
            0 => return String::from_utf8(out).ok(),
            b if out.len() < 255 => out.push(b),
            _ => return None,
        }
    }
}

fn read_port(s: &mut TcpStream) -> Option<u16> {
    let p = read_vec(s, 2)?;
    Some(u16::from_be_bytes([p[0], p[1]]))
}

/// One client: the handshake, the record, then the relay.
fn serve(client: &TcpStream, options: &SocksOptions, log: &Mutex<Vec<SocksRequest>>) {
    let _ = client.set_read_timeout(Some(IDLE_LIMIT));
    let Ok(mut s) = client.try_clone() else {
        return;
    };
    let request = match read_byte(&mut s) {
        Some(4) => socks4(&mut s),
        Some(5) => socks5(&mut s, options),
        _ => None,
    };
    let Some(request) = request else {
        return;
    };
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(request.clone());
    let target = options.relay_to.or_else(|| {
        let ip = if request.host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            request.host.parse().ok()?
        };
        ip.is_loopback()
            .then_some(SocketAddr::new(ip, request.port))
    });
    let upstream = target.and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok());
    let granted = upstream.is_some();
    let reply: &[u8] = match (request.version, granted) {
        (4, true) => &[0, 90, 0, 0, 0, 0, 0, 0],
        (4, false) => &[0, 91, 0, 0, 0, 0, 0, 0],
        (_, true) => &[5, 0, 0, 1, 127, 0, 0, 1, 0, 0],
        // Connection refused.
        (_, false) => &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0],
    };
    if s.write_all(reply).is_err() {
        return;
    }
    let Some(upstream) = upstream else {
        return;
    };
    let _ = upstream.set_read_timeout(Some(IDLE_LIMIT));
    crate::relay::both_ways(client, &upstream);
}

/// SOCKS4 and SOCKS4a, after the version byte.
fn socks4(s: &mut TcpStream) -> Option<SocksRequest> {
    if read_byte(s)? != 1 {
        return None;
    }
    let port = read_port(s)?;
    let ip = read_vec(s, 4)?;
    let user = read_nul_terminated(s)?;
    // 0.0.0.x with x != 0: SOCKS4a, a name follows the user id.
    let (host, by_name) = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
        (read_nul_terminated(s)?, true)
    } else {
        (Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(), false)
    };
    Some(SocksRequest {
        version: 4,
        host,
        port,
        by_name,
        auth: if user.is_empty() {
            SocksAuth::None
        } else {
            SocksAuth::UserId(user)
        },
    })
}

/// SOCKS5, after the version byte: method choice, authentication, the request.
fn socks5(s: &mut TcpStream, options: &SocksOptions) -> Option<SocksRequest> {
    let n = read_byte(s)?;
    let methods = read_vec(s, usize::from(n))?;
    let auth = if let Some((want_user, want_password)) = &options.password {
        if !methods.contains(&2) {
            let _ = s.write_all(&[5, 0xff]);
            return None;
        }
        s.write_all(&[5, 2]).ok()?;
        if read_byte(s)? != 1 {
            return None;
        }
        let len = read_byte(s)?;
        let user = String::from_utf8(read_vec(s, usize::from(len))?).ok()?;
        let len = read_byte(s)?;
        let password = String::from_utf8(read_vec(s, usize::from(len))?).ok()?;
        if (&user, &password) != (want_user, want_password) {
            let _ = s.write_all(&[1, 1]);
            return None;
        }
        s.write_all(&[1, 0]).ok()?;
        SocksAuth::Password { user, password }
    } else {
        if !methods.contains(&0) {
            let _ = s.write_all(&[5, 0xff]);
            return None;
        }
        s.write_all(&[5, 0]).ok()?;
        SocksAuth::None
    };
    let head = read_vec(s, 4)?;
    if head[..3] != [5, 1, 0] {
        let _ = s.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
        return None;
    }
    let (host, by_name) = match head[3] {
        1 => {
            let a = read_vec(s, 4)?;
            (Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(), false)
        }
        3 => {
            let len = read_byte(s)?;
            (
                String::from_utf8(read_vec(s, usize::from(len))?).ok()?,
                true,
            )
        }
        4 => {
            let a: [u8; 16] = read_vec(s, 16)?.try_into().ok()?;
            (Ipv6Addr::from(a).to_string(), false)
        }
        _ => return None,
    };
    let port = read_port(s)?;
    Some(SocksRequest {
        version: 5,
        host,
        port,
        by_name,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_server::{Reply, Server};

    /// A SOCKS5 exchange by hand: name target, password, then HTTP through the tunnel.
    #[test]
    fn socks5_with_a_password_reaches_the_target_and_is_recorded() {
        let server = Server::fixed(Reply::ok("text/plain", "up 1\n"));
        let proxy = SocksProxy::with(SocksOptions {
            password: Some(("u".into(), "pw".into())),
            relay_to: Some(server.addr()),
        });
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        s.write_all(&[5, 1, 2]).unwrap();
        let mut reply = [0u8; 2];
        s.read_exact(&mut reply).unwrap();
        assert_eq!(reply, [5, 2]);
        s.write_all(&[1, 1, b'u', 2, b'p', b'w']).unwrap();
        s.read_exact(&mut reply).unwrap();
        assert_eq!(reply, [1, 0]);
        s.write_all(&[5, 1, 0, 3, 9]).unwrap();
        s.write_all(b"a.invalid").unwrap();
        s.write_all(&[0x23, 0x82]).unwrap();
        let mut granted = [0u8; 10];
        s.read_exact(&mut granted).unwrap();
        assert_eq!(granted[..2], [5, 0]);
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.ends_with("up 1\n"), "{answer}");
        assert_eq!(
            proxy.requests(),
            [SocksRequest {
                version: 5,
                host: "a.invalid".into(),
                port: 9090,
                by_name: true,
                auth: SocksAuth::Password {
                    user: "u".into(),
                    password: "pw".into()
                },
            }]
        );
    }

    #[test]
    fn socks4_and_a_wrong_password_are_recorded_or_refused() {
        let server = Server::fixed(Reply::ok("text/plain", "up 1\n"));
        let proxy = SocksProxy::start();
        let port = server.addr().port().to_be_bytes();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        s.write_all(&[4, 1, port[0], port[1], 127, 0, 0, 1, b'i', b'd', 0])
            .unwrap();
        let mut reply = [0u8; 8];
        s.read_exact(&mut reply).unwrap();
        assert_eq!(reply[..2], [0, 90]);
        assert_eq!(
            proxy.requests(),
            [SocksRequest {
                version: 4,
                host: "127.0.0.1".into(),
                port: server.addr().port(),
                by_name: false,
                auth: SocksAuth::UserId("id".into()),
            }]
        );
        let locked = SocksProxy::with(SocksOptions {
            password: Some(("u".into(), "pw".into())),
            relay_to: None,
        });
        let mut s = TcpStream::connect(locked.addr()).unwrap();
        s.write_all(&[5, 1, 0]).unwrap();
        let mut reply = [0u8; 2];
        s.read_exact(&mut reply).unwrap();
        assert_eq!(reply, [5, 0xff]);
        assert!(locked.requests().is_empty());
        assert_eq!(locked.connections(), 1);
    }
}
