//! The rare effects of provider events: suppressing a recipient after a hard
//! bounce, a spam report or an unsubscribe, and stopping the lead's
//! sequences. Each suppression is audited.

use chrono::{DateTime, Utc};
use rekindle_crews::engagement::EngagementSettings;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use super::plan::Effect;
use crate::ServiceError;
use crate::jobs::{PREPARE_STEP_JOB, unique_key};

/// Applies each effect once per lead and reason, in the caller's transaction.
pub(super) async fn apply(
    tx: &mut dyn TenantTx,
    account: AccountId,
    effects: &[(&EventTarget, Effect)],
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let mut done = std::collections::HashSet::new();
    for (target, effect) in effects {
        if !done.insert((target.lead_id, effect.clone())) {
            continue;
        }
        match effect {
            Effect::Suppress {
                reason,
                suppress_lead,
            } => suppress(tx, target, *reason, *suppress_lead, now).await?,
            Effect::FollowUpSooner { clicked_at } => {
                follow_up_sooner(tx, account, target, *clicked_at).await?
            }
        }
    }
    Ok(())
}

/// Brings the next step's preparation forward to a day after a click on
/// the enrollment's latest message, when it was due later. A click on an
/// older message changes nothing, and neither does one after the sequence
/// stopped.
async fn follow_up_sooner(
    tx: &mut dyn TenantTx,
    account: AccountId,
    target: &EventTarget,
    clicked_at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(enrollment) = tx.get_enrollment(target.enrollment_id).await? else {
        return Ok(());
    };
    if enrollment.status != EnrollmentStatus::Active {
        return Ok(());
    }
    let sent = tx.sent_activity(&[enrollment.id]).await?;
    if sent.last().map(|message| message.message_id) != Some(target.id) {
        return Ok(());
    }
    let hours = EngagementSettings::default().click_follow_up_hours;
    let at = clicked_at + chrono::Duration::hours(i64::from(hours));
    let key = unique_key(
        account,
        PREPARE_STEP_JOB,
        format!("{}:{}", enrollment.id, enrollment.current_step + 1),
    );
    if tx.bring_job_forward(&key, at).await? {
        tracing::info!(account_id = %account, lead_id = %target.lead_id, at = %at, "follow-up brought forward after a click");
    }
    Ok(())
}

async fn suppress(
    tx: &mut dyn TenantTx,
    target: &EventTarget,
    reason: SuppressionReason,
    suppress_lead: bool,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let (kind, value) = recipient(target);
    let added = tx.add_suppression(kind, &value, reason, now).await?;
    if suppress_lead {
        tx.set_lead_status(target.lead_id, LeadStatus::Suppressed, now)
            .await?;
    }
    let stopped = tx
        .stop_lead_enrollments(target.lead_id, &format!("provider event: {reason}"), now)
        .await?;

    tx.append_audit(
        &AuditRecord::new(
            Actor::system("webhook events"),
            "suppression.add",
            "lead",
            Some(target.lead_id.to_string()),
        )
        .with_changes(json!({
            "reason": reason,
            "kind": kind,
            "message_id": target.id,
            "new": added,
            "enrollments_stopped": stopped,
        })),
        now,
    )
    .await?;
    tracing::info!(account_id = %tx.account_id(), lead_id = %target.lead_id, message_id = %target.id, %reason, "recipient suppressed after a provider event");
    Ok(())
}

/// Returns the kind and normalised value of the message's recipient, in the
/// form that the suppression check at send time compares.
fn recipient(target: &EventTarget) -> (ContactKind, String) {
    match target.channel {
        Channel::Email => {
            let value = Email::parse(&target.to_address)
                .map(|email| email.as_str().to_owned())
                .unwrap_or_else(|_| target.to_address.trim().to_lowercase());
            (ContactKind::Email, value)
        }
        Channel::Sms | Channel::Whatsapp => {
            let value = Phone::parse(&target.to_address, None)
                .map(|phone| phone.as_str().to_owned())
                .unwrap_or_else(|_| target.to_address.trim().to_owned());
            (ContactKind::Phone, value)
        }
    }
}
