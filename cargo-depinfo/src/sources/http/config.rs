//! `--http.config.file`: the YAML Prometheus and promtool read for their HTTP client
//! (prometheus/common's `HTTPClientConfig`), the part of it cargo depinfo uses:
//!
//! ```yaml
//! basic_auth: {username: u, password: p}          # or password_file
//! authorization: {type: Bearer, credentials: t}   # or credentials_file; type defaults to Bearer
//! tls_config: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem,
//!              server_name: prometheus.internal, insecure_skip_verify: false}
//! proxy_url: http://proxy:3128
//! no_proxy: localhost,10.0.0.0/8
//! proxy_from_environment: true                  # the default when proxy_url is not set
//! http_headers: {X-Scope-OrgID: {values: [team-a], secrets: [..], files: [..]}}
//! follow_redirects: true
//! enable_http2: true                              # accepted; requests are HTTP/1.1
//! ```
//!
//! Unknown keys are an error naming the key and the file, as in Prometheus. Relative file
//! paths are read from the config file's directory. Files (passwords, credentials, header
//! files) are read once, when the file is loaded, and trimmed of surrounding white space as
//! Prometheus does; their content is never shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::tls::TlsOptions;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    basic_auth: Option<BasicAuth>,
    #[serde(default)]
    authorization: Option<Authorization>,
    #[serde(default)]
    tls_config: Option<TlsFile>,
    #[serde(default)]
    proxy_url: Option<String>,
    #[serde(default)]
    no_proxy: Option<String>,
    #[serde(default)]
    proxy_from_environment: Option<bool>,
    #[serde(default)]
    http_headers: Option<BTreeMap<String, Header>>,
    #[serde(default)]
    follow_redirects: Option<bool>,
    #[serde(default)]
    enable_http2: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuth {
    username: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorization {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    credentials: Option<String>,
    #[serde(default)]
    credentials_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default)]
    cert_file: Option<PathBuf>,
    #[serde(default)]
    key_file: Option<PathBuf>,
    #[serde(default)]
    server_name: Option<String>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    #[serde(default)]
    values: Vec<String>,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    files: Vec<PathBuf>,
}

/// What a config file asks for, files read and paths resolved. Its `Debug` shows no secret.
#[derive(Clone, Default)]
pub struct HttpConfig {
    /// The `Authorization` header value (basic or typed credentials), if any. Secret.
    pub(crate) authorization: Option<String>,
    /// TLS settings.
    pub(crate) tls: TlsOptions,
    /// `proxy_url` and `no_proxy`.
    pub(crate) proxy_url: Option<(String, String)>,
    /// Header name and value pairs, in file order (values, secrets, then files). Secret.
    pub(crate) headers: Vec<(String, String)>,
    /// `follow_redirects` (default true).
    pub(crate) follow_redirects: bool,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpConfig")
            .field("authorization", &self.authorization.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field(
                "proxy_url",
                &self
                    .proxy_url
                    .as_ref()
                    .map(|(u, n)| (super::shown_url(u), n)),
            )
            .field("headers", &names)
            .field("follow_redirects", &self.follow_redirects)
            .finish()
    }
}

impl HttpConfig {
    /// No file: no credentials, redirects followed.
    pub fn none() -> HttpConfig {
        HttpConfig {
            follow_redirects: true,
            ..HttpConfig::default()
        }
    }

    /// Reads and checks the file at `path`. The error names the file and fits on one line.
    pub fn load(path: &Path) -> Result<HttpConfig, String> {
        let text = read_small(path)?;
        let text = String::from_utf8(text).map_err(|_| format!("{}: not UTF-8", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        parse(&text, dir).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Reads a config or secret file through the one bounded, non-blocking opener; the error
/// names it and never quotes it.
fn read_small(path: &Path) -> Result<Vec<u8>, String> {
    crate::untrusted_file::read_small(path).map_err(|e| e.to_string())
}

/// A secret file's content, trimmed; the error names the file, never its content.
fn read_secret(dir: &Path, path: &Path) -> Result<String, String> {
    let full = dir.join(path);
    let bytes = read_small(&full)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8", full.display()))?;
    Ok(text.trim().to_owned())
}

/// A header value must be sendable: no control characters (a newline would split the header).
fn check_value(what: &str, value: &str) -> Result<(), String> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("{what} holds a control character"));
    }
    Ok(())
}

/// Headers the config may not set (Prometheus refuses them too): they are the client's own.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-length",
    "content-encoding",
    "content-type",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
    "keep-alive",
];

/// Headers that frame the message or the connection: neither the config file nor `--header`
/// may set them (a false `Content-Length` or `Transfer-Encoding` desynchronises keep-alive
/// proxies; `Host` and `Connection` are the client's own).
const FRAMING_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-encoding",
    "content-type",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "keep-alive",
];

/// Whether `--header` may not set `name` (case-insensitive): the framing headers. Credentials
/// (`Authorization`) may be given on the command line, unlike in the file's `http_headers`,
/// where `basic_auth` and `authorization` own them.
pub(crate) fn is_framing_header(name: &str) -> bool {
    FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

/// A valid header name (an HTTP token).
pub(crate) fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses the YAML `text`; relative paths are taken from `dir`. Errors name the key.
pub(crate) fn parse(text: &str, dir: &Path) -> Result<HttpConfig, String> {
    // An empty document is an empty config (serde_norway reads it as null).
    let file: File = if text.trim().is_empty() {
        File::default()
    } else {
        serde_norway::from_str(text).map_err(|e| one_line(&e.to_string()))?
    };
    let mut out = HttpConfig::none();
    out.follow_redirects = file.follow_redirects.unwrap_or(true);
    let _ = file.enable_http2;
    if file.basic_auth.is_some() && file.authorization.is_some() {
        return Err("at most one of basic_auth and authorization may be set".into());
    }
    if let Some(b) = file.basic_auth {
        let password = match (b.password, b.password_file) {
            (Some(_), Some(_)) => {
                return Err("basic_auth: at most one of password and password_file".into());
            }
            (Some(p), None) => p,
            (None, Some(f)) => read_secret(dir, &f)?,
            (None, None) => String::new(),
        };
        if b.username.contains(':') {
            return Err("basic_auth: username holds a colon".into());
        }
        check_value("basic_auth.username", &b.username)?;
        out.authorization = Some(basic(&b.username, &password));
    }
    if let Some(a) = file.authorization {
        let kind = a.kind.unwrap_or_else(|| "Bearer".into());
        if kind.eq_ignore_ascii_case("basic") {
            return Err(
                "authorization: type cannot be set to \"basic\", use \"basic_auth\" instead".into(),
            );
        }
        if !is_header_name(&kind) {
            return Err("authorization: type is not a valid scheme name".into());
        }
        let credentials = match (a.credentials, a.credentials_file) {
            (Some(_), Some(_)) => {
                return Err(
                    "authorization: at most one of credentials and credentials_file".into(),
                );
            }
            (Some(c), None) => c,
            (None, Some(f)) => read_secret(dir, &f)?,
            (None, None) => String::new(),
        };
        check_value("authorization.credentials", &credentials)?;
        out.authorization = Some(format!("{kind} {credentials}"));
    }
    if let Some(t) = file.tls_config {
        out.tls = TlsOptions {
            ca_file: t.ca_file.map(|p| dir.join(p)),
            cert_file: t.cert_file.map(|p| dir.join(p)),
            key_file: t.key_file.map(|p| dir.join(p)),
            server_name: t.server_name.filter(|s| !s.is_empty()),
            insecure_skip_verify: t.insecure_skip_verify,
        };
    }
    // The environment's proxies are used unless `proxy_url` is set (a command-line tool's
    // habit); `proxy_from_environment: true` says so explicitly.
    let from_environment = file.proxy_from_environment.unwrap_or(false);
    if let Some(url) = file.proxy_url.filter(|u| !u.is_empty()) {
        if from_environment {
            return Err("proxy_url and proxy_from_environment cannot both be set".into());
        }
        super::proxy::check_proxy_url(&url).map_err(|e| format!("proxy_url: {e}"))?;
        out.proxy_url = Some((url, file.no_proxy.unwrap_or_default()));
    } else if file.no_proxy.is_some_and(|n| !n.is_empty()) {
        return Err("no_proxy needs proxy_url".into());
    }
    for (name, h) in file.http_headers.unwrap_or_default() {
        if !is_header_name(&name) {
            return Err(format!(
                "http_headers: {:?} is not a header name",
                name.chars().take(60).collect::<String>()
            ));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "http_headers: setting header {name:?} is not allowed"
            ));
        }
        let mut values = h.values;
        values.extend(h.secrets);
        for f in &h.files {
            values.push(read_secret(dir, f)?);
        }
        for v in values {
            check_value(&format!("http_headers.{name}"), &v)?;
            out.headers.push((name.clone(), v));
        }
    }
    Ok(out)
}

/// `Basic base64(user:password)`.
pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Standard base64 with padding.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A parser message on one line, cut short (YAML errors can quote the input).
fn one_line(message: &str) -> String {
    let line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> testkit::Scratch {
        testkit::Scratch::new(label)
    }

    #[test]
    fn base64_is_standard() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
    }

    #[test]
    fn a_full_file_is_read_with_paths_from_its_directory() {
        let dir = scratch("http-config-full");
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("tenant"), " team-c \n").unwrap();
        let yaml = "
basic_auth:
  username: alice
  password_file: pw
tls_config:
  ca_file: certs/ca.pem
  server_name: prom.internal
  insecure_skip_verify: false
proxy_url: http://proxy:3128
no_proxy: localhost
http_headers:
  X-Scope-OrgID:
    values: [team-a]
    secrets: [team-b]
    files: [tenant]
follow_redirects: false
enable_http2: true
";
        let path = dir.path().join("http.yml");
        std::fs::write(&path, yaml).unwrap();
        let c = HttpConfig::load(&path).unwrap();
        assert_eq!(
            c.authorization.as_deref(),
            Some(basic("alice", "s3cret").as_str())
        );
        assert_eq!(c.tls.ca_file, Some(dir.path().join("certs/ca.pem")));
        assert_eq!(c.tls.server_name.as_deref(), Some("prom.internal"));
        assert_eq!(
            c.proxy_url,
            Some(("http://proxy:3128".into(), "localhost".into()))
        );
        assert_eq!(
            c.headers,
            [
                ("X-Scope-OrgID".to_owned(), "team-a".to_owned()),
                ("X-Scope-OrgID".to_owned(), "team-b".to_owned()),
                ("X-Scope-OrgID".to_owned(), "team-c".to_owned()),
            ]
        );
        assert!(!c.follow_redirects);
    }

    #[test]
    fn authorization_defaults_to_bearer_and_refuses_basic() {
        let dir = Path::new("/nonexistent");
        let c = parse("authorization: {credentials: tok}", dir).unwrap();
        assert_eq!(c.authorization.as_deref(), Some("Bearer tok"));
        let c = parse("authorization: {type: Token, credentials: tok}", dir).unwrap();
        assert_eq!(c.authorization.as_deref(), Some("Token tok"));
        assert!(
            parse("authorization: {type: Basic, credentials: x}", dir)
                .unwrap_err()
                .contains("basic_auth")
        );
        assert!(parse("", dir).unwrap().follow_redirects);
    }

    #[test]
    fn unknown_keys_and_conflicts_are_errors_naming_the_key_and_file() {
        let dir = scratch("http-config-bad");
        let path = dir.path().join("bad.yml");
        std::fs::write(&path, "tls_config:\n  ca_fiel: x\n").unwrap();
        let e = HttpConfig::load(&path).unwrap_err();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("unknown field `ca_fiel`"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        for (yaml, part) in [
            ("bearer: x", "unknown field `bearer`"),
            (
                "basic_auth: {username: u, password: p, password_file: f}",
                "at most one of password",
            ),
            (
                "basic_auth: {username: u}\nauthorization: {credentials: c}",
                "at most one of basic_auth",
            ),
            (
                "http_headers: {Authorization: {values: [x]}}",
                "not allowed",
            ),
            (
                "http_headers: {\"a b\": {values: [x]}}",
                "not a header name",
            ),
            (
                "http_headers: {X: {values: [\"a\\nb\"]}}",
                "control character",
            ),
            (
                "proxy_url: socks6://p:1",
                "proxy_url: the proxy scheme socks6 is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
            ),
            ("no_proxy: x", "needs proxy_url"),
            (
                "basic_auth: {username: u, password_file: /nonexistent/pw}",
                "/nonexistent/pw",
            ),
        ] {
            let e = parse(yaml, Path::new("/")).unwrap_err();
            assert!(e.contains(part), "{yaml}: {e}");
        }
    }

    #[test]
    fn a_password_file_is_never_echoed() {
        let dir = scratch("http-config-secret");
        // Not UTF-8 and too large are errors that name the file, not its content.
        std::fs::write(dir.path().join("pw"), b"hunter2\xff").unwrap();
        let e = parse("basic_auth: {username: u, password_file: pw}", dir.path()).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("not UTF-8"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(500))]

        /// Any text: no panic, and an error is one line.
        #[test]
        fn any_text_is_parsed_or_refused_on_one_line(text in "(\\PC|\n|\t| ){0,200}") {
            if let Err(e) = parse(&text, Path::new("/nonexistent")) {
                proptest::prop_assert!(!e.contains('\n'), "{e}");
            }
        }

        /// Generated files read back their values; an unknown key is named.
        #[test]
        fn generated_files_read_back(
            user in "[a-z]{1,10}",
            password in "#[a-zA-Z0-9!%]{1,16}",
            tenant in "[a-z0-9-]{1,12}",
            follow: bool,
            unknown in "[a-z]{3,10}_x",
        ) {
            let yaml = format!(
                "basic_auth:\n  username: {user}\n  password: \"{password}\"\nhttp_headers:\n  X-Scope-OrgID:\n    values: [\"{tenant}\"]\nfollow_redirects: {follow}\n"
            );
            let c = parse(&yaml, Path::new("/")).unwrap();
            proptest::prop_assert_eq!(c.authorization, Some(basic(&user, &password)));
            proptest::prop_assert_eq!(c.headers, vec![("X-Scope-OrgID".to_owned(), tenant)]);
            proptest::prop_assert_eq!(c.follow_redirects, follow);
            let bad = format!("{yaml}{unknown}: 1\n");
            let e = parse(&bad, Path::new("/")).unwrap_err();
            let named = format!("unknown field `{unknown}`");
            proptest::prop_assert!(e.contains(&named), "{}", e);
            proptest::prop_assert!(!e.contains(&password), "{}", e);
        }
    }
}
