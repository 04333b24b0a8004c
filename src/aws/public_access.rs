//! The account's block-public-access setting for AMIs, which amirun reads and never changes.

use serde::Serialize;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::Region;

/// The AMI block-public-access state of an account in one region.
#[derive(Debug, Clone, Serialize)]
pub struct BlockPublicAccess {
    /// `block-new-sharing` or `unblocked`, as GetImageBlockPublicAccessState returns it.
    pub state: String,
    /// `account` or `declarative-policy`, when AWS reports who manages the setting.
    pub managed_by: Option<String>,
}

impl BlockPublicAccess {
    /// True unless AWS reports the state `unblocked`: an unknown state is treated as blocking.
    pub fn is_blocking(&self) -> bool {
        self.state != "unblocked"
    }
}

impl Aws {
    pub async fn image_block_public_access(
        &self,
        region: &Region,
    ) -> Result<BlockPublicAccess, AwsError> {
        let call = self
            .ec2(region)
            .get_image_block_public_access_state()
            .send();
        let output = self
            .call("GetImageBlockPublicAccessState", region, json!({}), call)
            .await?;
        Ok(BlockPublicAccess {
            state: output
                .image_block_public_access_state()
                .unwrap_or("unknown")
                .to_owned(),
            managed_by: output.managed_by().map(|m| m.as_str().to_owned()),
        })
    }
}
