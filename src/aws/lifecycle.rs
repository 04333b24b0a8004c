//! Deprecating and retiring images: deprecation times, deregistration, snapshot deletion.

use aws_sdk_ec2::types::Filter;
use aws_smithy_types::DateTime;
use serde_json::json;

use super::{Aws, AwsError, ImageInfo};
use crate::types::{ImageId, Region, SnapshotId};

impl Aws {
    /// Sets the time at which an image becomes deprecated (EnableImageDeprecation).
    pub async fn enable_image_deprecation(
        &self,
        region: &Region,
        image: &ImageId,
        time: DateTime,
    ) -> Result<(), AwsError> {
        let call = self
            .ec2(region)
            .enable_image_deprecation()
            .image_id(image.as_str())
            .deprecate_at(time)
            .send();
        let parameters =
            json!({ "image_id": image, "deprecate_at": crate::clock::format_rfc3339(time) });
        self.call("EnableImageDeprecation", region, parameters, call)
            .await?;
        Ok(())
    }

    pub async fn deregister_image(&self, region: &Region, image: &ImageId) -> Result<(), AwsError> {
        let call = self
            .ec2(region)
            .deregister_image()
            .image_id(image.as_str())
            .send();
        self.call(
            "DeregisterImage",
            region,
            json!({ "image_id": image }),
            call,
        )
        .await?;
        Ok(())
    }

    pub async fn delete_snapshot(
        &self,
        region: &Region,
        snapshot: &SnapshotId,
    ) -> Result<(), AwsError> {
        let call = self
            .ec2(region)
            .delete_snapshot()
            .snapshot_id(snapshot.as_str())
            .send();
        self.call(
            "DeleteSnapshot",
            region,
            json!({ "snapshot_id": snapshot }),
            call,
        )
        .await?;
        Ok(())
    }

    /// This account's images in `region` whose name starts with `prefix`, oldest first
    /// (by creation date, then name). Deregistered images are left out.
    pub async fn images_with_name_prefix(
        &self,
        region: &Region,
        prefix: &str,
    ) -> Result<Vec<ImageInfo>, AwsError> {
        let filter = Filter::builder()
            .name("name")
            .values(format!("{prefix}*"))
            .build();
        let call = self
            .ec2(region)
            .describe_images()
            .owners("self")
            .filters(filter)
            .include_deprecated(true)
            .send();
        let output = self
            .call(
                "DescribeImages",
                region,
                json!({ "name": format!("{prefix}*") }),
                call,
            )
            .await?;
        let mut images: Vec<ImageInfo> = output
            .images()
            .iter()
            .filter_map(|image| ImageInfo::from_sdk(image, region))
            .filter(|image| image.name.starts_with(prefix))
            .filter(|image| image.state.as_str() != "deregistered")
            .collect();
        images.sort_by(|a, b| {
            (a.creation_date.as_str(), a.name.as_str())
                .cmp(&(b.creation_date.as_str(), b.name.as_str()))
        });
        Ok(images)
    }
}
