//! Raw arguments turned into validated settings, and logging set-up.

use std::io::IsTerminal;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use super::args::{GlobalArgs, ParamArgs};
use crate::aws::AwsOptions;
use crate::host::HostSettings;
use crate::runbook::RunFailure;
use crate::types::Region;

pub fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("amirun={level},partner_script={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

pub fn host_settings(
    global: &GlobalArgs,
    allow_public: bool,
    poll_interval: Option<f64>,
) -> Result<HostSettings, RunFailure> {
    let region = global
        .region
        .as_deref()
        .map(Region::parse)
        .transpose()
        .map_err(|error| RunFailure::Input(format!("--region: {error}")))?;
    if let Some(url) = &global.endpoint_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(RunFailure::Input(format!(
                "--endpoint-url `{url}` is not an http:// or https:// URL"
            )));
        }
    }
    let mut settings = HostSettings {
        aws: AwsOptions {
            region,
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
        },
        allow_public,
        ..HostSettings::default()
    };
    if let Some(seconds) = poll_interval {
        if !(seconds > 0.0 && seconds <= 3600.0) {
            return Err(RunFailure::Input(format!("--poll-interval {seconds} is out of range; pass a number of seconds above 0 and at most 3600")));
        }
        settings.poll_interval = Duration::from_secs_f64(seconds);
        settings.max_poll_interval = settings.max_poll_interval.max(settings.poll_interval);
    }
    Ok(settings)
}

/// Splits `NAME=VALUE` pairs.
pub fn parse_params(args: &ParamArgs) -> Result<Vec<(String, String)>, RunFailure> {
    args.params
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            _ => Err(RunFailure::Input(format!(
                "--param `{pair}` is not NAME=VALUE"
            ))),
        })
        .collect()
}

pub fn runtime() -> Result<tokio::runtime::Runtime, RunFailure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| RunFailure::Failed(format!("cannot start the async runtime: {error}")))
}
