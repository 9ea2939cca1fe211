//! Replies: the one path every reply takes, whether it arrives by a provider
//! webhook, by the manual-ingest API, or from the demo. The reply is
//! classified first (`reply_classification`), outside the transaction. The
//! reply, its effect on the lead, the enrollment and the message, any
//! suppression, the classification's run record and the audit entry then
//! commit together.

use chrono::{DateTime, Duration, Utc};
use rekindle_domain::replies::Classification;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::reply_actions::{StoredReply, act_on_label};
use crate::{App, ServiceError, optimization, reply_classification};

/// Days an out-of-office reply pauses a lead when it names no return date.
const DEFAULT_OUT_OF_OFFICE_DAYS: i64 = 7;

/// A reply as received.
#[derive(Debug, Clone)]
pub struct InboundReply {
    pub channel: Channel,
    /// Sender email address or E.164 phone number.
    pub from: String,
    pub subject: Option<String>,
    pub text: String,
    /// `In-Reply-To` of an email reply, without angle brackets.
    pub in_reply_to: Option<String>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IngestedReply {
    pub reply_id: ReplyId,
    pub lead_id: LeadId,
    pub classification: Classification,
}

/// Stores and acts on a reply from a known lead.
pub async fn ingest_reply(
    app: &App,
    account_id: AccountId,
    inbound: &InboundReply,
) -> Result<IngestedReply, ServiceError> {
    // The LLM, when configured, is called before the transaction opens.
    let verdict = reply_classification::classify(app, account_id, inbound).await?;
    let classification = verdict.classified.classification.clone();
    let now = Utc::now();
    let mut tx = app.store.begin(account_id).await?;
    let (lead, message) = find_sender(&mut *tx, inbound).await?;

    let reply_id = tx
        .insert_reply(
            &NewReply {
                lead_id: lead.id,
                message_id: message.as_ref().map(|m| m.id),
                channel: inbound.channel,
                from_address: inbound.from.clone(),
                subject: inbound.subject.clone(),
                body: inbound.text.clone(),
                label: classification.label,
                objection: classification.objection,
                return_date: classification.return_date,
                received_at: inbound.received_at,
            },
            now,
        )
        .await?;
    let counts_as_reply = !matches!(
        classification.label,
        ReplyLabel::AutoReply | ReplyLabel::OutOfOffice
    );
    if let Some(message) = message.as_ref().filter(|_| counts_as_reply) {
        tx.advance_message(
            message.id,
            MessageStatus::Replied,
            &MessageUpdate::default(),
            now,
        )
        .await?;
    }
    if let Some(message) = message.as_ref() {
        enqueue_ab_decision(&mut *tx, account_id, message, classification.label, now).await?;
    }
    apply_label(&mut *tx, &lead, &classification, inbound, now).await?;
    let stored = StoredReply {
        id: reply_id,
        channel: inbound.channel,
        subject: inbound.subject.as_deref(),
        classification: &classification,
    };
    act_on_label(&mut *tx, &lead, &stored, &inbound.text, now).await?;
    let campaign = message.as_ref().map(|m| m.campaign_id);
    reply_classification::record_run(&mut *tx, &verdict, lead.id, campaign, inbound, now).await?;
    tx.append_audit(
        &AuditRecord::new(Actor::system("replies"), "reply.ingest", "reply", Some(reply_id.to_string()))
            .with_changes(json!({ "lead_id": lead.id, "label": classification.label, "objection": classification.objection })),
        now,
    )
    .await?;
    tx.commit().await?;

    tracing::info!(account_id = %account_id, lead_id = %lead.id, reply_id = %reply_id, label = %classification.label, "reply ingested");
    Ok(IngestedReply {
        reply_id,
        lead_id: lead.id,
        classification,
    })
}

/// Enqueues the A/B decision of the step of an email that earned a positive
/// reply. The job runs a few minutes later, and one queued job per step
/// absorbs the replies that arrive meanwhile.
async fn enqueue_ab_decision(
    tx: &mut dyn TenantTx,
    account_id: AccountId,
    message: &Message,
    label: ReplyLabel,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if message.channel != Channel::Email || !rekindle_crews::revenue::is_positive(label) {
        return Ok(());
    }
    let job = optimization::decide_ab_job_for(account_id, message, now);
    tx.enqueue_jobs(&[job], now).await?;
    Ok(())
}

async fn find_sender(
    tx: &mut dyn TenantTx,
    inbound: &InboundReply,
) -> Result<(Lead, Option<Message>), ServiceError> {
    let message = match &inbound.in_reply_to {
        Some(id) => {
            tx.find_message_by_rfc_id(id.trim_matches(['<', '>']))
                .await?
        }
        None => None,
    };
    if let Some(message) = message {
        let lead = tx
            .get_lead(message.lead_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("lead", message.lead_id))?;
        return Ok((lead, Some(message)));
    }

    let leads = match inbound.channel {
        Channel::Email => {
            let email = Email::parse(&inbound.from).map_err(|_| {
                ServiceError::Invalid(format!("invalid sender address {:?}", inbound.from))
            })?;
            tx.find_leads_by_emails(&[email.as_str().to_owned()])
                .await?
        }
        Channel::Sms | Channel::Whatsapp => {
            let phone = Phone::parse(&inbound.from, None).map_err(|_| {
                ServiceError::Invalid(format!(
                    "invalid sender phone {:?}: use E.164, e.g. +447700900123",
                    inbound.from
                ))
            })?;
            tx.find_leads_by_phones(&[phone.as_str().to_owned()])
                .await?
        }
    };
    let lead = leads.into_iter().next().ok_or_else(|| {
        ServiceError::Invalid(format!(
            "no lead of this account has the sender address {:?}: create the lead first, \
                 or send the reply's In-Reply-To header",
            inbound.from
        ))
    })?;
    // Without threading headers, the reply is taken as a reply to the latest
    // message sent to its lead on its channel.
    let message = match tx.latest_sent_to_lead(lead.id, inbound.channel).await? {
        Some(id) => tx.get_message(id).await?,
        None => None,
    };
    Ok((lead, message))
}

async fn apply_label(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    classification: &Classification,
    inbound: &InboundReply,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let enrollments = tx.active_enrollments_of_lead(lead.id).await?;
    let (lead_status, enrollment_status, resume_at) = match classification.label {
        ReplyLabel::OptOut => {
            suppress_contacts(tx, lead, inbound.channel, now).await?;
            (
                Some(LeadStatus::Suppressed),
                Some(EnrollmentStatus::Stopped),
                None,
            )
        }
        ReplyLabel::Bounce => {
            if let Some(email) = &lead.fields.email {
                tx.add_suppression(
                    ContactKind::Email,
                    email.as_str(),
                    SuppressionReason::HardBounce,
                    now,
                )
                .await?;
            }
            (None, Some(EnrollmentStatus::Stopped), None)
        }
        ReplyLabel::MeetingRequest | ReplyLabel::Interested => (
            Some(LeadStatus::Replied),
            Some(EnrollmentStatus::Replied),
            None,
        ),
        ReplyLabel::Question => (
            Some(LeadStatus::Replied),
            Some(EnrollmentStatus::Paused),
            None,
        ),
        ReplyLabel::NotInterested | ReplyLabel::Referral => (
            Some(LeadStatus::Lost),
            Some(EnrollmentStatus::Stopped),
            None,
        ),
        ReplyLabel::Objection if classification.objection == Some(ObjectionKind::Timing) => (
            Some(LeadStatus::Replied),
            Some(EnrollmentStatus::Paused),
            Some(now + Duration::days(90)),
        ),
        ReplyLabel::Objection => (
            Some(LeadStatus::Replied),
            Some(EnrollmentStatus::Stopped),
            None,
        ),
        ReplyLabel::OutOfOffice => {
            let back = classification
                .return_date
                .and_then(|date| date.and_hms_opt(9, 0, 0))
                .map(|local| local.and_utc())
                .unwrap_or(now + Duration::days(DEFAULT_OUT_OF_OFFICE_DAYS));
            (None, Some(EnrollmentStatus::Paused), Some(back))
        }
        ReplyLabel::AutoReply => (None, None, None),
    };

    if let Some(status) = lead_status {
        tx.set_lead_status(lead.id, status, now).await?;
    }
    if let Some(status) = enrollment_status {
        for enrollment in enrollments {
            // A step whose message was still waiting is cancelled; a paused lead
            // gets that step again when it resumes.
            let cancelled = tx.cancel_scheduled_messages(enrollment.id, now).await?;
            let step = if status == EnrollmentStatus::Paused && cancelled > 0 {
                enrollment.current_step - 1
            } else {
                enrollment.current_step
            };
            let reason = format!("reply: {}", classification.label);
            tx.update_enrollment(enrollment.id, status, step, resume_at, Some(&reason))
                .await?;
        }
    }
    Ok(())
}

async fn suppress_contacts(
    tx: &mut dyn TenantTx,
    lead: &Lead,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if let Some(email) = &lead.fields.email {
        tx.add_suppression(
            ContactKind::Email,
            email.as_str(),
            SuppressionReason::OptOutReply,
            now,
        )
        .await?;
    }
    if let Some(phone) = &lead.fields.phone {
        tx.add_suppression(
            ContactKind::Phone,
            phone.as_str(),
            SuppressionReason::OptOutReply,
            now,
        )
        .await?;
    }
    tx.append_audit(
        &AuditRecord::new(
            Actor::system("replies"),
            "suppression.add",
            "lead",
            Some(lead.id.to_string()),
        )
        .with_changes(json!({ "reason": SuppressionReason::OptOutReply, "channel": channel })),
        now,
    )
    .await?;
    Ok(())
}
