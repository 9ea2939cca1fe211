//! The transport traits that the sending jobs call.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{ChannelError, OutboundEmail, OutboundSms};

/// A provider's acknowledgement that it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReceipt {
    /// Short name of the transport (`outbox`, later `smtp`, `sendgrid`,
    /// `twilio`), stored with the message.
    pub provider: &'static str,
    /// The provider's id for the message, which its delivery events quote.
    pub provider_message_id: String,
    pub accepted_at: DateTime<Utc>,
}

/// Sends email. Sending the same `message_id` twice must not deliver two
/// different messages where the provider allows it (an idempotency key or an
/// overwrite), because jobs run at least once.
#[async_trait]
pub trait EmailTransport: Send + Sync {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError>;
}

/// Sends SMS, with the same idempotency rule as `EmailTransport`.
#[async_trait]
pub trait SmsTransport: Send + Sync {
    async fn send_sms(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError>;
}
