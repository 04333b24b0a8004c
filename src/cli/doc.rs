//! `amirun doc`: the function reference as Markdown, or Rhai definition files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::args::DocArgs;
use super::settings::runtime;
use crate::host::{reference, runbook_engine, HostContext, HostSettings, PrintTarget};
use crate::runbook::RunFailure;

pub fn doc(args: &DocArgs) -> Result<(), RunFailure> {
    match &args.definitions {
        None => write_stdout(&reference::markdown()),
        Some(dir) => write_definitions(dir),
    }
}

/// Writes the definition files of the runbook engine, which calls no host function here.
fn write_definitions(dir: &Path) -> Result<(), RunFailure> {
    let runtime = runtime()?;
    let ctx = Rc::new(HostContext::new(
        runtime.handle().clone(),
        HostSettings::default(),
        PathBuf::new(),
    ));
    let engine = runbook_engine(&ctx, PrintTarget::Stderr);
    let written = reference::write_definitions(&engine, dir).map_err(|error| {
        RunFailure::Failed(format!(
            "cannot write definition files into {}: {error}",
            dir.display()
        ))
    })?;
    let list: Vec<String> = written
        .iter()
        .map(|name| format!("{}\n", dir.join(name).display()))
        .collect();
    write_stdout(&list.concat())
}

/// Writes to stdout; a closed pipe (`amirun doc | head`) is not an error.
fn write_stdout(text: &str) -> Result<(), RunFailure> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(RunFailure::Failed(
            format!("cannot write to stdout: {error}"),
        )),
        _ => Ok(()),
    }
}
