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
//! Unknown keys are an error naming the file and the line, as in Prometheus (the key itself is
//! shown when it is a typo of a known one). Relative file paths are read from the config
//! file's directory. Files (passwords, credentials, header files, and the TLS files, which are
//! parsed later) are read once, when the file is loaded, through
//! [`depinfo_read::untrusted_file`], and trimmed of surrounding white space as Prometheus does; their
//! content is never shown.
//!
//! The file is someone else's, so reading it is bounded, not only its size:
//!
//! - YAML anchors and aliases are allowed (Prometheus' reader allows them), but what the file
//!   expands to (every string as read, an alias counting each time it is used, plus the files
//!   it names) is capped at the file cap ([`Expansion`]): a billion-laughs file stops there;
//! - brackets are counted before the parser starts ([`MAX_BRACKET_BYTES`]), since deep
//!   flow nesting makes the YAML parser slow;
//! - at most [`MAX_NAMED_FILES`] files are read;
//! - errors keep the key path and the line and never quote a value ([`yaml_error`]): a type
//!   error says `invalid type: string`, not the string, which may be a credential.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::tls::{PemFile, TlsOptions};

/// The file as written. Every string in it is a [`Text`] (or a [`HeaderName`]), so that what
/// YAML aliases expand is counted against [`Expansion`] while it is read.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    basic_auth: Option<BasicAuth>,
    #[serde(default)]
    authorization: Option<Authorization>,
    #[serde(default)]
    tls_config: Option<TlsFile>,
    // Single strings (as the other single fields): one value each, so aliases cannot
    // multiply them.
    #[serde(default)]
    proxy_url: Option<String>,
    #[serde(default)]
    no_proxy: Option<String>,
    #[serde(default)]
    proxy_from_environment: Option<bool>,
    #[serde(default)]
    http_headers: Option<BTreeMap<HeaderName, Header>>,
    #[serde(default)]
    follow_redirects: Option<bool>,
    #[serde(default)]
    enable_http2: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicAuth {
    username: Text,
    #[serde(default)]
    password: Option<Text>,
    #[serde(default)]
    password_file: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorization {
    #[serde(default, rename = "type")]
    kind: Option<Text>,
    #[serde(default)]
    credentials: Option<Text>,
    #[serde(default)]
    credentials_file: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    #[serde(default)]
    ca_file: Option<Text>,
    #[serde(default)]
    cert_file: Option<Text>,
    #[serde(default)]
    key_file: Option<Text>,
    #[serde(default)]
    server_name: Option<Text>,
    #[serde(default)]
    insecure_skip_verify: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    #[serde(default)]
    values: Vec<Text>,
    #[serde(default)]
    secrets: Vec<Text>,
    #[serde(default)]
    files: Vec<Text>,
}

/// The most files one config may name (secret, header and TLS files together): each is
/// opened and read, so a list of the same path repeated must not cost a read each.
pub(crate) const MAX_NAMED_FILES: usize = 256;

thread_local! {
    /// Bytes of text the config being parsed on this thread has produced so far (strings as
    /// read, with YAML aliases expanded, and secret files' contents), and the most it may.
    static EXPANSION: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// What a config file may expand to: its strings, counted as they are read (each alias
/// counts again each time it is used), plus the contents of the files it names, at most the
/// file cap (`--max-file-kib`, 1 MiB by default). Without aliases the strings alone stay
/// within it (YAML text is at least as long as the strings it holds), so only aliases and
/// large named files meet it. Billion-laughs files stop at the cap instead of expanding to
/// gigabytes. Active while it lives (one parse on this thread).
struct Expansion;

impl Expansion {
    fn start(limit: u64) -> Expansion {
        EXPANSION.set((0, limit));
        Expansion
    }
}

impl Drop for Expansion {
    fn drop(&mut self) {
        EXPANSION.set((0, 0));
    }
}

/// Counts `bytes` of text (plus one, so that empty strings count too) against the config's
/// [`Expansion`]; the error says that the limit was passed, never what the text was.
fn charge(bytes: usize) -> Result<(), String> {
    let (used, limit) = EXPANSION.get();
    let used = used.saturating_add(bytes as u64).saturating_add(1);
    EXPANSION.set((used, limit));
    if used > limit {
        return Err(format!(
            "the config expands past the limit of {} (YAML aliases repeat what they name; write the values out)",
            depinfo_read::untrusted_file::size_words(limit)
        ));
    }
    Ok(())
}

/// A string of the config, counted against the expansion cap as it is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                charge(v.len()).map_err(E::custom)?;
                Ok(Text(v.to_owned()))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A key of `http_headers`: a valid header name (an HTTP token), counted like [`Text`]. An
/// invalid one is refused where it stands (the parser adds the line), without echoing it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HeaderName(String);

impl<'de> Deserialize<'de> for HeaderName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HeaderName, D::Error> {
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = HeaderName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a header name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HeaderName, E> {
                charge(v.len()).map_err(E::custom)?;
                if !is_header_name(v) {
                    return Err(E::custom(
                        "a key is not a header name (an HTTP token: letters, digits, - and a few other symbols; no spaces)",
                    ));
                }
                Ok(HeaderName(v.to_owned()))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
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
                    .map(|(u, n)| (super::shown::shown_url(u), n)),
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
    pub fn load(path: &Path) -> Result<HttpConfig, ConfigError> {
        let text = depinfo_read::untrusted_file::read_small(path).map_err(ConfigError::Read)?;
        let text = String::from_utf8(text).map_err(|_| ConfigError::NotUtf8(path.to_owned()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        parse(&text, dir).map_err(|message| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }
}

/// Why an HTTP config file was refused; each message names the file and fits on one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read (missing, not a regular file, too large, ...).
    #[error(transparent)]
    Read(depinfo_read::untrusted_file::FileError),
    /// The file is not UTF-8.
    #[error("{}: not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    /// The file is read but refused: bad YAML, an unknown key, a conflict, or a file it
    /// names that cannot be read. The message names the key and never quotes a secret.
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// Reads a config or secret file through the one bounded, non-blocking opener; the error
/// names it and never quotes it.
fn read_small(path: &Path) -> Result<Vec<u8>, String> {
    depinfo_read::untrusted_file::read_small(path).map_err(|e| e.to_string())
}

/// The files a config names, read when it is loaded (as Prometheus does), each through the
/// one bounded opener and at most [`MAX_NAMED_FILES`] of them.
struct NamedFiles<'a> {
    dir: &'a Path,
    count: usize,
}

impl NamedFiles<'_> {
    /// The bytes of the file `path` (relative to the config's directory) that the setting
    /// `key` names, counted against the config's expansion. The error names the setting and
    /// the file, never the content.
    fn read(&mut self, key: &str, path: &Text) -> Result<(PathBuf, Vec<u8>), String> {
        self.count += 1;
        if self.count > MAX_NAMED_FILES {
            return Err(format!(
                "{key}: the config names more than {MAX_NAMED_FILES} files"
            ));
        }
        let full = self.dir.join(&path.0);
        let bytes = read_small(&full).map_err(|e| format!("{key} {e}"))?;
        charge(bytes.len()).map_err(|e| format!("{key} {}: {e}", full.display()))?;
        Ok((full, bytes))
    }

    /// A secret file's content, trimmed as Prometheus trims it.
    fn secret(&mut self, key: &str, path: &Text) -> Result<String, String> {
        let (full, bytes) = self.read(key, path)?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{key} {}: not UTF-8", full.display()))?;
        Ok(text.trim().to_owned())
    }
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

/// Parses the YAML `text`; relative paths are taken from `dir`. Errors name the key and the
/// line, and never quote a value. What the file expands to (aliases included) and the files it
/// names are bounded by the file cap ([`Expansion`]).
pub(crate) fn parse(text: &str, dir: &Path) -> Result<HttpConfig, String> {
    check_flow_brackets(text)?;
    let _expansion = Expansion::start(depinfo_read::untrusted_file::small_file_limit());
    // An empty document is an empty config (serde_norway reads it as null).
    let file: File = if text.trim().is_empty() {
        File::default()
    } else {
        serde_norway::from_str(text).map_err(|e| yaml_error(&e))?
    };
    let mut files = NamedFiles { dir, count: 0 };
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
            (Some(p), None) => p.0,
            (None, Some(f)) => files.secret("basic_auth.password_file", &f)?,
            (None, None) => String::new(),
        };
        let username = b.username.0;
        if username.contains(':') {
            return Err("basic_auth: username holds a colon".into());
        }
        check_value("basic_auth.username", &username)?;
        out.authorization = Some(basic(&username, &password));
    }
    if let Some(a) = file.authorization {
        let kind = a.kind.map_or_else(|| "Bearer".to_owned(), |k| k.0);
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
            (Some(c), None) => c.0,
            (None, Some(f)) => files.secret("authorization.credentials_file", &f)?,
            (None, None) => String::new(),
        };
        check_value("authorization.credentials", &credentials)?;
        out.authorization = Some(format!("{kind} {credentials}"));
    }
    if let Some(t) = file.tls_config {
        // Read now, once, through the bounded opener: a FIFO, a device or a huge file is
        // refused at once, naming the setting, and the TLS step parses what was read.
        let mut pem = |key: &str, path: Option<Text>| -> Result<Option<PemFile>, String> {
            path.map(|p| {
                files
                    .read(key, &p)
                    .map(|(path, bytes)| PemFile { path, bytes })
            })
            .transpose()
        };
        out.tls = TlsOptions {
            ca_file: pem("tls_config.ca_file", t.ca_file)?,
            cert_file: pem("tls_config.cert_file", t.cert_file)?,
            key_file: pem("tls_config.key_file", t.key_file)?,
            server_name: t.server_name.map(|s| s.0).filter(|s| !s.is_empty()),
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
    for (HeaderName(name), h) in file.http_headers.unwrap_or_default() {
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "http_headers: setting header {name:?} is not allowed"
            ));
        }
        let mut values: Vec<String> = h.values.into_iter().chain(h.secrets).map(|v| v.0).collect();
        for f in &h.files {
            values.push(files.secret(&format!("http_headers.{name}.files"), f)?);
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
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// The most "bracket bytes" a config may have: its count of `[` and `{` times its size.
///
/// YAML's parser (libyaml, inside serde_norway) does work for every token in proportion to
/// how deeply flow collections (`[…]`, `{…}`) are nested there: 100,000 nested brackets (200
/// KB) take minutes. The depth at any point is at most the number of brackets, so this
/// product bounds that work (to tens of milliseconds) before the parser starts, whatever is
/// quoted or commented. Real configs are far below it: a 4 KiB file may have 16,384
/// brackets, a 1 MiB one 64.
pub(crate) const MAX_BRACKET_BYTES: u64 = 1 << 26;

/// Refuses a text whose brackets could nest deeper than the parser handles quickly; see
/// [`MAX_BRACKET_BYTES`].
fn check_flow_brackets(text: &str) -> Result<(), String> {
    let brackets = memchr::memchr2_iter(b'[', b'{', text.as_bytes()).count() as u64;
    if brackets.saturating_mul(text.len() as u64) > MAX_BRACKET_BYTES {
        return Err(format!(
            "{brackets} flow brackets ([ and {{) in {} bytes: too many for a file this size (brackets times bytes may be at most {MAX_BRACKET_BYTES}, since deep nesting makes YAML slow to parse); write it in block style",
            text.len()
        ));
    }
    Ok(())
}

/// A YAML error as shown: the key path and the line, the kind of problem, and never a value
/// from the file (serde quotes the value that did not fit: `invalid type: string "Bearer
/// tok"`; here that is `invalid type: string`).
fn yaml_error(e: &serde_norway::Error) -> String {
    let message = e.to_string();
    let (body, location) = match e.location() {
        Some(l) => {
            let suffix = format!(" at line {} column {}", l.line(), l.column());
            match message.strip_suffix(&suffix) {
                Some(body) => (body.to_owned(), suffix),
                // serde_norway leaves out line 1 column 1; libyaml's messages say where
                // themselves.
                None if !message.contains(" at line ") => (message.clone(), suffix),
                None => (message.clone(), String::new()),
            }
        }
        None => (message.clone(), String::new()),
    };
    one_line(&format!("{}{location}", redact(&body)))
}

/// The words serde uses for a kind of value (`serde::de::Unexpected`), which stand in for the
/// value itself.
const VALUE_KINDS: &[&str] = &[
    "boolean",
    "integer",
    "floating point",
    "character",
    "string",
    "byte array",
    "unit value",
    "Option value",
    "newtype struct",
    "sequence",
    "map",
    "enum",
    "unit variant",
    "newtype variant",
    "tuple variant",
    "struct variant",
];

/// `message` with every value of the input taken out; see [`yaml_error`]. Serde's forms are
/// rebuilt from their known parts; any other message loses whatever it quotes.
fn redact(message: &str) -> String {
    for marker in ["invalid type: ", "invalid value: "] {
        if let Some(at) = message.find(marker) {
            let (head, rest) = message.split_at(at + marker.len());
            // What was expected comes last and is the parser's or ours, never the input's;
            // what was found (with the value) is everything before it.
            let (found, expected) = match rest.rfind(", expected ") {
                Some(i) => (&rest[..i], expected_words(&rest[i + 2..])),
                None => (rest, String::new()),
            };
            let kind = VALUE_KINDS
                .iter()
                .find(|k| found.starts_with(*k))
                .copied()
                .unwrap_or("a value");
            return format!("{head}{kind}{expected}");
        }
    }
    if let Some(at) = message.find("unknown field `") {
        let head = &message[..at];
        let rest = &message[at + "unknown field `".len()..];
        let end = rest
            .find("`, expected ")
            .or_else(|| rest.find("`, there are no fields"));
        let (name, expected) = match end {
            Some(i) => (&rest[..i], expected_words(&rest[i + 3..])),
            None => (rest, String::new()),
        };
        // A near miss of a known field is a typo worth showing (and, so close to a public
        // name, no secret); anything else in key position may be a value written as a key.
        let shown = name.chars().count() <= 40
            && name.chars().all(|c| !c.is_control())
            && backticked(&expected).iter().any(|k| near(name, k));
        return if shown {
            format!("{head}unknown field `{name}`{expected}")
        } else {
            format!("{head}unknown field (its name is not shown){expected}")
        };
    }
    for safe in ["missing field `", "duplicate field `"] {
        // Field names of the format itself.
        if let Some(at) = message.find(safe) {
            let name = message[at + safe.len()..].trim_end_matches('`');
            if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return message.to_owned();
            }
        }
    }
    without_quoted(message)
}

/// `, expected …` kept when it is made of words and backticked field names only.
fn expected_words(expected: &str) -> String {
    let plain = expected
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " ,_`'.".contains(c));
    if plain {
        format!(", {expected}")
    } else {
        String::new()
    }
}

/// The names between backticks in `text`.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether `a` is within two edits of `b` (a typo of it).
fn near(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()] <= 2
}

/// `text` with everything between double quotes or backticks replaced by `…` (and
/// everything after an unmatched one).
fn without_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match open {
            None if c == '"' || c == '`' => {
                open = Some(c);
                out.push(c);
                out.push('…');
            }
            None => out.push(c),
            Some(_) if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => {
                open = None;
                out.push(c);
            }
            Some(_) => {}
        }
    }
    out
}

/// A parser message on one line, cut short.
fn one_line(message: &str) -> String {
    depinfo_read::text_safety::blank_controls(message.chars().take(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(label: &str) -> testkit::Scratch {
        testkit::Scratch::new(label)
    }

    #[test]
    fn basic_credentials_are_standard_base64_with_padding() {
        // RFC 7617's example, and each padding length.
        for (user, password, header) in [
            (
                "Aladdin",
                "open sesame",
                "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            ),
            ("a", "", "Basic YTo="),
            ("ab", "", "Basic YWI6"),
            ("", "", "Basic Og=="),
            ("\u{e9}", "?>", "Basic w6k6Pz4="),
        ] {
            assert_eq!(basic(user, password), header);
        }
    }

    #[test]
    fn a_full_file_is_read_with_paths_from_its_directory() {
        let dir = scratch("http-config-full");
        std::fs::write(dir.path().join("pw"), "s3cret\n").unwrap();
        std::fs::write(dir.path().join("tenant"), " team-c \n").unwrap();
        // TLS files are read (bounded) when the config is loaded; their PEM is checked later.
        std::fs::create_dir(dir.path().join("certs")).unwrap();
        std::fs::write(dir.path().join("certs/ca.pem"), "not yet PEM").unwrap();
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
        assert_eq!(
            c.tls.ca_file.map(|f| f.path),
            Some(dir.path().join("certs/ca.pem"))
        );
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
    fn unreadable_and_non_utf8_files_are_their_own_errors() {
        let dir = scratch("http-config-kinds");
        let missing = dir.path().join("missing.yml");
        let e = HttpConfig::load(&missing).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Read(f) if f.path == missing),
            "{e:?}"
        );
        assert!(
            e.to_string().starts_with(&missing.display().to_string()),
            "{e}"
        );
        let latin1 = dir.path().join("latin1.yml");
        std::fs::write(&latin1, b"bearer_token: caf\xe9\n").unwrap();
        let e = HttpConfig::load(&latin1).unwrap_err();
        assert!(
            matches!(&e, ConfigError::NotUtf8(p) if *p == latin1),
            "{e:?}"
        );
        assert_eq!(e.to_string(), format!("{}: not UTF-8", latin1.display()));
    }

    #[test]
    fn unknown_keys_and_conflicts_are_errors_naming_the_key_and_file() {
        let dir = scratch("http-config-bad");
        let path = dir.path().join("bad.yml");
        std::fs::write(&path, "tls_config:\n  ca_fiel: x\n").unwrap();
        let e = HttpConfig::load(&path).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { path: p, .. } if *p == path),
            "{e}"
        );
        let e = e.to_string();
        assert!(e.starts_with(&path.display().to_string()), "{e}");
        assert!(e.contains("unknown field `ca_fiel`"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        for (yaml, part) in [
            (
                "bearer: x",
                "unknown field (its name is not shown), expected one of",
            ),
            (
                "folow_redirects: x",
                "unknown field `folow_redirects`, expected one of",
            ),
            ("bearer: x", "`enable_http2` at line 1 column 1"),
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
            // An unknown key far from every field is not echoed (it may be a value written
            // as a key); its line is given.
            let bad = format!("{yaml}{unknown}: 1\n");
            let e = parse(&bad, Path::new("/")).unwrap_err();
            proptest::prop_assert!(e.starts_with("unknown field (its name is not shown)"), "{}", e);
            proptest::prop_assert!(e.ends_with(" at line 8 column 1"), "{}", e);
            proptest::prop_assert!(!e.contains(&password), "{}", e);
        }

        /// YAML made of anchors, aliases, brackets, quotes, block scalars and comments in
        /// any order: no panic, a one-line error, and what loads stays within the cap.
        #[test]
        fn yaml_soup_is_bounded(pieces in proptest::collection::vec(proptest::sample::select(&[
            "http_headers:", "\n  X-A:", "\n    values: ", "\n    secrets:", "\n    - ", "basic_auth:",
            "\n  username: ", "\n  password: ", "&a ", "&b ", "*a", "*b", "[", "]", "{", "}", ", ",
            ": ", "\"q*&\"", "'s&*'", "|\n      x*&\n", "# *a &b\n", "lol", "\n", "!!str ", "<<: ",
            "---\n", "? ", "- ", "\t", "\\", "\"", "'",
        ][..]), 0..80)) {
            let text: String = pieces.concat();
            match parse(&text, Path::new("/nonexistent")) {
                Ok(c) => {
                    let total: usize = c.headers.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>()
                        + c.authorization.map_or(0, |a| a.len());
                    // Base64 of basic credentials is 4/3 of them; the cap counts what was read.
                    proptest::prop_assert!(total as u64 <= depinfo_read::untrusted_file::SMALL_FILE_LIMIT * 4 / 3 + 16, "{total} from {text:?}");
                }
                Err(e) => proptest::prop_assert!(!e.contains('\n') && e.chars().count() <= 300, "{e}"),
            }
        }

        /// A one-letter typo of a field is named, with the fields expected.
        #[test]
        fn a_typo_of_a_field_is_named(field in proptest::sample::select(&["basic_auth", "tls_config", "follow_redirects", "http_headers"][..]), at in 0usize..10, letter in "[a-z]") {
            let mut typo: Vec<char> = field.chars().collect();
            let at = at % typo.len();
            typo[at] = letter.chars().next().unwrap();
            let typo: String = typo.into_iter().collect();
            proptest::prop_assume!(typo != field);
            let e = parse(&format!("{typo}: x\n"), Path::new("/")).unwrap_err();
            let want = format!("unknown field `{typo}`, expected one of `basic_auth`, ");
            proptest::prop_assert!(e.starts_with(&want), "{}", e);
        }

        /// Regression (issue 18, defect 9): a marker put in any secret field, in any shape
        /// (a string, a number, a list, a map, a key, a tagged scalar, a wrong type), never
        /// comes back in an error.
        #[test]
        fn secret_values_in_any_shape_never_appear_in_errors(
            shape in 0usize..12,
            field in 0usize..6,
            noise in "[ -~]{0,12}",
        ) {
            let marker = format!("S3CRET-MARKER-{}", noise.len());
            // The value as YAML in several shapes, some of which no field accepts.
            let quoted = format!("{:?}", format!("{noise}{marker}{noise}"));
            let value = match shape {
                0 => quoted.clone(),
                1 => format!("[{quoted}]"),
                2 => format!("{{{quoted}: 1}}"),
                3 => format!("!!int {quoted}"),
                4 => format!("!!bool {quoted}"),
                5 => format!("!!float {quoted}"),
                6 => format!("!!null {quoted}"),
                7 => format!("{{values: {quoted}}}"),
                8 => format!("{{values: [[{quoted}]]}}"),
                9 => format!("{{{quoted}}}"),
                10 => format!("\"a\\u0007{marker}\""),
                _ => format!("{quoted} {quoted}"),
            };
            let yaml = match field {
                0 => format!("basic_auth: {{username: u, password: {value}}}"),
                1 => format!("authorization: {{credentials: {value}}}"),
                2 => format!("authorization: {value}"),
                3 => format!("http_headers: {{X-A: {{secrets: [{value}]}}}}"),
                4 => format!("http_headers: {{X-A: {value}}}"),
                _ => format!("tls_config: {{insecure_skip_verify: {value}}}"),
            };
            if let Err(e) = parse(&yaml, Path::new("/nonexistent")) {
                proptest::prop_assert!(!e.contains("S3CRET"), "{yaml}\n{e}");
                proptest::prop_assert!(!e.contains('\n'), "{e}");
            }
        }
    }

    /// Regression (issue 18, defect 2): a billion-laughs file (one big string, aliased a
    /// hundred thousand times) stops at the file cap, naming the line (its time and memory:
    /// benches/hostile_config.rs).
    #[test]
    fn aliases_expanding_past_the_file_cap_are_refused() {
        use std::fmt::Write as _;
        let big = "x".repeat(400_000);
        let aliases = vec!["*a"; 100_000].join(",");
        let yaml = format!(
            "basic_auth: {{username: u, password: &a \"{big}\"}}\nhttp_headers:\n  X-A:\n    values: [{aliases}]\n"
        );
        let e = parse(&yaml, Path::new("/")).unwrap_err();
        assert_eq!(
            e,
            "http_headers.X-A.values[1]: the config expands past the limit of 1 MiB (YAML aliases repeat what they name; write the values out) at line 1 column 37"
        );
        // Lists of aliases to lists of aliases: each level multiplies, the cap holds.
        let mut yaml =
            String::from("http_headers:\n  X-A:\n    values: &l0 [a, b, c, d, e, f, g, h]\n");
        for level in 1..12 {
            let names = vec![format!("*l{}", level - 1); 8].join(", ");
            writeln!(yaml, "  X-{level}:\n    values: &l{level} [{names}]").unwrap();
        }
        let e = parse(&yaml, Path::new("/")).unwrap_err();
        assert!(
            e.starts_with("http_headers.X-1.values[0]: invalid type: sequence, expected a string"),
            "{e}"
        );
    }

    /// Anchors and aliases that stay small still work, and `*`, `&` inside quoted strings,
    /// block scalars and comments are text.
    #[test]
    fn small_aliases_and_star_or_ampersand_text_still_load() {
        let yaml = "# a comment with *star and &amp\nbasic_auth:\n  username: &u \"*u&\"\n  password: |\n    &not-an-anchor *not-an-alias\nhttp_headers:\n  X-A:\n    values: [&t 'team *a', *t]  # &x *y\n    secrets: [*u]\n";
        let c = parse(yaml, Path::new("/")).unwrap();
        assert_eq!(
            c.authorization.as_deref(),
            Some(basic("*u&", "&not-an-anchor *not-an-alias\n").as_str())
        );
        assert_eq!(
            c.headers,
            [
                ("X-A".to_owned(), "team *a".to_owned()),
                ("X-A".to_owned(), "team *a".to_owned()),
                ("X-A".to_owned(), "*u&".to_owned()),
            ]
        );
    }

    /// Regression (issue 18, defect 2): 100,000 nested brackets are refused before the
    /// parser spends minutes on them; real flow style still loads.
    #[test]
    fn deep_flow_nesting_is_refused_before_parsing() {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let yaml = format!(
                "http_headers: {}{}\n",
                open.repeat(100_000),
                close.repeat(100_000)
            );
            let e = parse(&yaml, Path::new("/")).unwrap_err();
            assert!(e.starts_with("100000 flow brackets ([ and {) in "), "{e}");
        }
        // Deeper than the deserializer goes, within the bracket budget: its own limit.
        let yaml = format!("http_headers: {}{}\n", "[".repeat(4000), "]".repeat(4000));
        assert_eq!(
            parse(&yaml, Path::new("/")).unwrap_err(),
            "http_headers: invalid type: sequence, expected a map at line 1 column 15"
        );
        let yaml = format!(
            "http_headers: {{X-A: {{values: {}{}}}}}\n",
            "[".repeat(4000),
            "]".repeat(4000)
        );
        assert!(
            parse(&yaml, Path::new("/"))
                .unwrap_err()
                .starts_with("http_headers.X-A.values[0]: invalid type: sequence"),
        );
        assert!(parse("http_headers: {X-A: {values: [a, b]}}", Path::new("/")).is_ok());
    }

    /// Regression (issue 18, defect 9): serde's messages lose the value and keep the rest.
    #[test]
    fn yaml_errors_keep_the_key_and_line_and_lose_the_value() {
        let dir = Path::new("/");
        for (yaml, want) in [
            (
                "authorization: Bearer tok-secret",
                "authorization: invalid type: string, expected struct Authorization at line 1 column 16",
            ),
            (
                "basic_auth: {username: u, password: [pw-secret]}",
                "basic_auth.password: invalid type: sequence, expected a string at line 1 column 37",
            ),
            (
                "http_headers: {X-A: {values: [1], secrets: {a-secret: 1}}}",
                "http_headers.X-A.secrets: invalid type: map, expected a sequence at line 1 column 44",
            ),
            (
                "http_headers: {X-A: Bearer tok-secret}",
                "http_headers.X-A: invalid type: string, expected struct Header at line 1 column 21",
            ),
            (
                "tls_config: {insecure_skip_verify: !!bool yes-secret}",
                "tls_config.insecure_skip_verify: invalid value: string, expected a boolean at line 1 column 36",
            ),
            (
                "follow_redirects: 123456",
                "follow_redirects: invalid type: integer, expected a boolean at line 1 column 19",
            ),
            (
                "http_headers: {\"Bearer tok-secret\": {values: [x]}}",
                "http_headers: a key is not a header name (an HTTP token: letters, digits, - and a few other symbols; no spaces) at line 1 column 16",
            ),
            (
                "basic_auth: {username: u, password: p}\nbasic_auth: {username: u}",
                "duplicate field `basic_auth` at line 1 column 1",
            ),
            (
                "basic_auth: {password: p}",
                "basic_auth: missing field `username` at line 1 column 13",
            ),
        ] {
            let e = parse(yaml, dir).unwrap_err();
            assert_eq!(e, want, "{yaml}");
        }
    }

    #[test]
    fn redaction_rebuilds_the_known_forms_and_drops_quotes_from_others() {
        for (message, want) in [
            (
                r#"a.b: invalid type: string "x\", expected y", expected a boolean"#,
                "a.b: invalid type: string, expected a boolean",
            ),
            (
                "invalid value: integer `123`, expected a string",
                "invalid value: integer, expected a string",
            ),
            ("invalid type: something else", "invalid type: a value"),
            (
                "unknown field `ca_fiel`, expected one of `ca_file`, `cert_file`",
                "unknown field `ca_fiel`, expected one of `ca_file`, `cert_file`",
            ),
            (
                "unknown field `hunter2`, expected `ca_file`",
                "unknown field (its name is not shown), expected `ca_file`",
            ),
            (
                "unknown field `x`, there are no fields",
                "unknown field (its name is not shown), there are no fields",
            ),
            (
                r#"odd "quoted \" text" and `ticks` and "open"#,
                r#"odd "…" and `…` and "…"#,
            ),
            ("no quotes at all", "no quotes at all"),
        ] {
            assert_eq!(redact(message), want, "{message}");
        }
        assert!(near("ca_fiel", "ca_file") && near("basic_aut", "basic_auth"));
        assert!(!near("hunter2", "ca_file") && !near("x", "ca_file"));
        // Two letters short or long is still a typo; three is not.
        assert!(near("ca_fi", "ca_file") && near("ca_filexy", "ca_file"));
        assert!(!near("ca_f", "ca_file") && !near("ca_filexyz", "ca_file"));
        // A name made of other characters than a field's is not a field's: it is hidden.
        assert_eq!(redact("duplicate field `a b`"), "duplicate field `…`");
        assert_eq!(redact("missing field `a-b`"), "missing field `…`");
    }

    /// The edit distance, computed the slow and obvious way.
    fn edits(a: &[char], b: &[char]) -> usize {
        match (a.split_first(), b.split_first()) {
            (None, _) => b.len(),
            (_, None) => a.len(),
            (Some((x, ra)), Some((y, rb))) if x == y => edits(ra, rb),
            (Some((_, ra)), Some((_, rb))) => 1 + edits(ra, rb).min(edits(a, rb)).min(edits(ra, b)),
        }
    }

    proptest::proptest! {
        /// `near` is "at most two edits" (insertions, deletions, substitutions).
        #[test]
        fn near_is_within_two_edits(a in "[ab_]{0,7}", b in "[ab_]{0,7}") {
            let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            proptest::prop_assert_eq!(near(&a, &b), edits(&ca, &cb) <= 2, "{:?} {:?}", a, b);
        }
    }

    /// Regression (issue 18, defect 2): what a config expands to is capped at the file cap,
    /// and the cap itself is allowed: every string read costs its length and one.
    #[test]
    fn the_expansion_cap_is_reached_and_not_passed() {
        let limit = usize::try_from(depinfo_read::untrusted_file::small_file_limit()).unwrap();
        let yaml = |n: usize| format!("http_headers: {{X-A: {{values: [{}]}}}}\n", "v".repeat(n));
        // `X-A` costs 4; the value its length and one.
        let fits = limit - 4 - 1;
        let c = parse(&yaml(fits), Path::new("/")).unwrap();
        assert_eq!(c.headers.len(), 1);
        assert_eq!(c.headers[0].1.len(), fits);
        assert_eq!(
            parse(&yaml(fits + 1), Path::new("/")).unwrap_err(),
            "http_headers.X-A.values[0]: the config expands past the limit of 1 MiB (YAML aliases repeat what they name; write the values out) at line 1 column 31"
        );
    }

    /// The expansion budget lives as long as its parse: a string read outside one is refused
    /// (nothing is ever read unbounded).
    #[test]
    fn no_string_is_read_outside_a_parse() {
        parse("basic_auth: {username: u, password: p}", Path::new("/")).unwrap();
        assert!(serde_norway::from_str::<Text>("x").is_err());
        let within = Expansion::start(2);
        assert_eq!(serde_norway::from_str::<Text>("x").unwrap().0, "x");
        drop(within);
        assert!(serde_norway::from_str::<Text>("x").is_err());
    }

    /// Regression (issue 18, defect 4): at most `MAX_NAMED_FILES` files are read; the same
    /// file named again counts again.
    #[test]
    fn a_config_names_at_most_256_files() {
        let dir = scratch("http-config-named-files");
        std::fs::write(dir.path().join("t"), "x\n").unwrap();
        let yaml = |n: usize| {
            format!(
                "http_headers: {{X-A: {{files: [{}]}}}}\n",
                vec!["t"; n].join(", ")
            )
        };
        let c = parse(&yaml(MAX_NAMED_FILES), dir.path()).unwrap();
        assert_eq!(c.headers.len(), MAX_NAMED_FILES);
        assert!(c.headers.iter().all(|(n, v)| n == "X-A" && v == "x"));
        assert_eq!(
            parse(&yaml(MAX_NAMED_FILES + 1), dir.path()).unwrap_err(),
            "http_headers.X-A.files: the config names more than 256 files"
        );
    }

    /// Regression (issue 18, defect 2): the bracket budget is brackets times bytes, the budget
    /// itself allowed; brackets in comments count.
    #[test]
    fn the_bracket_budget_is_reached_and_not_passed() {
        let text = |len: usize| {
            let mut t = format!("follow_redirects: false #{}", "[".repeat(4096));
            t.push_str(&" ".repeat(len - t.len()));
            t
        };
        assert_eq!(4096 * 16384, MAX_BRACKET_BYTES);
        assert!(
            !parse(&text(16384), Path::new("/"))
                .unwrap()
                .follow_redirects
        );
        assert_eq!(
            parse(&text(16385), Path::new("/")).unwrap_err(),
            "4096 flow brackets ([ and {) in 16385 bytes: too many for a file this size (brackets times bytes may be at most 67108864, since deep nesting makes YAML slow to parse); write it in block style"
        );
    }

    /// A parser message that says where itself keeps its own locations, once each; one that
    /// does not gets the parser's.
    #[test]
    fn yaml_errors_say_where_once() {
        let dir = Path::new("/");
        for (yaml, want) in [
            (
                "http_headers: {X-A: {values: [a, b\n",
                "did not find expected ',' or ']' at line 2 column 1, while parsing a flow sequence at line 1 column 30",
            ),
            (
                "basic_auth:\n\tusername: u\n",
                "found character that cannot start any token at line 2 column 1, while scanning for the next token",
            ),
            (
                "http_headers:\n  ? [a]\n  : {values: [x]}\n",
                "http_headers: invalid type: sequence, expected a header name at line 2 column 5",
            ),
        ] {
            let e = parse(yaml, dir).unwrap_err();
            assert_eq!(e, want, "{yaml}");
        }
    }

    /// An empty `server_name` is no name (the URL's host is checked), as in Prometheus.
    #[test]
    fn an_empty_server_name_is_none() {
        let dir = Path::new("/");
        let c = parse("tls_config: {server_name: ''}", dir).unwrap();
        assert_eq!(c.tls.server_name, None);
        let c = parse("tls_config: {server_name: prom}", dir).unwrap();
        assert_eq!(c.tls.server_name.as_deref(), Some("prom"));
    }
}
