//! The preflight check that a copy's destination region is enabled for the account.

use super::super::{HostContext, HostError};
use crate::types::Region;

/// Rejects a destination region that the account cannot use: an opt-in region it never
/// enabled, or a name that is no region. AWS would refuse the copy only after the run's
/// first changes. When the list of regions cannot be read (DescribeRegions denied, say),
/// the check is skipped with a warning, because the copy itself still reports the problem.
pub fn check_region_enabled(ctx: &HostContext, region: &Region) -> Result<(), HostError> {
    // The list is read once per session, so every call checks its region again.
    let Some(enabled) = ctx.enabled_regions()? else {
        return Ok(());
    };
    if enabled.iter().any(|name| name == region.as_str()) {
        return Ok(());
    }
    Err(HostError::Rejected(format!(
        "region `{region}` is not enabled for this account, or does not exist (enabled: {}); \
         enable the opt-in region in the account settings, or correct the region",
        enabled.join(", ")
    )))
}

impl HostContext {
    /// Returns the regions enabled for this account, read once per session, or `None` when
    /// they cannot be read.
    fn enabled_regions(&self) -> Result<Option<Vec<String>>, HostError> {
        if let Some(cached) = self.enabled_regions.borrow().as_ref() {
            return Ok(cached.clone());
        }
        let aws = self.aws()?;
        let listed = match self.block_on(async { Ok(aws.enabled_regions().await?) }) {
            Ok(mut names) => {
                names.sort();
                Some(names)
            }
            Err(HostError::Cancelled) => return Err(HostError::Cancelled),
            Err(error) => {
                tracing::warn!(%error, "cannot list the account's enabled regions; copy destinations are not checked");
                None
            }
        };
        *self.enabled_regions.borrow_mut() = Some(listed.clone());
        Ok(listed)
    }
}
