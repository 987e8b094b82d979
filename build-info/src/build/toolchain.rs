//! rustc's version, commit and channel from `$RUSTC -vV`.

/// What `rustc -vV` says about itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Rustc {
    pub release: Option<String>,
    pub commit: Option<String>,
    pub host: Option<String>,
}

pub(crate) fn parse_rustc_vv(text: &str) -> Rustc {
    let mut out = Rustc::default();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(": ") {
            let value = Some(value.trim().to_owned());
            match key {
                "release" => out.release = value,
                "commit-hash" if value.as_deref() != Some("unknown") => out.commit = value,
                "host" => out.host = value,
                _ => {}
            }
        }
    }
    out
}

/// `stable`, `beta`, `nightly` or `dev`, from the release string.
pub(crate) fn channel(release: &str) -> &'static str {
    if release.contains("-nightly") {
        "nightly"
    } else if release.contains("-beta") {
        "beta"
    } else if release.contains("-dev") {
        "dev"
    } else {
        "stable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rustc_vv() {
        let text = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\ncommit-hash: 59807616e1\ncommit-date: 2026-04-14\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 20.1.8\n";
        let r = parse_rustc_vv(text);
        assert_eq!(r.release.as_deref(), Some("1.95.0"));
        assert_eq!(r.commit.as_deref(), Some("59807616e1"));
        assert_eq!(r.host.as_deref(), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(channel("1.96.0-nightly"), "nightly");
        assert_eq!(channel("1.95.0-beta.3"), "beta");
        assert_eq!(channel("1.95.0"), "stable");
    }
}
