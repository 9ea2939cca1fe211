//! The optimization report (A/B figures per step and the positive-reply
//! report) and the funnel per step and variant.

use chrono_tz::Tz;
use rekindle_crews::optimizer::{
    LocalSendTime, MessageOutcome, PositiveReplyReport, ReportSettings, positive_reply_report,
};
use rekindle_crews::revenue::{
    CampaignFunnel, FunnelCounts, FunnelFigures, FunnelRow, funnel_report,
};
use rekindle_domain::campaign::parse_time_zone;
use rekindle_domain::scheduling::effective_zone;
use rekindle_domain::*;
use rekindle_store::*;
use serde::Serialize;

use super::decisions::{StepAbStatus, step_statuses};
use crate::{App, ServiceError};

/// The optimization crew's report on one campaign.
#[derive(Debug, Clone, Serialize)]
pub struct OptimizationReport {
    pub campaign_id: CampaignId,
    /// Each email step's A/B test, in step order.
    pub steps: Vec<StepAbStatus>,
    /// Positive replies by personalisation element and by local send hour and
    /// weekday, over the campaign's sent messages.
    pub positive_replies: PositiveReplyReport,
}

/// Builds the optimization report of a campaign without changing anything.
pub async fn optimization_report(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> Result<OptimizationReport, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let steps = step_statuses(&mut *tx, campaign).await?;
    let account_zone = parse_time_zone(&tx.account().await?.time_zone).unwrap_or(chrono_tz::UTC);
    let sent = tx.sent_message_outcomes(campaign).await?;
    tx.commit().await?;

    let outcomes: Vec<MessageOutcome> = sent
        .into_iter()
        .map(|message| message_outcome(message, account_zone))
        .collect();
    let positive_replies = positive_reply_report(&outcomes, &ReportSettings::default())
        .map_err(|error| ServiceError::Invalid(error.to_string()))?;
    Ok(OptimizationReport {
        campaign_id: campaign,
        steps,
        positive_replies,
    })
}

/// Converts a sent message to a report row, with its send time on the
/// lead's clock (the account's when the lead has no valid zone), as the
/// scheduler places sends.
fn message_outcome(message: SentMessageOutcome, account_zone: Tz) -> MessageOutcome {
    let (zone, _) = effective_zone(message.lead_time_zone.as_deref(), account_zone);
    let local = LocalSendTime::at(message.sent_at, zone);
    MessageOutcome {
        elements: message.personalisation_elements,
        local_hour: local.hour,
        weekday: local.weekday,
        positive: message.positive,
    }
}

/// Builds the funnel of a campaign per step and variant.
pub async fn campaign_funnel(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> Result<CampaignFunnel, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    tx.get_campaign(campaign)
        .await?
        .ok_or_else(|| ServiceError::not_found("campaign", campaign))?;
    let counts = tx.count_funnel_by_step_variant(campaign).await?;
    tx.commit().await?;

    let rows: Vec<FunnelRow> = counts
        .into_iter()
        .map(|row| funnel_row(campaign, row))
        .collect();
    // A campaign without messages has no rows, and so no report entry.
    let funnel = funnel_report(&rows).into_iter().next();
    Ok(funnel.unwrap_or_else(|| CampaignFunnel {
        campaign_id: campaign,
        figures: FunnelFigures::from_counts(FunnelCounts::default()),
        steps: Vec::new(),
    }))
}

fn funnel_row(campaign: CampaignId, row: StepVariantFunnel) -> FunnelRow {
    // Counts are never negative, so the conversion only changes the type.
    let count = |value: i64| u64::try_from(value).unwrap_or(0);
    FunnelRow {
        campaign_id: campaign,
        step_position: u32::try_from(row.position).unwrap_or(0),
        variant: row.variant,
        counts: FunnelCounts {
            sent: count(row.sent),
            delivered: count(row.delivered),
            opened: count(row.opened),
            clicked: count(row.clicked),
            replied: count(row.replied),
            positive: count(row.positive),
            meetings: count(row.meetings),
        },
    }
}
