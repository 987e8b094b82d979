//! rustc's version, commit and channel from `$RUSTC -vV`; host, target, profile, opt-level
//! and features from cargo's variables.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::process;
use super::script::Script;
use crate::model::BuildFacts;
use crate::model::UNKNOWN;

/// Fills the toolchain and profile facts.
pub(super) fn capture(script: &mut Script, facts: &mut BuildFacts) {
    let rustc = script.var("RUSTC").unwrap_or_else(|| "rustc".into());
    match rustc_vv(&script.out_dir, &rustc) {
        Ok(out) if out.success => {
            let r = parse_rustc_vv(&out.stdout);
            if let Some(release) = r.release {
                channel(&release).clone_into(&mut facts.rust_channel);
                facts.rust_version = release;
            }
            if let Some(c) = r.commit {
                facts.rust_commit = c;
            }
        }
        Ok(out) => script.problem(format!("{rustc} -vV failed: {}", out.stderr.trim())),
        Err(e) => script.problem(format!("{rustc} -vV: {e}")),
    }
    facts.host = script.var("HOST").unwrap_or_else(|| UNKNOWN.into());
    facts.target = script.var("TARGET").unwrap_or_else(|| UNKNOWN.into());
    facts.opt_level = script.var("OPT_LEVEL").unwrap_or_else(|| UNKNOWN.into());
    // OUT_DIR is <target-dir>/[<triple>/]<profile>/build/<pkg>-<hash>/out: the profile
    // directory is the real profile name (`debug` for dev, `release`, or a custom one).
    facts.profile = script
        .out_dir
        .ancestors()
        .nth(3)
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .or_else(|| script.var("PROFILE"))
        .unwrap_or_else(|| UNKNOWN.into());
    facts.features = features(script);
}

/// The package's enabled features, sorted: `CARGO_CFG_FEATURE`, or the `CARGO_FEATURE_*`
/// variables of cargo versions before it.
pub(super) fn features(script: &mut Script) -> Vec<String> {
    let mut features: Vec<String> = match script.var("CARGO_CFG_FEATURE") {
        Some(list) => list
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        // Before CARGO_CFG_FEATURE: names come upper-cased with `-` as `_`; lower-case them.
        None => std::env::vars()
            .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(str::to_lowercase))
            .collect(),
    };
    features.sort();
    features
}

/// `rustc -vV`, from the cache in `out_dir` when this rustc already answered there: OUT_DIR's
/// hash changes with the compiler's version, so the answer stays true, and re-reading it
/// saves a process start on every git-only re-run.
fn rustc_vv(out_dir: &Path, rustc: &str) -> Result<process::Output, process::RunError> {
    let cache = out_dir.join("build-info-rustc.cache");
    let cached = std::fs::read_to_string(&cache)
        .ok()
        .and_then(|t| t.strip_prefix(&format!("{rustc}\n")).map(str::to_owned));
    if let Some(text) = cached {
        return Ok(process::Output {
            stdout: text,
            stderr: String::new(),
            success: true,
        });
    }
    let out = process::run(Command::new(rustc).arg("-vV"), Duration::from_secs(20));
    if let Ok(o) = &out
        && o.success
    {
        let _ = std::fs::write(&cache, format!("{rustc}\n{}", o.stdout));
    }
    out
}

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
