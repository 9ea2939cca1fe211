//! The transport traits that the sending jobs call.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::{ChannelError, EmailOptions, OutboundEmail, OutboundSms};

/// A provider's acknowledgement that it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendReceipt {
    /// Short name of the transport (`outbox`, `smtp`, `sendgrid`, `twilio`),
    /// stored with the message.
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

    /// Sends `email` with the optional headers of `options` (`Reply-To`, a
    /// `mailto:` unsubscribe address).
    ///
    /// The default implementation serves transports that predate
    /// `EmailOptions`: it sends with `send_email` when `options` is empty, and
    /// otherwise rejects the email as invalid input, so that a transport never
    /// drops a `Reply-To` without a word. The outbox, SMTP and SendGrid
    /// transports implement it.
    async fn send_email_with(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        if options.is_empty() {
            return self.send_email(email).await;
        }
        Err(ChannelError::invalid_input(
            "this email transport does not support Reply-To or a mailto unsubscribe address",
        ))
    }
}

/// Sends SMS, with the same idempotency rule as `EmailTransport`.
#[async_trait]
pub trait SmsTransport: Send + Sync {
    async fn send_sms(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError>;
}

/// Logs the outcome of one email send with the ids that matter and, on
/// failure, the error and its class. Never the subject, body or addresses.
pub(crate) fn log_email_outcome(
    provider: &'static str,
    email: &OutboundEmail,
    result: &Result<SendReceipt, ChannelError>,
) {
    match result {
        Ok(receipt) => info!(
            provider,
            account_id = %email.account_id,
            lead_id = %email.lead_id,
            message_id = %email.message_id,
            provider_message_id = %receipt.provider_message_id,
            "email accepted by provider"
        ),
        Err(error) => warn!(
            provider,
            account_id = %email.account_id,
            lead_id = %email.lead_id,
            message_id = %email.message_id,
            error_class = %error.class(),
            %error,
            "email send failed"
        ),
    }
}

/// Logs the outcome of one SMS or WhatsApp send, as `log_email_outcome` does.
pub(crate) fn log_sms_outcome(
    provider: &'static str,
    sms: &OutboundSms,
    result: &Result<SendReceipt, ChannelError>,
) {
    match result {
        Ok(receipt) => info!(
            provider,
            account_id = %sms.account_id,
            lead_id = %sms.lead_id,
            message_id = %sms.message_id,
            provider_message_id = %receipt.provider_message_id,
            "text message accepted by provider"
        ),
        Err(error) => warn!(
            provider,
            account_id = %sms.account_id,
            lead_id = %sms.lead_id,
            message_id = %sms.message_id,
            error_class = %error.class(),
            %error,
            "text message send failed"
        ),
    }
}
