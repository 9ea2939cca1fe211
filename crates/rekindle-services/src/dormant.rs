//! The dormant-lead scan: a periodic system job that enrolls leads idle for
//! 30 to 365 whole days into each active campaign set to take dormant leads,
//! in batches of 50, best ranked first, and enqueues the crew for each batch.
//! A lead's idle time counts from its last activity: the CRM's last contact
//! (else its CRM creation, else its creation here), a message sent to it, or
//! a reply from it.

use chrono::{DateTime, Duration, Utc};
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::crew::CREW_BATCH;
use crate::jobs::{PREPARE_STEP_JOB, PrepareStepPayload, unique_key};
use crate::{App, ServiceError};

/// System job that runs the scan.
pub const DORMANT_SCAN_JOB: &str = "dormant_scan";
/// Minimum whole days since a lead's last activity for it to count as dormant.
pub const MIN_IDLE_DAYS: i64 = 30;
/// Maximum whole days; a lead idle longer is left alone.
pub const MAX_IDLE_DAYS: i64 = 365;
/// Batches one scan enrolls per campaign, so one scan stays short; the next
/// scan continues where it stopped.
const MAX_BATCHES_PER_SCAN: usize = 20;

/// Counts from one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanReport {
    pub campaigns: usize,
    pub enrolled: usize,
    pub batches: usize,
    /// Campaigns whose scan failed; the others went on.
    pub failed: usize,
}

/// Returns the window of last activity for leads idle 30 to 365 whole days
/// at `now`: no later than 30 days before, and later than 366 days before.
pub fn idle_window(now: DateTime<Utc>) -> IdleWindow {
    IdleWindow {
        active_before: now - Duration::days(MIN_IDLE_DAYS),
        active_after: now - Duration::days(MAX_IDLE_DAYS + 1),
    }
}

/// Scans every active campaign that takes dormant leads. A campaign whose
/// scan fails is logged and the others go on. The last error is returned at
/// the end, so the job is retried; leads enrolled before it are not
/// enrolled twice.
pub async fn scan_dormant_leads(app: &App, now: DateTime<Utc>) -> Result<ScanReport, ServiceError> {
    let mut tx = app.store.begin_system("dormant_scan").await?;
    let campaigns = tx.dormant_intake_campaigns().await?;
    tx.commit().await?;

    let mut report = ScanReport {
        campaigns: campaigns.len(),
        ..ScanReport::default()
    };
    let mut last_error = None;
    for (account, campaign) in campaigns {
        match scan_campaign(app, account, campaign, now).await {
            Ok((enrolled, batches)) => {
                report.enrolled += enrolled;
                report.batches += batches;
            }
            Err(error) => {
                tracing::error!(account_id = %account, campaign_id = %campaign, %error, "dormant-lead scan of a campaign failed");
                report.failed += 1;
                last_error = Some(error);
            }
        }
    }

    tracing::info!(
        campaigns = report.campaigns,
        enrolled = report.enrolled,
        batches = report.batches,
        failed = report.failed,
        "dormant-lead scan finished"
    );
    match last_error {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

/// Enrolls one campaign's dormant leads, one transaction per batch of 50,
/// each with its crew job and audit entry. Returns the leads and batches.
pub async fn scan_campaign(
    app: &App,
    account: AccountId,
    campaign_id: CampaignId,
    now: DateTime<Utc>,
) -> Result<(usize, usize), ServiceError> {
    let window = idle_window(now);
    let mut enrolled = 0;
    let mut batches = 0;
    while batches < MAX_BATCHES_PER_SCAN {
        let mut tx = app.store.begin(account).await?;
        let Some(campaign) = tx.get_campaign(campaign_id).await? else {
            break;
        };
        if campaign.status != CampaignStatus::Active || !campaign.takes_dormant_leads {
            break;
        }
        let batch = tx
            .enroll_dormant_leads(campaign_id, &window, CREW_BATCH as u32, now)
            .await?;
        if batch.is_empty() {
            break;
        }

        let size = batch.len();
        enqueue_batch(app, &mut *tx, account, campaign_id, batch, batches, now).await?;
        tx.append_audit(
            &AuditRecord::new(
                Actor::system("dormant_scan"),
                "campaign.dormant_leads_enrolled",
                "campaign",
                Some(campaign_id.to_string()),
            )
            .with_changes(json!({ "enrolled": size })),
            now,
        )
        .await?;
        tx.commit().await?;

        enrolled += size;
        batches += 1;
        if size < CREW_BATCH {
            break;
        }
    }
    if enrolled > 0 {
        tracing::info!(account_id = %account, campaign_id = %campaign_id, enrolled, batches, "dormant leads enrolled");
    }
    Ok((enrolled, batches))
}

async fn enqueue_batch(
    app: &App,
    tx: &mut dyn TenantTx,
    account: AccountId,
    campaign_id: CampaignId,
    enrollments: Vec<EnrollmentId>,
    batch: usize,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let first = enrollments.first().copied();
    let payload = PrepareStepPayload {
        campaign_id,
        position: 1,
        enrollment_ids: enrollments,
        first_send_index: (batch * CREW_BATCH) as u32,
        retry: 0,
        resume_from: None,
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.run_at = now;
    job.max_attempts = app.settings.max_attempts;
    // The first enrollment names the batch: enrollments are new in each scan.
    job.unique_key = first.map(|id| {
        unique_key(
            account,
            PREPARE_STEP_JOB,
            format!("{campaign_id}:dormant:{id}"),
        )
    });
    tx.enqueue_job(&job, now).await?;
    Ok(())
}
