//! A circuit breaker per provider.
//!
//! The breaker of `rekindle-channels` records `ChannelError`s and would bring
//! that crate's SMTP and file transports along, so the LLM layer has this
//! small one with the same rules. It opens after [`FAILURE_THRESHOLD`]
//! consecutive failures that indicate an unwell provider (timeouts, lost
//! connections, HTTP 429 and 5xx) and rejects calls for [`OPEN_FOR`]. Then it
//! lets one trial call through, whose outcome closes or re-opens it. Failures
//! that are the request's fault (HTTP 4xx, rejected output) do not count.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Consecutive counted failures that open a closed circuit.
pub const FAILURE_THRESHOLD: u32 = 5;
/// Time an open circuit rejects calls before it lets a trial call through.
pub const OPEN_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

#[derive(Debug)]
struct State {
    phase: Phase,
    consecutive_failures: u32,
}

/// The outcome of one admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Success,
    /// A failure that indicates an unwell provider.
    CountedFailure,
    /// A failure that is the request's fault; it neither counts nor resets.
    NotCounted,
}

/// A call was rejected without reaching the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitRejection {
    /// Time until the circuit half-opens; `None` while a trial call is in
    /// flight.
    pub retry_after: Option<Duration>,
}

/// The circuit breaker of one provider.
pub struct CircuitBreaker {
    name: &'static str,
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl CircuitBreaker {
    /// Creates a closed breaker with the default threshold and open time.
    pub fn new(name: &'static str) -> Self {
        Self::with_limits(name, FAILURE_THRESHOLD, OPEN_FOR)
    }

    pub fn with_limits(name: &'static str, threshold: u32, open_for: Duration) -> Self {
        Self {
            name,
            threshold: threshold.max(1),
            open_for,
            state: Mutex::new(State {
                phase: Phase::Closed,
                consecutive_failures: 0,
            }),
        }
    }

    /// Returns the state; an open circuit whose wait is over reads as half-open.
    pub fn state(&self) -> CircuitState {
        match self.lock().phase {
            Phase::Closed => CircuitState::Closed,
            Phase::Open { until } if Instant::now() < until => CircuitState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    /// Admits a call, or rejects it while the circuit is open or a trial call
    /// is in flight.
    pub fn try_acquire(&self) -> Result<CircuitPermit<'_>, CircuitRejection> {
        let now = Instant::now();
        let mut state = self.lock();
        let trial = match state.phase {
            Phase::Closed => false,
            Phase::Open { until } if now < until => {
                return Err(CircuitRejection {
                    retry_after: Some(until - now),
                });
            }
            Phase::HalfOpen {
                trial_in_flight: true,
            } => return Err(CircuitRejection { retry_after: None }),
            Phase::Open { .. } | Phase::HalfOpen { .. } => {
                state.phase = Phase::HalfOpen {
                    trial_in_flight: true,
                };
                true
            }
        };
        drop(state);

        if trial {
            tracing::info!(
                provider = self.name,
                "LLM circuit half-open, letting one trial call through"
            );
        }
        Ok(CircuitPermit {
            breaker: self,
            trial,
            recorded: false,
        })
    }

    fn record(&self, trial: bool, outcome: CallOutcome) {
        let now = Instant::now();
        let mut state = self.lock();
        match outcome {
            CallOutcome::Success => {
                state.consecutive_failures = 0;
                state.phase = Phase::Closed;
                drop(state);
                if trial {
                    tracing::info!(
                        provider = self.name,
                        "LLM trial call succeeded, circuit closed"
                    );
                }
            }
            CallOutcome::CountedFailure => {
                state.consecutive_failures = state.consecutive_failures.saturating_add(1);
                let failures = state.consecutive_failures;
                let opens = trial || (state.phase == Phase::Closed && failures >= self.threshold);
                if opens {
                    state.phase = Phase::Open {
                        until: now + self.open_for,
                    };
                }
                drop(state);
                if opens {
                    tracing::error!(
                        provider = self.name,
                        consecutive_failures = failures,
                        open_for_seconds = self.open_for.as_secs(),
                        "LLM circuit opened, calls go to the offline fallback until it half-opens"
                    );
                }
            }
            CallOutcome::NotCounted => {
                if trial {
                    state.phase = Phase::HalfOpen {
                        trial_in_flight: false,
                    };
                }
            }
        }
    }

    fn release_trial(&self) {
        let mut state = self.lock();
        if state.phase
            == (Phase::HalfOpen {
                trial_in_flight: true,
            })
        {
            state.phase = Phase::HalfOpen {
                trial_in_flight: false,
            };
        }
    }

    /// Locks the state. Every change assigns whole values, so a lock
    /// poisoned by a panic still guards a consistent state.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Permission for one call. Pass its outcome to [`CircuitPermit::record`].
/// A trial permit dropped without an outcome (the call was cancelled) frees
/// the trial slot.
#[must_use = "record the call's outcome, or the breaker never learns it"]
#[derive(Debug)]
pub struct CircuitPermit<'a> {
    breaker: &'a CircuitBreaker,
    trial: bool,
    recorded: bool,
}

impl CircuitPermit<'_> {
    pub fn is_trial(&self) -> bool {
        self.trial
    }

    pub fn record(mut self, outcome: CallOutcome) {
        self.recorded = true;
        self.breaker.record(self.trial, outcome);
    }
}

impl Drop for CircuitPermit<'_> {
    fn drop(&mut self) {
        if self.trial && !self.recorded {
            self.breaker.release_trial();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(breaker: &CircuitBreaker, times: u32) {
        for _ in 0..times {
            breaker
                .try_acquire()
                .expect("closed circuit admits")
                .record(CallOutcome::CountedFailure);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_five_failures() {
        let breaker = CircuitBreaker::new("test");
        fail(&breaker, 4);
        assert_eq!(breaker.state(), CircuitState::Closed);
        fail(&breaker, 1);
        assert_eq!(breaker.state(), CircuitState::Open);

        let rejection = breaker.try_acquire().unwrap_err();
        assert_eq!(rejection.retry_after, Some(OPEN_FOR));
    }

    #[tokio::test(start_paused = true)]
    async fn success_resets_count() {
        let breaker = CircuitBreaker::new("test");
        fail(&breaker, 4);
        breaker.try_acquire().unwrap().record(CallOutcome::Success);
        fail(&breaker, 4);
        assert_eq!(breaker.state(), CircuitState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn not_counted_failures_do_not_open() {
        let breaker = CircuitBreaker::new("test");
        for _ in 0..10 {
            breaker
                .try_acquire()
                .unwrap()
                .record(CallOutcome::NotCounted);
        }
        assert_eq!(breaker.state(), CircuitState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn half_opens_after_sixty_seconds() {
        let breaker = CircuitBreaker::new("test");
        fail(&breaker, 5);
        tokio::time::advance(OPEN_FOR - Duration::from_secs(1)).await;
        assert!(breaker.try_acquire().is_err());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.state(), CircuitState::HalfOpen);

        let trial = breaker.try_acquire().unwrap();
        assert!(trial.is_trial());
        let second = breaker.try_acquire().unwrap_err();
        assert_eq!(second.retry_after, None, "only one trial call at a time");

        trial.record(CallOutcome::Success);
        assert_eq!(breaker.state(), CircuitState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_trial_reopens() {
        let breaker = CircuitBreaker::new("test");
        fail(&breaker, 5);
        tokio::time::advance(OPEN_FOR).await;
        breaker
            .try_acquire()
            .unwrap()
            .record(CallOutcome::CountedFailure);
        assert_eq!(breaker.state(), CircuitState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_trial_frees_slot() {
        let breaker = CircuitBreaker::new("test");
        fail(&breaker, 5);
        tokio::time::advance(OPEN_FOR).await;
        drop(breaker.try_acquire().unwrap());
        assert!(breaker.try_acquire().unwrap().is_trial());
    }
}
