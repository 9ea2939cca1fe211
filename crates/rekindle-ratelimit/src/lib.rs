//! Rate limits and concurrency caps for the Rekindle HTTP API.
//!
//! - [`RateLimiter`] counts events per key against a [`Quota`] passed on each
//!   call and returns a [`Decision`], whose [`Decision::retry_after_secs`] is
//!   the `Retry-After` header value of a 429 response.
//! - [`ConcurrencyLimiter`] caps operations in progress per key with [`Permit`]s
//!   that free their slot on drop.
//!
//! Each has an in-process backend ([`MemoryLimiter`], [`MemoryConcurrencyLimiter`])
//! for a single process, and a Redis backend ([`RedisLimiter`],
//! [`RedisConcurrencyLimiter`]) that several processes share. The Redis
//! backends fall back to in-process limits while Redis is unavailable.
//! [`Limiters`] builds either pair from an optional Redis URL.

mod concurrency;
mod decision;
mod error;
mod gcra;
mod limiter;
mod limiters;
mod log_throttle;
mod memory;
mod outage;
mod quota;
mod redis;
mod redis_concurrency;

pub use crate::redis::{RedisConfig, RedisLimiter, redis_connection};
pub use ::redis::aio::ConnectionManager;
pub use concurrency::{ConcurrencyLimiter, MemoryConcurrencyLimiter, Permit};
pub use decision::{Decision, retry_after_secs};
pub use error::RateLimitError;
pub use limiter::RateLimiter;
pub use limiters::Limiters;
pub use memory::{DEFAULT_MAX_KEYS, FULL_PRUNE_INTERVAL, MemoryLimiter, PRUNE_INTERVAL};
pub use quota::{MAX_PERIOD, Quota};
pub use redis_concurrency::RedisConcurrencyLimiter;
