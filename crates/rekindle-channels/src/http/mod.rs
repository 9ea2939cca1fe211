//! Shared parts of the HTTP provider transports (SendGrid, Twilio): the
//! client with its timeouts, the endpoint URL, and the classification of
//! responses and request errors.

mod classify;
mod client;
mod retry_after;

pub(crate) use classify::{ErrorResponse, classify_request_error, classify_status};
pub use client::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_HTTP_TIMEOUT};
pub(crate) use client::{api_endpoint, build_client, read_body_capped};
pub(crate) use retry_after::retry_after;
