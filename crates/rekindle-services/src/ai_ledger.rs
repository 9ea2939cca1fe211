//! The LLM budget ledger kept in the database, so a daily budget applies to
//! every process of a fleet together. It keeps a row per account and UTC day,
//! reserved with one conditional upsert, and a usage row per request.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;
use rekindle_llm::TokenUsage;
use rekindle_llm::budget::{BudgetKey, BudgetLedger, Cost, DailySpend, LedgerError, UsageRecord};
use rekindle_store::{AiReservation, NewAiUsage, Store, StoreError};

/// A [`BudgetLedger`] over the store.
///
/// NOTE: a process that dies between reserving and settling leaves its
/// reservation on the day's row. The next reservation drops it once the
/// account's row has been idle for 15 minutes. An account that keeps calling
/// keeps it until the UTC day ends, with a budget lower by the worst-case
/// cost of the calls the process had in flight.
#[derive(Clone)]
pub struct StoreLedger {
    store: Arc<dyn Store>,
}

impl StoreLedger {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl BudgetLedger for StoreLedger {
    async fn reserve(
        &self,
        key: BudgetKey,
        estimate: Cost,
        limit: Cost,
    ) -> Result<(), LedgerError> {
        let now = Utc::now();
        let mut tx = self
            .store
            .begin(key.account_id)
            .await
            .map_err(unavailable)?;
        let reservation = tx
            .reserve_ai_budget(key.day, bounded(estimate), bounded(limit), now)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;

        match reservation {
            AiReservation::Reserved => Ok(()),
            AiReservation::Exceeded { committed_nano_usd } => Err(LedgerError::Exceeded {
                committed: Cost::from_nano_usd(committed_nano_usd.max(0) as u64),
            }),
        }
    }

    async fn settle(
        &self,
        key: BudgetKey,
        reserved: Cost,
        record: &UsageRecord,
    ) -> Result<(), LedgerError> {
        let usage = NewAiUsage {
            provider: record.provider.to_owned(),
            model: record.model.clone(),
            operation: record.role.as_str().to_owned(),
            input_tokens: count(record.usage.input_tokens),
            output_tokens: count(record.usage.output_tokens),
            cost_nano_usd: nanos(record.cost),
        };
        let mut tx = self
            .store
            .begin(key.account_id)
            .await
            .map_err(unavailable)?;
        tx.settle_ai_budget(key.day, nanos(reserved), &usage, Utc::now())
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn spent(&self, key: BudgetKey) -> Result<DailySpend, LedgerError> {
        let mut tx = self
            .store
            .begin(key.account_id)
            .await
            .map_err(unavailable)?;
        let spend = tx.ai_spend(key.day).await.map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(DailySpend {
            cost: Cost::from_nano_usd(spend.cost_nano_usd.max(0) as u64),
            reserved: Cost::from_nano_usd(spend.reserved_nano_usd.max(0) as u64),
            usage: TokenUsage::new(
                spend.input_tokens.max(0) as u64,
                spend.output_tokens.max(0) as u64,
            ),
            calls: spend.calls.max(0) as u64,
        })
    }
}

/// Converts a cost to the stored nano-dollars. Costs above `i64::MAX`
/// nano-dollars (about 9.2 billion dollars) are stored as that maximum.
fn nanos(cost: Cost) -> i64 {
    i64::try_from(cost.nano_usd()).unwrap_or(i64::MAX)
}

/// Converts an estimate or a limit, capped at a quarter of `i64::MAX` (about
/// 2.3 billion dollars) so that the database's sum of cost, reservations and
/// estimate cannot overflow a 64-bit integer.
fn bounded(cost: Cost) -> i64 {
    nanos(cost).min(i64::MAX / 4)
}

fn count(tokens: u64) -> i64 {
    i64::try_from(tokens).unwrap_or(i64::MAX)
}

fn unavailable(error: StoreError) -> LedgerError {
    LedgerError::Unavailable(error.to_string())
}
