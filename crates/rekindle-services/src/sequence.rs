//! Moving an enrollment through its campaign's steps.

use chrono::{DateTime, TimeDelta, Utc};
use rekindle_domain::{AccountId, CampaignId, EnrollmentId, EnrollmentStatus};
use rekindle_store::{Actor, AuditRecord, NewJob, Step, TenantTx};
use serde_json::json;

use crate::jobs::{PREPARE_STEP_JOB, PrepareStepPayload, unique_key};
use crate::{App, ServiceError};

/// Paused enrollments resumed per run of the resume job.
const RESUME_BATCH: u32 = 200;

/// Moves an enrollment past step `position`: records `at` as the time of that
/// step and enqueues the crew for the next step, or completes the enrollment
/// after the last step. Runs in the caller's transaction.
pub async fn advance_after_step(
    tx: &mut dyn TenantTx,
    account: AccountId,
    campaign: CampaignId,
    enrollment: EnrollmentId,
    position: i32,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let steps = tx.list_steps(campaign).await?;
    advance_with_steps(tx, account, campaign, &steps, enrollment, position, at).await
}

/// Does what [`advance_after_step`] does with the campaign's steps already
/// read, which saves the read when the caller has them.
pub(crate) async fn advance_with_steps(
    tx: &mut dyn TenantTx,
    account: AccountId,
    campaign: CampaignId,
    steps: &[Step],
    enrollment: EnrollmentId,
    position: i32,
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    // The step is prepared when it falls due, so the follow-up can refer to
    // what the lead did in the meantime. The engagement crew waits again if
    // the lead's local calendar puts the due time a little later.
    let due = |next: &Step| at + TimeDelta::days(i64::from(next.spec.delay_days));
    advance(tx, account, campaign, steps, enrollment, position, due).await
}

/// Moves an enrollment past step `position` and prepares the next step at
/// the time `run_at` gives for it, or completes the enrollment after the
/// last step.
async fn advance(
    tx: &mut dyn TenantTx,
    account: AccountId,
    campaign: CampaignId,
    steps: &[Step],
    enrollment: EnrollmentId,
    position: i32,
    run_at: impl Fn(&Step) -> DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(next) = steps.iter().find(|s| s.position == position + 1) else {
        tx.update_enrollment(
            enrollment,
            EnrollmentStatus::Completed,
            position,
            None,
            None,
        )
        .await?;
        return Ok(());
    };

    let run_at = run_at(next);
    tx.update_enrollment(
        enrollment,
        EnrollmentStatus::Active,
        position,
        Some(run_at),
        None,
    )
    .await?;
    let payload = PrepareStepPayload {
        campaign_id: campaign,
        position: next.position,
        enrollment_ids: vec![enrollment],
        first_send_index: 0,
        retry: 0,
        resume_from: None,
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.run_at = run_at;
    job.unique_key = Some(unique_key(
        account,
        PREPARE_STEP_JOB,
        format!("{enrollment}:{}", next.position),
    ));
    tx.enqueue_job(&job, Utc::now()).await?;
    Ok(())
}

/// Resumes paused enrollments whose resume time has come (an out-of-office
/// return date, a timing objection's later date): each continues with the step
/// after its last sent one. Returns how many were resumed.
pub async fn resume_paused(app: &App, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let mut system = app.store.begin_system("scheduler").await?;
    let due = system.due_paused_enrollments(now, RESUME_BATCH).await?;
    system.commit().await?;

    let mut resumed = 0;
    for (account, enrollment) in due {
        let mut tx = app.store.begin(account).await?;
        let Some(current) = tx.get_enrollment(enrollment.id).await? else {
            continue;
        };
        if current.status != EnrollmentStatus::Paused {
            continue;
        }
        // The wait was the pause itself, so the next step is prepared now.
        let steps = tx.list_steps(current.campaign_id).await?;
        advance(
            &mut *tx,
            account,
            current.campaign_id,
            &steps,
            current.id,
            current.current_step,
            |_| now,
        )
        .await?;
        tx.append_audit(
            &AuditRecord::new(
                Actor::system("scheduler"),
                "enrollment.resume",
                "enrollment",
                Some(current.id.to_string()),
            )
            .with_changes(
                json!({ "lead_id": current.lead_id, "next_step": current.current_step + 1 }),
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(account_id = %account, campaign_id = %current.campaign_id, lead_id = %current.lead_id, "enrollment resumed");
        resumed += 1;
    }
    Ok(resumed)
}
