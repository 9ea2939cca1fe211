//! The funnel of one campaign per step and A/B variant.

use axum::Json;
use axum::extract::State;
use rekindle_auth::Scope;
use rekindle_crews::revenue::{CampaignFunnel, FunnelFigures, StepFunnel, VariantFunnel};
use rekindle_domain::CampaignId;
use rekindle_services::optimization as service;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::PathId;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

/// Messages at each stage. A message counts once at every stage it reached,
/// and `replied`, `positive` and `meetings` count messages with at least one.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageCountsView {
    pub sent: u64,
    pub delivered: u64,
    pub opened: u64,
    pub clicked: u64,
    /// Messages with a reply other than an automatic one or a bounce.
    pub replied: u64,
    /// Messages with a reply labelled `interested` or `meeting_request`.
    pub positive: u64,
    /// Messages whose reply led to a confirmed or attended meeting.
    pub meetings: u64,
}

/// Rates from 0.0 to 1.0, each absent when its denominator is 0.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageRatesView {
    /// delivered / sent
    pub delivery_rate: Option<f64>,
    /// opened / delivered
    pub open_rate: Option<f64>,
    /// clicked / delivered
    pub click_rate: Option<f64>,
    /// replied / delivered
    pub reply_rate: Option<f64>,
    /// positive / delivered
    pub positive_rate: Option<f64>,
    /// positive / replied
    pub positive_share_of_replies: Option<f64>,
    /// meetings / positive
    pub meeting_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageFiguresView {
    pub counts: StageCountsView,
    pub rates: StageRatesView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VariantFunnelView {
    /// `A` or `B`.
    pub variant: String,
    #[serde(flatten)]
    pub figures: StageFiguresView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StepFunnelView {
    pub position: u32,
    /// Totals over the step's variants.
    #[serde(flatten)]
    pub figures: StageFiguresView,
    /// Ordered by variant.
    pub variants: Vec<VariantFunnelView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignFunnelView {
    pub campaign_id: Uuid,
    /// Totals over the campaign's steps.
    #[serde(flatten)]
    pub figures: StageFiguresView,
    /// Steps with messages, ordered by position.
    pub steps: Vec<StepFunnelView>,
}

/// Reports the campaign's funnel per step and A/B variant, counted in the
/// database.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/funnel", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignFunnelView), (status = 404, body = Problem)))]
pub async fn campaign_funnel(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CampaignFunnelView>, ApiError> {
    caller.require(Access::Scope(Scope::AnalyticsRead))?;
    let funnel = service::campaign_funnel(&state.app, caller.account, CampaignId(id)).await?;
    Ok(Json(campaign_view(funnel)))
}

fn campaign_view(funnel: CampaignFunnel) -> CampaignFunnelView {
    CampaignFunnelView {
        campaign_id: funnel.campaign_id.0,
        figures: figures_view(funnel.figures),
        steps: funnel.steps.into_iter().map(step_view).collect(),
    }
}

fn step_view(step: StepFunnel) -> StepFunnelView {
    StepFunnelView {
        position: step.position,
        figures: figures_view(step.figures),
        variants: step.variants.into_iter().map(variant_view).collect(),
    }
}

fn variant_view(variant: VariantFunnel) -> VariantFunnelView {
    VariantFunnelView {
        variant: variant.variant,
        figures: figures_view(variant.figures),
    }
}

fn figures_view(figures: FunnelFigures) -> StageFiguresView {
    let (counts, rates) = (figures.counts, figures.rates);
    StageFiguresView {
        counts: StageCountsView {
            sent: counts.sent,
            delivered: counts.delivered,
            opened: counts.opened,
            clicked: counts.clicked,
            replied: counts.replied,
            positive: counts.positive,
            meetings: counts.meetings,
        },
        rates: StageRatesView {
            delivery_rate: rates.delivery_rate,
            open_rate: rates.open_rate,
            click_rate: rates.click_rate,
            reply_rate: rates.reply_rate,
            positive_rate: rates.positive_rate,
            positive_share_of_replies: rates.positive_share_of_replies,
            meeting_rate: rates.meeting_rate,
        },
    }
}
