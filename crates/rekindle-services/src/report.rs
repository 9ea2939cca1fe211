//! Reports computed in the database: score tiers, messages per step, funnel.

use rekindle_domain::{AccountId, CampaignId, Tier};
use rekindle_store::{Funnel, StepCount};

use crate::{App, ServiceError};

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignReport {
    pub tiers: Vec<(Option<Tier>, i64)>,
    pub steps: Vec<StepCount>,
    pub funnel: Funnel,
}

pub async fn campaign_report(
    app: &App,
    account: AccountId,
    campaign: CampaignId,
) -> Result<CampaignReport, ServiceError> {
    let mut tx = app.store.begin(account).await?;
    let report = CampaignReport {
        tiers: tx.count_leads_by_tier().await?,
        steps: tx.count_messages_by_step(campaign).await?,
        funnel: tx.funnel(Some(campaign)).await?,
    };
    tx.commit().await?;
    Ok(report)
}
