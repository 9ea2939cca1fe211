//! Crew runs: each batch the reactivation crew prepared and each reply
//! classified, with the stage runs of every lead (status, duration, LLM
//! tokens, the fallback taken, the error class), and the retry of a run's
//! failed leads.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_auth::Scope;
use rekindle_domain::{CampaignId, CrewRunId, LeadId, RunStatus};
use rekindle_services::crew_runs::{RetryOutcome, retry_failed_leads};
use rekindle_store::{CrewRun, CrewRunFilter, StageRun};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiJson, ApiQuery, PathId};
use crate::pagination::{PageOf, page_request};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;
use crate::validate;

#[derive(Debug, Serialize, ToSchema)]
pub struct CrewRunView {
    pub id: Uuid,
    /// `reactivation` (a campaign step for a batch of leads) or
    /// `reply_classification` (one reply).
    pub crew: String,
    pub campaign_id: Option<Uuid>,
    /// The campaign step the run prepared, 1 for the first.
    pub step_position: Option<i32>,
    /// `running`, `succeeded` or `failed` (every lead failed).
    pub status: String,
    pub leads_total: i32,
    pub leads_failed: i32,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Milliseconds from start to finish; null while running.
    pub duration_ms: Option<i64>,
    /// LLM tokens of all its stage runs.
    pub tokens: i64,
    /// Stage runs that used the offline implementation instead of the LLM.
    pub fallbacks: i64,
    /// Present on single-run responses, in run order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_runs: Option<Vec<StageRunView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FallbackView {
    /// Such as `budget_exceeded`, `circuit_open`, `timeout`, `rate_limited`,
    /// `provider_error` or `invalid_output`.
    pub reason: String,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageRunView {
    pub id: Uuid,
    pub lead_id: Option<Uuid>,
    /// Such as `scorer`, `researcher`, `writer`, `subject_optimizer`,
    /// `scheduler`, `compliance`, `quality`, `placement` or `classifier`.
    pub stage: String,
    /// `succeeded` or `failed`.
    pub status: String,
    /// Ids, counts and settings the stage ran with; no message text.
    pub input_summary: String,
    pub duration_ms: i64,
    pub tokens: i64,
    /// `transient`, `rate_limited`, `permanent` or `invalid_input`.
    pub error_class: Option<String>,
    pub error: Option<String>,
    /// Set when an LLM-backed stage used its offline implementation.
    pub fallback: Option<FallbackView>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CrewRunQuery {
    pub cursor: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    pub campaign_id: Option<Uuid>,
    /// `running`, `succeeded` or `failed`.
    pub status: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryInput {
    /// Failed leads of the run to queue again, 1 to 1,000; every failed lead
    /// of the run when absent.
    pub lead_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedLead {
    pub lead_id: Uuid,
    /// The stage the lead failed at in this run.
    pub failed_stage: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedLeadView {
    pub lead_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryResponse {
    /// The crew job that prepares the step again for the queued leads.
    pub job_id: Uuid,
    pub queued: Vec<QueuedLead>,
    /// Failed leads left as they are, with the reason.
    pub skipped: Vec<SkippedLeadView>,
}

fn run_view(run: CrewRun, stage_runs: Option<Vec<StageRun>>) -> CrewRunView {
    let duration_ms = run
        .finished_at
        .map(|finished| (finished - run.started_at).num_milliseconds().max(0));
    CrewRunView {
        id: run.id.0,
        crew: run.crew,
        campaign_id: run.campaign_id.map(|id| id.0),
        step_position: run.step_position,
        status: run.status.as_str().to_owned(),
        leads_total: run.leads_total,
        leads_failed: run.leads_failed,
        started_at: run.started_at,
        finished_at: run.finished_at,
        duration_ms,
        tokens: run.tokens,
        fallbacks: run.fallbacks,
        stage_runs: stage_runs.map(|runs| runs.into_iter().map(stage_view).collect()),
    }
}

fn stage_view(run: StageRun) -> StageRunView {
    StageRunView {
        id: run.id.0,
        lead_id: run.lead_id.map(|id| id.0),
        stage: run.stage,
        status: run.status.as_str().to_owned(),
        input_summary: run.input_summary,
        duration_ms: run.duration_ms,
        tokens: run.tokens,
        error_class: run.error_class.map(|class| class.as_str().to_owned()),
        error: run.error,
        fallback: run.fallback.map(|reason| FallbackView {
            reason,
            detail: run.fallback_detail,
        }),
        created_at: run.created_at,
    }
}

fn parse_status(text: Option<&str>) -> Result<Option<RunStatus>, ApiError> {
    text.map(|text| {
        text.parse::<RunStatus>().map_err(|_| {
            ApiError::invalid(
                "status",
                format!("status {text:?} is not a run status; use running, succeeded or failed"),
            )
        })
    })
    .transpose()
}

/// Lists crew runs, newest first.
#[utoipa::path(get, path = "/api/v1/crew-runs", tag = "crew runs", security(("bearer" = [])),
    params(CrewRunQuery),
    responses((status = 200, body = PageOf<CrewRunView>), (status = 422, body = Problem)))]
pub async fn list_crew_runs(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CrewRunQuery>,
) -> Result<Json<PageOf<CrewRunView>>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let filter = CrewRunFilter {
        campaign_id: query.campaign_id.map(CampaignId),
        status: parse_status(query.status.as_deref())?,
    };
    let mut tx = state.app.store.begin(caller.account).await?;
    let runs = tx.list_crew_runs(&filter, page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(runs, |run| run_view(run, None))))
}

/// Returns a crew run with all its stage runs. A batch has at most 50 leads
/// and each lead at most eight stage runs, so the list is not paginated.
#[utoipa::path(get, path = "/api/v1/crew-runs/{id}", tag = "crew runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CrewRunView), (status = 404, body = Problem)))]
pub async fn get_crew_run(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CrewRunView>, ApiError> {
    caller.require(Access::Scope(Scope::CampaignsRead))?;
    let id = CrewRunId(id);
    let mut tx = state.app.store.begin(caller.account).await?;
    let run = tx
        .get_crew_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found("crew run"))?;
    let stage_runs = tx.list_stage_runs(id).await?;
    tx.commit().await?;
    Ok(Json(run_view(run, Some(stage_runs))))
}

/// Queues a reactivation run's failed leads again: the crew prepares their
/// step anew in the background. Without `lead_ids`, every failed lead of the
/// run is queued.
#[utoipa::path(post, path = "/api/v1/crew-runs/{id}/retry", tag = "crew runs", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RetryInput,
    responses((status = 202, body = RetryResponse), (status = 404, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn retry_crew_run(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<RetryInput>,
) -> Result<(StatusCode, Json<RetryResponse>), ApiError> {
    caller.require(Access::Scope(Scope::CampaignsWrite))?;
    let lead_ids = input.lead_ids.unwrap_or_default();
    if !lead_ids.is_empty() {
        validate::id_list("lead_ids", &lead_ids)?;
    }
    let leads: Vec<LeadId> = lead_ids.into_iter().map(LeadId).collect();
    let outcome = retry_failed_leads(
        &state.app,
        caller.account,
        &caller.actor(),
        CrewRunId(id),
        &leads,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(retry_response(outcome))))
}

fn retry_response(outcome: RetryOutcome) -> RetryResponse {
    RetryResponse {
        job_id: outcome.job_id.0,
        queued: outcome
            .queued
            .into_iter()
            .map(|(lead, stage)| QueuedLead {
                lead_id: lead.0,
                failed_stage: stage,
            })
            .collect(),
        skipped: outcome
            .skipped
            .into_iter()
            .map(|lead| SkippedLeadView {
                lead_id: lead.lead_id.0,
                reason: lead.reason,
            })
            .collect(),
    }
}
