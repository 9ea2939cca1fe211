//! The in-process rate limiter.
//!
//! It is a small GCRA (the crate's `gcra` module) over a sharded concurrent
//! map (`dashmap`), not the `governor` crate (0.10). A keyed `governor`
//! limiter fixes one quota for all its keys, while here every call passes its
//! own quota, so `governor` would need one keyed limiter per distinct quota.
//! `governor` also reads its own clock, which tokio's paused time in tests
//! cannot drive. And the Redis backend needs its own GCRA in Lua anyway,
//! which the `gcra` step function mirrors step for step.
//!
//! Memory stays bounded. Each key costs one map entry (the key string plus a
//! 16-byte timestamp). A key whose budget is full again carries no information
//! and is removed by [`MemoryLimiter::prune`], which checks also run by
//! themselves at most once per [`PRUNE_INTERVAL`]. When the map holds
//! `max_keys` entries, a check for a new key first prunes (at most once per
//! [`FULL_PRUNE_INTERVAL`]) and, if the map is still full, limits that key
//! with a retry after one emission interval of its quota. This fails closed:
//! the keys already tracked keep their budgets, and a flood of new keys is
//! rejected instead of resetting them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use tokio::time::Instant;

use crate::gcra;
use crate::log_throttle::{LogThrottle, WARNING_INTERVAL};
use crate::{Decision, Quota, RateLimiter};

/// The default maximum number of keys. At about 100 bytes per entry (an IP or
/// account key plus map overhead, an estimate), that is about 10 MB.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// How often checks prune idle keys by themselves.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// How often a check for a new key may prune while the map is full. Pruning
/// scans the whole map, so a flood of new keys must not trigger it on every call.
pub const FULL_PRUNE_INTERVAL: Duration = Duration::from_secs(1);

/// An in-process GCRA rate limiter with a bounded number of keys.
pub struct MemoryLimiter {
    /// The origin of the stored timestamps, which are offsets from it.
    epoch: Instant,
    max_keys: usize,
    /// Theoretical arrival time per key, as an offset from `epoch`.
    tats: DashMap<String, Duration>,
    /// Nanoseconds after `epoch` of the last prune.
    last_prune_nanos: AtomicU64,
    full_warnings: LogThrottle,
}

impl MemoryLimiter {
    /// Creates a limiter that tracks at most `max_keys` keys.
    ///
    /// Under concurrent checks for new keys the map can exceed `max_keys` by at
    /// most the number of concurrent callers, because the size check and the
    /// insert are separate steps.
    pub fn new(max_keys: usize) -> Self {
        Self {
            epoch: Instant::now(),
            max_keys,
            tats: DashMap::new(),
            last_prune_nanos: AtomicU64::new(0),
            full_warnings: LogThrottle::new(WARNING_INTERVAL),
        }
    }

    /// Counts one event for `key` under `quota`. This is [`RateLimiter::check`]
    /// without the `async`, since nothing here waits.
    pub fn check_now(&self, key: &str, quota: Quota) -> Decision {
        let now = self.elapsed();

        if self.claim_prune(now, PRUNE_INTERVAL) {
            self.prune_at(now);
        }

        if let Some(mut tat) = self.tats.get_mut(key) {
            let step = gcra::step(Some(*tat), now, quota);
            if let Some(new_tat) = step.new_tat {
                *tat = new_tat;
            }
            return step.decision;
        }

        self.check_new_key(key, quota, now)
    }

    /// Removes every key whose budget is full again, and returns how many were removed.
    pub fn prune(&self) -> usize {
        let now = self.elapsed();
        self.last_prune_nanos
            .store(duration_to_nanos(now), Ordering::Relaxed);
        self.prune_at(now)
    }

    /// The number of keys tracked now.
    pub fn key_count(&self) -> usize {
        self.tats.len()
    }

    /// The maximum number of keys, as given to [`MemoryLimiter::new`].
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    fn check_new_key(&self, key: &str, quota: Quota, now: Duration) -> Decision {
        if !self.has_room(now) {
            self.warn_full();
            return Decision::Limited {
                retry_after: quota.emission_interval(),
            };
        }

        // Another caller may insert the same key between the lookup above and
        // here. A TAT of `now` means the same as no state, so the entry API
        // keeps whichever state is already there.
        let mut tat = self.tats.entry(key.to_owned()).or_insert(now);
        let step = gcra::step(Some(*tat), now, quota);
        if let Some(new_tat) = step.new_tat {
            *tat = new_tat;
        }
        step.decision
    }

    fn has_room(&self, now: Duration) -> bool {
        if self.tats.len() < self.max_keys {
            return true;
        }

        if !self.claim_prune(now, FULL_PRUNE_INTERVAL) {
            return false;
        }

        self.prune_at(now);
        self.tats.len() < self.max_keys
    }

    /// Returns true for exactly one caller once `interval` has passed since the
    /// last prune, so concurrent checks do not all scan the map.
    fn claim_prune(&self, now: Duration, interval: Duration) -> bool {
        let last = self.last_prune_nanos.load(Ordering::Relaxed);
        if now < Duration::from_nanos(last) + interval {
            return false;
        }

        self.last_prune_nanos
            .compare_exchange(
                last,
                duration_to_nanos(now),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    fn prune_at(&self, now: Duration) -> usize {
        let before = self.tats.len();
        self.tats.retain(|_, tat| *tat > now);
        before.saturating_sub(self.tats.len())
    }

    fn warn_full(&self) {
        if let Some(suppressed) = self.full_warnings.occurrence() {
            tracing::warn!(
                max_keys = self.max_keys,
                suppressed,
                "in-process rate limiter is full; limiting new keys until old ones expire"
            );
        }
    }

    fn elapsed(&self) -> Duration {
        Instant::now().duration_since(self.epoch)
    }
}

impl Default for MemoryLimiter {
    /// Creates a limiter with [`DEFAULT_MAX_KEYS`].
    fn default() -> Self {
        Self::new(DEFAULT_MAX_KEYS)
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, key: &str, quota: Quota) -> Decision {
        self.check_now(key, quota)
    }
}

/// Converts an offset to nanoseconds, saturating after about 584 years.
fn duration_to_nanos(value: Duration) -> u64 {
    u64::try_from(value.as_nanos()).unwrap_or(u64::MAX)
}
