//! The Redis concurrency limiter, for caps shared by several API processes.
//!
//! A key's taken slots are a sorted set at `{key_prefix}concurrency:{key}`:
//! one member per permit (a random UUID), scored by the time its lease ends
//! in milliseconds of the Redis clock. Acquiring runs one Lua script
//! (`lua/acquire.lua`) that drops expired leases, counts the rest and adds
//! the new permit, atomically. Releasing removes the member. A holder that
//! never releases (a crashed process) keeps its slot until the lease ends.
//!
//! As with [`crate::RedisLimiter`], a failure or timeout falls back to an
//! in-process [`MemoryConcurrencyLimiter`], so during an outage each process
//! applies the cap on its own.

use std::sync::Arc;

use async_trait::async_trait;
use redis::Script;
use redis::aio::ConnectionManager;
use uuid::Uuid;

use crate::outage::{CallError, Outage};
use crate::redis::{redis_connection, with_timeout};
use crate::{ConcurrencyLimiter, MemoryConcurrencyLimiter, Permit, RateLimitError, RedisConfig};

/// A concurrency limiter whose slots live in Redis, shared by every process
/// that uses the same Redis and key prefix.
///
/// NOTE: a permit held past [`RedisConfig::lease`] loses its slot without
/// notice, so the lease must exceed the longest operation a permit guards.
pub struct RedisConcurrencyLimiter {
    shared: Arc<Shared>,
    script: Script,
    fallback: MemoryConcurrencyLimiter,
}

/// The connection and settings a [`RedisLease`] keeps after its limiter is gone.
struct Shared {
    connection: ConnectionManager,
    config: RedisConfig,
    outage: Outage,
}

impl RedisConcurrencyLimiter {
    /// Creates a limiter for the Redis server at `url` (see [`redis_connection`]).
    pub fn open(url: &str, config: RedisConfig) -> Result<Self, RateLimitError> {
        let connection = redis_connection(url, &config)?;
        Ok(Self::from_connection(connection, config))
    }

    /// Creates a limiter over an existing connection.
    pub fn from_connection(connection: ConnectionManager, config: RedisConfig) -> Self {
        let shared = Shared {
            connection,
            outage: Outage::new("concurrency limiting", config.failure_cooldown),
            config,
        };

        Self {
            shared: Arc::new(shared),
            script: Script::new(include_str!("lua/acquire.lua")),
            fallback: MemoryConcurrencyLimiter::new(),
        }
    }

    /// The in-process limiter that hands out permits while Redis is unavailable.
    pub fn fallback(&self) -> &MemoryConcurrencyLimiter {
        &self.fallback
    }

    async fn acquire_redis(&self, key: &str, max: u32) -> Result<Option<Permit>, CallError> {
        let config = &self.shared.config;
        let set_key = format!("{}concurrency:{key}", config.key_prefix);
        let permit_id = Uuid::new_v4().to_string();
        let lease_ms = u64::try_from(config.lease.as_millis()).unwrap_or(u64::MAX);

        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(&set_key)
            .arg(max)
            .arg(&permit_id)
            .arg(lease_ms.max(1));

        let mut connection = self.shared.connection.clone();
        let added: i64 =
            with_timeout(config.timeout, invocation.invoke_async(&mut connection)).await?;

        match added {
            1 => Ok(Some(Permit::redis(RedisLease {
                shared: Arc::clone(&self.shared),
                set_key,
                permit_id,
            }))),
            0 => Ok(None),
            other => Err(CallError::UnexpectedReply(other.to_string())),
        }
    }
}

#[async_trait]
impl ConcurrencyLimiter for RedisConcurrencyLimiter {
    async fn try_acquire(&self, key: &str, max: u32) -> Option<Permit> {
        if max == 0 {
            return None;
        }

        if !self.shared.outage.should_try_redis() {
            return self.fallback.try_acquire_now(key, max);
        }

        // NOTE: a call that timed out may still have added the permit in
        // Redis; that slot stays taken until its lease ends.
        match self.acquire_redis(key, max).await {
            Ok(permit) => {
                self.shared.outage.record_success();
                permit
            }
            Err(error) => {
                self.shared.outage.record_failure(&error);
                self.fallback.try_acquire_now(key, max)
            }
        }
    }
}

/// A slot taken in Redis, freed by removing its member from the set.
pub(crate) struct RedisLease {
    shared: Arc<Shared>,
    set_key: String,
    permit_id: String,
}

impl std::fmt::Debug for RedisLease {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RedisLease")
            .field("set_key", &self.set_key)
            .field("permit_id", &self.permit_id)
            .finish()
    }
}

impl RedisLease {
    /// Removes the permit from Redis, waiting up to the configured timeout.
    pub(crate) async fn release(self) {
        let mut connection = self.shared.connection.clone();
        let mut removal = redis::cmd("ZREM");
        removal.arg(&self.set_key).arg(&self.permit_id);
        let removal = removal.query_async::<i64>(&mut connection);

        match with_timeout(self.shared.config.timeout, removal).await {
            Ok(_) => self.shared.outage.record_success(),
            Err(error) => self.shared.outage.record_failure(&error),
        }
    }

    /// Starts [`RedisLease::release`] on the current Tokio runtime. Outside a
    /// runtime nothing can send the removal, so the slot stays taken until
    /// its lease ends.
    pub(crate) fn release_in_background(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(self.release());
            }
            Err(_) => tracing::warn!(
                lease_ms = self.shared.config.lease.as_millis(),
                "concurrency permit dropped outside a Tokio runtime; its Redis slot frees when the lease ends"
            ),
        }
    }
}
