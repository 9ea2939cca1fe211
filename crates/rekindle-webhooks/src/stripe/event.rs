//! The envelope of a verified Stripe event.

use serde::Deserialize;

use crate::error::ParseError;

/// A Stripe event. The object it is about stays untyped JSON, because its shape
/// depends on `event_type` and the caller picks what it needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StripeEvent {
    /// Event id (`evt_...`), usable as a deduplication key.
    pub id: String,
    /// Event type, such as `invoice.paid`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Creation time, in Unix seconds.
    pub created: i64,
    pub livemode: bool,
    /// API version the event was rendered with.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Connected account the event belongs to, for Stripe Connect events.
    #[serde(default)]
    pub account: Option<String>,
    pub data: StripeEventData,
}

/// The `data` member of a Stripe event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StripeEventData {
    /// The object the event is about (an invoice, a checkout session, ...).
    pub object: serde_json::Value,
    /// Values of the fields that changed, for `*.updated` events.
    #[serde(default)]
    pub previous_attributes: Option<serde_json::Value>,
}

/// Parses the body of a verified Stripe webhook request.
pub fn parse_event(raw_body: &[u8]) -> Result<StripeEvent, ParseError> {
    serde_json::from_slice(raw_body).map_err(|error| ParseError::InvalidJson {
        reason: error.to_string(),
    })
}
