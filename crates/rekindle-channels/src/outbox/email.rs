//! The email outbox: one RFC 5322 `.eml` file per message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rekindle_domain::MessageId;
use tracing::{info, warn};

use super::atomic::write_atomically;
use super::blocking::run_blocking;
use super::{DEFAULT_OUTBOX_TIMEOUT, OUTBOX_PROVIDER};
use crate::{ChannelError, EmailTransport, OutboundEmail, SendReceipt, render_email};

/// Writes each email to `<directory>/<message id>.eml`, the file format that
/// mail clients open. Sending the same message id again replaces the file.
#[derive(Debug, Clone)]
pub struct OutboxEmailTransport {
    directory: PathBuf,
    timeout: Duration,
}

impl OutboxEmailTransport {
    /// Creates a transport that writes into `directory`, which is created on
    /// the first send if missing.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: directory.into(),
            timeout: DEFAULT_OUTBOX_TIMEOUT,
        }
    }

    /// Sets the deadline for writing one file.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Returns the path of the file for `message_id`.
    pub fn path_for(&self, message_id: MessageId) -> PathBuf {
        self.directory.join(file_name(message_id))
    }
}

/// Builds the file name from the hyphenated UUID, which contains only hex
/// digits and hyphens, so the name cannot leave the outbox directory.
fn file_name(message_id: MessageId) -> String {
    format!("{message_id}.eml")
}

#[async_trait]
impl EmailTransport for OutboxEmailTransport {
    async fn send_email(&self, email: &OutboundEmail) -> Result<SendReceipt, ChannelError> {
        let result = write_email(self, email).await;

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
) -> Result<SendReceipt, ChannelError> {
    email.validate()?;

    let accepted_at = Utc::now();
    let contents = render_email(email, accepted_at)?;
    let directory = transport.directory.clone();
    let name = file_name(email.message_id);

    run_blocking(
        "writing the email outbox file",
        transport.timeout,
        move || write_atomically(&directory, &name, &contents),
    )
    .await?;

    Ok(SendReceipt {
        provider: OUTBOX_PROVIDER,
        provider_message_id: email.message_id.to_string(),
        accepted_at,
    })
}
