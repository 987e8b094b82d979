//! Terminal injection (issue 10, item 4): text from a binary, a fleet member's labels or a
//! file name reaches a person's terminal. The real `cargo-depinfo` binary is run on hostile
//! inputs (`.bldinfo` values, `/metrics` labels, Prometheus answers and file names holding
//! ESC sequences, BEL, NUL, CR, LF, DEL and C1 controls) and no raw control character may
//! reach stdout or stderr in a human-readable format: the values are quoted with escapes.
//! A counting allocator checks that escaping and the `rules` flags cost bounded memory.

use std::fmt::Write as _;
use std::process::{Command, Output};
use std::time::Duration;

use testkit::{Reply, Scratch, Server, stderr, stdout, zlib};

const BIN: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

#[global_allocator]
static ALLOCATOR: testkit::CountingAllocator = testkit::CountingAllocator;

use testkit::peak_during;

/// Clear screen, ring, NUL, then a forged report line after a carriage return and a newline.
const HOSTILE: &str = "evil\u{1b}[2J\u{7}\u{0}\r\n\tdep\tforged\t6.6.6\tcrates.io\u{7f}\u{9b}31m";
/// [`HOSTILE`] as a JSON string's contents.
const HOSTILE_JSON: &str =
    r"evil\u001b[2J\u0007\u0000\r\n\tdep\tforged\t6.6.6\tcrates.io\u007f\u009b31m";
/// [`HOSTILE`] as the text output shows it: quoted, escaped.
const HOSTILE_SHOWN: &str =
    r#""evil\x1b[2J\x07\x00\r\n\tdep\tforged\t6.6.6\tcrates.io\x7f\u009b31m""#;

fn run(args: &[&str]) -> Output {
    testkit::run(Command::new(BIN).args(args), Duration::from_secs(60))
}

/// Panics if `text` holds a control character other than those listed (the format's own tabs
/// and newlines).
fn assert_no_control(what: &str, text: &str, allowed: &[char]) {
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !allowed.contains(c))
    {
        panic!("{what} holds the control character {c:?}:\n{text:?}");
    }
}

/// A `.bldinfo` whose program, branch, version and package names are hostile.
fn hostile_bldinfo() -> String {
    format!(
        r#"{{"format":1,"program":"{HOSTILE_JSON}","version":"1.0.0{HOSTILE_JSON}","revision":"3f2c1a9e0b7d4c5a6f8e9d0c1b2a3f4e5d6c7b8a","branch":"{HOSTILE_JSON}","rust_version":"1.95.0","target":"x86_64-unknown-linux-gnu","profile":"release","features":["{HOSTILE_JSON}"],"packages":[{{"name":"{HOSTILE_JSON}","version":"1.0.0","source":"local","root":true,"dependencies":[1]}},{{"name":"itoa{HOSTILE_JSON}","version":"1.0.15","source":"crates.io"}}]}}"#
    )
}

#[test]
fn inspect_text_escapes_control_characters_from_a_binary() {
    let dir = Scratch::new("terminal-bldinfo");
    let bin = dir.join("app");
    testkit::with_sections(&bin, &[(".bldinfo", &zlib(hostile_bldinfo().as_bytes()))]);
    let out = run(&["inspect", bin.to_str().unwrap()]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert_no_control("inspect's text", &text, &['\t', '\n']);
    assert_no_control("inspect's stderr", &err, &['\n']);
    // The data was read and shown, escaped (not dropped or refused).
    assert_eq!(out.status.code(), Some(0), "{err}");
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        format!(
            "{}: {HOSTILE_SHOWN} {}",
            bin.display(),
            HOSTILE_SHOWN.replacen("\"evil", "\"1.0.0evil", 1)
        )
    );
    assert!(
        text.contains(&format!("\tbuild\tbranch={HOSTILE_SHOWN}\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\tmod\t{HOSTILE_SHOWN}\t1.0.0\tlocal\n")),
        "{text}"
    );
    // No forged line: every line is the header or starts with the format's tab.
    assert!(text.lines().skip(1).all(|l| l.starts_with('\t')), "{text}");
    assert!(!text.contains("\tdep\tforged"), "{text}");
}

#[test]
fn stderr_escapes_values_quoted_from_a_rejected_binary() {
    // A package version that is not SemVer: the error quotes it and the package name.
    let dir = Scratch::new("terminal-rejected");
    let bin = dir.join("app");
    let bldinfo = hostile_bldinfo().replace(
        r#""version":"1.0.15""#,
        &format!(r#""version":"1.0.15{HOSTILE_JSON}""#),
    );
    testkit::with_sections(&bin, &[(".bldinfo", &zlib(bldinfo.as_bytes()))]);
    let out = run(&["inspect", bin.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("inspect's stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is not SemVer"), "{err}");
}

#[test]
fn stderr_escapes_control_characters_in_file_names() {
    let dir = Scratch::new("terminal-names");
    // An explicit path that does not exist.
    let missing = dir.join("missing\u{1b}]0;pwned\u{7}\r\nerror: forged");
    let out = run(&["inspect", missing.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "one line per error: {err}");
    assert!(
        err.contains(r"missing\x1b]0;pwned\x07\r\nerror: forged"),
        "{err}"
    );

    // A binary in a scanned directory whose section is broken: the error names the file.
    let scan = dir.join("scan");
    std::fs::create_dir(&scan).unwrap();
    let broken = scan.join("broken\u{1b}[2J\u{7}\u{9b}");
    testkit::with_sections(&broken, &[(".bldinfo", b"not zlib at all")]);
    let out = run(&["inspect", scan.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert!(err.contains(r"broken\x1b[2J\x07\u009b"), "{err}");
    assert_no_control("stdout", &stdout(&out), &['\t', '\n']);
}

/// What build-info-collector would serve for a program whose labels are hostile.
fn hostile_page() -> String {
    // In the exposition, a label value escapes only `\`, `"` and newline: ESC, BEL, NUL, CR
    // and the rest arrive raw.
    let h = HOSTILE.replace('\n', r"\n");
    format!(
        "# TYPE app_build_info gauge\n\
         app_build_info{{branch=\"main\",features=\"\",profile=\"release\",revision=\"r{h}\",rustversion=\"1.95.0\",target=\"x86_64-unknown-linux-gnu\",version=\"0.1.0{h}\"}} 1\n\
         # TYPE rust_mod_info gauge\n\
         rust_mod_info{{direct=\"true\",name=\"serde\",program=\"{h}\",source=\"crates.io{h}\",version=\"1.0.1\"}} 1\n\
         rust_mod_info{{direct=\"true\",name=\"serde\",program=\"{h}\",source=\"crates.io\",version=\"1.0.2\"}} 1\n"
    )
}

/// A Prometheus API answering `rust_mod_info` with a hostile instance and program, and the
/// `count by` queries with the same program and job.
fn hostile_prometheus() -> Server {
    let series =
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "rust_mod_info", "instance": HOSTILE, "job": HOSTILE,
                        "name": "serde", "program": HOSTILE, "source": "crates.io",
                        "version": "1.0.3"},
             "value": [1_763_770_000.123, "1"]}
        ]}})
        .to_string();
    let counted =
        serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"job": HOSTILE, "name": "serde", "program": HOSTILE, "version": "1.0.3"},
             "value": [1_763_770_000.123, "1"]}
        ]}})
        .to_string();
    Server::start(move |path| {
        if path.starts_with("/api/v1/query?query=count") {
            Reply::ok("application/json", counted.clone())
        } else if path.starts_with("/api/v1/query") {
            Reply::ok("application/json", series.clone())
        } else {
            Reply::not_found()
        }
    })
}

#[test]
fn affected_and_spread_text_escape_control_characters_from_labels() {
    let page = hostile_page();
    let metrics = Server::start(move |path| {
        if path == "/metrics" {
            Reply::ok("text/plain; version=0.0.4", page.clone())
        } else {
            Reply::not_found()
        }
    });
    let prometheus = hostile_prometheus();
    let (m, p) = (metrics.url("/metrics"), prometheus.url("/"));
    let sources = ["--metrics", m.as_str(), "--prometheus", p.as_str()];

    let out = run(&[&["affected", "serde", ">=1.0.0"], &sources[..]].concat());
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_no_control("affected's text", &text, &['\n']);
    assert_no_control("affected's stderr", &err, &['\n']);
    assert_eq!(
        text.lines().count(),
        3,
        "one line per hit, none forged:\n{text}"
    );
    assert!(
        text.contains(&format!(": {HOSTILE_SHOWN}: serde 1.0.3 crates.io\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{HOSTILE_SHOWN}: {HOSTILE_SHOWN}")),
        "{text}"
    );

    let out = run(&[&["spread", "--crate", "serde"], &sources[..]].concat());
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_no_control("spread's text", &text, &['\t', '\n']);
    assert_no_control("spread's stderr", &err, &['\n']);
    assert!(text.starts_with("serde: 3 versions\n"), "{text}");
    assert!(
        text.contains(&format!(
            "\t1.0.3\t{HOSTILE_SHOWN}@{p}\tjob={HOSTILE_SHOWN} instances=1\n"
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn a_hostile_error_from_a_page_is_one_escaped_line() {
    // A page whose exposition is malformed at a line holding control characters: whatever
    // the parser quotes from it reaches stderr escaped.
    let metrics = Server::fixed(Reply::ok(
        "text/plain; version=0.0.4",
        "rust_mod_info{name=\"serde\u{1b}[2J\u{7}\" 1\n",
    ));
    let out = run(&["spread", "--metrics", &metrics.url("/metrics\u{1b}[2J")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_control("stderr", &err, &['\n']);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn escaping_a_hostile_value_costs_at_most_four_times_its_size() {
    let mib = 1 << 20;
    let escapes = "\u{1b}".repeat(mib);
    let (shown, peak) = peak_during(|| cargo_depinfo::printable(&escapes).len());
    assert_eq!(shown, 4 * mib + 2);
    assert!(peak <= 4 * mib + 2, "{peak} bytes for {mib}");
    let c1 = "\u{9b}".repeat(mib / 2);
    let (shown, peak) = peak_during(|| cargo_depinfo::printable_line(&c1).len());
    assert_eq!(shown, 3 * mib);
    assert!(peak <= 3 * mib, "{peak} bytes for {mib}");
    // Text without controls is shown as it is, without a copy.
    let plain = "a".repeat(mib);
    let (_, peak) = peak_during(|| cargo_depinfo::printable(&plain).len());
    assert_eq!(peak, 0);
}

#[test]
fn a_huge_rules_flag_costs_a_short_error() {
    let mut options = cargo_depinfo::RulesOptions::default();
    options.drift_for = "9".repeat(8 << 20) + "m";
    let (err, peak) = peak_during(|| cargo_depinfo::rules(&options).unwrap_err().to_string());
    assert!(err.len() < 200, "{err}");
    assert!(peak < 64 << 10, "{peak} bytes for an 8 MiB flag");
}

/// Issue 22: `--color` and `-q`. The fixture: the advisory database of `testkit::advisory_db`
/// (hyper before 0.14.10, critical 9.8, committed on 2026-01-02: older than `--db-max-age`'s
/// 90 days, so `audit` warns), and `bin/` with `cart` (hyper 0.14.1, serde 1.0.100) and `shop`
/// (hyper 0.14.1, serde 1.0.200): one vulnerability in two binaries, serde in two versions.
struct Colours {
    dir: Scratch,
    db: std::path::PathBuf,
    bins: std::path::PathBuf,
}

fn colours(label: &str) -> Colours {
    let dir = Scratch::new(label);
    let db = dir.join("db");
    testkit::advisory_db(&db);
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    for (program, serde) in [("cart", "1.0.100"), ("shop", "1.0.200")] {
        let json = testkit::dep_v0_json(
            (program, "1.0.0", "local"),
            &[
                ("hyper", "0.14.1", "crates.io"),
                ("serde", serde, "crates.io"),
            ],
        );
        let elf = testkit::elf_with_sections(&[(".dep-v0", &zlib(json.as_bytes()))]);
        std::fs::write(bins.join(program), elf).unwrap();
    }
    std::fs::create_dir_all(dir.join("cargo-home")).unwrap();
    Colours { dir, db, bins }
}

impl Colours {
    /// `audit --db DB ARGS`.
    fn audit<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["audit", "--db", self.db.to_str().unwrap()];
        all.extend_from_slice(args);
        all
    }

    fn bins(&self) -> &str {
        self.bins.to_str().unwrap()
    }

    /// The command in the fixture's directory and cargo home, on xterm, with no colour
    /// variable but those in `env`.
    fn command(&self, program: &str, env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path())
            .env("CARGO_HOME", self.dir.join("cargo-home"))
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .env_remove("CARGO_TERM_COLOR")
            .envs(env.iter().copied());
        cmd
    }

    /// cargo depinfo with stdout and stderr pipes.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        testkit::run(self.command(BIN, env).args(args), Duration::from_secs(60))
    }

    /// cargo depinfo on a pseudo-terminal (util-linux `script`): what the terminal showed,
    /// stdout and stderr together unless `shell_tail` redirects one (`2>/dev/null`).
    fn on_a_terminal(&self, args: &[&str], env: &[(&str, &str)], shell_tail: &str) -> String {
        let mut line = format!("'{BIN}'");
        for a in args {
            assert!(!a.contains('\''), "{a}");
            let _ = write!(line, " '{a}'");
        }
        line.push(' ');
        line.push_str(shell_tail);
        let mut cmd = self.command("script", env);
        cmd.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
        let out = testkit::run(&mut cmd, Duration::from_secs(60));
        assert!(matches!(out.status.code(), Some(0..=1)), "{line}: {out:?}");
        stdout(&out)
    }
}

/// `audit`'s text for the fixture, but its first line (the database's age changes daily).
const AUDIT_TAIL: &str = "1 vulnerability (2 affected instances); 0 informational advisories (2 targets read)\n\
    \n\
    RUSTSEC-2099-0001 hyper (critical 9.8): Request smuggling in hyper\n\
    \x20 running:    0.14.1\n\
    \x20 patched:    >= 0.14.10\n\
    \x20 cart: hyper 0.14.1: 1 instance: BINS/cart: unknown (the advisory names no functions)\n\
    \x20 shop: hyper 0.14.1: 1 instance: BINS/shop: unknown (the advisory names no functions)\n";

/// [`AUDIT_TAIL`] as `--color always` writes it: the verdict and the severity in bold red,
/// the `unknown` verdict on the vulnerable code in yellow.
const AUDIT_TAIL_COLOURED: &str = "\x1b[1m\x1b[31m1 vulnerability\x1b[0m (2 affected instances); 0 informational advisories (2 targets read)\n\
    \n\
    RUSTSEC-2099-0001 hyper (\x1b[1m\x1b[31mcritical 9.8\x1b[0m): Request smuggling in hyper\n\
    \x20 running:    0.14.1\n\
    \x20 patched:    >= 0.14.10\n\
    \x20 cart: hyper 0.14.1: 1 instance: BINS/cart: \x1b[33munknown\x1b[0m (the advisory names no functions)\n\
    \x20 shop: hyper 0.14.1: 1 instance: BINS/shop: \x1b[33munknown\x1b[0m (the advisory names no functions)\n";

/// `spread --max-versions 1`'s text for the fixture, plain and with `--color always` (serde
/// over the limit in bold red).
const SPREAD: &str = "serde: 2 versions\n\t1.0.100\tcart@BINS/cart\n\t1.0.200\tshop@BINS/shop\n";
const SPREAD_COLOURED: &str = "\x1b[1m\x1b[31mserde: 2 versions\x1b[0m\n\t1.0.100\tcart@BINS/cart\n\t1.0.200\tshop@BINS/shop\n";

/// `text` without its first line, if it is the database's.
fn audit_tail(text: &str) -> &str {
    assert!(text.starts_with("advisory database "), "{text:?}");
    &text[text.find('\n').unwrap() + 1..]
}

#[test]
fn color_always_wraps_the_severity_verdict_and_spread_words_in_sgr_sequences() {
    let f = colours("colour-always");
    let bins = f.bins();
    let plain = f.run(&f.audit(&[bins]), &[]);
    assert_eq!(plain.status.code(), Some(1), "{}", stderr(&plain));
    let plain_text = stdout(&plain);
    assert_eq!(audit_tail(&plain_text), AUDIT_TAIL.replace("BINS", bins));
    // The flag after the command or before it; NO_COLOR does not undo an explicit `always`.
    for (args, env) in [
        (f.audit(&[bins, "--color", "always"]), &[][..]),
        (
            [&["--color=always"][..], &f.audit(&[bins])].concat(),
            &[("NO_COLOR", "1")][..],
        ),
    ] {
        let out = f.run(&args, env);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(audit_tail(&text), AUDIT_TAIL_COLOURED.replace("BINS", bins));
        // The database line is the same words, uncoloured.
        assert_eq!(text.lines().next(), plain_text.lines().next());
        // stderr (the old database's warning) stays plain.
        assert!(!out.stderr.contains(&0x1b), "{}", stderr(&out));
    }

    let spread = ["spread", "--max-versions", "1", bins];
    let out = f.run(&spread, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), SPREAD.replace("BINS", bins));
    let out = f.run(&[&spread[..], &["--color", "always"]].concat(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), SPREAD_COLOURED.replace("BINS", bins));
    // Without a limit: serde in yellow, hyper's one version plain.
    let out = f.run(&["spread", bins, "--color", "always"], &[]);
    assert_eq!(
        stdout(&out),
        "hyper: 1 version\n\t0.14.1\tcart@BINS/cart\n\t0.14.1\tshop@BINS/shop\n\
         \x1b[33mserde: 2 versions\x1b[0m\n\t1.0.100\tcart@BINS/cart\n\t1.0.200\tshop@BINS/shop\n"
            .replace("BINS", bins)
    );
    // affected: what was found in bold red.
    let out = f.run(
        &["affected", "hyper", "<0.14.10", bins, "--color", "always"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "BINS/cart: cart 1.0.0: \x1b[1m\x1b[31mhyper 0.14.1\x1b[0m crates.io\n\
         BINS/shop: shop 1.0.0: \x1b[1m\x1b[31mhyper 0.14.1\x1b[0m crates.io\n"
            .replace("BINS", bins)
    );
}

#[test]
fn no_color_and_a_pipe_write_no_escape_byte() {
    let f = colours("colour-none");
    let bins = f.bins();
    let audit = f.audit(&[bins]);
    let spread: &[&str] = &["spread", "--max-versions", "1", bins];
    // A pipe: auto is off, whatever TERM says.
    for args in [&audit[..], spread] {
        let out = f.run(args, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(!out.stdout.is_empty());
        assert!(!out.stdout.contains(&0x1b), "{}", stdout(&out));
    }
    // A terminal with NO_COLOR, and a terminal with --color never (or CARGO_TERM_COLOR),
    // and a dumb one: the findings are there, and no escape byte (the progress line is drawn
    // without escapes too).
    for args in [&audit[..], spread] {
        for (extra, env) in [
            (&[][..], &[("NO_COLOR", "1")][..]),
            (&["--color", "never"][..], &[][..]),
            (&[][..], &[("CARGO_TERM_COLOR", "never")][..]),
            (&[][..], &[("TERM", "dumb")][..]),
        ] {
            let shown = f.on_a_terminal(&[args, extra].concat(), env, "");
            assert!(
                shown.contains("1 vulnerability (") || shown.contains("serde: 2 versions"),
                "{args:?} {extra:?} {env:?}: {shown:?}"
            );
            assert!(
                !shown.contains('\x1b'),
                "{args:?} {extra:?} {env:?}: {shown:?}"
            );
        }
    }
}

#[test]
fn cargo_term_color_is_the_default_and_auto_colours_a_terminal() {
    let f = colours("colour-env");
    let bins = f.bins();
    let spread = ["spread", "--max-versions", "1", bins];
    let coloured = SPREAD_COLOURED.replace("BINS", bins);
    // CARGO_TERM_COLOR=always through a pipe.
    let out = f.run(&spread, &[("CARGO_TERM_COLOR", "always")]);
    assert_eq!(stdout(&out), coloured);
    // The flag wins over the variable, both ways.
    let out = f.run(
        &[&spread[..], &["--color", "never"]].concat(),
        &[("CARGO_TERM_COLOR", "always")],
    );
    assert_eq!(stdout(&out), SPREAD.replace("BINS", bins));
    let out = f.run(
        &[&spread[..], &["--color", "always"]].concat(),
        &[("CARGO_TERM_COLOR", "never")],
    );
    assert_eq!(stdout(&out), coloured);
    // A value cargo would not take: an error naming the variable, before anything is read.
    let out = f.run(&spread, &[("CARGO_TERM_COLOR", "bogus")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: CARGO_TERM_COLOR=\"bogus\" is not one of auto, always, never\n"
    );
    // A flag makes the variable unread.
    let out = f.run(
        &[&spread[..], &["--color", "never"]].concat(),
        &[("CARGO_TERM_COLOR", "bogus")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Auto on a real terminal: colour (the terminal turns each newline into CR LF).
    let shown = f.on_a_terminal(&spread, &[], "2>/dev/null");
    assert_eq!(shown, coloured.replace('\n', "\r\n"));
    let shown = f.on_a_terminal(
        &f.audit(&[bins]),
        &[("CARGO_TERM_COLOR", "auto")],
        "2>/dev/null",
    );
    testkit::assert_contains(
        &shown,
        "RUSTSEC-2099-0001 hyper (\x1b[1m\x1b[31mcritical 9.8\x1b[0m): Request smuggling",
    );
    // An empty NO_COLOR is unset (no-color.org).
    let shown = f.on_a_terminal(&spread, &[("NO_COLOR", "")], "2>/dev/null");
    assert_eq!(shown, coloured.replace('\n', "\r\n"));
}

/// A Prometheus API whose every answer is one instance of `web` on hyper 0.14.1, with an info
/// annotation (which cargo depinfo shows as a `note:` line).
fn noting_prometheus() -> Server {
    let answer =
        serde_json::json!({"status": "success", "infos": ["PromQL info: metric might not be a counter"],
            "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "rust_mod_info", "instance": "10.0.0.1:8080", "job": "web",
                        "name": "hyper", "program": "web", "source": "crates.io",
                        "version": "0.14.1"},
             "value": [1_763_770_000.123, "1"]}
        ]}})
        .to_string();
    Server::start(move |path| {
        if path.starts_with("/api/v1/query") {
            Reply::ok("application/json", answer.clone())
        } else {
            Reply::not_found()
        }
    })
}

#[test]
fn quiet_leaves_the_answer_and_the_errors_alone() {
    let f = colours("quiet");
    let prometheus = noting_prometheus();
    let url = prometheus.url("");
    let sources = ["--layout", "full", "--prometheus", url.as_str()];
    let loud = f.run(&f.audit(&[&[f.bins()][..], &sources[..]].concat()), &[]);
    assert_eq!(loud.status.code(), Some(1), "{}", stderr(&loud));
    // Without -q: the old database's warning and the server's note.
    let err = stderr(&loud);
    assert!(
        err.starts_with("warning: the advisory database's last commit is "),
        "{err}"
    );
    testkit::assert_contains(
        &err,
        &format!("note: {url}: info from the server: PromQL info: metric might not be a counter\n"),
    );
    testkit::assert_contains(
        &stdout(&loud),
        "  web: hyper 0.14.1: 1 instance: 10.0.0.1:8080: unknown (the advisory names no functions)\n",
    );
    for quiet in ["-q", "--quiet"] {
        // Before and after the command.
        for args in [
            [
                &[quiet][..],
                &f.audit(&[&[f.bins()][..], &sources[..]].concat()),
            ]
            .concat(),
            f.audit(&[&[f.bins(), quiet][..], &sources[..]].concat()),
        ] {
            let out = f.run(&args, &[]);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert_eq!(stderr(&out), "", "{args:?}");
            assert_eq!(stdout(&out), stdout(&loud), "{args:?}");
        }
    }
    // The progress line is not drawn either: on a terminal, with stdout elsewhere, nothing.
    let shown = f.on_a_terminal(&["inspect", f.bins(), "-q"], &[], ">/dev/null");
    assert_eq!(shown, "");
    let shown = f.on_a_terminal(&["inspect", f.bins()], &[], ">/dev/null");
    assert!(shown.contains("\rscanning 1 "), "{shown:?}");
    // An error is still said: exit code 2 is explained.
    let missing = f.dir.join("missing");
    let out = f.run(&f.audit(&["-q", f.bins(), missing.to_str().unwrap()]), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert_eq!(
        stdout(&out),
        stdout(&f.run(&f.audit(&[f.bins(), missing.to_str().unwrap()]), &[]))
    );
    // And so is a failure before any answer (a flag out of range).
    let out = f.run(&["spread", "-q", "--timeout", "0", f.bins()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --timeout must be a positive number of seconds, at most 86400 (one day)\n"
    );
}

/// `-q` silences the warnings of `affected --format prometheus` about versions it cannot
/// judge; they explain its exit code 2, so one error line says it instead.
#[test]
fn quiet_keeps_an_explanation_of_unjudged_versions() {
    let f = colours("quiet-unjudged");
    let page = "# TYPE rust_mod_info gauge\n\
                rust_mod_info{direct=\"true\",name=\"hyper\",program=\"web\",source=\"crates.io\",version=\"v0.14\"} 1\n";
    let metrics = Server::fixed(Reply::ok("text/plain; version=0.0.4", page));
    let m = metrics.url("/metrics");
    let args = [
        "affected",
        "hyper",
        "<0.14.10",
        "--metrics",
        m.as_str(),
        "--format",
        "prometheus",
    ];
    let loud = f.run(&args, &[]);
    assert_eq!(loud.status.code(), Some(2));
    // A page's instance is its host and port.
    let instance = m.trim_start_matches("http://").trim_end_matches("/metrics");
    assert_eq!(
        stderr(&loud),
        format!("warning: {instance}: web: hyper v0.14 crates.io (not SemVer: cannot judge)\n")
    );
    let out = f.run(&[&args[..], &["-q"]].concat(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: 1 version(s) of hyper are not SemVer and cannot be judged\n"
    );
    assert_eq!(stdout(&out), stdout(&loud));
    // As text, the line is the answer's (its mark in yellow), and no warning repeats it.
    let out = f.run(&args[..5], &[("CARGO_TERM_COLOR", "always")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stdout(&out),
        format!(
            "{instance}: web: hyper v0.14 crates.io \x1b[33m(not SemVer: cannot judge)\x1b[0m\n"
        )
    );
    assert_eq!(stderr(&out), "");
}
