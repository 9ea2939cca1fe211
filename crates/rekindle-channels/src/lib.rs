//! Rekindle's adapters to the outside world.
//!
//! - Email and SMS transports behind the `EmailTransport` and `SmsTransport`
//!   traits. This version has the local ones only: `OutboxEmailTransport`
//!   writes one `.eml` file per email and `OutboxSmsTransport` one JSON file
//!   per SMS, which is what runs when no provider is configured.
//! - `LinkSigner`, which signs and verifies the tokens in unsubscribe and
//!   preference links.
//!
//! Every transport error is a `ChannelError` with the class that decides the
//! retry. Logs carry account, lead and message ids, never subjects or bodies.

mod email;
mod error;
pub mod links;
mod outbox;
mod sms;
mod transport;

pub use email::{
    InternetMessageId, MAX_BODY_BYTES, MAX_DISPLAY_NAME_CHARS, MAX_MESSAGE_ID_LEN, MAX_REFERENCES,
    MAX_SUBJECT_CHARS, NamedAddress, OutboundEmail, render_email,
};
pub use error::ChannelError;
pub use links::{LinkClaims, LinkPurpose, LinkSigner, LinkSignerError, LinkTarget, TokenError};
pub use outbox::{
    DEFAULT_OUTBOX_TIMEOUT, OUTBOX_PROVIDER, OutboxEmailTransport, OutboxSmsTransport, SmsRecord,
};
pub use sms::{MAX_SMS_CHARS, OutboundSms};
pub use transport::{EmailTransport, SendReceipt, SmsTransport};
