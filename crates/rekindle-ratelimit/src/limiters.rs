//! The pair of limiters an API process uses, chosen by configuration.

use std::sync::Arc;

use crate::{
    ConcurrencyLimiter, MemoryConcurrencyLimiter, MemoryLimiter, RateLimitError, RateLimiter,
    RedisConcurrencyLimiter, RedisConfig, RedisLimiter, redis_connection,
};

/// A rate limiter and a concurrency limiter on the same backend.
#[derive(Clone)]
pub struct Limiters {
    pub rate: Arc<dyn RateLimiter>,
    pub concurrency: Arc<dyn ConcurrencyLimiter>,
}

impl Limiters {
    /// In-process limiters, for a single API process.
    ///
    /// Nothing else runs [`MemoryLimiter::prune`] here; checks prune by
    /// themselves (see [`crate::PRUNE_INTERVAL`]).
    pub fn in_memory(max_keys: usize) -> Self {
        Self {
            rate: Arc::new(MemoryLimiter::new(max_keys)),
            concurrency: Arc::new(MemoryConcurrencyLimiter::new()),
        }
    }

    /// Redis limiters sharing one connection to `url`, which is opened lazily.
    pub fn redis(url: &str, config: RedisConfig) -> Result<Self, RateLimitError> {
        let connection = redis_connection(url, &config)?;
        let rate = RedisLimiter::from_connection(connection.clone(), config.clone());
        let concurrency = RedisConcurrencyLimiter::from_connection(connection, config);

        Ok(Self {
            rate: Arc::new(rate),
            concurrency: Arc::new(concurrency),
        })
    }

    /// Redis limiters when `redis_url` is set, in-process ones (with
    /// `config.fallback_max_keys` keys at most) otherwise.
    pub fn from_config(
        redis_url: Option<&str>,
        config: RedisConfig,
    ) -> Result<Self, RateLimitError> {
        match redis_url {
            Some(url) => Self::redis(url, config),
            None => Ok(Self::in_memory(config.fallback_max_keys)),
        }
    }
}
