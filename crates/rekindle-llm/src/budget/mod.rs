//! Cost controls: estimated cost per call, daily budgets per plan kept in a
//! ledger, and caps on calls in flight per account and per process.

mod concurrency;
mod cost;
mod ledger;

pub use concurrency::{CallPermits, ConcurrencyLimits};
pub use cost::{Cost, ModelPrice, PlanBudgets, PriceTable, estimate_tokens};
pub use ledger::{BudgetKey, BudgetLedger, DailySpend, InMemoryLedger, LedgerError, UsageRecord};
