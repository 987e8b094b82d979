//! Certificates made by the `openssl` program for a test (a CA, a server certificate it signs
//! for `localhost` and `127.0.0.1`, and a client certificate), and an HTTPS page server (`openssl s_server -WWW`)
//! on a loopback port, killed on drop. Never skipped: a missing `openssl` fails the test
//! (scripts/test-all.sh installs it).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::{Running, run};

/// A CA and a server certificate it signed, as PEM files in a directory.
#[derive(Debug, Clone)]
pub struct Certificates {
    /// The CA certificate (what a client trusts).
    pub ca: PathBuf,
    /// The server certificate, for `localhost` and `127.0.0.1`.
    pub cert: PathBuf,
    /// The server certificate's private key.
    pub key: PathBuf,
    /// A second CA, which signed nothing here (a client trusting it only must refuse).
    pub other_ca: PathBuf,
    /// A client certificate signed by `ca` (for servers that require one).
    pub client_cert: PathBuf,
    /// The client certificate's private key.
    pub client_key: PathBuf,
}

/// Runs `openssl ARGS` in `dir` (within 120 s) and returns its stdout; panics with its stderr
/// when it fails.
pub fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = run(
        Command::new("openssl").args(args).current_dir(dir),
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::child::stdout(&out)
}

/// Makes, in `dir`, the self-signed certificate of Prometheus' TLS guide (`openssl req -x509
/// -newkey rsa -nodes`, so `CA:TRUE`, for `localhost`), with the subjectAltName that Go and
/// rustls need: `guide.pem` and `guide.key`, valid for `days` days from now.
pub fn guide_certificate(dir: &Path, days: u32) {
    let days = days.to_string();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            &days,
            "-keyout",
            "guide.key",
            "-out",
            "guide.pem",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
    );
}

impl Certificates {
    /// Makes them in `dir` (P-256 keys, valid for two days).
    pub fn make(dir: &Path) -> Certificates {
        for ca in ["ca", "other-ca"] {
            self_signed_p256(
                dir,
                ca,
                2,
                &format!("/CN=testkit {ca}"),
                &[
                    "basicConstraints=critical,CA:TRUE",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            );
        }
        signed_by_ca(
            dir,
            "server",
            "/CN=localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        );
        signed_by_ca(
            dir,
            "client",
            "/CN=testkit client",
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
        );
        Certificates {
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            other_ca: dir.join("other-ca.pem"),
        }
    }
}

/// Makes, in `dir`, `NAME.key` (a new P-256 key) and `NAME.pem`, a self-signed certificate
/// for `subject`, valid for `days` days from now, with the `-addext` extensions `extensions`.
pub fn self_signed_p256(dir: &Path, name: &str, days: u32, subject: &str, extensions: &[&str]) {
    let (key, pem, days) = (
        format!("{name}.key"),
        format!("{name}.pem"),
        days.to_string(),
    );
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        &days,
        "-keyout",
        &key,
        "-out",
        &pem,
        "-subj",
        subject,
    ];
    args.extend(extensions.iter().flat_map(|e| ["-addext", e]));
    openssl(dir, &args);
}

/// `NAME.key` (a new P-256 key) and `NAME.pem`, a certificate for `subject` with the
/// extensions `ext`, signed by `ca.pem` for two days.
fn signed_by_ca(dir: &Path, name: &str, subject: &str, ext: &str) {
    let (key, csr, ext_file, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    );
    std::fs::write(dir.join(&ext_file), ext).unwrap_or_else(|e| panic!("write {ext_file}: {e}"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext_file,
            "-out",
            &pem,
        ],
    );
}

/// Waits until something accepts connections on `addr`; panics after `limit`.
pub fn wait_for_port(addr: SocketAddr, limit: Duration) {
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            started.elapsed() < limit,
            "nothing listens on {addr} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `openssl s_server -WWW`: serves the files of a directory over HTTPS with the given
/// certificate; killed on drop.
pub struct TlsPages {
    addr: SocketAddr,
    _server: Running,
}

impl TlsPages {
    /// Serves `dir`'s files on a loopback port.
    pub fn start(dir: &Path, certs: &Certificates) -> TlsPages {
        let addr = crate::http_server::unused_addr();
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-quiet", "-WWW", "-accept"])
            .arg(addr.to_string())
            .arg("-cert")
            .arg(&certs.cert)
            .arg("-key")
            .arg(&certs.key)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = Running::spawn(&mut cmd);
        wait_for_port(addr, Duration::from_secs(20));
        TlsPages {
            addr,
            _server: server,
        }
    }

    /// `https://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}
