//! The errors of an LLM call and of setting up a client.

use std::time::Duration;

use rekindle_domain::{AccountId, ErrorClass, Plan};

use crate::budget::Cost;

/// Reason an LLM call produced no usable output. On every variant the caller
/// uses its offline implementation and stores [`LlmError::code`], a stable
/// reason, with the stage run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("{provider} request timed out after {} ms", .timeout.as_millis())]
    Timeout {
        provider: &'static str,
        timeout: Duration,
    },

    #[error("cannot reach {provider}: {message}")]
    Connection {
        provider: &'static str,
        message: String,
    },

    #[error("{provider} rate limited the request (HTTP 429){}", retry_after_text(*.retry_after))]
    RateLimited {
        provider: &'static str,
        retry_after: Option<Duration>,
    },

    /// Any other unsuccessful HTTP status. `class` is transient for server
    /// errors and permanent for client errors.
    #[error("{provider} returned HTTP {status}: {message}")]
    Status {
        provider: &'static str,
        status: u16,
        message: String,
        class: ErrorClass,
        retry_after: Option<Duration>,
    },

    /// The provider returned a body that is not its documented response.
    #[error("{provider} returned an unreadable response: {message}")]
    InvalidResponse {
        provider: &'static str,
        message: String,
    },

    /// The model's output failed parsing, the schema or a caller's check,
    /// also after the one retry with the reason.
    #[error("LLM output rejected: {reason}")]
    InvalidOutput { reason: String },

    #[error(
        "daily LLM budget of {limit} for account {account_id} (plan {plan}) would be exceeded: \
         {spent} spent or reserved today, this call needs up to {estimate}"
    )]
    BudgetExceeded {
        account_id: AccountId,
        plan: Plan,
        spent: Cost,
        estimate: Cost,
        limit: Cost,
    },

    #[error(
        "circuit breaker for {provider} is open after repeated failures, so it was not called{}",
        retry_after_text(*.retry_after)
    )]
    CircuitOpen {
        provider: &'static str,
        retry_after: Option<Duration>,
    },

    #[error("LLM budget ledger failed: {message}")]
    Ledger { message: String },

    /// The overall deadline of the caller passed before the call finished.
    #[error("LLM call did not finish within its deadline of {} ms", .deadline.as_millis())]
    DeadlineExceeded { deadline: Duration },
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|wait| format!(", retry after {} s", wait.as_secs()))
        .unwrap_or_default()
}

impl LlmError {
    /// Returns the class that decides whether the call is retried.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Timeout { .. } | Self::Connection { .. } | Self::DeadlineExceeded { .. } => {
                ErrorClass::Transient
            }
            Self::RateLimited { .. } | Self::CircuitOpen { .. } | Self::BudgetExceeded { .. } => {
                ErrorClass::RateLimited
            }
            Self::Status { class, .. } => *class,
            Self::InvalidResponse { .. } | Self::Ledger { .. } => ErrorClass::Transient,
            Self::InvalidOutput { .. } => ErrorClass::Permanent,
        }
    }

    /// Returns a stable, machine-readable reason for stage-run records.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Timeout { .. } => "timeout",
            Self::Connection { .. } => "connection",
            Self::RateLimited { .. } => "rate_limited",
            Self::Status { .. } => "provider_error",
            Self::InvalidResponse { .. } => "invalid_response",
            Self::InvalidOutput { .. } => "invalid_output",
            Self::BudgetExceeded { .. } => "budget_exceeded",
            Self::CircuitOpen { .. } => "circuit_open",
            Self::Ledger { .. } => "ledger_error",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
        }
    }

    /// Checks whether the same request may succeed when sent again: a timeout,
    /// a lost connection, HTTP 429 or a server error. A refused budget, an open
    /// circuit and rejected output are not retried here.
    pub fn is_retryable_request(&self) -> bool {
        match self {
            Self::Timeout { .. }
            | Self::Connection { .. }
            | Self::RateLimited { .. }
            | Self::InvalidResponse { .. } => true,
            Self::Status { class, .. } => class.is_retryable(),
            _ => false,
        }
    }

    /// Checks whether the failure indicates an unwell provider, so that it
    /// counts towards opening the provider's circuit breaker.
    pub fn counts_against_provider(&self) -> bool {
        self.is_retryable_request()
    }

    /// Returns the wait the provider asked for, from `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. }
            | Self::Status { retry_after, .. }
            | Self::CircuitOpen { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A configuration that cannot make a working client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmSetupError {
    #[error("invalid LLM base URL {url:?}: {reason}")]
    InvalidBaseUrl { url: String, reason: String },

    #[error(
        "no model for the {role} role: set REKINDLE_LLM_MODEL or REKINDLE_LLM_{}_MODEL",
        .role.to_uppercase()
    )]
    MissingModel { role: &'static str },

    #[error(
        "no price for model {model:?}: add it to REKINDLE_LLM_PRICES as {model}=INPUT:OUTPUT \
         in US dollars per million tokens (0:0 for a local model)"
    )]
    MissingPrice { model: String },

    #[error("invalid price for model {model:?}: {reason}")]
    InvalidPrice { model: String, reason: String },

    #[error(
        "the {provider} provider needs an API key: set REKINDLE_LLM_API_KEY or REKINDLE_LLM_API_KEY_FILE"
    )]
    MissingApiKey { provider: &'static str },

    #[error("invalid LLM setting {key}: {reason}")]
    InvalidSetting { key: &'static str, reason: String },

    #[error("cannot build the HTTP client: {reason}")]
    HttpClient { reason: String },

    #[error("invalid output schema {name:?}: {reason}")]
    InvalidSchema { name: String, reason: String },
}
