//! Which proxy a request goes through: `HTTP_PROXY` for `http://` URLs, `HTTPS_PROXY` for
//! `https://` ones (upper case first, then lower case, as Go reads them), unless the host is
//! on `NO_PROXY`; or the config file's `proxy_url` (with its `no_proxy`) for every URL.
//!
//! ureq reads these variables too, but picks one proxy for every scheme (the first of
//! `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`) and knows no CIDR or port in `NO_PROXY`; the
//! choice is made here, per request, and ureq is handed the chosen proxy only.
//!
//! `NO_PROXY` entries (comma separated, spaces trimmed): `*` (no proxy at all), an IP address,
//! a CIDR block (`10.0.0.0/8`), a host name matching itself and its subdomains (`example.com`,
//! `.example.com`, `*.example.com`; the dotted forms match subdomains only), each optionally
//! with `:port`. Unlike Go, loopback addresses are not exempt by themselves (as in curl): put
//! `localhost,127.0.0.1` in `NO_PROXY` to skip the proxy for them.

use std::net::IpAddr;

/// The proxy rules of one client.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProxyRules {
    http: Option<String>,
    https: Option<String>,
    no_proxy: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    All,
    Ip(IpAddr),
    Cidr(IpAddr, u8),
    /// A domain, lower case, without a leading dot; `subdomains_only` for `.x` and `*.x`.
    Domain {
        name: String,
        subdomains_only: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    pattern: Pattern,
    port: Option<u16>,
}

impl ProxyRules {
    /// `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (and their lower-case forms).
    pub(crate) fn from_env() -> ProxyRules {
        ProxyRules::from_variables(|name| std::env::var(name).ok())
    }

    /// [`ProxyRules::from_env`] with the variables read through `var`: of each pair, the
    /// upper-case name first, and a blank value counts as unset.
    fn from_variables(var: impl Fn(&str) -> Option<String>) -> ProxyRules {
        let first = |names: [&str; 2]| {
            names
                .into_iter()
                .find_map(|n| var(n).filter(|v| !v.trim().is_empty()))
        };
        ProxyRules {
            http: first(["HTTP_PROXY", "http_proxy"]),
            https: first(["HTTPS_PROXY", "https_proxy"]),
            no_proxy: parse_no_proxy(&first(["NO_PROXY", "no_proxy"]).unwrap_or_default()),
        }
    }

    /// One proxy for every URL, except the hosts on `no_proxy`.
    pub(crate) fn fixed(proxy_url: &str, no_proxy: &str) -> ProxyRules {
        ProxyRules {
            http: Some(proxy_url.to_owned()),
            https: Some(proxy_url.to_owned()),
            no_proxy: parse_no_proxy(no_proxy),
        }
    }

    /// The proxies these rules may choose (to prepare one agent for each).
    pub(crate) fn proxies(&self) -> impl Iterator<Item = &str> {
        self.http.iter().chain(&self.https).map(String::as_str)
    }

    /// The proxy for a request to `host:port` (host without IPv6 brackets), if any.
    pub(crate) fn proxy_for(&self, tls: bool, host: &str, port: u16) -> Option<&str> {
        let proxy = if tls { &self.https } else { &self.http };
        let proxy = proxy.as_deref()?;
        let bypass = self.no_proxy.iter().any(|e| e.matches(host, port));
        (!bypass).then_some(proxy)
    }
}

/// Parses a `NO_PROXY` list; entries it cannot read are skipped (as Go and curl do).
fn parse_no_proxy(list: &str) -> Vec<Entry> {
    list.split(',')
        .filter_map(|e| parse_entry(e.trim()))
        .collect()
}

fn parse_entry(entry: &str) -> Option<Entry> {
    if entry.is_empty() {
        return None;
    }
    if entry == "*" {
        return Some(Entry {
            pattern: Pattern::All,
            port: None,
        });
    }
    if let Some((ip, bits)) = entry.split_once('/') {
        let ip: IpAddr = ip
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(Entry {
            pattern: Pattern::Cidr(ip, bits),
            port: None,
        });
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(Entry {
            pattern: Pattern::Ip(ip),
            port: None,
        });
    }
    // `[v6]:port`, `host:port`, `host`.
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (h, port)
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse().ok()?)),
            None => (entry, None),
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(Entry {
            pattern: Pattern::Ip(ip),
            port,
        });
    }
    let (name, subdomains_only) = if let Some(n) = host.strip_prefix("*.") {
        (n, true)
    } else if let Some(n) = host.strip_prefix('.') {
        (n, true)
    } else {
        (host, false)
    };
    if name.is_empty() {
        return None;
    }
    Some(Entry {
        pattern: Pattern::Domain {
            name: name.to_ascii_lowercase(),
            subdomains_only,
        },
        port,
    })
}

impl Entry {
    fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host_ip = host.parse::<IpAddr>().ok();
        match &self.pattern {
            Pattern::All => true,
            Pattern::Ip(ip) => host_ip == Some(*ip),
            Pattern::Cidr(net, bits) => host_ip.is_some_and(|ip| in_cidr(ip, *net, *bits)),
            Pattern::Domain {
                name,
                subdomains_only,
            } => {
                let host = host.trim_end_matches('.').to_ascii_lowercase();
                let sub = host
                    .strip_suffix(name.as_str())
                    .is_some_and(|rest| rest.ends_with('.'));
                sub || (!subdomains_only && host == *name)
            }
        }
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
            ("EXAMPLE.COM.", 80, false),
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
            ("::2", 80, false),
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

    #[test]
    fn variables_upper_case_first_and_blank_as_unset() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            ProxyRules::from_variables(move |name| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
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
            rules.proxies().collect::<Vec<_>>(),
            ["http://upper:1", "http://tls:2"]
        );
        let none = vars(&[]);
        assert_eq!(none.proxy_for(false, "a.example", 80), None);
        assert_eq!(none.proxies().count(), 0);
    }

    #[test]
    fn the_scheme_chooses_the_variable() {
        let r = ProxyRules {
            http: Some("http://p1".into()),
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
    }
}
