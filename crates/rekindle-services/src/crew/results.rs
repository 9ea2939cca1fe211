//! Storing a crew batch's results in one transaction.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rekindle_crews::{LeadOutcome, LeadRun, PreparedMessage, SubjectVariant, channel_window};
use rekindle_domain::scheduling::effective_zone;
use rekindle_domain::throttle::NoSlot;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use super::Planned;
use super::placement::SendPlanner;
use crate::jobs::{
    PREPARE_STEP_JOB, PrepareStepPayload, SEND_MESSAGE_JOB, SendMessagePayload, unique_key,
};
use crate::sequence::advance_after_step;
use crate::{App, ServiceError};

/// The results of one crew batch; `planned` and `runs` are in the same order.
pub(super) struct StepBatch<'a> {
    pub account_id: AccountId,
    /// Retryable failures seen by earlier runs of this batch.
    pub retry: u32,
    pub campaign: &'a Campaign,
    /// The account's time zone, for leads without a valid zone of their own.
    pub account_zone: Tz,
    pub step: &'a Step,
    pub planned: &'a [Planned],
    pub runs: &'a [LeadRun],
    pub skipped: &'a [Enrollment],
}

pub(super) async fn store_step_results(
    app: &App,
    account_id: AccountId,
    batch: StepBatch<'_>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let crew_run = NewCrewRun {
        id: CrewRunId::new(),
        crew: "reactivation".into(),
        campaign_id: Some(batch.campaign.id),
        leads_total: batch.runs.len() as i32,
        started_at: now,
    };
    let mut tx = app.store.begin(account_id).await?;
    tx.insert_crew_run(&crew_run).await?;
    let window = channel_window(&batch.campaign.window, batch.step.spec.channel)
        .map_err(|error| ServiceError::Invalid(error.message))?;
    let mut planner = SendPlanner::load(
        &mut *tx,
        &app.settings.throttle,
        batch.step.spec.channel,
        window,
        now,
    )
    .await?;

    let mut failed = 0;
    let mut retry_later = Vec::new();
    let mut stage_runs = Vec::new();
    for (planned, run) in batch.planned.iter().zip(batch.runs) {
        stage_runs.extend(stage_runs_of(crew_run.id, run));
        match &run.outcome {
            LeadOutcome::Prepared(prepared) => {
                let stored =
                    store_prepared(app, &mut *tx, &mut planner, &batch, planned, prepared, now)
                        .await?;
                if let Err(no_slot) = stored {
                    failed += 1;
                    record_unplaced(&mut *tx, account_id, &batch, planned, &no_slot).await?;
                }
            }
            LeadOutcome::Failed { stage, error } => {
                failed += 1;
                let retry = error.class.is_retryable() && batch.retry < MAX_CREW_RETRIES;
                record_failure(&mut *tx, account_id, &batch, planned, stage, error, retry).await?;
                if retry {
                    retry_later.push(planned.enrollment.id);
                }
            }
        }
    }

    // A lead without an address for this channel skips the step.
    for enrollment in batch.skipped {
        advance_after_step(
            &mut *tx,
            account_id,
            batch.campaign.id,
            enrollment.id,
            batch.step.position,
            now,
        )
        .await?;
    }

    if !retry_later.is_empty() {
        enqueue_retry(&mut *tx, account_id, &batch, retry_later, now).await?;
    }
    tx.insert_stage_runs(&stage_runs, now).await?;
    let status = if failed == batch.runs.len() && !batch.runs.is_empty() {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    tx.finish_crew_run(crew_run.id, status, failed as i32, Utc::now())
        .await?;
    let prepared = batch.runs.len() - failed;
    tx.append_audit(
        &AuditRecord::new(
            Actor::system("crew"),
            "campaign.step_prepared",
            "campaign",
            Some(batch.campaign.id.to_string()),
        )
        .with_changes(json!({
            "position": batch.step.position,
            "prepared": prepared,
            "failed": failed,
            "skipped": batch.skipped.len(),
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account_id = %account_id, campaign_id = %batch.campaign.id, position = batch.step.position, prepared, failed, skipped = batch.skipped.len(), "campaign step prepared");
    Ok(())
}

fn stage_runs_of(crew_run: CrewRunId, run: &LeadRun) -> Vec<NewStageRun> {
    run.stages
        .iter()
        .map(|record| NewStageRun {
            crew_run_id: crew_run,
            lead_id: Some(run.lead_id),
            stage: record.stage.to_owned(),
            status: if record.error.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Succeeded
            },
            input_summary: record.input_summary.clone(),
            output: record.output.clone(),
            duration_ms: record.duration.as_millis() as i64,
            tokens: 0,
            error_class: record.error.as_ref().map(|e| e.class),
            error: record.error.as_ref().map(|e| e.message.clone()),
        })
        .collect()
}

/// Crew runs of one batch that may fail with a retryable error before its
/// leads are marked failed.
const MAX_CREW_RETRIES: u32 = 4;
/// Delay before the first crew retry; each further retry doubles it.
const CREW_RETRY_BASE_SECONDS: i64 = 60;

/// Enqueues the crew again for the leads that failed with a retryable error,
/// with exponential backoff, so one lead's outage does not re-run the batch.
async fn enqueue_retry(
    tx: &mut dyn TenantTx,
    account_id: AccountId,
    batch: &StepBatch<'_>,
    enrollments: Vec<EnrollmentId>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let retry = batch.retry + 1;
    let payload = PrepareStepPayload {
        campaign_id: batch.campaign.id,
        position: batch.step.position,
        enrollment_ids: enrollments,
        first_send_index: 0,
        retry,
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.run_at = now + chrono::Duration::seconds(CREW_RETRY_BASE_SECONDS << (retry - 1));
    tx.enqueue_job(&job, now).await?;
    tracing::info!(account_id = %account_id, campaign_id = %batch.campaign.id, retry, leads = payload.enrollment_ids.len(), "crew retry scheduled");
    Ok(())
}

/// Records a lead that failed a stage. A failure that will be retried leaves
/// the enrollment's status as it was.
async fn record_failure(
    tx: &mut dyn TenantTx,
    account_id: AccountId,
    batch: &StepBatch<'_>,
    planned: &Planned,
    stage: &str,
    error: &rekindle_crews::StageError,
    retry: bool,
) -> Result<(), ServiceError> {
    let enrollment = &planned.enrollment;
    let reason = format!("{stage}: {}", error.message);
    tracing::warn!(account_id = %account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, stage, class = %error.class, "lead failed in the crew");
    let status = if retry {
        enrollment.status
    } else {
        EnrollmentStatus::Failed
    };
    tx.update_enrollment(
        enrollment.id,
        status,
        enrollment.current_step,
        None,
        Some(&reason),
    )
    .await?;
    Ok(())
}

/// Records a prepared lead whose message found no send slot: every identity
/// is paused, or the caps stay full for a year. The enrollment fails with the
/// reason, which tells the user what to change.
async fn record_unplaced(
    tx: &mut dyn TenantTx,
    account_id: AccountId,
    batch: &StepBatch<'_>,
    planned: &Planned,
    no_slot: &NoSlot,
) -> Result<(), ServiceError> {
    let enrollment = &planned.enrollment;
    tracing::warn!(account_id = %account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, error = %no_slot, "no send slot for the lead's message");
    tx.update_enrollment(
        enrollment.id,
        EnrollmentStatus::Failed,
        enrollment.current_step,
        None,
        Some(&format!("throttle: {no_slot}")),
    )
    .await?;
    Ok(())
}

/// Stores a prepared lead's message at the slot the planner finds for it.
/// The inner `Err` is a message that found no slot; nothing of it is stored
/// but the lead's score.
async fn store_prepared(
    app: &App,
    tx: &mut dyn TenantTx,
    planner: &mut SendPlanner,
    batch: &StepBatch<'_>,
    planned: &Planned,
    prepared: &PreparedMessage,
    now: DateTime<Utc>,
) -> Result<Result<(), NoSlot>, ServiceError> {
    let enrollment = &planned.enrollment;
    let step = batch.step;
    let lead = tx
        .get_lead(enrollment.lead_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("lead", enrollment.lead_id))?;
    let reasons = serde_json::to_value(&prepared.score.reasons).unwrap_or_default();
    tx.set_lead_score(
        lead.id,
        prepared.score.score,
        prepared.score.tier,
        &reasons,
        now,
    )
    .await?;

    let (subject, variant) = match &prepared.subject_variants {
        Some(variants) => match variants.assigned {
            SubjectVariant::A => (Some(variants.a.clone()), "A"),
            SubjectVariant::B => (Some(variants.b.clone()), "B"),
        },
        None => (prepared.message.subject.clone(), "A"),
    };
    let to_address = match step.spec.channel {
        Channel::Email => lead.fields.email.as_ref().map(|e| e.as_str().to_owned()),
        Channel::Sms | Channel::Whatsapp => {
            lead.fields.phone.as_ref().map(|p| p.as_str().to_owned())
        }
    }
    .ok_or_else(|| {
        ServiceError::Invalid(format!(
            "lead {} lost its {} address",
            lead.id, step.spec.channel
        ))
    })?;

    let (zone, _) = effective_zone(lead.fields.time_zone.as_deref(), batch.account_zone);
    let placed = match planner.place(&to_address, zone, prepared.schedule.send_at) {
        Ok(placed) => placed,
        Err(no_slot) => return Ok(Err(no_slot)),
    };
    let send_at = placed.at;
    let message_id = planned.message_id;
    tx.insert_message(
        &NewMessage {
            id: message_id,
            campaign_id: batch.campaign.id,
            step_id: step.id,
            enrollment_id: enrollment.id,
            lead_id: lead.id,
            channel: step.spec.channel,
            variant: variant.to_owned(),
            subject,
            body: prepared.message.full_text(),
            to_address,
            rfc_message_id: format!("{message_id}@{}", app.settings.message_id_domain),
            scheduled_at: send_at,
            sending_identity_id: placed.identity,
        },
        now,
    )
    .await?;
    tx.update_enrollment(
        enrollment.id,
        EnrollmentStatus::Active,
        step.position,
        Some(send_at),
        None,
    )
    .await?;

    let mut job = NewJob::now(SEND_MESSAGE_JOB, json!(SendMessagePayload { message_id }));
    job.run_at = send_at;
    job.max_attempts = app.settings.max_attempts;
    job.unique_key = Some(unique_key(batch.account_id, SEND_MESSAGE_JOB, message_id));
    tx.enqueue_job(&job, now).await?;
    Ok(Ok(()))
}
