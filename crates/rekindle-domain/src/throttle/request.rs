//! A message to place, the placement found for it and the reasons none was found.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::allocator::MAX_SEARCH_DAYS;
use super::identity::SendingIdentityId;
use crate::Channel;

/// One outbound message to place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    pub channel: Channel,
    /// Recipient's email domain, required for email and ignored for SMS and
    /// WhatsApp. Letter case and a trailing dot do not matter.
    pub recipient_domain: Option<String>,
    /// Earliest allowed send time, such as the next opening of the lead's window.
    pub earliest: DateTime<Utc>,
    /// Exclusive end of the allowed time, such as the close of that window. With
    /// `None` the search covers [`MAX_SEARCH_DAYS`] days from `earliest`.
    pub latest: Option<DateTime<Utc>>,
}

/// The identity chosen for a message and its send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub identity: SendingIdentityId,
    pub at: DateTime<Utc>,
}

/// Reason why a message has no send slot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoSlot {
    #[error("no sending identity for channel {channel}: add one before sending on it")]
    NoIdentityForChannel { channel: Channel },
    #[error("every sending identity for channel {channel} is paused: resume one to send")]
    AllPaused { channel: Channel },
    #[error("email request without a recipient domain: pass the domain of the address")]
    MissingRecipientDomain,
    #[error("latest time {latest} is not after earliest time {earliest}")]
    EmptyRange {
        earliest: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
    #[error(
        "send caps are full from {earliest} until the latest time {latest}: try a later window"
    )]
    CapsFull {
        earliest: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
    #[error(
        "send caps stay full for {MAX_SEARCH_DAYS} days after {earliest}: raise the caps or send fewer messages"
    )]
    BeyondHorizon { earliest: DateTime<Utc> },
}

/// Normalises a recipient domain into the key its sends are counted under, or
/// returns `None` for an empty domain. `Acme.COM.` and `acme.com` name the same
/// mail server.
pub(super) fn domain_key(domain: &str) -> Option<String> {
    let trimmed = domain.trim().trim_end_matches('.');
    (!trimmed.is_empty()).then(|| trimmed.to_lowercase())
}
