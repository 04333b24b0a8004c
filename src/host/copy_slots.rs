//! A cap on concurrent copies into one destination region, so that a large rollout does
//! not run into CopyImage's per-region limit.

use std::time::Duration;

use super::{HostContext, HostError};
use crate::aws::{Aws, ImageState};
use crate::types::{ImageId, Region};

impl HostContext {
    /// Records a copy started by this session; it counts against its region's cap until it
    /// is seen `available`. Recording a copy twice counts it once.
    pub fn copy_started(&self, region: &Region, image: &ImageId) {
        let mut in_flight = self.copies_in_flight.borrow_mut();
        let copies = in_flight.entry(region.clone()).or_default();
        if !copies.contains(image) {
            copies.push(image.clone());
        }
    }

    /// Waits until fewer than the cap of this session's copies into `region` are pending.
    /// Callers start copies into one region one after another, so two cannot take the
    /// last slot at once.
    pub async fn wait_for_copy_slot(&self, aws: &Aws, region: &Region) -> Result<(), HostError> {
        let cap = self.settings.max_copies_per_region.max(1);
        let mut interval = self.settings.poll_interval;
        let mut logged = false;
        loop {
            let pending = self.refresh_in_flight(aws, region).await?;
            if pending < cap {
                return Ok(());
            }
            if !logged {
                tracing::info!(%region, pending, cap, "waiting for a copy to finish before starting another in this region");
                logged = true;
            }
            tokio::time::sleep(interval).await;
            interval = (interval.mul_f64(1.5)).min(
                self.settings
                    .max_poll_interval
                    .max(Duration::from_millis(10)),
            );
        }
    }

    /// Drops copies that are no longer pending and returns how many still are.
    async fn refresh_in_flight(&self, aws: &Aws, region: &Region) -> Result<usize, HostError> {
        let mut ids: Vec<ImageId> = self
            .copies_in_flight
            .borrow()
            .get(region)
            .cloned()
            .unwrap_or_default();
        ids.retain(|id| self.cached_available(id).is_none());
        if ids.len() >= self.settings.max_copies_per_region.max(1) {
            let described = aws.describe_images(region, &ids).await?;
            for info in &described {
                if info.state == ImageState::Available {
                    self.cache_available(info);
                }
            }
            let pending: Vec<&ImageId> = described
                .iter()
                .filter(|i| i.state == ImageState::Pending)
                .map(|i| &i.image_id)
                .collect();
            ids.retain(|id| pending.contains(&id));
        }
        let count = ids.len();
        self.copies_in_flight
            .borrow_mut()
            .insert(region.clone(), ids);
        Ok(count)
    }
}
