//! Sending identities and the sends that already count against their caps.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Channel;

/// Identifier of a sending identity: one mailbox or one phone number of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendingIdentityId(pub Uuid);

impl fmt::Display for SendingIdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A mailbox or phone number that sends for an account, with its caps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingIdentity {
    pub id: SendingIdentityId,
    /// Channel the identity sends on: email for a mailbox, SMS or WhatsApp for a
    /// phone number.
    pub channel: Channel,
    /// UTC date of warm-up day 1: the day the identity was created or first sent,
    /// whichever the caller tracks.
    pub warm_up_start: NaiveDate,
    /// Sends per UTC hour; `None` takes the settings' default.
    pub hourly_cap: Option<u32>,
    /// Sends per UTC day after warm-up; `None` takes the settings' default.
    pub daily_cap: Option<u32>,
    /// A paused identity gets no new sends, but its recorded sends still count
    /// against the recipient domains' caps.
    pub paused: bool,
}

/// A send already planned or made, which counts against the caps of its UTC hour
/// and UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedSend {
    pub identity: SendingIdentityId,
    /// Recipient's email domain; `None` for SMS and WhatsApp, which have no
    /// domain caps.
    pub recipient_domain: Option<String>,
    pub at: DateTime<Utc>,
}
