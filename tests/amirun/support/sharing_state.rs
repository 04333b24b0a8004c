//! Emulator fixtures and state readers for the sharing and lifecycle tests: images made from
//! the source instance, KMS keys, and who may launch, copy and decrypt what.
#![allow(dead_code)]

use aws_sdk_ec2::types::{
    ImageAttributeName, LaunchPermission, LaunchPermissionModifications, OperationType,
    SnapshotAttributeName,
};

use super::fixtures::{ec2, kms, SOURCE_REGION};
use super::{block_on, World};

/// An image in the emulator's source region and its EBS snapshots.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub image_id: String,
    pub name: String,
    pub snapshots: Vec<String>,
}

impl World {
    /// Creates an image of the source instance directly in the emulator.
    pub fn make_image(&self, name: &str) -> TestImage {
        block_on(async {
            let client = ec2(&self.emulator.url(), SOURCE_REGION);
            let created = client
                .create_image()
                .instance_id(&self.instance)
                .name(name)
                .send()
                .await
                .expect("CreateImage failed");
            let image_id = created.image_id().expect("no image ID").to_owned();
            let described = client
                .describe_images()
                .image_ids(&image_id)
                .send()
                .await
                .expect("DescribeImages failed");
            let snapshots = described.images()[0]
                .block_device_mappings()
                .iter()
                .filter_map(|m| m.ebs().and_then(|e| e.snapshot_id()).map(str::to_owned))
                .collect();
            TestImage {
                image_id,
                name: name.to_owned(),
                snapshots,
            }
        })
    }

    /// Creates a customer-managed key in the source region; returns its ARN.
    pub fn make_key(&self) -> String {
        block_on(async {
            let created = kms(&self.emulator.url(), SOURCE_REGION)
                .create_key()
                .description("amirun test key")
                .send()
                .await
                .expect("CreateKey failed");
            created
                .key_metadata()
                .and_then(|m| m.arn())
                .expect("no key ARN")
                .to_owned()
        })
    }

    /// Grants on a key: (name, grantee principal, operations).
    pub fn grants(&self, key: &str) -> Vec<(String, String, Vec<String>)> {
        block_on(async {
            let listed = kms(&self.emulator.url(), SOURCE_REGION)
                .list_grants()
                .key_id(key)
                .send()
                .await
                .expect("ListGrants failed");
            listed
                .grants()
                .iter()
                .map(|g| {
                    (
                        g.name().unwrap_or_default().to_owned(),
                        g.grantee_principal().unwrap_or_default().to_owned(),
                        g.operations()
                            .iter()
                            .map(|o| o.as_str().to_owned())
                            .collect(),
                    )
                })
                .collect()
        })
    }

    /// Who may launch the image: account IDs, organization and OU ARNs, "all".
    pub fn launch_permissions(&self, image: &str) -> Vec<String> {
        block_on(async {
            let attribute = ec2(&self.emulator.url(), SOURCE_REGION)
                .describe_image_attribute()
                .image_id(image)
                .attribute(ImageAttributeName::LaunchPermission)
                .send()
                .await
                .expect("DescribeImageAttribute failed");
            let mut targets: Vec<String> = attribute
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
            targets.sort();
            targets
        })
    }

    /// Accounts with create-volume permission on the snapshot.
    pub fn snapshot_permissions(&self, snapshot: &str) -> Vec<String> {
        block_on(async {
            let attribute = ec2(&self.emulator.url(), SOURCE_REGION)
                .describe_snapshot_attribute()
                .snapshot_id(snapshot)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await
                .expect("DescribeSnapshotAttribute failed");
            let mut accounts: Vec<String> = attribute
                .create_volume_permissions()
                .iter()
                .filter_map(|p| p.user_id().map(str::to_owned))
                .collect();
            accounts.sort();
            accounts
        })
    }

    /// Gives `account` launch permission directly, as someone sharing by hand would.
    pub fn grant_launch(&self, image: &str, account: &str) {
        block_on(async {
            let permission = LaunchPermission::builder().user_id(account).build();
            ec2(&self.emulator.url(), SOURCE_REGION)
                .modify_image_attribute()
                .image_id(image)
                .launch_permission(
                    LaunchPermissionModifications::builder()
                        .add(permission)
                        .build(),
                )
                .send()
                .await
                .expect("ModifyImageAttribute failed");
        });
    }

    /// Gives `account` create-volume permission on the snapshot directly.
    pub fn grant_snapshot(&self, snapshot: &str, account: &str) {
        block_on(async {
            ec2(&self.emulator.url(), SOURCE_REGION)
                .modify_snapshot_attribute()
                .snapshot_id(snapshot)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .operation_type(OperationType::Add)
                .user_ids(account)
                .send()
                .await
                .expect("ModifySnapshotAttribute failed");
        });
    }

    /// This account's image IDs in the source region whose name starts with `prefix`.
    pub fn image_ids_named(&self, prefix: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .owned_images()
            .into_iter()
            .filter(|i| i.region == SOURCE_REGION && i.name.starts_with(prefix))
            .map(|i| i.image_id)
            .collect();
        ids.sort();
        ids
    }

    /// True while the emulator still contains the snapshot.
    pub fn snapshot_exists(&self, snapshot: &str) -> bool {
        block_on(async {
            let described = ec2(&self.emulator.url(), SOURCE_REGION)
                .describe_snapshots()
                .snapshot_ids(snapshot)
                .send()
                .await;
            match described {
                Ok(output) => !output.snapshots().is_empty(),
                Err(_) => false,
            }
        })
    }

    /// Writes a runbook into this world's state directory and returns its path.
    pub fn write_runbook(&self, file: &str, body: &str) -> std::path::PathBuf {
        let path = self.state.path().join(file);
        let text = format!(
            "//! runbook: {}\n//! version: 1\n{body}",
            file.trim_end_matches(".rhai")
        );
        std::fs::write(&path, text).expect("failed to write the runbook");
        path
    }

    /// `amirun run RUNBOOK` with a fresh state directory, so each call is a new run.
    pub fn run_runbook(&self, path: &std::path::Path, extra: &[&str]) -> super::Finished {
        let state = tempfile::tempdir().expect("no temp dir");
        let finished = self
            .amirun()
            .args(["run", "--poll-interval", "0.05", "--state-dir"])
            .arg_path(state.path())
            .arg_path(path)
            .args(extra)
            .run();
        drop(state);
        finished
    }
}
