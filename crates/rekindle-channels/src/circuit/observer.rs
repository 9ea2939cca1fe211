//! The hook that lets the caller store an alert when a circuit opens.

use crate::ChannelError;

/// Receives a breaker's state changes, for example to store an alert.
///
/// The breaker calls it on the sending task, after releasing its lock, and
/// only when the state changes, never on a rejected call. The methods are
/// synchronous so that the breaker works without a runtime and a slow store
/// never delays a send. An implementation that writes to a database should
/// hand the event to a channel or spawn a task.
pub trait CircuitObserver: Send + Sync {
    /// Called once when a closed circuit opens. `last_error` is the failure
    /// that reached the threshold. A failed trial that re-opens a half-open
    /// circuit does not call this again, because the outage is the same.
    fn on_open(&self, key: &str, consecutive_failures: u32, last_error: &ChannelError);

    /// Called when a successful trial closes a half-open circuit.
    fn on_close(&self, key: &str);
}

/// An observer that ignores every event. The breaker still logs them.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopCircuitObserver;

impl CircuitObserver for NoopCircuitObserver {
    fn on_open(&self, _key: &str, _consecutive_failures: u32, _last_error: &ChannelError) {}

    fn on_close(&self, _key: &str) {}
}
