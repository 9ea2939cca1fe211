//! The compliance gate: whether a message may be sent to this contact on this
//! channel at this time, and the footer or opt-out text every message carries.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use rekindle_domain::{Channel, ConsentBasis, Email, ErrorClass, LeadId, Phone};
use serde::{Deserialize, Serialize};

use crate::sender::SenderIdentity;
use crate::stage::{Stage, StageError};
use crate::text::{char_count, clean_text};
use crate::writer::{Draft, TEXT_MESSAGE_MAX_CHARS};

/// Opt-out text appended to every SMS and WhatsApp message.
pub const TEXT_OPT_OUT: &str = "Reply STOP to opt out.";
/// Text messages may be sent from this local hour (08:00).
pub const QUIET_HOURS_END_HOUR: u32 = 8;
/// Text messages may not be sent from this local hour (21:00) until the end of
/// quiet hours, the calling window of the US TCPA rules (47 CFR 64.1200(c)(1)).
pub const QUIET_HOURS_START_HOUR: u32 = 21;

/// Maximum characters of the postal address in a footer.
const MAX_POSTAL_ADDRESS_CHARS: usize = 300;
const MAX_SENDER_CHARS: usize = 60;

/// Everything the gate needs to decide about one message.
#[derive(Debug, Clone)]
pub struct ComplianceInput {
    pub lead_id: LeadId,
    pub draft: Draft,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// The contact is on a global or account suppression list.
    pub suppressed: bool,
    /// Recorded lawful basis for contacting the lead, if any.
    pub consent: Option<ConsentBasis>,
    /// The lead is contacted in a business capacity (it has a company), which
    /// allows email on legitimate interest.
    pub business_contact: bool,
    /// The lead's notes record a request not to be contacted.
    pub opt_out_noted: bool,
    /// Signed, per-recipient unsubscribe link for the email footer.
    pub unsubscribe_url: String,
    pub sender: SenderIdentity,
    /// Planned send time.
    pub send_at: DateTime<Utc>,
    /// The lead's time zone, for quiet hours.
    pub lead_zone: Tz,
}

/// A message that passed the gate, with its footer kept apart from the body so
/// that later checks can count the body's words alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompliantMessage {
    pub channel: Channel,
    pub subject: Option<String>,
    pub body: String,
    /// Unsubscribe link, postal address and sender for email; opt-out text for
    /// SMS and WhatsApp.
    pub footer: String,
}

impl CompliantMessage {
    /// Returns the text as sent: the body followed by the footer.
    pub fn full_text(&self) -> String {
        match self.channel {
            Channel::Email => format!("{}\n\n{}", self.body, self.footer),
            Channel::Sms | Channel::Whatsapp => format!("{} {}", self.body, self.footer),
        }
    }
}

/// A reason a message may not be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ComplianceViolation {
    Suppressed,
    ConsentWithdrawn,
    NoLawfulBasis {
        channel: Channel,
        consent: Option<ConsentBasis>,
    },
    OptOutNoted,
    QuietHours {
        local_time: String,
        time_zone: String,
    },
    MissingRecipient {
        channel: Channel,
    },
    MissingSubject,
    InvalidUnsubscribeUrl {
        reason: String,
    },
    MissingPostalAddress,
    MissingSenderIdentity,
    TextTooLong {
        chars: usize,
    },
}

impl ComplianceViolation {
    /// Policy blocks are permanent for this contact; missing or invalid data is
    /// invalid input that the account can fix.
    pub fn class(&self) -> ErrorClass {
        match self {
            ComplianceViolation::Suppressed
            | ComplianceViolation::ConsentWithdrawn
            | ComplianceViolation::NoLawfulBasis { .. }
            | ComplianceViolation::OptOutNoted
            | ComplianceViolation::QuietHours { .. } => ErrorClass::Permanent,
            _ => ErrorClass::InvalidInput,
        }
    }
}

impl fmt::Display for ComplianceViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Suppressed => write!(f, "contact is suppressed"),
            Self::ConsentWithdrawn => write!(f, "consent was withdrawn"),
            Self::NoLawfulBasis { channel, consent } => {
                let basis = consent.map_or("none recorded", |basis| basis.as_str());
                let rule = match channel {
                    Channel::Email => {
                        "email on legitimate interest needs a business contact; record consent \
                         with POST /api/v1/leads/{id}/consent"
                    }
                    Channel::Sms | Channel::Whatsapp => {
                        "text messages need consent or a contract; record it with \
                         POST /api/v1/leads/{id}/consent"
                    }
                };
                write!(f, "no lawful basis for {channel} (basis: {basis}): {rule}")
            }
            Self::OptOutNoted => write!(
                f,
                "lead notes record a request not to be contacted: suppress the contact"
            ),
            Self::QuietHours {
                local_time,
                time_zone,
            } => write!(
                f,
                "send time {local_time} {time_zone} is in quiet hours for text messages \
                 (before {QUIET_HOURS_END_HOUR:02}:00 or from {QUIET_HOURS_START_HOUR:02}:00 local time)"
            ),
            Self::MissingRecipient { channel } => write!(f, "lead has no contact for {channel}"),
            Self::MissingSubject => write!(f, "email has no subject"),
            Self::InvalidUnsubscribeUrl { reason } => {
                write!(f, "invalid unsubscribe URL: {reason}")
            }
            Self::MissingPostalAddress => {
                write!(
                    f,
                    "postal address is missing: set it in the account before sending email"
                )
            }
            Self::MissingSenderIdentity => {
                write!(
                    f,
                    "sender identity is missing: set the sender name or company in the account"
                )
            }
            Self::TextTooLong { chars } => write!(
                f,
                "text message is {chars} characters with the opt-out text, over the limit of {TEXT_MESSAGE_MAX_CHARS}"
            ),
        }
    }
}

/// Checks a message and adds its footer. Returns every violation found.
pub fn check_compliance(
    input: &ComplianceInput,
) -> Result<CompliantMessage, Vec<ComplianceViolation>> {
    let channel = input.draft.channel;
    let mut violations = contact_violations(input);
    let sender = SenderParts::from_identity(&input.sender);
    if sender.display().is_none() {
        violations.push(ComplianceViolation::MissingSenderIdentity);
    }

    let message = match channel {
        Channel::Email => email_message(input, &sender, &mut violations),
        Channel::Sms | Channel::Whatsapp => text_message(input, &sender, &mut violations),
    };
    if violations.is_empty() {
        Ok(message)
    } else {
        Err(violations)
    }
}

/// Checks the lawful basis for contacting a lead on `channel`. Consent or a
/// contract allow every channel. Legitimate interest, or no record, allows
/// email to a business contact only. Withdrawn consent allows nothing.
pub fn has_lawful_basis(
    channel: Channel,
    consent: Option<ConsentBasis>,
    business_contact: bool,
) -> bool {
    match consent {
        Some(ConsentBasis::Withdrawn) => false,
        Some(ConsentBasis::Consent | ConsentBasis::Contract) => true,
        None | Some(ConsentBasis::LegitimateInterest) => {
            channel == Channel::Email && business_contact
        }
    }
}

/// Suppression, consent, opt-out notes and the recipient address.
fn contact_violations(input: &ComplianceInput) -> Vec<ComplianceViolation> {
    let channel = input.draft.channel;
    let mut violations = Vec::new();
    if input.suppressed {
        violations.push(ComplianceViolation::Suppressed);
    }
    if input.opt_out_noted {
        violations.push(ComplianceViolation::OptOutNoted);
    }

    if input.consent == Some(ConsentBasis::Withdrawn) {
        violations.push(ComplianceViolation::ConsentWithdrawn);
    } else if !has_lawful_basis(channel, input.consent, input.business_contact) {
        violations.push(ComplianceViolation::NoLawfulBasis {
            channel,
            consent: input.consent,
        });
    }

    let has_recipient = match channel {
        Channel::Email => input.email.is_some(),
        Channel::Sms | Channel::Whatsapp => input.phone.is_some(),
    };
    if !has_recipient {
        violations.push(ComplianceViolation::MissingRecipient { channel });
    }
    violations
}

/// Cleaned sender name and company.
struct SenderParts {
    name: String,
    company: String,
}

impl SenderParts {
    fn from_identity(identity: &SenderIdentity) -> Self {
        Self {
            name: clean_text(&identity.name, MAX_SENDER_CHARS),
            company: clean_text(&identity.company, MAX_SENDER_CHARS),
        }
    }

    /// "Name, Company", or whichever part is set.
    fn display(&self) -> Option<String> {
        match (self.name.is_empty(), self.company.is_empty()) {
            (false, false) if self.name.eq_ignore_ascii_case(&self.company) => {
                Some(self.name.clone())
            }
            (false, false) => Some(format!("{}, {}", self.name, self.company)),
            (false, true) => Some(self.name.clone()),
            (true, false) => Some(self.company.clone()),
            (true, true) => None,
        }
    }
}

fn email_message(
    input: &ComplianceInput,
    sender: &SenderParts,
    violations: &mut Vec<ComplianceViolation>,
) -> CompliantMessage {
    let subject = input
        .draft
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|subject| !subject.is_empty());
    if subject.is_none() {
        violations.push(ComplianceViolation::MissingSubject);
    }
    let unsubscribe_url = match parse_unsubscribe_url(&input.unsubscribe_url) {
        Ok(url) => url.to_string(),
        Err(reason) => {
            violations.push(ComplianceViolation::InvalidUnsubscribeUrl { reason });
            String::new()
        }
    };
    let postal_address = postal_address_line(&input.sender.postal_address);
    if postal_address.is_empty() {
        violations.push(ComplianceViolation::MissingPostalAddress);
    }

    let from = sender.display().unwrap_or_default();
    let footer = format!(
        "--\nSent by {from}\n{postal_address}\nTo stop receiving these emails, unsubscribe here: {unsubscribe_url}"
    );
    CompliantMessage {
        channel: Channel::Email,
        subject: subject.map(str::to_owned),
        body: input.draft.body.trim().to_owned(),
        footer,
    }
}

/// Puts the postal address on one line, its lines joined by commas.
fn postal_address_line(raw: &str) -> String {
    let lines: Vec<String> = raw
        .lines()
        .map(|line| clean_text(line, MAX_POSTAL_ADDRESS_CHARS))
        .filter(|line| !line.is_empty())
        .collect();
    clean_text(&lines.join(", "), MAX_POSTAL_ADDRESS_CHARS)
}

/// Parses the unsubscribe link: only an absolute http or https URL with a host
/// can be opened from a mail client. The footer uses the parsed form, in which
/// the `url` crate has percent-encoded any space.
pub fn parse_unsubscribe_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|error| format!("{error} in {raw:?}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the link has no host".into());
    }
    Ok(url)
}

fn text_message(
    input: &ComplianceInput,
    sender: &SenderParts,
    violations: &mut Vec<ComplianceViolation>,
) -> CompliantMessage {
    let local = input.send_at.with_timezone(&input.lead_zone);
    if local.hour() < QUIET_HOURS_END_HOUR || local.hour() >= QUIET_HOURS_START_HOUR {
        violations.push(ComplianceViolation::QuietHours {
            local_time: local.format("%Y-%m-%d %H:%M").to_string(),
            time_zone: input.lead_zone.name().to_owned(),
        });
    }

    let body = identified_text_body(input.draft.body.trim(), sender);
    let message = CompliantMessage {
        channel: input.draft.channel,
        subject: None,
        body,
        footer: TEXT_OPT_OUT.to_owned(),
    };
    let chars = char_count(&message.full_text());
    if chars > TEXT_MESSAGE_MAX_CHARS {
        violations.push(ComplianceViolation::TextTooLong { chars });
    }
    message
}

/// A text message has no signature line, so it must name the sender itself.
/// When the body names neither the sender nor the company, the company (or
/// name) is put in front, as in "Acme: ...".
fn identified_text_body(body: &str, sender: &SenderParts) -> String {
    let named = [&sender.name, &sender.company]
        .iter()
        .any(|part| !part.is_empty() && body.contains(part.as_str()));
    if named {
        return body.to_owned();
    }
    let label = if sender.company.is_empty() {
        &sender.name
    } else {
        &sender.company
    };
    if label.is_empty() {
        body.to_owned()
    } else {
        format!("{label}: {body}")
    }
}

/// Rule-based compliance gate stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComplianceGate;

#[async_trait]
impl Stage for ComplianceGate {
    type Input = ComplianceInput;
    type Output = CompliantMessage;

    fn name(&self) -> &'static str {
        "compliance"
    }

    fn input_summary(&self, input: &ComplianceInput) -> String {
        format!(
            "lead {}: {}, consent {}, suppressed {}, business {}, zone {}",
            input.lead_id,
            input.draft.channel,
            input.consent.map_or("none", |basis| basis.as_str()),
            input.suppressed,
            input.business_contact,
            input.lead_zone.name(),
        )
    }

    async fn run(&self, input: ComplianceInput) -> Result<CompliantMessage, StageError> {
        check_compliance(&input).map_err(|violations| violation_error(&violations))
    }
}

/// Builds one stage error for all violations: permanent when any violation is
/// a policy block, otherwise invalid input.
pub fn violation_error(violations: &[ComplianceViolation]) -> StageError {
    let class = if violations
        .iter()
        .any(|violation| violation.class() == ErrorClass::Permanent)
    {
        ErrorClass::Permanent
    } else {
        ErrorClass::InvalidInput
    };
    let message = violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    StageError::new(class, message)
}
