//! The in-process rate limiter, on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use rekindle_ratelimit::{
    Decision, FULL_PRUNE_INTERVAL, MemoryLimiter, PRUNE_INTERVAL, Quota, RateLimiter,
};
use tokio::time::advance;

const KEY: &str = "ip:127.0.0.1:auth";

fn secs(value: u64) -> Duration {
    Duration::from_secs(value)
}

#[tokio::test(start_paused = true)]
async fn limit_then_limited() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(3).unwrap();

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

    // One event refills every 60 s / 3 = 20 s.
    let limited = limiter.check(KEY, quota).await;
    assert_eq!(
        limited,
        Decision::Limited {
            retry_after: secs(20)
        }
    );
    assert_eq!(limited.retry_after_secs(), Some(20));
}

#[tokio::test(start_paused = true)]
async fn limited_checks_not_counted() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(1).unwrap();

    assert!(limiter.check(KEY, quota).await.is_allowed());
    for _ in 0..10 {
        assert!(!limiter.check(KEY, quota).await.is_allowed());
    }

    advance(secs(60)).await;
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 0 }
    );
}

#[tokio::test(start_paused = true)]
async fn budget_refills_over_time() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(3).unwrap();
    for _ in 0..3 {
        assert!(limiter.check(KEY, quota).await.is_allowed());
    }

    advance(secs(19)).await;
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Limited {
            retry_after: secs(1)
        }
    );

    advance(secs(1)).await;
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 0 }
    );

    // A whole idle period refills the whole budget.
    advance(secs(60)).await;
    assert_eq!(
        limiter.check(KEY, quota).await,
        Decision::Allowed { remaining: 2 }
    );
}

#[tokio::test(start_paused = true)]
async fn keys_are_independent() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(2).unwrap();
    let account = "account:6f1c2a52-8f2e-4d5b-9c3e-1a2b3c4d5e6f:ai";

    assert!(limiter.check(KEY, quota).await.is_allowed());
    assert!(limiter.check(KEY, quota).await.is_allowed());
    assert!(!limiter.check(KEY, quota).await.is_allowed());

    assert_eq!(
        limiter.check(account, quota).await,
        Decision::Allowed { remaining: 1 }
    );
    assert_eq!(limiter.key_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn quota_applies_per_call() {
    let limiter = MemoryLimiter::default();
    let tight = Quota::per_hour(1).unwrap();
    let loose = Quota::per_minute(100).unwrap();

    assert!(limiter.check("user:1:ai", tight).await.is_allowed());
    assert!(!limiter.check("user:1:ai", tight).await.is_allowed());
    assert_eq!(
        limiter.check("user:1:api", loose).await,
        Decision::Allowed { remaining: 99 }
    );
}

#[tokio::test(start_paused = true)]
async fn prune_removes_idle_keys() {
    let limiter = MemoryLimiter::default();
    let minute = Quota::per_minute(3).unwrap();
    let hour = Quota::per_hour(3).unwrap();
    limiter.check("short", minute).await;
    limiter.check("long", hour).await;

    // "short" used 20 s of budget and "long" 20 minutes.
    advance(secs(21)).await;
    assert_eq!(limiter.prune(), 1);
    assert_eq!(limiter.key_count(), 1);

    advance(secs(20 * 60)).await;
    assert_eq!(limiter.prune(), 1);
    assert_eq!(limiter.key_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn prune_keeps_limited_key() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(1).unwrap();
    limiter.check(KEY, quota).await;

    advance(secs(30)).await;
    assert_eq!(limiter.prune(), 0);
    assert!(!limiter.check(KEY, quota).await.is_allowed());
}

#[tokio::test(start_paused = true)]
async fn checks_prune_periodically() {
    let limiter = MemoryLimiter::default();
    let quota = Quota::per_minute(3).unwrap();
    limiter.check("idle", quota).await;

    advance(PRUNE_INTERVAL).await;
    limiter.check("active", quota).await;

    assert_eq!(limiter.key_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn full_limiter_limits_new_keys() {
    let limiter = MemoryLimiter::new(2);
    let quota = Quota::per_minute(3).unwrap();
    assert!(limiter.check("a", quota).await.is_allowed());
    assert!(limiter.check("b", quota).await.is_allowed());

    assert_eq!(
        limiter.check("c", quota).await,
        Decision::Limited {
            retry_after: secs(20)
        }
    );
    assert_eq!(limiter.key_count(), 2);

    // Tracked keys keep their budgets while the limiter is full.
    assert_eq!(
        limiter.check("a", quota).await,
        Decision::Allowed { remaining: 1 }
    );
}

#[tokio::test(start_paused = true)]
async fn full_limiter_admits_after_expiry() {
    let limiter = MemoryLimiter::new(2);
    let quota = Quota::per_minute(3).unwrap();
    limiter.check("a", quota).await;
    limiter.check("b", quota).await;

    advance(secs(20).max(FULL_PRUNE_INTERVAL)).await;
    assert_eq!(
        limiter.check("c", quota).await,
        Decision::Allowed { remaining: 2 }
    );
    assert_eq!(limiter.key_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn full_limiter_prunes_at_most_once_a_second() {
    let limiter = MemoryLimiter::new(1);
    let quota = Quota::per_second(10).unwrap();
    limiter.check("a", quota).await;

    // "a" frees up after 100 ms, but the limiter only prunes once per
    // FULL_PRUNE_INTERVAL, and its last prune counts from creation.
    advance(Duration::from_millis(500)).await;
    assert!(!limiter.check("b", quota).await.is_allowed());

    advance(FULL_PRUNE_INTERVAL).await;
    assert!(limiter.check("b", quota).await.is_allowed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checks_respect_limit() {
    let limiter = Arc::new(MemoryLimiter::default());
    // One event per 6 minutes refills nothing while this test runs.
    let quota = Quota::per_hour(10).unwrap();

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let limiter = Arc::clone(&limiter);
        tasks.push(tokio::spawn(async move { limiter.check(KEY, quota).await }));
    }

    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap().is_allowed() {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}
