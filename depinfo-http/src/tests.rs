use std::io::{Read as _, Write as _};

use proptest::strategy::Strategy as _;

use super::*;

fn client_with(max_body: u64, max_total: u64) -> Client {
    let mut options = HttpOptions {
        timeout: Duration::from_secs(10),
        max_body,
        max_total,
        ..HttpOptions::default()
    };
    // No proxy from the test runner's environment.
    options.config.proxy_url = Some(("http://127.0.0.1:9".into(), "*".into()));
    Client::new(&options).unwrap()
}

fn client() -> Client {
    client_with(MAX_BODY, DEFAULT_MAX_TOTAL)
}

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
    assert!(Url::parse("http://x:port/").is_err());
    assert!(Url::parse("http://x/a b").is_err());
    assert!(Url::parse("http://x\r\n/").is_err());
}

#[test]
fn credentials_in_urls_become_basic_auth_and_leave_the_url() {
    let u = Url::parse("http://us%40er:p%3Aw@h:1/m").unwrap();
    assert_eq!(u.credentials, Some(("us@er".to_owned(), "p:w".to_owned())));
    assert_eq!(u.to_url_string(), "http://h:1/m");
    assert_eq!(format!("{u:?}"), "Url(http://h:1/m)");
    assert!(Url::parse("http://u:%zz@h/").is_err());
}

#[test]
fn percent_decoding_refuses_what_is_not_two_hex_digits_or_utf8() {
    assert_eq!(
        percent_decode("a%20b%3A%c3%A9").as_deref(),
        Some("a b:\u{e9}")
    );
    assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    for bad in [
        "%", "%4", "a%4", "%zz", "%+f", "%-1", "%\u{e9}9", "%ff", "%c3",
    ] {
        assert_eq!(percent_decode(bad), None, "{bad:?}");
    }
}

#[test]
fn locations_are_joined_to_the_url() {
    let base = Url::parse("http://u:p@h:1/a/b?x").unwrap();
    for (location, want) in [
        ("/c", "http://h:1/c"),
        ("c?y", "http://h:1/a/c?y"),
        ("?y", "http://h:1/a/b?y"),
        ("https://o:2/z", "https://o:2/z"),
    ] {
        assert_eq!(base.join(location).unwrap().to_url_string(), want);
        assert!(base.join(location).unwrap().credentials.is_none());
    }
    assert!(base.join("ftp://x/").is_err());
    assert!(base.join("//x/").is_err());
}

#[test]
fn shown_urls_redact_credentials_escape_and_cut() {
    for (url, shown) in [
        ("http://user:secret@host:1/p", "http://user:***@host:1/p"),
        ("https://tok3n@host/p@q", "https://***@host/p@q"),
        ("sparse+https://u:p:q@h/", "sparse+https://u:***@h/"),
        ("http://host/a@b", "http://host/a@b"),
        ("user:pw@host:9100", "user:***@host:9100"),
        ("http://h/\x1b[2J", "http://h/\\x1b[2J"),
    ] {
        assert_eq!(shown_url(url), shown, "{url}");
    }
    let long = format!("http://h/{}", "a".repeat(100_000));
    let shown = shown_url(&long);
    assert_eq!(shown.chars().count(), crate::shown::MAX_SHOWN_URL + 1);
    assert!(shown.ends_with("a…"));
}

#[test]
fn header_arguments_are_checked_without_echoing_the_value() {
    assert_eq!(
        HttpOptions::parse_header("X-Scope-OrgID:  team-a ").unwrap(),
        ("X-Scope-OrgID".to_owned(), "team-a".to_owned())
    );
    assert!(HttpOptions::parse_header("no colon").is_err());
    assert!(HttpOptions::parse_header("a b: c").is_err());
    let e = HttpOptions::parse_header("X: sec\nret").unwrap_err();
    assert!(!e.contains("sec"), "{e}");
    // Regression (issue 18, defect 9): a secret typed where the name goes was echoed.
    let e = HttpOptions::parse_header("Bearer S3CRET: x").unwrap_err();
    assert_eq!(
        e,
        "--header: the text before ':' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only; it is not shown)"
    );
}

/// Regression (issue 18, defect 10): `--header` refused none of the framing headers that the
/// config file refuses; a false `Content-Length` desynchronises keep-alive proxies.
#[test]
fn header_arguments_may_not_set_framing_headers() {
    for name in [
        "Content-Length",
        "content-length",
        "Host",
        "HOST",
        "Transfer-Encoding",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "TE",
        "Trailer",
        "Proxy-Connection",
        "Content-Encoding",
        "Content-Type",
    ] {
        let e = HttpOptions::parse_header(&format!("{name}: 5-secret")).unwrap_err();
        assert_eq!(
            e,
            format!(
                "--header: setting header {name:?} is not allowed (it frames the request; the client sets it)"
            )
        );
        assert!(!e.contains("secret"), "{e}");
    }
    // Credentials and ordinary headers stay allowed on the command line.
    for name in ["Authorization", "X-Scope-OrgID", "Content-Lengthy", "Hosts"] {
        assert!(
            HttpOptions::parse_header(&format!("{name}: v")).is_ok(),
            "{name}"
        );
    }
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
        if let Err(e) = Url::parse(&url) {
            let e = e.to_string();
            proptest::prop_assert!(!e.contains(&password), "{e}");
        }
    }

    /// Any text as a URL: parsed or refused, never a panic; a parsed URL prints without
    /// its credentials, and reads back the same.
    #[test]
    fn any_url_is_parsed_or_refused(url in "(https?://)?[ -~]{0,60}") {
        if let Ok(u) = Url::parse(&url) {
            let again = Url::parse(&u.to_url_string()).unwrap();
            proptest::prop_assert!(again.credentials.is_none());
            proptest::prop_assert_eq!(again.to_url_string(), u.to_url_string());
        }
    }
}

/// A loopback server taking each connection with the next answer sent on the channel, which
/// `respond` writes (as raw bytes) before the connection closes; returns the port.
fn answering(
    respond: impl Fn(&mut std::net::TcpStream, &[u8]) + Send + 'static,
) -> (u16, std::sync::mpsc::Sender<Vec<u8>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(answer) = rx.recv() else { break };
            let Ok(mut s) = stream else { continue };
            respond(&mut s, &answer);
        }
    });
    (port, tx)
}

/// A loopback server answering each connection with the next answer sent on the channel,
/// as raw bytes, once it has read the request's head, then closing it; returns the port.
fn raw_answers() -> (u16, std::sync::mpsc::Sender<Vec<u8>>) {
    answering(|s, answer| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(answer);
    })
}

fn chunked_answer(chunks: &[(Vec<u8>, Option<u64>, bool)]) -> Vec<u8> {
    let mut a =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
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

    /// Chunked answers: exactly the data when every size is honest; a lying size (one near
    /// `u64::MAX` included) is an error or a body within the cap, never a wrap-around, a
    /// panic or a hang.
    #[test]
    fn chunked_answers_decode_or_fail_without_overflow(
        chunks in proptest::collection::vec(chunk(), 0..6),
    ) {
        let (port, tx) = raw_answers();
        tx.send(chunked_answer(&chunks)).unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let result = client().get(&url, "*/*");
        let lie = chunks.iter().any(|(d, lie, _)| lie.is_some_and(|l| l != d.len() as u64));
        if lie {
            proptest::prop_assert!(
                !matches!(result, Err(HttpError::Timeout(_))),
                "{result:?}"
            );
            if let Ok(r) = result {
                proptest::prop_assert!(r.body.len() as u64 <= MAX_BODY);
            }
        } else {
            let want: Vec<u8> = chunks.iter().flat_map(|(d, _, _)| d.clone()).collect();
            proptest::prop_assert_eq!(result.unwrap().body, want);
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
            proptest::strategy::Just("Location: /x".to_owned()),
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
        // Redirects come back to the same server: give it the answer again.
        for _ in 0..=MAX_REDIRECTS {
            tx.send(answer.clone()).unwrap();
        }
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let mut options = HttpOptions {
            timeout: Duration::from_secs(10),
            ..HttpOptions::default()
        };
        options.config.proxy_url = Some(("http://127.0.0.1:9".into(), "*".into()));
        match Client::new(&options).unwrap().get(&url, "*/*") {
            Ok(r) => {
                proptest::prop_assert!(r.body.len() <= answer_len.max(1 << 16) * 1100);
            }
            Err(HttpError::Timeout(_)) => proptest::prop_assert!(false, "a closed connection is no timeout"),
            Err(_) => {}
        }
    }
}

#[test]
fn the_shared_budget_refuses_the_body_that_passes_it_and_keeps_the_others() {
    let (port, tx) = raw_answers();
    let answer = |n: usize| {
        let mut a = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n")
            .into_bytes();
        a.extend(std::iter::repeat_n(b'x', n));
        a
    };
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let c = client_with(1 << 20, 100_000);
    tx.send(answer(60_000)).unwrap();
    assert_eq!(c.get(&url, "*/*").unwrap().body.len(), 60_000);
    tx.send(answer(60_000)).unwrap();
    let e = c.get(&url, "*/*").unwrap_err();
    assert!(matches!(e, HttpError::TotalTooLarge(100_000)), "{e:?}");
    // What the refused body had taken is given back: a small one still fits.
    tx.send(answer(30_000)).unwrap();
    assert_eq!(c.get(&url, "*/*").unwrap().body.len(), 30_000);
}

/// A GET of `http://127.0.0.1:{port}/` with `timeout` (an unused proxy, bypassed for every
/// host, keeps the environment's proxies out) fails as a timeout, well within `limit`.
fn assert_times_out(port: u16, timeout: Duration, limit: Duration) {
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let mut options = HttpOptions {
        timeout,
        ..HttpOptions::default()
    };
    options.config.proxy_url = Some(("http://127.0.0.1:9".into(), "*".into()));
    let started = Instant::now();
    let r = Client::new(&options).unwrap().get(&url, "*/*");
    assert!(matches!(r, Err(HttpError::Timeout(_))), "{r:?}");
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

#[test]
fn a_silent_server_times_out_at_the_deadline() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert_times_out(port, Duration::from_millis(500), Duration::from_secs(5));
    drop(listener);
}

#[test]
fn redirects_never_go_down_from_https_to_http() {
    let secure = Url::parse("https://h/a").unwrap();
    let e = redirect_target(&secure, "http://h/b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "redirect refused: from https to http (http://h:80/b)"
    );
    assert!(redirect_target(&secure, "/b").unwrap().tls);
    let plain = Url::parse("http://h/a").unwrap();
    assert!(redirect_target(&plain, "https://h/b").unwrap().tls);
}

#[test]
fn debug_output_holds_no_secret() {
    let mut options = HttpOptions::default();
    options
        .headers
        .push(("X-Scope-OrgID".into(), "tenant-secret".into()));
    options.config = config::parse(
        "basic_auth: {username: u, password: pw-secret}\nhttp_headers: {X-A: {secrets: [h-secret]}}\nproxy_url: http://pu:proxy-secret@p:1\n",
        std::path::Path::new("/"),
    )
    .unwrap();
    let debug = format!("{options:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(
        debug.contains("X-Scope-OrgID") && debug.contains("X-A"),
        "{debug}"
    );
    let url = Url::parse("http://u:url-secret@h/").unwrap();
    assert!(!format!("{url:?}").contains("secret"));
}

#[test]
fn a_body_dripping_past_the_deadline_times_out() {
    // Headers at once, then one byte every 100 ms for 20 s: the deadline covers the body.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n");
            for _ in 0..200 {
                if s.write_all(b"x").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    });
    assert_times_out(port, Duration::from_secs(1), Duration::from_secs(3));
}

/// A server that answers the first connection with `head`, then `body_byte` repeated,
/// `chunk` bytes every `pause`, for at most `limit` bytes or until the client goes away;
/// returns the port and the number of body bytes it could send.
fn streaming_server(
    head: &'static [u8],
    chunk: usize,
    pause: Duration,
    limit: u64,
) -> (u16, std::thread::JoinHandle<u64>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return 0;
        };
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        for b in head {
            if s.write_all(&[*b]).is_err() {
                return 0;
            }
            if chunk == 0 {
                std::thread::sleep(pause);
            }
        }
        let data = vec![b'x'; chunk.max(1)];
        let mut sent = 0u64;
        while sent < limit && s.write_all(&data).is_ok() {
            sent += data.len() as u64;
            std::thread::sleep(pause);
        }
        sent
    });
    (port, thread)
}

#[test]
fn a_two_gigabyte_body_is_refused_at_the_cap_without_reading_it_all() {
    let (port, sent) = streaming_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n",
        64 << 10,
        Duration::ZERO,
        2 << 30,
    );
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let c = client_with(1 << 20, DEFAULT_MAX_TOTAL);
    let e = c.get(&url, "*/*").unwrap_err();
    assert!(matches!(e, HttpError::TooLarge(n) if n == 1 << 20), "{e:?}");
    drop(c);
    // The client stopped reading at the cap: the server could send little more than that
    // (what the sockets' buffers hold), never the 2 GB.
    let sent = sent.join().unwrap();
    assert!(sent < 64 << 20, "{sent} bytes sent");
}

#[test]
fn headers_dripping_past_the_deadline_time_out() {
    // A slowloris: one byte of the head every 100 ms, never done within the deadline.
    let (port, _sent) = streaming_server(
        b"HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
        0,
        Duration::from_millis(100),
        0,
    );
    assert_times_out(port, Duration::from_secs(1), Duration::from_secs(3));
}

/// A loopback "SOCKS proxy" answering each connection with the next answer sent on the
/// channel, whatever the client says, then closing; returns its port.
fn raw_socks_answers() -> (u16, std::sync::mpsc::Sender<Vec<u8>>) {
    answering(|s, answer| {
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf);
        let _ = s.write_all(answer);
        // Whatever the client sends next is read and dropped.
        let _ = s.read(&mut buf);
    })
}

proptest::proptest! {
    #![proptest_config(testkit::proptest_cases(120))]

    /// A hostile SOCKS proxy (any reply bytes, SOCKS-shaped or not, cut anywhere): the
    /// request fails within the deadline, one line without control characters, never a
    /// panic, and never a direct connection (the target's name resolves nowhere, and a
    /// closed port stands for it).
    #[test]
    fn any_socks_reply_is_an_error_in_one_line(
        scheme in proptest::sample::select(vec!["socks5", "socks5h", "socks4", "socks4a"]),
        reply in proptest::prop_oneof![
            proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            (0u8..=9, 0u8..=4, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..30))
                .prop_map(|(status, atyp, rest)| [&[5u8, 0, 5, status, 0, atyp][..], &rest[..]].concat()),
            (80u8..=95).prop_map(|status| vec![0, status, 0, 0, 0, 0, 0]),
            proptest::strategy::Just(vec![5, 2, 1, 1]),
            proptest::strategy::Just(vec![5, 0xff]),
        ],
    ) {
        let (port, tx) = raw_socks_answers();
        tx.send(reply).unwrap();
        let mut options = HttpOptions {
            timeout: Duration::from_secs(3),
            ..HttpOptions::default()
        };
        options.config.proxy_url = Some((format!("{scheme}://u:pw@127.0.0.1:{port}").replace("socks4://u:pw@", "socks4://").replace("socks4a://u:pw@", "socks4a://"), String::new()));
        let url = Url::parse("http://127.0.0.1:9/metrics").unwrap();
        let started = Instant::now();
        let result = Client::new(&options).unwrap().get(&url, "*/*");
        proptest::prop_assert!(started.elapsed() < Duration::from_secs(6));
        match result {
            Ok(r) => proptest::prop_assert!(false, "answered through a hostile proxy: {}", r.status),
            Err(e) => {
                let e = e.to_string();
                proptest::prop_assert!(!e.chars().any(char::is_control), "{}", e);
                proptest::prop_assert!(!e.contains("pw"), "{}", e);
            }
        }
    }
}

/// Setup and connection failures are variants a caller can match, printing what they printed
/// as strings: a proxy that cannot be used, TLS settings that cannot, a refused connection.
#[test]
fn setup_and_network_failures_are_typed() {
    let mut options = HttpOptions::default();
    options.config.proxy_url = Some(("socks://127.0.0.1:1".into(), String::new()));
    let e = Client::new(&options).err().unwrap();
    assert!(
        matches!(&e, ClientError::Proxy { from: "proxy_url", url, .. } if url == "socks://127.0.0.1:1"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("proxy_url socks://127.0.0.1:1: socks:// is ambiguous"),
        "{e}"
    );

    let mut options = HttpOptions::default();
    options.config.proxy_url = Some(("http://127.0.0.1:9".into(), "*".into()));
    options.config.tls.cert_file = Some(tls::PemFile {
        path: "client.pem".into(),
        bytes: Vec::new(),
    });
    let e = Client::new(&options).err().unwrap();
    assert_eq!(
        e,
        ClientError::Tls(TlsError::Setup(
            "tls_config: cert_file needs key_file".into()
        ))
    );
    assert_eq!(e.to_string(), "tls_config: cert_file needs key_file");

    // A port nothing listens on: the listener is dropped before the request.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
    let e = client().get(&url, "*/*").unwrap_err();
    match &e {
        HttpError::Io(IoError::ConnectionFailed) => assert_eq!(e.to_string(), "connection failed"),
        HttpError::Io(IoError::Io { kind, message }) => {
            assert_eq!(*kind, std::io::ErrorKind::ConnectionRefused);
            assert_eq!(e.to_string(), *message);
        }
        other => panic!("{other:?}"),
    }
}
