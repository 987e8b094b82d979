//! Proxies and TLS through the real `cargo-depinfo` binary (issue 18): SOCKS proxies
//! (`socks5`, `socks5h`, `socks4`, `socks4a`, from the environment and from `proxy_url`) against
//! testkit's loopback SOCKS proxy, which records what it was asked; schemes we do not speak
//! refused before any connection; and the self-signed certificate of Prometheus' TLS guide,
//! served by a real Prometheus (`--web.config.file`), accepted when it is the `ca_file`.
//!
//! Everything listens on 127.0.0.1 on ports picked here; every child is killed by its guard.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs as _};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use testkit::{
    Certificates, Scratch, Server, SocksAuth, SocksOptions, SocksProxy, SocksRequest, TlsPages,
    openssl, stderr,
};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

/// A page as build-info-collector serves it: program `alpha` on itoa 1.0.15.
fn page() -> String {
    let mut s = String::from("# TYPE rust_mod_info gauge\n");
    let _ = writeln!(
        s,
        "rust_mod_info{{direct=\"true\",name=\"itoa\",program=\"alpha\",source=\"crates.io\",version=\"1.0.15\"}} 1"
    );
    s
}

fn page_server() -> Server {
    Server::metrics(page())
}

/// `cargo-depinfo args` with no proxy variables but those given; (exit code, stdout, stderr).
fn depinfo_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    testkit::run_with_proxy_env(BIN, args, env, Duration::from_secs(120))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `affected itoa 1 --metrics url`: what a found page prints.
fn affected(url: &str) -> Vec<&str> {
    vec!["affected", "itoa", "1", "--metrics", url]
}

/// A loopback listener that only counts the connections made to it.
struct CountingListener {
    addr: SocketAddr,
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingListener {
    fn start() -> CountingListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (Arc::clone(&count), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                c.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        CountingListener {
            addr,
            count,
            stop,
            thread: Some(thread),
        }
    }

    fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for CountingListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn request(version: u8, host: &str, port: u16, by_name: bool) -> SocksRequest {
    SocksRequest {
        version,
        host: host.to_owned(),
        port,
        by_name,
        auth: SocksAuth::None,
    }
}

/// Regression (issue 18, defect 5): `HTTP_PROXY=socks5h://…` was bypassed (a direct
/// connection, exit 0). Now the proxy carries the request and resolves the name itself: it
/// receives `some.name.invalid` unresolved (a name that resolves nowhere, so a direct
/// connection could not even start).
#[test]
fn a_socks5h_proxy_receives_the_name_unresolved() {
    let server = page_server();
    let port = server.addr().port();
    let proxy = SocksProxy::with(SocksOptions {
        relay_to: Some(server.addr()),
        ..SocksOptions::default()
    });
    let url = format!("http://some.name.invalid:{port}/metrics");
    for var in ["HTTP_PROXY", "http_proxy"] {
        let before = proxy.requests().len();
        let (code, out, err) = depinfo_env(&affected(&url), &[(var, &proxy.url("socks5h"))]);
        assert_eq!(
            (code, out.as_str()),
            (
                1,
                format!("some.name.invalid:{port}: alpha: itoa 1.0.15 crates.io\n").as_str()
            ),
            "{var}: {err}"
        );
        assert_eq!(
            proxy.requests()[before..],
            [request(5, "some.name.invalid", port, true)],
            "{var}"
        );
    }
    assert_eq!(server.requests(), ["/metrics", "/metrics"]);
}

/// Regression (issue 18, defect 5): with a SOCKS proxy set that does not answer, the request
/// fails; it never falls through to a direct connection.
#[test]
fn a_dead_socks_proxy_fails_the_source_and_nothing_goes_direct() {
    let target = CountingListener::start();
    let dead = testkit::unused_addr();
    let url = format!("http://{}/metrics", target.addr);
    for scheme in ["socks5", "socks5h", "socks4", "socks4a"] {
        let (code, out, err) = depinfo_env(
            &["spread", "--metrics", &url],
            &[("HTTP_PROXY", &format!("{scheme}://{dead}"))],
        );
        assert_eq!(code, 2, "{scheme}: {out}{err}");
        assert_eq!(err.lines().count(), 1, "{scheme}: {err}");
        testkit::assert_contains(&err, &format!("error: {url}: "));
        // The proxy is named as the one that failed, and no other cause is made up (the
        // SOCKS4 hint about IPv6 hosts is for a host that has no IPv4 address only).
        testkit::assert_contains(&err, &format!("SOCKS proxy {dead}: "));
        assert!(!err.contains("host not found"), "{scheme}: {err}");
    }
    assert_eq!(target.connections(), 0);
}

/// `socks5://` and `socks4://`: the client resolves the name and sends the address (the
/// first one the system gives for `localhost`); `socks4a://` sends the name.
#[test]
fn socks5_and_socks4_send_the_address_the_client_resolved_and_socks4a_the_name() {
    let server = page_server();
    let port = server.addr().port();
    let proxy = SocksProxy::with(SocksOptions {
        relay_to: Some(server.addr()),
        ..SocksOptions::default()
    });
    let url = format!("http://localhost:{port}/metrics");
    let found = format!("localhost:{port}: alpha: itoa 1.0.15 crates.io\n");
    let resolved = ("localhost", port)
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap();
    let first_v4 = ("localhost", port)
        .to_socket_addrs()
        .unwrap()
        .find(SocketAddr::is_ipv4)
        .unwrap();
    for (scheme, want) in [
        (
            "socks5",
            request(5, &resolved.ip().to_string(), port, false),
        ),
        (
            "socks4",
            request(4, &first_v4.ip().to_string(), port, false),
        ),
        ("socks4a", request(4, "localhost", port, true)),
        ("socks5h", request(5, "localhost", port, true)),
    ] {
        let before = proxy.requests().len();
        let (code, out, err) = depinfo_env(&affected(&url), &[("HTTP_PROXY", &proxy.url(scheme))]);
        assert_eq!((code, out.as_str()), (1, found.as_str()), "{scheme}: {err}");
        assert_eq!(proxy.requests()[before..], [want], "{scheme}");
    }
    // SOCKS4 carries IPv4 only: an IPv6 host is refused, in words, and nothing is asked.
    let before = proxy.connections();
    let v6 = format!("http://[::1]:{port}/metrics");
    let (code, _, err) = depinfo_env(
        &["spread", "--metrics", &v6],
        &[("HTTP_PROXY", &proxy.url("socks4"))],
    );
    assert_eq!(
        (code, err.as_str()),
        (2, format!("error: {v6}: host not found: no IPv4 address for it, and a SOCKS4 proxy carries IPv4 only (use socks5:// or socks5h://)\n").as_str())
    );
    assert_eq!(proxy.connections(), before);
}

/// `socks5://user:password@`: RFC 1929 authentication; the password is never printed, also
/// when the proxy refuses it.
#[test]
fn socks5_credentials_authenticate_and_are_never_printed() {
    const SECRET: &str = "s0cks-Secret-Pw";
    let server = page_server();
    let port = server.addr().port();
    let proxy = SocksProxy::with(SocksOptions {
        password: Some(("alice".into(), SECRET.into())),
        relay_to: Some(server.addr()),
    });
    let url = format!("http://target.invalid:{port}/metrics");
    let with = |password: &str| format!("socks5h://alice:{password}@{}", proxy.addr());
    let (code, out, err) = depinfo_env(&affected(&url), &[("HTTP_PROXY", &with(SECRET))]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        proxy.requests(),
        [SocksRequest {
            auth: SocksAuth::Password {
                user: "alice".into(),
                password: SECRET.into()
            },
            ..request(5, "target.invalid", port, true)
        }]
    );
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");

    // A wrong password: refused by the proxy, said so, no password shown.
    let (code, out, err) = depinfo_env(
        &["spread", "--metrics", &url],
        &[("HTTP_PROXY", &with("wr0ng-Secret-Pw"))],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "error: {url}: SOCKS proxy {}: password authentication failed\n",
            proxy.addr()
        )
    );
    // The config file's proxy_url too, and its errors: the password stays out.
    let scratch = Scratch::new("socks-config");
    let config = write(
        scratch.path(),
        "http.yml",
        &format!("proxy_url: {}\n", with(SECRET)),
    );
    let (code, out, err) = depinfo_env(
        &[&affected(&url)[..], &["--http.config.file", &config]].concat(),
        &[("NO_PROXY", "*")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
    assert_eq!(proxy.requests().len(), 2);
    let socks4 = write(
        scratch.path(),
        "socks4.yml",
        &format!("proxy_url: socks4://alice:{SECRET}@{}\n", proxy.addr()),
    );
    let (code, out, err) = depinfo_env(
        &["spread", "--metrics", &url, "--http.config.file", &socks4],
        &[],
    );
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: --http.config.file {socks4}: proxy_url: SOCKS4 proxies take no user or password: use socks5:// or socks5h:// for them\n"
        )
    );
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");
}

/// `https://` through a SOCKS proxy: TLS end to end, the certificate checked for the URL's
/// name; `NO_PROXY` still bypasses the proxy; `proxy_url: socks5h://` in the config file.
#[test]
fn https_goes_through_socks_and_no_proxy_still_bypasses() {
    let scratch = Scratch::new("socks-tls");
    let certs = Certificates::make(scratch.path());
    let pages = scratch.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    write(&pages, "metrics", &page());
    let tls = TlsPages::start(&pages, &certs);
    let port = tls.addr().port();
    let proxy = SocksProxy::with(SocksOptions {
        relay_to: Some(tls.addr()),
        ..SocksOptions::default()
    });
    let ca = write(
        scratch.path(),
        "ca.yml",
        &format!("tls_config:\n  ca_file: {}\n", certs.ca.display()),
    );
    let url = format!("https://localhost:{port}/metrics");
    let args = [&affected(&url)[..], &["--http.config.file", &ca]].concat();
    let (code, out, err) = depinfo_env(&args, &[("HTTPS_PROXY", &proxy.url("socks5h"))]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        format!("localhost:{port}: alpha: itoa 1.0.15 crates.io\n")
    );
    assert_eq!(proxy.requests(), [request(5, "localhost", port, true)]);

    // NO_PROXY: straight to the server, the proxy not even connected to.
    let before = proxy.connections();
    for no_proxy in [
        "localhost".to_owned(),
        format!("127.0.0.1,localhost:{port}"),
    ] {
        let (code, _, err) = depinfo_env(
            &args,
            &[
                ("HTTPS_PROXY", &proxy.url("socks5h")),
                ("NO_PROXY", &no_proxy),
            ],
        );
        assert_eq!(code, 1, "{no_proxy}: {err}");
    }
    assert_eq!(proxy.connections(), before);

    // proxy_url: socks5h:// in the config file.
    let config = write(
        scratch.path(),
        "socks.yml",
        &format!(
            "proxy_url: {}\ntls_config:\n  ca_file: {}\n",
            proxy.url("socks5h"),
            certs.ca.display()
        ),
    );
    let (code, _, err) = depinfo_env(
        &[&affected(&url)[..], &["--http.config.file", &config]].concat(),
        &[],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(proxy.requests().len(), 2);
}

/// Regression (issue 18, defect 5): a proxy scheme we do not speak is refused in one line,
/// exit 2, before any connection (the target counts none), from the environment and from the
/// config file.
#[test]
fn an_unsupported_proxy_scheme_is_refused_before_any_connection() {
    let target = CountingListener::start();
    let url = format!("http://{}/metrics", target.addr);
    let scratch = Scratch::new("proxy-schemes");
    for (scheme, why) in [
        (
            "ftp",
            "the proxy scheme ftp is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
        ),
        (
            "socks6",
            "the proxy scheme socks6 is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
        ),
        (
            "quic",
            "the proxy scheme quic is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
        ),
        (
            "socks",
            "socks:// is ambiguous (SOCKS4 to curl, SOCKS5 to others): write socks4://, socks5:// or socks5h://",
        ),
    ] {
        let proxy = format!("{scheme}://u:pr0xy-Secret@127.0.0.1:1");
        let shown = format!("{scheme}://u:***@127.0.0.1:1");
        let (code, out, err) =
            depinfo_env(&["spread", "--metrics", &url], &[("http_proxy", &proxy)]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                2,
                "",
                format!("error: cannot set up HTTP: http_proxy {shown}: {why}\n").as_str()
            )
        );
        let config = write(scratch.path(), "http.yml", &format!("proxy_url: {proxy}\n"));
        let (code, out, err) = depinfo_env(
            &["spread", "--metrics", &url, "--http.config.file", &config],
            &[],
        );
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (
                2,
                "",
                format!("error: --http.config.file {config}: proxy_url: {why}\n").as_str()
            )
        );
    }
    assert_eq!(target.connections(), 0);
}

/// Runs `openssl` in `dir`; panics with its stderr when it fails.
/// The certificate of Prometheus' TLS guide (`openssl req -x509 -newkey rsa -nodes`, so
/// `CA:TRUE`), with the subjectAltName Go and rustls need: `guide.pem` and `guide.key`. And
/// one like it whose validity ended in 2021, made by `openssl ca -selfsign` with past dates:
/// `old.pem` and `old.key`.
fn guide_certificates(dir: &Path) {
    testkit::guide_certificate(dir, 2);
    write(
        dir,
        "ca.cnf",
        "[ca]\ndefault_ca = here\n[here]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n[guide]\nbasicConstraints = critical,CA:TRUE\nsubjectAltName = DNS:localhost\nsubjectKeyIdentifier = hash\n",
    );
    write(dir, "index.txt", "");
    write(dir, "serial", "01\n");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "old.key",
            "-out",
            "old.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-selfsign",
            "-keyfile",
            "old.key",
            "-in",
            "old.csr",
            "-startdate",
            "200101000000Z",
            "-enddate",
            "210101000000Z",
            "-extensions",
            "guide",
            "-notext",
            "-out",
            "old.pem",
        ],
    );
}

/// Regression (issue 18, defect 13): the self-signed certificate of Prometheus' TLS guide,
/// served by a real Prometheus (`--web.config.file`), was refused with
/// `certificate refused: Other(OtherError(CaUsedAsEndEntity))` even as the `ca_file`, which
/// curl and Go clients accept. Now it is accepted as its own CA; a wrong name, an expired
/// one, and the certificate not given as `ca_file` are refused in words that say what to do.
/// Regression (issue 18, item 14): a TLS failure of `--prometheus` says it is the Prometheus
/// API's.
#[test]
fn the_certificate_of_prometheus_tls_guide_is_accepted_as_its_own_ca() {
    let prometheus = testkit::installed("prometheus");
    let scratch = Scratch::new("guide-tls");
    let dir = scratch.path();
    guide_certificates(dir);
    let web = |cert: &str| {
        write(
            dir,
            "web.yml",
            &format!("tls_server_config:\n  cert_file: {cert}.pem\n  key_file: {cert}.key\n"),
        )
    };
    let web_config = web("guide");
    write(dir, "prometheus.yml", "global:\n  scrape_interval: 1m\n");
    let addr = testkit::unused_addr();
    let _prometheus = testkit::Running::spawn(
        Command::new(&prometheus)
            .current_dir(dir)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!("--web.config.file={web_config}"))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    testkit::wait_for_port(addr, Duration::from_secs(60));
    let url = format!("https://localhost:{}", addr.port());
    let config = |name: &str, tls: &str| write(dir, name, &format!("tls_config:\n{tls}"));
    let guide_ca = config(
        "guide.yml",
        &format!("  ca_file: {}\n", dir.join("guide.pem").display()),
    );
    let spread = |config: Option<&str>| {
        let mut args = vec!["spread", "--prometheus", url.as_str()];
        if let Some(c) = config {
            args.extend(["--http.config.file", c]);
        }
        depinfo_env(&args, &[])
    };

    // The reference: curl accepts the certificate as its own CA.
    let curl = testkit::run(
        Command::new("curl")
            .args(["-sS", "--noproxy", "*", "--cacert"])
            .arg(dir.join("guide.pem"))
            .arg(format!("{url}/-/ready")),
        Duration::from_secs(60),
    );
    assert!(curl.status.success(), "curl: {}", stderr(&curl));

    // As the ca_file: accepted (wait for Prometheus to be ready). The server holds none of
    // our series: an answer that says so (issue 19: no data is exit 2) went through TLS.
    let no_data = format!(
        "error: {url}: no rust_mod_info or rust_build_info series: is this the right server or tenant?\n"
    );
    let started = std::time::Instant::now();
    loop {
        let (code, out, err) = spread(Some(&guide_ca));
        if code == 2 && err == no_data {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not accepted: {code} {out}{err}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // A name it does not hold: refused, in words.
    let misnamed = config(
        "misnamed.yml",
        &format!(
            "  ca_file: {}\n  server_name: elsewhere.example\n",
            dir.join("guide.pem").display()
        ),
    );
    let (code, _, err) = spread(Some(&misnamed));
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            format!("error: {url}: Prometheus API: wrong host name: the certificate is not valid for this host (see tls_config.server_name)\n").as_str()
        )
    );

    // Not given as the ca_file (none, or another CA): refused, saying to give it.
    let certs = Certificates::make(dir);
    let other = config("other.yml", &format!("  ca_file: {}\n", certs.ca.display()));
    let give_it = format!(
        "error: {url}: Prometheus API: the server's certificate is a CA certificate (CA:TRUE, like the self-signed one of Prometheus' TLS guide) that is not in tls_config.ca_file: give that certificate itself as tls_config.ca_file\n"
    );
    for config in [None, Some(other.as_str())] {
        let (code, _, err) = spread(config);
        assert_eq!((code, err.as_str()), (2, give_it.as_str()), "{config:?}");
    }

    // Expired (Prometheus reads its web config again for each connection): refused, saying
    // when it expired.
    web("old");
    let old_ca = config(
        "old.yml",
        &format!("  ca_file: {}\n", dir.join("old.pem").display()),
    );
    let started = std::time::Instant::now();
    let err = loop {
        let (code, _, err) = spread(Some(&old_ca));
        if err.contains("expired") {
            assert_eq!(code, 2);
            break err;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{code} {err}");
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(
        err.starts_with(&format!(
            "error: {url}: Prometheus API: certificate expired on 2021-01-01 00:00:00 UTC (now 20"
        )) && err.ends_with(" UTC): the server needs a renewed certificate\n")
            && err.lines().count() == 1,
        "{err}"
    );
}
