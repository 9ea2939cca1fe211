//! The breaker's state machine, free of locks, clocks and side effects, so
//! that every transition is a plain function of the current phase, the time
//! and the outcome.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::CircuitConfig;

/// The open period used when `now + open_for` does not fit in an `Instant`:
/// about 30 years.
const FAR_FUTURE: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// The state of a circuit, as health checks and tests see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// Calls go through, and consecutive counted failures are counted.
    Closed,
    /// Calls are rejected without reaching the provider.
    Open,
    /// One trial call at a time goes through, and its outcome closes or
    /// re-opens the circuit.
    HalfOpen,
}

impl fmt::Display for CircuitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        })
    }
}

/// The class of a provider call's result, as the circuit counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Success,
    /// A transient or rate-limited error: the provider's fault.
    CountedFailure,
    /// A permanent or invalid-input error: the message's fault, which does
    /// not show whether the provider is healthy.
    NotCounted,
}

/// Proof that a call was admitted, naming the phase it was admitted in.
///
/// The generation changes on every phase change and on every trial, so an
/// outcome that arrives after the circuit moved on (a slow call admitted
/// while closed that fails after the circuit opened) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ticket {
    generation: u64,
    trial: bool,
}

impl Ticket {
    pub(super) fn is_trial(self) -> bool {
        self.trial
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Admission {
    Admitted {
        ticket: Ticket,
        /// True when this call moved the circuit from open to half-open.
        half_opened: bool,
    },
    Rejected {
        /// Time until the circuit half-opens, or `None` while a trial call
        /// is in flight, because then the wait depends on its outcome.
        retry_after: Option<Duration>,
    },
}

/// A state change that the breaker reports to the log and the observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    Unchanged,
    /// A closed circuit reached the failure threshold.
    Opened {
        consecutive_failures: u32,
    },
    /// A half-open circuit's trial call failed.
    Reopened {
        consecutive_failures: u32,
    },
    /// A half-open circuit's trial call succeeded.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed {
        consecutive_failures: u32,
    },
    Open {
        until: Instant,
        consecutive_failures: u32,
    },
    HalfOpen {
        trial_in_flight: bool,
        consecutive_failures: u32,
    },
}

#[derive(Debug)]
pub(super) struct Machine {
    config: CircuitConfig,
    phase: Phase,
    generation: u64,
}

impl Machine {
    pub(super) fn new(config: CircuitConfig) -> Self {
        Self {
            config,
            phase: Phase::Closed {
                consecutive_failures: 0,
            },
            generation: 0,
        }
    }

    /// Decides whether a call may reach the provider, and half-opens an open
    /// circuit whose wait is over.
    pub(super) fn admit(&mut self, now: Instant) -> Admission {
        match self.phase {
            Phase::Closed { .. } => Admission::Admitted {
                ticket: self.ticket(false),
                half_opened: false,
            },

            Phase::Open { until, .. } if now < until => Admission::Rejected {
                retry_after: Some(until.saturating_duration_since(now)),
            },

            Phase::Open {
                consecutive_failures,
                ..
            } => Admission::Admitted {
                ticket: self.start_trial(consecutive_failures),
                half_opened: true,
            },

            Phase::HalfOpen {
                trial_in_flight: true,
                ..
            } => Admission::Rejected { retry_after: None },

            Phase::HalfOpen {
                trial_in_flight: false,
                consecutive_failures,
            } => Admission::Admitted {
                ticket: self.start_trial(consecutive_failures),
                half_opened: false,
            },
        }
    }

    /// Applies the outcome of an admitted call. Outcomes of calls admitted
    /// in an earlier generation are ignored.
    pub(super) fn record(&mut self, ticket: Ticket, outcome: Outcome, now: Instant) -> Transition {
        if ticket.generation != self.generation {
            return Transition::Unchanged;
        }

        match (self.phase, ticket.trial) {
            (
                Phase::Closed {
                    consecutive_failures,
                },
                false,
            ) => self.record_closed(consecutive_failures, outcome, now),
            (
                Phase::HalfOpen {
                    trial_in_flight: true,
                    consecutive_failures,
                },
                true,
            ) => self.record_trial(consecutive_failures, outcome, now),
            _ => Transition::Unchanged,
        }
    }

    /// Frees the trial slot of a trial call that ended without an outcome,
    /// for example because a timeout dropped its future. The next call then
    /// becomes the trial, and the circuit never waits for a call that is gone.
    pub(super) fn release(&mut self, ticket: Ticket) {
        let current_trial = ticket.trial && ticket.generation == self.generation;
        if let (
            true,
            Phase::HalfOpen {
                trial_in_flight: true,
                consecutive_failures,
            },
        ) = (current_trial, self.phase)
        {
            self.free_trial_slot(consecutive_failures);
        }
    }

    /// Returns the state at `now`. An open circuit whose wait is over reads
    /// as half-open, although it moves there only on the next call.
    pub(super) fn state(&self, now: Instant) -> CircuitState {
        match self.phase {
            Phase::Closed { .. } => CircuitState::Closed,
            Phase::Open { until, .. } if now < until => CircuitState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    pub(super) fn consecutive_failures(&self) -> u32 {
        match self.phase {
            Phase::Closed {
                consecutive_failures,
            }
            | Phase::Open {
                consecutive_failures,
                ..
            }
            | Phase::HalfOpen {
                consecutive_failures,
                ..
            } => consecutive_failures,
        }
    }

    fn record_closed(&mut self, failures: u32, outcome: Outcome, now: Instant) -> Transition {
        match outcome {
            Outcome::Success => {
                self.phase = Phase::Closed {
                    consecutive_failures: 0,
                };
                Transition::Unchanged
            }

            Outcome::CountedFailure => {
                let failures = failures.saturating_add(1);
                if failures < self.config.failure_threshold.get() {
                    self.phase = Phase::Closed {
                        consecutive_failures: failures,
                    };
                    return Transition::Unchanged;
                }
                self.open(failures, now);
                Transition::Opened {
                    consecutive_failures: failures,
                }
            }

            Outcome::NotCounted => Transition::Unchanged,
        }
    }

    fn record_trial(&mut self, failures: u32, outcome: Outcome, now: Instant) -> Transition {
        match outcome {
            Outcome::Success => {
                self.enter(Phase::Closed {
                    consecutive_failures: 0,
                });
                Transition::Closed
            }

            Outcome::CountedFailure => {
                let failures = failures.saturating_add(1);
                self.open(failures, now);
                Transition::Reopened {
                    consecutive_failures: failures,
                }
            }

            // The trial's error does not show whether the provider is up, so
            // the next call becomes the trial.
            Outcome::NotCounted => {
                self.free_trial_slot(failures);
                Transition::Unchanged
            }
        }
    }

    fn free_trial_slot(&mut self, consecutive_failures: u32) {
        self.phase = Phase::HalfOpen {
            trial_in_flight: false,
            consecutive_failures,
        };
    }

    fn open(&mut self, consecutive_failures: u32, now: Instant) {
        // `Instant + Duration` panics on overflow, which only an absurd
        // `open_for` such as `Duration::MAX` reaches. Such a circuit stays open
        // for a practically unlimited time instead.
        let until = now
            .checked_add(self.config.open_for)
            .unwrap_or_else(|| now + FAR_FUTURE);
        self.enter(Phase::Open {
            until,
            consecutive_failures,
        });
    }

    fn start_trial(&mut self, consecutive_failures: u32) -> Ticket {
        self.enter(Phase::HalfOpen {
            trial_in_flight: true,
            consecutive_failures,
        });
        self.ticket(true)
    }

    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation = self.generation.wrapping_add(1);
    }

    fn ticket(&self, trial: bool) -> Ticket {
        Ticket {
            generation: self.generation,
            trial,
        }
    }
}
