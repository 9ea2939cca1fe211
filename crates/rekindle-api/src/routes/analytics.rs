//! The reactivation funnel, counted in the database.

use axum::Json;
use axum::extract::State;
use rekindle_auth::Scope;
use rekindle_domain::CampaignId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::ApiQuery;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FunnelQuery {
    /// One campaign's funnel; the whole account's when absent.
    pub campaign_id: Option<Uuid>,
}

/// Leads at each stage of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelView {
    pub leads: i64,
    pub enrolled: i64,
    pub scheduled: i64,
    pub sent: i64,
    pub delivered: i64,
    pub opened: i64,
    pub clicked: i64,
    pub replied: i64,
    pub positive: i64,
    pub opted_out: i64,
    pub meetings: i64,
}

#[utoipa::path(get, path = "/api/v1/analytics/funnel", tag = "analytics", security(("bearer" = [])),
    params(FunnelQuery),
    responses((status = 200, body = FunnelView), (status = 404, body = Problem)))]
pub async fn funnel(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FunnelQuery>,
) -> Result<Json<FunnelView>, ApiError> {
    caller.require(Access::Scope(Scope::AnalyticsRead))?;
    let campaign = query.campaign_id.map(CampaignId);
    let mut tx = state.app.store.begin(caller.account).await?;
    if let Some(id) = campaign {
        tx.get_campaign(id)
            .await?
            .ok_or_else(|| ApiError::not_found("campaign"))?;
    }
    let f = tx.funnel(campaign).await?;
    tx.commit().await?;
    Ok(Json(FunnelView {
        leads: f.leads,
        enrolled: f.enrolled,
        scheduled: f.scheduled,
        sent: f.sent,
        delivered: f.delivered,
        opened: f.opened,
        clicked: f.clicked,
        replied: f.replied,
        positive: f.positive,
        opted_out: f.opted_out,
        meetings: f.meetings,
    }))
}
