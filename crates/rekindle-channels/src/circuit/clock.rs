//! The clock that decides when an open circuit may half-open.

use std::fmt;

use tokio::time::Instant;

/// A source of the current monotonic time.
///
/// Breakers read time only through this trait, so a test can use tokio's
/// paused time (`TokioClock` under `#[tokio::test(start_paused = true)]`) or a
/// clock that it moves by hand.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
}

/// The default clock: `tokio::time::Instant::now()`, which follows tokio's
/// paused and advanced time in tests and the system's monotonic clock
/// otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}
