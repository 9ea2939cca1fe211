//! Typed Twilio form bodies: message status callbacks and inbound messages.

use rekindle_domain::Channel;

use super::status::TwilioMessageStatus;
use crate::error::ParseError;

/// Prefix Twilio puts before WhatsApp addresses (`whatsapp:+14155550100`).
const WHATSAPP_PREFIX: &str = "whatsapp:";

/// Decodes an `application/x-www-form-urlencoded` body into name and value pairs,
/// in body order, repeated names included. Pass the result to
/// [`verify_request`](super::verify_request) and to the parsers below.
pub fn parse_form(raw_body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw_body).into_owned().collect()
}

/// Channel a Twilio message travelled on, read from the address prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TwilioChannel {
    Sms,
    WhatsApp,
}

impl From<TwilioChannel> for Channel {
    fn from(channel: TwilioChannel) -> Self {
        match channel {
            TwilioChannel::Sms => Channel::Sms,
            TwilioChannel::WhatsApp => Channel::Whatsapp,
        }
    }
}

/// A message status callback (the `StatusCallback` URL of a sent message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub message_sid: String,
    pub account_sid: String,
    pub message_status: TwilioMessageStatus,
    /// Twilio error code of a failed or undelivered message, such as 30003.
    pub error_code: Option<u32>,
    /// Recipient address without the `whatsapp:` prefix.
    pub to: String,
    /// Sender address without the `whatsapp:` prefix.
    pub from: String,
    pub channel: TwilioChannel,
}

/// An inbound message (the messaging webhook of a phone number or sender).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub message_sid: String,
    pub account_sid: String,
    /// Sender address without the `whatsapp:` prefix.
    pub from: String,
    /// Our number without the `whatsapp:` prefix.
    pub to: String,
    /// Message text, empty for a message with media only.
    pub body: String,
    /// Number of SMS segments, absent when Twilio does not send it.
    pub num_segments: Option<u32>,
    pub channel: TwilioChannel,
}

/// Parses a status callback. `MessageStatus` is read, or the older `SmsStatus`
/// when it is absent.
pub fn parse_status_callback(params: &[(String, String)]) -> Result<StatusCallback, ParseError> {
    let status = match single(params, "MessageStatus")? {
        Some(status) => status,
        None => required(params, "SmsStatus")?,
    };
    let (from, channel) = split_channel(required(params, "From")?);
    let (to, _) = split_channel(required(params, "To")?);

    Ok(StatusCallback {
        message_sid: required(params, "MessageSid")?.to_owned(),
        account_sid: required(params, "AccountSid")?.to_owned(),
        message_status: TwilioMessageStatus::parse(status),
        error_code: optional_number(params, "ErrorCode")?,
        to: to.to_owned(),
        from: from.to_owned(),
        channel,
    })
}

/// Parses an inbound message. The channel comes from the `whatsapp:` prefix of
/// `From`, and the prefix is removed from both addresses.
pub fn parse_inbound_message(params: &[(String, String)]) -> Result<InboundMessage, ParseError> {
    let (from, channel) = split_channel(required(params, "From")?);
    let (to, _) = split_channel(required(params, "To")?);

    Ok(InboundMessage {
        message_sid: required(params, "MessageSid")?.to_owned(),
        account_sid: required(params, "AccountSid")?.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        body: required(params, "Body")?.to_owned(),
        num_segments: optional_number(params, "NumSegments")?,
        channel,
    })
}

fn split_channel(address: &str) -> (&str, TwilioChannel) {
    match address.strip_prefix(WHATSAPP_PREFIX) {
        Some(number) => (number, TwilioChannel::WhatsApp),
        None => (address, TwilioChannel::Sms),
    }
}

/// Returns the value of a parameter, or `DuplicateField` when it appears more
/// than once.
fn single<'a>(
    params: &'a [(String, String)],
    name: &'static str,
) -> Result<Option<&'a str>, ParseError> {
    let mut values = params
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(ParseError::DuplicateField {
            field: name.to_owned(),
        });
    }
    Ok(first)
}

fn required<'a>(params: &'a [(String, String)], name: &'static str) -> Result<&'a str, ParseError> {
    single(params, name)?.ok_or(ParseError::MissingField { field: name })
}

/// Parses an optional unsigned number. An empty value counts as absent.
fn optional_number(
    params: &[(String, String)],
    name: &'static str,
) -> Result<Option<u32>, ParseError> {
    match single(params, name)? {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ParseError::InvalidField {
                field: name.to_owned(),
                reason: format!("{text:?} is not an unsigned number"),
            }),
    }
}
