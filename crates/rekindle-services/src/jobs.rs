//! Job kinds and their payloads, and the dispatch from a claimed job to the
//! service that runs it.

use rekindle_domain::{AccountId, CampaignId, EnrollmentId, ErrorClass, ImportId, MessageId};
use rekindle_store::Job;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{App, ServiceError, crew, delivery, dormant, icp, import, sequence, uploads};
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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendMessagePayload {
    pub message_id: MessageId,
}

/// Runs one claimed job.
pub async fn dispatch(app: &App, job: &Job) -> Result<(), ServiceError> {
    match job.kind.as_str() {
        RESUME_PAUSED_JOB => {
            sequence::resume_paused(app, job.run_at.max(Utc::now())).await?;
            return Ok(());
        }
        dormant::DORMANT_SCAN_JOB => {
            dormant::scan_dormant_leads(app, Utc::now()).await?;
            return Ok(());
        }
        icp::ICP_REFRESH_JOB => {
            icp::refresh_profiles(app, Utc::now()).await?;
            return Ok(());
        }
        _ => {}
    }
    let account = job.account_id.ok_or_else(|| ServiceError::Classified {
        class: ErrorClass::Permanent,
        message: format!("job {} of kind {} has no account", job.id, job.kind),
    })?;
    match job.kind.as_str() {
        import::SCORE_IMPORT_JOB => {
            crew::score_import(app, account, payload::<ScoreImportPayload>(job)?).await
        }
        PREPARE_STEP_JOB => {
            crew::prepare_step(app, account, payload::<PrepareStepPayload>(job)?).await
        }
        SEND_MESSAGE_JOB => {
            // A job run early by `Worker::run_due` is judged at its own time;
            // a late one at the current time.
            let due = job.run_at.max(Utc::now());
            delivery::send_message(app, account, payload::<SendMessagePayload>(job)?, due).await
        }
        uploads::IMPORT_FILE_JOB => {
            uploads::import_file(app, account, payload::<uploads::ImportFilePayload>(job)?).await
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
