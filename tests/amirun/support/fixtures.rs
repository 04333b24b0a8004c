//! Emulator fixtures shared by the integration tests and the demo's `provision` example:
//! SDK clients aimed at the emulator, a source instance, the records bucket, and a report
//! of who can launch and copy which image.
#![allow(dead_code)]

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ec2::types::{ImageAttributeName, SnapshotAttributeName};

pub const OWNER_ACCOUNT: &str = "210987654321";
pub const SOURCE_REGION: &str = "ap-south-1";
pub const RECORDS_BUCKET: &str = "mylearning-compliance-records";

/// Placeholder keys: the emulator accepts any, and they grant nothing anywhere else.
fn credentials() -> Credentials {
    Credentials::new("emulator", "emulator", None, None, "amirun-tests")
}

pub fn ec2(endpoint: &str, region: &str) -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(credentials())
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

pub fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(SOURCE_REGION))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "emulator",
            "emulator",
            None,
            None,
            "amirun-tests",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn kms(endpoint: &str, region: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .region(aws_sdk_kms::config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "emulator",
            "emulator",
            None,
            None,
            "amirun-tests",
        ))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// Registers a base image, launches the source instance from it and creates the records
/// bucket. Returns the instance ID.
pub async fn provision(endpoint: &str) -> Result<String, Box<dyn std::error::Error>> {
    let instance = provision_instance(endpoint).await?;
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
            SOURCE_REGION,
        ))
        .build();
    s3(endpoint)
        .create_bucket()
        .bucket(RECORDS_BUCKET)
        .create_bucket_configuration(location)
        .send()
        .await?;
    Ok(instance)
}

/// Registers a base image and launches one instance from it. Returns the instance ID.
pub async fn provision_instance(endpoint: &str) -> Result<String, Box<dyn std::error::Error>> {
    let client = ec2(endpoint, SOURCE_REGION);
    let base = client
        .register_image()
        .name("amirun-test-base")
        .send()
        .await?;
    let base_id = base
        .image_id()
        .ok_or("RegisterImage returned no image ID")?;
    let launched = client
        .run_instances()
        .image_id(base_id)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await?;
    let instance = launched
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .ok_or("RunInstances returned no instance")?
        .to_owned();
    Ok(instance)
}

/// One image this account owns, with who may launch it and who may copy its snapshots.
#[derive(Debug, Clone)]
pub struct OwnedImage {
    pub region: String,
    pub image_id: String,
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub launch: Vec<String>,
    pub snapshots: Vec<(String, Vec<String>)>,
}

/// Lists every image the owner has in `regions`, except the base image fixtures register.
pub async fn owned_images(
    endpoint: &str,
    regions: &[&str],
) -> Result<Vec<OwnedImage>, Box<dyn std::error::Error>> {
    let mut images = Vec::new();
    for region in regions {
        let client = ec2(endpoint, region);
        let described = client.describe_images().owners("self").send().await?;
        for image in described.images() {
            let name = image.name().unwrap_or_default().to_owned();
            if name == "amirun-test-base" {
                continue;
            }
            let image_id = image.image_id().unwrap_or_default().to_owned();
            let attribute = client
                .describe_image_attribute()
                .image_id(&image_id)
                .attribute(ImageAttributeName::LaunchPermission)
                .send()
                .await?;
            let mut launch: Vec<String> = attribute
                .launch_permissions()
                .iter()
                .filter_map(|p| {
                    p.user_id()
                        .or(p.organization_arn())
                        .or(p.organizational_unit_arn())
                        .map(str::to_owned)
                })
                .collect();
            launch.sort();
            let mut snapshots = Vec::new();
            for mapping in image.block_device_mappings() {
                let Some(snapshot) = mapping.ebs().and_then(|e| e.snapshot_id()) else {
                    continue;
                };
                let permissions = client
                    .describe_snapshot_attribute()
                    .snapshot_id(snapshot)
                    .attribute(SnapshotAttributeName::CreateVolumePermission)
                    .send()
                    .await?;
                let mut accounts: Vec<String> = permissions
                    .create_volume_permissions()
                    .iter()
                    .filter_map(|p| p.user_id().map(str::to_owned))
                    .collect();
                accounts.sort();
                snapshots.push((snapshot.to_owned(), accounts));
            }
            let tags = image
                .tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            images.push(OwnedImage {
                region: region.to_string(),
                image_id,
                name,
                tags,
                launch,
                snapshots,
            });
        }
    }
    Ok(images)
}
