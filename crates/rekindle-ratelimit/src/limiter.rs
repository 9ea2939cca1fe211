//! The rate limiter interface shared by the in-process and Redis backends.

use async_trait::async_trait;

use crate::{Decision, Quota};

/// Counts events per key against a quota given on each call, so one limiter
/// serves every policy.
///
/// Keys are opaque strings built by the caller, such as `ip:127.0.0.1:auth` or
/// `account:<uuid>:ai`. A key's state is a single timestamp that does not
/// depend on the quota, so a key should name its policy: two policies that
/// share a key share one budget.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one event for `key` if `quota` has room for it, and returns the decision.
    ///
    /// A check never fails: the Redis backend falls back to an in-process
    /// limiter when Redis fails or does not reply within its timeout.
    async fn check(&self, key: &str, quota: Quota) -> Decision;
}
