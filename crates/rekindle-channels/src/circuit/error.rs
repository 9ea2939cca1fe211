//! Errors of the circuit breaker and how they become a `ChannelError`.

use std::time::Duration;

use crate::ChannelError;

/// A call rejected because its circuit is open, or half-open with a trial
/// call already in flight. The provider was not called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "circuit breaker {key} is open after repeated provider failures, so the provider was not called"
)]
pub struct CircuitOpenError {
    /// The breaker's key, for example `sendgrid` or `twilio:+447700900123`.
    pub key: String,
    /// Time until the circuit half-opens. `None` while a trial call is in
    /// flight, because then the wait depends on the trial's outcome.
    pub retry_after: Option<Duration>,
}

/// Converts a rejection into `ChannelError::CircuitOpen`, of the rate-limited
/// class, with `retry_after` set to the time until the circuit half-opens.
/// So a job runner that honours it retries when the circuit half-opens instead
/// of after its own backoff. While a trial call is in flight, `retry_after` is
/// `None` and the runner's backoff applies.
impl From<CircuitOpenError> for ChannelError {
    fn from(error: CircuitOpenError) -> Self {
        ChannelError::CircuitOpen {
            retry_after: error.retry_after,
            message: error.to_string(),
        }
    }
}

/// A failure to find or create the breaker for a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CircuitRegistryError {
    /// The registry contains `max_keys` breakers and none of them can be
    /// dropped, because each is failing, open or in use by a call.
    #[error(
        "circuit registry is full: all {max_keys} breakers are failing, open or in use, \
         so no breaker can be created for {key}. Raise the registry's max_keys or find \
         why so many providers and senders are failing"
    )]
    Full { key: String, max_keys: usize },
}

/// Converts a full registry into a transient error, so the job is retried
/// later and the provider is not called. When every breaker is failing or
/// open, the provider is most likely down.
impl From<CircuitRegistryError> for ChannelError {
    fn from(error: CircuitRegistryError) -> Self {
        ChannelError::transient(error.to_string())
    }
}
