//! `amirun repl` and `amirun eval`.

use super::args::{EvalArgs, GlobalArgs, OutputFormat, SessionArgs};
use super::settings::{host_settings, runtime};
use crate::repl::{SessionOptions, Style};
use crate::runbook::RunFailure;

pub fn repl(global: &GlobalArgs, args: &SessionArgs) -> Result<(), RunFailure> {
    let options = session_options(global, args)?;
    let runtime = runtime()?;
    crate::repl::repl(runtime.handle().clone(), options)
}

pub fn eval(global: &GlobalArgs, args: EvalArgs) -> Result<(), RunFailure> {
    let options = session_options(global, &args.session)?;
    let runtime = runtime()?;
    crate::repl::eval(runtime.handle().clone(), options, args.expression)
}

fn session_options(global: &GlobalArgs, args: &SessionArgs) -> Result<SessionOptions, RunFailure> {
    Ok(SessionOptions {
        settings: host_settings(global, args.allow_public, args.poll_interval)?,
        state_dir: args.state_dir.clone(),
        style: match global.output {
            OutputFormat::Json => Style::Json,
            OutputFormat::Text => Style::Text,
        },
    })
}
