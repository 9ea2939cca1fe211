//! When to send a failed request again, and how long to wait first.

use std::time::Duration;

use rand::Rng;

use crate::error::LlmError;

/// Retries of transient failures and HTTP 429, with exponential backoff and
/// jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first request; 2 means at most three requests.
    pub max_retries: u32,
    /// Backoff before the first retry; each further retry doubles it.
    pub base_delay: Duration,
    /// Upper bound of the backoff.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured. A provider that requests a longer wait
    /// gets no retry, and the caller falls back instead of blocking a stage.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Returns the wait before retry number `retry` (0 for the first), or
    /// `None` when the error must not be retried or the retries are spent.
    pub fn delay(&self, retry: u32, error: &LlmError) -> Option<Duration> {
        if retry >= self.max_retries || !error.is_retryable_request() {
            return None;
        }
        match error.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(retry)),
        }
    }

    /// Returns a random wait between half and all of
    /// `base_delay * 2^retry`, capped at `max_delay`. The jitter spreads the
    /// retries of many calls that failed together.
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(16));
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = ceiling / 2;
        let jitter_millis = rand::rng().random_range(0..=half.as_millis() as u64);
        half + Duration::from_millis(jitter_millis)
    }
}

#[cfg(test)]
mod tests {
    use rekindle_domain::ErrorClass;

    use super::*;

    fn timeout() -> LlmError {
        LlmError::Timeout {
            provider: "openai",
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let policy = RetryPolicy::default();
        for _ in 0..50 {
            let first = policy.delay(0, &timeout()).unwrap();
            assert!((Duration::from_millis(250)..=Duration::from_millis(500)).contains(&first));
            let second = policy.delay(1, &timeout()).unwrap();
            assert!((Duration::from_millis(500)..=Duration::from_millis(1000)).contains(&second));
        }
    }

    #[test]
    fn backoff_is_capped() {
        let policy = RetryPolicy::default().with_max_retries(20);
        for retry in 10..20 {
            assert!(policy.delay(retry, &timeout()).unwrap() <= policy.max_delay);
        }
    }

    #[test]
    fn stops_after_max_retries() {
        let policy = RetryPolicy::default().with_max_retries(2);
        assert!(policy.delay(1, &timeout()).is_some());
        assert_eq!(policy.delay(2, &timeout()), None);
    }

    #[test]
    fn honours_retry_after() {
        let policy = RetryPolicy::default();
        let limited = LlmError::RateLimited {
            provider: "openai",
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(policy.delay(0, &limited), Some(Duration::from_secs(3)));

        let too_long = LlmError::RateLimited {
            provider: "openai",
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(policy.delay(0, &too_long), None);
    }

    #[test]
    fn client_errors_are_not_retried() {
        let policy = RetryPolicy::default();
        let bad_request = LlmError::Status {
            provider: "openai",
            status: 400,
            message: "bad".into(),
            class: ErrorClass::Permanent,
            retry_after: None,
        };
        assert_eq!(policy.delay(0, &bad_request), None);
        let output = LlmError::InvalidOutput {
            reason: "not JSON".into(),
        };
        assert_eq!(policy.delay(0, &output), None);
    }
}
