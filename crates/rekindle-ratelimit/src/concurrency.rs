//! Per-key caps on operations in progress, such as LLM calls per account.
//!
//! A caller asks for a [`Permit`] before the operation and keeps it until the
//! operation ends. Dropping the permit frees the slot.

use std::sync::Arc;

use async_trait::async_trait;
use dashmap::DashMap;

use crate::redis_concurrency::RedisLease;

/// Caps how many operations per key may run at once.
#[async_trait]
pub trait ConcurrencyLimiter: Send + Sync {
    /// Takes one of `key`'s `max` slots, or returns `None` when all are taken.
    /// With `max == 0` it always returns `None`.
    ///
    /// Like rate limit checks, this never fails: the Redis backend falls back
    /// to an in-process limiter when Redis fails or does not reply in time.
    async fn try_acquire(&self, key: &str, max: u32) -> Option<Permit>;
}

/// One taken slot. Dropping it frees the slot; [`Permit::release`] does the
/// same and, for Redis, waits until the slot is free.
#[must_use = "the slot is freed as soon as the permit is dropped"]
#[derive(Debug)]
pub struct Permit {
    slot: Option<Slot>,
}

#[derive(Debug)]
enum Slot {
    Memory(MemorySlot),
    Redis(RedisLease),
}

impl Permit {
    pub(crate) fn redis(lease: RedisLease) -> Self {
        Self {
            slot: Some(Slot::Redis(lease)),
        }
    }

    fn memory(slot: MemorySlot) -> Self {
        Self {
            slot: Some(Slot::Memory(slot)),
        }
    }

    /// Frees the slot now. For a Redis permit this waits for the removal (up
    /// to the configured timeout), where dropping would only start it.
    pub async fn release(mut self) {
        match self.slot.take() {
            Some(Slot::Memory(slot)) => slot.release(),
            Some(Slot::Redis(lease)) => lease.release().await,
            None => {}
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        match self.slot.take() {
            Some(Slot::Memory(slot)) => slot.release(),
            Some(Slot::Redis(lease)) => lease.release_in_background(),
            None => {}
        }
    }
}

/// An in-process concurrency limiter: a count of taken slots per key.
///
/// A key's entry exists only while at least one of its permits is held, so
/// the map never holds more entries than there are live permits.
#[derive(Debug, Clone, Default)]
pub struct MemoryConcurrencyLimiter {
    in_use: Arc<DashMap<String, u32>>,
}

impl MemoryConcurrencyLimiter {
    /// Creates a limiter with no slots taken.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one of `key`'s `max` slots without waiting. See
    /// [`ConcurrencyLimiter::try_acquire`].
    pub fn try_acquire_now(&self, key: &str, max: u32) -> Option<Permit> {
        if max == 0 {
            return None;
        }

        let mut count = self.in_use.entry(key.to_owned()).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;

        Some(Permit::memory(MemorySlot {
            in_use: Arc::clone(&self.in_use),
            key: key.to_owned(),
        }))
    }

    /// The number of slots of `key` taken now.
    pub fn in_use(&self, key: &str) -> u32 {
        self.in_use.get(key).map_or(0, |count| *count)
    }

    /// The number of keys with at least one slot taken.
    pub fn key_count(&self) -> usize {
        self.in_use.len()
    }
}

#[async_trait]
impl ConcurrencyLimiter for MemoryConcurrencyLimiter {
    async fn try_acquire(&self, key: &str, max: u32) -> Option<Permit> {
        self.try_acquire_now(key, max)
    }
}

#[derive(Debug)]
struct MemorySlot {
    in_use: Arc<DashMap<String, u32>>,
    key: String,
}

impl MemorySlot {
    /// Gives the slot back, removing the key when its count reaches zero.
    fn release(self) {
        self.in_use.remove_if_mut(&self.key, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}
