//! Sharing an image that is under the AWS-managed key: copy it under a customer-managed key
//! in the same region, and share the copy.

use rhai::{Array, Dynamic, Map};

use super::super::convert::image_ref;
use super::super::plan::ImageRef;
use super::super::{HostContext, HostError};
use super::images::copy_image;
use super::key_access::ImageKey;
use super::sharing::share;
use super::wait::{wait_for_images, DEFAULT_TIMEOUT};
use crate::aws::ImageInfo;
use crate::types::{InputError, KmsKey, ShareTarget};

fn targets_value(targets: &[ShareTarget]) -> Dynamic {
    let items: Array = targets
        .iter()
        .map(|t| Dynamic::from(t.to_string()))
        .collect();
    Dynamic::from(items)
}

/// Copies an image that is under the AWS-managed key into the same region under `key`, waits
/// for the copy, and shares the copy instead. The caller has checked `key` with
/// `check_reencrypt_key`.
pub fn share_reencrypted(
    ctx: &HostContext,
    info: &ImageInfo,
    managed: &ImageKey,
    key: &KmsKey,
    targets: &[ShareTarget],
) -> Result<Dynamic, HostError> {
    tracing::warn!(image = %info.image_id, key = %managed.arn, new_key = %key, "the image is under the AWS-managed key; sharing a copy under the customer-managed key instead");
    let mut copy_options = Map::new();
    copy_options.insert("kms_key".into(), key.to_string().into());
    copy_options.insert("name".into(), reencrypted_name(&info.name).into());
    let copy = copy_image(
        ctx,
        info.image_id.as_str(),
        info.region.as_str(),
        &copy_options,
    )?;
    if let ImageRef::Real(copy_id) = image_ref(ctx, &copy)? {
        if !ctx.is_plan() {
            wait_for_images(ctx, vec![(copy_id, info.region.clone())], DEFAULT_TIMEOUT)?;
        }
    }
    let mut share_options = Map::new();
    share_options.insert("region".into(), info.region.to_string().into());
    let shared = share(ctx, &copy, &targets_value(targets), &share_options)?;
    let Some(mut map) = shared.try_cast::<Map>() else {
        return Err(HostError::failed(
            "ConversionError",
            "share returned no map",
        ));
    };
    map.insert("reencrypted_from".into(), info.image_id.to_string().into());
    Ok(map.into())
}

/// The re-encryption key must be a customer-managed key in the image's region, because the
/// copy is made there.
pub(super) fn check_reencrypt_key(
    ctx: &HostContext,
    info: &ImageInfo,
    key: &KmsKey,
) -> Result<(), HostError> {
    if let Some(region) = key.arn_region() {
        if region != info.region.as_str() {
            return Err(InputError::new(
                "option",
                format!("reencrypt_key = {key}"),
                format!(
                    "the key must be in the image's region {}, where the re-encrypted copy is made",
                    info.region
                ),
            )
            .into());
        }
    }
    let aws = ctx.aws()?;
    let described =
        ctx.block_on(async { Ok(aws.describe_key(&info.region, key.as_str()).await?) })?;
    if described.aws_managed {
        return Err(InputError::new(
            "option",
            format!("reencrypt_key = {key}"),
            "that is an AWS-managed key, which cannot be shared either; pass a customer-managed key",
        )
        .into());
    }
    Ok(())
}

/// Returns the name of the re-encrypted copy. AMI names are unique per region, so it
/// differs from the source's name.
fn reencrypted_name(name: &str) -> String {
    const SUFFIX: &str = " (re-encrypted)";
    let room = 128 - SUFFIX.len();
    let base: String = name.chars().take(room).collect();
    format!("{base}{SUFFIX}")
}
