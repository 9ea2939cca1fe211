//! An outbound SMS and its validation.

use std::fmt;

use rekindle_domain::{AccountId, LeadId, MessageId, Phone};

use crate::ChannelError;

/// Maximum SMS body length in characters: two concatenated GSM-7 segments of
/// 160 characters, the product's limit for one message.
pub const MAX_SMS_CHARS: usize = 320;

/// One SMS to one lead. Both numbers are E.164, which `Phone` guarantees.
///
/// `Debug` shows ids and the body length only, so that logging a message never
/// logs its text or the numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundSms {
    pub account_id: AccountId,
    pub lead_id: LeadId,
    /// Our id of the message. Transports use it as the idempotency key.
    pub message_id: MessageId,
    pub from: Phone,
    pub to: Phone,
    pub body: String,
}

impl OutboundSms {
    /// Checks the body: not empty, at most `MAX_SMS_CHARS` characters, and no
    /// control characters other than line breaks.
    pub fn validate(&self) -> Result<(), ChannelError> {
        if self.body.trim().is_empty() {
            return Err(ChannelError::invalid_input("body is empty"));
        }

        let length = self.body.chars().count();
        if length > MAX_SMS_CHARS {
            return Err(ChannelError::invalid_input(format!(
                "body is {length} characters, over the maximum of {MAX_SMS_CHARS}"
            )));
        }

        let has_control = self
            .body
            .chars()
            .any(|character| character.is_control() && character != '\n' && character != '\r');
        if has_control {
            return Err(ChannelError::invalid_input(
                "body contains a control character other than a line break",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for OutboundSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundSms")
            .field("account_id", &self.account_id)
            .field("lead_id", &self.lead_id)
            .field("message_id", &self.message_id)
            .field("body_chars", &self.body.chars().count())
            .finish_non_exhaustive()
    }
}
