//! `amirun report`: the sharing report of images, as a table or JSON.

use std::rc::Rc;

use super::args::{GlobalArgs, OutputFormat, ReportArgs};
use super::output::print_value;
use super::settings::{host_settings, runtime};
use crate::host::functions::{load_partner_script, sharing_report, ImageSpec, SharingReport};
use crate::host::{HostContext, HostError};
use crate::runbook::RunFailure;

/// Checks every image argument and the partner script, then reads and prints the report.
pub fn report(global: &GlobalArgs, args: &ReportArgs) -> Result<(), RunFailure> {
    let specs = args
        .images
        .iter()
        .map(|text| ImageSpec::parse(text))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| RunFailure::Input(error.to_string()))?;
    let partners = match &args.partners {
        Some(path) => {
            Some(load_partner_script(path).map_err(|error| RunFailure::Input(error.to_string()))?)
        }
        None => None,
    };

    let mut settings = host_settings(global, false, None)?;
    // Every image names its region, so no default region is needed: use the first one
    // unless the command line or the environment sets one.
    let region_in_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if settings.aws.region.is_none() && !region_in_env && specs.iter().all(|s| s.region.is_some()) {
        settings.aws.region = specs.first().and_then(|spec| spec.region.clone());
    }
    let runtime = runtime()?;
    let ctx = Rc::new(HostContext::new(
        runtime.handle().clone(),
        settings,
        std::env::current_dir().unwrap_or_default(),
    ));
    let report = sharing_report(&ctx, &specs, partners.as_deref()).map_err(failure)?;
    match global.output {
        OutputFormat::Json => print_value(&serde_json::to_value(&report).unwrap_or_default()),
        OutputFormat::Text => print_table(&report, args.partners.is_some()),
    }
    Ok(())
}

fn failure(error: HostError) -> RunFailure {
    let message = format!("{error} ({})", error.code());
    if error.is_input() {
        RunFailure::Input(message)
    } else {
        RunFailure::Failed(message)
    }
}

fn print_table(report: &SharingReport, partners_checked: bool) {
    let header = [
        "IMAGE",
        "REGION",
        "ACCOUNT",
        "PARTNER",
        "LAUNCH",
        "SNAPSHOTS",
        "KEY ACCESS",
    ];
    let mut rows: Vec<[String; 7]> = Vec::new();
    for image in &report.images {
        let id = image.image_id.clone();
        let region = image.region.clone();
        if image.accounts.is_empty() {
            rows.push([
                id.clone(),
                region.clone(),
                "(no account)".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for row in &image.accounts {
            rows.push([
                id.clone(),
                region.clone(),
                row.account.clone(),
                row.partner.clone().unwrap_or_else(|| "-".into()),
                yes_no(row.launch).into(),
                yes_no(row.snapshots).into(),
                row.key_access.as_str().into(),
            ]);
        }
        for organization in &image.organizations {
            rows.push([
                id.clone(),
                region.clone(),
                organization.clone(),
                "-".into(),
                "yes".into(),
                "no".into(),
                "-".into(),
            ]);
        }
        if image.public {
            rows.push([
                id.clone(),
                region.clone(),
                "all (public)".into(),
                "-".into(),
                "yes".into(),
                "no".into(),
                "-".into(),
            ]);
        }
    }

    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        crate::outln!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }

    if !partners_checked {
        crate::outln!(
            "\nAccounts were not compared with a partner list; pass --partners SCRIPT to flag accounts that are not partners."
        );
    }
    if report.issues.is_empty() {
        crate::outln!("\nNo inconsistencies found.");
        return;
    }
    crate::outln!("\n{} issue(s):", report.issues.len());
    for issue in &report.issues {
        let account = issue
            .account
            .as_deref()
            .map(|a| format!(", account {a}"))
            .unwrap_or_default();
        crate::outln!(
            "  {} in {}{account}: {}",
            issue.image_id,
            issue.region,
            issue.message
        );
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}
