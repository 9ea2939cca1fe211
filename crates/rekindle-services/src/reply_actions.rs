//! Actions a classified reply sets off beyond the lead's and enrollment's state:
//! alerts that tell the user to act, the contact a referral names, and the
//! confirmation a text-message opt-out gets. Each runs in the reply's
//! transaction, so a reply is never stored without them.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use rekindle_channels::OutboundSms;
use rekindle_crews::SenderIdentity;
use rekindle_crews::revenue::{
    MeetingReplyInput, SlotRequest, SlotSettings, WorkingHours, draft_meeting_reply,
};
use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::lead::LeadFields;
use rekindle_domain::replies::Classification;
use rekindle_domain::*;
use rekindle_store::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{App, ServiceError};

/// Job that sends the one confirmation a text-message opt-out gets.
pub const CONFIRM_OPT_OUT_JOB: &str = "confirm_opt_out";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfirmOptOutPayload {
    pub lead_id: LeadId,
    pub channel: Channel,
    /// The number that opted out, E.164.
    pub to: String,
}

/// Raises the alert a label calls for, stores a referral's new contact, and
/// queues the opt-out confirmation for text messages.
pub(crate) async fn act_on_label(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    reply: &StoredReply<'_>,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let lead_name = lead_label(&lead.fields);
    let channel = reply.channel;
    match reply.classification.label {
        ReplyLabel::MeetingRequest | ReplyLabel::Interested => {
            let meeting = propose_meeting(tx, lead, reply, now).await?;
            let wants = if reply.classification.label == ReplyLabel::MeetingRequest {
                "asked for a meeting"
            } else {
                "is interested"
            };
            let message = match meeting {
                Some(id) => format!(
                    "{lead_name} {wants}: a reply proposing times is drafted in meeting {id} (lead {})",
                    lead.id
                ),
                None => format!("{lead_name} {wants}: reply with times (lead {})", lead.id),
            };
            tx.insert_alert(AlertSeverity::Info, "positive_reply", &message, now)
                .await?;
        }
        ReplyLabel::Question => {
            let message = format!("{lead_name} asked a question: answer it (lead {})", lead.id);
            tx.insert_alert(AlertSeverity::Info, "reply_question", &message, now)
                .await?;
        }
        ReplyLabel::Referral => store_referral(tx, lead, &lead_name, text, now).await?,
        ReplyLabel::OptOut if channel != Channel::Email => {
            queue_opt_out_confirmation(tx, lead, channel, now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The reply just stored, as the actions need it.
pub(crate) struct StoredReply<'a> {
    pub id: ReplyId,
    pub channel: Channel,
    pub subject: Option<&'a str>,
    pub classification: &'a Classification,
}

/// Working days of the account's users, until each user sets their own.
const WORKING_DAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];
/// Working hours in the account's zone, 09:00 to 17:00.
const WORKING_START_HOUR: u32 = 9;
const WORKING_END_HOUR: u32 = 17;

/// Drafts the reply to a positive reply with times from the working hours and
/// stores it as a proposed meeting. Returns the meeting's id, or `None` when
/// no draft could be written (no free time in the horizon, no sender name),
/// which the alert then leaves to the user.
async fn propose_meeting(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    reply: &StoredReply<'_>,
    now: DateTime<Utc>,
) -> Result<Option<MeetingId>, ServiceError> {
    let account = tx.account().await?;
    let zone = parse_time_zone(&account.time_zone).unwrap_or(chrono_tz::UTC);
    let working_hours = WorkingHours {
        time_zone: zone,
        weekdays: WORKING_DAYS.to_vec(),
        start: NaiveTime::from_hms_opt(WORKING_START_HOUR, 0, 0).unwrap_or_default(),
        end: NaiveTime::from_hms_opt(WORKING_END_HOUR, 0, 0).unwrap_or_default(),
    };
    let input = MeetingReplyInput {
        lead_id: lead.id,
        reply_id: reply.id,
        reply_label: reply.classification.label,
        channel: reply.channel,
        lead: lead.fields.clone(),
        sender: SenderIdentity {
            name: account.sender_name.clone(),
            company: account.name.clone(),
            postal_address: account.postal_address.clone(),
        },
        tone: Tone::Friendly,
        reply_subject: reply.subject.map(str::to_owned),
        slots: SlotRequest {
            working_hours,
            busy: Vec::new(),
            lead_time_zone: lead.fields.time_zone.clone(),
            now,
            settings: SlotSettings::default(),
        },
    };
    let drafted = match draft_meeting_reply(&input) {
        Ok(drafted) => drafted,
        Err(error) => {
            tracing::warn!(lead_id = %lead.id, reply_id = %reply.id, %error, "no meeting reply drafted");
            return Ok(None);
        }
    };

    let id = MeetingId::new();
    let meeting = &drafted.meeting;
    tx.insert_meeting(
        &NewMeeting {
            id,
            lead_id: lead.id,
            reply_id: Some(reply.id),
            status: meeting.status,
            duration_minutes: i32::try_from(meeting.duration_minutes).unwrap_or(30),
            proposed_slots: serde_json::to_value(&meeting.proposed_slots).unwrap_or_default(),
            draft_subject: drafted.draft.subject.clone(),
            draft_body: Some(drafted.draft.body.clone()),
        },
        now,
    )
    .await?;
    Ok(Some(id))
}

/// Returns a short name for the lead in alerts: the name, else the company,
/// else the address.
fn lead_label(fields: &LeadFields) -> String {
    let name = [fields.first_name.as_deref(), fields.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !name.is_empty() {
        return name;
    }
    fields
        .company
        .clone()
        .or_else(|| fields.email.as_ref().map(|email| email.as_str().to_owned()))
        .unwrap_or_else(|| "A lead".to_owned())
}

/// Stores the contact a referral names as a new lead of the same company and
/// raises an alert. A referral without an address still raises the alert, so
/// the user can find the person named.
async fn store_referral(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    lead_name: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let referred = referred_email(text, lead.fields.email.as_ref());
    let Some(email) = referred else {
        let message = format!(
            "{lead_name} referred you to someone else without an address: read the reply (lead {})",
            lead.id
        );
        tx.insert_alert(AlertSeverity::Info, "referral", &message, now)
            .await?;
        return Ok(());
    };

    let existing = tx
        .find_leads_by_emails(&[email.as_str().to_owned()])
        .await?;
    let referred_id = match existing.first() {
        Some(found) => found.id,
        None => insert_referred_lead(tx, lead, lead_name, email.clone(), now).await?,
    };
    let message = format!(
        "{lead_name} referred you to {}: new contact stored as lead {referred_id} (from lead {})",
        email.as_str(),
        lead.id
    );
    tx.insert_alert(AlertSeverity::Info, "referral", &message, now)
        .await?;
    Ok(())
}

async fn insert_referred_lead(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    lead_name: &str,
    email: Email,
    now: DateTime<Utc>,
) -> Result<LeadId, ServiceError> {
    let id = LeadId::new();
    let fields = LeadFields {
        email: Some(email),
        company: lead.fields.company.clone(),
        industry: lead.fields.industry.clone(),
        country: lead.fields.country.clone(),
        time_zone: lead.fields.time_zone.clone(),
        notes: Some(format!("Referred by {lead_name} in a reply.")),
        ..LeadFields::default()
    };
    tx.insert_leads(
        &[NewLead {
            id,
            fields,
            import_id: None,
            import_ref: None,
        }],
        now,
    )
    .await?;
    tx.append_audit(
        &AuditRecord::new(
            Actor::system("replies"),
            "lead.create",
            "lead",
            Some(id.to_string()),
        )
        .with_changes(json!({ "source": "referral", "referred_by": lead.id })),
        now,
    )
    .await?;
    Ok(id)
}

/// Finds the first email address in the reply's own text that is not the
/// sender's.
fn referred_email(text: &str, sender: Option<&Email>) -> Option<Email> {
    let own_text = rekindle_domain::replies::strip_quoted(text);
    own_text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')'))
        .map(|word| word.trim_matches(|c: char| matches!(c, '.' | ':' | '"' | '\'')))
        .filter(|word| word.contains('@'))
        .filter_map(|word| Email::parse(word).ok())
        .find(|email| Some(email) != sender)
}

async fn queue_opt_out_confirmation(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(phone) = &lead.fields.phone else {
        return Ok(());
    };
    let payload = ConfirmOptOutPayload {
        lead_id: lead.id,
        channel,
        to: phone.as_str().to_owned(),
    };
    let mut job = NewJob::now(CONFIRM_OPT_OUT_JOB, json!(payload));
    job.max_attempts = 3;
    tx.enqueue_job(&job, now).await?;
    Ok(())
}

/// Sends the opt-out confirmation. It goes to a number that is already
/// suppressed, which is the one message the suppression allows: carriers
/// expect a single confirmation of a STOP.
pub async fn confirm_opt_out(
    app: &App,
    account_id: AccountId,
    payload: ConfirmOptOutPayload,
) -> Result<(), ServiceError> {
    let mut tx = app.store.begin(account_id).await?;
    let account = tx.account().await?;
    tx.commit().await?;

    let invalid = |what: String| ServiceError::Classified {
        class: ErrorClass::InvalidInput,
        message: what,
    };
    let to = Phone::parse(&payload.to, None)
        .map_err(|_| invalid(format!("invalid opt-out number {:?}", payload.to)))?;
    let configured = match payload.channel {
        Channel::Whatsapp => app.settings.default_whatsapp_from.clone(),
        Channel::Sms | Channel::Email => app.settings.default_sms_from.clone(),
    };
    let from = match configured {
        Some(from) => from,
        None => Phone::parse(crate::delivery::OUTBOX_SMS_FROM, None)
            .map_err(|_| invalid("invalid outbox sender number".into()))?,
    };
    let sms = OutboundSms {
        account_id,
        lead_id: payload.lead_id,
        message_id: MessageId::new(),
        from,
        to,
        body: format!(
            "{}: you are unsubscribed and will get no more messages from us.",
            account.name
        ),
    };
    let transport = match payload.channel {
        Channel::Whatsapp => &app.whatsapp,
        Channel::Sms | Channel::Email => &app.sms,
    };
    transport
        .send_sms(&sms)
        .await
        .map_err(|error| ServiceError::Classified {
            class: error.class(),
            message: error.message().to_owned(),
        })?;
    tracing::info!(account_id = %account_id, lead_id = %payload.lead_id, "opt-out confirmed");
    Ok(())
}
