//! `amirun run` and `amirun plan`.

use super::args::{GlobalArgs, OutputFormat, PlanArgs, RunArgs};
use super::output::{print_plan, print_value};
use super::settings::{host_settings, parse_params, runtime};
use crate::host::PrintTarget;
use crate::runbook::{RunFailure, RunMode, RunRequest, Runner};

fn print_target(global: &GlobalArgs) -> PrintTarget {
    match global.output {
        OutputFormat::Json => PrintTarget::Stderr,
        OutputFormat::Text => PrintTarget::Stdout,
    }
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> Result<(), RunFailure> {
    if args.max_copies_per_region == 0 {
        return Err(RunFailure::Input(
            "--max-copies-per-region 0 would never copy; pass 1 or more".into(),
        ));
    }
    let mut settings = host_settings(global, args.allow_public, args.poll_interval)?;
    settings.max_copies_per_region = args.max_copies_per_region;
    let request = RunRequest {
        path: args.runbook,
        params: parse_params(&args.params)?,
        settings,
        mode: RunMode::Run {
            state_dir: args.state_dir,
            restart: args.restart,
        },
        print: print_target(global),
    };
    let runtime = runtime()?;
    let outcome = Runner::execute(runtime.handle().clone(), request)?;
    if global.output == OutputFormat::Json {
        print_value(&outcome.value);
    }
    Ok(())
}

pub fn plan(global: &GlobalArgs, args: PlanArgs) -> Result<(), RunFailure> {
    let request = RunRequest {
        path: args.runbook,
        params: parse_params(&args.params)?,
        settings: host_settings(global, args.allow_public, None)?,
        mode: RunMode::Plan,
        print: PrintTarget::Stderr,
    };
    let runtime = runtime()?;
    let outcome = Runner::execute(runtime.handle().clone(), request)?;
    print_plan(&outcome, global.output);
    Ok(())
}
