//! Circuit breakers for outbound providers.
//!
//! A breaker per provider and sending identity opens after
//! `failure_threshold` (default 5) consecutive transient or rate-limited
//! failures and rejects sends without calling the provider. After `open_for`
//! (default 60 s) it half-opens and lets one trial send through, whose
//! outcome closes or re-opens it. Opening logs an error and calls
//! `CircuitObserver::on_open`, where the caller stores an alert. Closing
//! logs at info level and calls `on_close`.
//!
//! `CircuitRegistry` contains the breakers by key, and
//! `CircuitEmailTransport` and `CircuitSmsTransport` wrap any transport so
//! that its sends go through them.

mod breaker;
mod clock;
mod config;
mod error;
mod observer;
mod registry;
mod state;
mod transport;

#[cfg(test)]
mod tests;

pub use breaker::{CallPermit, CircuitBreaker};
pub use clock::{Clock, TokioClock};
pub use config::{CircuitConfig, DEFAULT_FAILURE_THRESHOLD, DEFAULT_OPEN_FOR};
pub use error::{CircuitOpenError, CircuitRegistryError};
pub use observer::{CircuitObserver, NoopCircuitObserver};
pub use registry::{CircuitRegistry, DEFAULT_MAX_CIRCUIT_KEYS};
pub use state::CircuitState;
pub use transport::{CircuitEmailTransport, CircuitScope, CircuitSmsTransport};
