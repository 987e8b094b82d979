//! Which packages and features the build that runs this build script selected, learned from
//! the invoking cargo's command line.
//!
//! Cargo unifies features across every package selected for one build, and it gives build
//! scripts no variable that names that selection. On Linux the build script's parent process
//! is the invoking cargo (rustup's proxy execs it, so its argv is what the user typed, and
//! `cargo auditable`/`cargo nextest` run a plain `cargo build`/`cargo test` that shows up the
//! same way). Anything not understood gives `None`: the caller then over-approximates.

use std::path::PathBuf;

/// What a cargo build command line selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// The subcommand with aliases expanded: `build`, `test`, `run`, `check`, `bench`,
    /// `install`, `rustc`, `doc`.
    pub(crate) subcommand: String,
    /// Builds units that may use dev-dependencies (tests, benches, examples): resolver 2
    /// then unifies dev-dependency features into the normal ones.
    pub(crate) dev_units: bool,
    /// `-p` specs.
    pub(crate) packages: Vec<String>,
    /// `--workspace` (or its old name `--all`).
    pub(crate) workspace: bool,
    /// `--exclude` specs.
    pub(crate) exclude: Vec<String>,
    /// `--features`, split on commas and spaces.
    pub(crate) features: Vec<String>,
    /// `--all-features`.
    pub(crate) all_features: bool,
    /// `--no-default-features`.
    pub(crate) no_default_features: bool,
    /// `--manifest-path`.
    pub(crate) manifest_path: Option<String>,
}

impl Invocation {
    /// The selection and feature flags to replay on `cargo tree`.
    pub(crate) fn tree_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(m) = &self.manifest_path {
            args.extend(["--manifest-path".to_owned(), m.clone()]);
        }
        if self.workspace {
            args.push("--workspace".into());
        }
        for p in &self.packages {
            args.extend(["--package".to_owned(), p.clone()]);
        }
        for e in &self.exclude {
            args.extend(["--exclude".to_owned(), e.clone()]);
        }
        args.extend(self.feature_args());
        args
    }

    /// The feature flags alone.
    pub(crate) fn feature_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.all_features {
            args.push("--all-features".into());
        }
        if self.no_default_features {
            args.push("--no-default-features".into());
        }
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        args
    }
}

/// Global options (before the subcommand) that take a value.
const GLOBAL_WITH_VALUE: &[&str] = &["--color", "--config", "-Z", "-C", "--explain"];

/// Subcommand options that take a value and do not matter for the selection.
const WITH_VALUE: &[&str] = &[
    "--target",
    "--target-dir",
    "--profile",
    "-j",
    "--jobs",
    "--bin",
    "--example",
    "--test",
    "--bench",
    "--message-format",
    "--color",
    "--config",
    "-Z",
    "--lockfile-path",
    "--artifact-dir",
    "--out-dir",
    "--root",
    "--version",
    "--vers",
    "--git",
    "--branch",
    "--tag",
    "--rev",
    "--path",
    "--index",
    "--registry",
    "--crate-type",
];

/// Options that build targets which may use dev-dependencies.
const DEV_TARGETS: &[&str] = &[
    "--tests",
    "--test",
    "--benches",
    "--bench",
    "--examples",
    "--example",
    "--all-targets",
];

/// Parses a cargo command line (`argv[0]` is the cargo program). `None` when it is not a
/// cargo build command this parser understands.
pub(crate) fn parse(command_line: &[String]) -> Option<Invocation> {
    let (program, rest) = command_line.split_first()?;
    let base = program.rsplit(['/', '\\']).next().unwrap_or(program);
    if !base.starts_with("cargo") {
        return None;
    }
    let mut args = rest.iter().map(String::as_str).peekable();
    // Global options, then the subcommand.
    let subcommand = loop {
        let arg = args.next()?;
        if arg.starts_with('+') {
            continue;
        }
        if GLOBAL_WITH_VALUE.contains(&arg) {
            args.next()?;
            continue;
        }
        if arg.starts_with('-') {
            // `--color=x`, `-Zfoo`, `-v`, `--locked`, `--offline`, `--frozen`, `-q`: none
            // changes the selection. An unknown option with a separate value would make the
            // value look like the subcommand, which is then refused below.
            continue;
        }
        break arg;
    };
    let subcommand = match subcommand {
        "b" | "build" => "build",
        "t" | "test" => "test",
        "r" | "run" => "run",
        "c" | "check" => "check",
        "bench" => "bench",
        "install" => "install",
        "rustc" => "rustc",
        "doc" => "doc",
        _ => return None,
    };
    let mut inv = Invocation {
        subcommand: subcommand.to_owned(),
        dev_units: matches!(subcommand, "test" | "bench"),
        ..Invocation::default()
    };
    while let Some(arg) = args.next() {
        if arg == "--" {
            // Arguments for the program or the test harness.
            break;
        }
        let (flag, inline) = split_option(arg);
        let mut value = || -> Option<String> {
            match inline {
                Some(v) => Some(v.to_owned()),
                None => args.next().map(str::to_owned),
            }
        };
        match flag {
            "-p" | "--package" => inv.packages.push(value()?),
            "--workspace" | "--all" => inv.workspace = true,
            "--exclude" => inv.exclude.push(value()?),
            "-F" | "--features" => inv.features.extend(
                value()?
                    .split([',', ' '])
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "--all-features" => inv.all_features = true,
            "--no-default-features" => inv.no_default_features = true,
            "--manifest-path" => inv.manifest_path = Some(value()?),
            f if DEV_TARGETS.contains(&f) => {
                inv.dev_units = true;
                if WITH_VALUE.contains(&f) && inline.is_none() {
                    // `--test NAME`; a bare `--test` before another option lists targets.
                    if args.peek().is_some_and(|n| !n.starts_with('-')) {
                        args.next();
                    }
                }
            }
            f if WITH_VALUE.contains(&f) && inline.is_none() => {
                args.next();
            }
            // Flags without a value, positional arguments (test filters, `cargo install`'s
            // crate names): they do not change which workspace members are selected.
            _ => {}
        }
    }
    // `cargo install` builds one package: the selection is that package alone.
    if inv.subcommand == "install" && (inv.workspace || !inv.exclude.is_empty()) {
        return None;
    }
    Some(inv)
}

/// `--name=value` → (`--name`, `value`); `-pNAME` → (`-p`, `NAME`) for the short options
/// that take a value; anything else unchanged.
fn split_option(arg: &str) -> (&str, Option<&str>) {
    if arg.starts_with("--") {
        return match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg, None),
        };
    }
    for short in ["-p", "-F", "-j", "-Z"] {
        if let Some(v) = arg.strip_prefix(short).filter(|v| !v.is_empty()) {
            return (short, Some(v.strip_prefix('=').unwrap_or(v)));
        }
    }
    (arg, None)
}

/// The invoking cargo's command line and working directory: those of this process's parent,
/// when it is a cargo build this module understands.
#[cfg(target_os = "linux")]
pub(crate) fn invoking_cargo() -> Option<(Invocation, PathBuf)> {
    let parent = std::os::unix::process::parent_id();
    let cmdline = std::fs::read(format!("/proc/{parent}/cmdline")).ok()?;
    let argv: Vec<String> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8(a.to_vec()).ok())
        .collect::<Option<_>>()?;
    let cwd = std::fs::read_link(format!("/proc/{parent}/cwd")).ok()?;
    Some((parse(&argv)?, cwd))
}

/// Elsewhere the selection cannot be learned.
#[cfg(not(target_os = "linux"))]
pub(crate) fn invoking_cargo() -> Option<(Invocation, PathBuf)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn parsed(line: &str) -> Invocation {
        parse(&argv(line)).unwrap_or_else(|| panic!("{line:?} not understood"))
    }

    #[test]
    fn reads_the_package_selection() {
        let inv = parsed("/root/.rustup/toolchains/x/bin/cargo build --offline -p b");
        assert_eq!(inv.subcommand, "build");
        assert_eq!(inv.packages, ["b"]);
        assert!(!inv.workspace && !inv.dev_units);
        let inv = parsed("cargo b -pa --package=b --package c --exclude d --all");
        assert_eq!(inv.packages, ["a", "b", "c"]);
        assert_eq!(inv.exclude, ["d"]);
        assert!(inv.workspace);
        assert!(parsed("cargo build --workspace").workspace);
    }

    #[test]
    fn skips_global_options_before_the_subcommand() {
        let inv = parsed(
            "cargo +nightly -v -q --color never --config net.offline=true -Z unstable-options --locked --frozen --offline --color=always b -p x",
        );
        assert_eq!(inv.subcommand, "build");
        assert_eq!(inv.packages, ["x"]);
    }

    #[test]
    fn reads_features_in_every_spelling() {
        let inv = parsed(
            "cargo build -F a -Fb --features c,d --features=e --features shared/fast --all-features --no-default-features",
        );
        assert_eq!(inv.features, ["a", "b", "c", "d", "e", "shared/fast"]);
        assert!(inv.all_features && inv.no_default_features);
        let inv = parse(&["cargo".into(), "build".into(), "-F".into(), "x y,z".into()]).unwrap();
        assert_eq!(inv.features, ["x", "y", "z"]);
    }

    #[test]
    fn knows_which_commands_build_dev_units() {
        for (line, dev) in [
            ("cargo t", true),
            ("cargo test --no-run --workspace", true),
            ("cargo bench", true),
            ("cargo build --tests", true),
            ("cargo c --all-targets", true),
            ("cargo r --example demo", true),
            ("cargo build --test=it", true),
            ("cargo build --bin x --release", false),
            ("cargo run -- --tests", false),
            ("cargo install --path . --locked", false),
        ] {
            assert_eq!(parsed(line).dev_units, dev, "{line}");
        }
    }

    #[test]
    fn values_of_other_options_are_not_packages() {
        let inv = parsed(
            "cargo build --target x86_64-unknown-linux-gnu --target-dir t -j 2 --profile p --bin b --manifest-path w/Cargo.toml -p real",
        );
        assert_eq!(inv.packages, ["real"]);
        assert_eq!(inv.manifest_path.as_deref(), Some("w/Cargo.toml"));
        assert_eq!(
            inv.tree_args(),
            argv("--manifest-path w/Cargo.toml --package real")
        );
    }

    #[test]
    fn refuses_what_is_not_a_cargo_build() {
        for line in [
            "",
            "bash -c cargo",
            "cargo",
            "cargo tree -p b",
            "cargo --color",
            "cargo -p",
            "cargo build -p",
            "cargo install --workspace",
        ] {
            assert_eq!(parse(&argv(line)), None, "{line:?}");
        }
    }

    #[test]
    fn replays_the_selection_on_cargo_tree() {
        let inv = parsed("cargo build -p a -p b -F shared/fast --all-features");
        assert_eq!(
            inv.tree_args(),
            argv("--package a --package b --all-features --features shared/fast")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(args in proptest::collection::vec("(-{0,2}[a-zA-Z=,/ +]{0,8})|(-p|-F|--features|--|build|test)", 0..10)) {
            let mut argv = vec!["cargo".to_owned()];
            argv.extend(args);
            let _ = parse(&argv);
        }
    }
}
