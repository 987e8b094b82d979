//! Production fleets (issue 7): the real `cargo-depinfo` binary against a real Prometheus
//! behind TLS and basic auth (`--web.config.file`, certificates made by `openssl`, a bcrypt
//! password hash), an HTTPS `/metrics` page (`openssl s_server`), a loopback proxy
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`, `proxy_url`), redirects, gzip pages and bombs,
//! the budget over all sources, and headers. Secrets are checked never to appear in stdout,
//! stderr or JSON.
//!
//! Everything listens on 127.0.0.1 on ports picked here; every child is killed by its guard.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{
    Certificates, EXPOSITION, Proxy, Reply, Running, Scratch, Server, TlsPages, installed,
};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");
const PASSWORD: &str = "Corr3ct-Horse-Battery";
const WRONG_PASSWORD: &str = "Wr0ng-Guess-Staple";

/// A page as build-info-collector serves it, for `program` on these crates.
fn page(program: &str, crates: &[(&str, &str)]) -> String {
    let mut s = String::from("# TYPE rust_mod_info gauge\n");
    for (name, v) in crates {
        let _ = writeln!(
            s,
            "rust_mod_info{{direct=\"true\",name=\"{name}\",program=\"{program}\",source=\"crates.io\",version=\"{v}\"}} 1"
        );
    }
    s
}

fn page_server(program: &str, crates: &[(&str, &str)]) -> Server {
    Server::metrics(page(program, crates))
}

/// `cargo-depinfo args` with no proxy variables but those given; (exit code, stdout, stderr).
fn depinfo_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    testkit::run_with_proxy_env(BIN, args, env, Duration::from_secs(120))
}

fn depinfo(args: &[&str]) -> (i32, String, String) {
    depinfo_env(args, &[])
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn assert_no_secret(secret: &str, out: &str, err: &str) {
    assert!(!out.contains(secret), "secret in stdout: {out}");
    assert!(!err.contains(secret), "secret in stderr: {err}");
}

#[test]
fn a_prometheus_behind_tls_and_basic_auth_answers_through_the_config_file() {
    let prometheus = installed("prometheus");
    let scratch = Scratch::new("secure-prometheus");
    let dir = scratch.path();
    let certs = Certificates::make(dir);
    let alpha = page_server("alpha", &[("itoa", "1.0.15"), ("serde_json", "1.0.130")]);
    let beta = page_server("beta", &[("itoa", "1.0.15"), ("serde_json", "1.0.140")]);

    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    write(
        dir,
        "web.yml",
        &format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {}\nbasic_auth_users:\n  alice: '{hash}'\n",
            certs.cert.display(),
            certs.key.display(),
            certs.ca.display()
        ),
    );
    write(
        dir,
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fleet\n    static_configs:\n      - targets: ['{}', '{}']\n",
            alpha.host_port(),
            beta.host_port()
        ),
    );
    let addr = testkit::unused_addr();
    let _prometheus = Running::spawn(
        Command::new(&prometheus)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--web.config.file={}",
                dir.join("web.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    testkit::wait_for_port(addr, Duration::from_secs(60));
    let url = format!("https://{addr}");

    // The config file names its files relative to itself, as Prometheus reads them.
    let client = dir.join("client");
    std::fs::create_dir_all(&client).unwrap();
    std::fs::copy(&certs.ca, client.join("ca.pem")).unwrap();
    std::fs::copy(&certs.client_cert, client.join("client.pem")).unwrap();
    std::fs::copy(&certs.client_key, client.join("client.key")).unwrap();
    let tls = "tls_config:\n  ca_file: ca.pem\n  cert_file: client.pem\n  key_file: client.key\n";
    write(&client, "password", &format!("{PASSWORD}\n"));
    write(&client, "wrong", &format!("{WRONG_PASSWORD}\n"));
    let good = write(
        &client,
        "http.yml",
        &format!("basic_auth:\n  username: alice\n  password_file: password\n{tls}"),
    );

    // Wait for both targets' series, asked through cargo-depinfo itself.
    let started = Instant::now();
    let spread = loop {
        let (code, out, err) = depinfo(&[
            "spread",
            "--crate",
            "serde_json",
            "--prometheus",
            &url,
            "--http.config.file",
            &good,
        ]);
        if code == 0 && out.starts_with("serde_json: 2 versions\n") {
            assert_no_secret(PASSWORD, &out, &err);
            break out;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no full answer from Prometheus: {code} {out}{err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // Prometheus counts the instances: one line per program and job, at the server's URL.
    for (version, program) in [("1.0.130", "alpha"), ("1.0.140", "beta")] {
        testkit::assert_contains(
            &spread,
            &format!("{version}\t{program}@{url}\tjob=fleet instances=1"),
        );
    }
    let (code, out, err) = depinfo(&[
        "affected",
        "serde_json",
        ">=1.0.135",
        "--prometheus",
        &url,
        "--http.config.file",
        &good,
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        out,
        format!("{}: beta: serde_json 1.0.140 crates.io\n", beta.host_port())
    );
    assert_no_secret(PASSWORD, &out, &err);

    // A wrong password: exit 2, neither password anywhere.
    let wrong = write(
        &client,
        "wrong.yml",
        &format!("basic_auth:\n  username: alice\n  password_file: wrong\n{tls}"),
    );
    let (code, out, err) = depinfo(&[
        "affected",
        "serde_json",
        "*",
        "--format",
        "json",
        "--prometheus",
        &url,
        "--http.config.file",
        &wrong,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    for secret in [PASSWORD, WRONG_PASSWORD] {
        assert_no_secret(secret, &out, &err);
    }
    testkit::assert_contains(&err, &format!("error: {url}: "));
    testkit::assert_contains(&err, "HTTP 401");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["errors"].as_array().unwrap().len(), 1, "{out}");

    // Without the client certificate: the server refuses the handshake.
    let no_cert = write(
        &client,
        "no-cert.yml",
        "basic_auth:\n  username: alice\n  password_file: password\ntls_config:\n  ca_file: ca.pem\n",
    );
    let (code, out, err) = depinfo(&[
        "spread",
        "--prometheus",
        &url,
        "--http.config.file",
        &no_cert,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    // The server's alert, or (when its reset overtook the alert) what it most likely meant.
    assert!(
        [
            format!("error: {url}: Prometheus API: TLS handshake refused by the server: it requires a client certificate (tls_config.cert_file and key_file)\n"),
            format!("error: {url}: Prometheus API: the server closed the connection during the TLS handshake (does it require a client certificate? tls_config.cert_file and key_file)\n"),
        ]
        .contains(&err),
        "{err}"
    );
    assert_no_secret(PASSWORD, &out, &err);

    // Without the CA: the certificate is not trusted, and the message says so.
    let no_ca = write(
        &client,
        "no-ca.yml",
        "basic_auth:\n  username: alice\n  password_file: password\n",
    );
    let (code, out, err) = depinfo(&["spread", "--prometheus", &url, "--http.config.file", &no_ca]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "error: {url}: Prometheus API: certificate not trusted (unknown issuer: give its CA with tls_config.ca_file)\n"
        )
    );
}

#[test]
fn an_https_metrics_page_is_read_with_its_ca_and_refused_without() {
    let scratch = Scratch::new("secure-page");
    let dir = scratch.path();
    let certs = Certificates::make(dir);
    let pages = dir.join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    write(&pages, "metrics", &page("alpha", &[("itoa", "1.0.15")]));
    let server = TlsPages::start(&pages, &certs);
    let url = server.url("/metrics");
    let config = |name: &str, tls: &str| write(dir, name, &format!("tls_config:\n{tls}"));
    let affected = |config: &str| {
        depinfo(&[
            "affected",
            "itoa",
            "1",
            "--metrics",
            &url,
            "--http.config.file",
            config,
        ])
    };

    // `ca_file: CA` and more lines of tls_config.
    let ca_file = |name: &str, ca: &Path, more: &str| {
        config(name, &format!("  ca_file: {}\n{more}", ca.display()))
    };
    let ca = ca_file("ca.yml", &certs.ca, "");
    finds_alpha_itoa(
        &url,
        &server.addr().to_string(),
        &["--http.config.file", &ca],
    );

    // The name the certificate holds, given as server_name for another URL host: accepted;
    // a name it does not hold: "wrong host name".
    let named = ca_file("named.yml", &certs.ca, "  server_name: localhost\n");
    let (code, _, err) = affected(&named);
    assert_eq!(code, 1, "{err}");
    let misnamed = ca_file(
        "misnamed.yml",
        &certs.ca,
        "  server_name: elsewhere.example\n",
    );
    let (code, _, err) = affected(&misnamed);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: {url}: wrong host name: the certificate is not valid for this host (see tls_config.server_name)\n"
        )
    );

    // Another CA, or none: not trusted. insecure_skip_verify: read anyway.
    let other = ca_file("other.yml", &certs.other_ca, "");
    for (code, _, err) in [
        depinfo(&["affected", "itoa", "1", "--metrics", &url]),
        affected(&other),
    ] {
        assert_eq!(code, 2);
        assert_eq!(
            err,
            format!(
                "error: {url}: certificate not trusted (unknown issuer: give its CA with tls_config.ca_file)\n"
            )
        );
    }
    let insecure = config("insecure.yml", "  insecure_skip_verify: true\n");
    let (code, _, err) = affected(&insecure);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn proxies_from_the_environment_and_the_config_file_carry_the_traffic() {
    let proxy = Proxy::start();
    let server = page_server("alpha", &[("itoa", "1.0.15")]);
    let url = server.url("/metrics");
    let args = ["affected", "itoa", "1", "--metrics", url.as_str()];
    let answer = format!("{}: alpha: itoa 1.0.15 crates.io\n", server.host_port());

    for var in ["HTTP_PROXY", "http_proxy"] {
        let before = proxy.requests().len();
        let (code, out, err) = depinfo_env(&args, &[(var, &proxy.url())]);
        assert_eq!((code, out.as_str()), (1, answer.as_str()), "{var}: {err}");
        assert_eq!(
            proxy.requests()[before..],
            [format!("CONNECT {}", server.host_port())],
            "{var}"
        );
    }
    // HTTPS_PROXY is for https:// URLs only; NO_PROXY bypasses the proxy.
    let before = proxy.requests().len();
    for env in [
        vec![("HTTPS_PROXY", proxy.url())],
        vec![
            ("HTTP_PROXY", proxy.url()),
            ("NO_PROXY", "localhost,127.0.0.1".to_owned()),
        ],
        vec![
            ("http_proxy", proxy.url()),
            ("no_proxy", "127.0.0.0/8".to_owned()),
        ],
    ] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, out, err) = depinfo_env(&args, &env);
        assert_eq!((code, out.as_str()), (1, answer.as_str()), "{env:?}: {err}");
    }
    assert_eq!(proxy.requests().len(), before, "{:?}", proxy.requests());

    // proxy_url in the config file, whatever the environment says.
    let scratch = Scratch::new("proxy-config");
    let config = write(
        scratch.path(),
        "http.yml",
        &format!("proxy_url: {}\n", proxy.url()),
    );
    let with_config = [&args[..], &["--http.config.file", &config]].concat();
    let (code, out, err) = depinfo_env(&with_config, &[("NO_PROXY", "*")]);
    assert_eq!((code, out.as_str()), (1, answer.as_str()), "{err}");
    assert_eq!(proxy.requests().len(), before + 1);

    // https through HTTPS_PROXY: a CONNECT tunnel, TLS end to end.
    let certs = Certificates::make(scratch.path());
    let pages = scratch.path().join("pages");
    std::fs::create_dir_all(&pages).unwrap();
    write(&pages, "metrics", &page("alpha", &[("itoa", "1.0.15")]));
    let tls = TlsPages::start(&pages, &certs);
    let ca = write(
        scratch.path(),
        "ca.yml",
        &format!("tls_config:\n  ca_file: {}\n", certs.ca.display()),
    );
    let tls_url = tls.url("/metrics");
    let (code, _, err) = depinfo_env(
        &[
            "affected",
            "itoa",
            "1",
            "--metrics",
            &tls_url,
            "--http.config.file",
            &ca,
        ],
        &[("HTTPS_PROXY", &proxy.url())],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        proxy.requests().last().unwrap(),
        &format!("CONNECT {}", tls.addr())
    );
}

#[test]
fn redirects_are_followed_and_bounded() {
    let page = page("alpha", &[("itoa", "1.0.15")]);
    let server = Server::start(move |path| match path {
        "/metrics" => Reply::redirect(302, "/moved"),
        "/moved" => Reply::redirect(308, "real/metrics"),
        "/real/metrics" => Reply::ok(EXPOSITION, page.clone()),
        "/loop" => Reply::redirect(301, "/loop"),
        _ => Reply::not_found(),
    });
    finds_alpha_itoa(&server.url("/metrics"), &server.host_port(), &[]);
    assert_eq!(server.requests(), ["/metrics", "/moved", "/real/metrics"]);

    let (code, _, err) = depinfo(&["spread", "--metrics", &server.url("/loop")]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("error: {}: more than 5 redirects\n", server.url("/loop"))
    );
    // The first request and five redirects, then no more.
    assert_eq!(
        server.requests().iter().filter(|r| *r == "/loop").count(),
        6
    );

    let scratch = Scratch::new("no-redirects");
    let config = write(scratch.path(), "http.yml", "follow_redirects: false\n");
    let (code, _, err) = spread_with_config(&server.url("/metrics"), &config);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!("error: {}: HTTP 302\n", server.url("/metrics"))
    );
}

/// `spread --metrics URL --http.config.file CONFIG`.
fn spread_with_config(url: &str, config: &str) -> (i32, String, String) {
    depinfo(&["spread", "--metrics", url, "--http.config.file", config])
}

/// `affected itoa 1 --metrics URL EXTRA...` finds alpha's itoa 1.0.15 on the page at `url`:
/// exit 1 and the one line naming `host`.
fn finds_alpha_itoa(url: &str, host: &str, extra: &[&str]) {
    let (code, out, err) = depinfo(&[&["affected", "itoa", "1", "--metrics", url], extra].concat());
    assert_eq!(code, 1, "{err}");
    assert_eq!(out, format!("{host}: alpha: itoa 1.0.15 crates.io\n"));
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_gzip_page_is_inflated_and_a_gzip_bomb_is_refused() {
    let page = page("alpha", &[("itoa", "1.0.15")]);
    let server = Server::fixed(
        Reply::ok(EXPOSITION, gzip(page.as_bytes())).header("Content-Encoding", "gzip"),
    );
    finds_alpha_itoa(&server.url("/metrics"), &server.host_port(), &[]);
    testkit::assert_contains(
        &server.heads()[0].to_ascii_lowercase(),
        "accept-encoding: gzip",
    );

    // 300 MiB of zeros in about 300 KB: one 1 MiB gzip member, 300 times (a gzip stream may
    // hold several members). Refused at the 256 MiB cap, quickly.
    let member = gzip(&vec![0u8; 1 << 20]);
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 300)
        .collect();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let server = Server::fixed(Reply::ok(EXPOSITION, bomb).header("Content-Encoding", "gzip"));
    let started = Instant::now();
    let (code, _, err) = depinfo(&["spread", "--metrics", &server.url("/metrics")]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "error: {}: gzip answer inflates past 256 MiB (refused)\n",
            server.url("/metrics")
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_budget_over_all_sources_refuses_one_and_reads_the_other() {
    // Two pages of 700 KiB each (comment lines pad them): one MiB holds one, not both.
    let padded = |program: &str| {
        let mut p = page(program, &[("itoa", "1.0.15")]);
        while p.len() < 700 << 10 {
            p.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        p
    };
    let (pa, pb) = (padded("alpha"), padded("beta"));
    let a = Server::start(move |_| Reply::ok(EXPOSITION, pa.clone()));
    let b = Server::start(move |_| Reply::ok(EXPOSITION, pb.clone()));
    let (ua, ub) = (a.url("/metrics"), b.url("/metrics"));
    let (code, out, err) = depinfo(&[
        "affected",
        "itoa",
        "1",
        "--metrics",
        &ua,
        "--metrics",
        &ub,
        "--max-total-mib",
        "1",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(out.lines().count(), 1, "one source read: {out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let refused = if out.contains("alpha") { &ub } else { &ua };
    assert_eq!(
        err,
        format!(
            "error: {refused}: the answers of all sources together pass --max-total-mib 1 (this source is not read)\n"
        )
    );
    // The default budget holds both.
    let (code, out, err) = depinfo(&["affected", "itoa", "1", "--metrics", &ua, "--metrics", &ub]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn headers_reach_every_request_and_are_never_printed() {
    let server = Server::fixed(Reply::ok("text/plain", "no\n").status(403));
    let scratch = Scratch::new("headers");
    write(scratch.path(), "tenant", "team-secret-c\n");
    let config = write(
        scratch.path(),
        "http.yml",
        "authorization:\n  credentials: tok-secret-b\nhttp_headers:\n  X-Scope-OrgID:\n    secrets: [team-secret-a]\n    files: [tenant]\n",
    );
    let (code, out, err) = depinfo(&[
        "spread",
        "--format",
        "json",
        "--metrics",
        &server.url("/metrics"),
        "--prometheus",
        &server.url(""),
        "--header",
        "X-Scope-OrgID: team-secret-d",
        "--http.config.file",
        &config,
    ]);
    assert_eq!(code, 2);
    for secret in ["team-secret", "tok-secret"] {
        assert_no_secret(secret, &out, &err);
    }
    let heads = server.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        for line in [
            "authorization: bearer tok-secret-b\r\n",
            "x-scope-orgid: team-secret-a\r\n",
            "x-scope-orgid: team-secret-c\r\n",
            "x-scope-orgid: team-secret-d\r\n",
        ] {
            testkit::assert_contains(&lower, line);
        }
    }
    // The Prometheus query went as a form.
    assert!(
        heads.iter().any(|h| h.starts_with("POST /api/v1/query ")),
        "{heads:?}"
    );

    // A bad --header, an unknown key: exit 2, one line, no value echoed.
    let (code, _, err) = depinfo(&[
        "spread",
        "--metrics",
        &server.url("/"),
        "--header",
        "X: a\u{7}team-secret-e",
    ]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "error: --header X: the value holds a control character\n"
        )
    );
    let bad = write(scratch.path(), "bad.yml", "tls_config:\n  ca_fiel: x\n");
    let (code, _, err) = spread_with_config(&server.url("/"), &bad);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "error: --http.config.file {bad}: tls_config: unknown field `ca_fiel`"
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
