//! Which proxy a request goes through: `HTTP_PROXY` for `http://` URLs, `HTTPS_PROXY` for
//! `https://` ones (upper case first, then lower case, as Go reads them), else `ALL_PROXY` for
//! both, unless the host is on `NO_PROXY`; or the config file's `proxy_url` (with its
//! `no_proxy`) for every URL. Go (and so Prometheus) ignores `ALL_PROXY`; curl reads it, and a
//! SOCKS-only egress is often set there alone: ignoring it would connect directly behind the
//! user's back, so it is read as curl reads it, after the scheme's own variable.
//!
//! ureq reads these variables too, but picks one proxy for every scheme (the first of
//! `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`) and knows no CIDR or port in `NO_PROXY`; the
//! choice is made here, per request, and ureq is handed the chosen proxy only.
//!
//! **Schemes** ([`check_proxy_url`]): `http`, `https` (CONNECT tunnels), `socks5` (the client
//! resolves the target's name, as curl does), `socks5h` (the proxy resolves it), `socks4`
//! (client-resolved, IPv4 only) and `socks4a` (proxy-resolved); no scheme means `http`, as in
//! Go and curl. Any other scheme, and `socks://` (SOCKS4 to curl, SOCKS5 to others), is refused
//! when the client is built: a proxy is never silently bypassed.
//!
//! **`NO_PROXY`** entries are read as Go's `golang.org/x/net/http/httpproxy` reads them (what
//! Prometheus follows), entry by entry (comma separated, spaces trimmed, lower-cased):
//!
//! 1. `*`: no proxy at all.
//! 2. A CIDR block (`10.0.0.0/8`, `fd00::/8`; no brackets, no port): every port.
//! 3. Otherwise split as `host:port` or `[v6]:port` (a port may be empty: any port; a port
//!    that is not the URL's decimal port, such as `080` or `abc`, matches nothing). So a CIDR
//!    block with a port (`10.0.0.0/8:9090`) is a name that no host has: it matches nothing,
//!    exactly as in Go (whose documentation allows ports on addresses and names only).
//! 4. An IP address (`192.168.1.7`, `::1`, `[::1]:9090`): that address.
//! 5. A name: `example.com` matches itself and its subdomains, `.example.com` and
//!    `*.example.com` its subdomains only. Names are compared as text, IP hosts included (Go's
//!    `2.3.4` matches `1.2.3.4`), and a trailing dot is not dropped.
//!
//! One difference, on purpose: Go never proxies `localhost` and loopback addresses; here they
//! are proxied like any host (as in curl), so put `localhost,127.0.0.1` in `NO_PROXY` to skip the
//! proxy for them. Non-ASCII names are not converted to punycode (URLs here are ASCII).

use std::net::IpAddr;

/// The proxy schemes we speak, as a message lists them.
const SCHEMES: &str = "http, https, socks4, socks4a, socks5 or socks5h";

/// A proxy URL checked: the scheme, lower case, is one we speak (`http` when none was
/// written); the URL comes back with that scheme, for ureq. The error says why, without the
/// URL (the caller names it and where it came from).
pub(crate) fn check_proxy_url(url: &str) -> Result<String, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        // `host:port` alone: an HTTP proxy, as Go and curl read it.
        return Ok(format!("http://{url}"));
    };
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    if !valid || scheme.len() > 20 {
        return Err(format!("not a proxy URL (use {SCHEMES}://host:port)"));
    }
    let scheme = scheme.to_ascii_lowercase();
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    match scheme.as_str() {
        "http" | "https" | "socks5" | "socks5h" | "socks4" | "socks4a"
            if !(scheme.starts_with("socks4") && authority.contains('@')) => {}
        "socks4" | "socks4a" => {
            return Err(
                "SOCKS4 proxies take no user or password: use socks5:// or socks5h:// for them"
                    .to_owned(),
            );
        }
        "socks" => {
            return Err(
                "socks:// is ambiguous (SOCKS4 to curl, SOCKS5 to others): write socks4://, socks5:// or socks5h://"
                    .to_owned(),
            );
        }
        other => {
            return Err(format!(
                "the proxy scheme {other} is not supported (use {SCHEMES})"
            ));
        }
    }
    if authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .is_empty()
    {
        return Err("no proxy host in it".to_owned());
    }
    Ok(format!("{scheme}://{rest}"))
}

/// A proxy URL and where it was set (`HTTP_PROXY`, `proxy_url`, ...), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProxySetting {
    /// The URL as given. Secret (it may hold a password): show it with `shown_url`.
    pub(crate) url: String,
    /// The variable or config key it came from.
    pub(crate) from: &'static str,
}

/// The proxy rules of one client.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyRules {
    http: Option<ProxySetting>,
    https: Option<ProxySetting>,
    no_proxy: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    All,
    Ip(IpAddr),
    Cidr(IpAddr, u8),
    /// A name, lower case, with a leading dot (`.example.com`); `and_itself`: the name
    /// without the dot matches too (written without a leading `.` or `*.`).
    Domain {
        suffix: String,
        and_itself: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    pattern: Pattern,
    /// The port as written (`None`: any port); matched as text against the decimal port.
    port: Option<String>,
}

impl ProxyRules {
    /// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` (and their lower-case forms).
    pub(crate) fn from_env() -> ProxyRules {
        ProxyRules::from_variables(|name| std::env::var(name).ok())
    }

    /// [`ProxyRules::from_env`] with the variables read through `var`: of each pair, the
    /// upper-case name first, and a blank value counts as unset.
    fn from_variables(var: impl Fn(&str) -> Option<String>) -> ProxyRules {
        let first = |names: [&'static str; 2]| {
            names.into_iter().find_map(|from| {
                var(from)
                    .filter(|v| !v.trim().is_empty())
                    .map(|url| ProxySetting { url, from })
            })
        };
        ProxyRules {
            http: first(["HTTP_PROXY", "http_proxy"]).or_else(|| first(["ALL_PROXY", "all_proxy"])),
            https: first(["HTTPS_PROXY", "https_proxy"])
                .or_else(|| first(["ALL_PROXY", "all_proxy"])),
            no_proxy: parse_no_proxy(
                &first(["NO_PROXY", "no_proxy"])
                    .map(|s| s.url)
                    .unwrap_or_default(),
            ),
        }
    }

    /// One proxy for every URL, except the hosts on `no_proxy`.
    pub(crate) fn fixed(proxy_url: &str, no_proxy: &str) -> ProxyRules {
        let setting = ProxySetting {
            url: proxy_url.to_owned(),
            from: "proxy_url",
        };
        ProxyRules {
            http: Some(setting.clone()),
            https: Some(setting),
            no_proxy: parse_no_proxy(no_proxy),
        }
    }

    /// The proxies these rules may choose (to prepare one agent for each).
    pub(crate) fn proxies(&self) -> impl Iterator<Item = &ProxySetting> {
        self.http.iter().chain(&self.https)
    }

    /// The proxy URL for a request to `host:port` (host without IPv6 brackets), if any.
    pub(crate) fn proxy_for(&self, tls: bool, host: &str, port: u16) -> Option<&str> {
        let proxy = if tls { &self.https } else { &self.http };
        let proxy = proxy.as_ref()?;
        let host = host.trim().to_ascii_lowercase();
        let port = port.to_string();
        let ip = host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
        let bypass = self.no_proxy.iter().any(|e| e.matches(&host, &port, ip));
        (!bypass).then_some(proxy.url.as_str())
    }
}

/// Parses a `NO_PROXY` list; entries that name nothing are skipped (as Go does).
fn parse_no_proxy(list: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for entry in list.split(',') {
        let entry = entry.trim().to_ascii_lowercase();
        if entry == "*" {
            return vec![Entry {
                pattern: Pattern::All,
                port: None,
            }];
        }
        entries.extend(parse_entry(&entry));
    }
    entries
}

/// One entry, trimmed and lower case (see the module's rules).
fn parse_entry(entry: &str) -> Option<Entry> {
    if entry.is_empty() {
        return None;
    }
    if let Some(cidr) = parse_cidr(entry) {
        return Some(Entry {
            pattern: cidr,
            port: None,
        });
    }
    let (host, port) = match split_host_port(entry) {
        Some((host, port)) => (host, (!port.is_empty()).then(|| port.to_owned())),
        None => (entry, None),
    };
    if host.is_empty() {
        return None;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(Entry {
            pattern: Pattern::Ip(ip.to_canonical()),
            port,
        });
    }
    let host = host
        .strip_prefix('*')
        .filter(|h| h.starts_with('.'))
        .unwrap_or(host);
    let (suffix, and_itself) = if host.starts_with('.') {
        (host.to_owned(), false)
    } else {
        (format!(".{host}"), true)
    };
    Some(Entry {
        pattern: Pattern::Domain { suffix, and_itself },
        port,
    })
}

/// `address/bits` with a bare IPv4 or IPv6 address and decimal bits within its length.
fn parse_cidr(entry: &str) -> Option<Pattern> {
    let (ip, bits) = entry.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits = bits.trim_start_matches('0');
    let bits: u8 = if bits.is_empty() {
        0
    } else {
        bits.parse().ok()?
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Pattern::Cidr(ip, bits))
}

/// `host:port` or `[host]:port` split at the last colon, as Go's `net.SplitHostPort`: `None`
/// when there is no port separator, when a bare host holds another colon, or when brackets
/// are misplaced. The port may be empty or not a number.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let colon = s.rfind(':')?;
    let (host, after_host) = if s.starts_with('[') {
        let end = s.find(']')?;
        if end + 1 != colon {
            return None;
        }
        (&s[1..end], end + 1)
    } else {
        let host = &s[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0)
    };
    let lead = usize::from(s.starts_with('['));
    if s[lead..].contains('[') || s[after_host..].contains(']') {
        return None;
    }
    Some((host, &s[colon + 1..]))
}

impl Entry {
    /// `host`: lower case; `port`: decimal; `ip`: the host as an address (IPv4-mapped IPv6
    /// addresses as IPv4), if it is one.
    fn matches(&self, host: &str, port: &str, ip: Option<IpAddr>) -> bool {
        let found = match &self.pattern {
            Pattern::All => true,
            Pattern::Ip(entry) => ip == Some(*entry),
            Pattern::Cidr(net, bits) => ip.is_some_and(|ip| in_cidr(ip, *net, *bits)),
            Pattern::Domain { suffix, and_itself } => {
                host.ends_with(suffix.as_str()) || (*and_itself && host == &suffix[1..])
            }
        };
        found && self.port.as_deref().is_none_or(|p| p == port)
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(no_proxy: &str) -> ProxyRules {
        ProxyRules::fixed("http://proxy:3128", no_proxy)
    }

    #[test]
    fn no_proxy_matches_hosts_domains_ips_cidrs_and_ports() {
        let r = rules(
            " example.com, .internal ,10.0.0.0/8,192.168.1.7,[::1]:9090,*.corp:443,bad/99,fd00::/8,[::2],[::3]x",
        );
        for (host, port, proxied) in [
            ("example.com", 80, false),
            ("a.example.com", 80, false),
            ("EXAMPLE.COM", 80, false),
            // As in Go: a trailing dot is part of the name.
            ("example.com.", 80, true),
            ("notexample.com", 80, true),
            ("internal", 80, true),
            ("x.internal", 80, false),
            ("10.1.2.3", 80, false),
            ("11.1.2.3", 80, true),
            ("192.168.1.7", 1, false),
            ("192.168.1.8", 1, true),
            ("::1", 9090, false),
            ("::1", 9091, true),
            ("a.corp", 443, false),
            ("a.corp", 80, true),
            ("corp", 443, true),
            ("fd12::1", 80, false),
            ("fe80::1", 80, true),
            // As in Go: `[::2]` without a port is no address, and no host is named so.
            ("::2", 80, true),
            ("::3", 80, true),
        ] {
            assert_eq!(
                r.proxy_for(false, host, port).is_some(),
                proxied,
                "{host}:{port}"
            );
        }
        assert!(rules("*").proxy_for(true, "anything", 1).is_none());
        assert!(rules("").proxy_for(true, "127.0.0.1", 1).is_some());
        assert!(rules("0.0.0.0/0").proxy_for(true, "1.2.3.4", 1).is_none());
    }

    /// Regression (issue 18, item 14): a CIDR block with a port. Go's httpproxy (what
    /// Prometheus follows) reads `10.0.0.0/8:9090` as a name that no host has, so it never
    /// bypasses the proxy; a port is honoured on addresses and names only. These verdicts are
    /// Go's, case by case (from its rules; loopback hosts aside, which Go never proxies).
    #[test]
    fn no_proxy_reads_entries_as_go_does() {
        for (no_proxy, host, port, bypassed) in [
            // A CIDR block with a port matches nothing, on any port.
            ("10.0.0.0/8:9090", "10.1.2.3", 9090, false),
            ("10.0.0.0/8:9090", "10.1.2.3", 80, false),
            ("[fd00::]/8:9090", "fd00::1", 9090, false),
            // Without the port, every port.
            ("10.0.0.0/8", "10.1.2.3", 9090, true),
            ("10.0.0.0/08", "10.1.2.3", 1, true),
            ("10.0.0.0/+8", "10.1.2.3", 1, false),
            ("10.0.0.0/33", "10.1.2.3", 1, false),
            // Brackets are no part of a CIDR block.
            ("[fd00::]/8", "fd00::1", 1, false),
            ("fd00::/8", "fd00::1", 1, true),
            // An IPv4 block holds IPv4-mapped IPv6 addresses, an address equals its mapped form.
            ("10.0.0.0/8", "::ffff:10.1.2.3", 1, true),
            ("10.1.2.3", "::ffff:10.1.2.3", 1, true),
            ("::ffff:10.1.2.3", "10.1.2.3", 1, true),
            // A port on an address or a name, compared as text.
            ("10.1.2.3:9090", "10.1.2.3", 9090, true),
            ("10.1.2.3:9090", "10.1.2.3", 9091, false),
            ("10.1.2.3:09090", "10.1.2.3", 9090, false),
            ("[fd00::1]:9090", "fd00::1", 9090, true),
            ("example.com:443", "a.example.com", 443, true),
            ("example.com:443", "a.example.com", 80, false),
            ("example.com:abc", "example.com", 80, false),
            // An empty port is any port.
            ("example.com:", "example.com", 80, true),
            ("10.1.2.3:", "10.1.2.3", 80, true),
            // No host: nothing.
            (":80", "example.com", 80, false),
            // Names match IP hosts as text too.
            ("2.3.4", "1.2.3.4", 80, true),
            (".2.3.4", "2.3.4", 80, false),
            // Subdomains only with `.` or `*.`; `*x` is a name.
            ("*.example.com", "example.com", 1, false),
            ("*.example.com", "a.b.example.com", 1, true),
            ("*example.com", "aexample.com", 1, false),
            ("EXAMPLE.com", "Example.COM", 1, true),
            // Misplaced colons and brackets.
            ("::1:80", "::1:80", 1, true),
            ("[::1]:80:90", "::1", 80, false),
            ("a]:80", "a", 80, false),
        ] {
            assert_eq!(
                rules(no_proxy).proxy_for(false, host, port).is_none(),
                bypassed,
                "NO_PROXY={no_proxy} {host}:{port}"
            );
        }
    }

    #[test]
    fn proxy_urls_are_checked_and_get_a_lower_case_scheme() {
        for (url, checked) in [
            ("http://p:3128", "http://p:3128"),
            ("HTTPS://p:3128/", "https://p:3128/"),
            ("socks5://u:pw@p:1080", "socks5://u:pw@p:1080"),
            ("Socks5h://p", "socks5h://p"),
            ("socks4://p:1", "socks4://p:1"),
            ("socks4a://p:1", "socks4a://p:1"),
            ("p:3128", "http://p:3128"),
        ] {
            assert_eq!(check_proxy_url(url).as_deref(), Ok(checked), "{url}");
        }
        for (url, error) in [
            (
                "ftp://p:21",
                "the proxy scheme ftp is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
            ),
            (
                "socks6://p:1",
                "the proxy scheme socks6 is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
            ),
            (
                "QUIC://p:1",
                "the proxy scheme quic is not supported (use http, https, socks4, socks4a, socks5 or socks5h)",
            ),
            (
                "socks://p:1",
                "socks:// is ambiguous (SOCKS4 to curl, SOCKS5 to others): write socks4://, socks5:// or socks5h://",
            ),
            (
                "socks4://u:pw@p:1",
                "SOCKS4 proxies take no user or password: use socks5:// or socks5h:// for them",
            ),
            ("socks5://u:pw@/", "no proxy host in it"),
            (
                "\x1b[2J://p",
                "not a proxy URL (use http, https, socks4, socks4a, socks5 or socks5h://host:port)",
            ),
        ] {
            assert_eq!(check_proxy_url(url).unwrap_err(), error, "{url}");
        }
    }

    /// What stands before `://` is echoed only when it is a scheme (a letter, then letters,
    /// digits, `+`, `.`, `-`): a mistyped URL whose first `://` comes after a password, or
    /// one with terminal escapes after a letter, is refused without repeating it.
    #[test]
    fn text_before_the_separator_is_echoed_only_when_it_is_a_scheme() {
        for url in [
            "u:hunter2@p:1/?://x",
            "a\x1b[2J://p",
            "h ttp://p",
            "1http://p",
            "-http://p",
        ] {
            let error = check_proxy_url(url).unwrap_err();
            assert_eq!(
                error,
                format!("not a proxy URL (use {SCHEMES}://host:port)"),
                "{url:?}"
            );
        }
        // A scheme of letters, digits and `+.-` is named (it is no secret and prints safely),
        // up to 20 characters; a longer one is not repeated.
        for scheme in ["x-y.z+1", "abcdefghijklmnopqrst"] {
            assert_eq!(
                check_proxy_url(&format!("{scheme}://p")).unwrap_err(),
                format!("the proxy scheme {scheme} is not supported (use {SCHEMES})")
            );
        }
        assert_eq!(
            check_proxy_url("abcdefghijklmnopqrstu://p").unwrap_err(),
            format!("not a proxy URL (use {SCHEMES}://host:port)")
        );
    }

    /// The rules these environment variables give (the others unset).
    fn vars(pairs: &'static [(&'static str, &'static str)]) -> ProxyRules {
        ProxyRules::from_variables(move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn variables_upper_case_first_and_blank_as_unset() {
        let rules = vars(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
            ("HTTPS_PROXY", " "),
            ("https_proxy", "http://tls:2"),
            ("no_proxy", "skip.example"),
        ]);
        assert_eq!(
            rules.proxy_for(false, "a.example", 80),
            Some("http://upper:1")
        );
        assert_eq!(
            rules.proxy_for(true, "a.example", 443),
            Some("http://tls:2")
        );
        assert_eq!(rules.proxy_for(false, "skip.example", 80), None);
        assert_eq!(
            rules
                .proxies()
                .map(|p| (p.from, p.url.as_str()))
                .collect::<Vec<_>>(),
            [
                ("HTTP_PROXY", "http://upper:1"),
                ("https_proxy", "http://tls:2")
            ]
        );
        let none = vars(&[]);
        assert_eq!(none.proxy_for(false, "a.example", 80), None);
        assert_eq!(none.proxies().count(), 0);
    }

    /// Regression (issue 18, defect 5): `ALL_PROXY` alone (a SOCKS-only egress) was ignored,
    /// and requests went out directly.
    #[test]
    fn all_proxy_is_the_fallback_of_both_schemes() {
        let only_all = vars(&[("all_proxy", "socks5h://egress:1080")]);
        assert_eq!(
            only_all.proxy_for(false, "a.example", 80),
            Some("socks5h://egress:1080")
        );
        assert_eq!(
            only_all.proxy_for(true, "a.example", 443),
            Some("socks5h://egress:1080")
        );
        assert!(only_all.proxies().all(|p| p.from == "all_proxy"));
        // The scheme's own variable wins; upper case before lower; NO_PROXY still applies.
        let mixed = vars(&[
            ("ALL_PROXY", "socks5://all:1"),
            ("all_proxy", "socks5://lower-all:1"),
            ("HTTPS_PROXY", "http://tls:2"),
            ("NO_PROXY", "skip.example"),
        ]);
        assert_eq!(
            mixed.proxy_for(false, "a.example", 80),
            Some("socks5://all:1")
        );
        assert_eq!(
            mixed.proxy_for(true, "a.example", 443),
            Some("http://tls:2")
        );
        assert_eq!(mixed.proxy_for(false, "skip.example", 80), None);
    }

    #[test]
    fn the_scheme_chooses_the_variable() {
        let r = ProxyRules {
            http: Some(ProxySetting {
                url: "http://p1".into(),
                from: "HTTP_PROXY",
            }),
            https: None,
            no_proxy: Vec::new(),
        };
        assert_eq!(r.proxy_for(false, "h", 80), Some("http://p1"));
        assert_eq!(r.proxy_for(true, "h", 443), None);
    }

    proptest::proptest! {
        #![proptest_config(testkit::proptest_cases(500))]

        /// Any NO_PROXY text: no panic; `*` anywhere in the list bypasses every host.
        #[test]
        fn any_no_proxy_list_is_read_without_panic(list in "[ -~]{0,80}", host in "[a-z0-9.:]{1,20}", port: u16) {
            let r = rules(&list);
            let _ = r.proxy_for(false, &host, port);
            if list.split(',').any(|e| e.trim() == "*") {
                proptest::prop_assert!(r.proxy_for(false, &host, port).is_none());
            }
        }

        /// Lists built from the shapes NO_PROXY entries take (addresses, CIDR blocks with and
        /// without ports, names with dots and stars, brackets, odd ports): the verdict is the
        /// one of `go_bypasses`, a model of Go's rules written from its documentation and
        /// source, entry by entry on the raw text.
        #[test]
        fn no_proxy_verdicts_are_gos(
            entries in proptest::collection::vec(entry(), 0..5),
            spaces in proptest::collection::vec("[ \t]{0,2}", 10),
            host in host(),
            port in proptest::prop_oneof![proptest::strategy::Just(80u16), proptest::strategy::Just(9090), proptest::strategy::Just(443), 1u16..],
        ) {
            let list = entries
                .iter()
                .zip(spaces.iter().cycle())
                .map(|(e, s)| format!("{s}{e}{s}"))
                .collect::<Vec<_>>()
                .join(",");
            let ours = rules(&list).proxy_for(true, &host, port).is_none();
            let go = entries.iter().any(|e| go_bypasses(e, &host, port));
            proptest::prop_assert_eq!(ours, go, "NO_PROXY={:?} {}:{}", list, host, port);
        }
    }

    /// An entry in one of the shapes users write, in any case.
    fn entry() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let ip = prop_oneof![
            Just("10.1.2.3"),
            Just("10.0.0.0"),
            Just("192.168.1.7"),
            Just("fd00::1"),
            Just("fd00::"),
            Just("::ffff:10.1.2.3"),
            Just("2.3.4"),
        ];
        let name = prop_oneof![
            Just("example.com"),
            Just("a.example.com"),
            Just("EXAMPLE.com"),
            Just("com"),
            Just("internal"),
        ];
        let port = prop_oneof![
            Just(String::new()),
            Just(":9090".to_owned()),
            Just(":80".to_owned()),
            Just(":".to_owned()),
            Just(":080".to_owned()),
            Just(":x".to_owned()),
        ];
        prop_oneof![
            (ip.clone(), port.clone()).prop_map(|(ip, port)| format!("{ip}{port}")),
            (ip.clone(), port.clone()).prop_map(|(ip, port)| format!("[{ip}]{port}")),
            (ip, 0u8..40, port.clone()).prop_map(|(ip, bits, port)| format!("{ip}/{bits}{port}")),
            (
                prop_oneof![Just(""), Just("."), Just("*."), Just("*")],
                name,
                port
            )
                .prop_map(|(lead, name, port)| format!("{lead}{name}{port}")),
            Just("*".to_owned()),
            // Any text without a comma.
            "[ -+\\--~]{0,12}",
        ]
    }

    /// A request host: names and addresses, some inside the entries' blocks.
    fn host() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            Just("example.com"),
            Just("a.example.com"),
            Just("b.a.example.com"),
            Just("notexample.com"),
            Just("internal"),
            Just("x.internal"),
            Just("10.1.2.3"),
            Just("10.200.0.1"),
            Just("11.1.2.3"),
            Just("1.2.3.4"),
            Just("192.168.1.7"),
            Just("fd00::1"),
            Just("fe80::1"),
            Just("::ffff:10.1.2.3"),
        ]
        .prop_map(str::to_owned)
    }

    /// Go's verdict for one entry (httpproxy's `init` and matchers), on the raw text: the
    /// reference of `no_proxy_verdicts_are_gos`. Loopback hosts are left out of its tests.
    fn go_bypasses(entry: &str, host: &str, port: u16) -> bool {
        let p = entry.trim().to_ascii_lowercase();
        if p.is_empty() {
            return false;
        }
        if p == "*" {
            return true;
        }
        let host_ip: Option<IpAddr> = host.parse().ok();
        // Go compares IPv4 and IPv4-mapped IPv6 addresses as one.
        let v4 = |ip: IpAddr| match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        // net.ParseCIDR: a bare address, `/`, decimal bits within its length.
        if let Some((addr, bits)) = p.split_once('/')
            && let Ok(net) = addr.parse::<IpAddr>()
            && !bits.is_empty()
            && bits.chars().all(|c| c.is_ascii_digit())
            && bits.trim_start_matches('0').len() < 4
        {
            let bits: u32 = bits.trim_start_matches('0').parse().unwrap_or(0);
            let len = if net.is_ipv4() { 32 } else { 128 };
            if bits <= len {
                let Some(ip) = host_ip.map(v4) else {
                    return false;
                };
                return match (ip, net) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => {
                        bits == 0 || (u32::from(a) ^ u32::from(b)) >> (32 - bits) == 0
                    }
                    (IpAddr::V6(a), IpAddr::V6(b)) => {
                        bits == 0 || (u128::from(a) ^ u128::from(b)) >> (128 - bits) == 0
                    }
                    _ => false,
                };
            }
        }
        // net.SplitHostPort, or the whole entry as the host.
        let split = (|| {
            let i = p.rfind(':')?;
            let (h, rest_from) = if p.starts_with('[') {
                let end = p.find(']')?;
                (end + 1 == i).then_some((&p[1..end], end + 1))?
            } else {
                (!p[..i].contains(':')).then_some((&p[..i], 0))?
            };
            let j = usize::from(p.starts_with('['));
            (!p[j..].contains('[') && !p[rest_from..].contains(']')).then_some((h, &p[i + 1..]))
        })();
        let (entry_host, entry_port) = split.unwrap_or((p.as_str(), ""));
        if entry_host.is_empty() {
            return false;
        }
        let port_ok = entry_port.is_empty() || entry_port == port.to_string();
        if let Ok(ip) = entry_host.parse::<IpAddr>() {
            return host_ip.is_some_and(|h| v4(h) == v4(ip)) && port_ok;
        }
        let entry_host = entry_host
            .strip_prefix("*.")
            .map_or(entry_host.to_owned(), |p| format!(".{p}"));
        let (suffix, match_host) = match entry_host.strip_prefix('.') {
            Some(_) => (entry_host.clone(), false),
            None => (format!(".{entry_host}"), true),
        };
        let host = host.to_ascii_lowercase();
        (host.ends_with(&suffix) || (match_host && host == suffix[1..])) && port_ok
    }
}
