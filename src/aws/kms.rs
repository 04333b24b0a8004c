//! KMS key facts needed before sharing encrypted images.

use serde::Serialize;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::Region;

/// The manager of a key: `AWS` keys (such as `alias/aws/ebs`) cannot be used across accounts.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub arn: String,
    pub aws_managed: bool,
}

impl Aws {
    pub async fn describe_key(&self, region: &Region, key: &str) -> Result<KeyInfo, AwsError> {
        let call = self.kms(region).describe_key().key_id(key).send();
        let output = self
            .call("DescribeKey", region, json!({ "key_id": key }), call)
            .await?;
        let metadata = output.key_metadata();
        Ok(KeyInfo {
            arn: metadata.and_then(|m| m.arn()).unwrap_or(key).to_owned(),
            aws_managed: metadata
                .and_then(|m| m.key_manager())
                .is_some_and(|m| *m == aws_sdk_kms::types::KeyManagerType::Aws),
        })
    }

    pub async fn caller_account(&self) -> Result<String, AwsError> {
        let region = self.default_region().clone();
        let call = self.sts().get_caller_identity().send();
        let output = self
            .call("GetCallerIdentity", &region, json!({}), call)
            .await?;
        Ok(output.account().unwrap_or_default().to_owned())
    }
}
