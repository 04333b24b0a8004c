//! `amirun describe`.

use super::args::{DescribeArgs, GlobalArgs, OutputFormat};
use crate::runbook::{Header, RunFailure};

pub fn describe(global: &GlobalArgs, args: &DescribeArgs) -> Result<(), RunFailure> {
    let source =
        crate::script_file::read_script(&args.runbook, crate::script_file::MAX_RUNBOOK_BYTES)
            .map_err(|error| {
                RunFailure::Input(format!(
                    "cannot read runbook {}: {error}",
                    args.runbook.display()
                ))
            })?;
    let header = Header::parse(&args.runbook, &source).map_err(RunFailure::Input)?;
    if global.output == OutputFormat::Json {
        super::output::print_value(&serde_json::to_value(&header).unwrap_or_default());
        return Ok(());
    }
    crate::outln!("{} (version {})", header.name, header.version);
    if !header.declared {
        crate::outln!(
            "This file has no header; it runs as {} and accepts any --param.",
            header.label()
        );
    }
    if !header.description.is_empty() {
        crate::outln!("{}", header.description);
    }
    if !header.params.is_empty() {
        crate::outln!("\nParameters:");
        let width = header
            .params
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0);
        for param in &header.params {
            let note = match (&param.default, param.required) {
                (_, true) => " (required)".to_owned(),
                (Some(default), false) => format!(" (default \"{default}\")"),
                (None, false) => " (optional)".to_owned(),
            };
            crate::outln!("  {:width$}  {}{note}", param.name, param.description);
        }
    }
    Ok(())
}
