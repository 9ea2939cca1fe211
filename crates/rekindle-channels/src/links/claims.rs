//! Claims of a signed link: purpose, ids, target and expiry.

use std::fmt;

use chrono::{DateTime, Utc};
use rekindle_domain::{AccountId, ContactKind, Email, LeadId, MessageId, Phone};

/// Action that a link allows its holder. Each purpose signs with its own key, so a
/// token for one purpose never verifies for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkPurpose {
    /// Unsubscribe the target contact (RFC 8058 one-click and the unsubscribe
    /// page).
    Unsubscribe,
    /// Open the email preference page of the target contact.
    Preferences,
}

impl LinkPurpose {
    pub const ALL: [LinkPurpose; 2] = [LinkPurpose::Unsubscribe, LinkPurpose::Preferences];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unsubscribe => "unsubscribe",
            Self::Preferences => "preferences",
        }
    }

    /// Byte that identifies the purpose inside a token.
    pub(super) fn code(self) -> u8 {
        match self {
            Self::Unsubscribe => 1,
            Self::Preferences => 2,
        }
    }

    pub(super) fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|purpose| purpose.code() == code)
    }

    /// Position in per-purpose arrays.
    pub(super) fn index(self) -> usize {
        match self {
            Self::Unsubscribe => 0,
            Self::Preferences => 1,
        }
    }
}

impl fmt::Display for LinkPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whom a link applies to: one contact of the lead, or the recipient of one
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    Email(Email),
    Phone(Phone),
    /// The recipient of this message, as stored with the message.
    Message(MessageId),
}

impl LinkTarget {
    /// Returns the kind of contact, or `None` for a message target.
    pub fn contact_kind(&self) -> Option<ContactKind> {
        match self {
            Self::Email(_) => Some(ContactKind::Email),
            Self::Phone(_) => Some(ContactKind::Phone),
            Self::Message(_) => None,
        }
    }
}

/// The signed contents of a link token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkClaims {
    pub purpose: LinkPurpose,
    pub account_id: AccountId,
    pub lead_id: LeadId,
    pub target: LinkTarget,
    /// Whole seconds: the token stores a Unix timestamp.
    pub expires_at: DateTime<Utc>,
}
