//! Reading EC2 instances.

use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{InstanceId, Region};

impl Aws {
    /// Returns whether the instance exists in `region` (DescribeInstances); a terminated
    /// instance counts as missing, because it can be neither cleaned nor imaged.
    pub async fn instance_exists(
        &self,
        region: &Region,
        instance: &InstanceId,
    ) -> Result<bool, AwsError> {
        let call = self
            .ec2(region)
            .describe_instances()
            .instance_ids(instance.as_str())
            .send();
        match self
            .call(
                "DescribeInstances",
                region,
                json!({ "instance_id": instance }),
                call,
            )
            .await
        {
            Ok(output) => Ok(output
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .any(|i| {
                    i.state()
                        .and_then(|s| s.name())
                        .is_none_or(|name| name.as_str() != "terminated")
                })),
            Err(error) if error.code() == "InvalidInstanceID.NotFound" => Ok(false),
            Err(error) => Err(error),
        }
    }
}
