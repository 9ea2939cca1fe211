//! The email outbox: one RFC 5322 `.eml` file per message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rekindle_domain::MessageId;
use tracing::{info, warn};

use super::OUTBOX_PROVIDER;
use super::directory::OutboxDirectory;
use crate::email::build_message;
use crate::{ChannelError, EmailOptions, EmailTransport, OutboundEmail, SendReceipt};

/// Writes each email to `<directory>/<message id>.eml`, the file format that
/// mail clients open. Sending the same message id again replaces the file.
#[derive(Debug, Clone)]
pub struct OutboxEmailTransport {
    files: OutboxDirectory,
}

impl OutboxEmailTransport {
    /// Creates a transport that writes into `directory`, which is created on
    /// the first send if missing.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            files: OutboxDirectory::new(directory.into(), ".eml"),
        }
    }

    /// Sets the deadline for writing one file.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self {
            files: self.files.with_timeout(timeout),
        }
    }

    pub fn directory(&self) -> &Path {
        self.files.path()
    }

    /// Returns the path of the file for `message_id`.
    pub fn path_for(&self, message_id: MessageId) -> PathBuf {
        self.files.path_for(message_id)
    }
}

#[async_trait]
impl EmailTransport for OutboxEmailTransport {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        self.send_email_with(email, &EmailOptions::default()).await
    }

    /// Writes the email with the `Reply-To` and `List-Unsubscribe` headers of
    /// `options`. The body parts are written as given: no HTML part is built.
    async fn send_email_with(
        &self,
        email: &OutboundEmail,
        options: &EmailOptions,
    ) -> Result<SendReceipt, ChannelError> {
        let result = write_email(self, email, options).await;

        match &result {
            Ok(receipt) => info!(
                account_id = %email.account_id,
                lead_id = %email.lead_id,
                message_id = %email.message_id,
                provider_message_id = %receipt.provider_message_id,
                "email written to outbox"
            ),
            Err(error) => warn!(
                account_id = %email.account_id,
                lead_id = %email.lead_id,
                message_id = %email.message_id,
                error_class = %error.class(),
                %error,
                "email outbox write failed"
            ),
        }
        result
    }
}

async fn write_email(
    transport: &OutboxEmailTransport,
    email: &OutboundEmail,
    options: &EmailOptions,
) -> Result<SendReceipt, ChannelError> {
    email.validate()?;
    options.validate()?;

    let accepted_at = Utc::now();
    let html = email.html_body.as_deref();
    let contents = build_message(email, options, html, accepted_at)?.formatted();
    transport
        .files
        .write("writing the email outbox file", email.message_id, contents)
        .await?;

    Ok(SendReceipt {
        provider: OUTBOX_PROVIDER,
        provider_message_id: email.message_id.to_string(),
        accepted_at,
    })
}
