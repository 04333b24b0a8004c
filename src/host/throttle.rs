//! Retrying calls that AWS throttled, for operations whose SDK retries are off.

use std::future::Future;
use std::time::Duration;

use super::HostError;

/// Codes that mean "not now" rather than "no": the request was not carried out, so sending
/// it again is safe. CopyImage returns `ResourceLimitExceeded` when too many copies
/// run into one region at once. Quota errors such as `AMIQuotaExceeded` are not retried.
const THROTTLING_CODES: &[&str] = &[
    "RequestLimitExceeded",
    "ResourceLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "SlowDown",
];

const MAX_ATTEMPTS: u32 = 8;
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(30);

pub fn is_throttling(error: &HostError) -> bool {
    matches!(error, HostError::Aws(aws) if THROTTLING_CODES.contains(&aws.code()))
}

/// Runs `attempt` until it succeeds, fails for another reason, or was throttled
/// `MAX_ATTEMPTS` times, sleeping with exponential backoff in between.
pub async fn retry_throttled<T, F, Fut>(mut attempt: F) -> Result<T, HostError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, HostError>>,
{
    let mut delay = FIRST_DELAY;
    for number in 1..=MAX_ATTEMPTS {
        match attempt().await {
            Err(error) if is_throttling(&error) && number < MAX_ATTEMPTS => {
                tracing::warn!(%error, attempt = number, delay_ms = delay.as_millis() as u64, "throttled by AWS; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
            }
            result => return result,
        }
    }
    unreachable!("the last attempt returns")
}
