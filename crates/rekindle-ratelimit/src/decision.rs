//! The outcome of one rate limit check.

use std::time::Duration;

/// Whether an event may go ahead under its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The event was counted; `remaining` more events fit in the budget right now.
    Allowed { remaining: u32 },
    /// The event was not counted; the next one fits after `retry_after`.
    Limited { retry_after: Duration },
}

impl Decision {
    /// Returns true for [`Decision::Allowed`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }

    /// The `Retry-After` header value in seconds for a limited decision, or
    /// `None` when the event was allowed. See [`retry_after_secs`].
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Allowed { .. } => None,
            Self::Limited { retry_after } => Some(retry_after_secs(*retry_after)),
        }
    }
}

/// Converts a wait into a `Retry-After` header value:
/// whole seconds, rounded up so a client that obeys never retries too early,
/// and at least 1 so a client never retries at once.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let whole = wait.as_secs();

    let rounded = if wait.subsec_nanos() > 0 {
        whole.saturating_add(1)
    } else {
        whole
    };

    rounded.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
    }

    #[test]
    fn retry_after_whole_seconds_kept() {
        assert_eq!(retry_after_secs(Duration::from_secs(20)), 20);
    }

    #[test]
    fn retry_after_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn allowed_has_no_retry_after() {
        let allowed = Decision::Allowed { remaining: 3 };
        assert!(allowed.is_allowed());
        assert_eq!(allowed.retry_after_secs(), None);
    }

    #[test]
    fn limited_has_retry_after() {
        let limited = Decision::Limited {
            retry_after: Duration::from_millis(2_500),
        };
        assert!(!limited.is_allowed());
        assert_eq!(limited.retry_after_secs(), Some(3));
    }
}
