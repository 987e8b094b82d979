//! The byte relay both test proxies ([`crate::Proxy`], [`crate::SocksProxy`]) run once a
//! tunnel stands.

use std::io::{Read, Write as _};
use std::net::{Shutdown, TcpStream};

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
