//! unshare: taking back launch permissions, snapshot permissions and key grants.

use std::rc::Rc;

use rhai::{Dynamic, Map};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::convert::{image_ref, share_targets, to_dynamic, Options};
use super::super::plan::{ImageRef, PlannedChange};
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::images::image_info;
use super::key_access::{image_keys, retire_all_image_grants, retire_partner_grants, ImageKey};
use super::no_options;
use crate::aws::{Change, ImageInfo};
use crate::types::{AccountId, ShareTarget};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "unshare",
        &["image_id: &str", "targets: Dynamic", "Map"],
        move |image: &str, targets: Dynamic| {
            unshare(&c, image, &targets, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "unshare",
        &["image_id: &str", "targets: Dynamic", "options: Map", "Map"],
        move |image: &str, targets: Dynamic, options: Map| unshare(&c, image, &targets, &options)
            .map_err(HostError::into_rhai),
    );
}

/// The permissions and grants one unshare call removed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnshareResult {
    pub image_id: String,
    pub region: String,
    /// Launch permissions removed.
    pub removed: Vec<String>,
    /// Targets that had no launch permission.
    pub not_shared: Vec<String>,
    /// Per snapshot, the accounts whose create-volume permission was removed.
    pub snapshots: Vec<SnapshotChange>,
    pub grants_retired: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnapshotChange {
    pub snapshot_id: String,
    pub removed: Vec<String>,
}

/// The key grants to retire along with the permissions.
pub enum GrantScope<'a> {
    /// The grants amirun made for these accounts.
    Accounts(&'a [AccountId]),
    /// Every grant amirun made for the image.
    AllAccounts,
}

fn unshare(
    ctx: &HostContext,
    image: &str,
    targets: &Dynamic,
    options: &Map,
) -> Result<Dynamic, HostError> {
    let options = Options::new("unshare", options, &["region"])?;
    let image = image_ref(ctx, image)?;
    let targets = share_targets(targets)?;
    let region = ctx.image_region(&image, options.region()?)?;
    let accounts = accounts_of(&targets);
    let id = match &image {
        // An image that only the plan would create has no permissions to take back.
        ImageRef::Planned(planned) => {
            return to_dynamic(&UnshareResult {
                image_id: planned.label.clone(),
                region: region.to_string(),
                not_shared: targets.iter().map(ToString::to_string).collect(),
                ..UnshareResult::default()
            })
        }
        ImageRef::Real(id) => id.clone(),
    };
    let info = image_info(ctx, &id, &region)?;
    let keys = image_keys(ctx, &info)?;
    if ctx.is_plan() {
        return plan_unshare(ctx, &info, &targets, &accounts, &keys);
    }

    let names: Vec<String> = targets.iter().map(ToString::to_string).collect();
    let arguments = json!({ "region": region, "image_id": id, "targets": names });
    let result: UnshareResult = ctx.step("unshare", arguments, |_| {
        remove_sharing(
            ctx,
            &info,
            &targets,
            &accounts,
            &keys,
            GrantScope::Accounts(&accounts),
        )
    })?;
    to_dynamic(&result)
}

fn accounts_of(targets: &[ShareTarget]) -> Vec<AccountId> {
    targets
        .iter()
        .filter_map(ShareTarget::account)
        .cloned()
        .collect()
}

/// Removes the launch permissions of `targets` that exist in one call, then the snapshot
/// permissions of `accounts` that exist in one call per snapshot, then the key grants. A
/// permission that is already gone costs no modify call, so a repeated call changes nothing.
pub fn remove_sharing(
    ctx: &HostContext,
    info: &ImageInfo,
    targets: &[ShareTarget],
    accounts: &[AccountId],
    keys: &[ImageKey],
    grants: GrantScope<'_>,
) -> Result<UnshareResult, HostError> {
    let aws = ctx.aws()?;
    let region = &info.region;
    let current =
        ctx.block_on(async { Ok(aws.launch_permissions(region, &info.image_id).await?) })?;
    let (to_remove, not_shared): (Vec<ShareTarget>, Vec<ShareTarget>) =
        targets.iter().cloned().partition(|t| current.contains(t));
    if !to_remove.is_empty() {
        ctx.block_on(async {
            Ok(aws
                .modify_launch_permissions(region, &info.image_id, Change::Remove, &to_remove)
                .await?)
        })?;
    }

    let mut snapshots = Vec::new();
    for snapshot in &info.snapshots {
        let id = &snapshot.snapshot_id;
        let holders = ctx.block_on(async { Ok(aws.snapshot_permissions(region, id).await?) })?;
        let remove: Vec<AccountId> = accounts
            .iter()
            .filter(|a| holders.contains(a.as_str()))
            .cloned()
            .collect();
        if !remove.is_empty() {
            ctx.block_on(async {
                Ok(aws
                    .modify_snapshot_permissions(region, id, Change::Remove, &remove)
                    .await?)
            })?;
        }
        snapshots.push(SnapshotChange {
            snapshot_id: id.to_string(),
            removed: remove.iter().map(ToString::to_string).collect(),
        });
    }

    let grants_retired = match grants {
        GrantScope::Accounts(accounts) => {
            retire_partner_grants(ctx, &info.image_id, keys, accounts)?
        }
        GrantScope::AllAccounts => retire_all_image_grants(ctx, &info.image_id, keys)?,
    };
    tracing::info!(image = %info.image_id, %region, removed = to_remove.len(), grants = grants_retired.len(), "unshared image");
    Ok(UnshareResult {
        image_id: info.image_id.to_string(),
        region: region.to_string(),
        removed: to_remove.iter().map(ToString::to_string).collect(),
        not_shared: not_shared.iter().map(ToString::to_string).collect(),
        snapshots,
        grants_retired,
    })
}

fn plan_unshare(
    ctx: &HostContext,
    info: &ImageInfo,
    targets: &[ShareTarget],
    accounts: &[AccountId],
    keys: &[ImageKey],
) -> Result<Dynamic, HostError> {
    let aws = ctx.aws()?;
    let current =
        ctx.block_on(async { Ok(aws.launch_permissions(&info.region, &info.image_id).await?) })?;
    let (to_remove, not_shared): (Vec<ShareTarget>, Vec<ShareTarget>) =
        targets.iter().cloned().partition(|t| current.contains(t));
    let removed: Vec<String> = to_remove.iter().map(ToString::to_string).collect();
    if !removed.is_empty() {
        let diff = current
            .targets
            .iter()
            .map(|t| match removed.contains(t) {
                true => format!("- {t}"),
                false => format!("= {t}"),
            })
            .collect();
        ctx.record_change(PlannedChange {
            operation: "unshare".into(),
            region: info.region.to_string(),
            resource: info.image_id.to_string(),
            targets: removed.clone(),
            diff,
            detail: "launch permission".into(),
        });
    }
    let account_names: Vec<String> = accounts.iter().map(ToString::to_string).collect();
    for snapshot in info.snapshots.iter().filter(|_| !accounts.is_empty()) {
        ctx.record_change(PlannedChange {
            operation: "unshare_snapshots".into(),
            region: info.region.to_string(),
            resource: snapshot.snapshot_id.to_string(),
            targets: account_names.clone(),
            diff: vec![],
            detail: format!(
                "create-volume permission, snapshot of {}, where present",
                info.image_id
            ),
        });
    }
    for key in keys
        .iter()
        .filter(|k| !k.aws_managed && !accounts.is_empty())
    {
        ctx.record_change(PlannedChange {
            operation: "retire_grants".into(),
            region: key.region.to_string(),
            resource: key.arn.clone(),
            targets: account_names.clone(),
            diff: vec![],
            detail: format!(
                "KMS grants amirun made for {}, where present",
                info.image_id
            ),
        });
    }
    to_dynamic(&UnshareResult {
        image_id: info.image_id.to_string(),
        region: info.region.to_string(),
        removed,
        not_shared: not_shared.iter().map(ToString::to_string).collect(),
        snapshots: Vec::new(),
        grants_retired: Vec::new(),
    })
}
