//! Choosing the backend from configuration.

use rekindle_ratelimit::{Decision, Limiters, Quota, RateLimiter, RedisConfig, RedisLimiter};

use crate::support::TestRedis;

const KEY: &str = "user:0b7d2f0e-5a43-4e52-9d55-3c7a1c9e2f10:ai";

#[tokio::test]
async fn no_url_gives_memory_limiters() {
    let limiters = Limiters::from_config(None, RedisConfig::default()).unwrap();
    let quota = Quota::per_hour(1).unwrap();

    assert!(limiters.rate.check(KEY, quota).await.is_allowed());
    assert!(!limiters.rate.check(KEY, quota).await.is_allowed());

    let held = limiters.concurrency.try_acquire(KEY, 1).await;
    assert!(held.is_some());
    assert!(limiters.concurrency.try_acquire(KEY, 1).await.is_none());
}

#[tokio::test]
async fn url_gives_redis_limiters() {
    let Some(redis) = TestRedis::from_env("url_gives_redis_limiters") else {
        return;
    };
    let limiters = Limiters::from_config(Some(&redis.url), redis.config()).unwrap();
    // A separate limiter on the same Redis and prefix, as another process.
    let other_process = RedisLimiter::open(&redis.url, redis.config()).unwrap();
    let quota = Quota::per_hour(2).unwrap();

    assert_eq!(
        limiters.rate.check(KEY, quota).await,
        Decision::Allowed { remaining: 1 }
    );
    assert_eq!(
        other_process.check(KEY, quota).await,
        Decision::Allowed { remaining: 0 }
    );
    assert!(!limiters.rate.check(KEY, quota).await.is_allowed());

    let held = limiters.concurrency.try_acquire(KEY, 1).await;
    assert!(held.is_some());
    assert_eq!(redis.keys().await.len(), 2);

    drop(held);
    redis.cleanup().await;
}
