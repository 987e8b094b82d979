//! URLs as messages show them: credentials redacted, control characters escaped, length cut.

use depinfo_read::text_safety::{printable_line, shortened};

/// The most characters of a URL shown in a message (a URL is user input: it may be huge).
pub(crate) const MAX_SHOWN_URL: usize = 200;

/// `url` as it may be shown in a message: credentials (`user:secret@`) replaced by
/// `user:***@`, control characters escaped, and cut to `MAX_SHOWN_URL` (200) characters with `…`.
pub fn shown_url(url: &str) -> String {
    let redacted = redact_credentials(url);
    printable_line(&shortened(&redacted, MAX_SHOWN_URL)).into_owned()
}

/// `scheme://user:password@host/…` with the password (or a lone user name, which may be a
/// token) replaced by `***`.
fn redact_credentials(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user = match rest[..at].split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    format!("{}{user}{}", &url[..start], &rest[at..])
}
