//! Campaigns: create, enroll leads, launch.

use chrono::{DateTime, Utc};
use rekindle_domain::campaign::CampaignSpec;
use rekindle_domain::*;
use rekindle_store::*;
use serde_json::json;

use crate::crew::CREW_BATCH;
use crate::jobs::{
    PREPARE_STEP_JOB, PrepareStepPayload, SEND_MESSAGE_JOB, SendMessagePayload, unique_key,
};
use crate::{App, ServiceError};

/// Most lead ids accepted in one enrollment call.
pub const MAX_ENROLL_IDS: usize = 1000;

/// Campaign settings that the spec does not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignOptions {
    /// Open and click tracking of the campaign's emails.
    pub tracking: bool,
    /// While active, the campaign takes dormant leads from the periodic scan.
    pub takes_dormant_leads: bool,
}

impl Default for CampaignOptions {
    fn default() -> Self {
        Self {
            tracking: true,
            takes_dormant_leads: false,
        }
    }
}

pub async fn create_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    spec: &CampaignSpec,
) -> Result<(Campaign, Vec<Step>), ServiceError> {
    create_campaign_with(app, account, actor, spec, CampaignOptions::default()).await
}

/// Creates a campaign with `options`, in one transaction with its audit entry.
pub async fn create_campaign_with(
    app: &App,
    account: AccountId,
    actor: &Actor,
    spec: &CampaignSpec,
    options: CampaignOptions,
) -> Result<(Campaign, Vec<Step>), ServiceError> {
    spec.validate()
        .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let (mut campaign, steps) = tx.create_campaign(CampaignId::new(), spec, now).await?;
    if options != CampaignOptions::default() {
        let changes = CampaignChanges {
            tracking: Some(options.tracking),
            takes_dormant_leads: Some(options.takes_dormant_leads),
            ..CampaignChanges::default()
        };
        campaign = tx.update_campaign(campaign.id, &changes, now).await?;
    }
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.create",
            "campaign",
            Some(campaign.id.to_string()),
        )
        .with_changes(json!({
            "name": spec.name,
            "steps": spec.steps.len(),
            "tone": spec.tone,
            "tracking": options.tracking,
            "takes_dormant_leads": options.takes_dormant_leads,
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((campaign, steps))
}

/// Sets whether the campaign takes dormant leads from the periodic scan. It
/// can change in any status; the scan only fills active campaigns.
pub async fn set_takes_dormant_leads(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
    takes_dormant_leads: bool,
) -> Result<Campaign, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    tx.get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    let changes = CampaignChanges {
        takes_dormant_leads: Some(takes_dormant_leads),
        ..CampaignChanges::default()
    };
    let campaign = tx.update_campaign(campaign_id, &changes, now).await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.update",
            "campaign",
            Some(campaign_id.to_string()),
        )
        .with_changes(json!({ "takes_dormant_leads": takes_dormant_leads })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(campaign)
}

pub async fn enroll_leads(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign: CampaignId,
    leads: &[LeadId],
) -> Result<u64, ServiceError> {
    if leads.len() > MAX_ENROLL_IDS {
        return Err(ServiceError::Invalid(format!(
            "lead_ids has {} ids, at most {MAX_ENROLL_IDS} are accepted per call",
            leads.len()
        )));
    }
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let status = tx
        .get_campaign(campaign)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign))?
        .status;
    let added = tx.enroll_new_leads(campaign, leads, now).await?;
    // A running campaign starts its new leads at once; a draft or paused one
    // starts them when it is launched.
    if status == CampaignStatus::Active {
        for batch in added.chunks(CREW_BATCH) {
            enqueue_first_step(&mut *tx, app, account, campaign, batch, now).await?;
        }
    }
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.enroll",
            "campaign",
            Some(campaign.to_string()),
        )
        .with_changes(json!({ "requested": leads.len(), "added": added.len() })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(added.len() as u64)
}

/// Enqueues the crew for the first step of enrollments added to a running
/// campaign, keyed by the batch's first enrollment.
async fn enqueue_first_step(
    tx: &mut dyn TenantTx,
    app: &App,
    account: AccountId,
    campaign: CampaignId,
    enrollments: &[EnrollmentId],
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let payload = PrepareStepPayload {
        campaign_id: campaign,
        position: 1,
        enrollment_ids: enrollments.to_vec(),
        first_send_index: 0,
        retry: 0,
        resume_from: None,
    };
    let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
    job.run_at = now;
    job.max_attempts = app.settings.max_attempts;
    job.unique_key = Some(unique_key(
        account,
        PREPARE_STEP_JOB,
        format!("{campaign}:1:enrolled:{}", enrollments[0]),
    ));
    tx.enqueue_job(&job, now).await?;
    Ok(())
}

/// Launches a campaign: marks it active and enqueues the crew for its first
/// step in batches, all in one transaction.
pub async fn launch_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
) -> Result<u32, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    if !matches!(
        campaign.status,
        CampaignStatus::Draft | CampaignStatus::Paused
    ) {
        return Err(ServiceError::Invalid(format!(
            "campaign {campaign_id} is {}; only a draft or paused campaign can be launched",
            campaign.status
        )));
    }
    tx.set_campaign_status(campaign_id, CampaignStatus::Active, now)
        .await?;

    let mut batches = 0;
    let mut page = PageRequest::new(None, Some(CREW_BATCH as u32));
    loop {
        let enrollments = tx.list_enrollments(campaign_id, page).await?;
        let pending: Vec<EnrollmentId> = enrollments
            .items
            .iter()
            .filter(|e| e.status == EnrollmentStatus::Pending && e.current_step == 0)
            .map(|e| e.id)
            .collect();
        if !pending.is_empty() {
            let payload = PrepareStepPayload {
                campaign_id,
                position: 1,
                enrollment_ids: pending,
                first_send_index: batches * CREW_BATCH as u32,
                retry: 0,
                resume_from: None,
            };
            let mut job = NewJob::now(PREPARE_STEP_JOB, json!(payload));
            job.run_at = now;
            job.max_attempts = app.settings.max_attempts;
            job.unique_key = Some(unique_key(
                account,
                PREPARE_STEP_JOB,
                format!("{campaign_id}:1:{batches}"),
            ));
            tx.enqueue_job(&job, now).await?;
            batches += 1;
        }
        match enrollments.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(CREW_BATCH as u32)),
            None => break,
        }
    }

    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.launch",
            "campaign",
            Some(campaign_id.to_string()),
        )
        .with_changes(json!({ "batches": batches })),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account_id = %account, campaign_id = %campaign_id, batches, "campaign launched");
    Ok(batches)
}

/// Pauses an active campaign. Messages already scheduled stay scheduled; their
/// send jobs find the campaign paused and leave them for `resume_campaign`.
pub async fn pause_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
) -> Result<Campaign, ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    if campaign.status != CampaignStatus::Active {
        return Err(ServiceError::Invalid(format!(
            "campaign {campaign_id} is {}; only an active campaign can be paused",
            campaign.status
        )));
    }
    tx.set_campaign_status(campaign_id, CampaignStatus::Paused, now)
        .await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.pause",
            "campaign",
            Some(campaign_id.to_string()),
        ),
        now,
    )
    .await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    tx.commit().await?;
    tracing::info!(account_id = %account, campaign_id = %campaign_id, "campaign paused");
    Ok(campaign)
}

/// Resumes a paused campaign: enrollments that never started get their first
/// step, and messages still scheduled get a send job again (at their own time,
/// or now if that has passed). Returns the number of send jobs enqueued.
pub async fn resume_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
) -> Result<u64, ServiceError> {
    launch_campaign(app, account, actor, campaign_id).await?;

    let mut resent = 0;
    let mut page = PageRequest::new(None, Some(200));
    loop {
        let now = Utc::now();
        let mut tx = app.store.begin(account).await?;
        let messages = tx.list_messages(Some(campaign_id), page).await?;
        for message in messages
            .items
            .iter()
            .filter(|m| m.status == MessageStatus::Scheduled)
        {
            let mut job = NewJob::now(
                SEND_MESSAGE_JOB,
                json!(SendMessagePayload {
                    message_id: message.id
                }),
            );
            job.run_at = message.scheduled_at.max(now);
            job.max_attempts = app.settings.max_attempts;
            job.unique_key = Some(unique_key(account, SEND_MESSAGE_JOB, message.id));
            tx.enqueue_job(&job, now).await?;
            resent += 1;
        }
        tx.commit().await?;
        match messages.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(200)),
            None => break,
        }
    }
    tracing::info!(account_id = %account, campaign_id = %campaign_id, resent, "campaign resumed");
    Ok(resent)
}

/// Changes a draft campaign's name, tone or sending window.
pub async fn update_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
    changes: &CampaignChanges,
) -> Result<Campaign, ServiceError> {
    if let Some(window) = &changes.window {
        window
            .validate()
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    }
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    // Tracking alone may change at any time; the rest only while a draft.
    let changes_content =
        changes.name.is_some() || changes.tone.is_some() || changes.window.is_some();
    if changes_content && campaign.status != CampaignStatus::Draft {
        return Err(ServiceError::Invalid(format!(
            "campaign {campaign_id} is {}; only a draft can be changed (create a new campaign instead)",
            campaign.status
        )));
    }
    let updated = tx.update_campaign(campaign_id, changes, now).await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.update",
            "campaign",
            Some(campaign_id.to_string()),
        )
        .with_changes(json!(changes)),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes a campaign that is not sending: a draft, or one completed or archived.
pub async fn delete_campaign(
    app: &App,
    account: AccountId,
    actor: &Actor,
    campaign_id: CampaignId,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    let mut tx = app.store.begin(account).await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    if matches!(
        campaign.status,
        CampaignStatus::Active | CampaignStatus::Launching | CampaignStatus::Paused
    ) {
        return Err(ServiceError::Invalid(format!(
            "campaign {campaign_id} is {}; only a draft, completed or archived campaign can be deleted",
            campaign.status
        )));
    }
    tx.delete_campaign(campaign_id).await?;
    tx.append_audit(
        &AuditRecord::new(
            actor.clone(),
            "campaign.delete",
            "campaign",
            Some(campaign_id.to_string()),
        )
        .with_changes(json!({ "name": campaign.name })),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
