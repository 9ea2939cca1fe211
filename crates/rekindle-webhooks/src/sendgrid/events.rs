//! Typed events of a verified SendGrid Event Webhook batch.
//!
//! A batch is a JSON array of event objects. Custom arguments attached when the
//! email was sent appear as top-level keys of each event, which is where
//! `rekindle_message_id` comes from.

use std::fmt;

use rekindle_domain::MessageId;
use serde::Deserialize;
use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::ParseError;

/// Name of the custom argument that carries our message id.
pub const MESSAGE_ID_ARGUMENT: &str = "rekindle_message_id";

/// One SendGrid event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendgridEvent {
    pub kind: SendgridEventKind,
    /// Recipient address, as SendGrid reports it.
    pub email: String,
    /// Time of the event, in Unix seconds.
    pub timestamp: i64,
    /// SendGrid's unique id of this event, usable as a deduplication key.
    pub sg_event_id: String,
    /// SendGrid's id of the message, absent on some event kinds.
    pub sg_message_id: Option<String>,
    /// Our message id, from the custom argument attached when sending.
    pub rekindle_message_id: Option<MessageId>,
    /// Explanation from the receiving server (bounce, dropped) or from SendGrid.
    pub reason: Option<String>,
    /// SMTP enhanced status code, such as `5.1.1`.
    pub status: Option<String>,
    /// SMTP response of the receiving server (delivered, deferred).
    pub response: Option<String>,
    /// Link that was clicked (click events).
    pub url: Option<String>,
    /// Unsubscribe group (group_unsubscribe events).
    pub asm_group_id: Option<i64>,
}

/// Kind of a SendGrid event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendgridEventKind {
    Processed,
    Delivered,
    Deferred,
    Open,
    Click,
    Bounce {
        /// `type` field: a hard bounce or a block. `None` when the field is absent.
        bounce_type: Option<BounceType>,
        /// `bounce_classification` field, such as `Invalid Address` or `Reputation`.
        classification: Option<String>,
    },
    Dropped,
    SpamReport,
    Unsubscribe,
    GroupUnsubscribe,
    /// An event kind this crate does not model, with its `event` name.
    Other(String),
}

impl SendgridEventKind {
    /// Returns the `event` name SendGrid uses for this kind.
    pub fn name(&self) -> &str {
        match self {
            SendgridEventKind::Processed => "processed",
            SendgridEventKind::Delivered => "delivered",
            SendgridEventKind::Deferred => "deferred",
            SendgridEventKind::Open => "open",
            SendgridEventKind::Click => "click",
            SendgridEventKind::Bounce { .. } => "bounce",
            SendgridEventKind::Dropped => "dropped",
            SendgridEventKind::SpamReport => "spamreport",
            SendgridEventKind::Unsubscribe => "unsubscribe",
            SendgridEventKind::GroupUnsubscribe => "group_unsubscribe",
            SendgridEventKind::Other(name) => name,
        }
    }
}

/// Value of a bounce event's `type` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BounceType {
    /// The receiving server rejected the address permanently.
    Bounce,
    /// The receiving server refused the message, often for reputation or content.
    Blocked,
    /// A value this crate does not know.
    Other(String),
}

/// Events of one batch. Events that parsed are kept in batch order, and each
/// malformed event is listed with its position, so one bad event does not cost
/// the others.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendgridBatch {
    pub events: Vec<SendgridEvent>,
    pub malformed: Vec<MalformedEvent>,
}

/// An event of a batch that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedEvent {
    /// Zero-based position of the event in the batch.
    pub index: usize,
    /// Description of the problem. A serde_json type error quotes the offending value,
    /// which can be an email address, so treat the reason as personal data.
    pub reason: String,
}

/// Parses a verified batch. Fails as a whole only when the body is not a JSON
/// array or contains more than `max_events` events. Unknown event kinds become
/// [`SendgridEventKind::Other`], and malformed events are listed in
/// [`SendgridBatch::malformed`].
pub fn parse_events(raw_body: &[u8], max_events: usize) -> Result<SendgridBatch, ParseError> {
    let raw_events = split_batch(raw_body, max_events)?;

    let mut batch = SendgridBatch::default();
    for (index, raw) in raw_events.into_iter().enumerate() {
        match parse_event(raw) {
            Ok(event) => batch.events.push(event),
            Err(reason) => batch.malformed.push(MalformedEvent { index, reason }),
        }
    }

    Ok(batch)
}

/// Splits the array into its elements without parsing them, so a type error in
/// one event cannot fail the batch.
fn split_batch(raw_body: &[u8], max_events: usize) -> Result<Vec<&RawValue>, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_slice(raw_body);

    let split = de::Deserializer::deserialize_seq(&mut deserializer, BoundedSeq { max_events })
        .and_then(|split| deserializer.end().map(|()| split))
        .map_err(|error| ParseError::InvalidJson {
            reason: error.to_string(),
        })?;

    match split {
        Split::Within(events) => Ok(events),
        Split::TooMany(count) => Err(ParseError::TooManyEvents {
            count,
            max: max_events,
        }),
    }
}

enum Split<'de> {
    Within(Vec<&'de RawValue>),
    /// Total number of elements, counted without keeping those past the maximum.
    TooMany(usize),
}

struct BoundedSeq {
    max_events: usize,
}

impl<'de> Visitor<'de> for BoundedSeq {
    type Value = Split<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array of SendGrid events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events = Vec::new();
        while events.len() < self.max_events {
            match seq.next_element::<&'de RawValue>()? {
                Some(event) => events.push(event),
                None => return Ok(Split::Within(events)),
            }
        }

        // The array is at the maximum: count any remainder without storing it.
        let mut count = events.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        if count > self.max_events {
            return Ok(Split::TooMany(count));
        }
        Ok(Split::Within(events))
    }
}

/// Fields of an event as SendGrid sends them. Fields not listed are ignored.
#[derive(Deserialize)]
struct RawEvent {
    event: String,
    email: String,
    timestamp: i64,
    sg_event_id: String,
    sg_message_id: Option<String>,
    rekindle_message_id: Option<String>,
    reason: Option<String>,
    status: Option<String>,
    response: Option<String>,
    url: Option<String>,
    #[serde(rename = "type")]
    bounce_type: Option<String>,
    bounce_classification: Option<String>,
    asm_group_id: Option<i64>,
}

fn parse_event(raw: &RawValue) -> Result<SendgridEvent, String> {
    let fields: RawEvent = serde_json::from_str(raw.get()).map_err(|error| error.to_string())?;

    let rekindle_message_id = match fields.rekindle_message_id.as_deref() {
        None => None,
        Some(text) => Some(
            text.parse::<MessageId>()
                .map_err(|_| format!("{MESSAGE_ID_ARGUMENT} is not a UUID"))?,
        ),
    };

    Ok(SendgridEvent {
        kind: event_kind(
            &fields.event,
            fields.bounce_type,
            fields.bounce_classification,
        ),
        email: fields.email,
        timestamp: fields.timestamp,
        sg_event_id: fields.sg_event_id,
        sg_message_id: fields.sg_message_id,
        rekindle_message_id,
        reason: fields.reason,
        status: fields.status,
        response: fields.response,
        url: fields.url,
        asm_group_id: fields.asm_group_id,
    })
}

fn event_kind(
    name: &str,
    bounce_type: Option<String>,
    classification: Option<String>,
) -> SendgridEventKind {
    match name {
        "processed" => SendgridEventKind::Processed,
        "delivered" => SendgridEventKind::Delivered,
        "deferred" => SendgridEventKind::Deferred,
        "open" => SendgridEventKind::Open,
        "click" => SendgridEventKind::Click,
        "bounce" => SendgridEventKind::Bounce {
            bounce_type: bounce_type.map(parse_bounce_type),
            classification,
        },
        "dropped" => SendgridEventKind::Dropped,
        "spamreport" => SendgridEventKind::SpamReport,
        "unsubscribe" => SendgridEventKind::Unsubscribe,
        "group_unsubscribe" => SendgridEventKind::GroupUnsubscribe,
        other => SendgridEventKind::Other(other.to_owned()),
    }
}

fn parse_bounce_type(value: String) -> BounceType {
    match value.as_str() {
        "bounce" => BounceType::Bounce,
        "blocked" => BounceType::Blocked,
        _ => BounceType::Other(value),
    }
}
