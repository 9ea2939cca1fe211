//! The Redis concurrency limiter against the test Redis server, and its fallback.

use std::time::Duration;

use rekindle_ratelimit::{ConcurrencyLimiter, RedisConcurrencyLimiter, RedisConfig};

use crate::support::{HANG_BOUND, TestRedis, closed_port_url, unreachable_config};

const KEY: &str = "account:6f1c2a52-8f2e-4d5b-9c3e-1a2b3c4d5e6f:ai";

/// Polls `limiter` until it grants a permit, at most 100 times 20 ms apart,
/// because a dropped permit's removal runs in a background task.
async fn acquire_eventually(limiter: &RedisConcurrencyLimiter, max: u32) -> bool {
    for _ in 0..100 {
        if let Some(permit) = limiter.try_acquire(KEY, max).await {
            permit.release().await;
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn redis_permits_shared_across_instances() {
    let Some(redis) = TestRedis::from_env("redis_permits_shared_across_instances") else {
        return;
    };
    // Two limiters with their own connections, as two API processes would have.
    let first = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();
    let second = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();

    let held_first = first.try_acquire(KEY, 2).await;
    let held_second = second.try_acquire(KEY, 2).await;
    assert!(held_first.is_some());
    assert!(held_second.is_some());

    assert!(first.try_acquire(KEY, 2).await.is_none());
    assert!(second.try_acquire(KEY, 2).await.is_none());
    assert_eq!(first.fallback().key_count(), 0);
    assert_eq!(second.fallback().key_count(), 0);

    // An explicit release has removed the slot when it returns.
    held_first.unwrap().release().await;
    assert!(second.try_acquire(KEY, 2).await.is_some());

    drop(held_second);
    redis.cleanup().await;
}

#[tokio::test]
async fn redis_drop_releases_slot() {
    let Some(redis) = TestRedis::from_env("redis_drop_releases_slot") else {
        return;
    };
    let first = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();
    let second = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();

    let held = first.try_acquire(KEY, 1).await;
    assert!(held.is_some());
    assert!(second.try_acquire(KEY, 1).await.is_none());

    drop(held);

    assert!(
        acquire_eventually(&second, 1).await,
        "slot not freed after drop"
    );
    redis.cleanup().await;
}

#[tokio::test]
async fn redis_expired_lease_frees_slot() {
    let Some(redis) = TestRedis::from_env("redis_expired_lease_frees_slot") else {
        return;
    };
    let short_lease = RedisConfig {
        lease: Duration::from_secs(1),
        ..redis.config()
    };
    let crashed = RedisConcurrencyLimiter::open(&redis.url, short_lease).unwrap();
    let survivor = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();

    // A holder that never releases, as when its process crashes.
    let lost = crashed.try_acquire(KEY, 2).await.expect("free slot");
    std::mem::forget(lost);

    // A live holder with the default 10-minute lease keeps the set itself
    // alive, so only the expired lease's removal can free the slot below.
    let live = survivor.try_acquire(KEY, 2).await;
    assert!(live.is_some());
    assert!(survivor.try_acquire(KEY, 2).await.is_none());

    // Real time, because the Redis server's clock decides. Sleeping past the
    // lease can only help, so a slow machine cannot fail this.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let freed = survivor.try_acquire(KEY, 2).await;
    assert!(freed.is_some());

    drop((live, freed));
    redis.cleanup().await;
}

#[tokio::test]
async fn redis_permit_set_expires() {
    let Some(redis) = TestRedis::from_env("redis_permit_set_expires") else {
        return;
    };
    let limiter = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();
    let held = limiter.try_acquire(KEY, 1).await.expect("free slot");

    let keys = redis.keys().await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&redis.prefix));

    let ttl_ms = redis.pttl(&keys[0]).await;
    let lease_ms = i64::try_from(RedisConfig::default().lease.as_millis()).unwrap();
    assert!(ttl_ms > 0, "permit set has no expiry: PTTL {ttl_ms}");
    assert!(
        ttl_ms <= lease_ms,
        "expiry longer than the lease: PTTL {ttl_ms}"
    );

    held.release().await;
    redis.cleanup().await;
}

#[tokio::test]
async fn redis_zero_max_refused() {
    let Some(redis) = TestRedis::from_env("redis_zero_max_refused") else {
        return;
    };
    let limiter = RedisConcurrencyLimiter::open(&redis.url, redis.config()).unwrap();

    assert!(limiter.try_acquire(KEY, 0).await.is_none());
    assert!(redis.keys().await.is_empty());

    redis.cleanup().await;
}

#[tokio::test]
async fn refused_connection_falls_back() {
    let limiter = RedisConcurrencyLimiter::open(&closed_port_url(), unreachable_config()).unwrap();

    let (first, second) = tokio::time::timeout(HANG_BOUND, async {
        (
            limiter.try_acquire(KEY, 1).await,
            limiter.try_acquire(KEY, 1).await,
        )
    })
    .await
    .expect("acquires against a closed port hung");

    assert!(first.is_some());
    assert!(second.is_none());
    assert_eq!(limiter.fallback().in_use(KEY), 1);

    drop(first);
    assert_eq!(limiter.fallback().in_use(KEY), 0);
}
