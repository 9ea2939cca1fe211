//! A lead's actions after the previous step of a sequence, as the caller
//! reads them from the stored messages, events and replies.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rekindle_domain::{Channel, ReplyLabel};
use serde::{Deserialize, Serialize};

/// A click on a link of the previous message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClick {
    pub at: DateTime<Utc>,
    /// The link's name in a message, such as "the pricing page", or `None`
    /// to say "the link". It is cleaned before any message uses it.
    pub label: Option<String>,
    /// The unsubscribe or preference link. A click on it is no sign of
    /// interest, so it never counts as engagement.
    pub is_compliance_link: bool,
}

/// The previous message of the sequence and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousMessage {
    pub channel: Channel,
    pub sent_at: DateTime<Utc>,
    /// An open was recorded. Only email reports opens, and mail privacy
    /// features open messages without the reader, so a follow-up never
    /// states it.
    pub opened: bool,
    pub clicks: Vec<LinkClick>,
    /// The provider reported a bounce, so the message never arrived.
    pub bounced: bool,
}

/// The lead's latest reply since the previous message, as classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastReply {
    pub label: ReplyLabel,
    pub received_at: DateTime<Utc>,
    /// The day the lead is back, for an out-of-office reply that names one.
    pub return_date: Option<NaiveDate>,
    /// The reply's own text, quotes removed. Untrusted: it is passed to an
    /// LLM writer only in a data block, for a question it should acknowledge.
    pub text: Option<String>,
}

/// The next step of the campaign's sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub channel: Channel,
    /// Days after the previous message, on the lead's local calendar.
    pub delay_days: u32,
}

/// Everything the next-best-step decision reads about one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementInput {
    pub previous: PreviousMessage,
    pub reply: Option<LastReply>,
    /// `None` when the previous message was the sequence's last step.
    pub next_step: Option<PlannedStep>,
    /// Channels the lead can receive: a valid address or number, not
    /// suppressed, with consent where the channel needs it.
    pub reachable: Vec<Channel>,
    /// Emails of this sequence in a row, the previous one included, with no
    /// recorded open.
    pub unopened_emails_in_a_row: u32,
    /// The lead's time zone, for delays in local days and return dates.
    pub lead_zone: Tz,
    pub now: DateTime<Utc>,
}

impl EngagementInput {
    /// Returns the latest click on a link other than a compliance link.
    pub fn latest_content_click(&self) -> Option<&LinkClick> {
        self.previous
            .clicks
            .iter()
            .filter(|click| !click.is_compliance_link)
            .max_by_key(|click| click.at)
    }
}
