//! The Redis rate limiter against the test Redis server, and its fallback.

use std::time::Duration;

use rekindle_ratelimit::{Decision, Quota, RateLimiter, RedisLimiter};

use crate::support::{HANG_BOUND, TestRedis, closed_port_url, silent_server, unreachable_config};

const KEY: &str = "ip:127.0.0.1:auth";

#[tokio::test]
async fn redis_limit_enforced() {
    let Some(redis) = TestRedis::from_env("redis_limit_enforced") else {
        return;
    };
    let limiter = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_hour(3).unwrap();

    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 2 }
    );
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 1 }
    );
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 0 }
    );
    assert!(!limiter.check(KEY, quota).await.is_allowed());

    // Redis decided, not the fallback.
    assert_eq!(limiter.fallback().key_count(), 0);

    redis.cleanup().await;
}

#[tokio::test]
async fn redis_key_prefixed_and_expiring() {
    let Some(redis) = TestRedis::from_env("redis_key_prefixed_and_expiring") else {
        return;
    };
    let limiter = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_minute(5).unwrap();

    assert!(limiter.check(KEY, quota).await.is_allowed());

    let keys = redis.keys().await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&redis.prefix));
    assert!(keys[0].ends_with(KEY));

    let ttl_ms = redis.pttl(&keys[0]).await;
    assert!(ttl_ms > 0, "key has no expiry: PTTL {ttl_ms}");
    assert!(
        ttl_ms <= 60_000,
        "expiry longer than the period: PTTL {ttl_ms}"
    );

    redis.cleanup().await;
}

#[tokio::test]
async fn redis_instances_share_budget() {
    let Some(redis) = TestRedis::from_env("redis_instances_share_budget") else {
        return;
    };
    // Two limiters with their own connections, as two API processes would have.
    let first = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let second = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_hour(4).unwrap();

    assert_eq!(
        first.check(KEY, quota).await,
        Decision::Allowed { remaining: 3 }
    );
    assert_eq!(
        second.check(KEY, quota).await,
        Decision::Allowed { remaining: 2 }
    );
    assert_eq!(
        first.check(KEY, quota).await,
        Decision::Allowed { remaining: 1 }
    );
    assert_eq!(
        second.check(KEY, quota).await,
        Decision::Allowed { remaining: 0 }
    );

    assert!(!first.check(KEY, quota).await.is_allowed());
    assert!(!second.check(KEY, quota).await.is_allowed());
    assert_eq!(first.fallback().key_count(), 0);
    assert_eq!(second.fallback().key_count(), 0);

    redis.cleanup().await;
}

#[tokio::test]
async fn redis_keys_independent() {
    let Some(redis) = TestRedis::from_env("redis_keys_independent") else {
        return;
    };
    let limiter = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_hour(1).unwrap();

    assert!(limiter.check("user:1:ai", quota).await.is_allowed());
    assert!(!limiter.check("user:1:ai", quota).await.is_allowed());
    assert!(limiter.check("user:2:ai", quota).await.is_allowed());

    redis.cleanup().await;
}

#[tokio::test]
async fn redis_retry_after_sensible() {
    let Some(redis) = TestRedis::from_env("redis_retry_after_sensible") else {
        return;
    };
    let limiter = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_hour(1).unwrap();
    assert!(limiter.check(KEY, quota).await.is_allowed());

    let Decision::Limited { retry_after } = limiter.check(KEY, quota).await else {
        panic!("second event in an hour allowed with a limit of 1");
    };

    // The next event fits one hour after the first; this test spends far less
    // than 100 s between the two checks.
    assert!(
        retry_after <= Duration::from_secs(3_600),
        "retry_after {retry_after:?}"
    );
    assert!(
        retry_after > Duration::from_secs(3_500),
        "retry_after {retry_after:?}"
    );

    redis.cleanup().await;
}

#[tokio::test]
async fn redis_waiting_retry_after_allows() {
    let Some(redis) = TestRedis::from_env("redis_waiting_retry_after_allows") else {
        return;
    };
    let limiter = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_second(2).unwrap();
    assert!(limiter.check(KEY, quota).await.is_allowed());
    assert!(limiter.check(KEY, quota).await.is_allowed());

    let Decision::Limited { retry_after } = limiter.check(KEY, quota).await else {
        panic!("third event in a second allowed with a limit of 2");
    };
    assert!(
        retry_after <= Duration::from_millis(500),
        "retry_after {retry_after:?}"
    );

    // Real time, because the Redis server's clock decides. Waiting longer than
    // retry_after can only help, so a slow machine cannot fail this.
    tokio::time::sleep(retry_after + Duration::from_millis(5)).await;
    assert!(limiter.check(KEY, quota).await.is_allowed());

    redis.cleanup().await;
}

#[tokio::test]
async fn refused_connection_falls_back() {
    let limiter = RedisLimiter::open(&closed_port_url(), unreachable_config()).unwrap();
    let quota = Quota::per_hour(2).unwrap();

    let decisions = tokio::time::timeout(HANG_BOUND, async {
        [
            limiter.check(KEY, quota).await,
            limiter.check(KEY, quota).await,
            limiter.check(KEY, quota).await,
        ]
    })
    .await
    .expect("checks against a closed port hung");

    // The in-process fallback enforces the quota, neither failing open nor closed.
    assert_eq!(decisions[0], Decision::Allowed { remaining: 1 });
    assert_eq!(decisions[1], Decision::Allowed { remaining: 0 });
    assert!(!decisions[2].is_allowed());
    assert_eq!(limiter.fallback().key_count(), 1);
}

#[tokio::test]
async fn silent_server_times_out() {
    let (_listener, url) = silent_server();
    let limiter = RedisLimiter::open(&url, unreachable_config()).unwrap();
    let quota = Quota::per_hour(2).unwrap();

    let decision = tokio::time::timeout(HANG_BOUND, limiter.check(KEY, quota))
        .await
        .expect("check against a server that never replies hung past its timeout");

    assert_eq!(decision, Decision::Allowed { remaining: 1 });
    assert_eq!(limiter.fallback().key_count(), 1);
}

#[tokio::test]
async fn silent_server_skipped_during_cooldown() {
    let (_listener, url) = silent_server();
    let limiter = RedisLimiter::open(&url, unreachable_config()).unwrap();
    let quota = Quota::per_hour(5).unwrap();
    tokio::time::timeout(HANG_BOUND, limiter.check(KEY, quota))
        .await
        .expect("check against a server that never replies hung past its timeout");

    // Within the 1 s cooldown the check goes straight to the fallback. On the
    // paused clock, waiting for Redis would move time by the 100 ms timeout
    // (tokio advances a paused clock to the next timer when idle), while
    // skipping Redis does not move it at all.
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let decision = limiter.check(KEY, quota).await;
    let waited = started.elapsed();
    tokio::time::resume();

    assert_eq!(waited, Duration::ZERO);
    assert_eq!(decision, Decision::Allowed { remaining: 3 });
}
