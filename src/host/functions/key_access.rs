//! The KMS keys behind an image's snapshots, and the grants that give partners access to them.

use std::collections::BTreeMap;

use super::super::{HostContext, HostError};
use crate::aws::{grant_name, partner_policy_statement, Aws, AwsError, ImageInfo, PartnerGrant};
use crate::types::{AccountId, ImageId, KmsKey, Region, SnapshotId};

/// One KMS key that encrypts snapshots of an image.
#[derive(Debug, Clone)]
pub struct ImageKey {
    /// The key ARN as DescribeKey returns it.
    pub arn: String,
    /// Where the key lives: the region in its ARN, else the image's region.
    pub region: Region,
    pub aws_managed: bool,
    pub snapshots: Vec<SnapshotId>,
}

/// Describes each distinct key of the image's encrypted snapshots once.
pub fn image_keys(ctx: &HostContext, info: &ImageInfo) -> Result<Vec<ImageKey>, HostError> {
    let mut by_key: BTreeMap<String, Vec<SnapshotId>> = BTreeMap::new();
    for snapshot in info.snapshots.iter().filter(|s| s.encrypted) {
        if let Some(key) = &snapshot.kms_key {
            by_key
                .entry(key.clone())
                .or_default()
                .push(snapshot.snapshot_id.clone());
        }
    }
    let aws = ctx.aws()?;
    let mut keys = Vec::new();
    for (key, snapshots) in by_key {
        let region = key_region(&key, &info.region);
        let described = ctx.block_on(async { Ok(aws.describe_key(&region, &key).await?) })?;
        keys.push(ImageKey {
            arn: described.arn,
            region,
            aws_managed: described.aws_managed,
            snapshots,
        });
    }
    Ok(keys)
}

/// The region named in a key ARN; a bare key ID or alias lives in the image's region.
pub fn key_region(key: &str, image_region: &Region) -> Region {
    KmsKey::parse(key)
        .ok()
        .and_then(|k| k.arn_region().and_then(|r| Region::parse(r).ok()))
        .unwrap_or_else(|| image_region.clone())
}

/// Makes sure every account has a grant on every customer-managed key of the image. A grant
/// that exists already is kept as it is.
pub async fn grant_partners(
    aws: &Aws,
    owner: &AccountId,
    image: &ImageId,
    keys: &[ImageKey],
    accounts: &[AccountId],
) -> Result<Vec<PartnerGrant>, HostError> {
    let mut grants = Vec::new();
    for key in keys.iter().filter(|k| !k.aws_managed) {
        for account in accounts {
            let name = grant_name(image.as_str(), account);
            let ensured = aws
                .ensure_partner_grant(&key.region, &key.arn, &name, account, owner)
                .await
                .map_err(HostError::from);
            let grant = ensured.map_err(|error| explain_denied(error, image, key, accounts))?;
            if grant.created {
                tracing::info!(%image, key = %key.arn, %account, grant = %grant.grant_id, "granted key access to partner");
            }
            grants.push(grant);
        }
    }
    Ok(grants)
}

/// Retires the grants amirun made for `accounts` on the image's customer-managed keys.
/// Returns the retired grant IDs; none when no such grant exists.
pub fn retire_partner_grants(
    ctx: &HostContext,
    image: &ImageId,
    keys: &[ImageKey],
    accounts: &[AccountId],
) -> Result<Vec<String>, HostError> {
    let names: Vec<String> = accounts
        .iter()
        .map(|account| grant_name(image.as_str(), account))
        .collect();
    retire_grants_where(ctx, keys, |name| names.iter().any(|n| n == name))
}

/// Retires every grant amirun made for the image, whichever account it names.
pub fn retire_all_image_grants(
    ctx: &HostContext,
    image: &ImageId,
    keys: &[ImageKey],
) -> Result<Vec<String>, HostError> {
    let prefix = format!("amirun-{image}-");
    retire_grants_where(ctx, keys, |name| name.starts_with(&prefix))
}

fn retire_grants_where(
    ctx: &HostContext,
    keys: &[ImageKey],
    matches: impl Fn(&str) -> bool,
) -> Result<Vec<String>, HostError> {
    let aws = ctx.aws()?;
    let mut retired = Vec::new();
    for key in keys.iter().filter(|k| !k.aws_managed) {
        let ids = ctx.block_on(async {
            Ok(aws
                .retire_grants_where(&key.region, &key.arn, |grant| matches(&grant.name))
                .await?)
        })?;
        retired.extend(ids);
    }
    Ok(retired)
}

/// Turns a denied grant call into an error that prints the key-policy statement the key
/// owner can add instead.
fn explain_denied(
    error: HostError,
    image: &ImageId,
    key: &ImageKey,
    accounts: &[AccountId],
) -> HostError {
    let HostError::Aws(aws_error) = &error else {
        return error;
    };
    if !is_access_denied(aws_error) {
        return error;
    }
    let statement = partner_policy_statement(&key.arn, accounts);
    let statement = serde_json::to_string_pretty(&statement).unwrap_or_default();
    HostError::failed(
        "AccessDeniedException",
        format!(
            "cannot give the partner accounts access to key {} of image {image}: {} was denied ({}). \
             Nothing was shared. Either allow these credentials kms:ListGrants, kms:CreateGrant and kms:RetireGrant on the key, \
             or ask the key owner to add this statement to the key policy:\n{statement}",
            key.arn, aws_error.operation, aws_error.message
        ),
    )
}

fn is_access_denied(error: &AwsError) -> bool {
    matches!(error.code(), "AccessDeniedException" | "AccessDenied")
}
