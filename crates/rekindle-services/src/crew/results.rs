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
use super::follow_up::{FollowUp, decision_stage_run};
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
    /// Follow-ups the engagement crew does not write now: leads that wait or stop.
    pub waiting_or_stopped: &'a [(Enrollment, FollowUp)],
    /// When the batch started on the clock, which differs from the batch's
    /// `now` when a job runs early (`Worker::run_due`).
    pub started_at: DateTime<Utc>,
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
        step_position: Some(batch.step.position),
        leads_total: batch.runs.len() as i32,
        started_at: batch.started_at,
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
    let mut writes = BatchWrites::default();
    for (planned, run) in batch.planned.iter().zip(batch.runs) {
        if let Some(follow_up) = &planned.follow_up {
            stage_runs.push(decision_stage_run(crew_run.id, run.lead_id, follow_up));
        }
        stage_runs.extend(stage_runs_of(crew_run.id, run));
        match &run.outcome {
            LeadOutcome::Prepared(prepared) => {
                let stored =
                    store_prepared(app, &mut writes, &mut planner, &batch, planned, prepared)?;
                if let Err(no_slot) = stored {
                    failed += 1;
                    stage_runs.push(placement_failure(crew_run.id, run.lead_id, &no_slot));
                    record_unplaced(&mut writes, account_id, &batch, planned, &no_slot);
                }
            }
            LeadOutcome::Failed { stage, error } => {
                failed += 1;
                let retry = error.class.is_retryable() && batch.retry < MAX_CREW_RETRIES;
                record_failure(
                    &mut writes,
                    account_id,
                    &batch,
                    planned,
                    stage,
                    error,
                    retry,
                );
                if retry {
                    retry_later.push(planned.enrollment.id);
                }
            }
        }
    }
    for (enrollment, follow_up) in batch.waiting_or_stopped {
        stage_runs.push(decision_stage_run(
            crew_run.id,
            enrollment.lead_id,
            follow_up,
        ));
        record_waiting_or_stopped(&mut writes, &batch, enrollment, follow_up);
    }
    writes.flush(&mut *tx, now).await?;

    // A lead without an address for this channel skips the step.
    for enrollment in batch.skipped {
        stage_runs.push(skipped_stage_run(crew_run.id, enrollment.lead_id, &batch));
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
        enqueue_retry(&mut *tx, &batch, crew_run.id, retry_later, now).await?;
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
            "waiting_or_stopped": batch.waiting_or_stopped.len(),
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account_id = %account_id, campaign_id = %batch.campaign.id, position = batch.step.position, prepared, failed, skipped = batch.skipped.len(), waiting_or_stopped = batch.waiting_or_stopped.len(), "campaign step prepared");
    Ok(())
}

/// Name of the stage run recorded for a prepared message that found no send
/// slot.
pub const PLACEMENT_STAGE_NAME: &str = "placement";

/// Converts a lead's stage records into stage runs. A lead that failed
/// before its first stage (the run budget was spent) gets one failed run
/// under the crew's own name, so every failed lead has a failed stage run.
pub(crate) fn stage_runs_of(crew_run: CrewRunId, run: &LeadRun) -> Vec<NewStageRun> {
    if let (true, LeadOutcome::Failed { stage, error }) = (run.stages.is_empty(), &run.outcome) {
        return vec![failed_stage_run(
            crew_run,
            run.lead_id,
            stage,
            error.class,
            &error.message,
        )];
    }
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
            tokens: i64::try_from(record.notes.total_tokens()).unwrap_or(i64::MAX),
            error_class: record.error.as_ref().map(|e| e.class),
            error: record.error.as_ref().map(|e| e.message.clone()),
            fallback: record.notes.fallback.as_ref().map(|f| f.reason.clone()),
            fallback_detail: record.notes.fallback.as_ref().map(|f| f.message.clone()),
        })
        .collect()
}

/// Name of the stage run recorded for a lead that skips a step because it
/// has no address for the step's channel.
pub const ADDRESS_STAGE_NAME: &str = "address";

/// Builds the skipped stage run of a lead without an address for the step.
fn skipped_stage_run(crew_run: CrewRunId, lead_id: LeadId, batch: &StepBatch<'_>) -> NewStageRun {
    let channel = batch.step.spec.channel;
    NewStageRun {
        crew_run_id: crew_run,
        lead_id: Some(lead_id),
        stage: ADDRESS_STAGE_NAME.to_owned(),
        status: RunStatus::Skipped,
        input_summary: format!(
            "lead {lead_id}: no {} for step {} ({channel}), so it moves to the next step",
            if channel == Channel::Email {
                "email address"
            } else {
                "phone number"
            },
            batch.step.position
        ),
        output: serde_json::Value::Null,
        duration_ms: 0,
        tokens: 0,
        error_class: None,
        error: None,
        fallback: None,
        fallback_detail: None,
    }
}

/// Builds the failed stage run of a prepared message that found no send slot.
fn placement_failure(crew_run: CrewRunId, lead_id: LeadId, no_slot: &NoSlot) -> NewStageRun {
    failed_stage_run(
        crew_run,
        lead_id,
        PLACEMENT_STAGE_NAME,
        ErrorClass::Permanent,
        &no_slot.to_string(),
    )
}

fn failed_stage_run(
    crew_run: CrewRunId,
    lead_id: LeadId,
    stage: &str,
    class: ErrorClass,
    message: &str,
) -> NewStageRun {
    NewStageRun {
        crew_run_id: crew_run,
        lead_id: Some(lead_id),
        stage: stage.to_owned(),
        status: RunStatus::Failed,
        input_summary: format!("lead {lead_id}"),
        output: serde_json::Value::Null,
        duration_ms: 0,
        tokens: 0,
        error_class: Some(class),
        error: Some(message.to_owned()),
        fallback: None,
        fallback_detail: None,
    }
}

/// Crew runs of one batch that may fail with a retryable error before its
/// leads are marked failed.
const MAX_CREW_RETRIES: u32 = 4;
/// Delay before the first crew retry; each further retry doubles it.
const CREW_RETRY_BASE_SECONDS: i64 = 60;

/// Enqueues the crew again for the leads that failed with a retryable error,
/// with exponential backoff, so one lead's outage does not re-run the batch.
/// Each lead resumes from the stage it failed in `crew_run`.
async fn enqueue_retry(
    tx: &mut dyn TenantTx,
    batch: &StepBatch<'_>,
    crew_run: CrewRunId,
    enrollments: Vec<EnrollmentId>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let account_id = batch.account_id;
    let retry = batch.retry + 1;
    let payload = PrepareStepPayload {
        campaign_id: batch.campaign.id,
        position: batch.step.position,
        enrollment_ids: enrollments,
        first_send_index: 0,
        retry,
        resume_from: Some(crew_run),
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.run_at = now + chrono::Duration::seconds(CREW_RETRY_BASE_SECONDS << (retry - 1));
    tx.enqueue_job(&job, now).await?;
    tracing::info!(account_id = %account_id, campaign_id = %batch.campaign.id, retry, leads = payload.enrollment_ids.len(), "crew retry scheduled");
    Ok(())
}

/// The rows a batch writes, collected lead by lead and written with one
/// statement per kind.
#[derive(Default)]
struct BatchWrites {
    scores: Vec<LeadScoreUpdate>,
    messages: Vec<NewMessage>,
    enrollments: Vec<EnrollmentUpdate>,
    jobs: Vec<NewJob>,
}

impl BatchWrites {
    /// Writes everything, messages before the enrollments and jobs that
    /// refer to them.
    async fn flush(self, tx: &mut dyn TenantTx, now: DateTime<Utc>) -> Result<(), ServiceError> {
        tx.set_lead_scores(&self.scores, now).await?;
        tx.insert_messages(&self.messages, now).await?;
        tx.update_enrollments(&self.enrollments).await?;
        tx.enqueue_jobs(&self.jobs, now).await?;
        Ok(())
    }
}

/// Records a lead that failed a stage. A failure that will be retried leaves
/// the enrollment's status as it was.
fn record_failure(
    writes: &mut BatchWrites,
    account_id: AccountId,
    batch: &StepBatch<'_>,
    planned: &Planned,
    stage: &str,
    error: &rekindle_crews::StageError,
    retry: bool,
) {
    let enrollment = &planned.enrollment;
    let reason = format!("{stage}: {}", error.message);
    tracing::warn!(account_id = %account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, stage, class = %error.class, "lead failed in the crew");
    let status = if retry {
        enrollment.status
    } else {
        EnrollmentStatus::Failed
    };
    writes.enrollments.push(EnrollmentUpdate {
        id: enrollment.id,
        status,
        current_step: enrollment.current_step,
        next_run_at: None,
        stop_reason: Some(reason),
    });
}

/// Records a follow-up the engagement crew did not write now. A lead that
/// waits gets the step's crew again at the time the decision named. A lead
/// that stops ends its enrollment with the decision's explanation.
fn record_waiting_or_stopped(
    writes: &mut BatchWrites,
    batch: &StepBatch<'_>,
    enrollment: &Enrollment,
    follow_up: &FollowUp,
) {
    let explanation = follow_up.decision().reason.explanation();
    match follow_up {
        FollowUp::Wait { until, .. } => {
            let payload = PrepareStepPayload {
                campaign_id: batch.campaign.id,
                position: batch.step.position,
                enrollment_ids: vec![enrollment.id],
                first_send_index: 0,
                retry: 0,
                resume_from: None,
            };
            let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
            job.run_at = *until;
            // The key names the time, so it never meets the key of the job
            // that is running this batch.
            job.unique_key = Some(unique_key(
                batch.account_id,
                PREPARE_STEP_JOB,
                format!(
                    "{}:{}:{}",
                    enrollment.id,
                    batch.step.position,
                    until.timestamp()
                ),
            ));
            writes.jobs.push(job);
            tracing::info!(account_id = %batch.account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, until = %until, reason = %explanation, "follow-up waits");
        }
        FollowUp::Stop { .. } => {
            writes.enrollments.push(EnrollmentUpdate {
                id: enrollment.id,
                status: EnrollmentStatus::Stopped,
                current_step: enrollment.current_step,
                next_run_at: None,
                stop_reason: Some(format!("next step: {explanation}")),
            });
            tracing::info!(account_id = %batch.account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, reason = %explanation, "sequence stopped by the engagement crew");
        }
        FollowUp::Write { .. } => {}
    }
}

/// Records a prepared lead whose message found no send slot: every identity
/// is paused, or the caps stay full for a year. The enrollment fails with the
/// reason, which tells the user what to change.
fn record_unplaced(
    writes: &mut BatchWrites,
    account_id: AccountId,
    batch: &StepBatch<'_>,
    planned: &Planned,
    no_slot: &NoSlot,
) {
    let enrollment = &planned.enrollment;
    tracing::warn!(account_id = %account_id, campaign_id = %batch.campaign.id, lead_id = %enrollment.lead_id, error = %no_slot, "no send slot for the lead's message");
    writes.enrollments.push(EnrollmentUpdate {
        id: enrollment.id,
        status: EnrollmentStatus::Failed,
        current_step: enrollment.current_step,
        next_run_at: None,
        stop_reason: Some(format!("throttle: {no_slot}")),
    });
}

/// Places a prepared lead's message at the slot the planner finds for it
/// and adds its rows to `writes`. The inner `Err` is a message that found no
/// slot; of it only the lead's score is written.
fn store_prepared(
    app: &App,
    writes: &mut BatchWrites,
    planner: &mut SendPlanner,
    batch: &StepBatch<'_>,
    planned: &Planned,
    prepared: &PreparedMessage,
) -> Result<Result<(), NoSlot>, ServiceError> {
    let enrollment = &planned.enrollment;
    let step = batch.step;
    // The lead as the batch read it: its address and time zone a few
    // seconds ago. A lead deleted since fails the batch's message insert.
    let lead = &planned.lead;
    writes.scores.push(LeadScoreUpdate {
        lead_id: lead.id,
        score: prepared.score.score,
        tier: prepared.score.tier,
        reasons: serde_json::to_value(&prepared.score.reasons).unwrap_or_default(),
    });

    let subjects = chosen_subjects(step, prepared);
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
    writes.messages.push(NewMessage {
        id: message_id,
        campaign_id: batch.campaign.id,
        step_id: step.id,
        enrollment_id: enrollment.id,
        lead_id: lead.id,
        channel: step.spec.channel,
        variant: subjects.variant.to_owned(),
        subject: subjects.subject,
        alternate_subject: subjects.alternate,
        personalisation_elements: prepared.personalisation_elements.clone(),
        body: prepared.message.full_text(),
        to_address,
        rfc_message_id: format!("{message_id}@{}", app.settings.message_id_domain),
        scheduled_at: send_at,
        sending_identity_id: placed.identity,
    });
    writes.enrollments.push(EnrollmentUpdate {
        id: enrollment.id,
        status: EnrollmentStatus::Active,
        current_step: step.position,
        next_run_at: Some(send_at),
        stop_reason: None,
    });

    let mut job = NewJob::now(SEND_MESSAGE_JOB, json!(SendMessagePayload { message_id }));
    job.run_at = send_at;
    job.max_attempts = app.settings.max_attempts;
    job.unique_key = Some(unique_key(batch.account_id, SEND_MESSAGE_JOB, message_id));
    writes.jobs.push(job);
    Ok(Ok(()))
}

/// The subject a message goes out with, its A/B variant and the other
/// variant's subject.
struct ChosenSubjects {
    subject: Option<String>,
    alternate: Option<String>,
    variant: &'static str,
}

/// Chooses the subject of an email: the step's A/B winner once the step is
/// decided, else the variant the lead was assigned. Text messages have one
/// variant, `A`.
fn chosen_subjects(step: &Step, prepared: &PreparedMessage) -> ChosenSubjects {
    let Some(variants) = &prepared.subject_variants else {
        return ChosenSubjects {
            subject: prepared.message.subject.clone(),
            alternate: None,
            variant: "A",
        };
    };
    let variant = match step
        .ab_decision
        .as_ref()
        .map(|decision| decision.winner.as_str())
    {
        Some("A") => SubjectVariant::A,
        Some("B") => SubjectVariant::B,
        _ => variants.assigned,
    };
    let (subject, alternate, label) = match variant {
        SubjectVariant::A => (&variants.a, &variants.b, "A"),
        SubjectVariant::B => (&variants.b, &variants.a, "B"),
    };
    ChosenSubjects {
        subject: Some(subject.clone()),
        alternate: Some(alternate.clone()),
        variant: label,
    }
}
