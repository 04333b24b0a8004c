//! wait_available: one poll loop for many images across regions.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rhai::{Dynamic, Map};

use super::super::convert::{image_refs, Options};
use super::super::plan::ImageRef;
use super::super::progress::WaitProgress;
use super::super::registry::{register, Registrar};
use super::super::{HostContext, HostError};
use super::no_options;
use crate::aws::{Aws, ImageInfo, ImageState};
use crate::types::{ImageId, Region};

/// Default bound of a wait: cross-region copies of large images take tens of minutes.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
/// How long a wait polls at the configured interval before it starts to back off.
const STEADY_POLLING: Duration = Duration::from_secs(30);
/// How long an image this run just made may be missing from DescribeImages.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(60);

pub fn register(registrar: &mut Registrar, ctx: &Rc<HostContext>) {
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "wait_available",
        &["image_or_images: Dynamic", "Map"],
        move |images: Dynamic| {
            wait_available(&c, &images, &no_options()).map_err(HostError::into_rhai)
        }
    );
    let c = Rc::clone(ctx);
    register!(
        registrar,
        "wait_available",
        &["image_or_images: Dynamic", "options: Map", "Map"],
        move |images: Dynamic, options: Map| wait_available(&c, &images, &options)
            .map_err(HostError::into_rhai),
    );
}

fn wait_available(ctx: &HostContext, images: &Dynamic, options: &Map) -> Result<Map, HostError> {
    let options = Options::new("wait_available", options, &["timeout", "region"])?;
    let timeout = options
        .seconds("timeout")?
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs_f64);
    let region_option = options.region()?;
    let refs = image_refs(ctx, "wait_available", images)?;

    let mut pending: Vec<(ImageId, Region)> = Vec::new();
    let mut states = Map::new();
    for image in &refs {
        let region = ctx.image_region(image, region_option.clone())?;
        match image {
            ImageRef::Planned(planned) => {
                states.insert(planned.label.as_str().into(), "planned".into());
            }
            ImageRef::Real(id) => pending.push((id.clone(), region)),
        }
    }
    if ctx.is_plan() {
        // A plan shows changes; it does not wait for images that already exist.
        for (id, _) in &pending {
            states.insert(id.as_str().into(), "not awaited in plan".into());
        }
        return Ok(states);
    }
    for (id, state) in wait_for_images(ctx, pending, timeout)? {
        states.insert(id.as_str().into(), state.into());
    }
    Ok(states)
}

/// Polls until every image is available. Each round makes one DescribeImages call per region
/// for all of that region's pending images, to all regions at once. The interval stays at the configured poll
/// interval for the first `STEADY_POLLING` of the wait, which covers quick images, then grows
/// by half each round, up to the maximum, for copies that take tens of minutes.
pub fn wait_for_images(
    ctx: &HostContext,
    images: Vec<(ImageId, Region)>,
    timeout: Duration,
) -> Result<BTreeMap<ImageId, String>, HostError> {
    let started = Instant::now();
    let mut by_region: BTreeMap<Region, Vec<ImageId>> = BTreeMap::new();
    let mut done = BTreeMap::new();
    for (id, region) in images {
        if ctx.cached_available(&id).is_some() {
            done.insert(id, "available".to_owned());
            continue;
        }
        by_region.entry(region).or_default().push(id);
    }

    let aws = ctx.aws()?;
    let mut progress = WaitProgress::new(
        by_region
            .iter()
            .flat_map(|(r, ids)| ids.iter().map(move |id| (id, r))),
    );
    let mut interval = ctx.settings.poll_interval;
    while !by_region.is_empty() {
        let round_started = Instant::now();
        let aws = &aws;
        let rounds = by_region.iter().map(|(region, ids)| async move {
            aws.describe_images(region, ids)
                .await
                .map_err(HostError::from)
        });
        let described = ctx.block_on(async { Ok(join_all(rounds).await) })?;
        for ((region, ids), described) in by_region.iter_mut().zip(described) {
            let infos = match described {
                Ok(infos) => infos,
                Err(HostError::Aws(error))
                    if error.is_not_found()
                        && ids.iter().all(|id| ctx.is_fresh(id))
                        && started.elapsed() < NOT_FOUND_GRACE =>
                {
                    tracing::debug!(%region, "new images not listed yet; polling again");
                    continue;
                }
                Err(error) => return Err(error),
            };
            // An image that DescribeImages leaves out was deregistered or is in another
            // region; waiting longer cannot help, except for one this run just made.
            let listed: Vec<&ImageId> = infos.iter().map(|info| &info.image_id).collect();
            if let Some(missing) = ids.iter().find(|id| !listed.contains(id)) {
                if !(ctx.is_fresh(missing) && started.elapsed() < NOT_FOUND_GRACE) {
                    progress.abandon();
                    return Err(HostError::failed(
                        "InvalidAMIID.NotFound",
                        format!("image {missing} is not listed in {region}: it was deregistered, or it is in another region (pass options.region)"),
                    ));
                }
            }
            for info in infos {
                match &info.state {
                    ImageState::Available => {
                        ctx.cache_available(&info);
                        progress.finish(&info.image_id);
                        ids.retain(|id| *id != info.image_id);
                        done.insert(info.image_id.clone(), "available".to_owned());
                    }
                    ImageState::Pending => {
                        let detail = snapshot_detail(ctx, aws, region, &info, progress.is_live());
                        progress.update(&info.image_id, &detail);
                    }
                    ImageState::Failed | ImageState::Other(_) => {
                        progress.abandon();
                        let reason = info
                            .state_reason
                            .clone()
                            .unwrap_or_else(|| "no reason given".into());
                        return Err(HostError::failed(
                            "ImageFailed",
                            format!(
                                "image {} in {region} turned `{}`: {reason}",
                                info.image_id,
                                info.state.as_str()
                            ),
                        ));
                    }
                }
            }
        }
        by_region.retain(|_, ids| !ids.is_empty());
        if by_region.is_empty() {
            break;
        }
        if started.elapsed() >= timeout {
            progress.abandon();
            let waiting: Vec<String> = by_region
                .iter()
                .flat_map(|(region, ids)| ids.iter().map(move |id| format!("{id} ({region})")))
                .collect();
            return Err(HostError::failed(
                "WaitTimeout",
                format!(
                    "timed out after {}s waiting for images to become available; still pending: {}. \
                     Run again to resume waiting, or raise options.timeout",
                    timeout.as_secs(),
                    waiting.join(", ")
                ),
            ));
        }
        // The interval is the period between rounds, so a slow round does not stretch it.
        let sleep = interval
            .saturating_sub(round_started.elapsed())
            .min(timeout.saturating_sub(started.elapsed()))
            .max(Duration::from_millis(10));
        ctx.block_on(async move {
            tokio::time::sleep(sleep).await;
            Ok(())
        })?;
        if started.elapsed() >= STEADY_POLLING {
            interval = interval.mul_f64(1.5).min(
                ctx.settings
                    .max_poll_interval
                    .max(ctx.settings.poll_interval),
            );
        }
    }
    progress.clear();
    Ok(done)
}

/// "pending", with the progress of the image's snapshots when a live display shows it. Only
/// a terminal pays for the extra DescribeSnapshots call; a failure there only loses detail.
fn snapshot_detail(
    ctx: &HostContext,
    aws: &Aws,
    region: &Region,
    info: &ImageInfo,
    live: bool,
) -> String {
    if !live || info.snapshots.is_empty() {
        return "pending".to_owned();
    }
    let ids: Vec<_> = info
        .snapshots
        .iter()
        .map(|s| s.snapshot_id.clone())
        .collect();
    match ctx.block_on(async { Ok(aws.snapshot_progress(region, &ids).await?) }) {
        Ok(progress) if !progress.is_empty() => {
            let parts: Vec<String> = progress.values().cloned().collect();
            format!("pending, snapshots {}", parts.join(" "))
        }
        _ => "pending".to_owned(),
    }
}
