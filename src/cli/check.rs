//! `amirun check`: every check that needs no AWS call.

use std::path::Path;
use std::rc::Rc;

use super::args::{CheckArgs, GlobalArgs};
use super::settings::{host_settings, parse_params};
use crate::host::{runbook_engine, HostContext, PrintTarget};
use crate::runbook::{check_syntax, resolve_params, Header, RunFailure};
use crate::sandbox;

/// Parses the header and parameters, compiles the runbook and the stdlib, and loads every
/// partner script that a parameter names (a value ending in `.rhai`) in the sandbox.
pub fn check(global: &GlobalArgs, args: &CheckArgs) -> Result<(), RunFailure> {
    let path = &args.runbook;
    let source = crate::script_file::read_script(path, crate::script_file::MAX_RUNBOOK_BYTES)
        .map_err(|error| {
            RunFailure::Input(format!("cannot read runbook {}: {error}", path.display()))
        })?;
    let header = Header::parse(path, &source).map_err(RunFailure::Input)?;
    let given = parse_params(&args.params)?;
    // Required parameters may be left out here: check validates the runbook, not a run.
    let mut relaxed = header.clone();
    relaxed.params.iter_mut().for_each(|p| p.required = false);
    let params = resolve_params(&relaxed, &given).map_err(RunFailure::Input)?;

    let settings = host_settings(global, false, None)?;
    let runtime = super::settings::runtime()?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let ctx = Rc::new(HostContext::new(
        runtime.handle().clone(),
        settings,
        base_dir.clone(),
    ));
    let engine = runbook_engine(&ctx, PrintTarget::Stderr);
    check_syntax(&engine, path, &source).map_err(RunFailure::Input)?;

    let mut partner_count = 0;
    for value in params.values().filter(|v| v.ends_with(".rhai")) {
        let loaded = sandbox::load_partners(&base_dir.join(value))
            .map_err(|error| RunFailure::Input(error.to_string()))?;
        partner_count += loaded.partners.len();
    }
    crate::outln!(
        "{}: ok ({} partner entries checked)",
        header.label(),
        partner_count
    );
    Ok(())
}
