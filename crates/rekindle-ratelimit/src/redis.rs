//! The Redis rate limiter, for several API processes that share budgets.
//!
//! Each check runs one Lua script (`lua/gcra.lua`, sent with EVALSHA and
//! loaded on a NOSCRIPT reply) that reads the key's GCRA state, decides and
//! writes the new state in one atomic step. The script reads the time with
//! the Redis `TIME` command, so processes with skewed clocks still agree. Keys
//! are `{key_prefix}rate:{key}` and expire one period after their last counted
//! event, when their state would mean a full budget anyway.
//!
//! Availability over strictness: when Redis fails or does not reply within
//! [`RedisConfig::timeout`], the check is decided by an in-process
//! [`MemoryLimiter`] instead, and Redis is skipped for
//! [`RedisConfig::failure_cooldown`] so an outage does not add the timeout to
//! every request. During an outage each process therefore enforces the quota
//! on its own, and a client spread over N processes can get up to N times
//! its budget, but the API keeps responding. The outage is logged as a
//! warning at most once a minute, with the count of failures not logged.

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use crate::memory::DEFAULT_MAX_KEYS;
use crate::outage::{CallError, Outage};
use crate::{Decision, MemoryLimiter, Quota, RateLimitError, RateLimiter};

/// Settings shared by [`RedisLimiter`] and [`crate::RedisConcurrencyLimiter`].
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Prepended to every Redis key, so rate limit keys never collide with
    /// other data in the same database.
    pub key_prefix: String,
    /// The maximum time a check waits for Redis, connecting included, before
    /// it falls back to the in-process limiter.
    pub timeout: Duration,
    /// How long checks skip Redis after a failure or timeout.
    pub failure_cooldown: Duration,
    /// How long a concurrency permit holds its slot when its holder never
    /// releases it, for example because the process crashed.
    pub lease: Duration,
    /// The maximum number of keys of the in-process fallback limiter.
    pub fallback_max_keys: usize,
}

impl Default for RedisConfig {
    /// Both durations are estimates. The 100 ms timeout is far above a round
    /// trip to a Redis in the same datacenter, and short enough that a stalled
    /// Redis adds little to a request. The 10-minute lease must exceed the
    /// longest operation a permit guards, or a live holder loses its slot.
    fn default() -> Self {
        Self {
            key_prefix: "rekindle:ratelimit:".to_owned(),
            timeout: Duration::from_millis(100),
            failure_cooldown: Duration::from_secs(1),
            lease: Duration::from_secs(10 * 60),
            fallback_max_keys: DEFAULT_MAX_KEYS,
        }
    }
}

/// Creates a Redis connection for the limiters without connecting yet, so the
/// API starts even while Redis is down. Share one connection between a
/// [`RedisLimiter`] and a [`crate::RedisConcurrencyLimiter`] with
/// `from_connection`.
///
/// Returns [`RateLimitError::NoTokioRuntime`] outside a Tokio runtime, because
/// the connection runs a background task.
pub fn redis_connection(
    url: &str,
    config: &RedisConfig,
) -> Result<ConnectionManager, RateLimitError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(RateLimitError::NoTokioRuntime);
    }

    let client = Client::open(url).map_err(RateLimitError::InvalidRedisUrl)?;
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.timeout))
        .set_response_timeout(Some(config.timeout));

    ConnectionManager::new_lazy_with_config(client, manager_config)
        .map_err(RateLimitError::RedisSetup)
}

/// Runs `call` with `timeout`, turning both failures into a [`CallError`].
pub(crate) async fn with_timeout<T>(
    timeout: Duration,
    call: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(timeout, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CallError::Timeout(timeout)),
    }
}

/// A GCRA rate limiter whose state lives in Redis and is shared by every
/// process that uses the same Redis and key prefix.
pub struct RedisLimiter {
    connection: ConnectionManager,
    config: RedisConfig,
    script: Script,
    fallback: MemoryLimiter,
    outage: Outage,
}

impl RedisLimiter {
    /// Creates a limiter for the Redis server at `url` (see [`redis_connection`]).
    pub fn open(url: &str, config: RedisConfig) -> Result<Self, RateLimitError> {
        let connection = redis_connection(url, &config)?;
        Ok(Self::from_connection(connection, config))
    }

    /// Creates a limiter over an existing connection.
    pub fn from_connection(connection: ConnectionManager, config: RedisConfig) -> Self {
        Self {
            connection,
            script: Script::new(include_str!("lua/gcra.lua")),
            fallback: MemoryLimiter::new(config.fallback_max_keys),
            outage: Outage::new("rate limiting", config.failure_cooldown),
            config,
        }
    }

    /// The in-process limiter that decides while Redis is unavailable.
    pub fn fallback(&self) -> &MemoryLimiter {
        &self.fallback
    }

    async fn check_redis(&self, key: &str, quota: Quota) -> Result<Decision, CallError> {
        // Quota validation keeps the period within u64 microseconds and the
        // interval at 1 µs or more.
        let period_us = u64::try_from(quota.period().as_micros()).unwrap_or(u64::MAX);
        let interval_us = period_us / u64::from(quota.limit());
        let expiry_ms = period_us.div_ceil(1_000);

        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{}rate:{key}", self.config.key_prefix))
            .arg(interval_us)
            .arg(period_us)
            .arg(expiry_ms);

        let mut connection = self.connection.clone();
        let reply: (i64, i64) = with_timeout(
            self.config.timeout,
            invocation.invoke_async(&mut connection),
        )
        .await?;

        decision_from_reply(reply, quota)
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Decision {
        if !self.outage.should_try_redis() {
            return self.fallback.check_now(key, quota);
        }

        match self.check_redis(key, quota).await {
            Ok(decision) => {
                self.outage.record_success();
                decision
            }
            Err(error) => {
                self.outage.record_failure(&error);
                self.fallback.check_now(key, quota)
            }
        }
    }
}

/// Reads the script's `{1, remaining}` or `{0, retry_after_us}` reply.
fn decision_from_reply(reply: (i64, i64), quota: Quota) -> Result<Decision, CallError> {
    let unexpected = || CallError::UnexpectedReply(format!("{reply:?}"));

    match reply {
        (1, remaining) => {
            let remaining = u32::try_from(remaining).map_err(|_| unexpected())?;
            Ok(Decision::Allowed {
                remaining: remaining.min(quota.limit() - 1),
            })
        }
        (0, wait_us) if wait_us > 0 => {
            let wait_us = u64::try_from(wait_us).map_err(|_| unexpected())?;
            Ok(Decision::Limited {
                retry_after: Duration::from_micros(wait_us),
            })
        }
        _ => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_allowed_read() {
        let quota = Quota::per_minute(5).unwrap();
        let decision = decision_from_reply((1, 3), quota).unwrap();
        assert_eq!(decision, Decision::Allowed { remaining: 3 });
    }

    #[test]
    fn reply_limited_read() {
        let quota = Quota::per_minute(5).unwrap();
        let decision = decision_from_reply((0, 1_500_000), quota).unwrap();
        assert_eq!(
            decision,
            Decision::Limited {
                retry_after: Duration::from_millis(1_500)
            }
        );
    }

    #[test]
    fn reply_malformed_rejected() {
        let quota = Quota::per_minute(5).unwrap();
        assert!(decision_from_reply((2, 0), quota).is_err());
        assert!(decision_from_reply((1, -1), quota).is_err());
        assert!(decision_from_reply((0, 0), quota).is_err());
    }

    #[test]
    fn connection_outside_runtime_rejected() {
        let result = redis_connection("redis://127.0.0.1:6379", &RedisConfig::default());
        assert!(matches!(result, Err(RateLimitError::NoTokioRuntime)));
    }

    #[tokio::test]
    async fn invalid_url_rejected() {
        let result = redis_connection("not a url", &RedisConfig::default());
        assert!(matches!(result, Err(RateLimitError::InvalidRedisUrl(_))));
    }
}
