//! The service stops on time whatever clients do: a half-sent request or a client that never
//! reads cannot hold up the shutdown past `--shutdown-timeout`, and trickling or silent
//! connections are closed by the header-read and idle timeouts.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::Running;

const BIN: &str = env!("CARGO_BIN_EXE_example-service");
const STARTUP: Duration = Duration::from_secs(20);
/// Allowance for process start-up, exit and a busy CI machine on top of a deadline.
const MARGIN: Duration = Duration::from_secs(3);

/// The service on a free loopback port with `flags`, once it answers `/healthz`.
fn start(flags: &[&str]) -> (Running, u16) {
    let port = testkit::unused_addr().port();
    let mut service = Running::spawn(
        Command::new(BIN)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    );
    let start = Instant::now();
    loop {
        match testkit::get(&format!("127.0.0.1:{port}"), "/healthz") {
            Ok(answer) if answer.status == 200 => return (service, port),
            _ if start.elapsed() < STARTUP => {
                assert_eq!(service.try_status(), None, "service exited early");
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("service not ready after {STARTUP:?}: {other:?}"),
        }
    }
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Sends SIGTERM and returns how long the process took to exit, asserting a clean exit code.
fn terminate(service: &mut Running, limit: Duration) -> Duration {
    let pid = service.child().id().to_string();
    let sent = Instant::now();
    let killed = testkit::run(Command::new("kill").args(["-TERM", &pid]), STARTUP);
    assert!(killed.status.success());
    let status = service.wait(limit);
    let took = sent.elapsed();
    assert!(status.success(), "exit after SIGTERM: {status}");
    took
}

/// Whether the server has closed `stream`: reads whatever it sent, without blocking long.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// Pipelines requests whose answers are never read until the server's writes block (the socket
/// buffers are full) and it stops reading: true once a write stalls for a second.
fn stuff_with_unread_answers(client: &TcpStream) -> bool {
    let mut writer = client.try_clone().unwrap();
    writer
        .set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for _ in 0..200_000 {
        if writer.write_all(request).is_err() {
            return true;
        }
    }
    false
}

// Timeouts long enough that only the shutdown deadline can end these connections.
const PATIENT: [&str; 4] = ["--header-read-timeout", "600", "--idle-timeout", "600"];

#[test]
fn a_half_sent_request_cannot_hold_the_shutdown_past_its_deadline() {
    let deadline = Duration::from_secs(2);
    let (mut service, port) = start(&[&PATIENT[..], &["--shutdown-timeout", "2"]].concat());
    let mut client = connect(port);
    // The request line and one header, never the blank line that ends the head.
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let took = terminate(&mut service, deadline + MARGIN + MARGIN);
    assert!(
        took >= deadline,
        "exited after {took:?}, before the deadline"
    );
    assert!(took < deadline + MARGIN, "exited after {took:?}");
    assert!(closed_by_server(&mut client));
}

#[test]
fn a_client_that_never_reads_cannot_hold_the_shutdown_past_its_deadline() {
    let deadline = Duration::from_secs(2);
    let (mut service, port) = start(&[&PATIENT[..], &["--shutdown-timeout", "2"]].concat());
    let client = connect(port);
    let blocked = stuff_with_unread_answers(&client);
    assert!(
        blocked,
        "the server read every request: the answers were not held up"
    );
    let took = terminate(&mut service, deadline + MARGIN + MARGIN);
    assert!(
        took >= deadline,
        "exited after {took:?}, before the deadline"
    );
    assert!(took < deadline + MARGIN, "exited after {took:?}");
    drop(client);
}

#[test]
fn an_idle_connection_lets_the_shutdown_finish_at_once() {
    // No request in flight: graceful shutdown closes the connection without waiting.
    let (mut service, port) = start(&[&PATIENT[..], &["--shutdown-timeout", "30"]].concat());
    let mut client = connect(port);
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let took = terminate(&mut service, Duration::from_secs(30));
    assert!(took < MARGIN, "exited after {took:?}");
    assert!(closed_by_server(&mut client));
}

#[test]
fn trickling_connections_are_dropped_by_the_header_read_timeout() {
    let timeout = Duration::from_secs(1);
    let (mut service, port) = start(&[
        "--header-read-timeout",
        "1",
        "--idle-timeout",
        "600",
        "--shutdown-timeout",
        "1",
    ]);
    // As many as held the service for 40 s before it had a header-read timeout.
    let mut clients: Vec<TcpStream> = (0..500).map(|_| connect(port)).collect();
    for client in &mut clients {
        client.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    }
    let start = Instant::now();
    let mut open: Vec<usize> = (0..clients.len()).collect();
    // One header byte per connection every 100 ms: never idle, never a complete head.
    while !open.is_empty() && start.elapsed() < timeout + MARGIN {
        std::thread::sleep(Duration::from_millis(100));
        open.retain(|&i| {
            let alive = clients[i].write_all(b"X").is_ok();
            alive && !closed_by_server(&mut clients[i])
        });
    }
    let took = start.elapsed();
    assert!(
        open.is_empty(),
        "{} trickling connections still open after {took:?}",
        open.len()
    );
    // Connections were accepted a little before `start`: half the timeout shows it was the
    // timeout that closed them, not an immediate refusal.
    assert!(
        took >= timeout / 2,
        "dropped after {took:?}, before the timeout"
    );
    // The service itself is fine and still answers.
    let answer = testkit::get(&format!("127.0.0.1:{port}"), "/healthz").unwrap();
    assert_eq!(answer.status, 200);
    terminate(&mut service, Duration::from_secs(10));
}

#[test]
fn a_client_that_never_reads_is_dropped_by_the_idle_timeout() {
    let idle = Duration::from_secs(1);
    let (mut service, port) = start(&[
        "--header-read-timeout",
        "600",
        "--idle-timeout",
        "1",
        "--shutdown-timeout",
        "600",
    ]);
    let mut client = connect(port);
    let blocked = stuff_with_unread_answers(&client);
    assert!(
        blocked,
        "the server read every request: the answers were not held up"
    );
    std::thread::sleep(idle + MARGIN);
    // What was buffered reads back, then the end: the server gave up on the connection.
    assert!(closed_by_server(&mut client));
    // The service itself is fine and still answers.
    let answer = testkit::get(&format!("127.0.0.1:{port}"), "/healthz").unwrap();
    assert_eq!(answer.status, 200);
    terminate(&mut service, Duration::from_secs(10));
}

#[test]
fn a_timeout_beyond_a_day_is_refused() {
    let out = testkit::run(
        Command::new(BIN).args(["--shutdown-timeout", "9.3e18"]),
        STARTUP,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = testkit::stderr(&out);
    assert!(stderr.contains("--shutdown-timeout"), "{stderr}");
}

#[test]
fn an_oversized_request_head_is_refused() {
    let (mut service, port) = start(&[]);
    let mut client = connect(port);
    let mut request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    request.resize(request.len() + 100 * 1024, b'a');
    request.extend_from_slice(b"\r\n\r\n");
    // The server may close before reading it all: a failed write is fine.
    let _ = client.write_all(&request);
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    // Empty only if the reset for the unread rest overtook the answer.
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert!(!answer.contains(" 200 "), "{answer}");
    terminate(&mut service, Duration::from_secs(10));
}

/// The resident memory of process `pid` in KiB, from `/proc`.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn many_clients_holding_large_half_sent_heads_use_bounded_memory() {
    let (mut service, port) = start(&["--max-connections", "150"]);
    let pid = service.child().id();
    let before = resident_kib(pid);
    // 250 clients (100 beyond the cap wait in the listen queue), each sending 60 KiB of a
    // head that never ends: at most 150 × 64 KiB can be buffered.
    let mut head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    head.resize(60 * 1024, b'a');
    let clients: Vec<TcpStream> = (0..250)
        .map(|_| {
            let mut c = connect(port);
            c.set_write_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            let _ = c.write_all(&head);
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let grown = resident_kib(pid).saturating_sub(before);
    // 150 × 64 KiB is 9,600 KiB (about 11 MiB measured); all 250 served at once would be
    // about 18 MiB.
    assert!(grown < 14 * 1024, "resident memory grew by {grown} KiB");
    drop(clients);
    terminate(&mut service, Duration::from_secs(20));
}
