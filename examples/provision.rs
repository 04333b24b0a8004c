//! Prepares the local emulator for the demo: `provision ENDPOINT` creates a source instance
//! and the records bucket and prints the instance ID; `provision ENDPOINT --report` prints
//! who can launch and copy each image the owner holds.

#[path = "../tests/amirun/support/fixtures.rs"]
mod fixtures;

use std::process::ExitCode;

const REPORT_REGIONS: &[&str] = &["ap-south-1", "ap-southeast-1", "ap-southeast-3"];

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(endpoint) = args.first() else {
        eprintln!("usage: provision http://127.0.0.1:PORT [--report]");
        return ExitCode::from(2);
    };
    if !endpoint.starts_with("http://127.") && !endpoint.starts_with("http://localhost") {
        eprintln!("provision only talks to a local emulator; `{endpoint}` is not a loopback URL");
        return ExitCode::from(2);
    }
    let result = if args.iter().any(|a| a == "--report") {
        report(endpoint).await
    } else {
        provision(endpoint).await
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn provision(endpoint: &str) -> Result<(), Box<dyn std::error::Error>> {
    let instance = fixtures::provision(endpoint).await?;
    println!("{instance}");
    Ok(())
}

async fn report(endpoint: &str) -> Result<(), Box<dyn std::error::Error>> {
    let images = fixtures::owned_images(endpoint, REPORT_REGIONS).await?;
    let mut rows = vec![[
        "region".to_owned(),
        "image".to_owned(),
        "name".to_owned(),
        "launchable by".to_owned(),
        "snapshots shared with".to_owned(),
    ]];
    for image in images {
        let snapshots: Vec<String> = image
            .snapshots
            .iter()
            .map(|(id, accounts)| match accounts.is_empty() {
                true => format!("{id}: (none)"),
                false => format!("{id}: {}", accounts.join(",")),
            })
            .collect();
        let launch = match image.launch.is_empty() {
            true => "(owner only)".to_owned(),
            false => image.launch.join(","),
        };
        rows.push([
            image.region,
            image.image_id,
            image.name,
            launch,
            snapshots.join("; "),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|column| rows.iter().map(|row| row[column].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    Ok(())
}
