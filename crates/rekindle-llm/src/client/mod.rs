//! The client callers use: one provider behind a circuit breaker,
//! concurrency caps, a daily budget per account, retries and output checks.

mod output;
mod send;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rekindle_domain::{AccountId, Plan};

pub use output::parse_json_reply;
pub use setup::ClientSettings;

use crate::budget::{
    BudgetKey, BudgetLedger, ConcurrencyLimits, Cost, DailySpend, ModelPrice, PlanBudgets,
    PriceTable,
};
use crate::checks::OutputCheck;
use crate::circuit::{CircuitBreaker, CircuitState};
use crate::error::LlmError;
use crate::providers::LlmProvider;
use crate::request::{AgentRole, LlmOutput, LlmRequest, TokenUsage};
use crate::retry::RetryPolicy;

/// The account a call is charged to, and the plan that sets its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountScope {
    pub account_id: AccountId,
    pub plan: Plan,
}

/// The result of [`LlmClient::generate`] with what it cost, failed attempts
/// included, so the caller can store both with the stage run.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmOutcome {
    pub result: Result<LlmOutput, LlmError>,
    pub usage: TokenUsage,
    pub cost: Cost,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    pub provider: &'static str,
    pub model: String,
}

/// Usage added up over the requests of one `generate`.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    usage: TokenUsage,
    cost: Cost,
    requests: u32,
}

/// An LLM provider with every protection around it. Build one per process
/// and share it: the circuit breaker and the concurrency caps only work
/// when every call goes through the same client.
pub struct LlmClient {
    provider: Arc<dyn LlmProvider>,
    breaker: CircuitBreaker,
    limits: ConcurrencyLimits,
    ledger: Arc<dyn BudgetLedger>,
    prices: PriceTable,
    budgets: PlanBudgets,
    retry: RetryPolicy,
    max_tokens: u32,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("provider", &self.provider)
            .field("breaker", &self.breaker)
            .field("budgets", &self.budgets)
            .field("retry", &self.retry)
            .field("max_tokens", &self.max_tokens)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    pub fn model(&self, role: AgentRole) -> &str {
        self.provider.model(role)
    }

    /// Returns the configured maximum output tokens of one call.
    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    pub fn circuit_state(&self) -> CircuitState {
        self.breaker.state()
    }

    /// Returns what the account spent and has reserved today (UTC).
    pub async fn spent_today(&self, account_id: AccountId) -> Result<DailySpend, LlmError> {
        let key = BudgetKey {
            account_id,
            day: Utc::now().date_naive(),
        };
        self.ledger
            .spent(key)
            .await
            .map_err(|error| LlmError::Ledger {
                message: error.to_string(),
            })
    }

    /// Runs `request` for `account` and returns the accepted output or why
    /// there is none.
    ///
    /// The output must parse (as one JSON object when the request has a
    /// schema), match the schema and pass `checks`. When it does not, the
    /// request is sent once more with the problems as its correction; a
    /// second rejection is [`LlmError::InvalidOutput`]. Transient failures
    /// and HTTP 429 are retried within each of the two attempts. Everything,
    /// waits included, must finish within `deadline`, else the result is
    /// [`LlmError::DeadlineExceeded`]. `max_tokens` is capped at the client's.
    pub async fn generate(
        &self,
        account: AccountScope,
        mut request: LlmRequest,
        checks: &dyn OutputCheck,
        deadline: Duration,
    ) -> LlmOutcome {
        request.max_tokens = request.max_tokens.clamp(1, self.max_tokens);
        let model = self.provider.model(request.role).to_owned();
        let mut tally = Tally::default();

        let result = match tokio::time::timeout(
            deadline,
            self.generate_checked(account, request, checks, &mut tally),
        )
        .await
        {
            Ok(result) => result,
            Err(_elapsed) => Err(LlmError::DeadlineExceeded { deadline }),
        };

        LlmOutcome {
            result,
            usage: tally.usage,
            cost: tally.cost,
            requests: tally.requests,
            provider: self.provider.name(),
            model,
        }
    }

    async fn generate_checked(
        &self,
        account: AccountScope,
        mut request: LlmRequest,
        checks: &dyn OutputCheck,
        tally: &mut Tally,
    ) -> Result<LlmOutput, LlmError> {
        let completion = self.send_with_retries(account, &request, tally).await?;
        let reason = match output::accept(&completion, request.schema.as_ref(), checks) {
            Ok(output) => return Ok(output),
            Err(reason) => reason,
        };

        tracing::info!(
            provider = self.provider.name(),
            account_id = %account.account_id,
            role = %request.role,
            reason = %reason,
            "LLM output rejected, retrying once with the reason"
        );
        request.correction = Some(reason);
        let completion = self.send_with_retries(account, &request, tally).await?;
        output::accept(&completion, request.schema.as_ref(), checks)
            .map_err(|reason| LlmError::InvalidOutput { reason })
    }

    /// Returns the price of `model`. Construction checks that every model
    /// in use has one, so the zero price is never used for a known role.
    fn price_of(&self, model: &str) -> ModelPrice {
        self.prices
            .price(model)
            .copied()
            .unwrap_or(ModelPrice::FREE)
    }
}
