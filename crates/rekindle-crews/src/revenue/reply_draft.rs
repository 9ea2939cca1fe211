//! The response to a positive reply: a draft that proposes meeting times in
//! the lead's local time, and the meeting record to store with status
//! `proposed`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::{Channel, LeadId, MeetingStatus, ReplyId, ReplyLabel, Tone};
use serde::{Deserialize, Serialize};

use super::RevenueError;
use super::slots::{ProposedSlot, SlotRequest, propose_slots};
use crate::lead_text::SafeLead;
use crate::sender::SenderIdentity;
use crate::text::{char_count, clean_text};
use crate::writer::{Draft, TEXT_BODY_MAX_CHARS};

/// Maximum characters of the sender's name and company in a draft.
const MAX_SENDER_CHARS: usize = 60;
/// Maximum characters of the subject the lead used, before "Re: ".
const MAX_SUBJECT_CHARS: usize = 120;
/// Subject of an email reply when the lead's reply had none.
const DEFAULT_SUBJECT: &str = "A few times for a short call";

/// Returns whether a reply label starts meeting booking.
pub fn is_positive(label: ReplyLabel) -> bool {
    matches!(label, ReplyLabel::Interested | ReplyLabel::MeetingRequest)
}

/// Everything the response to one positive reply needs.
#[derive(Debug, Clone)]
pub struct MeetingReplyInput {
    pub lead_id: LeadId,
    pub reply_id: ReplyId,
    pub reply_label: ReplyLabel,
    /// Channel of the lead's reply, which the response uses too.
    pub channel: Channel,
    pub lead: LeadFields,
    pub sender: SenderIdentity,
    pub tone: Tone,
    /// Subject of the lead's email, for "Re: ...". Untrusted.
    pub reply_subject: Option<String>,
    pub slots: SlotRequest,
}

/// The meeting to store until the lead picks a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedMeeting {
    pub lead_id: LeadId,
    pub reply_id: ReplyId,
    /// Always `proposed` here.
    pub status: MeetingStatus,
    pub duration_minutes: u32,
    pub proposed_slots: Vec<ProposedSlot>,
    /// Unset until the lead confirms one of the slots.
    pub starts_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The draft and the meeting record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingReply {
    pub draft: Draft,
    pub meeting: ProposedMeeting,
}

/// Proposes slots and writes the response to a positive reply.
pub fn draft_meeting_reply(input: &MeetingReplyInput) -> Result<MeetingReply, RevenueError> {
    if !is_positive(input.reply_label) {
        return Err(RevenueError::NotPositive(input.reply_label));
    }
    let sender_name = clean_text(&input.sender.name, MAX_SENDER_CHARS);
    if sender_name.is_empty() {
        return Err(RevenueError::MissingSenderName);
    }
    let slots = propose_slots(&input.slots)?;

    let zone = input.slots.lead_zone();
    let letter = Letter {
        name: SafeLead::from_fields(&input.lead).first_name,
        sender_name,
        sender_company: Some(clean_text(&input.sender.company, MAX_SENDER_CHARS))
            .filter(|company| !company.is_empty()),
        label: input.reply_label,
        tone: input.tone,
        minutes: input.slots.settings.duration.num_minutes(),
    };
    let draft = match input.channel {
        Channel::Email => Draft {
            channel: Channel::Email,
            subject: Some(reply_subject(input.reply_subject.as_deref())),
            body: letter.email_body(&slots, zone),
        },
        Channel::Sms | Channel::Whatsapp => Draft {
            channel: input.channel,
            subject: None,
            body: letter.text_body(&slots, zone)?,
        },
    };

    let meeting = ProposedMeeting {
        lead_id: input.lead_id,
        reply_id: input.reply_id,
        status: MeetingStatus::Proposed,
        duration_minutes: u32::try_from(letter.minutes).unwrap_or(0),
        proposed_slots: slots,
        starts_at: None,
        created_at: input.slots.now,
    };
    Ok(MeetingReply { draft, meeting })
}

/// Returns "Re: " and the lead's subject, without doubling an existing "Re:".
fn reply_subject(subject: Option<&str>) -> String {
    let subject = subject
        .map(|text| clean_text(text, MAX_SUBJECT_CHARS))
        .filter(|text| !text.is_empty());
    match subject {
        Some(text) if text.to_lowercase().starts_with("re:") => text,
        Some(text) => format!("Re: {text}"),
        None => DEFAULT_SUBJECT.to_owned(),
    }
}

/// The cleaned facts of one response.
struct Letter {
    name: Option<String>,
    sender_name: String,
    sender_company: Option<String>,
    label: ReplyLabel,
    tone: Tone,
    minutes: i64,
}

impl Letter {
    fn email_body(&self, slots: &[ProposedSlot], zone: Tz) -> String {
        let times: Vec<String> = slots
            .iter()
            .map(|slot| format!("- {}", long_time(slot, zone)))
            .collect();
        let thanks = match self.label {
            ReplyLabel::MeetingRequest => {
                "Thank you for getting back to me, and I am glad a call makes sense."
            }
            _ => "Thank you for your reply, and I am glad to hear this is of interest.",
        };
        let ask = format!(
            "Would one of these times work for a {}-minute call?",
            self.minutes
        );
        let note = format!(
            "All times are in the {} time zone. If none of them suits you, reply with a time \
             that does, and I will make it work.",
            zone.name()
        );

        [
            self.greeting(),
            format!("{thanks} {ask}"),
            times.join("\n"),
            note,
            self.signature(),
        ]
        .join("\n\n")
    }

    /// Writes the text message, dropping the company from the sign-off when
    /// the message is too long with it.
    fn text_body(&self, slots: &[ProposedSlot], zone: Tz) -> Result<String, RevenueError> {
        let times: Vec<String> = slots.iter().map(|slot| short_time(slot, zone)).collect();
        let greeting = match &self.name {
            Some(name) => format!("Hi {name},"),
            None => "Hi,".to_owned(),
        };
        let start = format!(
            "{greeting} thanks for getting back to me. Would one of these suit you for a \
             {}-minute call: {}? Just reply with the one you prefer.",
            self.minutes,
            join_choices(&times)
        );

        let with_company = self
            .sender_company
            .as_ref()
            .map(|company| format!("{start} {}, {company}", self.sender_name));
        let candidates = with_company
            .into_iter()
            .chain([format!("{start} {}", self.sender_name)]);
        for body in candidates {
            if char_count(&body) <= TEXT_BODY_MAX_CHARS {
                return Ok(body);
            }
        }
        Err(RevenueError::TextTooLong {
            max_chars: TEXT_BODY_MAX_CHARS,
        })
    }

    fn greeting(&self) -> String {
        match (self.tone, &self.name) {
            (Tone::Professional, Some(name)) => format!("Dear {name},"),
            (Tone::Direct, Some(name)) => format!("{name},"),
            (Tone::Friendly, Some(name)) => format!("Hi {name},"),
            (Tone::Friendly, None) => "Hi there,".to_owned(),
            (_, None) => "Hello,".to_owned(),
        }
    }

    fn signature(&self) -> String {
        let closing = match self.tone {
            Tone::Friendly => "Best,",
            Tone::Professional => "Kind regards,",
            Tone::Direct => "Thanks,",
        };
        match &self.sender_company {
            Some(company) => format!("{closing}\n{}\n{company}", self.sender_name),
            None => format!("{closing}\n{}", self.sender_name),
        }
    }
}

/// Formats a start as "Tuesday 10 March at 08:00 EDT" on the lead's clock.
fn long_time(slot: &ProposedSlot, zone: Tz) -> String {
    slot.starts_at
        .with_timezone(&zone)
        .format("%A %-d %B at %H:%M %Z")
        .to_string()
}

/// Formats a start as "Tue 10 Mar 08:00 EDT" on the lead's clock.
fn short_time(slot: &ProposedSlot, zone: Tz) -> String {
    slot.starts_at
        .with_timezone(&zone)
        .format("%a %-d %b %H:%M %Z")
        .to_string()
}

/// Joins "a", "b" and "c" as "a, b or c".
fn join_choices(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
