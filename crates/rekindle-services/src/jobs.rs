//! Job kinds and their payloads, and the dispatch from a claimed job to the
//! service that runs it.

use rekindle_domain::{
    AccountId, CampaignId, CrewRunId, EnrollmentId, ErrorClass, ImportId, MessageId,
};
use rekindle_store::Job;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    App, ServiceError, crew, delivery, dormant, icp, import, optimization, reply_actions, sequence,
    uploads, webhooks,
};
use chrono::Utc;

/// Job that writes and schedules one campaign step for a batch of enrollments.
pub const PREPARE_STEP_JOB: &str = "prepare_step";
/// Job that sends one message.
pub const SEND_MESSAGE_JOB: &str = "send_message";
/// System job that resumes paused enrollments whose time has come.
pub const RESUME_PAUSED_JOB: &str = "resume_paused";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScoreImportPayload {
    pub import_id: ImportId,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrepareStepPayload {
    pub campaign_id: CampaignId,
    /// 1-based step position.
    pub position: i32,
    pub enrollment_ids: Vec<EnrollmentId>,
    /// Campaign-wide send position of the first enrollment, for staggering.
    pub first_send_index: u32,
    /// How many earlier runs failed these enrollments with a retryable error.
    #[serde(default)]
    pub retry: u32,
    /// The crew run whose stage outputs the leads reuse, so each lead runs
    /// again from the stage it failed.
    #[serde(default)]
    pub resume_from: Option<CrewRunId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendMessagePayload {
    pub message_id: MessageId,
}

/// Whether a job that ran without error still needs its completion recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The worker records the completion.
    Pending,
    /// The job's own transaction already marked it succeeded.
    Recorded,
}

/// Runs one claimed job.
pub async fn dispatch(app: &App, job: &Job) -> Result<Completion, ServiceError> {
    if job.kind == RESUME_PAUSED_JOB {
        sequence::resume_paused(app, job.run_at.max(Utc::now())).await?;
        return Ok(Completion::Pending);
    }
    if job.kind == webhooks::APPLY_SENDGRID_BATCH_JOB {
        let stored = payload::<webhooks::StoredPayloadJob>(job)?;
        webhooks::apply_sendgrid_batch(app, stored.payload_id).await?;
        return Ok(Completion::Pending);
    }
    if job.kind == webhooks::RECORD_STRIPE_EVENT_JOB {
        let stored = payload::<webhooks::StoredPayloadJob>(job)?;
        webhooks::record_stripe_event(app, stored.payload_id).await?;
        return Ok(Completion::Pending);
    }
    if job.kind == dormant::DORMANT_SCAN_JOB {
        dormant::scan_dormant_leads(app, Utc::now()).await?;
        return Ok(Completion::Pending);
    }
    if job.kind == icp::ICP_REFRESH_JOB {
        icp::refresh_profiles(app, Utc::now()).await?;
        return Ok(Completion::Pending);
    }
    let account = job.account_id.ok_or_else(|| ServiceError::Classified {
        class: ErrorClass::Permanent,
        message: format!("job {} of kind {} has no account", job.id, job.kind),
    })?;
    let pending = |result: Result<(), ServiceError>| result.map(|()| Completion::Pending);
    match job.kind.as_str() {
        import::SCORE_IMPORT_JOB => {
            pending(crew::score_import(app, account, payload::<ScoreImportPayload>(job)?).await)
        }
        PREPARE_STEP_JOB => {
            // Judged at its own time when run early, as a send is below.
            let now = job.run_at.max(Utc::now());
            let payload = payload::<PrepareStepPayload>(job)?;
            pending(crew::prepare_step(app, account, payload, now).await)
        }
        SEND_MESSAGE_JOB => {
            // A job run early by `Worker::run_due` is judged at its own time;
            // a late one at the current time.
            let due = job.run_at.max(Utc::now());
            let payload = payload::<SendMessagePayload>(job)?;
            delivery::send_message(app, account, payload, due, job.id).await
        }
        reply_actions::CONFIRM_OPT_OUT_JOB => {
            let payload = payload::<reply_actions::ConfirmOptOutPayload>(job)?;
            pending(reply_actions::confirm_opt_out(app, account, payload).await)
        }
        optimization::DECIDE_AB_JOB => {
            let payload = payload::<optimization::DecideAbPayload>(job)?;
            pending(optimization::decide_ab_job(app, account, payload).await)
        }
        uploads::IMPORT_FILE_JOB => {
            let payload = payload::<uploads::ImportFilePayload>(job)?;
            pending(uploads::import_file(app, account, payload).await)
        }
        other => Err(ServiceError::Classified {
            class: ErrorClass::Permanent,
            message: format!("unknown job kind {other:?}"),
        }),
    }
}

/// Cleans up after a job that ran out of attempts.
pub async fn on_dead(app: &App, job: &Job, error: &str) -> Result<(), ServiceError> {
    let Some(account) = job.account_id else {
        return Ok(());
    };
    if job.kind == SEND_MESSAGE_JOB {
        let payload = payload::<SendMessagePayload>(job)?;
        let reason = format!("gave up after {} attempts: {error}", job.attempts);
        delivery::mark_failed(app, account, payload.message_id, &reason).await?;
    }
    Ok(())
}

fn payload<T: DeserializeOwned>(job: &Job) -> Result<T, ServiceError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| ServiceError::Classified {
        class: ErrorClass::InvalidInput,
        message: format!("invalid payload for job {} ({}): {e}", job.id, job.kind),
    })
}

/// Unique key that keeps one queued job per purpose and account.
pub fn unique_key(account: AccountId, kind: &str, subject: impl std::fmt::Display) -> String {
    format!("{account}:{kind}:{subject}")
}
