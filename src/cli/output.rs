//! Printing results and plans.

use super::args::OutputFormat;
use crate::runbook::Outcome;

pub fn print_value(value: &serde_json::Value) {
    crate::outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

pub fn print_plan(outcome: &Outcome, format: OutputFormat) {
    if format == OutputFormat::Json {
        let plan = serde_json::json!({
            "runbook": outcome.header.name,
            "version": outcome.header.version,
            "changes": outcome.changes,
        });
        print_value(&plan);
        return;
    }
    crate::outln!(
        "Plan for {}: {} change(s), none made.",
        outcome.header.label(),
        outcome.changes.len()
    );
    for (index, change) in outcome.changes.iter().enumerate() {
        crate::outln!(
            "\n{:>3}. {} in {}: {}",
            index + 1,
            change.operation,
            change.region,
            change.resource
        );
        if !change.detail.is_empty() {
            crate::outln!("     {}", change.detail);
        }
        if !change.diff.is_empty() {
            for line in &change.diff {
                crate::outln!("       {line}");
            }
        } else if !change.targets.is_empty() {
            crate::outln!("     targets: {}", change.targets.join(", "));
        }
    }
    crate::outln!("\nValues in parentheses are known only after a run.");
}
