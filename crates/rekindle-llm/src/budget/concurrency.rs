//! Caps on LLM calls in flight: one per account and one for the process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rekindle_domain::AccountId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Accounts tracked before idle semaphores are dropped from the map.
const PRUNE_ABOVE_ACCOUNTS: usize = 1_024;

/// The two permits a call holds while it is in flight.
#[derive(Debug)]
pub struct CallPermits {
    _account: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// Semaphores that bound the calls in flight per account and in total.
#[derive(Debug)]
pub struct ConcurrencyLimits {
    per_account: usize,
    global: Arc<Semaphore>,
    accounts: Mutex<HashMap<AccountId, Arc<Semaphore>>>,
}

impl ConcurrencyLimits {
    /// Creates the caps. A zero is raised to one, so calls can always run.
    pub fn new(per_account: usize, global: usize) -> Self {
        Self {
            per_account: per_account.max(1),
            global: Arc::new(Semaphore::new(global.max(1))),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_account(&self) -> usize {
        self.per_account
    }

    /// Waits for a slot of the account, then for a global slot. Taking the
    /// account's slot first keeps one account's queue from holding global
    /// slots it cannot use yet.
    pub async fn acquire(&self, account_id: AccountId) -> CallPermits {
        let account = self.account_semaphore(account_id);
        let account = acquire_owned(account).await;
        let global = acquire_owned(Arc::clone(&self.global)).await;
        CallPermits {
            _account: account,
            _global: global,
        }
    }

    fn account_semaphore(&self, account_id: AccountId) -> Arc<Semaphore> {
        let mut accounts = self.lock();
        if accounts.len() > PRUNE_ABOVE_ACCOUNTS {
            let limit = self.per_account;
            // Only the map refers to an idle semaphore, and all its permits are free.
            accounts.retain(|_, semaphore| {
                Arc::strong_count(semaphore) > 1 || semaphore.available_permits() < limit
            });
        }
        Arc::clone(
            accounts
                .entry(account_id)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_account))),
        )
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<AccountId, Arc<Semaphore>>> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn acquire_owned(semaphore: Arc<Semaphore>) -> OwnedSemaphorePermit {
    // `acquire_owned` fails only on a closed semaphore. These semaphores are
    // private to `ConcurrencyLimits`, which never calls `close`.
    semaphore
        .acquire_owned()
        .await
        .expect("LLM concurrency semaphores are never closed")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use uuid::Uuid;

    use super::*;

    fn account(n: u128) -> AccountId {
        AccountId::from(Uuid::from_u128(n))
    }

    #[tokio::test(start_paused = true)]
    async fn account_cap_blocks_third_call() {
        let limits = ConcurrencyLimits::new(2, 10);
        let _first = limits.acquire(account(1)).await;
        let _second = limits.acquire(account(1)).await;
        let third = tokio::time::timeout(Duration::from_secs(1), limits.acquire(account(1))).await;
        assert!(
            third.is_err(),
            "a third call of the same account got a slot"
        );

        let other = tokio::time::timeout(Duration::from_secs(1), limits.acquire(account(2))).await;
        assert!(other.is_ok(), "another account was blocked");
    }

    #[tokio::test(start_paused = true)]
    async fn global_cap_blocks_across_accounts() {
        let limits = ConcurrencyLimits::new(5, 2);
        let _first = limits.acquire(account(1)).await;
        let _second = limits.acquire(account(2)).await;
        let third = tokio::time::timeout(Duration::from_secs(1), limits.acquire(account(3))).await;
        assert!(third.is_err(), "the global cap let a third call through");
    }

    #[tokio::test(start_paused = true)]
    async fn released_slot_is_reused() {
        let limits = ConcurrencyLimits::new(1, 1);
        let first = limits.acquire(account(1)).await;
        drop(first);
        let again = tokio::time::timeout(Duration::from_secs(1), limits.acquire(account(1))).await;
        assert!(again.is_ok());
    }
}
