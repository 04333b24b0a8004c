//! share and launch_permissions.

use std::rc::Rc;

use rhai::{Array, Dynamic, Map};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::convert::{image_ref, share_targets, to_dynamic, Options};
use super::super::plan::{ImageRef, PlannedChange};
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::images::image_info;
use super::no_options;
use crate::aws::{Change, ImageInfo, ImageState};
use crate::types::{AccountId, ImageId, Region, ShareTarget};

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

/// What one share call changed.
#[derive(Debug, Serialize, Deserialize)]
struct ShareResult {
    image_id: String,
    region: String,
    added: Vec<String>,
    already_shared: Vec<String>,
    snapshots: Vec<String>,
}

/// Rejects targets that are never right: the owner itself, and the public without consent.
fn check_targets(
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

/// Snapshots under an AWS-managed key cannot be shared across accounts, and AWS only says so
/// after the launch permission is granted; check every snapshot's key first.
fn check_encryption(
    ctx: &HostContext,
    info: &ImageInfo,
    accounts: &[AccountId],
) -> Result<(), HostError> {
    if accounts.is_empty() {
        return Ok(());
    }
    let aws = ctx.aws()?;
    for snapshot in info.snapshots.iter().filter(|s| s.encrypted) {
        let Some(key) = &snapshot.kms_key else {
            continue;
        };
        let described = ctx.block_on(async { Ok(aws.describe_key(&info.region, key).await?) })?;
        if described.aws_managed {
            return Err(HostError::Rejected(format!(
                "share of {} rejected: its snapshot {} is encrypted with the AWS-managed key {} (alias/aws/ebs), which cannot be shared \
                 with other accounts. Copy the image with a customer-managed key first (copy_image(id, region, #{{kms_key: \"arn:aws:kms:...\"}})) \
                 and share the copy",
                info.image_id, snapshot.snapshot_id, described.arn
            )));
        }
    }
    Ok(())
}

fn share(
    ctx: &HostContext,
    image: &str,
    targets: &Dynamic,
    options: &Map,
) -> Result<Dynamic, HostError> {
    let options = Options::new("share", options, &["region"])?;
    let image = image_ref(ctx, image)?;
    let targets = share_targets(targets)?;
    let region = ctx.image_region(&image, options.region()?)?;
    check_targets(ctx, &image, &targets)?;
    let accounts: Vec<AccountId> = targets
        .iter()
        .filter_map(ShareTarget::account)
        .cloned()
        .collect();

    let id = match &image {
        ImageRef::Planned(planned) => {
            return plan_share_new(ctx, &planned.label, &region, &targets, &accounts)
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
    check_encryption(ctx, &info, &accounts)?;
    if ctx.is_plan() {
        return plan_share_existing(ctx, &info, &targets, &accounts);
    }

    let target_names: Vec<String> = targets.iter().map(ToString::to_string).collect();
    let arguments = json!({ "region": region, "image_id": id, "targets": target_names });
    let result: ShareResult = ctx.step("share", arguments, |_| {
        apply_share(ctx, &info, &targets, &accounts)
    })?;
    to_dynamic(&result)
}

/// Snapshots first, then launch permissions: if the run stops between the two, the image is
/// not yet launchable by a partner who could not also copy it.
fn apply_share(
    ctx: &HostContext,
    info: &ImageInfo,
    targets: &[ShareTarget],
    accounts: &[AccountId],
) -> Result<ShareResult, HostError> {
    let aws = ctx.aws()?;
    let region = &info.region;
    if !accounts.is_empty() {
        for snapshot in &info.snapshots {
            ctx.block_on(async {
                Ok(aws
                    .modify_snapshot_permissions(
                        region,
                        &snapshot.snapshot_id,
                        Change::Add,
                        accounts,
                    )
                    .await?)
            })?;
        }
    }
    let current =
        ctx.block_on(async { Ok(aws.launch_permissions(region, &info.image_id).await?) })?;
    let (already, to_add): (Vec<ShareTarget>, Vec<ShareTarget>) =
        targets.iter().cloned().partition(|t| current.contains(t));
    if !to_add.is_empty() {
        ctx.block_on(async {
            Ok(aws
                .modify_launch_permissions(region, &info.image_id, Change::Add, &to_add)
                .await?)
        })?;
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
    })
}

fn plan_share_new(
    ctx: &HostContext,
    label: &str,
    region: &Region,
    targets: &[ShareTarget],
    accounts: &[AccountId],
) -> Result<Dynamic, HostError> {
    let names: Vec<String> = targets.iter().map(ToString::to_string).collect();
    if !accounts.is_empty() {
        ctx.record_change(PlannedChange {
            operation: "share_snapshots".into(),
            region: region.to_string(),
            resource: format!("snapshots of {label}"),
            targets: accounts.iter().map(ToString::to_string).collect(),
            diff: vec![],
            detail: "create-volume permission".into(),
        });
    }
    ctx.record_change(PlannedChange {
        operation: "share".into(),
        region: region.to_string(),
        resource: label.to_owned(),
        targets: names.clone(),
        diff: names.iter().map(|n| format!("+ {n}")).collect(),
        detail: "launch permission".into(),
    });
    to_dynamic(
        &json!({ "image_id": label, "region": region, "added": names, "already_shared": [], "snapshots": [] }),
    )
}

fn plan_share_existing(
    ctx: &HostContext,
    info: &ImageInfo,
    targets: &[ShareTarget],
    accounts: &[AccountId],
) -> Result<Dynamic, HostError> {
    let aws = ctx.aws()?;
    let current =
        ctx.block_on(async { Ok(aws.launch_permissions(&info.region, &info.image_id).await?) })?;
    let mut diff: Vec<String> = current.targets.iter().map(|t| format!("= {t}")).collect();
    let mut added = Vec::new();
    for target in targets.iter().filter(|t| !current.contains(t)) {
        diff.push(format!("+ {target}"));
        added.push(target.to_string());
    }
    for snapshot in info.snapshots.iter().filter(|_| !accounts.is_empty()) {
        ctx.record_change(PlannedChange {
            operation: "share_snapshots".into(),
            region: info.region.to_string(),
            resource: snapshot.snapshot_id.to_string(),
            targets: accounts.iter().map(ToString::to_string).collect(),
            diff: vec![],
            detail: format!("create-volume permission, snapshot of {}", info.image_id),
        });
    }
    if !added.is_empty() {
        ctx.record_change(PlannedChange {
            operation: "share".into(),
            region: info.region.to_string(),
            resource: info.image_id.to_string(),
            targets: added.clone(),
            diff,
            detail: "launch permission".into(),
        });
    }
    let snapshots: Vec<String> = info
        .snapshots
        .iter()
        .map(|s| s.snapshot_id.to_string())
        .collect();
    to_dynamic(
        &json!({ "image_id": info.image_id, "region": info.region, "added": added, "already_shared": current.targets, "snapshots": snapshots }),
    )
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
