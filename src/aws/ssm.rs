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

/// Explains `InvalidInstanceId`, which SSM returns with an empty message when it does not
/// manage the instance.
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

#[cfg(test)]
mod tests {
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials};
    use aws_sdk_ssm::error::ErrorMetadata;
    use aws_sdk_ssm::operation::send_command::SendCommandError;
    use aws_sdk_ssm::types::error::InvalidInstanceId;
    use aws_smithy_mocks::{create_mock_http_client, mock, MockResponseInterceptor};

    use super::*;

    /// Mock test: the emulator accepts SendCommand for any instance, so the reply AWS gives
    /// for an instance that Systems Manager does not manage (`InvalidInstanceId` with an empty
    /// message) comes from aws-smithy-mocks, in the SDK's own error shape.
    #[tokio::test]
    async fn unmanaged_instance_error_names_causes() {
        let rule = mock!(aws_sdk_ssm::Client::send_command).then_error(|| {
            let meta = ErrorMetadata::builder()
                .code("InvalidInstanceId")
                .message("")
                .build();
            SendCommandError::InvalidInstanceId(InvalidInstanceId::builder().meta(meta).build())
        });
        let region = Region::parse("ap-south-1").unwrap();
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("ap-south-1"))
            .credentials_provider(Credentials::new("emulator", "emulator", None, None, "mock"))
            .http_client(create_mock_http_client())
            .interceptor(MockResponseInterceptor::new().with_rule(&rule))
            .build();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("ap-south-1"))
            .build();
        let aws = Aws::from_sdk_config(sdk).expect("the configuration names a region");
        aws.insert_ssm_client(&region, aws_sdk_ssm::Client::from_conf(config));

        let instance = InstanceId::parse("i-0123456789abcdef0").unwrap();
        let commands = ["true".to_owned()];
        let error = aws
            .run_shell_script(
                &region,
                &instance,
                &commands,
                Duration::from_secs(30),
                Duration::from_millis(10),
            )
            .await
            .expect_err("an unmanaged instance must fail");

        assert_eq!(error.operation, "SendCommand");
        assert_eq!(error.code(), "InvalidInstanceId");
        assert!(
            error
                .message
                .starts_with("Systems Manager does not manage this instance in ap-south-1."),
            "{}",
            error.message
        );
        for cause in [
            "SSM agent is not running",
            "instance profile",
            "another region or account",
        ] {
            assert!(
                error.message.contains(cause),
                "message lacks {cause:?}: {}",
                error.message
            );
        }
        assert_eq!(rule.num_calls(), 1);
    }
}
