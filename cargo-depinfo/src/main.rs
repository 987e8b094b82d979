//! `cargo depinfo`: see the crate README for the commands, formats and exit codes. This file
//! parses, dispatches and turns outcomes into exit codes; the clap types are in `cli.rs`, each
//! command in `commands.rs`, the progress line in the library (`progress_line`).

mod cli;
mod commands;

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
    let outcome = match run(cli.command) {
        Ok(outcome) => outcome,
        Err(e) => {
            cargo_depinfo::eprint_error(&format!("{e:#}"));
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
            cargo_depinfo::eprint_error(&format!("writing output: {e}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::List(args) => commands::list(&args),
        Command::Inspect(args) => commands::inspect(&args),
        Command::Affected(args) => commands::affected(&args),
        Command::Spread(args) => commands::spread(&args),
        Command::Rules(args) => commands::rules(args),
        Command::Outdated(args) => commands::outdated(&args),
        Command::Audit(args) => commands::audit(&args),
        Command::Exporter(_) => commands::moved("exporter"),
        Command::Catalog(_) => commands::moved("catalog"),
        Command::Completions(args) => commands::completions(&args),
        Command::Manpages(args) => commands::manpages(&args),
        Command::Dashboard => Ok(commands::dashboard()),
    }
}
