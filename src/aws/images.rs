//! Creating, copying, finding and describing images.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde::Serialize;
use serde_json::json;

use super::{Aws, AwsError};
use crate::types::{AmiName, ImageId, InstanceId, KmsKey, Region, SnapshotId, Tags};

/// The lifecycle state of an image, as DescribeImages reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageState {
    Pending,
    Available,
    Failed,
    /// Any other state (`deregistered`, `invalid`, `error`, `disabled`, ...).
    Other(String),
}

impl ImageState {
    fn from_sdk(state: Option<&aws_sdk_ec2::types::ImageState>) -> Self {
        match state.map(|s| s.as_str()) {
            Some("pending") => Self::Pending,
            Some("available") => Self::Available,
            Some("failed") => Self::Failed,
            Some(other) => Self::Other(other.to_owned()),
            None => Self::Other("unknown".to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Available => "available",
            Self::Failed => "failed",
            Self::Other(state) => state,
        }
    }
}

/// One EBS snapshot behind an image.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub snapshot_id: SnapshotId,
    pub device: String,
    pub encrypted: bool,
    pub kms_key: Option<String>,
}

/// The facts amirun uses about one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    pub image_id: ImageId,
    pub region: Region,
    pub name: String,
    pub state: ImageState,
    pub state_reason: Option<String>,
    pub owner: String,
    pub creation_date: String,
    pub architecture: String,
    pub tags: BTreeMap<String, String>,
    pub snapshots: Vec<SnapshotInfo>,
    /// The instance CreateImage made this image from, when EC2 reports it.
    pub source_instance: Option<String>,
    /// The image CopyImage copied this one from, when EC2 reports it.
    pub source_image: Option<String>,
}

impl ImageInfo {
    pub(super) fn from_sdk(image: &aws_sdk_ec2::types::Image, region: &Region) -> Option<Self> {
        let image_id = ImageId::parse(image.image_id()?).ok()?;
        let snapshots = image
            .block_device_mappings()
            .iter()
            .filter_map(|mapping| {
                let ebs = mapping.ebs()?;
                Some(SnapshotInfo {
                    snapshot_id: SnapshotId::parse(ebs.snapshot_id()?).ok()?,
                    device: mapping.device_name().unwrap_or_default().to_owned(),
                    encrypted: ebs.encrypted().unwrap_or(false),
                    kms_key: ebs.kms_key_id().map(str::to_owned),
                })
            })
            .collect();
        let state_reason = image.state_reason().map(|reason| {
            format!(
                "{}: {}",
                reason.code().unwrap_or("unknown"),
                reason.message().unwrap_or("no message")
            )
        });
        Some(Self {
            image_id,
            region: region.clone(),
            name: image.name().unwrap_or_default().to_owned(),
            state: ImageState::from_sdk(image.state()),
            state_reason,
            owner: image.owner_id().unwrap_or_default().to_owned(),
            creation_date: image.creation_date().unwrap_or_default().to_owned(),
            architecture: image
                .architecture()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            tags: image
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
            snapshots,
            source_instance: image.source_instance_id().map(str::to_owned),
            source_image: image.source_image_id().map(str::to_owned),
        })
    }
}

/// CreateImage arguments.
pub struct CreateRequest<'a> {
    pub region: &'a Region,
    pub instance: &'a InstanceId,
    pub name: &'a AmiName,
    pub description: Option<&'a str>,
    pub no_reboot: bool,
    pub tags: &'a Tags,
}

/// CopyImage arguments.
pub struct CopyRequest<'a> {
    pub source: &'a ImageId,
    pub source_region: &'a Region,
    pub region: &'a Region,
    pub name: &'a AmiName,
    pub description: Option<&'a str>,
    pub encrypted: bool,
    pub kms_key: Option<&'a KmsKey>,
    pub copy_tags: bool,
    pub tags: &'a Tags,
    pub client_token: &'a str,
}

fn tag_specification(tags: &Tags) -> TagSpecification {
    let tags = tags
        .iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build());
    TagSpecification::builder()
        .resource_type(ResourceType::Image)
        .set_tags(Some(tags.collect()))
        .build()
}

fn tags_json(tags: &Tags) -> serde_json::Value {
    tags.iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn returned_id(
    operation: &'static str,
    region: &Region,
    id: Option<&str>,
) -> Result<ImageId, AwsError> {
    let id = id.unwrap_or_default();
    ImageId::parse(id).map_err(|_| {
        AwsError::local(
            operation,
            region.as_str(),
            "InvalidResponse",
            format!("AWS returned no valid image ID (`{id}`)"),
        )
    })
}

impl Aws {
    /// Starts CreateImage with its tags applied at creation. Retries are off for this call:
    /// a retried CreateImage whose first reply was lost would make a second image, so the
    /// caller looks for the image instead (see `find_by_name`).
    pub async fn create_image(&self, request: &CreateRequest<'_>) -> Result<ImageId, AwsError> {
        let client = self.ec2(request.region);
        let mut call = client
            .create_image()
            .instance_id(request.instance.as_str())
            .name(request.name.as_str())
            .no_reboot(request.no_reboot)
            .set_description(request.description.map(str::to_owned));
        if !request.tags.is_empty() {
            call = call.tag_specifications(tag_specification(request.tags));
        }
        let parameters = json!({
            "instance_id": request.instance, "name": request.name,
            "no_reboot": request.no_reboot, "tags": tags_json(request.tags),
        });
        let output = self
            .call(
                "CreateImage",
                request.region,
                parameters,
                call.customize().config_override(no_retry()).send(),
            )
            .await?;
        returned_id("CreateImage", request.region, output.image_id())
    }

    /// Starts CopyImage into `request.region` and returns the new image ID at once.
    pub async fn copy_image(&self, request: &CopyRequest<'_>) -> Result<ImageId, AwsError> {
        let client = self.ec2(request.region);
        let mut call = client
            .copy_image()
            .source_image_id(request.source.as_str())
            .source_region(request.source_region.as_str())
            .name(request.name.as_str())
            .set_description(request.description.map(str::to_owned))
            .client_token(request.client_token)
            .copy_image_tags(request.copy_tags);
        if request.encrypted {
            call = call.encrypted(true);
        }
        if let Some(key) = request.kms_key {
            call = call.encrypted(true).kms_key_id(key.as_str());
        }
        if !request.tags.is_empty() {
            call = call.tag_specifications(tag_specification(request.tags));
        }
        let parameters = json!({
            "source_image_id": request.source, "source_region": request.source_region,
            "name": request.name, "encrypted": request.encrypted || request.kms_key.is_some(),
            "kms_key_id": request.kms_key, "client_token": request.client_token,
            "tags": tags_json(request.tags),
        });
        let output = self
            .call(
                "CopyImage",
                request.region,
                parameters,
                call.customize().config_override(no_retry()).send(),
            )
            .await?;
        returned_id("CopyImage", request.region, output.image_id())
    }

    /// Describes the given images of one region in a single call.
    pub async fn describe_images(
        &self,
        region: &Region,
        ids: &[ImageId],
    ) -> Result<Vec<ImageInfo>, AwsError> {
        let call = self
            .ec2(region)
            .describe_images()
            .set_image_ids(Some(ids.iter().map(|id| id.as_str().to_owned()).collect()))
            .include_deprecated(true)
            .send();
        let output = self
            .call("DescribeImages", region, json!({ "image_ids": ids }), call)
            .await?;
        Ok(output
            .images()
            .iter()
            .filter_map(|i| ImageInfo::from_sdk(i, region))
            .collect())
    }

    /// Progress of snapshots, such as `45%`, keyed by snapshot ID: what a pending copy shows.
    pub async fn snapshot_progress(
        &self,
        region: &Region,
        ids: &[SnapshotId],
    ) -> Result<BTreeMap<SnapshotId, String>, AwsError> {
        let call = self
            .ec2(region)
            .describe_snapshots()
            .set_snapshot_ids(Some(ids.iter().map(|id| id.as_str().to_owned()).collect()))
            .send();
        let output = self
            .call(
                "DescribeSnapshots",
                region,
                json!({ "snapshot_ids": ids }),
                call,
            )
            .await?;
        Ok(output
            .snapshots()
            .iter()
            .filter_map(|s| {
                let id = SnapshotId::parse(s.snapshot_id()?).ok()?;
                Some((id, s.progress().unwrap_or("0%").to_owned()))
            })
            .collect())
    }

    /// Finds this account's pending or available images in `region` named `name`, oldest
    /// first. One call covers both ways an earlier attempt is recognised, by its step tag
    /// and by its name, because the step tag is derived from arguments that include the name.
    pub async fn find_by_name(
        &self,
        region: &Region,
        name: &AmiName,
    ) -> Result<Vec<ImageInfo>, AwsError> {
        let by_name = Filter::builder().name("name").values(name.as_str()).build();
        self.find_with_filter(region, by_name, json!({ "name": name }))
            .await
    }

    async fn find_with_filter(
        &self,
        region: &Region,
        filter: Filter,
        parameters: serde_json::Value,
    ) -> Result<Vec<ImageInfo>, AwsError> {
        let call = self
            .ec2(region)
            .describe_images()
            .owners("self")
            .filters(filter)
            .send();
        let output = self
            .call("DescribeImages", region, parameters, call)
            .await?;
        let mut images: Vec<ImageInfo> = output
            .images()
            .iter()
            .filter_map(|i| ImageInfo::from_sdk(i, region))
            .filter(|i| matches!(i.state, ImageState::Pending | ImageState::Available))
            .collect();
        images.sort_by(|a, b| a.creation_date.cmp(&b.creation_date));
        Ok(images)
    }
}

fn no_retry() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_config(aws_config::retry::RetryConfig::disabled())
}
