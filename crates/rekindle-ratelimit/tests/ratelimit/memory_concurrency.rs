//! The in-process concurrency limiter.

use rekindle_ratelimit::{ConcurrencyLimiter, MemoryConcurrencyLimiter};

const KEY: &str = "account:6f1c2a52-8f2e-4d5b-9c3e-1a2b3c4d5e6f:ai";

#[tokio::test]
async fn cap_enforced() {
    let limiter = MemoryConcurrencyLimiter::new();

    let first = limiter.try_acquire(KEY, 2).await;
    let second = limiter.try_acquire(KEY, 2).await;
    let third = limiter.try_acquire(KEY, 2).await;

    assert!(first.is_some());
    assert!(second.is_some());
    assert!(third.is_none());
    assert_eq!(limiter.in_use(KEY), 2);
}

#[tokio::test]
async fn drop_frees_slot() {
    let limiter = MemoryConcurrencyLimiter::new();
    let first = limiter.try_acquire(KEY, 1).await;
    assert!(first.is_some());
    assert!(limiter.try_acquire(KEY, 1).await.is_none());

    drop(first);

    assert_eq!(limiter.in_use(KEY), 0);
    assert!(limiter.try_acquire(KEY, 1).await.is_some());
}

#[tokio::test]
async fn release_frees_slot() {
    let limiter = MemoryConcurrencyLimiter::new();
    let permit = limiter.try_acquire(KEY, 1).await.expect("free slot");

    permit.release().await;

    assert_eq!(limiter.in_use(KEY), 0);
}

#[tokio::test]
async fn key_removed_at_zero() {
    let limiter = MemoryConcurrencyLimiter::new();
    let first = limiter.try_acquire(KEY, 3).await;
    let second = limiter.try_acquire(KEY, 3).await;
    assert_eq!(limiter.key_count(), 1);

    drop(first);
    assert_eq!(limiter.key_count(), 1);

    drop(second);
    assert_eq!(limiter.key_count(), 0);
}

#[tokio::test]
async fn zero_max_always_refused() {
    let limiter = MemoryConcurrencyLimiter::new();

    assert!(limiter.try_acquire(KEY, 0).await.is_none());
    assert_eq!(limiter.key_count(), 0);
}

#[tokio::test]
async fn keys_are_independent() {
    let limiter = MemoryConcurrencyLimiter::new();
    let held = limiter.try_acquire("user:1:ai", 1).await;
    assert!(held.is_some());

    assert!(limiter.try_acquire("user:2:ai", 1).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_acquires_respect_cap() {
    let limiter = MemoryConcurrencyLimiter::new();

    let mut tasks = Vec::new();
    for _ in 0..100 {
        let limiter = limiter.clone();
        tasks.push(tokio::spawn(
            async move { limiter.try_acquire(KEY, 5).await },
        ));
    }

    let mut held = Vec::new();
    for task in tasks {
        if let Some(permit) = task.await.unwrap() {
            held.push(permit);
        }
    }
    assert_eq!(held.len(), 5);
    assert_eq!(limiter.in_use(KEY), 5);
}
