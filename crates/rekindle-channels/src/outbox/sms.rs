//! The SMS outbox: one JSON file per message.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rekindle_domain::{AccountId, LeadId, MessageId, Phone};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::OUTBOX_PROVIDER;
use super::directory::OutboxDirectory;
use crate::{ChannelError, OutboundSms, SendReceipt, SmsTransport};

/// The contents of one SMS outbox file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsRecord {
    pub message_id: MessageId,
    pub account_id: AccountId,
    pub lead_id: LeadId,
    pub from: Phone,
    pub to: Phone,
    pub body: String,
    pub accepted_at: DateTime<Utc>,
}

/// Writes each SMS to `<directory>/<message id>.sms.json` as an `SmsRecord`.
/// Sending the same message id again replaces the file.
#[derive(Debug, Clone)]
pub struct OutboxSmsTransport {
    files: OutboxDirectory,
}

impl OutboxSmsTransport {
    /// Creates a transport that writes into `directory`, which is created on
    /// the first send if missing.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            files: OutboxDirectory::new(directory.into(), ".sms.json"),
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
impl SmsTransport for OutboxSmsTransport {
    async fn send_sms(&self, sms: &OutboundSms) -> Result<SendReceipt, ChannelError> {
        let result = write_sms(self, sms).await;

        match &result {
            Ok(receipt) => info!(
                account_id = %sms.account_id,
                lead_id = %sms.lead_id,
                message_id = %sms.message_id,
                provider_message_id = %receipt.provider_message_id,
                "sms written to outbox"
            ),
            Err(error) => warn!(
                account_id = %sms.account_id,
                lead_id = %sms.lead_id,
                message_id = %sms.message_id,
                error_class = %error.class(),
                %error,
                "sms outbox write failed"
            ),
        }
        result
    }
}

async fn write_sms(
    transport: &OutboxSmsTransport,
    sms: &OutboundSms,
) -> Result<SendReceipt, ChannelError> {
    sms.validate()?;

    let accepted_at = Utc::now();
    let record = SmsRecord {
        message_id: sms.message_id,
        account_id: sms.account_id,
        lead_id: sms.lead_id,
        from: sms.from.clone(),
        to: sms.to.clone(),
        body: sms.body.clone(),
        accepted_at,
    };
    let contents = serde_json::to_vec_pretty(&record).map_err(|error| {
        ChannelError::invalid_input(format!("sms could not be serialised: {error}"))
    })?;
    transport
        .files
        .write("writing the sms outbox file", sms.message_id, contents)
        .await?;

    Ok(SendReceipt {
        provider: OUTBOX_PROVIDER,
        provider_message_id: sms.message_id.to_string(),
        accepted_at,
    })
}
