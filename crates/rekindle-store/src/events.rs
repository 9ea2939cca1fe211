//! Row types of provider webhooks: receipts that deduplicate events, stored
//! request bodies, rejection counts, message events and engagement counters.

use std::fmt;

use chrono::{DateTime, Utc};
use rekindle_domain::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Provider of a webhook, as stored in `webhook_receipts` and `webhook_payloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookProvider {
    Sendgrid,
    Twilio,
    Stripe,
    InboundEmail,
}

impl WebhookProvider {
    /// Returns the stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookProvider::Sendgrid => "sendgrid",
            WebhookProvider::Twilio => "twilio",
            WebhookProvider::Stripe => "stripe",
            WebhookProvider::InboundEmail => "inbound_email",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        [
            WebhookProvider::Sendgrid,
            WebhookProvider::Twilio,
            WebhookProvider::Stripe,
            WebhookProvider::InboundEmail,
        ]
        .into_iter()
        .find(|provider| provider.as_str() == text)
    }
}

impl fmt::Display for WebhookProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A receipt to insert. An event is new when its receipt is inserted, and a
/// duplicate when either key is already stored for the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReceipt {
    pub id: Uuid,
    pub provider: WebhookProvider,
    /// The provider's own id of the event, or of the request when it has none.
    pub dedup_key: String,
    /// Composite key (message, event, timestamp, recipient), which catches an
    /// event redelivered under a new id.
    pub event_key: Option<String>,
}

/// A verified request body, kept for the job that applies or records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookPayload {
    pub id: Uuid,
    pub provider: WebhookProvider,
    /// The provider's id of the event, when the body is one event (Stripe).
    pub event_id: Option<String>,
    /// The provider's type of the event, such as `invoice.paid`.
    pub event_type: Option<String>,
    /// The body exactly as verified.
    pub body: String,
}

/// A stored request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPayload {
    pub id: Uuid,
    pub provider: WebhookProvider,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub body: String,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

/// A rejected webhook or tracking request, counted per provider, reason and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection {
    /// `sendgrid`, `twilio`, `stripe`, `inbound_email` or `tracking`.
    pub provider: &'static str,
    /// Stable code of the rejection, such as `bad_signature` or `not_configured`.
    pub reason: &'static str,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// Counted rejections of one provider, reason and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionCount {
    pub provider: String,
    pub reason: String,
    pub hour: DateTime<Utc>,
    pub count: i64,
}

/// Location of a message (account, lead, ids), found across accounts by the
/// system path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLocation {
    pub message_id: MessageId,
    pub account_id: AccountId,
    pub lead_id: LeadId,
    pub channel: Channel,
    pub rfc_message_id: String,
    pub provider_message_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Engagement counters of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Engagement {
    /// Opens by people.
    pub opens: i32,
    /// Opens within a few seconds of delivery, likely made by a mail privacy
    /// proxy or a security scanner.
    pub machine_opens: i32,
    pub clicks: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    pub first_opened_at: Option<DateTime<Utc>>,
    pub last_opened_at: Option<DateTime<Utc>>,
    pub first_clicked_at: Option<DateTime<Utc>>,
    pub last_clicked_at: Option<DateTime<Utc>>,
}

/// A message locked for applying provider events, with its counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTarget {
    pub id: MessageId,
    pub lead_id: LeadId,
    pub enrollment_id: EnrollmentId,
    pub campaign_id: CampaignId,
    pub channel: Channel,
    pub status: MessageStatus,
    pub to_address: String,
    pub sent_at: Option<DateTime<Utc>>,
    /// `None` when no event was counted for the message yet.
    pub engagement: Option<Engagement>,
}

/// A sent message of an enrollment and what the lead did with it, read by
/// the engagement crew before a follow-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentActivity {
    pub enrollment_id: EnrollmentId,
    pub message_id: MessageId,
    /// Position of the message's step in the sequence.
    pub position: i32,
    pub channel: Channel,
    pub status: MessageStatus,
    pub sent_at: DateTime<Utc>,
    /// `None` when no event was counted for the message yet.
    pub engagement: Option<Engagement>,
}

/// A forward move of a message's status. It is applied only while the
/// message is still in `from`, so a concurrent change is never undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub message_id: MessageId,
    pub from: MessageStatus,
    pub to: MessageStatus,
    /// Error to store with the change (a bounce reason, a provider error code).
    pub error: Option<String>,
}

/// A provider event to store in a message's history.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessageEvent {
    pub id: Uuid,
    pub message_id: MessageId,
    pub kind: MessageEventKind,
    /// `sendgrid`, `twilio` or `tracking`.
    pub provider: &'static str,
    pub provider_event_id: String,
    pub occurred_at: DateTime<Utc>,
    /// Details without message bodies: bounce reason, clicked URL, machine flag.
    pub payload: Value,
}
