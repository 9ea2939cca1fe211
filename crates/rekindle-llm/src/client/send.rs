//! Sending one request through the circuit breaker, the concurrency caps and
//! the budget, with retries.

use std::sync::Arc;

use chrono::Utc;
use rekindle_domain::AccountId;

use super::{AccountScope, LlmClient, Tally};
use crate::budget::{BudgetKey, BudgetLedger, Cost, LedgerError, UsageRecord, estimate_tokens};
use crate::circuit::CallOutcome;
use crate::error::LlmError;
use crate::prompt::{Boundary, render_user_message};
use crate::request::{Completion, LlmRequest, TokenUsage};

impl LlmClient {
    /// Sends `request`, retrying transient failures and HTTP 429 as the retry
    /// policy allows.
    pub(super) async fn send_with_retries(
        &self,
        account: AccountScope,
        request: &LlmRequest,
        tally: &mut Tally,
    ) -> Result<Completion, LlmError> {
        let mut retry = 0;
        loop {
            let error = match self.send_once(account, request, tally).await {
                Ok(completion) => return Ok(completion),
                Err(error) => error,
            };

            let Some(wait) = self.retry.delay(retry, &error) else {
                return Err(error);
            };
            tracing::warn!(
                provider = self.provider.name(),
                account_id = %account.account_id,
                role = %request.role,
                retry = retry + 1,
                max_retries = self.retry.max_retries,
                wait_ms = wait.as_millis() as u64,
                error_class = %error.class(),
                error = %error,
                "LLM request failed, retrying"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// Sends `request` once: the circuit must admit it, it waits for a slot
    /// of the account and of the process, and its worst-case cost must fit
    /// the account's daily budget.
    async fn send_once(
        &self,
        account: AccountScope,
        request: &LlmRequest,
        tally: &mut Tally,
    ) -> Result<Completion, LlmError> {
        let circuit = self
            .breaker
            .try_acquire()
            .map_err(|rejection| LlmError::CircuitOpen {
                provider: self.provider.name(),
                retry_after: rejection.retry_after,
            })?;
        let slots = self.limits.acquire(account.account_id).await;

        let mut reservation = self.reserve(account, request).await?;
        reservation.mark_sent();
        tally.requests += 1;
        let result = self.provider.complete(request).await;
        // The caps bound requests to the provider. Recording the usage, a
        // database write with a store-backed ledger, needs no slot, so the
        // next request may start meanwhile.
        drop(slots);

        circuit.record(match &result {
            Ok(_) => CallOutcome::Success,
            Err(error) if error.counts_against_provider() => CallOutcome::CountedFailure,
            Err(_) => CallOutcome::NotCounted,
        });

        let usage = match &result {
            Ok(completion) => completion.usage,
            Err(error) => reservation.usage_of_failure(error),
        };
        let cost = reservation.settle(usage).await;
        tally.usage += usage;
        tally.cost += cost;
        result
    }

    /// Reserves the call's worst-case cost: the estimated prompt and every
    /// output token it may use.
    async fn reserve(
        &self,
        account: AccountScope,
        request: &LlmRequest,
    ) -> Result<Reservation, LlmError> {
        let model = self.provider.model(request.role).to_owned();
        let price = self.price_of(&model);
        let input_estimate = estimate_input_tokens(request);
        let estimate = price.cost(TokenUsage::new(
            input_estimate,
            u64::from(request.max_tokens),
        ));

        let key = BudgetKey {
            account_id: account.account_id,
            day: Utc::now().date_naive(),
        };
        let limit = self.budgets.daily(account.plan);
        self.ledger
            .reserve(key, estimate, limit)
            .await
            .map_err(|error| match error {
                LedgerError::Exceeded { committed } => LlmError::BudgetExceeded {
                    account_id: account.account_id,
                    plan: account.plan,
                    spent: committed,
                    estimate,
                    limit,
                },
                LedgerError::Unavailable(message) => LlmError::Ledger { message },
            })?;

        Ok(Reservation {
            ledger: Arc::clone(&self.ledger),
            key,
            reserved: estimate,
            record: UsageRecord {
                account_id: account.account_id,
                day: key.day,
                provider: self.provider.name(),
                model,
                role: request.role,
                usage: TokenUsage::default(),
                cost: Cost::ZERO,
            },
            price,
            input_estimate,
            sent: false,
            settled: false,
        })
    }
}

/// Estimates the prompt's tokens: the system prompt, the schema (sent in the
/// system prompt or beside it) and the user message rendered the same way
/// the provider renders it.
fn estimate_input_tokens(request: &LlmRequest) -> u64 {
    let user_message = render_user_message(
        &request.data,
        request.correction.as_deref(),
        &Boundary::random(),
    );
    let schema_tokens = request
        .schema
        .as_ref()
        .map_or(0, |schema| estimate_tokens(&schema.schema().to_string()));

    estimate_tokens(request.system.as_str()) + schema_tokens + estimate_tokens(&user_message)
}

/// A reserved amount of budget, settled once the call ends. A reservation
/// dropped unsettled (the caller's deadline cancelled the call) is settled
/// from a spawned task, so the budget is not held until the day ends.
struct Reservation {
    ledger: Arc<dyn BudgetLedger>,
    key: BudgetKey,
    reserved: Cost,
    record: UsageRecord,
    price: crate::budget::ModelPrice,
    input_estimate: u64,
    sent: bool,
    settled: bool,
}

impl Reservation {
    fn mark_sent(&mut self) {
        self.sent = true;
    }

    /// Returns the usage charged for a failed request. After a timeout or a
    /// lost connection the provider may have processed and billed the prompt,
    /// so the estimated input counts. An HTTP error status is not billed by
    /// OpenAI or Anthropic, so it counts nothing.
    fn usage_of_failure(&self, error: &LlmError) -> TokenUsage {
        match error {
            LlmError::Timeout { .. } | LlmError::Connection { .. } if self.sent => {
                TokenUsage::new(self.input_estimate, 0)
            }
            _ => TokenUsage::default(),
        }
    }

    /// Replaces the reservation with the usage and returns its cost. A
    /// ledger failure is logged and does not fail the call, whose output is
    /// already paid for.
    async fn settle(&mut self, usage: TokenUsage) -> Cost {
        self.settled = true;
        let record = self.record_for(usage);
        let cost = record.cost;
        if let Err(error) = self.ledger.settle(self.key, self.reserved, &record).await {
            log_settle_failure(self.key.account_id, &error);
        }
        cost
    }

    fn record_for(&self, usage: TokenUsage) -> UsageRecord {
        UsageRecord {
            usage,
            cost: self.price.cost(usage),
            ..self.record.clone()
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let usage = if self.sent {
            TokenUsage::new(self.input_estimate, 0)
        } else {
            TokenUsage::default()
        };
        let record = self.record_for(usage);
        let ledger = Arc::clone(&self.ledger);
        let (key, reserved) = (self.key, self.reserved);

        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = ledger.settle(key, reserved, &record).await {
                        log_settle_failure(key.account_id, &error);
                    }
                });
            }
            Err(_) => tracing::warn!(
                account_id = %key.account_id,
                reserved = %reserved,
                "LLM budget reservation dropped outside a runtime and not released"
            ),
        }
    }
}

fn log_settle_failure(account_id: AccountId, error: &LedgerError) {
    tracing::warn!(
        account_id = %account_id,
        error = %error,
        "recording LLM usage in the budget ledger failed"
    );
}
