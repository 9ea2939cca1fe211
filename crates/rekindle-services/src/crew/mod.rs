//! The reactivation crew as jobs: scoring imported leads, and preparing one
//! campaign step for a batch of enrollments. The crew runs outside any
//! transaction. Its results are then stored in one transaction, together with
//! the crew run, the stage runs, the messages, the send jobs and the audit entry.

mod placement;
mod preview;
mod results;

pub use preview::{PREVIEW_MAX_LEADS, preview_step};

use chrono::{DateTime, Utc};
use rekindle_channels::LinkTarget;
use rekindle_crews::{CampaignStep, LeadTask, SenderIdentity};
use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::lead::LeadSnapshot;
use rekindle_domain::*;
use rekindle_store::*;

use crate::jobs::{PrepareStepPayload, ScoreImportPayload};
use crate::{App, ServiceError};

/// Leads scored per transaction.
const SCORE_BATCH: u32 = 200;
/// Leads per crew batch, the size of the dormant-lead scan's batches.
pub const CREW_BATCH: usize = 50;

/// Scores every lead an import created or merged.
pub async fn score_import(
    app: &App,
    account: AccountId,
    payload: ScoreImportPayload,
) -> Result<(), ServiceError> {
    let filter = LeadFilter {
        import_id: Some(payload.import_id),
        ..LeadFilter::default()
    };
    let mut page = PageRequest::new(None, Some(SCORE_BATCH));
    let mut scored = 0;
    loop {
        let now = Utc::now();
        let mut tx = app.store.begin(account).await?;
        let leads = tx.list_leads(&filter, page).await?;
        for lead in &leads.items {
            let score = rekindle_crews::score_lead(&lead.fields, now);
            let reasons = serde_json::to_value(&score.reasons).unwrap_or_default();
            tx.set_lead_score(lead.id, score.score, score.tier, &reasons, now)
                .await?;
        }
        scored += leads.items.len();
        tx.commit().await?;
        match leads.next {
            Some(cursor) => page = PageRequest::new(Some(cursor), Some(SCORE_BATCH)),
            None => break,
        }
    }
    tracing::info!(account_id = %account, import_id = %payload.import_id, scored, "import scored");
    Ok(())
}

/// One enrollment going through the crew, with the id its message will get.
/// The id exists before the crew runs so the unsubscribe link can name it.
pub(crate) struct Planned {
    pub enrollment: Enrollment,
    pub message_id: MessageId,
}

/// Store data for one crew batch, read in one short transaction.
struct StepContext {
    account: Account,
    campaign: Campaign,
    step: Step,
    planned: Vec<Planned>,
    tasks: Vec<LeadTask>,
    /// Enrollments whose lead has no address for this step's channel.
    skipped: Vec<Enrollment>,
}

/// Writes and schedules step `position` for a batch of enrollments.
pub async fn prepare_step(
    app: &App,
    account_id: AccountId,
    payload: PrepareStepPayload,
) -> Result<(), ServiceError> {
    let now = Utc::now();
    let Some(context) = load_step_context(app, account_id, &payload, now).await? else {
        return Ok(());
    };
    let crew_step = campaign_step(
        app,
        &context.account,
        &context.campaign,
        &context.step,
        payload.first_send_index,
        now,
    );

    let report = app.crew.run(&crew_step, context.tasks).await;
    let batch = results::StepBatch {
        account_id,
        retry: payload.retry,
        campaign: &context.campaign,
        account_zone: parse_time_zone(&context.account.time_zone).unwrap_or(chrono_tz::UTC),
        step: &context.step,
        planned: &context.planned,
        runs: &report.leads,
        skipped: &context.skipped,
    };
    results::store_step_results(app, account_id, batch, now).await
}

/// The crew's view of one campaign step.
pub(crate) fn campaign_step(
    app: &App,
    account: &Account,
    campaign: &Campaign,
    step: &Step,
    first_send_index: u32,
    now: DateTime<Utc>,
) -> CampaignStep {
    CampaignStep {
        now,
        channel: step.spec.channel,
        tone: campaign.tone,
        step_index: (step.position - 1) as u32,
        delay_days: step.spec.delay_days,
        window: campaign.window.clone(),
        account_zone: parse_time_zone(&account.time_zone).unwrap_or(chrono_tz::UTC),
        sender: SenderIdentity {
            name: account.sender_name.clone(),
            company: account.name.clone(),
            postal_address: account.postal_address.clone(),
        },
        send_spacing: app.settings.send_spacing,
        first_send_index,
    }
}

async fn load_step_context(
    app: &App,
    account_id: AccountId,
    payload: &PrepareStepPayload,
    now: DateTime<Utc>,
) -> Result<Option<StepContext>, ServiceError> {
    let mut tx = app.store.begin(account_id).await?;
    let account = tx.account().await?;
    let campaign = tx
        .get_campaign(payload.campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", payload.campaign_id))?;
    if campaign.status != CampaignStatus::Active {
        tracing::info!(account_id = %account_id, campaign_id = %campaign.id, status = %campaign.status, "campaign not active; step skipped");
        return Ok(None);
    }
    let steps = tx.list_steps(campaign.id).await?;
    let Some(step) = steps
        .into_iter()
        .find(|step| step.position == payload.position)
    else {
        return Ok(None);
    };
    let base = url::Url::parse(&app.settings.public_base_url).map_err(|e| {
        ServiceError::Invalid(format!(
            "invalid public base URL {:?}: {e}",
            app.settings.public_base_url
        ))
    })?;

    let mut context = StepContext {
        account,
        campaign,
        step,
        planned: Vec::new(),
        tasks: Vec::new(),
        skipped: Vec::new(),
    };
    for enrollment_id in &payload.enrollment_ids {
        let Some(enrollment) = tx.get_enrollment(*enrollment_id).await? else {
            continue;
        };
        let open = matches!(
            enrollment.status,
            EnrollmentStatus::Pending | EnrollmentStatus::Active
        );
        if !open || enrollment.current_step != payload.position - 1 {
            continue;
        }
        let Some(lead) = tx.get_lead(enrollment.lead_id).await? else {
            continue;
        };
        if !has_address_for(&lead, context.step.spec.channel) {
            context.skipped.push(enrollment);
            continue;
        }

        let message_id = MessageId::new();
        let unsubscribe = app
            .links
            .unsubscribe_url(
                &base,
                account_id,
                lead.id,
                LinkTarget::Message(message_id),
                now,
            )
            .map_err(|e| {
                ServiceError::Invalid(format!("cannot build the unsubscribe link: {e}"))
            })?;
        let task = LeadTask {
            signals: tx
                .list_signals(lead.id)
                .await?
                .into_iter()
                .map(|s| s.input)
                .collect(),
            suppressed: is_lead_suppressed(&mut *tx, &lead).await?,
            // Imported B2B leads are contacted on legitimate interest unless a
            // consent record gives another basis.
            consent: Some(
                tx.consent_of(lead.id)
                    .await?
                    .unwrap_or(ConsentBasis::LegitimateInterest),
            ),
            unsubscribe_url: unsubscribe.to_string(),
            // After a send, the enrollment's next_run_at contains the send time.
            previous_sent_at: (payload.position > 1)
                .then_some(enrollment.next_run_at)
                .flatten(),
            lead: LeadSnapshot {
                id: lead.id,
                fields: lead.fields,
                status: lead.status,
                score: lead.score,
                tier: lead.tier,
            },
        };
        context.tasks.push(task);
        context.planned.push(Planned {
            enrollment,
            message_id,
        });
    }
    Ok(Some(context))
}

/// Checks whether the lead can be reached on `channel` at all.
fn has_address_for(lead: &Lead, channel: Channel) -> bool {
    match channel {
        Channel::Email => lead.fields.email.is_some(),
        Channel::Sms | Channel::Whatsapp => lead.fields.phone.is_some(),
    }
}

/// Checks whether the lead's email or phone is on an account or global suppression list.
pub async fn is_lead_suppressed(tx: &mut dyn TenantTx, lead: &Lead) -> Result<bool, ServiceError> {
    let contacts = [
        (
            ContactKind::Email,
            lead.fields.email.as_ref().map(|e| e.as_str().to_owned()),
        ),
        (
            ContactKind::Phone,
            lead.fields.phone.as_ref().map(|p| p.as_str().to_owned()),
        ),
    ];
    for (kind, value) in contacts {
        let Some(value) = value else { continue };
        if !tx.suppressed_values(kind, &[value]).await?.is_empty() {
            return Ok(true);
        }
    }
    Ok(lead.status == LeadStatus::Suppressed)
}
