//! Local transports that write each message to a file in an outbox directory.
//! They are the default when no provider is configured, so the whole product
//! runs without an external service, and a person or a test can read what
//! would have been sent.

mod atomic;
mod blocking;
mod directory;
mod email;
mod sms;

use std::time::Duration;

pub use email::OutboxEmailTransport;
pub use sms::{OutboxSmsTransport, SmsRecord};

/// Name reported in `SendReceipt::provider`.
pub const OUTBOX_PROVIDER: &str = "outbox";

/// Default deadline for writing one outbox file. A local write takes
/// milliseconds; a write still running after this is stuck on a slow or
/// failing disk.
pub const DEFAULT_OUTBOX_TIMEOUT: Duration = Duration::from_secs(10);
