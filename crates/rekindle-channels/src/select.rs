//! Choosing the transport from plain settings: the local outbox, which is the
//! default, or a real provider.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{
    EmailTransport, OutboxEmailTransport, OutboxSmsTransport, SendgridConfig, SendgridTransport,
    SmsTransport, SmtpConfig, SmtpTransport, TransportConfigError, TwilioConfig, TwilioTransport,
};

/// Settings of the email transport: the local outbox or a real provider.
#[derive(Debug, Clone)]
pub enum EmailTransportConfig {
    /// One `.eml` file per email in `directory`; nothing leaves the machine.
    Outbox {
        directory: PathBuf,
    },
    Smtp(SmtpConfig),
    Sendgrid(SendgridConfig),
}

/// Settings of a text message transport. SMS and WhatsApp each get their own
/// transport, so a deployment builds one of these per channel.
#[derive(Debug, Clone)]
pub enum SmsTransportConfig {
    /// One `.sms.json` file per message in `directory`.
    Outbox { directory: PathBuf },
    /// Twilio's Messages API over SMS.
    Twilio(TwilioConfig),
    /// Twilio's Messages API over WhatsApp.
    TwilioWhatsapp(TwilioConfig),
}

impl EmailTransportConfig {
    /// Returns the short provider name that receipts of this transport carry.
    pub fn provider(&self) -> &'static str {
        match self {
            Self::Outbox { .. } => crate::OUTBOX_PROVIDER,
            Self::Smtp(_) => crate::SMTP_PROVIDER,
            Self::Sendgrid(_) => crate::SENDGRID_PROVIDER,
        }
    }
}

impl SmsTransportConfig {
    /// Returns the short provider name that receipts of this transport carry.
    pub fn provider(&self) -> &'static str {
        match self {
            Self::Outbox { .. } => crate::OUTBOX_PROVIDER,
            Self::Twilio(_) | Self::TwilioWhatsapp(_) => crate::TWILIO_PROVIDER,
        }
    }
}

/// Builds the email transport that `config` names. Fails on settings that
/// could never work, before anything is sent.
pub fn build_email_transport(
    config: EmailTransportConfig,
) -> Result<Arc<dyn EmailTransport>, TransportConfigError> {
    Ok(match config {
        EmailTransportConfig::Outbox { directory } => {
            Arc::new(OutboxEmailTransport::new(directory))
        }
        EmailTransportConfig::Smtp(smtp) => Arc::new(SmtpTransport::new(smtp)?),
        EmailTransportConfig::Sendgrid(sendgrid) => Arc::new(SendgridTransport::new(sendgrid)?),
    })
}

/// Builds the SMS or WhatsApp transport that `config` names.
pub fn build_sms_transport(
    config: SmsTransportConfig,
) -> Result<Arc<dyn SmsTransport>, TransportConfigError> {
    Ok(match config {
        SmsTransportConfig::Outbox { directory } => Arc::new(OutboxSmsTransport::new(directory)),
        SmsTransportConfig::Twilio(twilio) => Arc::new(TwilioTransport::new(twilio)?),
        SmsTransportConfig::TwilioWhatsapp(twilio) => {
            Arc::new(TwilioTransport::new_whatsapp(twilio)?)
        }
    })
}
