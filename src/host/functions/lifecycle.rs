//! deprecate and retire: the end of an image's life.

use std::rc::Rc;
use std::time::SystemTime;

use aws_smithy_types::date_time::{DateTime, Format};
use rhai::{Dynamic, Map, INT};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::convert::{image_ref, real_image, to_dynamic, Options};
use super::super::plan::{ImageRef, PlannedChange};
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::images::image_info;
use super::key_access::image_keys;
use super::no_options;
use super::unshare::{remove_sharing, GrantScope, UnshareResult};
use crate::aws::{ImageInfo, ImageState};
use crate::types::{AccountId, InputError, Region, ShareTarget};

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "deprecate",
        &["image_id: &str", "time: &str", "Map"],
        move |image: &str, time: &str| {
            deprecate(&c, image, time, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "deprecate",
        &["image_id: &str", "time: &str", "options: Map", "Map"],
        move |image: &str, time: &str, options: Map| deprecate(&c, image, time, &options)
            .map_err(HostError::into_rhai),
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "retire",
        &["name_prefix: &str", "keep: INT", "Map"],
        move |prefix: &str, keep: INT| {
            retire(&c, prefix, keep, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "retire",
        &["name_prefix: &str", "keep: INT", "options: Map", "Map"],
        move |prefix: &str, keep: INT, options: Map| retire(&c, prefix, keep, &options)
            .map_err(HostError::into_rhai),
    );
}

/// Parses an RFC 3339 time (`2026-01-31T00:00:00Z`) or a date (`2026-01-31`, midnight UTC)
/// that lies in the future.
fn deprecation_time(text: &str) -> Result<DateTime, HostError> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let Ok(time) = DateTime::from_str(&full, Format::DateTime) else {
        return Err(InputError::new(
            "deprecation time",
            text,
            "expected an RFC 3339 UTC time such as 2026-01-31T00:00:00Z, or a date such as 2026-01-31",
        )
        .into());
    };
    if time <= DateTime::from(SystemTime::now()) {
        return Err(InputError::new(
            "deprecation time",
            text,
            "the time must lie in the future, because AWS accepts no past deprecation time",
        )
        .into());
    }
    Ok(time)
}

#[derive(Debug, Serialize, Deserialize)]
struct Deprecation {
    image_id: String,
    region: String,
    deprecate_at: String,
}

fn deprecate(
    ctx: &HostContext,
    image: &str,
    time: &str,
    options: &Map,
) -> Result<Dynamic, HostError> {
    let options = Options::new("deprecate", options, &["region"])?;
    let image = image_ref(ctx, image)?;
    let time = deprecation_time(time)?;
    let region = ctx.image_region(&image, options.region()?)?;
    let result = Deprecation {
        image_id: image.label(),
        region: region.to_string(),
        deprecate_at: crate::clock::format_rfc3339(time),
    };
    if let ImageRef::Real(id) = &image {
        image_info(ctx, id, &region)?;
    }
    if ctx.is_plan() {
        ctx.record_change(PlannedChange {
            operation: "deprecate".into(),
            region: region.to_string(),
            resource: image.label(),
            targets: vec![],
            diff: vec![],
            detail: format!("deprecation time {}", result.deprecate_at),
        });
        return to_dynamic(&result);
    }

    let id = real_image(&image)?.clone();
    let arguments =
        json!({ "region": region, "image_id": id, "deprecate_at": result.deprecate_at });
    let done: Deprecation = ctx.step("deprecate", arguments, |_| {
        let aws = ctx.aws()?;
        ctx.block_on(async { Ok(aws.enable_image_deprecation(&region, &id, time).await?) })?;
        tracing::info!(image = %id, %region, deprecate_at = %result.deprecate_at, "set deprecation time");
        Ok(result)
    })?;
    to_dynamic(&done)
}

/// One image `retire` deregistered.
#[derive(Debug, Serialize, Deserialize)]
struct RetiredImage {
    image_id: String,
    name: String,
    creation_date: String,
    snapshots: Vec<String>,
    /// The unshare done first, present only when `force` took back a share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unshared: Option<UnshareResult>,
}

/// The sharing of an image: launch permission targets and snapshot accounts.
struct Sharing {
    targets: Vec<ShareTarget>,
    accounts: Vec<AccountId>,
}

impl Sharing {
    fn is_empty(&self) -> bool {
        self.targets.is_empty() && self.accounts.is_empty()
    }

    fn describe(&self) -> String {
        let mut names: Vec<String> = self.targets.iter().map(ToString::to_string).collect();
        for account in &self.accounts {
            if !names.contains(&account.to_string()) {
                names.push(account.to_string());
            }
        }
        names.join(", ")
    }
}

fn check_prefix(prefix: &str) -> Result<(), HostError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || " ()[]./-'@_".contains(c);
    if prefix.is_empty() || !prefix.chars().all(allowed) {
        return Err(InputError::new(
            "name prefix",
            prefix,
            "expected the start of an AMI name: letters, digits, spaces and ( ) [ ] . / - ' @ _, at least one character",
        )
        .into());
    }
    Ok(())
}

fn retire(ctx: &HostContext, prefix: &str, keep: INT, options: &Map) -> Result<Dynamic, HostError> {
    let options = Options::new("retire", options, &["region", "force"])?;
    check_prefix(prefix)?;
    if keep < 1 {
        return Err(InputError::new(
            "keep",
            keep.to_string(),
            "retire keeps at least the newest image; pass 1 or more",
        )
        .into());
    }
    let force = options.bool("force")?.unwrap_or(false);
    let region = ctx.region_or_default(options.region()?)?;
    let aws = ctx.aws()?;
    let images = ctx.block_on(async { Ok(aws.images_with_name_prefix(&region, prefix).await?) })?;
    let keep = usize::try_from(keep)
        .unwrap_or(usize::MAX)
        .min(images.len());
    let (old, kept) = images.split_at(images.len() - keep);

    // Every old image is checked before the first change, so a rejection changes nothing.
    let mut plan = Vec::new();
    for info in old {
        let sharing = sharing_of(ctx, info)?;
        check_retirable(info, &sharing, force)?;
        plan.push((info, sharing));
    }
    let mut retired = Vec::new();
    for (info, sharing) in plan {
        retired.push(retire_image(ctx, &region, info, &sharing)?);
    }
    let kept: Vec<String> = kept.iter().map(|i| i.image_id.to_string()).collect();
    to_dynamic(&json!({ "region": region, "kept": kept, "retired": retired }))
}

fn sharing_of(ctx: &HostContext, info: &ImageInfo) -> Result<Sharing, HostError> {
    let aws = ctx.aws()?;
    let region = &info.region;
    let launch =
        ctx.block_on(async { Ok(aws.launch_permissions(region, &info.image_id).await?) })?;
    let targets = launch
        .targets
        .iter()
        .filter_map(|t| ShareTarget::parse(t).ok())
        .collect();
    let mut accounts: Vec<AccountId> = Vec::new();
    for snapshot in &info.snapshots {
        let id = &snapshot.snapshot_id;
        for holder in ctx.block_on(async { Ok(aws.snapshot_permissions(region, id).await?) })? {
            if let Ok(account) = AccountId::parse(&holder) {
                if !accounts.contains(&account) {
                    accounts.push(account);
                }
            }
        }
    }
    Ok(Sharing { targets, accounts })
}

fn check_retirable(info: &ImageInfo, sharing: &Sharing, force: bool) -> Result<(), HostError> {
    if info.state == ImageState::Pending {
        return Err(HostError::Rejected(format!(
            "retire of {} ({}) rejected: the image is still pending; wait for it or keep more versions",
            info.image_id, info.name
        )));
    }
    if !sharing.is_empty() && !force {
        return Err(HostError::Rejected(format!(
            "retire of {} ({}) rejected: it is still shared with {}. Unshare it first, or pass options.force to unshare and retire it",
            info.image_id,
            info.name,
            sharing.describe()
        )));
    }
    Ok(())
}

fn retire_image(
    ctx: &HostContext,
    region: &Region,
    info: &ImageInfo,
    sharing: &Sharing,
) -> Result<RetiredImage, HostError> {
    let snapshots: Vec<String> = info
        .snapshots
        .iter()
        .map(|s| s.snapshot_id.to_string())
        .collect();
    if ctx.is_plan() {
        plan_retire(ctx, info, sharing, &snapshots);
        return Ok(retired_record(info, snapshots, None));
    }
    let arguments = json!({ "region": region, "image_id": info.image_id });
    ctx.step("retire_image", arguments, |interrupted| {
        let unshared = if sharing.is_empty() {
            None
        } else {
            let keys = image_keys(ctx, info)?;
            let grants = GrantScope::AllAccounts;
            Some(remove_sharing(
                ctx,
                info,
                &sharing.targets,
                &sharing.accounts,
                &keys,
                grants,
            )?)
        };
        deregister_and_delete(ctx, info, interrupted)?;
        tracing::info!(image = %info.image_id, %region, name = %info.name, "retired image");
        Ok(retired_record(info, snapshots.clone(), unshared))
    })
}

/// Deregisters the image, then deletes its snapshots, which AWS keeps in use until the
/// image is gone. After an interrupted attempt, a resource that is gone already is fine.
fn deregister_and_delete(
    ctx: &HostContext,
    info: &ImageInfo,
    interrupted: bool,
) -> Result<(), HostError> {
    let aws = ctx.aws()?;
    let region = &info.region;
    let gone = |result: Result<(), HostError>| match result {
        Err(HostError::Aws(error)) if interrupted && error.is_not_found() => Ok(()),
        other => other,
    };
    gone(ctx.block_on(async { Ok(aws.deregister_image(region, &info.image_id).await?) }))?;
    for snapshot in &info.snapshots {
        let id = &snapshot.snapshot_id;
        gone(ctx.block_on(async { Ok(aws.delete_snapshot(region, id).await?) }))?;
    }
    Ok(())
}

fn retired_record(
    info: &ImageInfo,
    snapshots: Vec<String>,
    unshared: Option<UnshareResult>,
) -> RetiredImage {
    RetiredImage {
        image_id: info.image_id.to_string(),
        name: info.name.clone(),
        creation_date: info.creation_date.clone(),
        snapshots,
        unshared,
    }
}

fn plan_retire(ctx: &HostContext, info: &ImageInfo, sharing: &Sharing, snapshots: &[String]) {
    let region = info.region.to_string();
    if !sharing.is_empty() {
        ctx.record_change(PlannedChange {
            operation: "unshare".into(),
            region: region.clone(),
            resource: info.image_id.to_string(),
            targets: vec![],
            diff: sharing
                .describe()
                .split(", ")
                .map(|t| format!("- {t}"))
                .collect(),
            detail:
                "every launch permission, snapshot permission and amirun key grant, before retiring"
                    .into(),
        });
    }
    ctx.record_change(PlannedChange {
        operation: "deregister_image".into(),
        region: region.clone(),
        resource: info.image_id.to_string(),
        targets: vec![],
        diff: vec![],
        detail: format!("\"{}\", created {}", info.name, info.creation_date),
    });
    for snapshot in snapshots {
        ctx.record_change(PlannedChange {
            operation: "delete_snapshot".into(),
            region: region.clone(),
            resource: snapshot.clone(),
            targets: vec![],
            diff: vec![],
            detail: format!("snapshot of {}", info.image_id),
        });
    }
}
