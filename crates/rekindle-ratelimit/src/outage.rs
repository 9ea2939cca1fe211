//! Tracks whether Redis is failing, so the Redis limiters can skip it for a
//! short cooldown and log the outage at a bounded rate.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::log_throttle::{LogThrottle, WARNING_INTERVAL};

/// The failure of one Redis call.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("timed out after {0:?}")]
    Timeout(Duration),

    #[error(transparent)]
    Redis(#[from] redis::RedisError),

    #[error("unexpected reply from the rate limit script: {0}")]
    UnexpectedReply(String),
}

pub(crate) struct Outage {
    /// The limiter's use of Redis, named in log lines.
    purpose: &'static str,
    cooldown: Duration,
    skip_until: Mutex<Option<Instant>>,
    failing: AtomicBool,
    warnings: LogThrottle,
}

impl Outage {
    pub(crate) fn new(purpose: &'static str, cooldown: Duration) -> Self {
        Self {
            purpose,
            cooldown,
            skip_until: Mutex::new(None),
            failing: AtomicBool::new(false),
            warnings: LogThrottle::new(WARNING_INTERVAL),
        }
    }

    /// Returns false while the cooldown after a failure lasts.
    pub(crate) fn should_try_redis(&self) -> bool {
        let skip_until = self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);

        skip_until.is_none_or(|until| Instant::now() >= until)
    }

    /// Starts a cooldown and logs a warning, at most once per [`WARNING_INTERVAL`].
    pub(crate) fn record_failure(&self, error: &dyn Display) {
        let until = Instant::now() + self.cooldown;
        *self
            .skip_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(until);
        self.failing.store(true, Ordering::Relaxed);

        if let Some(suppressed) = self.warnings.occurrence() {
            tracing::warn!(
                purpose = self.purpose,
                error = %error,
                cooldown_ms = self.cooldown.as_millis(),
                suppressed,
                "Redis call failed; using the in-process limiter, which does not share counts with other processes"
            );
        }
    }

    /// Logs the recovery once after a failure.
    pub(crate) fn record_success(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!(purpose = self.purpose, "Redis calls succeed again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failure_skips_redis_for_cooldown() {
        let outage = Outage::new("test", Duration::from_secs(1));
        assert!(outage.should_try_redis());

        outage.record_failure(&"connection refused");
        assert!(!outage.should_try_redis());

        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(!outage.should_try_redis());

        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(outage.should_try_redis());
    }

    #[tokio::test(start_paused = true)]
    async fn zero_cooldown_never_skips() {
        let outage = Outage::new("test", Duration::ZERO);
        outage.record_failure(&"connection refused");
        assert!(outage.should_try_redis());
    }
}
