//! The directory an outbox transport writes into, shared by the email and SMS
//! transports.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rekindle_domain::MessageId;

use super::DEFAULT_OUTBOX_TIMEOUT;
use super::atomic::write_atomically;
use super::blocking::run_blocking;
use crate::ChannelError;

/// A directory of message files named `<message id><extension>`, with a
/// deadline for each write.
#[derive(Debug, Clone)]
pub(super) struct OutboxDirectory {
    path: PathBuf,
    extension: &'static str,
    timeout: Duration,
}

impl OutboxDirectory {
    pub fn new(path: PathBuf, extension: &'static str) -> Self {
        Self {
            path,
            extension,
            timeout: DEFAULT_OUTBOX_TIMEOUT,
        }
    }

    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns the file of `message_id`. The hyphenated UUID contains only hex
    /// digits and hyphens, so the name cannot leave the directory.
    pub fn path_for(&self, message_id: MessageId) -> PathBuf {
        self.path.join(self.file_name(message_id))
    }

    fn file_name(&self, message_id: MessageId) -> String {
        format!("{message_id}{}", self.extension)
    }

    /// Writes the file of `message_id` atomically, replacing an earlier one.
    /// `what` names the operation in a timeout error.
    pub async fn write(
        &self,
        what: &'static str,
        message_id: MessageId,
        contents: Vec<u8>,
    ) -> Result<(), ChannelError> {
        let directory = self.path.clone();
        let name = self.file_name(message_id);
        run_blocking(what, self.timeout, move || {
            write_atomically(&directory, &name, &contents)
        })
        .await?;
        Ok(())
    }
}
