//! Retrying the leads that failed in a crew run: their enrollments are
//! opened again and the campaign step's crew job is enqueued for them, in one
//! transaction with the audit entry.
//!
//! NOTE: the retry runs the step's crew again from its first stage. Without
//! an LLM the stages before the writer are deterministic. With one, the
//! researcher and the writer call it again, so a retry spends tokens on
//! work that had succeeded.

use std::collections::BTreeMap;

use chrono::Utc;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::jobs::{PREPARE_STEP_JOB, PrepareStepPayload};
use crate::{App, ServiceError};

/// Name of the crew whose runs prepare campaign steps.
pub const REACTIVATION_CREW: &str = "reactivation";

/// A lead that was not retried, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLead {
    pub lead_id: LeadId,
    pub reason: String,
}

/// The leads a retry queued and skipped, and the job it enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOutcome {
    pub job_id: JobId,
    /// Leads queued again, with the stage each had failed at.
    pub queued: Vec<(LeadId, String)>,
    pub skipped: Vec<SkippedLead>,
}

/// Queues the failed leads of crew run `run_id` again: the leads named in
/// `leads`, or every failed lead of the run when `leads` is empty.
///
/// A lead must have a failed stage run in this run; one that does not is an
/// invalid request. A lead whose enrollment is no longer failed (it was
/// retried already, or an automatic retry is pending) is skipped with the
/// reason. When no lead can be queued, nothing changes and the error lists
/// why.
pub async fn retry_failed_leads(
    app: &App,
    account: AccountId,
    actor: &Actor,
    run_id: CrewRunId,
    leads: &[LeadId],
) -> Result<RetryOutcome, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let run = tx
        .get_crew_run(run_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("crew run", run_id))?;
    let (campaign_id, position) = retry_target(&run)?;
    let failed = failed_stages(&tx.list_stage_runs(run_id).await?);
    let requested = requested_leads(leads, &failed, run_id)?;

    let mut queued = Vec::new();
    let mut enrollments = Vec::new();
    let mut skipped = Vec::new();
    for lead_id in requested {
        match reopen_enrollment(&mut *tx, campaign_id, position, lead_id).await? {
            Ok(enrollment) => {
                enrollments.push(enrollment);
                queued.push((lead_id, failed[&lead_id].clone()));
            }
            Err(reason) => skipped.push(SkippedLead { lead_id, reason }),
        }
    }
    if queued.is_empty() {
        return Err(nothing_to_retry(run_id, &skipped));
    }

    let payload = PrepareStepPayload {
        campaign_id,
        position,
        enrollment_ids: enrollments,
        first_send_index: 0,
        retry: 0,
        resume_from: Some(run_id),
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.max_attempts = app.settings.max_attempts;
    let job_id = tx.enqueue_job(&job, now).await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "crew_run.retry",
            "crew_run",
            Some(run_id.to_string()),
        )
        .with_changes(json!({
            "campaign_id": campaign_id,
            "position": position,
            "queued": queued.len(),
            "skipped": skipped.len(),
            "job_id": job_id,
        })),
        now,
    )
    .await?;
    tx.commit().await?;

    tracing::info!(account_id = %account, crew_run_id = %run_id, campaign_id = %campaign_id, position, queued = queued.len(), skipped = skipped.len(), "failed leads queued again");
    Ok(RetryOutcome {
        job_id,
        queued,
        skipped,
    })
}

/// Returns the campaign and step a reactivation run prepared.
fn retry_target(run: &CrewRun) -> Result<(CampaignId, i32), ServiceError> {
    match (run.crew.as_str(), run.campaign_id, run.step_position) {
        (REACTIVATION_CREW, Some(campaign), Some(position)) => Ok((campaign, position)),
        _ => Err(ServiceError::Invalid(format!(
            "crew run {} ({}) prepared no campaign step, so it has nothing to retry; \
             only reactivation runs of a campaign that still exists can be retried",
            run.id, run.crew
        ))),
    }
}

/// Maps each lead with a failed stage run to that stage's name.
fn failed_stages(stage_runs: &[StageRun]) -> BTreeMap<LeadId, String> {
    stage_runs
        .iter()
        .filter(|run| run.status == RunStatus::Failed)
        .filter_map(|run| run.lead_id.map(|lead| (lead, run.stage.clone())))
        .collect()
}

fn requested_leads(
    leads: &[LeadId],
    failed: &BTreeMap<LeadId, String>,
    run_id: CrewRunId,
) -> Result<Vec<LeadId>, ServiceError> {
    if leads.is_empty() {
        return Ok(failed.keys().copied().collect());
    }
    if let Some(lead) = leads.iter().find(|lead| !failed.contains_key(lead)) {
        return Err(ServiceError::Invalid(format!(
            "lead {lead} did not fail in crew run {run_id}; list the run's failed leads with \
             GET /api/v1/crew-runs/{run_id}"
        )));
    }
    let mut unique = leads.to_vec();
    unique.sort();
    unique.dedup();
    Ok(unique)
}

/// Opens a failed enrollment again at the step it failed, or returns why it
/// is left as it is.
async fn reopen_enrollment(
    tx: &mut dyn TenantTx,
    campaign: CampaignId,
    position: i32,
    lead: LeadId,
) -> Result<Result<EnrollmentId, String>, ServiceError> {
    let Some(enrollment) = tx.find_enrollment(campaign, lead).await? else {
        return Ok(Err("the lead is no longer enrolled in the campaign".into()));
    };
    if enrollment.status != EnrollmentStatus::Failed {
        return Ok(Err(format!(
            "the enrollment is {}, not failed: it was retried already or an automatic retry is queued",
            enrollment.status
        )));
    }
    if enrollment.current_step != position - 1 {
        return Ok(Err(format!(
            "the enrollment is at step {}, not before step {position}",
            enrollment.current_step
        )));
    }

    let status = if enrollment.current_step == 0 {
        EnrollmentStatus::Pending
    } else {
        EnrollmentStatus::Active
    };
    tx.update_enrollment(
        enrollment.id,
        status,
        enrollment.current_step,
        enrollment.next_run_at,
        None,
    )
    .await?;
    Ok(Ok(enrollment.id))
}

fn nothing_to_retry(run_id: CrewRunId, skipped: &[SkippedLead]) -> ServiceError {
    let reasons: Vec<String> = skipped
        .iter()
        .map(|lead| format!("lead {}: {}", lead.lead_id, lead.reason))
        .collect();
    let detail = if reasons.is_empty() {
        "it has no failed lead".to_owned()
    } else {
        reasons.join("; ")
    };
    ServiceError::Invalid(format!(
        "no lead of crew run {run_id} can be retried: {detail}"
    ))
}
