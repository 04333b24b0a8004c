//! The command line: arguments, validated settings, and one function per command.

mod args;
mod check;
mod describe;
mod doc;
mod output;
mod repl;
mod report;
mod run;
mod settings;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Parses arguments, runs the command and maps its outcome to the exit status: 0 success,
/// 1 the runbook failed, 2 invalid usage or input found before any change.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    settings::init_logging(cli.global.verbose);
    match run_command(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            crate::errln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn run_command(cli: Cli) -> Result<(), crate::runbook::RunFailure> {
    match cli.command {
        args::Command::Run(args) => run::run(&cli.global, args),
        args::Command::Plan(args) => run::plan(&cli.global, args),
        args::Command::Check(args) => check::check(&cli.global, &args),
        args::Command::Repl(args) => repl::repl(&cli.global, &args),
        args::Command::Eval(args) => repl::eval(&cli.global, args),
        args::Command::Doc(args) => doc::doc(&args),
        args::Command::Describe(args) => describe::describe(&cli.global, &args),
        args::Command::Report(args) => report::report(&cli.global, &args),
    }
}
