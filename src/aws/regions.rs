//! The regions this account may use.

use serde_json::json;

use super::{Aws, AwsError};

impl Aws {
    /// Lists the regions enabled for this account (DescribeRegions). Opt-in regions that the
    /// account never enabled are left out, as are names that are no region at all.
    pub async fn enabled_regions(&self) -> Result<Vec<String>, AwsError> {
        let region = self.default_region().clone();
        let call = self.ec2(&region).describe_regions().send();
        let output = self
            .call("DescribeRegions", &region, json!({}), call)
            .await?;
        Ok(output
            .regions()
            .iter()
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect())
    }
}
