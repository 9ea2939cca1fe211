//! One circuit breaker: the state machine behind a lock, its clock, its
//! observer and its log lines.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::{debug, error, info, warn};

use super::state::{Admission, Machine, Outcome, Ticket, Transition};
use super::{CircuitConfig, CircuitObserver, CircuitOpenError, CircuitState, Clock, TokioClock};
use crate::ChannelError;

/// A circuit breaker for one provider and sending identity.
///
/// Closed, it lets calls through and counts consecutive transient and
/// rate-limited failures. At `failure_threshold` of them it opens and rejects
/// calls for `open_for`. Then it half-opens and lets one trial call through
/// at a time: a success closes it, a counted failure re-opens it for another
/// `open_for`. Permanent and invalid-input errors are the message's fault,
/// so they neither count as failures nor reset the count.
///
/// The lock is held only to read or change the state, never across an
/// `await`, the observer or a log line.
pub struct CircuitBreaker {
    key: String,
    machine: Mutex<Machine>,
    clock: Arc<dyn Clock>,
    observer: Arc<dyn CircuitObserver>,
}

impl CircuitBreaker {
    /// Creates a closed breaker that reads time from `TokioClock`.
    pub fn new(
        key: impl Into<String>,
        config: CircuitConfig,
        observer: Arc<dyn CircuitObserver>,
    ) -> Self {
        Self {
            key: key.into(),
            machine: Mutex::new(Machine::new(config)),
            clock: Arc::new(TokioClock),
            observer,
        }
    }

    /// Replaces the clock, for tests that move time by hand.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Returns the current state. An open circuit whose wait is over reads as
    /// half-open.
    pub fn state(&self) -> CircuitState {
        let now = self.clock.now();
        self.lock().state(now)
    }

    /// Returns the failures counted since the last success. The count keeps
    /// growing while failed trials re-open the circuit.
    pub fn consecutive_failures(&self) -> u32 {
        self.lock().consecutive_failures()
    }

    /// Admits one call, or rejects it while the circuit is open or a trial
    /// call is in flight. The caller makes the call and passes its result to
    /// `CallPermit::record`.
    pub fn try_acquire(&self) -> Result<CallPermit<'_>, CircuitOpenError> {
        let now = self.clock.now();
        let admission = self.lock().admit(now);

        match admission {
            Admission::Admitted {
                ticket,
                half_opened,
            } => {
                if half_opened {
                    info!(circuit_key = %self.key, "circuit half-open, letting one trial call through");
                }
                Ok(CallPermit {
                    breaker: self,
                    ticket,
                    recorded: false,
                })
            }

            Admission::Rejected { retry_after } => {
                debug!(circuit_key = %self.key, ?retry_after, "circuit open, call rejected");
                Err(CircuitOpenError {
                    key: self.key.clone(),
                    retry_after,
                })
            }
        }
    }

    /// Runs `operation` if the circuit admits it and records its result.
    /// A rejection becomes `ChannelError::CircuitOpen` without running
    /// `operation`.
    pub async fn call<T, F, Fut>(&self, operation: F) -> Result<T, ChannelError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ChannelError>>,
    {
        let permit = self.try_acquire()?;
        let result = operation().await;
        permit.record(&result);
        result
    }

    fn record(&self, ticket: Ticket, error: Option<&ChannelError>) {
        let outcome = match error {
            None => Outcome::Success,
            Some(error) if error.class().is_retryable() => Outcome::CountedFailure,
            Some(_) => Outcome::NotCounted,
        };
        let now = self.clock.now();
        let transition = self.lock().record(ticket, outcome, now);

        self.report(transition, error);
    }

    /// Logs a state change and calls the observer, with the lock released.
    fn report(&self, transition: Transition, error: Option<&ChannelError>) {
        match (transition, error) {
            (
                Transition::Opened {
                    consecutive_failures,
                },
                Some(last_error),
            ) => {
                error!(
                    circuit_key = %self.key,
                    consecutive_failures,
                    error_class = %last_error.class(),
                    error = %last_error,
                    "circuit opened, provider calls are rejected until it half-opens"
                );
                self.observer
                    .on_open(&self.key, consecutive_failures, last_error);
            }

            (
                Transition::Reopened {
                    consecutive_failures,
                },
                Some(last_error),
            ) => warn!(
                circuit_key = %self.key,
                consecutive_failures,
                error_class = %last_error.class(),
                error = %last_error,
                "trial call failed, circuit re-opened"
            ),

            (Transition::Closed, _) => {
                info!(circuit_key = %self.key, "trial call succeeded, circuit closed");
                self.observer.on_close(&self.key);
            }

            _ => {}
        }
    }

    fn release(&self, ticket: Ticket) {
        self.lock().release(ticket);
    }

    /// Locks the state. The machine computes a new phase before it assigns
    /// it, so a panic cannot leave the state half changed and a poisoned lock
    /// is still safe to use.
    fn lock(&self) -> MutexGuard<'_, Machine> {
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("key", &self.key)
            .field("state", &self.state())
            .field("consecutive_failures", &self.consecutive_failures())
            .finish_non_exhaustive()
    }
}

/// Permission for one call through a breaker.
///
/// Pass the call's result to `record`. A trial permit dropped without a
/// result (the call was cancelled) frees the trial slot, so the next call
/// becomes the trial.
#[must_use = "record the call's result, or the breaker never learns it"]
pub struct CallPermit<'a> {
    breaker: &'a CircuitBreaker,
    ticket: Ticket,
    recorded: bool,
}

impl CallPermit<'_> {
    /// Returns true when this call is the half-open circuit's trial.
    pub fn is_trial(&self) -> bool {
        self.ticket.is_trial()
    }

    /// Records the call's result: a success, a counted failure (transient or
    /// rate-limited) or an error that does not count.
    pub fn record<T>(mut self, result: &Result<T, ChannelError>) {
        self.recorded = true;
        self.breaker.record(self.ticket, result.as_ref().err());
    }
}

impl Drop for CallPermit<'_> {
    fn drop(&mut self) {
        if !self.recorded {
            self.breaker.release(self.ticket);
        }
    }
}

impl fmt::Debug for CallPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPermit")
            .field("key", &self.breaker.key)
            .field("trial", &self.ticket.is_trial())
            .finish()
    }
}
