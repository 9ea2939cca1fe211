//! The account's background jobs, for owners and admins: list them (dead
//! letters above all) and put a dead job back in the queue, as
//! `rekindle jobs dead` and `rekindle jobs retry` do for operators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rekindle_domain::{JobId, JobStatus};
use rekindle_store::Job;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Access, Caller};
use crate::extract::{ApiQuery, PathId};
use crate::pagination::{PageOf, page_request};
use crate::problem::{ApiError, Problem};
use crate::state::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    /// Such as `import_file`, `prepare_step` or `send_message`.
    pub kind: String,
    /// `queued`, `running`, `done` or `dead`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    /// The last failure; its details are in the server log.
    pub last_error: Option<String>,
    /// `transient`, `rate_limited`, `permanent` or `invalid_input`.
    pub error_class: Option<String>,
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        Self {
            id: job.id.0,
            kind: job.kind,
            status: job.status.as_str().to_owned(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            run_at: job.run_at,
            last_error: job.last_error,
            error_class: job.error_class.map(|class| class.as_str().to_owned()),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JobQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `queued`, `running`, `done` or `dead`.
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(JobQuery),
    responses((status = 200, body = PageOf<JobView>), (status = 403, body = Problem)))]
pub async fn list_jobs(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<PageOf<JobView>>, ApiError> {
    caller.require(Access::Admin)?;
    let page = page_request(query.cursor.as_deref(), query.limit)?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            text.parse::<JobStatus>().map_err(|_| {
                ApiError::invalid(
                    "status",
                    format!(
                        "status {text:?} is not a job status; use queued, running, done or dead"
                    ),
                )
            })
        })
        .transpose()?;
    let mut tx = state.app.store.begin(caller.account).await?;
    let jobs = tx.list_jobs(status, page).await?;
    tx.commit().await?;
    Ok(Json(PageOf::map(jobs, JobView::from)))
}

/// Puts a dead job back in the queue with a fresh attempt budget.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn retry_job(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Admin)?;
    let now = Utc::now();
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.retry_dead_job(JobId(id), now).await? {
        return Err(ApiError::not_found("dead job"));
    }
    tx.append_audit(&caller.audit("job.retry", "job", Some(id.to_string())), now)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::ACCEPTED)
}

/// Deletes a dead job for good, when retrying it would not help.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn discard_job(
    State(state): State<ApiState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    caller.require(Access::Admin)?;
    let mut tx = state.app.store.begin(caller.account).await?;
    if !tx.discard_dead_job(JobId(id)).await? {
        return Err(ApiError::not_found("dead job"));
    }
    tx.append_audit(
        &caller.audit("job.discard", "job", Some(id.to_string())),
        Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
