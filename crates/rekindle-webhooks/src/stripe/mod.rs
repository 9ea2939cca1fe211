//! Stripe webhooks: signature check and the event envelope.

mod event;
mod signature;

pub use event::{StripeEvent, StripeEventData, parse_event};
pub use signature::{DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, VerifiedHeader, verify};
