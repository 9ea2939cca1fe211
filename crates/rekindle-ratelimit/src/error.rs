//! The error type of this crate.

use std::time::Duration;

/// Errors from building a quota or a Redis-backed limiter.
///
/// Checks themselves never fail: a Redis failure falls back to an in-process
/// limiter (see [`crate::RedisLimiter`]).
#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("invalid quota: the limit must be at least 1 event per period")]
    ZeroLimit,

    #[error("invalid quota: the period must be greater than zero")]
    ZeroPeriod,

    #[error("invalid quota: the period {period:?} is longer than the maximum of {max:?}")]
    PeriodTooLong { period: Duration, max: Duration },

    #[error(
        "invalid quota: {limit} events per {period:?} is more than one event per microsecond; \
         lower the limit or lengthen the period"
    )]
    IntervalTooShort { limit: u32, period: Duration },

    /// The URL itself is left out of the message because it may contain a password.
    #[error("invalid Redis URL for rate limiting")]
    InvalidRedisUrl(#[source] redis::RedisError),

    #[error("failed to set up the Redis connection for rate limiting")]
    RedisSetup(#[source] redis::RedisError),

    #[error("a Redis rate limiter must be created inside a Tokio runtime")]
    NoTokioRuntime,
}
