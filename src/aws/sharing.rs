//! Launch permissions of images and create-volume permissions of their snapshots.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    LaunchPermission, LaunchPermissionModifications, OperationType, PermissionGroup,
    SnapshotAttributeName,
};
use serde::Serialize;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{AccountId, ImageId, Region, ShareTarget, SnapshotId};

/// The launch permissions of an image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LaunchPermissions {
    pub targets: BTreeSet<String>,
}

impl LaunchPermissions {
    pub fn contains(&self, target: &ShareTarget) -> bool {
        self.targets.contains(&target.to_string())
    }
}

/// Whether the permission lists are to be extended or shrunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Remove,
}

fn launch_permission(target: &ShareTarget) -> LaunchPermission {
    let builder = LaunchPermission::builder();
    match target {
        ShareTarget::Account(id) => builder.user_id(id.as_str()),
        ShareTarget::Organization(arn) => builder.organization_arn(arn),
        ShareTarget::OrganizationalUnit(arn) => builder.organizational_unit_arn(arn),
        ShareTarget::Public => builder.group(PermissionGroup::All),
    }
    .build()
}

impl Aws {
    pub async fn launch_permissions(
        &self,
        region: &Region,
        image: &ImageId,
    ) -> Result<LaunchPermissions, AwsError> {
        let call = self
            .ec2(region)
            .describe_image_attribute()
            .image_id(image.as_str())
            .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
            .send();
        let output = self
            .call(
                "DescribeImageAttribute",
                region,
                json!({ "image_id": image, "attribute": "launchPermission" }),
                call,
            )
            .await?;
        let targets = output
            .launch_permissions()
            .iter()
            .filter_map(|p| {
                p.user_id()
                    .or(p.organization_arn())
                    .or(p.organizational_unit_arn())
                    .map(str::to_owned)
                    .or_else(|| p.group().map(|g| g.as_str().to_owned()))
            })
            .collect();
        Ok(LaunchPermissions { targets })
    }

    /// Changes launch permissions for all `targets` in one ModifyImageAttribute call.
    pub async fn modify_launch_permissions(
        &self,
        region: &Region,
        image: &ImageId,
        change: Change,
        targets: &[ShareTarget],
    ) -> Result<(), AwsError> {
        let permissions: Vec<LaunchPermission> = targets.iter().map(launch_permission).collect();
        let modifications = match change {
            Change::Add => LaunchPermissionModifications::builder().set_add(Some(permissions)),
            Change::Remove => {
                LaunchPermissionModifications::builder().set_remove(Some(permissions))
            }
        }
        .build();
        let call = self
            .ec2(region)
            .modify_image_attribute()
            .image_id(image.as_str())
            .launch_permission(modifications)
            .send();
        let names: Vec<String> = targets.iter().map(ToString::to_string).collect();
        let parameters = json!({ "image_id": image, "operation": format!("{change:?}").to_lowercase(), "launch_permission": names });
        self.call("ModifyImageAttribute", region, parameters, call)
            .await?;
        Ok(())
    }

    pub async fn snapshot_permissions(
        &self,
        region: &Region,
        snapshot: &SnapshotId,
    ) -> Result<BTreeSet<String>, AwsError> {
        let call = self
            .ec2(region)
            .describe_snapshot_attribute()
            .snapshot_id(snapshot.as_str())
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .send();
        let output = self
            .call(
                "DescribeSnapshotAttribute",
                region,
                json!({ "snapshot_id": snapshot, "attribute": "createVolumePermission" }),
                call,
            )
            .await?;
        Ok(output
            .create_volume_permissions()
            .iter()
            .filter_map(|p| {
                p.user_id()
                    .map(str::to_owned)
                    .or_else(|| p.group().map(|g| g.as_str().to_owned()))
            })
            .collect())
    }

    /// Changes create-volume permission of one snapshot for all `accounts` in one call.
    pub async fn modify_snapshot_permissions(
        &self,
        region: &Region,
        snapshot: &SnapshotId,
        change: Change,
        accounts: &[AccountId],
    ) -> Result<(), AwsError> {
        // The flat form (OperationType plus UserId.N) is equivalent to the structured
        // CreateVolumePermission form in AWS, and it is the one the local emulator reads.
        let operation = match change {
            Change::Add => OperationType::Add,
            Change::Remove => OperationType::Remove,
        };
        let call = self
            .ec2(region)
            .modify_snapshot_attribute()
            .snapshot_id(snapshot.as_str())
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(operation)
            .set_user_ids(Some(
                accounts.iter().map(|a| a.as_str().to_owned()).collect(),
            ))
            .send();
        let parameters = json!({ "snapshot_id": snapshot, "operation": format!("{change:?}").to_lowercase(), "create_volume_permission": accounts });
        self.call("ModifySnapshotAttribute", region, parameters, call)
            .await?;
        Ok(())
    }
}
