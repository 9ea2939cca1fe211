//! Verification and parsing of provider webhooks: SendGrid events, Twilio
//! messages, Stripe events and SendGrid Inbound Parse emails.
//!
//! Every function works on the raw request bytes and header values, performs no
//! I/O and keeps no state, so the HTTP layer decides how to respond and what to
//! store. Signatures are checked over the exact bytes received, never over
//! re-serialised JSON, and an empty secret or key rejects the request.

pub mod error;
pub mod inbound;
pub mod sendgrid;
pub mod stripe;
pub mod twilio;

pub use error::{ParseError, VerifyError};
