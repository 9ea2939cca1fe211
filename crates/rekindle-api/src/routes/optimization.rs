//! The optimization crew: A/B decisions per campaign step, and the report of
//! which personalisation elements and send times earn positive replies.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_crews::optimizer::{
    AbDecision, AbOutcome, NoDecisionReason, PositiveReplyReport, RateRow, VariantFigures,
};
use rekindle_domain::CampaignId;
use rekindle_services::optimization::{self as service, StepAbStatus};
use rekindle_store::StepAbDecision;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::PathId;
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

/// Sends and positive replies of one variant.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantFiguresView {
    /// `A` or `B`.
    pub label: String,
    pub sends: u64,
    /// Sent messages with a reply labelled `interested` or `meeting_request`.
    pub positive_replies: u64,
    /// Positive replies per send, 0.0 to 1.0.
    pub rate: f64,
}

/// A two-sided two-proportion z-test of variant B against variant A.
#[derive(Debug, Serialize, ToSchema)]
pub struct AbTestView {
    /// `winner` or `no_decision_yet`.
    pub outcome: String,
    /// The winning variant, when there is one.
    pub winner: Option<String>,
    /// Why there is no winner: `sample_too_small`, `too_few_expected` or
    /// `not_significant`.
    pub reason: Option<String>,
    /// The reason in a sentence, with the numbers behind it.
    pub detail: Option<String>,
    pub a: VariantFiguresView,
    pub b: VariantFiguresView,
    /// Rate of B minus rate of A.
    pub difference: f64,
    /// The z statistic of B minus A, absent when the test did not run.
    pub z: Option<f64>,
    /// Two-sided p-value, absent when the test did not run.
    pub p_value: Option<f64>,
    pub significance_level: f64,
}

/// The decision stored on a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoredDecisionView {
    pub winner: String,
    pub decided_at: DateTime<Utc>,
    /// The test as it stood when the step was decided.
    pub figures: AbTestView,
}

/// The A/B test of one email step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepAbView {
    pub step_id: Uuid,
    pub position: i32,
    /// The stored decision, which a decided step keeps.
    pub decision: Option<StoredDecisionView>,
    /// The test on the step's counts now.
    pub current: AbTestView,
    /// Scheduled messages of the losing variant that this request moved to
    /// the winner's subject, 0 unless this request decided the step.
    pub switched_messages: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AbDecisionsView {
    pub campaign_id: Uuid,
    /// Each email step, in step order.
    pub steps: Vec<StepAbView>,
}

/// Messages and positive replies for one report key.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateRowView {
    /// A personalisation element such as `fact:company`, a local hour from
    /// 0 to 23, or a weekday such as `tue`.
    pub key: String,
    pub messages: u64,
    pub positive_replies: u64,
    /// Positive replies per message, 0.0 to 1.0.
    pub rate: f64,
}

/// Positive-reply rates by personalisation element and by local send time.
/// Rows are ranked by rate, and rows with fewer than `min_messages`
/// messages are left out. The rates describe what happened and do not prove
/// cause.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositiveReplyView {
    /// Sent messages of the campaign.
    pub messages: u64,
    pub positive_replies: u64,
    /// Rate over all sent messages, the baseline for the rows.
    pub rate: f64,
    pub min_messages: u64,
    pub elements: Vec<RateRowView>,
    /// By hour of the send on the lead's clock (the account's when the lead
    /// has no time zone).
    pub hours: Vec<RateRowView>,
    /// By weekday of the send in the same time zone.
    pub weekdays: Vec<RateRowView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptimizationView {
    pub campaign_id: Uuid,
    /// Each email step's A/B test, in step order.
    pub steps: Vec<StepAbView>,
    pub positive_replies: PositiveReplyView,
}

/// Decides the A/B test of every undecided email step now. A step with a
/// significant winner stores the decision, and its scheduled messages of the
/// other variant switch to the winner's subject. Each step comes back with
/// its decision, or the reason there is none yet.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/ab-decisions", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AbDecisionsView), (status = 404, body = Problem)))]
pub async fn decide_ab(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<AbDecisionsView>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let steps =
        service::decide_campaign(&state.app, caller.account, &caller.actor(), CampaignId(id))
            .await?;
    Ok(Json(AbDecisionsView {
        campaign_id: id,
        steps: step_views(steps)?,
    }))
}

/// Reports each email step's A/B test and which personalisation elements,
/// local send hours and weekdays earn positive replies.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/optimization", tag = "campaigns", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = OptimizationView), (status = 404, body = Problem)))]
pub async fn optimization(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<OptimizationView>, ApiError> {
    caller.require(Access::Scope(Scope::AnalyticsRead))?;
    let report = service::optimization_report(&state.app, caller.account, CampaignId(id)).await?;
    Ok(Json(OptimizationView {
        campaign_id: id,
        steps: step_views(report.steps)?,
        positive_replies: positive_reply_view(report.positive_replies),
    }))
}

fn step_views(steps: Vec<StepAbStatus>) -> Result<Vec<StepAbView>, ApiError> {
    steps.into_iter().map(step_view).collect()
}

fn step_view(status: StepAbStatus) -> Result<StepAbView, ApiError> {
    Ok(StepAbView {
        step_id: status.step_id.0,
        position: status.position,
        decision: status.decision.map(stored_decision_view).transpose()?,
        current: ab_test_view(status.current),
        switched_messages: status.switched_messages,
    })
}

fn stored_decision_view(decision: StepAbDecision) -> Result<StoredDecisionView, ApiError> {
    let figures: AbDecision = serde_json::from_value(decision.figures).map_err(|error| {
        ApiError::internal(&format!("stored A/B figures are unreadable: {error}"))
    })?;
    Ok(StoredDecisionView {
        winner: decision.winner,
        decided_at: decision.decided_at,
        figures: ab_test_view(figures),
    })
}

fn ab_test_view(decision: AbDecision) -> AbTestView {
    let (outcome, winner, reason, detail) = match &decision.outcome {
        AbOutcome::Winner { label } => ("winner", Some(label.clone()), None, None),
        AbOutcome::NoDecisionYet(reason) => {
            let (code, detail) = reason_text(reason, &decision);
            ("no_decision_yet", None, Some(code.to_owned()), Some(detail))
        }
    };
    AbTestView {
        outcome: outcome.to_owned(),
        winner,
        reason,
        detail,
        a: figures_view(decision.a),
        b: figures_view(decision.b),
        difference: decision.difference,
        z: decision.z,
        p_value: decision.p_value,
        significance_level: decision.significance_level,
    }
}

fn reason_text(reason: &NoDecisionReason, decision: &AbDecision) -> (&'static str, String) {
    match reason {
        NoDecisionReason::SampleTooSmall {
            smallest_sends,
            min_sends,
        } => (
            "sample_too_small",
            format!(
                "a variant has {smallest_sends} sends; each variant needs {min_sends} before a decision"
            ),
        ),
        NoDecisionReason::TooFewExpected {
            smallest_expected,
            min_expected,
        } => (
            "too_few_expected",
            format!(
                "the smallest expected count of positive replies or other outcomes is \
                 {smallest_expected:.1}; the z-test needs at least {min_expected}"
            ),
        ),
        NoDecisionReason::NotSignificant => (
            "not_significant",
            format!(
                "p-value {:.4} is not below the significance level {}",
                decision.p_value.unwrap_or(1.0),
                decision.significance_level
            ),
        ),
    }
}

fn figures_view(figures: VariantFigures) -> VariantFiguresView {
    VariantFiguresView {
        label: figures.label,
        sends: figures.sends,
        positive_replies: figures.positive_replies,
        rate: figures.rate,
    }
}

fn positive_reply_view(report: PositiveReplyReport) -> PositiveReplyView {
    PositiveReplyView {
        messages: report.messages,
        positive_replies: report.positive_replies,
        rate: report.rate,
        min_messages: report.min_messages,
        elements: rate_rows(report.elements, |key| key),
        hours: rate_rows(report.hours, |hour| hour.to_string()),
        weekdays: rate_rows(report.weekdays, |weekday| {
            weekday.to_string().to_lowercase()
        }),
    }
}

fn rate_rows<K>(rows: Vec<RateRow<K>>, key: impl Fn(K) -> String) -> Vec<RateRowView> {
    rows.into_iter()
        .map(|row| RateRowView {
            key: key(row.key),
            messages: row.messages,
            positive_replies: row.positive_replies,
            rate: row.rate,
        })
        .collect()
}
