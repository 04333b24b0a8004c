//! Running shell commands on an instance through Systems Manager.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{InstanceId, Region};

/// The end of one command invocation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandResult {
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

const TERMINAL: &[&str] = &["Success", "Failed", "Cancelled", "TimedOut", "Cancelling"];

impl Aws {
    /// Sends AWS-RunShellScript to one instance and waits up to `timeout` for it to end.
    pub async fn run_shell_script(
        &self,
        region: &Region,
        instance: &InstanceId,
        commands: &[String],
        timeout: Duration,
        poll: Duration,
    ) -> Result<CommandResult, AwsError> {
        let call = self
            .ssm(region)
            .send_command()
            .instance_ids(instance.as_str())
            .document_name("AWS-RunShellScript")
            .parameters("commands", commands.to_vec())
            .timeout_seconds(
                i32::try_from(timeout.as_secs().clamp(30, 2_592_000)).unwrap_or(i32::MAX),
            )
            .comment("amirun prepare_instance")
            .send();
        let parameters = json!({ "instance_id": instance, "document": "AWS-RunShellScript", "command_count": commands.len() });
        let output = self
            .call("SendCommand", region, parameters, call)
            .await
            .map_err(explain_unmanaged_instance)?;
        let command_id = output
            .command()
            .and_then(|c| c.command_id())
            .unwrap_or_default()
            .to_owned();

        let deadline = Instant::now() + timeout;
        loop {
            match self.command_invocation(region, instance, &command_id).await {
                Ok(result) if TERMINAL.contains(&result.status.as_str()) => return Ok(result),
                Ok(result) => {
                    tracing::debug!(%instance, status = %result.status, "command still running")
                }
                // The invocation appears shortly after SendCommand returns.
                Err(error) if error.code() == "InvocationDoesNotExist" => {}
                Err(error) => return Err(error),
            }
            if Instant::now() >= deadline {
                return Err(AwsError::local(
                    "GetCommandInvocation",
                    region.as_str(),
                    "TimedOut",
                    format!("command {command_id} on {instance} did not finish within {}s; raise options.timeout", timeout.as_secs()),
                ));
            }
            tokio::time::sleep(poll).await;
        }
    }

    async fn command_invocation(
        &self,
        region: &Region,
        instance: &InstanceId,
        command_id: &str,
    ) -> Result<CommandResult, AwsError> {
        let call = self
            .ssm(region)
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance.as_str())
            .send();
        let output = self
            .call(
                "GetCommandInvocation",
                region,
                json!({ "command_id": command_id, "instance_id": instance }),
                call,
            )
            .await?;
        Ok(CommandResult {
            status: output
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            stdout: output
                .standard_output_content()
                .unwrap_or_default()
                .to_owned(),
            stderr: output
                .standard_error_content()
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

/// SSM answers `InvalidInstanceId` with an empty message when the instance is not managed.
fn explain_unmanaged_instance(mut error: AwsError) -> AwsError {
    if error.code() == "InvalidInstanceId" {
        error.message = format!(
            "Systems Manager does not manage this instance in {}. Likely causes: the SSM agent is not \
             running or not yet registered (wait a few minutes after launch), the instance has no \
             instance profile with AmazonSSMManagedInstanceCore, or the instance is in another region \
             or account (pass options.region).{}",
            error.region,
            if error.message.trim().is_empty() || error.message.contains("service error") {
                String::new()
            } else {
                format!(" AWS said: {}", error.message)
            }
        );
    }
    error
}
