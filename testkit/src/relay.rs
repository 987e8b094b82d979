//! What both test proxies ([`crate::Proxy`], [`crate::SocksProxy`]) share: the loopback
//! listener that accepts their clients, and the byte relay they run once a tunnel stands.

use std::io::{Read, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A listener on `127.0.0.1`, on a port the OS picks, whose thread hands every connection to
/// `accept`; stopped and joined on drop.
pub(crate) struct Acceptor {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Starts listening; `accept` runs on the listener's thread, so it should hand the
    /// connection to a thread of its own.
    pub(crate) fn start(accept: impl Fn(TcpStream) + Send + 'static) -> Acceptor {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    accept(conn);
                }
            }
        });
        Acceptor {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // The thread sleeps in `accept`: one connection wakes it to see the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Relays bytes both ways between `client` and `upstream` (the way back on a thread of its
/// own) until each side has ended or failed; each direction shuts its writing side down when
/// its reading side ends.
pub(crate) fn both_ways(client: &TcpStream, upstream: &TcpStream) {
    let (up_read, client_write) = (upstream.try_clone(), client.try_clone());
    let back = std::thread::spawn(move || {
        if let (Ok(mut from), Ok(mut to)) = (up_read, client_write) {
            copy(&mut from, &mut to);
        }
    });
    if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), upstream.try_clone()) {
        copy(&mut from, &mut to);
    }
    let _ = back.join();
}

/// Copies until end of stream or error, then shuts the writing side down.
fn copy(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
