//! The budget ledger: what each account spent on LLM calls per day, and the
//! reservations of calls in flight, behind a trait so a store-backed ledger
//! can replace the in-memory one.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::NaiveDate;
use rekindle_domain::AccountId;
use serde::Serialize;

use super::Cost;
use crate::request::{AgentRole, TokenUsage};

/// The account and UTC day a budget applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BudgetKey {
    pub account_id: AccountId,
    pub day: NaiveDate,
}

/// Usage of one finished call, for the ledger and usage reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRecord {
    pub account_id: AccountId,
    pub day: NaiveDate,
    pub provider: &'static str,
    pub model: String,
    pub role: AgentRole,
    pub usage: TokenUsage,
    pub cost: Cost,
}

/// One account's LLM spending on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DailySpend {
    /// Estimated cost of the finished calls.
    pub cost: Cost,
    /// Reserved for calls in flight.
    pub reserved: Cost,
    pub usage: TokenUsage,
    /// Finished calls (HTTP requests), failed ones included.
    pub calls: u64,
}

impl DailySpend {
    /// Returns the finished cost plus the reservations.
    pub fn committed(&self) -> Cost {
        self.cost + self.reserved
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The reservation would take the day's spend past the limit.
    #[error("budget exceeded: {committed} already spent or reserved")]
    Exceeded { committed: Cost },
    #[error("budget ledger unavailable: {0}")]
    Unavailable(String),
}

/// Daily spend per account.
///
/// A call first reserves its worst-case cost, so concurrent calls cannot
/// together pass the limit, then settles: the reservation is released and
/// the actual usage added.
#[async_trait]
pub trait BudgetLedger: Send + Sync {
    /// Reserves `estimate` unless the day's cost, open reservations and
    /// `estimate` together would pass `limit`. Must be atomic with respect
    /// to other reservations of the same key.
    async fn reserve(&self, key: BudgetKey, estimate: Cost, limit: Cost)
    -> Result<(), LedgerError>;

    /// Releases a reservation of `reserved` and adds what the call used.
    async fn settle(
        &self,
        key: BudgetKey,
        reserved: Cost,
        record: &UsageRecord,
    ) -> Result<(), LedgerError>;

    async fn spent(&self, key: BudgetKey) -> Result<DailySpend, LedgerError>;
}

/// A ledger in process memory, for a single process and for tests. It keeps
/// today and yesterday (UTC) per account and drops older days when a newer
/// day is first used, so memory stays bounded.
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    days: Mutex<HashMap<BudgetKey, DailySpend>>,
}

impl InMemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds spending without a call, for tests and for loading a total that
    /// was stored elsewhere.
    pub fn add_spend(&self, key: BudgetKey, cost: Cost) {
        self.lock().entry(key).or_default().cost += cost;
    }

    /// Locks the map. Each change is one field update, so a lock poisoned by
    /// a panic still guards consistent totals.
    fn lock(&self) -> MutexGuard<'_, HashMap<BudgetKey, DailySpend>> {
        self.days.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl BudgetLedger for InMemoryLedger {
    async fn reserve(
        &self,
        key: BudgetKey,
        estimate: Cost,
        limit: Cost,
    ) -> Result<(), LedgerError> {
        let mut days = self.lock();
        if !days.contains_key(&key) {
            let oldest_kept = key.day.pred_opt().unwrap_or(key.day);
            days.retain(|kept, _| kept.day >= oldest_kept);
        }

        let spend = days.entry(key).or_default();
        let committed = spend.committed();
        if committed + estimate > limit {
            return Err(LedgerError::Exceeded { committed });
        }
        spend.reserved += estimate;
        Ok(())
    }

    async fn settle(
        &self,
        key: BudgetKey,
        reserved: Cost,
        record: &UsageRecord,
    ) -> Result<(), LedgerError> {
        let mut days = self.lock();
        let spend = days.entry(key).or_default();
        spend.reserved = spend.reserved.saturating_sub(reserved);
        spend.cost += record.cost;
        spend.usage += record.usage;
        spend.calls += 1;
        Ok(())
    }

    async fn spent(&self, key: BudgetKey) -> Result<DailySpend, LedgerError> {
        Ok(self.lock().get(&key).copied().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn key(day: u32) -> BudgetKey {
        BudgetKey {
            account_id: AccountId::from(Uuid::from_u128(7)),
            day: NaiveDate::from_ymd_opt(2024, 6, day).unwrap(),
        }
    }

    fn record(key: BudgetKey, cost: Cost) -> UsageRecord {
        UsageRecord {
            account_id: key.account_id,
            day: key.day,
            provider: "openai",
            model: "gpt-4o-mini".into(),
            role: AgentRole::Writer,
            usage: TokenUsage::new(100, 50),
            cost,
        }
    }

    #[tokio::test]
    async fn reserve_then_settle() {
        let ledger = InMemoryLedger::new();
        let limit = Cost::from_nano_usd(1_000);
        ledger
            .reserve(key(1), Cost::from_nano_usd(600), limit)
            .await
            .unwrap();
        assert_eq!(
            ledger.spent(key(1)).await.unwrap().reserved,
            Cost::from_nano_usd(600)
        );

        ledger
            .settle(
                key(1),
                Cost::from_nano_usd(600),
                &record(key(1), Cost::from_nano_usd(200)),
            )
            .await
            .unwrap();
        let spend = ledger.spent(key(1)).await.unwrap();
        assert_eq!(spend.reserved, Cost::ZERO);
        assert_eq!(spend.cost, Cost::from_nano_usd(200));
        assert_eq!(spend.usage, TokenUsage::new(100, 50));
        assert_eq!(spend.calls, 1);
    }

    #[tokio::test]
    async fn reservations_count_against_limit() {
        let ledger = InMemoryLedger::new();
        let limit = Cost::from_nano_usd(1_000);
        ledger
            .reserve(key(1), Cost::from_nano_usd(600), limit)
            .await
            .unwrap();
        let error = ledger
            .reserve(key(1), Cost::from_nano_usd(600), limit)
            .await
            .unwrap_err();
        assert_eq!(
            error,
            LedgerError::Exceeded {
                committed: Cost::from_nano_usd(600)
            }
        );
        // Exactly reaching the limit is allowed.
        ledger
            .reserve(key(1), Cost::from_nano_usd(400), limit)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn days_are_separate_and_old_ones_dropped() {
        let ledger = InMemoryLedger::new();
        ledger.add_spend(key(1), Cost::from_nano_usd(900));
        let limit = Cost::from_nano_usd(1_000);
        assert!(
            ledger
                .reserve(key(1), Cost::from_nano_usd(200), limit)
                .await
                .is_err()
        );
        ledger
            .reserve(key(2), Cost::from_nano_usd(200), limit)
            .await
            .unwrap();
        assert_eq!(
            ledger.spent(key(1)).await.unwrap().cost,
            Cost::from_nano_usd(900)
        );

        ledger
            .reserve(key(3), Cost::from_nano_usd(1), limit)
            .await
            .unwrap();
        assert_eq!(ledger.spent(key(1)).await.unwrap(), DailySpend::default());
        assert_eq!(
            ledger.spent(key(2)).await.unwrap().reserved,
            Cost::from_nano_usd(200)
        );
    }
}
