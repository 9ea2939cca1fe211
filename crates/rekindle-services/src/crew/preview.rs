//! Previews of a campaign step: the crew writes the messages for a few leads
//! so the user can read them before launching. Nothing is stored or sent.

use chrono::Utc;
use rekindle_channels::LinkTarget;
use rekindle_crews::{LeadRun, LeadTask};
use rekindle_domain::lead::LeadSnapshot;
use rekindle_domain::*;

use super::{campaign_step, is_lead_suppressed, run_crew};
use crate::{App, ServiceError};

/// Most leads one preview writes for, since it runs while the caller waits.
pub const PREVIEW_MAX_LEADS: usize = 5;

/// Runs the crew for step `position` of a campaign for up to five leads.
pub async fn preview_step(
    app: &App,
    account_id: AccountId,
    campaign_id: CampaignId,
    position: i32,
    lead_ids: &[LeadId],
) -> Result<Vec<LeadRun>, ServiceError> {
    if lead_ids.is_empty() || lead_ids.len() > PREVIEW_MAX_LEADS {
        return Err(ServiceError::Invalid(format!(
            "lead_ids has {} ids; a preview takes 1 to {PREVIEW_MAX_LEADS}",
            lead_ids.len()
        )));
    }
    let now = Utc::now();
    let base = url::Url::parse(&app.settings.public_base_url)
        .map_err(|e| ServiceError::Invalid(format!("invalid public base URL: {e}")))?;

    let mut tx = app.store.begin(account_id).await?;
    let account = tx.account().await?;
    let campaign = tx
        .get_campaign(campaign_id)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign_id))?;
    let step = tx
        .list_steps(campaign_id)
        .await?
        .into_iter()
        .find(|step| step.position == position)
        .ok_or_else(|| ServiceError::not_found("step", position))?;

    let mut tasks = Vec::with_capacity(lead_ids.len());
    for lead_id in lead_ids {
        let lead = tx
            .get_lead(*lead_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("lead", lead_id))?;
        // The link names a message that will never exist, since previews are not stored.
        let unsubscribe = app
            .links
            .unsubscribe_url(
                &base,
                account_id,
                lead.id,
                LinkTarget::Message(MessageId::new()),
                now,
            )
            .map_err(|e| {
                ServiceError::Invalid(format!("cannot build the unsubscribe link: {e}"))
            })?;
        tasks.push(LeadTask {
            signals: tx
                .list_signals(lead.id)
                .await?
                .into_iter()
                .map(|s| s.input)
                .collect(),
            suppressed: is_lead_suppressed(&mut *tx, &lead).await?,
            consent: Some(
                tx.consent_of(lead.id)
                    .await?
                    .unwrap_or(ConsentBasis::LegitimateInterest),
            ),
            unsubscribe_url: unsubscribe.to_string(),
            previous_sent_at: None,
            engagement: None,
            earlier: Default::default(),
            lead: LeadSnapshot {
                id: lead.id,
                fields: lead.fields,
                status: lead.status,
                score: lead.score,
                tier: lead.tier,
            },
        });
    }
    tx.commit().await?;

    let crew_step = campaign_step(app, &account, &campaign, &step, 0, now);
    let report = run_crew(app, &account, &crew_step, tasks).await;
    tracing::info!(account_id = %account_id, campaign_id = %campaign_id, leads = report.leads.len(), "step previewed");
    Ok(report.leads)
}
