//! share, share_images, launch_permissions, and the identity functions default_region and caller_account.

use std::rc::Rc;

use rhai::{Array, Dynamic, Map};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::convert::{batch_item, image_ref, in_item, share_targets, to_dynamic, Options};
use super::super::plan::ImageRef;
use super::super::registry::{register, Registrar};
use super::super::steps::StepJob;
use super::super::{HostContext, HostError};
use super::images::image_info;
use super::key_access::{grant_partners, image_keys, ImageKey};
use super::no_options;
use super::reencrypt::{check_reencrypt_key, share_reencrypted};
use super::share_checks::{
    aws_managed_key_error, check_block_public_access, check_public_unencrypted, check_targets,
    organization_warnings,
};
use super::share_plan::{plan_share_existing, plan_share_new};
use crate::aws::{Aws, Change, ImageInfo, ImageState, PartnerGrant};
use crate::types::{AccountId, ImageId, KmsKey, ShareTarget};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "share",
        &["image_id: &str", "targets: Dynamic", "Map"],
        move |image: &str, targets: Dynamic| {
            share(&c, image, &targets, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "share",
        &["image_id: &str", "targets: Dynamic", "options: Map", "Map"],
        move |image: &str, targets: Dynamic, options: Map| share(&c, image, &targets, &options)
            .map_err(HostError::into_rhai),
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "share_images",
        &["requests: Array", "Array"],
        move |requests: Array| share_images(&c, requests).map_err(HostError::into_rhai)
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "launch_permissions",
        &["image_id: &str", "Array"],
        move |image: &str| {
            launch_permissions(&c, image, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "launch_permissions",
        &["image_id: &str", "options: Map", "Array"],
        move |image: &str, options: Map| {
            launch_permissions(&c, image, &options).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "default_region",
        &["String"],
        move || -> Result<String, Box<rhai::EvalAltResult>> {
            Ok(c.region_or_default(None)?.to_string())
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "caller_account",
        &["String"],
        move || -> Result<String, Box<rhai::EvalAltResult>> { Ok(c.caller_account()?.to_string()) }
    );
}

/// The changes one share call made.
#[derive(Debug, Serialize, Deserialize)]
struct ShareResult {
    image_id: String,
    region: String,
    added: Vec<String>,
    already_shared: Vec<String>,
    snapshots: Vec<String>,
    #[serde(default)]
    grants: Vec<PartnerGrant>,
    #[serde(default)]
    warnings: Vec<String>,
}

/// A share that has passed every check and is ready to apply.
struct ShareJob {
    info: ImageInfo,
    targets: Vec<ShareTarget>,
    accounts: Vec<AccountId>,
    keys: Vec<ImageKey>,
    warnings: Vec<String>,
    arguments: serde_json::Value,
}

/// A checked share request.
enum CheckedShare {
    /// Plan mode: the planned result.
    Planned(Dynamic),
    /// The image is under the AWS-managed key: share a copy under this key instead.
    Reencrypt {
        info: ImageInfo,
        managed: ImageKey,
        key: KmsKey,
        targets: Vec<ShareTarget>,
    },
    Ready(ShareJob),
}

pub(super) fn share(
    ctx: &HostContext,
    image: &str,
    targets: &Dynamic,
    options: &Map,
) -> Result<Dynamic, HostError> {
    let options = Options::new("share", options, &["region", "reencrypt_key"])?;
    match check_share(ctx, image, targets, &options)? {
        CheckedShare::Planned(result) => Ok(result),
        CheckedShare::Reencrypt {
            info,
            managed,
            key,
            targets,
        } => share_reencrypted(ctx, &info, &managed, &key, &targets),
        CheckedShare::Ready(job) => {
            let aws = ctx.aws()?;
            let owner = ctx.caller_account()?;
            let result: ShareResult = ctx.step("share", job.arguments.clone(), |_| {
                ctx.block_on(apply_share(&aws, &owner, &job))
            })?;
            to_dynamic(&result)
        }
    }
}

/// Shares several images at once and returns their results in order. Each request is
/// `#{image_id, targets}` plus the options of `share`. Every request is checked before the
/// first change; the images' shares then run concurrently.
fn share_images(ctx: &HostContext, requests: Array) -> Result<Array, HostError> {
    let mut checked = Vec::with_capacity(requests.len());
    for (index, request) in requests.into_iter().enumerate() {
        let example = r#"#{ image_id: "ami-...", targets: ["123456789012"] }"#;
        let mut options = batch_item("share_images", index, request, example)?;
        let image = options.remove("image_id").filter(Dynamic::is_string);
        let targets = options.remove("targets");
        let (Some(image), Some(targets)) = (image, targets) else {
            return Err(HostError::Rejected(format!(
                "share_images: item {index} needs `image_id` (a string) and `targets` (an account ID or an array of them)"
            )));
        };
        let checked_item = Options::new("share_images", &options, &["region", "reencrypt_key"])
            .and_then(|options| check_share(ctx, &image.to_string(), &targets, &options))
            .map_err(|error| in_item("share_images", index, error))?;
        checked.push(checked_item);
    }

    let jobs: Vec<StepJob<&ShareJob>> = checked
        .iter()
        .filter_map(|share| match share {
            CheckedShare::Ready(job) => Some(StepJob {
                arguments: job.arguments.clone(),
                lane: job.info.image_id.to_string(),
                input: job,
            }),
            _ => None,
        })
        .collect();
    let mut applied = if jobs.is_empty() {
        Vec::new()
    } else {
        let aws = ctx.aws()?;
        let owner = ctx.caller_account()?;
        let (aws, owner) = (&aws, &owner);
        ctx.steps("share", jobs, |job| apply_share(aws, owner, job))?
    }
    .into_iter();

    let mut out = Array::with_capacity(checked.len());
    for share in checked {
        out.push(match share {
            CheckedShare::Planned(result) => result,
            CheckedShare::Reencrypt {
                info,
                managed,
                key,
                targets,
            } => share_reencrypted(ctx, &info, &managed, &key, &targets)?,
            CheckedShare::Ready(_) => {
                let result: ShareResult = applied.next().ok_or_else(|| {
                    HostError::failed("InternalError", "a share returned no result")
                })?;
                to_dynamic(&result)?
            }
        });
    }
    Ok(out)
}

/// Checks one share request before anything changes. In plan mode it returns the planned
/// result.
fn check_share(
    ctx: &HostContext,
    image: &str,
    targets: &Dynamic,
    options: &Options,
) -> Result<CheckedShare, HostError> {
    let reencrypt_key = options.kms_key("reencrypt_key")?;
    let image = image_ref(ctx, image)?;
    let targets = share_targets(targets)?;
    let region = ctx.image_region(&image, options.region()?)?;
    check_targets(ctx, &image, &targets)?;
    if targets.contains(&ShareTarget::Public) {
        check_block_public_access(ctx, &image.label(), &region)?;
    }
    let accounts: Vec<AccountId> = targets
        .iter()
        .filter_map(ShareTarget::account)
        .cloned()
        .collect();

    let id = match &image {
        ImageRef::Planned(planned) => {
            let warnings = organization_warnings(&planned.label, &targets, &[]);
            return plan_share_new(ctx, &planned.label, &region, &targets, &accounts, warnings)
                .map(CheckedShare::Planned);
        }
        ImageRef::Real(id) => id.clone(),
    };
    let info = image_info(ctx, &id, &region)?;
    if info.state != ImageState::Available {
        return Err(HostError::failed(
            "ImageNotAvailable",
            format!("image {id} in {region} is `{}`; call wait_available before share, because its snapshots are not final yet", info.state.as_str()),
        ));
    }
    check_public_unencrypted(&info, &targets)?;
    let keys = image_keys(ctx, &info)?;
    if let Some(managed) = keys.iter().find(|k| k.aws_managed) {
        return match reencrypt_key {
            Some(key) => {
                check_reencrypt_key(ctx, &info, &key)?;
                Ok(CheckedShare::Reencrypt {
                    info,
                    managed: managed.clone(),
                    key,
                    targets,
                })
            }
            None => Err(aws_managed_key_error(&info, managed)),
        };
    }
    let warnings = organization_warnings(id.as_str(), &targets, &keys);
    if ctx.is_plan() {
        return plan_share_existing(ctx, &info, &targets, &accounts, &keys, warnings)
            .map(CheckedShare::Planned);
    }

    let target_names: Vec<String> = targets.iter().map(ToString::to_string).collect();
    let arguments = json!({ "region": region, "image_id": id, "targets": target_names });
    Ok(CheckedShare::Ready(ShareJob {
        info,
        targets,
        accounts,
        keys,
        warnings,
        arguments,
    }))
}

/// Key grants first, then snapshots, then launch permissions: if the run stops on the way,
/// the image is not yet launchable by a partner who could not also copy and decrypt it.
/// Reads the current launch permissions while the snapshots are shared.
async fn apply_share(
    aws: &Aws,
    owner: &AccountId,
    job: &ShareJob,
) -> Result<ShareResult, HostError> {
    let info = &job.info;
    let region = &info.region;
    let grants = grant_partners(aws, owner, &info.image_id, &job.keys, &job.accounts).await?;
    let snapshots = async {
        if !job.accounts.is_empty() {
            for snapshot in &info.snapshots {
                aws.modify_snapshot_permissions(
                    region,
                    &snapshot.snapshot_id,
                    Change::Add,
                    &job.accounts,
                )
                .await?;
            }
        }
        Ok::<(), HostError>(())
    };
    let current =
        async { Ok::<_, HostError>(aws.launch_permissions(region, &info.image_id).await?) };
    let ((), current) = futures_util::future::try_join(snapshots, current).await?;
    let (already, to_add): (Vec<ShareTarget>, Vec<ShareTarget>) = job
        .targets
        .iter()
        .cloned()
        .partition(|t| current.contains(t));
    if !to_add.is_empty() {
        aws.modify_launch_permissions(region, &info.image_id, Change::Add, &to_add)
            .await?;
    }
    tracing::info!(image = %info.image_id, %region, added = to_add.len(), already = already.len(), "shared image");
    Ok(ShareResult {
        image_id: info.image_id.to_string(),
        region: region.to_string(),
        added: to_add.iter().map(ToString::to_string).collect(),
        already_shared: already.iter().map(ToString::to_string).collect(),
        snapshots: info
            .snapshots
            .iter()
            .map(|s| s.snapshot_id.to_string())
            .collect(),
        grants,
        warnings: job.warnings.clone(),
    })
}

fn launch_permissions(ctx: &HostContext, image: &str, options: &Map) -> Result<Array, HostError> {
    let options = Options::new("launch_permissions", options, &["region"])?;
    let image = image_ref(ctx, image)?;
    let region = ctx.image_region(&image, options.region()?)?;
    let id: ImageId = match image {
        ImageRef::Planned(_) => return Ok(Array::new()),
        ImageRef::Real(id) => id,
    };
    let aws = ctx.aws()?;
    let permissions = ctx.block_on(async { Ok(aws.launch_permissions(&region, &id).await?) })?;
    Ok(permissions.targets.into_iter().map(Dynamic::from).collect())
}
