//! Tests of the circuit breaker, its registry and the transport wrappers,
//! with a clock moved by hand or tokio's paused time, and fake transports
//! that count their calls.

mod breaker;
mod registry;
mod support;
mod transport;
