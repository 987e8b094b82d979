//! `cargo depinfo`: see the crate README for the commands, formats and exit codes. This file
//! parses, dispatches and turns outcomes into exit codes; the clap types are in `cli.rs`, each
//! command in `commands.rs`, what is said on stderr in `console.rs` (the progress line itself
//! is the library's `progress_line`).

mod cli;
mod commands;
mod console;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

buildinfo::build_info!();

/// Exit code: nothing found, everything read.
const EXIT_CLEAN: u8 = 0;
/// Exit code: found what was asked about (`affected`, `spread --max-versions`, `outdated
/// --fail-on`).
const EXIT_FOUND: u8 = 1;
/// Exit code: an error (bad input, unreadable source, failed cargo), or an answer that could
/// not be judged (a version that is not SemVer, instances whose dependency list is unknown, a
/// source with none of our series). Errors win over findings: a partial answer is not a clean
/// one.
const EXIT_ERROR: u8 = 2;

/// Output written as it is made (a question over a million series answers in hundreds of
/// MB: it is never held whole).
pub(crate) type Writer = Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()>>;

/// What a command printed and how it ended.
pub(crate) struct Outcome {
    stdout: String,
    /// Written after `stdout`, as it is made.
    stream: Option<Writer>,
    code: u8,
}

impl Outcome {
    pub(crate) fn new(stdout: String, errors: &[String], found: bool) -> Outcome {
        let code = match (errors.is_empty(), found) {
            (false, _) => EXIT_ERROR,
            (true, true) => EXIT_FOUND,
            (true, false) => EXIT_CLEAN,
        };
        Outcome {
            stdout,
            stream: None,
            code,
        }
    }

    /// [`Outcome::new`] with output written as it is made.
    pub(crate) fn streamed(write: Writer, errors: &[String], found: bool) -> Outcome {
        Outcome {
            stream: Some(write),
            ..Outcome::new(String::new(), errors, found)
        }
    }
}

fn main() -> ExitCode {
    let Cli::Depinfo(cli) = clap::Parser::parse_from(cli::cargo_args(std::env::args_os()));
    cli.files.apply();
    console::set(cli.output.quiet, cli.output.color);
    let outcome = match cli.output.paint().and_then(|paint| run(cli.command, paint)) {
        Ok(outcome) => outcome,
        Err(e) => {
            console::error(&format!("{e:#}"));
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let mut stdout = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let Outcome {
        stdout: text,
        stream,
        code,
    } = outcome;
    let written = stdout
        .write_all(text.as_bytes())
        .and_then(|()| match stream {
            Some(write) => write(&mut stdout),
            None => Ok(()),
        });
    match written.and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::from(code),
        // `cargo depinfo inspect dir | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(EXIT_CLEAN),
        Err(e) => {
            console::error(&format!("writing output: {e}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Runs `command`; `paint` colours its text answer.
fn run(command: Command, paint: cargo_depinfo::Paint) -> Result<Outcome> {
    match command {
        Command::List(args) => commands::list(&args),
        Command::Inspect(args) => commands::inspect(&args),
        Command::Affected(args) => commands::affected(&args, paint),
        Command::Spread(args) => commands::spread(&args, paint),
        Command::Rules(args) => commands::rules(args),
        Command::Outdated(args) => commands::outdated(&args, paint),
        Command::Audit(args) => commands::audit(&args, paint),
        Command::Exporter(_) => commands::moved("exporter"),
        Command::Catalog(_) => commands::moved("catalog"),
        Command::Report(args) => commands::fleet_report(&args),
        Command::Completions(args) => commands::completions(&args),
        Command::Manpages(args) => commands::manpages(&args),
        Command::Dashboard => Ok(commands::dashboard()),
    }
}
