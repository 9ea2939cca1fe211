//! Rekindle's adapters to the outside world.
//!
//! - Email and SMS transports behind the `EmailTransport` and `SmsTransport`
//!   traits. The local ones are the default when no provider is configured:
//!   `OutboxEmailTransport` writes one `.eml` file per email and
//!   `OutboxSmsTransport` one JSON file per SMS. The real ones are
//!   `SmtpTransport` (lettre over rustls), `SendgridTransport` (SendGrid's v3
//!   mail send API) and `TwilioTransport` (Twilio's Messages API, SMS or
//!   WhatsApp). `build_email_transport` and `build_sms_transport` pick one
//!   from plain settings.
//! - `LinkSigner`, which signs and verifies the tokens in unsubscribe and
//!   preference links, and `TrackingSigner`, which signs the open pixel and
//!   click redirect links of tracked emails.
//!
//! Every transport error is a `ChannelError` with the class that decides the
//! retry, and every real transport has its own timeout. Logs carry account,
//! lead and message ids, never subjects, bodies, addresses or credentials.

mod circuit;
mod email;
mod error;
mod http;
pub mod links;
mod outbox;
mod provider_text;
mod select;
mod sendgrid;
mod sms;
mod smtp;
mod transport;
mod twilio;

pub use circuit::{
    CallPermit, CircuitBreaker, CircuitConfig, CircuitEmailTransport, CircuitObserver,
    CircuitOpenError, CircuitRegistry, CircuitRegistryError, CircuitScope, CircuitSmsTransport,
    CircuitState, Clock, DEFAULT_FAILURE_THRESHOLD, DEFAULT_MAX_CIRCUIT_KEYS, DEFAULT_OPEN_FOR,
    NoopCircuitObserver, TokioClock,
};
pub use email::{
    EmailFooter, EmailOptions, InternetMessageId, LinkRewriter, MAX_BODY_BYTES,
    MAX_DISPLAY_NAME_CHARS, MAX_MESSAGE_ID_LEN, MAX_POSTAL_ADDRESS_CHARS, MAX_REFERENCES,
    MAX_SUBJECT_CHARS, NamedAddress, OutboundEmail, render_email, tracked_html,
};
pub use error::{ChannelError, TransportConfigError};
pub use http::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_HTTP_TIMEOUT};
pub use links::{
    ClickClaims, LinkClaims, LinkPurpose, LinkSigner, LinkSignerError, LinkTarget, OpenClaims,
    ReplyAddressError, ReplyAddressSigner, TokenError, TrackingSigner,
};
pub use outbox::{
    DEFAULT_OUTBOX_TIMEOUT, OUTBOX_PROVIDER, OutboxEmailTransport, OutboxSmsTransport, SmsRecord,
};
/// The secret type of API keys, tokens and passwords in transport settings.
/// `Debug` prints `[REDACTED]`, and the memory is zeroed on drop.
pub use secrecy::{ExposeSecret, SecretString};
pub use select::{
    EmailTransportConfig, SmsTransportConfig, build_email_transport, build_sms_transport,
};
pub use sendgrid::{
    CUSTOM_ARG_ACCOUNT_ID, CUSTOM_ARG_MESSAGE_ID, SENDGRID_DEFAULT_BASE_URL, SENDGRID_PROVIDER,
    SendgridConfig, SendgridTransport,
};
pub use sms::{MAX_SMS_CHARS, OutboundSms};
pub use smtp::{
    DEFAULT_SMTP_TIMEOUT, SMTP_PROVIDER, SmtpConfig, SmtpCredentials, SmtpMechanism, SmtpSecurity,
    SmtpTransport,
};
pub use transport::{EmailTransport, SendReceipt, SmsTransport};
pub use twilio::{
    TWILIO_DEFAULT_BASE_URL, TWILIO_ERROR_INVALID_TO, TWILIO_ERROR_UNSUBSCRIBED, TWILIO_PROVIDER,
    TwilioChannel, TwilioConfig, TwilioSender, TwilioTransport,
};
