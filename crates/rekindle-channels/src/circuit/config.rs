//! Settings of a circuit breaker.

use std::num::NonZeroU32;
use std::time::Duration;

/// Default number of consecutive counted failures that opens a circuit.
pub const DEFAULT_FAILURE_THRESHOLD: NonZeroU32 = NonZeroU32::new(5).expect("5 is not zero");
/// Default time an open circuit rejects calls before it lets a trial call
/// through.
pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(60);

/// When a circuit opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitConfig {
    /// Consecutive transient or rate-limited failures that open a closed
    /// circuit.
    pub failure_threshold: NonZeroU32,
    /// Time from opening (or from a failed trial) until the circuit
    /// half-opens and lets one trial call through.
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            failure_threshold: DEFAULT_FAILURE_THRESHOLD,
            open_for: DEFAULT_OPEN_FOR,
        }
    }
}
