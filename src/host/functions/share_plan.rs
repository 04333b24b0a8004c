//! The changes `share` records in plan mode instead of changing permissions.

use rhai::Dynamic;
use serde_json::json;

use super::super::convert::to_dynamic;
use super::super::plan::PlannedChange;
use super::super::{HostContext, HostError};
use super::key_access::ImageKey;
use crate::aws::{grant_name, ImageInfo};
use crate::types::{AccountId, Region, ShareTarget};

pub fn plan_share_new(
    ctx: &HostContext,
    label: &str,
    region: &Region,
    targets: &[ShareTarget],
    accounts: &[AccountId],
    warnings: Vec<String>,
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
        &json!({ "image_id": label, "region": region, "added": names, "already_shared": [], "snapshots": [], "grants": [], "warnings": warnings }),
    )
}

pub fn plan_share_existing(
    ctx: &HostContext,
    info: &ImageInfo,
    targets: &[ShareTarget],
    accounts: &[AccountId],
    keys: &[ImageKey],
    warnings: Vec<String>,
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
    plan_grants(ctx, info, keys, accounts);
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
        &json!({ "image_id": info.image_id, "region": info.region, "added": added, "already_shared": current.targets, "snapshots": snapshots, "grants": [], "warnings": warnings }),
    )
}

/// Records one planned grant change per customer-managed key, naming the grants `share`
/// makes unless they exist already.
fn plan_grants(ctx: &HostContext, info: &ImageInfo, keys: &[ImageKey], accounts: &[AccountId]) {
    if accounts.is_empty() {
        return;
    }
    for key in keys.iter().filter(|k| !k.aws_managed) {
        let names: Vec<String> = accounts
            .iter()
            .map(|account| grant_name(info.image_id.as_str(), account))
            .collect();
        ctx.record_change(PlannedChange {
            operation: "grant_key_access".into(),
            region: key.region.to_string(),
            resource: key.arn.clone(),
            targets: accounts.iter().map(ToString::to_string).collect(),
            diff: vec![],
            detail: format!("KMS grants {}, unless they exist", names.join(", ")),
        });
    }
}
