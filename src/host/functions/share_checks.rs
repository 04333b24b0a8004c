//! Checks that run before `share` changes anything: targets, encryption keys, the account's
//! block-public-access setting, and what organization targets cannot do.

use super::super::plan::ImageRef;
use super::super::{HostContext, HostError};
use super::key_access::ImageKey;
use crate::aws::ImageInfo;
use crate::types::{Region, ShareTarget};

/// Rejects targets that are never right: the owner itself, and the public without consent.
pub fn check_targets(
    ctx: &HostContext,
    image: &ImageRef,
    targets: &[ShareTarget],
) -> Result<(), HostError> {
    let owner = ctx.caller_account()?;
    for target in targets {
        match target {
            ShareTarget::Account(id) if *id == owner => {
                return Err(HostError::Rejected(format!(
                    "share of {} with {id} rejected: that is the owner account itself, which can always launch its images; remove it from the targets",
                    image.label()
                )));
            }
            ShareTarget::Public if !ctx.settings.allow_public => {
                return Err(HostError::Rejected(format!(
                    "share of {} with \"all\" rejected: that makes the image public; start the run with --allow-public if that is intended",
                    image.label()
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Builds the rejection of an image under the AWS-managed key, which no other account can
/// use. AWS reports that only after granting the launch permission, so this comes first.
pub fn aws_managed_key_error(info: &ImageInfo, key: &ImageKey) -> HostError {
    let snapshot = key
        .snapshots
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    HostError::Rejected(format!(
        "share of {} rejected: its snapshot {snapshot} is encrypted with the AWS-managed key {} (alias/aws/ebs), which cannot be shared \
         with other accounts. Copy the image with a customer-managed key first (copy_image(id, region, #{{kms_key: \"arn:aws:kms:...\"}})) \
         and share the copy, or pass options.reencrypt_key to let share do that",
        info.image_id, key.arn
    ))
}

/// Rejects public sharing of an encrypted image, which AWS does not allow.
pub fn check_public_unencrypted(
    info: &ImageInfo,
    targets: &[ShareTarget],
) -> Result<(), HostError> {
    if !targets.contains(&ShareTarget::Public) {
        return Ok(());
    }
    match info.snapshots.iter().find(|s| s.encrypted) {
        Some(snapshot) => Err(HostError::Rejected(format!(
            "share of {} with \"all\" rejected: its snapshot {} is encrypted, and AWS does not let encrypted images be public; \
             share with account IDs instead",
            info.image_id, snapshot.snapshot_id
        ))),
        None => Ok(()),
    }
}

/// Reads the account's AMI block-public-access state in `region` before public sharing, and
/// rejects the share while it blocks. amirun never turns the block off.
pub fn check_block_public_access(
    ctx: &HostContext,
    label: &str,
    region: &Region,
) -> Result<(), HostError> {
    let aws = ctx.aws()?;
    let block = ctx
        .block_on(async { Ok(aws.image_block_public_access(region).await?) })
        .map_err(|error| match error {
            HostError::Aws(aws_error) => HostError::failed(
                "BlockPublicAccessUnknown",
                format!(
                    "share of {label} with \"all\" stopped: the account's AMI block public access state in {region} could not be read \
                     ({aws_error}). amirun makes an image public only after confirming that the block is off; check the \
                     ec2:GetImageBlockPublicAccessState permission and try again"
                ),
            ),
            other => other,
        })?;
    if !block.is_blocking() {
        tracing::info!(%region, "AMI block public access is off; public sharing allowed");
        return Ok(());
    }
    let next_step = match block.managed_by.as_deref() {
        Some("declarative-policy") => {
            "It is set by a declarative policy of your organization, so only the organization's management account can change it"
        }
        _ => "An administrator of the account can review it and disable it (EC2 DisableImageBlockPublicAccess, or the EC2 console's data protection settings) if the image must be public",
    };
    Err(HostError::Rejected(format!(
        "share of {label} with \"all\" rejected: AMI block public access is on for this account in {region} (state `{}`), \
         so AWS refuses to make images public there. amirun never turns that block off. {next_step}; otherwise share with account IDs",
        block.state
    )))
}

/// Organization and OU targets can launch the image, but snapshot permissions take account
/// IDs only, so their members cannot copy it. Returns one warning per such target and logs it.
pub fn organization_warnings(
    label: &str,
    targets: &[ShareTarget],
    keys: &[ImageKey],
) -> Vec<String> {
    let mut warnings = Vec::new();
    for target in targets {
        let kind = match target {
            ShareTarget::Organization(_) => "organization",
            ShareTarget::OrganizationalUnit(_) => "organizational unit",
            _ => continue,
        };
        let mut warning = format!(
            "{kind} {target} can launch {label}, but its member accounts cannot copy it: snapshot permissions take account IDs only. \
             Add the accounts that need to copy the image to the targets as well"
        );
        for key in keys.iter().filter(|k| !k.aws_managed) {
            warning.push_str(&format!(
                ". Members also need access to key {}, which a grant cannot give a whole {kind}: add a key-policy statement \
                 for them with the condition aws:PrincipalOrgID or aws:PrincipalOrgPaths",
                key.arn
            ));
        }
        tracing::warn!("{warning}");
        warnings.push(warning);
    }
    warnings
}
