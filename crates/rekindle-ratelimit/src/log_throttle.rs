//! At most one log line per interval for a repeating condition, so an outage
//! writes a line a minute with a count instead of a line per request.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// The interval between two warnings about the same condition.
pub(crate) const WARNING_INTERVAL: Duration = Duration::from_secs(60);

pub(crate) struct LogThrottle {
    interval: Duration,
    state: Mutex<ThrottleState>,
}

struct ThrottleState {
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl LogThrottle {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(ThrottleState {
                last_logged: None,
                suppressed: 0,
            }),
        }
    }

    /// Records one occurrence. Returns `Some(n)` when the caller should log now,
    /// where `n` is the number of occurrences not logged since the last line.
    pub(crate) fn occurrence(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);

        let due = state
            .last_logged
            .is_none_or(|last| now.duration_since(last) >= self.interval);
        if !due {
            state.suppressed += 1;
            return None;
        }

        state.last_logged = Some(now);
        Some(std::mem::take(&mut state.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn logs_once_per_interval() {
        let throttle = LogThrottle::new(Duration::from_secs(60));

        assert_eq!(throttle.occurrence(), Some(0));
        assert_eq!(throttle.occurrence(), None);
        assert_eq!(throttle.occurrence(), None);

        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(throttle.occurrence(), Some(2));
        assert_eq!(throttle.occurrence(), None);
    }
}
