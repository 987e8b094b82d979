//! What hostile configuration costs the release `cargo-depinfo` end to end (issue 18, defects
//! 2, 3, 4): wall time and peak RSS (from `wait4`) of `spread --http.config.file F` for
//!
//! - a billion-laughs file of about 1 MB (one 300 KB string aliased 120,000 times; it
//!   expanded past 5.6 GB before the expansion cap, 23 GB in a debug build),
//! - 100,000 nested brackets (minutes in libyaml before the bracket budget),
//! - the worst case the bracket budget lets through (63 nested brackets in 1 MiB of tokens),
//! - `ca_file: /dev/zero`, `key_file` a 2 GB sparse file, `password_file` a FIFO,
//!
//! and, for scale, a plain small config. Every case is refused; the figures say how fast and
//! in how little memory.
//!
//! `cargo bench -p cargo-depinfo --bench hostile_config`.

use std::path::Path;
use std::process::Command;

use testkit::{Scratch, measured};

const DEPINFO: &str = env!("CARGO_BIN_EXE_cargo-depinfo");

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn main() {
    testkit::answer_measure_request();
    let dir = Scratch::new("bench-hostile-config");
    let d = dir.path();
    let fifo = d.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let sparse = d.join("sparse.pem");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let good = write(d, "good.pem", "checked later\n");
    let worst = {
        let head = format!("http_headers: {}", "[".repeat(63));
        let tail = format!("{}\n", "]".repeat(63));
        let fill = "a,".repeat((1_040_000 - head.len() - tail.len()) / 2);
        format!("{head}{fill}{tail}")
    };
    let cases = [
        (
            "plain config",
            write(
                d,
                "plain.yml",
                "basic_auth:\n  username: u\n  password: p\nhttp_headers:\n  X-A:\n    values: [a]\n",
            ),
        ),
        (
            "billion laughs (1 MB)",
            write(
                d,
                "laughs.yml",
                &format!(
                    "basic_auth:\n  username: u\n  password: &lol \"{}\"\nhttp_headers:\n  X-Lol:\n    values: [{}]\n",
                    "lol".repeat(100_000),
                    vec!["*lol"; 120_000].join(", ")
                ),
            ),
        ),
        (
            "100,000 nested brackets",
            write(
                d,
                "deep.yml",
                &format!(
                    "http_headers: {}{}\n",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                ),
            ),
        ),
        ("bracket budget worst case", write(d, "worst.yml", &worst)),
        (
            "ca_file /dev/zero",
            write(d, "zero.yml", "tls_config:\n  ca_file: /dev/zero\n"),
        ),
        (
            "key_file 2 GB sparse",
            write(
                d,
                "sparse.yml",
                &format!(
                    "tls_config:\n  cert_file: {good}\n  key_file: {}\n",
                    sparse.display()
                ),
            ),
        ),
        (
            "password_file FIFO",
            write(
                d,
                "fifo.yml",
                &format!(
                    "basic_auth:\n  username: u\n  password_file: {}\n",
                    fifo.display()
                ),
            ),
        ),
    ];
    println!(
        "{:<28} {:>10} {:>12}  exit  error",
        "case", "wall", "peak RSS"
    );
    // Nobody listens on the URL: a config that loads fails there, at once.
    let url = "http://127.0.0.1:9/";
    for (name, config) in &cases {
        let m = measured(&[
            DEPINFO,
            "depinfo",
            "spread",
            "--metrics",
            url,
            "--timeout",
            "2",
            "--http.config.file",
            config,
        ]);
        let first: String = m
            .stderr
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(90)
            .collect();
        println!(
            "{name:<28} {:>7.1} ms {:>8} KiB  {:>4}  {first}",
            m.wall.as_secs_f64() * 1e3,
            m.peak_rss_kib,
            m.code
        );
    }
}
