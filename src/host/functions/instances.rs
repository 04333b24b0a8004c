//! prepare_instance.

use std::rc::Rc;
use std::time::Duration;

use rhai::{Array, Dynamic, Map};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::super::convert::{instance_id, string_arg, to_dynamic, Options};
use super::super::plan::PlannedChange;
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::no_options;
use crate::aws::CommandResult;
use crate::types::{InputError, InstanceId, Region};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "prepare_instance",
        &["instance_id: &str", "commands: Array", "Map"],
        move |instance: &str, commands: Array| {
            prepare_instance(&c, instance, &commands, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "prepare_instance",
        &[
            "instance_id: &str",
            "commands: Array",
            "options: Map",
            "Map"
        ],
        move |instance: &str, commands: Array, options: Map| prepare_instance(
            &c, instance, &commands, &options
        )
        .map_err(HostError::into_rhai),
    );
}

fn prepare_instance(
    ctx: &HostContext,
    instance: &str,
    commands: &Array,
    options: &Map,
) -> Result<Dynamic, HostError> {
    let options = Options::new("prepare_instance", options, &["region", "timeout"])?;
    let instance = instance_id(instance)?;
    let timeout = options
        .seconds("timeout")?
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
    let region = ctx.region_or_default(options.region()?)?;
    let commands: Vec<String> = commands
        .iter()
        .map(|c| string_arg("prepare_instance", "commands[]", c))
        .collect::<Result<_, _>>()?;
    if commands.is_empty() {
        return Err(InputError::new("commands", "[]", "pass at least one shell command").into());
    }

    if ctx.is_plan() {
        let (check_region, check_instance) = (region.clone(), instance.clone());
        ctx.defer(move |ctx| check_instance_exists(ctx, &check_region, &check_instance));
        ctx.record_change(PlannedChange {
            operation: "prepare_instance".into(),
            region: region.to_string(),
            resource: instance.to_string(),
            targets: vec![],
            diff: vec![],
            detail: format!("{} shell commands through SSM", commands.len()),
        });
        return to_dynamic(&json!({ "status": "Planned", "stdout": "", "stderr": "" }));
    }

    let digest = hex::encode(Sha256::digest(commands.join("\n").as_bytes()));
    let arguments = json!({ "region": region, "instance_id": instance, "commands_sha256": digest });
    let poll = ctx.settings.poll_interval.min(Duration::from_secs(5));
    let result: CommandResult = ctx.step("prepare_instance", arguments, |_| {
        let aws = ctx.aws()?;
        let result = ctx.block_on(async {
            Ok(aws
                .run_shell_script(&region, &instance, &commands, timeout, poll)
                .await?)
        })?;
        if result.status != "Success" {
            let stderr = result.stderr.trim();
            return Err(HostError::failed(
                "CommandFailed",
                format!(
                    "commands on {instance} in {region} ended with status {}: {}",
                    result.status,
                    if stderr.is_empty() {
                        "(no output on stderr)"
                    } else {
                        stderr
                    }
                ),
            ));
        }
        Ok(result)
    })?;
    to_dynamic(&result)
}

/// Checks once per session that the instance exists, because SendCommand and CreateImage
/// would otherwise fail only after the run's first changes. When the instance cannot be
/// read, the check is skipped with a warning.
pub(super) fn check_instance_exists(
    ctx: &HostContext,
    region: &Region,
    instance: &InstanceId,
) -> Result<(), HostError> {
    let key = format!("instance {region} {instance}");
    if !ctx.first_check(key.clone()) {
        return Ok(());
    }
    let aws = ctx.aws()?;
    match ctx.block_on(async { Ok(aws.instance_exists(region, instance).await?) }) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(HostError::Cancelled) => return Err(HostError::Cancelled),
        Err(error) => {
            // A caller without ec2:DescribeInstances may still image the instance.
            tracing::warn!(%error, %instance, "cannot read the instance; its existence is not checked");
            return Ok(());
        }
    }
    ctx.forget_check(&key);
    Err(HostError::Rejected(format!(
        "instance {instance} was not found in {region}, or it is terminated; check the instance ID, or name the instance's region with --region or options.region"
    )))
}
